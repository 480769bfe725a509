import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assessChars,
  assessRecord,
  bareModelId,
  charCount,
  checkRecord,
  datasetRulesFor,
  estimateTokens,
  flatRecordKeys,
  type DatasetRules,
} from '../../functions/validate-dataset/formats.js';
import { MODEL_FAMILIES, type Sourced } from '../../functions/validate-dataset/limits.js';

function rulesFor(model: string, type = 'FINE_TUNING'): DatasetRules {
  const rules = datasetRulesFor(model, type);
  if (!rules) throw new Error(`expected rules for ${model} ${type}`);
  return rules;
}
const rulesOf = (problems: { rule: string }[]) => problems.map((p) => p.rule);

const TITAN = rulesFor('amazon.titan-text-express-v1');
const TITAN_CPT = rulesFor('amazon.titan-text-express-v1', 'CONTINUED_PRE_TRAINING');
const NOVA_LITE = rulesFor('amazon.nova-lite-v1:0:300k');
const NOVA_MICRO = rulesFor('amazon.nova-micro-v1:0:128k');
const LLAMA_32_TEXT = rulesFor('meta.llama3-2-1b-instruct-v1:0');
const LLAMA_32_VISION = rulesFor('meta.llama3-2-11b-instruct-v1:0');
const HAIKU = rulesFor('anthropic.claude-3-haiku-20240307-v1:0:200k');

const turn = (role: string, ...content: unknown[]) => ({ role, content });
const text = (t: string) => ({ text: t });
const image = (format = 'png', uri = 's3://bucket/img/a.png') => ({ image: { format, source: { s3Location: { uri } } } });
const video = (format = 'mp4', uri = 's3://bucket/vid/a.mp4') => ({ video: { format, source: { s3Location: { uri } } } });
const conversation = (...messages: unknown[]) => ({
  schemaVersion: 'bedrock-conversation-2024',
  system: [text('You are a digital assistant with a friendly personality')],
  messages,
});
const qa = conversation(turn('user', text('What is the capital of Mars?')), turn('assistant', text('Mars does not have a capital.')));

describe('datasetRulesFor: model id → rules', () => {
  it.each([
    ['amazon.titan-text-express-v1', 'FINE_TUNING', 'titan-text-express', 'prompt-completion'],
    ['amazon.titan-text-express-v1:0:8k', 'CONTINUED_PRE_TRAINING', 'titan-text-express', 'continued-pretraining'],
    ['amazon.titan-text-lite-v1:0:4k', 'FINE_TUNING', 'titan-text-lite', 'prompt-completion'],
    ['amazon.titan-text-lite-v1', 'CONTINUED_PRE_TRAINING', 'titan-text-lite', 'continued-pretraining'],
    ['amazon.titan-text-premier-v1:0', 'FINE_TUNING', 'titan-text-premier', 'prompt-completion'],
    ['amazon.nova-micro-v1:0:128k', 'FINE_TUNING', 'nova-micro', 'bedrock-conversation-2024'],
    ['amazon.nova-lite-v1:0:300k', 'FINE_TUNING', 'nova-lite-pro', 'bedrock-conversation-2024'],
    ['amazon.nova-pro-v1:0:300k', 'FINE_TUNING', 'nova-lite-pro', 'bedrock-conversation-2024'],
    ['meta.llama2-13b-v1:0:4k', 'FINE_TUNING', 'meta-llama2', 'prompt-completion'],
    ['meta.llama3-1-8b-instruct-v1:0', 'FINE_TUNING', 'meta-llama3-1', 'prompt-completion'],
    ['meta.llama3-1-70b-instruct-v1:0', 'FINE_TUNING', 'meta-llama3-1', 'prompt-completion'],
    ['meta.llama3-2-3b-instruct-v1:0', 'FINE_TUNING', 'meta-llama3-2-text', 'bedrock-conversation-2024'],
    ['meta.llama3-2-90b-instruct-v1:0', 'FINE_TUNING', 'meta-llama3-2-vision', 'bedrock-conversation-2024'],
    ['anthropic.claude-3-haiku-20240307-v1:0:200k', 'FINE_TUNING', 'claude-3-haiku', 'claude-messages'],
    ['cohere.command-light-text-v14', 'FINE_TUNING', 'cohere-command', 'prompt-completion'],
    ['cohere.command-text-v14:7:4k', 'FINE_TUNING', 'cohere-command', 'prompt-completion'],
    ['arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1', 'FINE_TUNING', 'titan-text-express', 'prompt-completion'],
    ['arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0:200k', 'FINE_TUNING', 'claude-3-haiku', 'claude-messages'],
    ['arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/meta.llama3-1-8b-instruct-v1:0', 'FINE_TUNING', 'meta-llama3-1', 'prompt-completion'],
  ])('%s %s → %s / %s', (model, type, family, format) => {
    const rules = rulesFor(model, type);
    expect(rules).toMatchObject({ family, format, customizationType: type });
  });

  it.each([
    ['amazon.titan-text-express-v1', 'DISTILLATION'],
    ['amazon.nova-lite-v1:0:300k', 'REINFORCEMENT_FINE_TUNING'],
    ['amazon.nova-micro-v1:0:128k', 'CONTINUED_PRE_TRAINING'],
    ['amazon.titan-text-premier-v1:0', 'CONTINUED_PRE_TRAINING'],
    ['anthropic.claude-3-haiku-20240307-v1:0:200k', 'CONTINUED_PRE_TRAINING'],
    ['amazon.titan-text-express-v1', 'fine_tuning'],
    ['meta.llama3-3-70b-instruct-v1:0', 'FINE_TUNING'],
    ['amazon.nova-2-lite-v1:0:256k', 'FINE_TUNING'],
    ['amazon.titan-embed-image-v1:0', 'FINE_TUNING'],
    ['anthropic.claude-3-5-sonnet-20240620-v1:0', 'FINE_TUNING'],
    ['amazon.titan-text-express-v10x', 'FINE_TUNING'],
    ['arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-express-v1:0:8k/abc123', 'FINE_TUNING'],
    ['arn:aws:bedrock:us-east-1::foundation-model/', 'FINE_TUNING'],
    ['', 'FINE_TUNING'],
    ['not a model', 'FINE_TUNING'],
  ])('%s %s → undefined (not checked)', (model, type) => {
    expect(datasetRulesFor(model, type)).toBeUndefined();
  });

  it('bareModelId strips the ARN and the version/context suffix', () => {
    expect(bareModelId('arn:aws:bedrock:eu-central-1::foundation-model/amazon.nova-micro-v1:0:128k')).toBe('amazon.nova-micro-v1');
    expect(bareModelId('meta.llama3-1-8b-instruct-v1:0')).toBe('meta.llama3-1-8b-instruct-v1');
    expect(bareModelId('arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc')).toBeUndefined();
  });

  it('carries the documented Titan limits with their sources', () => {
    expect(TITAN.limits).toMatchObject({
      maxTokensPerRecord: 4096,
      maxCharsPerRecord: 24_576,
      maxFileBytes: 1_000_000_000,
      maxValidationFileBytes: 100_000_000,
    });
    expect(TITAN_CPT.limits.maxFileBytes).toBe(10_000_000_000);
    expect(TITAN.limits.sources.join(' ')).toContain('https://docs.aws.amazon.com/bedrock/latest/userguide/model-training-validation-requirements.html');
    expect(TITAN.charsPerToken).toBe(6);
    expect(TITAN.tokenSource).toContain('preparing-text-data.html');
  });

  it('carries record-count bounds from AWS sample validators (Nova 8–20,000; Llama ≤10k / ≤1k)', () => {
    expect(NOVA_LITE.limits).toMatchObject({ minTrainingRecords: 8, maxTrainingRecords: 20_000 });
    expect(NOVA_LITE.limits.sources.join(' ')).toContain('nova_ft_dataset_validator.py');
    expect(rulesFor('meta.llama3-1-8b-instruct-v1:0').limits).toMatchObject({ maxTrainingRecords: 10_000, maxValidationRecords: 1_000 });
  });

  it('marks conversation families as an estimate without tokenizer (4 chars/token)', () => {
    for (const rules of [NOVA_LITE, HAIKU, LLAMA_32_TEXT]) {
      expect(rules.charsPerToken).toBe(4);
      expect(rules.tokenSource).toContain('estimate, no tokenizer');
    }
  });

  it('leaves limits it could not verify absent (Cohere, Claude 3 Haiku)', () => {
    for (const rules of [rulesFor('cohere.command-text-v14'), HAIKU]) {
      expect(rules.limits.maxTokensPerRecord).toBeUndefined();
      expect(rules.limits.maxTrainingRecords).toBeUndefined();
      expect(rules.limits.sources.length).toBeGreaterThan(0); // the format's own source
    }
  });
});

describe('limits data file', () => {
  it('gives every number a source URL and section', () => {
    const sourced: Sourced<unknown>[] = [];
    for (const entry of MODEL_FAMILIES) {
      sourced.push(entry.charsPerToken);
      for (const optional of [entry.media, entry.reservedKeywords, entry.maxSystemItems, entry.maxImagesPerMessage, entry.maxVideosPerRecord]) {
        if (optional) sourced.push(optional);
      }
      for (const customization of Object.values(entry.customizations)) {
        sourced.push(customization.format, ...Object.values(customization.limits));
      }
    }
    expect(sourced.length).toBeGreaterThan(30);
    for (const item of sourced) {
      expect(item.source.url).toMatch(/^https:\/\/(docs\.aws\.amazon\.com|github\.com\/aws-samples|platform\.claude\.com)\//);
      expect(item.source.section.length).toBeGreaterThan(5);
    }
  });

  it('has no overlapping model-id patterns', () => {
    const samples = ['amazon.titan-text-express-v1', 'amazon.titan-text-lite-v1', 'amazon.titan-text-premier-v1', 'amazon.nova-micro-v1', 'amazon.nova-lite-v1',
      'amazon.nova-pro-v1', 'meta.llama2-13b-v1', 'meta.llama3-1-8b-instruct-v1', 'meta.llama3-2-1b-instruct-v1', 'meta.llama3-2-11b-instruct-v1',
      'anthropic.claude-3-haiku-20240307-v1', 'cohere.command-text-v14', 'amazon.nova-2-lite-v1'];
    for (const id of samples) expect(MODEL_FAMILIES.filter((f) => f.modelIdPattern.test(id))).toHaveLength(1);
  });
});

describe('checkRecord: prompt-completion', () => {
  it('accepts the documented example', () => {
    expect(checkRecord(TITAN, { prompt: 'what is AWS', completion: "it's Amazon Web Services" })).toEqual([]);
  });

  it.each([
    [{ completion: 'x' }, 'prompt', 'field.required'],
    [{ prompt: 'x' }, 'completion', 'field.required'],
    [{ prompt: 1, completion: 'x' }, 'prompt', 'field.type'],
    [{ prompt: 'x', completion: null }, 'completion', 'field.type'],
  ])('%j → %s %s', (record, field, rule) => {
    expect(checkRecord(TITAN, record)).toEqual([expect.objectContaining({ field, rule })]);
  });

  it.each([null, 'text', 42, [], [{ prompt: 'a', completion: 'b' }]])('rejects a non-object record %j', (record) => {
    expect(rulesOf(checkRecord(TITAN, record))).toEqual(['record.object']);
  });

  it('enforces the character quota (4,096 tokens × 6) at its boundary', () => {
    const prompt = 'p'.repeat(20_000);
    expect(checkRecord(TITAN, { prompt, completion: 'c'.repeat(4_576) })).toEqual([]);
    const over = checkRecord(TITAN, { prompt, completion: 'c'.repeat(4_577) });
    expect(over).toEqual([expect.objectContaining({ field: '(record)', rule: 'record.maxChars' })]);
    expect(over[0]!.message).toContain('24577');
  });

  it('counts characters as code points, not UTF-16 units', () => {
    const emoji = '😀'.repeat(24_576); // 49,152 UTF-16 units, 24,576 characters
    expect(checkRecord(TITAN, { prompt: emoji, completion: '' })).toEqual([]);
  });

  it('enforces the token limit where no character limit is known', () => {
    const rules: DatasetRules = { ...TITAN, limits: { maxTokensPerRecord: 10, sources: [] } };
    expect(checkRecord(rules, { prompt: 'a'.repeat(30), completion: 'b'.repeat(30) })).toEqual([]); // 60/6 = 10
    expect(rulesOf(checkRecord(rules, { prompt: 'a'.repeat(30), completion: 'b'.repeat(31) }))).toEqual(['record.maxTokens']);
  });

  it('has no size limit where none is documented (Cohere)', () => {
    expect(checkRecord(rulesFor('cohere.command-text-v14'), { prompt: 'a'.repeat(100_000), completion: 'b' })).toEqual([]);
  });
});

describe('checkRecord: continued pre-training', () => {
  it('accepts {"input": string}', () => {
    expect(checkRecord(TITAN_CPT, { input: 'AWS stands for Amazon Web Services' })).toEqual([]);
  });
  it.each([
    [{}, 'field.required'],
    [{ input: ['a'] }, 'field.type'],
    [{ prompt: 'a', completion: 'b' }, 'field.required'],
  ])('%j → %s', (record, rule) => {
    expect(checkRecord(TITAN_CPT, record)).toEqual([expect.objectContaining({ field: 'input', rule })]);
  });
  it('enforces the per-sample character quota', () => {
    expect(rulesOf(checkRecord(TITAN_CPT, { input: 'x'.repeat(24_577) }))).toEqual(['record.maxChars']);
  });
});

describe('checkRecord: claude-messages (Claude 3 Haiku)', () => {
  const valid = { system: 'Answer in JSON.', messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: '{"hello":1}' }] };

  it('accepts a record with and without system, multi-turn too', () => {
    expect(checkRecord(HAIKU, valid)).toEqual([]);
    expect(checkRecord(HAIKU, { messages: valid.messages })).toEqual([]);
    expect(checkRecord(HAIKU, { messages: [...valid.messages, { role: 'user', content: 'more' }, { role: 'assistant', content: 'ok' }] })).toEqual([]);
  });

  it.each<[unknown, string, string]>([
    [{ system: 'x' }, 'messages', 'field.required'],
    [{ messages: 'hi' }, 'messages', 'field.type'],
    [{ system: ['x'], messages: valid.messages }, 'system', 'field.type'],
    [{ ...valid, extra: 1 }, '(record)', 'field.unknown'],
    [{ messages: [{ role: 'user', content: 'a', name: 'n' }, valid.messages[1]] }, 'messages[0]', 'field.unknown'],
    [{ messages: [{ role: 'user', content: 'only' }] }, 'messages', 'messages.minItems'],
    [{ messages: [{ role: 'assistant', content: 'a' }, { role: 'user', content: 'b' }] }, 'messages[0].role', 'messages.firstUser'],
    [{ messages: [{ role: 'system', content: 'a' }, valid.messages[1]] }, 'messages[0].role', 'messages.role'],
    [{ messages: [{ content: 'a' }, valid.messages[1]] }, 'messages[0].role', 'field.required'],
    [{ messages: [valid.messages[0], { role: 'assistant', content: [{ type: 'text', text: 'x' }] }] }, 'messages[1].content', 'field.type'],
    [{ messages: [valid.messages[0], 'assistant: x'] }, 'messages[1]', 'field.type'],
  ])('%j → %s %s', (record, field, rule) => {
    expect(checkRecord(HAIKU, record)).toContainEqual(expect.objectContaining({ field, rule }));
  });

  it('reports the last turn not being assistant, and non-alternating turns', () => {
    const problems = checkRecord(HAIKU, { messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'c' }] });
    expect(problems).toEqual([expect.objectContaining({ field: 'messages[2].role', rule: 'messages.lastAssistant' })]);
    const repeated = checkRecord(HAIKU, { messages: [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }, { role: 'assistant', content: 'c' }] });
    expect(repeated).toEqual([expect.objectContaining({ field: 'messages[1].role', rule: 'messages.alternate' })]);
  });
});

describe('checkRecord: bedrock-conversation-2024 (Amazon Nova, Llama 3.2)', () => {
  it('accepts the documented text example, with and without system / schemaVersion', () => {
    expect(checkRecord(NOVA_LITE, qa)).toEqual([]);
    expect(checkRecord(NOVA_MICRO, { messages: qa.messages })).toEqual([]);
    expect(checkRecord(LLAMA_32_TEXT, qa)).toEqual([]);
  });

  it('accepts images (Nova Lite, Llama 3.2 vision) and a video (Nova Lite) in user turns', () => {
    const withImages = conversation(turn('user', text('What is in the picture?'), image('png'), image('JPEG')), turn('assistant', text('A cat.')));
    expect(checkRecord(NOVA_LITE, withImages)).toEqual([]);
    expect(checkRecord(LLAMA_32_VISION, withImages)).toEqual([]);
    expect(checkRecord(NOVA_LITE, conversation(turn('user', text('Describe'), video('mp4')), turn('assistant', text('A dog.'))))).toEqual([]);
    expect(checkRecord(NOVA_LITE, conversation(turn('user', video('mov')), turn('assistant', text('A dog.'))))).toEqual([]);
  });

  it.each<[string, DatasetRules, unknown, string, string]>([
    ['schemaVersion not a string', NOVA_LITE, { ...qa, schemaVersion: 2024 }, 'schemaVersion', 'field.type'],
    ['system not an array', NOVA_LITE, { ...qa, system: 'be nice' }, 'system', 'field.type'],
    ['system item not an object', NOVA_LITE, { ...qa, system: ['be nice'] }, 'system[0]', 'field.type'],
    ['system item without text', NOVA_LITE, { ...qa, system: [{}] }, 'system[0].text', 'field.required'],
    ['Llama 3.2: two system items', LLAMA_32_TEXT, { ...qa, system: [text('a'), text('b')] }, 'system', 'system.maxItems'],
    ['messages missing', NOVA_LITE, { system: qa.system }, 'messages', 'field.required'],
    ['messages not an array', NOVA_LITE, { messages: {} }, 'messages', 'field.type'],
    ['one message', NOVA_LITE, conversation(turn('user', text('q'))), 'messages', 'messages.minItems'],
    ['starts with assistant', NOVA_LITE, conversation(turn('assistant', text('a')), turn('user', text('q'))), 'messages[0].role', 'messages.firstUser'],
    ['ends with user', NOVA_LITE, conversation(turn('user', text('q')), turn('assistant', text('a')), turn('user', text('q2'))), 'messages[2].role', 'messages.lastAssistant'],
    ['two user turns', NOVA_LITE, conversation(turn('user', text('q')), turn('user', text('q2')), turn('assistant', text('a'))), 'messages[1].role', 'messages.alternate'],
    ['system role in messages', NOVA_LITE, conversation(turn('system', text('s')), turn('assistant', text('a'))), 'messages[0].role', 'messages.role'],
    ['message not an object', NOVA_LITE, conversation('q', turn('assistant', text('a'))), 'messages[0]', 'field.type'],
    ['content not an array', NOVA_LITE, conversation({ role: 'user', content: 'q' }, turn('assistant', text('a'))), 'messages[0].content', 'field.type'],
    ['content empty', NOVA_LITE, conversation(turn('user'), turn('assistant', text('a'))), 'messages[0].content', 'content.empty'],
    ['content item of unknown kind', NOVA_LITE, conversation(turn('user', { document: {} }), turn('assistant', text('a'))), 'messages[0].content[0]', 'content.item'],
    ['text not a string', NOVA_LITE, conversation(turn('user', { text: 5 }), turn('assistant', text('a'))), 'messages[0].content[0].text', 'field.type'],
    ['only empty text', NOVA_LITE, conversation(turn('user', text('')), turn('assistant', text('a'))), 'messages[0].content', 'content.emptyText'],
    ['reserved keyword in system', NOVA_LITE, { ...qa, system: [text('You are a Bot: answer')] }, 'system[0].text', 'text.reservedKeyword'],
    ['reserved keyword in user text', NOVA_MICRO, conversation(turn('user', text('User: hi')), turn('assistant', text('a'))), 'messages[0].content[0].text', 'text.reservedKeyword'],
    ['reserved [EOS] in assistant text', NOVA_LITE, conversation(turn('user', text('q')), turn('assistant', text('done [EOS]'))), 'messages[1].content[0].text', 'text.reservedKeyword'],
    ['image on Nova Micro', NOVA_MICRO, conversation(turn('user', text('q'), image()), turn('assistant', text('a'))), 'messages[0].content[1].image', 'content.mediaNotSupported'],
    ['video on Llama 3.2 vision', LLAMA_32_VISION, conversation(turn('user', text('q'), video()), turn('assistant', text('a'))), 'messages[0].content[1].video', 'content.mediaNotSupported'],
    ['image on Llama 3.2 1B', LLAMA_32_TEXT, conversation(turn('user', text('q'), image()), turn('assistant', text('a'))), 'messages[0].content[1].image', 'content.mediaNotSupported'],
    ['image in assistant turn', NOVA_LITE, conversation(turn('user', text('q')), turn('assistant', text('a'), image())), 'messages[1].content[1].image', 'content.mediaInAssistant'],
    ['image format', NOVA_LITE, conversation(turn('user', text('q'), image('bmp')), turn('assistant', text('a'))), 'messages[0].content[1].image.format', 'content.mediaFormat'],
    ['video format', NOVA_LITE, conversation(turn('user', text('q'), video('avi')), turn('assistant', text('a'))), 'messages[0].content[1].video.format', 'content.mediaFormat'],
    ['image uri not s3', NOVA_LITE, conversation(turn('user', text('q'), image('png', 'https://x/a.png')), turn('assistant', text('a'))), 'messages[0].content[1].image.source.s3Location.uri', 'content.mediaUri'],
    ['image not an object', NOVA_LITE, conversation(turn('user', text('q'), { image: 's3://b/a.png' }), turn('assistant', text('a'))), 'messages[0].content[1].image', 'content.media'],
    ['11 images in a message', NOVA_LITE, conversation(turn('user', text('q'), ...Array.from({ length: 11 }, () => image())), turn('assistant', text('a'))), 'messages[0].content', 'content.imageCount'],
    ['two videos in a record', NOVA_LITE, conversation(turn('user', text('q'), video()), turn('assistant', text('a')), turn('user', video()), turn('assistant', text('b'))), 'messages', 'content.videoCount'],
    ['images and a video', NOVA_LITE, conversation(turn('user', text('q'), image(), video()), turn('assistant', text('a'))), 'messages', 'content.mixedMedia'],
  ])('%s', (_name, rules, record, field, rule) => {
    expect(checkRecord(rules, record)).toContainEqual(expect.objectContaining({ field, rule }));
  });

  it('reserved keywords are Nova-only (not documented for Llama 3.2)', () => {
    expect(checkRecord(LLAMA_32_TEXT, conversation(turn('user', text('User: hi')), turn('assistant', text('Bot: hello'))))).toEqual([]);
  });

  it('allows exactly 10 images in a message and one video in a record', () => {
    expect(checkRecord(NOVA_LITE, conversation(turn('user', ...Array.from({ length: 10 }, () => image())), turn('assistant', text('a'))))).toEqual([]);
  });

  it('reports every problem of a record, not only the first', () => {
    const problems = checkRecord(NOVA_LITE, { schemaVersion: 1, messages: [turn('assistant', text('Bot: hi')), turn('assistant', text(''))] });
    expect(rulesOf(problems)).toEqual(expect.arrayContaining(['field.type', 'text.reservedKeyword', 'content.emptyText', 'messages.firstUser', 'messages.alternate']));
  });
});

describe('estimateTokens', () => {
  it('uses 6 characters per token for Titan prompt + completion, rounded up', () => {
    expect(estimateTokens(TITAN, { prompt: 'what is AWS', completion: "it's Amazon Web Services" })).toBe(6); // 11 + 24 = 35 chars
    expect(estimateTokens(TITAN, { prompt: 'a'.repeat(6), completion: 'b'.repeat(6) })).toBe(2);
    expect(estimateTokens(TITAN, { prompt: '', completion: '' })).toBe(0);
  });

  it('counts the continued-pre-training input', () => {
    expect(estimateTokens(TITAN_CPT, { input: 'AWS stands for Amazon Web Services' })).toBe(6); // 34 / 6
  });

  it('uses 4 characters per token for conversations: system + every turn, media counts 0', () => {
    // 55 (system) + 28 + 29 = 112 characters → 28 tokens
    expect(estimateTokens(NOVA_LITE, qa)).toBe(28);
    expect(estimateTokens(NOVA_LITE, conversation(turn('user', text('abcd'), image()), turn('assistant', text('efgh'))))).toBe(14 + 2);
    expect(estimateTokens(HAIKU, { system: 'abcd', messages: [{ role: 'user', content: 'efgh' }, { role: 'assistant', content: 'ijklm' }] })).toBe(4);
  });

  it('is 0 for an invalid record', () => {
    expect(estimateTokens(TITAN, { prompt: 'only a prompt' })).toBe(0);
    expect(estimateTokens(HAIKU, { messages: [{ role: 'user', content: 'hello there' }] })).toBe(0);
    expect(estimateTokens(NOVA_LITE, null)).toBe(0);
  });

  it('still estimates a record that is only too long', () => {
    expect(estimateTokens(TITAN_CPT, { input: 'x'.repeat(60_000) })).toBe(10_000);
  });
});

describe('no data in problems', () => {
  // A writer's record may hold personal data; a problem's field and message reach the execution's
  // Cause, the logs and the notification, so they name documented fields, positions, types and counts only.
  const SECRET = 'SSN-078-05-1120-SENTINEL';
  /** Every 4-character piece of SECRET: none may appear in a problem. */
  const expectNoSecret = (problems: { field: string; message: string }[]) => {
    expect(problems.length).toBeGreaterThan(0);
    const text = JSON.stringify(problems);
    for (let at = 0; at + 4 <= SECRET.length; at++) expect(text).not.toContain(SECRET.slice(at, at + 4));
  };

  it('unknown keys: one problem per object with their count and positions, never the keys', () => {
    const problems = checkRecord(HAIKU, { messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }], [SECRET]: 1, [`${SECRET}2`]: 2 });
    expect(problems).toEqual([
      { field: '(record)', rule: 'field.unknown', message: 'the record has 2 unknown fields (key 2, 3 of 3); allowed: system, messages' },
    ]);
    expectNoSecret(problems);
    const inMessage = checkRecord(HAIKU, { messages: [{ role: 'user', content: 'a', [SECRET]: 'x' }, { role: 'assistant', content: 'b' }] });
    expect(inMessage).toEqual([
      { field: 'messages[0]', rule: 'field.unknown', message: 'messages[0] has an unknown field (key 3 of 3); allowed: role, content' },
    ]);
    expectNoSecret(inMessage);
  });

  it('a role or a media format that is not allowed is not echoed', () => {
    expectNoSecret(checkRecord(HAIKU, { messages: [{ role: SECRET, content: 'a' }, { role: 'assistant', content: 'b' }] }));
    expectNoSecret(checkRecord(NOVA_LITE, conversation(turn(SECRET, text('q')), turn('assistant', text('a')))));
    const format = checkRecord(NOVA_LITE, conversation(turn('user', text('q'), image(SECRET)), turn('assistant', text('a'))));
    expect(format).toContainEqual(expect.objectContaining({ rule: 'content.mediaFormat', message: expect.stringContaining('got another string') }));
    expectNoSecret(format);
  });

  it.each<[string, DatasetRules, unknown]>([
    ['a value of the wrong type', TITAN, { prompt: [SECRET], completion: { [SECRET]: SECRET } }],
    ['an over-long record', TITAN, { prompt: SECRET.repeat(2000), completion: SECRET }],
    ['a reserved keyword', NOVA_LITE, conversation(turn('user', text(`${SECRET} Bot: ${SECRET}`)), turn('assistant', text(SECRET)))],
    ['a media uri', NOVA_LITE, conversation(turn('user', text('q'), image('png', SECRET)), turn('assistant', text('a')))],
    ['a record that is not an object', TITAN, [SECRET]],
    ['a system item of the wrong shape', NOVA_LITE, { ...qa, system: [SECRET, { [SECRET]: SECRET }] }],
    ['a content item of unknown kind', NOVA_LITE, conversation(turn('user', { [SECRET]: SECRET }), turn('assistant', text('a')))],
  ])('%s: the problem names field and rule, not the value', (_name, rules, record) => {
    expectNoSecret(checkRecord(rules, record));
  });
});

describe('counting characters and judging a record in one pass', () => {
  it('charCount counts code points as Array.from does, lone surrogates included', () => {
    const unit = fc.oneof(fc.constantFrom('😀', '𝄞', 'é', '\ud800', '\udc00', '\udbff\udfff', 'a'), fc.string({ unit: 'binary', maxLength: 2 }));
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 30 }), (text) => {
        expect(charCount(text)).toBe(Array.from(text).length);
      }),
      { numRuns: 2000 },
    );
  });

  it('assessRecord gives checkRecord\'s problems and, for a valid record, estimateTokens\' tokens', () => {
    const text = fc.string({ unit: fc.oneof(fc.constantFrom('😀', 'é', 'x'), fc.string({ unit: 'grapheme', maxLength: 1 })), maxLength: 40 });
    const rules = { ...TITAN, limits: { ...TITAN.limits, maxCharsPerRecord: 60, maxTokensPerRecord: 8 } };
    fc.assert(
      fc.property(fc.oneof(fc.record({ prompt: text, completion: text }), fc.record({ prompt: text }), fc.jsonValue({ maxDepth: 1 })), (record) => {
        const { problems, tokens } = assessRecord(rules, record);
        expect(problems).toEqual(checkRecord(rules, record));
        expect(tokens).toBe(problems.length ? 0 : estimateTokens(rules, record));
      }),
      { numRuns: 500 },
    );
  });

  it('assessChars holds a flat record to the same limits, with the same messages, as the parsed record', () => {
    const rules = { ...TITAN, limits: { ...TITAN.limits, maxCharsPerRecord: 50, maxTokensPerRecord: 5 } };
    for (const [prompt, completion] of [
      ['a'.repeat(10), 'b'.repeat(20)], // 30 chars, 5 tokens: valid
      ['a'.repeat(10), 'b'.repeat(21)], // 31 chars, 6 tokens: over the token limit
      ['😀'.repeat(30), 'é'.repeat(21)], // 51 chars: over the character limit
    ] as const) {
      const record = { prompt, completion };
      expect(assessChars(rules, Array.from(prompt + completion).length)).toEqual(assessRecord(rules, record));
    }
  });

  it('flatRecordKeys names the flat formats only, and an object of exactly those string members is a valid record of them', () => {
    expect(flatRecordKeys(TITAN)).toEqual(['prompt', 'completion']);
    expect(flatRecordKeys(TITAN_CPT)).toEqual(['input']);
    for (const rules of [NOVA_LITE, NOVA_MICRO, LLAMA_32_TEXT, LLAMA_32_VISION, HAIKU]) expect(flatRecordKeys(rules)).toBeUndefined();
    for (const rules of [TITAN, TITAN_CPT]) {
      const record = Object.fromEntries(flatRecordKeys(rules)!.map((key) => [key, 'x']));
      expect(checkRecord(rules, record)).toEqual([]);
    }
  });
});

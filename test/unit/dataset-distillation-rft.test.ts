/**
 * The record rules of distillation prompts and reinforcement fine-tuning prompts (formats.ts
 * checkDistillationPrompt, checkRftRecord), each rule both ways: AWS's documented examples pass
 * (test/support/datasets.ts names each one's page), and each violation is found with its field and
 * rule. Where AWS's sample validators are wrong (limits.ts DISTILLATION_VALIDATOR, RFT_VALIDATOR), the
 * test says what the validator does and what is checked here instead.
 */
import { describe, expect, it } from 'vitest';
import { checkRecord, datasetRulesFor, DISTILLATION_SCHEMA_VERSION, flatRecordKeys, type DatasetRules } from '../../functions/validate-dataset/formats.js';
import { DISTILLATION_VALIDATOR, MODEL_FAMILIES, RFT_VALIDATOR } from '../../functions/validate-dataset/limits.js';
import { DISTILLATION_EXAMPLES, RFT_EXAMPLES } from '../support/datasets.js';

function rulesFor(model: string, type: string): DatasetRules {
  const rules = datasetRulesFor(model, type);
  if (!rules) throw new Error(`expected rules for ${model} ${type}`);
  return rules;
}
const rulesOf = (problems: { rule: string }[]) => problems.map((p) => p.rule);

const HAIKU = rulesFor('anthropic.claude-3-haiku-20240307-v1:0:200k', 'DISTILLATION');
const LLAMA_31 = rulesFor('meta.llama3-1-8b-instruct-v1:0', 'DISTILLATION');
const LLAMA_32 = rulesFor('meta.llama3-2-3b-instruct-v1:0', 'DISTILLATION');
const NOVA_MICRO = rulesFor('amazon.nova-micro-v1:0:128k', 'DISTILLATION');
const NOVA_LITE = rulesFor('arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0:300k', 'DISTILLATION');
const NOVA_2_LITE = rulesFor('arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-2-lite-v1:0:256k', 'REINFORCEMENT_FINE_TUNING');

const text = (t: string) => ({ text: t });
const turn = (role: string, ...content: unknown[]) => ({ role, content });
const prompt = (...messages: unknown[]) => ({ schemaVersion: DISTILLATION_SCHEMA_VERSION, messages });
const { labelled } = DISTILLATION_EXAMPLES;

describe('datasetRulesFor: distillation and reinforcement fine-tuning', () => {
  it.each([
    [HAIKU, 'claude-3-haiku', 1],
    [LLAMA_31, 'meta-llama3-1', 1],
    [LLAMA_32, 'meta-llama3-2-text', 1],
    [NOVA_MICRO, 'nova-micro', undefined],
    [NOVA_LITE, 'nova-lite-pro', undefined],
  ] as const)('DISTILLATION of %# (%s): distillation-prompts, at least 100 prompts, at most 1 GiB, user turns %s', (rules, family, maxUserTurns) => {
    expect(rules).toMatchObject({ family, format: 'distillation-prompts', customizationType: 'DISTILLATION' });
    expect(rules.maxUserTurns).toBe(maxUserTurns);
    expect(rules.limits).toMatchObject({ minTrainingRecords: 100, maxFileBytes: 1024 ** 3 });
    expect(rules.limits.sources.join(' ')).toContain('distillation-data-prep-option-1.html');
    expect(rules.limits.sources.join(' ')).toContain('model_distillation/dataset-validation');
    expect(rules.noTokenEstimate).toMatch(/teacher/);
    expect(rules.fileExtension).toBe('.jsonl');
    expect(flatRecordKeys(rules)).toBeUndefined();
  });

  it('REINFORCEMENT_FINE_TUNING of Amazon Nova 2 Lite: rft-chat-completion, 100 to 20,000 prompts (training and validation together)', () => {
    expect(NOVA_2_LITE).toMatchObject({ family: 'nova-2-lite', format: 'rft-chat-completion', customizationType: 'REINFORCEMENT_FINE_TUNING' });
    expect(NOVA_2_LITE.limits).toMatchObject({ minTrainingRecords: 100, maxTotalRecords: 20_000 });
    expect(NOVA_2_LITE.limits.maxTrainingRecords).toBeUndefined();
    expect(NOVA_2_LITE.limits.sources.join(' ')).toContain('rft-prepare-data.html');
    expect(NOVA_2_LITE.limits.sources.join(' ')).toContain('rft-nova-models.html');
    expect(NOVA_2_LITE.limits.sources.join(' ')).toContain('nova_ft_dataset_validator.py');
    expect(NOVA_2_LITE.reservedTokensIgnoringCase).toContain('Thought:');
    expect(NOVA_2_LITE.reservedKeywords).toEqual([]);
    expect(NOVA_2_LITE.noTokenEstimate).toMatch(/generates/);
    expect(NOVA_2_LITE.fileExtension).toBe('.jsonl');
  });

  it.each([
    ['amazon.titan-text-express-v1', 'DISTILLATION'],
    ['amazon.nova-2-lite-v1:0:256k', 'FINE_TUNING'],
    ['amazon.nova-2-lite-v1:0:256k', 'DISTILLATION'],
    ['amazon.nova-lite-v1:0:300k', 'REINFORCEMENT_FINE_TUNING'],
    ['openai.gpt-oss-20b-1:0', 'REINFORCEMENT_FINE_TUNING'],
    ['qwen.qwen3-32b-v1:0', 'REINFORCEMENT_FINE_TUNING'],
    ['amazon.nova-micro-v1:0:128k', 'reinforcement_fine_tuning'],
  ])('%s %s → undefined (not checked)', (model, type) => {
    expect(datasetRulesFor(model, type)).toBeUndefined();
  });

  it('names the AWS validators it covers, with their repositories', () => {
    expect(DISTILLATION_VALIDATOR.url).toMatch(/^https:\/\/github\.com\/aws-samples\/amazon-bedrock-samples\/.*model_distillation\/dataset-validation$/);
    expect(RFT_VALIDATOR.url).toMatch(/^https:\/\/github\.com\/aws-samples\/amazon-nova-samples\/.*dataset_validation\/nova_ft_dataset_validator\.py$/);
    expect(RFT_VALIDATOR.note).toContain('Thought:');
  });

  it('gives the per-customization facts a source too (single-turn, reserved tokens)', () => {
    for (const family of MODEL_FAMILIES) {
      for (const customization of Object.values(family.customizations)) {
        for (const sourced of [customization.maxUserTurns, customization.reservedTokensIgnoringCase]) {
          if (sourced) expect(sourced.source.url).toMatch(/^https:\/\/(docs\.aws\.amazon\.com|github\.com\/aws-samples)\//);
        }
      }
    }
  });
});

describe('checkRecord: distillation prompts', () => {
  it.each(Object.entries(DISTILLATION_EXAMPLES))('the documented example "%s" passes for every student family', (_name, record) => {
    for (const rules of [HAIKU, LLAMA_31, LLAMA_32, NOVA_MICRO, NOVA_LITE]) expect(checkRecord(rules, record)).toEqual([]);
  });

  it('Amazon Nova students take multi-turn records; Anthropic and Meta Llama students one user prompt (single-turn)', () => {
    const threeTurns = prompt(turn('user', text('q1')), turn('assistant', text('a1')), turn('user', text('q2')));
    const fourTurns = prompt(turn('user', text('q1')), turn('assistant', text('a1')), turn('user', text('q2')), turn('assistant', text('a2')));
    for (const rules of [NOVA_MICRO, NOVA_LITE]) {
      expect(checkRecord(rules, threeTurns)).toEqual([]);
      expect(checkRecord(rules, fourTurns)).toEqual([]);
    }
    for (const rules of [HAIKU, LLAMA_31, LLAMA_32]) {
      expect(checkRecord(rules, threeTurns)).toEqual([expect.objectContaining({ field: 'messages', rule: 'messages.singleTurn' })]);
      expect(rulesOf(checkRecord(rules, fourTurns))).toEqual(['messages.singleTurn']);
    }
  });

  it.each<[string, unknown, string, string]>([
    ['a field the format does not define', { ...labelled, toolConfig: {} }, '(record)', 'field.unknown'],
    ['no schemaVersion', { messages: labelled.messages }, 'schemaVersion', 'field.required'],
    ['schemaVersion not a string', { ...labelled, schemaVersion: 2024 }, 'schemaVersion', 'field.type'],
    // The page's bullet spells it so; its example and AWS's validator take "bedrock-conversation-2024".
    ['schemaVersion "bedrock-conversion-2024"', { ...labelled, schemaVersion: 'bedrock-conversion-2024' }, 'schemaVersion', 'schemaVersion.value'],
    ['system not an array', { ...labelled, system: 'be helpful' }, 'system', 'field.type'],
    ['system with two items', { ...labelled, system: [text('a'), text('b')] }, 'system', 'system.items'],
    ['system empty', { ...labelled, system: [] }, 'system', 'system.items'],
    ['system item not an object', { ...labelled, system: ['be helpful'] }, 'system[0]', 'field.type'],
    ['system item without text', { ...labelled, system: [{}] }, 'system[0].text', 'field.required'],
    ['system item with another field', { ...labelled, system: [{ text: 'a', cachePoint: {} }] }, 'system[0]', 'field.unknown'],
    ['no messages', { schemaVersion: DISTILLATION_SCHEMA_VERSION }, 'messages', 'field.required'],
    ['messages not an array', { ...labelled, messages: {} }, 'messages', 'field.type'],
    ['messages empty', prompt(), 'messages', 'messages.minItems'],
    ['a message not an object', prompt('why is the sky blue'), 'messages[0]', 'field.type'],
    ['a message with another field', prompt({ ...turn('user', text('q')), name: 'n' }), 'messages[0]', 'field.unknown'],
    ['a message without role', prompt({ content: [text('q')] }), 'messages[0].role', 'field.required'],
    ['a system role in messages', prompt(turn('system', text('s')), turn('user', text('q'))), 'messages[0].role', 'messages.role'],
    ['the first turn an assistant', prompt(turn('assistant', text('a'))), 'messages[0].role', 'messages.firstUser'],
    ['two user turns in a row', prompt(turn('user', text('q')), turn('user', text('q2'))), 'messages[1].role', 'messages.alternate'],
    ['two assistant turns in a row', prompt(turn('user', text('q')), turn('assistant', text('a')), turn('assistant', text('b'))), 'messages[2].role', 'messages.alternate'],
    ['content not an array', prompt({ role: 'user', content: 'q' }), 'messages[0].content', 'field.type'],
    ['content missing', prompt({ role: 'user' }), 'messages[0].content', 'field.required'],
    ['content with two items', prompt(turn('user', text('q'), text('more'))), 'messages[0].content', 'content.items'],
    ['content empty', prompt(turn('user')), 'messages[0].content', 'content.items'],
    ['an image (distillation is text-to-text)', prompt(turn('user', { image: { format: 'png', source: { s3Location: { uri: 's3://b/a.png' } } } })), 'messages[0].content[0]', 'field.unknown'],
    ['a content item without text', prompt(turn('user', {})), 'messages[0].content[0].text', 'field.required'],
    ['text not a string', prompt(turn('user', { text: 5 })), 'messages[0].content[0].text', 'field.type'],
    ['a content item type that is not a string', prompt(turn('user', { text: 'q', type: 1 })), 'messages[0].content[0].type', 'field.type'],
  ])('%s → %s %s', (_name, record, field, rule) => {
    expect(checkRecord(NOVA_LITE, record)).toContainEqual(expect.objectContaining({ field, rule }));
  });

  it('takes a content item `type` string, as AWS\'s validator does ({text, type} in schema.py)', () => {
    expect(checkRecord(HAIKU, prompt(turn('user', { type: 'text', text: 'why is the sky blue' })))).toEqual([]);
  });

  it('does not echo the writer\'s values: a wrong schemaVersion, role or key is described, not quoted', () => {
    const SECRET = 'SSN-078-05-1120';
    const problems = checkRecord(HAIKU, { schemaVersion: SECRET, [SECRET]: 1, messages: [turn(SECRET, text('q'))] });
    expect(rulesOf(problems)).toEqual(expect.arrayContaining(['schemaVersion.value', 'field.unknown', 'messages.role']));
    expect(JSON.stringify(problems)).not.toContain('078');
  });
});

describe('checkRecord: reinforcement fine-tuning prompts (Amazon Nova 2 Lite)', () => {
  it.each(Object.entries(RFT_EXAMPLES))('the documented example "%s" passes', (_name, record) => {
    expect(checkRecord(NOVA_2_LITE, record)).toEqual([]);
  });

  it('takes the fields the grader Lambda reads ("[Optional] You can add fields used by grader Lambda")', () => {
    expect(checkRecord(NOVA_2_LITE, { ...RFT_EXAMPLES.math, task_id: 'gsm8k_train_0', domain: 'math', difficulty_level: 'grade_school' })).toEqual([]);
  });

  it('takes a record without tools: AWS\'s validator requires a non-empty `tools`, the Nova 2 RFT page makes it optional', () => {
    expect(checkRecord(NOVA_2_LITE, RFT_EXAMPLES.question)).toEqual([]);
    expect('tools' in RFT_EXAMPLES.question).toBe(false);
  });

  it('takes a message without content (an assistant turn that calls a tool), as the validator does', () => {
    expect(checkRecord(NOVA_2_LITE, { ...RFT_EXAMPLES.question, messages: [...RFT_EXAMPLES.question.messages, { role: 'assistant' }] })).toEqual([]);
  });

  const { question } = RFT_EXAMPLES;
  const withMessages = (...messages: unknown[]) => ({ ...question, messages });
  it.each<[string, unknown, string, string]>([
    ['no messages', { reference_answer: 'x' }, 'messages', 'field.required'],
    ['messages not an array', { ...question, messages: 'What is machine learning?' }, 'messages', 'field.type'],
    ['messages empty', withMessages(), 'messages', 'messages.minItems'],
    ['a message not an object', withMessages('What is machine learning?'), 'messages[0]', 'field.type'],
    ['a message without role', withMessages({ content: 'What is machine learning?' }), 'messages[0].role', 'field.required'],
    ['a role the format does not have', withMessages({ role: 'tool', content: 'x' }, { role: 'user', content: 'q' }), 'messages[0].role', 'messages.role'],
    ['a role in capitals', withMessages({ role: 'User', content: 'q' }), 'messages[0].role', 'messages.role'],
    ['a system message after the first', withMessages({ role: 'user', content: 'q' }, { role: 'system', content: 's' }), 'messages[1].role', 'messages.systemFirst'],
    ['no user message', withMessages({ role: 'system', content: 'You are a helpful assistant' }), 'messages', 'messages.user'],
    ['content not a string', withMessages({ role: 'user', content: [{ type: 'text', text: 'q' }] }), 'messages[0].content', 'field.type'],
    ['content blank', withMessages({ role: 'user', content: '  ' }), 'messages[0].content', 'content.emptyText'],
    ['no reference_answer', { messages: question.messages }, 'reference_answer', 'field.required'],
    ['reference_answer empty', { ...question, reference_answer: ' ' }, 'reference_answer', 'reference_answer.empty'],
    ['reference_answer an empty object', { ...question, reference_answer: {} }, 'reference_answer', 'reference_answer.empty'],
    ['reference_answer a number', { ...question, reference_answer: 4 }, 'reference_answer', 'field.type'],
    ['reference_answer a list', { ...question, reference_answer: ['x = 4'] }, 'reference_answer', 'field.type'],
    ['reference_answer null', { ...question, reference_answer: null }, 'reference_answer', 'field.type'],
    ['id not a string', { ...question, id: 1 }, 'id', 'field.type'],
    ['id blank', { ...question, id: '' }, 'id', 'id.empty'],
  ])('%s → %s %s', (_name, record, field, rule) => {
    expect(checkRecord(NOVA_2_LITE, record)).toContainEqual(expect.objectContaining({ field, rule }));
  });

  const { tools: toolRecord } = RFT_EXAMPLES;
  const tool = toolRecord.tools[0];
  const withTools = (tools: unknown) => ({ ...toolRecord, tools });
  it.each<[string, unknown, string, string]>([
    ['tools not an array', withTools(tool), 'tools', 'field.type'],
    ['tools empty', withTools([]), 'tools', 'tools.empty'],
    ['a tool not an object', withTools(['get_weather']), 'tools[0]', 'field.type'],
    ['a tool of another type', withTools([{ ...tool, type: 'retrieval' }]), 'tools[0].type', 'tools.type'],
    ['a tool without function', withTools([{ type: 'function' }]), 'tools[0].function', 'field.required'],
    ['a function name blank', withTools([{ ...tool, function: { ...tool.function, name: ' ' } }]), 'tools[0].function.name', 'tools.empty'],
    ['a function without description', withTools([{ ...tool, function: { name: 'f', parameters: tool.function.parameters } }]), 'tools[0].function.description', 'field.required'],
    ['parameters missing', withTools([{ ...tool, function: { name: 'f', description: 'd' } }]), 'tools[0].function.parameters', 'field.required'],
    ['parameters of another type', withTools([{ ...tool, function: { ...tool.function, parameters: { ...tool.function.parameters, type: 'array' } } }]), 'tools[0].function.parameters.type', 'tools.parameters'],
    ['parameters.properties not an object', withTools([{ ...tool, function: { ...tool.function, parameters: { type: 'object', properties: [] } } }]), 'tools[0].function.parameters.properties', 'tools.parameters'],
    ['parameters.required not strings', withTools([{ ...tool, function: { ...tool.function, parameters: { type: 'object', properties: {}, required: [1] } } }]), 'tools[0].function.parameters.required', 'tools.parameters'],
    ['two tools of one name', withTools([tool, tool]), 'tools[1].function.name', 'tools.duplicateName'],
  ])('%s → %s %s', (_name, record, field, rule) => {
    expect(checkRecord(NOVA_2_LITE, record)).toContainEqual(expect.objectContaining({ field, rule }));
  });

  it.each(['System:', 'User:', 'Bot:', 'Assistant:', 'Thought:', '[EOS]', '<image>', '<video>', '<unk>'])(
    'the reserved token %s in a message is found, in any case',
    (token) => {
      for (const written of [token, token.toLowerCase(), token.toUpperCase()]) {
        const problems = checkRecord(NOVA_2_LITE, withMessages({ role: 'user', content: `Question ${written} what is 2 + 2?` }));
        expect(problems).toEqual([expect.objectContaining({ field: 'messages[0].content', rule: 'text.reservedKeyword' })]);
      }
    },
  );

  it('"Thought:" is checked on its own (AWS\'s validator joins "assistant:" "Thought:" into one string for want of a comma and never checks it)', () => {
    // What the validator's list holds after Python joins the adjacent literals: none of them is "thought:" alone.
    const validatorList = ['System:', 'SYSTEM:', 'User:', 'user:USER:', 'Bot:', 'BOT:', 'bot:Assistant:', 'ASSISTANT:', 'assistant:Thought:', 'thought:THOUGHT:', '[EOS]', '<image>', '<video>', '<unk>'];
    const content = 'Thought: the answer is 4';
    expect(validatorList.some((token) => content.toLowerCase().includes(token.toLowerCase()))).toBe(false);
    expect(rulesOf(checkRecord(NOVA_2_LITE, withMessages({ role: 'user', content })))).toEqual(['text.reservedKeyword']);
  });

  it('reserved tokens are looked for in messages only, not in the reference answer or grader fields', () => {
    expect(checkRecord(NOVA_2_LITE, { ...question, reference_answer: 'Assistant: 4', grader_note: 'User: x' })).toEqual([]);
  });

  it('does not echo the writer\'s values: a role or a duplicate tool name is described, not quoted', () => {
    const SECRET = 'SSN-078-05-1120';
    const named = { ...tool, function: { ...tool.function, name: SECRET } };
    const problems = checkRecord(NOVA_2_LITE, { ...toolRecord, messages: [{ role: SECRET, content: 'q' }, { role: 'user', content: 'q' }], tools: [named, named] });
    expect(rulesOf(problems)).toEqual(expect.arrayContaining(['messages.role', 'tools.duplicateName']));
    expect(JSON.stringify(problems)).not.toContain('078');
  });
});

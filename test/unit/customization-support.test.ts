/**
 * The support table (functions/validate-network/customization-support.ts): each answer below is a row (or the
 * absence of one) of the AWS page named in the module, so a wrong row, a lost row or a lookup that
 * reads identifiers wrongly fails here in one direction or the other.
 */
import { describe, expect, it } from 'vitest';
import {
  CUSTOMIZATION_TYPES,
  DISTILLATION_TEACHERS,
  MAX_MODEL_IDENTIFIER_LENGTH,
  MODEL_SUPPORT,
  lookupSupport,
  lookupTeacherSupport,
  modelsSupporting,
  parseModelIdentifier,
  regionsSupporting,
  supportFor,
  teacherSupportFor,
  teachersFor,
} from '../../functions/validate-network/customization-support.js';

const fmArn = (id: string, region = 'us-east-1') => `arn:aws:bedrock:${region}::foundation-model/${id}`;

describe('parseModelIdentifier', () => {
  it('takes a model id apart into its id and its :version:context suffix', () => {
    expect(parseModelIdentifier('amazon.nova-micro-v1:0:128k')).toEqual({ id: 'amazon.nova-micro-v1', suffix: ':0:128k', form: 'model-id' });
    expect(parseModelIdentifier('amazon.titan-text-express-v1')).toEqual({ id: 'amazon.titan-text-express-v1', suffix: '', form: 'model-id' });
  });

  it('unwraps a foundation-model ARN, whose resource holds the suffix colons', () => {
    expect(parseModelIdentifier(fmArn('amazon.nova-micro-v1:0:128k'))).toEqual({ id: 'amazon.nova-micro-v1', suffix: ':0:128k', form: 'foundation-model-arn' });
    expect(parseModelIdentifier('arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/amazon.nova-lite-v1:0')?.id).toBe('amazon.nova-lite-v1');
  });

  it('reads a system inference profile ARN, and refuses other Bedrock resources', () => {
    expect(parseModelIdentifier('arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-premier-v1:0')).toEqual({
      id: 'us.amazon.nova-premier-v1',
      suffix: ':0',
      form: 'inference-profile-arn',
    });
    for (const other of [
      'arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-express-v1:0:8k/abc123',
      'arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123',
      'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123',
      'arn:aws:bedrock:us-east-1:123456789012:foundation-model/amazon.nova-micro-v1', // a foundation model has no account
      'arn:aws:s3:::foundation-model/amazon.nova-micro-v1',
      'arn:aws:bedrock:us-east-1',
      'not a model',
      'amazon',
      'AMAZON.NOVA-MICRO-V1',
      '',
      'amazon.' + 'a'.repeat(MAX_MODEL_IDENTIFIER_LENGTH),
    ]) {
      expect(parseModelIdentifier(other), other).toBeUndefined();
    }
  });

  it('runs in linear time on long hostile input', () => {
    const hostile = 'arn:' + ':'.repeat(MAX_MODEL_IDENTIFIER_LENGTH - 4);
    const started = performance.now();
    for (let i = 0; i < 200; i++) parseModelIdentifier(hostile), parseModelIdentifier('a.' + ':a'.repeat(1000));
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('supportFor', () => {
  it('says supported for the rows the pages list, in their Regions, by id, by documented id and by ARN', () => {
    expect(supportFor('amazon.titan-text-express-v1', 'FINE_TUNING', 'us-east-1')).toBe('supported');
    expect(supportFor('amazon.titan-text-express-v1:0:8k', 'CONTINUED_PRE_TRAINING', 'us-west-2')).toBe('supported');
    expect(supportFor('amazon.nova-micro-v1:0:128k', 'FINE_TUNING', 'us-east-1')).toBe('supported');
    expect(supportFor(fmArn('amazon.nova-micro-v1:0:128k'), 'FINE_TUNING', 'us-east-1')).toBe('supported');
    expect(supportFor('amazon.nova-2-lite-v1:0:256k', 'REINFORCEMENT_FINE_TUNING', 'us-east-1')).toBe('supported');
    expect(supportFor('anthropic.claude-3-haiku-20240307-v1:0:200k', 'FINE_TUNING', 'us-west-2')).toBe('supported');
    expect(supportFor('meta.llama3-3-70b-instruct-v1:0:128k', 'FINE_TUNING', 'us-west-2')).toBe('supported');
    expect(supportFor('qwen.qwen3-32b', 'REINFORCEMENT_FINE_TUNING', 'us-west-2')).toBe('supported');
  });

  it('accepts the version alone of a documented version:context suffix', () => {
    expect(supportFor('amazon.nova-micro-v1:0', 'FINE_TUNING', 'us-east-1')).toBe('supported');
  });

  it('says unsupported for a listed model in a Region its row does not list (also by ARN)', () => {
    expect(lookupSupport('amazon.nova-micro-v1:0:128k', 'FINE_TUNING', 'us-west-2')).toMatchObject({ support: 'unsupported', reason: 'region' });
    expect(supportFor(fmArn('amazon.nova-micro-v1:0:128k', 'us-west-2'), 'FINE_TUNING', 'us-west-2')).toBe('unsupported');
    expect(supportFor('meta.llama3-1-8b-instruct-v1:0:128k', 'FINE_TUNING', 'us-east-1')).toBe('unsupported');
    expect(supportFor('amazon.titan-text-express-v1', 'FINE_TUNING', 'eu-west-1')).toBe('unsupported');
    expect(supportFor('openai.gpt-oss-20b', 'REINFORCEMENT_FINE_TUNING', 'us-east-1')).toBe('unsupported');
  });

  it('says unsupported for a listed model and a type its rows do not list', () => {
    expect(lookupSupport('amazon.nova-micro-v1', 'CONTINUED_PRE_TRAINING', 'us-east-1')).toMatchObject({ support: 'unsupported', reason: 'type' });
    expect(supportFor('amazon.titan-text-express-v1', 'REINFORCEMENT_FINE_TUNING', 'us-east-1')).toBe('unsupported');
    expect(supportFor('amazon.nova-canvas-v1:0', 'DISTILLATION', 'us-east-1')).toBe('unsupported');
    expect(supportFor('qwen.qwen3-32b', 'FINE_TUNING', 'us-west-2')).toBe('unsupported');
  });

  it('says unsupported for distilling into an Anthropic model: the page withdraws them', () => {
    expect(lookupSupport('anthropic.claude-3-haiku-20240307-v1:0:200k', 'DISTILLATION', 'us-west-2')).toMatchObject({
      support: 'unsupported',
      reason: 'provider-unavailable',
    });
  });

  it('says unknown, not unsupported, for a model the table does not have, a variant it does not write, or no model id', () => {
    expect(lookupSupport('amazon.titan-text-premier-v1:0', 'FINE_TUNING', 'us-east-1')).toMatchObject({ support: 'unknown', reason: 'not-listed' });
    expect(supportFor('cohere.command-text-v14', 'FINE_TUNING', 'us-east-1')).toBe('unknown');
    expect(supportFor(fmArn('mistral.mistral-large-2407-v1:0'), 'FINE_TUNING', 'us-east-1')).toBe('unknown');
    expect(lookupSupport('amazon.nova-micro-v1:0:24k', 'FINE_TUNING', 'us-east-1')).toMatchObject({ support: 'unknown', reason: 'other-variant' });
    expect(supportFor('openai.gpt-oss-20b-1:0', 'REINFORCEMENT_FINE_TUNING', 'us-west-2')).toBe('unknown');
    expect(lookupSupport('arn:aws:bedrock:us-east-1:123456789012:custom-model/abc', 'FINE_TUNING', 'us-east-1')).toMatchObject({ support: 'unknown', reason: 'not-a-model' });
  });

  it('derives each student\'s distillation Regions from the teacher table', () => {
    expect(supportFor('amazon.nova-lite-v1:0:300k', 'DISTILLATION', 'us-east-1')).toBe('supported');
    expect(supportFor('amazon.nova-pro-v1:0:300k', 'DISTILLATION', 'us-east-1')).toBe('supported');
    expect(supportFor('meta.llama3-2-3b-instruct-v1:0:128k', 'DISTILLATION', 'us-west-2')).toBe('supported');
    expect(supportFor('meta.llama3-2-3b-instruct-v1:0:128k', 'DISTILLATION', 'us-east-1')).toBe('unsupported');
    // Llama 3.2 11B is fine-tunable but no teacher lists it as a student.
    expect(supportFor('meta.llama3-2-11b-instruct-v1:0:128k', 'DISTILLATION', 'us-west-2')).toBe('unsupported');
  });
});

describe('the table as data', () => {
  it('names an AWS page for every row, and only the customization types Bedrock has', () => {
    for (const model of MODEL_SUPPORT.values()) {
      for (const [type, row] of Object.entries(model.support)) {
        expect(CUSTOMIZATION_TYPES).toContain(type);
        expect(row.source.url).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
        expect(row.regions.length).toBeGreaterThan(0);
        expect(row.documentedId.startsWith(model.modelId)).toBe(true);
      }
    }
  });

  it('every distillation student is a model of the table', () => {
    for (const teacher of DISTILLATION_TEACHERS) for (const student of teacher.students) expect(MODEL_SUPPORT.has(student.modelId)).toBe(true);
  });

  it('lists models and Regions per type for the remedies', () => {
    expect(modelsSupporting('REINFORCEMENT_FINE_TUNING', 'us-east-1')).toEqual(['amazon.nova-2-lite-v1:0:256k']);
    expect(modelsSupporting('REINFORCEMENT_FINE_TUNING', 'us-west-2').sort()).toEqual(['openai.gpt-oss-20b', 'qwen.qwen3-32b']);
    expect(modelsSupporting('CONTINUED_PRE_TRAINING', 'eu-west-1')).toEqual([]);
    expect(regionsSupporting('CONTINUED_PRE_TRAINING')).toEqual(['us-east-1', 'us-west-2']);
    expect(teachersFor('amazon.nova-pro-v1:0:300k', 'us-east-1').map((t) => t.documentedId)).toEqual(['amazon.nova-premier-v1:0']);
  });
});

describe('teacherSupportFor', () => {
  it('says supported for a listed pair in its Region, the teacher named as the page allows', () => {
    expect(teacherSupportFor('amazon.nova-pro-v1:0', 'amazon.nova-lite-v1:0:300k', 'us-east-1')).toBe('supported');
    expect(teacherSupportFor('us.amazon.nova-pro-v1:0', 'amazon.nova-micro-v1:0:128k', 'us-east-1')).toBe('supported');
    expect(teacherSupportFor('us.amazon.nova-premier-v1:0', 'amazon.nova-pro-v1:0:300k', 'us-east-1')).toBe('supported');
    expect(
      teacherSupportFor('arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-premier-v1:0', fmArn('amazon.nova-lite-v1:0:300k'), 'us-east-1'),
    ).toBe('supported');
    expect(teacherSupportFor(fmArn('meta.llama3-1-405b-instruct-v1:0', 'us-west-2'), 'meta.llama3-3-70b-instruct-v1:0:128k', 'us-west-2')).toBe('supported');
  });

  it('says unsupported for a student the teacher is not paired with, another Region, or the wrong way of naming it', () => {
    expect(lookupTeacherSupport('amazon.nova-pro-v1:0', 'amazon.nova-pro-v1:0:300k', 'us-east-1')).toMatchObject({ support: 'unsupported', reason: 'student' });
    expect(lookupTeacherSupport('meta.llama3-1-70b-instruct-v1:0', 'meta.llama3-1-8b-instruct-v1:0:128k', 'us-east-1')).toMatchObject({
      support: 'unsupported',
      reason: 'region',
    });
    expect(lookupTeacherSupport('amazon.nova-premier-v1:0', 'amazon.nova-lite-v1:0:300k', 'us-east-1')).toMatchObject({
      support: 'unsupported',
      reason: 'needs-profile',
    });
    expect(lookupTeacherSupport('us.meta.llama3-1-405b-instruct-v1:0', 'meta.llama3-1-8b-instruct-v1:0:128k', 'us-west-2')).toMatchObject({
      support: 'unsupported',
      reason: 'needs-on-demand',
    });
    expect(lookupTeacherSupport('amazon.nova-lite-v1:0', 'amazon.nova-micro-v1:0:128k', 'us-east-1')).toMatchObject({ support: 'unsupported', reason: 'not-a-teacher' });
    expect(lookupTeacherSupport('anthropic.claude-3-5-sonnet-20241022-v2:0', 'anthropic.claude-3-haiku-20240307-v1:0:200k', 'us-west-2')).toMatchObject({
      support: 'unsupported',
      reason: 'provider-unavailable',
    });
  });

  it('says unknown for a teacher the table does not have', () => {
    expect(teacherSupportFor('deepseek.r1-v1:0', 'amazon.nova-lite-v1:0:300k', 'us-east-1')).toBe('unknown');
    expect(teacherSupportFor('arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/x1', 'amazon.nova-lite-v1:0:300k', 'us-east-1')).toBe('unknown');
    expect(teacherSupportFor('amazon.nova-pro-v1:1', 'amazon.nova-lite-v1:0:300k', 'us-east-1')).toBe('unknown');
  });
});

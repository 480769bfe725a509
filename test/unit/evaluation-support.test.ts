/**
 * The evaluation gate's tables (shared/evaluation-support.ts): on-demand deployment support by base
 * model, Region, customization type and customization date, each row with its AWS pages; the judge
 * metrics and their direction; the prompt limit; quality of a score.
 */
import { describe, expect, it } from 'vitest';
import {
  EVALUATION_SOURCES,
  isJudgeMetric,
  JUDGE_METRICS,
  MAX_EVALUATION_PROMPTS,
  ON_DEMAND_DEPLOYMENT_SUPPORT,
  onDemandDeploymentSupport,
  qualityOf,
} from '../../functions/shared/evaluation-support.js';
import { parseModelIdentifier as fromValidateNetwork } from '../../functions/validate-network/customization-support.js';
import { behindGeographyPrefix, parseModelIdentifier } from '../../functions/shared/model-identifier.js';

describe('onDemandDeploymentSupport', () => {
  it('supports Nova Micro, Lite and Pro in us-east-1 and us-west-2, by fine-tuning, distillation and continued pre-training', () => {
    for (const model of ['amazon.nova-micro-v1:0:128k', 'amazon.nova-lite-v1:0:300k', 'amazon.nova-pro-v1:0:300k', 'amazon.nova-pro-v1:0', 'amazon.nova-lite-v1']) {
      for (const region of ['us-east-1', 'us-west-2']) {
        for (const type of ['FINE_TUNING', 'DISTILLATION', 'CONTINUED_PRE_TRAINING']) {
          expect(onDemandDeploymentSupport(model, region, type).supported, `${model} ${region} ${type}`).toBe(true);
        }
      }
    }
    expect(onDemandDeploymentSupport('arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-micro-v1:0:128k', 'us-west-2', 'FINE_TUNING').supported).toBe(true);
  });

  it('refuses with the reason: another model, Region, type, variant, form, or a model customized too early', () => {
    const reason = (...args: Parameters<typeof onDemandDeploymentSupport>) => {
      const answer = onDemandDeploymentSupport(...args);
      if (answer.supported) throw new Error(`expected unsupported: ${args.join(' ')}`);
      return answer.reason;
    };
    expect(reason('amazon.titan-text-express-v1', 'us-east-1', 'FINE_TUNING')).toMatch(/^amazon\.titan-text-express-v1 has no documented on-demand deployment .*amazon\.nova-micro-v1, amazon\.nova-lite-v1, amazon\.nova-pro-v1 \(https:\/\/docs\.aws\.amazon\.com\/bedrock\/latest\/userguide\/deploy-custom-model-on-demand\.html\)$/);
    expect(reason('amazon.nova-micro-v1:0:128k', 'eu-west-1', 'FINE_TUNING')).toContain('documented in us-east-1, us-west-2, not eu-west-1');
    expect(reason('amazon.nova-micro-v1:0:128k', 'us-east-1', 'REINFORCEMENT_FINE_TUNING')).toContain('not REINFORCEMENT_FINE_TUNING');
    expect(reason('amazon.nova-micro-v1:0:24k', 'us-east-1', 'FINE_TUNING')).toContain('a variant the on-demand deployment pages do not name');
    expect(reason('us.amazon.nova-micro-v1:0', 'us-east-1', 'FINE_TUNING')).toContain('has no documented on-demand deployment');
    expect(reason('arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-micro-v1:0', 'us-east-1', 'FINE_TUNING')).toContain('not a foundation model id or ARN');
    expect(reason('arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-micro-v1:0:128k/abc', 'us-east-1', 'FINE_TUNING')).toContain('not a foundation model id or ARN');
    expect(reason('amazon.nova-micro-v1:0:128k', 'us-east-1', 'FINE_TUNING', new Date('2025-07-15T23:59:59Z'))).toContain('customized before 2025-07-16');
    expect(onDemandDeploymentSupport('amazon.nova-micro-v1:0:128k', 'us-east-1', 'FINE_TUNING', new Date('2025-07-16T00:00:00Z')).supported).toBe(true);
  });

  it('names its AWS pages on every row', () => {
    for (const row of ON_DEMAND_DEPLOYMENT_SUPPORT) {
      expect(row.sources.map((s) => s.url)).toEqual([
        'https://docs.aws.amazon.com/bedrock/latest/userguide/deploy-custom-model-on-demand.html',
        'https://docs.aws.amazon.com/nova/latest/userguide/custom-fine-tune-odi.html',
        'https://docs.aws.amazon.com/nova/latest/userguide/deploy-custom-model.html',
      ]);
    }
  });
});

describe('judge metrics', () => {
  it('lists the judge metrics of the API, higher better but for the responsible-AI ones, and no programmatic metric', () => {
    expect(Object.entries(JUDGE_METRICS).map(([name, m]) => [name, m.higherIsBetter])).toEqual([
      ['Builtin.Correctness', true],
      ['Builtin.Completeness', true],
      ['Builtin.Faithfulness', true],
      ['Builtin.Helpfulness', true],
      ['Builtin.Coherence', true],
      ['Builtin.Relevance', true],
      ['Builtin.FollowingInstructions', true],
      ['Builtin.ProfessionalStyleAndTone', true],
      ['Builtin.Harmfulness', false],
      ['Builtin.Stereotyping', false],
      ['Builtin.Refusal', false],
    ]);
    for (const programmatic of ['Builtin.Accuracy', 'Builtin.Robustness', 'Builtin.Toxicity', 'toString', '__proto__']) expect(isJudgeMetric(programmatic), programmatic).toBe(false);
    expect(JUDGE_METRICS['Builtin.Correctness'].source).toBe(EVALUATION_SOURCES.judgeMetrics);
  });

  it('qualityOf: the score, or 1 − score where lower is better; refuses an unknown metric or a non-number', () => {
    expect(qualityOf('Builtin.Correctness', 0.8)).toBe(0.8);
    expect(qualityOf('Builtin.Harmfulness', 0.25)).toBe(0.75);
    expect(() => qualityOf('Builtin.Accuracy', 0.5)).toThrow(RangeError);
    expect(() => qualityOf('Builtin.Correctness', Number.NaN)).toThrow(RangeError);
  });

  it('holds an evaluation job to 1,000 prompts', () => {
    expect(MAX_EVALUATION_PROMPTS).toBe(1000);
  });
});

describe('parseModelIdentifier (shared)', () => {
  it('is the one parser validate-network re-exports', () => {
    expect(fromValidateNetwork).toBe(parseModelIdentifier);
    expect(parseModelIdentifier('amazon.nova-micro-v1:0:128k')).toEqual({ id: 'amazon.nova-micro-v1', suffix: ':0:128k', form: 'model-id' });
  });

  it('behindGeographyPrefix: the model of a system inference profile id, none for a model id', () => {
    expect(behindGeographyPrefix('us.amazon.nova-pro-v1')).toBe('amazon.nova-pro-v1');
    expect(behindGeographyPrefix('global.anthropic.claude-sonnet-4-v1')).toBe('anthropic.claude-sonnet-4-v1');
    expect(behindGeographyPrefix('amazon.nova-pro-v1')).toBeUndefined();
  });
});

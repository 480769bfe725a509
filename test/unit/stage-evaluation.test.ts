/**
 * The evaluation gate's stage params (evaluationGate … rejectedDeployments): parsed with their defaults,
 * each malformed value named, and the checks across params (a bucket of its own, datasets in it, lists
 * non-empty unless the gate is off, a cost cap only with prices).
 */
import { describe, expect, it } from 'vitest';
import { StageConfigError } from '../../functions/shared/errors.js';
import { inferencePriceFor, loadStage, stageEnv, STAGE_PARAMS, type StageParamName } from '../../functions/shared/stage.js';
import { evaluationStageParams } from '../fixtures/evaluation.js';
import { TEST_ACCOUNT_ID, TEST_STAGE_PARAMS, type StageParams } from '../fixtures/stage.js';

const source = (params: StageParams) => ({ AWS_REGION: 'us-east-1', ...stageEnv({ ...TEST_STAGE_PARAMS, ...params }, { accountId: TEST_ACCOUNT_ID }) });

function problemsOf(params: StageParams): string[] {
  try {
    loadStage(source(params));
  } catch (err) {
    expect(err).toBeInstanceOf(StageConfigError);
    return (err as StageConfigError).problems;
  }
  throw new Error('expected StageConfigError');
}

describe('evaluation stage params', () => {
  it('pass in the environment variables of the contract table', () => {
    const expected: Partial<Record<StageParamName, string>> = {
      evaluationGate: 'STAGE_EVALUATION_GATE',
      evaluationBucket: 'STAGE_EVALUATION_BUCKET',
      evaluationDatasets: 'STAGE_EVALUATION_DATASETS',
      evaluationMetrics: 'STAGE_EVALUATION_METRICS',
      evaluationJudgeModels: 'STAGE_EVALUATION_JUDGE_MODELS',
      evaluationMaxPrompts: 'STAGE_EVALUATION_MAX_PROMPTS',
      inferenceTokenPricesUsdPer1k: 'STAGE_INFERENCE_TOKEN_PRICES_USD_PER_1K',
      maxEvaluationCostUsd: 'STAGE_MAX_EVALUATION_COST_USD',
      rejectedDeployments: 'STAGE_REJECTED_DEPLOYMENTS',
    };
    for (const [name, env] of Object.entries(expected)) expect(STAGE_PARAMS[name as StageParamName], name).toBe(env);
  });

  it('default to the gate off: no bucket, empty lists, 100 prompts, report', () => {
    expect(loadStage(source({})).evaluation).toEqual({ gate: 'off', datasets: {}, metrics: [], judgeModels: [], maxPrompts: 100, rejectedDeployments: 'report' });
  });

  it('parse a gate allow stage: datasets by name, metrics, judges, prompts, prices, cap, janitor setting', () => {
    const stage = loadStage(source({ ...evaluationStageParams, evaluationMaxPrompts: '250', rejectedDeployments: 'delete', evaluationDatasets: ' held-out = s3://demo-evaluation/held-out/qa.jsonl , b_2.x=s3://demo-evaluation/b.jsonl' }));
    expect(stage.evaluation).toEqual({
      gate: 'allow',
      bucket: 'demo-evaluation',
      datasets: { 'held-out': 's3://demo-evaluation/held-out/qa.jsonl', 'b_2.x': 's3://demo-evaluation/b.jsonl' },
      metrics: ['Builtin.Correctness', 'Builtin.Completeness'],
      judgeModels: ['amazon.nova-pro-v1:0'],
      maxPrompts: 250,
      inferencePricesUsdPer1k: { 'amazon.nova-micro-v1:0': 0.00014, 'amazon.nova-pro-v1:0': 0.0032 },
      maxCostUsd: 5,
      rejectedDeployments: 'delete',
    });
  });

  it('name each malformed value by its param (and item)', () => {
    const cases: [StageParams, RegExp][] = [
      [{ evaluationGate: 'on' }, /^stage param evaluationGate \(STAGE_EVALUATION_GATE\)/],
      [{ evaluationBucket: 'Not_A_Bucket' }, /^stage param evaluationBucket \(STAGE_EVALUATION_BUCKET\): must be an S3 bucket name/],
      [{ evaluationDatasets: 'no-equals-sign' }, /^stage param evaluationDatasets \(STAGE_EVALUATION_DATASETS\)\[0\]: each must be <name>=/],
      [{ evaluationDatasets: 'ok=s3://demo-evaluation/a.jsonl,bad name=s3://demo-evaluation/b.jsonl' }, /evaluationDatasets \(STAGE_EVALUATION_DATASETS\)\[1\]: .*name: 1 to 63/],
      [{ evaluationDatasets: `${'n'.repeat(64)}=s3://demo-evaluation/b.jsonl` }, /\[0\]: .*name: 1 to 63/],
      [{ evaluationDatasets: 'a=s3://demo-evaluation/b.json' }, /\[0\]: .*ends in \.jsonl/],
      [{ evaluationDatasets: 'a=https://demo-evaluation/b.jsonl' }, /\[0\]: .*an s3:\/\/ URI/],
      [{ evaluationDatasets: 'a=s3://demo-evaluation/a.jsonl,a=s3://demo-evaluation/b.jsonl' }, /\[1\]: must not name a dataset twice/],
      [{ evaluationMetrics: 'Builtin.Correctness,Builtin.Accuracy' }, /^stage param evaluationMetrics \(STAGE_EVALUATION_METRICS\)\[1\]: each must be a judge metric/],
      [{ evaluationMetrics: 'Correctness' }, /evaluationMetrics .*\[0\]: each must be a judge metric/],
      [{ evaluationJudgeModels: 'arn:aws:bedrock:us-east-1:123456789012:custom-model/x' }, /^stage param evaluationJudgeModels \(STAGE_EVALUATION_JUDGE_MODELS\)\[0\]/],
      [{ evaluationMaxPrompts: '1001' }, /^stage param evaluationMaxPrompts \(STAGE_EVALUATION_MAX_PROMPTS\): must be at most 1000/],
      [{ evaluationMaxPrompts: '0' }, /evaluationMaxPrompts .*: must be at least 1/],
      [{ evaluationMaxPrompts: '2.5' }, /evaluationMaxPrompts .*: must be a whole number/],
      [{ inferenceTokenPricesUsdPer1k: 'amazon.nova-pro-v1:0=free' }, /^stage param inferenceTokenPricesUsdPer1k \(STAGE_INFERENCE_TOKEN_PRICES_USD_PER_1K\)\[0\]: each must be <model id>=/],
      [{ inferenceTokenPricesUsdPer1k: 'amazon.nova-pro-v1:0=1,amazon.nova-pro-v1:0=2' }, /inferenceTokenPricesUsdPer1k .*\[1\]: must not price a model twice/],
      [{ maxEvaluationCostUsd: '-1' }, /^stage param maxEvaluationCostUsd \(STAGE_MAX_EVALUATION_COST_USD\)/],
      [{ rejectedDeployments: 'purge' }, /^stage param rejectedDeployments \(STAGE_REJECTED_DEPLOYMENTS\)/],
    ];
    for (const [params, problem] of cases) {
      const problems = problemsOf({ ...evaluationStageParams, ...params });
      expect(problems.some((p) => problem.test(p)), `${JSON.stringify(params)} → ${problems.join(' | ')}`).toBe(true);
    }
  });

  it('refuse an evaluation bucket that is the output, training, an extra or an invocation-log bucket', () => {
    const extras = { extraBuckets: 'extra-bucket', invocationLogBuckets: 'log-bucket' };
    const cases: [string, string, string][] = [
      ['output-bucket', 'the output bucket', 'outputBucket'],
      ['training-bucket', 'the training bucket', 'trainingBucket'],
      ['extra-bucket', 'an extra bucket', 'extraBuckets'],
      ['log-bucket', 'an invocation-log bucket', 'invocationLogBuckets'],
    ];
    for (const [bucket, what, param] of cases) {
      const problems = problemsOf({ ...evaluationStageParams, ...extras, evaluationBucket: bucket, evaluationDatasets: `d=s3://${bucket}/d.jsonl` });
      expect(problems, bucket).toContain(
        `stage param evaluationBucket (STAGE_EVALUATION_BUCKET): must not be ${bucket}, ${what} (param ${param}): the evaluation bucket is a bucket of its own, never given the VPC-only Deny`,
      );
    }
  });

  it('refuse a dataset outside the evaluation bucket, or datasets without one', () => {
    expect(problemsOf({ ...evaluationStageParams, evaluationDatasets: 'held-out=s3://training-bucket/held-out.jsonl' })).toEqual([
      'stage param evaluationDatasets (STAGE_EVALUATION_DATASETS)[held-out]: must be in the evaluation bucket (s3://demo-evaluation/)',
    ]);
    expect(problemsOf({ evaluationDatasets: 'held-out=s3://demo-evaluation/held-out.jsonl' })).toEqual([
      'stage param evaluationDatasets (STAGE_EVALUATION_DATASETS)[held-out]: must be in the evaluation bucket (stage param evaluationBucket (STAGE_EVALUATION_BUCKET) is not set)',
    ]);
  });

  it('need a bucket, a dataset, a metric and a judge unless the gate is off', () => {
    for (const gate of ['allow', 'require']) {
      expect(problemsOf({ evaluationGate: gate })).toEqual([
        `stage param evaluationBucket (STAGE_EVALUATION_BUCKET): is required while stage param evaluationGate (STAGE_EVALUATION_GATE) is ${gate}`,
        `stage param evaluationDatasets (STAGE_EVALUATION_DATASETS): needs at least one value while stage param evaluationGate (STAGE_EVALUATION_GATE) is ${gate}`,
        `stage param evaluationMetrics (STAGE_EVALUATION_METRICS): needs at least one value while stage param evaluationGate (STAGE_EVALUATION_GATE) is ${gate}`,
        `stage param evaluationJudgeModels (STAGE_EVALUATION_JUDGE_MODELS): needs at least one value while stage param evaluationGate (STAGE_EVALUATION_GATE) is ${gate}`,
      ]);
    }
    // Off: the lists may stay empty, and a stage may prepare them before turning the gate on.
    expect(loadStage(source({ ...evaluationStageParams, evaluationGate: 'off' })).evaluation.gate).toBe('off');
  });

  it('refuse a cost cap without inference prices', () => {
    const { inferenceTokenPricesUsdPer1k: _, ...unpriced } = evaluationStageParams;
    expect(problemsOf(unpriced)).toEqual([
      "stage param maxEvaluationCostUsd (STAGE_MAX_EVALUATION_COST_USD): needs stage param inferenceTokenPricesUsdPer1k (STAGE_INFERENCE_TOKEN_PRICES_USD_PER_1K) to estimate a gate's cost",
    ]);
  });
});

describe('inferencePriceFor', () => {
  const evaluation = { inferencePricesUsdPer1k: { 'amazon.nova-micro-v1:0': 0.00014, 'amazon.nova-pro-v1': 0.0032, 'us.amazon.nova-lite-v1:0': 0.0003 } };

  it('prices a model by its id, else the longest listed id it extends by a ":" suffix', () => {
    expect(inferencePriceFor(evaluation, 'amazon.nova-micro-v1:0')).toEqual({ usdPer1kTokens: 0.00014, pricedAs: 'amazon.nova-micro-v1:0' });
    expect(inferencePriceFor(evaluation, 'amazon.nova-micro-v1:0:128k')).toEqual({ usdPer1kTokens: 0.00014, pricedAs: 'amazon.nova-micro-v1:0' });
    expect(inferencePriceFor(evaluation, 'amazon.nova-pro-v1:0')).toEqual({ usdPer1kTokens: 0.0032, pricedAs: 'amazon.nova-pro-v1' });
    expect(inferencePriceFor(evaluation, 'amazon.nova-micro-v1')).toBeUndefined();
    expect(inferencePriceFor(evaluation, 'amazon.nova-micro-v10:0')).toBeUndefined();
  });

  it('reads an ARN by the id it names; a system inference profile as itself, else as the model behind its prefix', () => {
    expect(inferencePriceFor(evaluation, 'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k')?.pricedAs).toBe('amazon.nova-micro-v1:0');
    expect(inferencePriceFor(evaluation, 'us.amazon.nova-pro-v1:0')?.pricedAs).toBe('amazon.nova-pro-v1');
    expect(inferencePriceFor(evaluation, 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.amazon.nova-pro-v1:0')?.pricedAs).toBe('amazon.nova-pro-v1');
    expect(inferencePriceFor(evaluation, 'us.amazon.nova-lite-v1:0')?.pricedAs).toBe('us.amazon.nova-lite-v1:0');
    expect(inferencePriceFor(evaluation, 'amazon.nova-lite-v1:0')).toBeUndefined();
    expect(inferencePriceFor({}, 'amazon.nova-micro-v1:0')).toBeUndefined();
    expect(inferencePriceFor(evaluation, 'arn:aws:bedrock:us-east-1:123456789012:custom-model/x')).toBeUndefined();
  });
});

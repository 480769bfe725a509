/**
 * The job input's `evaluation` (the evaluation gate): resolved within the stage to `$.job.evaluation`
 * (the dataset's URI, defaults, the stage's caps, the output prefix), and every refusal before any AWS
 * call with its field named: the gate off or required, a dataset, metric or judge outside the stage's,
 * bounds, a cost cap that cannot be held; a resolved job re-checked (apply-policies) as well.
 */
import { describe, expect, it } from 'vitest';
import { issuesOf } from '../support/input-issues.js';
import { checkJobInputShape, evaluationKeySegment, evaluationOutputS3Uri, jobInputSchema, resolveJobInput, stageViolations } from '../../functions/shared/job-input.js';
import { EVALUATION_BUCKET, evaluationJobInput, evaluationStageParams, HELD_OUT_DATASET, JUDGE_MODEL, rawEvaluation, resolvedEvaluationJob } from '../fixtures/evaluation.js';
import { EXECUTION, rawJob, resolveCovered } from '../fixtures/job.js';
import { coveringParams, testStage, type StageParams } from '../fixtures/stage.js';
import * as z from 'zod/mini';

const resolveWith = (evaluation: Record<string, unknown> | null, stage: StageParams = {}, overrides: Record<string, unknown> = {}) =>
  resolveCovered(evaluationJobInput(evaluation, overrides), { ...evaluationStageParams, ...stage });
const issuesWith = (evaluation: Record<string, unknown> | null, stage: StageParams = {}, overrides: Record<string, unknown> = {}) =>
  issuesOf(() => resolveWith(evaluation, stage, overrides));

describe('evaluation: resolved', () => {
  it('resolves the dataset to its URI, fills the defaults, takes the stage cap and writes under evaluations/<jobName>/', () => {
    const job = resolvedEvaluationJob();
    expect(job.evaluation).toEqual({
      dataset: { name: HELD_OUT_DATASET.name, s3Uri: HELD_OUT_DATASET.s3Uri },
      metrics: ['Builtin.Correctness', 'Builtin.Completeness'],
      judgeModelIdentifier: JUDGE_MODEL,
      taskType: 'Generation',
      thresholds: { minScore: 0.5, minGainOverBase: 0 },
      maxPrompts: 100,
      inference: { maxTokens: 512, temperature: 0 },
      maxCostUsd: 5,
      maxDurationSeconds: 6 * 3600,
      outputS3Uri: `s3://${EVALUATION_BUCKET}/evaluations/${job.jobName}/`,
    });
    // `$.job` travels through every state: the resolved job parses as itself.
    expect(z.parse(jobInputSchema, job)).toEqual(job);
  });

  it("keeps what the job sets within the stage's bounds", () => {
    const job = resolvedEvaluationJob(
      rawEvaluation({
        metrics: ['Builtin.Completeness'],
        taskType: 'QuestionAndAnswer',
        thresholds: { minGainOverBase: -0.05 },
        maxPrompts: 40,
        inference: { maxTokens: 1024, temperature: 0.2 },
        maxCostUsd: 2.5,
        maxDurationSeconds: 3600,
      }),
      { jobName: 'my-job' },
    );
    expect(job.evaluation).toMatchObject({
      metrics: ['Builtin.Completeness'],
      taskType: 'QuestionAndAnswer',
      thresholds: { minGainOverBase: -0.05 },
      maxPrompts: 40,
      inference: { maxTokens: 1024, temperature: 0.2 },
      maxCostUsd: 2.5,
      maxDurationSeconds: 3600,
      outputS3Uri: `s3://${EVALUATION_BUCKET}/evaluations/my-job/`,
    });
    expect(job.evaluation.thresholds).not.toHaveProperty('minScore');
  });

  it('leaves evaluation out of a job that does not ask for it, gate allow or off', () => {
    expect(resolveWith(null)).not.toHaveProperty('evaluation');
    expect(resolveCovered(rawJob())).not.toHaveProperty('evaluation');
  });

  it('has no cost cap when neither the job nor the stage sets one', () => {
    const job = resolveWith(rawEvaluation(), { maxEvaluationCostUsd: '' });
    expect(job.evaluation).not.toHaveProperty('maxCostUsd');
  });
});

describe('evaluation: refused with its field', () => {
  it('while the stage gate is off', () => {
    expect(issuesWith(rawEvaluation(), { evaluationGate: 'off' })).toEqual([
      { field: 'evaluation', message: "must be left out: the stage's evaluationGate is off (param evaluationGate)" },
    ]);
    // A stage with no gate params at all (the default).
    expect(issuesOf(() => resolveCovered(rawJob({ evaluation: rawEvaluation() })))).toEqual([
      { field: 'evaluation', message: "must be left out: the stage's evaluationGate is off (param evaluationGate)" },
    ]);
  });

  it('when missing while the stage gate is require', () => {
    expect(issuesWith(null, { evaluationGate: 'require' })).toEqual([
      { field: 'evaluation', message: "is required: the stage's evaluationGate is require (param evaluationGate)" },
    ]);
    expect(resolveWith(rawEvaluation(), { evaluationGate: 'require' }).evaluation?.dataset.name).toBe('held-out');
  });

  it("naming a dataset, metric or judge model outside the stage's", () => {
    expect(issuesWith(rawEvaluation({ dataset: 'other' }))).toEqual([
      { field: 'evaluation.dataset', message: "must be one of the stage's evaluation datasets (param evaluationDatasets): held-out" },
    ]);
    expect(issuesWith(rawEvaluation({ metrics: ['Builtin.Correctness', 'Builtin.Helpfulness'] }))).toEqual([
      { field: 'evaluation.metrics[1]', message: "must be one of the stage's evaluation metrics (param evaluationMetrics): Builtin.Correctness, Builtin.Completeness" },
    ]);
    expect(issuesWith(rawEvaluation({ judgeModelIdentifier: 'anthropic.claude-3-5-sonnet-20240620-v1:0' }))).toEqual([
      expect.objectContaining({ field: 'evaluation.judgeModelIdentifier', message: "must be one of the stage's judge models (param evaluationJudgeModels): amazon.nova-pro-v1:0" }),
      // The stage caps the gate's cost and prices no such judge.
      expect.objectContaining({ field: 'evaluation.judgeModelIdentifier', message: expect.stringContaining('has no inference price') }),
    ]);
  });

  it('past the bounds of the shape (no stage needed)', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ dataset: 'bad name' }, 'evaluation.dataset'],
      [{ metrics: [] }, 'evaluation.metrics'],
      [{ metrics: ['Builtin.Correctness', 'Builtin.Correctness'] }, 'evaluation.metrics'],
      [{ metrics: ['Builtin.Accuracy'] }, 'evaluation.metrics[0]'],
      [{ metrics: Array.from({ length: 11 }, () => 'Builtin.Correctness') }, 'evaluation.metrics'],
      [{ judgeModelIdentifier: 'arn:aws:bedrock:us-east-1:123456789012:custom-model/abc' }, 'evaluation.judgeModelIdentifier'],
      [{ taskType: 'General' }, 'evaluation.taskType'],
      [{ thresholds: { minScore: 1.5 } }, 'evaluation.thresholds.minScore'],
      [{ thresholds: { minGainOverBase: -2 } }, 'evaluation.thresholds.minGainOverBase'],
      [{ thresholds: { other: 1 } }, 'evaluation.thresholds'],
      [{ maxPrompts: 1001 }, 'evaluation.maxPrompts'],
      [{ maxPrompts: 0 }, 'evaluation.maxPrompts'],
      [{ inference: { maxTokens: 8193 } }, 'evaluation.inference.maxTokens'],
      [{ inference: { temperature: 1.5 } }, 'evaluation.inference.temperature'],
      [{ maxCostUsd: 0 }, 'evaluation.maxCostUsd'],
      [{ maxDurationSeconds: 599 }, 'evaluation.maxDurationSeconds'],
      [{ maxDurationSeconds: 7 * 24 * 3600 + 1 }, 'evaluation.maxDurationSeconds'],
      [{ outputS3Uri: 's3://elsewhere/x/' }, 'evaluation'],
    ];
    for (const [change, field] of cases) {
      const input = evaluationJobInput(rawEvaluation(change));
      const fields = issuesOf(() => checkJobInputShape(input)).map((i) => i.field);
      expect(fields, JSON.stringify(change)).toContain(field);
      expect(issuesOf(() => resolveWith(rawEvaluation(change))).map((i) => i.field), JSON.stringify(change)).toContain(field);
    }
  });

  it("asking for more prompts or cost than the stage's", () => {
    expect(issuesWith(rawEvaluation({ maxPrompts: 101 }))).toEqual([{ field: 'evaluation.maxPrompts', message: 'must be at most 100 (param evaluationMaxPrompts)' }]);
    expect(issuesWith(rawEvaluation({ maxCostUsd: 5.01 }))).toEqual([{ field: 'evaluation.maxCostUsd', message: 'must be at most 5 (param maxEvaluationCostUsd)' }]);
  });

  it('with a cost cap the stage cannot price (the custom model is priced as its base)', () => {
    // The stage caps every gate: a base model it does not price cannot be held to the cap.
    expect(issuesWith(rawEvaluation(), {}, { baseModelIdentifier: 'amazon.nova-lite-v1:0:300k' })).toEqual([
      { field: 'baseModelIdentifier', message: expect.stringMatching(/^has no inference price, so the stage's evaluation cost cap .* the base model needs one \(param inferenceTokenPricesUsdPer1k\)$/) },
    ]);
    // No stage cap: a job's own cap needs both prices; without a cap an unpriced model is fine.
    const noCap = { maxEvaluationCostUsd: '', inferenceTokenPricesUsdPer1k: `${JUDGE_MODEL}=0.0032` };
    expect(issuesWith(rawEvaluation({ maxCostUsd: 1 }), noCap)).toEqual([
      { field: 'evaluation.maxCostUsd', message: 'needs inference prices to estimate the cost: the stage sets none for the base model (param inferenceTokenPricesUsdPer1k)' },
    ]);
    expect(resolveWith(rawEvaluation(), noCap).evaluation).not.toHaveProperty('maxCostUsd');
  });

  it('refuses hostile shapes: an over-long identifier, a prototype key, a wrong type', () => {
    const long = 'a.'.repeat(60_000);
    const started = performance.now();
    expect(issuesWith(rawEvaluation({ judgeModelIdentifier: long })).map((i) => i.field)).toContain('evaluation.judgeModelIdentifier');
    expect(performance.now() - started).toBeLessThan(1000);
    const proto = JSON.parse('{"dataset":"held-out","metrics":["Builtin.Correctness"],"judgeModelIdentifier":"amazon.nova-pro-v1:0","__proto__":{"maxPrompts":1000}}');
    expect(issuesWith(proto).map((i) => i.field)).toEqual(['evaluation']);
    expect(new Set(issuesWith(rawEvaluation({ metrics: 'Builtin.Correctness' })).map((i) => i.field))).toEqual(new Set(['evaluation.metrics']));
    expect(issuesOf(() => resolveCovered(evaluationJobInput(null, { evaluation: [] }), evaluationStageParams)).map((i) => i.field)).toEqual(['evaluation']);
  });

  it('names no record content: messages carry only stage values and limits', () => {
    const secret = 'ZZsecretZZ';
    const messages = issuesWith(rawEvaluation({ dataset: secret })).map((i) => i.message).join(' ');
    expect(messages).not.toContain(secret);
  });
});

describe('evaluation: a resolved job re-checked against the stage (apply-policies)', () => {
  const stage = () => testStage(coveringParams(evaluationJobInput(), evaluationStageParams));

  it('passes as resolved', () => {
    expect(stageViolations(resolvedEvaluationJob(), stage())).toEqual([]);
  });

  it('refuses a forged dataset URI or output prefix', () => {
    const job = resolvedEvaluationJob();
    expect(stageViolations({ ...job, evaluation: { ...job.evaluation, dataset: { name: 'held-out', s3Uri: 's3://demo-evaluation/other.jsonl' } } }, stage())).toEqual([
      { field: 'evaluation.dataset.s3Uri', message: "must be the stage's URI of dataset held-out (param evaluationDatasets)" },
    ]);
    expect(stageViolations({ ...job, evaluation: { ...job.evaluation, outputS3Uri: 's3://demo-evaluation/evaluations/' } }, stage())).toEqual([
      { field: 'evaluation.outputS3Uri', message: `must be s3://demo-evaluation/evaluations/${job.jobName}/ (param evaluationBucket)` },
    ]);
  });

  it('refuses the gate once the stage turned it off', () => {
    const off = testStage(coveringParams(evaluationJobInput(), { ...evaluationStageParams, evaluationGate: 'off' }));
    expect(stageViolations(resolvedEvaluationJob(), off).map((i) => i.field)).toEqual(['evaluation']);
  });

  it('resolves from an execution like any job: the same name, the same output prefix', () => {
    const raw = evaluationJobInput();
    const a = resolveJobInput(raw, stage(), EXECUTION);
    const b = resolveJobInput(raw, stage(), EXECUTION);
    expect(a.evaluation?.outputS3Uri).toBe(b.evaluation?.outputS3Uri);
  });
});

describe('the evaluation folder of a job (evaluationKeySegment)', () => {
  // botocore 1.44.18, bedrock shape S3Uri (CreateEvaluationJob's datasetLocation and outputDataConfig), one key segment.
  const SEGMENT = /^[-!_*'().a-zA-Z0-9]+$/;

  it('is the job name when the S3Uri pattern takes it', () => {
    expect(evaluationKeySegment('bvc-run-1.a_b')).toBe('bvc-run-1.a_b');
    expect(evaluationOutputS3Uri('demo-evaluation', 'bvc-run-1')).toBe('s3://demo-evaluation/evaluations/bvc-run-1/');
  });

  it('turns a `+` (allowed in job names) into a pattern-safe folder that no other job name maps to', () => {
    const plus = evaluationKeySegment('bvc-a+b');
    const dash = evaluationKeySegment('bvc-a-b');
    expect(plus).toMatch(SEGMENT);
    expect(plus.startsWith('bvc-a-b-')).toBe(true);
    expect(plus).not.toBe(dash);
    expect(evaluationKeySegment('bvc-a+b')).toBe(plus);
    expect(evaluationKeySegment('bvc-a+c')).not.toBe(plus);
  });
});

/**
 * The evaluation gate's held-out dataset in the dataset step (validate-dataset/evaluation-dataset.ts):
 * each record a JSON object with a non-empty string `prompt`, optional string `referenceResponse` and
 * `category`, no `modelResponses`, no other key; at most `maxPrompts` records (more: refused, not cut);
 * every refusal names the line and rule, never the content; the gate's cost estimated from the records
 * and held to the cap before anything is spent; the report's `evaluation`.
 */
import { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { estimateEvaluationCost, evaluationPricesFor } from '../../functions/shared/evaluation-cost.js';
import { checkEvaluation, readEvaluationDataset } from '../../functions/validate-dataset/evaluation-dataset.js';
import { heldOutRecordProblems } from '../../functions/shared/held-out-dataset.js';
import { validateDataset } from '../../functions/validate-dataset/validate-dataset.js';
import { EVALUATION_BUCKET, HELD_OUT_DATASET, NOVA_MICRO, evaluationStageParams, resolvedEvaluationJob } from '../fixtures/evaluation.js';
import { testStage } from '../fixtures/stage.js';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const URI = HELD_OUT_DATASET.s3Uri;
const deps = { s3: s3 as never, remainingMs: () => 600_000 };
/** A secret-looking text: it must never reach an error message. */
const SECRET = 'patient 4711 diagnosis confidential';
const jsonl = (lines: unknown[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');
const record = (i: number, extra: Record<string, unknown> = {}) => ({ prompt: `Question ${i}: what is ${i} + ${i}?`, referenceResponse: `${2 * i}`, ...extra });

function serve(objects: Record<string, string>, chunkBytes = 11) {
  s3.on(GetObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
    const uri = `s3://${input.Bucket}/${input.Key}`;
    if (!(uri in objects)) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    const bytes = Buffer.from(objects[uri]!);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += chunkBytes) chunks.push(bytes.subarray(i, i + chunkBytes));
    return { ContentLength: bytes.length, ETag: '"held-out-etag"', VersionId: 'v1', Body: Readable.from(chunks) as never };
  });
}

const refusal = async (lines: unknown[], maxPrompts = 100) => {
  serve({ [URI]: jsonl(lines) });
  const error = await readEvaluationDataset(URI, maxPrompts, deps).catch((e: Error) => e);
  expect(error).toMatchObject({ name: 'EvaluationDatasetError' });
  return (error as Error).message;
};

describe('heldOutRecordProblems', () => {
  it('takes a prompt alone, or with a reference response and a category', () => {
    expect(heldOutRecordProblems({ prompt: 'p' })).toEqual([]);
    expect(heldOutRecordProblems({ prompt: 'p', referenceResponse: 'r', category: 'c' })).toEqual([]);
  });

  it.each([
    [{}, 'prompt.required'],
    [{ prompt: 3 }, 'prompt.required'],
    [{ prompt: '  ' }, 'prompt.empty'],
    [{ prompt: 'p', referenceResponse: 7 }, 'referenceResponse.type'],
    [{ prompt: 'p', referenceResponse: '' }, 'referenceResponse.empty'],
    [{ prompt: 'p', category: ['a'] }, 'category.type'],
    [{ prompt: 'p', modelResponses: [{ response: 'r', modelIdentifier: 'custom-model' }] }, 'modelResponses.forbidden'],
    [{ prompt: 'p', [SECRET]: 'x' }, 'record.unknown-key'],
    [[{ prompt: 'p' }], 'record.object'],
  ])('refuses %j by rule %s', (value, rule) => {
    const problems = heldOutRecordProblems(value);
    expect(problems.map((p) => p.rule)).toEqual([rule]);
    expect(JSON.stringify(problems)).not.toContain(SECRET);
  });
});

describe('readEvaluationDataset', () => {
  it('counts the prompts, their characters and the reference responses, and pins the version read', async () => {
    const lines = [record(1), { prompt: 'no reference here' }, record(3, { category: 'math' })];
    serve({ [URI]: jsonl(lines) });
    const { stats, object } = await readEvaluationDataset(URI, 100, deps);
    const withReference = lines.filter((l) => 'referenceResponse' in l) as { referenceResponse: string }[];
    expect(stats).toEqual({
      prompts: lines.length,
      promptChars: lines.reduce((n, l) => n + l.prompt.length, 0),
      referenceChars: withReference.reduce((n, l) => n + l.referenceResponse.length, 0),
      withReference: withReference.length,
    });
    expect(object).toEqual({ uri: URI, etag: '"held-out-etag"', versionId: 'v1', bytes: Buffer.byteLength(jsonl(lines)) });
  });

  it('names the line and rule of each bad record, never its content', async () => {
    const message = await refusal([record(1), { prompt: SECRET, modelResponses: [] }, `{"prompt": "${SECRET}"`, { prompt: '', referenceResponse: SECRET }]);
    expect(message).toContain('line 2, modelResponses [modelResponses.forbidden]');
    expect(message).toContain('line 3, (line) [jsonl.invalid-json]');
    expect(message).toContain('line 4, prompt [prompt.empty]');
    expect(message).not.toContain(SECRET);
  });

  it('refuses more records than maxPrompts, naming the count (not cut to the first ones)', async () => {
    const message = await refusal(Array.from({ length: 5 }, (_, i) => record(i)), 3);
    expect(message).toContain('records.max');
    expect(message).toContain('5 records');
    expect(message).toContain('at most 3');
  });

  it('refuses an empty dataset and a key that is not .jsonl', async () => {
    expect(await refusal([])).toContain('records.min');
    const other = `s3://${EVALUATION_BUCKET}/held-out/qa.json`;
    serve({ [other]: jsonl([record(1)]) });
    const error = await readEvaluationDataset(other, 100, deps).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'EvaluationDatasetError', message: expect.stringContaining('file.extension') });
  });

  it("refuses an object S3 will not give, naming the object, the call and S3's code, not S3's message", async () => {
    serve({});
    const error = await readEvaluationDataset(URI, 100, deps).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'EvaluationDatasetError', message: expect.stringContaining(`${URI} (evaluation dataset): GetObject answered HTTP 404, NoSuchKey`) });
    expect((error as Error).message).not.toContain('does not exist');
  });

  it('refuses a dataset it could not read whole in time (the estimate needs every record)', async () => {
    serve({ [URI]: jsonl(Array.from({ length: 10 }, (_, i) => record(i))) });
    const error = await readEvaluationDataset(URI, 100, { ...deps, remainingMs: () => 1_000 }).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'EvaluationDatasetError', message: expect.stringContaining('not read whole') });
  });
});

describe('checkEvaluation: the estimate and the budget, before anything is spent', () => {
  const lines = Array.from({ length: 20 }, (_, i) => record(i));
  const prices = { inferencePricesUsdPer1k: { 'amazon.nova-micro-v1:0': 0.00014, 'amazon.nova-pro-v1:0': 0.0032 } };
  const evaluation = (extra: Record<string, unknown> = {}) => ({
    dataset: HELD_OUT_DATASET,
    metrics: ['Builtin.Correctness', 'Builtin.Completeness'],
    judgeModelIdentifier: 'amazon.nova-pro-v1:0',
    maxPrompts: 100,
    inference: { maxTokens: 512, temperature: 0 },
    ...extra,
  });
  const expected = () =>
    estimateEvaluationCost(
      {
        prompts: lines.length,
        promptChars: lines.reduce((n, l) => n + l.prompt.length, 0),
        referenceChars: lines.reduce((n, l) => n + l.referenceResponse.length, 0),
        metrics: 2,
        maxTokens: 512,
      },
      evaluationPricesFor(prices, NOVA_MICRO, 'amazon.nova-pro-v1:0'),
    );

  it('reports the prompts, the estimate from the records and the prices used', async () => {
    serve({ [URI]: jsonl(lines) });
    const report = await checkEvaluation(evaluation(), NOVA_MICRO, prices, deps);
    expect(report).toMatchObject({ dataset: HELD_OUT_DATASET.name, prompts: lines.length, withReference: lines.length, estimate: { ...expected(), prompts: lines.length } });
    expect(report.budget).toMatchObject({ basePricedAs: 'amazon.nova-micro-v1:0', judgePricedAs: 'amazon.nova-pro-v1:0' });
  });

  it('refuses an estimate over the cap (the tighter of the job\'s and the stage\'s) with EvaluationBudgetExceededError', async () => {
    serve({ [URI]: jsonl(lines) });
    const usd = expected().usd!;
    const under = Math.floor(usd * 100 - 1) / 100;
    await expect(checkEvaluation(evaluation({ maxCostUsd: under }), NOVA_MICRO, prices, deps)).rejects.toMatchObject({ name: 'EvaluationBudgetExceededError' });
    serve({ [URI]: jsonl(lines) });
    await expect(checkEvaluation(evaluation({ maxCostUsd: usd + 1 }), NOVA_MICRO, { ...prices, maxCostUsd: under }, deps)).rejects.toMatchObject({ name: 'EvaluationBudgetExceededError' });
    serve({ [URI]: jsonl(lines) });
    await expect(checkEvaluation(evaluation({ maxCostUsd: usd }), NOVA_MICRO, prices, deps)).resolves.toMatchObject({ budget: { maxCostUsd: usd } });
  });

  it('refuses a cap it cannot hold for want of a price', async () => {
    serve({ [URI]: jsonl(lines) });
    const error = await checkEvaluation(evaluation({ maxCostUsd: 100 }), NOVA_MICRO, { inferencePricesUsdPer1k: { 'amazon.nova-micro-v1:0': 0.00014 } }, deps).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'EvaluationBudgetExceededError', message: expect.stringContaining('judge model amazon.nova-pro-v1:0') });
  });
});

describe('validateDataset with an evaluation gate', () => {
  const job = resolvedEvaluationJob();
  const training = Array.from({ length: 10 }, () => ({
    schemaVersion: 'bedrock-conversation-2024',
    messages: [
      { role: 'user', content: [{ text: 'hello' }] },
      { role: 'assistant', content: [{ text: 'hi there' }] },
    ],
  }));

  it('checks the held-out dataset first and adds its report', async () => {
    const held = [record(1), record(2)];
    serve({ [job.evaluation.dataset.s3Uri]: jsonl(held), [job.trainingDataS3Uri!]: jsonl(training), ...Object.fromEntries(job.validationDataS3Uris.map((u) => [u, jsonl(training)])) });
    const report = await validateDataset(job, testStage(evaluationStageParams), deps);
    expect(report.evaluation).toMatchObject({ dataset: job.evaluation.dataset.name, prompts: held.length });
    expect(s3.commandCalls(GetObjectCommand)[0]!.args[0].input).toMatchObject({ Key: job.evaluation.dataset.s3Uri.split('/').slice(3).join('/') });
  });

  it('a bad held-out dataset stops the step before the training data is read', async () => {
    serve({ [job.evaluation.dataset.s3Uri]: jsonl([{ prompt: SECRET, modelResponses: [] }]) });
    await expect(validateDataset(job, { budget: {} }, deps)).rejects.toMatchObject({ name: 'EvaluationDatasetError' });
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(1);
  });

  it('a job without a gate reads no held-out dataset and reports no evaluation', async () => {
    const plain = { ...job, evaluation: undefined };
    serve({ [job.trainingDataS3Uri!]: jsonl(training), ...Object.fromEntries(job.validationDataS3Uris.map((u) => [u, jsonl(training)])) });
    const report = await validateDataset(plain, { budget: {} }, deps);
    expect(report.evaluation).toBeUndefined();
  });
});

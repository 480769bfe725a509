/**
 * The dataset step's logic (validate-network's `action: "dataset"`): records checked per the model's
 * rules, problems named by object, line, field and rule (the first ones in full, then counts), record
 * counts and file sizes, the token estimate × epochs, the budget, "not checked", a read cut short by time.
 */
import { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { datasetRulesFor, estimateTokens } from '../../functions/shared/dataset/formats.js';
import { MAX_DETAILED_PROBLEMS, TIME_MARGIN_MS, effectiveBudget, validateDataset } from '../../functions/validate-network/validate-dataset.js';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const TRAIN = 's3://training-bucket/datasets/support.jsonl';
const VALIDATE = 's3://training-bucket/datasets/support-validation.jsonl';
const TITAN = 'amazon.titan-text-express-v1';

const record = (i: number) => ({ prompt: `Question ${i}: how do I reset my password?`, completion: `Answer ${i}: open Settings, then Security.` });
const jsonl = (lines: unknown[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');

/** S3 answering GetObject with `objects` (uri → text), each body a fresh stream in small chunks. */
function serve(objects: Record<string, string | Buffer>) {
  s3.on(GetObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
    const bytes = Buffer.from(objects[`s3://${input.Bucket}/${input.Key}`] ?? '');
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.subarray(i, i + 7));
    return { ContentLength: bytes.length, Body: Readable.from(chunks) as never };
  });
}

const job = (overrides: Record<string, unknown> = {}) =>
  ({
    baseModelIdentifier: TITAN,
    customizationType: 'FINE_TUNING',
    trainingDataS3Uri: TRAIN,
    validationDataS3Uris: [VALIDATE],
    hyperParameters: { epochCount: '3' },
    budget: {},
    ...overrides,
  }) as never;
const NO_BUDGET = { budget: {} };
const deps = { s3: s3 as never, remainingMs: () => 600_000 };

describe('validateDataset', () => {
  it('a valid dataset passes with its record counts, a token estimate × epochs, and a cost from the stage price', async () => {
    const training = Array.from({ length: 20 }, (_, i) => record(i));
    serve({ [TRAIN]: jsonl(training), [VALIDATE]: jsonl([record(100), record(101)]) });
    const report = await validateDataset(job(), { budget: { priceUsdPer1kTokens: 0.008 } }, deps);
    const rules = datasetRulesFor(TITAN, 'FINE_TUNING')!;
    const perEpoch = training.reduce((n, r) => n + estimateTokens(rules, r), 0);
    expect(report).toMatchObject({
      status: 'passed',
      format: 'prompt-completion',
      trainingRecords: 20,
      validationRecords: 2,
      tokens: { perEpoch, epochs: 3, total: perEpoch * 3 },
      costUsd: Math.round(((perEpoch * 3) / 1000) * 0.008 * 100) / 100,
      problems: [],
    });
    expect(report.files.map((f) => [f.role, f.complete, f.bytesRead === f.bytes])).toEqual([
      ['training', true, true],
      ['validation', true, true],
    ]);
    expect(report.notes).toEqual([]);
  });

  it('one bad line fails, naming the object, the line, the field and the rule', async () => {
    serve({ [TRAIN]: jsonl([record(1), { prompt: 'no completion here' }, record(3)]), [VALIDATE]: jsonl([record(4)]) });
    const error = await validateDataset(job(), NO_BUDGET, deps).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'DatasetValidationError' });
    expect((error as Error).message).toMatch(new RegExp(`${TRAIN} line 2, completion \\[[\\w.-]+\\]`));
  });

  it('broken lines (bad JSON, invalid UTF-8, not an object) are problems of their line; a BOM and CRLF are not', async () => {
    const text = Buffer.concat([
      Buffer.from('\ufeff' + JSON.stringify(record(1)) + '\r\n{"prompt": \n'),
      Buffer.from([0x7b, 0x22, 0x70, 0xff, 0x22, 0x7d, 0x0a]),
      Buffer.from('[1,2]\n' + JSON.stringify(record(5)) + '\n'),
    ]);
    serve({ [TRAIN]: text, [VALIDATE]: jsonl([record(4)]) });
    const message = ((await validateDataset(job(), NO_BUDGET, deps).catch((e: Error) => e)) as Error).message;
    expect(message).toContain('3 problem(s)');
    expect(message).toMatch(/line 2, \(line\) \[jsonl\.invalid-json\]/);
    expect(message).toMatch(/line 3, \(line\) \[jsonl\.invalid-utf8\]/);
    expect(message).toMatch(/line 4, \(line\) \[jsonl\.not-an-object\]/);
    expect(message).not.toMatch(/line 1,|line 5,/);
  });

  it(`reports the first ${MAX_DETAILED_PROBLEMS} problems in full and counts the rest by rule`, async () => {
    serve({ [TRAIN]: jsonl(Array.from({ length: 25 }, (_, i) => ({ prompt: `p${i}` }))), [VALIDATE]: jsonl([record(1)]) });
    const message = ((await validateDataset(job(), NO_BUDGET, deps).catch((e: Error) => e)) as Error).message;
    expect(message).toContain('25 problem(s)');
    expect(message).toContain(`First ${MAX_DETAILED_PROBLEMS}:`);
    expect(message.match(/ line \d+, /g)).toHaveLength(MAX_DETAILED_PROBLEMS);
    expect(message).toMatch(/×25/);
  });

  it('a record over the per-record character limit fails with its line', async () => {
    const rules = datasetRulesFor(TITAN, 'FINE_TUNING')!;
    const long = { prompt: 'x'.repeat(rules.limits.maxCharsPerRecord! + 1), completion: 'y' };
    serve({ [TRAIN]: jsonl([record(1), long]), [VALIDATE]: jsonl([record(2)]) });
    const message = ((await validateDataset(job(), NO_BUDGET, deps).catch((e: Error) => e)) as Error).message;
    expect(message).toMatch(new RegExp(`${TRAIN} line 2, `));
  });

  it('record counts outside the model limits fail (Llama 3.1: at most 1,000 validation records)', async () => {
    const llama = 'meta.llama3-1-8b-instruct-v1:0';
    const max = datasetRulesFor(llama, 'FINE_TUNING')!.limits.maxValidationRecords!;
    serve({ [TRAIN]: jsonl([record(1)]), [VALIDATE]: jsonl(Array.from({ length: max + 1 }, (_, i) => record(i))) });
    const message = ((await validateDataset(job({ baseModelIdentifier: llama }), NO_BUDGET, deps).catch((e: Error) => e)) as Error).message;
    expect(message).toContain(`${VALIDATE}, (records) [records.max-validation]: ${max + 1} validation records`);
  });

  it('a training file larger than the model takes fails before its records are judged', async () => {
    const rules = datasetRulesFor(TITAN, 'FINE_TUNING')!;
    s3.on(GetObjectCommand).callsFake(() => ({ ContentLength: rules.limits.maxFileBytes! + 1, Body: Readable.from([Buffer.from(jsonl([record(1)]))]) as never }));
    const message = ((await validateDataset(job({ validationDataS3Uris: [] }), NO_BUDGET, deps).catch((e: Error) => e)) as Error).message;
    expect(message).toContain('[file.max-bytes]');
  });

  it('the budget: a token cap below the estimate fails; the tighter of the job and the stage applies', async () => {
    serve({ [TRAIN]: jsonl([record(1), record(2)]), [VALIDATE]: jsonl([record(3)]) });
    const report = await validateDataset(job(), NO_BUDGET, deps);
    const total = report.tokens!.total;
    await expect(validateDataset(job(), { budget: { maxTrainingTokens: total - 1 } }, deps)).rejects.toMatchObject({ name: 'TrainingBudgetExceededError' });
    await expect(validateDataset(job({ budget: { maxTrainingTokens: total - 1 } }), { budget: { maxTrainingTokens: total * 10 } }, deps)).rejects.toThrow(
      `exceed the cap of ${total - 1}`,
    );
    await expect(validateDataset(job(), { budget: { maxTrainingTokens: total } }, deps)).resolves.toMatchObject({ status: 'passed' });
    // A job cannot raise the stage's cap.
    expect(effectiveBudget(job({ budget: { maxTrainingTokens: 10 ** 9 } }), { budget: { maxTrainingTokens: 100 } })).toEqual({ maxTrainingTokens: 100 });
  });

  it('the budget: a cost cap below the estimated cost fails', async () => {
    serve({ [TRAIN]: jsonl(Array.from({ length: 50 }, (_, i) => record(i))), [VALIDATE]: jsonl([record(3)]) });
    await expect(validateDataset(job(), { budget: { priceUsdPer1kTokens: 10, maxTrainingCostUsd: 0.01 } }, deps)).rejects.toThrow(/Estimated training cost \$[\d.]+ .* exceeds the cap of \$0.01/);
  });

  it('no epochCount: one epoch is counted and the report says so; with a cap the job is refused', async () => {
    serve({ [TRAIN]: jsonl([record(1)]), [VALIDATE]: jsonl([record(2)]) });
    const report = await validateDataset(job({ hyperParameters: {} }), NO_BUDGET, deps);
    expect(report.tokens!.epochs).toBe(1);
    expect(report.notes.join(' ')).toContain('epochCount is not set');
    // With a cap, an unknown number of epochs cannot pass.
    await expect(validateDataset(job({ hyperParameters: {} }), { budget: { maxTrainingTokens: 10 ** 9 } }, deps)).rejects.toThrow('set epochCount');
  });

  it('a model or customization type without rules is "not checked", never passed; with a budget it fails', async () => {
    const report = await validateDataset(job({ customizationType: 'DISTILLATION' }), NO_BUDGET, deps);
    expect(report.status).toBe('not-checked');
    expect(report.notes[0]).toContain('not checked');
    expect(s3.calls()).toHaveLength(0);
    await expect(validateDataset(job({ baseModelIdentifier: 'example.unknown-model-v1' }), { budget: { maxTrainingTokens: 1000 } }, deps)).rejects.toMatchObject({
      name: 'TrainingBudgetExceededError',
    });
  });

  it('running short of time: stops reading, says how much was read, extrapolates counts and tokens', async () => {
    const training = Array.from({ length: 100 }, (_, i) => record(i));
    serve({ [TRAIN]: jsonl(training), [VALIDATE]: jsonl([record(1)]) });
    let reads = 0;
    // Time runs out after the 10th record of the training file.
    const report = await validateDataset(job(), NO_BUDGET, { s3: s3 as never, remainingMs: () => (++reads >= 10 ? TIME_MARGIN_MS - 1 : 600_000) });
    const file = report.files[0]!;
    expect(file.complete).toBe(false);
    expect(file.records).toBe(10);
    expect(file.bytesRead).toBeLessThan(file.bytes);
    expect(report.trainingRecords).toBeGreaterThan(80);
    expect(report.notes.join(' ')).toMatch(/Read in part for time: .* bytes/);
  });
});

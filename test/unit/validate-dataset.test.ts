/**
 * The dataset step's logic (the validate-dataset function): records checked per the model's
 * rules, problems named by object, line, field and rule (the first ones in full, then counts), record
 * counts and file sizes, the token estimate × epochs, the budget, "not checked", a read cut short by time.
 */
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, NoSuchKey, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { datasetRulesFor, estimateTokens } from '../../functions/validate-dataset/formats.js';
import { INVOCATION_LOGS_NOTE, MAX_DETAILED_PROBLEMS, TIME_MARGIN_MS, effectiveBudget, epochCount, validateDataset } from '../../functions/validate-dataset/validate-dataset.js';
import { datasetObjectsSchema } from '../../functions/shared/dataset/objects.js';
import { describeError, type InvalidInputError } from '../../functions/shared/errors.js';
import { errorAsData } from '../../functions/shared/log.js';
import { DISTILLATION_EXAMPLES, RFT_EXAMPLES, examplesDataset } from '../support/datasets.js';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const TRAIN = 's3://training-bucket/datasets/support.jsonl';
const VALIDATE = 's3://training-bucket/datasets/support-validation.jsonl';
const TITAN = 'amazon.titan-text-express-v1';

const record = (i: number) => ({ prompt: `Question ${i}: how do I reset my password?`, completion: `Answer ${i}: open Settings, then Security.` });
const jsonl = (lines: unknown[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');

/** The ETag a served object answers with (S3's: quoted). */
const etagOf = (uri: string) => `"etag-of-${uri.split('/').pop()}"`;

/** S3 answering GetObject with `objects` (uri → text), each body a fresh stream in small chunks (`chunkBytes`), with an ETag (and a version id when given). */
function serve(objects: Record<string, string | Buffer>, versions: Record<string, string> = {}, chunkBytes = 7) {
  s3.on(GetObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
    const uri = `s3://${input.Bucket}/${input.Key}`;
    const bytes = Buffer.from(objects[uri] ?? '');
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += chunkBytes) chunks.push(bytes.subarray(i, i + chunkBytes));
    return { ContentLength: bytes.length, ETag: etagOf(uri), ...(versions[uri] ? { VersionId: versions[uri] } : {}), Body: Readable.from(chunks) as never };
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

  it("the cost uses the stage's price for the job's base model, else the price for any model; a cost cap without a price fails", async () => {
    const training = Array.from({ length: 50 }, (_, i) => record(i));
    serve({ [TRAIN]: jsonl(training), [VALIDATE]: jsonl([record(3)]) });
    const rules = datasetRulesFor(TITAN, 'FINE_TUNING')!;
    const total = training.reduce((n, r) => n + estimateTokens(rules, r), 0) * 3;
    const cost = (price: number) => Math.round((total / 1000) * price * 100) / 100;
    const prices = { [TITAN]: 0.008, 'amazon.titan-text-lite-v1': 0.0004 };
    const perModel = await validateDataset(job({ baseModelIdentifier: `${TITAN}:0:8k` }), { budget: { pricesUsdPer1kTokens: prices, priceUsdPer1kTokens: 1 } }, deps);
    expect(perModel).toMatchObject({ costUsd: cost(0.008), budget: { priceUsdPer1kTokens: 0.008, pricedAs: TITAN } });
    const lite = await validateDataset(job({ baseModelIdentifier: 'amazon.titan-text-lite-v1' }), { budget: { pricesUsdPer1kTokens: prices } }, deps);
    expect(lite).toMatchObject({ costUsd: cost(0.0004), budget: { pricedAs: 'amazon.titan-text-lite-v1' } });
    const other = await validateDataset(job(), { budget: { pricesUsdPer1kTokens: { 'amazon.nova-micro-v1:0': 0.001 }, priceUsdPer1kTokens: 1 } }, deps);
    expect(other).toMatchObject({ costUsd: cost(1), budget: { priceUsdPer1kTokens: 1, pricedAs: 'any model' } });
    // Cheap at its own price, too dear at the price for any model: the cap sees the model's price.
    const cap = (cost(0.008) + cost(1)) / 2;
    await expect(
      validateDataset(job(), { budget: { pricesUsdPer1kTokens: prices, priceUsdPer1kTokens: 1, maxTrainingCostUsd: cap } }, deps),
    ).resolves.toMatchObject({ status: 'passed' });
    await expect(validateDataset(job(), { budget: { priceUsdPer1kTokens: 1, maxTrainingCostUsd: cap } }, deps)).rejects.toThrow(/priced as any model\) exceeds the cap/);
    // No price for this model and a cap: never passed unpriced (the input's resolution refuses it first).
    const unpriced = { budget: { pricesUsdPer1kTokens: { 'amazon.nova-micro-v1:0': 0.001 }, maxTrainingCostUsd: 1000 } };
    await expect(validateDataset(job(), unpriced, deps)).rejects.toMatchObject({ name: 'TrainingBudgetExceededError' });
    await expect(validateDataset(job(), unpriced, deps)).rejects.toThrow(/no training price for this base model, so the cost cap of \$1000 cannot be held/);
  });

  it('no epochCount: one epoch is counted and the report says so; with a cap the job is refused', async () => {
    serve({ [TRAIN]: jsonl([record(1)]), [VALIDATE]: jsonl([record(2)]) });
    const report = await validateDataset(job({ hyperParameters: {} }), NO_BUDGET, deps);
    expect(report.tokens!.epochs).toBe(1);
    expect(report.notes.join(' ')).toContain('epochCount is not set');
    // With a cap, an unknown number of epochs cannot pass.
    await expect(validateDataset(job({ hyperParameters: {} }), { budget: { maxTrainingTokens: 10 ** 9 } }, deps)).rejects.toThrow('set epochCount');
  });

  it('a model or customization type without rules is "not checked", never passed, its objects pinned by HeadObject; with a budget it fails', async () => {
    s3.on(HeadObjectCommand).callsFake((input: { Bucket: string; Key: string }) => ({ ContentLength: 42, ETag: etagOf(`s3://${input.Bucket}/${input.Key}`), VersionId: 'v1' }));
    const report = await validateDataset(job({ customizationType: 'DISTILLATION' }), NO_BUDGET, deps);
    expect(report.status).toBe('not-checked');
    expect(report.notes[0]).toContain('not checked');
    // Not read: only looked up, so the job trains on the versions this execution saw.
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(report.objects).toEqual([
      { role: 'training', index: 0, uri: TRAIN, etag: etagOf(TRAIN), versionId: 'v1', bytes: 42, checked: false },
      { role: 'validation', index: 0, uri: VALIDATE, etag: etagOf(VALIDATE), versionId: 'v1', bytes: 42, checked: false },
    ]);
    s3.resetHistory();
    await expect(validateDataset(job({ baseModelIdentifier: 'example.unknown-model-v1' }), { budget: { maxTrainingTokens: 1000 } }, deps)).rejects.toMatchObject({
      name: 'TrainingBudgetExceededError',
    });
    expect(s3.calls()).toHaveLength(0);
  });

  it('records the ETag and VersionId S3 returned with the bytes it checked, object by object ($.dataset.objects)', async () => {
    const second = 's3://extra-bucket/more/validation-2.jsonl';
    serve({ [TRAIN]: jsonl([record(1), record(2)]), [VALIDATE]: jsonl([record(3)]), [second]: jsonl([record(4)]) }, { [TRAIN]: 'version-7' });
    const report = await validateDataset(job({ validationDataS3Uris: [VALIDATE, second] }), NO_BUDGET, deps);
    expect(report.objects).toEqual([
      { role: 'training', index: 0, uri: TRAIN, etag: etagOf(TRAIN), versionId: 'version-7', bytes: jsonl([record(1), record(2)]).length, checked: true },
      { role: 'validation', index: 0, uri: VALIDATE, etag: etagOf(VALIDATE), bytes: jsonl([record(3)]).length, checked: true },
      { role: 'validation', index: 1, uri: second, etag: etagOf(second), bytes: jsonl([record(4)]).length, checked: true },
    ]);
    // One GetObject per object, whole (no Range): every byte checked is of the version answered.
    expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'training-bucket', Key: 'datasets/support.jsonl' },
      { Bucket: 'training-bucket', Key: 'datasets/support-validation.jsonl' },
      { Bucket: 'extra-bucket', Key: 'more/validation-2.jsonl' },
    ]);
    // The shape submit-job parses.
    expect(datasetObjectsSchema.safeParse(report.objects).success).toBe(true);
  });

  it('an object S3 answers without an ETag is recorded without one (the snapshot then refuses it)', async () => {
    const body = jsonl([record(1)]);
    s3.on(GetObjectCommand).callsFake(() => ({ ContentLength: body.length, Body: Readable.from([Buffer.from(body)]) as never }));
    const report = await validateDataset(job({ validationDataS3Uris: [] }), NO_BUDGET, deps);
    expect(report.objects).toEqual([{ role: 'training', index: 0, uri: TRAIN, bytes: body.length, checked: true }]);
  });

  it('a read cut short for time is recorded as not checked whole', async () => {
    serve({ [TRAIN]: jsonl(Array.from({ length: 50 }, (_, i) => record(i))), [VALIDATE]: jsonl([record(1)]) });
    let reads = 0;
    const report = await validateDataset(job(), NO_BUDGET, { s3: s3 as never, remainingMs: () => (++reads >= 5 ? TIME_MARGIN_MS - 1 : 600_000) });
    expect(report.objects.map((o) => [o.role, o.checked])).toEqual([
      ['training', false],
      ['validation', false],
    ]);
  });

  it.each<[string | undefined, number | undefined]>([
    ['5', 5],
    ['5.0', 5],
    ['05', 5],
    ['5e0', 5],
    [' 3 ', 3],
    ['1', 1],
    ['2.5', undefined],
    ['0', undefined],
    ['-2', undefined],
    ['', undefined],
    ['Auto', undefined],
    ['Infinity', undefined],
    [undefined, undefined],
  ])('epochCount(%j) = %j', (text, epochs) => {
    expect(epochCount(text)).toBe(epochs);
  });

  it('epochCount "5.0" counts 5 epochs against the cap (not 1)', async () => {
    serve({ [TRAIN]: jsonl([record(1), record(2)]), [VALIDATE]: jsonl([record(3)]) });
    const report = await validateDataset(job({ hyperParameters: { epochCount: '5.0' } }), NO_BUDGET, deps);
    expect(report.tokens).toMatchObject({ epochs: 5, total: report.tokens!.perEpoch * 5 });
    // A cap above one epoch's tokens and below five: refused.
    const cap = report.tokens!.perEpoch * 3;
    await expect(validateDataset(job({ hyperParameters: { epochCount: '5.0' } }), { budget: { maxTrainingTokens: cap } }, deps)).rejects.toThrow(
      `(${report.tokens!.perEpoch} per epoch × 5 epochs`,
    );
  });

  it('an epochCount that is not a whole number: refused with a cap, noted without one', async () => {
    serve({ [TRAIN]: jsonl([record(1)]), [VALIDATE]: jsonl([record(2)]) });
    await expect(validateDataset(job({ hyperParameters: { epochCount: '2.5' } }), { budget: { maxTrainingTokens: 10 ** 9 } }, deps)).rejects.toMatchObject({
      name: 'TrainingBudgetExceededError',
      message: expect.stringContaining('hyperParameters.epochCount "2.5" is not a whole number of epochs'),
    });
    const report = await validateDataset(job({ hyperParameters: { epochCount: 'Auto' } }), NO_BUDGET, deps);
    expect(report.tokens!.epochs).toBe(1);
    expect(report.notes.join(' ')).toContain('epochCount "Auto" is not a whole number');
  });

  describe('an object S3 will not serve: DatasetUnreadableError naming the object, the call and S3\'s error code, never data', () => {
    const denied = () =>
      new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403, requestId: 'R1' }, message: 'Access Denied' });

    it('GetObject refused by a bucket policy (AccessDenied, 403)', async () => {
      s3.on(GetObjectCommand).rejects(denied());
      const error = (await validateDataset(job(), NO_BUDGET, deps).catch((e: Error) => e)) as Error;
      expect(error).toMatchObject({ name: 'DatasetUnreadableError' });
      expect(error.message).toBe(`${TRAIN} (training data): GetObject answered HTTP 403, AccessDenied; the dataset step could not read it.`);
      expect((error.cause as Error).name).toBe('AccessDenied');
    });

    it('a missing validation object (NoSuchKey, 404) names that object', async () => {
      serve({ [TRAIN]: jsonl([record(1)]) });
      s3.on(GetObjectCommand, { Bucket: 'training-bucket', Key: 'datasets/support-validation.jsonl' }).rejects(
        new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' }),
      );
      await expect(validateDataset(job(), NO_BUDGET, deps)).rejects.toMatchObject({
        name: 'DatasetUnreadableError',
        message: `${VALIDATE} (validation data): GetObject answered HTTP 404, NoSuchKey; the dataset step could not read it.`,
      });
    });

    it('HeadObject of data that is not checked (Forbidden, 403)', async () => {
      s3.on(HeadObjectCommand).rejects(new S3ServiceException({ name: 'Forbidden', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Forbidden' }));
      await expect(validateDataset(job({ customizationType: 'DISTILLATION' }), NO_BUDGET, deps)).rejects.toMatchObject({
        name: 'DatasetUnreadableError',
        message: `${TRAIN} (training data): HeadObject answered HTTP 403, Forbidden; the dataset step could not read it.`,
      });
    });

    it("S3's own message is not repeated, and an error that is no S3 answer (no HTTP status) passes on as it is", async () => {
      s3.on(GetObjectCommand).rejects(
        new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Access Denied SENTINELQZX' }),
      );
      const error = (await validateDataset(job(), NO_BUDGET, deps).catch((e: Error) => e)) as Error;
      expect(error.message).not.toContain('SENTINELQZX');
      s3.reset();
      const network = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      s3.on(GetObjectCommand).rejects(network);
      await expect(validateDataset(job(), NO_BUDGET, deps)).rejects.toBe(network);
    });
  });

  it('no record content in the error: not its message, its cause chain, its JSON or its log form', async () => {
    const secret = 'SSN 078-05-1120 SENTINELQZX';
    const lines = [
      secret,
      `{"prompt": "${secret}", "completion": ${secret}}`,
      JSON.stringify({ prompt: [secret], completion: secret }),
      JSON.stringify({ prompt: secret.repeat(2000), completion: secret }),
      JSON.stringify(secret),
      `{"prompt": "${secret}"`,
    ];
    serve({ [TRAIN]: Buffer.concat([Buffer.from(lines.join('\n') + '\n{"prompt": "'), Buffer.from([0xc3, 0x28]), Buffer.from(`${secret}"}`)]), [VALIDATE]: jsonl([record(1)]) });
    const error = (await validateDataset(job(), NO_BUDGET, deps).catch((e: Error) => e)) as Error;
    expect(error).toMatchObject({ name: 'DatasetValidationError' });
    expect(error.message).toContain(`${TRAIN} line 1, (line) [jsonl.invalid-json]: not valid JSON`);
    expect(error.message).toContain('7 problem(s)');
    expect(error.cause).toBeUndefined();
    const forms = [error.name, error.message, String(error.stack), describeError(error), JSON.stringify(error), JSON.stringify(errorAsData(error))];
    for (const form of forms) {
      for (let at = 0; at + 4 <= secret.length; at++) expect(form).not.toContain(secret.slice(at, at + 4));
    }
  });

  it('a record counted on its bytes (flat prompt/completion) and the same record parsed give the same report and the same problems', async () => {
    // Prepare: the same records twice, once as plain lines (recognised by the byte scanner) and once
    // with the key "prompt" escaped ("\u0070rompt": the scanner leaves the line to JSON.parse and the
    // record checks), in the bench's chunking and with astral and accented characters
    const valid = [record(1), { prompt: 'é😀 ' + 'x'.repeat(50), completion: '中\t"q"' }, record(2), { completion: 'c', prompt: '\\/' }];
    const escaped = (lines: object[]) => lines.map((r) => JSON.stringify(r).replace('"prompt"', '"\\u0070rompt"')).join('\r\n');
    const run = async (training: string) => {
      serve({ [TRAIN]: training, [VALIDATE]: jsonl([record(9)]) });
      const report = await validateDataset(job(), NO_BUDGET, deps);
      // The escapes make the object longer: sizes aside, the reports are the same.
      return {
        ...report,
        seconds: 0,
        files: report.files.map(({ bytes: _b, bytesRead: _r, ...file }) => file),
        objects: report.objects.map(({ bytes: _b, ...object }) => object),
      };
    };
    const failure = async (training: string) => {
      serve({ [TRAIN]: training, [VALIDATE]: jsonl([record(9)]) });
      return ((await validateDataset(job(), NO_BUDGET, deps).catch((e: Error) => e)) as Error).message;
    };
    const tooLong = [...valid, { prompt: 'p', completion: '😀'.repeat(24_576) }, { prompt: 'p'.repeat(4_000), completion: 'é'.repeat(20_577) }];

    // Act / Assess
    const flat = await run(valid.map((r) => JSON.stringify(r)).join('\r\n'));
    expect(flat.trainingRecords).toBe(valid.length);
    expect(flat).toEqual(await run(escaped(valid)));
    const message = await failure(jsonl(tooLong));
    expect(message).toMatch(/line 5, \(record\) \[record\.maxChars\].* line 6, \(record\) \[record\.maxChars\]/);
    expect(message).toBe(await failure(escaped(tooLong).replaceAll('\r\n', '\n')));
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

describe('validateDataset: distillation and reinforcement fine-tuning', () => {
  const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0:200k';
  const NOVA_2_LITE = 'amazon.nova-2-lite-v1:0:256k';
  const distillation = Object.values(DISTILLATION_EXAMPLES);
  const rft = Object.values(RFT_EXAMPLES);
  const distill = (overrides: Record<string, unknown> = {}) => job({ baseModelIdentifier: HAIKU, customizationType: 'DISTILLATION', validationDataS3Uris: [], hyperParameters: {}, ...overrides });
  const reinforce = (overrides: Record<string, unknown> = {}) => job({ baseModelIdentifier: NOVA_2_LITE, customizationType: 'REINFORCEMENT_FINE_TUNING', hyperParameters: {}, ...overrides });

  it('100 documented distillation prompts pass, with their count and no token estimate (the teacher writes the answers)', async () => {
    serve({ [TRAIN]: examplesDataset(distillation, 100) });
    const report = await validateDataset(distill(), NO_BUDGET, deps);
    expect(report).toMatchObject({ status: 'passed', format: 'distillation-prompts', family: 'claude-3-haiku', trainingRecords: 100, problems: [] });
    expect(report.tokens).toBeUndefined();
    expect(report.notes).toEqual([expect.stringMatching(/^No training-token estimate for DISTILLATION: .*teacher/)]);
    expect(report.objects).toEqual([expect.objectContaining({ role: 'training', uri: TRAIN, checked: true })]);
  });

  it('99 distillation prompts fail: at least 100 (AWS\'s distillation validator, MIN_NUM_PROMPTS)', async () => {
    serve({ [TRAIN]: examplesDataset(distillation, 99) });
    const message = ((await validateDataset(distill(), NO_BUDGET, deps).catch((e: Error) => e)) as Error).message;
    expect(message).toContain(`${TRAIN}, (records) [records.min-training]: 99 training records; claude-3-haiku needs at least 100`);
  });

  it('a distillation file over 1 GiB fails (AWS\'s distillation validator, MAX_SIZE)', async () => {
    s3.on(GetObjectCommand).callsFake(() => ({ ContentLength: 1024 ** 3 + 1, Body: Readable.from([Buffer.from(examplesDataset(distillation, 100))]) as never }));
    const message = ((await validateDataset(distill(), NO_BUDGET, deps).catch((e: Error) => e)) as Error).message;
    expect(message).toContain(`(object) [file.max-bytes]: ${1024 ** 3 + 1} bytes`);
  });

  it('an object whose key does not end in ".jsonl" fails (AWS\'s validators skip or refuse it); a prompt-completion job has no such rule', async () => {
    const TXT = 's3://training-bucket/datasets/prompts.txt';
    serve({ [TXT]: examplesDataset(distillation, 100) });
    const message = ((await validateDataset(distill({ trainingDataS3Uri: TXT }), NO_BUDGET, deps).catch((e: Error) => e)) as Error).message;
    expect(message).toContain(`${TXT}, (object) [file.extension]: the object's key must end in ".jsonl"`);
    s3.reset();
    serve({ [TXT]: examplesDataset(rft, 100) });
    await expect(validateDataset(reinforce({ trainingDataS3Uri: TXT, validationDataS3Uris: [] }), NO_BUDGET, deps)).rejects.toThrow('[file.extension]');
    s3.reset();
    serve({ [TXT]: jsonl([record(1)]) });
    await expect(validateDataset(job({ trainingDataS3Uri: TXT, validationDataS3Uris: [] }), NO_BUDGET, deps)).resolves.toMatchObject({ status: 'passed' });
  });

  it('a bad distillation prompt fails with its line, field and rule', async () => {
    const lines = examplesDataset(distillation, 120).split('\n');
    lines[41] = JSON.stringify({ ...DISTILLATION_EXAMPLES.labelled, messages: [...DISTILLATION_EXAMPLES.labelled.messages, { role: 'user', content: [{ text: 'and at night?' }] }] });
    serve({ [TRAIN]: lines.join('\n') });
    const message = ((await validateDataset(distill(), NO_BUDGET, deps).catch((e: Error) => e)) as Error).message;
    expect(message).toContain(`${TRAIN} line 42, messages [messages.singleTurn]`);
    expect(message).toContain('1 problem(s)');
  });

  it('100 documented RFT prompts pass, validation data too; no token estimate (the model writes the answers)', async () => {
    serve({ [TRAIN]: examplesDataset(rft, 100), [VALIDATE]: examplesDataset(rft, 10) });
    const report = await validateDataset(reinforce(), NO_BUDGET, deps);
    expect(report).toMatchObject({ status: 'passed', format: 'rft-chat-completion', family: 'nova-2-lite', trainingRecords: 100, validationRecords: 10 });
    expect(report.tokens).toBeUndefined();
    expect(report.notes[0]).toMatch(/^No training-token estimate for REINFORCEMENT_FINE_TUNING/);
  });

  it('RFT: fewer than 100 training prompts fail; more than 20,000 training and validation prompts together fail', async () => {
    serve({ [TRAIN]: examplesDataset(rft, 99), [VALIDATE]: examplesDataset(rft, 1) });
    let message = ((await validateDataset(reinforce(), NO_BUDGET, deps).catch((e: Error) => e)) as Error).message;
    expect(message).toContain('[records.min-training]: 99 training records; nova-2-lite needs at least 100');
    s3.reset();
    serve({ [TRAIN]: examplesDataset(rft, 19_995), [VALIDATE]: examplesDataset(rft, 6) }, {}, 65_536);
    message = ((await validateDataset(reinforce(), NO_BUDGET, deps).catch((e: Error) => e)) as Error).message;
    expect(message).toContain('[records.max-total]: 19995 training and 6 validation records; nova-2-lite takes at most 20000 together');
    s3.reset();
    serve({ [TRAIN]: examplesDataset(rft, 19_995), [VALIDATE]: examplesDataset(rft, 5) }, {}, 65_536);
    await expect(validateDataset(reinforce(), NO_BUDGET, deps)).resolves.toMatchObject({ status: 'passed', trainingRecords: 19_995, validationRecords: 5 });
  });

  it('a bad RFT record fails with its object, line, field and rule', async () => {
    const lines = examplesDataset(rft, 100).split('\n');
    lines[6] = JSON.stringify({ messages: RFT_EXAMPLES.question.messages });
    serve({ [TRAIN]: examplesDataset(rft, 100), [VALIDATE]: lines.join('\n') });
    const message = ((await validateDataset(reinforce(), NO_BUDGET, deps).catch((e: Error) => e)) as Error).message;
    expect(message).toContain(`${VALIDATE} line 7, reference_answer [field.required]`);
  });

  it('a token or cost cap cannot be held for distillation or RFT: the job is refused before any read', async () => {
    serve({ [TRAIN]: examplesDataset(distillation, 100) });
    const error = (await validateDataset(distill({ budget: { maxTrainingTokens: 1_000_000 } }), NO_BUDGET, deps).catch((e: Error) => e)) as Error;
    expect(error).toMatchObject({ name: 'TrainingBudgetExceededError' });
    expect(error.message).toContain('No training-token estimate for DISTILLATION');
    await expect(validateDataset(reinforce(), { budget: { maxTrainingCostUsd: 5, priceUsdPer1kTokens: 0.01 } }, deps)).rejects.toMatchObject({
      name: 'TrainingBudgetExceededError',
      message: expect.stringContaining('No training-token estimate for REINFORCEMENT_FINE_TUNING'),
    });
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('validateDataset: a job that trains on Bedrock invocation logs', () => {
  const logs = { invocationLogSource: { s3Uri: 's3://invocation-logs/AWSLogs/' } };
  const fromLogs = (overrides: Record<string, unknown> = {}) =>
    job({ baseModelIdentifier: 'amazon.nova-micro-v1:0:128k', customizationType: 'DISTILLATION', trainingDataS3Uri: undefined, invocationLogsConfig: logs, validationDataS3Uris: [], hyperParameters: {}, ...overrides });

  it('reads nothing and reports "not checked: the job trains on Bedrock invocation logs": no objects, no token estimate', async () => {
    const report = await validateDataset(fromLogs(), NO_BUDGET, deps);
    expect(report).toMatchObject({ status: 'not-checked', files: [], objects: [], trainingRecords: 0, validationRecords: 0, problems: [] });
    expect(report.notes).toEqual([expect.stringContaining(INVOCATION_LOGS_NOTE)]);
    expect(report.tokens).toBeUndefined();
    expect(s3.calls()).toHaveLength(0);
  });

  it('validation objects named beside the logs are pinned by HeadObject, not read', async () => {
    s3.on(HeadObjectCommand).callsFake((input: { Bucket: string; Key: string }) => ({ ContentLength: 7, ETag: etagOf(`s3://${input.Bucket}/${input.Key}`) }));
    const report = await validateDataset(fromLogs({ validationDataS3Uris: [VALIDATE] }), NO_BUDGET, deps);
    expect(report.status).toBe('not-checked');
    expect(report.objects).toEqual([{ role: 'validation', index: 0, uri: VALIDATE, etag: etagOf(VALIDATE), bytes: 7, checked: false }]);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('with a token or cost cap the job is refused, before any S3 call', async () => {
    for (const budget of [{ maxTrainingTokens: 1000 }, { maxTrainingCostUsd: 1 }]) {
      const error = (await validateDataset(fromLogs({ budget }), { budget: { priceUsdPer1kTokens: 0.01 } }, deps).catch((e: Error) => e)) as Error;
      expect(error).toMatchObject({ name: 'TrainingBudgetExceededError' });
      expect(error.message).toContain(INVOCATION_LOGS_NOTE);
    }
    expect(s3.calls()).toHaveLength(0);
  });

  it('neither a dataset nor invocation logs: InvalidInputError naming trainingDataS3Uri, before any S3 call', async () => {
    const error = (await validateDataset(fromLogs({ invocationLogsConfig: undefined }), NO_BUDGET, deps).catch((e: Error) => e)) as InvalidInputError;
    expect(error.name).toBe('InvalidInputError');
    expect(error.issues.map((i) => i.field)).toEqual(['trainingDataS3Uri']);
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('validate-dataset handler', () => {
  const context = { getRemainingTimeInMillis: () => 600_000, functionName: 'validate-dataset', awsRequestId: 'unit' } as never;

  it('takes `{ job }` as the ValidateDataset state passes it and returns the dataset report', async () => {
    const { handler } = await import('../../functions/validate-dataset/handler.js');
    const { resolvedJob } = await import('../fixtures/job.js');
    const j = resolvedJob({ trainingDataS3Uri: TRAIN, validationDataS3Uris: [] });
    serve({ [TRAIN]: jsonl([record(1), record(2)]) });
    const report = (await handler({ job: j }, context)) as { status: string; trainingRecords: number };
    expect(report).toMatchObject({ status: 'passed', trainingRecords: 2 });
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'training-bucket', Key: 'datasets/support.jsonl' });
  });

  it('takes a job that trains on invocation logs (no trainingDataS3Uri) and reports it not checked, reading nothing', async () => {
    const { handler } = await import('../../functions/validate-dataset/handler.js');
    const { CUSTOMIZATIONS, EXECUTION, rawJob } = await import('../fixtures/job.js');
    const { coveringParams, jobPart, testStage } = await import('../fixtures/stage.js');
    const { resolveJobInput } = await import('../../functions/shared/job-input.js');
    const raw = rawJob(CUSTOMIZATIONS.invocationLogs);
    const j = resolveJobInput(jobPart(raw), testStage(coveringParams(raw)), EXECUTION);
    expect(j.trainingDataS3Uri).toBeUndefined();
    const report = (await handler({ job: j }, context)) as { status: string; notes: string[] };
    expect(report.status).toBe('not-checked');
    expect(report.notes[0]).toContain(INVOCATION_LOGS_NOTE);
    expect(s3.calls()).toHaveLength(0);
  });

  it('refuses any other event (the network preflight\'s, or an extra field) with InvalidInputError before reading S3', async () => {
    const { handler } = await import('../../functions/validate-dataset/handler.js');
    const { resolvedJob } = await import('../fixtures/job.js');
    for (const event of [{ input: {}, execution: {} }, { action: 'dataset', job: resolvedJob() }]) {
      const err = (await handler(event, context).catch((e: unknown) => e)) as Error;
      expect(err.name).toBe('InvalidInputError');
    }
    expect(s3.calls()).toHaveLength(0);
  });

  it('checks the job fields it reads with the resolved job\'s rules, each bad one named, before reading S3', async () => {
    const { handler } = await import('../../functions/validate-dataset/handler.js');
    const { resolvedJob } = await import('../fixtures/job.js');
    const job = { ...resolvedJob(), trainingDataS3Uri: 'https://example.com/data.jsonl', budget: { maxTrainingTokens: 0 }, customizationType: 'PRETRAINING' };
    const err = (await handler({ job }, context).catch((e: unknown) => e)) as InvalidInputError;
    expect(err.name).toBe('InvalidInputError');
    expect(err.issues.map((i) => i.field).sort()).toEqual(['job.budget.maxTrainingTokens', 'job.customizationType', 'job.trainingDataS3Uri']);
    expect(s3.calls()).toHaveLength(0);
  });
});

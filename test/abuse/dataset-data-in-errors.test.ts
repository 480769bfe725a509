/**
 * Attack (or accident): a dataset full of personal data, with records broken in every way the dataset
 * step rejects. The step's error travels far: the execution's Cause (anyone who can read executions),
 * the Lambda's log (its retention and readers), and the SNS notification (its subscribers' mailboxes).
 * Invariant: the error names the object, line, field and rule, and never carries record content: not
 * in its name, message, stack, cause chain or JSON form, nor in anything the Lambda logs.
 *
 * "Record content" here is every value and every key of the writer's in the records: they are built
 * from SECRET, and no 4-character piece of SECRET may appear. (The format's own field names, `prompt`,
 * `messages`…, are the documented format, which an error may name.) Pieces made only of digits and
 * punctuation are left out of the search: they would match line numbers and byte counts the error must
 * carry; SECRET's digits are covered by the pieces that join them to a letter ("SSN 078-05" is found
 * by "SSN ", "SN 0", "N 07").
 *
 * Runs the dataset step as deployed (validate-dataset's handler) against moto's S3.
 */
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_DETAILED_PROBLEMS } from '../../functions/validate-dataset/validate-dataset.js';
import { handler } from '../../functions/validate-dataset/handler.js';
import { errorAsData } from '../../functions/shared/log.js';
import { CUSTOMIZATIONS, resolvedJob } from '../fixtures/job.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { s3 } = motoClients();
const SECRET = 'SSN 078-05-1120 QZXV-SENTINEL-9K7W';
/** The pieces of SECRET no error may hold. */
const PIECES = Array.from({ length: SECRET.length - 3 }, (_, i) => SECRET.slice(i, i + 4)).filter((p) => !/^[\d\s.,:-]+$/.test(p));

const TITAN = 'amazon.titan-text-express-v1';
const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0:200k';
const NOVA = 'amazon.nova-lite-v1:0:300k';
/** Distillation (prompts) and reinforcement fine-tuning (OpenAI chat format), with their job settings. */
const DISTILL = CUSTOMIZATIONS.distillation.baseModelIdentifier;
const RFT = CUSTOMIZATIONS.rft.baseModelIdentifier;
const SETTINGS: Record<string, Record<string, unknown>> = { [DISTILL]: CUSTOMIZATIONS.distillation, [RFT]: CUSTOMIZATIONS.rft };

const turn = (role: unknown, content: unknown) => ({ role, content });
const nova = (...messages: unknown[]) => ({ schemaVersion: 'bedrock-conversation-2024', messages });
const json = (value: unknown) => JSON.stringify(value);
/** A valid record of each model's format. */
const GOOD: Record<string, string> = {
  [TITAN]: json({ prompt: 'What are your opening hours?', completion: 'We open at nine.' }),
  [HAIKU]: json({ messages: [turn('user', 'What are your opening hours?'), turn('assistant', 'We open at nine.')] }),
  [NOVA]: json(nova(turn('user', [{ text: 'What are your opening hours?' }]), turn('assistant', [{ text: 'We open at nine.' }]))),
  [DISTILL]: json(nova(turn('user', [{ text: 'What are your opening hours?' }]))),
  [RFT]: json({ messages: [turn('user', 'What are your opening hours?')], reference_answer: 'We open at nine.' }),
};
/** Enough valid records for every model's minimum (Nova: 8), after the broken one. */
const goodLines = (model: string) => Array.from({ length: 8 }, () => GOOD[model]!).join('\n') + '\n';

/** One broken record (or line) per case: the model it is checked for, and its bytes. */
const CASES: [string, string, string | Buffer][] = [
  ['not JSON at all', TITAN, `${SECRET} ${SECRET}`],
  ['JSON cut short', TITAN, `{"prompt": "${SECRET}", "completion": "${SECRET}`],
  ['a bad token right after the secret', TITAN, `{"prompt": "${SECRET}" "completion": "x"}`],
  ['an unquoted secret', TITAN, `{"prompt": ${SECRET}, "completion": "x"}`],
  ['a trailing secret after the object', TITAN, `{"prompt": "a", "completion": "b"} ${SECRET}`],
  ['a string, not an object', TITAN, json(SECRET)],
  ['an array, not an object', TITAN, json([SECRET, { [SECRET]: SECRET }])],
  ['values of the wrong type', TITAN, json({ prompt: [SECRET], completion: { [SECRET]: SECRET } })],
  ['a missing field', TITAN, json({ prompt: SECRET })],
  ['an over-long value (per-record characters)', TITAN, json({ prompt: SECRET.repeat(1000), completion: SECRET })],
  ['a line over 1 MiB', TITAN, json({ prompt: SECRET.repeat(40_000), completion: SECRET })],
  ['bad UTF-8 between secrets', TITAN, Buffer.concat([Buffer.from(`{"prompt": "${SECRET} `), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(` ${SECRET}", "completion": "x"}`)])],
  ['a lone surrogate escape and control characters', TITAN, `{"prompt": "${SECRET}\\ud800", "completion": "\u0001${SECRET}"}`],
  ['deeply nested arrays', TITAN, `{"prompt": ${'['.repeat(5000)}"${SECRET}"${']'.repeat(5000)}, "completion": "x"}`],
  ['a __proto__ key', TITAN, `{"__proto__": "${SECRET}", "prompt": 1, "completion": "x"}`],
  ['Claude: unknown keys named with the secret', HAIKU, json({ [SECRET]: SECRET, messages: [{ role: 'user', content: 'a', [SECRET]: 1 }, turn('assistant', 'b')] })],
  ['Claude: a role that is the secret', HAIKU, json({ messages: [turn(SECRET, 'a'), turn('assistant', 'b')] })],
  ['Claude: system and content of the wrong type', HAIKU, json({ system: [SECRET], messages: [turn('user', { text: SECRET }), turn('assistant', [SECRET])] })],
  ['Nova: a role that is the secret', NOVA, json(nova(turn(SECRET, [{ text: 'q' }]), turn('assistant', [{ text: 'a' }])))],
  ['Nova: a media format and URI that are the secret', NOVA, json(nova(turn('user', [{ text: 'q' }, { image: { format: SECRET, source: { s3Location: { uri: SECRET } } } }]), turn('assistant', [{ text: 'a' }])))],
  ['Nova: content items of an unknown kind', NOVA, json(nova(turn('user', [{ [SECRET]: SECRET }]), turn('assistant', [{ text: `${SECRET} Bot: ${SECRET}` }])))],
  ['Distillation: schemaVersion, unknown keys and a role that are the secret', DISTILL, json({ schemaVersion: SECRET, [SECRET]: SECRET, system: [{ text: 'a', [SECRET]: 1 }], messages: [turn(SECRET, [{ text: SECRET }])] })],
  ['Distillation: content that is not one {text}', DISTILL, json(nova(turn('user', [{ text: SECRET }, { image: SECRET }]), turn('user', SECRET)))],
  ['RFT: a role, a reserved token and a duplicate tool name beside the secret', RFT, json({ messages: [turn(SECRET, SECRET), turn('user', `${SECRET} Thought: ${SECRET}`)], reference_answer: [SECRET], tools: [{ type: 'function', function: { name: SECRET, description: SECRET, parameters: { type: 'object', properties: {} } } }, { type: SECRET, function: { name: SECRET, description: SECRET, parameters: { type: SECRET, properties: SECRET } } }] })],
  ['RFT: messages, id and reference_answer of the wrong type', RFT, json({ messages: [SECRET, { role: 'system', content: [SECRET] }], id: { [SECRET]: SECRET }, reference_answer: { } })],
  ['Nova: schemaVersion and system of the wrong type', NOVA, json({ schemaVersion: [SECRET], system: [SECRET, { [SECRET]: SECRET }], messages: [turn('user', [{ text: 'q' }]), turn('assistant', [{ text: 'a' }])] })],
];

/** Everything the error shows, in every form it can travel in. */
function forms(error: Error): string[] {
  const out = [error.name, error.message, String(error.stack), JSON.stringify(error), JSON.stringify(errorAsData(error))];
  for (let cause = error.cause, depth = 0; cause !== undefined && depth < 10; cause = (cause as Error).cause, depth++) {
    out.push(String(cause), JSON.stringify(errorAsData(cause)));
  }
  return out;
}

describe('attack: personal data in a dataset that fails its checks', () => {
  let logged: string[];
  beforeEach(async () => {
    await resetMoto();
    await s3.send(new CreateBucketCommand({ Bucket: 'training-bucket' }));
    // Everything the Lambda logs, at every level.
    logged = [];
    vi.stubEnv('AWS_LAMBDA_LOG_LEVEL', 'TRACE');
    for (const level of ['info', 'warn', 'error', 'log', 'debug'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logged.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a, (_k, v) => (v instanceof Error ? errorAsData(v) : v)))).join(' '));
      });
    }
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  const runDatasetStep = async (model: string, key: string, body: string | Buffer) => {
    await s3.send(new PutObjectCommand({ Bucket: 'training-bucket', Key: key, Body: body }));
    const job = resolvedJob({ ...SETTINGS[model], baseModelIdentifier: model, trainingDataS3Uri: `s3://training-bucket/${key}`, validationDataS3Uris: [] });
    return (handler as unknown as (event: unknown, context: unknown) => Promise<unknown>)(
      { job },
      { getRemainingTimeInMillis: () => 600_000, functionName: 'validate-dataset', awsRequestId: 'abuse' },
    );
  };

  it.each(CASES)('%s: the error names object, line and rule, and holds no piece of the record', async (_name, model, line) => {
    // Prepare: the broken record between good ones (line 2)
    const key = `datasets/abuse-${model.split('.')[0]}.jsonl`;
    const body = Buffer.concat([Buffer.from(`${GOOD[model]}\n`), Buffer.from(line), Buffer.from(`\n${goodLines(model)}`)]);

    // Act
    const error = (await runDatasetStep(model, key, body).catch((e: Error) => e)) as Error;

    // Assess: a real rejection of line 2 (the test is not vacuous)…
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toMatch(/^(DatasetValidationError|TrainingBudgetExceededError)$/);
    expect(error.message).toMatch(new RegExp(`s3://training-bucket/${key} line 2, \\S+ \\[[\\w.-]+\\]: `));
    expect(error.message).not.toMatch(/ line [13-9]\d*, /);
    expect(error.cause).toBeUndefined();
    expect(logged.some((entry) => entry.includes('step failed'))).toBe(true);
    // …and nothing of the record, anywhere it travels
    for (const text of [...forms(error), ...logged]) {
      for (const piece of PIECES) expect(text, `"${piece}" leaked`).not.toContain(piece);
    }
  });

  it('every broken record in one file: the first problems in full, the rest counted, none with data', async () => {
    // Prepare: the Titan cases, one per line
    const lines = CASES.filter(([, model]) => model === TITAN).map(([, , line]) => Buffer.from(line));
    const body = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));

    // Act
    const error = (await runDatasetStep(TITAN, 'datasets/all.jsonl', body).catch((e: Error) => e)) as Error;

    // Assess
    expect(error.name).toBe('DatasetValidationError');
    expect(error.message).toContain(`First ${MAX_DETAILED_PROBLEMS}:`);
    for (const text of [...forms(error), ...logged]) {
      for (const piece of PIECES) expect(text, `"${piece}" leaked`).not.toContain(piece);
    }
  });

  it('the reported case: a line starting "SSN 078-05…" is "not valid JSON", not the parser\'s quote of it', async () => {
    const error = (await runDatasetStep(TITAN, 'datasets/ssn.jsonl', `${GOOD[TITAN]}\nSSN 078-05-1120\n`).catch((e: Error) => e)) as Error;
    expect(error.message).toContain('s3://training-bucket/datasets/ssn.jsonl line 2, (line) [jsonl.invalid-json]: not valid JSON');
    expect(error.message).not.toMatch(/Unexpected token|SSN|078-05/);
  });
});

/**
 * Regex denial of service (issue 19). Capability: the caller writes the execution input (or the CLI's
 * --input file). Invariant: a hostile string is rejected, naming its field, in bounded time; no input
 * makes a check backtrack. The reported attack: `a`, 27 dashes and `!` as jobName took 1.7 s in
 * resolveJobInput (Bedrock's `[a-zA-Z0-9](-*[a-zA-Z0-9+\-.])*` backtracks exponentially); at 63
 * characters it never finished. The bound is an abuse check for a loaded CI machine, not a benchmark.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../functions/shared/errors.js';
import { checkJobInputShape, jobInputSchema, resolveJobInput } from '../../functions/shared/job-input.js';
import { parseOrThrow } from '../../functions/shared/validation.js';
import { AwsTarget } from '../../cli/aws-target.js';
import { EXECUTION, rawJob, resolvedJob } from '../fixtures/job.js';
import { testStage } from '../fixtures/stage.js';

const BOUND_MS = 200;
const MB = 1 << 20;

/** The attack strings: each fails the check, the first two only at the regex (they pass the length cap). */
const ATTACKS: [string, string][] = [
  ['the reported string (a, 27 dashes, !)', `a${'-'.repeat(27)}!`],
  ['63 characters (the longest the cap lets through)', `a${'-'.repeat(61)}!`],
  ['1 MB of the same', `a${'-'.repeat(MB - 2)}!`],
];

/** Runs `attempt`, which must throw InvalidInputError; its issues' fields and the time it took. */
function rejected(attempt: () => unknown): { fields: string[]; ms: number } {
  const started = performance.now();
  try {
    attempt();
  } catch (err) {
    const ms = performance.now() - started;
    expect(err).toBeInstanceOf(InvalidInputError);
    return { fields: (err as InvalidInputError).issues.map((i) => i.field), ms };
  }
  throw new Error('the hostile input was accepted');
}

beforeAll(() => {
  // Warm the schemas up (zod compiles an object's parser on first use): the bound is for the attack.
  resolveJobInput(rawJob(), testStage(), EXECUTION);
  checkJobInputShape(rawJob());
});

describe('regex denial of service: the workflow\'s input check (resolveJobInput)', () => {
  it.each(ATTACKS)('rejects jobName = %s at once, naming jobName', (_, jobName) => {
    const { fields, ms } = rejected(() => resolveJobInput(rawJob({ jobName }), testStage(), EXECUTION));
    expect(fields).toEqual(['jobName']);
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it.each([
    ['customModelName', `a${'_a'.repeat(30)}!`],
    ['customModelName', 'a'.repeat(MB)],
    ['hyperParameters.epochCount', '1'.repeat(MB)],
    ['vpcConfig.subnetIds[0]', `subnet-${'0'.repeat(MB)}`],
    ['trainingDataS3Uri', `s3://${'a.'.repeat(MB / 2)}`],
  ])('rejects %s of an attack shape at once', (field, value) => {
    const input =
      field === 'hyperParameters.epochCount'
        ? rawJob({ hyperParameters: { epochCount: value } })
        : field === 'vpcConfig.subnetIds[0]'
          ? rawJob({ vpcConfig: { ...(rawJob().vpcConfig as object), subnetIds: [value] } })
          : rawJob({ [field]: value });
    const { fields, ms } = rejected(() => resolveJobInput(input, testStage(), EXECUTION));
    expect(fields).toEqual([field]);
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it.each([
    ['the clientRequestToken pattern', `a${'-'.repeat(253)}!`],
    ['1 MB', `a${'-'.repeat(MB - 2)}!`],
  ])('rejects a resolved job ($.job of the later steps) whose clientRequestToken is %s', (_, clientRequestToken) => {
    const { fields, ms } = rejected(() => parseOrThrow(jobInputSchema, { ...resolvedJob(), clientRequestToken }));
    expect(fields).toEqual(['clientRequestToken']);
    expect(ms).toBeLessThan(BOUND_MS);
  });
});

describe('regex denial of service: the CLI\'s input check (checkJobInputShape, before StartExecution)', () => {
  const target = new AwsTarget({ region: 'us-east-1', stage: 'dev' });

  it.each(ATTACKS)('rejects jobName = %s at once, naming jobName', (_, jobName) => {
    const { fields, ms } = rejected(() => target.validate(rawJob({ jobName })));
    expect(fields).toEqual(['jobName']);
    expect(ms).toBeLessThan(BOUND_MS);
  });
});

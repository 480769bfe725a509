import { siblingExecutionArn } from '../../functions/shared/arn.js';
import { BedrockClient, GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ledger } from '../../functions/shared/ledger.js';
import { emulatedLedger, LEDGER_NETWORK, ledgerWith } from '../support/ledger.js';
import { AccessDeniedException, ThrottlingException } from '@aws-sdk/client-bedrock';
import { JobNotOursError, JobStatusUnavailableError, JobStopError } from '../../functions/shared/errors.js';
import { isTransientAwsError } from '../../functions/shared/aws-errors.js';
import {
  EVENTS_BEFORE_FIRST_POLL,
  EVENTS_PER_EVENT_WAIT,
  EVENTS_PER_RETRY,
  handoverExecutionName,
  nextWaitSeconds,
  pollStatus,
  retriesWithin,
  secondsSinceStop,
  type PollStatusInput,
} from '../../functions/poll-status/poll-status.js';
import { DETECTION_BOUND_SECONDS, pollingSchema } from '../../functions/shared/job-state.js';

const bedrock = mockClient(BedrockClient);
const ec2 = mockClient(EC2Client);
const dynamodb = mockClient(DynamoDBClient);
let ledger: Ledger;
afterEach(() => {
  bedrock.reset();
  ec2.reset();
  dynamodb.reset();
});

const polling = { initialSeconds: 60, maxSeconds: 900, growthFactor: 1.5, handoverAfterEvents: 10_000, mode: 'poll' as const, eventSafetyNetSeconds: 900, maxExecutions: 50 };
const submission = {
  jobArn: 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/abc',
  jobName: 'job-1',
  adopted: false,
  submittedAt: '2026-11-28T10:00:00.000Z',
  deadline: '2026-11-29T10:00:00.000Z',
};
const FIRST = {
  id: 'arn:aws:states:us-east-1:123456789012:execution:bedrock-vpc-customization-dev-customize-model:run-1',
  name: 'run-1',
};
const input = (extra: Partial<PollStatusInput> = {}): PollStatusInput => ({ job: { jobName: 'job-1', polling }, execution: FIRST, submission, ...extra });
/** The ARN of FIRST's sibling execution `name` (same state machine). */
const arnOf = (name: string) => FIRST.id.replace(/:run-1$/, `:${name}`);
const chainHash = (name: string) => name.match(/-([0-9a-f]{12})-h\d+$/)?.[1];
const at = (iso: string) => ({ bedrock: new BedrockClient({}), ec2: new EC2Client({}), ledger, now: () => new Date(iso) });
/** The job ledger's nonce for the job (hand-over names hash it in: no one without the ledger can compute them). */
const nonce = async () => (await ledger.read(submission.jobName))!.nonce;
/** The job's network, as the ledger records it. */
const NETWORK = LEDGER_NETWORK;
// The job ledger as SubmitJob leaves it: the job reserved and recorded by the chain's first execution, its supervisor.
beforeEach(async () => {
  ({ ledger } = emulatedLedger(dynamodb));
  ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [] });
  await ledgerWith(ledger, [{ jobName: submission.jobName, owner: FIRST.id, jobArn: submission.jobArn }]);
});

describe('nextWaitSeconds', () => {
  it('grows from the initial interval to the cap', () => {
    const waits = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => nextWaitSeconds(polling, n, 1e9));
    expect(waits).toEqual([60, 90, 135, 203, 304, 456, 683, 900, 900]);
  });

  it('never waits past the deadline, and at least the polling floor (10 s)', () => {
    expect(nextWaitSeconds(polling, 8, 42.2)).toBe(43);
    expect(nextWaitSeconds(polling, 8, 0.1)).toBe(10);
    expect(nextWaitSeconds(polling, 1, -5)).toBe(60);
  });
});

describe('nextWaitSeconds with mode event', () => {
  const event = { ...polling, growthFactor: 2, mode: 'event' as const, eventSafetyNetSeconds: DETECTION_BOUND_SECONDS };

  it('grows the safety net with the job\'s age from initialSeconds, capped at eventSafetyNetSeconds (at most the bound), never past the deadline', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map((n) => nextWaitSeconds(event, n, 1e9))).toEqual([60, 120, 240, 480, 900, 900, 900]);
    expect([1, 3, 9].map((n) => nextWaitSeconds({ ...event, eventSafetyNetSeconds: 300 }, n, 1e9))).toEqual([60, 240, 300]);
    expect(nextWaitSeconds(event, 9, 600.2)).toBe(601);
  });

  it('never exceeds the detection bound, whatever the input says (a value above it is refused by the schema)', () => {
    for (const eventSafetyNetSeconds of [60, 600, 900, 43_200]) {
      for (const n of [1, 10, 1000]) expect(nextWaitSeconds({ ...event, eventSafetyNetSeconds }, n, 1e9)).toBeLessThanOrEqual(DETECTION_BOUND_SECONDS);
    }
    expect(pollingSchema.safeParse({ eventSafetyNetSeconds: DETECTION_BOUND_SECONDS + 1 }).success).toBe(false);
    expect(pollingSchema.parse({}).eventSafetyNetSeconds).toBe(DETECTION_BOUND_SECONDS);
  });
});

describe('nextWaitSeconds after a stop request', () => {
  it('first initialSeconds, then as long as the stop has taken so far (doubling), capped at the bound, in both modes', () => {
    for (const p of [{ ...polling, mode: 'event' as const, eventSafetyNetSeconds: DETECTION_BOUND_SECONDS }, { ...polling, maxSeconds: 3600 }]) {
      // Past the deadline (secondsToDeadline < 0), late in a long job (poll 500): still short.
      expect([0, 30, 60, 120, 240, 480, 960, 86_400].map((since) => nextWaitSeconds(p, 500, -10, since))).toEqual([60, 60, 60, 120, 240, 480, 900, 900]);
    }
  });

  it('reads the time since the stop from StopJob\'s requestedAt (0 when it does not say)', () => {
    const now = new Date('2026-11-29T10:05:00Z');
    expect(secondsSinceStop({ requested: true, requestedAt: '2026-11-29T10:00:00Z' }, now)).toBe(300);
    expect(secondsSinceStop({}, now)).toBe(0);
    expect(secondsSinceStop({ requestedAt: '2026-11-29T10:06:00Z' }, now)).toBe(0);
  });

  it('the poll that decides the stop, and those after it, ask for the short waits even in a job whose waits have grown', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress' });
    const slow = { ...polling, mode: 'event' as const, eventSafetyNetSeconds: DETECTION_BOUND_SECONDS };
    const late = at('2026-11-29T10:00:01Z');
    const job = { jobName: 'job-1', polling: slow };
    expect(await pollStatus(input({ job, poll: { pollCount: 90 } }), late)).toMatchObject({ next: 'stop', nextWaitSeconds: 60, fallbackWaitSeconds: 60 });
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'Stopping' });
    const stopRequest = { requested: true, reason: 'deadline', requestedAt: '2026-11-29T09:56:01Z' };
    expect(await pollStatus(input({ job, poll: { pollCount: 95 }, stopRequest }), late)).toMatchObject({ next: 'wait', status: 'Stopping', nextWaitSeconds: 240 });
  });

  it('a stop decided again after a failed stop request waits at the job\'s own pace (a failing stop does not loop every minute)', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress' });
    const small = { ...polling, mode: 'event' as const, handoverAfterEvents: 2_000, maxExecutions: 2 };
    const full = { pollCount: 90, pollsThisExecution: 200 };
    const stopError = { Error: 'Bedrock.InternalServerException', Cause: 'try again' };
    const early = at('2026-11-28T11:00:00Z');
    expect(await pollStatus(input({ job: { jobName: 'job-1', polling: small }, poll: full, handover: { generation: 1 } }), early)).toMatchObject({ next: 'stop', nextWaitSeconds: 60 });
    expect(await pollStatus(input({ job: { jobName: 'job-1', polling: small }, poll: full, handover: { generation: 1 }, stopError }), early)).toMatchObject({ next: 'stop', nextWaitSeconds: 900 });
  });
});

describe('nextWaitSeconds with mode event (history)', () => {
  it('counts an event-wait iteration as 13 history events (the callback Task has 6)', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress' });
    const event = { ...polling, mode: 'event' as const, eventSafetyNetSeconds: 600 };
    const out = await pollStatus({ job: { jobName: 'job-1', polling: event }, execution: FIRST, submission, poll: { pollCount: 8, pollsThisExecution: 3 } }, at('2026-11-28T11:00:00Z'));
    expect(out).toMatchObject({ next: 'wait', nextWaitSeconds: 600, historyEvents: EVENTS_BEFORE_FIRST_POLL + 4 * EVENTS_PER_EVENT_WAIT });
  });
});

describe('pollStatus', () => {
  it('keeps waiting while the job runs, counting polls', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress' });
    const poll = await pollStatus(input({ poll: { pollCount: 2 } }), at('2026-11-28T11:00:00Z'));
    expect(poll).toMatchObject({ status: 'InProgress', next: 'wait', pollCount: 3, pollsThisExecution: 1, nextWaitSeconds: 135, deadlineExceeded: false });
    expect(bedrock).toHaveReceivedCommandWith(GetModelCustomizationJobCommand, { jobIdentifier: submission.jobArn });
  });

  it('surfaces statusDetails', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({
      status: 'InProgress',
      statusDetails: { trainingDetails: { status: 'InProgress', creationTime: new Date('2026-11-28T10:05:00Z') } },
    });
    const poll = await pollStatus(input(), at('2026-11-28T11:00:00Z'));
    expect(poll.statusDetails).toEqual({ trainingDetails: { status: 'InProgress', creationTime: '2026-11-28T10:05:00.000Z' } });
  });

  it.each([
    ['Completed', 'completed', 'completed; custom model arn:model'],
    ['Failed', 'failed', 'failed: Insufficient capacity'],
    ['Stopped', 'stopped', 'stopped outside this workflow'],
  ] as const)('maps %s to %s', async (status, next, message) => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({
      status,
      outputModelArn: 'arn:model',
      ...(status === 'Failed' ? { failureMessage: 'Insufficient capacity' } : {}),
    });
    const poll = await pollStatus(input(), at('2026-11-28T11:00:00Z'));
    expect(poll.next).toBe(next);
    expect(poll.message).toContain(message);
    if (status === 'Failed') expect(poll.failureMessage).toBe('Insufficient capacity');
  });

  it('asks to stop once the deadline has passed, then waits for Stopped', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress' });
    const late = at('2026-11-29T10:00:01Z');
    expect(await pollStatus(input(), late)).toMatchObject({ next: 'stop', deadlineExceeded: true });
    expect(await pollStatus(input({ stopRequest: {} }), late)).toMatchObject({ next: 'wait', deadlineExceeded: true });
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'Stopping' });
    expect(await pollStatus(input({ stopRequest: {} }), late)).toMatchObject({ next: 'wait', status: 'Stopping' });
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'Stopped' });
    const stopped = await pollStatus(input({ stopRequest: {} }), late);
    expect(stopped).toMatchObject({ next: 'stopped' });
    expect(stopped.message).toContain('deadline');
  });

  it('turns a transient Get error into JobStatusUnavailableError and passes any other one unchanged', async () => {
    bedrock.on(GetModelCustomizationJobCommand).rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));
    const throttled = await pollStatus(input(), at('2026-11-28T11:00:00Z')).catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(JobStatusUnavailableError);
    expect((throttled as Error).message).toContain('ThrottlingException: Rate exceeded');
    const denied = new AccessDeniedException({ message: 'no', $metadata: { httpStatusCode: 403 } });
    bedrock.on(GetModelCustomizationJobCommand).rejects(denied);
    expect(await pollStatus(input(), at('2026-11-28T11:00:00Z')).catch((e: unknown) => e)).toBe(denied);
  });

  it.each([
    [{ name: 'ThrottlingException', $metadata: {} }, true],
    [{ name: 'InternalServerException', $metadata: { httpStatusCode: 500 } }, true],
    [{ name: 'SomethingNew', $metadata: { httpStatusCode: 503 } }, true],
    [{ name: 'SomethingNew', $metadata: { httpStatusCode: 429 } }, true],
    [{ name: 'ModelTimeoutException', $metadata: { httpStatusCode: 408 } }, true],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true],
    [{ name: 'TimeoutError' }, true],
    [{ name: 'Whatever', $retryable: {} }, true],
    [{ name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } }, false],
    [{ name: 'ValidationException', $metadata: { httpStatusCode: 400 } }, false],
    [new Error('plain'), false],
    [undefined, false],
  ])('isTransientAwsError(%o) is %s', (err, expected) => {
    expect(isTransientAwsError(err)).toBe(expected);
  });

  it('counts the retries a late check implies in the history estimate', async () => {
    expect([0, 59, 60, 179, 180, 1860, 3660, 21_659, 21_660, 1e9].map(retriesWithin)).toEqual([0, 0, 1, 1, 2, 5, 6, 15, 16, 16]);
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress' });
    const previous = { pollCount: 3, pollsThisExecution: 3, retriesThisExecution: 1, checkedAt: '2026-11-28T11:00:00.000Z', nextWaitSeconds: 600 };
    // on time (+ a few seconds of Lambda): no retry
    const onTime = await pollStatus(input({ poll: previous }), at('2026-11-28T11:10:05Z'));
    expect(onTime).toMatchObject({ retriesThisExecution: 1, historyEvents: EVENTS_BEFORE_FIRST_POLL + 4 * 9 + 1 * EVENTS_PER_RETRY });
    // 600 s wait + 60 + 120 + 240 s of retries: 3 more
    const late = await pollStatus(input({ poll: previous }), at('2026-11-28T11:17:05Z'));
    expect(late).toMatchObject({ retriesThisExecution: 4, historyEvents: EVENTS_BEFORE_FIRST_POLL + 4 * 9 + 4 * EVENTS_PER_RETRY });
  });

  it('fails loudly when the stop request failed and the job still runs past its deadline', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress' });
    const error = await pollStatus(
      input({ stopError: { Error: 'Bedrock.AccessDeniedException', Cause: 'not allowed' } }),
      at('2026-11-29T10:00:01Z'),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobStopError);
    expect((error as Error).message).toContain('not allowed');
  });

  it('hands the job over when this execution\'s history nears the limit, keeping the poll count', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress' });
    const small = { ...polling, handoverAfterEvents: 205 };
    const base = { job: { jobName: 'job-1', polling: small }, submission, execution: FIRST };
    // EVENTS_BEFORE_FIRST_POLL (35) + n * 9 + 60 reserved >= 205  <=>  n >= 13
    const before = await pollStatus({ ...base, poll: { pollCount: 40, pollsThisExecution: 11 } }, at('2026-11-28T11:00:00Z'));
    expect(before).toMatchObject({ next: 'wait', pollsThisExecution: 12, historyEvents: EVENTS_BEFORE_FIRST_POLL + 12 * 9 });
    const due = await pollStatus({ ...base, poll: { pollCount: 41, pollsThisExecution: 12 } }, at('2026-11-28T11:00:00Z'));
    expect(due).toMatchObject({ next: 'handover', pollCount: 42, handover: { generation: 1, executionName: handoverExecutionName(FIRST, 1, await nonce()) } });
    const again = await pollStatus(
      { ...base, handover: { generation: 1 }, poll: { pollCount: 80, pollsThisExecution: 12 } },
      at('2026-11-28T11:00:00Z'),
    );
    expect(again.handover).toEqual({ generation: 2, executionName: handoverExecutionName(FIRST, 2, await nonce()), executionArn: arnOf(handoverExecutionName(FIRST, 2, await nonce())) });
  });

  it('skips a successor name taken by an execution that is not ours (HandOverRefused), and gives the successor\'s ARN', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress' });
    const base = { job: { jobName: 'job-1', polling: { ...polling, handoverAfterEvents: 100 } }, submission, execution: FIRST, poll: { pollCount: 20, pollsThisExecution: 20 } };
    const refusedOnce = await pollStatus({ ...base, handoverRefused: { generation: 1 } }, at('2026-11-28T11:00:00Z'));
    expect(refusedOnce.handover).toEqual({ generation: 2, executionName: handoverExecutionName(FIRST, 2, await nonce()), executionArn: arnOf(handoverExecutionName(FIRST, 2, await nonce())) });
    const refusedTwice = await pollStatus({ ...base, handoverRefused: { generation: 2 } }, at('2026-11-28T11:00:00Z'));
    expect(refusedTwice.handover!.generation).toBe(3);
    // in a resumed execution (generation 3), a refusal recorded for an older generation changes nothing
    const resumed = await pollStatus({ ...base, handover: { generation: 3 }, handoverRefused: { generation: 1 } }, at('2026-11-28T11:00:00Z'));
    expect(resumed.handover!.generation).toBe(4);
  });

  it('siblingExecutionArn replaces the execution name, and refuses what is not an execution ARN', () => {
    expect(siblingExecutionArn(FIRST.id, 'next-h1')).toBe(
      'arn:aws:states:us-east-1:123456789012:execution:bedrock-vpc-customization-dev-customize-model:next-h1',
    );
    expect(siblingExecutionArn('arn:aws-cn:states:cn-north-1:123456789012:execution:sm:a', 'b')).toBe('arn:aws-cn:states:cn-north-1:123456789012:execution:sm:b');
    expect(siblingExecutionArn(submission.jobArn, 'b')).toBeUndefined();
  });

  it('hands over an execution that has run 20 days, whatever its history', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress' });
    const job = { jobName: 'j', polling };
    const young = await pollStatus(
      { job, submission: { ...submission, deadline: '2027-01-30T00:00:00.000Z' }, execution: { ...FIRST, startTime: '2026-11-09T11:00:01Z' } },
      at('2026-11-28T11:00:00Z'),
    );
    expect(young.next).toBe('wait');
    const old = await pollStatus(
      { job, submission: { ...submission, deadline: '2027-01-30T00:00:00.000Z' }, execution: { ...FIRST, startTime: '2026-11-08T11:00:00Z' } },
      at('2026-11-28T11:00:00Z'),
    );
    expect(old).toMatchObject({ next: 'handover', handover: { generation: 1 } });
    expect(old.message).toContain('has run 20 days');
    // a resumed execution counts from its own start, not the first one's
    const resumed = await pollStatus(
      {
        job,
        submission: { ...submission, deadline: '2027-01-30T00:00:00.000Z' },
        execution: { ...FIRST, startTime: '2026-10-01T00:00:00Z' },
        handover: { generation: 1, startedAt: '2026-11-20T00:00:00Z' },
      },
      at('2026-11-28T11:00:00Z'),
    );
    expect(resumed.next).toBe('wait');
  });

  it('does not hand over while a stop is pending, and stops before handing over past the deadline', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress' });
    const small = { ...polling, handoverAfterEvents: 100 };
    const full = { pollCount: 99, pollsThisExecution: 99 };
    const late = at('2026-11-29T10:00:01Z');
    expect(await pollStatus({ job: { jobName: 'j', polling: small }, execution: FIRST, submission, poll: full }, late)).toMatchObject({ next: 'stop' });
    expect(await pollStatus({ job: { jobName: 'j', polling: small }, execution: FIRST, submission, poll: full, stopRequest: {} }, late)).toMatchObject({ next: 'wait' });
  });

  it('counts the quota-wait iterations before submission in the history estimate', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress' });
    const base = { job: { jobName: 'job-1', polling }, submission, execution: FIRST };
    const plain = await pollStatus(base, at('2026-11-28T11:00:00Z'));
    const afterQuota = await pollStatus({ ...base, quotaWait: { attempts: 10 } }, at('2026-11-28T11:00:00Z'));
    expect(afterQuota.historyEvents - plain.historyEvents).toBe(10 * 12);
    // a quota wait that filled most of the budget hands the job over at the first poll
    const heavy = await pollStatus({ ...base, quotaWait: { attempts: 830 } }, at('2026-11-28T11:00:00Z'));
    expect(heavy.next).toBe('handover');
  });

  it('names the successor of an execution called exp-h1 differently from itself', () => {
    const first = { id: `${FIRST.id.replace(/run-1$/, '')}exp-h1`, name: 'exp-h1' };
    const name = handoverExecutionName(first, 1);
    expect(name).not.toBe('exp-h1');
    expect(name).toMatch(/^exp-h1-[0-9a-f]{12}-h1$/);
  });

  it('keeps apart two long names that share their first 70 characters', () => {
    const shared = 'experiment-'.padEnd(75, 'x');
    const a = { id: `${FIRST.id.replace(/run-1$/, '')}${shared}-a`, name: `${shared}-a` };
    const b = { id: `${FIRST.id.replace(/run-1$/, '')}${shared}-b`, name: `${shared}-b` };
    for (const generation of [1, 2, 99]) {
      expect(handoverExecutionName(a, generation)).not.toBe(handoverExecutionName(b, generation));
    }
  });

  it('derives every generation from the first execution: deterministic, within 80 valid characters', () => {
    const long = { id: `${FIRST.id.replace(/run-1$/, '')}${'n'.repeat(80)}`, name: 'n'.repeat(80) };
    for (const first of [FIRST, long, { id: FIRST.id, name: 'odd name:with/chars' }]) {
      const names = [1, 2, 3, 1000].map((g) => handoverExecutionName(first, g));
      expect(new Set(names).size).toBe(4);
      expect(new Set(names.map(chainHash)).size).toBe(1);
      for (const name of names) {
        expect(name.length).toBeLessThanOrEqual(80);
        expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
      }
      expect(handoverExecutionName(first, 2)).toBe(handoverExecutionName({ ...first }, 2));
    }
    expect(handoverExecutionName(FIRST, 1)).toMatch(/^run-1-[0-9a-f]{12}-h1$/);
  });

  it('names generation 2 from the first execution when generation 1 hands over, not from generation 1', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress' });
    const small = { ...polling, handoverAfterEvents: 100 };
    const full = { pollCount: 20, pollsThisExecution: 20 };
    // generation 1 runs under its own name, but carries the first execution in $.execution
    const fromGen1 = await pollStatus(
      { job: { jobName: 'j', polling: small }, submission, execution: FIRST, poll: full, handover: { generation: 1 } },
      at('2026-11-28T11:00:00Z'),
    );
    expect(fromGen1.handover).toEqual({ generation: 2, executionName: handoverExecutionName(FIRST, 2, await nonce()), executionArn: arnOf(handoverExecutionName(FIRST, 2, await nonce())) });
    expect(chainHash(fromGen1.handover!.executionName)).toBe(chainHash(handoverExecutionName(FIRST, 1, await nonce())));
  });

  it('rejects a status it does not know', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'Paused' as never });
    await expect(pollStatus(input(), at('2026-11-28T11:00:00Z'))).rejects.toThrow(/Unexpected job status "Paused"/);
  });
});

describe('pollStatus as the job\'s supervisor (the job ledger)', () => {
  const tagged = (id: string, over: Record<string, unknown> = {}) => ({
    NetworkInterfaceId: id,
    VpcId: NETWORK.vpcId,
    SubnetId: NETWORK.subnetIds[0],
    Groups: [{ GroupId: NETWORK.securityGroupIds[0] }],
    TagSet: [
      { Key: 'BedrockManaged', Value: 'true' },
      { Key: 'BedrockModelCustomizationJobArn', Value: submission.jobArn },
    ],
    ...over,
  });

  it('records the job\'s ENIs while it runs, only those in its subnets with its security groups', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress' });
    ec2.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [
        tagged('eni-00000000000000001'),
        tagged('eni-00000000000000002', { SubnetId: 'subnet-0ffffffffffffffff' }),
        tagged('eni-00000000000000003', { Groups: [{ GroupId: 'sg-0ffffffffffffffff' }] }),
        tagged('eni-00000000000000004', { VpcId: 'vpc-0ffffffffffffffff' }),
      ],
    });
    await pollStatus(input(), at('2026-11-28T11:00:00Z'));
    expect((await ledger.read(submission.jobName))!.enis).toEqual(['eni-00000000000000001']);
    expect(ec2).toHaveReceivedCommandWith(DescribeNetworkInterfacesCommand, {
      Filters: expect.arrayContaining([{ Name: 'tag:BedrockModelCustomizationJobArn', Values: [submission.jobArn] }, { Name: 'subnet-id', Values: NETWORK.subnetIds }]),
    });
  });

  it('records nothing once the job has ended (a tag written after the job is not proof)', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'Completed' });
    ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [tagged('eni-00000000000000001')] });
    await pollStatus(input(), at('2026-11-28T11:00:00Z'));
    expect((await ledger.read(submission.jobName))!.enis).toEqual([]);
    expect(ec2).not.toHaveReceivedCommand(DescribeNetworkInterfacesCommand);
  });

  it('an execution the ledger does not name for this job: JobNotOursError, Bedrock not asked', async () => {
    const other = { id: FIRST.id.replace(/run-1$/, 'intruder'), name: 'intruder' };
    await expect(pollStatus(input({ execution: other }), at('2026-11-28T11:00:00Z'))).rejects.toBeInstanceOf(JobNotOursError);
    expect(bedrock.calls()).toHaveLength(0);
  });

  it('a successor that claimed the job supersedes this execution: it ends without a status check', async () => {
    const successor = arnOf('run-1-next-h1');
    expect(await ledger.designate(submission.jobName, FIRST.id, successor, 1)).toBe(true);
    expect(await ledger.claim(submission.jobName, successor, FIRST.id, submission.jobArn)).toBe(true);
    const out = await pollStatus(input(), at('2026-11-28T11:00:00Z'));
    expect(out.next).toBe('superseded');
    expect(bedrock.calls()).toHaveLength(0);
  });

  it('a designated successor that never claimed the job: this execution takes it back and goes on', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress' });
    const successor = arnOf('run-1-next-h1');
    await ledger.designate(submission.jobName, FIRST.id, successor, 1);
    const out = await pollStatus(input(), at('2026-11-28T11:00:00Z'));
    expect(out.next).toBe('wait');
    expect(await ledger.read(submission.jobName)).toMatchObject({ supervisor: FIRST.id, claimed: true });
    // and the successor can no longer claim it
    expect(await ledger.claim(submission.jobName, successor, FIRST.id, submission.jobArn)).toBe(false);
  });

  it('designates the successor in the ledger before handing over', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress' });
    const out = await pollStatus(input({ job: { jobName: 'job-1', polling: { ...polling, handoverAfterEvents: 100 } }, poll: { pollCount: 20, pollsThisExecution: 20 } }), at('2026-11-28T11:00:00Z'));
    expect(out.next).toBe('handover');
    expect(await ledger.read(submission.jobName)).toMatchObject({ supervisor: out.handover!.executionArn, claimed: false, handoverFrom: FIRST.id, generation: 1 });
  });
});

describe('pollStatus: executions per job (stage param maxExecutionsPerJob)', () => {
  it('stops the job instead of handing it over past its last allowed execution, and says why once it is Stopped', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress' });
    const full = { pollCount: 20, pollsThisExecution: 20 };
    const small = { ...polling, handoverAfterEvents: 100, maxExecutions: 3 };
    // Generation 1 of 3 (the second execution) still hands over; generation 2 (the third) stops.
    const second = await pollStatus(input({ job: { jobName: 'job-1', polling: small }, poll: full, handover: { generation: 1 } }), at('2026-11-28T11:00:00Z'));
    expect(second.next).toBe('handover');
    await ledger.takeBack(submission.jobName, FIRST.id, second.handover!.executionArn!);
    const third = await pollStatus(input({ job: { jobName: 'job-1', polling: small }, poll: full, handover: { generation: 2 } }), at('2026-11-28T11:00:00Z'));
    expect(third).toMatchObject({ next: 'stop', stopReason: 'executions', message: expect.stringContaining('used its 3 executions') });
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'Stopped' });
    const stopRequest = { requested: true, reason: 'executions' };
    const stopped = await pollStatus(input({ job: { jobName: 'job-1', polling: small }, poll: full, handover: { generation: 2 }, stopRequest }), at('2026-11-28T11:00:00Z'));
    expect(stopped).toMatchObject({ next: 'stopped', message: expect.stringContaining('maxExecutionsPerJob') });
  });
});


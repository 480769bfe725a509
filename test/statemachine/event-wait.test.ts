/**
 * The event-driven wait (stage jobWait: event): after SubmitJob the workflow waits in WaitForJobEvent
 * (`lambda:invoke.waitForTaskToken`, the runner's stand-in: local/callbacks.ts) for job-events
 * to release its task token on Bedrock's job-state event, with a safety-net status check when no
 * event comes. The job-events step logic runs for real against the mocked account's in-memory DynamoDB
 * (job-waits table and job ledger) and a mocked Bedrock;
 * events are AWS's documented sample with this job's ARN and status (deep copies).
 */
import { BedrockClient, GetModelCustomizationJobCommand, StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { DeleteNetworkInterfaceCommand } from '@aws-sdk/client-ec2';
import { DETECTION_BOUND_SECONDS } from '../../functions/shared/job-state.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { jobLedger } from '../../functions/shared/ledger-env.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { onJobStateChange } from '../../functions/job-events/job-events.js';
import { jobEventsConfig, localCallbacks, runWorkflow } from '../../local/workflow.js';
import { TEST_STAGE_PARAMS, setStage } from '../fixtures/stage.js';
import { rawJob } from '../fixtures/job.js';
import { fixtureEvent } from '../support/event-ruler.js';
import { ACCOUNT, mockHealthyAccount, mocks, tables } from '../support/mock-account.js';
import { count, handlers, useRealHandlers } from '../support/state-machine.js';

useRealHandlers();

let waits: { has(pk: string): boolean };
let status: string;

beforeEach(() => {
  setStage({ ...TEST_STAGE_PARAMS, jobWait: 'event' });
  mockHealthyAccount();
  // The job's status as Bedrock reports it now (the test moves it).
  status = 'InProgress';
  mocks.bedrock.on(GetModelCustomizationJobCommand, { jobIdentifier: ACCOUNT.jobArn }).callsFake(() => ({ jobArn: ACCOUNT.jobArn, status }));
  // The job-waits table as the in-memory DynamoDB of the mocked account holds it (pk → item).
  waits = {
    has: (pk: string) => tables.getItem({ TableName: jobEventsConfig().table, Key: { pk: { S: pk } } }).Item !== undefined,
  };
});
afterEach(() => setStage(TEST_STAGE_PARAMS));

/** AWS's sample "Model Customization Job State Change" with this job's ARN and status (a deep copy). */
function jobEvent(jobArn = ACCOUNT.jobArn, jobStatus = 'Completed') {
  const event = fixtureEvent('bedrock-model-customization-job-state-change');
  event.detail.jobArn = jobArn;
  event.detail.jobStatus = jobStatus;
  event.resources = [jobArn];
  return event;
}

/** What EventBridge does: the event to job-events (its step logic; Step Functions is the runner's stand-in). */
const deliver = (event = jobEvent()) =>
  onJobStateChange(event.detail, jobEventsConfig(), {
    dynamodb: new DynamoDBClient({}),
    bedrock: new BedrockClient({}),
    sfn: localCallbacks as never,
    ledger: jobLedger(),
    now: () => new Date(),
  });

/** Resolves once an execution waits for the job (its token is in the table). */
async function waiting(): Promise<void> {
  for (let i = 0; i < 400 && !waits.has(ACCOUNT.jobArn); i++) await new Promise((r) => setTimeout(r, 5));
  if (!waits.has(ACCOUNT.jobArn)) throw new Error('no execution registered a wait');
}

describe('event-driven wait', () => {
  it('event delivered: one wait, released by the event; PollStatus confirms, cleanup, Succeed', async () => {
    const run = runWorkflow({ input: rawJob(), handlers: handlers(), waitMs: 0, retryMs: 0, eventWaitMs: 10_000 });
    await waiting();
    status = 'Completed';
    const started = Date.now();
    expect(await deliver()).toEqual({ released: true, jobArn: ACCOUNT.jobArn, status: 'Completed' });
    const result = await run;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.status, `${result.error} ${result.cause} ${result.states.join(',')}`).toBe('SUCCEEDED');
    expect(result.states.slice(result.states.indexOf('SubmitJob'))).toEqual([
      'SubmitJob', 'PollStatus', 'JobStatus', 'WaitForJobEvent', 'PollStatus', 'JobStatus', 'CleanupEnis', 'GateOrRevoke', 'RevokeGrants', 'Outcome', 'JobSucceeded',
    ]);
    expect((result.output as { jobEvent: unknown }).jobEvent).toMatchObject({ jobArn: ACCOUNT.jobArn, status: 'Completed', source: 'event' });
    expect(waits.has(ACCOUNT.jobArn)).toBe(false);
  });

  it('every event lost: the wait times out (safety net) and PollStatus finds the terminal status', async () => {
    let polls = 0;
    mocks.bedrock.on(GetModelCustomizationJobCommand, { jobIdentifier: ACCOUNT.jobArn }).callsFake(() => ({ jobArn: ACCOUNT.jobArn, status: ++polls >= 5 ? 'Completed' : 'InProgress' }));
    const result = await runWorkflow({ input: rawJob(), handlers: handlers(), waitMs: 0, retryMs: 0, eventWaitMs: 20 });
    expect(result.status).toBe('SUCCEEDED');
    expect(count(result.states, 'WaitForJobEvent')).toBeGreaterThanOrEqual(2);
    expect(count(result.states, 'WaitForJob')).toBe(0);
    expect((result.output as { jobEvent: { Error: string } }).jobEvent.Error).toBe('States.Timeout');
  });

  it('the event before the token: register finds the job ended and releases the wait itself', async () => {
    let reads = 0;
    // The first poll sees InProgress; by the time the wait registers, the job has completed (its event is gone).
    mocks.bedrock.on(GetModelCustomizationJobCommand, { jobIdentifier: ACCOUNT.jobArn }).callsFake(() => ({ jobArn: ACCOUNT.jobArn, status: ++reads === 1 ? 'InProgress' : 'Completed' }));
    const started = Date.now();
    const result = await runWorkflow({ input: rawJob(), handlers: handlers(), waitMs: 0, retryMs: 0, eventWaitMs: 10_000 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.status).toBe('SUCCEEDED');
    expect(count(result.states, 'WaitForJobEvent')).toBe(1);
    expect((result.output as { jobEvent: unknown }).jobEvent).toMatchObject({ status: 'Completed', source: 'register' });
  });

  it('duplicate events: the first releases the wait, the second finds nothing waiting', async () => {
    const run = runWorkflow({ input: rawJob(), handlers: handlers(), waitMs: 0, retryMs: 0, eventWaitMs: 10_000 });
    await waiting();
    status = 'Completed';
    const [first, second] = await Promise.all([deliver(), deliver()]);
    const results = [first, second].map((r) => ('released' in r ? 'released' : 'ignored'));
    expect(results.sort()).toEqual(['ignored', 'released']);
    expect((await run).status).toBe('SUCCEEDED');
    expect(await deliver()).toMatchObject({ ignored: 'no execution waits for this job' });
  });

  it("events of other jobs, accounts or regions, and of a job still running, release nothing", async () => {
    const run = runWorkflow({ input: rawJob(), handlers: handlers(), waitMs: 0, retryMs: 0, eventWaitMs: 300 });
    await waiting();
    const other = ACCOUNT.jobArn.replace('job-under-test', 'someone-elses-job');
    expect(await deliver(jobEvent(other))).toMatchObject({ ignored: 'no execution waits for this job' });
    expect(await deliver(jobEvent(ACCOUNT.jobArn.replace('123456789012', '210987654321')))).toMatchObject({ ignored: expect.stringContaining('not our job') });
    expect(await deliver(jobEvent(ACCOUNT.jobArn.replace('us-east-1', 'eu-west-1')))).toMatchObject({ ignored: expect.stringContaining('not our job') });
    // The event says Completed, the API says InProgress: the API wins.
    expect(await deliver(jobEvent(ACCOUNT.jobArn, 'Completed'))).toMatchObject({ ignored: 'the job is InProgress, not ended' });
    expect(waits.has(ACCOUNT.jobArn)).toBe(true);
    // Nothing released it: the safety net ends the wait, and the job goes on being followed.
    status = 'Completed';
    const result = await run;
    expect(result.status).toBe('SUCCEEDED');
    expect((result.output as { jobEvent: { Error?: string; source?: string } }).jobEvent.Error ?? 'released').toBe('States.Timeout');
  });

  it('a job input may ask for polling in an event stage; a poll stage refuses event mode', async () => {
    let reads = 0;
    mocks.bedrock.on(GetModelCustomizationJobCommand, { jobIdentifier: ACCOUNT.jobArn }).callsFake(() => ({ jobArn: ACCOUNT.jobArn, status: ++reads >= 3 ? 'Completed' : 'InProgress' }));
    const polled = await runWorkflow({ input: rawJob({ polling: { mode: 'poll' } }), handlers: handlers(), waitMs: 0, retryMs: 0 });
    expect(polled.status).toBe('SUCCEEDED');
    expect(count(polled.states, 'WaitForJobEvent')).toBe(0);
    expect(count(polled.states, 'WaitForJob')).toBe(2);
    setStage({ ...TEST_STAGE_PARAMS, jobWait: 'poll' });
    const refused = await runWorkflow({ input: rawJob({ polling: { mode: 'event' } }), handlers: handlers(), waitMs: 0, retryMs: 0 });
    expect(refused).toMatchObject({ status: 'FAILED', error: 'InvalidInputError' });
    expect(refused.cause).toContain('polling.mode: must be \\"poll\\"');
  });
});

/** The safety net (`$.poll.nextWaitSeconds`: WaitForJobEvent's TimeoutSecondsPath) of every wait a run entered, by state. */
function waitsOf(run: { events: unknown[] }) {
  const out: { state: string; seconds: number; afterStop: boolean }[] = [];
  for (const e of run.events as { type: string; state?: { name: string; input?: { poll?: { nextWaitSeconds?: number }; stopRequest?: unknown } } }[]) {
    if (e.type !== 'StateEntered' || !['WaitForJobEvent', 'WaitForJob'].includes(e.state!.name)) continue;
    out.push({ state: e.state!.name, seconds: e.state!.input!.poll!.nextWaitSeconds!, afterStop: e.state!.input!.stopRequest !== undefined });
  }
  return out;
}

describe('the detection bound (every event lost)', () => {
  it('each safety net grows from initialSeconds with the job\'s age and never exceeds the bound: the end is seen by the check after it', async () => {
    // The job ends before the 13th status check (job-events' own reads at registration see it running).
    let checks = 0;
    mocks.bedrock.on(GetModelCustomizationJobCommand, { jobIdentifier: ACCOUNT.jobArn }).callsFake(() => ({ jobArn: ACCOUNT.jobArn, status: checks >= 13 ? 'Completed' : 'InProgress' }));
    const run = await runWorkflow({
      input: rawJob(),
      handlers: handlers(),
      waitMs: 0,
      retryMs: 0,
      eventWaitMs: 0,
      onEvent: (e) => {
        if (e.type === 'StateEntered' && (e as { state: { name: string } }).state.name === 'PollStatus') checks++;
      },
    });
    expect(run.status, `${run.error} ${run.cause}`).toBe('SUCCEEDED');
    const waits = waitsOf(run);
    expect(waits.every((w) => w.state === 'WaitForJobEvent')).toBe(true);
    // One wait before each status check after the first; the last check saw the end.
    expect(waits).toHaveLength(count(run.states, 'PollStatus') - 1);
    expect(waits.length).toBeGreaterThanOrEqual(12);
    expect(waits.map((w) => w.seconds)).toEqual([60, 120, 240, 480, ...Array<number>(waits.length - 4).fill(DETECTION_BOUND_SECONDS)]);
    expect(run.states.slice(-6)).toEqual(['JobStatus', 'CleanupEnis', 'GateOrRevoke', 'RevokeGrants', 'Outcome', 'JobSucceeded']);
  });

  it('a job that asks for a safety net above the bound is refused before any AWS call, the field named', async () => {
    const run = await runWorkflow({ input: rawJob({ polling: { eventSafetyNetSeconds: DETECTION_BOUND_SECONDS + 1 } }), handlers: handlers(), waitMs: 0, retryMs: 0 });
    expect(run).toMatchObject({ status: 'FAILED', error: 'InvalidInputError' });
    expect(run.cause).toContain('polling.eventSafetyNetSeconds');
  });
});

describe('after a stop, the same bound', () => {
  /**
   * Bedrock as it stops a job: InProgress until the stop request, then `afterStop.status` (Stopping; the
   * test moves it to Stopped) once `stoppingReads` reads have seen Stopping; `afterStop.reads` counts them.
   */
  function stoppableJob(stoppingReads: number) {
    const afterStop = { requested: false, reads: 0, stoppingReads, status: 'Stopping' };
    mocks.bedrock.on(StopModelCustomizationJobCommand).callsFake(() => {
      afterStop.requested = true;
      return {};
    });
    mocks.bedrock.on(GetModelCustomizationJobCommand, { jobIdentifier: ACCOUNT.jobArn }).callsFake(() => ({
      jobArn: ACCOUNT.jobArn,
      status: !afterStop.requested ? 'InProgress' : afterStop.reads++ < afterStop.stoppingReads ? 'Stopping' : afterStop.status,
    }));
    return afterStop;
  }

  it('deadline stop, every event lost: waits for the Stopped event (not a plain Wait), each safety net short and within the bound; then cleanup and revocation', async () => {
    const afterStop = stoppableJob(5);
    afterStop.status = 'Stopped';
    const run = await runWorkflow({ input: rawJob({ maxJobDurationSeconds: 1 }), handlers: handlers(), waitMs: 0, retryMs: 0, eventWaitMs: 250 });
    expect(run).toMatchObject({ status: 'FAILED', error: 'JobDeadlineExceededError' });
    const statesAfterStop = run.states.slice(run.states.indexOf('StopJob'));
    expect(statesAfterStop.slice(0, 3)).toEqual(['StopJob', 'WaitAfterStop', 'WaitForJobEvent']);
    expect(statesAfterStop).not.toContain('WaitForJob');
    // The waits after the stop request: initialSeconds, then as long as the stop has taken (doubling), at most the bound.
    const waits = waitsOf(run).filter((w) => w.afterStop).map((w) => w.seconds);
    expect(waits.length).toBeGreaterThanOrEqual(2);
    expect(waits[0]).toBe(60);
    for (const seconds of waits) expect(seconds).toBeLessThanOrEqual(DETECTION_BOUND_SECONDS);
    expect(count(run.states, 'CleanupEnis')).toBe(1);
    expect(mocks.ec2).toHaveReceivedCommand(DeleteNetworkInterfaceCommand);
    const revoked = (run.events as { type: string; state?: { name: string; output?: { revoke?: unknown; revokeError?: unknown } } }[]).find(
      (e) => e.type === 'StateExited' && e.state!.name === 'RevokeGrants',
    );
    expect(revoked?.state?.output?.revoke).toBeDefined();
    expect(revoked?.state?.output?.revokeError).toBeUndefined();
  });

  it('deadline stop, the Stopped event delivered: the wait after the stop is released by it', async () => {
    const afterStop = stoppableJob(Number.POSITIVE_INFINITY);
    const run = runWorkflow({ input: rawJob({ maxJobDurationSeconds: 1 }), handlers: handlers(), waitMs: 0, retryMs: 0, eventWaitMs: 3_000 });
    // The stop goes out once the deadline (1 s) has passed: the wait before it ends at its safety net (shortened to 3 s).
    for (let i = 0; i < 400 && mocks.bedrock.commandCalls(StopModelCustomizationJobCommand).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await waiting();
    afterStop.status = 'Stopped';
    afterStop.stoppingReads = 0;
    const started = Date.now();
    expect(await deliver(jobEvent(ACCOUNT.jobArn, 'Stopped'))).toEqual({ released: true, jobArn: ACCOUNT.jobArn, status: 'Stopped' });
    const result = await run;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result).toMatchObject({ status: 'FAILED', error: 'JobDeadlineExceededError' });
    expect(result.states.slice(result.states.indexOf('StopJob'))).toEqual([
      'StopJob', 'WaitAfterStop', 'WaitForJobEvent', 'PollStatus', 'JobStatus', 'CleanupEnis', 'GateOrRevoke', 'RevokeGrants', 'Outcome', 'JobDeadlineExceeded',
    ]);
  });
});

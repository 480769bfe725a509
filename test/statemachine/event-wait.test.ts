/**
 * The event-driven wait (stage jobWait: event): after SubmitJob the workflow waits in WaitForJobEvent
 * (`lambda:invoke.waitForTaskToken`, the runner's stand-in: scripts/lib/callbacks.ts) for job-events
 * to release its task token on Bedrock's job-state event, with a safety-net status check when no
 * event comes. The job-events step logic runs for real against the mocked account's in-memory DynamoDB
 * (job-waits table and job ledger) and a mocked Bedrock;
 * events are AWS's documented sample with this job's ARN and status (deep copies).
 */
import { BedrockClient, GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { jobLedger } from '../../functions/shared/ledger-env.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { onJobStateChange } from '../../functions/job-events/job-events.js';
import { jobEventsConfig, localCallbacks, runWorkflow } from '../../scripts/lib/workflow.js';
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
      'SubmitJob', 'PollStatus', 'JobStatus', 'WaitForJobEvent', 'PollStatus', 'JobStatus', 'CleanupEnis', 'RevokeGrants', 'Outcome', 'JobSucceeded',
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

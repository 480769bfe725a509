import {
  BedrockClient,
  GetModelCustomizationJobCommand,
  ListTagsForResourceCommand,
  ResourceNotFoundException,
  StopModelCustomizationJobCommand,
  ValidationException,
} from '@aws-sdk/client-bedrock';
import { DescribeExecutionCommand, ExecutionDoesNotExist, GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_SUCCESSORS, reap, type ReaperInput } from '../../functions/reaper/reaper.js';
import { executionArnOf } from '../../functions/shared/arn.js';
import { handOverScheduledEvent } from '../../scripts/lib/workflow.js';
import { CHAIN_EXECUTION_TAG, handoverExecutionName } from '../../functions/shared/chain.js';
import { buildCreateRequest } from '../../functions/submit-job/submit-job.js';
import { EXECUTION, resolvedJob } from '../fixtures/job.js';
import { fixtureEvent } from '../support/event-ruler.js';

const sfn = mockClient(SFNClient);
const bedrock = mockClient(BedrockClient);
afterEach(() => {
  sfn.reset();
  bedrock.reset();
});

const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:bedrock-vpc-customization-dev-customize-model';
const config = { stateMachineArn: STATE_MACHINE };
const deps = { sfn: sfn as unknown as SFNClient, bedrock: bedrock as unknown as BedrockClient };
const FIRST = { id: executionArnOf(STATE_MACHINE, 'run-1'), name: 'run-1' };
const JOB = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/abc123';
const SUBMISSION = { jobArn: JOB, jobName: 'run-1-job', adopted: false, submittedAt: '2026-11-28T10:00:00Z', deadline: '2026-11-29T10:00:00Z' };

/** The reaper's input, from AWS's documented sample event (a deep copy) with this stack's ARNs. */
function eventInput(executionArn = FIRST.id): ReaperInput {
  const event = fixtureEvent('step-functions-execution-status-change');
  event.detail.executionArn = executionArn;
  event.detail.stateMachineArn = STATE_MACHINE;
  return { executionArn: event.detail.executionArn, stateMachineArn: event.detail.stateMachineArn };
}

/** A history, newest first as the reaper asks for it: ... SubmitJob exited with $.submission, PollStatus, Fail. */
function historyWithJob(): HistoryEvent[] {
  const state = { job: { jobName: 'run-1-job' }, execution: FIRST, submission: SUBMISSION };
  return [
    { id: 9, type: 'ExecutionAborted', timestamp: new Date() },
    { id: 8, type: 'WaitStateEntered', timestamp: new Date(), stateEnteredEventDetails: { name: 'WaitForJob', input: JSON.stringify(state) } },
    { id: 7, type: 'TaskStateExited', timestamp: new Date(), stateExitedEventDetails: { name: 'SubmitJob', output: JSON.stringify(state) } },
  ];
}

/** The execution (and, by name, its successors): status per execution ARN; absent ones do not exist. */
/** The input HandOver gives the successor of `generation`. */
const handoverInput = (generation: number, jobArn = JOB) => ({
  handover: { job: { jobName: 'run-1-job' }, execution: FIRST, submission: { ...SUBMISSION, jobArn }, pollCount: 3, generation, previousExecutionId: FIRST.id },
});

/**
 * `by`'s history holds its HandOver's start of `name` with `input` (TaskScheduled, as AWS documents
 * TaskScheduledEventDetails: resourceType, resource, region, parameters as JSON text).
 */
function scheduled(by: string, name: string, input: unknown) {
  sfn.on(GetExecutionHistoryCommand, { executionArn: by }).resolves({
    events: [handOverScheduledEvent({ StateMachineArn: STATE_MACHINE, Name: name, Input: input }, 12)],
  });
}

function executions(statuses: Record<string, string>, inputs: Record<string, unknown> = {}) {
  sfn.on(DescribeExecutionCommand).callsFake(({ executionArn }: { executionArn: string }) => {
    const status = statuses[executionArn];
    if (!status) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${executionArn}'`, $metadata: {} });
    return { executionArn, name: executionArn.split(':').at(-1), status, input: JSON.stringify(inputs[executionArn] ?? {}) };
  });
}

function job(status: string, owner: string | null = FIRST.id) {
  bedrock.on(ListTagsForResourceCommand).resolves({ tags: owner ? [{ key: 'team', value: 'ml' }, { key: CHAIN_EXECUTION_TAG, value: owner }] : [] });
  bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn: JOB, status: status as never });
  bedrock.on(StopModelCustomizationJobCommand).resolves({});
}

describe('reaper', () => {
  beforeEach(() => {
    sfn.on(GetExecutionHistoryCommand).resolves({ events: historyWithJob() });
  });

  it('uses the tag submit-job writes', () => {
    expect(buildCreateRequest(resolvedJob(), EXECUTION).jobTags).toContainEqual({ key: CHAIN_EXECUTION_TAG, value: EXECUTION.id });
  });

  it('stops an InProgress job of an aborted first execution, after the ownership checks', async () => {
    executions({ [FIRST.id]: 'ABORTED' });
    job('InProgress');
    const report = await reap(eventInput(), config, deps);
    expect(report).toMatchObject({ outcome: 'stopped', stopped: true, jobArn: JOB, firstExecutionArn: FIRST.id, executionStatus: 'ABORTED' });
    expect(bedrock).toHaveReceivedCommandWith(StopModelCustomizationJobCommand, { jobIdentifier: JOB });
    expect(bedrock).toHaveReceivedCommandWith(ListTagsForResourceCommand, { resourceARN: JOB });
    // The history is read newest first; the first page already holds $.submission.
    expect(sfn).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(GetExecutionHistoryCommand, { executionArn: FIRST.id, reverseOrder: true, includeExecutionData: true });
    // The successor HandOver would have started (generation 1) was looked up and does not exist.
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: executionArnOf(STATE_MACHINE, handoverExecutionName(FIRST, 1)) });
  });

  it('does nothing when no job was submitted (the history holds no $.submission)', async () => {
    executions({ [FIRST.id]: 'FAILED' });
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 3, type: 'ExecutionFailed', timestamp: new Date() },
        { id: 2, type: 'TaskStateEntered', timestamp: new Date(), stateEnteredEventDetails: { name: 'ValidateNetwork', input: '{"input":{}}' } },
        { id: 1, type: 'ExecutionStarted', timestamp: new Date() },
      ],
    });
    const report = await reap(eventInput(), config, deps);
    expect(report).toMatchObject({ outcome: 'no-job', stopped: false });
    expect(bedrock).not.toHaveReceivedAnyCommand();
  });

  it('reads every page of a history without a job', async () => {
    executions({ [FIRST.id]: 'FAILED' });
    sfn
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({ events: [{ id: 2, type: 'PassStateExited', timestamp: new Date(), stateExitedEventDetails: { name: 'ResolveInput', output: 'not json' } }], nextToken: 't' })
      .resolvesOnce({ events: [{ id: 1, type: 'ExecutionStarted', timestamp: new Date() }] });
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'no-job' });
    expect(sfn).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 2);
  });

  it('an execution ended during SubmitJob: finds the job by the name it was given, then checks it as any other', async () => {
    executions({ [FIRST.id]: 'ABORTED' });
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 5, type: 'ExecutionAborted', timestamp: new Date() },
        { id: 4, type: 'TaskStateEntered', timestamp: new Date(), stateEnteredEventDetails: { name: 'SubmitJob', input: JSON.stringify({ job: { jobName: 'run-1-job' }, execution: FIRST }) } },
      ],
    });
    job('InProgress');
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'stopped', jobArn: JOB });
    expect(bedrock).toHaveReceivedCommandWith(GetModelCustomizationJobCommand, { jobIdentifier: 'run-1-job' });

    // No job by that name (SubmitJob failed before creating it): nothing.
    bedrock.on(GetModelCustomizationJobCommand, { jobIdentifier: 'run-1-job' }).rejects(new ResourceNotFoundException({ message: 'no job', $metadata: {} }));
    bedrock.resetHistory();
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'no-job' });
    expect(bedrock).not.toHaveReceivedCommand(StopModelCustomizationJobCommand);
  });

  it('leaves alone a job tagged with another chain, or untagged', async () => {
    executions({ [FIRST.id]: 'FAILED' });
    job('InProgress', executionArnOf(STATE_MACHINE, 'someone-else'));
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'job-not-this-chain', stopped: false });
    job('InProgress', null);
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'job-not-this-chain', stopped: false });
    expect(bedrock).not.toHaveReceivedCommand(StopModelCustomizationJobCommand);
  });

  it('a job that no longer exists: nothing', async () => {
    executions({ [FIRST.id]: 'FAILED' });
    bedrock.on(ListTagsForResourceCommand).rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'job-not-found' });
  });

  it('leaves the job to a running successor of the chain', async () => {
    const gen1 = executionArnOf(STATE_MACHINE, handoverExecutionName(FIRST, 1));
    const gen2 = executionArnOf(STATE_MACHINE, handoverExecutionName(FIRST, 2));
    // The first execution failed late although it had handed over; generation 1 handed over again to 2.
    executions({ [FIRST.id]: 'FAILED', [gen1]: 'SUCCEEDED', [gen2]: 'RUNNING' }, { [gen1]: handoverInput(1), [gen2]: handoverInput(2) });
    job('InProgress');
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'successor-running', successorArn: gen2, stopped: false });
    expect(bedrock).not.toHaveReceivedCommand(StopModelCustomizationJobCommand);
  });

  it('an execution that only took a successor name (its input does not carry this job) does not follow the job', async () => {
    const gen1 = executionArnOf(STATE_MACHINE, handoverExecutionName(FIRST, 1));
    const gen2 = executionArnOf(STATE_MACHINE, handoverExecutionName(FIRST, 2));
    const other = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/other';
    executions({ [FIRST.id]: 'FAILED', [gen1]: 'RUNNING', [gen2]: 'RUNNING' }, { [gen1]: {}, [gen2]: handoverInput(2, other) });
    job('InProgress');
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'stopped', stopped: true });
  });

  it('a hand-over execution: the job and the chain come from the hand-over its predecessor scheduled; its own successors are checked', async () => {
    const gen1 = executionArnOf(STATE_MACHINE, handoverExecutionName(FIRST, 1));
    const gen2 = executionArnOf(STATE_MACHINE, handoverExecutionName(FIRST, 2));
    executions({ [FIRST.id]: 'SUCCEEDED', [gen1]: 'TIMED_OUT' }, { [gen1]: handoverInput(1) });
    scheduled(FIRST.id, handoverExecutionName(FIRST, 1), handoverInput(1));
    job('InProgress');
    expect(await reap(eventInput(gen1), config, deps)).toMatchObject({ outcome: 'stopped', firstExecutionArn: FIRST.id, executionStatus: 'TIMED_OUT' });
    // Only the predecessor's history was read (the proof), never the hand-over execution's own.
    expect(sfn).toHaveReceivedCommandWith(GetExecutionHistoryCommand, { executionArn: FIRST.id });
    expect(sfn).not.toHaveReceivedCommandWith(GetExecutionHistoryCommand, { executionArn: gen1 });
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: gen2 });

    // Tagged with the hand-over execution itself, not the chain's first: not this chain's.
    job('InProgress', gen1);
    expect(await reap(eventInput(gen1), config, deps)).toMatchObject({ outcome: 'job-not-this-chain' });
  });

  it('a forged hand-over (its predecessor never started it, or names no execution of this state machine) stops nothing', async () => {
    const forged = executionArnOf(STATE_MACHINE, 'forged');
    job('InProgress');
    // The real first execution's history holds no start of "forged".
    scheduled(FIRST.id, handoverExecutionName(FIRST, 1), handoverInput(1));
    executions({ [forged]: 'FAILED' }, { [forged]: handoverInput(7) });
    expect(await reap(eventInput(forged), config, deps)).toMatchObject({ outcome: 'handover-not-verified', stopped: false });
    // A predecessor of another state machine, or none.
    for (const previousExecutionId of ['arn:aws:states:us-east-1:123456789012:execution:other-machine:run-1', undefined]) {
      executions({ [forged]: 'FAILED' }, { [forged]: { handover: { ...handoverInput(7).handover, previousExecutionId } } });
      expect(await reap(eventInput(forged), config, deps)).toMatchObject({ outcome: 'handover-not-verified', stopped: false });
    }
    expect(bedrock).not.toHaveReceivedCommand(StopModelCustomizationJobCommand);
    expect(bedrock).not.toHaveReceivedCommand(GetModelCustomizationJobCommand);
  });

  it('does nothing to a job that has already ended or is stopping', async () => {
    executions({ [FIRST.id]: 'FAILED' });
    for (const status of ['Completed', 'Failed', 'Stopping', 'Stopped']) {
      job(status);
      expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'job-ended', jobStatus: status, stopped: false });
    }
    expect(bedrock).not.toHaveReceivedCommand(StopModelCustomizationJobCommand);
  });

  it('is idempotent: a duplicate event finds the job stopping; a concurrent duplicate whose stop is refused reports the same', async () => {
    executions({ [FIRST.id]: 'ABORTED' });
    let status = 'InProgress';
    bedrock.on(ListTagsForResourceCommand).resolves({ tags: [{ key: CHAIN_EXECUTION_TAG, value: FIRST.id }] });
    bedrock.on(GetModelCustomizationJobCommand).callsFake(() => ({ jobArn: JOB, status }));
    bedrock.on(StopModelCustomizationJobCommand).callsFake(() => {
      status = 'Stopping';
      return {};
    });
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'stopped', stopped: true });
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'job-ended', jobStatus: 'Stopping', stopped: false });
    expect(bedrock).toHaveReceivedCommandTimes(StopModelCustomizationJobCommand, 1);

    // Two deliveries at once: both saw InProgress; the second stop is refused as the job no longer runs.
    const seen = ['InProgress', 'Stopping'];
    bedrock.on(GetModelCustomizationJobCommand).callsFake(() => ({ jobArn: JOB, status: seen.shift() ?? 'Stopping' }));
    bedrock.on(StopModelCustomizationJobCommand).rejects(new ValidationException({ message: 'job is not in progress', $metadata: {} }));
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'job-ended', jobStatus: 'Stopping', stopped: false });

    // A refused stop of a job still InProgress is an error (the Lambda's retries run it again).
    bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn: JOB, status: 'InProgress' });
    await expect(reap(eventInput(), config, deps)).rejects.toThrow('job is not in progress');
  });

  it('ignores executions of other state machines, unknown executions, and executions that did not end badly', async () => {
    const other = 'arn:aws:states:us-east-1:123456789012:stateMachine:other';
    expect(await reap({ executionArn: executionArnOf(other, 'x'), stateMachineArn: other }, config, deps)).toMatchObject({ outcome: 'not-this-state-machine' });
    expect(await reap({ executionArn: executionArnOf(other, 'x'), stateMachineArn: STATE_MACHINE }, config, deps)).toMatchObject({ outcome: 'not-this-state-machine' });
    expect(await reap({ executionArn: 'not an arn', stateMachineArn: STATE_MACHINE }, config, deps)).toMatchObject({ outcome: 'not-this-state-machine' });
    expect(sfn).not.toHaveReceivedAnyCommand();

    executions({});
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'execution-not-found' });
    // A FAILED execution redriven since: RUNNING again, it follows its job.
    for (const status of ['RUNNING', 'SUCCEEDED', 'PENDING_REDRIVE']) {
      executions({ [FIRST.id]: status });
      expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'execution-not-ended', executionStatus: status });
    }
    expect(bedrock).not.toHaveReceivedAnyCommand();
  });

  it(`gives up without stopping after ${MAX_SUCCESSORS} successors`, async () => {
    sfn.on(DescribeExecutionCommand).callsFake(({ executionArn }: { executionArn: string }) => ({ executionArn, status: executionArn === FIRST.id ? 'FAILED' : 'SUCCEEDED', input: '{}' }));
    job('InProgress');
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'successors-not-all-checked', stopped: false });
    expect(bedrock).not.toHaveReceivedCommand(StopModelCustomizationJobCommand);
  });

  it('passes AWS errors other than "does not exist" on', async () => {
    sfn.on(DescribeExecutionCommand).rejects(new Error('throttled'));
    await expect(reap(eventInput(), config, deps)).rejects.toThrow('throttled');
  });
});

describe('reaper handler', () => {
  it("reads the execution and state machine from AWS's sample event; rejects an event without them", async () => {
    process.env.REAPER_STATE_MACHINE_ARN = STATE_MACHINE;
    const { handler } = await import('../../functions/reaper/handler.js');
    const context = {} as Parameters<typeof handler>[1];
    // The sample as published names another state machine: ignored, nothing called.
    const sample = fixtureEvent('step-functions-execution-status-change');
    expect(await handler(sample, context)).toMatchObject({ outcome: 'not-this-state-machine', executionArn: sample.detail.executionArn });
    expect(sfn).not.toHaveReceivedAnyCommand();

    executions({ [FIRST.id]: 'ABORTED' });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: historyWithJob() });
    job('InProgress');
    const ours = fixtureEvent('step-functions-execution-status-change');
    Object.assign(ours.detail, { executionArn: FIRST.id, stateMachineArn: STATE_MACHINE, status: 'ABORTED' });
    expect(await handler(ours, context)).toMatchObject({ outcome: 'stopped' });

    await expect(handler({ source: 'aws.states', detail: {} }, context)).rejects.toMatchObject({ name: 'InvalidInputError' });
  });
});

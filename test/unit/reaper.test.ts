import {
  BedrockClient,
  GetModelCustomizationJobCommand,
  ListTagsForResourceCommand,
  ResourceNotFoundException,
  StopModelCustomizationJobCommand,
  ValidationException,
} from '@aws-sdk/client-bedrock';
import { DynamoDBClient, GetItemCommand, ProvisionedThroughputExceededException, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, ExecutionDoesNotExist, GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reap, type ReaperDeps, type ReaperInput } from '../../functions/reaper/reaper.js';
import { executionArnOf } from '../../functions/shared/arn.js';
import { CHAIN_EXECUTION_TAG, handoverExecutionName } from '../../functions/shared/chain.js';
import { REAPER_SUPERVISOR, type Ledger } from '../../functions/shared/ledger.js';
import { fixtureEvent } from '../support/event-ruler.js';
import { defaultToken, emulatedLedger, ledgerWith } from '../support/ledger.js';

const sfn = mockClient(SFNClient);
const bedrock = mockClient(BedrockClient);
const dynamodb = mockClient(DynamoDBClient);
afterEach(() => {
  sfn.reset();
  bedrock.reset();
  dynamodb.reset();
});

const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:bedrock-vpc-customization-dev-customize-model';
const config = { stateMachineArn: STATE_MACHINE };
const FIRST = { id: executionArnOf(STATE_MACHINE, 'run-1'), name: 'run-1' };
const GEN1 = executionArnOf(STATE_MACHINE, handoverExecutionName(FIRST, 1, 'nonce'));
const GEN2 = executionArnOf(STATE_MACHINE, handoverExecutionName(FIRST, 2, 'nonce'));
const OTHER_CHAIN = executionArnOf(STATE_MACHINE, 'someone-else');
const JOB = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/abc123';
const JOB_NAME = 'run-1-job';
const TOKEN = defaultToken(JOB_NAME);
const SUBMISSION = { jobArn: JOB, jobName: JOB_NAME, adopted: false, submittedAt: '2026-11-28T10:00:00Z', deadline: '2026-11-29T10:00:00Z' };

let ledger: Ledger;
let deps: ReaperDeps;
beforeEach(() => {
  ({ ledger } = emulatedLedger(dynamodb));
  deps = { sfn: new SFNClient({}), bedrock: bedrock as unknown as BedrockClient, ledger };
  sfn.on(GetExecutionHistoryCommand).resolves({ events: historyWithJob() });
});

/** The ledger as submit-job leaves it for the first execution's job (reserved, then submitted). */
const submitted = (more: Partial<Parameters<typeof ledgerWith>[1][number]> = {}) => ledgerWith(ledger, [{ jobName: JOB_NAME, owner: FIRST.id, jobArn: JOB, ...more }]);

/** The reaper's input, from AWS's documented sample event (a deep copy) with this stack's ARNs. */
function eventInput(executionArn = FIRST.id): ReaperInput {
  const event = fixtureEvent('step-functions-execution-status-change');
  event.detail.executionArn = executionArn;
  event.detail.stateMachineArn = STATE_MACHINE;
  return { executionArn: event.detail.executionArn, stateMachineArn: event.detail.stateMachineArn };
}

/** A history, newest first as the reaper asks for it: ... SubmitJob exited with $.submission, PollStatus, Fail. */
function historyWithJob(): HistoryEvent[] {
  const state = { job: { jobName: JOB_NAME }, execution: FIRST, submission: SUBMISSION };
  return [
    { id: 9, type: 'ExecutionAborted', timestamp: new Date() },
    { id: 8, type: 'WaitStateEntered', timestamp: new Date(), stateEnteredEventDetails: { name: 'WaitForJob', input: JSON.stringify(state) } },
    { id: 7, type: 'TaskStateExited', timestamp: new Date(), stateExitedEventDetails: { name: 'SubmitJob', output: JSON.stringify(state) } },
  ];
}

/** The input HandOver gives the successor of `generation` (for the job named `jobName`). */
const handoverInput = (generation: number, jobName = JOB_NAME, previousExecutionId = FIRST.id) => ({
  handover: { job: { jobName }, execution: FIRST, submission: { ...SUBMISSION, jobName }, pollCount: 3, generation, previousExecutionId },
});

/** Executions: status per execution ARN (absent ones do not exist), and their inputs. */
function executions(statuses: Record<string, string>, inputs: Record<string, unknown> = {}) {
  sfn.on(DescribeExecutionCommand).callsFake(({ executionArn }: { executionArn: string }) => {
    const status = statuses[executionArn];
    if (!status) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${executionArn}'`, $metadata: {} });
    return { executionArn, name: executionArn.split(':').at(-1), status, input: JSON.stringify(inputs[executionArn] ?? {}) };
  });
}

/** The job as Bedrock has it: `status`, created with `token` (null: none); the old ownership tag is on it (the reaper must not care). */
function job(status: string, token: string | null = TOKEN) {
  bedrock.on(ListTagsForResourceCommand).resolves({ tags: [{ key: CHAIN_EXECUTION_TAG, value: FIRST.id }] });
  bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn: JOB, jobName: JOB_NAME, status: status as never, ...(token === null ? {} : { clientRequestToken: token }) });
  bedrock.on(StopModelCustomizationJobCommand).resolves({});
}

describe('reaper', () => {
  it('the execution died as the supervisor: takes the job over in the ledger, then stops it', async () => {
    await submitted();
    executions({ [FIRST.id]: 'ABORTED' });
    job('InProgress');
    let supervisorAtStop: Promise<string | undefined> | undefined;
    bedrock.on(StopModelCustomizationJobCommand).callsFake(() => {
      supervisorAtStop = ledger.read(JOB_NAME).then((e) => e?.supervisor);
      return {};
    });
    const report = await reap(eventInput(), config, deps);
    expect(report).toMatchObject({ outcome: 'stopped', stopped: true, jobArn: JOB, jobName: JOB_NAME, jobStatus: 'InProgress', executionStatus: 'ABORTED' });
    // The job of the ledger's ARN, never the name or a tag.
    expect(bedrock).toHaveReceivedCommandWith(GetModelCustomizationJobCommand, { jobIdentifier: JOB });
    expect(bedrock).toHaveReceivedCommandTimes(StopModelCustomizationJobCommand, 1);
    expect(bedrock).toHaveReceivedCommandWith(StopModelCustomizationJobCommand, { jobIdentifier: JOB });
    expect(bedrock).not.toHaveReceivedCommand(ListTagsForResourceCommand);
    // The ledger names the reaper before the stop is asked for.
    expect(await supervisorAtStop).toBe(REAPER_SUPERVISOR);
    expect(await ledger.read(JOB_NAME)).toMatchObject({ owner: FIRST.id, supervisor: REAPER_SUPERVISOR, claimed: true, status: 'reaped', jobArn: JOB });
    // The history is read newest first; the first page already holds $.submission.
    expect(sfn).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(GetExecutionHistoryCommand, { executionArn: FIRST.id, reverseOrder: true, includeExecutionData: true });
    // No successors are enumerated: the only execution described is the one that ended.
    expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 1);
  });

  it('a job the ledger does not hold is not this workflow\'s, whatever its name or tag says: nothing', async () => {
    executions({ [FIRST.id]: 'ABORTED' });
    job('InProgress');
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'no-job', jobName: JOB_NAME, stopped: false });
    expect(bedrock).not.toHaveReceivedAnyCommand();
    expect(await ledger.read(JOB_NAME)).toBeUndefined();
  });

  it('does nothing when no job was submitted (the history holds no $.submission)', async () => {
    await submitted();
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
    expect(await ledger.read(JOB_NAME)).toMatchObject({ supervisor: FIRST.id });
  });

  it('reads every page of a history without a job', async () => {
    executions({ [FIRST.id]: 'FAILED' });
    sfn
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({ events: [{ id: 2, type: 'PassStateExited', timestamp: new Date(), stateExitedEventDetails: { name: 'ResolveInput', output: 'not json' } }], nextToken: 't' })
      .resolvesOnce({ events: [{ id: 1, type: 'ExecutionStarted', timestamp: new Date() }] });
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'no-job' });
    expect(sfn).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 2);
    expect(dynamodb).not.toHaveReceivedAnyCommand();
  });

  describe('an execution that died during SubmitJob (the ledger holds a reservation, no job ARN)', () => {
    beforeEach(async () => {
      await ledgerWith(ledger, [{ jobName: JOB_NAME, owner: FIRST.id }]);
      executions({ [FIRST.id]: 'ABORTED' });
      sfn.on(GetExecutionHistoryCommand).resolves({
        events: [
          { id: 5, type: 'ExecutionAborted', timestamp: new Date() },
          { id: 4, type: 'TaskStateEntered', timestamp: new Date(), stateEnteredEventDetails: { name: 'SubmitJob', input: JSON.stringify({ job: { jobName: JOB_NAME }, execution: FIRST }) } },
        ],
      });
    });

    it("stops the job of that name created with the ledger's client request token", async () => {
      job('InProgress');
      expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'stopped', stopped: true, jobArn: JOB });
      expect(bedrock).toHaveReceivedCommandWith(GetModelCustomizationJobCommand, { jobIdentifier: JOB_NAME });
      expect(bedrock).toHaveReceivedCommandWith(StopModelCustomizationJobCommand, { jobIdentifier: JOB });
      expect(await ledger.read(JOB_NAME)).toMatchObject({ supervisor: REAPER_SUPERVISOR, status: 'reaped' });
    });

    it.each([
      ['another token', 'someone-elses-token'],
      ['no token', null],
    ])('leaves alone the job of that name created with %s', async (_label, token) => {
      job('InProgress', token);
      expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'job-not-found', stopped: false });
      expect(bedrock).not.toHaveReceivedCommand(StopModelCustomizationJobCommand);
    });

    it('no job of that name (SubmitJob failed before creating it): nothing to stop', async () => {
      bedrock.on(GetModelCustomizationJobCommand).rejects(new ResourceNotFoundException({ message: 'no job', $metadata: {} }));
      expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'job-not-found', stopped: false });
      expect(bedrock).not.toHaveReceivedCommand(StopModelCustomizationJobCommand);
    });
  });

  it.each([
    ['another chain owns the job', () => ledgerWith(ledger, [{ jobName: JOB_NAME, owner: OTHER_CHAIN, jobArn: JOB }]), OTHER_CHAIN],
    ['the execution handed the job over and its successor claimed it', () => submitted({ claimedBy: [GEN1] }), GEN1],
    ['a successor designated another execution (not by this one)', () => submitted({ claimedBy: [GEN1], designated: GEN2 }), GEN2],
  ])('another supervisor (%s): nothing, the ledger unchanged', async (_label, setup, supervisor) => {
    await setup();
    const before = await ledger.read(JOB_NAME);
    dynamodb.resetHistory();
    executions({ [FIRST.id]: 'FAILED', [GEN1]: 'RUNNING', [GEN2]: 'RUNNING' });
    job('InProgress');
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'not-supervisor', supervisor, jobName: JOB_NAME, stopped: false });
    expect(bedrock).not.toHaveReceivedAnyCommand();
    expect(dynamodb).not.toHaveReceivedCommand(UpdateItemCommand);
    expect(await ledger.read(JOB_NAME)).toEqual(before);
  });

  it('died mid-hand-over, its designated successor runs (it claims the job): nothing', async () => {
    await submitted({ designated: GEN1 });
    executions({ [FIRST.id]: 'FAILED', [GEN1]: 'RUNNING' }, { [GEN1]: handoverInput(1) });
    job('InProgress');
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'successor-running', supervisor: GEN1, stopped: false });
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: GEN1 });
    expect(bedrock).not.toHaveReceivedAnyCommand();
    // Still GEN1's to claim.
    expect(await ledger.read(JOB_NAME)).toMatchObject({ supervisor: GEN1, claimed: false, handoverFrom: FIRST.id });
    expect(await ledger.claim(JOB_NAME, GEN1, FIRST.id, JOB)).toBe(true);
  });

  it.each([
    ['never started (the start failed)', {}],
    ['ended before claiming the job', { [GEN1]: 'FAILED' }],
  ])('died mid-hand-over, its designated successor %s: reaps and stops; the successor\'s own event then does nothing', async (_label, successor) => {
    await submitted({ designated: GEN1 });
    executions({ [FIRST.id]: 'ABORTED', ...successor }, { [GEN1]: handoverInput(1) });
    job('InProgress');
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'stopped', stopped: true, jobArn: JOB });
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: GEN1 });
    expect(bedrock).toHaveReceivedCommandWith(StopModelCustomizationJobCommand, { jobIdentifier: JOB });
    expect(await ledger.read(JOB_NAME)).toMatchObject({ supervisor: REAPER_SUPERVISOR, status: 'reaped' });
    // The successor can no longer claim the job, nor the predecessor take it back.
    expect(await ledger.claim(JOB_NAME, GEN1, FIRST.id, JOB)).toBe(false);
    expect(await ledger.takeBack(JOB_NAME, FIRST.id, GEN1)).toBe(false);
    if (successor[GEN1]) {
      expect(await reap(eventInput(GEN1), config, deps)).toMatchObject({ outcome: 'already-reaped', stopped: false });
      expect(bedrock).toHaveReceivedCommandTimes(StopModelCustomizationJobCommand, 1);
    }
  });

  it('a designated successor that died before claiming while its predecessor runs (a squatter of its name): nothing; the predecessor takes the job back', async () => {
    await submitted({ designated: GEN1 });
    executions({ [FIRST.id]: 'RUNNING', [GEN1]: 'FAILED' }, { [GEN1]: handoverInput(1) });
    job('InProgress');
    expect(await reap(eventInput(GEN1), config, deps)).toMatchObject({ outcome: 'predecessor-running', supervisor: FIRST.id, stopped: false });
    expect(bedrock).not.toHaveReceivedAnyCommand();
    expect(await ledger.takeBack(JOB_NAME, FIRST.id, GEN1)).toBe(true);
  });

  it('a designated successor that died before claiming after its predecessor ended (the real, unverifiable hand-over): reaps and stops', async () => {
    await submitted({ designated: GEN1 });
    executions({ [FIRST.id]: 'SUCCEEDED', [GEN1]: 'FAILED' }, { [GEN1]: handoverInput(1) });
    job('InProgress');
    expect(await reap(eventInput(GEN1), config, deps)).toMatchObject({ outcome: 'stopped', stopped: true, jobArn: JOB });
    expect(await ledger.read(JOB_NAME)).toMatchObject({ supervisor: REAPER_SUPERVISOR, status: 'reaped' });
  });

  it('a hand-over execution that died as the claimed supervisor: the job named in its input, decided by the ledger', async () => {
    await submitted({ claimedBy: [GEN1] });
    executions({ [FIRST.id]: 'SUCCEEDED', [GEN1]: 'TIMED_OUT' }, { [GEN1]: handoverInput(1) });
    job('InProgress');
    expect(await reap(eventInput(GEN1), config, deps)).toMatchObject({ outcome: 'stopped', stopped: true, jobArn: JOB, executionStatus: 'TIMED_OUT' });
    // The input's name is only a key: no history needed, no successor enumerated.
    expect(sfn).not.toHaveReceivedCommand(GetExecutionHistoryCommand);
    expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 1);
    expect(await ledger.read(JOB_NAME)).toMatchObject({ supervisor: REAPER_SUPERVISOR, status: 'reaped' });
  });

  it("a forged hand-over input (our job, someone else's job, an unknown job) stops nothing: the ledger names another supervisor", async () => {
    const forged = executionArnOf(STATE_MACHINE, 'forged');
    await submitted({ claimedBy: [GEN1] });
    await ledgerWith(ledger, [{ jobName: 'team-b-job', owner: OTHER_CHAIN, jobArn: JOB.replace('abc123', 'teamb') }]);
    job('InProgress');
    dynamodb.resetHistory();
    const cases: Array<[unknown, Record<string, unknown>]> = [
      [handoverInput(2), { outcome: 'not-supervisor', supervisor: GEN1 }],
      [handoverInput(1, 'team-b-job', OTHER_CHAIN), { outcome: 'not-supervisor', supervisor: OTHER_CHAIN }],
      // Even naming this execution as the one it continues from, or another state machine's.
      [handoverInput(7, 'team-b-job', forged), { outcome: 'not-supervisor', supervisor: OTHER_CHAIN }],
      [handoverInput(1, 'no-such-job'), { outcome: 'no-job' }],
    ];
    for (const [input, expected] of cases) {
      executions({ [forged]: 'FAILED', [GEN1]: 'RUNNING', [OTHER_CHAIN]: 'RUNNING' }, { [forged]: input });
      expect(await reap(eventInput(forged), config, deps)).toMatchObject({ ...expected, stopped: false });
    }
    expect(bedrock).not.toHaveReceivedAnyCommand();
    expect(dynamodb).not.toHaveReceivedCommand(UpdateItemCommand);
    expect(await ledger.read(JOB_NAME)).toMatchObject({ supervisor: GEN1, claimed: true, status: 'submitted' });
    expect(await ledger.read('team-b-job')).toMatchObject({ supervisor: OTHER_CHAIN, claimed: true, status: 'submitted' });
  });

  it.each(['Completed', 'Failed', 'Stopping', 'Stopped'])('takes over but does not stop a job that is %s', async (status) => {
    await submitted();
    executions({ [FIRST.id]: 'FAILED' });
    job(status);
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'job-ended', jobStatus: status, stopped: false });
    expect(bedrock).not.toHaveReceivedCommand(StopModelCustomizationJobCommand);
    expect(await ledger.read(JOB_NAME)).toMatchObject({ supervisor: REAPER_SUPERVISOR });
  });

  it('a job that no longer exists: nothing to stop', async () => {
    await submitted();
    executions({ [FIRST.id]: 'FAILED' });
    bedrock.on(GetModelCustomizationJobCommand).rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'job-not-found', stopped: false });
    expect(bedrock).not.toHaveReceivedCommand(StopModelCustomizationJobCommand);
  });

  it('is idempotent: a duplicate event finds the ledger already reaped and calls Bedrock no more', async () => {
    await submitted();
    executions({ [FIRST.id]: 'ABORTED' });
    job('InProgress');
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'stopped', stopped: true });
    bedrock.resetHistory();
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'already-reaped', stopped: false });
    expect(bedrock).not.toHaveReceivedAnyCommand();
  });

  it('two deliveries at once: only the one whose takeover went through in the ledger stops the job', async () => {
    await submitted();
    executions({ [FIRST.id]: 'ABORTED' });
    job('InProgress');
    // The second delivery runs to its end between the first one's ledger read and its takeover.
    let concurrent: Promise<unknown> | undefined;
    const racing: Ledger = {
      ...ledger,
      async read(jobName) {
        const entry = await ledger.read(jobName);
        concurrent ??= reap(eventInput(), config, deps);
        await concurrent;
        return entry;
      },
    };
    expect(await reap(eventInput(), config, { ...deps, ledger: racing })).toMatchObject({ outcome: 'not-supervisor', stopped: false });
    expect(await concurrent).toMatchObject({ outcome: 'stopped', stopped: true });
    expect(bedrock).toHaveReceivedCommandTimes(StopModelCustomizationJobCommand, 1);
  });

  it('a stop refused because the job no longer runs reports it ended; refused while it still runs is an error', async () => {
    await submitted();
    executions({ [FIRST.id]: 'ABORTED' });
    // Someone stopped it between the reaper's read and its stop.
    const seen = ['InProgress', 'Stopping'];
    bedrock.on(GetModelCustomizationJobCommand).callsFake(() => ({ jobArn: JOB, status: seen.shift() ?? 'Stopping' }));
    bedrock.on(StopModelCustomizationJobCommand).rejects(new ValidationException({ message: 'job is not in progress', $metadata: {} }));
    expect(await reap(eventInput(), config, deps)).toMatchObject({ outcome: 'job-ended', jobStatus: 'Stopping', stopped: false });

    // A refused stop of a job still InProgress is an error (the Lambda's retries run it again).
    ({ ledger } = emulatedLedger(dynamodb));
    await submitted();
    bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn: JOB, status: 'InProgress' });
    await expect(reap(eventInput(), config, { ...deps, ledger })).rejects.toThrow('job is not in progress');
  });

  it('ignores executions of other state machines, unknown executions, and executions that did not end badly', async () => {
    await submitted();
    dynamodb.resetHistory();
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
    expect(dynamodb).not.toHaveReceivedAnyCommand();
  });

  it('passes AWS errors other than "does not exist" on, having stopped nothing', async () => {
    sfn.on(DescribeExecutionCommand).rejects(new Error('throttled'));
    await expect(reap(eventInput(), config, deps)).rejects.toThrow('throttled');

    // The ledger cannot be read.
    executions({ [FIRST.id]: 'ABORTED' });
    dynamodb.on(GetItemCommand).rejects(new ProvisionedThroughputExceededException({ message: 'ledger throttled', $metadata: {} }));
    await expect(reap(eventInput(), config, deps)).rejects.toThrow('ledger throttled');
    expect(bedrock).not.toHaveReceivedAnyCommand();

    // The designated successor cannot be described: the ledger is not taken over.
    ({ ledger } = emulatedLedger(dynamodb));
    await submitted({ designated: GEN1 });
    sfn.on(DescribeExecutionCommand, { executionArn: GEN1 }).rejects(new Error('sfn throttled'));
    await expect(reap(eventInput(), config, { ...deps, ledger })).rejects.toThrow('sfn throttled');
    expect(await ledger.read(JOB_NAME)).toMatchObject({ supervisor: GEN1, claimed: false });
    expect(bedrock).not.toHaveReceivedAnyCommand();
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

    // The handler's ledger is the stack's table (JOB_LEDGER_TABLE) over the shared DynamoDB client.
    await submitted();
    executions({ [FIRST.id]: 'ABORTED' });
    job('InProgress');
    const ours = fixtureEvent('step-functions-execution-status-change');
    Object.assign(ours.detail, { executionArn: FIRST.id, stateMachineArn: STATE_MACHINE, status: 'ABORTED' });
    expect(await handler(ours, context)).toMatchObject({ outcome: 'stopped' });
    expect(await ledger.read(JOB_NAME)).toMatchObject({ supervisor: REAPER_SUPERVISOR });

    await expect(handler({ source: 'aws.states', detail: {} }, context)).rejects.toMatchObject({ name: 'InvalidInputError' });
  });
});

/**
 * resume-job: a `handover` input is a claim. The execution continues a job only when (1) the
 * predecessor's own history started it with that hand-over, and (2) the job ledger designated it, by
 * that predecessor, for that job of that chain, and its claim (one conditional write) went through.
 * The ledger is the real one over an in-memory table; entries are made by the ledger's own calls.
 */
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ExecutionDoesNotExist, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resumedState, resumeJob, type ResumeJobDeps } from '../../functions/resume-job/resume-job.js';
import { executionArnOf } from '../../functions/shared/arn.js';
import { handoverExecutionName } from '../../functions/shared/chain.js';
import { HandOverRejectedError, HandOverUnverifiedError } from '../../functions/shared/errors.js';
import type { Handover } from '../../functions/shared/handover.js';
import type { Ledger } from '../../functions/shared/ledger.js';
import type { MemoryDynamoDB } from '../../local/dynamodb-memory.js';
import { handOverScheduledEvent } from '../../local/workflow.js';
import { emulatedLedger, ledgerWith } from '../support/ledger.js';

const sfn = mockClient(SFNClient);
const dynamodb = mockClient(DynamoDBClient);
const bedrock = mockClient(BedrockClient);
afterEach(() => {
  sfn.reset();
  dynamodb.reset();
  bedrock.reset();
});

const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:bedrock-vpc-customization-dev-customize-model';
const FIRST = { id: executionArnOf(STATE_MACHINE, 'run-1'), name: 'run-1' };
const OTHER_CHAIN = executionArnOf(STATE_MACHINE, 'someone-else');
const JOB = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/abc123';
const OTHER_JOB = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/other';
const JOB_NAME = 'run-1-job';
const SUBMISSION = { jobArn: JOB, jobName: JOB_NAME, adopted: false, submittedAt: '2026-11-28T10:00:00Z', deadline: '2026-11-29T10:00:00Z' };
const STARTED_AT = '2026-11-28T12:00:00.000Z';

/** The execution of `generation` (its name as HandOver gives it) verifying itself. */
function successor(generation: number) {
  const name = handoverExecutionName(FIRST, generation, 'nonce');
  return { executionArn: executionArnOf(STATE_MACHINE, name), name, stateMachineArn: STATE_MACHINE, startTime: STARTED_AT };
}
const GEN1 = successor(1);
const GEN2 = successor(2);

/** The hand-over HandOver of `previous` scheduled for generation `generation`. */
const handoverFrom = (previous: string, generation = 1, more: Partial<Handover> = {}): Handover => ({
  job: { jobName: JOB_NAME },
  execution: FIRST,
  submission: SUBMISSION,
  pollCount: 3,
  generation,
  previousExecutionId: previous,
  ...more,
});

/** `by`'s history holds its HandOver's start of `self` with `handover` (TaskScheduled, as AWS documents it). */
function scheduled(by: string, self: { name: string }, handover: Handover) {
  sfn.on(GetExecutionHistoryCommand, { executionArn: by }).resolves({
    events: [
      { id: 20, type: 'ExecutionSucceeded', timestamp: new Date() },
      handOverScheduledEvent({ StateMachineArn: STATE_MACHINE, Name: self.name, Input: { handover, AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: by } }, 12),
    ],
  });
}

let ledger: Ledger;
let db: MemoryDynamoDB;
let deps: ResumeJobDeps;
beforeEach(() => {
  ({ ledger, db } = emulatedLedger(dynamodb));
  deps = { sfn: new SFNClient({}), ledger };
});

/** The first execution's job, submitted, with `more` hand-overs. */
const chain = (more: Partial<Parameters<typeof ledgerWith>[1][number]> = {}) => ledgerWith(ledger, [{ jobName: JOB_NAME, owner: FIRST.id, jobArn: JOB, ...more }]);

/** Runs `fn` and returns what it rejected with (fails the test when it resolved). */
async function rejection(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

const transient = (message = 'Rate exceeded') => Object.assign(new Error(message), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });

describe('resumeJob', () => {
  it('designated by its predecessor: claims the job and continues the hand-over the predecessor scheduled', async () => {
    await chain({ designated: GEN1.executionArn });
    const handover = handoverFrom(FIRST.id);
    scheduled(FIRST.id, GEN1, handover);
    const state = await resumeJob(GEN1, handover, deps);
    expect(state).toEqual({
      job: { jobName: JOB_NAME },
      execution: FIRST,
      submission: SUBMISSION,
      poll: { pollCount: 3, pollsThisExecution: 0 },
      handover: { generation: 1, previousExecutionId: FIRST.id, startedAt: STARTED_AT, self: GEN1.executionArn },
    });
    expect(state).toEqual(resumedState(handover, STARTED_AT, GEN1.executionArn));
    expect(await ledger.read(JOB_NAME)).toMatchObject({ owner: FIRST.id, supervisor: GEN1.executionArn, claimed: true, generation: 1, jobArn: JOB });
    expect((await ledger.read(JOB_NAME))!.handoverFrom).toBeUndefined();
    // The predecessor can no longer take it back: exactly one supervisor.
    expect(await ledger.takeBack(JOB_NAME, FIRST.id, GEN1.executionArn)).toBe(false);
    // Reads only the predecessor's history; no tags, no Bedrock.
    expect(sfn).toHaveReceivedCommandWith(GetExecutionHistoryCommand, { executionArn: FIRST.id, reverseOrder: true, includeExecutionData: true });
    expect(sfn).not.toHaveReceivedCommandWith(GetExecutionHistoryCommand, { executionArn: GEN1.executionArn });
    expect(bedrock).not.toHaveReceivedAnyCommand();
  });

  it('continues what the predecessor scheduled, not what the input says', async () => {
    await chain({ designated: GEN1.executionArn });
    const real = handoverFrom(FIRST.id);
    scheduled(FIRST.id, GEN1, real);
    const state = await resumeJob(GEN1, { ...real, pollCount: 0, submission: { ...SUBMISSION, deadline: '2099-01-01T00:00:00Z' } }, deps);
    expect(state.poll.pollCount).toBe(3);
    expect(state.submission.deadline).toBe(SUBMISSION.deadline);
  });

  it('a generation further down the chain: claimed from the successor that designated it', async () => {
    await chain({ claimedBy: [GEN1.executionArn], designated: GEN2.executionArn });
    const handover = handoverFrom(GEN1.executionArn, 2);
    scheduled(GEN1.executionArn, GEN2, handover);
    expect(await resumeJob(GEN2, handover, deps)).toMatchObject({ handover: { generation: 2, previousExecutionId: GEN1.executionArn, self: GEN2.executionArn } });
    expect(await ledger.read(JOB_NAME)).toMatchObject({ supervisor: GEN2.executionArn, claimed: true, generation: 2 });
  });

  it('a retried claim (the task ran again after its claim went through) continues; so does one whose answer was lost', async () => {
    await chain({ designated: GEN1.executionArn });
    const handover = handoverFrom(FIRST.id);
    scheduled(FIRST.id, GEN1, handover);
    const first = await resumeJob(GEN1, handover, deps);
    expect(await resumeJob(GEN1, handover, deps)).toEqual(first);
    expect(await ledger.read(JOB_NAME)).toMatchObject({ supervisor: GEN1.executionArn, claimed: true });

    // The claim is written, but its answer is lost (a timeout): unverified, retried, then verified.
    ({ ledger, db } = emulatedLedger(dynamodb));
    await chain({ designated: GEN1.executionArn });
    let lost = true;
    dynamodb.on(UpdateItemCommand).callsFake((input) => {
      const out = db.updateItem(input);
      if (lost) {
        lost = false;
        throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} });
      }
      return out;
    });
    const retryDeps = { ...deps, ledger };
    expect(await rejection(() => resumeJob(GEN1, handover, retryDeps))).toBeInstanceOf(HandOverUnverifiedError);
    expect(await resumeJob(GEN1, handover, retryDeps)).toEqual(first);
  });

  describe('the ledger does not designate this execution: HandOverRejectedError, the ledger unchanged', () => {
    it.each<[string, () => Promise<unknown>, Handover?]>([
      ['no entry for the job', async () => undefined],
      ['not designated (the predecessor still supervises)', () => chain()],
      ['taken back by the predecessor (its start failed)', async () => {
        await chain({ designated: GEN1.executionArn });
        expect(await ledger.takeBack(JOB_NAME, FIRST.id, GEN1.executionArn)).toBe(true);
      }],
      ['another successor designated', () => chain({ designated: GEN2.executionArn })],
      ['designated by another execution than the predecessor that started it', () => chain({ claimedBy: [GEN2.executionArn], designated: GEN1.executionArn })],
      // The ledger's entry is another chain's, designated to this name by its own execution; the hand-over claims FIRST's chain.
      ['another owner', () => ledgerWith(ledger, [{ jobName: JOB_NAME, owner: OTHER_CHAIN, jobArn: JOB, designated: GEN1.executionArn }]), handoverFrom(OTHER_CHAIN)],
      ['another job ARN recorded under that name', () => chain({ jobArn: OTHER_JOB, designated: GEN1.executionArn })],
      ['already reaped (the predecessor died, the reaper stopped the job)', () => chain({ designated: GEN1.executionArn, reaped: true })],
    ])('%s', async (_label, setup, handover = handoverFrom(FIRST.id)) => {
      await setup();
      const before = await ledger.read(JOB_NAME);
      scheduled(handover.previousExecutionId, GEN1, handover);
      const err = await rejection(() => resumeJob(GEN1, handover, deps));
      expect(err).toBeInstanceOf(HandOverRejectedError);
      // Refused by the ledger, the hand-over itself being real.
      expect(err.message).toContain('The job ledger does not designate');
      expect(err.message).toContain('Nothing was stopped or cleaned up');
      expect(await ledger.read(JOB_NAME)).toEqual(before);
    });
  });

  describe('the predecessor did not start it with that hand-over: HandOverRejectedError before the ledger is touched', () => {
    beforeEach(async () => {
      await chain({ designated: GEN1.executionArn });
      dynamodb.resetHistory();
    });

    it.each([
      ['names no execution of this state machine', 'arn:aws:states:us-east-1:123456789012:execution:another-machine:run-1'],
      ['names no execution at all', undefined],
      ['names itself', GEN1.executionArn],
    ])('the hand-over %s', async (_label, previousExecutionId) => {
      const err = await rejection(() => resumeJob(GEN1, { ...handoverFrom(FIRST.id), previousExecutionId }, deps));
      expect(err).toBeInstanceOf(HandOverRejectedError);
      expect(sfn).not.toHaveReceivedAnyCommand();
      expect(dynamodb).not.toHaveReceivedAnyCommand();
    });

    it('the predecessor does not exist', async () => {
      sfn.on(GetExecutionHistoryCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));
      expect(await rejection(() => resumeJob(GEN1, handoverFrom(FIRST.id), deps))).toBeInstanceOf(HandOverRejectedError);
      expect(dynamodb).not.toHaveReceivedAnyCommand();
    });

    it("a forged execution: the predecessor's history starts another name (the designated one)", async () => {
      const forged = { executionArn: executionArnOf(STATE_MACHINE, 'forged'), name: 'forged', stateMachineArn: STATE_MACHINE, startTime: STARTED_AT };
      scheduled(FIRST.id, GEN1, handoverFrom(FIRST.id));
      const err = await rejection(() => resumeJob(forged, handoverFrom(FIRST.id), deps));
      expect(err).toBeInstanceOf(HandOverRejectedError);
      expect(err.message).toContain('never started');
      expect(dynamodb).not.toHaveReceivedAnyCommand();
      expect(await ledger.read(JOB_NAME)).toMatchObject({ supervisor: GEN1.executionArn, claimed: false });
    });
  });

  it('the ledger cannot be read or written for a transient reason: HandOverUnverifiedError (retried), nothing claimed', async () => {
    await chain({ designated: GEN1.executionArn });
    const handover = handoverFrom(FIRST.id);
    scheduled(FIRST.id, GEN1, handover);

    dynamodb.on(GetItemCommand).rejects(transient('ledger read throttled'));
    let err = await rejection(() => resumeJob(GEN1, handover, deps));
    expect(err).toBeInstanceOf(HandOverUnverifiedError);
    expect(err.message).toContain('ledger read throttled');
    expect(err.cause).toMatchObject({ name: 'ThrottlingException' });

    dynamodb.on(GetItemCommand).callsFake((input) => db.getItem(input));
    dynamodb.on(UpdateItemCommand).rejects(Object.assign(new Error('InternalServerError'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } }));
    err = await rejection(() => resumeJob(GEN1, handover, deps));
    expect(err).toBeInstanceOf(HandOverUnverifiedError);
    expect(await ledger.read(JOB_NAME)).toMatchObject({ supervisor: GEN1.executionArn, claimed: false });

    // Once the ledger answers again, the retried task claims the job.
    dynamodb.on(UpdateItemCommand).callsFake((input) => db.updateItem(input));
    expect(await resumeJob(GEN1, handover, deps)).toMatchObject({ handover: { self: GEN1.executionArn } });
  });

  it('the predecessor\'s history cannot be read for a transient reason: HandOverUnverifiedError, the ledger untouched', async () => {
    await chain({ designated: GEN1.executionArn });
    dynamodb.resetHistory();
    sfn.on(GetExecutionHistoryCommand).rejects(transient('sfn throttled'));
    expect(await rejection(() => resumeJob(GEN1, handoverFrom(FIRST.id), deps))).toBeInstanceOf(HandOverUnverifiedError);
    expect(dynamodb).not.toHaveReceivedAnyCommand();
  });

  it('a ledger error retrying cannot fix is passed on as it is (the state ends in HandOverRejected)', async () => {
    await chain({ designated: GEN1.executionArn });
    const handover = handoverFrom(FIRST.id);
    scheduled(FIRST.id, GEN1, handover);
    dynamodb.on(GetItemCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    const err = await rejection(() => resumeJob(GEN1, handover, deps));
    expect(err).toMatchObject({ name: 'AccessDeniedException' });
    expect(err).not.toBeInstanceOf(HandOverUnverifiedError);
  });
});

describe('resume-job handler', () => {
  it('verifies the hand-over with the stack\'s ledger (JOB_LEDGER_TABLE); rejects an event without the execution\'s identity', async () => {
    const { handler } = await import('../../functions/resume-job/handler.js');
    const context = {} as Parameters<typeof handler>[1];
    await chain({ designated: GEN1.executionArn });
    const handover = handoverFrom(FIRST.id);
    scheduled(FIRST.id, GEN1, handover);
    expect(await handler({ handover, self: GEN1 }, context)).toMatchObject({ handover: { self: GEN1.executionArn, generation: 1 } });
    expect(await ledger.read(JOB_NAME)).toMatchObject({ supervisor: GEN1.executionArn, claimed: true });

    await expect(handler({ handover, self: { executionArn: GEN1.executionArn } }, context)).rejects.toMatchObject({ name: 'InvalidInputError' });
  });
});

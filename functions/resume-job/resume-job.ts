/**
 * resume-job: the first step of an execution started with a `handover` input (continue-as-new, README
 * "Following the job"). Before this execution follows, stops or cleans up anything, it proves the
 * hand-over is real:
 *
 * 1. the predecessor named in the input is an execution of this state machine whose history scheduled
 *    this very execution (name and state machine) — shared/handover.ts; the hand-over it scheduled is
 *    what this execution continues, whatever else the input says;
 * 2. the job ledger (shared/ledger.ts) designated this execution as the job's next supervisor, by that
 *    predecessor, for that job of that chain: the claim is one conditional write, so the job passes to
 *    this execution only if the predecessor has not taken it back (and never to two executions).
 *
 * Either check failing is {@link HandOverRejectedError}: the execution ends in HandOverRejected having
 * done nothing. A read that fails for a transient reason is {@link HandOverUnverifiedError} (retried).
 * Reads the predecessor's history (GetExecutionHistory); writes only the ledger's claim.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { isTransientAwsError } from '../shared/aws-errors.js';
import { HandOverRejectedError, HandOverUnverifiedError, describeError } from '../shared/errors.js';
import { verifyHandover, type Handover, type Self } from '../shared/handover.js';
import type { Ledger } from '../shared/ledger.js';

export interface ResumeJobDeps {
  sfn: SFNClient;
  ledger: Ledger;
}

/** What the states after ResumeJob read: the job, its first execution, its submission, the polling state, the chain. */
export interface ResumedState {
  job: Handover['job'];
  execution: Handover['execution'];
  submission: Handover['submission'];
  poll: { pollCount: number; pollsThisExecution: 0 };
  handover: { generation: number; previousExecutionId: string; startedAt: string; self: string };
}

/** Verifies the claimed hand-over (see the module comment) and returns the state this execution continues with. */
export async function resumeJob(self: Self & { startTime: string }, claimed: unknown, deps: ResumeJobDeps): Promise<ResumedState> {
  let handover: Handover;
  try {
    handover = await verifyHandover(self, claimed, deps.sfn);
  } catch (err) {
    if (err instanceof HandOverRejectedError) throw err;
    throw new HandOverUnverifiedError(`Could not read the predecessor's history to verify the hand-over (${describeError(err)})`, { cause: err });
  }
  const { jobArn, jobName } = handover.submission;
  let entry;
  let claimedNow: boolean;
  try {
    entry = await deps.ledger.read(jobName);
    claimedNow =
      entry !== undefined && entry.owner === handover.execution.id && entry.jobArn === jobArn && (await deps.ledger.claim(jobName, self.executionArn, handover.previousExecutionId, jobArn));
  } catch (err) {
    if (!isTransientAwsError(err)) throw err;
    throw new HandOverUnverifiedError(`Could not read or write the job ledger to take job ${jobArn} over (${describeError(err)})`, { cause: err });
  }
  if (!claimedNow) {
    throw new HandOverRejectedError(
      `The job ledger does not designate ${self.executionArn} as the next supervisor of job ${jobArn} (owner ${entry?.owner ?? 'none'}, ` +
        `supervisor ${entry?.supervisor ?? 'none'}): not this chain's hand-over, or ${handover.previousExecutionId} took the job back. Nothing was stopped or cleaned up.`,
    );
  }
  return resumedState(handover, self.startTime, self.executionArn);
}

/** The state an execution (`self`) that took `handover` over continues with (it started at `startedAt`). */
export function resumedState(handover: Handover, startedAt: string, self: string): ResumedState {
  return {
    job: handover.job,
    execution: handover.execution,
    submission: handover.submission,
    poll: { pollCount: handover.pollCount, pollsThisExecution: 0 },
    handover: { generation: handover.generation, previousExecutionId: handover.previousExecutionId, startedAt, self },
  };
}

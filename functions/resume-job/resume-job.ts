/**
 * resume-job: the first step of an execution started with a `handover` input (continue-as-new, README
 * "Following the job"). Before this execution follows, stops or cleans up anything, it proves the
 * hand-over is real:
 *
 * 1. the predecessor named in the input is an execution of this state machine whose history scheduled
 *    this very execution (name and state machine) — shared/handover.ts; the hand-over it scheduled is
 *    what this execution continues, whatever else the input says;
 * 2. the job it names is tagged as the chain's (`bedrock-vpc-customization:execution-arn` = the chain's
 *    first execution, the tag SubmitJob writes).
 *
 * Either check failing is {@link HandOverRejectedError}: the execution ends in HandOverRejected having
 * done nothing. A read that fails for a transient reason is {@link HandOverUnverifiedError} (retried).
 * Reads only: GetExecutionHistory of the predecessor, ListTagsForResource of the job.
 */
import { ListTagsForResourceCommand, type BedrockClient } from '@aws-sdk/client-bedrock';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { isAwsError } from '../shared/aws-errors.js';
import { CHAIN_EXECUTION_TAG } from '../shared/chain.js';
import { HandOverRejectedError, HandOverUnverifiedError, describeError } from '../shared/errors.js';
import { verifyHandover, type Handover, type Self } from '../shared/handover.js';

export interface ResumeJobDeps {
  sfn: Pick<SFNClient, 'send'>;
  bedrock: Pick<BedrockClient, 'send'>;
}

/** What the states after ResumeJob read: the job, its first execution, its submission, the polling state, the chain. */
export interface ResumedState {
  job: Handover['job'];
  execution: Handover['execution'];
  submission: Handover['submission'];
  poll: { pollCount: number; pollsThisExecution: 0 };
  handover: { generation: number; previousExecutionId: string; startedAt: string };
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
  const { jobArn } = handover.submission;
  let owner: string | undefined;
  try {
    const tags = await deps.bedrock.send(new ListTagsForResourceCommand({ resourceARN: jobArn }));
    owner = tags.tags?.find((t) => t.key === CHAIN_EXECUTION_TAG)?.value;
  } catch (err) {
    if (isAwsError(err, 'ResourceNotFoundException')) {
      throw new HandOverRejectedError(`The hand-over names job ${jobArn}, which does not exist. Nothing was stopped or cleaned up.`);
    }
    throw new HandOverUnverifiedError(`Could not read the tags of job ${jobArn} to verify the hand-over (${describeError(err)})`, { cause: err });
  }
  if (owner !== handover.execution.id) {
    throw new HandOverRejectedError(
      `Job ${jobArn} is tagged ${CHAIN_EXECUTION_TAG}=${owner ?? '(none)'}, not ${handover.execution.id}: not this chain's job. Nothing was stopped or cleaned up.`,
    );
  }
  return resumedState(handover, self.startTime);
}

/** The state an execution that took `handover` over continues with (it started at `startedAt`). */
export function resumedState(handover: Handover, startedAt: string): ResumedState {
  return {
    job: handover.job,
    execution: handover.execution,
    submission: handover.submission,
    poll: { pollCount: handover.pollCount, pollsThisExecution: 0 },
    handover: { generation: handover.generation, previousExecutionId: handover.previousExecutionId, startedAt },
  };
}

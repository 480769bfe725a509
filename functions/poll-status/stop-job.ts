/**
 * StopJob and StopUnwatchedJob: StopModelCustomizationJob, sent only by the job's supervisor. The job
 * ledger must record the job under this chain's first execution, with this execution as its claimed
 * supervisor (shared/ledger.ts); anything else is {@link JobNotOursError} and nothing is sent. (Step
 * Functions' own Bedrock integration could stop any job of the account: the state machine's role no
 * longer may.)
 */
import { StopModelCustomizationJobCommand, type BedrockClient } from '@aws-sdk/client-bedrock';
import { awsErrorCode, isTransientAwsError } from '../shared/aws-errors.js';
import { describeError, JobNotOursError, JobStopUnavailableError } from '../shared/errors.js';
import { requireSupervisor, type Ledger } from '../shared/ledger.js';
import type { Submission } from '../shared/job-state.js';

export interface StopJobInput {
  submission: Pick<Submission, 'jobArn' | 'jobName'>;
  /** The chain's first execution (the job's owner). */
  execution: { id: string };
  /** This execution (`$$.Execution.Id`). */
  self: string;
  /**
   * Why: the deadline passed, the job used its executions (maxExecutionsPerJob), one of its phases
   * failed while it ran (statusDetails; poll-status), or it can no longer be followed. The reason never
   * widens who may stop: the ledger check is the same for each.
   */
  reason: 'deadline' | 'executions' | 'phaseFailed' | 'unwatched';
}

export interface StopJobResult {
  /** True when Bedrock accepted the stop request. */
  requested: boolean;
  /** The input's reason, kept in `$.stopRequest` (the stopped job's message says it). */
  reason: StopJobInput['reason'];
  /** Why no request went through (the job no longer runs). */
  detail?: string;
  /** When the request went out (or was refused): the waits after a stop grow from it (poll-status nextWaitSeconds). */
  requestedAt: string;
}

export interface StopJobDeps {
  bedrock: Pick<BedrockClient, 'send'>;
  ledger: Ledger;
  now: () => Date;
}

export async function stopJob(input: StopJobInput, deps: StopJobDeps): Promise<StopJobResult> {
  const { submission } = input;
  await requireSupervisor(
    deps.ledger,
    submission.jobName,
    { owner: input.execution.id, jobArn: submission.jobArn, self: input.self },
    (why) => `Not stopping job ${submission.jobArn} (${input.reason}): ${why}. Nothing was sent.`,
  );
  try {
    const requestedAt = deps.now().toISOString();
    await deps.bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: submission.jobArn }));
    return { requested: true, reason: input.reason, requestedAt };
  } catch (err) {
    // Refused because it no longer runs (it ended, or is already stopping): the next check sees its status.
    const code = awsErrorCode(err);
    if (code === 'ValidationException' || code === 'ConflictException') return { requested: false, reason: input.reason, detail: describeError(err), requestedAt: deps.now().toISOString() };
    if (isTransientAwsError(err)) throw new JobStopUnavailableError(`Could not ask Bedrock to stop job ${submission.jobName}: ${describeError(err)}`, { cause: err });
    throw err;
  }
}

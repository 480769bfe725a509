/**
 * poll-status: one GetModelCustomizationJob, mapped to what the state machine does next
 * (`wait`, `stop` when the deadline has passed, or a terminal outcome), with the next wait interval.
 *
 * Waits grow from `polling.initialSeconds` by `polling.growthFactor` up to `polling.maxSeconds`
 * (cheap for long jobs, quick for short ones) and never overshoot the deadline.
 */
import { GetModelCustomizationJobCommand, type BedrockClient } from '@aws-sdk/client-bedrock';
import type { JobInput } from '../shared/job-input.js';
import type { JobStatus, PollNext, PollResult, Submission } from '../shared/job-state.js';
import { JobStopError } from '../shared/errors.js';

export interface PollStatusDeps {
  bedrock: Pick<BedrockClient, 'send'>;
  now: () => Date;
}

export interface PollStatusInput {
  job: Pick<JobInput, 'polling' | 'jobName'>;
  submission: Submission;
  /** The previous poll, absent on the first one. */
  poll?: Pick<PollResult, 'pollCount'>;
  /** Present once the StopJob state has asked Bedrock to stop the job. */
  stopRequest?: unknown;
  /** Present when StopJob failed (its Catch writes here). */
  stopError?: { Error?: string; Cause?: string };
}

/** The wait before poll number `pollCount + 1`, capped, and not past the deadline (at least 1 s). */
export function nextWaitSeconds(polling: JobInput['polling'], pollCount: number, secondsToDeadline: number): number {
  const grown = Math.round(polling.initialSeconds * polling.growthFactor ** Math.max(0, pollCount - 1));
  const capped = Math.min(polling.maxSeconds, grown);
  return Math.max(1, secondsToDeadline > 0 ? Math.min(capped, Math.ceil(secondsToDeadline)) : capped);
}

export async function pollStatus(input: PollStatusInput, deps: PollStatusDeps): Promise<PollResult> {
  const { submission, job } = input;
  const out = await deps.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: submission.jobArn }));
  const status = out.status as JobStatus;
  const now = deps.now();
  const secondsToDeadline = (Date.parse(submission.deadline) - now.getTime()) / 1000;
  const deadlineExceeded = secondsToDeadline <= 0;
  const pollCount = (input.poll?.pollCount ?? 0) + 1;

  let next: PollNext;
  let message: string;
  switch (status) {
    case 'Completed':
      next = 'completed';
      message = `Job ${submission.jobName} completed; custom model ${out.outputModelArn ?? out.outputModelName ?? '(unknown)'}.`;
      break;
    case 'Failed':
      next = 'failed';
      message = `Job ${submission.jobName} failed: ${out.failureMessage ?? 'no failure message given'}`;
      break;
    case 'Stopped':
      next = 'stopped';
      message = input.stopRequest
        ? `Job ${submission.jobName} was stopped by this workflow: its deadline ${submission.deadline} passed.`
        : `Job ${submission.jobName} was stopped outside this workflow.`;
      break;
    case 'InProgress':
    case 'Stopping':
      if (status === 'InProgress' && deadlineExceeded && input.stopError) {
        throw new JobStopError(
          `Job ${submission.jobName} passed its deadline ${submission.deadline} and could not be stopped: ` +
            `${input.stopError.Error ?? 'error'} ${input.stopError.Cause ?? ''}`.trim(),
        );
      }
      next = status === 'InProgress' && deadlineExceeded && !input.stopRequest ? 'stop' : 'wait';
      message =
        next === 'stop'
          ? `Job ${submission.jobName} passed its deadline ${submission.deadline}: stopping it.`
          : `Job ${submission.jobName} is ${status}.`;
      break;
    default:
      throw new Error(`Unexpected job status "${String(out.status)}" for ${submission.jobArn}`);
  }

  return {
    status,
    next,
    pollCount,
    nextWaitSeconds: nextWaitSeconds(job.polling, pollCount, secondsToDeadline),
    deadlineExceeded,
    checkedAt: now.toISOString(),
    message,
    ...(out.failureMessage ? { failureMessage: out.failureMessage } : {}),
    ...(out.statusDetails ? { statusDetails: JSON.parse(JSON.stringify(out.statusDetails)) } : {}),
  };
}

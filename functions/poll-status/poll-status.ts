/**
 * poll-status: one GetModelCustomizationJob, mapped to what the state machine does next
 * (`wait`, `stop` when the deadline has passed or a phase of the job failed, `handover` when this
 * execution's history grows large, or a terminal outcome), with the next wait interval.
 *
 * Early failure: Bedrock reports the job's phases in `statusDetails` (validation, data processing,
 * training). A phase `Failed` while the job is still `InProgress` ends the wait at once: the poll that
 * sees it answers `stop` (stopReason `phaseFailed`; StopJob sends StopModelCustomizationJob as the job's
 * supervisor in the job ledger, nothing else), records the failure in `phaseFailure`, and the job's end
 * (Stopped, or Failed if Bedrock ends it first) is `failed`: CleanupEnis and RevokeGrants run, and the
 * execution fails with JobFailedError, its Cause naming the phase and Bedrock's failureMessage. A
 * deadline stop stays JobDeadlineExceededError. Bedrock's job-state event carries only terminal
 * statuses, so a phase failure is seen by a status check: within the wait then running (the polling
 * interval, at most `polling.maxSeconds`; in event mode the safety net, at most DETECTION_BOUND_SECONDS).
 *
 * Waits grow from `polling.initialSeconds` by `polling.growthFactor` up to `polling.maxSeconds`
 * (cheap for long jobs, quick for short ones) and never overshoot the deadline.
 *
 * History: a Standard execution fails at 25,000 events. Each poll iteration (Wait + Lambda Task +
 * Choice) adds about {@link EVENTS_PER_POLL} events, and each retry of a failed check
 * {@link EVENTS_PER_RETRY} more (counted from how late the check is, {@link retriesWithin}); when the estimate reaches
 * `polling.handoverAfterEvents`, or the execution has run for {@link HANDOVER_AFTER_SECONDS}, the job
 * is handed over to a fresh execution (continue-as-new).
 */
import { GetModelCustomizationJobCommand, type BedrockClient, type GetModelCustomizationJobCommandOutput } from '@aws-sdk/client-bedrock';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { JobInput } from '../shared/job-input.js';
import {
  DETECTION_BOUND_SECONDS,
  JOB_PHASES,
  EVENTS_PER_QUOTA_WAIT,
  HANDOVER_AFTER_SECONDS,
  MIN_POLL_SECONDS,
  type Execution,
  type JobPhase,
  type JobStatus,
  type PhaseFailure,
  type PollNext,
  type PollResult,
  type Submission,
} from '../shared/job-state.js';
import { siblingExecutionArn } from '../shared/arn.js';
import { handoverExecutionName } from '../shared/chain.js';
import { describeError, JobNotOursError, JobStatusUnavailableError, JobStopError } from '../shared/errors.js';
import { isTransientAwsError } from '../shared/aws-errors.js';
import { notSupervisor, type Ledger, type LedgerEntry } from '../shared/ledger.js';
import { jobEnisInNetwork } from '../shared/bedrock-enis.js';

/** History events of one poll iteration: Wait (2) + Lambda Task (5) + Choice (2). */
export const EVENTS_PER_POLL = 9;
/**
 * History events of one event-wait iteration: the `.waitForTaskToken` Task (TaskStateEntered,
 * TaskScheduled, TaskStarted, TaskSubmitted, TaskSucceeded or TaskTimedOut, TaskStateExited: 6) +
 * the Lambda Task PollStatus (5) + Choice (2).
 */
export const EVENTS_PER_EVENT_WAIT = 13;
/**
 * History events before the first poll: execution start and the states up to SubmitJob (plus
 * {@link EVENTS_PER_QUOTA_WAIT} for each wait for the job quota, `$.quotaWait.attempts`).
 */
export const EVENTS_BEFORE_FIRST_POLL = 35;
/** History events of one retried PollStatus attempt: LambdaFunctionScheduled, Started, Failed. */
export const EVENTS_PER_RETRY = 3;
/**
 * PollStatus's retrier for transient errors, as in the ASL (a state-machine test compares them): 60 s
 * doubling to 30 min, 16 retries, no jitter, so 21,660 s (6 h 1 min) in all.
 */
export const POLL_RETRY = { intervalSeconds: 60, backoffRate: 2, maxDelaySeconds: 1800, maxAttempts: 16 } as const;

/**
 * Retries of PollStatus that fit in `seconds` of unexplained delay (more time between two checks
 * than the wait asked for): Step Functions does not tell a Task its retries, so they are counted from
 * the clock. Anything else that took time (a slow Lambda, StopJob's retries) counts too: an
 * over-estimate, on the safe side.
 */
export function retriesWithin(seconds: number): number {
  let retries = 0;
  let spent = 0;
  while (retries < POLL_RETRY.maxAttempts) {
    const delay = Math.min(POLL_RETRY.maxDelaySeconds, POLL_RETRY.intervalSeconds * POLL_RETRY.backoffRate ** retries);
    if (spent + delay > seconds) break;
    spent += delay;
    retries++;
  }
  return retries;
}

/** Events kept in reserve for the end of an execution (stop, cleanup retries, outcome). */
export const EVENTS_RESERVED_FOR_END = 60;

export interface PollStatusDeps {
  bedrock: Pick<BedrockClient, 'send'>;
  /** The ENIs of the job, recorded in the ledger while it runs (cleanup-enis deletes only those). */
  ec2: EC2Client;
  ledger: Ledger;
  now: () => Date;
}

export interface PollStatusInput {
  job: Pick<JobInput, 'polling' | 'jobName'> & { vpcConfig?: { vpcId?: string; subnetIds: string[]; securityGroupIds: string[] } };
  /**
   * The execution that submitted the job: the first of the chain (hand-overs carry it along). Its ARN
   * and name seed hand-over names; its start, the first execution's age.
   */
  execution?: Pick<Execution, 'id' | 'name' | 'startTime'>;
  /** The quota-wait loop before submission in this execution (its iterations count in the history). */
  quotaWait?: { attempts?: number };
  submission: Submission;
  /** The previous poll, absent on the first one. */
  poll?: Partial<Pick<PollResult, 'pollCount' | 'pollsThisExecution' | 'retriesThisExecution' | 'checkedAt' | 'nextWaitSeconds' | 'phaseFailure'>>;
  /**
   * Present in an execution that took the job over from another one (`startedAt`: its own start;
   * `self`: its own ARN, as ResumeJob read it from the context object).
   */
  handover?: { generation: number; startedAt?: string; self?: string };
  /** Present once the StopJob state has asked Bedrock to stop the job. */
  stopRequest?: unknown;
  /** Present when StopJob failed (its Catch writes here). */
  stopError?: { Error?: string; Cause?: string };
  /**
   * Present when HandOver found the successor's name taken by an execution that does not carry this
   * job on (HandOverRefused): the next hand-over skips that generation's name.
   */
  handoverRefused?: { generation: number };
}

/**
 * The wait before poll number `pollCount + 1`: `initialSeconds` times `growthFactor` per check, up to
 * the mode's cap, never past the deadline, and at least {@link MIN_POLL_SECONDS}.
 *
 * - `poll`: capped at `maxSeconds`.
 * - `event`: the safety net of WaitForJobEvent (its TimeoutSeconds): the job's event releases the
 *   wait within seconds; when it is lost, the wait times out and PollStatus checks anyway. Capped at
 *   `eventSafetyNetSeconds`, at most {@link DETECTION_BOUND_SECONDS}, so a finished job is noticed
 *   within the bound even when every event is lost. It grows with the job's age because a job that
 *   fails early (its data or role refused) is noticed sooner, and a long job pays the bound's rate.
 * - After a stop request (`stoppingForSeconds`: how long ago it went out; 0 for the poll that decides
 *   to stop): Stopping → Stopped is quick, so the first check comes after `initialSeconds`, each next
 *   one after as long as the stop has taken so far (the waits double), up to the mode's cap and never
 *   past {@link DETECTION_BOUND_SECONDS}: the stopped job's end, its ENI cleanup and grant revocation
 *   start within the bound in either mode.
 */
export function nextWaitSeconds(
  polling: Pick<JobInput['polling'], 'mode' | 'eventSafetyNetSeconds' | 'initialSeconds' | 'growthFactor' | 'maxSeconds'>,
  pollCount: number,
  secondsToDeadline: number,
  stoppingForSeconds?: number,
): number {
  const cap = polling.mode === 'event' ? Math.min(polling.eventSafetyNetSeconds, DETECTION_BOUND_SECONDS) : polling.maxSeconds;
  let wait: number;
  if (stoppingForSeconds !== undefined) {
    wait = Math.min(cap, DETECTION_BOUND_SECONDS, Math.max(polling.initialSeconds, Math.ceil(stoppingForSeconds)));
  } else {
    wait = Math.min(cap, Math.round(polling.initialSeconds * polling.growthFactor ** Math.max(0, pollCount - 1)));
    if (secondsToDeadline > 0) wait = Math.min(wait, Math.ceil(secondsToDeadline));
  }
  // Never under the polling floor, so no path back to a status check loops faster than it.
  return Math.max(MIN_POLL_SECONDS, wait);
}

/** Seconds since the stop request in `$.stopRequest` went out (StopJob's `requestedAt`); 0 when it does not say. */
export function secondsSinceStop(stopRequest: unknown, now: Date): number {
  const at = Date.parse(String((stopRequest as { requestedAt?: unknown } | null)?.requestedAt ?? ''));
  return Number.isNaN(at) ? 0 : Math.max(0, (now.getTime() - at) / 1000);
}

/** Each phase's member of GetModelCustomizationJob's `statusDetails` (API_StatusDetails). */
export const PHASE_MEMBERS = {
  validation: 'validationDetails',
  dataProcessing: 'dataProcessingDetails',
  training: 'trainingDetails',
} as const satisfies Record<JobPhase, keyof NonNullable<GetModelCustomizationJobCommandOutput['statusDetails']>>;

const PHASE_LABELS: Record<JobPhase, string> = { validation: 'validation', dataProcessing: 'data processing', training: 'training' };

/**
 * The first phase, in the order they run, whose `statusDetails` status is `Failed` (the JobStatusDetails
 * value, API_ValidationDetails / API_DataProcessingDetails / API_TrainingDetails); undefined when none is.
 */
export function failedPhase(details: GetModelCustomizationJobCommandOutput['statusDetails']): JobPhase | undefined {
  return JOB_PHASES.find((phase) => details?.[PHASE_MEMBERS[phase]]?.status === 'Failed');
}

/**
 * The Cause of a job that failed in a phase: the phase, Bedrock's message, and whether this workflow
 * stopped it (`stop`: the stop request went out, or StopJob failed with the error named).
 */
function phaseFailedMessage(jobName: string, failure: PhaseFailure, status: JobStatus, stop: { requested: true } | { error: string } | undefined): string {
  const what =
    `Job ${jobName} failed in its ${PHASE_LABELS[failure.phase]} phase (statusDetails.${PHASE_MEMBERS[failure.phase]}.status Failed): ` +
    (failure.failureMessage ?? 'Bedrock gave no failure message') +
    '.';
  const seen = `This workflow saw the phase Failed at ${failure.detectedAt} while the job was still InProgress`;
  if (!stop) return what;
  return 'requested' in stop
    ? `${what} ${seen} and stopped the job; its status is ${status}.`
    : `${what} ${seen} and asked Bedrock to stop the job (StopJob failed: ${stop.error}); its status is ${status}.`;
}

/** The name of the execution that takes over at a generation (shared with the reaper). */
export { handoverExecutionName };

/**
 * This execution's ARN: a fresh execution's is the chain's first (`$.execution.id`, from the context
 * object), a resumed one's is `$.handover.self` (ResumeJob, from the context object).
 */
export function selfOf(input: Pick<PollStatusInput, 'execution' | 'handover' | 'submission'>): string {
  return input.handover?.self ?? input.execution?.id ?? '';
}

/**
 * The ledger entry of the job, with this execution as its supervisor: a successor this execution
 * designated but that never claimed the job (its start failed, or its name was taken) is taken back
 * first. `superseded` when another execution (or the reaper) supervises the job now; a job the ledger
 * does not record as this chain's is {@link JobNotOursError}.
 */
export async function superviseJob(input: Pick<PollStatusInput, 'execution' | 'handover' | 'submission'>, ledger: Ledger): Promise<LedgerEntry | 'superseded'> {
  const { submission } = input;
  const self = selfOf(input);
  let entry = await ledger.read(submission.jobName);
  if (entry && entry.supervisor !== self && !entry.claimed && entry.handoverFrom === self) {
    entry = (await ledger.takeBack(submission.jobName, self, entry.supervisor)) ? { ...entry, supervisor: self, claimed: true } : await ledger.read(submission.jobName);
  }
  const owner = input.execution?.id ?? '';
  const why = notSupervisor(entry, { owner, jobArn: submission.jobArn, self });
  if (!why) return entry!;
  if (entry && entry.owner === owner && entry.jobArn === submission.jobArn) return 'superseded';
  throw new JobNotOursError(`Job ${submission.jobName} (${submission.jobArn}) is not this execution's to follow: ${why}. Nothing was stopped or deleted.`);
}

export async function pollStatus(input: PollStatusInput, deps: PollStatusDeps): Promise<PollResult> {
  const { submission, job } = input;
  const entry = await superviseJob(input, deps.ledger);
  if (entry === 'superseded') return superseded(input, deps.now());
  let out: GetModelCustomizationJobCommandOutput;
  try {
    out = await deps.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: submission.jobArn }));
  } catch (err) {
    // Transient: one name the state machine retries for hours. Anything else (access denied, not
    // found) passes unchanged; PollStatus's Catch then stops the job.
    if (isTransientAwsError(err)) {
      throw new JobStatusUnavailableError(`Could not read the status of job ${submission.jobName}: ${describeError(err)}`, { cause: err });
    }
    throw err;
  }
  const status = out.status as JobStatus;
  const now = deps.now();
  if (status === 'InProgress' || status === 'Stopping') await recordEnis(input, entry, deps);
  const secondsToDeadline = (Date.parse(submission.deadline) - now.getTime()) / 1000;
  const deadlineExceeded = secondsToDeadline <= 0;
  const pollCount = (input.poll?.pollCount ?? 0) + 1;
  const pollsThisExecution = (input.poll?.pollsThisExecution ?? 0) + 1;
  // Retries since the previous check of this execution (a resumed execution starts at 0: its $.poll
  // has no checkedAt), estimated from the time the checks were late by.
  const previousAt = input.poll ? Date.parse(input.poll.checkedAt ?? '') : Date.parse(submission.submittedAt);
  const lateBy = (now.getTime() - previousAt) / 1000 - (input.poll?.nextWaitSeconds ?? 0);
  const retriesThisExecution = (input.poll?.retriesThisExecution ?? 0) + (Number.isNaN(lateBy) ? 0 : retriesWithin(lateBy));
  const historyEvents =
    EVENTS_BEFORE_FIRST_POLL +
    (input.quotaWait?.attempts ?? 0) * EVENTS_PER_QUOTA_WAIT +
    pollsThisExecution * (job.polling.mode === 'event' ? EVENTS_PER_EVENT_WAIT : EVENTS_PER_POLL) +
    retriesThisExecution * EVENTS_PER_RETRY;
  const generation = input.handover?.generation ?? 0;
  const startedAt = Date.parse(input.handover?.startedAt ?? input.execution?.startTime ?? '');
  const ageSeconds = Number.isNaN(startedAt) ? 0 : (now.getTime() - startedAt) / 1000;
  const historyFull = historyEvents + EVENTS_RESERVED_FOR_END >= job.polling.handoverAfterEvents;
  const tooOld = ageSeconds >= HANDOVER_AFTER_SECONDS;

  // A phase that failed: seen now, or by an earlier poll of this execution (carried in $.poll). Bedrock's
  // failureMessage is taken whenever it is given (while the job is still InProgress it may not be yet).
  const stoppedForPhase = (input.stopRequest as { reason?: unknown } | undefined)?.reason === 'phaseFailed';
  // How this workflow's stop went once the phase failure was known: sent, or failed (StopJob's Catch
  // wrote $.stopError after a poll that had recorded the failure).
  const phaseStop = stoppedForPhase
    ? ({ requested: true } as const)
    : input.stopError && input.poll?.phaseFailure
      ? { error: input.stopError.Error ?? 'error' }
      : undefined;
  const carried = input.poll?.phaseFailure;
  const seen = status === 'Completed' ? undefined : failedPhase(out.statusDetails);
  const phaseFailure: PhaseFailure | undefined = carried
    ? { ...carried, ...(out.failureMessage ? { failureMessage: out.failureMessage } : {}) }
    : seen
      ? { phase: seen, ...(out.failureMessage ? { failureMessage: out.failureMessage } : {}), detectedAt: now.toISOString() }
      : undefined;

  let next: PollNext;
  let message: string;
  let handover: PollResult['handover'];
  let stopReason: PollResult['stopReason'];
  switch (status) {
    case 'Completed':
      next = 'completed';
      message = `Job ${submission.jobName} completed; custom model ${out.outputModelArn ?? out.outputModelName ?? '(unknown)'}.`;
      break;
    case 'Failed':
      next = 'failed';
      message = phaseFailure
        ? phaseFailedMessage(submission.jobName, phaseFailure, status, phaseStop)
        : `Job ${submission.jobName} failed: ${out.failureMessage ?? 'no failure message given'}`;
      break;
    case 'Stopped':
      if (phaseFailure) {
        // A job one of whose phases failed is a failed job, whoever stopped it (JobFailedError, not a deadline stop).
        next = 'failed';
        message = phaseFailedMessage(submission.jobName, phaseFailure, status, phaseStop);
        break;
      }
      next = 'stopped';
      message = !input.stopRequest
        ? `Job ${submission.jobName} was stopped outside this workflow.`
        : (input.stopRequest as { reason?: string }).reason === 'executions'
          ? `Job ${submission.jobName} was stopped by this workflow: it used its ${job.polling.maxExecutions} executions (stage param maxExecutionsPerJob).`
          : (input.stopRequest as { reason?: string }).reason === 'unwatched'
            ? `Job ${submission.jobName} was stopped by this workflow: it could no longer be followed.`
            : `Job ${submission.jobName} was stopped by this workflow: its deadline ${submission.deadline} passed.`;
      break;
    case 'InProgress':
    case 'Stopping':
      if (status === 'InProgress' && deadlineExceeded && input.stopError) {
        throw new JobStopError(
          `Job ${submission.jobName} passed its deadline ${submission.deadline} and could not be stopped: ` +
            `${input.stopError.Error ?? 'error'} ${input.stopError.Cause ?? ''}`.trim() +
          ' | ENI cleanup was skipped: stop the job by hand; the janitor deletes its ENIs once it has ended.',
        );
      }
      if (status === 'InProgress' && phaseFailure && !input.stopRequest && !input.stopError) {
        // Early failure: the job will not produce a model. Stop it now rather than follow it to its end
        // or its deadline (StopJob checks the ledger: only this job's supervisor sends the stop).
        next = 'stop';
        stopReason = 'phaseFailed';
        message =
          `Job ${submission.jobName}'s ${PHASE_LABELS[phaseFailure.phase]} phase failed (statusDetails.${PHASE_MEMBERS[phaseFailure.phase]}.status Failed) ` +
          `while the job is InProgress: ${phaseFailure.failureMessage ?? 'Bedrock gave no failure message yet'}. Stopping it.`;
      } else if (status === 'InProgress' && deadlineExceeded && !input.stopRequest) {
        next = 'stop';
        stopReason = 'deadline';
        message = `Job ${submission.jobName} passed its deadline ${submission.deadline}: stopping it.`;
      } else if (!input.stopRequest && (historyFull || tooOld) && generation + 1 >= job.polling.maxExecutions) {
        // The job has used every execution the stage allows it (maxExecutionsPerJob): stop it rather
        // than hand it over again, so what one job can cost in executions stays bounded.
        next = 'stop';
        stopReason = 'executions';
        message = `Job ${submission.jobName} has used its ${job.polling.maxExecutions} executions (stage param maxExecutionsPerJob): stopping it.`;
      } else if (!input.stopRequest && (historyFull || tooOld)) {
        next = 'handover';
        // A name taken by an execution that is not ours (HandOverRefused) is skipped: the successor
        // takes the next generation's name, which no execution of this chain uses.
        const nextGeneration = Math.max(generation + 1, entry.generation + 1, (input.handoverRefused?.generation ?? 0) + 1);
        const first = { id: input.execution?.id ?? submission.jobArn, name: input.execution?.name ?? submission.jobName };
        const executionName = handoverExecutionName(first, nextGeneration, entry.nonce);
        // The chain's first execution is of this same state machine: the successor's ARN is its sibling.
        const executionArn = siblingExecutionArn(first.id, executionName);
        // The successor is designated in the ledger before HandOver starts it: it claims the job once
        // it has verified the hand-over; until then this execution may take it back (superviseJob).
        if (!executionArn || !(await deps.ledger.designate(submission.jobName, selfOf(input), executionArn, nextGeneration))) {
          return superseded(input, now);
        }
        handover = { generation: nextGeneration, executionName, executionArn };
        message =
          `Job ${submission.jobName} is ${status}; this execution ` +
          (historyFull ? `has about ${historyEvents} history events` : `has run ${Math.round(ageSeconds / 86400)} days`) +
          `: handing the job over to ${handover.executionName}.`;
      } else {
        next = 'wait';
        message = !phaseFailure
          ? `Job ${submission.jobName} is ${status}.`
          : input.stopRequest
            ? `Job ${submission.jobName} is ${status}; its ${PHASE_LABELS[phaseFailure.phase]} phase failed and this workflow asked Bedrock to stop it.`
            : `Job ${submission.jobName} is ${status}; its ${PHASE_LABELS[phaseFailure.phase]} phase failed` +
              (input.stopError ? `, and the stop request failed (${input.stopError.Error ?? 'error'}): following it until it ends or its deadline passes.` : '.');
      }
      break;
    default:
      throw new Error(`Unexpected job status "${String(out.status)}" for ${submission.jobArn}`);
  }

  // Every poll after the stop request, and the one that decides to stop: the short waits after a stop.
  // Not when an earlier stop request failed (StopJob's Catch): a stop that keeps failing retries at the
  // job's own pace, not every minute.
  const stoppingFor = input.stopRequest ? secondsSinceStop(input.stopRequest, now) : next === 'stop' && !input.stopError ? 0 : undefined;
  const wait = nextWaitSeconds(job.polling, pollCount, secondsToDeadline, stoppingFor);
  return {
    status,
    next,
    pollCount,
    pollsThisExecution,
    retriesThisExecution,
    historyEvents,
    nextWaitSeconds: wait,
    // After a failed event wait (WaitAfterEventFailure) the same wait: the same bound, never under the floor.
    fallbackWaitSeconds: wait,
    deadlineExceeded,
    checkedAt: now.toISOString(),
    message,
    ...(handover ? { handover } : {}),
    ...(stopReason ? { stopReason } : {}),
    ...(out.failureMessage ?? phaseFailure?.failureMessage ? { failureMessage: out.failureMessage ?? phaseFailure?.failureMessage } : {}),
    ...(phaseFailure ? { phaseFailure } : {}),
    ...(out.statusDetails ? { statusDetails: JSON.parse(JSON.stringify(out.statusDetails)) } : {}),
    // The custom model and the job's metrics, once the job has completed (moto reports both from the start).
    ...(status === 'Completed' && out.outputModelArn ? { outputModelArn: out.outputModelArn } : {}),
    ...(status === 'Completed' && out.trainingMetrics ? { trainingMetrics: { ...out.trainingMetrics } } : {}),
    ...(status === 'Completed' && out.validationMetrics?.length ? { validationMetrics: out.validationMetrics.map((m) => ({ ...m })) } : {}),
  };
}

/**
 * Records in the ledger the job's ENIs seen while it runs: tagged for the job by Bedrock's two tags, in
 * the job's VPC and subnets, with only the job's security groups (shared/bedrock-enis.ts). Only these
 * are ever deleted by cleanup-enis. A failed describe only delays the record to the next check.
 */
async function recordEnis(input: PollStatusInput, entry: LedgerEntry, deps: PollStatusDeps): Promise<void> {
  let ids: string[];
  try {
    ids = (await jobEnisInNetwork(deps.ec2, input.submission.jobArn, entry.network)).map((e) => e.NetworkInterfaceId!);
  } catch (err) {
    if (isTransientAwsError(err)) return;
    throw err;
  }
  const known = new Set(entry.enis);
  const fresh = ids.filter((id) => !known.has(id));
  if (fresh.length > 0) await deps.ledger.recordEnis(input.submission.jobName, selfOf(input), fresh);
}

/** Another execution (or the reaper) supervises the job now: this one ends without acting on it. */
function superseded(input: PollStatusInput, now: Date): PollResult {
  return {
    status: 'InProgress',
    next: 'superseded',
    pollCount: input.poll?.pollCount ?? 0,
    pollsThisExecution: input.poll?.pollsThisExecution ?? 0,
    retriesThisExecution: input.poll?.retriesThisExecution ?? 0,
    historyEvents: 0,
    nextWaitSeconds: MIN_POLL_SECONDS,
    deadlineExceeded: false,
    checkedAt: now.toISOString(),
    message: `Job ${input.submission.jobName} is supervised by another execution now (job ledger): this execution ends without acting on it.`,
  };
}

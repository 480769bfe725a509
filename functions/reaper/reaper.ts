/**
 * reaper: an execution of this state machine that was aborted, timed out or failed must not leave its
 * customization job running with nobody following it. On Step Functions' "Execution Status Change"
 * event (ABORTED, TIMED_OUT, FAILED), in this order:
 *
 * 1. The execution is of this stack's state machine and has ended (DescribeExecution: a duplicate or
 *    late event of a redriven, RUNNING execution does nothing).
 * 2. The job it may have followed, by name only as a key to look up: from its input's hand-over
 *    (`handover.submission.jobName`, believed for nothing else) or from its history (`$.submission` /
 *    `$.job.jobName` of the newest state data that has one; read newest first).
 * 3. The job ledger (shared/ledger.ts) decides, never a tag or an input: the reaper acts only when
 *    the ledger names this very execution as the job's supervisor (it died supervising), or names a
 *    successor this execution designated and that does not run (it died mid-hand-over); a designated
 *    successor that died before claiming the job is the supervisor only once its predecessor has ended
 *    too (a running predecessor takes the job back itself). Then it takes
 *    the job over in the ledger (supervisor = reaper: one conditional write, so two reapers never both
 *    act) and stops the job if it runs — the job of the ledger's ARN, or, when the execution died before
 *    recording one, the job of that name whose client request token is the ledger's. A successor that
 *    runs (it claims the job) or any other supervisor: nothing is done.
 *
 * 4. The evaluation gate (issue 23; ./evaluation.ts): what the ledger records of it — evaluation jobs
 *    stopped if InProgress (by recorded ARN), the deployment deleted (by recorded ARN) unless the verdict
 *    is promote. Done after the takeover, and again on any later event that finds the entry already
 *    reaped (the reaper holds it), so a retried event finishes what a failed run began.
 *
 * The reaper stops; it does not take supervision on (no execution would follow the job's ENIs and
 * grants): ENIs are left to the janitor (ledger-recorded ones), grants expire with their leases.
 * Idempotent: a repeated event finds the ledger already reaped. An AWS error other than "does not
 * exist" is thrown as is (the Lambda's asynchronous retries run it again).
 */
import { GetModelCustomizationJobCommand, StopModelCustomizationJobCommand, type BedrockClient } from '@aws-sdk/client-bedrock';
import { DescribeExecutionCommand, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';
import { isExecutionOf } from '../shared/arn.js';
import { isAwsError } from '../shared/aws-errors.js';
import { parseJson } from '../shared/handover.js';
import { historyEvents } from '../shared/history.js';
import { readStateData } from '../shared/job-state.js';
import { REAPER_SUPERVISOR, type Ledger, type LedgerEntry } from '../shared/ledger.js';
import { cleanUpEvaluation, type ReaperEvaluationReport } from './evaluation.js';

/** Execution statuses after which the reaper acts (the rule's `detail.status`). */
export const ENDED_STATUSES = ['ABORTED', 'TIMED_OUT', 'FAILED'] as const;
/**
 * History events per page while looking for the job's name, newest first (below the API's largest,
 * 1000: the newest state data usually names the job; older pages are read until one does).
 */
export const HISTORY_PAGE_SIZE = 200;

export interface ReaperInput {
  executionArn: string;
  /** The state machine the event names (`detail.stateMachineArn`). */
  stateMachineArn: string;
}

export interface ReaperConfig {
  /** This stack's state machine: executions of any other are ignored. */
  stateMachineArn: string;
}

export interface ReaperDeps {
  sfn: SFNClient;
  bedrock: Pick<BedrockClient, 'send'>;
  ledger: Ledger;
}

export type ReaperOutcome =
  | 'not-this-state-machine'
  | 'execution-not-found'
  | 'execution-not-ended'
  | 'no-job'
  | 'not-supervisor'
  | 'successor-running'
  | 'predecessor-running'
  | 'already-reaped'
  | 'job-not-found'
  | 'job-ended'
  | 'stopped';

export interface ReaperReport {
  executionArn: string;
  outcome: ReaperOutcome;
  /** True only when this call sent StopModelCustomizationJob. */
  stopped: boolean;
  executionStatus?: string;
  jobName?: string;
  jobArn?: string;
  jobStatus?: string;
  /** The supervisor the ledger names (when it is not this execution). */
  supervisor?: string;
  /** The evaluation gate's recorded resources: what this call stopped or deleted, and what it left and why. */
  evaluation?: ReaperEvaluationReport;
  message: string;
}

/** The job name recorded in the execution's history: `$.submission.jobName` or `$.job.jobName` of the newest state data that has one. */
async function jobNameFromHistory(executionArn: string, sfn: ReaperDeps['sfn']): Promise<string | undefined> {
  for await (const event of historyEvents(sfn, executionArn, { newestFirst: true, pageSize: HISTORY_PAGE_SIZE })) {
    const found = jobNameInEvent(event);
    if (found) return found;
  }
  return undefined;
}

function jobNameInEvent(event: HistoryEvent): string | undefined {
  const data = readStateData(parseJson(event.stateEnteredEventDetails?.input ?? event.stateExitedEventDetails?.output));
  const name = data?.submission?.jobName ?? data?.job?.jobName;
  return name !== undefined && name.length > 0 ? name : undefined;
}

export async function reap(input: ReaperInput, config: ReaperConfig, deps: ReaperDeps): Promise<ReaperReport> {
  const { executionArn } = input;
  const report = (outcome: ReaperOutcome, message: string, more: Partial<ReaperReport> = {}): ReaperReport => ({
    executionArn,
    outcome,
    stopped: false,
    ...more,
    message,
  });

  if (input.stateMachineArn !== config.stateMachineArn || !isExecutionOf(executionArn, config.stateMachineArn)) {
    return report('not-this-state-machine', `Execution ${executionArn} is not of this stack's state machine ${config.stateMachineArn}: nothing to do.`);
  }

  // 1. The execution, as Step Functions has it now.
  let execution;
  try {
    execution = await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (err) {
    if (isAwsError(err, 'ExecutionDoesNotExist')) return report('execution-not-found', `Execution ${executionArn} does not exist: nothing to do.`);
    throw err;
  }
  const executionStatus = execution.status;
  if (!ENDED_STATUSES.includes(executionStatus as (typeof ENDED_STATUSES)[number])) {
    return report('execution-not-ended', `Execution ${executionArn} is ${executionStatus}: it still follows its job (or ended well); nothing to do.`, {
      executionStatus,
    });
  }

  // 2. The job's name: a key to look up in the ledger, nothing more.
  const claimedName = parseJson(execution.input)?.handover?.submission?.jobName;
  const jobName = typeof claimedName === 'string' && claimedName.length > 0 ? claimedName : await jobNameFromHistory(executionArn, deps.sfn);
  if (!jobName) return report('no-job', `Execution ${executionArn} (${executionStatus}) named no job: nothing to stop.`, { executionStatus });

  // 3. The ledger decides.
  const entry = await deps.ledger.read(jobName);
  const known = { executionStatus, jobName, ...(entry?.jobArn ? { jobArn: entry.jobArn } : {}) };
  if (!entry) return report('no-job', `The job ledger has no job named ${jobName}: nothing of this workflow's to stop.`, known);
  if (entry.supervisor === REAPER_SUPERVISOR) {
    const done = report('already-reaped', `Job ${jobName} was already taken over by the reaper.`, known);
    // The reaper holds the job: a retried event finishes the gate's clean-up a failed run began. Only what
    // the ledger records is touched, and only as the reaper would on its first run (an ended execution that
    // merely names the job can make it do nothing else, nor anything sooner than due).
    return entry.evaluation ? withEvaluation(done, await cleanUpEvaluation(entry, deps)) : done;
  }
  let dead = executionArn;
  if (entry.supervisor === executionArn && !entry.claimed && entry.handoverFrom && (await running(entry.handoverFrom, deps))) {
    // Designated but never claimed, and the predecessor still runs: it takes the job back at its next
    // check (an execution that merely took the successor's name must not get the job stopped).
    return report('predecessor-running', `Job ${jobName} was designated to ${executionArn}, which never claimed it; ${entry.handoverFrom} still runs and takes it back.`, {
      ...known,
      supervisor: entry.handoverFrom,
    });
  }
  if (entry.supervisor !== executionArn) {
    // Died mid-hand-over: the successor it designated claims the job if it runs.
    if (!(entry.handoverFrom === executionArn && !entry.claimed)) {
      return report('not-supervisor', `The job ledger names ${entry.supervisor} as the supervisor of job ${jobName}, not ${executionArn}: left to it.`, {
        ...known,
        supervisor: entry.supervisor,
      });
    }
    if (await running(entry.supervisor, deps)) {
      return report('successor-running', `Job ${jobName} is designated to the running execution ${entry.supervisor}, which claims it: left to it.`, {
        ...known,
        supervisor: entry.supervisor,
      });
    }
    dead = entry.supervisor;
  }
  if (!(await deps.ledger.reap(jobName, dead))) {
    return report('not-supervisor', `The job ledger's supervisor of job ${jobName} changed meanwhile: left to it.`, known);
  }
  const stopped = await stopIfRunning(entry, known, report, deps);
  // Read again: the dead supervisor's last Lambda may have recorded more of the gate before the takeover
  // (after it, the ledger refuses its writes).
  const held = await deps.ledger.read(jobName);
  return held?.evaluation ? withEvaluation(stopped, await cleanUpEvaluation(held, deps)) : stopped;
}

function withEvaluation(result: ReaperReport, evaluation: ReaperEvaluationReport | undefined): ReaperReport {
  if (!evaluation) return result;
  const acted = [
    ...(evaluation.jobsStopped.length > 0 ? [`stopped evaluation job(s) ${evaluation.jobsStopped.join(', ')}`] : []),
    ...(evaluation.deploymentDeleted ? [`deleted deployment ${evaluation.deploymentDeleted}`] : []),
    ...evaluation.left.map((l) => `left ${l.resource} (${l.reason})`),
  ];
  return { ...result, evaluation, message: `${result.message} Evaluation gate: ${acted.length > 0 ? acted.join('; ') : 'nothing recorded to act on'}.` };
}

/** True when `executionArn` exists and runs. */
async function running(executionArn: string, deps: ReaperDeps): Promise<boolean> {
  try {
    return (await deps.sfn.send(new DescribeExecutionCommand({ executionArn }))).status === 'RUNNING';
  } catch (err) {
    if (isAwsError(err, 'ExecutionDoesNotExist')) return false;
    throw err;
  }
}

async function stopIfRunning(
  entry: LedgerEntry,
  known: Partial<ReaperReport>,
  report: (outcome: ReaperOutcome, message: string, more?: Partial<ReaperReport>) => ReaperReport,
  deps: ReaperDeps,
): Promise<ReaperReport> {
  // The job of the ledger's ARN; before one was recorded, the job of that name created with the ledger's token.
  let job;
  try {
    job = await deps.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: entry.jobArn ?? entry.jobName }));
  } catch (err) {
    if (isAwsError(err, 'ResourceNotFoundException')) return report('job-not-found', `No job ${entry.jobArn ?? entry.jobName} exists: nothing to stop.`, known);
    throw err;
  }
  const jobArn = job.jobArn ?? entry.jobArn;
  if (!entry.jobArn && job.clientRequestToken !== entry.clientRequestToken) {
    return report('job-not-found', `The job named ${entry.jobName} was not created with this workflow's request token: not ours, left alone.`, known);
  }
  const withJob = { ...known, ...(jobArn ? { jobArn } : {}) };
  if (job.status !== 'InProgress') return report('job-ended', `Job ${jobArn} is ${job.status}: nothing to stop.`, { ...withJob, jobStatus: job.status });
  try {
    await deps.bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: jobArn }));
  } catch (err) {
    // A concurrent stop may have come first: refused because it no longer runs.
    if (!isAwsError(err, 'ValidationException', 'ConflictException')) throw err;
    const again = await deps.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
    if (again.status === 'InProgress') throw err;
    return report('job-ended', `Job ${jobArn} is ${again.status}: nothing to stop.`, { ...withJob, jobStatus: again.status });
  }
  return {
    ...report('stopped', `The supervisor of job ${jobArn} ended without finishing it: the reaper took it over in the job ledger and asked Bedrock to stop it. The janitor deletes its recorded ENIs once it has stopped.`, {
      ...withJob,
      jobStatus: 'InProgress',
    }),
    stopped: true,
  };
}

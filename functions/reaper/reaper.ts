/**
 * reaper: an execution of this state machine that was aborted, timed out or failed must not leave its
 * customization job running, unbounded. On Step Functions' "Execution Status Change" event (ABORTED,
 * TIMED_OUT, FAILED) it finds the execution's job and stops it, after these checks, in this order:
 *
 * 1. The execution is of this stack's state machine and has ended (DescribeExecution: a duplicate or
 *    late event of a redriven, RUNNING execution does nothing).
 * 2. Its job: an execution started by HandOver carries it in its input (`handover.submission.jobArn`),
 *    which is believed only once verified as resume-job verifies it (the predecessor's history started
 *    this execution with that hand-over: shared/handover.ts); a forged hand-over stops nothing. Any
 *    other execution has it in its history, as `$.submission` in the data of every state
 *    after a successful SubmitJob or ReconcileSubmission. The history is read newest first, so the
 *    last state's data is on the first page. An execution that ended before a submission was recorded
 *    (during SubmitJob, its quota wait or its reconciliation: the job may exist) is looked up by the
 *    job name SubmitJob was given (`$.job.jobName`). No job: nothing to do.
 * 3. The job is this chain's: its tag `bedrock-vpc-customization:execution-arn` (ListTagsForResource;
 *    GetModelCustomizationJob does not return tags) is the chain's first execution ARN.
 * 4. No successor of the chain owns it: the executions HandOver would have started after this one
 *    (`<first name>-<hash>-h<generation>`, generation + 1, + 2, …) are looked up until one does not
 *    exist; a RUNNING one whose input carries this job follows it, so the reaper leaves it alone.
 * 5. The job is InProgress (GetModelCustomizationJob): StopModelCustomizationJob. Any other status
 *    (Stopping, Stopped, Completed, Failed) needs nothing. ENIs are left to the janitor.
 *
 * Idempotent: a repeated event finds the job Stopping or Stopped. An AWS error other than "does not
 * exist" is thrown as is (the Lambda's asynchronous retries run it again).
 */
import {
  GetModelCustomizationJobCommand,
  ListTagsForResourceCommand,
  StopModelCustomizationJobCommand,
  type BedrockClient,
} from '@aws-sdk/client-bedrock';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';
import { executionArnOf, isExecutionOf, JOB_ARN_PATTERN } from '../shared/arn.js';
import { isAwsError } from '../shared/aws-errors.js';
import { CHAIN_EXECUTION_TAG, handoverExecutionName } from '../shared/chain.js';
import { HandOverRejectedError } from '../shared/errors.js';
import { parseJson, verifyHandover } from '../shared/handover.js';

/** Execution statuses after which the reaper acts (the rule's `detail.status`). */
export const ENDED_STATUSES = ['ABORTED', 'TIMED_OUT', 'FAILED'] as const;
/** Most successors of one execution looked up (a chain hands over every 10,000 history events or 20 days). */
export const MAX_SUCCESSORS = 100;
/** History events per GetExecutionHistory page (the API's maximum is 1000). */
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
  sfn: Pick<SFNClient, 'send'>;
  bedrock: Pick<BedrockClient, 'send'>;
}

export type ReaperOutcome =
  | 'not-this-state-machine'
  | 'execution-not-found'
  | 'execution-not-ended'
  | 'handover-not-verified'
  | 'no-job'
  | 'job-not-found'
  | 'job-not-this-chain'
  | 'successor-running'
  | 'successors-not-all-checked'
  | 'job-ended'
  | 'stopped';

export interface ReaperReport {
  executionArn: string;
  outcome: ReaperOutcome;
  /** True only when this call sent StopModelCustomizationJob. */
  stopped: boolean;
  executionStatus?: string;
  jobArn?: string;
  jobStatus?: string;
  /** The chain's first execution (the job's owner tag). */
  firstExecutionArn?: string;
  /** A successor that follows the job. */
  successorArn?: string;
  message: string;
}

interface Chain {
  first: { id: string; name: string };
  generation: number;
}

type Found = { jobArn: string } | { jobName: string } | undefined;

const isJobArn = (v: unknown): v is string => typeof v === 'string' && JOB_ARN_PATTERN.test(v);

/**
 * The job recorded in the execution's history: `$.submission.jobArn` of the newest state data that has
 * one, or, when the newest SubmitJob never recorded one, the job name it was given.
 */
async function jobFromHistory(executionArn: string, sfn: ReaperDeps['sfn']): Promise<Found> {
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, includeExecutionData: true, maxResults: HISTORY_PAGE_SIZE, nextToken }),
    );
    for (const event of page.events ?? []) {
      const found = jobInEvent(event);
      if (found) return found;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

function jobInEvent(event: HistoryEvent): Found {
  const entered = event.stateEnteredEventDetails;
  const data = parseJson(entered?.input ?? event.stateExitedEventDetails?.output);
  if (isJobArn(data?.submission?.jobArn)) return { jobArn: data.submission.jobArn };
  // Newest first: SubmitJob entered with no submission seen after it, so it never recorded its job.
  if (entered?.name === 'SubmitJob' && typeof data?.job?.jobName === 'string') return { jobName: data.job.jobName };
  return undefined;
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
    return report('execution-not-ended', `Execution ${executionArn} is ${executionStatus}: it still owns its job (or ended well); nothing to do.`, {
      executionStatus,
    });
  }

  // 2. Its job, and the chain it belongs to.
  const claimed = parseJson(execution.input)?.handover;
  let chain: Chain;
  let found: Found;
  if (claimed !== undefined) {
    let handover;
    try {
      const self = { executionArn, name: execution.name ?? executionArn.split(':').at(-1)!, stateMachineArn: config.stateMachineArn };
      handover = await verifyHandover(self, claimed, deps.sfn);
    } catch (err) {
      if (!(err instanceof HandOverRejectedError)) throw err;
      return report('handover-not-verified', `${err.message} The reaper stops nothing for it.`, { executionStatus });
    }
    chain = { first: { id: handover.execution.id, name: handover.execution.name }, generation: handover.generation };
    found = { jobArn: handover.submission.jobArn };
  } else {
    chain = { first: { id: executionArn, name: execution.name ?? executionArn.split(':').at(-1)! }, generation: 0 };
    found = await jobFromHistory(executionArn, deps.sfn);
  }
  const known = { executionStatus, firstExecutionArn: chain.first.id };
  if (!found) return report('no-job', `Execution ${executionArn} (${executionStatus}) submitted no job: nothing to stop.`, known);

  let jobArn: string;
  if ('jobArn' in found) jobArn = found.jobArn;
  else {
    // SubmitJob ran but recorded nothing: the job may exist under the name it was given.
    try {
      const byName = await deps.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: found.jobName }));
      jobArn = byName.jobArn!;
    } catch (err) {
      if (isAwsError(err, 'ResourceNotFoundException')) {
        return report('no-job', `Execution ${executionArn} (${executionStatus}) ended before SubmitJob recorded a job, and no job is named ${found.jobName}: nothing to stop.`, known);
      }
      throw err;
    }
  }
  const withJob = { ...known, jobArn };

  // 3. The job is this chain's (tags are not in GetModelCustomizationJob's output).
  let owner: string | undefined;
  try {
    const tags = await deps.bedrock.send(new ListTagsForResourceCommand({ resourceARN: jobArn }));
    owner = tags.tags?.find((t) => t.key === CHAIN_EXECUTION_TAG)?.value;
  } catch (err) {
    if (isAwsError(err, 'ResourceNotFoundException')) return report('job-not-found', `Job ${jobArn} does not exist: nothing to stop.`, withJob);
    throw err;
  }
  if (owner !== chain.first.id) {
    return report(
      'job-not-this-chain',
      `Job ${jobArn} is tagged ${CHAIN_EXECUTION_TAG}=${owner ?? '(none)'}, not ${chain.first.id}: not this workflow's job, left alone.`,
      withJob,
    );
  }

  // 4. No successor of the chain follows the job.
  for (let generation = chain.generation + 1; ; generation++) {
    if (generation > chain.generation + MAX_SUCCESSORS) {
      return report('successors-not-all-checked', `Execution ${executionArn} has more than ${MAX_SUCCESSORS} successors: job ${jobArn} left alone, check it by hand.`, withJob);
    }
    const successorArn = executionArnOf(config.stateMachineArn, handoverExecutionName(chain.first, generation));
    let successor;
    try {
      successor = await deps.sfn.send(new DescribeExecutionCommand({ executionArn: successorArn }));
    } catch (err) {
      if (isAwsError(err, 'ExecutionDoesNotExist')) break;
      throw err;
    }
    // A running successor that carries this job on follows it. (An execution that merely took the
    // name, without this job in its input, does not: HandOver then skips to the next generation.)
    if (successor.status === 'RUNNING' && parseJson(successor.input)?.handover?.submission?.jobArn === jobArn) {
      return report('successor-running', `Job ${jobArn} is followed by the running execution ${successorArn}: left to it.`, { ...withJob, successorArn });
    }
  }

  // 5. Stop it if it still runs.
  const job = await deps.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
  if (job.status !== 'InProgress') {
    return report('job-ended', `Job ${jobArn} is ${job.status}: nothing to stop.`, { ...withJob, jobStatus: job.status });
  }
  try {
    await deps.bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: jobArn }));
  } catch (err) {
    // A concurrent duplicate event may have stopped it first: refused because it no longer runs.
    if (!isAwsError(err, 'ValidationException', 'ConflictException')) throw err;
    const again = await deps.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
    if (again.status === 'InProgress') throw err;
    return report('job-ended', `Job ${jobArn} is ${again.status}: nothing to stop.`, { ...withJob, jobStatus: again.status });
  }
  return {
    ...report('stopped', `Execution ${executionArn} ended ${executionStatus} and left job ${jobArn} InProgress: stop requested. The janitor deletes its ENIs once it has stopped.`, {
      ...withJob,
      jobStatus: 'InProgress',
    }),
    stopped: true,
  };
}

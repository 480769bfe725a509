/**
 * The reaper's part of the evaluation gate (issue 23): once the reaper holds a job in the ledger (it took
 * it over from a dead supervisor, or a previous run of itself on this execution's event did), it winds
 * down what the ledger records of the gate (`entry.evaluation`, written only by evaluate-model as the
 * job's supervisor), and nothing else:
 *
 * - each recorded evaluation job that is InProgress is stopped, by its recorded ARN. A job recorded by
 *   name and token only (the supervisor died between CreateEvaluationJob and recording the ARN) is left:
 *   GetEvaluationJob takes only an ARN (botocore 1.44.18 `EvaluationJobIdentifier`: an evaluation-job ARN
 *   pattern) and its response has no client request token (`GetEvaluationJobResponse`: jobName, status,
 *   jobArn, … no clientRequestToken), so nothing could prove that a job of that name is the one this
 *   workflow created. The report names it; it ends on its own (an evaluation job is bounded by its dataset).
 * - the recorded deployment is deleted, by its recorded ARN, unless the verdict is `promote` (a promoted
 *   model keeps its deployment). A deployment recorded by name and token only is looked up by name and
 *   left, with its ARN in the report: `GetCustomModelDeploymentResponse` (botocore) has no client request
 *   token either, and its name (derived from the job's name and execution id) and model (the job's custom
 *   model) are what anyone allowed CreateCustomModelDeployment could give a deployment of their own. An
 *   on-demand deployment has no hourly charge documented (deploy-custom-model-on-demand.html): leaving one
 *   costs nothing until it is used.
 *
 * Idempotent: a stopped job is no longer InProgress; a deleted deployment is marked `deploymentDeleted` in
 * the ledger (as the reaper, its supervisor) and a second delete that finds nothing counts as done. An AWS
 * error other than "does not exist" (or a refused stop of a job that ended meanwhile) is thrown as is,
 * after every other resource was tried: the Lambda's asynchronous retries run it again.
 */
import {
  DeleteCustomModelDeploymentCommand,
  GetCustomModelDeploymentCommand,
  GetEvaluationJobCommand,
  StopEvaluationJobCommand,
  type BedrockClient,
} from '@aws-sdk/client-bedrock';
import { isAwsError } from '../shared/aws-errors.js';
import { REAPER_SUPERVISOR, type Ledger, type LedgerEntry, type LedgerEvaluationJob } from '../shared/ledger.js';

/** Why the reaper left a recorded evaluation resource as it is. */
export type EvaluationLeftReason =
  /** Recorded by name and token only: nothing Bedrock returns proves that a resource of that name is ours. */
  | 'not-proven-ours'
  /** Bedrock has no such resource (never created, or already gone). */
  | 'not-found'
  /** The evaluation job is not InProgress (ended, stopping or being deleted). */
  | 'not-running'
  /** The verdict is promote: the deployment serves the promoted model. */
  | 'promoted'
  /** The ledger says the deployment was deleted already. */
  | 'already-deleted';

export interface ReaperEvaluationReport {
  /** Evaluation jobs this call asked Bedrock to stop (ARNs). */
  jobsStopped: string[];
  /** The deployment this call deleted (ARN), if any. */
  deploymentDeleted?: string;
  /** Every recorded resource not acted on, and why. */
  left: { resource: string; reason: EvaluationLeftReason; detail: string }[];
}

export interface EvaluationCleanupDeps {
  bedrock: Pick<BedrockClient, 'send'>;
  ledger: Pick<Ledger, 'recordEvaluation'>;
}

/** Winds down the gate's recorded resources of `entry` (the reaper holds it: supervisor = reaper). */
export async function cleanUpEvaluation(entry: LedgerEntry, deps: EvaluationCleanupDeps): Promise<ReaperEvaluationReport | undefined> {
  const evaluation = entry.evaluation;
  if (!evaluation) return undefined;
  const report: ReaperEvaluationReport = { jobsStopped: [], left: [] };
  const failures: unknown[] = [];
  const attempt = async (action: () => Promise<void>) => {
    try {
      await action();
    } catch (err) {
      failures.push(err);
    }
  };
  for (const job of [evaluation.jobs.custom, evaluation.jobs.base]) {
    if (job) await attempt(() => stopEvaluationJob(job, report, deps));
  }
  await attempt(() => deleteDeployment(entry, report, deps));
  if (failures.length > 0) throw failures[0];
  return report;
}

async function stopEvaluationJob(job: LedgerEvaluationJob, report: ReaperEvaluationReport, deps: EvaluationCleanupDeps): Promise<void> {
  if (!job.arn) {
    report.left.push({
      resource: job.name,
      reason: 'not-proven-ours',
      detail:
        `Evaluation job "${job.name}" was recorded before its ARN: GetEvaluationJob takes only an ARN and returns no client request token, ` +
        'so no job of that name can be proved to be this workflow\'s; left to end on its own.',
    });
    return;
  }
  const status = await evaluationJobStatus(job.arn, deps);
  if (status === undefined) {
    report.left.push({ resource: job.arn, reason: 'not-found', detail: `Evaluation job ${job.arn} does not exist.` });
    return;
  }
  if (status !== 'InProgress') {
    report.left.push({ resource: job.arn, reason: 'not-running', detail: `Evaluation job ${job.arn} is ${status}.` });
    return;
  }
  try {
    await deps.bedrock.send(new StopEvaluationJobCommand({ jobIdentifier: job.arn }));
  } catch (err) {
    if (isAwsError(err, 'ResourceNotFoundException')) {
      report.left.push({ resource: job.arn, reason: 'not-found', detail: `Evaluation job ${job.arn} does not exist.` });
      return;
    }
    // A job that ended between the read and the stop is refused: fine once it no longer runs.
    if (!isAwsError(err, 'ValidationException', 'ConflictException')) throw err;
    const again = await evaluationJobStatus(job.arn, deps);
    if (again === 'InProgress') throw err;
    report.left.push({ resource: job.arn, reason: 'not-running', detail: `Evaluation job ${job.arn} is ${again ?? 'gone'}.` });
    return;
  }
  report.jobsStopped.push(job.arn);
}

/** The job's status; undefined when Bedrock has no such job. */
async function evaluationJobStatus(jobArn: string, deps: EvaluationCleanupDeps): Promise<string | undefined> {
  try {
    return String((await deps.bedrock.send(new GetEvaluationJobCommand({ jobIdentifier: jobArn }))).status);
  } catch (err) {
    if (isAwsError(err, 'ResourceNotFoundException')) return undefined;
    throw err;
  }
}

async function deleteDeployment(entry: LedgerEntry, report: ReaperEvaluationReport, deps: EvaluationCleanupDeps): Promise<void> {
  const evaluation = entry.evaluation!;
  const resource = evaluation.deploymentArn ?? evaluation.deploymentName;
  if (!resource) return;
  if (evaluation.verdict === 'promote') {
    report.left.push({ resource, reason: 'promoted', detail: `The verdict is promote: deployment ${resource} serves the promoted model.` });
    return;
  }
  if (evaluation.deploymentDeleted) {
    report.left.push({ resource, reason: 'already-deleted', detail: `The job ledger records deployment ${resource} as deleted.` });
    return;
  }
  if (!evaluation.deploymentArn) {
    report.left.push(await unprovenDeployment(evaluation.deploymentName!, deps));
    return;
  }
  const arn = evaluation.deploymentArn;
  try {
    await deps.bedrock.send(new DeleteCustomModelDeploymentCommand({ customModelDeploymentIdentifier: arn }));
    report.deploymentDeleted = arn;
  } catch (err) {
    if (!isAwsError(err, 'ResourceNotFoundException')) throw err;
    report.left.push({ resource: arn, reason: 'not-found', detail: `Deployment ${arn} does not exist.` });
  }
  // Recorded as the reaper, the entry's supervisor now (a retried event then does not ask again).
  await deps.ledger.recordEvaluation(entry.jobName, { owner: entry.owner, self: REAPER_SUPERVISOR }, { deploymentDeleted: true });
}

/** A deployment recorded by name only: looked up, reported, never deleted (nothing Bedrock returns proves it ours). */
async function unprovenDeployment(name: string, deps: EvaluationCleanupDeps): Promise<ReaperEvaluationReport['left'][number]> {
  try {
    const found = await deps.bedrock.send(new GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: name }));
    return {
      resource: found.customModelDeploymentArn ?? name,
      reason: 'not-proven-ours',
      detail:
        `Deployment "${name}" was recorded before its ARN; one of that name exists (${found.customModelDeploymentArn}, model ${found.modelArn}, ${found.status}). ` +
        'GetCustomModelDeployment returns no client request token, so it is not proved to be the one this workflow created: left; delete it by hand if it is.',
    };
  } catch (err) {
    if (!isAwsError(err, 'ResourceNotFoundException')) throw err;
    return { resource: name, reason: 'not-found', detail: `No deployment named "${name}" exists: it was never created.` };
  }
}

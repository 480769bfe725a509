/**
 * janitor, second sweep (issue 23): custom model deployments the evaluation gate left behind.
 *
 * The gate deletes the deployment of a rejected model itself (Verdict, EvaluationCleanup), and the reaper
 * does when the gate's supervisor dies. What survives both (a delete that failed, a reaper that gave up)
 * is found here. A tag is no proof of anything, nor is a name: the job ledger is. For every deployment of
 * the account and region (ListCustomModelDeployments, the SDK's paginator):
 *
 * 1. GetCustomModelDeployment → `modelArn` (botocore 1.44.18 GetCustomModelDeploymentResponse);
 * 2. GetCustomModel(modelArn) → `jobArn` / `jobName` (GetCustomModelResponse: the customization job that
 *    made the model; absent for a model that no job of Bedrock's made);
 * 3. the ledger entry of that job name, which must record this very job ARN AND this very deployment ARN
 *    (`evaluation.deploymentArn`, written by evaluate-model as the job's supervisor after
 *    CreateCustomModelDeployment returned it);
 * 4. the rule, from the ledger alone: the deployment is a **rejected deployment** when
 *    - the verdict is `reject` (the gate should have deleted it), or
 *    - there is no verdict and either the reaper supervises the job (its supervisor died before a
 *      verdict: the gate will never decide) or the ledger already says `deploymentDeleted` (the gate
 *      or the reaper meant it gone).
 *    A `promote` verdict keeps it, always. No verdict under a live-or-dead execution's supervision keeps
 *    it too (`no-verdict`): the gate may still be running, and the ledger cannot tell a dead supervisor
 *    the reaper has not reached from a live one.
 *
 * A rejected deployment is reported (`rejected`); it is deleted only when the stage says so
 * (`rejectedDeployments: delete`) and the sweep is not a dry run. Every other deployment is kept, with
 * its reason. Look-ups and deletions run with bounded concurrency, like the ENI sweep.
 */
import {
  DeleteCustomModelDeploymentCommand,
  GetCustomModelCommand,
  GetCustomModelDeploymentCommand,
  paginateListCustomModelDeployments,
  type BedrockClient,
} from '@aws-sdk/client-bedrock';
import pLimit from 'p-limit';
import { awsErrorCode } from '../shared/aws-errors.js';
import { describeError } from '../shared/errors.js';
import { REAPER_SUPERVISOR, type Ledger, type LedgerEntry } from '../shared/ledger.js';
import { collect } from '../shared/sdk.js';
import { MAX_CONCURRENCY } from './janitor.js';

/** botocore `CustomModelDeploymentArn`: arn:<partition>:bedrock:<region>:<account>:custom-model-deployment/<12 [a-z0-9]>. */
const DEPLOYMENT_ARN = /^arn:aws(?:-[a-z]+)*:bedrock:([a-z0-9-]{1,20}):(\d{12}):custom-model-deployment\/[a-z0-9]{12}$/;

export interface DeploymentSweepConfig {
  /** Report what would be deleted; delete nothing. */
  dryRun: boolean;
  /** The stage's `rejectedDeployments`: `report` (default) or `delete`. */
  rejectedDeployments: 'report' | 'delete';
  /** Look-ups in flight at once (1–10). */
  concurrency: number;
  /** The janitor's own region and account: only deployments of these are considered. */
  home: { region: string; accountId: string };
}

export interface DeploymentSweepDeps {
  /** A real client: the SDK's paginator needs one. */
  bedrock: BedrockClient;
  /** The stack's job ledger (read only). */
  ledger: Pick<Ledger, 'read'>;
}

export type DeploymentKeepReason =
  /** The ARN is malformed or of another account or region. */
  | 'not-home'
  /** GetCustomModelDeployment, GetCustomModel or the ledger read failed (other than "not found"). */
  | 'lookup-failed'
  /** The deployment's model is gone. */
  | 'model-not-found'
  /** The model was made by no customization job (no jobArn/jobName): a customer's own. */
  | 'not-a-job-model'
  /** The ledger has no entry for the job, records another job under its name, or another (or no) deployment. */
  | 'not-recorded'
  /** The verdict is promote: the deployment serves the promoted model. */
  | 'promoted'
  /** No verdict and the job's supervisor is an execution: the gate may still run. */
  | 'no-verdict'
  /** A rejected deployment the stage asks only to report (`rejectedDeployments: report`). */
  | 'rejected-reported'
  | 'delete-failed';

export interface RejectedDeployment {
  deploymentArn: string;
  deploymentName?: string;
  jobName: string;
  /** Why it counts as rejected (the ledger's words). */
  detail: string;
}

export interface DeploymentSweepReport {
  dryRun: boolean;
  rejectedDeployments: 'report' | 'delete';
  /** Deployments listed. */
  scanned: number;
  /** Every `rejected-deployment` found, whatever was done with it. */
  rejected: RejectedDeployment[];
  deleted: string[];
  /** Dry run with `rejectedDeployments: delete`: what would have been deleted. */
  wouldDelete: string[];
  /** Listed, then gone before it was read or deleted. */
  alreadyGone: string[];
  kept: { deploymentArn: string; reason: DeploymentKeepReason; detail?: string }[];
}

type Keep = { kind: 'keep'; reason: DeploymentKeepReason; detail: string };
type Verdict = { kind: 'rejected'; rejected: RejectedDeployment } | { kind: 'gone' } | Keep;

/** The rule (this file's header, step 4): whether the ledger `entry` makes the deployment `arn` of the job `jobArn` a rejected one, or why it is kept. */
export function judgeDeployment(
  entry: LedgerEntry | undefined,
  deployment: { arn: string; jobName: string; jobArn: string },
): { kind: 'rejected'; detail: string } | Keep {
  const { arn, jobName, jobArn } = deployment;
  if (!entry) return { kind: 'keep', reason: 'not-recorded', detail: `the job ledger has no entry for "${jobName}"` };
  if (entry.jobArn !== jobArn) return { kind: 'keep', reason: 'not-recorded', detail: `the job ledger records another job under "${jobName}" (${entry.jobArn ?? 'none yet'})` };
  const recorded = entry.evaluation?.deploymentArn;
  if (recorded !== arn) return { kind: 'keep', reason: 'not-recorded', detail: `the job ledger records ${recorded ? `another deployment (${recorded})` : 'no deployment'} for "${jobName}"` };
  const verdict = entry.evaluation?.verdict;
  if (verdict === 'promote') return { kind: 'keep', reason: 'promoted', detail: `the verdict of "${jobName}" is promote` };
  if (verdict === 'reject') return { kind: 'rejected', detail: `the verdict of "${jobName}" is reject` };
  if (entry.supervisor === REAPER_SUPERVISOR) return { kind: 'rejected', detail: `no verdict: the supervisor of "${jobName}" died before one and the reaper took the job over` };
  if (entry.evaluation?.deploymentDeleted) return { kind: 'rejected', detail: `no verdict, and the job ledger records the deployment of "${jobName}" as deleted` };
  return { kind: 'keep', reason: 'no-verdict', detail: `no verdict yet; "${jobName}" is supervised by ${entry.supervisor}` };
}

function notHome(arn: string | undefined, home: DeploymentSweepConfig['home']): string | undefined {
  const m = arn ? DEPLOYMENT_ARN.exec(arn) : null;
  if (!m) return 'not a custom model deployment ARN';
  if (m[1] !== home.region || m[2] !== home.accountId) return `of ${m[2]}/${m[1]}`;
  return undefined;
}

async function examine(arn: string, config: DeploymentSweepConfig, deps: DeploymentSweepDeps, ledgerReads: Map<string, Promise<LedgerEntry | undefined>>): Promise<Verdict> {
  const outside = notHome(arn, config.home);
  if (outside) return { kind: 'keep', reason: 'not-home', detail: outside };
  let deployment;
  try {
    deployment = await deps.bedrock.send(new GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: arn }));
  } catch (err) {
    if (awsErrorCode(err) === 'ResourceNotFoundException') return { kind: 'gone' };
    return { kind: 'keep', reason: 'lookup-failed', detail: `GetCustomModelDeployment: ${describeError(err)}` };
  }
  if (!deployment.modelArn) return { kind: 'keep', reason: 'lookup-failed', detail: 'GetCustomModelDeployment returned no modelArn' };
  let model;
  try {
    model = await deps.bedrock.send(new GetCustomModelCommand({ modelIdentifier: deployment.modelArn }));
  } catch (err) {
    if (awsErrorCode(err) === 'ResourceNotFoundException') return { kind: 'keep', reason: 'model-not-found', detail: deployment.modelArn };
    return { kind: 'keep', reason: 'lookup-failed', detail: `GetCustomModel: ${describeError(err)}` };
  }
  if (!model.jobName || !model.jobArn) return { kind: 'keep', reason: 'not-a-job-model', detail: `model ${deployment.modelArn} was made by no customization job` };
  const jobName = model.jobName;
  let read = ledgerReads.get(jobName);
  if (!read) ledgerReads.set(jobName, (read = deps.ledger.read(jobName)));
  let entry;
  try {
    entry = await read;
  } catch (err) {
    return { kind: 'keep', reason: 'lookup-failed', detail: `the job ledger: ${describeError(err)}` };
  }
  const judged = judgeDeployment(entry, { arn, jobName, jobArn: model.jobArn });
  if (judged.kind === 'keep') return judged;
  return {
    kind: 'rejected',
    rejected: { deploymentArn: arn, ...(deployment.modelDeploymentName ? { deploymentName: deployment.modelDeploymentName } : {}), jobName, detail: judged.detail },
  };
}

/** One sweep of the account's custom model deployments (a full sweep of the janitor: the schedule, a manual invoke). */
export async function sweepDeployments(config: DeploymentSweepConfig, deps: DeploymentSweepDeps): Promise<DeploymentSweepReport> {
  const limit = pLimit(Math.min(MAX_CONCURRENCY, Math.max(1, config.concurrency)));
  const summaries = await collect(paginateListCustomModelDeployments({ client: deps.bedrock }, {}), (page) => page.modelDeploymentSummaries);
  const arns = [...new Set(summaries.map((s) => s.customModelDeploymentArn).filter((a): a is string => Boolean(a)))];
  const report: DeploymentSweepReport = {
    dryRun: config.dryRun,
    rejectedDeployments: config.rejectedDeployments,
    scanned: arns.length,
    rejected: [],
    deleted: [],
    wouldDelete: [],
    alreadyGone: [],
    kept: [],
  };
  const ledgerReads = new Map<string, Promise<LedgerEntry | undefined>>();
  const verdicts = await Promise.all(arns.map((arn) => limit(async () => [arn, await examine(arn, config, deps, ledgerReads)] as const)));
  const toDelete: string[] = [];
  for (const [arn, verdict] of verdicts) {
    if (verdict.kind === 'gone') report.alreadyGone.push(arn);
    else if (verdict.kind === 'keep') report.kept.push({ deploymentArn: arn, reason: verdict.reason, detail: verdict.detail });
    else {
      report.rejected.push(verdict.rejected);
      if (config.rejectedDeployments !== 'delete') {
        report.kept.push({ deploymentArn: arn, reason: 'rejected-reported', detail: 'stage param rejectedDeployments is report' });
      } else toDelete.push(arn);
    }
  }
  if (config.dryRun) {
    report.wouldDelete = toDelete;
    return report;
  }
  await Promise.all(
    toDelete.map((arn) =>
      limit(async () => {
        try {
          await deps.bedrock.send(new DeleteCustomModelDeploymentCommand({ customModelDeploymentIdentifier: arn }));
          report.deleted.push(arn);
        } catch (err) {
          if (awsErrorCode(err) === 'ResourceNotFoundException') report.alreadyGone.push(arn);
          else report.kept.push({ deploymentArn: arn, reason: 'delete-failed', detail: describeError(err) });
        }
      }),
    ),
  );
  return report;
}

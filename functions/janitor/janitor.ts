/**
 * janitor: sweeps network interfaces that Bedrock created for this workflow's jobs and left behind
 * (an execution that timed out, was stopped by hand, or whose cleanup gave up on an attached ENI).
 *
 * A tag is not proof: anyone with `ec2:CreateTags` can write `BedrockManaged=true` and a job's ARN on a
 * customer's ENI, even one in the job's own subnet with the job's security group. What is proof is the
 * job ledger (functions/shared/ledger.ts): while a job runs, its supervising execution records there
 * the ENIs it sees in the job's network, and only this workflow's functions write it. An ENI tagged
 * later, or one the workflow never saw, is not in it. So the janitor deletes an ENI only when ALL of
 * these hold:
 * - it is in one of the stage's VPCs (`vpcIds`: an API filter, checked again in code; IAM conditions
 *   the delete on `ec2:Vpc` too);
 * - its status is `available` (an `in-use` ENI is attached: never detached or forced);
 * - its job tag (`BedrockModelCustomizationJobArn`) is a well-formed job ARN of the janitor's own
 *   region and account, and Bedrock says that job is terminal (Completed, Failed, Stopped);
 * - the ledger entry of that job's name (GetModelCustomizationJob's `jobName`) exists, records this
 *   very job ARN, and lists this ENI among the ENIs recorded while the job ran;
 * - the ENI is in the job's network as the entry records it: both tags for the job, its VPC, one of
 *   its subnets, only its security groups (`notInJobNetwork`).
 * Every other ENI is kept and reported with its reason. There is no "unknown job, delete it after a
 * while": how long an ENI has been around says nothing about whose it is. An ENI with no job tag, of a
 * job Bedrock does not know, or of a job this workflow did not run (no ledger entry) stays; so does one
 * whose ledger entry has expired (its TTL: 90 days past the job's deadline): delete those by hand.
 *
 * Bedrock is asked once per distinct job, the ledger read once per distinct job name; look-ups, reads
 * and deletions run with bounded concurrency (≤ 10 in flight); the SDK's retry (adaptive mode on the
 * janitor's clients) backs off on `RequestLimitExceeded`.
 */
import { GetModelCustomizationJobCommand, type BedrockClient } from '@aws-sdk/client-bedrock';
import type { EC2Client } from '@aws-sdk/client-ec2';
import pLimit from 'p-limit';
import { jobOutsideHome } from '../shared/arn.js';
import { awsErrorCode } from '../shared/aws-errors.js';
import { BEDROCK_JOB_ARN_TAG, deleteEni, listBedrockEnis, notInJobNetwork, tagOf } from '../shared/bedrock-enis.js';
import { describeError } from '../shared/errors.js';
import type { Ledger, LedgerEntry } from '../shared/ledger.js';

/** Most deletions (and Bedrock look-ups, and ledger reads) in flight at once. */
export const MAX_CONCURRENCY = 10;

const TERMINAL = new Set(['Completed', 'Failed', 'Stopped']);

export interface JanitorConfig {
  /** Report what would be deleted; delete nothing. */
  dryRun: boolean;
  /** Deletions in flight at once (1–10). */
  concurrency: number;
  /** The stage's VPCs: ENIs elsewhere are neither listed nor deleted. */
  vpcIds: readonly string[];
  /** The janitor's own region and account: only jobs of these are looked up. */
  home: { region: string; accountId: string };
}

export interface JanitorDeps {
  ec2: EC2Client;
  bedrock: Pick<BedrockClient, 'send'>;
  /** The stack's job ledger (read only). */
  ledger: Pick<Ledger, 'read'>;
}

export type KeepReason =
  | 'not-available'
  | 'no-job-tag'
  | 'job-arn-invalid'
  | 'job-of-another-account-or-region'
  | 'job-not-found'
  | 'job-lookup-failed'
  | 'job-running'
  | 'ledger-read-failed'
  | 'not-recorded'
  | 'not-in-job-network'
  | 'delete-failed';

export interface JanitorReport {
  dryRun: boolean;
  /** ENIs with BedrockManaged=true in the stage's VPCs that were examined. */
  scanned: number;
  /** Distinct jobs looked up in Bedrock (one GetModelCustomizationJob each). */
  jobsLookedUp: number;
  deleted: string[];
  /** Dry run: what would have been deleted. */
  wouldDelete: string[];
  alreadyGone: string[];
  kept: { networkInterfaceId: string; reason: KeepReason; detail?: string }[];
}

type Keep = { kind: 'keep'; reason: KeepReason; detail: string };
/** What is known of a job: it ended (and its name), or a reason to keep its ENIs. */
type JobState = { kind: 'terminal'; jobName: string } | Keep;
/** The ledger entry of a job name (undefined: none), or why it could not be read. */
type LedgerRead = { kind: 'entry'; entry: LedgerEntry | undefined } | Keep;

/** A job ARN the janitor may ask about: well-formed, of its own region and account; else why not. */
function foreignOrInvalid(jobArn: string, home: JanitorConfig['home']): Keep | undefined {
  const outside = jobOutsideHome(jobArn, home);
  if (outside?.kind === 'invalid') return { kind: 'keep', reason: 'job-arn-invalid', detail: jobArn };
  if (outside) return { kind: 'keep', reason: 'job-of-another-account-or-region', detail: `${outside.accountId}/${outside.region}` };
  return undefined;
}

async function lookUpJob(bedrock: JanitorDeps['bedrock'], jobArn: string): Promise<JobState> {
  try {
    const out = await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
    const status = String(out.status);
    if (!TERMINAL.has(status)) return { kind: 'keep', reason: 'job-running', detail: status };
    if (!out.jobName) return { kind: 'keep', reason: 'job-lookup-failed', detail: 'Bedrock returned no jobName' };
    return { kind: 'terminal', jobName: out.jobName };
  } catch (err) {
    const code = awsErrorCode(err);
    if (code === 'ResourceNotFoundException') return { kind: 'keep', reason: 'job-not-found', detail: jobArn };
    if (code === 'ValidationException') return { kind: 'keep', reason: 'job-arn-invalid', detail: describeError(err) };
    return { kind: 'keep', reason: 'job-lookup-failed', detail: describeError(err) };
  }
}

async function readLedger(ledger: JanitorDeps['ledger'], jobName: string): Promise<LedgerRead> {
  try {
    return { kind: 'entry', entry: await ledger.read(jobName) };
  } catch (err) {
    return { kind: 'keep', reason: 'ledger-read-failed', detail: describeError(err) };
  }
}

/** The ledger entry that vouches for ENI `id` of the job `jobName` tagged `jobArn`, or why none does. */
function recordedIn(read: LedgerRead, jobName: string, jobArn: string, id: string): { kind: 'recorded'; entry: LedgerEntry } | Keep {
  if (read.kind === 'keep') return read;
  const { entry } = read;
  if (!entry) return { kind: 'keep', reason: 'not-recorded', detail: `the job ledger has no entry for "${jobName}"` };
  if (entry.jobArn !== jobArn) {
    return { kind: 'keep', reason: 'not-recorded', detail: `the job ledger records another job under "${jobName}" (${entry.jobArn ?? 'none yet'})` };
  }
  if (!entry.enis.includes(id)) return { kind: 'keep', reason: 'not-recorded', detail: `not among the ENIs recorded while "${jobName}" ran` };
  return { kind: 'recorded', entry };
}

/** One sweep. `jobArn` limits it to that job's ENIs (the Bedrock state-change event). */
export async function sweep(scope: { jobArn?: string }, config: JanitorConfig, deps: JanitorDeps): Promise<JanitorReport> {
  const limit = pLimit(Math.min(MAX_CONCURRENCY, Math.max(1, config.concurrency)));
  const enis = await listBedrockEnis(deps.ec2, scope.jobArn, config.vpcIds);
  const report: JanitorReport = {
    dryRun: config.dryRun,
    scanned: enis.length,
    jobsLookedUp: 0,
    deleted: [],
    wouldDelete: [],
    alreadyGone: [],
    kept: [],
  };

  // Bedrock: once per distinct job ARN of ours.
  const jobArns = [...new Set(enis.map((e) => tagOf(e, BEDROCK_JOB_ARN_TAG)).filter((a): a is string => Boolean(a)))];
  const jobs = new Map<string, JobState>();
  const toLookUp: string[] = [];
  for (const arn of jobArns) {
    const verdict = foreignOrInvalid(arn, config.home);
    if (verdict) jobs.set(arn, verdict);
    else toLookUp.push(arn);
  }
  for (const [arn, state] of await Promise.all(toLookUp.map((arn) => limit(async () => [arn, await lookUpJob(deps.bedrock, arn)] as const)))) {
    jobs.set(arn, state);
  }
  report.jobsLookedUp = toLookUp.length;

  // The ledger: once per distinct name of an ended job.
  const jobNames = [...new Set([...jobs.values()].flatMap((j) => (j.kind === 'terminal' ? [j.jobName] : [])))];
  const entries = new Map<string, LedgerRead>(
    await Promise.all(jobNames.map((name) => limit(async () => [name, await readLedger(deps.ledger, name)] as const))),
  );

  const toDelete: string[] = [];
  const keep = (id: string, why: Keep) => report.kept.push({ networkInterfaceId: id, reason: why.reason, detail: why.detail });
  for (const eni of enis) {
    const id = eni.NetworkInterfaceId!;
    if (eni.Status !== 'available') {
      report.kept.push({ networkInterfaceId: id, reason: 'not-available', detail: eni.Status });
      continue;
    }
    const jobArn = tagOf(eni, BEDROCK_JOB_ARN_TAG);
    if (!jobArn) {
      report.kept.push({ networkInterfaceId: id, reason: 'no-job-tag' });
      continue;
    }
    const job = jobs.get(jobArn)!;
    if (job.kind === 'keep') {
      keep(id, job);
      continue;
    }
    const recorded = recordedIn(entries.get(job.jobName)!, job.jobName, jobArn, id);
    if (recorded.kind === 'keep') {
      keep(id, recorded);
      continue;
    }
    const outside = notInJobNetwork(eni, jobArn, recorded.entry.network);
    if (outside) {
      report.kept.push({ networkInterfaceId: id, reason: 'not-in-job-network', detail: outside });
      continue;
    }
    toDelete.push(id);
  }

  if (config.dryRun) {
    report.wouldDelete = toDelete;
    return report;
  }
  await Promise.all(
    toDelete.map((id) =>
      limit(async () => {
        try {
          if ((await deleteEni(deps.ec2, id)) === 'deleted') report.deleted.push(id);
          else report.alreadyGone.push(id);
        } catch (err) {
          report.kept.push({ networkInterfaceId: id, reason: 'delete-failed', detail: describeError(err) });
        }
      }),
    ),
  );
  return report;
}

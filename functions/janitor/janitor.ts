/**
 * janitor: sweeps network interfaces that Bedrock tagged `BedrockManaged=true` and left behind
 * (an execution that timed out, was stopped by hand, or a job run outside this workflow).
 *
 * It deletes an ENI only when ALL of these hold:
 * - it carries `BedrockManaged=true` (checked in code, not only by the API filter);
 * - its status is `available` (an `in-use` ENI is attached: never detached or forced);
 * - its job (tag `BedrockModelCustomizationJobArn`) is terminal (Completed, Failed, Stopped), or the
 *   job is unknown (no tag, or Bedrock does not know it) and the janitor first saw the ENI more than
 *   `graceSeconds` ago. ENIs carry no creation time, so the first sighting is marked with a tag of ours.
 *
 * Bedrock is asked once per distinct job; deletions run with bounded concurrency (≤ 10 in flight);
 * the SDK's retry (adaptive mode on the janitor's clients) backs off on `RequestLimitExceeded`.
 */
import { GetModelCustomizationJobCommand, type BedrockClient } from '@aws-sdk/client-bedrock';
import { CreateTagsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import pLimit from 'p-limit';
import { awsErrorCode } from '../shared/aws-errors.js';
import { BEDROCK_JOB_ARN_TAG, deleteEni, listBedrockEnis, tagOf } from '../shared/bedrock-enis.js';
import { describeError } from '../shared/errors.js';

/** Our tag: when the janitor first saw an ENI whose job it could not find (ISO time). */
export const FIRST_SEEN_TAG = 'bedrock-vpc-customization:first-seen';
/** Most deletions (and Bedrock look-ups) in flight at once. */
export const MAX_CONCURRENCY = 10;

const TERMINAL = new Set(['Completed', 'Failed', 'Stopped']);

export interface JanitorConfig {
  /** How long an ENI of an unknown job must have been seen before it is deleted. */
  graceSeconds: number;
  /** Report what would be deleted; delete and tag nothing. */
  dryRun: boolean;
  /** Deletions in flight at once (1–10). */
  concurrency: number;
}

export interface JanitorDeps {
  ec2: EC2Client;
  bedrock: Pick<BedrockClient, 'send'>;
  now: () => Date;
}

export type KeepReason =
  | 'not-available'
  | 'job-running'
  | 'unknown-job-first-seen-now'
  | 'unknown-job-within-grace'
  | 'job-lookup-failed'
  | 'delete-failed';

export interface JanitorReport {
  dryRun: boolean;
  /** ENIs with BedrockManaged=true that were examined. */
  scanned: number;
  /** Distinct jobs looked up in Bedrock (one GetModelCustomizationJob each). */
  jobsLookedUp: number;
  deleted: string[];
  /** Dry run: what would have been deleted. */
  wouldDelete: string[];
  alreadyGone: string[];
  kept: { networkInterfaceId: string; reason: KeepReason; detail?: string }[];
  /** ENIs of unknown jobs tagged with their first sighting by this run. */
  marked: string[];
}

/** What Bedrock says of a job: its status, `unknown` (not found), or a failed look-up. */
type JobState = { kind: 'status'; status: string } | { kind: 'unknown' } | { kind: 'error'; detail: string };

async function lookUpJob(bedrock: JanitorDeps['bedrock'], jobArn: string): Promise<JobState> {
  try {
    const out = await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
    return { kind: 'status', status: String(out.status) };
  } catch (err) {
    const code = awsErrorCode(err);
    if (code === 'ResourceNotFoundException' || code === 'ValidationException') return { kind: 'unknown' };
    return { kind: 'error', detail: describeError(err) };
  }
}

/** One sweep. `jobArn` limits it to that job's ENIs (the Bedrock state-change event). */
export async function sweep(scope: { jobArn?: string }, config: JanitorConfig, deps: JanitorDeps): Promise<JanitorReport> {
  const limit = pLimit(Math.min(MAX_CONCURRENCY, Math.max(1, config.concurrency)));
  const now = deps.now();
  const enis = await listBedrockEnis(deps.ec2, scope.jobArn);
  const report: JanitorReport = {
    dryRun: config.dryRun,
    scanned: enis.length,
    jobsLookedUp: 0,
    deleted: [],
    wouldDelete: [],
    alreadyGone: [],
    kept: [],
    marked: [],
  };

  const jobArns = [...new Set(enis.map((e) => tagOf(e, BEDROCK_JOB_ARN_TAG)).filter((a): a is string => Boolean(a)))];
  const jobs = new Map(await Promise.all(jobArns.map((arn) => limit(async () => [arn, await lookUpJob(deps.bedrock, arn)] as const))));
  report.jobsLookedUp = jobArns.length;

  const toDelete: string[] = [];
  const toMark: string[] = [];
  for (const eni of enis) {
    const id = eni.NetworkInterfaceId!;
    if (eni.Status !== 'available') {
      report.kept.push({ networkInterfaceId: id, reason: 'not-available', detail: eni.Status });
      continue;
    }
    const jobArn = tagOf(eni, BEDROCK_JOB_ARN_TAG);
    const job: JobState = jobArn ? jobs.get(jobArn)! : { kind: 'unknown' };
    if (job.kind === 'error') {
      report.kept.push({ networkInterfaceId: id, reason: 'job-lookup-failed', detail: job.detail });
    } else if (job.kind === 'status') {
      if (TERMINAL.has(job.status)) toDelete.push(id);
      else report.kept.push({ networkInterfaceId: id, reason: 'job-running', detail: job.status });
    } else {
      const firstSeen = Date.parse(tagOf(eni, FIRST_SEEN_TAG) ?? '');
      if (Number.isNaN(firstSeen)) {
        toMark.push(id);
        report.kept.push({ networkInterfaceId: id, reason: 'unknown-job-first-seen-now' });
      } else if ((now.getTime() - firstSeen) / 1000 > config.graceSeconds) {
        toDelete.push(id);
      } else {
        report.kept.push({ networkInterfaceId: id, reason: 'unknown-job-within-grace', detail: new Date(firstSeen).toISOString() });
      }
    }
  }

  if (config.dryRun) {
    report.wouldDelete = toDelete;
    return report;
  }
  if (toMark.length > 0) {
    // One call tags up to 1000 resources.
    for (let i = 0; i < toMark.length; i += 1000) {
      await deps.ec2.send(
        new CreateTagsCommand({ Resources: toMark.slice(i, i + 1000), Tags: [{ Key: FIRST_SEEN_TAG, Value: now.toISOString() }] }),
      );
    }
    report.marked = toMark;
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

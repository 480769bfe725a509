/**
 * janitor: sweeps network interfaces that Bedrock tagged `BedrockManaged=true` and left behind
 * (an execution that timed out, was stopped by hand, or a job run outside this workflow).
 *
 * Tags are not proof: anyone with `ec2:CreateTags` can write them. So it deletes an ENI only when ALL
 * of these hold:
 * - it is in one of the stage's VPCs (`vpcIds`: an API filter, checked again in code; IAM conditions
 *   the delete on `ec2:Vpc` too);
 * - it carries `BedrockManaged=true` (checked in code, not only by the API filter);
 * - its status is `available` (an `in-use` ENI is attached: never detached or forced);
 * - either its job (tag `BedrockModelCustomizationJobArn`, a well-formed job ARN of the janitor's own
 *   region and account) is terminal (Completed, Failed, Stopped) AND the ENI's subnet is one of that
 *   job's subnets (its `vpcConfig`, as Bedrock reports it);
 * - or its job is unknown (no job tag, or Bedrock answers ResourceNotFoundException for that ARN) and
 *   the janitor first saw the ENI more than `graceSeconds` ago. ENIs carry no creation time, so first
 *   sightings are kept in the stack's DynamoDB table (never in a tag, which anyone could back-date),
 *   written only if absent, so a concurrent sweep cannot move one later.
 * A job ARN of another account or region, a malformed one, or one Bedrock rejects as invalid
 * (ValidationException) keeps the ENI: never "unknown, delete after the grace period".
 *
 * Bedrock is asked once per distinct job; first sightings are read 100 ENIs a call (BatchGetItem);
 * deletions run with bounded concurrency (≤ 10 in flight); the SDK's retry (adaptive mode on the
 * janitor's clients) backs off on `RequestLimitExceeded`.
 */
import { GetModelCustomizationJobCommand, type BedrockClient } from '@aws-sdk/client-bedrock';
import { BatchGetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import pLimit from 'p-limit';
import { jobOutsideHome } from '../shared/arn.js';
import { awsErrorCode } from '../shared/aws-errors.js';
import { BEDROCK_JOB_ARN_TAG, deleteEni, listBedrockEnis, tagOf } from '../shared/bedrock-enis.js';
import { describeError } from '../shared/errors.js';

/** Most deletions (and Bedrock look-ups, and sighting writes) in flight at once. */
export const MAX_CONCURRENCY = 10;
/** Most keys of one BatchGetItem call (DynamoDB's limit). */
export const SIGHTINGS_PER_READ = 100;
/** How long a sighting outlives the grace period before DynamoDB's TTL removes it. */
export const SIGHTING_TTL_MARGIN_SECONDS = 30 * 24 * 3600;
/** Attributes of the sightings table: key (the ENI id), first sighting (ISO time), TTL (epoch seconds). */
export const SIGHTING_KEY = 'networkInterfaceId';
export const SIGHTING_FIRST_SEEN = 'firstSeen';
export const SIGHTING_TTL = 'expiresAt';

const TERMINAL = new Set(['Completed', 'Failed', 'Stopped']);

export interface JanitorConfig {
  /** How long an ENI of an unknown job must have been seen before it is deleted. */
  graceSeconds: number;
  /** Report what would be deleted; delete and write nothing. */
  dryRun: boolean;
  /** Deletions in flight at once (1–10). */
  concurrency: number;
  /** The stage's VPCs: ENIs elsewhere are neither listed nor deleted. */
  vpcIds: readonly string[];
  /** The janitor's own region and account: only jobs of these are looked up. */
  home: { region: string; accountId: string };
  /** The DynamoDB table of first sightings (key `networkInterfaceId`). */
  sightingsTable: string;
}

export interface JanitorDeps {
  ec2: EC2Client;
  bedrock: Pick<BedrockClient, 'send'>;
  dynamodb: Pick<DynamoDBClient, 'send'>;
  now: () => Date;
}

export type KeepReason =
  | 'not-available'
  | 'job-running'
  | 'subnet-not-the-jobs'
  | 'job-arn-invalid'
  | 'job-of-another-account-or-region'
  | 'unknown-job-first-seen-now'
  | 'unknown-job-within-grace'
  | 'job-lookup-failed'
  | 'sighting-write-failed'
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
  /** ENIs of unknown jobs whose first sighting this run recorded. */
  marked: string[];
}

/** What is known of a job: its status and subnets, `unknown` (not found), or a reason to keep its ENIs. */
type JobState =
  | { kind: 'status'; status: string; subnetIds: string[] }
  | { kind: 'unknown' }
  | { kind: 'keep'; reason: KeepReason; detail: string };

/** A job ARN the janitor may ask about: well-formed, of its own region and account; else why not. */
function foreignOrInvalid(jobArn: string, home: JanitorConfig['home']): JobState | undefined {
  const outside = jobOutsideHome(jobArn, home);
  if (outside?.kind === 'invalid') return { kind: 'keep', reason: 'job-arn-invalid', detail: jobArn };
  if (outside) return { kind: 'keep', reason: 'job-of-another-account-or-region', detail: `${outside.accountId}/${outside.region}` };
  return undefined;
}

async function lookUpJob(bedrock: JanitorDeps['bedrock'], jobArn: string): Promise<JobState> {
  try {
    const out = await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
    return { kind: 'status', status: String(out.status), subnetIds: out.vpcConfig?.subnetIds ?? [] };
  } catch (err) {
    const code = awsErrorCode(err);
    if (code === 'ResourceNotFoundException') return { kind: 'unknown' };
    if (code === 'ValidationException') return { kind: 'keep', reason: 'job-arn-invalid', detail: describeError(err) };
    return { kind: 'keep', reason: 'job-lookup-failed', detail: describeError(err) };
  }
}

/** First sightings of `ids` (ENI id → ISO time), 100 keys a call; unprocessed keys are asked again. */
async function readSightings(dynamodb: JanitorDeps['dynamodb'], table: string, ids: string[]): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  for (let i = 0; i < ids.length; i += SIGHTINGS_PER_READ) {
    let keys: Record<string, { S: string }>[] | undefined = ids.slice(i, i + SIGHTINGS_PER_READ).map((id) => ({ [SIGHTING_KEY]: { S: id } }));
    for (let attempt = 0; keys && keys.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
      const out = await dynamodb.send(
        new BatchGetItemCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true, ProjectionExpression: `${SIGHTING_KEY}, ${SIGHTING_FIRST_SEEN}` } } }),
      );
      for (const item of out.Responses?.[table] ?? []) {
        const id = item[SIGHTING_KEY]?.S;
        const firstSeen = item[SIGHTING_FIRST_SEEN]?.S;
        if (id && firstSeen) seen.set(id, firstSeen);
      }
      keys = out.UnprocessedKeys?.[table]?.Keys as typeof keys;
      if (keys?.length && attempt >= 7) throw new Error(`janitor: DynamoDB left ${keys.length} sighting reads unprocessed`);
    }
  }
  return seen;
}

/** Records the first sighting of `id` unless one exists; `false` when another sweep recorded it first. */
async function recordSighting(deps: JanitorDeps, config: JanitorConfig, id: string, now: Date): Promise<boolean> {
  try {
    await deps.dynamodb.send(
      new PutItemCommand({
        TableName: config.sightingsTable,
        Item: {
          [SIGHTING_KEY]: { S: id },
          [SIGHTING_FIRST_SEEN]: { S: now.toISOString() },
          [SIGHTING_TTL]: { N: String(Math.floor(now.getTime() / 1000) + config.graceSeconds + SIGHTING_TTL_MARGIN_SECONDS) },
        },
        ConditionExpression: 'attribute_not_exists(#key)',
        ExpressionAttributeNames: { '#key': SIGHTING_KEY },
      }),
    );
    return true;
  } catch (err) {
    if (awsErrorCode(err) === 'ConditionalCheckFailedException') return false;
    throw err;
  }
}

/** One sweep. `jobArn` limits it to that job's ENIs (the Bedrock state-change event). */
export async function sweep(scope: { jobArn?: string }, config: JanitorConfig, deps: JanitorDeps): Promise<JanitorReport> {
  const limit = pLimit(Math.min(MAX_CONCURRENCY, Math.max(1, config.concurrency)));
  const now = deps.now();
  const enis = await listBedrockEnis(deps.ec2, scope.jobArn, config.vpcIds);
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

  const toDelete: string[] = [];
  const unknown: string[] = [];
  for (const eni of enis) {
    const id = eni.NetworkInterfaceId!;
    if (eni.Status !== 'available') {
      report.kept.push({ networkInterfaceId: id, reason: 'not-available', detail: eni.Status });
      continue;
    }
    const jobArn = tagOf(eni, BEDROCK_JOB_ARN_TAG);
    const job: JobState = jobArn ? jobs.get(jobArn)! : { kind: 'unknown' };
    if (job.kind === 'keep') {
      report.kept.push({ networkInterfaceId: id, reason: job.reason, detail: job.detail });
    } else if (job.kind === 'status') {
      if (!TERMINAL.has(job.status)) report.kept.push({ networkInterfaceId: id, reason: 'job-running', detail: job.status });
      else if (eni.SubnetId && job.subnetIds.includes(eni.SubnetId)) toDelete.push(id);
      else report.kept.push({ networkInterfaceId: id, reason: 'subnet-not-the-jobs', detail: eni.SubnetId });
    } else {
      unknown.push(id);
    }
  }

  const sightings = unknown.length > 0 ? await readSightings(deps.dynamodb, config.sightingsTable, unknown) : new Map<string, string>();
  const toMark: string[] = [];
  for (const id of unknown) {
    const firstSeen = Date.parse(sightings.get(id) ?? '');
    if (Number.isNaN(firstSeen)) {
      toMark.push(id);
    } else if ((now.getTime() - firstSeen) / 1000 > config.graceSeconds) {
      toDelete.push(id);
    } else {
      report.kept.push({ networkInterfaceId: id, reason: 'unknown-job-within-grace', detail: new Date(firstSeen).toISOString() });
    }
  }

  if (config.dryRun) {
    for (const id of toMark) report.kept.push({ networkInterfaceId: id, reason: 'unknown-job-first-seen-now' });
    report.wouldDelete = toDelete;
    return report;
  }
  await Promise.all([
    ...toMark.map((id) =>
      limit(async () => {
        try {
          if (await recordSighting(deps, config, id, now)) report.marked.push(id);
          report.kept.push({ networkInterfaceId: id, reason: 'unknown-job-first-seen-now' });
        } catch (err) {
          report.kept.push({ networkInterfaceId: id, reason: 'sighting-write-failed', detail: describeError(err) });
        }
      }),
    ),
    ...toDelete.map((id) =>
      limit(async () => {
        try {
          if ((await deleteEni(deps.ec2, id)) === 'deleted') report.deleted.push(id);
          else report.alreadyGone.push(id);
        } catch (err) {
          report.kept.push({ networkInterfaceId: id, reason: 'delete-failed', detail: describeError(err) });
        }
      }),
    ),
  ]);
  return report;
}

/**
 * The job ledger (the stack's JobLedgerTable, key `pk` = the job's name; attributes named so that none is a
 * DynamoDB reserved word): the one record that says a
 * customization job is this workflow's, which chain owns it and which execution supervises it. Only
 * the workflow's functions write it (their roles; no one else needs the table), always with conditional
 * writes. Every destructive or releasing action consults it first (docs/threat-model.md):
 *
 * - submit-job **reserves** the name before CreateModelCustomizationJob (owner = the chain's first
 *   execution, supervisor = that execution) and records the job's ARN after it; a job is adopted (a
 *   retried task, ReconcileSubmission, a duplicate upload) only when the entry names this chain;
 * - poll-status checks on every status check that this execution is the job's supervisor, records the
 *   job's network interfaces while it runs, and stops the job only as its supervisor;
 * - a hand-over **designates** the successor (supervisor = the successor's ARN, unclaimed) before it
 *   starts it; the successor **claims** it once it has verified the hand-over; until then the
 *   predecessor may **take it back** (the start failed, the name was taken). One conditional write
 *   each: at any moment exactly one execution (or the reaper) is the supervisor;
 * - cleanup-enis deletes only ENIs recorded here; job-events releases a wait only for the supervisor;
 *   the reaper stops a job only when its supervisor is the execution that died, and says so here;
 * - the evaluation gate (evaluate-model), as the job's supervisor, **records** its deployment and evaluation
 *   jobs (name and client request token before each Create, the ARN after; the verdict; the deletion)
 *   and stops or deletes only what is recorded; the reaper and the janitor act on the same record.
 *
 * The ledger never trusts a name, tag, token or input: a job name someone else derives, a tag someone
 * else writes, an input someone else starts an execution with, none of them is an entry.
 */
import { randomBytes } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { awsErrorCode } from './aws-errors.js';
import type { JobNetwork } from './bedrock-enis.js';
import { JobNotOursError } from './errors.js';

/** What the reaper writes as the supervisor of a job whose supervisor died (nobody follows it any more). */
export const REAPER_SUPERVISOR = 'reaper';

/** How long an entry outlives the job's deadline (the janitor still needs its ENIs then). */
export const LEDGER_TTL_MARGIN_SECONDS = 90 * 24 * 3600;

/** The network a job runs in, as the entry records it (the ENIs recorded must be of it). */
export type LedgerNetwork = JobNetwork;

export interface LedgerEntry {
  jobName: string;
  /** The chain's first execution: the job's owner (it submitted the job). */
  owner: string;
  /** The execution that follows the job now (or {@link REAPER_SUPERVISOR}). */
  supervisor: string;
  /** False while a designated successor has not yet claimed the job. */
  claimed: boolean;
  /** The execution that designated the unclaimed successor (it may take the job back). */
  handoverFrom?: string;
  /** Hand-overs so far (0: the first execution supervises). */
  generation: number;
  clientRequestToken: string;
  /** A random value only the ledger holds: hand-over names cannot be guessed ahead (shared/chain.ts). */
  nonce: string;
  network: LedgerNetwork;
  /** Set once the job exists. */
  jobArn?: string;
  submittedAt?: string;
  deadline?: string;
  /** ENIs recorded while the job ran (in its subnets, with its security groups, tagged for it). */
  enis: string[];
  /** `reaped`: the reaper stopped it after its supervisor died. */
  status: 'reserved' | 'submitted' | 'reaped';
  /** The evaluation gate's resources (functions/evaluate-model), once it recorded any. */
  evaluation?: LedgerEvaluation;
}

/** One evaluation job of the gate as the ledger records it: its name and token before CreateEvaluationJob, its ARN after. */
export interface LedgerEvaluationJob {
  name: string;
  token: string;
  arn?: string;
}

/**
 * The evaluation gate's resources of a job (`LedgerEntry.evaluation`): the custom model deployment and the two
 * evaluation jobs, each recorded by name and client request token before its Create call and by ARN after it;
 * the verdict, and whether the deployment was deleted. The reaper and the janitor act only on what is here.
 */
export interface LedgerEvaluation {
  deploymentName?: string;
  deploymentClientRequestToken?: string;
  deploymentArn?: string;
  jobs: { custom?: LedgerEvaluationJob; base?: LedgerEvaluationJob };
  verdict?: 'promote' | 'reject';
  deploymentDeleted?: boolean;
}

/** What {@link Ledger.recordEvaluation} writes: any of the fields (a job whole: name, token and, once known, ARN). */
export type LedgerEvaluationPatch = Partial<Omit<LedgerEvaluation, 'jobs'>> & { jobs?: LedgerEvaluation['jobs'] };

export interface LedgerDeps {
  dynamodb: Pick<DynamoDBClient, 'send'>;
  now: () => Date;
}

/** The ledger in table `table`: every read is consistent, every write conditional. */
export interface Ledger {
  read(jobName: string): Promise<LedgerEntry | undefined>;
  /**
   * Reserves `jobName` for `owner` before the job is created. Returns the entry when it is (or already
   * was) this owner's; {@link JobNotOursError} when another chain reserved it.
   */
  reserve(entry: Pick<LedgerEntry, 'jobName' | 'owner' | 'clientRequestToken' | 'network'> & { maxJobDurationSeconds: number }): Promise<LedgerEntry>;
  /**
   * Records the created (or adopted) job; {@link JobNotOursError} unless `owner` reserved the name for
   * this job. `reaped` when the reaper took the entry over meanwhile (the execution ended while its
   * submission was in flight): nothing is recorded, and the caller must stop the job it created.
   */
  recordSubmission(jobName: string, owner: string, job: { jobArn: string; submittedAt: string; deadline: string }): Promise<'recorded' | 'reaped'>;
  /** Adds ENIs to the job's record; false when `self` is not its supervisor. */
  recordEnis(jobName: string, self: string, ids: string[]): Promise<boolean>;
  /** `self` hands supervision to `successor` (unclaimed); false when `self` is not the claimed supervisor. */
  designate(jobName: string, self: string, successor: string, generation: number): Promise<boolean>;
  /** The designated `self` claims the job from `from`; false when it was not designated (or was taken back). */
  claim(jobName: string, self: string, from: string, jobArn: string): Promise<boolean>;
  /** `self` takes the job back from its unclaimed successor; false when the successor claimed it first. */
  takeBack(jobName: string, self: string, successor: string): Promise<boolean>;
  /** The reaper takes the job from the dead supervisor `dead`; false when `dead` no longer supervises it. */
  reap(jobName: string, dead: string): Promise<boolean>;
  /**
   * Records the evaluation gate's resources (`patch`, merged into `entry.evaluation`) when `self` is the
   * claimed supervisor of the chain `owner`'s job. False when it is not, or when the patch would change a name,
   * token, ARN or verdict already recorded (each is written once; writing the same value again is a retry's no-op).
   */
  recordEvaluation(jobName: string, who: { owner: string; self: string }, patch: LedgerEvaluationPatch): Promise<boolean>;
}

/**
 * The DynamoDB attribute of each evaluation field (none a reserved word: every one starts with `eval`).
 * Identity fields (names, tokens, ARNs) and the verdict are written once.
 */
const EVAL_ATTRIBUTES = {
  deploymentName: 'evalDeploymentName',
  deploymentClientRequestToken: 'evalDeploymentToken',
  deploymentArn: 'evalDeploymentArn',
  customJobName: 'evalCustomJobName',
  customJobToken: 'evalCustomJobToken',
  customJobArn: 'evalCustomJobArn',
  baseJobName: 'evalBaseJobName',
  baseJobToken: 'evalBaseJobToken',
  baseJobArn: 'evalBaseJobArn',
  verdict: 'evalVerdict',
  deploymentDeleted: 'evalDeploymentDeleted',
  updatedAt: 'evalUpdatedAt',
} as const;

/** The entry's evaluation fields, undefined when the gate recorded nothing. */
function evaluationFromItem(item: Record<string, AttributeValue>): LedgerEvaluation | undefined {
  const a = EVAL_ATTRIBUTES;
  if (!str(item, a.updatedAt)) return undefined;
  const job = (name: string, token: string, arn: string): LedgerEvaluationJob | undefined =>
    str(item, name) ? { name: str(item, name)!, token: str(item, token) ?? '', ...(str(item, arn) ? { arn: str(item, arn)! } : {}) } : undefined;
  const custom = job(a.customJobName, a.customJobToken, a.customJobArn);
  const base = job(a.baseJobName, a.baseJobToken, a.baseJobArn);
  const verdict = str(item, a.verdict);
  return {
    ...(str(item, a.deploymentName) ? { deploymentName: str(item, a.deploymentName)! } : {}),
    ...(str(item, a.deploymentClientRequestToken) ? { deploymentClientRequestToken: str(item, a.deploymentClientRequestToken)! } : {}),
    ...(str(item, a.deploymentArn) ? { deploymentArn: str(item, a.deploymentArn)! } : {}),
    jobs: { ...(custom ? { custom } : {}), ...(base ? { base } : {}) },
    ...(verdict === 'promote' || verdict === 'reject' ? { verdict } : {}),
    ...(item[a.deploymentDeleted]?.BOOL !== undefined ? { deploymentDeleted: item[a.deploymentDeleted]!.BOOL! } : {}),
  };
}

const s = (value: string): AttributeValue => ({ S: value });
const str = (item: Record<string, AttributeValue>, key: string) => item[key]?.S;

function fromItem(item: Record<string, AttributeValue>): LedgerEntry {
  return {
    jobName: str(item, 'pk')!,
    owner: str(item, 'ownerExecution')!,
    supervisor: str(item, 'supervisorExecution')!,
    claimed: item.isClaimed?.BOOL === true,
    ...(str(item, 'handoverFrom') ? { handoverFrom: str(item, 'handoverFrom')! } : {}),
    generation: Number(item.handoverGeneration?.N ?? 0),
    clientRequestToken: str(item, 'clientRequestToken') ?? '',
    nonce: str(item, 'nonce') ?? '',
    network: {
      vpcId: str(item, 'vpcId') ?? '',
      subnetIds: item.subnetIds?.SS ?? [],
      securityGroupIds: item.securityGroupIds?.SS ?? [],
    },
    ...(str(item, 'jobArn') ? { jobArn: str(item, 'jobArn')! } : {}),
    ...(str(item, 'submittedAt') ? { submittedAt: str(item, 'submittedAt')! } : {}),
    ...(str(item, 'jobDeadline') ? { deadline: str(item, 'jobDeadline')! } : {}),
    enis: item.recordedEnis?.SS ?? [],
    status: (str(item, 'entryStatus') as LedgerEntry['status']) ?? 'reserved',
    ...((evaluation) => (evaluation ? { evaluation } : {}))(evaluationFromItem(item)),
  };
}

const conditionFailed = (err: unknown) => err instanceof ConditionalCheckFailedException || awsErrorCode(err) === 'ConditionalCheckFailedException';

/** The {@link Ledger} in the DynamoDB table `table`. */
export function dynamoLedger(table: string, deps: LedgerDeps): Ledger {
  const key = (jobName: string) => ({ pk: s(jobName) });

  /** A conditional update: true when it was written, false when its condition did not hold. */
  async function update(jobName: string, set: string, condition: string, values: Record<string, AttributeValue>): Promise<boolean> {
    try {
      await deps.dynamodb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: key(jobName),
          UpdateExpression: set,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (err) {
      if (conditionFailed(err)) return false;
      throw err;
    }
  }

  const ledger: Ledger = {
    async read(jobName) {
      const out = await deps.dynamodb.send(new GetItemCommand({ TableName: table, Key: key(jobName), ConsistentRead: true }));
      return out.Item ? fromItem(out.Item) : undefined;
    },

    async reserve(entry) {
      const now = deps.now();
      const item: Record<string, AttributeValue> = {
        pk: s(entry.jobName),
        ownerExecution: s(entry.owner),
        supervisorExecution: s(entry.owner),
        isClaimed: { BOOL: true },
        handoverGeneration: { N: '0' },
        clientRequestToken: s(entry.clientRequestToken),
        nonce: s(randomBytes(12).toString('hex')),
        vpcId: s(entry.network.vpcId),
        subnetIds: { SS: [...new Set(entry.network.subnetIds)] },
        securityGroupIds: { SS: [...new Set(entry.network.securityGroupIds)] },
        entryStatus: s('reserved'),
        reservedAt: s(now.toISOString()),
        // Past the longest the job can run (from now: it is not created yet), plus a margin.
        expiresAt: { N: String(Math.floor(now.getTime() / 1000) + entry.maxJobDurationSeconds + LEDGER_TTL_MARGIN_SECONDS) },
      };
      try {
        await deps.dynamodb.send(new PutItemCommand({ TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
        return fromItem(item);
      } catch (err) {
        if (!conditionFailed(err)) throw err;
      }
      const existing = await ledger.read(entry.jobName);
      if (existing && existing.owner === entry.owner && existing.clientRequestToken === entry.clientRequestToken) return existing;
      throw new JobNotOursError(
        `The job name "${entry.jobName}" is recorded in the job ledger for another execution (${existing?.owner ?? 'unknown'}): ` +
          'this execution did not create that job and does not touch it. Choose another jobName, or follow that execution.',
      );
    },

    async recordSubmission(jobName, owner, job) {
      const written = await update(
        jobName,
        'SET jobArn = :arn, submittedAt = :at, jobDeadline = :deadline, entryStatus = :submitted',
        'ownerExecution = :owner AND entryStatus <> :reaped AND (attribute_not_exists(jobArn) OR jobArn = :arn)',
        {
          ':arn': s(job.jobArn),
          ':at': s(job.submittedAt),
          ':deadline': s(job.deadline),
          ':submitted': s('submitted'),
          ':owner': s(owner),
          ':reaped': s('reaped'),
        },
      );
      if (written) return 'recorded';
      const entry = await ledger.read(jobName);
      if (entry?.owner === owner && entry.status === 'reaped') return 'reaped';
      throw new JobNotOursError(`Job ${job.jobArn} ("${jobName}") is not recorded in the job ledger as this execution's (${owner}): it is not adopted.`);
    },

    recordEnis(jobName, self, ids) {
      if (ids.length === 0) return Promise.resolve(true);
      return update(jobName, 'ADD recordedEnis :ids', 'supervisorExecution = :self AND isClaimed = :true', {
        ':ids': { SS: [...new Set(ids)] },
        ':self': s(self),
        ':true': { BOOL: true },
      });
    },

    designate(jobName, self, successor, generation) {
      return update(
        jobName,
        'SET supervisorExecution = :successor, isClaimed = :false, handoverFrom = :self, handoverGeneration = :generation',
        'supervisorExecution = :self AND isClaimed = :true',
        { ':successor': s(successor), ':false': { BOOL: false }, ':self': s(self), ':generation': { N: String(generation) }, ':true': { BOOL: true } },
      );
    },

    async claim(jobName, self, from, jobArn) {
      const written = await update(
        jobName,
        'SET isClaimed = :true REMOVE handoverFrom',
        'supervisorExecution = :self AND isClaimed = :false AND handoverFrom = :from AND jobArn = :arn',
        { ':true': { BOOL: true }, ':false': { BOOL: false }, ':self': s(self), ':from': s(from), ':arn': s(jobArn) },
      );
      if (written) return true;
      // A retried claim of ours that went through the first time.
      const entry = await ledger.read(jobName);
      return entry?.supervisor === self && entry.claimed && entry.jobArn === jobArn;
    },

    takeBack(jobName, self, successor) {
      return update(
        jobName,
        'SET supervisorExecution = :self, isClaimed = :true REMOVE handoverFrom',
        'supervisorExecution = :successor AND isClaimed = :false AND handoverFrom = :self',
        { ':self': s(self), ':true': { BOOL: true }, ':false': { BOOL: false }, ':successor': s(successor) },
      );
    },

    reap(jobName, dead) {
      return update(jobName, 'SET supervisorExecution = :reaper, isClaimed = :true, entryStatus = :reaped, reapedFrom = :dead', 'supervisorExecution = :dead', {
        ':reaper': s(REAPER_SUPERVISOR),
        ':true': { BOOL: true },
        ':reaped': s('reaped'),
        ':dead': s(dead),
      });
    },

    recordEvaluation(jobName, who, patch) {
      const a = EVAL_ATTRIBUTES;
      const sets: string[] = ['evalUpdatedAt = :evalUpdatedAt'];
      const conditions: string[] = ['supervisorExecution = :self', 'isClaimed = :true', 'ownerExecution = :owner'];
      const values: Record<string, AttributeValue> = {
        ':evalUpdatedAt': s(deps.now().toISOString()),
        ':self': s(who.self),
        ':true': { BOOL: true },
        ':owner': s(who.owner),
      };
      /** A field written once: the write holds only while the attribute is absent or already has this value. */
      const once = (attribute: string, value: string | undefined) => {
        if (value === undefined) return;
        sets.push(`${attribute} = :${attribute}`);
        conditions.push(`(attribute_not_exists(${attribute}) OR ${attribute} = :${attribute})`);
        values[`:${attribute}`] = s(value);
      };
      once(a.deploymentName, patch.deploymentName);
      once(a.deploymentClientRequestToken, patch.deploymentClientRequestToken);
      once(a.deploymentArn, patch.deploymentArn);
      once(a.customJobName, patch.jobs?.custom?.name);
      once(a.customJobToken, patch.jobs?.custom?.token);
      once(a.customJobArn, patch.jobs?.custom?.arn);
      once(a.baseJobName, patch.jobs?.base?.name);
      once(a.baseJobToken, patch.jobs?.base?.token);
      once(a.baseJobArn, patch.jobs?.base?.arn);
      once(a.verdict, patch.verdict);
      if (patch.deploymentDeleted !== undefined) {
        sets.push(`${a.deploymentDeleted} = :${a.deploymentDeleted}`);
        values[`:${a.deploymentDeleted}`] = { BOOL: patch.deploymentDeleted };
      }
      return update(jobName, `SET ${sets.join(', ')}`, conditions.join(' AND '), values);
    },
  };
  return ledger;
}

/**
 * The job's entry, read consistently, when `expected.self` is its claimed supervisor for the chain
 * `expected.owner`; otherwise {@link JobNotOursError} with `refusal(why)` (what was not done, and why).
 * The one check before a stop, an ENI deletion or a wait's registration.
 */
export async function requireSupervisor(
  ledger: Ledger,
  jobName: string,
  expected: { owner: string; jobArn: string; self: string },
  refusal: (why: string) => string,
): Promise<LedgerEntry> {
  const entry = await ledger.read(jobName);
  const why = notSupervisor(entry, expected);
  if (why) throw new JobNotOursError(refusal(why));
  return entry!;
}

/**
 * Why `self` may not act on the job `jobArn` of `entry` (undefined when it may): the entry must exist,
 * name the chain's first execution `owner`, this job, and `self` as its claimed supervisor.
 */
export function notSupervisor(entry: LedgerEntry | undefined, expected: { owner: string; jobArn: string; self: string }): string | undefined {
  if (!entry) return 'the job ledger has no entry for it';
  if (entry.owner !== expected.owner) return `the job ledger names another owner (${entry.owner})`;
  if (entry.jobArn !== expected.jobArn) return `the job ledger records another job under that name (${entry.jobArn ?? 'none yet'})`;
  if (entry.supervisor !== expected.self) return `the job ledger names another supervisor (${entry.supervisor})`;
  if (!entry.claimed) return 'this execution has not claimed the job yet';
  return undefined;
}

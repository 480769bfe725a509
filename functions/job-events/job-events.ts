/**
 * job-events: releases an execution that waits for its customization job (the `WaitForJobEvent`
 * state, a `lambda:invoke.waitForTaskToken` Task) once the job has ended.
 *
 * Two entry points, one table (JOB_WAITS_TABLE, key `pk` = the job ARN):
 * - {@link registerWait}: the waiting Task invokes this Lambda with its task token. A token (up to
 *   2048 characters, SFN's `TaskToken` shape) does not fit a Bedrock tag (≤ 256 characters), so it is
 *   stored in DynamoDB. Bedrock's event may have come BEFORE the token was stored: after storing it,
 *   the job is read once and, if it has already ended, released here.
 * - {@link onJobStateChange}: Bedrock's "Model Customization Job State Change" event (best effort,
 *   possibly duplicated, possibly for jobs that are not ours). The event is a hint; the job's status
 *   is read from the API (GetModelCustomizationJob) before anything is released.
 *
 * Ownership (the job ledger, shared/ledger.ts): a wait is registered only for the execution the ledger
 * names as the job's claimed supervisor, and stored with that execution's ARN; it replaces only an
 * expired wait or one of the same execution, never another execution's live one. A wait is
 * released only while the ledger still names the execution that registered it. So this function sends
 * SendTaskSuccess only for a token a supervisor registered, whatever token or job an event names.
 *
 * Releasing is "conditional DeleteItem on this token, then SendTaskSuccess": of two concurrent
 * releasers (the event and the register call, or a duplicate event) only the one whose delete went
 * through sends. SendTaskSuccess answering TaskTimedOut / InvalidToken / TaskDoesNotExist means the
 * wait already ended (timed out into the safety-net poll, or the execution stopped): nothing to do.
 * Any other SendTaskSuccess failure puts the item back (if no newer wait took its place) and is
 * thrown, so EventBridge's retry of the asynchronous invoke can release it again.
 */
import { GetModelCustomizationJobCommand, type BedrockClient } from '@aws-sdk/client-bedrock';
import { DeleteItemCommand, GetItemCommand, PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { jobOutsideHome } from '../shared/arn.js';
import { awsErrorCode, isTransientAwsError } from '../shared/aws-errors.js';
import { describeError, InvalidInputError } from '../shared/errors.js';
import { requireSupervisor, type Ledger } from '../shared/ledger.js';
import { log } from '../shared/log.js';

/** Job statuses after which a job never changes again. */
export const TERMINAL_STATUSES = ['Completed', 'Failed', 'Stopped'] as const;
/** The longest task token SendTaskSuccess accepts (SFN API, shape `TaskToken`: 1–2048). */
export const MAX_TASK_TOKEN_LENGTH = 2048;
/** How long an item outlives its wait's timeout before DynamoDB's TTL removes it. */
export const WAIT_TTL_MARGIN_SECONDS = 24 * 3600;

/** Attributes of the job-waits table: key (job ARN), task token, wait timeout (ISO), TTL (epoch s). */
export const WAIT_KEY = 'pk';
export const WAIT_TOKEN = 'taskToken';
export const WAIT_EXPIRES_AT = 'expiresAt';
export const WAIT_TTL = 'ttl';
/** The execution that registered the wait (its ARN), and the job's name (the ledger's key). */
export const WAIT_EXECUTION = 'executionArn';
export const WAIT_JOB_NAME = 'jobName';

/** SendTaskSuccess errors that mean the waiting task is gone (timed out, execution ended, bad token). */
const WAIT_ENDED_ERRORS = ['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist'];

export interface JobEventsConfig {
  /** The job-waits table (key `pk`). */
  table: string;
  /** This Lambda's account and region: jobs of any other are not ours. */
  home: { region: string; accountId: string };
}

export interface JobEventsDeps {
  dynamodb: Pick<DynamoDBClient, 'send'>;
  bedrock: Pick<BedrockClient, 'send'>;
  sfn: Pick<SFNClient, 'send'>;
  ledger: Ledger;
  now: () => Date;
}

/** The `register` payload of the `WaitForJobEvent` Task (without its `action`). */
export interface RegisterWaitInput {
  taskToken: string;
  jobArn: string;
  /** The job's name (the ledger's key). */
  jobName: string;
  /** The waiting execution (`$$.Execution.Id`) and its chain's first execution (the job's owner). */
  executionArn: string;
  owner: string;
  /** ISO time at which the wait times out (the Task's timeout). */
  expiresAt: string;
}

export interface RegisterWaitResult {
  registered: true;
  /** True when this call released the wait itself (the job had already ended). */
  released: boolean;
  /** The job's status when read after storing the token (absent when the read failed). */
  status?: string;
  /** Why the job could not be read or released here (the event or the safety-net poll settles it). */
  error?: string;
}

/** The fields of Bedrock's event this step reads (`detail` of "Model Customization Job State Change"). */
export interface JobStateChange {
  jobArn?: string;
  jobStatus?: string;
}

/** The output the waiting Task receives (SendTaskSuccess `output`). */
export interface WaitOutput {
  jobArn: string;
  status: string;
  source: 'register' | 'event';
}

export type JobStateChangeResult = { released: true; jobArn: string; status: string } | { ignored: string; jobArn?: string; status?: string };

type ReleaseOutcome = 'released' | 'already-released' | 'wait-ended';

const isTerminal = (status: unknown): status is string => TERMINAL_STATUSES.includes(status as (typeof TERMINAL_STATUSES)[number]);

/** Why `jobArn` is not a customization job of this account and region; undefined when it is. */
export function notOurJob(jobArn: unknown, home: JobEventsConfig['home']): string | undefined {
  const outside = jobOutsideHome(jobArn, home);
  if (outside?.kind === 'invalid') return 'not a model customization job ARN';
  return outside ? `a job of another account or region (${outside.accountId}/${outside.region})` : undefined;
}

/**
 * Releases the wait of `token`: deletes its item only if it still holds this token, then sends
 * SendTaskSuccess. On an unexpected SendTaskSuccess failure the item is put back and the error thrown.
 */
async function release(item: Record<string, AttributeValue>, status: string, source: WaitOutput['source'], config: JobEventsConfig, deps: JobEventsDeps): Promise<ReleaseOutcome> {
  const jobArn = item[WAIT_KEY]!.S!;
  const token = item[WAIT_TOKEN]!.S!;
  try {
    await deps.dynamodb.send(
      new DeleteItemCommand({
        TableName: config.table,
        Key: { [WAIT_KEY]: { S: jobArn } },
        ConditionExpression: '#token = :token',
        ExpressionAttributeNames: { '#token': WAIT_TOKEN },
        ExpressionAttributeValues: { ':token': { S: token } },
      }),
    );
  } catch (err) {
    // Another releaser deleted it first (or a newer wait replaced the token): not ours to send.
    if (awsErrorCode(err) === 'ConditionalCheckFailedException') return 'already-released';
    throw err;
  }
  const output: WaitOutput = { jobArn, status, source };
  try {
    await deps.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
    return 'released';
  } catch (err) {
    if (WAIT_ENDED_ERRORS.includes(awsErrorCode(err) ?? '')) return 'wait-ended';
    // Put the wait back so a retry can release it, unless a newer wait of the job took its place.
    try {
      await deps.dynamodb.send(
        new PutItemCommand({
          TableName: config.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#key)',
          ExpressionAttributeNames: { '#key': WAIT_KEY },
        }),
      );
    } catch (restoreErr) {
      log.warn('job-events: could not put the wait back after SendTaskSuccess failed', { jobArn, error: describeError(restoreErr) });
    }
    throw err;
  }
}

/**
 * The waiting Task registers its token for `jobArn` (overwriting an older wait of the same job, which
 * has timed out by construction), then releases it at once if the job has already ended.
 * A job of another account or region, or a malformed `expiresAt`, is an {@link InvalidInputError}.
 */
export async function registerWait(input: RegisterWaitInput, config: JobEventsConfig, deps: JobEventsDeps): Promise<RegisterWaitResult> {
  const foreign = notOurJob(input.jobArn, config.home);
  if (foreign) throw new InvalidInputError([{ field: 'jobArn', message: `must be a model customization job of ${config.home.accountId}/${config.home.region}: ${foreign}` }]);
  const expiresAtMs = Date.parse(input.expiresAt);
  if (Number.isNaN(expiresAtMs)) throw new InvalidInputError([{ field: 'expiresAt', message: 'must be an ISO 8601 time' }]);
  if (input.taskToken.length < 1 || input.taskToken.length > MAX_TASK_TOKEN_LENGTH) {
    throw new InvalidInputError([{ field: 'taskToken', message: `must be 1–${MAX_TASK_TOKEN_LENGTH} characters` }]);
  }

  await requireSupervisor(
    deps.ledger,
    input.jobName,
    { owner: input.owner, jobArn: input.jobArn, self: input.executionArn },
    (why) => `Not registering a wait of ${input.executionArn} for job ${input.jobArn}: ${why}.`,
  );

  const item: Record<string, AttributeValue> = {
    [WAIT_KEY]: { S: input.jobArn },
    [WAIT_TOKEN]: { S: input.taskToken },
    [WAIT_EXPIRES_AT]: { S: new Date(expiresAtMs).toISOString() },
    [WAIT_TTL]: { N: String(Math.floor(expiresAtMs / 1000) + WAIT_TTL_MARGIN_SECONDS) },
    [WAIT_EXECUTION]: { S: input.executionArn },
    [WAIT_JOB_NAME]: { S: input.jobName },
  };
  // Never over another execution's live wait: only a new one, one of this same execution (it waits in
  // one WaitForJobEvent at a time, so its earlier wait has ended), or an expired one.
  await deps.dynamodb.send(
    new PutItemCommand({
      TableName: config.table,
      Item: item,
      ConditionExpression: 'attribute_not_exists(#key) OR #execution = :execution OR #expiresAt <= :now',
      ExpressionAttributeNames: { '#key': WAIT_KEY, '#execution': WAIT_EXECUTION, '#expiresAt': WAIT_EXPIRES_AT },
      ExpressionAttributeValues: { ':execution': { S: input.executionArn }, ':now': { S: deps.now().toISOString() } },
    }),
  );

  // The job may have ended (and its event come and gone) before the token was stored.
  let status: string;
  try {
    const job = await deps.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: input.jobArn }));
    status = String(job.status);
  } catch (err) {
    if (!isTransientAwsError(err)) throw err;
    log.warn('job-events: job status unavailable after registering the wait; the event or the poll settles it', { jobArn: input.jobArn, error: describeError(err) });
    return { registered: true, released: false, error: describeError(err) };
  }
  if (!isTerminal(status)) return { registered: true, released: false, status };

  try {
    const outcome = await release(item, status, 'register', config, deps);
    return { registered: true, released: outcome === 'released', status };
  } catch (err) {
    if (!isTransientAwsError(err)) throw err;
    // The wait stays registered (release put it back): an event or the safety-net poll settles it.
    log.warn('job-events: could not release the wait of an ended job; the event or the poll settles it', { jobArn: input.jobArn, status, error: describeError(err) });
    return { registered: true, released: false, status, error: describeError(err) };
  }
}

/**
 * Bedrock's job-state event: releases the execution waiting for that job, if any, once the API
 * confirms the job has ended. Everything that is not for a waiting job of ours is ignored.
 */
export async function onJobStateChange(detail: JobStateChange, config: JobEventsConfig, deps: JobEventsDeps): Promise<JobStateChangeResult> {
  const foreign = notOurJob(detail.jobArn, config.home);
  if (foreign) return { ignored: `not our job: ${foreign}` };
  const jobArn = detail.jobArn!;

  const found = await deps.dynamodb.send(
    new GetItemCommand({ TableName: config.table, Key: { [WAIT_KEY]: { S: jobArn } }, ConsistentRead: true }),
  );
  const item = found.Item;
  if (!item?.[WAIT_TOKEN]?.S) return { ignored: 'no execution waits for this job', jobArn };
  // Released only for the execution that registered it, while the ledger names it the supervisor.
  const waiting = item[WAIT_EXECUTION]?.S;
  const entry = item[WAIT_JOB_NAME]?.S ? await deps.ledger.read(item[WAIT_JOB_NAME].S) : undefined;
  if (!waiting || !entry || entry.jobArn !== jobArn || entry.supervisor !== waiting || !entry.claimed) {
    return { ignored: 'the waiting execution is not the job\'s supervisor in the job ledger', jobArn };
  }

  // The event is a hint; the API is the truth (a late or reordered event must not end a wait early).
  const job = await deps.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
  const status = String(job.status);
  if (!isTerminal(status)) return { ignored: `the job is ${status}, not ended`, jobArn, status };

  const outcome = await release(item, status, 'event', config, deps);
  if (outcome === 'already-released') return { ignored: 'already released', jobArn, status };
  if (outcome === 'wait-ended') return { ignored: 'the wait already ended', jobArn, status };
  return { released: true, jobArn, status };
}

import { BedrockClient, GetModelCustomizationJobCommand, ResourceNotFoundException, ThrottlingException } from '@aws-sdk/client-bedrock';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { InvalidToken, SendTaskSuccessCommand, SFNClient, TaskDoesNotExist, TaskTimedOut } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_TASK_TOKEN_LENGTH,
  onJobStateChange,
  registerWait,
  WAIT_TTL_MARGIN_SECONDS,
  type JobEventsConfig,
  type JobEventsDeps,
  type RegisterWaitInput,
} from '../../functions/job-events/job-events.js';
import { executionArnOf } from '../../functions/shared/arn.js';
import { InvalidInputError, JobNotOursError } from '../../functions/shared/errors.js';
import type { Ledger } from '../../functions/shared/ledger.js';
import type { MemoryDynamoDB } from '../../local/dynamodb-memory.js';
import { asLambda, type TaskHandler } from '../../local/workflow.js';
import { fixtureEvent } from '../support/event-ruler.js';
import { emulatedLedger, LEDGER_TABLE, ledgerWith } from '../support/ledger.js';

const dynamodb = mockClient(DynamoDBClient);
const bedrock = mockClient(BedrockClient);
const sfn = mockClient(SFNClient);
afterEach(() => {
  dynamodb.reset();
  bedrock.reset();
  sfn.reset();
});

const TABLE = 'job-waits';
const config: JobEventsConfig = { table: TABLE, home: { region: 'us-east-1', accountId: '123456789012' } };
const NOW = new Date('2026-11-29T10:00:00.000Z');
/** A Step Functions task token is long and opaque (up to 2048 characters). */
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAA' + 'x'.repeat(900);
const EXPIRES_AT = '2026-11-30T10:00:00.000Z';

/** AWS's sample event (a fresh deep copy) with `detail` changed as given. */
function sampleEvent(detail: Record<string, unknown> = {}): Record<string, any> {
  const event = fixtureEvent('bedrock-model-customization-job-state-change');
  Object.assign(event.detail, detail);
  return event;
}
/** The sample's job (of the home account and region) and its name (the ledger's key). */
const JOB: string = sampleEvent().detail.jobArn;
const JOB_NAME: string = sampleEvent().detail.jobName;
const OTHER_JOB = JOB.replace('abcdefghwxyz', 'someoneelses');

const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:bedrock-vpc-customization-dev-customize-model';
/** The chain's first execution (the job's owner and first supervisor), a successor, another chain. */
const FIRST = executionArnOf(STATE_MACHINE, 'run-1');
const GEN1 = executionArnOf(STATE_MACHINE, 'run-1-0123456789ab-h1');
const OTHER_CHAIN = executionArnOf(STATE_MACHINE, 'someone-else');

let ledger: Ledger;
let db: MemoryDynamoDB;
let deps: JobEventsDeps;
/** Every test starts with the job submitted by FIRST (its supervisor), nothing waiting, no call recorded. */
beforeEach(async () => {
  ({ ledger, db } = emulatedLedger(dynamodb, () => NOW));
  deps = {
    dynamodb: dynamodb as unknown as DynamoDBClient,
    bedrock: bedrock as unknown as BedrockClient,
    sfn: sfn as unknown as SFNClient,
    ledger,
    now: () => NOW,
  };
  await ledgerWith(ledger, [{ jobName: JOB_NAME, owner: FIRST, jobArn: JOB }]);
  dynamodb.resetHistory();
});

/** FIRST hands the job over to GEN1 (designated; claimed unless `claimed` is false). */
async function handOver(claimed = true) {
  expect(await ledger.designate(JOB_NAME, FIRST, GEN1, 1)).toBe(true);
  if (claimed) expect(await ledger.claim(JOB_NAME, GEN1, FIRST, JOB)).toBe(true);
}

/** The register payload of FIRST's WaitForJobEvent, changed as given. */
const registration = (over: Partial<RegisterWaitInput> = {}): RegisterWaitInput => ({
  taskToken: TOKEN,
  jobArn: JOB,
  jobName: JOB_NAME,
  executionArn: FIRST,
  owner: FIRST,
  expiresAt: EXPIRES_AT,
  ...over,
});

/** The wait item registerWait stores. */
const waitItem = (token = TOKEN, executionArn = FIRST, expiresAt = EXPIRES_AT): Record<string, AttributeValue> => ({
  pk: { S: JOB },
  taskToken: { S: token },
  expiresAt: { S: expiresAt },
  ttl: { N: String(Date.parse(expiresAt) / 1000 + WAIT_TTL_MARGIN_SECONDS) },
  executionArn: { S: executionArn },
  jobName: { S: JOB_NAME },
});
/** The job-waits table's item for the job, as the store has it now. */
const storedWait = () => db.getItem({ TableName: TABLE, Key: { pk: { S: JOB } } }).Item;
/** A wait already in the job-waits table (the waits table, not the ledger). */
const waiting = (item = waitItem()) => db.putItem({ TableName: TABLE, Item: item }, ['pk']);

const jobStatus = (status: string) => bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn: JOB, status: status as never });
const sdkError = <T>(Cls: new (opts: { message: string; $metadata: object }) => T, message = 'simulated') => new Cls({ message, $metadata: {} });
const putsToWaits = () => dynamodb.commandCalls(PutItemCommand).filter((c) => c.args[0].input.TableName === TABLE);

describe('registerWait', () => {
  it("checks the ledger, then stores the token (pk = job ARN, expiresAt, TTL a day later, the execution and the job's name) and leaves it when the job runs", async () => {
    jobStatus('InProgress');
    const result = await registerWait(registration(), config, deps);
    expect(result).toEqual({ registered: true, released: false, status: 'InProgress' });
    expect(dynamodb).toHaveReceivedNthCommandWith(GetItemCommand, 1, { TableName: LEDGER_TABLE, Key: { pk: { S: JOB_NAME } }, ConsistentRead: true });
    expect(dynamodb).toHaveReceivedCommandWith(PutItemCommand, { TableName: TABLE, Item: waitItem() });
    // Never over another execution's live wait: only a new one, one of this same execution, or an expired one.
    expect(dynamodb).toHaveReceivedCommandWith(PutItemCommand, {
      ConditionExpression: 'attribute_not_exists(#key) OR #execution = :execution OR #expiresAt <= :now',
      ExpressionAttributeNames: { '#key': 'pk', '#execution': 'executionArn', '#expiresAt': 'expiresAt' },
      ExpressionAttributeValues: { ':execution': { S: FIRST }, ':now': { S: NOW.toISOString() } },
    });
    expect(storedWait()).toEqual(waitItem());
    expect(bedrock).toHaveReceivedCommandWith(GetModelCustomizationJobCommand, { jobIdentifier: JOB });
    expect(dynamodb).not.toHaveReceivedCommand(DeleteItemCommand);
    expect(sfn).not.toHaveReceivedAnyCommand();
    // The ledger is only read.
    expect(await ledger.read(JOB_NAME)).toMatchObject({ supervisor: FIRST, claimed: true });
  });

  it('stores the token THEN releases it when the job already ended (its event came before the token)', async () => {
    const order: string[] = [];
    dynamodb.on(GetItemCommand).callsFake((input) => (order.push(`GetItem ${input.TableName}`), db.getItem(input)));
    dynamodb.on(PutItemCommand).callsFake((input) => (order.push(`PutItem ${input.TableName}`), db.putItem(input, ['pk'])));
    dynamodb.on(DeleteItemCommand).callsFake((input) => (order.push(`DeleteItem ${input.TableName}`), db.deleteItem(input)));
    sfn.on(SendTaskSuccessCommand).callsFake(() => (order.push('SendTaskSuccess'), {}));
    bedrock.on(GetModelCustomizationJobCommand).callsFake(() => (order.push('GetModelCustomizationJob'), { jobArn: JOB, status: 'Completed' }));
    const result = await registerWait(registration({ expiresAt: '2026-11-30T11:00:00+01:00' }), config, deps);
    expect(result).toEqual({ registered: true, released: true, status: 'Completed' });
    expect(order).toEqual([`GetItem ${LEDGER_TABLE}`, `PutItem ${TABLE}`, 'GetModelCustomizationJob', `DeleteItem ${TABLE}`, 'SendTaskSuccess']);
    // The ISO time is normalised to UTC.
    expect(dynamodb).toHaveReceivedCommandWith(PutItemCommand, { Item: expect.objectContaining({ expiresAt: { S: EXPIRES_AT } }) });
    expect(dynamodb).toHaveReceivedCommandWith(DeleteItemCommand, {
      TableName: TABLE,
      Key: { pk: { S: JOB } },
      ConditionExpression: '#token = :token',
      ExpressionAttributeNames: { '#token': 'taskToken' },
      ExpressionAttributeValues: { ':token': { S: TOKEN } },
    });
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: TOKEN,
      output: JSON.stringify({ jobArn: JOB, status: 'Completed', source: 'register' }),
    });
    expect(storedWait()).toBeUndefined();
  });

  it.each(['Failed', 'Stopped'])('releases a %s job too', async (status) => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    jobStatus(status);
    expect(await registerWait(registration(), config, deps)).toEqual({ registered: true, released: true, status });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
  });

  it('registers the wait of a successor that claimed the job, under its own ARN', async () => {
    await handOver();
    jobStatus('InProgress');
    expect(await registerWait(registration({ executionArn: GEN1 }), config, deps)).toMatchObject({ registered: true, released: false });
    expect(storedWait()).toEqual(waitItem(TOKEN, GEN1));
  });

  describe('refuses a wait of an execution the ledger does not name as the claimed supervisor: JobNotOursError, nothing stored', () => {
    it.each<[string, () => Promise<unknown>, Partial<RegisterWaitInput>]>([
      ['no ledger entry for that name', async () => undefined, { jobName: 'not-in-the-ledger' }],
      ['another owner (chain) given', async () => undefined, { owner: OTHER_CHAIN }],
      ['another chain, as its own owner', async () => undefined, { owner: OTHER_CHAIN, executionArn: OTHER_CHAIN }],
      ['another job ARN than the ledger records under that name', async () => undefined, { jobArn: OTHER_JOB }],
      ['an execution that is not the supervisor', async () => undefined, { executionArn: GEN1 }],
      ['a designated successor that has not claimed the job yet', () => handOver(false), { executionArn: GEN1 }],
      ['the predecessor, once it designated a successor', () => handOver(false), {}],
      ['the predecessor, once the successor claimed the job', () => handOver(), {}],
      ['the supervisor the reaper took the job from', () => ledger.reap(JOB_NAME, FIRST), {}],
    ])('%s', async (_label, setup, over) => {
      await setup();
      dynamodb.resetHistory();
      jobStatus('Completed');
      const err = await registerWait(registration(over), config, deps).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JobNotOursError);
      expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
      expect(storedWait()).toBeUndefined();
      expect(bedrock).not.toHaveReceivedAnyCommand();
      expect(sfn).not.toHaveReceivedAnyCommand();
    });
  });

  it("does not overwrite another execution's live wait of the job", async () => {
    waiting(waitItem('AQ-live-token', GEN1));
    jobStatus('Completed');
    await expect(registerWait(registration(), config, deps)).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(storedWait()).toEqual(waitItem('AQ-live-token', GEN1));
    // Not released either: the other wait's token is not this caller's to send.
    expect(bedrock).not.toHaveReceivedAnyCommand();
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it.each([
    ['expired before now', '2026-11-29T09:00:00.000Z'],
    ['expiring now', NOW.toISOString()],
  ])('overwrites a wait %s (its task timed out into the safety-net check)', async (_label, expiresAt) => {
    await handOver();
    waiting(waitItem('AQ-old-token', FIRST, expiresAt));
    jobStatus('InProgress');
    expect(await registerWait(registration({ executionArn: GEN1 }), config, deps)).toMatchObject({ registered: true, released: false });
    expect(storedWait()).toEqual(waitItem(TOKEN, GEN1));
  });

  it("this execution's own earlier wait (its task ended; or a retried register) is replaced", async () => {
    waiting(waitItem('AQ-its-previous-token'));
    jobStatus('InProgress');
    expect(await registerWait(registration(), config, deps)).toEqual({ registered: true, released: false, status: 'InProgress' });
    expect(storedWait()).toEqual(waitItem());
  });

  it('the same token again (a retried register) is fine', async () => {
    jobStatus('InProgress');
    await registerWait(registration(), config, deps);
    expect(await registerWait(registration(), config, deps)).toEqual({ registered: true, released: false, status: 'InProgress' });
    expect(putsToWaits()).toHaveLength(2);
    expect(storedWait()).toEqual(waitItem());
  });

  it('does not send when the event released the stored token between the read and the delete', async () => {
    dynamodb.on(DeleteItemCommand).rejects(sdkError(ConditionalCheckFailedException));
    jobStatus('Stopped');
    const result = await registerWait(registration(), config, deps);
    expect(result).toEqual({ registered: true, released: false, status: 'Stopped' });
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('keeps the task going when the job cannot be read after storing the token (transient)', async () => {
    bedrock.on(GetModelCustomizationJobCommand).rejects(sdkError(ThrottlingException, 'Rate exceeded'));
    const result = await registerWait(registration(), config, deps);
    expect(result).toMatchObject({ registered: true, released: false });
    expect(result.error).toContain('Rate exceeded');
    expect(putsToWaits()).toHaveLength(1);
    expect(storedWait()).toEqual(waitItem());
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('fails on a job read error retrying cannot fix (the job does not exist)', async () => {
    bedrock.on(GetModelCustomizationJobCommand).rejects(sdkError(ResourceNotFoundException));
    await expect(registerWait(registration(), config, deps)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('fails when the ledger cannot be read, having stored nothing', async () => {
    dynamodb.on(GetItemCommand).rejects(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException', $metadata: {} }));
    await expect(registerWait(registration(), config, deps)).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
  });

  it('puts the wait back and keeps the task going when SendTaskSuccess fails transiently', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} }));
    jobStatus('Completed');
    const result = await registerWait(registration(), config, deps);
    expect(result).toMatchObject({ registered: true, released: false, status: 'Completed' });
    // The first put stores it, the second puts it back only if no newer wait took its place.
    expect(putsToWaits()).toHaveLength(2);
    expect(dynamodb).toHaveReceivedNthCommandWith(PutItemCommand, 2, { ConditionExpression: 'attribute_not_exists(#key)', Item: expect.objectContaining({ taskToken: { S: TOKEN } }) });
    expect(storedWait()).toEqual(waitItem());
  });

  it.each([
    ['another account', JOB.replace('123456789012', '999999999999')],
    ['another region', JOB.replace('us-east-1', 'eu-west-1')],
    ['not a job ARN', 'arn:aws:bedrock:us-east-1:123456789012:custom-model/abc'],
  ])('refuses a job of %s with InvalidInputError, before any call', async (_label, jobArn) => {
    await expect(registerWait(registration({ jobArn }), config, deps)).rejects.toBeInstanceOf(InvalidInputError);
    expect(dynamodb).not.toHaveReceivedAnyCommand();
    expect(bedrock).not.toHaveReceivedAnyCommand();
  });

  it('refuses a malformed expiresAt or an over-long token, before any call', async () => {
    await expect(registerWait(registration({ expiresAt: 'tomorrow' }), config, deps)).rejects.toMatchObject({
      name: 'InvalidInputError',
      issues: [{ field: 'expiresAt', message: expect.any(String) }],
    });
    await expect(registerWait(registration({ taskToken: 'x'.repeat(MAX_TASK_TOKEN_LENGTH + 1) }), config, deps)).rejects.toMatchObject({
      name: 'InvalidInputError',
      issues: [{ field: 'taskToken', message: expect.any(String) }],
    });
    expect(dynamodb).not.toHaveReceivedAnyCommand();
  });
});

describe('onJobStateChange', () => {
  const detail = (over: Record<string, unknown> = {}) => sampleEvent(over).detail as { jobArn: string; jobStatus: string };

  it("releases the supervisor's wait of an ended job: ledger check, conditional delete, then SendTaskSuccess", async () => {
    // Registered while the job ran; the job ends, its event comes.
    jobStatus('InProgress');
    await registerWait(registration(), config, deps);
    dynamodb.resetHistory();
    bedrock.resetHistory();
    sfn.on(SendTaskSuccessCommand).resolves({});
    jobStatus('Failed');
    const result = await onJobStateChange(detail({ jobStatus: 'Failed' }), config, deps);
    expect(result).toEqual({ released: true, jobArn: JOB, status: 'Failed' });
    expect(dynamodb).toHaveReceivedCommandWith(GetItemCommand, { TableName: TABLE, Key: { pk: { S: JOB } }, ConsistentRead: true });
    expect(dynamodb).toHaveReceivedCommandWith(GetItemCommand, { TableName: LEDGER_TABLE, Key: { pk: { S: JOB_NAME } }, ConsistentRead: true });
    expect(dynamodb).toHaveReceivedCommandWith(DeleteItemCommand, {
      TableName: TABLE,
      Key: { pk: { S: JOB } },
      ConditionExpression: '#token = :token',
      ExpressionAttributeValues: { ':token': { S: TOKEN } },
    });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: TOKEN,
      output: JSON.stringify({ jobArn: JOB, status: 'Failed', source: 'event' }),
    });
    expect(storedWait()).toBeUndefined();
  });

  it("releases a successor's wait while the ledger names it", async () => {
    await handOver();
    waiting(waitItem(TOKEN, GEN1));
    sfn.on(SendTaskSuccessCommand).resolves({});
    jobStatus('Completed');
    expect(await onJobStateChange(detail({ jobStatus: 'Completed' }), config, deps)).toEqual({ released: true, jobArn: JOB, status: 'Completed' });
  });

  describe('refuses to release a wait the ledger no longer backs: no delete, no SendTaskSuccess', () => {
    it.each<[string, () => Promise<unknown>, Record<string, AttributeValue>]>([
      ['the registering execution designated a successor', () => handOver(false), waitItem()],
      ['a successor claimed the job', () => handOver(), waitItem()],
      ['the reaper took the job over', () => ledger.reap(JOB_NAME, FIRST), waitItem()],
      ['the wait names another execution than the supervisor', async () => undefined, waitItem(TOKEN, OTHER_CHAIN)],
      ['the wait names no execution (stored before the ledger)', async () => undefined, (({ executionArn: _e, ...rest }) => rest)(waitItem())],
      ['the wait names no job name', async () => undefined, (({ jobName: _n, ...rest }) => rest)(waitItem())],
      ['the wait names a job the ledger records under another ARN', () => ledgerWith(ledger, [{ jobName: 'other-job', owner: FIRST, jobArn: OTHER_JOB }]), { ...waitItem(), jobName: { S: 'other-job' } }],
    ])('%s', async (_label, setup, item) => {
      await setup();
      waiting(item);
      sfn.on(SendTaskSuccessCommand).resolves({});
      jobStatus('Completed');
      const result = await onJobStateChange(detail({ jobStatus: 'Completed' }), config, deps);
      expect(result).toEqual({ ignored: "the waiting execution is not the job's supervisor in the job ledger", jobArn: JOB });
      expect(dynamodb).not.toHaveReceivedCommand(DeleteItemCommand);
      expect(sfn).not.toHaveReceivedAnyCommand();
      expect(storedWait()).toEqual(item);
    });
  });

  it('ignores a duplicate event: no item (already released, or not ours)', async () => {
    const result = await onJobStateChange(detail({ jobStatus: 'Completed' }), config, deps);
    expect(result).toEqual({ ignored: 'no execution waits for this job', jobArn: JOB });
    expect(bedrock).not.toHaveReceivedAnyCommand();
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('ignores a duplicate event racing the first: the conditional delete fails', async () => {
    waiting();
    dynamodb.on(DeleteItemCommand).rejects(sdkError(ConditionalCheckFailedException, 'The conditional request failed'));
    jobStatus('Completed');
    const result = await onJobStateChange(detail({ jobStatus: 'Completed' }), config, deps);
    expect(result).toEqual({ ignored: 'already released', jobArn: JOB, status: 'Completed' });
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('two deliveries of the event: one release', async () => {
    waiting();
    sfn.on(SendTaskSuccessCommand).resolves({});
    jobStatus('Completed');
    const results = await Promise.all([onJobStateChange(detail(), config, deps), onJobStateChange(detail(), config, deps)]);
    expect(results.filter((r) => 'released' in r)).toHaveLength(1);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
  });

  it.each([
    ['another account', JOB.replace('123456789012', '999999999999')],
    ['another region', JOB.replace('us-east-1', 'eu-west-1')],
    ['not a job ARN', 'arn:aws:bedrock:us-east-1:123456789012:custom-model/abc'],
    ['no ARN at all', undefined],
  ])('ignores a job of %s without a single call', async (_label, jobArn) => {
    const result = await onJobStateChange(detail({ jobArn }), config, deps);
    expect(result).toMatchObject({ ignored: expect.stringMatching(/^not our job/) });
    expect(dynamodb).not.toHaveReceivedAnyCommand();
    expect(bedrock).not.toHaveReceivedAnyCommand();
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('ignores a non-terminal status (event InProgress, API InProgress)', async () => {
    waiting();
    jobStatus('InProgress');
    const result = await onJobStateChange(detail({ jobStatus: 'InProgress' }), config, deps);
    expect(result).toEqual({ ignored: 'the job is InProgress, not ended', jobArn: JOB, status: 'InProgress' });
    expect(dynamodb).not.toHaveReceivedCommand(DeleteItemCommand);
    expect(sfn).not.toHaveReceivedAnyCommand();
    expect(storedWait()).toEqual(waitItem());
  });

  it('believes the API over the event: event Completed, API InProgress → ignored', async () => {
    waiting();
    jobStatus('InProgress');
    const result = await onJobStateChange(detail({ jobStatus: 'Completed' }), config, deps);
    expect(result).toMatchObject({ ignored: expect.stringContaining('InProgress'), status: 'InProgress' });
    expect(dynamodb).not.toHaveReceivedCommand(DeleteItemCommand);
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it.each([
    ['TaskTimedOut', () => sdkError(TaskTimedOut)],
    ['InvalidToken', () => sdkError(InvalidToken)],
    ['TaskDoesNotExist', () => sdkError(TaskDoesNotExist)],
  ])('ignores SendTaskSuccess %s: the wait already ended', async (_name, error) => {
    waiting();
    sfn.on(SendTaskSuccessCommand).rejects(error());
    jobStatus('Completed');
    const result = await onJobStateChange(detail({ jobStatus: 'Completed' }), config, deps);
    expect(result).toEqual({ ignored: 'the wait already ended', jobArn: JOB, status: 'Completed' });
    // Nothing put back: the token is dead.
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
    expect(storedWait()).toBeUndefined();
  });

  it('rethrows any other SendTaskSuccess error after putting the wait back (EventBridge retries)', async () => {
    waiting();
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailableException', $metadata: { httpStatusCode: 503 } }));
    jobStatus('Completed');
    await expect(onJobStateChange(detail({ jobStatus: 'Completed' }), config, deps)).rejects.toMatchObject({ name: 'ServiceUnavailableException' });
    expect(dynamodb).toHaveReceivedCommandWith(PutItemCommand, { TableName: TABLE, Item: waitItem(), ConditionExpression: 'attribute_not_exists(#key)' });
    expect(storedWait()).toEqual(waitItem());
  });

  it('rethrows when the wait cannot be put back either (the original error, not the put error)', async () => {
    waiting();
    dynamodb.on(PutItemCommand).rejects(sdkError(ConditionalCheckFailedException));
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('boom'), { name: 'InternalFailure', $metadata: { httpStatusCode: 500 } }));
    jobStatus('Completed');
    await expect(onJobStateChange(detail({ jobStatus: 'Completed' }), config, deps)).rejects.toMatchObject({ name: 'InternalFailure' });
  });

  it('rethrows a DynamoDB or Bedrock failure (EventBridge retries the event)', async () => {
    waiting();
    dynamodb.on(GetItemCommand).rejects(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException', $metadata: {} }));
    await expect(onJobStateChange(detail(), config, deps)).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    dynamodb.on(GetItemCommand).callsFake((input) => db.getItem(input));
    bedrock.on(GetModelCustomizationJobCommand).rejects(sdkError(ThrottlingException));
    await expect(onJobStateChange(detail(), config, deps)).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(sfn).not.toHaveReceivedAnyCommand();
    expect(storedWait()).toEqual(waitItem());
  });
});

describe('job-events handler', () => {
  let handler: TaskHandler;
  beforeAll(async () => {
    process.env.JOB_WAITS_TABLE = TABLE;
    process.env.JOB_EVENTS_ACCOUNT_ID = '123456789012';
    process.env.AWS_REGION = 'us-east-1';
    const mod = await import('../../functions/job-events/handler.js');
    handler = asLambda('job-events', mod.handler as never);
  });
  /** The WaitForJobEvent payload, as the ASL builds it. */
  const payload = (over: Record<string, unknown> = {}) => ({ action: 'register', taskToken: TOKEN, jobArn: JOB, jobName: JOB_NAME, executionArn: FIRST, owner: FIRST, ...over });

  it("releases the waiting execution on AWS's sample event (a deep copy)", async () => {
    jobStatus('InProgress');
    await handler(payload({ expiresAt: EXPIRES_AT }));
    sfn.on(SendTaskSuccessCommand).resolves({});
    jobStatus('Failed');
    expect(await handler(sampleEvent())).toEqual({ released: true, jobArn: JOB, status: 'Failed' });
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { output: JSON.stringify({ jobArn: JOB, status: 'Failed', source: 'event' }) });
  });

  it('ignores the sample event for a job of another account', async () => {
    const event = sampleEvent({ jobArn: JOB.replace('123456789012', '210987654321') });
    expect(await handler(event)).toMatchObject({ ignored: expect.stringContaining('another account') });
    expect(dynamodb).not.toHaveReceivedAnyCommand();
  });

  it("registers the wait of the WaitForJobEvent payload, checked against the stack's ledger (JOB_LEDGER_TABLE)", async () => {
    jobStatus('InProgress');
    expect(await handler(payload({ expiresAt: EXPIRES_AT }))).toEqual({ registered: true, released: false, status: 'InProgress' });
    expect(dynamodb).toHaveReceivedCommandWith(GetItemCommand, { TableName: LEDGER_TABLE, Key: { pk: { S: JOB_NAME } } });
    expect(dynamodb).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: TABLE,
      Item: expect.objectContaining({ pk: { S: JOB }, taskToken: { S: TOKEN }, executionArn: { S: FIRST }, jobName: { S: JOB_NAME } }),
    });
  });

  it('refuses the payload of an execution that is not the supervisor (JobNotOursError, nothing stored)', async () => {
    jobStatus('Completed');
    await expect(handler(payload({ expiresAt: EXPIRES_AT, executionArn: OTHER_CHAIN }))).rejects.toMatchObject({ name: 'JobNotOursError' });
    await expect(handler(payload({ expiresAt: EXPIRES_AT, owner: OTHER_CHAIN }))).rejects.toMatchObject({ name: 'JobNotOursError' });
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it("registers the ASL's payload: the wait's end from waitSeconds (the Task's TimeoutSecondsPath), as an ISO time", async () => {
    jobStatus('InProgress');
    const before = Date.now();
    expect(await handler(payload({ waitSeconds: 43_200 }))).toEqual({ registered: true, released: false, status: 'InProgress' });
    const item = putsToWaits()[0]!.args[0].input.Item!;
    const expires = Date.parse(item.expiresAt!.S!);
    expect(expires).toBeGreaterThanOrEqual(before + 43_200_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 43_200_000);
    // exactly one of the two
    await expect(handler(payload({ waitSeconds: 60, expiresAt: EXPIRES_AT }))).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect(handler(payload())).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect(handler(payload({ waitSeconds: 0 }))).rejects.toMatchObject({ name: 'InvalidInputError' });
  });

  it('fails a malformed register payload or an unknown event with InvalidInputError', async () => {
    await expect(handler(payload({ taskToken: '', expiresAt: EXPIRES_AT }))).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect(handler(payload({ expiresAt: 'soon' }))).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect(handler(payload({ action: 'deregister', expiresAt: EXPIRES_AT }))).rejects.toMatchObject({ name: 'InvalidInputError' });
    // The ledger's key, the waiting execution and the chain's owner are required.
    for (const field of ['jobName', 'executionArn', 'owner']) {
      await expect(handler(payload({ expiresAt: EXPIRES_AT, [field]: undefined }))).rejects.toMatchObject({ name: 'InvalidInputError' });
      await expect(handler(payload({ expiresAt: EXPIRES_AT, [field]: '' }))).rejects.toMatchObject({ name: 'InvalidInputError' });
    }
    await expect(handler({ ...sampleEvent(), source: 'aws.s3' })).rejects.toMatchObject({ name: 'InvalidInputError' });
    expect(dynamodb).not.toHaveReceivedAnyCommand();
  });

  it('refuses a register payload for a job of another region (InvalidInputError, nothing stored)', async () => {
    await expect(handler(payload({ jobArn: JOB.replace('us-east-1', 'us-west-2'), expiresAt: EXPIRES_AT }))).rejects.toMatchObject({ name: 'InvalidInputError' });
    expect(dynamodb).not.toHaveReceivedAnyCommand();
  });
});

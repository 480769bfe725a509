import { BedrockClient, GetModelCustomizationJobCommand, ResourceNotFoundException, ThrottlingException } from '@aws-sdk/client-bedrock';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { InvalidToken, SendTaskSuccessCommand, SFNClient, TaskDoesNotExist, TaskTimedOut } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_TASK_TOKEN_LENGTH,
  onJobStateChange,
  registerWait,
  WAIT_TTL_MARGIN_SECONDS,
  type JobEventsConfig,
} from '../../functions/job-events/job-events.js';
import { InvalidInputError } from '../../functions/shared/errors.js';
import { asLambda, type TaskHandler } from '../../scripts/lib/workflow.js';
import { fixtureEvent } from '../support/event-ruler.js';

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
const deps = {
  dynamodb: dynamodb as unknown as DynamoDBClient,
  bedrock: bedrock as unknown as BedrockClient,
  sfn: sfn as unknown as SFNClient,
  now: () => NOW,
};
/** A Step Functions task token is long and opaque (up to 2048 characters). */
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAA' + 'x'.repeat(900);
const EXPIRES_AT = '2026-11-30T10:00:00.000Z';

/** AWS's sample event (a fresh deep copy) with `detail` changed as given. */
function sampleEvent(detail: Record<string, unknown> = {}): Record<string, any> {
  const event = fixtureEvent('bedrock-model-customization-job-state-change');
  Object.assign(event.detail, detail);
  return event;
}
/** The sample's job (of the home account and region). */
const JOB: string = sampleEvent().detail.jobArn;

const waitItem = (token = TOKEN) => ({ pk: { S: JOB }, taskToken: { S: token }, expiresAt: { S: EXPIRES_AT }, ttl: { N: '1796119200' } });
const jobStatus = (status: string) => bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn: JOB, status: status as never });
const sdkError = <T>(Cls: new (opts: { message: string; $metadata: object }) => T, message = 'simulated') => new Cls({ message, $metadata: {} });

describe('registerWait', () => {
  it('stores the token (pk = job ARN, expiresAt, TTL a day later) and leaves it when the job runs', async () => {
    dynamodb.on(PutItemCommand).resolves({});
    jobStatus('InProgress');
    const result = await registerWait({ taskToken: TOKEN, jobArn: JOB, expiresAt: EXPIRES_AT }, config, deps);
    expect(result).toEqual({ registered: true, released: false, status: 'InProgress' });
    const ttl = Date.parse(EXPIRES_AT) / 1000 + WAIT_TTL_MARGIN_SECONDS;
    expect(dynamodb).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: TABLE,
      Item: { pk: { S: JOB }, taskToken: { S: TOKEN }, expiresAt: { S: EXPIRES_AT }, ttl: { N: String(ttl) } },
    });
    // An unconditional put: a newer wait of the same job replaces the older (timed out) token.
    expect(dynamodb.commandCalls(PutItemCommand)[0]!.args[0].input.ConditionExpression).toBeUndefined();
    expect(bedrock).toHaveReceivedCommandWith(GetModelCustomizationJobCommand, { jobIdentifier: JOB });
    expect(dynamodb).not.toHaveReceivedCommand(DeleteItemCommand);
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('stores the token THEN releases it when the job already ended (its event came before the token)', async () => {
    const order: string[] = [];
    dynamodb.on(PutItemCommand).callsFake(() => (order.push('PutItem'), {}));
    dynamodb.on(DeleteItemCommand).callsFake(() => (order.push('DeleteItem'), {}));
    sfn.on(SendTaskSuccessCommand).callsFake(() => (order.push('SendTaskSuccess'), {}));
    bedrock.on(GetModelCustomizationJobCommand).callsFake(() => (order.push('GetModelCustomizationJob'), { jobArn: JOB, status: 'Completed' }));
    const result = await registerWait({ taskToken: TOKEN, jobArn: JOB, expiresAt: '2026-11-30T11:00:00+01:00' }, config, deps);
    expect(result).toEqual({ registered: true, released: true, status: 'Completed' });
    expect(order).toEqual(['PutItem', 'GetModelCustomizationJob', 'DeleteItem', 'SendTaskSuccess']);
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
  });

  it.each(['Failed', 'Stopped'])('releases a %s job too', async (status) => {
    dynamodb.on(PutItemCommand).resolves({}).on(DeleteItemCommand).resolves({});
    sfn.on(SendTaskSuccessCommand).resolves({});
    jobStatus(status);
    expect(await registerWait({ taskToken: TOKEN, jobArn: JOB, expiresAt: EXPIRES_AT }, config, deps)).toEqual({ registered: true, released: true, status });
  });

  it('does not send when the event released the stored token between the read and the delete', async () => {
    dynamodb.on(PutItemCommand).resolves({});
    dynamodb.on(DeleteItemCommand).rejects(sdkError(ConditionalCheckFailedException));
    jobStatus('Stopped');
    const result = await registerWait({ taskToken: TOKEN, jobArn: JOB, expiresAt: EXPIRES_AT }, config, deps);
    expect(result).toEqual({ registered: true, released: false, status: 'Stopped' });
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('keeps the task going when the job cannot be read after storing the token (transient)', async () => {
    dynamodb.on(PutItemCommand).resolves({});
    bedrock.on(GetModelCustomizationJobCommand).rejects(sdkError(ThrottlingException, 'Rate exceeded'));
    const result = await registerWait({ taskToken: TOKEN, jobArn: JOB, expiresAt: EXPIRES_AT }, config, deps);
    expect(result).toMatchObject({ registered: true, released: false });
    expect(result.error).toContain('Rate exceeded');
    expect(dynamodb).toHaveReceivedCommandTimes(PutItemCommand, 1);
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('fails on a job read error retrying cannot fix (the job does not exist)', async () => {
    dynamodb.on(PutItemCommand).resolves({});
    bedrock.on(GetModelCustomizationJobCommand).rejects(sdkError(ResourceNotFoundException));
    await expect(registerWait({ taskToken: TOKEN, jobArn: JOB, expiresAt: EXPIRES_AT }, config, deps)).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('puts the wait back and keeps the task going when SendTaskSuccess fails transiently', async () => {
    dynamodb.on(PutItemCommand).resolves({}).on(DeleteItemCommand).resolves({});
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} }));
    jobStatus('Completed');
    const result = await registerWait({ taskToken: TOKEN, jobArn: JOB, expiresAt: EXPIRES_AT }, config, deps);
    expect(result).toMatchObject({ registered: true, released: false, status: 'Completed' });
    // The first put stores it, the second puts it back only if no newer wait took its place.
    expect(dynamodb).toHaveReceivedCommandTimes(PutItemCommand, 2);
    expect(dynamodb).toHaveReceivedNthCommandWith(PutItemCommand, 2, { ConditionExpression: 'attribute_not_exists(#key)', Item: expect.objectContaining({ taskToken: { S: TOKEN } }) });
  });

  it.each([
    ['another account', JOB.replace('123456789012', '999999999999')],
    ['another region', JOB.replace('us-east-1', 'eu-west-1')],
    ['not a job ARN', 'arn:aws:bedrock:us-east-1:123456789012:custom-model/abc'],
  ])('refuses a job of %s with InvalidInputError, before any call', async (_label, jobArn) => {
    await expect(registerWait({ taskToken: TOKEN, jobArn, expiresAt: EXPIRES_AT }, config, deps)).rejects.toBeInstanceOf(InvalidInputError);
    expect(dynamodb).not.toHaveReceivedAnyCommand();
    expect(bedrock).not.toHaveReceivedAnyCommand();
  });

  it('refuses a malformed expiresAt or an over-long token', async () => {
    await expect(registerWait({ taskToken: TOKEN, jobArn: JOB, expiresAt: 'tomorrow' }, config, deps)).rejects.toMatchObject({
      name: 'InvalidInputError',
      issues: [{ field: 'expiresAt', message: expect.any(String) }],
    });
    await expect(
      registerWait({ taskToken: 'x'.repeat(MAX_TASK_TOKEN_LENGTH + 1), jobArn: JOB, expiresAt: EXPIRES_AT }, config, deps),
    ).rejects.toMatchObject({ name: 'InvalidInputError', issues: [{ field: 'taskToken', message: expect.any(String) }] });
    expect(dynamodb).not.toHaveReceivedAnyCommand();
  });
});

describe('onJobStateChange', () => {
  const detail = (over: Record<string, unknown> = {}) => sampleEvent(over).detail as { jobArn: string; jobStatus: string };

  it('releases the waiting execution of an ended job: conditional delete, then SendTaskSuccess', async () => {
    dynamodb.on(GetItemCommand).resolves({ Item: waitItem() });
    dynamodb.on(DeleteItemCommand).resolves({});
    sfn.on(SendTaskSuccessCommand).resolves({});
    jobStatus('Failed');
    const result = await onJobStateChange(detail({ jobStatus: 'Failed' }), config, deps);
    expect(result).toEqual({ released: true, jobArn: JOB, status: 'Failed' });
    expect(dynamodb).toHaveReceivedCommandWith(GetItemCommand, { TableName: TABLE, Key: { pk: { S: JOB } }, ConsistentRead: true });
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
  });

  it('ignores a duplicate event: no item (already released, or not ours)', async () => {
    dynamodb.on(GetItemCommand).resolves({});
    const result = await onJobStateChange(detail({ jobStatus: 'Completed' }), config, deps);
    expect(result).toEqual({ ignored: 'no execution waits for this job', jobArn: JOB });
    expect(bedrock).not.toHaveReceivedAnyCommand();
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('ignores a duplicate event racing the first: the conditional delete fails', async () => {
    dynamodb.on(GetItemCommand).resolves({ Item: waitItem() });
    dynamodb.on(DeleteItemCommand).rejects(sdkError(ConditionalCheckFailedException, 'The conditional request failed'));
    jobStatus('Completed');
    const result = await onJobStateChange(detail({ jobStatus: 'Completed' }), config, deps);
    expect(result).toEqual({ ignored: 'already released', jobArn: JOB, status: 'Completed' });
    expect(sfn).not.toHaveReceivedAnyCommand();
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
    dynamodb.on(GetItemCommand).resolves({ Item: waitItem() });
    jobStatus('InProgress');
    const result = await onJobStateChange(detail({ jobStatus: 'InProgress' }), config, deps);
    expect(result).toEqual({ ignored: 'the job is InProgress, not ended', jobArn: JOB, status: 'InProgress' });
    expect(dynamodb).not.toHaveReceivedCommand(DeleteItemCommand);
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('believes the API over the event: event Completed, API InProgress → ignored', async () => {
    dynamodb.on(GetItemCommand).resolves({ Item: waitItem() });
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
    dynamodb.on(GetItemCommand).resolves({ Item: waitItem() });
    dynamodb.on(DeleteItemCommand).resolves({});
    sfn.on(SendTaskSuccessCommand).rejects(error());
    jobStatus('Completed');
    const result = await onJobStateChange(detail({ jobStatus: 'Completed' }), config, deps);
    expect(result).toEqual({ ignored: 'the wait already ended', jobArn: JOB, status: 'Completed' });
    // Nothing put back: the token is dead.
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
  });

  it('rethrows any other SendTaskSuccess error after putting the wait back (EventBridge retries)', async () => {
    dynamodb.on(GetItemCommand).resolves({ Item: waitItem() });
    dynamodb.on(DeleteItemCommand).resolves({});
    dynamodb.on(PutItemCommand).resolves({});
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailableException', $metadata: { httpStatusCode: 503 } }));
    jobStatus('Completed');
    await expect(onJobStateChange(detail({ jobStatus: 'Completed' }), config, deps)).rejects.toMatchObject({ name: 'ServiceUnavailableException' });
    expect(dynamodb).toHaveReceivedCommandWith(PutItemCommand, { TableName: TABLE, Item: waitItem(), ConditionExpression: 'attribute_not_exists(#key)' });
  });

  it('rethrows when the wait cannot be put back either (the original error, not the put error)', async () => {
    dynamodb.on(GetItemCommand).resolves({ Item: waitItem() });
    dynamodb.on(DeleteItemCommand).resolves({});
    dynamodb.on(PutItemCommand).rejects(sdkError(ConditionalCheckFailedException));
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('boom'), { name: 'InternalFailure', $metadata: { httpStatusCode: 500 } }));
    jobStatus('Completed');
    await expect(onJobStateChange(detail({ jobStatus: 'Completed' }), config, deps)).rejects.toMatchObject({ name: 'InternalFailure' });
  });

  it('rethrows a DynamoDB or Bedrock failure (EventBridge retries the event)', async () => {
    dynamodb.on(GetItemCommand).rejects(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException', $metadata: {} }));
    await expect(onJobStateChange(detail(), config, deps)).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    dynamodb.reset();
    dynamodb.on(GetItemCommand).resolves({ Item: waitItem() });
    bedrock.on(GetModelCustomizationJobCommand).rejects(sdkError(ThrottlingException));
    await expect(onJobStateChange(detail(), config, deps)).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(sfn).not.toHaveReceivedAnyCommand();
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

  it("releases the waiting execution on AWS's sample event (a deep copy)", async () => {
    const event = sampleEvent();
    dynamodb.on(GetItemCommand).resolves({ Item: waitItem() });
    dynamodb.on(DeleteItemCommand).resolves({});
    sfn.on(SendTaskSuccessCommand).resolves({});
    jobStatus('Failed');
    expect(await handler(event)).toEqual({ released: true, jobArn: JOB, status: 'Failed' });
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { output: JSON.stringify({ jobArn: JOB, status: 'Failed', source: 'event' }) });
  });

  it('ignores the sample event for a job of another account', async () => {
    const event = sampleEvent({ jobArn: JOB.replace('123456789012', '210987654321') });
    expect(await handler(event)).toMatchObject({ ignored: expect.stringContaining('another account') });
    expect(dynamodb).not.toHaveReceivedAnyCommand();
  });

  it('registers the wait of the WaitForJobEvent payload', async () => {
    dynamodb.on(PutItemCommand).resolves({});
    jobStatus('InProgress');
    const payload = { action: 'register', taskToken: TOKEN, jobArn: JOB, expiresAt: EXPIRES_AT };
    expect(await handler(payload)).toEqual({ registered: true, released: false, status: 'InProgress' });
    expect(dynamodb).toHaveReceivedCommandWith(PutItemCommand, { TableName: TABLE, Item: expect.objectContaining({ pk: { S: JOB }, taskToken: { S: TOKEN } }) });
  });

  it("registers the ASL's payload: the wait's end from waitSeconds (the Task's TimeoutSecondsPath), as an ISO time", async () => {
    dynamodb.on(PutItemCommand).resolves({});
    jobStatus('InProgress');
    const before = Date.now();
    expect(await handler({ action: 'register', taskToken: TOKEN, jobArn: JOB, waitSeconds: 43_200 })).toEqual({ registered: true, released: false, status: 'InProgress' });
    const item = dynamodb.commandCalls(PutItemCommand)[0]!.args[0].input.Item!;
    const expires = Date.parse(item.expiresAt!.S!);
    expect(expires).toBeGreaterThanOrEqual(before + 43_200_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 43_200_000);
    // exactly one of the two
    await expect(handler({ action: 'register', taskToken: TOKEN, jobArn: JOB, waitSeconds: 60, expiresAt: EXPIRES_AT })).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect(handler({ action: 'register', taskToken: TOKEN, jobArn: JOB })).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect(handler({ action: 'register', taskToken: TOKEN, jobArn: JOB, waitSeconds: 0 })).rejects.toMatchObject({ name: 'InvalidInputError' });
  });

  it('fails a malformed register payload or an unknown event with InvalidInputError', async () => {
    await expect(handler({ action: 'register', taskToken: '', jobArn: JOB, expiresAt: EXPIRES_AT })).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect(handler({ action: 'register', taskToken: TOKEN, jobArn: JOB, expiresAt: 'soon' })).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect(handler({ action: 'deregister', taskToken: TOKEN, jobArn: JOB, expiresAt: EXPIRES_AT })).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect(handler({ ...sampleEvent(), source: 'aws.s3' })).rejects.toMatchObject({ name: 'InvalidInputError' });
    expect(dynamodb).not.toHaveReceivedAnyCommand();
  });

  it('refuses a register payload for a job of another region (InvalidInputError, nothing stored)', async () => {
    const payload = { action: 'register', taskToken: TOKEN, jobArn: JOB.replace('us-east-1', 'us-west-2'), expiresAt: EXPIRES_AT };
    await expect(handler(payload)).rejects.toMatchObject({ name: 'InvalidInputError' });
    expect(dynamodb).not.toHaveReceivedAnyCommand();
  });
});

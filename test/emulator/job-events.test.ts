/**
 * job-events against moto, over the real SDK: the waits table (created as the step needs it: key
 * `pk`, TTL on `ttl`), real customization jobs (moto keeps them InProgress until stopped; the Bedrock
 * stand-in completes one), and Step Functions' SendTaskSuccess as moto 5.2.5 serves it.
 *
 * What moto answers to SendTaskSuccess for a token no task holds: by default (moto's config
 * `stepfunctions.execute_state_machine` false) its backend's `send_task_success` is a no-op, so it
 * answers 200 `{}` for ANY token: the step counts that as released. With `execute_state_machine`
 * true (moto's own executor, moto/stepfunctions/parser/models.py) it looks the token up among the
 * running executions' callbacks and answers `InvalidToken` (400) when none holds it: the step counts
 * that as "the wait already ended". Both are asserted below.
 */
import { GetModelCustomizationJobCommand, StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { onJobStateChange, registerWait, type JobEventsConfig, type JobEventsDeps } from '../../functions/job-events/job-events.js';
import { configureBedrockStandIn } from '../../local/bedrock-standin.js';
import { DEMO_EXECUTION_ARN, JOB_WAITS_TABLE_NAME, createDemoJob, recordDemoJob, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { dynamoLedger } from '../../functions/shared/ledger.js';
import { fixtureEvent } from '../support/event-ruler.js';
import { commandsSentDuring, motoClients, resetMoto } from '../support/moto-clients.js';

const endpoint = inject('motoEndpoint');
const { ec2, s3, iam, bedrock, dynamodb } = motoClients();
const sfn = new SFNClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
const TABLE = JOB_WAITS_TABLE_NAME;
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAA' + 'z'.repeat(1000);
const expiresAt = () => new Date(Date.now() + 24 * 3600_000).toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sets moto's Step Functions execution mode (POST /moto-api/config). */
async function motoExecutesStateMachines(on: boolean): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ stepfunctions: { execute_state_machine: on } }),
  });
  if (!res.ok) throw new Error(`moto config failed: ${res.status} ${await res.text()}`);
}

const waitOf = async (jobArn: string) => (await dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: jobArn } }, ConsistentRead: true }))).Item;

/** AWS's sample event (a fresh deep copy) for `jobArn` in `jobStatus`. */
function eventFor(jobArn: string, jobStatus: string) {
  const event = fixtureEvent('bedrock-model-customization-job-state-change');
  event.detail.jobArn = jobArn;
  event.detail.jobStatus = jobStatus;
  event.resources = [jobArn];
  return event;
}

describe('job-events against moto', () => {
  let account: DemoAccount;
  let config: JobEventsConfig;
  const deps: JobEventsDeps = { dynamodb, bedrock, sfn, ledger: dynamoLedger('job-ledger', { dynamodb, now: () => new Date() }), now: () => new Date() };
  // Only this file turns moto's executor on (and always back off): start from moto's default.
  beforeAll(() => motoExecutesStateMachines(false));
  beforeEach(async () => {
    await resetMoto();
    // The demo account has the job-waits table as serverless.yml declares it (key pk, TTL on ttl).
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb });
    config = { table: TABLE, home: { region: account.region, accountId: account.accountId } };
  });
  afterAll(async () => {
    await motoExecutesStateMachines(false);
  });

  it('register on a running job stores the token; the Stopped event releases it once; a duplicate is ignored', async () => {
    const jobArn = await createDemoJob(bedrock, account, 'wait-job');
    await recordDemoJob(dynamodb, account, 'wait-job', jobArn);
    const expires = expiresAt();

    const registered = await registerWait({ taskToken: TOKEN, jobArn, jobName: 'wait-job', executionArn: DEMO_EXECUTION_ARN, owner: DEMO_EXECUTION_ARN, expiresAt: expires }, config, deps);
    expect(registered).toEqual({ registered: true, released: false, status: 'InProgress' });
    expect(await waitOf(jobArn)).toEqual({
      pk: { S: jobArn },
      taskToken: { S: TOKEN },
      expiresAt: { S: expires },
      ttl: { N: String(Math.floor(Date.parse(expires) / 1000) + 24 * 3600) },
      executionArn: { S: DEMO_EXECUTION_ARN },
      jobName: { S: 'wait-job' },
    });

    // An early or reordered "Completed" event while the API still says InProgress: the API wins.
    expect(await onJobStateChange(eventFor(jobArn, 'Completed').detail, config, deps)).toEqual({
      ignored: 'the job is InProgress, not ended',
      jobArn,
      status: 'InProgress',
    });
    expect(await waitOf(jobArn)).toBeDefined();

    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: jobArn }));
    const { result, sent } = await commandsSentDuring(() => onJobStateChange(eventFor(jobArn, 'Stopped').detail, config, deps));
    expect(result).toEqual({ released: true, jobArn, status: 'Stopped' });
    expect(sent).toEqual(['GetItemCommand', 'GetItemCommand', 'GetModelCustomizationJobCommand', 'DeleteItemCommand', 'SendTaskSuccessCommand']);
    expect(await waitOf(jobArn)).toBeUndefined();

    // EventBridge delivers at least once: the duplicate finds no wait.
    expect(await onJobStateChange(eventFor(jobArn, 'Stopped').detail, config, deps)).toEqual({ ignored: 'no execution waits for this job', jobArn });
  });

  it('register after the job ended (its event came first) releases the token itself', async () => {
    const jobArn = await createDemoJob(bedrock, account, 'early-event-job');
    await recordDemoJob(dynamodb, account, 'early-event-job', jobArn);
    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: jobArn }));
    // The event came before any token was stored: nothing waits yet.
    expect(await onJobStateChange(eventFor(jobArn, 'Stopped').detail, config, deps)).toEqual({ ignored: 'no execution waits for this job', jobArn });

    const { result, sent } = await commandsSentDuring(() => registerWait({ taskToken: TOKEN, jobArn, jobName: 'early-event-job', executionArn: DEMO_EXECUTION_ARN, owner: DEMO_EXECUTION_ARN, expiresAt: expiresAt() }, config, deps));
    expect(result).toEqual({ registered: true, released: true, status: 'Stopped' });
    expect(sent).toEqual(['GetItemCommand', 'PutItemCommand', 'GetModelCustomizationJobCommand', 'DeleteItemCommand', 'SendTaskSuccessCommand']);
    expect(await waitOf(jobArn)).toBeUndefined();
  });

  it('a job the Bedrock stand-in completes is released with status Completed (handler, real clients)', async () => {
    await configureBedrockStandIn(endpoint, { enabled: true, jobs: { 'completing-job': { outcome: 'complete', seconds: 1 } } });
    const jobArn = await createDemoJob(bedrock, account, 'completing-job');
    await recordDemoJob(dynamodb, account, 'completing-job', jobArn);
    process.env.JOB_WAITS_TABLE = TABLE;
    process.env.JOB_EVENTS_ACCOUNT_ID = account.accountId;
    const { handler } = await import('../../functions/job-events/handler.js');
    const ctx = {} as never;

    expect(await handler({ action: 'register', taskToken: TOKEN, jobArn, jobName: 'completing-job', executionArn: DEMO_EXECUTION_ARN, owner: DEMO_EXECUTION_ARN, expiresAt: expiresAt() }, ctx)).toMatchObject({ registered: true, released: false });
    for (let i = 0; i < 50; i++) {
      const job = await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
      if (job.status === 'Completed') break;
      await sleep(200);
    }
    expect(await handler(eventFor(jobArn, 'Completed'), ctx)).toEqual({ released: true, jobArn, status: 'Completed' });
    expect(await waitOf(jobArn)).toBeUndefined();
  });

  it("moto by default accepts SendTaskSuccess for ANY token (200 {}): the step can only count it as released", async () => {
    const out = await sfn.send(new SendTaskSuccessCommand({ taskToken: 'no-task-holds-this-token', output: '{}' }));
    expect(out.$metadata.httpStatusCode).toBe(200);
  });

  it("with moto's executor on, an unknown token is InvalidToken: the step treats it as 'the wait already ended'", async () => {
    await motoExecutesStateMachines(true);
    try {
      await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: 'no-task-holds-this-token', output: '{}' }))).rejects.toMatchObject({
        name: 'InvalidToken',
      });

      const jobArn = await createDemoJob(bedrock, account, 'stale-wait-job');
      await recordDemoJob(dynamodb, account, 'stale-wait-job', jobArn);
      // A wait whose task already ended (timed out into the safety-net poll): its token is dead.
      await dynamodb.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: {
            pk: { S: jobArn },
            taskToken: { S: 'token-of-a-task-that-timed-out' },
            expiresAt: { S: new Date().toISOString() },
            ttl: { N: '0' },
            executionArn: { S: DEMO_EXECUTION_ARN },
            jobName: { S: 'stale-wait-job' },
          },
        }),
      );
      await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: jobArn }));
      expect(await onJobStateChange(eventFor(jobArn, 'Stopped').detail, config, deps)).toEqual({ ignored: 'the wait already ended', jobArn, status: 'Stopped' });
      // The dead wait is not put back.
      expect(await waitOf(jobArn)).toBeUndefined();
    } finally {
      await motoExecutesStateMachines(false);
    }
  });

  it('events for jobs of another account or region send nothing to moto', async () => {
    const jobArn = await createDemoJob(bedrock, account, 'foreign-check-job');
    await recordDemoJob(dynamodb, account, 'foreign-check-job', jobArn);
    for (const foreign of [jobArn.replace(account.accountId, '999999999999'), jobArn.replace(account.region, 'eu-west-1')]) {
      const { result, sent } = await commandsSentDuring(() => onJobStateChange(eventFor(foreign, 'Completed').detail, config, deps));
      expect(result).toMatchObject({ ignored: expect.stringMatching(/^not our job/) });
      expect(sent).toEqual([]);
    }
  });
});

/**
 * Abuse: ownership, against moto (the ASL file, the real handlers, the job ledger in moto's DynamoDB).
 * Invariants: never stop, release or delete what is not ours; never leave a submitted job without a
 * live supervisor. Each reproduction of issue 19 is tried and must achieve nothing, while the first
 * execution's job is followed to its end.
 *
 * Capabilities tried: states:StartExecution (a second execution naming the same upload or job name, with
 * a 1 s deadline; an execution started under another's name); and, beyond those, a caller that reaches
 * the workflow's Lambdas with a forged event (stop, register a wait, clean up): the ledger refuses each.
 */
import { GetModelCustomizationJobCommand, StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deriveUploadJobName } from '../../functions/shared/job-input.js';
import { dynamoLedger } from '../../functions/shared/ledger.js';
import { configureBedrockStandIn, resetBedrockStandIn } from '../../local/bedrock-standin.js';
import { JOB_WAITS_TABLE_NAME, createJobEnis, demoJobInput, demoStageParams, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { asLambda, loadLambdaHandlers, localExecutionArn, runWorkflow, type TaskHandler } from '../../local/workflow.js';
import { fixtureEvent } from '../support/event-ruler.js';
import { setStage } from '../fixtures/stage.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const endpoint = inject('motoEndpoint');
const { ec2, s3, iam, bedrock, dynamodb } = motoClients();
const ledger = dynamoLedger('job-ledger', { dynamodb, now: () => new Date() });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let lambdas: Record<string, TaskHandler>;
let account: DemoAccount;

beforeAll(async () => {
  await resetMoto();
  account = await seedDemoAccount({ ec2, s3, iam, dynamodb });
  setStage(demoStageParams(account, { jobWait: 'poll' }));
  lambdas = await loadLambdaHandlers();
});
afterAll(() => resetBedrockStandIn(endpoint));

const jobStatus = async (jobArn: string) => (await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }))).status;
const polling = { initialSeconds: 10, maxSeconds: 10, growthFactor: 1 };

/** Handlers that also stand in for Bedrock creating the job's ENIs once it is submitted (moto does not). */
function withEnis(record: string[]): Record<string, TaskHandler> {
  return {
    ...lambdas,
    SubmitJob: async (input) => {
      const out = (await lambdas.SubmitJob!(input)) as { jobArn: string };
      record.push(...(await createJobEnis(ec2, out.jobArn, account.subnetIds, [account.securityGroupId])));
      return out as never;
    },
  };
}

/** Waits until the ledger records a job under `jobName`; returns its entry. */
async function recorded(jobName: string) {
  for (let i = 0; i < 300; i++) {
    const entry = await ledger.read(jobName);
    if (entry?.jobArn) return entry;
    await sleep(100);
  }
  throw new Error(`no job recorded under ${jobName}`);
}

/** The upload rule's input for the demo dataset (AWS's sample detail, a deep copy), over the demo job. */
function uploadInput(overrides: Record<string, unknown> = {}) {
  const detail = fixtureEvent('s3-object-created').detail;
  detail.bucket.name = account.trainingBucket;
  detail.object.key = 'datasets/support.jsonl';
  const { trainingDataS3Uri: _, ...job } = demoJobInput(account, { polling, ...overrides });
  return { ...job, upload: detail };
}

describe('a second execution of the same upload (StartExecution, or a duplicate delivery)', () => {
  it('with a 1 s deadline: adopts nothing, stops nothing; the first execution follows its job to Completed', async () => {
    await configureBedrockStandIn(endpoint, { enabled: true, default: { outcome: 'complete', seconds: 4 } });
    const enis: string[] = [];
    const first = runWorkflow({ input: uploadInput(), handlers: withEnis(enis), retryMs: 0, waitMs: 500, executionName: 'owner' });
    // The name and token derive from the object's identity: the attacker derives the same.
    const jobName = deriveUploadJobName(uploadInput().upload as never);
    const entry = await recorded(jobName);

    const attack = await runWorkflow({ input: uploadInput({ maxJobDurationSeconds: 1 }), handlers: lambdas, retryMs: 0, waitMs: 0, executionName: 'attacker' });
    expect(attack).toMatchObject({ status: 'FAILED', error: 'JobNotOursError' });
    for (const state of ['PollStatus', 'StopJob', 'StopUnwatchedJob', 'CleanupEnis']) expect(attack.states).not.toContain(state);
    expect(await jobStatus(entry.jobArn!)).not.toMatch(/Stopp/);

    const owner = await first;
    expect(owner.states.at(-1), owner.cause).toBe('JobSucceeded');
    expect(await jobStatus(entry.jobArn!)).toBe('Completed');
    expect(await ledger.read(jobName)).toMatchObject({ owner: localExecutionArn('owner'), supervisor: localExecutionArn('owner') });
    // Its own ENIs, recorded while it ran, were cleaned up by it.
    const live = new Set(((await ec2.send(new DescribeNetworkInterfacesCommand({}))).NetworkInterfaces ?? []).map((e) => e.NetworkInterfaceId));
    for (const id of enis) expect(live.has(id)).toBe(false);
  });
});

describe('forged events at the workflow\'s own Lambdas: the ledger refuses them', () => {
  let jobArn: string;
  let owner: string;
  let enis: string[];
  let holder: Promise<unknown>;
  beforeAll(async () => {
    await configureBedrockStandIn(endpoint, { enabled: true, default: { outcome: 'hold' } });
    enis = [];
    holder = runWorkflow({ input: demoJobInput(account, { jobName: 'held-job', polling }), handlers: withEnis(enis), retryMs: 0, waitMs: 200, executionName: 'holder' });
    owner = localExecutionArn('holder');
    const entry = await recorded('held-job');
    jobArn = entry.jobArn!;
    // Its ENIs recorded while it runs (its first InProgress check).
    for (let i = 0; i < 100 && (await ledger.read('held-job'))!.enis.length < enis.length; i++) await sleep(100);
  });

  // The job ends (its owner stops it by hand, as a person would): its supervisor, untouched by the
  // attempts, follows it to the end and cleans up its recorded ENIs.
  afterAll(async () => {
    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: jobArn }));
    const run = (await holder) as { states: string[] };
    expect(run.states.slice(-5)).toEqual(['CleanupEnis', 'GateOrRevoke', 'RevokeGrants', 'Outcome', 'JobStopped']);
    const live = new Set(((await ec2.send(new DescribeNetworkInterfacesCommand({}))).NetworkInterfaces ?? []).map((e) => e.NetworkInterfaceId));
    for (const id of enis) expect(live.has(id)).toBe(false);
  });

  const stop = async (event: unknown) => asLambda('poll-status', (await import('../../functions/poll-status/handler.js')).handler as never)(event as never);

  it('StopJob for a job of another chain, or as another execution of the same chain: JobNotOursError, the job runs on', async () => {
    const attacker = localExecutionArn('attacker-2');
    const submission = { jobArn, jobName: 'held-job' };
    for (const event of [
      { action: 'stop', reason: 'deadline', submission, execution: { id: attacker }, self: attacker },
      { action: 'stop', reason: 'unwatched', submission, execution: { id: owner }, self: attacker },
    ]) {
      await expect(stop(event)).rejects.toMatchObject({ name: 'JobNotOursError' });
    }
    expect(await jobStatus(jobArn)).toBe('InProgress');
  });

  it('a wait registered for the job by anyone but its supervisor: refused, nothing stored, no token released', async () => {
    process.env.JOB_WAITS_TABLE = JOB_WAITS_TABLE_NAME;
    process.env.JOB_EVENTS_ACCOUNT_ID = account.accountId;
    const { handler } = await import('../../functions/job-events/handler.js');
    const register = (executionArn: string, token: string) =>
      handler({ action: 'register', taskToken: token, jobArn, jobName: 'held-job', executionArn, owner, waitSeconds: 600 }, {} as Context);
    await expect(register(localExecutionArn('attacker-3'), 'attacker-token')).rejects.toMatchObject({ name: 'JobNotOursError' });
    // Nothing was stored for the job (the owner polls here: no wait of its own either).
    const { Item } = await dynamodb.send(new GetItemCommand({ TableName: JOB_WAITS_TABLE_NAME, Key: { pk: { S: jobArn } } }));
    expect(Item).toBeUndefined();
  });

  it('cleanup for the job by anyone but its supervisor: JobNotOursError, no ENI deleted', async () => {
    const cleanup = asLambda('cleanup-enis', (await import('../../functions/cleanup-enis/handler.js')).handler as never);
    const attacker = localExecutionArn('attacker-4');
    await expect(cleanup({ submission: { jobArn, jobName: 'held-job' }, execution: { id: owner }, self: attacker } as never)).rejects.toMatchObject({ name: 'JobNotOursError' });
    const live = new Set(((await ec2.send(new DescribeNetworkInterfacesCommand({}))).NetworkInterfaces ?? []).map((e) => e.NetworkInterfaceId));
    for (const id of enis) expect(live.has(id)).toBe(true);
  });
});

/**
 * The stand-in for Bedrock in our moto launcher (python/bedrock_standin.py), over the real SDK:
 * jobs complete, fail or hold on a schedule, a stopped job stays stopped, terminal states record the
 * EventBridge event Bedrock sends, and with the stand-in disabled moto behaves as it always did.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  GetCustomModelCommand,
  GetModelCustomizationJobCommand,
  ListCustomModelsCommand,
  ListModelCustomizationJobsCommand,
  StopModelCustomizationJobCommand,
  type GetModelCustomizationJobCommandOutput,
} from '@aws-sdk/client-bedrock';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  bedrockStandInConfig,
  configureBedrockStandIn,
  resetBedrockStandIn,
  standInEvents,
} from '../../local/bedrock-standin.js';
import { projectRoot } from '../../local/paths.js';
import { createDemoJob, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { ec2, s3, iam, bedrock } = motoClients();
const endpoint = inject('motoEndpoint');
const sample = JSON.parse(
  readFileSync(join(projectRoot, 'test', 'fixtures', 'events', 'bedrock-model-customization-job-state-change.json'), 'utf8'),
).event as { detail: Record<string, unknown> } & Record<string, unknown>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seq = 0;
const uniqueName = (what: string) => `standin-${what}-${Date.now().toString(36)}-${++seq}`;

let account: DemoAccount;
/** A job as the workflow submits it (validation data, hyperparameters), without a VPC, its output under runs/<name>/. */
const createJob = (name: string) => createDemoJob(bedrock, account, name, { subnetIds: [], asSubmitted: true, outputPrefix: `runs/${name}/` });
const getJob = (jobIdentifier: string) => bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier }));

/** Polls the job until `done` or `ms` pass; returns every response seen. */
async function watch(jobArn: string, ms: number, done: (job: GetModelCustomizationJobCommandOutput) => boolean) {
  const seen: GetModelCustomizationJobCommandOutput[] = [];
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const job = await getJob(jobArn);
    seen.push(job);
    if (done(job)) break;
    await sleep(50);
  }
  return seen;
}

/** Calls moto's EventBridge API (JSON protocol; moto routes on the credential scope, not the signature). */
async function eventsApi<T>(target: string, body: object): Promise<T> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSEvents.${target}`,
      authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/events/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`events ${target}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

describe('stand-in for Bedrock in the moto launcher', () => {
  const archive = uniqueName('archive');
  beforeAll(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam });
    // An archive on the default bus counts the events the stand-in puts there.
    await eventsApi('CreateArchive', {
      ArchiveName: archive,
      EventSourceArn: `arn:aws:events:us-east-1:${account.accountId}:event-bus/default`,
      EventPattern: JSON.stringify({ source: ['aws.bedrock'], 'detail-type': ['Model Customization Job State Change'] }),
    });
  });
  // Later files of the tier expect moto's own behaviour.
  afterAll(() => resetBedrockStandIn(endpoint));

  it('disabled (the start): moto behaviour, the job holds InProgress', async () => {
    expect(await bedrockStandInConfig(endpoint)).toMatchObject({ enabled: false, jobs: {} });
    const jobArn = await createJob(uniqueName('disabled'));
    await sleep(300);
    const job = await getJob(jobArn);
    expect(job).toMatchObject({ status: 'InProgress', failureMessage: 'Failure Message' });
    expect(job.statusDetails).toBeUndefined();
  });

  describe('enabled', () => {
    const names = { complete: uniqueName('complete'), fail: uniqueName('fail'), hold: uniqueName('hold'), stop: uniqueName('stop') };
    const arns: Record<string, string> = {};
    beforeAll(async () => {
      // Per-job plans given before the jobs exist, keyed by job name.
      const config = await configureBedrockStandIn(endpoint, {
        enabled: true,
        default: { outcome: 'complete', seconds: 1.2 },
        jobs: {
          [names.fail]: { outcome: 'fail', seconds: 0.4, failureMessage: 'stand-in: training data is not valid JSON Lines' },
          [names.hold]: { outcome: 'hold', seconds: 0.2 },
        },
      });
      expect(config).toMatchObject({ enabled: true, default: { outcome: 'complete', seconds: 1.2 } });
      expect(config.jobs[names.fail]).toMatchObject({ outcome: 'fail' });
      expect(config.default.failureMessage).toEqual(expect.any(String));
    });

    it('complete: phases progress, then Completed with metrics, the custom model and the output files', async () => {
      arns.complete = await createJob(names.complete);
      const first = await getJob(arns.complete);
      expect(first.status).toBe('InProgress');
      // Rendered as the real service: nothing terminal while InProgress.
      for (const key of ['endTime', 'failureMessage', 'trainingMetrics', 'validationMetrics'] as const) expect(first[key]).toBeUndefined();

      const seen = await watch(arns.complete, 5000, (j) => j.status !== 'InProgress');
      const last = seen[seen.length - 1]!;
      const phases = seen.map((j) =>
        [j.statusDetails?.validationDetails?.status, j.statusDetails?.dataProcessingDetails?.status, j.statusDetails?.trainingDetails?.status].join('/'),
      );
      const distinct = phases.filter((p, i) => p !== phases[i - 1]);
      expect(distinct).toEqual([
        'InProgress/NotStarted/NotStarted',
        'Completed/InProgress/NotStarted',
        'Completed/Completed/InProgress',
        'Completed/Completed/Completed',
      ]);
      expect(seen.slice(0, -1).every((j) => j.status === 'InProgress' && j.endTime === undefined)).toBe(true);

      expect(last).toMatchObject({
        status: 'Completed',
        jobName: names.complete,
        outputModelName: `${names.complete}-model`,
        trainingMetrics: { trainingLoss: expect.any(Number) },
        validationMetrics: [{ validationLoss: expect.any(Number) }],
      });
      expect(last.failureMessage).toBeUndefined();
      expect(last.endTime).toBeInstanceOf(Date);
      expect(last.statusDetails?.trainingDetails?.lastModifiedTime).toBeInstanceOf(Date);

      const model = await bedrock.send(new GetCustomModelCommand({ modelIdentifier: last.outputModelArn! }));
      expect(model).toMatchObject({ modelArn: last.outputModelArn, jobArn: arns.complete, trainingMetrics: last.trainingMetrics });
      const models = await bedrock.send(new ListCustomModelsCommand({}));
      expect(models.modelSummaries!.map((m) => m.modelArn)).toContain(last.outputModelArn);

      // The files Bedrock writes under the output S3 URI (model-customization-analyze.html).
      const prefix = `runs/${names.complete}/model-customization-job-${arns.complete.split('/').pop()}/`;
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: account.outputBucket, Prefix: prefix }));
      expect(listed.Contents!.map((o) => o.Key).sort()).toEqual([
        `${prefix}training_artifacts/step_wise_training_metrics.csv`,
        `${prefix}validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv`,
      ]);
      const header = async (Key: string) =>
        (await (await s3.send(new GetObjectCommand({ Bucket: account.outputBucket, Key }))).Body!.transformToString()).split('\n')[0];
      expect(await header(`${prefix}training_artifacts/step_wise_training_metrics.csv`)).toBe('step_number,epoch_number,training_loss,perplexity');
      expect(await header(`${prefix}validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv`)).toBe(
        'step_number,epoch_number,validation_loss,perplexity',
      );

      const listedJobs = await bedrock.send(new ListModelCustomizationJobsCommand({ nameContains: names.complete }));
      expect(listedJobs.modelCustomizationJobSummaries).toMatchObject([{ status: 'Completed', customModelArn: last.outputModelArn }]);
    });

    it('fail: Failed after its seconds with the configured message', async () => {
      arns.fail = await createJob(names.fail);
      const seen = await watch(arns.fail, 3000, (j) => j.status !== 'InProgress');
      const last = seen[seen.length - 1]!;
      expect(last).toMatchObject({ status: 'Failed', failureMessage: 'stand-in: training data is not valid JSON Lines' });
      expect(last.endTime).toBeInstanceOf(Date);
      expect(last.trainingMetrics).toBeUndefined();
      expect(last.statusDetails).toMatchObject({
        validationDetails: { status: 'Failed' },
        dataProcessingDetails: { status: 'NotStarted' },
        trainingDetails: { status: 'NotStarted' },
      });
      await expect(bedrock.send(new GetCustomModelCommand({ modelIdentifier: last.outputModelArn! }))).rejects.toThrow();
    });

    it('hold: stays InProgress past its seconds', async () => {
      arns.hold = await createJob(names.hold);
      await sleep(600);
      const job = await getJob(arns.hold);
      expect(job.status).toBe('InProgress');
      expect(job.endTime).toBeUndefined();
      expect(job.statusDetails?.trainingDetails?.status).toBe('InProgress');
    });

    it('a job stopped before completion stays Stopped', async () => {
      arns.stop = await createJob(names.stop);
      await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: arns.stop }));
      const stopped = await getJob(arns.stop);
      expect(stopped.status).toBe('Stopped');
      expect(stopped.endTime).toBeInstanceOf(Date);
      await sleep(1500);
      const later = await getJob(arns.stop);
      expect(later.status).toBe('Stopped');
      expect(later.trainingMetrics).toBeUndefined();
      await expect(bedrock.send(new GetCustomModelCommand({ modelIdentifier: later.outputModelArn! }))).rejects.toThrow();
    });

    it('records the state change event of each terminal job, shaped as AWS sample, and puts it on the default bus', async () => {
      const events = await standInEvents(endpoint);
      const ours = events.filter((e) => Object.values(arns).includes(e.detail.jobArn));
      expect(ours.map((e) => [e.detail.jobName, e.detail.jobStatus])).toEqual([
        [names.complete, 'Completed'],
        [names.fail, 'Failed'],
        [names.stop, 'Stopped'],
      ]);
      const keys = (o: object) => Object.keys(o).sort();
      for (const event of ours) {
        expect(keys(event)).toEqual(keys(sample));
        expect(event).toMatchObject({
          source: 'aws.bedrock',
          'detail-type': 'Model Customization Job State Change',
          account: account.accountId,
          region: 'us-east-1',
          resources: [event.detail.jobArn],
        });
      }
      const failed = ours.find((e) => e.detail.jobStatus === 'Failed')!;
      expect(keys(failed.detail)).toEqual(keys(sample.detail));
      expect(failed.detail.failureMessage).toBe('stand-in: training data is not valid JSON Lines');
      for (const event of ours.filter((e) => e !== failed)) {
        expect(keys(event.detail)).toEqual(keys(sample.detail).filter((k) => k !== 'failureMessage'));
      }
      const described = await eventsApi<{ EventCount: number }>('DescribeArchive', { ArchiveName: archive });
      expect(described.EventCount).toBe(events.length);
    });

    it('enabled:false returns new jobs to moto behaviour', async () => {
      await configureBedrockStandIn(endpoint, { enabled: false });
      const jobArn = await createJob(uniqueName('after-disable'));
      await sleep(1300);
      expect(await getJob(jobArn)).toMatchObject({ status: 'InProgress', failureMessage: 'Failure Message' });
    });
  });

  it('reset: the stand-in endpoint and POST /moto-api/reset both clear config and events', async () => {
    await configureBedrockStandIn(endpoint, { enabled: true, jobs: { x: { outcome: 'hold' } } });
    expect((await standInEvents(endpoint)).length).toBeGreaterThan(0);
    await resetBedrockStandIn(endpoint);
    expect(await bedrockStandInConfig(endpoint)).toMatchObject({ enabled: false, jobs: {}, default: { outcome: 'complete', seconds: 6 } });
    expect(await standInEvents(endpoint)).toEqual([]);

    await configureBedrockStandIn(endpoint, { enabled: true, default: { seconds: 0 } });
    await createJob(uniqueName('before-reset'));
    expect((await standInEvents(endpoint)).length).toBe(1);
    await resetMoto();
    expect(await bedrockStandInConfig(endpoint)).toMatchObject({ enabled: false, jobs: {} });
    expect(await standInEvents(endpoint)).toEqual([]);
  });

  it('refuses a config it does not understand', async () => {
    await expect(configureBedrockStandIn(endpoint, { default: { outcome: 'explode' as never } })).rejects.toThrow(/400/);
  });
});

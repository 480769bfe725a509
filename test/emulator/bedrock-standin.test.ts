/**
 * The stand-in for Bedrock in our moto launcher (python/bedrock_standin.py), over the real SDK:
 * jobs complete, fail or hold on a schedule, a stopped job stays stopped, terminal states record the
 * EventBridge event Bedrock sends, and with the stand-in disabled moto behaves as it always did.
 * Always: every Bedrock request is checked against botocore's service model (python/shape_check.py),
 * CreateModelCustomizationJob requests are recorded as received, GetFoundationModel serves a table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BedrockClient,
  CreateModelCustomizationJobCommand,
  GetCustomModelCommand,
  GetFoundationModelCommand,
  GetModelCustomizationJobCommand,
  ListCustomModelsCommand,
  ListModelCustomizationJobsCommand,
  StopModelCustomizationJobCommand,
  type CreateModelCustomizationJobCommandInput,
  type GetModelCustomizationJobCommandOutput,
} from '@aws-sdk/client-bedrock';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  bedrockStandInConfig,
  configureBedrockStandIn,
  resetBedrockStandIn,
  standInCreateJobRequests,
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

describe("the stand-in checks every Bedrock request against botocore's service model", () => {
  beforeAll(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam });
  });
  afterAll(() => resetBedrockStandIn(endpoint));

  /** A request of each customization type, shaped as botocore data/bedrock/2023-04-20/service-2.json shape CreateModelCustomizationJobRequest. */
  const request = (name: string, type: 'DISTILLATION' | 'REINFORCEMENT_FINE_TUNING'): CreateModelCustomizationJobCommandInput => ({
    jobName: name,
    customModelName: `${name}-model`,
    roleArn: account.roleArn,
    clientRequestToken: `token-${name}`,
    customizationType: type,
    trainingDataConfig: { s3Uri: `s3://${account.trainingBucket}/datasets/${type === 'DISTILLATION' ? 'prompts' : 'rft'}.jsonl` },
    outputDataConfig: { s3Uri: `s3://${account.outputBucket}/runs/${name}/` },
    ...(type === 'DISTILLATION'
      ? {
          baseModelIdentifier: 'amazon.nova-micro-v1:0:128k',
          customizationConfig: { distillationConfig: { teacherModelConfig: { teacherModelIdentifier: 'amazon.nova-pro-v1:0', maxResponseLengthForInference: 1000 } } },
        }
      : {
          baseModelIdentifier: 'amazon.nova-2-lite-v1:0:256k',
          customizationConfig: {
            rftConfig: {
              graderConfig: { lambdaGrader: { lambdaArn: `arn:aws:lambda:us-east-1:${account.accountId}:function:rft-grader` } },
              hyperParameters: {
                epochCount: 2,
                batchSize: 64,
                learningRate: 0.00001,
                maxPromptLength: 4096,
                trainingSamplePerPrompt: 4,
                inferenceMaxTokens: 2048,
                reasoningEffort: 'medium',
                evalInterval: 10,
              },
            },
          },
        }),
    vpcConfig: { subnetIds: account.subnetIds, securityGroupIds: [account.securityGroupId] },
  });
  const create = (input: CreateModelCustomizationJobCommandInput) => bedrock.send(new CreateModelCustomizationJobCommand(input));
  const recordedFor = async (name: string) => (await standInCreateJobRequests(endpoint)).filter((r) => r.request?.jobName === name);

  it('accepts a DISTILLATION and an RFT request, records each as sent, and GetModelCustomizationJob returns its customizationConfig', async () => {
    for (const type of ['DISTILLATION', 'REINFORCEMENT_FINE_TUNING'] as const) {
      const name = uniqueName(type.toLowerCase().replace(/_/g, '-'));
      const input = request(name, type);
      const { jobArn } = await create(input);
      expect(await recordedFor(name)).toEqual([{ time: expect.any(String), region: 'us-east-1', request: input }]);
      const job = await getJob(jobArn!);
      expect(job).toMatchObject({ jobName: name, customizationType: type, customizationConfig: input.customizationConfig });
    }
  });

  it('accepts a distillation trained from invocation logs (trainingDataConfig without s3Uri)', async () => {
    const name = uniqueName('from-logs');
    const trainingDataConfig = {
      invocationLogsConfig: {
        usePromptResponse: true,
        invocationLogSource: { s3Uri: `s3://${account.trainingBucket}/invocation-logs/` },
        requestMetadataFilters: { andAll: [{ equals: { project: 'support' } }, { notEquals: { stage: 'test' } }] },
      },
    };
    const input = { ...request(name, 'DISTILLATION'), trainingDataConfig };
    const { jobArn } = await create(input);
    expect(await recordedFor(name)).toEqual([{ time: expect.any(String), region: 'us-east-1', request: input }]);
    expect((await getJob(jobArn!)).trainingDataConfig).toEqual(trainingDataConfig);
  });

  // Each violation as Bedrock answers it: HTTP 400 ValidationException naming the member; no job created.
  const violations: [string, (input: CreateModelCustomizationJobCommandInput) => object, RegExp][] = [
    ['a missing required member', ({ roleArn: _, ...input }) => input, /Missing required parameter in input: "roleArn"/],
    [
      'a missing required member of a nested structure',
      (input) => ({ ...input, customizationConfig: { distillationConfig: { teacherModelConfig: {} } } }),
      /Missing required parameter in customizationConfig\.distillationConfig\.teacherModelConfig: "teacherModelIdentifier"/,
    ],
    ['a value outside the enum', (input) => ({ ...input, customizationType: 'SUPERVISED' }), /Value 'SUPERVISED' at 'customizationType' failed to satisfy constraint: Member must satisfy enum value set: \[FINE_TUNING, /],
    [
      'a nested value outside the enum',
      (input) => ({ ...input, ...rft({ reasoningEffort: 'max' }) }),
      /Value 'max' at 'customizationConfig\.rftConfig\.hyperParameters\.reasoningEffort' failed to satisfy constraint: Member must satisfy enum value set: \[low, medium, high\]/,
    ],
    [
      'a number above its maximum',
      (input) => ({ ...input, ...rft({ epochCount: 51 }) }),
      /Value '51' at 'customizationConfig\.rftConfig\.hyperParameters\.epochCount' failed to satisfy constraint: Member must have value less than or equal to 50/,
    ],
    [
      'a number below its minimum',
      (input) => ({ ...input, ...rft({ batchSize: 8 }) }),
      /Invalid value for parameter customizationConfig\.rftConfig\.hyperParameters\.batchSize, value: 8, valid min value: 16/,
    ],
    [
      'a float above its maximum',
      (input) => ({ ...input, ...rft({ learningRate: 0.01 }) }),
      /at 'customizationConfig\.rftConfig\.hyperParameters\.learningRate' failed to satisfy constraint: Member must have value less than or equal to 0\.001/,
    ],
    [
      'two members of a union',
      (input) => ({ ...input, customizationConfig: { ...request('x', 'DISTILLATION').customizationConfig, ...rft({}).customizationConfig } }),
      /Invalid number of parameters set for tagged union structure customizationConfig\. Can only set one of the following keys: distillationConfig, rftConfig/,
    ],
    [
      'no member of a union',
      (input) => ({ ...input, trainingDataConfig: { invocationLogsConfig: { invocationLogSource: {} } } }),
      // botocore's own wording ("tagged unionstructure", no space, in 1.44.18).
      /Must set one of the following keys for tagged union ?structure trainingDataConfig\.invocationLogsConfig\.invocationLogSource: s3Uri/,
    ],
    [
      'a map above its maximum size',
      (input) => ({
        ...input,
        trainingDataConfig: { invocationLogsConfig: { invocationLogSource: { s3Uri: 's3://bucket-a/logs/' }, requestMetadataFilters: { equals: { a: '1', b: '2' } } } },
      }),
      /Value at 'trainingDataConfig\.invocationLogsConfig\.requestMetadataFilters\.equals' failed to satisfy constraint: Member must have length less than or equal to 1/,
    ],
    ['a string above its maximum length', (input) => ({ ...input, jobName: 'j'.repeat(64) }), /Value at 'jobName' failed to satisfy constraint: Member must have length less than or equal to 63/],
    [
      'a string outside its pattern (matched in linear time: this one backtracks exponentially in a backtracking engine)',
      (input) => ({ ...input, jobName: `a${'-'.repeat(60)}!` }),
      /Value at 'jobName' failed to satisfy constraint: Member must satisfy regular expression pattern: \^\[a-zA-Z0-9\]/,
    ],
    [
      'a list above its maximum length',
      (input) => ({ ...input, vpcConfig: { subnetIds: account.subnetIds, securityGroupIds: Array.from({ length: 6 }, (_, i) => `sg-0${i}`) } }),
      /Value at 'vpcConfig\.securityGroupIds' failed to satisfy constraint: Member must have length less than or equal to 5/,
    ],
    ['a boolean for a number', (input) => ({ ...input, ...rft({ evalInterval: true }) }), /customizationConfig\.rftConfig\.hyperParameters\.evalInterval, value: True, type: boolean/],
  ];
  /** An RFT customizationConfig with these hyper-parameters over the valid ones. */
  function rft(hyperParameters: Record<string, unknown>) {
    const config = request('x', 'REINFORCEMENT_FINE_TUNING').customizationConfig as { rftConfig: { hyperParameters: object } };
    return {
      customizationType: 'REINFORCEMENT_FINE_TUNING',
      customizationConfig: { rftConfig: { ...config.rftConfig, hyperParameters: { ...config.rftConfig.hyperParameters, ...hyperParameters } } },
    };
  }

  it.each(violations)('refuses %s, naming the member, and creates no job', async (_what, mutate, expected) => {
    const name = uniqueName('refused');
    const body = mutate(request(name, 'DISTILLATION'));
    const res = await rawBedrock('POST', '/model-customization-jobs', body);
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('ValidationException');
    const { message } = (await res.json()) as { message: string };
    expect(message).toMatch(/^\d+ validation errors? detected: /);
    expect(message).toMatch(expected);
    const recorded = (await standInCreateJobRequests(endpoint)).filter((r) => JSON.stringify(r.request) === JSON.stringify(body));
    expect(recorded).toEqual([{ time: expect.any(String), region: 'us-east-1', request: body, error: message }]);
    if (typeof (body as { jobName?: unknown }).jobName === 'string' && (body as { jobName: string }).jobName === name) {
      await expect(getJob(name)).rejects.toThrow();
    }
  });

  it('refuses through the SDK too: the error is a ValidationException with the message', async () => {
    const input = { ...request(uniqueName('sdk'), 'DISTILLATION'), customizationType: 'SUPERVISED' as never };
    await expect(create(input)).rejects.toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 }, message: expect.stringMatching(/'customizationType'/) });
  });

  it('checks the members bound to the URI and the query string', async () => {
    await expect(bedrock.send(new ListModelCustomizationJobsCommand({ maxResults: 1001 }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(/Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000/),
    });
    await expect(bedrock.send(new ListModelCustomizationJobsCommand({ statusEquals: 'Running' as never }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(/Value 'Running' at 'statusEquals'/),
    });
    await expect(getJob('bad/name!')).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/at 'jobIdentifier'/) });
    await expect(bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: 'j'.repeat(1012) }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(/Value at 'jobIdentifier' failed to satisfy constraint: Member must have length less than or equal to 1011/),
    });
    // moto's own job ARN form (…:model-customization-job/<name>) is taken: the job is found by it.
    const name = uniqueName('by-arn');
    const { jobArn } = await create(request(name, 'DISTILLATION'));
    expect(jobArn).toBe(`arn:aws:bedrock:us-east-1:${account.accountId}:model-customization-job/${name}`);
    expect((await getJob(jobArn!)).jobName).toBe(name);
  });

  it('reset clears the recorded requests', async () => {
    expect((await standInCreateJobRequests(endpoint)).length).toBeGreaterThan(0);
    await resetBedrockStandIn(endpoint);
    expect(await standInCreateJobRequests(endpoint)).toEqual([]);
  });
});

describe('a phase that fails before the job does', () => {
  beforeAll(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam });
  });
  afterAll(() => resetBedrockStandIn(endpoint));

  it('shows <phase>Details Failed while the job is still InProgress, then the job Failed', async () => {
    const name = uniqueName('phase');
    await configureBedrockStandIn(endpoint, {
      enabled: true,
      jobs: { [name]: { outcome: 'fail', seconds: 2.4, phase: 'training', phaseFailedSeconds: 1.2, failureMessage: 'stand-in: training failed' } },
    });
    const jobArn = await createJob(name);
    const seen = await watch(jobArn, 6000, (j) => j.status !== 'InProgress');
    const states = seen.map((j) =>
      [j.status, j.statusDetails?.validationDetails?.status, j.statusDetails?.dataProcessingDetails?.status, j.statusDetails?.trainingDetails?.status].join('/'),
    );
    const distinct = states.filter((p, i) => p !== states[i - 1]);
    expect(distinct).toEqual([
      'InProgress/InProgress/NotStarted/NotStarted',
      'InProgress/Completed/InProgress/NotStarted',
      'InProgress/Completed/Completed/InProgress',
      'InProgress/Completed/Completed/Failed',
      'Failed/Completed/Completed/Failed',
    ]);
    const early = seen.find((j) => j.status === 'InProgress' && j.statusDetails?.trainingDetails?.status === 'Failed')!;
    expect(early.failureMessage).toBeUndefined();
    expect(early.endTime).toBeUndefined();
    const last = seen[seen.length - 1]!;
    expect(last).toMatchObject({ status: 'Failed', failureMessage: 'stand-in: training failed' });
    // The phase failed at phaseFailedSeconds, the job at seconds (RFC 3339 whole seconds).
    const at = (d: Date | undefined) => d!.getTime() / 1000;
    expect(at(last.statusDetails!.trainingDetails!.lastModifiedTime)).toBeLessThanOrEqual(at(last.endTime));
  });

  it('refuses a phase it does not know and a phase failure after the job ends', async () => {
    await expect(configureBedrockStandIn(endpoint, { default: { phase: 'deployment' as never } })).rejects.toThrow(/400.*phase must be one of/);
    await expect(configureBedrockStandIn(endpoint, { jobs: { x: { outcome: 'fail', seconds: 1, phaseFailedSeconds: 2 } } })).rejects.toThrow(
      /400.*phaseFailedSeconds \(2\.0\) must not be after seconds \(1\.0\)/,
    );
  });
});

describe('GetFoundationModel (served by the stand-in: moto has none)', () => {
  const get = (modelIdentifier: string) => bedrock.send(new GetFoundationModelCommand({ modelIdentifier }));

  it('answers for a model of its table, by id or by ARN, with the ARN of the region', async () => {
    const { modelDetails } = await get('amazon.nova-pro-v1:0');
    expect(modelDetails).toEqual({
      modelArn: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0',
      modelId: 'amazon.nova-pro-v1:0',
      providerName: 'Amazon',
      inputModalities: ['TEXT', 'IMAGE'],
      outputModalities: ['TEXT'],
      customizationsSupported: [],
      inferenceTypesSupported: ['ON_DEMAND'],
      modelLifecycle: { status: 'ACTIVE' },
    });
    expect((await get('arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k')).modelDetails).toMatchObject({
      modelId: 'amazon.nova-micro-v1:0:128k',
      customizationsSupported: ['FINE_TUNING', 'DISTILLATION'],
      inferenceTypesSupported: ['PROVISIONED'],
    });
    const west = new BedrockClient({ endpoint, region: 'us-west-2', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const inWest = await west.send(new GetFoundationModelCommand({ modelIdentifier: 'meta.llama3-1-70b-instruct-v1:0' }));
    expect(inWest.modelDetails?.modelArn).toBe('arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-1-70b-instruct-v1:0');
    for (const id of ['amazon.nova-lite-v1:0', 'amazon.nova-micro-v1:0', 'anthropic.claude-3-5-sonnet-20241022-v2:0', 'meta.llama3-1-8b-instruct-v1:0', 'amazon.titan-text-express-v1']) {
      expect((await get(id)).modelDetails).toMatchObject({ modelId: id, modelLifecycle: { status: 'ACTIVE' } });
    }
  });

  it('ResourceNotFoundException (404) for a model it does not have, or an ARN of another region', async () => {
    for (const id of ['amazon.nova-ultra-v9:0', 'arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-pro-v1:0']) {
      await expect(get(id)).rejects.toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
    }
  });

  it('ValidationException for an identifier of the wrong form', async () => {
    await expect(get('not a model')).rejects.toMatchObject({
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
      message: expect.stringMatching(/at 'modelIdentifier' failed to satisfy constraint: Member must satisfy regular expression pattern/),
    });
  });
});

/** A Bedrock request as the SDK sends it (restJson), without the SDK's serializer: for a body the SDK would not send. */
async function rawBedrock(method: string, path: string, body: object) {
  return fetch(`${endpoint}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify(body),
  });
}

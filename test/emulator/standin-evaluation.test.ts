/**
 * The stand-in for Bedrock (python/bedrock_standin.py) serving what the evaluation gate (issue 23) calls,
 * over the real SDK clients against our moto launcher: custom model deployments (Creating → Active or
 * Failed, idempotent on clientRequestToken), evaluation jobs (InProgress → Completed / Failed, Stop →
 * Stopping → Stopped) and their result file at the documented key, scored by the labelled stand-in judge,
 * bedrock-runtime Converse (answers from the held-out dataset or a fixed sentence), the shape check of
 * every request, tags on the custom model, and every Create* request recorded — Provisioned Throughput
 * included, which the stand-in refuses.
 */
import {
  CreateCustomModelDeploymentCommand,
  CreateEvaluationJobCommand,
  CreateModelCustomizationJobCommand,
  CreateProvisionedModelThroughputCommand,
  DeleteCustomModelDeploymentCommand,
  GetCustomModelDeploymentCommand,
  GetEvaluationJobCommand,
  GetModelCustomizationJobCommand,
  ListCustomModelDeploymentsCommand,
  ListCustomModelsCommand,
  ListEvaluationJobsCommand,
  ListTagsForResourceCommand,
  StopEvaluationJobCommand,
  TagResourceCommand,
  type CreateEvaluationJobCommandInput,
  type EvaluationJobStatus,
} from '@aws-sdk/client-bedrock';
import { BedrockRuntimeClient, ConverseCommand, type ConverseCommandInput } from '@aws-sdk/client-bedrock-runtime';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  STANDIN_FIXED_ANSWER,
  configureBedrockStandIn,
  resetBedrockStandIn,
  standInCreateJobRequests,
  standInJudgeScore,
  standInRequests,
} from '../../local/bedrock-standin.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { s3, bedrock } = motoClients();
const endpoint = inject('motoEndpoint');
const common = { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
// The bedrock-runtime client defaults to HTTP/2, which moto's server does not speak: HTTP/1.1 (the handler
// of the bedrock client), as botocore always sends Converse.
const runtime = new BedrockRuntimeClient({ ...common, requestHandler: bedrock.config.requestHandler });
/** No retries: ModelNotReadyException is one the SDK retries by itself. */
const runtimeOnce = new BedrockRuntimeClient({ ...common, requestHandler: bedrock.config.requestHandler, maxAttempts: 1 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seq = 0;
const unique = (what: string) => `${what}-${Date.now().toString(36)}-${++seq}`;

const BUCKET = 'standin-evaluation';
const ROLE = 'arn:aws:iam::123456789012:role/evaluation';
const BASE_MODEL = 'amazon.nova-lite-v1:0';
const HELD_OUT = [
  { prompt: 'What is the capital of France?', referenceResponse: 'Paris is the capital of France.', category: 'geo' },
  { prompt: 'Name a primary colour.', referenceResponse: 'Red is a primary colour.' },
  { prompt: 'How many legs has a spider?', referenceResponse: 'A spider has eight legs, eight legs in all.' },
];
const HELD_OUT_URI = `s3://${BUCKET}/held-out/qa.jsonl`;
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const put = (key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(50);
  }
}

async function errorOf(promise: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

/** A custom model made by a stand-in job that completed (what CreateCustomModelDeployment takes). */
async function completedCustomModel(): Promise<string> {
  const jobName = unique('job');
  const { jobArn } = await bedrock.send(
    new CreateModelCustomizationJobCommand({
      jobName,
      customModelName: unique('model'),
      roleArn: ROLE,
      baseModelIdentifier: 'amazon.nova-lite-v1:0:300k',
      trainingDataConfig: { s3Uri: `s3://${BUCKET}/train.jsonl` },
      outputDataConfig: { s3Uri: `s3://${BUCKET}/out/` },
      hyperParameters: { epochCount: '1' },
    }),
  );
  const job = await until(
    () => bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn! })),
    (j) => j.status === 'Completed',
  );
  expect(job.status).toBe('Completed');
  return job.outputModelArn!;
}

const converse = (modelId: string, prompt: string, extra: Partial<ConverseCommandInput> = {}, client = runtime) =>
  client.send(new ConverseCommand({ modelId, messages: [{ role: 'user', content: [{ text: prompt }] }], ...extra }));

const getDeployment = (id: string) => bedrock.send(new GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: id }));

describe('stand-in for Bedrock: deployments, evaluation jobs, Converse', () => {
  let modelArn: string;
  beforeAll(async () => {
    await resetMoto();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await put('train.jsonl', jsonl([{ prompt: 'p', completion: 'c' }]));
    await put('held-out/qa.jsonl', jsonl(HELD_OUT));
    await configureBedrockStandIn(endpoint, {
      enabled: true,
      default: { outcome: 'complete', seconds: 0.3 },
      deployment: { seconds: 0.4 },
      evaluation: { seconds: 0.4, stoppingSeconds: 0.3 },
      evaluationDataset: HELD_OUT_URI,
    });
    modelArn = await completedCustomModel();
  });
  afterAll(() => resetBedrockStandIn(endpoint));

  describe('custom model deployments', () => {
    it('Creating (202) → Active; Get by ARN or name; List filters and pages; Delete → ResourceNotFoundException', async () => {
      const name = unique('dep');
      await configureBedrockStandIn(endpoint, { deployments: { [name]: { seconds: 1 } } });
      const created = await bedrock.send(new CreateCustomModelDeploymentCommand({ modelDeploymentName: name, modelArn, description: 'gate' }));
      expect(created.$metadata.httpStatusCode).toBe(202);
      const arn = created.customModelDeploymentArn!;
      expect(arn).toMatch(/^arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment\/[a-z0-9]{12}$/);

      const creating = await getDeployment(arn);
      expect(creating).toMatchObject({ customModelDeploymentArn: arn, modelDeploymentName: name, modelArn, status: 'Creating', description: 'gate' });
      expect(creating.createdAt).toBeInstanceOf(Date);
      expect(creating.failureMessage).toBeUndefined();
      // While Creating the deployment cannot answer (the SDK would retry this error by itself).
      expect(await errorOf(converse(arn, HELD_OUT[0]!.prompt, {}, runtimeOnce))).toMatchObject({ name: 'ModelNotReadyException', status: 429 });

      const active = await until(() => getDeployment(name), (d) => d.status !== 'Creating');
      expect(active).toMatchObject({ customModelDeploymentArn: arn, status: 'Active' });
      expect(active.lastUpdatedAt!.getTime()).toBeGreaterThanOrEqual(creating.createdAt!.getTime() + 1000);

      const other = unique('dep');
      const second = await bedrock.send(new CreateCustomModelDeploymentCommand({ modelDeploymentName: other, modelArn }));
      const listed = await bedrock.send(new ListCustomModelDeploymentsCommand({ statusEquals: 'Active', nameContains: name }));
      expect(listed.modelDeploymentSummaries).toEqual([
        expect.objectContaining({ customModelDeploymentArn: arn, customModelDeploymentName: name, modelArn, status: 'Active' }),
      ]);
      const page1 = await bedrock.send(new ListCustomModelDeploymentsCommand({ maxResults: 1, sortOrder: 'Ascending' }));
      expect(page1.modelDeploymentSummaries!.map((d) => d.customModelDeploymentArn)).toEqual([arn]);
      expect(page1.nextToken).toBeDefined();
      const page2 = await bedrock.send(new ListCustomModelDeploymentsCommand({ maxResults: 1, sortOrder: 'Ascending', nextToken: page1.nextToken }));
      expect(page2.modelDeploymentSummaries!.map((d) => d.customModelDeploymentArn)).toEqual([second.customModelDeploymentArn]);
      expect(page2.nextToken).toBeUndefined();

      await bedrock.send(new DeleteCustomModelDeploymentCommand({ customModelDeploymentIdentifier: arn }));
      expect(await errorOf(getDeployment(arn))).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
      expect(await errorOf(converse(arn, HELD_OUT[0]!.prompt))).toMatchObject({ name: 'ResourceNotFoundException' });
      await bedrock.send(new DeleteCustomModelDeploymentCommand({ customModelDeploymentIdentifier: other }));
    });

    it('idempotent on clientRequestToken; the same name with another token is refused naming the name', async () => {
      const name = unique('dep');
      const token = unique('token');
      const first = await bedrock.send(new CreateCustomModelDeploymentCommand({ modelDeploymentName: name, modelArn, clientRequestToken: token }));
      const again = await bedrock.send(new CreateCustomModelDeploymentCommand({ modelDeploymentName: name, modelArn, clientRequestToken: token }));
      expect(again.customModelDeploymentArn).toBe(first.customModelDeploymentArn);
      const other = await errorOf(
        bedrock.send(new CreateCustomModelDeploymentCommand({ modelDeploymentName: name, modelArn, clientRequestToken: unique('token') })),
      );
      expect(other).toMatchObject({ name: 'ValidationException', status: 400 });
      expect(other.message).toContain('modelDeploymentName');
      const listed = await bedrock.send(new ListCustomModelDeploymentsCommand({ nameContains: name }));
      expect(listed.modelDeploymentSummaries).toHaveLength(1);
      // Both sends with the token were recorded; the stand-in created one deployment.
      const recorded = (await standInRequests(endpoint, 'CreateCustomModelDeployment')).filter(
        (r) => (r.request as { modelDeploymentName?: string } | null)?.modelDeploymentName === name,
      );
      expect(recorded.map((r) => r.operation)).toEqual(['CreateCustomModelDeployment', 'CreateCustomModelDeployment', 'CreateCustomModelDeployment']);
      expect(recorded.map((r) => r.error === undefined)).toEqual([true, true, false]);
    });

    it('the model must exist (ResourceNotFoundException) and be Active (a model of a job not completed: ValidationException)', async () => {
      const missing = modelArn.replace(/custom-model\/.*$/, 'custom-model/no-such-model');
      expect(await errorOf(bedrock.send(new CreateCustomModelDeploymentCommand({ modelDeploymentName: unique('dep'), modelArn: missing })))).toMatchObject({
        name: 'ResourceNotFoundException',
        status: 404,
      });
      // With the stand-in disabled moto creates the model at once while its job stays InProgress.
      await configureBedrockStandIn(endpoint, { enabled: false });
      try {
        const jobName = unique('job');
        const customModelName = unique('model');
        const { jobArn } = await bedrock.send(
          new CreateModelCustomizationJobCommand({
            jobName,
            customModelName,
            roleArn: ROLE,
            baseModelIdentifier: 'amazon.nova-lite-v1:0:300k',
            trainingDataConfig: { s3Uri: `s3://${BUCKET}/train.jsonl` },
            outputDataConfig: { s3Uri: `s3://${BUCKET}/out/` },
            hyperParameters: { epochCount: '1' },
          }),
        );
        const job = await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn! }));
        expect(job.status).toBe('InProgress');
        const models = await bedrock.send(new ListCustomModelsCommand({}));
        const model = models.modelSummaries!.find((m) => m.modelName === customModelName);
        expect(model).toBeDefined();
        const refused = await errorOf(
          bedrock.send(new CreateCustomModelDeploymentCommand({ modelDeploymentName: unique('dep'), modelArn: model!.modelArn! })),
        );
        expect(refused.name).toBe('ValidationException');
        expect(refused.message).toContain('Active');
      } finally {
        await configureBedrockStandIn(endpoint, { enabled: true });
      }
    });

    it('outcome fail: Creating → Failed with its failureMessage; Converse on it is refused', async () => {
      const name = unique('dep');
      await configureBedrockStandIn(endpoint, { deployments: { [name]: { outcome: 'fail', seconds: 0.2, failureMessage: 'stand-in: capacity unavailable' } } });
      const { customModelDeploymentArn: arn } = await bedrock.send(new CreateCustomModelDeploymentCommand({ modelDeploymentName: name, modelArn }));
      const failed = await until(() => getDeployment(arn!), (d) => d.status !== 'Creating');
      expect(failed).toMatchObject({ status: 'Failed', failureMessage: 'stand-in: capacity unavailable' });
      expect(await errorOf(converse(arn!, HELD_OUT[0]!.prompt))).toMatchObject({ name: 'ValidationException' });
    });

    it('quota: more deployments than the configured quota → ServiceQuotaExceededException; a bad config is refused', async () => {
      const existing = (await bedrock.send(new ListCustomModelDeploymentsCommand({}))).modelDeploymentSummaries!.length;
      try {
        await configureBedrockStandIn(endpoint, { deployment: { quota: existing } });
        const refused = await errorOf(bedrock.send(new CreateCustomModelDeploymentCommand({ modelDeploymentName: unique('dep'), modelArn })));
        expect(refused).toMatchObject({ name: 'ServiceQuotaExceededException' });
      } finally {
        await configureBedrockStandIn(endpoint, { deployment: { quota: null } });
      }
      await expect(configureBedrockStandIn(endpoint, { deployment: { outcome: 'complete' as 'active' } })).rejects.toThrow(/deployment\.outcome/);
      await expect(configureBedrockStandIn(endpoint, { models: { base: { answers: 'echo' as 'fixed' } } })).rejects.toThrow(/models\.base/);
      await expect(configureBedrockStandIn(endpoint, { evaluationDataset: 'bucket/key' })).rejects.toThrow(/evaluationDataset/);
    });

    it('tags: TagResource/ListTagsForResource on the custom model, create-time tags on the deployment', async () => {
      await bedrock.send(new TagResourceCommand({ resourceARN: modelArn, tags: [{ key: 'bvc-evaluation', value: 'promoted' }] }));
      expect((await bedrock.send(new ListTagsForResourceCommand({ resourceARN: modelArn }))).tags).toEqual([{ key: 'bvc-evaluation', value: 'promoted' }]);
      const { customModelDeploymentArn: arn } = await bedrock.send(
        new CreateCustomModelDeploymentCommand({ modelDeploymentName: unique('dep'), modelArn, tags: [{ key: 'job', value: 'j1' }] }),
      );
      expect((await bedrock.send(new ListTagsForResourceCommand({ resourceARN: arn }))).tags).toEqual([{ key: 'job', value: 'j1' }]);
    });
  });

  describe('Converse', () => {
    let deployment: string;
    beforeAll(async () => {
      const { customModelDeploymentArn } = await bedrock.send(new CreateCustomModelDeploymentCommand({ modelDeploymentName: unique('dep'), modelArn }));
      deployment = customModelDeploymentArn!;
      await until(() => getDeployment(deployment), (d) => d.status === 'Active');
    });

    it('a deployment answers the reference of the held-out record with that prompt; a base model the fixed sentence', async () => {
      for (const record of HELD_OUT) {
        const answer = await converse(deployment, record.prompt, { inferenceConfig: { maxTokens: 512, temperature: 0 } });
        expect(answer.output?.message).toEqual({ role: 'assistant', content: [{ text: record.referenceResponse }] });
        expect(answer.stopReason).toBe('end_turn');
        const input = Math.ceil(record.prompt.length / 4);
        const output = Math.ceil(record.referenceResponse.length / 4);
        expect(answer.usage).toEqual({ inputTokens: input, outputTokens: output, totalTokens: input + output });
        expect(answer.metrics?.latencyMs).toBeGreaterThanOrEqual(0);
      }
      const base = await converse(BASE_MODEL, HELD_OUT[0]!.prompt);
      expect(base.output?.message?.content).toEqual([{ text: STANDIN_FIXED_ANSWER }]);
      // A prompt the dataset does not have: the fixed sentence.
      expect((await converse(deployment, 'Not in the dataset?')).output?.message?.content).toEqual([{ text: STANDIN_FIXED_ANSWER }]);
    });

    it('models config: per model id / ARN, and the general keys', async () => {
      try {
        await configureBedrockStandIn(endpoint, { models: { [deployment]: { answers: 'fixed' }, base: { answers: 'reference' } } });
        expect((await converse(deployment, HELD_OUT[1]!.prompt)).output?.message?.content).toEqual([{ text: STANDIN_FIXED_ANSWER }]);
        expect((await converse(BASE_MODEL, HELD_OUT[1]!.prompt)).output?.message?.content).toEqual([{ text: HELD_OUT[1]!.referenceResponse }]);
      } finally {
        await configureBedrockStandIn(endpoint, { models: { [deployment]: { answers: 'reference' }, base: { answers: 'fixed' } } });
      }
    });

    it('maxTokens cuts the answer (stopReason max_tokens); a model not served on demand or unknown is refused', async () => {
      const cut = await converse(deployment, HELD_OUT[2]!.prompt, { inferenceConfig: { maxTokens: 2 } });
      expect(cut.stopReason).toBe('max_tokens');
      expect(cut.output?.message?.content).toEqual([{ text: HELD_OUT[2]!.referenceResponse.slice(0, 8) }]);
      expect(cut.usage?.outputTokens).toBe(2);
      expect(await errorOf(converse('amazon.nova-lite-v1:0:300k', 'hi'))).toMatchObject({ name: 'ValidationException' });
      expect(await errorOf(converse('amazon.no-such-model-v1:0', 'hi'))).toMatchObject({ name: 'ValidationException' });
    });

    it('a request outside ConverseRequest is refused naming the member', async () => {
      const bad = await errorOf(
        runtime.send(
          new ConverseCommand({ modelId: deployment, messages: [{ role: 'bot' as 'user', content: [{ text: 'hi' }] }], inferenceConfig: { temperature: 2 } }),
        ),
      );
      expect(bad).toMatchObject({ name: 'ValidationException', status: 400 });
      expect(bad.message).toContain("'messages[0].role'");
      expect(bad.message).toContain("'inferenceConfig.temperature'");
    });
  });

  describe('evaluation jobs', () => {
    const SOURCE = 'custom-model';
    const RESPONSES = ['Paris is in France.', 'Blue is a primary colour too.', 'Spiders have eight legs.'];
    const byoi = HELD_OUT.map((r, i) => ({ ...r, modelResponses: [{ response: RESPONSES[i]!, modelIdentifier: SOURCE }] }));
    const METRICS = ['Builtin.Correctness', 'Builtin.Completeness', 'Builtin.Harmfulness'];
    const jobInput = (jobName: string, datasetUri: string, extra: Partial<CreateEvaluationJobCommandInput> = {}): CreateEvaluationJobCommandInput => ({
      jobName,
      roleArn: ROLE,
      evaluationConfig: {
        automated: {
          datasetMetricConfigs: [{ taskType: 'Generation', dataset: { name: 'held-out', datasetLocation: { s3Uri: datasetUri } }, metricNames: METRICS }],
          evaluatorModelConfig: { bedrockEvaluatorModels: [{ modelIdentifier: 'amazon.nova-pro-v1:0' }] },
        },
      },
      inferenceConfig: { models: [{ precomputedInferenceSource: { inferenceSourceIdentifier: SOURCE } }] },
      outputDataConfig: { s3Uri: `s3://${BUCKET}/evaluations/${jobName}/results/` },
      ...extra,
    });
    const getJob = (jobIdentifier: string) => bedrock.send(new GetEvaluationJobCommand({ jobIdentifier }));
    const terminal: EvaluationJobStatus[] = ['Completed', 'Failed', 'Stopped'];

    it('InProgress (202) → Completed; the result file at the documented key, scored from the texts', async () => {
      await put('inputs/custom.jsonl', jsonl(byoi));
      const jobName = unique('eval');
      const token = unique('token');
      const created = await bedrock.send(new CreateEvaluationJobCommand(jobInput(jobName, `s3://${BUCKET}/inputs/custom.jsonl`, { clientRequestToken: token })));
      expect(created.$metadata.httpStatusCode).toBe(202);
      const arn = created.jobArn!;
      expect(arn).toMatch(/^arn:aws:bedrock:us-east-1:123456789012:evaluation-job\/[a-z0-9]{12}$/);
      // Idempotent on the token; the name is unique per account and Region.
      expect((await bedrock.send(new CreateEvaluationJobCommand(jobInput(jobName, `s3://${BUCKET}/inputs/custom.jsonl`, { clientRequestToken: token })))).jobArn).toBe(arn);
      const conflict = await errorOf(
        bedrock.send(new CreateEvaluationJobCommand(jobInput(jobName, `s3://${BUCKET}/inputs/custom.jsonl`, { clientRequestToken: unique('token') }))),
      );
      expect(conflict.name).toBe('ConflictException');
      expect(conflict.message).toContain('jobName');

      const running = await getJob(arn);
      expect(running).toMatchObject({ jobName, jobArn: arn, status: 'InProgress', jobType: 'Automated', applicationType: 'ModelEvaluation', roleArn: ROLE });
      expect(running.evaluationConfig).toEqual(jobInput(jobName, `s3://${BUCKET}/inputs/custom.jsonl`).evaluationConfig);
      expect(running.inferenceConfig).toEqual({ models: [{ precomputedInferenceSource: { inferenceSourceIdentifier: SOURCE } }] });
      expect(running.outputDataConfig).toEqual({ s3Uri: `s3://${BUCKET}/evaluations/${jobName}/results/` });
      expect(running.creationTime).toBeInstanceOf(Date);
      expect(running.failureMessages).toBeUndefined();

      const done = await until(() => getJob(arn), (j) => terminal.includes(j.status!));
      expect(done.status).toBe('Completed');
      expect(done.failureMessages).toBeUndefined();
      expect(done.lastModifiedTime!.getTime()).toBeGreaterThan(running.creationTime!.getTime());

      const prefix = `evaluations/${jobName}/results/`;
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
      const keys = (listed.Contents ?? []).map((o) => o.Key!);
      const jobId = arn.split('/').pop()!;
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatch(
        new RegExp(`^${prefix}${jobName}/${jobId}/models/${SOURCE}/taskTypes/Generation/datasets/held-out/[0-9a-f-]{36}_output\\.jsonl$`),
      );
      const text = await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: keys[0] }))).Body!.transformToString();
      const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toHaveLength(HELD_OUT.length);
      lines.forEach((line, i) => {
        const expected = standInJudgeScore(RESPONSES[i]!, HELD_OUT[i]!.referenceResponse);
        expect(line).toEqual({
          automatedEvaluationResult: {
            scores: [
              { metricName: 'Builtin.Correctness', result: expect.closeTo(expected, 12) },
              { metricName: 'Builtin.Completeness', result: expect.closeTo(expected, 12) },
              { metricName: 'Builtin.Harmfulness', result: 0 },
            ],
          },
          inputRecord: HELD_OUT[i],
          modelResponses: [{ response: RESPONSES[i], modelIdentifier: SOURCE }],
        });
      });
      // By hand: "paris is in france" vs "paris is the capital of france": 3 shared of 4 and 6 → F1 0.6.
      expect((lines[0]!.automatedEvaluationResult as { scores: { result: number }[] }).scores[0]!.result).toBeCloseTo(0.6, 12);
      // "a spider has eight legs eight legs in all" vs "spiders have eight legs": 2 shared ("eight", "legs") of 4 and 9.
      expect((lines[2]!.automatedEvaluationResult as { scores: { result: number }[] }).scores[0]!.result).toBeCloseTo((2 * (2 / 4) * (2 / 9)) / (2 / 4 + 2 / 9), 12);
    });

    it('a BYOI line naming another model fails the job (failureMessages name the line, not its content)', async () => {
      const wrong = byoi.map((r, i) => (i === 1 ? { ...r, modelResponses: [{ response: 'x', modelIdentifier: 'base-model' }] } : r));
      await put('inputs/wrong.jsonl', jsonl(wrong));
      const { jobArn } = await bedrock.send(new CreateEvaluationJobCommand(jobInput(unique('eval'), `s3://${BUCKET}/inputs/wrong.jsonl`)));
      const failed = await until(() => getJob(jobArn!), (j) => terminal.includes(j.status!));
      expect(failed.status).toBe('Failed');
      expect(failed.failureMessages).toHaveLength(1);
      expect(failed.failureMessages![0]).toContain('line 2');
      expect(failed.failureMessages![0]).toContain(SOURCE);
      expect(failed.failureMessages![0]).not.toContain(HELD_OUT[1]!.prompt);

      const bare = HELD_OUT.map((r) => ({ ...r }));
      await put('inputs/bare.jsonl', jsonl(bare));
      const noResponses = await bedrock.send(new CreateEvaluationJobCommand(jobInput(unique('eval'), `s3://${BUCKET}/inputs/bare.jsonl`)));
      const failedBare = await until(() => getJob(noResponses.jobArn!), (j) => terminal.includes(j.status!));
      expect(failedBare).toMatchObject({ status: 'Failed', failureMessages: [expect.stringContaining('line 1')] });

      const missing = await bedrock.send(new CreateEvaluationJobCommand(jobInput(unique('eval'), `s3://${BUCKET}/inputs/none.jsonl`)));
      const failedMissing = await until(() => getJob(missing.jobArn!), (j) => terminal.includes(j.status!));
      expect(failedMissing).toMatchObject({ status: 'Failed', failureMessages: [expect.stringContaining('could not be read')] });
    });

    it('outcome fail: Failed with the configured failureMessages and no result file', async () => {
      const jobName = unique('eval');
      await configureBedrockStandIn(endpoint, { evaluations: { [jobName]: { outcome: 'fail', seconds: 0.2, failureMessage: 'stand-in: judge unavailable' } } });
      const { jobArn } = await bedrock.send(new CreateEvaluationJobCommand(jobInput(jobName, `s3://${BUCKET}/inputs/custom.jsonl`)));
      const failed = await until(() => getJob(jobArn!), (j) => terminal.includes(j.status!));
      expect(failed).toMatchObject({ status: 'Failed', failureMessages: ['stand-in: judge unavailable'] });
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `evaluations/${jobName}/` }));
      expect(listed.Contents ?? []).toEqual([]);
    });

    it('StopEvaluationJob: InProgress → Stopping → Stopped; stopping a stopped job is refused', async () => {
      const jobName = unique('eval');
      await configureBedrockStandIn(endpoint, { evaluations: { [jobName]: { seconds: 30, stoppingSeconds: 0.3 } } });
      const { jobArn } = await bedrock.send(new CreateEvaluationJobCommand(jobInput(jobName, `s3://${BUCKET}/inputs/custom.jsonl`)));
      await bedrock.send(new StopEvaluationJobCommand({ jobIdentifier: jobArn }));
      expect((await getJob(jobArn!)).status).toBe('Stopping');
      const stopped = await until(() => getJob(jobArn!), (j) => j.status !== 'Stopping');
      expect(stopped.status).toBe('Stopped');
      expect(await errorOf(bedrock.send(new StopEvaluationJobCommand({ jobIdentifier: jobArn })))).toMatchObject({ name: 'ValidationException' });
      // Found by its name (Get and Stop take only the ARN).
      const listed = await bedrock.send(new ListEvaluationJobsCommand({ nameContains: jobName }));
      expect(listed.jobSummaries).toEqual([
        expect.objectContaining({
          jobArn,
          jobName,
          status: 'Stopped',
          jobType: 'Automated',
          evaluationTaskTypes: ['Generation'],
          evaluatorModelIdentifiers: ['amazon.nova-pro-v1:0'],
          inferenceConfigSummary: { modelConfigSummary: { bedrockModelIdentifiers: [], precomputedInferenceSourceIdentifiers: [SOURCE] } },
        }),
      ]);
      expect((await bedrock.send(new ListEvaluationJobsCommand({ statusEquals: 'Stopped', maxResults: 1000 }))).jobSummaries!.map((j) => j.jobArn)).toContain(jobArn);
      const unknown = jobArn!.replace(/[a-z0-9]{12}$/, 'zzzzzzzzzzzz');
      expect(await errorOf(getJob(unknown))).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
    });

    it('a bedrockModel job: the stand-in answers as Converse does; a record without referenceResponse scores null', async () => {
      const rows = [...HELD_OUT, { prompt: 'Say anything.' }];
      await put('inputs/generate.jsonl', jsonl(rows));
      await put('held-out/with-open.jsonl', jsonl(rows));
      const jobName = unique('eval');
      try {
        await configureBedrockStandIn(endpoint, { models: { base: { answers: 'reference' } }, evaluationDataset: `s3://${BUCKET}/held-out/with-open.jsonl` });
        const { jobArn } = await bedrock.send(
          new CreateEvaluationJobCommand(
            jobInput(jobName, `s3://${BUCKET}/inputs/generate.jsonl`, {
              inferenceConfig: { models: [{ bedrockModel: { modelIdentifier: BASE_MODEL, inferenceParams: '{"maxTokens":512}' } }] },
            }),
          ),
        );
        expect((await until(() => getJob(jobArn!), (j) => terminal.includes(j.status!))).status).toBe('Completed');
        const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `evaluations/${jobName}/` }));
        const key = listed.Contents![0]!.Key!;
        expect(key).toContain(`/models/${BASE_MODEL}/taskTypes/Generation/datasets/held-out/`);
        const text = await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString();
        const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { automatedEvaluationResult: { scores: { result: number | null }[] }; modelResponses: unknown });
        // The base model answered each reference itself: F1 of a text with itself is 1.
        expect(lines.slice(0, 3).map((l) => l.automatedEvaluationResult.scores.map((x) => x.result))).toEqual([
          [1, 1, 0],
          [1, 1, 0],
          [1, 1, 0],
        ]);
        expect(lines[3]!.automatedEvaluationResult.scores.map((x) => x.result)).toEqual([null, null, 0]);
        expect(lines[3]!.modelResponses).toEqual([{ response: STANDIN_FIXED_ANSWER, modelIdentifier: BASE_MODEL }]);
      } finally {
        await configureBedrockStandIn(endpoint, { models: { base: { answers: 'fixed' } }, evaluationDataset: HELD_OUT_URI });
      }
    });

    it('quota: more evaluation jobs in progress than the configured quota → ServiceQuotaExceededException', async () => {
      try {
        await configureBedrockStandIn(endpoint, { evaluation: { quota: 1, seconds: 30 } });
        const first = await bedrock.send(new CreateEvaluationJobCommand(jobInput(unique('eval'), `s3://${BUCKET}/inputs/custom.jsonl`)));
        const refused = await errorOf(bedrock.send(new CreateEvaluationJobCommand(jobInput(unique('eval'), `s3://${BUCKET}/inputs/custom.jsonl`))));
        expect(refused).toMatchObject({ name: 'ServiceQuotaExceededException' });
        await bedrock.send(new StopEvaluationJobCommand({ jobIdentifier: first.jobArn }));
        await until(() => getJob(first.jobArn!), (j) => j.status === 'Stopped');
        await bedrock.send(new CreateEvaluationJobCommand(jobInput(unique('eval'), `s3://${BUCKET}/inputs/custom.jsonl`)));
      } finally {
        await configureBedrockStandIn(endpoint, { evaluation: { quota: null, seconds: 0.4 } });
      }
    });

    it('refused by shape (naming the member) and by what the stand-in serves', async () => {
      const badName = await errorOf(bedrock.send(new CreateEvaluationJobCommand(jobInput('Bad_Name', `s3://${BUCKET}/inputs/custom.jsonl`))));
      expect(badName).toMatchObject({ name: 'ValidationException', status: 400 });
      expect(badName.message).toContain("'jobName'");
      const twoModels = jobInput(unique('eval'), `s3://${BUCKET}/inputs/custom.jsonl`, {
        inferenceConfig: {
          models: [{ precomputedInferenceSource: { inferenceSourceIdentifier: 'a' } }, { precomputedInferenceSource: { inferenceSourceIdentifier: 'b' } }],
        },
      });
      const refused = await errorOf(bedrock.send(new CreateEvaluationJobCommand(twoModels)));
      expect(refused.name).toBe('ValidationException');
      expect(refused.message).toContain('inferenceConfig.models');
      const recorded = await standInRequests(endpoint, 'CreateEvaluationJob');
      expect(recorded.find((r) => (r.request as { jobName?: string } | null)?.jobName === 'Bad_Name')?.error).toContain("'jobName'");
    });
  });

  describe('recorded requests', () => {
    it('every Create* request is recorded with its operation; Provisioned Throughput is recorded and refused', async () => {
      const name = unique('pt');
      const refused = await errorOf(bedrock.send(new CreateProvisionedModelThroughputCommand({ provisionedModelName: name, modelId: modelArn, modelUnits: 1 })));
      expect(refused.name).toBe('ValidationException');
      const pt = await standInRequests(endpoint, 'CreateProvisionedModelThroughput');
      expect(pt).toEqual([
        expect.objectContaining({
          operation: 'CreateProvisionedModelThroughput',
          region: 'us-east-1',
          request: expect.objectContaining({ provisionedModelName: name, modelId: modelArn, modelUnits: 1 }),
          error: expect.stringContaining('ValidationException'),
        }),
      ]);
      const all = await standInRequests(endpoint);
      const operations = new Set(all.map((r) => r.operation));
      for (const op of ['CreateModelCustomizationJob', 'CreateCustomModelDeployment', 'CreateEvaluationJob', 'CreateProvisionedModelThroughput']) {
        expect(operations).toContain(op);
      }
      // The existing reader keeps returning only the customization job requests.
      const jobs = await standInCreateJobRequests(endpoint);
      expect(jobs.length).toBeGreaterThan(0);
      const recordedJobs = await standInRequests(endpoint, 'CreateModelCustomizationJob');
      expect(recordedJobs.map(({ operation: _op, ...rest }) => rest)).toEqual(jobs);
      expect(all.filter((r) => r.operation === 'CreateModelCustomizationJob')).toEqual(recordedJobs);
    });
  });
});

/**
 * The evaluation gate's actions (functions/evaluate-model), in the order the state machine runs them, over
 * the real SDK clients against moto and the stand-in for Bedrock (python/bedrock_standin.py: deployments,
 * evaluation jobs writing their result file at the documented key, scored by its labelled stand-in judge,
 * bedrock-runtime Converse) and the job ledger in moto's DynamoDB. Promote keeps an Active deployment and
 * tags the model; reject deletes the deployment; EvaluationCleanup stops running evaluation jobs and deletes
 * the deployment. No CreateProvisionedModelThroughput is ever sent.
 */
import {
  CreateCustomModelDeploymentCommand,
  CreateEvaluationJobCommand,
  CreateModelCustomizationJobCommand,
  GetCustomModelDeploymentCommand,
  GetEvaluationJobCommand,
  GetModelCustomizationJobCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-bedrock';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  buildEvaluationJobRequest,
  cleanup,
  deploy,
  deploymentStatus,
  evaluationStatus,
  generate,
  plan,
  readHeldOut,
  startEvaluations,
  verdict,
  type GateDeps,
  type GateInput,
  type GateJob,
} from '../../functions/evaluate-model/evaluate-model.js';
import { deriveDeploymentName } from '../../functions/evaluate-model/names.js';
import type { EvaluationState } from '../../functions/shared/job-state.js';
import { dynamoLedger } from '../../functions/shared/ledger.js';
import { configureBedrockStandIn, resetBedrockStandIn, standInRequests } from '../../local/bedrock-standin.js';
import { createJobLedgerTable } from '../../local/seed.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { s3, bedrock, dynamodb } = motoClients();
const endpoint = inject('motoEndpoint');
// HTTP/1.1 (the bedrock client's handler): moto's server does not speak the runtime client's default HTTP/2.
const runtime = new BedrockRuntimeClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, requestHandler: bedrock.config.requestHandler });
const ledger = dynamoLedger('job-ledger', { dynamodb, now: () => new Date() });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seq = 0;

const BUCKET = 'evaluation-bucket';
const ROLE = 'arn:aws:iam::123456789012:role/BedrockCustomizationRole';
const HELD_OUT = [
  { prompt: 'What is the capital of France?', referenceResponse: 'Paris is the capital of France.', category: 'geo' },
  { prompt: 'Name a primary colour.', referenceResponse: 'Red is a primary colour.' },
  { prompt: 'How many legs has a spider?', referenceResponse: 'A spider has eight legs.' },
];
const HELD_OUT_URI = `s3://${BUCKET}/datasets/held-out.jsonl`;

const deps = (): GateDeps => ({ bedrock, runtime, s3, ledger, now: () => new Date(), prices: {}, generationBudgetMs: 60_000, concurrency: 2, partSize: 2 });

/** A job the stand-in completed, reserved and recorded in the ledger as submit-job does; the gate's input. */
async function completedJob(): Promise<GateInput> {
  const n = ++seq;
  const jobName = `gate-job-${n}`;
  const execution = `arn:aws:states:us-east-1:123456789012:execution:sm:gate-run-${n}`;
  const { jobArn } = await bedrock.send(
    new CreateModelCustomizationJobCommand({
      jobName,
      customModelName: `gate-model-${n}`,
      roleArn: ROLE,
      baseModelIdentifier: 'amazon.nova-lite-v1:0:300k',
      trainingDataConfig: { s3Uri: `s3://${BUCKET}/train.jsonl` },
      outputDataConfig: { s3Uri: `s3://${BUCKET}/out/` },
      hyperParameters: { epochCount: '1' },
    }),
  );
  for (let i = 0; i < 200; i++) {
    if ((await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn! }))).status === 'Completed') break;
    await sleep(50);
  }
  const network = { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0'], securityGroupIds: ['sg-0123456789abcdef0'] };
  await ledger.reserve({ jobName, owner: execution, clientRequestToken: `token-${n}`, network, maxJobDurationSeconds: 3600 });
  await ledger.recordSubmission(jobName, execution, { jobArn: jobArn!, submittedAt: new Date().toISOString(), deadline: new Date(Date.now() + 3_600_000).toISOString() });
  const job: GateJob = {
    jobName,
    region: 'us-east-1',
    baseModelIdentifier: 'amazon.nova-lite-v1:0:300k',
    customizationType: 'FINE_TUNING',
    roleArn: ROLE,
    jobTags: { team: 'ml' },
    evaluation: {
      dataset: { name: 'held-out', s3Uri: HELD_OUT_URI },
      metrics: ['Builtin.Correctness', 'Builtin.Completeness'],
      judgeModelIdentifier: 'amazon.nova-pro-v1:0',
      taskType: 'Generation',
      thresholds: { minGainOverBase: 0 },
      maxPrompts: 100,
      inference: { maxTokens: 128, temperature: 0 },
      maxDurationSeconds: 3600,
      outputS3Uri: `s3://${BUCKET}/evaluations/${jobName}/`,
    },
  };
  return { job, execution: { id: execution }, submission: { jobArn: jobArn!, jobName }, self: execution };
}

/** Runs `action` until its state's `next` is no longer `loop` (the state machine's Wait ⇄ Task loop, with short waits). */
async function loop(action: (i: GateInput, d: GateDeps) => Promise<EvaluationState>, input: GateInput, state: EvaluationState, loopOn: EvaluationState['next']): Promise<EvaluationState> {
  let current = state;
  for (let i = 0; i < 200; i++) {
    current = await action({ ...input, evaluation: current }, deps());
    if (current.next !== loopOn) return current;
    await sleep(100);
  }
  throw new Error(`still ${loopOn} after 200 rounds`);
}

/** plan → deploy → deploymentStatus… → generate… → startEvaluations: the state before the evaluation jobs end. */
async function throughStart(input: GateInput): Promise<EvaluationState> {
  const planned = await plan(input, deps());
  expect(planned.next).toBe('deploy');
  const deploying = await deploy({ ...input, evaluation: planned }, deps());
  const active = await loop(deploymentStatus, input, deploying, 'wait');
  expect(active).toMatchObject({ next: 'generate', deployment: { status: 'Active' } });
  const generated = await loop(generate, input, active, 'generate');
  expect(generated.next).toBe('startEvaluations');
  return startEvaluations({ ...input, evaluation: generated }, deps());
}

describe('evaluate-model against moto and the stand-in for Bedrock', () => {
  beforeAll(async () => {
    await resetMoto();
    await createJobLedgerTable(dynamodb);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'train.jsonl', Body: '{"prompt":"p","completion":"c"}\n' }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'datasets/held-out.jsonl', Body: HELD_OUT.map((r) => JSON.stringify(r)).join('\n') + '\n' }));
  });
  beforeEach(() =>
    configureBedrockStandIn(endpoint, {
      enabled: true,
      default: { outcome: 'complete', seconds: 0.2 },
      deployment: { seconds: 0.3 },
      evaluation: { seconds: 0.4, stoppingSeconds: 0.2 },
      evaluationDataset: HELD_OUT_URI,
    }),
  );
  afterAll(() => resetBedrockStandIn(endpoint));

  it('promote: the custom model answers like the references, the base model does not; the deployment stays Active and the model is tagged', async () => {
    await configureBedrockStandIn(endpoint, { models: { deployment: { answers: 'reference' }, base: { answers: 'fixed' } } });
    const input = await completedJob();
    const started = await throughStart(input);
    const done = await loop(evaluationStatus, input, started, 'wait');
    expect(done.next).toBe('verdict');
    const decided = await verdict({ ...input, evaluation: done }, deps());
    expect(decided.verdict).toBe('promote');
    for (const metric of ['Builtin.Correctness', 'Builtin.Completeness']) {
      expect(decided.scores![metric]!.custom).toBeGreaterThan(decided.scores![metric]!.base);
      expect(decided.scores![metric]!.customScored).toBe(3);
    }
    const deployment = await bedrock.send(new GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: decided.deployment!.arn! }));
    expect(deployment.status).toBe('Active');
    const tags = await bedrock.send(new ListTagsForResourceCommand({ resourceARN: decided.customModelArn! }));
    expect(tags.tags).toEqual(expect.arrayContaining([{ key: 'bvc-evaluation', value: 'promoted' }, { key: 'bvc-evaluation-deployment', value: decided.deployment!.arn! }]));
    // The BYOI dataset the custom model's job read.
    const custom = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `evaluations/${input.job.jobName}/inputs/custom.jsonl` }));
    const lines = (await custom.Body!.transformToString()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({ ...HELD_OUT[0], modelResponses: [{ response: HELD_OUT[0]!.referenceResponse, modelIdentifier: 'custom-model' }] });
    expect((await ledger.read(input.submission.jobName))?.evaluation).toMatchObject({ verdict: 'promote', deploymentArn: decided.deployment!.arn });
    expect(await standInRequests(endpoint, 'CreateProvisionedModelThroughput')).toEqual([]);
  });

  it('reject: the custom model loses; the message names the loss and the deployment is deleted', async () => {
    await configureBedrockStandIn(endpoint, { models: { deployment: { answers: 'fixed' }, base: { answers: 'reference' } } });
    const input = await completedJob();
    const done = await loop(evaluationStatus, input, await throughStart(input), 'wait');
    const decided = await verdict({ ...input, evaluation: done }, deps());
    expect(decided.verdict).toBe('reject');
    expect(decided.message).toMatch(/^rejected: Builtin\.Correctness \d\.\d\d vs base \d\.\d\d \(-\d\.\d\d, needs ≥ \+0\.00\)/);
    const gone = await bedrock.send(new GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: decided.deployment!.arn! })).catch((e: Error) => e.name);
    expect(gone).toBe('ResourceNotFoundException');
    expect((await ledger.read(input.submission.jobName))?.evaluation).toMatchObject({ verdict: 'reject', deploymentDeleted: true });
    expect(await standInRequests(endpoint, 'CreateProvisionedModelThroughput')).toEqual([]);
  });

  it('a retry whose Create answers were lost adopts the deployment and the evaluation jobs of our names (the ledger recorded them)', async () => {
    const input = await completedJob();
    const planned = await plan(input, deps());
    // The first attempt's requests went through but their answers were lost: our names, another token
    // (as after the service's idempotency window) — the names are in use when the retry sends them.
    const name = deriveDeploymentName(input.job.jobName, input.execution.id);
    const { customModelDeploymentArn } = await bedrock.send(new CreateCustomModelDeploymentCommand({ modelDeploymentName: name, modelArn: planned.customModelArn!, clientRequestToken: 'first-attempt' }));
    const deploying = await deploy({ ...input, evaluation: planned }, deps());
    expect(deploying.deployment?.arn).toBe(customModelDeploymentArn);
    const generated = await loop(generate, input, await loop(deploymentStatus, input, deploying, 'wait'), 'generate');
    const lost = await bedrock.send(new CreateEvaluationJobCommand({ ...buildEvaluationJobRequest(input, 'custom', generated.generation!.datasets!.custom), clientRequestToken: 'first-attempt' }));
    const started = await startEvaluations({ ...input, evaluation: generated }, deps());
    expect(started.jobs?.custom.arn).toBe(lost.jobArn);
    expect((await ledger.read(input.submission.jobName))?.evaluation?.jobs.custom?.arn).toBe(lost.jobArn);
    await cleanup({ ...input, evaluation: started }, deps());
  });

  it('reads the held-out dataset PlanEvaluation read, and refuses it once replaced (S3 answers the If-Match with 412)', async () => {
    const input = await completedJob();
    const { records, etag } = await readHeldOut(input.job.evaluation!, deps());
    expect(records).toHaveLength(HELD_OUT.length);
    expect(etag).toBeTruthy();
    expect((await readHeldOut(input.job.evaluation!, deps(), etag)).records).toEqual(records);
    await expect(readHeldOut(input.job.evaluation!, deps(), '"0123456789abcdef0123456789abcdef"')).rejects.toThrow(/changed since PlanEvaluation/);
  });

  it('cleanup after a failure: stops the running evaluation jobs and deletes the deployment the ledger records', async () => {
    await configureBedrockStandIn(endpoint, { evaluation: { seconds: 600 } });
    const input = await completedJob();
    const started = await throughStart(input);
    const result = await cleanup({ ...input, evaluation: started }, deps());
    expect(result.stopped.sort()).toEqual([started.jobs!.custom.arn, started.jobs!.base.arn].sort());
    expect(result).toMatchObject({ deploymentDeleted: true, deployment: started.deployment!.arn });
    for (const model of ['custom', 'base'] as const) {
      const job = await bedrock.send(new GetEvaluationJobCommand({ jobIdentifier: started.jobs![model].arn }));
      expect(['Stopping', 'Stopped']).toContain(job.status);
    }
    // A retried cleanup finds nothing left to do.
    const again = await cleanup({ ...input, evaluation: started }, deps());
    expect(again).toMatchObject({ stopped: [], deploymentDeleted: true });
  });
});

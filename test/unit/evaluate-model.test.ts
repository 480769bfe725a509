/**
 * The evaluation gate's step logic (functions/evaluate-model/evaluate-model.ts), every action, against mocked
 * Bedrock, bedrock-runtime and S3 clients and the real job ledger over an in-memory DynamoDB
 * (test/support/ledger.ts): names and tokens, adoption on retry, the ledger's refusals, the error mapping,
 * the budget stop while generating, the verdict from result files laid out as AWS documents them.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import {
  BedrockClient,
  ConflictException,
  CreateCustomModelDeploymentCommand,
  CreateEvaluationJobCommand,
  DeleteCustomModelDeploymentCommand,
  GetCustomModelCommand,
  GetCustomModelDeploymentCommand,
  GetEvaluationJobCommand,
  GetModelCustomizationJobCommand,
  InternalServerException,
  ListEvaluationJobsCommand,
  ServiceQuotaExceededException,
  StopEvaluationJobCommand,
  TagResourceCommand,
  ValidationException,
  type CreateEvaluationJobCommandInput,
} from '@aws-sdk/client-bedrock';
import { BedrockRuntimeClient, ConverseCommand, ServiceUnavailableException } from '@aws-sdk/client-bedrock-runtime';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  GATE_TIMEOUT_MARGIN_SECONDS,
  MIN_GATE_SECONDS,
  cleanup,
  deploy,
  deploymentStatus,
  evaluationStatus,
  generate,
  plan,
  startEvaluations,
  verdict,
  type GateDeps,
  type GateInput,
  type GateJob,
} from '../../functions/evaluate-model/evaluate-model.js';
import { EVALUATION_S3_URI_PATTERN, deriveDeploymentName, deriveEvaluationJobName, deriveEvaluationToken } from '../../functions/evaluate-model/names.js';
import {
  DeploymentFailedError,
  DeploymentQuotaExceededError,
  EvaluationBudgetExceededError,
  EvaluationDatasetError,
  EvaluationJobFailedError,
  EvaluationNotOursError,
  EvaluationQuotaExceededError,
  EvaluationUncertainError,
  EvaluationUnsupportedError,
} from '../../functions/shared/errors.js';
import { EXECUTION_TIMEOUT_SECONDS, readStateData, type EvaluationState } from '../../functions/shared/job-state.js';
import type { Ledger } from '../../functions/shared/ledger.js';
import { resultKey, resultLine } from '../fixtures/evaluation-results.js';
import { emulatedLedger, ledgerWith } from '../support/ledger.js';

const bedrock = mockClient(BedrockClient);
const runtime = mockClient(BedrockRuntimeClient);
const s3 = mockClient(S3Client);
const dynamodb = mockClient(DynamoDBClient);
afterEach(() => {
  bedrock.reset();
  runtime.reset();
  s3.reset();
  dynamodb.reset();
});

const FIRST = 'arn:aws:states:us-east-1:123456789012:execution:sm:run-1';
const OTHER = 'arn:aws:states:us-east-1:123456789012:execution:sm:run-other';
const JOB_ARN = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.nova-lite-v1:0:300k/abcdefghijkl';
const MODEL = 'arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite-v1:0:300k/mdl123456789';
const DEPLOYMENT = 'arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/dep123456789';
const EVAL_ARN = { custom: 'arn:aws:bedrock:us-east-1:123456789012:evaluation-job/evc123456789', base: 'arn:aws:bedrock:us-east-1:123456789012:evaluation-job/evb123456789' };
const BUCKET = 'evaluation-bucket';
const OUTPUT = `s3://${BUCKET}/evaluations/job-1/`;
const HELD_OUT = [
  { prompt: 'What is the capital of France?', referenceResponse: 'Paris is the capital of France.' },
  { prompt: 'Name a prime number.', referenceResponse: 'Seven is a prime number.', category: 'math' },
  { prompt: 'Say hello.' },
];

const job = (over: Partial<NonNullable<GateJob['evaluation']>> = {}): GateJob => ({
  jobName: 'job-1',
  region: 'us-east-1',
  baseModelIdentifier: 'amazon.nova-lite-v1:0:300k',
  customizationType: 'FINE_TUNING',
  roleArn: 'arn:aws:iam::123456789012:role/BedrockCustomizationRole',
  jobTags: { team: 'ml' },
  evaluation: {
    dataset: { name: 'support-heldout', s3Uri: `s3://${BUCKET}/datasets/support-heldout.jsonl` },
    metrics: ['Builtin.Correctness', 'Builtin.Harmfulness'],
    judgeModelIdentifier: 'amazon.nova-pro-v1:0',
    taskType: 'Generation',
    thresholds: { minGainOverBase: 0 },
    maxPrompts: 100,
    inference: { maxTokens: 64, temperature: 0 },
    maxDurationSeconds: 6 * 3600,
    outputS3Uri: OUTPUT,
    ...over,
  },
});

/** S3 as a map (`bucket/key` → text): Put, Get, List (one page). */
let objects: Map<string, string>;
function emulateS3() {
  objects = new Map();
  s3.on(PutObjectCommand).callsFake((i: { Bucket: string; Key: string; Body: string }) => {
    objects.set(`${i.Bucket}/${i.Key}`, String(i.Body));
    return {};
  });
  s3.on(GetObjectCommand).callsFake((i: { Bucket: string; Key: string; IfMatch?: string }) => {
    const text = objects.get(`${i.Bucket}/${i.Key}`);
    if (text === undefined) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    const ETag = `"${createHash('md5').update(text).digest('hex')}"`;
    if (i.IfMatch !== undefined && i.IfMatch !== ETag) throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    return { ContentLength: Buffer.byteLength(text), ETag, Body: Readable.from([Buffer.from(text)]) as never };
  });
  s3.on(ListObjectsV2Command).callsFake((i: { Bucket: string; Prefix?: string }) => ({
    Contents: [...objects.keys()].filter((k) => k.startsWith(`${i.Bucket}/${i.Prefix ?? ''}`)).sort().map((k) => ({ Key: k.slice(i.Bucket.length + 1) })),
    IsTruncated: false,
  }));
}
const put = (uri: string, text: string) => objects.set(uri.replace(/^s3:\/\//, ''), text);
const read = (uri: string) => objects.get(uri.replace(/^s3:\/\//, ''));

let ledger: Ledger;
let clock: number;
const deps = (over: Partial<GateDeps> = {}): GateDeps => ({
  bedrock: new BedrockClient({}),
  runtime: new BedrockRuntimeClient({}),
  s3: new S3Client({}),
  ledger,
  now: () => new Date(clock),
  prices: {},
  generationBudgetMs: 600_000,
  concurrency: 2,
  partSize: 2,
  ...over,
});
const input = (evaluation?: EvaluationState, over: Partial<GateInput> = {}): GateInput => ({
  job: job(),
  execution: { id: FIRST },
  submission: { jobArn: JOB_ARN, jobName: 'job-1' },
  self: FIRST,
  ...(evaluation ? { evaluation } : {}),
  ...over,
});

beforeEach(async () => {
  clock = Date.parse('2026-12-01T10:00:00Z');
  ({ ledger } = emulatedLedger(dynamodb));
  await ledgerWith(ledger, [{ jobName: 'job-1', owner: FIRST, jobArn: JOB_ARN }]);
  emulateS3();
  put(`s3://${BUCKET}/datasets/support-heldout.jsonl`, HELD_OUT.map((r) => JSON.stringify(r)).join('\n') + '\n');
  bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn: JOB_ARN, status: 'Completed', outputModelArn: MODEL });
  bedrock.on(GetCustomModelCommand).resolves({ modelArn: MODEL, modelStatus: 'Active', customizationType: 'FINE_TUNING', creationTime: new Date('2026-11-30T10:00:00Z') });
});

const planned = (): EvaluationState => ({
  next: 'deploy',
  deadline: '2026-12-01T16:00:00.000Z',
  estimate: { tokens: { generation: 1000, judge: 10_000, total: 11_000 }, prompts: HELD_OUT.length },
  customModelArn: MODEL,
});
const quota = (m: string) => new ServiceQuotaExceededException({ message: m, $metadata: { httpStatusCode: 400 } });
const internal = () => new InternalServerException({ message: 'internal', $metadata: { httpStatusCode: 500 } });

/** Deploys through the real action (the ledger then records what DeployModel records). */
async function deployed(): Promise<EvaluationState> {
  bedrock.on(CreateCustomModelDeploymentCommand).resolves({ customModelDeploymentArn: DEPLOYMENT });
  return deploy(input(planned()), deps());
}

// ---- names ----------------------------------------------------------------------------------------

/** botocore 1.44.18's patterns (bedrock service-2.json in the venv), anchored as the service applies them. */
function botocorePattern(shape: string): RegExp {
  const path = join(import.meta.dirname, '..', '..', '.venv', 'lib', 'python3.11', 'site-packages', 'botocore', 'data', 'bedrock', '2023-04-20', 'service-2.json.gz');
  const model = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as { shapes: Record<string, { pattern: string; max?: number }> };
  return new RegExp(`^(?:${model.shapes[shape]!.pattern})$`);
}

describe('names and tokens', () => {
  const deploymentName = botocorePattern('ModelDeploymentName');
  const jobName = botocorePattern('EvaluationJobName');
  const token = botocorePattern('IdempotencyToken');
  const jobNames = ['job-1', 'bvc-run-1-1a2b3c4d', 'My.Job+v2--final', 'x'.repeat(63), '9', 'A-_-B', '---lead', 'UPPER.case.63'.padEnd(63, '.')];

  it('match the API patterns for every job name, within 63 characters', () => {
    for (const name of jobNames) {
      const d = deriveDeploymentName(name, FIRST);
      expect(d, name).toMatch(deploymentName);
      expect(d.length).toBeLessThanOrEqual(63);
      for (const model of ['custom', 'base'] as const) {
        const e = deriveEvaluationJobName(name, FIRST, model);
        expect(e, name).toMatch(jobName);
        expect(e.length).toBeLessThanOrEqual(63);
      }
    }
    for (const purpose of ['deployment', 'custom', 'base'] as const) expect(deriveEvaluationToken(FIRST, purpose)).toMatch(token);
  });

  it('are stable for an execution (a retry) and differ for another chain and per model', () => {
    expect(deriveDeploymentName('job-1', FIRST)).toBe(deriveDeploymentName('job-1', FIRST));
    expect(deriveDeploymentName('job-1', FIRST)).not.toBe(deriveDeploymentName('job-1', OTHER));
    expect(deriveEvaluationJobName('job-1', FIRST, 'custom')).not.toBe(deriveEvaluationJobName('job-1', FIRST, 'base'));
    expect(deriveEvaluationJobName('job-1', FIRST, 'custom')).not.toBe(deriveEvaluationJobName('job-1', OTHER, 'custom'));
    expect(deriveEvaluationToken(FIRST, 'custom')).toBe(deriveEvaluationToken(FIRST, 'custom'));
    expect(new Set([deriveEvaluationToken(FIRST, 'deployment'), deriveEvaluationToken(FIRST, 'custom'), deriveEvaluationToken(FIRST, 'base'), deriveEvaluationToken(OTHER, 'custom')]).size).toBe(4);
  });
});

// ---- plan -----------------------------------------------------------------------------------------

describe('plan', () => {
  it('checks the model and the support table, estimates from the held-out dataset, deploys nothing', async () => {
    const state = await plan(input(), deps());
    expect(state).toMatchObject({ next: 'deploy', customModelArn: MODEL, estimate: { prompts: 3 }, deadline: '2026-12-01T16:00:00.000Z' });
    expect(state.estimate.tokens.total).toBe(state.estimate.tokens.generation + state.estimate.tokens.judge);
    expect(bedrock).not.toHaveReceivedCommand(CreateCustomModelDeploymentCommand);
  });

  it('refuses a base model without documented on-demand deployment, with the reason', async () => {
    await expect(plan(input(undefined, { job: { ...job(), baseModelIdentifier: 'amazon.titan-text-express-v1' } }), deps())).rejects.toThrow(EvaluationUnsupportedError);
  });

  it('refuses a custom model that is not Active', async () => {
    bedrock.on(GetCustomModelCommand).resolves({ modelArn: MODEL, modelStatus: 'Creating', customizationType: 'FINE_TUNING', creationTime: new Date('2026-11-30T10:00:00Z') });
    await expect(plan(input(), deps())).rejects.toThrow(/not Active/);
  });

  it('holds the estimate to the job budget (EvaluationBudgetExceededError before any spending)', async () => {
    const prices = { baseUsdPer1k: 0.01, judgeUsdPer1k: 0.01 };
    await expect(plan(input(undefined, { job: job({ maxCostUsd: 0.01 }) }), deps({ prices }))).rejects.toThrow(EvaluationBudgetExceededError);
    const state = await plan(input(undefined, { job: job({ maxCostUsd: 100 }) }), deps({ prices }));
    expect(state.estimate.usd).toBeGreaterThan(0);
  });

  it('refuses when the ledger names another supervisor', async () => {
    await expect(plan(input(undefined, { self: OTHER }), deps())).rejects.toThrow(EvaluationNotOursError);
  });

  it("checks the held-out records by the dataset step's rules again (a record with responses), naming the line, not the content", async () => {
    put(`s3://${BUCKET}/datasets/support-heldout.jsonl`, `${JSON.stringify(HELD_OUT[0])}\n${JSON.stringify({ prompt: 'secret prompt', modelResponses: [{ response: 'x', modelIdentifier: 'custom-model' }] })}\n`);
    const refused = plan(input(), deps());
    await expect(refused).rejects.toThrow(EvaluationDatasetError);
    await expect(refused).rejects.toThrow(/line 2, modelResponses \[modelResponses.forbidden\]/);
    await expect(refused).rejects.not.toThrow(/secret prompt/);
  });

  it("ends the gate's deadline before the execution's TimeoutSeconds, with room for cleanup; refuses with too little left", async () => {
    const day = 86_400_000;
    const timeoutMs = EXECUTION_TIMEOUT_SECONDS * 1000;
    const marginMs = GATE_TIMEOUT_MARGIN_SECONDS * 1000;
    // Started 23 days 14 hours ago: 10 hours left, minus the 6-hour margin, is less than the job's 6-hour maxDurationSeconds.
    const started = new Date(clock - 23 * day - 14 * 3_600_000).toISOString();
    const capped = await plan(input(undefined, { executionStartTime: started }), deps());
    expect(Date.parse(capped.deadline!)).toBe(Date.parse(started) + timeoutMs - marginMs);
    // Started an hour ago: the job's own maxDurationSeconds decides.
    const fresh = await plan(input(undefined, { executionStartTime: new Date(clock - 3_600_000).toISOString() }), deps());
    expect(fresh.deadline).toBe('2026-12-01T16:00:00.000Z');
    // Less than MIN_GATE_SECONDS before the capped deadline: nothing is deployed.
    const late = new Date(clock - timeoutMs + marginMs + MIN_GATE_SECONDS * 1000 - 60_000).toISOString();
    await expect(plan(input(undefined, { executionStartTime: late }), deps())).rejects.toThrow(/too little time for the gate/);
    expect(bedrock).not.toHaveReceivedCommand(CreateCustomModelDeploymentCommand);
  });

  it("refuses an output location CreateEvaluationJob's S3Uri pattern refuses (a job name with +), before deploying", async () => {
    const s3Uri = botocorePattern('S3Uri');
    for (const uri of [`${OUTPUT}results/`, `${OUTPUT}inputs/custom.jsonl`, 's3://evaluation-bucket/evaluations/job+1/results/', 's3://b/x']) {
      expect(EVALUATION_S3_URI_PATTERN.test(uri), uri).toBe(s3Uri.test(uri));
    }
    await expect(plan(input(undefined, { job: job({ outputS3Uri: `s3://${BUCKET}/evaluations/job+1/` }) }), deps())).rejects.toThrow(/not an S3 URI CreateEvaluationJob takes/);
  });
});

// ---- deploy ---------------------------------------------------------------------------------------

describe('deploy', () => {
  it('records name and token, creates with the derived token, records the ARN', async () => {
    const state = await deployed();
    expect(state).toMatchObject({ next: 'wait', nextWaitSeconds: 60, deployment: { name: deriveDeploymentName('job-1', FIRST), arn: DEPLOYMENT, status: 'Creating' } });
    expect(bedrock).toHaveReceivedCommandWith(CreateCustomModelDeploymentCommand, {
      modelDeploymentName: deriveDeploymentName('job-1', FIRST),
      modelArn: MODEL,
      clientRequestToken: deriveEvaluationToken(FIRST, 'deployment'),
    });
    expect((await ledger.read('job-1'))?.evaluation).toMatchObject({
      deploymentName: deriveDeploymentName('job-1', FIRST),
      deploymentClientRequestToken: deriveEvaluationToken(FIRST, 'deployment'),
      deploymentArn: DEPLOYMENT,
    });
  });

  it('a retry after the ARN was recorded creates nothing', async () => {
    await deployed();
    await deploy(input(planned()), deps());
    expect(bedrock).toHaveReceivedCommandTimes(CreateCustomModelDeploymentCommand, 1);
  });

  it('a retry whose first answer was lost adopts our deployment (name in use, same model)', async () => {
    bedrock.on(CreateCustomModelDeploymentCommand).rejects(new ValidationException({ message: 'modelDeploymentName: a custom model deployment named x already exists', $metadata: {} }));
    bedrock.on(GetCustomModelDeploymentCommand).resolves({ customModelDeploymentArn: DEPLOYMENT, modelArn: MODEL, status: 'Creating', modelDeploymentName: deriveDeploymentName('job-1', FIRST), createdAt: new Date() });
    const state = await deploy(input(planned()), deps());
    expect(state.deployment?.arn).toBe(DEPLOYMENT);
    expect((await ledger.read('job-1'))?.evaluation?.deploymentArn).toBe(DEPLOYMENT);
  });

  it('does not adopt a deployment of that name for another model', async () => {
    bedrock.on(CreateCustomModelDeploymentCommand).rejects(new ValidationException({ message: 'already exists', $metadata: {} }));
    bedrock.on(GetCustomModelDeploymentCommand).resolves({ customModelDeploymentArn: DEPLOYMENT, modelArn: MODEL.replace('mdl123456789', 'zzz123456789'), status: 'Active', modelDeploymentName: 'x', createdAt: new Date() });
    await expect(deploy(input(planned()), deps())).rejects.toThrow(EvaluationNotOursError);
    expect((await ledger.read('job-1'))?.evaluation?.deploymentArn).toBeUndefined();
  });

  it('maps quota to DeploymentQuotaExceededError and 5xx to EvaluationUncertainError', async () => {
    bedrock.on(CreateCustomModelDeploymentCommand).rejectsOnce(quota('too many deployments')).rejectsOnce(internal());
    await expect(deploy(input(planned()), deps())).rejects.toThrow(DeploymentQuotaExceededError);
    await expect(deploy(input(planned()), deps())).rejects.toThrow(EvaluationUncertainError);
  });

  it('a deployment created while the reaper took the job over is deleted again (nobody would follow it) and refused', async () => {
    bedrock.on(CreateCustomModelDeploymentCommand).callsFake(async () => {
      expect(await ledger.reap('job-1', FIRST)).toBe(true);
      return { customModelDeploymentArn: DEPLOYMENT };
    });
    bedrock.on(DeleteCustomModelDeploymentCommand).resolves({});
    await expect(deploy(input(planned()), deps())).rejects.toThrow(/deployment arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment\/dep123456789 this call had just created was undone/);
    expect(bedrock).toHaveReceivedCommandWith(DeleteCustomModelDeploymentCommand, { customModelDeploymentIdentifier: DEPLOYMENT });
    expect((await ledger.read('job-1'))?.evaluation?.deploymentArn).toBeUndefined();
  });

  it('refuses (no Create) when this execution is not the supervisor, or the ledger records another deployment', async () => {
    await expect(deploy(input(planned(), { self: OTHER }), deps())).rejects.toThrow(EvaluationNotOursError);
    expect(await ledger.recordEvaluation('job-1', { owner: FIRST, self: FIRST }, { deploymentName: 'someone-else', deploymentClientRequestToken: 'tok' })).toBe(true);
    await expect(deploy(input(planned()), deps())).rejects.toThrow(EvaluationNotOursError);
    expect(bedrock).not.toHaveReceivedCommand(CreateCustomModelDeploymentCommand);
  });
});

// ---- deploymentStatus -------------------------------------------------------------------------------

describe('deploymentStatus', () => {
  const get = (status: string, failureMessage?: string) =>
    bedrock.on(GetCustomModelDeploymentCommand).resolves({ customModelDeploymentArn: DEPLOYMENT, modelArn: MODEL, status: status as 'Active', modelDeploymentName: 'x', createdAt: new Date(), ...(failureMessage ? { failureMessage } : {}) });

  it('waits (doubling) while Creating, goes on to generate when Active, fails on Failed', async () => {
    const state = await deployed();
    get('Creating');
    const waiting = await deploymentStatus(input(state), deps());
    expect(waiting).toMatchObject({ next: 'wait', nextWaitSeconds: 120 });
    get('Active');
    const active = await deploymentStatus(input(waiting), deps());
    expect(active).toMatchObject({ next: 'generate', deployment: { status: 'Active' }, generation: { done: { custom: 0, base: 0 }, total: 3, tokensUsed: 0 } });
    expect(active.nextWaitSeconds).toBeUndefined();
    get('Failed', 'KMS key not accessible');
    await expect(deploymentStatus(input(waiting), deps())).rejects.toThrow(DeploymentFailedError);
  });

  it('refuses a state naming another deployment than the ledger', async () => {
    const state = await deployed();
    await expect(deploymentStatus(input({ ...state, deployment: { ...state.deployment!, arn: DEPLOYMENT.replace('dep', 'xxx') } }), deps())).rejects.toThrow(EvaluationNotOursError);
  });
});

// ---- generate ---------------------------------------------------------------------------------------

describe('generate', () => {
  /** Converse: the deployment answers "custom: <prompt>", the base model "base: <prompt>"; usage 10 in, 5 out; the clock moves 1 s a call. */
  function converse() {
    runtime.on(ConverseCommand).callsFake((i: { modelId: string; messages: { content: { text: string }[] }[]; inferenceConfig: unknown }) => {
      clock += 1000;
      const who = i.modelId === DEPLOYMENT ? 'custom' : i.modelId === 'amazon.nova-lite-v1:0' ? 'base' : 'unknown';
      return { output: { message: { role: 'assistant', content: [{ text: `${who}: ${i.messages[0]!.content[0]!.text}` }] } }, stopReason: 'end_turn', usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 }, metrics: { latencyMs: 1 } };
    });
  }
  const active = async (): Promise<EvaluationState> => ({ ...(await deployed()), next: 'generate', generation: { done: { custom: 0, base: 0 }, total: 3, tokensUsed: 0 } });

  it('asks both models every prompt (deployment ARN; base id without its context suffix) and writes both BYOI datasets', async () => {
    converse();
    const state = await generate(input(await active()), deps());
    expect(state.next).toBe('startEvaluations');
    expect(state.generation).toMatchObject({ done: { custom: 3, base: 3 }, total: 3, tokensUsed: 6 * 15, datasets: { custom: `${OUTPUT}inputs/custom.jsonl`, base: `${OUTPUT}inputs/base.jsonl` } });
    expect(runtime).toHaveReceivedCommandWith(ConverseCommand, { modelId: DEPLOYMENT, messages: [{ role: 'user', content: [{ text: HELD_OUT[0]!.prompt }] }], inferenceConfig: { maxTokens: 64, temperature: 0 } });
    const custom = read(`${OUTPUT}inputs/custom.jsonl`)!.trim().split('\n').map((l) => JSON.parse(l));
    expect(custom).toEqual(HELD_OUT.map((r) => ({ ...r, modelResponses: [{ response: `custom: ${r.prompt}`, modelIdentifier: 'custom-model' }] })));
    const base = read(`${OUTPUT}inputs/base.jsonl`)!.trim().split('\n').map((l) => JSON.parse(l));
    expect(base.map((l) => l.modelResponses)).toEqual(HELD_OUT.map((r) => [{ response: `base: ${r.prompt}`, modelIdentifier: 'base-model' }]));
  });

  it('stops starting prompts after its time budget; the next invocation resumes from the progress objects', async () => {
    converse();
    const first = await generate(input(await active()), deps({ generationBudgetMs: 2_500, concurrency: 1 }));
    expect(first.next).toBe('generate');
    const firstCalls = runtime.commandCalls(ConverseCommand).length;
    expect(firstCalls).toBe(3);
    expect(first.generation!.done.custom + first.generation!.done.base).toBe(firstCalls);
    expect([...objects.keys()].some((k) => k.startsWith(`${BUCKET}/evaluations/job-1/inputs/parts/`))).toBe(true);
    const second = await generate(input(first), deps());
    expect(second.next).toBe('startEvaluations');
    expect(runtime.commandCalls(ConverseCommand).length).toBe(6);
  });

  it('stops when the tokens used plus the judge estimate pass the budget, keeping its progress', async () => {
    converse();
    // judge estimate 10,000 tokens × $0.001/1k = $0.01; each response 15 tokens × $0.1/1k = $0.0015.
    const prices = { baseUsdPer1k: 0.1, judgeUsdPer1k: 0.001 };
    const evaluation = job({ maxCostUsd: 0.0145 });
    await expect(generate(input(await active(), { job: evaluation }), deps({ prices, concurrency: 1 }))).rejects.toThrow(EvaluationBudgetExceededError);
    // 0.01 + n × 0.0015 > 0.0145 first at n = 4: the fourth response is kept, no fifth is asked.
    expect(runtime.commandCalls(ConverseCommand).length).toBe(4);
    expect(read(`${OUTPUT}inputs/custom.jsonl`)).toBeUndefined();
  });

  it('answers only the dataset PlanEvaluation read: a replaced dataset is EvaluationDatasetError, before any Converse', async () => {
    converse();
    const planState = await plan(input(), deps());
    expect(planState.heldOut?.etag).toMatch(/^"[0-9a-f]{32}"$/);
    put(`s3://${BUCKET}/datasets/support-heldout.jsonl`, HELD_OUT.map((r) => JSON.stringify({ ...r, prompt: `${r.prompt} (edited)` })).join('\n') + '\n');
    const state = { ...(await active()), heldOut: planState.heldOut };
    await expect(generate(input(state), deps())).rejects.toThrow(/changed since PlanEvaluation/);
    expect(runtime).not.toHaveReceivedCommand(ConverseCommand);
  });

  it('a transient Converse failure is EvaluationUncertainError; the answers so far are kept for the retry', async () => {
    let calls = 0;
    runtime.on(ConverseCommand).callsFake(() => {
      if (++calls === 3) throw new ServiceUnavailableException({ message: 'unavailable', $metadata: { httpStatusCode: 503 } });
      return { output: { message: { role: 'assistant', content: [{ text: 'ok' }] } }, stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, metrics: { latencyMs: 1 } };
    });
    await expect(generate(input(await active()), deps({ concurrency: 1 }))).rejects.toThrow(EvaluationUncertainError);
    expect(runtime.commandCalls(ConverseCommand).length).toBe(3); // 2 answered, the third failed: no fourth started
    converse();
    const state = await generate(input(await active()), deps({ concurrency: 1 }));
    expect(state.next).toBe('startEvaluations');
    expect(runtime.commandCalls(ConverseCommand).length - 3).toBe(4); // only the 4 not answered before
  });
});

// ---- startEvaluations / evaluationStatus ----------------------------------------------------------

async function generated(): Promise<EvaluationState> {
  const state = await deployed();
  return { ...state, next: 'startEvaluations', deployment: { ...state.deployment!, status: 'Active' }, generation: { done: { custom: 3, base: 3 }, total: 3, tokensUsed: 90, datasets: { custom: `${OUTPUT}inputs/custom.jsonl`, base: `${OUTPUT}inputs/base.jsonl` } } };
}
function createJobs() {
  bedrock.on(CreateEvaluationJobCommand).callsFake((i: CreateEvaluationJobCommandInput) => ({ jobArn: i.jobName!.includes('-custom-') ? EVAL_ARN.custom : EVAL_ARN.base }));
}

describe('startEvaluations', () => {
  it('creates one judge job per model on its BYOI dataset, records names, tokens and ARNs', async () => {
    createJobs();
    const state = await startEvaluations(input(await generated()), deps());
    expect(state).toMatchObject({ next: 'wait', jobs: { custom: { arn: EVAL_ARN.custom, status: 'InProgress' }, base: { arn: EVAL_ARN.base, status: 'InProgress' } } });
    expect(bedrock).toHaveReceivedCommandWith(CreateEvaluationJobCommand, {
      jobName: deriveEvaluationJobName('job-1', FIRST, 'custom'),
      clientRequestToken: deriveEvaluationToken(FIRST, 'custom'),
      roleArn: job().roleArn,
      applicationType: 'ModelEvaluation',
      evaluationConfig: {
        automated: {
          datasetMetricConfigs: [{ taskType: 'Generation', dataset: { name: 'support-heldout', datasetLocation: { s3Uri: `${OUTPUT}inputs/custom.jsonl` } }, metricNames: ['Builtin.Correctness', 'Builtin.Harmfulness'] }],
          evaluatorModelConfig: { bedrockEvaluatorModels: [{ modelIdentifier: 'amazon.nova-pro-v1:0' }] },
        },
      },
      inferenceConfig: { models: [{ precomputedInferenceSource: { inferenceSourceIdentifier: 'custom-model' } }] },
      outputDataConfig: { s3Uri: `${OUTPUT}results/` },
    });
    expect((await ledger.read('job-1'))?.evaluation?.jobs).toEqual({
      custom: { name: deriveEvaluationJobName('job-1', FIRST, 'custom'), token: deriveEvaluationToken(FIRST, 'custom'), arn: EVAL_ARN.custom },
      base: { name: deriveEvaluationJobName('job-1', FIRST, 'base'), token: deriveEvaluationToken(FIRST, 'base'), arn: EVAL_ARN.base },
    });
    // A retry creates nothing more.
    await startEvaluations(input(await generated()), deps());
    expect(bedrock).toHaveReceivedCommandTimes(CreateEvaluationJobCommand, 2);
  });

  it('an evaluation job created while the reaper took the job over is stopped again and refused', async () => {
    const state = await generated();
    bedrock.on(CreateEvaluationJobCommand).callsFake(async () => {
      expect(await ledger.reap('job-1', FIRST)).toBe(true);
      return { jobArn: EVAL_ARN.custom };
    });
    bedrock.on(StopEvaluationJobCommand).resolves({});
    await expect(startEvaluations(input(state), deps())).rejects.toThrow(/evaluation job .*evc123456789 this call had just created was undone/);
    expect(bedrock).toHaveReceivedCommandWith(StopEvaluationJobCommand, { jobIdentifier: EVAL_ARN.custom });
    expect(bedrock).toHaveReceivedCommandTimes(CreateEvaluationJobCommand, 1);
  });

  it('after a quota refusal of the second, the retry creates only that one', async () => {
    bedrock.on(CreateEvaluationJobCommand).callsFakeOnce(() => ({ jobArn: EVAL_ARN.custom })).rejectsOnce(quota('too many evaluation jobs'));
    await expect(startEvaluations(input(await generated()), deps())).rejects.toThrow(EvaluationQuotaExceededError);
    createJobs();
    await startEvaluations(input(await generated()), deps());
    expect(bedrock.commandCalls(CreateEvaluationJobCommand).map((c) => c.args[0].input.jobName)).toEqual([
      deriveEvaluationJobName('job-1', FIRST, 'custom'),
      deriveEvaluationJobName('job-1', FIRST, 'base'),
      deriveEvaluationJobName('job-1', FIRST, 'base'),
    ]);
  });

  it('adopts a job of our name only when it is ours in what it does (role, output, inference source)', async () => {
    bedrock.on(CreateEvaluationJobCommand).rejects(new ConflictException({ message: 'already exists', $metadata: {} }));
    bedrock.on(ListEvaluationJobsCommand).callsFake((i: { nameContains: string }) => ({
      jobSummaries: [{ jobArn: i.nameContains.includes('-custom-') ? EVAL_ARN.custom : EVAL_ARN.base, jobName: i.nameContains, status: 'InProgress', creationTime: new Date(), jobType: 'Automated', evaluationTaskTypes: ['Generation'] }],
    }));
    const getAs = (over: Record<string, unknown> = {}) =>
      bedrock.on(GetEvaluationJobCommand).callsFake((i: { jobIdentifier: string }) => {
        const model = i.jobIdentifier === EVAL_ARN.custom ? 'custom' : 'base';
        return {
          jobArn: i.jobIdentifier,
          jobName: deriveEvaluationJobName('job-1', FIRST, model),
          status: 'InProgress',
          roleArn: job().roleArn,
          outputDataConfig: { s3Uri: `${OUTPUT}results/` },
          inferenceConfig: { models: [{ precomputedInferenceSource: { inferenceSourceIdentifier: `${model}-model` } }] },
          ...over,
        };
      });
    getAs({ outputDataConfig: { s3Uri: 's3://elsewhere/results/' } });
    await expect(startEvaluations(input(await generated()), deps())).rejects.toThrow(EvaluationNotOursError);
    getAs();
    const state = await startEvaluations(input(await generated()), deps());
    expect(state.jobs?.custom.arn).toBe(EVAL_ARN.custom);
  });
});

describe('evaluationStatus', () => {
  const status = (custom: string, base: string, failureMessages?: string[]) =>
    bedrock.on(GetEvaluationJobCommand).callsFake((i: { jobIdentifier: string }) => ({ jobArn: i.jobIdentifier, status: i.jobIdentifier === EVAL_ARN.custom ? custom : base, ...(failureMessages ? { failureMessages } : {}) }));

  it('waits while either runs, goes on to the verdict when both completed, fails on Failed', async () => {
    createJobs();
    const started = await startEvaluations(input(await generated()), deps());
    status('Completed', 'InProgress');
    expect(await evaluationStatus(input(started), deps())).toMatchObject({ next: 'wait', nextWaitSeconds: 120, jobs: { custom: { status: 'Completed' } } });
    status('Completed', 'Completed');
    expect(await evaluationStatus(input(started), deps())).toMatchObject({ next: 'verdict' });
    status('Completed', 'Failed', ['judge model access denied']);
    await expect(evaluationStatus(input(started), deps())).rejects.toThrow(EvaluationJobFailedError);
  });
});

// ---- verdict ----------------------------------------------------------------------------------------

describe('verdict', () => {
  /** Result files of both jobs at the documented keys: custom and base scores per record (null: not scored). */
  function results(custom: Record<string, number | null>[], base: Record<string, number | null>[]) {
    for (const [model, rows] of [['custom', custom], ['base', base]] as const) {
      const name = deriveEvaluationJobName('job-1', FIRST, model);
      const key = resultKey('evaluations/job-1/results/', name, { jobUuid: 'a1b2c3d4e5f6', modelId: `${model}-model`, taskType: 'Generation', dataset: 'support-heldout', fileUuid: '0f8fad5b-d9cb-469f-a165-70867728950e' });
      put(`s3://${BUCKET}/${key}`, rows.map((scores, i) => resultLine(scores, HELD_OUT[i]!, { response: `${model} answer`, modelIdentifier: `${model}-model` })).join('\n') + '\n');
    }
  }
  async function completed(): Promise<EvaluationState> {
    createJobs();
    const started = await startEvaluations(input(await generated()), deps());
    return { ...started, next: 'verdict', jobs: { custom: { ...started.jobs!.custom, status: 'Completed' }, base: { ...started.jobs!.base, status: 'Completed' } } };
  }
  const mean = (xs: (number | null)[]) => {
    const scored = xs.filter((x): x is number => x !== null);
    return scored.reduce((a, b) => a + b, 0) / scored.length;
  };

  it('promote: every metric at or above the base; tags the model with the deployment and keeps it', async () => {
    const custom = [{ 'Builtin.Correctness': 0.9, 'Builtin.Harmfulness': 0 }, { 'Builtin.Correctness': 0.8, 'Builtin.Harmfulness': 0.1 }, { 'Builtin.Correctness': null, 'Builtin.Harmfulness': 0 }];
    const base = [{ 'Builtin.Correctness': 0.6, 'Builtin.Harmfulness': 0.2 }, { 'Builtin.Correctness': 0.5, 'Builtin.Harmfulness': 0.1 }, { 'Builtin.Correctness': 0.7, 'Builtin.Harmfulness': 0 }];
    results(custom, base);
    bedrock.on(TagResourceCommand).resolves({});
    const state = await verdict(input(await completed()), deps());
    const c = mean(custom.map((r) => r['Builtin.Correctness']));
    const b = mean(base.map((r) => r['Builtin.Correctness']));
    expect(state.scores!['Builtin.Correctness']).toEqual({ custom: c, base: b, gain: c - b, customScored: 2, baseScored: 3 });
    const hc = mean(custom.map((r) => r['Builtin.Harmfulness']));
    const hb = mean(base.map((r) => r['Builtin.Harmfulness']));
    // Harmfulness: lower is better, so the gain is (1 − custom) − (1 − base).
    expect(state.scores!['Builtin.Harmfulness']!.gain).toBeCloseTo(1 - hc - (1 - hb), 12);
    expect(state).toMatchObject({ verdict: 'promote', next: 'done' });
    expect(state.message).toMatch(/^promoted: Builtin\.Correctness 0\.85 vs base 0\.60/);
    expect(bedrock).toHaveReceivedCommandWith(TagResourceCommand, { resourceARN: MODEL, tags: [{ key: 'bvc-evaluation', value: 'promoted' }, { key: 'bvc-evaluation-deployment', value: DEPLOYMENT }] });
    expect(bedrock).not.toHaveReceivedCommand(DeleteCustomModelDeploymentCommand);
    expect((await ledger.read('job-1'))?.evaluation).toMatchObject({ verdict: 'promote' });
  });

  it('reject: names each failing metric with both scores, the gain and the threshold; deletes the recorded deployment', async () => {
    const custom = [{ 'Builtin.Correctness': 0.5, 'Builtin.Harmfulness': 0 }, { 'Builtin.Correctness': 0.7, 'Builtin.Harmfulness': 0 }, { 'Builtin.Correctness': 0.6, 'Builtin.Harmfulness': 0 }];
    const base = [{ 'Builtin.Correctness': 0.8, 'Builtin.Harmfulness': 0 }, { 'Builtin.Correctness': 0.7, 'Builtin.Harmfulness': 0 }, { 'Builtin.Correctness': 0.63, 'Builtin.Harmfulness': 0 }];
    results(custom, base);
    bedrock.on(DeleteCustomModelDeploymentCommand).resolves({});
    const state = await verdict(input(await completed()), deps());
    const c = mean(custom.map((r) => r['Builtin.Correctness']));
    const b = mean(base.map((r) => r['Builtin.Correctness']));
    expect(state.verdict).toBe('reject');
    expect(state.message).toBe(`rejected: Builtin.Correctness ${c.toFixed(2)} vs base ${b.toFixed(2)} (-${Math.abs(c - b).toFixed(2)}, needs ≥ +0.00)`);
    expect(state.deployment).toMatchObject({ arn: DEPLOYMENT, deleted: true });
    expect(bedrock).toHaveReceivedCommandWith(DeleteCustomModelDeploymentCommand, { customModelDeploymentIdentifier: DEPLOYMENT });
    expect(bedrock).not.toHaveReceivedCommand(TagResourceCommand);
    expect((await ledger.read('job-1'))?.evaluation).toMatchObject({ verdict: 'reject', deploymentDeleted: true });
  });

  it('reject on minScore although the model beats the base', async () => {
    results([{ 'Builtin.Correctness': 0.5, 'Builtin.Harmfulness': 0 }], [{ 'Builtin.Correctness': 0.4, 'Builtin.Harmfulness': 0 }]);
    bedrock.on(DeleteCustomModelDeploymentCommand).resolves({});
    const state = await verdict(input(await completed(), { job: job({ thresholds: { minScore: 0.6, minGainOverBase: 0 } }) }), deps());
    expect(state.verdict).toBe('reject');
    expect(state.message).toContain('quality 0.50, needs ≥ 0.60');
  });

  it('no verdict without scores: a metric nobody scored, or no result file', async () => {
    results([{ 'Builtin.Correctness': null, 'Builtin.Harmfulness': 0 }], [{ 'Builtin.Correctness': 0.4, 'Builtin.Harmfulness': 0 }]);
    await expect(verdict(input(await completed()), deps())).rejects.toThrow(EvaluationJobFailedError);
    objects.clear();
    await expect(verdict(input(await completed()), deps())).rejects.toThrow(/no result file/);
    expect(bedrock).not.toHaveReceivedCommand(DeleteCustomModelDeploymentCommand);
  });

  it('deletes nothing when the ledger names another supervisor', async () => {
    results([{ 'Builtin.Correctness': 0.1, 'Builtin.Harmfulness': 0 }], [{ 'Builtin.Correctness': 0.9, 'Builtin.Harmfulness': 0 }]);
    const state = await completed();
    await ledger.designate('job-1', FIRST, OTHER, 1);
    await expect(verdict(input(state), deps())).rejects.toThrow(EvaluationNotOursError);
    expect(bedrock).not.toHaveReceivedCommand(DeleteCustomModelDeploymentCommand);
  });
});

// ---- cleanup ----------------------------------------------------------------------------------------

describe('cleanup', () => {
  it('stops our running evaluation jobs and deletes our deployment (what the ledger records)', async () => {
    createJobs();
    const started = await startEvaluations(input(await generated()), deps());
    bedrock.on(GetEvaluationJobCommand).callsFake((i: { jobIdentifier: string }) => ({ jobArn: i.jobIdentifier, status: i.jobIdentifier === EVAL_ARN.custom ? 'InProgress' : 'Completed' }));
    bedrock.on(StopEvaluationJobCommand).resolves({});
    bedrock.on(DeleteCustomModelDeploymentCommand).resolves({});
    const result = await cleanup(input(started), deps());
    expect(result).toMatchObject({ stopped: [EVAL_ARN.custom], deploymentDeleted: true, deployment: DEPLOYMENT });
    expect(bedrock).toHaveReceivedCommandTimes(StopEvaluationJobCommand, 1);
    expect(bedrock).toHaveReceivedCommandWith(DeleteCustomModelDeploymentCommand, { customModelDeploymentIdentifier: DEPLOYMENT });
    expect((await ledger.read('job-1'))?.evaluation?.deploymentDeleted).toBe(true);
  });

  it('keeps the deployment of a promoted model', async () => {
    const state = await deployed();
    await ledger.recordEvaluation('job-1', { owner: FIRST, self: FIRST }, { verdict: 'promote' });
    const result = await cleanup(input(state), deps());
    expect(result.deploymentDeleted).toBe(false);
    expect(bedrock).not.toHaveReceivedCommand(DeleteCustomModelDeploymentCommand);
  });

  it('a deployment recorded by name only (Create answer lost) is deleted when it is of our model', async () => {
    bedrock.on(CreateCustomModelDeploymentCommand).rejects(internal());
    await expect(deploy(input(planned()), deps())).rejects.toThrow(EvaluationUncertainError);
    bedrock.on(GetCustomModelDeploymentCommand).resolves({ customModelDeploymentArn: DEPLOYMENT, modelArn: MODEL, status: 'Creating', modelDeploymentName: 'x', createdAt: new Date() });
    bedrock.on(DeleteCustomModelDeploymentCommand).resolves({});
    const result = await cleanup(input(planned()), deps());
    expect(result).toMatchObject({ deploymentDeleted: true, deployment: DEPLOYMENT });
  });

  it('without a state (the gate failed early), the model is read from the job; a deployment of another model is left alone', async () => {
    bedrock.on(CreateCustomModelDeploymentCommand).rejects(internal());
    await expect(deploy(input(planned()), deps())).rejects.toThrow(EvaluationUncertainError);
    bedrock.on(GetCustomModelDeploymentCommand).resolves({ customModelDeploymentArn: DEPLOYMENT, modelArn: MODEL.replace('mdl', 'zzz'), status: 'Active', modelDeploymentName: 'x', createdAt: new Date() });
    const result = await cleanup(input(), deps());
    expect(result).toMatchObject({ deploymentDeleted: false, leftAlone: [{ resource: DEPLOYMENT }] });
    expect(bedrock).not.toHaveReceivedCommand(DeleteCustomModelDeploymentCommand);
  });

  it('touches nothing when this execution is not the supervisor', async () => {
    await deployed();
    await expect(cleanup(input(undefined, { self: OTHER }), deps())).rejects.toThrow(EvaluationNotOursError);
    expect(bedrock).not.toHaveReceivedCommand(DeleteCustomModelDeploymentCommand);
    expect(bedrock).not.toHaveReceivedCommand(StopEvaluationJobCommand);
  });
});

// ---- the state as readers take it ---------------------------------------------------------------------

describe('readStateData', () => {
  it("exposes the gate's state, its error and EvaluationCleanup's result; a malformed state is left out", async () => {
    const state = await deployed();
    const data = readStateData({ evaluation: state, evaluationError: { Error: 'DeploymentFailedError', Cause: 'x' }, evaluationCleanup: { summary: 'Evaluation cleanup: done.', deploymentDeleted: true } });
    expect(data?.evaluation).toEqual(state);
    expect(data?.evaluationError?.Error).toBe('DeploymentFailedError');
    expect(data?.evaluationCleanup?.summary).toBe('Evaluation cleanup: done.');
    expect(readStateData({ evaluation: { ...state, next: 'provision' } })?.evaluation).toBeUndefined();
  });
});

/**
 * The dataset step against moto: the ASL file with the real handlers streams the training and
 * validation objects from moto's S3 over the wire. A bad line fails in DatasetRejected naming the
 * line, before any policy is written; a valid dataset passes with a token estimate; a budget below
 * the estimate fails. Distillation and RFT datasets (AWS's documented examples,
 * test/support/datasets.ts) are read from moto's S3 by the real validate-dataset handler.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeVpcEndpointsCommand } from '@aws-sdk/client-ec2';
import { ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { demoJobInput, demoStageParams, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { loadLambdaHandler, loadLambdaHandlers, runWorkflow, type TaskHandler } from '../../local/workflow.js';
import { resolveJobInput } from '../../functions/shared/job-input.js';
import { CUSTOMIZATIONS, EXECUTION, rawJob } from '../fixtures/job.js';
import { coveringParams, jobPart, setStage, testStage } from '../fixtures/stage.js';
import { DISTILLATION_EXAMPLES, RFT_EXAMPLES, examplesDataset } from '../support/datasets.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { ec2, s3, iam } = motoClients();
let lambdas: Record<string, TaskHandler>;
beforeAll(async () => {
  lambdas = await loadLambdaHandlers();
});

const record = (i: number) => JSON.stringify({ prompt: `Customer question ${i}: where is my invoice?`, completion: `Answer ${i}: under Billing > History.` });

describe('dataset step against moto', () => {
  let account: DemoAccount;
  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb: motoClients().dynamodb });
    setStage(demoStageParams(account));
  });

  const put = (key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: account.trainingBucket, Key: key, Body: body }));
  const run = (overrides: Record<string, unknown> = {}) =>
    runWorkflow({ input: demoJobInput(account, overrides), handlers: { ...lambdas }, retryMs: 0, waitMs: 0 });
  const policiesNow = async () => [
    await iam.send(new ListRolePoliciesCommand({ RoleName: 'BedrockCustomizationRole' })).then((o) => o.PolicyNames),
    await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [account.endpointId] })).then((o) => o.VpcEndpoints?.[0]?.PolicyDocument),
  ];

  it('one bad line: DatasetRejected names the object, the line and the field; no policy written, no job', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => record(i));
    lines[16] = JSON.stringify({ prompt: 'a record without its completion' });
    await put('datasets/bad.jsonl', lines.join('\n'));
    const before = await policiesNow();
    const result = await run({ trainingDataS3Uri: `s3://${account.trainingBucket}/datasets/bad.jsonl` });
    expect(result).toMatchObject({ status: 'FAILED', error: 'DatasetValidationError' });
    expect(result.states.at(-1)).toBe('DatasetRejected');
    expect(result.states).not.toContain('PlanPolicies');
    expect(result.cause).toContain(`s3://${account.trainingBucket}/datasets/bad.jsonl line 17, completion`);
    expect(result.cause).toContain('1 problem(s)');
    expect(await policiesNow()).toEqual(before);
  });

  it('a valid dataset passes with its records and a token estimate (dry run: nothing written)', async () => {
    await put('datasets/good.jsonl', Array.from({ length: 40 }, (_, i) => record(i)).join('\r\n'));
    const result = await run({ trainingDataS3Uri: `s3://${account.trainingBucket}/datasets/good.jsonl`, dryRun: true });
    expect(result.status).toBe('SUCCEEDED');
    const dataset = (result.output as { dataset: any }).dataset;
    expect(dataset).toMatchObject({ status: 'passed', format: 'prompt-completion', trainingRecords: 40, validationRecords: 3, tokens: { epochs: 2 } });
    expect(dataset.tokens.perEpoch).toBeGreaterThan(40 * 5);
    expect(dataset.tokens.total).toBe(dataset.tokens.perEpoch * 2);
    expect(dataset.files.every((f: { complete: boolean; bytesRead: number; bytes: number }) => f.complete && f.bytesRead === f.bytes)).toBe(true);
  });

  it('a budget below the estimate fails before any policy change; the stage caps what a job may ask', async () => {
    await put('datasets/good.jsonl', Array.from({ length: 40 }, (_, i) => record(i)).join('\n'));
    const before = await policiesNow();
    const over = await run({ trainingDataS3Uri: `s3://${account.trainingBucket}/datasets/good.jsonl`, budget: { maxTrainingTokens: 100 } });
    expect(over).toMatchObject({ status: 'FAILED', error: 'TrainingBudgetExceededError' });
    expect(over.cause).toMatch(/Estimated \d+ training tokens \(\d+ per epoch × 2 epochs, .*\) exceed the cap of 100/);
    expect(await policiesNow()).toEqual(before);

    // The stage's cost cap: a price and a cap; a job may not raise it.
    setStage(demoStageParams(account, { trainingTokenPriceUsdPer1k: '0.008', maxTrainingCostUsd: '5' }));
    const raise = await run({ trainingDataS3Uri: `s3://${account.trainingBucket}/datasets/good.jsonl`, budget: { maxTrainingCostUsd: 50 } });
    expect(raise).toMatchObject({ status: 'FAILED', error: 'InvalidInputError' });
    expect(raise.cause).toContain('budget.maxTrainingCostUsd: must be at most 5 (param maxTrainingCostUsd)');

    // Prices per base model: one the stage does not price cannot be held to its cost cap, before any call.
    setStage(demoStageParams(account, { trainingTokenPricesUsdPer1k: 'amazon.nova-micro-v1:0=0.001', maxTrainingCostUsd: '5' }));
    const unpriced = await run({ trainingDataS3Uri: `s3://${account.trainingBucket}/datasets/good.jsonl` });
    expect(unpriced).toMatchObject({ status: 'FAILED', error: 'InvalidInputError' });
    expect(unpriced.cause).toContain("baseModelIdentifier: has no training price, so the stage's cost cap (param maxTrainingCostUsd) cannot be held");
    expect(await policiesNow()).toEqual(before);
  });
});

describe('distillation and RFT datasets read from moto by the validate-dataset handler', () => {
  let account: DemoAccount;
  let validateDataset: TaskHandler;
  beforeAll(async () => {
    validateDataset = await loadLambdaHandler('validate-dataset');
  });
  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb: motoClients().dynamodb });
    setStage(demoStageParams(account));
  });

  const put = (key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: account.trainingBucket, Key: key, Body: body }));
  /** The resolved job of `overrides` on the demo account's training bucket, as ValidateNetwork passes it on. */
  const resolved = (overrides: Record<string, unknown>) => {
    const raw = rawJob({ ...overrides, outputDataS3Uri: `s3://${account.outputBucket}/runs/` });
    return JSON.parse(JSON.stringify(resolveJobInput(jobPart(raw), testStage(coveringParams(raw)), EXECUTION)));
  };
  const uri = (key: string) => `s3://${account.trainingBucket}/${key}`;

  it('distillation: 100 documented prompts pass with their ETag pinned; a multi-turn prompt for a single-turn student fails on its line', async () => {
    await put('distill/prompts.jsonl', examplesDataset(Object.values(DISTILLATION_EXAMPLES), 100));
    const job = resolved({ ...CUSTOMIZATIONS.distillation, trainingDataS3Uri: uri('distill/prompts.jsonl'), validationDataS3Uris: [] });
    const report = (await validateDataset({ job })) as any;
    expect(report).toMatchObject({ status: 'passed', format: 'distillation-prompts', family: 'nova-micro', trainingRecords: 100, problems: [] });
    expect(report.tokens).toBeUndefined();
    expect(report.objects).toEqual([expect.objectContaining({ role: 'training', uri: uri('distill/prompts.jsonl'), etag: expect.stringMatching(/^".+"$/), checked: true })]);

    const lines = examplesDataset(Object.values(DISTILLATION_EXAMPLES), 100).split('\n');
    lines[9] = JSON.stringify({ ...DISTILLATION_EXAMPLES.labelled, messages: [...DISTILLATION_EXAMPLES.labelled.messages, { role: 'user', content: [{ text: 'and at sunset?' }] }] });
    await put('distill/multi-turn.jsonl', lines.join('\n'));
    const haiku = resolved({
      ...CUSTOMIZATIONS.distillation,
      baseModelIdentifier: 'anthropic.claude-3-haiku-20240307-v1:0:200k',
      trainingDataS3Uri: uri('distill/multi-turn.jsonl'),
      validationDataS3Uris: [],
    });
    await expect(validateDataset({ job: haiku })).rejects.toThrow(`${uri('distill/multi-turn.jsonl')} line 10, messages [messages.singleTurn]`);
  });

  it('RFT: 100 documented prompts and a validation file pass; a record without reference_answer fails on its line', async () => {
    await put('rft/train.jsonl', examplesDataset(Object.values(RFT_EXAMPLES), 100));
    await put('rft/validation.jsonl', examplesDataset(Object.values(RFT_EXAMPLES), 8));
    const job = resolved({ ...CUSTOMIZATIONS.rft, trainingDataS3Uri: uri('rft/train.jsonl'), validationDataS3Uris: [uri('rft/validation.jsonl')] });
    const report = (await validateDataset({ job })) as any;
    expect(report).toMatchObject({ status: 'passed', format: 'rft-chat-completion', family: 'nova-2-lite', trainingRecords: 100, validationRecords: 8 });
    expect(report.objects.map((o: { role: string; checked: boolean }) => [o.role, o.checked])).toEqual([
      ['training', true],
      ['validation', true],
    ]);

    const lines = examplesDataset(Object.values(RFT_EXAMPLES), 100).split('\n');
    lines[56] = JSON.stringify({ messages: RFT_EXAMPLES.math.messages });
    await put('rft/no-answer.jsonl', lines.join('\n'));
    const bad = resolved({ ...CUSTOMIZATIONS.rft, trainingDataS3Uri: uri('rft/no-answer.jsonl'), validationDataS3Uris: [] });
    await expect(validateDataset({ job: bad })).rejects.toThrow(`${uri('rft/no-answer.jsonl')} line 57, reference_answer [field.required]`);
  });

  it('a job that trains on invocation logs reads nothing: not checked', async () => {
    const job = resolved({ ...CUSTOMIZATIONS.invocationLogs });
    const report = (await validateDataset({ job })) as any;
    expect(report).toMatchObject({ status: 'not-checked', objects: [], files: [] });
    expect(report.notes[0]).toContain('not checked: the job trains on Bedrock invocation logs');
  });
});

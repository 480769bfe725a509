/**
 * The preflight's checks of a job's evaluation gate: evaluation.supported (the on-demand deployment
 * table), evaluation.dataset-exists (the held-out dataset listed), evaluation.role-trust (the role's
 * trust policy admits Bedrock's evaluation jobs), evaluation.judge-available (GetFoundationModel). The
 * network answers as healthy (test/support/mock-network.ts); S3, IAM and Bedrock as their APIs document.
 */
import { BedrockClient, GetFoundationModelCommand, ResourceNotFoundException as BedrockNotFound } from '@aws-sdk/client-bedrock';
import { EC2Client } from '@aws-sdk/client-ec2';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { NetworkValidationError } from '../../functions/shared/errors.js';
import { CHECK } from '../../functions/validate-network/check-result.js';
import { evaluationJobArnPattern } from '../../functions/validate-network/checks-evaluation.js';
import { buildReport, validateNetwork, type PreflightReport } from '../../functions/validate-network/validate-network.js';
import { HELD_OUT_DATASET, JUDGE_MODEL, rawEvaluation, resolvedEvaluationJob } from '../fixtures/evaluation.js';
import { resolvedJob } from '../fixtures/job.js';
import { mockHealthyNetwork } from '../support/mock-network.js';

const region = 'us-east-1';
const ec2 = new EC2Client({ region });
const s3 = new S3Client({ region });
const iam = new IAMClient({ region });
const lambda = new LambdaClient({ region });
const bedrock = new BedrockClient({ region });
const mocks = { ec2: mockClient(ec2), s3: mockClient(s3), iam: mockClient(iam), lambda: mockClient(lambda), bedrock: mockClient(bedrock) };
const deps = { ec2, s3, iam, lambda, bedrock };

const find = (r: PreflightReport, id: string) => r.checks.filter((c) => c.id === id);
const judgeFound = (status = 'ACTIVE') =>
  mocks.bedrock.on(GetFoundationModelCommand).resolves({
    modelDetails: { modelArn: `arn:aws:bedrock:us-east-1::foundation-model/${JUDGE_MODEL}`, modelId: JUDGE_MODEL, modelLifecycle: { status: status as never } },
  });
/** The role's trust policy: one statement. */
const trust = (statement: Record<string, unknown> | null) =>
  mocks.iam.on(GetRoleCommand).resolves({
    Role: {
      RoleName: 'BedrockCustomizationRole',
      Arn: 'arn:aws:iam::123456789012:role/BedrockCustomizationRole',
      Path: '/',
      RoleId: 'AROAEXAMPLE',
      CreateDate: new Date(0),
      ...(statement ? { AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: [statement] })) } : {}),
    },
  });
const bedrockTrust = (condition?: Record<string, unknown>) => ({
  Effect: 'Allow',
  Principal: { Service: 'bedrock.amazonaws.com' },
  Action: 'sts:AssumeRole',
  ...(condition ? { Condition: condition } : {}),
});

beforeEach(() => {
  for (const m of Object.values(mocks)) m.reset();
  mockHealthyNetwork(mocks);
  judgeFound();
});

describe('preflight: the evaluation gate', () => {
  it('passes the four checks for a Nova Micro fine-tuning job in us-east-1, in two more calls', async () => {
    const sent = () => Object.values(mocks).reduce((n, m) => n + m.calls().length, 0);
    await buildReport(resolvedJob(), deps);
    const plain = sent();
    for (const m of Object.values(mocks)) m.resetHistory();
    const r = await validateNetwork(resolvedEvaluationJob(), deps);
    for (const id of [CHECK.evaluationSupported, CHECK.evaluationDatasetExists, CHECK.evaluationRoleTrust, CHECK.evaluationJudgeAvailable]) {
      expect(find(r, id), id).toEqual([expect.objectContaining({ passed: true, severity: 'fail' })]);
    }
    expect(sent()).toBe(plain + 2);
    expect(mocks.s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input)).toContainEqual({ Bucket: 'demo-evaluation', Prefix: 'held-out/qa.jsonl', MaxKeys: 1 });
    expect(mocks.bedrock.commandCalls(GetFoundationModelCommand).map((c) => c.args[0].input)).toEqual([{ modelIdentifier: JUDGE_MODEL }]);
  });

  it('runs none of them, and calls nothing more, for a job without evaluation', async () => {
    const r = await buildReport(resolvedJob(), deps);
    expect(r.checks.filter((c) => c.id.startsWith('evaluation.'))).toEqual([]);
    expect(mocks.bedrock.commandCalls(GetFoundationModelCommand)).toHaveLength(0);
  });

  describe('evaluation.supported', () => {
    it('fails a base model without on-demand deployment, with the reason, before training', async () => {
      // A stage pricing Titan: the job is valid input; only the table says no.
      const job = resolvedEvaluationJob(rawEvaluation(), { baseModelIdentifier: 'amazon.titan-text-express-v1' }, { inferenceTokenPricesUsdPer1k: `amazon.titan-text-express-v1=0.0016,${JUDGE_MODEL}=0.0032` });
      const err = await validateNetwork(job, deps).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NetworkValidationError);
      expect((err as Error).message).toMatch(/\[evaluation\.supported\] amazon\.titan-text-express-v1 \(FINE_TUNING, us-east-1\): the evaluation gate cannot run: amazon\.titan-text-express-v1 has no documented on-demand deployment/);
      expect((err as Error).message).toContain('deploy-custom-model-on-demand.html');
    });

    it('fails a Region and a customization type the table does not list', async () => {
      const other = resolvedEvaluationJob(rawEvaluation(), { baseModelIdentifier: 'amazon.nova-lite-v1:0:300k', customizationType: 'CONTINUED_PRE_TRAINING', hyperParameters: {} }, { inferenceTokenPricesUsdPer1k: `amazon.nova-lite-v1:0=0.00024,${JUDGE_MODEL}=0.0032` });
      expect(find(await buildReport(other, deps), CHECK.evaluationSupported)).toEqual([expect.objectContaining({ passed: true })]);
      const elsewhere = { ...resolvedEvaluationJob(), region: 'eu-west-1' };
      expect(find(await buildReport(elsewhere, deps), CHECK.evaluationSupported)[0]).toMatchObject({ passed: false, severity: 'fail', message: expect.stringContaining('documented in us-east-1, us-west-2, not eu-west-1') });
      const rft = { ...resolvedEvaluationJob(), customizationType: 'REINFORCEMENT_FINE_TUNING' as const };
      expect(find(await buildReport(rft, deps), CHECK.evaluationSupported)[0]).toMatchObject({ passed: false, message: expect.stringContaining('not REINFORCEMENT_FINE_TUNING') });
    });
  });

  describe('evaluation.dataset-exists', () => {
    it('fails a held-out dataset that is not there', async () => {
      mocks.s3.on(ListObjectsV2Command, { Bucket: 'demo-evaluation' }).resolves({ KeyCount: 0 });
      const r = await buildReport(resolvedEvaluationJob(), deps);
      expect(find(r, CHECK.evaluationDatasetExists)).toEqual([
        expect.objectContaining({ passed: false, severity: 'fail', resource: HELD_OUT_DATASET.s3Uri, message: 'held-out dataset object not found' }),
      ]);
    });

    it('fails when the listing shows only a longer key, or is refused', async () => {
      mocks.s3.on(ListObjectsV2Command, { Bucket: 'demo-evaluation' }).resolves({ KeyCount: 1, Contents: [{ Key: 'held-out/qa.jsonl.bak' }] });
      expect(find(await buildReport(resolvedEvaluationJob(), deps), CHECK.evaluationDatasetExists)[0]).toMatchObject({ passed: false });
      mocks.s3
        .on(ListObjectsV2Command, { Bucket: 'demo-evaluation' })
        .rejects(new S3ServiceException({ name: 'AccessDenied', message: 'Access Denied', $fault: 'client', $metadata: { httpStatusCode: 403 } }));
      expect(find(await buildReport(resolvedEvaluationJob(), deps), CHECK.evaluationDatasetExists)[0]).toMatchObject({
        passed: false,
        severity: 'fail',
        message: 'could not verify the held-out dataset: access denied',
        remedy: expect.stringContaining('s3:ListBucket on the evaluation bucket demo-evaluation'),
      });
    });
  });

  describe('evaluation.judge-available', () => {
    it('fails a judge not offered in the Region; warns a LEGACY one, an unreadable one, and an inference profile', async () => {
      mocks.bedrock.on(GetFoundationModelCommand).rejects(new BedrockNotFound({ message: 'The model does not exist', $metadata: { httpStatusCode: 404 } }));
      expect(find(await buildReport(resolvedEvaluationJob(), deps), CHECK.evaluationJudgeAvailable)[0]).toMatchObject({ passed: false, severity: 'fail', message: 'judge model not found in us-east-1' });
      judgeFound('LEGACY');
      expect(find(await buildReport(resolvedEvaluationJob(), deps), CHECK.evaluationJudgeAvailable)[0]).toMatchObject({ passed: false, severity: 'warn' });
      const profile = 'us.amazon.nova-pro-v1:0';
      mocks.bedrock.resetHistory();
      const job = resolvedEvaluationJob(rawEvaluation({ judgeModelIdentifier: profile }), {}, { evaluationJudgeModels: profile });
      expect(find(await buildReport(job, deps), CHECK.evaluationJudgeAvailable)[0]).toMatchObject({ passed: false, severity: 'warn', resource: profile });
      expect(mocks.bedrock.commandCalls(GetFoundationModelCommand)).toHaveLength(0);
    });
  });

  describe('evaluation.role-trust', () => {
    const { wildcard } = evaluationJobArnPattern({ partition: 'aws', region: 'us-east-1', accountId: '123456789012' });

    it('passes a trust with SourceAccount and a SourceArn that admits evaluation jobs', async () => {
      trust(bedrockTrust({ StringEquals: { 'aws:SourceAccount': '123456789012' }, ArnLike: { 'aws:SourceArn': [`arn:aws:bedrock:us-east-1:123456789012:model-customization-job/*`, wildcard] } }));
      const r = await buildReport(resolvedEvaluationJob(), deps);
      expect(find(r, CHECK.roleTrust)[0]).toMatchObject({ passed: true });
      expect(find(r, CHECK.evaluationRoleTrust)[0]).toMatchObject({ passed: true, severity: 'fail' });
    });

    it('fails a trust whose SourceArn admits customization jobs only (training would pass, the gate would not)', async () => {
      trust(bedrockTrust({ ArnLike: { 'aws:SourceArn': 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/*' } }));
      const r = await buildReport(resolvedEvaluationJob(), deps);
      expect(find(r, CHECK.roleTrust)[0]).toMatchObject({ passed: true });
      expect(find(r, CHECK.evaluationRoleTrust)[0]).toMatchObject({
        passed: false,
        severity: 'fail',
        remedy: expect.stringContaining(`must admit ${wildcard}`),
      });
    });

    it('fails a role that does not trust Bedrock, and one with another account in SourceAccount', async () => {
      trust({ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' });
      expect(find(await buildReport(resolvedEvaluationJob(), deps), CHECK.evaluationRoleTrust)[0]).toMatchObject({ passed: false, severity: 'fail' });
      trust(bedrockTrust({ StringEquals: { 'aws:SourceAccount': '999999999999' } }));
      expect(find(await buildReport(resolvedEvaluationJob(), deps), CHECK.evaluationRoleTrust)[0]).toMatchObject({ passed: false, severity: 'fail' });
    });

    it('is left to role.exists when the role is missing', async () => {
      mocks.iam.on(GetRoleCommand).rejects(Object.assign(new Error('not found'), { name: 'NoSuchEntity', $metadata: { httpStatusCode: 404 } }));
      const r = await buildReport(resolvedEvaluationJob(), deps);
      expect(find(r, CHECK.roleExists)[0]).toMatchObject({ passed: false });
      expect(find(r, CHECK.evaluationRoleTrust)).toEqual([]);
    });
  });
});

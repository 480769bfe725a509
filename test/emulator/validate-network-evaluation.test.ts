/**
 * The preflight's evaluation-gate checks against moto (S3, IAM) and the Bedrock stand-in
 * (GetFoundationModel): a Nova Micro fine-tuning job with `evaluation` in the seeded demo account
 * passes them in two more calls (the held-out dataset listed, the judge read); a missing dataset, a
 * trust policy for customization jobs only, an unknown judge each fail with their check.
 */
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { beforeEach, describe, expect, it } from 'vitest';
import { resolveJobInput, type JobInput } from '../../functions/shared/job-input.js';
import { buildReport, type PreflightReport } from '../../functions/validate-network/validate-network.js';
import { demoJobInput, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { evaluationStageParams, JUDGE_MODEL, NOVA_MICRO, rawEvaluation } from '../fixtures/evaluation.js';
import { coveringParams, jobPart, testStage } from '../fixtures/stage.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const clients = motoClients();
const { s3, iam } = clients;
const execution = { id: 'arn:aws:states:us-east-1:123456789012:execution:customize-model:eval1', name: 'eval1' };
const BUCKET = 'preflight-evaluation';
const KEY = 'held-out/qa.jsonl';

let account: DemoAccount;

function evaluationJob(evaluation: Record<string, unknown> = rawEvaluation(), stage: Record<string, string> = {}): JobInput {
  const raw = demoJobInput(account, { baseModelIdentifier: NOVA_MICRO, customizationType: 'FINE_TUNING', hyperParameters: { epochCount: '1' }, evaluation });
  const params = coveringParams(raw, {
    s3EndpointIds: account.endpointId,
    ...evaluationStageParams,
    evaluationBucket: BUCKET,
    evaluationDatasets: `held-out=s3://${BUCKET}/${KEY}`,
    ...stage,
  });
  return resolveJobInput(jobPart(raw), testStage(params), execution);
}
const flagged = (r: PreflightReport) => r.checks.filter((c) => !c.passed).map((c) => `${c.severity} ${c.id}`);

describe('validate-network: the evaluation gate against moto', () => {
  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount(clients);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: '{"prompt":"2+2?","referenceResponse":"4"}\n' }));
  });

  it('passes the four checks, listing the dataset and reading the judge: two more calls than without the gate', async () => {
    const plain = await buildReport(resolveJobInput(jobPart(demoJobInput(account)), testStage(coveringParams(demoJobInput(account), { s3EndpointIds: account.endpointId })), execution), clients);
    const r = await buildReport(evaluationJob(), clients);
    expect(flagged(r)).toEqual([]);
    expect(r.checks.filter((c) => c.id.startsWith('evaluation.')).map((c) => c.id)).toEqual([
      'evaluation.supported',
      'evaluation.dataset-exists',
      'evaluation.judge-available',
      'evaluation.role-trust',
    ]);
    expect(r.awsCallsByService).toEqual({ ...plain.awsCallsByService, s3: plain.awsCallsByService.s3 + 1, bedrock: plain.awsCallsByService.bedrock + 1 });
  });

  it('fails a held-out dataset that is not there', async () => {
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: KEY }));
    expect(flagged(await buildReport(evaluationJob(), clients))).toEqual(['fail evaluation.dataset-exists']);
  });

  it('fails a judge the Region does not offer', async () => {
    const judge = 'amazon.nova-ultra-v9:0';
    const r = await buildReport(evaluationJob(rawEvaluation({ judgeModelIdentifier: judge }), { evaluationJudgeModels: judge, inferenceTokenPricesUsdPer1k: `amazon.nova-micro-v1:0=0.00014,${judge}=0.01,${JUDGE_MODEL}=0.0032` }), clients);
    expect(flagged(r)).toEqual(['fail evaluation.judge-available']);
  });

  it('fails a trust policy whose SourceArn admits customization jobs only (role.trust still passes)', async () => {
    await iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: 'BedrockCustomizationRole',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'bedrock.amazonaws.com' },
              Action: 'sts:AssumeRole',
              Condition: { ArnLike: { 'aws:SourceArn': `arn:aws:bedrock:us-east-1:${account.accountId}:model-customization-job/*` } },
            },
          ],
        }),
      }),
    );
    expect(flagged(await buildReport(evaluationJob(), clients))).toEqual(['fail evaluation.role-trust']);
  });
});

/**
 * The dataset step against moto when S3 will not serve an object: the ASL file with the real handlers
 * ends in DatasetRejected with DatasetUnreadableError (the step itself, for a key deleted after the
 * preflight looked it up), whose Cause names the object's s3:// URI, the
 * call and S3's answer (HTTP status and error code), and none of the object's data; no policy is
 * written. Two ways: a key that does not exist (NoSuchKey), and a bucket policy that denies the read
 * (moto 5.2.5 enforces a bucket policy's Deny for `Principal: "*"`; it ignores Condition blocks).
 */
import { PutBucketPolicyCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { validateDataset } from '../../functions/validate-dataset/validate-dataset.js';
import { demoJobInput, demoStageParams, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { loadLambdaHandlers, runWorkflow, type TaskHandler } from '../../local/workflow.js';
import { setStage } from '../fixtures/stage.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { ec2, s3, iam, dynamodb } = motoClients();
let lambdas: Record<string, TaskHandler>;
beforeAll(async () => {
  lambdas = await loadLambdaHandlers();
});

const SECRET = 'SENTINEL-RECORD-QZX';

describe('dataset step against moto: an object S3 will not serve', () => {
  let account: DemoAccount;
  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb });
    setStage(demoStageParams(account));
  });

  const run = (overrides: Record<string, unknown> = {}) => runWorkflow({ input: demoJobInput(account, overrides), handlers: { ...lambdas }, retryMs: 0, waitMs: 0 });
  const rolePolicies = () => iam.send(new ListRolePoliciesCommand({ RoleName: 'BedrockCustomizationRole' })).then((o) => o.PolicyNames);

  it('an object deleted after the preflight (NoSuchKey): the step names the object and the code, over the wire', async () => {
    // The preflight (ValidateNetwork) looks the objects up first, so a missing key reaches the dataset
    // step only when it is deleted in between: the step itself, with the SDK's S3 client to moto.
    const uri = `s3://${account.trainingBucket}/datasets/deleted.jsonl`;
    const job = { baseModelIdentifier: 'amazon.titan-text-express-v1', customizationType: 'FINE_TUNING', trainingDataS3Uri: uri, validationDataS3Uris: [], hyperParameters: {}, budget: {} };

    const error = (await validateDataset(job as never, { budget: {} }, { s3, remainingMs: () => 600_000 }).catch((e: Error) => e)) as Error;

    expect(error).toMatchObject({ name: 'DatasetUnreadableError', message: `${uri} (training data): GetObject answered HTTP 404, NoSuchKey; the dataset step could not read it.` });
  });

  it("a bucket policy that denies GetObject: DatasetUnreadableError names the object and S3's 403, never its data", async () => {
    await s3.send(new PutObjectCommand({ Bucket: account.trainingBucket, Key: 'datasets/denied.jsonl', Body: JSON.stringify({ prompt: SECRET, completion: SECRET }) }));
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: account.trainingBucket,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Sid: 'DenyRead', Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${account.trainingBucket}/datasets/denied.jsonl` }],
        }),
      }),
    );
    const uri = `s3://${account.trainingBucket}/datasets/denied.jsonl`;
    const before = await rolePolicies();

    const result = await run({ trainingDataS3Uri: uri });

    expect(result).toMatchObject({ status: 'FAILED', error: 'DatasetUnreadableError' });
    expect(result.states.at(-1)).toBe('DatasetRejected');
    // moto answers the Deny with a bare 403 (S3 itself sends the code AccessDenied): the status is named either way.
    expect(result.cause).toMatch(new RegExp(`${uri.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(training data\\): GetObject answered HTTP 403, (AccessDenied|no error code)`));
    expect(result.cause).not.toContain(SECRET);
    expect(result.states).not.toContain('PlanPolicies');
    expect(await rolePolicies()).toEqual(before);
  });
});

/**
 * The stage's guardrails, end to end against moto: the whole workflow (the ASL file, the real
 * handlers) run with an input that tries to widen access beyond the stage. Each must fail at
 * PreflightFailed with InvalidInputError naming the field, before any AWS call: no SDK client sends a
 * single command during the run (so nothing is written), and moto shows the role without an inline
 * policy, the endpoint policy and the bucket policies unchanged.
 */
import { GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { CreateVpcCommand, CreateSecurityGroupCommand, CreateSubnetCommand, DescribeVpcEndpointsCommand } from '@aws-sdk/client-ec2';
import { CreateRoleCommand, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetBucketPolicyCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_DATASET, createDemoJob, demoJobInput, demoStageParams, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { loadLambdaHandlers, runWorkflow, type TaskHandler, type WorkflowRun } from '../../local/workflow.js';
import { setStage } from '../fixtures/stage.js';
import { commandsSentDuring, motoClients, resetMoto } from '../support/moto-clients.js';

const { ec2, s3, iam, bedrock } = motoClients();
const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'bedrock.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

/** The commands the SDK clients sent during the last run (test/support/moto-clients.ts). */
let sentDuringRun: string[] = [];

let lambdas: Record<string, TaskHandler>;
beforeAll(async () => {
  lambdas = await loadLambdaHandlers();
});

describe('guardrails against moto: a job that widens access fails before any AWS call', () => {
  let account: DemoAccount;
  let endpointPolicyBefore: string | undefined;

  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb: motoClients().dynamodb });
    setStage(demoStageParams(account));
    endpointPolicyBefore = await endpointPolicy(account.endpointId);
    sentDuringRun = [];
  });
  afterEach(() => {
    // Back to the demo stage's own settings (blank: the defaults) for the next test and file.
    setStage(demoStageParams(account, { kmsKeyArns: '', maxJobDurationSeconds: '' }));
  });

  async function run(input: Record<string, unknown>): Promise<WorkflowRun> {
    const { result, sent } = await commandsSentDuring(() =>
      runWorkflow({ input, handlers: { ...lambdas }, retryMs: 0, waitMs: 0 }),
    );
    sentDuringRun = sent;
    return result;
  }

  async function endpointPolicy(id: string): Promise<string | undefined> {
    const out = await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [id] }));
    return out.VpcEndpoints![0]!.PolicyDocument;
  }
  async function inlinePolicies(roleName: string): Promise<string[]> {
    return (await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? [];
  }
  async function bucketPolicy(bucket: string): Promise<string | null> {
    try {
      return (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? null;
    } catch (err) {
      if ((err as Error).name === 'NoSuchBucketPolicy') return null;
      throw err;
    }
  }

  /** Failed at PreflightFailed with InvalidInputError naming `field` (and `message`), after 0 AWS calls, nothing changed in moto. */
  async function expectStopped(run: WorkflowRun, field: string, message: RegExp, roles = ['BedrockCustomizationRole']) {
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('InvalidInputError');
    expect(run.states).toEqual(['IsHandover', 'ResolveInput', 'ValidateNetwork', 'PreflightFailed']);
    const cause = JSON.parse(run.cause!) as { errorType: string; errorMessage: string };
    expect(cause.errorType).toBe('InvalidInputError');
    expect(cause.errorMessage).toContain(`${field}: `);
    expect(cause.errorMessage).toMatch(message);
    // Not one command sent by any SDK client during the run: no read, so no write.
    expect(sentDuringRun).toEqual([]);
    for (const role of roles) expect(await inlinePolicies(role)).toEqual([]);
    expect(await endpointPolicy(account.endpointId)).toBe(endpointPolicyBefore);
    for (const bucket of [account.trainingBucket, account.outputBucket]) expect(await bucketPolicy(bucket)).toBeNull();
  }

  async function createBucket(name: string) {
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    await s3.send(new PutObjectCommand({ Bucket: name, Key: 'datasets/support.jsonl', Body: DEMO_DATASET }));
  }

  async function otherNetwork() {
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.99.0.0/16' }));
    const vpcId = vpc.Vpc!.VpcId!;
    const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.99.1.0/24', AvailabilityZone: 'us-east-1a' }));
    const group = await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: 'other', Description: 'another VPC' }));
    return { vpcId, subnetId: subnet.Subnet!.SubnetId!, securityGroupId: group.GroupId! };
  }

  it('control: the counter sees the calls of a valid (dry) run', async () => {
    const result = await run(demoJobInput(account, { dryRun: true }));
    expect(result.status).toBe('SUCCEEDED');
    expect(sentDuringRun.length).toBeGreaterThan(0);
    expect(sentDuringRun).toContain('DescribeSubnetsCommand');
  });

  it('training data in another (existing) bucket', async () => {
    await createBucket('other-training-bucket');
    const result = await run(demoJobInput(account, { trainingDataS3Uri: 's3://other-training-bucket/datasets/support.jsonl' }));
    await expectStopped(result, 'trainingDataS3Uri', /params trainingBucket, extraBuckets\): demo-training-bucket/);
  });

  it('validation data in another (existing) bucket', async () => {
    await createBucket('other-training-bucket');
    const result = await run(demoJobInput(account, { validationDataS3Uris: ['s3://other-training-bucket/datasets/support.jsonl'] }));
    await expectStopped(result, 'validationDataS3Uris[0]', /params trainingBucket, extraBuckets/);
  });

  it('output to another (existing) bucket', async () => {
    await createBucket('other-output-bucket');
    const result = await run(demoJobInput(account, { outputDataS3Uri: 's3://other-output-bucket/runs/' }));
    await expectStopped(result, 'outputDataS3Uri', /under s3:\/\/demo-output-bucket\/runs\/ \(params outputBucket, outputPrefix\)/);
  });

  it('output outside the stage prefix', async () => {
    const result = await run(demoJobInput(account, { outputDataS3Uri: `s3://${account.outputBucket}/elsewhere/` }));
    await expectStopped(result, 'outputDataS3Uri', /params outputBucket, outputPrefix/);
  });

  it('a KMS key not in the stage', async () => {
    const allowed = `arn:aws:kms:us-east-1:${account.accountId}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    setStage(demoStageParams(account, { kmsKeyArns: allowed }));
    const other = `arn:aws:kms:us-east-1:${account.accountId}:key/0000abcd-12ab-34cd-56ef-1234567890ab`;
    const result = await run(demoJobInput(account, { customModelKmsKeyId: other }));
    await expectStopped(result, 'customModelKmsKeyId', new RegExp(`param kmsKeyArns\\): ${allowed}`));
  });

  it('a VPC, subnet and security group of another (existing) VPC', async () => {
    const other = await otherNetwork();
    const result = await run(
      demoJobInput(account, { vpcConfig: { vpcId: other.vpcId, subnetIds: [other.subnetId], securityGroupIds: [other.securityGroupId] } }),
    );
    await expectStopped(result, 'vpcConfig.vpcId', new RegExp(`param vpcId\\): ${account.vpcId}`));
    expect(result.cause).toContain('vpcConfig.subnetIds[0]: ');
    expect(result.cause).toContain('vpcConfig.securityGroupIds[0]: ');
  });

  it("a subnet of another (existing) VPC in the stage's VPC config", async () => {
    const other = await otherNetwork();
    const result = await run(
      demoJobInput(account, { vpcConfig: { vpcId: account.vpcId, subnetIds: [account.subnetIds[0], other.subnetId], securityGroupIds: [account.securityGroupId] } }),
    );
    await expectStopped(result, 'vpcConfig.subnetIds[1]', /param subnetIds/);
  });

  it("policies.endpoint restrict on an append stage", async () => {
    const result = await run(demoJobInput(account, { policies: { endpoint: 'restrict' } }));
    await expectStopped(result, 'policies.endpoint', /"append" \(the stage's setting, param endpointPolicy\) or "skip"/);
  });

  it('a bucket Deny the stage skips', async () => {
    const result = await run(demoJobInput(account, { policies: { outputBucket: 'apply', trainingBucket: 'apply' } }));
    await expectStopped(result, 'policies.outputBucket', /param outputBucketPolicy/);
    expect(result.cause).toContain('policies.trainingBucket: ');
  });

  it('policies.exemptPrincipalArns in the input', async () => {
    const operators = await iam.send(new CreateRoleCommand({ RoleName: 'Operators', AssumeRolePolicyDocument: TRUST }));
    const result = await run(demoJobInput(account, { policies: { exemptPrincipalArns: [operators.Role!.Arn!] } }));
    await expectStopped(result, 'policies.exemptPrincipalArns', /stage param \(exemptPrincipalArns\)/, ['BedrockCustomizationRole', 'Operators']);
  });

  it('the roleArn of another (existing) role', async () => {
    const other = await iam.send(new CreateRoleCommand({ RoleName: 'OtherBedrockRole', AssumeRolePolicyDocument: TRUST }));
    const result = await run(demoJobInput(account, { roleArn: other.Role!.Arn! }));
    await expectStopped(result, 'roleArn', new RegExp(`param bedrockRoleArn\\): ${account.roleArn}`), ['BedrockCustomizationRole', 'OtherBedrockRole']);
  });

  it('a job longer than the stage allows', async () => {
    setStage(demoStageParams(account, { maxJobDurationSeconds: '3600' }));
    const result = await run(demoJobInput(account, { maxJobDurationSeconds: 86_400 }));
    await expectStopped(result, 'maxJobDurationSeconds', /at most 3600 \(param maxJobDurationSeconds\)/);
  });
  it("a top-level handover naming another's job: never resolved as a job input, and the job is left alone", async () => {
    // Someone else's running job in the account.
    const created = { jobArn: await createDemoJob(bedrock, account, 'someone-elses-job', { subnetIds: [] }) };
    // A hand-over as PollStatus would write it, forged: its deadline long past (PollStatus would stop the job).
    const input = {
      handover: {
        job: {
          jobName: 'someone-elses-job',
          polling: { initialSeconds: 10, maxSeconds: 10, growthFactor: 1, handoverAfterEvents: 10_000 },
          vpcConfig: { vpcId: account.vpcId, subnetIds: account.subnetIds, securityGroupIds: [account.securityGroupId] },
        },
        execution: { id: 'arn:aws:states:us-east-1:123456789012:execution:forged:first', name: 'first' },
        submission: { jobArn: created.jobArn, jobName: 'someone-elses-job', adopted: false, submittedAt: '2020-01-01T00:00:00Z', deadline: '2020-01-01T00:00:01Z' },
        pollCount: 0,
        generation: 1,
        previousExecutionId: 'arn:aws:states:us-east-1:123456789012:execution:forged:first',
      },
    };
    const result = await run(input);
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('HandOverRejectedError');
    for (const state of ['ValidateNetwork', 'PollStatus', 'StopJob', 'CleanupEnis']) expect(result.states).not.toContain(state);
    // Verifying the claim may read (the previous execution's history); nothing is written or stopped.
    expect(sentDuringRun.filter((c) => !/^(Get|Describe|List)/.test(c))).toEqual([]);
    const job = await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: created.jobArn! }));
    expect(job.status).toBe('InProgress');
  });
});

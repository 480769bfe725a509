import { DescribeVpcEndpointsCommand, ModifyVpcEndpointCommand } from '@aws-sdk/client-ec2';
import { GetRolePolicyCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetBucketPolicyCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  applyPolicies,
  planPolicies,
  revokeGrants,
  rollbackPolicies,
  type ApplyPoliciesDeps,
} from '../../functions/apply-policies/apply-policies.js';
import { s3Sid } from '../../functions/shared/policies/s3-access.js';
import { graderStatement } from '../../functions/shared/policies/role.js';
import { PolicyApplyError } from '../../functions/shared/errors.js';
import { resolveJobInput, type JobInput } from '../../functions/shared/job-input.js';
import { coveringParams, jobPart, testStage } from '../fixtures/stage.js';
import { POLICY_LEASES_TABLE_NAME, demoJobInput, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { dynamoLeases } from '../../functions/apply-policies/leases.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const clients = motoClients();
const { ec2, s3, iam } = clients;
const WORKFLOW_ROLE = 'arn:aws:iam::123456789012:role/bedrock-vpc-customization-dev-us-east-1-lambdaRole';
const OPERATOR = 'arn:aws:iam::123456789012:role/Operators';
const OWNER = 'arn:aws:states:us-east-1:123456789012:execution:bedrock-vpc-customization-dev-customize-model:run-1';
/** The policy leases in moto's DynamoDB (the table seedDemoAccount creates), for the job `owner`. */
const lease = (owner = OWNER) => ({ owner, leases: dynamoLeases(clients.dynamodb, POLICY_LEASES_TABLE_NAME) });
const WRITES = new Set([
  'PutRolePolicyCommand',
  'DeleteRolePolicyCommand',
  'ModifyVpcEndpointCommand',
  'PutBucketPolicyCommand',
  'DeleteBucketPolicyCommand',
]);

/**
 * Fresh moto clients with a recording middleware: every command name is logged, and `failOnce`
 * makes the next (or the `nth`) call of one command fail (as a 500 from the service would) without reaching moto.
 * Real client instances, so the SDK paginators the code uses work as on AWS.
 */
function recordingDeps() {
  const calls: string[] = [];
  let failNext: { command: string; remaining: number } | undefined;
  const fresh = motoClients();
  for (const client of [fresh.ec2, fresh.s3, fresh.iam]) {
    (client.middlewareStack as { add: (mw: unknown, options: unknown) => void }).add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName: string }) => async (args: unknown) => {
        calls.push(context.commandName);
        if (failNext?.command === context.commandName && --failNext.remaining === 0) {
          failNext = undefined;
          throw Object.assign(new Error('We encountered an internal error. Please try again.'), {
            name: 'InternalError',
            $metadata: { httpStatusCode: 500 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'recordAndFail' },
    );
  }
  const deps: ApplyPoliciesDeps = { ec2: fresh.ec2, s3: fresh.s3, iam: fresh.iam };
  return {
    deps,
    calls,
    writes: () => calls.filter((c) => WRITES.has(c)),
    failOnce: (command: string, nth = 1) => {
      failNext = { command, remaining: nth };
    },
  };
}

function job(account: DemoAccount, overrides: Record<string, unknown> = {}): JobInput {
  const raw = demoJobInput(account, {
    policies: { endpoint: 'restrict', outputBucket: 'apply', trainingBucket: 'apply', role: 'apply', exemptPrincipalArns: [OPERATOR] },
    ...overrides,
  });
  return resolveJobInput(jobPart(raw), testStage(coveringParams(raw, { s3EndpointIds: account.endpointId })), { id: 'arn:aws:states:us-east-1:123456789012:execution:m:run-1', name: 'run-1' });
}

async function endpointPolicyText(id: string): Promise<string> {
  const out = await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [id] }));
  return out.VpcEndpoints![0]!.PolicyDocument!;
}
async function bucketPolicyText(bucket: string): Promise<string | null> {
  try {
    return (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy!;
  } catch (err) {
    if ((err as Error).name === 'NoSuchBucketPolicy') return null;
    throw err;
  }
}
async function rolePolicyText(policyName: string): Promise<string | null> {
  try {
    const out = await iam.send(new GetRolePolicyCommand({ RoleName: 'BedrockCustomizationRole', PolicyName: policyName }));
    return decodeURIComponent(out.PolicyDocument!);
  } catch (err) {
    if ((err as Error).name === 'NoSuchEntityException') return null;
    throw err;
  }
}

async function snapshot(account: DemoAccount) {
  return {
    endpoint: await endpointPolicyText(account.endpointId),
    output: await bucketPolicyText(account.outputBucket),
    training: await bucketPolicyText(account.trainingBucket),
    role: await rolePolicyText(`BedrockVpcCustomization-${account.vpcId}`),
  };
}

const FOREIGN_ENDPOINT_STATEMENT = {
  Sid: 'AnalyticsReadsItsBucket',
  Effect: 'Allow',
  Principal: '*',
  Action: 's3:GetObject',
  Resource: 'arn:aws:s3:::analytics-bucket/*',
};
const FOREIGN_BUCKET_STATEMENT = {
  Sid: 'DenyInsecureTransport',
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:*',
  Resource: ['arn:aws:s3:::demo-output-bucket', 'arn:aws:s3:::demo-output-bucket/*'],
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
};

describe('apply-policies against moto', () => {
  let account: DemoAccount;
  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb: motoClients().dynamodb });
  });

  it("writes the expected endpoint, bucket and role documents and keeps others' statements", async () => {
    // Prepare: a foreign statement next to the default one in the endpoint policy, one in the bucket policy
    await ec2.send(
      new ModifyVpcEndpointCommand({
        VpcEndpointId: account.endpointId,
        PolicyDocument: JSON.stringify({
          Version: '2008-10-17',
          Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }, FOREIGN_ENDPOINT_STATEMENT],
        }),
      }),
    );
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: account.outputBucket,
        Policy: JSON.stringify({ Version: '2012-10-17', Statement: [FOREIGN_BUCKET_STATEMENT] }),
      }),
    );
    const rec = recordingDeps();

    // Act
    const plan = await planPolicies(job(account), rec.deps, { workflowRoleArn: WORKFLOW_ROLE });
    const result = await applyPolicies(plan, rec.deps, lease());

    // Assess: moto's documents
    expect(result.applied).toHaveLength(4);
    expect(rec.writes()).toEqual(['PutRolePolicyCommand', 'ModifyVpcEndpointCommand', 'PutBucketPolicyCommand', 'PutBucketPolicyCommand']);
    const after = await snapshot(account);
    expect(JSON.parse(after.endpoint)).toEqual({
      Version: '2008-10-17',
      Statement: [
        FOREIGN_ENDPOINT_STATEMENT,
        {
          Sid: s3Sid('demo-output-bucket', 'readwrite'),
          Effect: 'Allow',
          Principal: '*',
          Action: ['s3:PutObject', 's3:GetObject', 's3:ListBucket'],
          Resource: ['arn:aws:s3:::demo-output-bucket', 'arn:aws:s3:::demo-output-bucket/*'],
        },
        {
          Sid: s3Sid('demo-training-bucket', 'read'),
          Effect: 'Allow',
          Principal: '*',
          Action: ['s3:GetObject', 's3:ListBucket'],
          Resource: ['arn:aws:s3:::demo-training-bucket', 'arn:aws:s3:::demo-training-bucket/*'],
        },
      ],
    });
    const deny = (bucket: string) => ({
      Sid: 'BedrockVpcDenyOutsideVpc',
      Effect: 'Deny',
      Principal: '*',
      Action: ['s3:PutObject', 's3:GetObject', 's3:ListBucket'],
      Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
      Condition: {
        StringNotEquals: { 'aws:SourceVpc': [account.vpcId] },
        ArnNotLike: { 'aws:PrincipalArn': [OPERATOR, WORKFLOW_ROLE] },
      },
    });
    expect(JSON.parse(after.output!)).toEqual({ Version: '2012-10-17', Statement: [FOREIGN_BUCKET_STATEMENT, deny('demo-output-bucket')] });
    expect(JSON.parse(after.training!)).toEqual({ Version: '2012-10-17', Statement: [deny('demo-training-bucket')] });

    const role = JSON.parse(after.role!) as { Version: string; Statement: { Sid: string; Resource: unknown; Condition?: unknown }[] };
    expect(role.Version).toBe('2012-10-17');
    expect(role.Statement.map((s) => s.Sid)).toEqual([
      'BedrockVpcDescribe',
      'BedrockVpcCreateTaggedEni',
      'BedrockVpcCreateEniInJobSubnets',
      'BedrockVpcManageOwnEni',
      'BedrockVpcTagEniOnCreate',
      s3Sid('demo-output-bucket', 'readwrite'),
      s3Sid('demo-training-bucket', 'read'),
    ]);
    const subnetArns = account.subnetIds.map((id) => `arn:aws:ec2:us-east-1:123456789012:subnet/${id}`).sort();
    expect(role.Statement[2]!.Resource).toEqual([...subnetArns, `arn:aws:ec2:us-east-1:123456789012:security-group/${account.securityGroupId}`]);
    expect(role.Statement[1]!.Condition).toEqual({
      StringEquals: { 'aws:RequestTag/BedrockManaged': ['true'] },
      ArnEquals: { 'aws:RequestTag/BedrockModelCustomizationJobArn': ['arn:aws:bedrock:us-east-1:123456789012:model-customization-job/*'] },
    });
  });

  it('makes no write call on a second run, and never duplicates a statement', async () => {
    // Prepare
    const first = recordingDeps();
    await applyPolicies(await planPolicies(job(account), first.deps, { workflowRoleArn: WORKFLOW_ROLE }), first.deps, lease());
    const before = await snapshot(account);
    const second = recordingDeps();

    // Act
    const plan = await planPolicies(job(account), second.deps, { workflowRoleArn: WORKFLOW_ROLE });
    const result = await applyPolicies(plan, second.deps, lease());

    // Assess
    expect(plan.changes.map((c) => c.action)).toEqual(['none', 'none', 'none', 'none']);
    expect(result.applied).toEqual([]);
    expect(second.writes()).toEqual([]);
    expect(await snapshot(account)).toEqual(before);
  });

  it("a second job with another output bucket keeps the first job's access", async () => {
    // Prepare
    await s3.send(new CreateBucketCommand({ Bucket: 'second-output-bucket' }));
    const rec = recordingDeps();
    await applyPolicies(await planPolicies(job(account), rec.deps), rec.deps, lease());

    // Act
    const other = job(account, { outputDataS3Uri: 's3://second-output-bucket/runs/', customModelKmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' });
    await applyPolicies(await planPolicies(other, rec.deps), rec.deps, lease());

    // Assess
    const endpointSids = (JSON.parse(await endpointPolicyText(account.endpointId)) as { Statement: { Sid: string }[] }).Statement.map((s) => s.Sid);
    const expected = [s3Sid('demo-output-bucket', 'readwrite'), s3Sid('demo-training-bucket', 'read'), s3Sid('second-output-bucket', 'readwrite')];
    expect(endpointSids).toEqual(expected);
    const role = JSON.parse((await rolePolicyText(`BedrockVpcCustomization-${account.vpcId}`))!) as { Statement: { Sid: string }[] };
    expect(role.Statement.map((s) => s.Sid)).toEqual(expect.arrayContaining(expected));
    // IAM (moto validates policies) accepted the KMS statement too
    expect(role.Statement.map((s) => s.Sid)).toContainEqual(expect.stringMatching(/^BedrockKmsCustomModelKey/));
  });

  it('append mode keeps the default full-access statement', async () => {
    const rec = recordingDeps();
    const appendJob = job(account, { policies: { endpoint: 'append', role: 'skip' } });
    await applyPolicies(await planPolicies(appendJob, rec.deps), rec.deps, lease());
    const doc = JSON.parse(await endpointPolicyText(account.endpointId)) as { Statement: unknown[] };
    expect(doc.Statement[0]).toEqual({ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' });
    expect(doc.Statement).toHaveLength(3);
  });

  it('a failure of the second write is rolled back: the first policy is restored exactly', async () => {
    // Prepare: the role already has this inline policy, stored with its own formatting
    const policyName = `BedrockVpcCustomization-${account.vpcId}`;
    const original = JSON.stringify(
      { Version: '2012-10-17', Statement: [{ Sid: 'ManualExtra', Effect: 'Allow', Action: 'ec2:DescribeVpcs', Resource: '*' }] },
      null,
      2,
    );
    await iam.send(new PutRolePolicyCommand({ RoleName: 'BedrockCustomizationRole', PolicyName: policyName, PolicyDocument: original }));
    const endpointBefore = await endpointPolicyText(account.endpointId);
    const rec = recordingDeps();
    const plan = await planPolicies(job(account), rec.deps, { workflowRoleArn: WORKFLOW_ROLE });
    rec.failOnce('ModifyVpcEndpointCommand');

    // Act
    const failure = await applyPolicies(plan, rec.deps, lease()).catch((err: unknown) => err);
    const midway = await rolePolicyText(policyName);
    const rollback = await rollbackPolicies(plan, rec.deps, lease());

    // Assess
    expect(failure).toBeInstanceOf(PolicyApplyError);
    expect((failure as Error).message).toMatch(/vpc-endpoint\/.* failed \(InternalError.*written before it: role\/BedrockCustomizationRole/);
    expect(midway).not.toBe(original);
    expect(rec.writes()).toEqual(['PutRolePolicyCommand', 'ModifyVpcEndpointCommand', 'PutRolePolicyCommand']);
    expect(await rolePolicyText(policyName)).toBe(original);
    expect(await endpointPolicyText(account.endpointId)).toBe(endpointBefore);
    expect(await bucketPolicyText(account.outputBucket)).toBeNull();
    expect(rollback.restored).toEqual([`role/BedrockCustomizationRole inline policy ${policyName}`]);
    expect(rollback.notWritten).toHaveLength(3);
  });

  it('rollback deletes a role policy that did not exist before', async () => {
    const rec = recordingDeps();
    const plan = await planPolicies(job(account), rec.deps);
    rec.failOnce('ModifyVpcEndpointCommand');
    await expect(applyPolicies(plan, rec.deps, lease())).rejects.toBeInstanceOf(PolicyApplyError);
    const rollback = await rollbackPolicies(plan, rec.deps, lease());
    expect(rollback.deleted).toHaveLength(1);
    expect(await rolePolicyText(`BedrockVpcCustomization-${account.vpcId}`)).toBeNull();
  });

  it('rollback deletes a bucket policy that did not exist before (the training bucket write failed)', async () => {
    // Prepare: the output bucket's policy is written first, then the training bucket's, which fails
    const rec = recordingDeps();
    const plan = await planPolicies(job(account), rec.deps, { workflowRoleArn: WORKFLOW_ROLE });
    expect(plan.changes.at(-1)!.target.resource).toContain(account.trainingBucket);
    rec.failOnce('PutBucketPolicyCommand', 2);

    // Act
    await expect(applyPolicies(plan, rec.deps, lease())).rejects.toBeInstanceOf(PolicyApplyError);
    const midway = await bucketPolicyText(account.outputBucket);
    const rollback = await rollbackPolicies(plan, rec.deps, lease());

    // Assess
    expect(midway).not.toBeNull();
    expect(rec.calls).toContain('DeleteBucketPolicyCommand');
    expect(rollback.deleted).toEqual(expect.arrayContaining([expect.stringContaining(account.outputBucket)]));
    expect(await bucketPolicyText(account.outputBucket)).toBeNull();
    expect(await bucketPolicyText(account.trainingBucket)).toBeNull();
  });

  it('dry run: the plan shows current, desired and diff, and nothing is written', async () => {
    // Prepare
    const before = await snapshot(account);
    const rec = recordingDeps();

    // Act
    const plan = await planPolicies(job(account, { dryRun: true }), rec.deps, { workflowRoleArn: WORKFLOW_ROLE });

    // Assess
    expect(plan.dryRun).toBe(true);
    expect(rec.writes()).toEqual([]);
    expect(await snapshot(account)).toEqual(before);
    const endpoint = plan.changes.find((c) => c.target.kind === 'endpoint')!;
    expect(endpoint.action).toBe('update');
    expect(endpoint.current).toEqual({ Version: '2008-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }] });
    expect(endpoint.diff.removed).toEqual(['(no Sid): Allow principal * * on *']);
    expect(endpoint.diff.added).toHaveLength(2);
    expect(plan.summary).toHaveLength(4);
    expect(JSON.stringify(plan).length).toBeLessThan(32_000);
  });
});

describe('grants for the new customization types against moto', () => {
  let account: DemoAccount;
  const GRADER = 'arn:aws:lambda:us-east-1:123456789012:function:reward-grader';
  const LOGS = 'grant-test-invocation-logs';
  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb: motoClients().dynamodb });
  });
  const rft = (): JobInput => {
    const raw = demoJobInput(account, {
      customizationType: 'REINFORCEMENT_FINE_TUNING',
      hyperParameters: {},
      customizationConfig: { rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: GRADER } } } },
      policies: { endpoint: 'restrict', outputBucket: 'apply', trainingBucket: 'apply', role: 'apply', exemptPrincipalArns: [OPERATOR] },
    });
    return resolveJobInput(jobPart(raw), testStage(coveringParams(raw, { s3EndpointIds: account.endpointId, graderLambdaArns: GRADER })), { id: OWNER, name: 'run-1' });
  };

  it("the role policy as IAM stores it carries the grader statement after apply; revoke with no other holder removes it", async () => {
    const plan = await planPolicies(rft(), recordingDeps().deps, { workflowRoleArn: WORKFLOW_ROLE });
    await applyPolicies(plan, recordingDeps().deps, lease());
    const stored = JSON.parse((await rolePolicyText(`BedrockVpcCustomization-${account.vpcId}`))!) as { Statement: unknown[] };
    expect(stored.Statement).toContainEqual(graderStatement(GRADER));

    await revokeGrants(recordingDeps().deps, lease(), false);
    const after = await rolePolicyText(`BedrockVpcCustomization-${account.vpcId}`);
    expect(after === null ? [] : (JSON.parse(after) as { Statement: unknown[] }).Statement).not.toContainEqual(graderStatement(GRADER));
  });

  it('a job trained on invocation logs reads their bucket through the role and the endpoint; its bucket policy is never written', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: LOGS }));
    const { trainingDataS3Uri: _, validationDataS3Uris: __, ...raw } = demoJobInput(account, {
      customizationType: 'DISTILLATION',
      hyperParameters: {},
      customizationConfig: { distillationConfig: { teacherModelConfig: { teacherModelIdentifier: 'amazon.nova-premier-v1:0' } } },
      invocationLogsConfig: { invocationLogSource: { s3Uri: `s3://${LOGS}/AWSLogs/` } },
      policies: { endpoint: 'restrict', outputBucket: 'apply', trainingBucket: 'apply', role: 'apply', exemptPrincipalArns: [OPERATOR] },
    });
    const stage = testStage(
      coveringParams(raw, { s3EndpointIds: account.endpointId, trainingBucket: account.trainingBucket, teacherModelIdentifiers: 'amazon.nova-premier-v1:0', invocationLogBuckets: LOGS }),
    );
    const logJob = resolveJobInput(jobPart(raw), stage, { id: OWNER, name: 'run-1' });
    const rec = recordingDeps();
    await applyPolicies(await planPolicies(logJob, rec.deps, { workflowRoleArn: WORKFLOW_ROLE, invocationLogBuckets: [LOGS] }), rec.deps, lease());

    expect(await bucketPolicyText(LOGS)).toBeNull();
    expect(await bucketPolicyText(account.outputBucket)).not.toBeNull();
    const read = { Sid: s3Sid(LOGS, 'read'), Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: [`arn:aws:s3:::${LOGS}`, `arn:aws:s3:::${LOGS}/*`] };
    expect((JSON.parse((await rolePolicyText(`BedrockVpcCustomization-${account.vpcId}`))!) as { Statement: unknown[] }).Statement).toContainEqual(read);
    expect((JSON.parse(await endpointPolicyText(account.endpointId)) as { Statement: unknown[] }).Statement).toContainEqual({ ...read, Principal: '*' });
  });
});

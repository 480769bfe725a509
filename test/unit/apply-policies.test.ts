import { DescribeVpcEndpointsCommand, EC2Client, ModifyVpcEndpointCommand } from '@aws-sdk/client-ec2';
import { IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { DeleteBucketPolicyCommand, GetBucketPolicyCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  MAX_PLAN_CHARS,
  applyPolicies,
  planPolicies,
  revokeGrants,
  rollbackPolicies,
  type ApplyPoliciesDeps,
  type PolicyPlan,
} from '../../functions/apply-policies/apply-policies.js';
import { s3ServiceName } from '../../functions/shared/s3.js';
import { DEFAULT_ENDPOINT_POLICY } from '../../functions/apply-policies/endpoint-policy.js';
import { PolicyApplyError, PolicyLockoutError, PolicyRollbackError } from '../../functions/shared/errors.js';
import { resolvedJob } from '../fixtures/job.js';
import { GRADER_ARN, LOG_BUCKET, invocationLogJob, rftJob } from '../fixtures/customization-job.js';
import { graderStatement } from '../../functions/shared/policies/role.js';
import { s3Sid } from '../../functions/shared/policies/s3-access.js';
import {
  ENDPOINT,
  leaseContext,
  awsError,
  emulatePolicyAccount,
  policyMocks,
  policyWriteCount,
  type PolicyAccountState,
} from '../support/policy-account.js';

const { ec2Mock, iamMock, s3Mock } = policyMocks;
const deps: ApplyPoliciesDeps = { ec2: new EC2Client({}), iam: new IAMClient({}), s3: new S3Client({}) };

const WORKFLOW_ROLE = 'arn:aws:iam::123456789012:role/wf-lambdaRole';
const ROLE_POLICY = 'BedrockVpcCustomization-vpc-0123456789abcdef0';
const ALL = { endpoint: 'restrict', outputBucket: 'apply', trainingBucket: 'apply', role: 'apply', exemptPrincipalArns: [] };

/** The account's documents, in memory (see test/support/policy-account.ts). */
let state: PolicyAccountState;
const emulate = () => emulatePolicyAccount(() => state, { deletedEndpoint: true });
const writeCount = policyWriteCount;

const job = (policies: Record<string, unknown> = ALL, extra: Record<string, unknown> = {}) => resolvedJob({ policies, ...extra });

beforeEach(() => {
  state = { role: null, endpoint: JSON.stringify(DEFAULT_ENDPOINT_POLICY), buckets: { 'output-bucket': null, 'training-bucket': null } };
  emulate();
});
afterEach(() => {
  ec2Mock.reset();
  iamMock.reset();
  s3Mock.reset();
});

describe('planPolicies', () => {
  it('plans every target in order (grants first, Deny last) with current, desired and diff, and writes nothing', async () => {
    // Act
    const plan = await planPolicies(job(), deps, { workflowRoleArn: WORKFLOW_ROLE });

    // Assess
    expect(plan.changes.map((c) => [c.target.kind, c.action])).toEqual([
      ['role', 'create'],
      ['endpoint', 'update'],
      ['bucket', 'create'],
      ['bucket', 'create'],
    ]);
    expect(plan.changes.map((c) => c.target.resource)).toEqual([
      `role/BedrockCustomizationRole inline policy ${ROLE_POLICY}`,
      `vpc-endpoint/${ENDPOINT} policy (restrict)`,
      's3://output-bucket bucket policy (BedrockVpcDenyOutsideVpc)',
      's3://training-bucket bucket policy (BedrockVpcDenyOutsideVpc)',
    ]);
    expect(plan.changes[1]!.current).toEqual(DEFAULT_ENDPOINT_POLICY);
    expect(plan.changes[1]!.diff.removed).toEqual(['(no Sid): Allow principal * * on *']);
    expect(plan.summary[1]).toBe(`update vpc-endpoint/${ENDPOINT} policy (restrict) (+2 -1 statements, 0 unchanged)`);
    expect(plan.changes[2]!.desired.Statement[0]!.Condition).toEqual({
      StringNotEquals: { 'aws:SourceVpc': ['vpc-0123456789abcdef0'] },
      ArnNotLike: { 'aws:PrincipalArn': [WORKFLOW_ROLE] },
    });
    expect(writeCount()).toBe(0);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeVpcEndpointsCommand, {
      Filters: [
        { Name: 'vpc-id', Values: ['vpc-0123456789abcdef0'] },
        { Name: 'service-name', Values: ['com.amazonaws.us-east-1.s3'] },
        { Name: 'vpc-endpoint-type', Values: ['Gateway'] },
      ],
    });
    expect(s3Mock).toHaveReceivedCommandWith(GetBucketPolicyCommand, { Bucket: 'output-bucket', ExpectedBucketOwner: '123456789012' });
    for (const change of plan.changes) expect(JSON.parse(JSON.stringify(change.desired))).toEqual(change.desired);
  });

  it('skips what the job input says to skip, with no call for it', async () => {
    const plan = await planPolicies(job({ endpoint: 'skip', outputBucket: 'skip', trainingBucket: 'skip', role: 'skip' }), deps);
    expect(plan.changes).toEqual([]);
    expect(plan.skipped).toEqual(['role', 'endpoint', 'outputBucket', 'trainingBucket']);
    expect(ec2Mock.calls()).toHaveLength(0);
    expect(iamMock.calls()).toHaveLength(0);
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('restricts a bucket once when it is both the training and the output bucket', async () => {
    const plan = await planPolicies(job(ALL, { outputDataS3Uri: 's3://training-bucket/out/' }), deps);
    expect(plan.changes.filter((c) => c.target.kind === 'bucket')).toHaveLength(1);
  });

  it('fails clearly when the VPC has no live S3 gateway endpoint', async () => {
    ec2Mock.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [{ VpcEndpointId: 'vpce-0000000000000dead', State: 'Deleted' }] });
    await expect(planPolicies(job(), deps)).rejects.toThrow(/No S3 gateway endpoint in vpc-0123456789abcdef0/);
  });

  it('refuses an S3 gateway endpoint of the VPC that the stage does not list (its policy is not ours to write)', async () => {
    await expect(planPolicies(job(), deps, { s3EndpointIds: ['vpce-0000000000000beef'] })).rejects.toThrow(
      /vpce-0123456789abcdef0 of vpc-0123456789abcdef0 is not in the stage param s3EndpointIds/,
    );
    await expect(planPolicies(job(), deps, { s3EndpointIds: ['vpce-0123456789abcdef0'] })).resolves.toBeDefined();
    expect(writeCount()).toBe(0);
  });

  it('uses the China partition endpoint service name', () => {
    expect(s3ServiceName('aws-cn', 'cn-north-1')).toBe('cn.com.amazonaws.cn-north-1.s3');
    expect(s3ServiceName('aws', 'eu-west-1')).toBe('com.amazonaws.eu-west-1.s3');
  });

  it('refuses, before any write, a bucket policy that would lock out an exempt principal', async () => {
    // A session ARN (the stage params refuse one; the guard is the second line of defence).
    const session = 'arn:aws:sts::123456789012:assumed-role/Ops/alice';
    const j = job(ALL);
    const plan = planPolicies({ ...j, policies: { ...j.policies, exemptPrincipalArns: [session] } }, deps, { workflowRoleArn: WORKFLOW_ROLE });
    await expect(plan).rejects.toBeInstanceOf(PolicyLockoutError);
    await expect(plan).rejects.toThrow(/exempt principal arn:aws:sts::123456789012:assumed-role\/Ops\/alice would be denied/);
    expect(writeCount()).toBe(0);
  });

  it('refuses a document over its size limit', async () => {
    const big = Array.from({ length: 80 }, (_, i) => ({ Sid: `Other${i}`, Effect: 'Allow', Action: 'ec2:DescribeVpcs', Resource: `arn:aws:ec2:us-east-1:123456789012:vpc/vpc-${i}` }));
    state.role = JSON.stringify({ Version: '2012-10-17', Statement: big });
    await expect(planPolicies(job(), deps)).rejects.toThrow(/over the 10240 limit/);
  });

  it('keeps the plan well under the state limit, and refuses one that would not fit', async () => {
    const plan = await planPolicies(job(ALL, { validationDataS3Uris: Array.from({ length: 10 }, (_, i) => `s3://validation-bucket-${i}/v.jsonl`) }), deps);
    expect(JSON.stringify(plan).length).toBeLessThan(40_000);
    const statements = (n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => ({ Sid: `${tag}${i}`, Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${tag}-bucket-${i}/*` }));
    // three documents near their 20 KB limit, each stored pretty-printed (so the exact text is kept too)
    state.endpoint = JSON.stringify({ Version: '2012-10-17', Statement: statements(150, 'e') }, null, 8);
    state.buckets['output-bucket'] = JSON.stringify({ Version: '2012-10-17', Statement: statements(150, 'o') }, null, 8);
    state.buckets['training-bucket'] = JSON.stringify({ Version: '2012-10-17', Statement: statements(150, 't') }, null, 8);
    await expect(planPolicies(job(), deps)).rejects.toThrow(new RegExp(`over ${MAX_PLAN_CHARS}`));
  });
});

describe('applyPolicies', () => {
  it('writes each change once; a second plan is all "none" and makes no write call', async () => {
    // Prepare
    const plan = await planPolicies(job(), deps, { workflowRoleArn: WORKFLOW_ROLE });

    // Act
    const first = await applyPolicies(plan, deps, leaseContext());
    const writesAfterFirst = writeCount();
    const second = await applyPolicies(await planPolicies(job(), deps, { workflowRoleArn: WORKFLOW_ROLE }), deps, leaseContext());

    // Assess
    expect(first.applied).toHaveLength(4);
    expect(writesAfterFirst).toBe(4);
    expect(second.changes.every((c) => c.action === 'none')).toBe(true);
    expect(second.applied).toEqual([]);
    expect(writeCount()).toBe(4);
    expect(iamMock).toHaveReceivedCommandWith(PutRolePolicyCommand, { RoleName: 'BedrockCustomizationRole', PolicyName: ROLE_POLICY });
  });

  it('does not write again what a retried invocation already wrote', async () => {
    const plan = await planPolicies(job(), deps);
    await applyPolicies(plan, deps, leaseContext());
    const again = await applyPolicies(plan, deps, leaseContext());
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toHaveLength(4);
    expect(writeCount()).toBe(4);
  });

  it('stops without overwriting a policy changed by someone else since the plan', async () => {
    const plan = await planPolicies(job(), deps);
    state.endpoint = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Someone', Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }] });
    await expect(applyPolicies(plan, deps, leaseContext())).rejects.toThrow(/changed since the plan was made/);
    expect(ec2Mock.commandCalls(ModifyVpcEndpointCommand)).toHaveLength(0);
    expect(s3Mock.commandCalls(PutBucketPolicyCommand)).toHaveLength(0);
  });

  it('turns a throttled write into PolicyApplyError naming what was written before, and writes nothing after', async () => {
    // Prepare: the SDK has already retried; the throttling reaches the step
    const plan = await planPolicies(job(), deps);
    ec2Mock.on(ModifyVpcEndpointCommand).rejects(awsError('RequestLimitExceeded', 503));

    // Act
    const err = await applyPolicies(plan, deps, leaseContext()).catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(PolicyApplyError);
    expect((err as Error).message).toMatch(/vpc-endpoint\/vpce-0123456789abcdef0 policy \(restrict\) failed \(RequestLimitExceeded: .*written before it: role\/BedrockCustomizationRole/);
    expect((err as Error).cause).toMatchObject({ name: 'RequestLimitExceeded' });
    expect(s3Mock.commandCalls(PutBucketPolicyCommand)).toHaveLength(0);
  });

  it('turns a 5xx on the bucket policy into PolicyApplyError; rollback then restores the rest', async () => {
    // Prepare
    const plan = await planPolicies(job(), deps);
    s3Mock.on(PutBucketPolicyCommand).rejects(awsError('InternalError', 500));

    // Act
    await expect(applyPolicies(plan, deps, leaseContext())).rejects.toThrow(/s3:\/\/output-bucket .* failed \(InternalError/);
    const rollback = await rollbackPolicies(plan, deps, leaseContext());

    // Assess
    expect(rollback).toMatchObject({
      deleted: [`role/BedrockCustomizationRole inline policy ${ROLE_POLICY}`],
      restored: [`vpc-endpoint/${ENDPOINT} policy (restrict)`],
      leftAlone: [],
    });
    expect(rollback.notWritten).toHaveLength(2);
    expect(state.role).toBeNull();
    expect(JSON.parse(state.endpoint)).toEqual(DEFAULT_ENDPOINT_POLICY);
  });
});

describe('rollbackPolicies', () => {
  it('restores the previous documents byte for byte, not just equivalently', async () => {
    // Prepare
    const endpointText = `{\n  "Version": "2008-10-17",\n  "Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}\n}`;
    const bucketText = '{"Statement":[{"Sid":"Keep","Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::output-bucket"}],"Version":"2012-10-17"}';
    state.endpoint = endpointText;
    state.buckets['output-bucket'] = bucketText;
    const plan = await planPolicies(job(), deps);
    await applyPolicies(plan, deps, leaseContext());

    // Act
    const result = await rollbackPolicies(plan, deps, leaseContext());

    // Assess
    expect(plan.changes[1]!.currentText).toBe(endpointText);
    expect(plan.changes[2]!.currentText).toBe(bucketText);
    expect(state.endpoint).toBe(endpointText);
    expect(state.buckets['output-bucket']).toBe(bucketText);
    expect(state.buckets['training-bucket']).toBeNull();
    expect(state.role).toBeNull();
    expect(result.restored).toHaveLength(2);
    expect(result.deleted).toHaveLength(2);
    // reverse order of the writes: the bucket Denies go first
    expect(result.summary).toMatch(/^restored: s3:\/\/output-bucket .*, vpc-endpoint.*; deleted: s3:\/\/training-bucket .*, role\/.*; left alone \(changed by someone else since\): none$/);
  });

  it('leaves alone a policy changed by someone else since, and reports it', async () => {
    const plan = await planPolicies(job(), deps);
    await applyPolicies(plan, deps, leaseContext());
    const theirs = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Theirs', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' }] });
    state.buckets['output-bucket'] = theirs;
    const result = await rollbackPolicies(plan, deps, leaseContext());
    expect(result.leftAlone).toEqual(['s3://output-bucket bucket policy (BedrockVpcDenyOutsideVpc)']);
    expect(state.buckets['output-bucket']).toBe(theirs);
  });

  it('writes the default policy back for an endpoint that had none (ResetPolicy is not used: moto ignores it)', async () => {
    state.endpoint = '';
    const plan = await planPolicies(job(), deps);
    expect(plan.changes[1]!.action).toBe('create');
    await applyPolicies(plan, deps, leaseContext());
    const result = await rollbackPolicies(plan, deps, leaseContext());
    expect(result.deleted).toContain(`vpc-endpoint/${ENDPOINT} policy (restrict)`);
    expect(JSON.parse(state.endpoint)).toEqual(DEFAULT_ENDPOINT_POLICY);
  });

  it('tries every target, then fails with PolicyRollbackError listing what needs a person', async () => {
    const plan: PolicyPlan = await planPolicies(job(), deps);
    await applyPolicies(plan, deps, leaseContext());
    s3Mock.on(DeleteBucketPolicyCommand).rejects(awsError('AccessDenied', 403));
    const err = await rollbackPolicies(plan, deps, leaseContext()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyRollbackError);
    expect((err as Error).message).toMatch(/s3:\/\/training-bucket .*AccessDenied.*s3:\/\/output-bucket .*AccessDenied.*restored: vpc-endpoint/);
    expect(state.role).toBeNull();
  });
});

describe('grants for the grader and the invocation logs', () => {
  const graderSid = graderStatement(GRADER_ARN).Sid!;
  const roleSids = () => (state.role ? (JSON.parse(state.role) as PolicyPlan['changes'][number]['desired']).Statement.map((st) => st.Sid) : []);

  it("plans the grader's statement (the dry run shows it) as one of the job's own, and writes nothing", async () => {
    const plan = await planPolicies(rftJob(GRADER_ARN, { policies: ALL }), deps);
    const role = plan.changes.find((c) => c.target.kind === 'role')!;
    expect(role.diff.added).toContain(`${graderSid}: Allow lambda:InvokeFunction on ${GRADER_ARN}`);
    expect(role.ownedSids).toContain(graderSid);
    expect(writeCount()).toBe(0);
  });

  it('applies, holds and at the end revokes the grader statement like the other grants', async () => {
    const lease = leaseContext();
    await applyPolicies(await planPolicies(rftJob(GRADER_ARN, { policies: ALL }), deps), deps, lease);
    expect(roleSids()).toContain(graderSid);
    const [held] = (await lease.leases.heldBy(lease.owner)).filter((h) => h.document.startsWith('role:'));
    expect(held!.sids).toContain(graderSid);

    const revoked = await revokeGrants(deps, lease, false);
    expect(revoked.revoked).toContain(`role/BedrockCustomizationRole inline policy ${ROLE_POLICY}`);
    expect(roleSids()).not.toContain(graderSid);
  });

  it("rolls the grader's statement back with the rest when a later write fails", async () => {
    const plan = await planPolicies(rftJob(GRADER_ARN, { policies: ALL }), deps);
    s3Mock.on(PutBucketPolicyCommand).rejects(awsError('InternalError', 500));
    await expect(applyPolicies(plan, deps, leaseContext())).rejects.toBeInstanceOf(PolicyApplyError);
    expect(roleSids()).toContain(graderSid);
    await rollbackPolicies(plan, deps, leaseContext());
    expect(state.role).toBeNull();
  });

  it('reads the invocation-log bucket through the role and the endpoint, and never plans a bucket policy for it', async () => {
    const plan = await planPolicies(invocationLogJob(LOG_BUCKET, undefined, { policies: ALL }), deps);
    expect(plan.changes.map((c) => c.target.resource)).toEqual([
      `role/BedrockCustomizationRole inline policy ${ROLE_POLICY}`,
      `vpc-endpoint/${ENDPOINT} policy (restrict)`,
      's3://output-bucket bucket policy (BedrockVpcDenyOutsideVpc)',
    ]);
    // No training file: the trainingBucket setting has nothing to restrict.
    expect(plan.skipped).toEqual(['trainingBucket']);
    for (const kind of ['role', 'endpoint'] as const) {
      expect(plan.changes.find((c) => c.target.kind === kind)!.ownedSids).toContain(s3Sid(LOG_BUCKET, 'read'));
    }
    expect(s3Mock.commandCalls(GetBucketPolicyCommand).map((c) => c.args[0].input.Bucket)).toEqual(['output-bucket']);
  });

  it('refuses, before any write, a plan that would give a bucket holding invocation logs the VPC-only Deny', async () => {
    const err = await planPolicies(job(), deps, { invocationLogBuckets: ['output-bucket'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyApplyError);
    expect((err as Error).message).toMatch(/s3:\/\/output-bucket holds invocation logs/);
    expect(s3Mock.commandCalls(GetBucketPolicyCommand)).toHaveLength(0);
    expect(writeCount()).toBe(0);
  });
});

describe('handler environment', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('exempts WORKFLOW_ROLE_ARN from the bucket Deny', async () => {
    vi.stubEnv('WORKFLOW_ROLE_ARN', WORKFLOW_ROLE);
    vi.stubEnv('STAGE_OUTPUT_BUCKET_POLICY', 'apply');
    vi.stubEnv('STAGE_ENDPOINT_POLICY', 'restrict');
    const { handler } = await import('../../functions/apply-policies/handler.js');
    const plan = (await handler({ action: 'plan', job: job({ ...ALL, endpoint: 'skip', role: 'skip', trainingBucket: 'skip' }) }, {} as never)) as PolicyPlan;
    expect(plan.changes[0]!.desired.Statement[0]!.Condition!.ArnNotLike).toEqual({ 'aws:PrincipalArn': [WORKFLOW_ROLE] });
  });

  it('exempts DATASET_ROLE_ARN (the dataset check reads from outside the VPC) beside WORKFLOW_ROLE_ARN and SNAPSHOT_ROLE_ARN', async () => {
    const datasetRole = 'arn:aws:iam::123456789012:role/stack-ValidateDatasetRole-ABC';
    const snapshotRole = 'arn:aws:iam::123456789012:role/stack-SubmitJobRole-ABC';
    vi.stubEnv('WORKFLOW_ROLE_ARN', WORKFLOW_ROLE);
    vi.stubEnv('DATASET_ROLE_ARN', datasetRole);
    vi.stubEnv('SNAPSHOT_ROLE_ARN', snapshotRole);
    vi.stubEnv('STAGE_OUTPUT_BUCKET_POLICY', 'apply');
    vi.stubEnv('STAGE_ENDPOINT_POLICY', 'restrict');
    const { handler } = await import('../../functions/apply-policies/handler.js');
    const plan = (await handler({ action: 'plan', job: job({ ...ALL, endpoint: 'skip', role: 'skip', trainingBucket: 'skip' }) }, {} as never)) as PolicyPlan;
    const exempt = plan.changes[0]!.desired.Statement[0]!.Condition!.ArnNotLike!['aws:PrincipalArn'];
    expect([exempt].flat().sort()).toEqual([WORKFLOW_ROLE, datasetRole, snapshotRole].sort());
  });

  it('fails the cold start on a malformed WORKFLOW_ROLE_ARN', async () => {
    vi.stubEnv('WORKFLOW_ROLE_ARN', 'not-an-arn');
    await expect(import('../../functions/apply-policies/handler.js')).rejects.toThrow(/WORKFLOW_ROLE_ARN: must be an IAM role ARN/);
  });
});

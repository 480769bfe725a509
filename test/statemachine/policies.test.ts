/**
 * The policy states of the ASL file (PlanPolicies → IsDryRun → ApplyPolicies, Catch → RollbackPolicies
 * → PoliciesFailed) run with the real apply-policies handler; its SDK clients are mocked and hold the
 * account's documents in memory. ValidateNetwork is replaced by its result (a resolved job): its own
 * tests cover it, and its preflight calls are not what this file is about.
 */
import { ModifyVpcEndpointCommand } from '@aws-sdk/client-ec2';
import { PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ENDPOINT_POLICY } from '../../functions/apply-policies/endpoint-policy.js';
import { loadLambdaHandlers, runWorkflow, type TaskHandler, type WorkflowEvent } from '../../local/workflow.js';
import { EXECUTION, rawJob, resolvedJob } from '../fixtures/job.js';
import { TEST_STAGE_PARAMS, setStage, useStage } from '../fixtures/stage.js';
import { GRADER_ARN, LOG_BUCKET, TEACHER_MODEL, invocationLogInput, resolveCovered, rftInput } from '../fixtures/customization-job.js';
import { graderStatement } from '../../functions/shared/policies/role.js';
import { s3Sid } from '../../functions/shared/policies/s3-access.js';
import type { JobInput } from '../../functions/shared/job-input.js';
import { awsError, emulatePolicyAccount, policyMocks, policyWriteCount, type PolicyAccountState } from '../support/policy-account.js';

const { ec2Mock, iamMock, s3Mock } = policyMocks;
const WORKFLOW_ROLE = 'arn:aws:iam::123456789012:role/wf-lambdaRole';
const POLICIES = { endpoint: 'restrict', outputBucket: 'apply', trainingBucket: 'skip', role: 'apply' };
// The stage this file deploys: the endpoint restricted, the output bucket's Deny applied.
useStage({ endpointPolicy: 'restrict', outputBucketPolicy: 'apply' });
const ORIGINAL_ROLE_POLICY = '{ "Version": "2012-10-17", "Statement": [ { "Sid": "Manual", "Effect": "Allow", "Action": "ec2:DescribeVpcs", "Resource": "*" } ] }';

let handlers: Record<string, TaskHandler>;
/** The account's documents, in memory (see test/support/policy-account.ts). */
let state: PolicyAccountState;
const writeCount = policyWriteCount;

/** The states from PlanPolicies on (the states before it are other tests' subject and may grow). */
const fromPlan = (states: string[]) => states.slice(states.indexOf('PlanPolicies'));

/** The output of a state, from its StateExited event. */
function exitOutput(events: WorkflowEvent[], name: string): unknown {
  const exited = events.find((e) => e.type === 'StateExited' && e.state.name === name);
  return exited?.type === 'StateExited' ? exited.state.output : undefined;
}

/** Runs the ASL with the real apply-policies handler; ValidateNetwork yields the resolved job, ValidateDataset a report. */
function run(overrides: Record<string, unknown>) {
  const job = resolvedJob({ policies: POLICIES, ...overrides }, EXECUTION, { exemptPrincipalArns: process.env.STAGE_EXEMPT_PRINCIPAL_ARNS ?? '' });
  return runJob(rawJob(overrides), job);
}

/** Runs the ASL on `input` with ValidateNetwork yielding `job` (its resolved form). */
function runJob(input: Record<string, unknown>, job: JobInput) {
  return runWorkflow({
    input,
    handlers: {
      ...handlers,
      ValidateNetwork: async () => ({ job, execution: EXECUTION, preflight: { passed: true } }) as never,
      // The dataset is not this file's subject either (its states: test/statemachine/dataset.test.ts).
      ValidateDataset: async () => ({ status: 'not-checked', notes: ['not this test\'s subject'] }) as never,
      // The run ends at SubmitJob: the job lifecycle is not this file's subject (and no Bedrock call is made).
      SubmitJob: async () => {
        throw Object.assign(new Error('stopped here by the test'), { name: 'JobSubmissionError' });
      },
      ReconcileSubmission: async () => {
        throw Object.assign(new Error('no job: stopped here by the test'), { name: 'JobSubmissionError' });
      },
    },
    retryMs: 0,
    waitMs: 0,
  });
}

beforeAll(async () => {
  process.env.WORKFLOW_ROLE_ARN = WORKFLOW_ROLE;
  handlers = await loadLambdaHandlers();
});
beforeEach(() => {
  state = { role: ORIGINAL_ROLE_POLICY, endpoint: JSON.stringify(DEFAULT_ENDPOINT_POLICY), buckets: {} };
  emulatePolicyAccount(() => state);
});
afterEach(() => {
  ec2Mock.reset();
  iamMock.reset();
  s3Mock.reset();
});

describe('policy states', () => {
  it('dry run ends in DryRunPlan with the plan in the output, and writes nothing', async () => {
    // Act
    const result = await run({ dryRun: true });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(fromPlan(result.states)).toEqual(['PlanPolicies', 'IsDryRun', 'DryRunPlan']);
    const plan = (result.output as { policies: { dryRun: boolean; summary: string[]; changes: { action: string; diff: { added: string[] } }[] } }).policies;
    expect(plan.dryRun).toBe(true);
    expect(plan.changes.map((c) => c.action)).toEqual(['update', 'update', 'create']);
    expect(plan.summary[2]).toMatch(/^create s3:\/\/output-bucket bucket policy/);
    expect(plan.changes[2]!.diff.added[0]).toContain(WORKFLOW_ROLE);
    expect(writeCount()).toBe(0);
  });

  it('a failed second write goes ApplyPolicies → RollbackPolicies → PoliciesFailed and restores the first policy', async () => {
    // Prepare: the endpoint write fails (the SDK's own retries are spent)
    ec2Mock.on(ModifyVpcEndpointCommand).rejects(awsError('InternalError', 500));

    // Act
    const result = await run({});

    // Assess
    expect(fromPlan(result.states)).toEqual(['PlanPolicies', 'IsDryRun', 'ApplyPolicies', 'RollbackPolicies', 'PoliciesRolledBack', 'PoliciesFailed']);
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('PolicyApplyError');
    // the failure cause says what was restored (a Fail state has no output)
    expect(result.cause).toContain('| rollback: restored: role/BedrockCustomizationRole');
    expect(result.cause).toMatch(/vpc-endpoint\/vpce-0123456789abcdef0 .*failed.*written before it: role\/BedrockCustomizationRole/);
    expect(iamMock.commandCalls(PutRolePolicyCommand).map((c) => c.args[0].input.PolicyDocument)).toEqual([
      expect.stringContaining('BedrockVpcDescribe'),
      ORIGINAL_ROLE_POLICY,
    ]);
    expect(state.role).toBe(ORIGINAL_ROLE_POLICY);
    expect(s3Mock.commandCalls(PutBucketPolicyCommand)).toHaveLength(0);
    const rollback = exitOutput(result.events, 'RollbackPolicies') as { rollback: { restored: string[] } };
    expect(rollback.rollback.restored).toEqual([
      'role/BedrockCustomizationRole inline policy BedrockVpcCustomization-vpc-0123456789abcdef0',
    ]);
  });

  it("the bucket Deny exempts the workflow role and the stage's exempt principals, and nobody else", async () => {
    setStage({ ...TEST_STAGE_PARAMS, endpointPolicy: 'restrict', outputBucketPolicy: 'apply', exemptPrincipalArns: 'arn:aws:iam::123456789012:role/Ops' });
    const result = await run({ dryRun: true });
    const plan = (result.output as { policies: { changes: { desired: { Statement: { Condition?: { ArnNotLike?: unknown } }[] } }[] } }).policies;
    expect(plan.changes[2]!.desired.Statement[0]!.Condition!.ArnNotLike).toEqual({
      'aws:PrincipalArn': ['arn:aws:iam::123456789012:role/Ops', WORKFLOW_ROLE],
    });
    expect(writeCount()).toBe(0);
  });

  it('applies and moves on to SubmitJob when every write succeeds', async () => {
    const result = await run({});
    expect(fromPlan(result.states)).toEqual(['PlanPolicies', 'IsDryRun', 'ApplyPolicies', 'SubmitJob', 'SubmitErrorKind', 'ReconcileSubmission', 'RevokeAfterSubmitFailed', 'SubmitFailed']);
    const applied = exitOutput(result.events, 'ApplyPolicies') as { policies: { applied: string[] } };
    expect(applied.policies.applied).toHaveLength(3);
    // The submission failed (stopped here by the test): RevokeAfterSubmitFailed removes the job's grants.
    // The role gets its original document back (one more write); the restricted endpoint would be left
    // with no statement, so it is kept; the bucket Deny stays.
    const revoke = exitOutput(result.events, 'RevokeAfterSubmitFailed') as { revoke: { revoked: string[]; kept: string[] } };
    expect(revoke.revoke.revoked).toEqual([expect.stringMatching(/^role\/BedrockCustomizationRole/)]);
    expect(revoke.revoke.kept).toEqual([expect.stringMatching(/^vpc-endpoint\/vpce-0123456789abcdef0/)]);
    expect(writeCount()).toBe(4);
    expect(JSON.parse(state.role!)).toEqual(JSON.parse(ORIGINAL_ROLE_POLICY));
    expect(JSON.parse(state.buckets['output-bucket']!).Statement[0].Sid).toBe('BedrockVpcDenyOutsideVpc');
  });
});

describe('policy states for the grader and the invocation logs', () => {
  const graderSid = graderStatement(GRADER_ARN).Sid!;
  const roleSids = () => (JSON.parse(state.role!) as { Statement: { Sid?: string }[] }).Statement.map((st) => st.Sid);
  beforeEach(() => setStage({ ...TEST_STAGE_PARAMS, endpointPolicy: 'restrict', outputBucketPolicy: 'apply', graderLambdaArns: GRADER_ARN }));
  const runRft = (extra: Record<string, unknown> = {}) => runJob(rftInput(GRADER_ARN, extra), resolveCovered(rftInput(GRADER_ARN, { policies: POLICIES, ...extra })));

  it("the dry run's plan shows the grader statement, and nothing is written", async () => {
    const result = await runRft({ dryRun: true });
    expect(fromPlan(result.states)).toEqual(['PlanPolicies', 'IsDryRun', 'DryRunPlan']);
    const plan = (result.output as { policies: { changes: { target: { kind: string }; diff: { added: string[] } }[] } }).policies;
    expect(plan.changes.find((c) => c.target.kind === 'role')!.diff.added).toContain(`${graderSid}: Allow lambda:InvokeFunction on ${GRADER_ARN}`);
    expect(writeCount()).toBe(0);
  });

  it('applies the grader statement, and the revoke after a failed submission removes it', async () => {
    const result = await runRft();
    expect(fromPlan(result.states)).toContain('RevokeAfterSubmitFailed');
    const written = iamMock.commandCalls(PutRolePolicyCommand).map((c) => JSON.parse(c.args[0].input.PolicyDocument!) as { Statement: { Sid?: string }[] });
    expect(written[0]!.Statement.map((st) => st.Sid)).toContain(graderSid);
    expect(roleSids()).not.toContain(graderSid);
    expect(JSON.parse(state.role!)).toEqual(JSON.parse(ORIGINAL_ROLE_POLICY));
  });

  it('a failed endpoint write rolls the grader statement back with the role policy', async () => {
    ec2Mock.on(ModifyVpcEndpointCommand).rejects(awsError('InternalError', 500));
    const result = await runRft();
    expect(fromPlan(result.states)).toEqual(['PlanPolicies', 'IsDryRun', 'ApplyPolicies', 'RollbackPolicies', 'PoliciesRolledBack', 'PoliciesFailed']);
    expect(roleSids()).not.toContain(graderSid);
    expect(state.role).toBe(ORIGINAL_ROLE_POLICY);
  });

  it('a job trained on invocation logs gets read access to their bucket and no bucket policy there, even with the training bucket setting on apply', async () => {
    setStage({
      ...TEST_STAGE_PARAMS,
      endpointPolicy: 'restrict',
      outputBucketPolicy: 'apply',
      trainingBucketPolicy: 'apply',
      teacherModelIdentifiers: TEACHER_MODEL,
      invocationLogBuckets: LOG_BUCKET,
    });
    const input = invocationLogInput(LOG_BUCKET, TEACHER_MODEL);
    const job = resolveCovered({ ...input, policies: { ...POLICIES, trainingBucket: 'apply' } });
    const result = await runJob(input, job);
    expect(fromPlan(result.states)).toContain('ApplyPolicies');
    const applied = exitOutput(result.events, 'ApplyPolicies') as { policies: { applied: string[]; skipped: string[] } };
    expect(applied.policies.applied).toEqual([
      expect.stringMatching(/^role\//),
      expect.stringMatching(/^vpc-endpoint\//),
      's3://output-bucket bucket policy (BedrockVpcDenyOutsideVpc)',
    ]);
    expect(applied.policies.skipped).toEqual(['trainingBucket']);
    expect(s3Mock.commandCalls(PutBucketPolicyCommand).map((c) => c.args[0].input.Bucket)).toEqual(['output-bucket']);
    const role = JSON.parse(iamMock.commandCalls(PutRolePolicyCommand)[0]!.args[0].input.PolicyDocument!) as { Statement: { Sid?: string }[] };
    expect(role.Statement.map((st) => st.Sid)).toContain(s3Sid(LOG_BUCKET, 'read'));
  });
});

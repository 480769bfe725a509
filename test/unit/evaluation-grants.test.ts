/**
 * The evaluation gate's grants on the Bedrock role (shared/policies/role.ts evaluationStatements,
 * apply-policies): read on the held-out dataset object, read/write on the job's own prefix of the
 * evaluation bucket, a list limited to those keys, the judge (a model in the job's Region, or a profile
 * and its model in every Region) with the judge actions of judge-service-roles.html; each statement its
 * own Sid from its resource; planned, held, revoked like the other grants; the lease covers the gate;
 * no bucket Deny on the evaluation bucket, ever.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ENDPOINT_POLICY } from '../../functions/apply-policies/endpoint-policy.js';
import { applyPolicies, assertWritable, planPolicies, revokeGrants, rollbackPolicies, writableTargets, type ApplyPoliciesDeps, type PolicyPlan } from '../../functions/apply-policies/apply-policies.js';
import type { PolicyDocument } from '../../functions/shared/policies/document.js';
import { evaluatePolicies } from '../../functions/shared/policies/eval.js';
import { JUDGE_ACTIONS, evaluationStatements, judgeStatement } from '../../functions/shared/policies/role.js';
import { EVALUATION_BUCKET, evaluationStageParams, resolvedEvaluationJob } from '../fixtures/evaluation.js';
import { testStage } from '../fixtures/stage.js';
import { awsError, emulatePolicyAccount, leaseContext, policyMocks, type PolicyAccountState } from '../support/policy-account.js';

const { ec2Mock, iamMock, s3Mock } = policyMocks;
const deps: ApplyPoliciesDeps = { ec2: new EC2Client({}), iam: new IAMClient({}), s3: new S3Client({}) };
const SCOPE = { partition: 'aws', region: 'us-east-1', accountId: '123456789012' };
const ALL = { endpoint: 'restrict', outputBucket: 'apply', trainingBucket: 'apply', role: 'apply', exemptPrincipalArns: [] };
const allows = (doc: PolicyDocument, action: string, resource: string, context: Record<string, string[]> = {}) =>
  evaluatePolicies([doc], { action, resource, context }) === 'allowed';

let state: PolicyAccountState;
beforeEach(() => {
  state = { role: null, endpoint: JSON.stringify(DEFAULT_ENDPOINT_POLICY), buckets: { 'output-bucket': null, 'training-bucket': null, [EVALUATION_BUCKET]: null } };
  emulatePolicyAccount(() => state);
});
afterEach(() => {
  ec2Mock.reset();
  iamMock.reset();
  s3Mock.reset();
});

const job = (overrides: Record<string, unknown> = {}) => resolvedEvaluationJob(undefined, { policies: ALL, ...overrides });

describe('evaluationStatements', () => {
  it('grants exactly the dataset object, the job prefix, a list of those keys and the judge', () => {
    const j = job();
    const doc: PolicyDocument = { Version: '2012-10-17', Statement: evaluationStatements(j) };
    const { dataset, outputS3Uri } = j.evaluation;
    const datasetKey = dataset.s3Uri.slice(`s3://${EVALUATION_BUCKET}/`.length);
    const prefix = outputS3Uri.slice(`s3://${EVALUATION_BUCKET}/`.length);
    expect(prefix).toBe(`evaluations/${j.jobName}/`);
    const object = (key: string) => `arn:aws:s3:::${EVALUATION_BUCKET}/${key}`;

    expect(allows(doc, 's3:GetObject', object(datasetKey))).toBe(true);
    expect(allows(doc, 's3:PutObject', object(datasetKey))).toBe(false);
    expect(allows(doc, 's3:GetObject', object('held-out/other.jsonl'))).toBe(false);
    for (const action of ['s3:GetObject', 's3:PutObject']) {
      expect(allows(doc, action, object(`${prefix}inputs/custom.jsonl`))).toBe(true);
      expect(allows(doc, action, object(`${prefix}results/x/y_output.jsonl`))).toBe(true);
      // Another job's prefix is not this job's.
      expect(allows(doc, action, object('evaluations/another-job/inputs/custom.jsonl'))).toBe(false);
    }
    const bucket = `arn:aws:s3:::${EVALUATION_BUCKET}`;
    expect(allows(doc, 's3:ListBucket', bucket, { 's3:prefix': [`${prefix}results/`] })).toBe(true);
    expect(allows(doc, 's3:ListBucket', bucket, { 's3:prefix': ['evaluations/'] })).toBe(false);
    expect(allows(doc, 's3:ListBucket', bucket, { 's3:prefix': ['evaluations/another-job/'] })).toBe(false);
    // Nothing on the job's other buckets: the gate's grants are the evaluation bucket's.
    expect(allows(doc, 's3:GetObject', 'arn:aws:s3:::output-bucket/runs/x')).toBe(false);
    for (const action of JUDGE_ACTIONS) {
      expect(allows(doc, action, `arn:aws:bedrock:us-east-1::foundation-model/${j.evaluation.judgeModelIdentifier}`)).toBe(true);
      expect(allows(doc, action, 'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-premier-v1:0')).toBe(false);
    }
  });

  it('a job without a gate gets none', () => {
    expect(evaluationStatements({ ...job(), evaluation: undefined })).toEqual([]);
  });

  it('a judge named by an inference profile: the profile and its model in every Region, nothing else', () => {
    const profile = 'us.anthropic.claude-3-7-sonnet-20250219-v1:0';
    const doc: PolicyDocument = { Version: '2012-10-17', Statement: [judgeStatement(profile, SCOPE)] };
    expect(allows(doc, 'bedrock:InvokeModel', `arn:aws:bedrock:us-east-1:123456789012:inference-profile/${profile}`)).toBe(true);
    expect(allows(doc, 'bedrock:CreateModelInvocationJob', 'arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-7-sonnet-20250219-v1:0')).toBe(true);
    expect(allows(doc, 'bedrock:InvokeModel', 'arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0')).toBe(false);
  });

  it('gives each statement its own Sid from its resource: unique, letters and digits only, and another job another prefix Sid', () => {
    const a = evaluationStatements(job());
    const b = evaluationStatements(job({ jobName: 'another-job' }));
    const sids = a.map((s) => s.Sid!);
    expect(new Set(sids).size).toBe(sids.length);
    for (const sid of sids) expect(sid).toMatch(/^[A-Za-z0-9]+$/);
    // Same dataset, same judge: the same statements (merge by Sid keeps one); the job's own prefix differs.
    const shared = a.filter((s) => b.some((t) => t.Sid === s.Sid)).map((s) => s.Sid);
    expect(shared.length).toBeGreaterThan(0);
    expect(a.find((s) => s.Sid!.startsWith('BedrockEvalReadWrite'))!.Sid).not.toBe(b.find((s) => s.Sid!.startsWith('BedrockEvalReadWrite'))!.Sid);
    expect(JSON.stringify(b)).not.toContain(`evaluations/${job().jobName}/`);
  });
});

describe('apply-policies with an evaluation gate', () => {
  const roleSids = () => (state.role ? (JSON.parse(state.role) as PolicyDocument).Statement.map((st) => st.Sid) : []);

  it("plans the gate's statements as the job's own, leases them through the gate, applies and revokes them", async () => {
    const j = job();
    const mine = evaluationStatements(j).map((s) => s.Sid!);
    const plan = await planPolicies(j, deps);
    const role = plan.changes.find((c) => c.target.kind === 'role')!;
    expect(role.ownedSids).toEqual(expect.arrayContaining(mine));
    expect(plan.leaseSeconds).toBe(j.maxQuotaWaitSeconds + j.maxJobDurationSeconds + j.evaluation.maxDurationSeconds + 86_400);
    const without = await planPolicies({ ...j, evaluation: undefined }, deps);
    expect(plan.leaseSeconds - without.leaseSeconds).toBe(j.evaluation.maxDurationSeconds);

    const lease = leaseContext();
    await applyPolicies(plan, deps, lease);
    expect(roleSids()).toEqual(expect.arrayContaining(mine));
    const held = (await lease.leases.heldBy(lease.owner)).find((h) => h.document.startsWith('role:'))!;
    expect(held.sids).toEqual(expect.arrayContaining(mine));

    await revokeGrants(deps, lease, false);
    for (const sid of mine) expect(roleSids()).not.toContain(sid);
  });

  it("rolls the gate's statements back with the rest when a later write fails", async () => {
    const j = job();
    const mine = evaluationStatements(j).map((s) => s.Sid!);
    const plan = await planPolicies(j, deps);
    s3Mock.on(PutBucketPolicyCommand).rejects(awsError('InternalError', 500));
    await expect(applyPolicies(plan, deps, leaseContext())).rejects.toMatchObject({ name: 'PolicyApplyError' });
    expect(roleSids()).toEqual(expect.arrayContaining(mine));
    await rollbackPolicies(plan, deps, leaseContext());
    for (const sid of mine) expect(roleSids()).not.toContain(sid);
  });

  it('never plans a bucket policy on the evaluation bucket', async () => {
    const plan = await planPolicies(job(), deps, { evaluationBucket: EVALUATION_BUCKET });
    expect(plan.changes.filter((c) => c.target.kind === 'bucket').map((c) => c.target.resource)).not.toContainEqual(expect.stringContaining(EVALUATION_BUCKET));
    expect(state.buckets[EVALUATION_BUCKET]).toBeNull();
  });

  it('refuses a plan that would give the evaluation bucket the VPC-only Deny (a stage whose output bucket is it)', async () => {
    const j = job();
    const error = await planPolicies({ ...j, s3: { ...j.s3, output: { ...j.s3.output, bucket: EVALUATION_BUCKET } } }, deps, { evaluationBucket: EVALUATION_BUCKET }).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'PolicyApplyError', message: expect.stringContaining('evaluation') });
  });

  it('the stage never lets the workflow write the evaluation bucket\'s policy', () => {
    const stage = testStage(evaluationStageParams);
    expect(writableTargets(stage).buckets).not.toContain(EVALUATION_BUCKET);
    const forged: PolicyPlan = {
      dryRun: false,
      skipped: [],
      summary: [],
      leaseSeconds: 60,
      changes: [
        {
          target: { kind: 'bucket', resource: `s3://${EVALUATION_BUCKET}`, bucket: EVALUATION_BUCKET, expectedOwner: '123456789012' },
          action: 'create',
          current: null,
          desired: { Version: '2012-10-17', Statement: [{ Sid: 'BedrockVpcDenyOutsideVpc', Effect: 'Deny', Principal: '*', Action: ['s3:GetObject'], Resource: `arn:aws:s3:::${EVALUATION_BUCKET}/*` }] },
          diff: { added: [], removed: [], unchanged: 0 },
          ownedSids: [],
        },
      ],
    };
    expect(() => assertWritable(forged, writableTargets(stage))).toThrow(/outside the stage/);
  });
});

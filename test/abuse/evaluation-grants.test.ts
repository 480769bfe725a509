/**
 * Attack: a job input (or an event sent straight to apply-policies) that tries to widen the Bedrock
 * role's grants through the evaluation gate, or to put the VPC-only Deny on the evaluation bucket.
 *
 * Invariants:
 * - the gate's grants name only the stage's held-out datasets (as the stage lists them), the stage's
 *   judge models and the job's own prefix of the stage's evaluation bucket: a job (raw, or resolved and
 *   forged in the execution state) naming anything else is refused before any policy is read or written;
 * - the evaluation bucket never gets a bucket policy from the workflow (evaluation jobs run outside the
 *   VPC), whatever a job or a forged plan says;
 * - one job's end never removes a grant another live job holds (a shared dataset's read).
 *
 * Tried against moto (IAM, S3, EC2, DynamoDB for the leases) with the real handlers.
 */
import { GetBucketPolicyCommand } from '@aws-sdk/client-s3';
import { GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyPolicies, planPolicies, revokeGrants, type ApplyPoliciesDeps, type PolicyPlan } from '../../functions/apply-policies/apply-policies.js';
import { BUCKET_DENY_SID } from '../../functions/apply-policies/bucket-policy.js';
import { dynamoLeases } from '../../functions/apply-policies/leases.js';
import { InvalidInputError } from '../../functions/shared/errors.js';
import { resolveJobInput, type JobInput } from '../../functions/shared/job-input.js';
import { evaluationStatements, rolePolicyName } from '../../functions/shared/policies/role.js';
import { DEMO_EVALUATION_BUCKET, POLICY_LEASES_TABLE_NAME, demoJobInput, demoStageParams, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { demoEvaluationJobFields } from '../../local/demo-evaluation.js';
import { loadLambdaHandlers, type TaskHandler } from '../../local/workflow.js';
import { setStage, testStage } from '../fixtures/stage.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const clients = motoClients();
const { ec2, s3, iam, dynamodb } = clients;
const deps: ApplyPoliciesDeps = { ec2, s3, iam };
const owner = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:bedrock-vpc-customization-dev-customize-model:${name}`;
const lease = (who: string) => ({ owner: who, leases: dynamoLeases(dynamodb, POLICY_LEASES_TABLE_NAME) });
const EXECUTION = { id: owner('run-1'), name: 'run-1' };
const ALL_POLICIES = { endpoint: 'restrict', outputBucket: 'apply', trainingBucket: 'apply', role: 'apply' };

let account: DemoAccount;
let lambdas: Record<string, TaskHandler>;
const stageParams = (extra: Record<string, string> = {}) => demoStageParams(account, { endpointPolicy: 'restrict', outputBucketPolicy: 'apply', trainingBucketPolicy: 'apply', ...extra });
const raw = (evaluation: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => {
  const fields = demoEvaluationJobFields(account.trainingBucket);
  return demoJobInput(account, { ...fields, evaluation: { ...(fields.evaluation as Record<string, unknown>), ...evaluation }, policies: ALL_POLICIES, ...extra });
};
const resolved = (execution = EXECUTION): JobInput & { evaluation: NonNullable<JobInput['evaluation']> } =>
  resolveJobInput(raw(), testStage(stageParams()), execution) as JobInput & { evaluation: NonNullable<JobInput['evaluation']> };

const rolePolicy = async (): Promise<{ Statement: { Sid?: string }[] } | null> => {
  try {
    const out = await iam.send(new GetRolePolicyCommand({ RoleName: 'BedrockCustomizationRole', PolicyName: rolePolicyName(account.vpcId) }));
    return JSON.parse(decodeURIComponent(out.PolicyDocument!)) as { Statement: { Sid?: string }[] };
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchEntityException') return null;
    throw err;
  }
};
const bucketPolicy = async (bucket: string) => {
  try {
    return (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? null;
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchBucketPolicy') return null;
    throw err;
  }
};
/** The plan action's refusal of a forged job: its message (which names the fields), and nothing written. */
const planRefused = async (job: unknown): Promise<string> => {
  const err = await Promise.resolve(lambdas.PlanPolicies!({ action: 'plan', job } as never)).catch((e: unknown) => e);
  expect((err as Error).name).toBe('InvalidInputError');
  expect(await rolePolicy()).toBeNull();
  return (err as Error).message;
};

beforeAll(async () => {
  lambdas = await loadLambdaHandlers();
});
beforeEach(async () => {
  await resetMoto();
  account = await seedDemoAccount({ ec2, s3, iam, dynamodb });
  setStage(stageParams());
});

describe('a job cannot widen the gate\'s grants', () => {
  it.each([
    ['a dataset the stage does not list', { dataset: 'secrets' }, 'evaluation.dataset'],
    ['a judge model the stage does not list', { judgeModelIdentifier: 'anthropic.claude-3-opus-20240229-v1:0' }, 'evaluation.judgeModelIdentifier'],
    ["a profile of the listed judge (a grant on every Region's copy)", { judgeModelIdentifier: 'us.amazon.nova-pro-v1:0' }, 'evaluation.judgeModelIdentifier'],
  ])('raw input: %s is refused, field named', (_, evaluation, field) => {
    try {
      resolveJobInput(raw(evaluation), testStage(stageParams()), EXECUTION);
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidInputError);
      expect((err as InvalidInputError).issues.map((i) => i.field)).toContain(field);
      return;
    }
    throw new Error('the job was accepted');
  });

  it('a resolved job forged to read another object as its dataset is refused by the plan action, nothing written', async () => {
    const job = resolved();
    const forged = { ...job, evaluation: { ...job.evaluation, dataset: { ...job.evaluation.dataset, s3Uri: `s3://${account.outputBucket}/runs/someone-else/model.tar` } } };
    expect(await planRefused(forged)).toContain('evaluation.dataset.s3Uri');
  });

  it('a resolved job forged with a judge the stage does not list is refused by the plan action', async () => {
    const job = resolved();
    expect(await planRefused({ ...job, evaluation: { ...job.evaluation, judgeModelIdentifier: 'anthropic.claude-3-opus-20240229-v1:0' } })).toContain('evaluation.judgeModelIdentifier');
  });

  it("a resolved job forged to write another job's prefix, or another bucket, is refused by the plan action", async () => {
    const job = resolved();
    for (const outputS3Uri of [`s3://${DEMO_EVALUATION_BUCKET}/evaluations/another-job/`, `s3://${DEMO_EVALUATION_BUCKET}/`, `s3://${account.outputBucket}/evaluations/${job.jobName}/`]) {
      expect(await planRefused({ ...job, evaluation: { ...job.evaluation, outputS3Uri } })).toContain('evaluation.outputS3Uri');
    }
  });

  it('a field beside the evaluation (a Sid, a Resource) cannot shape a statement: refused', () => {
    expect(() => resolveJobInput(raw({ Sid: 'BedrockVpcDescribe', Resource: '*' }), testStage(stageParams()), EXECUTION)).toThrow(InvalidInputError);
  });
});

describe('the evaluation bucket never gets a bucket policy', () => {
  it('a job with the gate and every bucket setting on apply: the grants are written, the evaluation bucket keeps no policy', async () => {
    const job = resolved();
    const plan = (await lambdas.PlanPolicies!({ action: 'plan', job } as never)) as unknown as PolicyPlan;
    await lambdas.ApplyPolicies!({ action: 'apply', plan, owner: EXECUTION.id } as never);
    expect(await bucketPolicy(DEMO_EVALUATION_BUCKET)).toBeNull();
    expect(JSON.parse((await bucketPolicy(account.outputBucket))!).Statement.map((s: { Sid?: string }) => s.Sid)).toContain(BUCKET_DENY_SID);
    const sids = (await rolePolicy())!.Statement.map((s) => s.Sid);
    expect(sids).toEqual(expect.arrayContaining(evaluationStatements(job).map((s) => s.Sid)));
  });

  it('a forged plan writing the Deny on the evaluation bucket is refused by apply (and rollback), nothing written', async () => {
    const job = resolved();
    const plan = await planPolicies(job, deps);
    const deny = plan.changes.find((c) => c.target.kind === 'bucket')!;
    const forged: PolicyPlan = {
      ...plan,
      changes: [
        {
          ...deny,
          target: { kind: 'bucket', resource: `s3://${DEMO_EVALUATION_BUCKET} bucket policy (${BUCKET_DENY_SID})`, bucket: DEMO_EVALUATION_BUCKET, expectedOwner: account.accountId },
          current: null,
          action: 'create',
          desired: { ...deny.desired, Statement: deny.desired.Statement.map((s) => ({ ...s, Resource: [`arn:aws:s3:::${DEMO_EVALUATION_BUCKET}`, `arn:aws:s3:::${DEMO_EVALUATION_BUCKET}/*`] })) },
        },
      ],
    };
    for (const action of ['ApplyPolicies', 'RollbackPolicies'] as const) {
      const err = await Promise.resolve(lambdas[action]!({ action: action === 'ApplyPolicies' ? 'apply' : 'rollback', plan: forged, owner: EXECUTION.id } as never)).catch((e: unknown) => e);
      expect((err as Error).name).toBe('PolicyApplyError');
      expect((err as Error).message).toContain(`s3://${DEMO_EVALUATION_BUCKET}`);
    }
    expect(await bucketPolicy(DEMO_EVALUATION_BUCKET)).toBeNull();
  });

  it('a stage whose output bucket is the evaluation bucket cannot plan the Deny on it', async () => {
    const job = resolved();
    const err = await planPolicies({ ...job, s3: { ...job.s3, output: { ...job.s3.output, bucket: DEMO_EVALUATION_BUCKET } } }, deps).catch((e: unknown) => e);
    expect((err as Error).name).toBe('PolicyApplyError');
    expect(await bucketPolicy(DEMO_EVALUATION_BUCKET)).toBeNull();
  });
});

describe("one job's end never removes another live job's evaluation grant", () => {
  it('two gated jobs on one dataset: the first ends, the dataset read stays for the second, its own prefix goes', async () => {
    const [a, b] = [owner('job-a'), owner('job-b')];
    const jobA = resolved({ id: a, name: 'job-a' });
    const jobB = resolved({ id: b, name: 'job-b' });
    await applyPolicies(await planPolicies(jobA, deps), deps, lease(a));
    await applyPolicies(await planPolicies(jobB, deps), deps, lease(b));
    await revokeGrants(deps, lease(a), false);
    await revokeGrants(deps, lease(a), false);
    const sids = (await rolePolicy())!.Statement.map((s) => s.Sid);
    const [ownA, ownB] = [evaluationStatements(jobA), evaluationStatements(jobB)];
    const onlyA = ownA.filter((s) => !ownB.some((t) => t.Sid === s.Sid)).map((s) => s.Sid);
    expect(onlyA.length).toBeGreaterThan(0);
    for (const sid of onlyA) expect(sids).not.toContain(sid);
    expect(sids).toEqual(expect.arrayContaining(ownB.map((s) => s.Sid)));
  });
});

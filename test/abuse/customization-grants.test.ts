/**
 * Attack: a job input (or an event sent straight to apply-policies) that tries to widen the Bedrock
 * role's grants for reinforcement fine-tuning and distillation, or to remove another job's.
 *
 * Invariants:
 * - a job gets a grant only for a grader Lambda, teacher model or invocation-log bucket the stage lists,
 *   exactly as listed (a version, an alias, another account's function, a profile of a listed model are
 *   other resources): anything else is refused before any AWS call, field named;
 * - no bucket that holds invocation logs ever gets a bucket policy (Bedrock writes the logs from outside
 *   the VPC), whatever a plan says;
 * - revoking one job's grader grant never removes one another live job holds;
 * - a grant's Sid comes from its resource only: no input sets it, and two resources never share one.
 *
 * Tried against moto (IAM, S3, EC2, DynamoDB for the leases) with the real handlers and the ASL.
 */
import { CreateBucketCommand, GetBucketPolicyCommand } from '@aws-sdk/client-s3';
import { GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyPolicies, planPolicies, revokeGrants, type ApplyPoliciesDeps, type PolicyPlan } from '../../functions/apply-policies/apply-policies.js';
import { dynamoLeases } from '../../functions/apply-policies/leases.js';
import { InvalidInputError } from '../../functions/shared/errors.js';
import { resolveJobInput, type JobInput } from '../../functions/shared/job-input.js';
import { ROLE_SID, graderStatement, kmsStatement, rolePolicyName, teacherProfileOf, teacherStatement } from '../../functions/shared/policies/role.js';
import { s3Sid } from '../../functions/shared/policies/s3-access.js';
import { BUCKET_DENY_SID } from '../../functions/apply-policies/bucket-policy.js';
import { POLICY_LEASES_TABLE_NAME, demoJobInput, demoStageParams, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { loadLambdaHandlers, runWorkflow, type TaskHandler } from '../../local/workflow.js';
import { coveringParams, setStage, testStage } from '../fixtures/stage.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const clients = motoClients();
const { ec2, s3, iam, dynamodb } = clients;
const deps: ApplyPoliciesDeps = { ec2, s3, iam };
const owner = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:bedrock-vpc-customization-dev-customize-model:${name}`;
const lease = (who: string) => ({ owner: who, leases: dynamoLeases(dynamodb, POLICY_LEASES_TABLE_NAME) });

const GRADER = 'arn:aws:lambda:us-east-1:123456789012:function:reward-grader';
const OTHER_GRADER = 'arn:aws:lambda:us-east-1:123456789012:function:other-grader';
const TEACHER = 'amazon.nova-premier-v1:0';
const LOGS = 'grant-test-invocation-logs';
const RFT = (grader: string) => ({
  customizationType: 'REINFORCEMENT_FINE_TUNING',
  hyperParameters: {},
  customizationConfig: { rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: grader } } } },
});
const DISTILLATION = (teacher: string) => ({
  customizationType: 'DISTILLATION',
  hyperParameters: {},
  customizationConfig: { distillationConfig: { teacherModelConfig: { teacherModelIdentifier: teacher } } },
});

let account: DemoAccount;
let lambdas: Record<string, TaskHandler>;
/** The stage under attack: it lists one grader, one teacher model and one invocation-log bucket. */
const stageParams = () => demoStageParams(account, { graderLambdaArns: GRADER, teacherModelIdentifiers: TEACHER, invocationLogBuckets: LOGS });
const stage = () => testStage(stageParams());
const EXECUTION = { id: owner('run-1'), name: 'run-1' };

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

beforeAll(async () => {
  lambdas = await loadLambdaHandlers();
});
beforeEach(async () => {
  await resetMoto();
  account = await seedDemoAccount({ ec2, s3, iam, dynamodb });
  await s3.send(new CreateBucketCommand({ Bucket: LOGS }));
  setStage(stageParams());
});

describe('a job names a resource outside the stage lists', () => {
  const refused = (raw: Record<string, unknown>) => {
    try {
      resolveJobInput(raw, stage(), EXECUTION);
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidInputError);
      return (err as InvalidInputError).issues.map((i) => i.field);
    }
    throw new Error('the job was accepted');
  };
  const graderField = 'customizationConfig.rftConfig.graderConfig.lambdaGrader.lambdaArn';
  const teacherField = 'customizationConfig.distillationConfig.teacherModelConfig.teacherModelIdentifier';

  it.each([
    ['another function', OTHER_GRADER],
    ['a version of the listed function', `${GRADER}:1`],
    ['an alias of the listed function', `${GRADER}:live`],
    ['$LATEST of the listed function', `${GRADER}:$LATEST`],
    ["the same name in another account", 'arn:aws:lambda:us-east-1:210987654321:function:reward-grader'],
    ['the same name in another Region', 'arn:aws:lambda:eu-west-1:123456789012:function:reward-grader'],
    ['the same name in upper case', GRADER.replace('reward-grader', 'REWARD-GRADER')],
  ])('grader: %s is refused, field named', (_, grader) => {
    expect(refused(demoJobInput(account, RFT(grader)))).toContain(graderField);
  });

  it.each([
    ['another model', 'amazon.nova-pro-v1:0'],
    ["a cross-Region profile of the listed model (a grant on every Region's copy)", `us.${TEACHER}`],
    ['the listed model as an ARN', `arn:aws:bedrock:us-east-1::foundation-model/${TEACHER}`],
  ])('teacher: %s is refused, field named', (_, teacher) => {
    expect(refused(demoJobInput(account, DISTILLATION(teacher)))).toContain(teacherField);
  });

  it.each([
    ['another bucket', 's3://other-logs/logs/'],
    ['a bucket whose name starts with the listed one', `s3://${LOGS}-x/logs/`],
    ['the training bucket (not listed for logs)', 's3://demo-training-bucket/logs/'],
  ])('invocation-log source: %s is refused, field named', (_, uri) => {
    const { trainingDataS3Uri: _t, validationDataS3Uris: _v, ...raw } = demoJobInput(account, {
      ...DISTILLATION(TEACHER),
      invocationLogsConfig: { invocationLogSource: { s3Uri: uri } },
    });
    expect(refused(raw)).toContain('invocationLogsConfig.invocationLogSource.s3Uri');
  });

  it('a field beside the grader ARN (a Sid, a Resource) is refused: the input cannot shape a statement', () => {
    const raw = demoJobInput(account, {
      ...RFT(GRADER),
      customizationConfig: { rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: GRADER, Sid: ROLE_SID.describe, Resource: '*' } } } },
    });
    expect(() => resolveJobInput(raw, stage(), EXECUTION)).toThrow(InvalidInputError);
  });

  it('through the workflow: ValidateNetwork refuses the input, and no policy is written', async () => {
    const result = await runWorkflow({ input: demoJobInput(account, RFT(OTHER_GRADER)), handlers: lambdas, retryMs: 0, waitMs: 0 });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('InvalidInputError');
    expect(result.cause).toContain('lambdaGrader.lambdaArn');
    expect(result.states).not.toContain('PlanPolicies');
    expect(await rolePolicy()).toBeNull();
  });

  it('a job sent straight to the plan action is checked against the stage again: refused before any read', async () => {
    // Resolved within a laxer stage (one that lists the other grader), then sent to this stage's Lambda.
    const raw = demoJobInput(account, RFT(OTHER_GRADER));
    const forged = resolveJobInput(raw, testStage(coveringParams(raw, { ...demoStageParams(account), graderLambdaArns: OTHER_GRADER })), EXECUTION);
    const err = await Promise.resolve(lambdas.PlanPolicies!({ action: 'plan', job: forged } as never)).catch((e: unknown) => e);
    expect((err as Error).name).toBe('InvalidInputError');
    expect((err as Error).message).toContain('lambdaGrader.lambdaArn');
    expect(await rolePolicy()).toBeNull();
  });
});

describe('the invocation-log bucket never gets a bucket policy', () => {
  it("a forged plan writing the Deny on a stage's invocation-log bucket is refused by apply, nothing written", async () => {
    // The stage lets the training bucket hold invocation logs (its bucket policy setting is skip).
    setStage(demoStageParams(account, { invocationLogBuckets: account.trainingBucket, trainingBucketPolicy: 'skip' }));
    const raw = demoJobInput(account, { policies: { endpoint: 'skip', outputBucket: 'skip', trainingBucket: 'apply', role: 'skip' } });
    const job = resolveJobInput(raw, testStage(coveringParams(raw, demoStageParams(account))), EXECUTION);
    const plan = await planPolicies(job, deps);
    expect(plan.changes.map((c) => c.target.kind)).toEqual(['bucket']);
    const err = await Promise.resolve(lambdas.ApplyPolicies!({ action: 'apply', plan, owner: owner('run-1') } as never)).catch((e: unknown) => e);
    expect((err as Error).name).toBe('PolicyApplyError');
    expect((err as Error).message).toContain(`s3://${account.trainingBucket}`);
    expect(await bucketPolicy(account.trainingBucket)).toBeNull();
  });

  it('a job trained on invocation logs, with every bucket setting on apply, leaves the log bucket without a policy', async () => {
    const { trainingDataS3Uri: _t, validationDataS3Uris: _v, ...raw } = demoJobInput(account, {
      ...DISTILLATION(TEACHER),
      invocationLogsConfig: { invocationLogSource: { s3Uri: `s3://${LOGS}/AWSLogs/` } },
      policies: { endpoint: 'restrict', outputBucket: 'apply', trainingBucket: 'apply', role: 'apply' },
    });
    setStage({ ...stageParams(), endpointPolicy: 'restrict', outputBucketPolicy: 'apply', trainingBucketPolicy: 'apply' });
    const job = resolveJobInput(raw, testStage({ ...stageParams(), endpointPolicy: 'restrict', outputBucketPolicy: 'apply', trainingBucketPolicy: 'apply' }), EXECUTION);
    const plan = (await lambdas.PlanPolicies!({ action: 'plan', job } as never)) as unknown as PolicyPlan;
    await lambdas.ApplyPolicies!({ action: 'apply', plan, owner: owner('run-1') } as never);
    expect(await bucketPolicy(LOGS)).toBeNull();
    expect(JSON.parse((await bucketPolicy(account.outputBucket))!).Statement.map((s: { Sid?: string }) => s.Sid)).toContain(BUCKET_DENY_SID);
  });
});

describe("one job's end never removes another live job's grader", () => {
  const rft = (who: string, grader: string): JobInput => {
    const raw = demoJobInput(account, RFT(grader));
    return resolveJobInput(raw, testStage({ ...stageParams(), graderLambdaArns: `${GRADER},${OTHER_GRADER}` }), { id: who, name: who.split(':').at(-1)! });
  };

  it('the first of two jobs on one grader ends (and ends again): the grader stays for the other', async () => {
    const [a, b] = [owner('job-a'), owner('job-b')];
    await applyPolicies(await planPolicies(rft(a, GRADER), deps), deps, lease(a));
    await applyPolicies(await planPolicies(rft(b, GRADER), deps), deps, lease(b));
    // The revoke runs twice (a retried RevokeGrants state): the second finds no hold and removes nothing.
    await revokeGrants(deps, lease(a), false);
    await revokeGrants(deps, lease(a), false);
    expect((await rolePolicy())!.Statement).toContainEqual(graderStatement(GRADER));
  });

  it("a job ending removes its own grader and leaves another job's other grader", async () => {
    const [a, b] = [owner('job-a'), owner('job-b')];
    await applyPolicies(await planPolicies(rft(a, GRADER), deps), deps, lease(a));
    await applyPolicies(await planPolicies(rft(b, OTHER_GRADER), deps), deps, lease(b));
    await revokeGrants(deps, lease(a), false);
    const statements = (await rolePolicy())!.Statement;
    expect(statements).not.toContainEqual(graderStatement(GRADER));
    expect(statements).toContainEqual(graderStatement(OTHER_GRADER));
  });
});

describe('Sids of grants cannot be made to collide', () => {
  it('distinct grader ARNs the stage may list, however alike, get distinct Sids, none of another kind', () => {
    const arns = [
      GRADER,
      `${GRADER}:1`,
      `${GRADER}:2`,
      `${GRADER}:live`,
      `${GRADER}:$LATEST`,
      GRADER.replace('reward-grader', 'reward_grader'),
      GRADER.replace('reward-grader', 'reward.grader'),
      GRADER.replace('reward-grader', 'rewardgrader'),
      GRADER.replace('reward-grader', 'Reward-grader'),
    ];
    const graderSids = arns.map((arn) => graderStatement(arn).Sid);
    expect(new Set(graderSids).size).toBe(arns.length);
    const others = [
      ...Object.values(ROLE_SID),
      s3Sid(LOGS, 'read'),
      s3Sid(LOGS, 'readwrite'),
      kmsStatement('arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab').Sid,
      teacherStatement(teacherProfileOf(`us.${TEACHER}`, { partition: 'aws', region: 'us-east-1', accountId: '123456789012' })!, 'aws').Sid,
      BUCKET_DENY_SID,
    ];
    for (const sid of graderSids) expect(others).not.toContain(sid);
  });

  it("a job's plan holds only the Sids of its own statements: its grader, not another job's", async () => {
    const raw = demoJobInput(account, RFT(GRADER));
    const plan = await planPolicies(resolveJobInput(raw, stage(), EXECUTION), deps);
    const role = plan.changes.find((c) => c.target.kind === 'role')!;
    expect(role.ownedSids).toContain(graderStatement(GRADER).Sid);
    expect(role.ownedSids).not.toContain(graderStatement(OTHER_GRADER).Sid);
    expect(role.ownedSids).toEqual(role.desired.Statement.flatMap((s) => (s.Sid && role.ownedSids.includes(s.Sid) ? [s.Sid] : [])));
  });
});

/**
 * Leased policy changes against moto (its IAM, EC2, and DynamoDB with real conditional writes): two jobs
 * on the same role and endpoint, one failing at a write. The other's grants survive the first one's
 * rollback and revoke; a document's lock keeps a second writer out; revoke at the end removes a job's
 * grants once nobody holds them.
 */
import { DescribeVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { beforeEach, describe, expect, inject, it } from 'vitest';
import { applyPolicies, planPolicies, revokeGrants, rollbackPolicies, type ApplyPoliciesDeps } from '../../functions/apply-policies/apply-policies.js';
import { dynamoLeases } from '../../functions/apply-policies/leases.js';
import { PolicyApplyError, PolicyLockBusyError } from '../../functions/shared/errors.js';
import { resolveJobInput, type JobInput } from '../../functions/shared/job-input.js';
import { graderStatement, rolePolicyName } from '../../functions/shared/policies/role.js';
import { POLICY_LEASES_TABLE_NAME, demoJobInput, demoStageParams, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { coveringParams, testStage } from '../fixtures/stage.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const clients = motoClients();
const { ec2, s3, iam } = clients;
const owner = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:bedrock-vpc-customization-dev-customize-model:${name}`;
const A = owner('job-a');
const B = owner('job-b');
const lease = (who: string) => ({ owner: who, leases: dynamoLeases(clients.dynamodb, POLICY_LEASES_TABLE_NAME) });

/** Deps whose EC2 client fails ModifyVpcEndpoint (a 500 after the SDK's attempts) while `fail` is set. */
function depsFailingEndpointWrite(): { deps: ApplyPoliciesDeps; fail: { on: boolean } } {
  const fail = { on: false };
  const failing = new EC2Client({ endpoint: inject('motoEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 1 });
  failing.middlewareStack.add(
    (next, context) => async (args) => {
      if (fail.on && context.commandName === 'ModifyVpcEndpointCommand') {
        throw Object.assign(new Error('We encountered an internal error.'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
      }
      return next(args);
    },
    { step: 'initialize', name: 'failEndpointWrite' },
  );
  return { deps: { ec2: failing, s3, iam }, fail };
}

describe('policy leases against moto', () => {
  let account: DemoAccount;
  let job: (execution: string) => JobInput;
  const deps: ApplyPoliciesDeps = { ec2, s3, iam };
  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb: clients.dynamodb });
    const stage = testStage({ ...demoStageParams(account) });
    job = (execution) => resolveJobInput(demoJobInput(account), stage, { id: execution, name: execution.split(':').at(-1)! });
  });

  const rolePolicy = async () => {
    try {
      const out = await iam.send(new GetRolePolicyCommand({ RoleName: 'BedrockCustomizationRole', PolicyName: rolePolicyName(account.vpcId) }));
      return JSON.parse(decodeURIComponent(out.PolicyDocument!)) as { Statement: { Sid?: string }[] };
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchEntityException') return null;
      throw err;
    }
  };
  const endpointSids = async () => {
    const out = await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [account.endpointId] }));
    return (JSON.parse(out.VpcEndpoints![0]!.PolicyDocument!) as { Statement: { Sid?: string }[] }).Statement.map((s) => s.Sid ?? '(default)');
  };

  it("interleaved: A's endpoint write fails after its role write, B finds the role applied; A's rollback and revoke keep B's grants", async () => {
    // A writes the role policy, then its endpoint write fails.
    const a = depsFailingEndpointWrite();
    const planA = await planPolicies(job(A), a.deps);
    a.fail.on = true;
    await expect(applyPolicies(planA, a.deps, lease(A))).rejects.toBeInstanceOf(PolicyApplyError);
    expect(await rolePolicy()).not.toBeNull();

    // B (same role, VPC and buckets) plans now: the role is already as it needs it; it writes the endpoint.
    const planB = await planPolicies(job(B), deps);
    expect(planB.changes.map((c) => c.action)).toEqual(['none', 'update']);
    const appliedB = await applyPolicies(planB, deps, lease(B));
    expect(appliedB.applied).toEqual([expect.stringMatching(/^vpc-endpoint\//)]);
    const roleSids = (await rolePolicy())!.Statement.map((s) => s.Sid);
    const endpointAfterB = await endpointSids();

    // A rolls back: both documents hold statements B relies on, so they are kept as they are.
    const rollback = await rollbackPolicies(planA, deps, lease(A));
    expect(rollback.keptForOthers.sort()).toEqual([expect.stringMatching(/^role\//), expect.stringMatching(/^vpc-endpoint\//)].sort());
    expect(rollback.deleted).toEqual([]);
    expect((await rolePolicy())!.Statement.map((s) => s.Sid)).toEqual(roleSids);
    expect(await endpointSids()).toEqual(endpointAfterB);

    // A's revoke (its submission failed): A holds nothing any more; B's grants stay.
    expect(await revokeGrants(deps, lease(A), false)).toMatchObject({ revoked: [], kept: [], keptForOthers: [] });
    expect((await rolePolicy())!.Statement.map((s) => s.Sid)).toEqual(roleSids);

    // B's job ends: its grants are revoked — the role policy (new with these jobs) is deleted, the
    // endpoint keeps only its default statement.
    const revokeB = await revokeGrants(deps, lease(B), false);
    expect(revokeB.revoked).toHaveLength(2);
    expect(await rolePolicy()).toBeNull();
    expect(await endpointSids()).toEqual(['(default)']);
  });

  it("two jobs hold the same grants: the first to end keeps them for the other; the last removes them", async () => {
    await applyPolicies(await planPolicies(job(A), deps), deps, lease(A));
    await applyPolicies(await planPolicies(job(B), deps), deps, lease(B));
    const afterBoth = (await rolePolicy())!.Statement.map((s) => s.Sid);

    const first = await revokeGrants(deps, lease(A), false);
    expect(first.revoked).toEqual([]);
    expect(first.keptForOthers.sort()).toEqual([expect.stringMatching(/^role\//), expect.stringMatching(/^vpc-endpoint\//)]);
    expect((await rolePolicy())!.Statement.map((s) => s.Sid)).toEqual(afterBoth);
    expect((await revokeGrants(deps, lease(B), false)).revoked).toHaveLength(2);
    expect(await rolePolicy()).toBeNull();
    // Idempotent: nothing held any more.
    expect(await revokeGrants(deps, lease(B), false)).toMatchObject({ revoked: [], kept: [], keptForOthers: [] });
  });

  it('with keepGrants the holds are released and the statements stay', async () => {
    await applyPolicies(await planPolicies(job(A), deps), deps, lease(A));
    const before = (await rolePolicy())!.Statement.map((s) => s.Sid);
    const kept = await revokeGrants(deps, lease(A), true);
    expect(kept.kept).toHaveLength(2);
    expect((await rolePolicy())!.Statement.map((s) => s.Sid)).toEqual(before);
    expect(await lease(A).leases.heldBy(A)).toEqual([]);
  });

  it("a document's lock keeps a second writer out until released (DynamoDB's conditional write)", async () => {
    const plan = await planPolicies(job(B), deps);
    let release!: () => void;
    let acquired!: () => void;
    const isHeld = new Promise<void>((r) => (acquired = r));
    const held = lease(A).leases.withLock(`role:BedrockCustomizationRole:${rolePolicyName(account.vpcId)}`, A, () => {
      acquired();
      return new Promise<void>((r) => (release = r));
    });
    // B tries only once A's conditional write has taken the lock (withLock runs its body after it).
    await isHeld;
    await expect(applyPolicies(plan, deps, lease(B))).rejects.toBeInstanceOf(PolicyLockBusyError);
    expect(await rolePolicy()).toBeNull();
    release();
    await held;
    await expect(applyPolicies(plan, deps, lease(B))).resolves.toMatchObject({ applied: [expect.stringMatching(/^role\//), expect.stringMatching(/^vpc-endpoint\//)] });
  });
});

describe('grader grants leased against moto', () => {
  const GRADER = 'arn:aws:lambda:us-east-1:123456789012:function:reward-grader';
  const OTHER_GRADER = 'arn:aws:lambda:us-east-1:123456789012:function:other-grader';
  const C = owner('job-c');
  const deps: ApplyPoliciesDeps = { ec2, s3, iam };
  let account: DemoAccount;
  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb: clients.dynamodb });
  });
  /** An RFT job of `execution` naming `grader`, in a stage that lists both graders. */
  const rft = (execution: string, grader: string): JobInput => {
    const raw = demoJobInput(account, {
      customizationType: 'REINFORCEMENT_FINE_TUNING',
      hyperParameters: {},
      customizationConfig: { rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: grader } } } },
    });
    const stage = testStage(coveringParams(raw, { ...demoStageParams(account), graderLambdaArns: `${GRADER},${OTHER_GRADER}` }));
    return resolveJobInput(raw, stage, { id: execution, name: execution.split(':').at(-1)! });
  };
  const statements = async () => {
    try {
      const out = await iam.send(new GetRolePolicyCommand({ RoleName: 'BedrockCustomizationRole', PolicyName: rolePolicyName(account.vpcId) }));
      return (JSON.parse(decodeURIComponent(out.PolicyDocument!)) as { Statement: unknown[] }).Statement;
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchEntityException') return [];
      throw err;
    }
  };

  it("two jobs share a grader: it stays until the last one ends; a third job's own grader goes with it alone", async () => {
    for (const [who, grader] of [[A, GRADER], [B, GRADER], [C, OTHER_GRADER]] as const) {
      await applyPolicies(await planPolicies(rft(who, grader), deps), deps, lease(who));
    }
    expect(await statements()).toEqual(expect.arrayContaining([graderStatement(GRADER), graderStatement(OTHER_GRADER)]));

    // C ends: its grader goes; A's and B's stays.
    await revokeGrants(deps, lease(C), false);
    expect(await statements()).not.toContainEqual(graderStatement(OTHER_GRADER));
    expect(await statements()).toContainEqual(graderStatement(GRADER));

    // A ends: B still holds the shared grader.
    await revokeGrants(deps, lease(A), false);
    expect(await statements()).toContainEqual(graderStatement(GRADER));

    // B, the last holder, ends: the grader is gone.
    await revokeGrants(deps, lease(B), false);
    expect(await statements()).not.toContainEqual(graderStatement(GRADER));
  });

  it("a job whose apply fails rolls back without removing the grader another live job relies on", async () => {
    // A writes the role policy with the grader, then its endpoint write fails.
    const a = depsFailingEndpointWrite();
    const planA = await planPolicies(rft(A, GRADER), a.deps);
    a.fail.on = true;
    await expect(applyPolicies(planA, a.deps, lease(A))).rejects.toBeInstanceOf(PolicyApplyError);
    // B, same grader, finds the role as it needs it and holds its statements.
    const planB = await planPolicies(rft(B, GRADER), deps);
    expect(planB.changes[0]!.action).toBe('none');
    await applyPolicies(planB, deps, lease(B));

    const rolledBack = await rollbackPolicies(planA, deps, lease(A));
    // B wrote the endpoint as A wanted it too: both documents are B's to keep.
    expect(rolledBack.keptForOthers.sort()).toEqual([expect.stringMatching(/^role\//), expect.stringMatching(/^vpc-endpoint\//)]);
    expect(await statements()).toContainEqual(graderStatement(GRADER));
    // B's end removes it.
    await revokeGrants(deps, lease(B), false);
    expect(await statements()).not.toContainEqual(graderStatement(GRADER));
  });
});

/**
 * The whole workflow against moto: the ASL file, the real handlers, the real SDK over the wire.
 * moto never finishes training, so the end is the deadline path: the job is stopped in moto.
 */
import { GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import { GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createJobEnis, demoJobInput, demoStageParams, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { setStage } from '../fixtures/stage.js';
import { loadLambdaHandlers, runWorkflow, type TaskHandler } from '../../local/workflow.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { ec2, s3, iam, bedrock } = motoClients();
let lambdas: Record<string, TaskHandler>;
beforeAll(async () => {
  lambdas = await loadLambdaHandlers();
});

describe('workflow against moto', () => {
  let account: DemoAccount;
  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb: motoClients().dynamodb });
    // Deployed into the demo account: its network, role, buckets and endpoint as the stage params.
    setStage(demoStageParams(account));
  });

  it('runs to the deadline: role policy applied, job stopped in moto, only its ENIs deleted, its grants revoked', async () => {
    let jobEnis: string[] = [];
    const handlers = {
      ...lambdas,
      // Stand-in for Bedrock creating the job's ENIs (moto does not).
      SubmitJob: async (input: any) => {
        const out = (await lambdas.SubmitJob!(input)) as { jobArn: string };
        jobEnis = await createJobEnis(ec2, out.jobArn, account.subnetIds, [account.securityGroupId]);
        return out;
      },
    };
    const input = demoJobInput(account, { maxJobDurationSeconds: 1, polling: { initialSeconds: 10, maxSeconds: 10, growthFactor: 1 } });
    const run = await runWorkflow({ input, handlers: handlers as Record<string, TaskHandler>, retryMs: 0, waitMs: 1000 });

    expect(run).toMatchObject({ status: 'FAILED', error: 'JobDeadlineExceededError' });
    expect(run.states.filter((s) => s === 'CleanupEnis')).toHaveLength(1);
    expect(run.states).toContain('StopJob');

    const jobArn = run.events.flatMap((e: any) => (e.type === 'StateExited' && e.state.name === 'SubmitJob' ? [e.state.output.submission.jobArn] : []))[0];
    const job = await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
    expect(job.status).toBe('Stopped');

    const enis = await ec2.send(new DescribeNetworkInterfacesCommand({}));
    const live = new Set(enis.NetworkInterfaces!.map((e) => e.NetworkInterfaceId));
    for (const id of jobEnis) expect(live.has(id)).toBe(false);
    for (const id of Object.values(account.leftoverEnis)) expect(live.has(id)).toBe(true);

    // The role policy was written for the job (its subnets), then revoked once the job had stopped.
    const applied = run.events.flatMap((e: any) => (e.type === 'StateExited' && e.state.name === 'ApplyPolicies' ? [e.state.output.policies] : []))[0];
    expect(JSON.stringify(applied.changes[0].desired)).toContain(`subnet/${account.subnetIds[0]}`);
    const revoke = run.events.flatMap((e: any) => (e.type === 'StateExited' && e.state.name === 'RevokeGrants' ? [e.state.output.revoke] : []))[0];
    expect(revoke.revoked).toHaveLength(2);
    await expect(
      iam.send(new GetRolePolicyCommand({ RoleName: 'BedrockCustomizationRole', PolicyName: `BedrockVpcCustomization-${account.vpcId}` })),
    ).rejects.toMatchObject({ name: 'NoSuchEntityException' });
  });

  it('dry run writes nothing and submits nothing', async () => {
    const run = await runWorkflow({
      input: demoJobInput(account, { dryRun: true }),
      handlers: { ...lambdas },
      retryMs: 0,
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states.at(-1)).toBe('DryRunPlan');
    await expect(
      iam.send(new GetRolePolicyCommand({ RoleName: 'BedrockCustomizationRole', PolicyName: `BedrockVpcCustomization-${account.vpcId}` })),
    ).rejects.toMatchObject({ name: 'NoSuchEntityException' });
  });
});

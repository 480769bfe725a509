/**
 * The janitor's deployment sweep (functions/janitor/deployments.ts) over the real SDK against moto and the
 * stand-in for Bedrock (python/bedrock_standin.py: custom model deployments, GetCustomModel's jobArn and
 * jobName from moto's backend), with the job ledger in moto's DynamoDB written by the ledger's own calls.
 */
import {
  CreateCustomModelDeploymentCommand,
  GetCustomModelCommand,
  GetModelCustomizationJobCommand,
  ListCustomModelDeploymentsCommand,
} from '@aws-sdk/client-bedrock';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sweepDeployments, type DeploymentSweepConfig, type DeploymentSweepReport } from '../../functions/janitor/deployments.js';
import { dynamoLedger } from '../../functions/shared/ledger.js';
import { configureBedrockStandIn, resetBedrockStandIn } from '../../local/bedrock-standin.js';
import { JOB_LEDGER_TABLE_NAME, createDemoJob, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { ec2, s3, iam, bedrock, dynamodb } = motoClients();
const endpoint = inject('motoEndpoint');
const OWNER = 'arn:aws:states:us-east-1:123456789012:execution:bedrock-vpc-customization-dev-customize-model:first';
const ledger = dynamoLedger(JOB_LEDGER_TABLE_NAME, { dynamodb, now: () => new Date() });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A job of the workflow that completed: reserved, submitted and ended in the ledger; its custom model's ARN. */
async function completedJob(account: DemoAccount, name: string): Promise<{ jobArn: string; modelArn: string }> {
  await ledger.reserve({ jobName: name, owner: OWNER, clientRequestToken: `${name}-token`, network: { vpcId: account.vpcId, subnetIds: account.subnetIds, securityGroupIds: [account.securityGroupId] }, maxJobDurationSeconds: 86_400 });
  const jobArn = await createDemoJob(bedrock, account, name, { subnetIds: [], asSubmitted: true, outputPrefix: `runs/${name}/` });
  const now = new Date();
  await ledger.recordSubmission(name, OWNER, { jobArn, submittedAt: now.toISOString(), deadline: new Date(now.getTime() + 86_400_000).toISOString() });
  for (let i = 0; i < 200; i++) {
    const job = await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
    if (job.status === 'Completed') return { jobArn, modelArn: job.outputModelArn! };
    await sleep(50);
  }
  throw new Error(`job ${name} did not complete`);
}

const deploy = async (name: string, modelArn: string) =>
  (await bedrock.send(new CreateCustomModelDeploymentCommand({ modelDeploymentName: name, modelArn, clientRequestToken: `${name}-token` }))).customModelDeploymentArn!;

describe('janitor: deployment sweep against the stand-in', () => {
  let account: DemoAccount;
  let config: DeploymentSweepConfig;
  const arns: Record<string, string> = {};
  let report: DeploymentSweepReport;

  beforeAll(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb });
    await configureBedrockStandIn(endpoint, { enabled: true, default: { outcome: 'complete', seconds: 0.3 }, deployment: { seconds: 0.2 } });
    config = { dryRun: false, rejectedDeployments: 'delete', concurrency: 10, home: { region: account.region, accountId: account.accountId } };

    const rejected = await completedJob(account, 'gate-rejected');
    const promoted = await completedJob(account, 'gate-promoted');
    arns.rejected = await deploy('gate-rejected-dep', rejected.modelArn);
    arns.promoted = await deploy('gate-promoted-dep', promoted.modelArn);
    // Someone else's deployment of the rejected job's model: the ledger does not record it.
    arns.unrecorded = await deploy('someone-elses-dep', rejected.modelArn);
    for (const [name, deploymentArn, verdict] of [
      ['gate-rejected', arns.rejected, 'reject'],
      ['gate-promoted', arns.promoted, 'promote'],
    ] as const) {
      expect(await ledger.recordEvaluation(name, { owner: OWNER, self: OWNER }, { deploymentName: `${name}-dep`, deploymentClientRequestToken: `${name}-dep-token`, deploymentArn, verdict })).toBe(true);
    }
    report = await sweepDeployments(config, { bedrock, ledger });
  });
  afterAll(() => resetBedrockStandIn(endpoint));

  it("GetCustomModel names the job that made the model (what the sweep follows to the ledger)", async () => {
    const model = await bedrock.send(new GetCustomModelCommand({ modelIdentifier: (await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: 'gate-rejected' }))).outputModelArn! }));
    expect(model).toMatchObject({ jobName: 'gate-rejected', jobArn: expect.stringContaining(':model-customization-job/') });
  });

  it('deletes the rejected deployment the ledger records, and only it', async () => {
    expect(report.scanned).toBe(3);
    expect(report.rejected).toEqual([expect.objectContaining({ deploymentArn: arns.rejected, jobName: 'gate-rejected', deploymentName: 'gate-rejected-dep' })]);
    expect(report.deleted).toEqual([arns.rejected]);
    expect(report.kept).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ deploymentArn: arns.promoted, reason: 'promoted' }),
        expect.objectContaining({ deploymentArn: arns.unrecorded, reason: 'not-recorded' }),
      ]),
    );
    const left = (await bedrock.send(new ListCustomModelDeploymentsCommand({}))).modelDeploymentSummaries!.map((d) => d.customModelDeploymentArn).sort();
    expect(left).toEqual([arns.promoted, arns.unrecorded].sort());
  });

  it('a second sweep finds nothing more to delete', async () => {
    const again = await sweepDeployments(config, { bedrock, ledger });
    expect(again).toMatchObject({ scanned: 2, rejected: [], deleted: [] });
  });
});

import { CreateModelCustomizationJobCommand, StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import { FIRST_SEEN_TAG, sweep } from '../../functions/janitor/janitor.js';
import { createJobEnis, seedDemoAccount, type DemoAccount } from '../../scripts/lib/seed.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { ec2, s3, iam, bedrock } = motoClients();
const config = { graceSeconds: 24 * 3600, dryRun: false, concurrency: 10 };

async function createJob(account: DemoAccount, name: string): Promise<string> {
  const out = await bedrock.send(
    new CreateModelCustomizationJobCommand({
      jobName: name,
      customModelName: `${name}-model`,
      roleArn: account.roleArn,
      baseModelIdentifier: 'amazon.titan-text-express-v1',
      trainingDataConfig: { s3Uri: `s3://${account.trainingBucket}/datasets/support.jsonl` },
      outputDataConfig: { s3Uri: `s3://${account.outputBucket}/runs/` },
      hyperParameters: {},
      vpcConfig: { subnetIds: account.subnetIds, securityGroupIds: [account.securityGroupId] },
    }),
  );
  return out.jobArn!;
}

async function eni(id: string) {
  const out = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'network-interface-id', Values: [id] }] }));
  return out.NetworkInterfaces?.[0];
}

describe('janitor against moto', () => {
  let account: DemoAccount;
  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam });
  });

  it('deletes ENIs of a stopped job, keeps a running job\'s, marks then (after the grace period) deletes unknown-job ENIs', async () => {
    // Prepare: one stopped job, one running job, each with ENIs; the seed's "old-job" is unknown to Bedrock.
    const stoppedJob = await createJob(account, 'stopped-job');
    const runningJob = await createJob(account, 'running-job');
    const stoppedEnis = await createJobEnis(ec2, stoppedJob, account.subnetIds, [account.securityGroupId]);
    const runningEnis = await createJobEnis(ec2, runningJob, account.subnetIds, [account.securityGroupId]);
    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: stoppedJob }));
    const { otherJobAvailable, otherJobInUse, untagged } = account.leftoverEnis;

    // Act: first sweep
    const now = new Date();
    const first = await sweep({}, config, { ec2, bedrock, now: () => now });

    // Assess
    expect(first.deleted.sort()).toEqual([...stoppedEnis].sort());
    expect(first.marked).toEqual([otherJobAvailable]);
    expect(first.jobsLookedUp).toBe(3);
    for (const id of stoppedEnis) expect(await eni(id)).toBeUndefined();
    for (const id of [...runningEnis, otherJobAvailable, otherJobInUse, untagged]) expect(await eni(id)).toBeDefined();
    const marked = await eni(otherJobAvailable);
    expect(marked?.TagSet).toContainEqual({ Key: FIRST_SEEN_TAG, Value: now.toISOString() });

    // Act: a sweep two days later
    const later = new Date(now.getTime() + 48 * 3600_000);
    const second = await sweep({}, config, { ec2, bedrock, now: () => later });
    expect(second.deleted).toEqual([otherJobAvailable]);
    expect(await eni(otherJobAvailable)).toBeUndefined();
    for (const id of [...runningEnis, otherJobInUse, untagged]) expect(await eni(id)).toBeDefined();
  });

  it('dry run changes nothing in moto', async () => {
    const job = await createJob(account, 'ended-job');
    const enis = await createJobEnis(ec2, job, account.subnetIds, [account.securityGroupId]);
    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: job }));
    const report = await sweep({}, { ...config, dryRun: true }, { ec2, bedrock, now: () => new Date() });
    expect(report.wouldDelete.sort()).toEqual([...enis].sort());
    for (const id of enis) expect(await eni(id)).toBeDefined();
    expect((await eni(account.leftoverEnis.otherJobAvailable))?.TagSet?.some((t) => t.Key === FIRST_SEEN_TAG)).toBe(false);
  });
});

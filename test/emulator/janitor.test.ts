import { GetModelCustomizationJobCommand, StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateNetworkInterfaceCommand, CreateSubnetCommand, CreateVpcCommand, DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, inject, it } from 'vitest';
import { sweep, type JanitorConfig } from '../../functions/janitor/janitor.js';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG } from '../../functions/shared/bedrock-enis.js';
import { createDemoJob, createJobEnis, createSightingsTable, seedDemoAccount, type DemoAccount } from '../../scripts/lib/seed.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { ec2, s3, iam, bedrock } = motoClients();
const dynamodb = new DynamoDBClient({
  endpoint: inject('motoEndpoint'),
  region: 'us-east-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});
const DAY = 24 * 3600_000;

const createJob = (account: DemoAccount, name: string, subnetIds = account.subnetIds) => createDemoJob(bedrock, account, name, { subnetIds });

/** An ENI with tags anyone holding ec2:CreateTags could write. */
async function forgedEni(subnetId: string, tags: Record<string, string>): Promise<string> {
  const out = await ec2.send(
    new CreateNetworkInterfaceCommand({
      SubnetId: subnetId,
      TagSpecifications: [
        { ResourceType: 'network-interface', Tags: Object.entries({ [BEDROCK_MANAGED_TAG]: 'true', ...tags }).map(([Key, Value]) => ({ Key, Value })) },
      ],
    }),
  );
  return out.NetworkInterface!.NetworkInterfaceId!;
}

async function eni(id: string) {
  const out = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'network-interface-id', Values: [id] }] }));
  return out.NetworkInterfaces?.[0];
}

describe('janitor against moto', () => {
  let account: DemoAccount;
  let config: JanitorConfig;
  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb: motoClients().dynamodb });
    const sightingsTable = await createSightingsTable(dynamodb);
    config = {
      graceSeconds: 24 * 3600,
      dryRun: false,
      concurrency: 10,
      vpcIds: [account.vpcId],
      home: { region: account.region, accountId: account.accountId },
      sightingsTable,
    };
  });

  it("moto's GetModelCustomizationJob returns the job's vpcConfig (the subnets the janitor checks against)", async () => {
    const job = await createJob(account, 'vpc-job', account.subnetIds.slice(0, 2));
    const out = await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: job }));
    expect(out.vpcConfig?.subnetIds).toEqual(account.subnetIds.slice(0, 2));
  });

  it('deletes ENIs of a stopped job, keeps a running job\'s, records then (after the grace period) deletes unknown-job ENIs', async () => {
    // Prepare: one stopped job, one running job, each with ENIs; the seed's "old-job" is unknown to Bedrock.
    const stoppedJob = await createJob(account, 'stopped-job');
    const runningJob = await createJob(account, 'running-job');
    const stoppedEnis = await createJobEnis(ec2, stoppedJob, account.subnetIds, [account.securityGroupId]);
    const runningEnis = await createJobEnis(ec2, runningJob, account.subnetIds, [account.securityGroupId]);
    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: stoppedJob }));
    const { otherJobAvailable, otherJobInUse, untagged } = account.leftoverEnis;

    // Act: first sweep
    const now = new Date();
    const first = await sweep({}, config, { ec2, bedrock, dynamodb, now: () => now });

    // Assess
    expect(first.deleted.sort()).toEqual([...stoppedEnis].sort());
    expect(first.marked).toEqual([otherJobAvailable]);
    expect(first.jobsLookedUp).toBe(3);
    for (const id of stoppedEnis) expect(await eni(id)).toBeUndefined();
    for (const id of [...runningEnis, otherJobAvailable, otherJobInUse, untagged]) expect(await eni(id)).toBeDefined();
    const sighting = await dynamodb.send(new GetItemCommand({ TableName: config.sightingsTable, Key: { networkInterfaceId: { S: otherJobAvailable } } }));
    expect(sighting.Item?.firstSeen).toEqual({ S: now.toISOString() });
    // No tag of ours on the ENI.
    expect((await eni(otherJobAvailable))?.TagSet?.map((t) => t.Key).sort()).toEqual([BEDROCK_MANAGED_TAG, BEDROCK_JOB_ARN_TAG].sort());

    // A concurrent sweep a little later cannot move the first sighting later (conditional put).
    await sweep({}, config, { ec2, bedrock, dynamodb, now: () => new Date(now.getTime() + 3600_000) });
    const again = await dynamodb.send(new GetItemCommand({ TableName: config.sightingsTable, Key: { networkInterfaceId: { S: otherJobAvailable } } }));
    expect(again.Item?.firstSeen).toEqual({ S: now.toISOString() });

    // Act: a sweep two days later
    const later = new Date(now.getTime() + 2 * DAY);
    const second = await sweep({}, config, { ec2, bedrock, dynamodb, now: () => later });
    expect(second.deleted).toEqual([otherJobAvailable]);
    expect(await eni(otherJobAvailable)).toBeUndefined();
    for (const id of [...runningEnis, otherJobInUse, untagged]) expect(await eni(id)).toBeDefined();
  });

  it('spoofed ENIs survive a sweep; eligible ones are deleted', async () => {
    // Prepare: a job that ran in the first two subnets and has ended.
    const job = await createJob(account, 'ended-job', account.subnetIds.slice(0, 2));
    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: job }));
    const otherVpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.99.0.0/16' }))).Vpc!.VpcId!;
    const otherSubnet = (await ec2.send(new CreateSubnetCommand({ VpcId: otherVpc, CidrBlock: '10.99.1.0/24', AvailabilityZone: 'us-east-1a' }))).Subnet!
      .SubnetId!;
    const longAgo = new Date(Date.now() - 30 * DAY).toISOString();
    const spoofed = {
      notTheJobsSubnet: await forgedEni(account.subnetIds[2]!, { [BEDROCK_JOB_ARN_TAG]: job }),
      otherVpc: await forgedEni(otherSubnet, { [BEDROCK_JOB_ARN_TAG]: job }),
      foreignAccountArn: await forgedEni(account.subnetIds[0]!, {
        [BEDROCK_JOB_ARN_TAG]: `arn:aws:bedrock:us-east-1:999999999999:model-customization-job/ended-job`,
        'bedrock-vpc-customization:first-seen': longAgo,
      }),
      bogusArn: await forgedEni(account.subnetIds[0]!, { [BEDROCK_JOB_ARN_TAG]: 'bogus', 'bedrock-vpc-customization:first-seen': longAgo }),
      backDatedTag: await forgedEni(account.subnetIds[0]!, { 'bedrock-vpc-customization:first-seen': longAgo }),
    };
    // Eligible: the job's ENI in its own subnet, and an unknown-job ENI the janitor itself first saw 2 days ago.
    const ownSubnet = await forgedEni(account.subnetIds[1]!, { [BEDROCK_JOB_ARN_TAG]: job });
    const seenLongAgo = await forgedEni(account.subnetIds[0]!, {});
    await dynamodb.send(
      new PutItemCommand({
        TableName: config.sightingsTable,
        Item: { networkInterfaceId: { S: seenLongAgo }, firstSeen: { S: new Date(Date.now() - 2 * DAY).toISOString() } },
      }),
    );

    // Act
    const report = await sweep({}, config, { ec2, bedrock, dynamodb, now: () => new Date() });

    // Assess
    expect(report.deleted.sort()).toEqual([ownSubnet, seenLongAgo].sort());
    for (const id of Object.values(spoofed)) expect(await eni(id), id).toBeDefined();
    expect(report.kept).toEqual(
      expect.arrayContaining([
        { networkInterfaceId: spoofed.notTheJobsSubnet, reason: 'subnet-not-the-jobs', detail: account.subnetIds[2] },
        { networkInterfaceId: spoofed.foreignAccountArn, reason: 'job-of-another-account-or-region', detail: '999999999999/us-east-1' },
        { networkInterfaceId: spoofed.bogusArn, reason: 'job-arn-invalid', detail: 'bogus' },
        { networkInterfaceId: spoofed.backDatedTag, reason: 'unknown-job-first-seen-now' },
      ]),
    );
    // The other VPC's ENI is not even listed.
    expect(JSON.stringify(report)).not.toContain(spoofed.otherVpc);
    // A day later the back-dated ENI is still within the grace period of the janitor's own sighting.
    const dayLater = await sweep({}, config, { ec2, bedrock, dynamodb, now: () => new Date(Date.now() + DAY / 2) });
    expect(dayLater.deleted).toEqual([]);
    for (const id of Object.values(spoofed)) expect(await eni(id), id).toBeDefined();
  });

  it('dry run changes nothing in moto', async () => {
    const job = await createJob(account, 'ended-job');
    const enis = await createJobEnis(ec2, job, account.subnetIds, [account.securityGroupId]);
    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: job }));
    const report = await sweep({}, { ...config, dryRun: true }, { ec2, bedrock, dynamodb, now: () => new Date() });
    expect(report.wouldDelete.sort()).toEqual([...enis].sort());
    for (const id of enis) expect(await eni(id)).toBeDefined();
    const sighting = await dynamodb.send(
      new GetItemCommand({ TableName: config.sightingsTable, Key: { networkInterfaceId: { S: account.leftoverEnis.otherJobAvailable } } }),
    );
    expect(sighting.Item).toBeUndefined();
  });
});

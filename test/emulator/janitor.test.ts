import { GetModelCustomizationJobCommand, StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { CreateNetworkInterfaceCommand, CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import { sweep, type JanitorConfig, type JanitorDeps } from '../../functions/janitor/janitor.js';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG } from '../../functions/shared/bedrock-enis.js';
import { dynamoLedger, type LedgerNetwork } from '../../functions/shared/ledger.js';
import { JOB_LEDGER_TABLE_NAME, createDemoJob, createJobEnis, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { ec2, s3, iam, bedrock, dynamodb } = motoClients();
const DAY = 24 * 3600_000;
const OWNER = 'arn:aws:states:us-east-1:123456789012:execution:bedrock-vpc-customization-dev-customize-model:first';

/** The job ledger in moto, at `now` (what the workflow's functions write, and the janitor reads). */
const ledgerAt = (now: Date) => dynamoLedger(JOB_LEDGER_TABLE_NAME, { dynamodb, now: () => now });

/** The janitor's deps against moto, its ledger's clock at `now`. */
const janitorDeps = (now = new Date()): JanitorDeps => ({ ec2, bedrock, ledger: ledgerAt(now) });

/**
 * A job as the workflow runs it: reserved in the ledger under its name, created in `network`,
 * recorded as submitted, and its ENIs (the stand-in for Bedrock's) recorded while it runs.
 */
async function workflowJob(account: DemoAccount, name: string, network: LedgerNetwork): Promise<{ jobArn: string; enis: string[] }> {
  const ledger = ledgerAt(new Date());
  await ledger.reserve({ jobName: name, owner: OWNER, clientRequestToken: `${name}-token`, network, maxJobDurationSeconds: 86_400 });
  const jobArn = await createDemoJob(bedrock, account, name, { subnetIds: network.subnetIds });
  const now = new Date();
  await ledger.recordSubmission(name, OWNER, { jobArn, submittedAt: now.toISOString(), deadline: new Date(now.getTime() + DAY).toISOString() });
  const enis = await createJobEnis(ec2, jobArn, network.subnetIds, network.securityGroupIds);
  expect(await ledger.recordEnis(name, OWNER, enis)).toBe(true);
  return { jobArn, enis };
}

/** An ENI with tags anyone holding ec2:CreateTags could write. */
async function forgedEni(subnetId: string, tags: Record<string, string>, groups?: string[]): Promise<string> {
  const out = await ec2.send(
    new CreateNetworkInterfaceCommand({
      SubnetId: subnetId,
      ...(groups ? { Groups: groups } : {}),
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
  let network: LedgerNetwork;
  beforeEach(async () => {
    await resetMoto();
    // The demo account with the stack's tables (the job ledger among them).
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb });
    network = { vpcId: account.vpcId, subnetIds: account.subnetIds.slice(0, 2), securityGroupIds: [account.securityGroupId] };
    config = {
      dryRun: false,
      concurrency: 10,
      vpcIds: [account.vpcId],
      home: { region: account.region, accountId: account.accountId },
    };
  });

  it("moto's GetModelCustomizationJob returns the job's name and vpcConfig", async () => {
    const job = await createDemoJob(bedrock, account, 'vpc-job', { subnetIds: account.subnetIds.slice(0, 2) });
    const out = await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: job }));
    expect(out.jobName).toBe('vpc-job');
    expect(out.vpcConfig?.subnetIds).toEqual(account.subnetIds.slice(0, 2));
  });

  it("deletes the recorded ENIs of a stopped job of the workflow; keeps a running job's, a job's it did not run, unrecorded and unknown ones", async () => {
    // Prepare: two jobs of the workflow (one stopped, one running), a stopped job run outside it.
    const stopped = await workflowJob(account, 'stopped-job', network);
    const running = await workflowJob(account, 'running-job', network);
    const outside = await createDemoJob(bedrock, account, 'outside-job', { subnetIds: network.subnetIds });
    const outsideEnis = await createJobEnis(ec2, outside, network.subnetIds, network.securityGroupIds);
    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: stopped.jobArn }));
    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: outside }));
    // Tagged for the stopped job after it ended: the ledger never saw it.
    const lateComer = await forgedEni(network.subnetIds[0]!, { [BEDROCK_JOB_ARN_TAG]: stopped.jobArn }, network.securityGroupIds);
    const { otherJobAvailable, otherJobInUse, untagged } = account.leftoverEnis;

    // Act
    const first = await sweep({}, config, janitorDeps());

    // Assess
    expect(first.deleted.sort()).toEqual([...stopped.enis].sort());
    expect(first.jobsLookedUp).toBe(4);
    for (const id of stopped.enis) expect(await eni(id)).toBeUndefined();
    for (const id of [...running.enis, ...outsideEnis, lateComer, otherJobAvailable, otherJobInUse, untagged]) expect(await eni(id), id).toBeDefined();
    expect(first.kept).toEqual(
      expect.arrayContaining([
        ...running.enis.map((id) => ({ networkInterfaceId: id, reason: 'job-running', detail: 'InProgress' })),
        ...outsideEnis.map((id) => ({ networkInterfaceId: id, reason: 'not-recorded', detail: 'the job ledger has no entry for "outside-job"' })),
        { networkInterfaceId: lateComer, reason: 'not-recorded', detail: 'not among the ENIs recorded while "stopped-job" ran' },
        // The seed's "old-job" is unknown to Bedrock: kept, now and later.
        { networkInterfaceId: otherJobAvailable, reason: 'job-not-found', detail: expect.stringContaining('old-job') },
        { networkInterfaceId: otherJobInUse, reason: 'not-available', detail: 'in-use' },
      ]),
    );

    // Act: a sweep thirty days later deletes nothing more (there is no grace period to wait out).
    const later = await sweep({}, config, janitorDeps(new Date(Date.now() + 30 * DAY)));
    expect(later.deleted).toEqual([]);
    for (const id of [...running.enis, ...outsideEnis, lateComer, otherJobAvailable, otherJobInUse, untagged]) expect(await eni(id), id).toBeDefined();
  });

  it("spoofed ENIs survive a sweep, even one the ledger recorded outside the job's network; eligible ones are deleted", async () => {
    // Prepare: a job of the workflow that ran in the first two subnets and has ended.
    const job = await workflowJob(account, 'ended-job', network);
    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: job.jobArn }));
    const otherVpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.99.0.0/16' }))).Vpc!.VpcId!;
    const otherSubnet = (await ec2.send(new CreateSubnetCommand({ VpcId: otherVpc, CidrBlock: '10.99.1.0/24', AvailabilityZone: 'us-east-1a' }))).Subnet!
      .SubnetId!;
    const customerGroup = (
      await ec2.send(new CreateSecurityGroupCommand({ VpcId: account.vpcId, GroupName: 'customer-app', Description: "A customer's own group" }))
    ).GroupId!;
    const spoofed = {
      // In the ledger's record (as if recorded by mistake), but not in the job's network: still kept.
      notTheJobsSubnet: await forgedEni(account.subnetIds[2]!, { [BEDROCK_JOB_ARN_TAG]: job.jobArn }, network.securityGroupIds),
      notTheJobsGroup: await forgedEni(network.subnetIds[0]!, { [BEDROCK_JOB_ARN_TAG]: job.jobArn }, [customerGroup]),
      otherVpc: await forgedEni(otherSubnet, { [BEDROCK_JOB_ARN_TAG]: job.jobArn }),
      foreignAccountArn: await forgedEni(network.subnetIds[0]!, {
        [BEDROCK_JOB_ARN_TAG]: `arn:aws:bedrock:us-east-1:999999999999:model-customization-job/ended-job`,
      }),
      bogusArn: await forgedEni(network.subnetIds[0]!, { [BEDROCK_JOB_ARN_TAG]: 'bogus' }),
      noJobTag: await forgedEni(network.subnetIds[0]!, {}, network.securityGroupIds),
    };
    expect(await ledgerAt(new Date()).recordEnis('ended-job', OWNER, [spoofed.notTheJobsSubnet, spoofed.notTheJobsGroup])).toBe(true);

    // Act
    const report = await sweep({}, config, janitorDeps());

    // Assess
    expect(report.deleted.sort()).toEqual([...job.enis].sort());
    for (const id of Object.values(spoofed)) expect(await eni(id), id).toBeDefined();
    expect(report.kept).toEqual(
      expect.arrayContaining([
        { networkInterfaceId: spoofed.notTheJobsSubnet, reason: 'not-in-job-network', detail: `in subnet ${account.subnetIds[2]}, not one of the job's` },
        { networkInterfaceId: spoofed.notTheJobsGroup, reason: 'not-in-job-network', detail: `security groups ${customerGroup} are not the job's` },
        { networkInterfaceId: spoofed.foreignAccountArn, reason: 'job-of-another-account-or-region', detail: '999999999999/us-east-1' },
        { networkInterfaceId: spoofed.bogusArn, reason: 'job-arn-invalid', detail: 'bogus' },
        { networkInterfaceId: spoofed.noJobTag, reason: 'no-job-tag' },
      ]),
    );
    // The other VPC's ENI is not even listed.
    expect(JSON.stringify(report)).not.toContain(spoofed.otherVpc);
  });

  it('dry run changes nothing in moto', async () => {
    const job = await workflowJob(account, 'ended-job', network);
    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: job.jobArn }));
    const report = await sweep({}, { ...config, dryRun: true }, janitorDeps());
    expect(report.wouldDelete.sort()).toEqual([...job.enis].sort());
    for (const id of job.enis) expect(await eni(id)).toBeDefined();
    expect((await ledgerAt(new Date()).read('ended-job'))?.enis.sort()).toEqual([...job.enis].sort());
  });
});

/**
 * Attack (issue 19, "ENIs deleted on forged tags"): an ENI tagger. The attacker holds only
 * `ec2:CreateTags`. They cannot delete a customer's network interface themselves, but they can write
 * Bedrock's two tags on one and let the janitor (which may delete `BedrockManaged=true` ENIs of the
 * stage's VPC) do it for them. Earlier janitors deleted a detached customer ENI tagged with an ended
 * job's ARN on the first sweep (if it sat in one of the job's subnets), and one tagged
 * `BedrockManaged=true` alone a grace period after first seeing it.
 *
 * Invariant: the janitor deletes only ENIs the job ledger recorded while the job ran (a record only
 * the workflow's functions write), never one because of its tags, however long it has been around.
 * Tried against moto: the customer's ENIs, a real job of the workflow with its ledger entry written by
 * the ledger's own functions, the attacker's CreateTags calls, then sweeps now and days later.
 */
import { StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { CreateNetworkInterfaceCommand, CreateSecurityGroupCommand, CreateTagsCommand, DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { sweep, type JanitorConfig, type JanitorReport } from '../../functions/janitor/janitor.js';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG } from '../../functions/shared/bedrock-enis.js';
import { dynamoLedger, type LedgerNetwork } from '../../functions/shared/ledger.js';
import { JOB_LEDGER_TABLE_NAME, createDemoJob, createJobEnis, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const DAY = 24 * 3600_000;
const OWNER = 'arn:aws:states:us-east-1:123456789012:execution:bedrock-vpc-customization-dev-customize-model:first';
const JOB_NAME = 'support-bot-ft';

const { ec2, s3, iam, bedrock, dynamodb } = motoClients();
/** The attacker's client: it only ever sends CreateTags. */
const attacker = new EC2Client({ endpoint: inject('motoEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'tagger', secretAccessKey: 'tagger' } });
const ledgerAt = (now: Date) => dynamoLedger(JOB_LEDGER_TABLE_NAME, { dynamodb, now: () => now });

/** A detached ENI the customer created for their own use (no tags). */
async function customerEni(subnetId: string, groups: string[]): Promise<string> {
  const out = await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Groups: groups, Description: "A customer's own interface" }));
  return out.NetworkInterface!.NetworkInterfaceId!;
}

/** The attack: ec2:CreateTags on the customer's ENI. */
async function forgeTags(networkInterfaceId: string, tags: Record<string, string>): Promise<void> {
  await attacker.send(new CreateTagsCommand({ Resources: [networkInterfaceId], Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
}

async function exists(id: string): Promise<boolean> {
  const out = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'network-interface-id', Values: [id] }] }));
  return (out.NetworkInterfaces ?? []).length === 1;
}

describe('attack: forged Bedrock tags on customer ENIs make the janitor delete them (issue 19)', () => {
  let account: DemoAccount;
  let config: JanitorConfig;
  let job: { arn: string; enis: string[] };
  let customer: { endedJobArn: string; managedOnly: string; inJobNetwork: string };
  const reports: JanitorReport[] = [];

  beforeAll(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb });
    config = { dryRun: false, concurrency: 10, vpcIds: [account.vpcId], home: { region: account.region, accountId: account.accountId } };
    const network: LedgerNetwork = { vpcId: account.vpcId, subnetIds: account.subnetIds.slice(0, 2), securityGroupIds: [account.securityGroupId] };

    // A real job of the workflow: reserved, submitted, its ENIs recorded while it ran (the ledger's own functions), then ended.
    const ledger = ledgerAt(new Date());
    await ledger.reserve({ jobName: JOB_NAME, owner: OWNER, clientRequestToken: 'token-1', network, maxJobDurationSeconds: 86_400 });
    const arn = await createDemoJob(bedrock, account, JOB_NAME, { subnetIds: network.subnetIds });
    const now = new Date();
    await ledger.recordSubmission(JOB_NAME, OWNER, { jobArn: arn, submittedAt: now.toISOString(), deadline: new Date(now.getTime() + DAY).toISOString() });
    const enis = await createJobEnis(ec2, arn, network.subnetIds, network.securityGroupIds);
    expect(await ledger.recordEnis(JOB_NAME, OWNER, enis)).toBe(true);
    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: arn }));
    job = { arn, enis };

    // The customer's detached ENIs in the stage VPC: in the job's subnet with their own group, and so on.
    const customerGroup = (
      await ec2.send(new CreateSecurityGroupCommand({ VpcId: account.vpcId, GroupName: 'customer-db', Description: "The customer's database" }))
    ).GroupId!;
    customer = {
      endedJobArn: await customerEni(network.subnetIds[0]!, [customerGroup]),
      managedOnly: await customerEni(account.subnetIds[2]!, [customerGroup]),
      // Created after the job ended, in the job's own subnet, with the job's security group.
      inJobNetwork: await customerEni(network.subnetIds[1]!, network.securityGroupIds),
    };

    // The attacker: (a) both tags, the ended job's ARN; (b) BedrockManaged=true alone; (c) both tags, in the job's network.
    await forgeTags(customer.endedJobArn, { [BEDROCK_MANAGED_TAG]: 'true', [BEDROCK_JOB_ARN_TAG]: arn });
    await forgeTags(customer.managedOnly, { [BEDROCK_MANAGED_TAG]: 'true' });
    await forgeTags(customer.inJobNetwork, { [BEDROCK_MANAGED_TAG]: 'true', [BEDROCK_JOB_ARN_TAG]: arn });

    // The janitor: the job's state-change event, the schedule, and the schedule days later (the old grace period long past).
    const start = Date.now();
    reports.push(await sweep({ jobArn: arn }, config, { ec2, bedrock, ledger: ledgerAt(new Date(start)) }));
    reports.push(await sweep({}, config, { ec2, bedrock, ledger: ledgerAt(new Date(start)) }));
    for (const days of [2, 30]) reports.push(await sweep({}, config, { ec2, bedrock, ledger: ledgerAt(new Date(start + days * DAY)) }));
  });

  it("deletes none of the customer's ENIs, whatever tags they carry and however long after", async () => {
    for (const [what, id] of Object.entries(customer)) expect(await exists(id), what).toBe(true);
    for (const report of reports) {
      const removed = [...report.deleted, ...report.wouldDelete, ...report.alreadyGone];
      for (const id of Object.values(customer)) expect(removed).not.toContain(id);
    }
  });

  it('says why it kept each: not recorded in the ledger for the job, or no job at all', () => {
    const full = reports[1]!;
    expect(full.kept).toEqual(
      expect.arrayContaining([
        { networkInterfaceId: customer.endedJobArn, reason: 'not-recorded', detail: `not among the ENIs recorded while "${JOB_NAME}" ran` },
        { networkInterfaceId: customer.managedOnly, reason: 'no-job-tag' },
        { networkInterfaceId: customer.inJobNetwork, reason: 'not-recorded', detail: `not among the ENIs recorded while "${JOB_NAME}" ran` },
      ]),
    );
    for (const later of reports.slice(2)) {
      expect(later.kept.filter((k) => Object.values(customer).includes(k.networkInterfaceId)).map((k) => k.reason).sort()).toEqual([
        'no-job-tag',
        'not-recorded',
        'not-recorded',
      ]);
    }
  });

  it("still deletes the job's own recorded ENIs (on its state-change event), and only those", async () => {
    expect(reports[0]!.deleted.sort()).toEqual([...job.enis].sort());
    for (const id of job.enis) expect(await exists(id)).toBe(false);
    for (const report of reports.slice(1)) expect(report.deleted).toEqual([]);
  });

  it("the ledger still records only the job's own ENIs: tags never reach it", async () => {
    expect((await ledgerAt(new Date()).read(JOB_NAME))?.enis.sort()).toEqual([...job.enis].sort());
  });
});

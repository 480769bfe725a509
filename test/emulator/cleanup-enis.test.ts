import { DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import { cleanupEnis, type CleanupResult } from '../../functions/cleanup-enis/cleanup-enis.js';
import { EnisStillInUseError } from '../../functions/shared/errors.js';
import { dynamoLedger } from '../../functions/shared/ledger.js';
import { createJobEnis, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { ec2, s3, iam, dynamodb } = motoClients();
const jobArn = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/this-job';
const FIRST = 'arn:aws:states:us-east-1:123456789012:execution:bedrock-vpc-customization-local-customize-model:run-1';
const ledger = dynamoLedger('job-ledger', { dynamodb, now: () => new Date() });

/** The job ledger as the workflow leaves it for `arn` (job name `name`): FIRST supervises it, `enis` were seen while it ran. */
async function recorded(account: DemoAccount, enis: string[], arn = jobArn, name = 'this-job') {
  const network = { vpcId: account.vpcId, subnetIds: account.subnetIds, securityGroupIds: [account.securityGroupId] };
  await ledger.reserve({ jobName: name, owner: FIRST, clientRequestToken: 'token', network, maxJobDurationSeconds: 3600 });
  await ledger.recordSubmission(name, FIRST, { jobArn: arn, submittedAt: new Date().toISOString(), deadline: new Date(Date.now() + 3600_000).toISOString() });
  await ledger.recordEnis(name, FIRST, enis);
}
const input = (arn = jobArn, name = 'this-job') => ({ submission: { jobArn: arn, jobName: name }, execution: { id: FIRST }, self: FIRST });

async function liveEniIds(): Promise<Set<string>> {
  const out = await ec2.send(new DescribeNetworkInterfacesCommand({}));
  return new Set((out.NetworkInterfaces ?? []).map((e) => e.NetworkInterfaceId!));
}

describe('cleanup-enis against moto', () => {
  let account: DemoAccount;
  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb: motoClients().dynamodb });
  });

  it("deletes exactly the job's available ENIs and leaves in-use, untagged and other-job ENIs alone", async () => {
    // Prepare
    const jobEnis = await createJobEnis(ec2, jobArn, account.subnetIds, [account.securityGroupId]);
    await recorded(account, jobEnis);
    const before = await liveEniIds();

    // Act
    const result = await cleanupEnis(input(), { ec2, ledger });

    // Assess
    expect(result.deleted.sort()).toEqual([...jobEnis].sort());
    expect(result.notAvailable).toEqual([]);
    const after = await liveEniIds();
    for (const id of jobEnis) expect(after.has(id)).toBe(false);
    for (const id of Object.values(account.leftoverEnis)) expect(after.has(id)).toBe(true);
    expect(after.size).toBe(before.size - jobEnis.length);
  });

  it('is idempotent: a second run finds nothing and deletes nothing', async () => {
    await recorded(account, await createJobEnis(ec2, jobArn, account.subnetIds, [account.securityGroupId]));
    await cleanupEnis(input(), { ec2, ledger });
    const before = await liveEniIds();
    const second = await cleanupEnis(input(), { ec2, ledger });
    expect(second.deleted).toEqual([]);
    expect(await liveEniIds()).toEqual(before);
  });

  it('deletes the available ones, then reports an in-use ENI of the job instead of deleting it (moto itself would)', async () => {
    const oldJob = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/old-job';
    await recorded(account, [account.leftoverEnis.otherJobAvailable, account.leftoverEnis.otherJobInUse], oldJob, 'old-job');
    const error = await cleanupEnis(input(oldJob, 'old-job'), { ec2, ledger }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnisStillInUseError);
    const result = (error as EnisStillInUseError).result as CleanupResult;
    expect(result.deleted).toEqual([account.leftoverEnis.otherJobAvailable]);
    expect(result.notAvailable).toEqual([{ networkInterfaceId: account.leftoverEnis.otherJobInUse, status: 'in-use' }]);
    expect((error as Error).message).toContain(`${account.leftoverEnis.otherJobInUse} (in-use)`);
    const live = await liveEniIds();
    expect(live.has(account.leftoverEnis.otherJobInUse)).toBe(true);
    expect(live.has(account.leftoverEnis.otherJobAvailable)).toBe(false);
  });
});

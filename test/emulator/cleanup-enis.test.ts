import { DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import { cleanupEnis, type CleanupResult } from '../../functions/cleanup-enis/cleanup-enis.js';
import { EnisStillInUseError } from '../../functions/shared/errors.js';
import { createJobEnis, seedDemoAccount, type DemoAccount } from '../../scripts/lib/seed.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { ec2, s3, iam } = motoClients();
const jobArn = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/this-job';

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
    const before = await liveEniIds();

    // Act
    const result = await cleanupEnis(jobArn, { ec2 });

    // Assess
    expect(result.deleted.sort()).toEqual([...jobEnis].sort());
    expect(result.notAvailable).toEqual([]);
    const after = await liveEniIds();
    for (const id of jobEnis) expect(after.has(id)).toBe(false);
    for (const id of Object.values(account.leftoverEnis)) expect(after.has(id)).toBe(true);
    expect(after.size).toBe(before.size - jobEnis.length);
  });

  it('is idempotent: a second run finds nothing and deletes nothing', async () => {
    await createJobEnis(ec2, jobArn, account.subnetIds, [account.securityGroupId]);
    await cleanupEnis(jobArn, { ec2 });
    const before = await liveEniIds();
    const second = await cleanupEnis(jobArn, { ec2 });
    expect(second.deleted).toEqual([]);
    expect(await liveEniIds()).toEqual(before);
  });

  it('deletes the available ones, then reports an in-use ENI of the job instead of deleting it (moto itself would)', async () => {
    const oldJob = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/old-job';
    const error = await cleanupEnis(oldJob, { ec2 }).catch((e: unknown) => e);
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

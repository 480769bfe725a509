import { DeleteNetworkInterfaceCommand, DescribeNetworkInterfacesCommand, EC2Client, type NetworkInterface } from '@aws-sdk/client-ec2';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ledger } from '../../functions/shared/ledger.js';
import { emulatedLedger, LEDGER_NETWORK, ledgerWith } from '../support/ledger.js';
import { cleanupEnis } from '../../functions/cleanup-enis/cleanup-enis.js';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG, listBedrockEnis } from '../../functions/shared/bedrock-enis.js';
import { EnisStillInUseError, JobNotOursError } from '../../functions/shared/errors.js';

const ec2 = mockClient(EC2Client);
const dynamodb = mockClient(DynamoDBClient);
afterEach(() => {
  ec2.reset();
  dynamodb.reset();
});

const JOB = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/j1';
/** The job's network, as the ledger records it. */
const NETWORK = LEDGER_NETWORK;
const eni = (id: string, status: string, tags: Record<string, string>, over: Partial<NetworkInterface> = {}): NetworkInterface => ({
  NetworkInterfaceId: id,
  Status: status as NetworkInterface['Status'],
  VpcId: NETWORK.vpcId,
  SubnetId: NETWORK.subnetIds[0],
  Groups: [{ GroupId: NETWORK.securityGroupIds[0] }],
  TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  ...over,
});
const ours = { [BEDROCK_MANAGED_TAG]: 'true', [BEDROCK_JOB_ARN_TAG]: JOB };

describe('listBedrockEnis', () => {
  it("keeps only ENIs with both tags' exact values, whatever the API filter returned", async () => {
    ec2.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [
        eni('eni-ok', 'available', ours),
        eni('eni-upper', 'available', { ...ours, [BEDROCK_MANAGED_TAG]: 'TRUE' }),
        eni('eni-no-managed', 'available', { [BEDROCK_JOB_ARN_TAG]: JOB }),
        eni('eni-other-job', 'available', { ...ours, [BEDROCK_JOB_ARN_TAG]: `${JOB}x` }),
        // the guide's misspelt key is not Bedrock's
        eni('eni-typo', 'available', { [BEDROCK_MANAGED_TAG]: 'true', BedrockModelCusomizationJobArn: JOB }),
      ],
    });
    const enis = await listBedrockEnis(new EC2Client({}), JOB);
    expect(enis.map((e) => e.NetworkInterfaceId)).toEqual(['eni-ok']);
    const all = await listBedrockEnis(new EC2Client({}));
    // without a job: every ENI whose BedrockManaged tag is exactly "true"
    expect(all.map((e) => e.NetworkInterfaceId)).toEqual(['eni-ok', 'eni-other-job', 'eni-typo']);
  });
});

describe('cleanupEnis', () => {
  const FIRST = 'arn:aws:states:us-east-1:123456789012:execution:sm:run-1';
  const submission = { jobArn: JOB, jobName: 'job-1' };
  let ledger: Ledger;
  const input = (self = FIRST) => ({ submission, execution: { id: FIRST }, self });
  const deps = () => ({ ec2: new EC2Client({}), ledger });
  /** The ledger as the workflow leaves it: the job of FIRST, `recorded` seen while it ran. */
  async function recorded(...ids: string[]) {
    await ledgerWith(ledger, [{ jobName: 'job-1', owner: FIRST, jobArn: JOB }]);
    await ledger.recordEnis('job-1', FIRST, ids);
  }
  /** DescribeNetworkInterfaces answers: by id filter (the recorded ones) from `byId`, by tag filter from `tagged`. */
  function describe2(byId: NetworkInterface[], tagged: NetworkInterface[] = byId) {
    ec2.on(DescribeNetworkInterfacesCommand).callsFake((input: { Filters?: { Name: string; Values: string[] }[] }) => {
      const ids = input.Filters?.find((f) => f.Name === 'network-interface-id')?.Values;
      return { NetworkInterfaces: ids ? byId.filter((e) => ids.includes(e.NetworkInterfaceId!)) : tagged };
    });
  }
  beforeEach(() => {
    ({ ledger } = emulatedLedger(dynamodb));
    ec2.on(DeleteNetworkInterfaceCommand).resolves({});
  });

  it('deletes only the available ENIs the ledger recorded, re-checked now; tagged but unrecorded ones are reported, not deleted', async () => {
    await recorded('eni-1', 'eni-2', 'eni-moved');
    const forged = eni('eni-forged', 'available', ours);
    describe2(
      [eni('eni-1', 'available', ours), eni('eni-2', 'available', ours), eni('eni-moved', 'available', ours, { SubnetId: 'subnet-0ffffffffffffffff' })],
      [eni('eni-1', 'available', ours), eni('eni-2', 'available', ours), forged],
    );
    const result = await cleanupEnis(input(), deps());
    expect(result.deleted).toEqual(['eni-1', 'eni-2']);
    expect(result.notRecorded).toEqual(['eni-forged']);
    expect(result.changed).toEqual([{ networkInterfaceId: 'eni-moved', reason: expect.stringContaining('subnet') }]);
    expect(ec2).not.toHaveReceivedCommandWith(DeleteNetworkInterfaceCommand, { NetworkInterfaceId: 'eni-forged' });
    expect(ec2).not.toHaveReceivedCommandWith(DeleteNetworkInterfaceCommand, { NetworkInterfaceId: 'eni-moved' });
    expect(result.summary).toContain('never seen while it ran');
  });

  it('a recorded ENI whose tags were removed since is left alone', async () => {
    await recorded('eni-1');
    describe2([eni('eni-1', 'available', { Name: 'customer' })], []);
    const result = await cleanupEnis(input(), deps());
    expect(result.deleted).toEqual([]);
    expect(result.changed).toHaveLength(1);
  });

  it('an execution that is not the supervisor deletes nothing (JobNotOursError)', async () => {
    await recorded('eni-1');
    describe2([eni('eni-1', 'available', ours)]);
    await expect(cleanupEnis(input('arn:aws:states:us-east-1:123456789012:execution:sm:other'), deps())).rejects.toBeInstanceOf(JobNotOursError);
    expect(ec2).not.toHaveReceivedCommand(DeleteNetworkInterfaceCommand);
  });

  it('counts an ENI that vanished before deletion (or is no longer described) as cleaned', async () => {
    await recorded('eni-1', 'eni-gone');
    describe2([eni('eni-1', 'available', ours)], []);
    ec2.on(DeleteNetworkInterfaceCommand).rejects(Object.assign(new Error('gone'), { name: 'InvalidNetworkInterfaceID.NotFound', $metadata: {} }));
    const result = await cleanupEnis(input(), deps());
    expect(result).toMatchObject({ deleted: [], alreadyGone: ['eni-1', 'eni-gone'] });
    expect(result.summary).toContain('2 already gone');
  });

  it('deletes what it can, then throws EnisStillInUseError naming the attached ones (never detaches)', async () => {
    await recorded('eni-1', 'eni-2');
    describe2([eni('eni-1', 'available', ours), eni('eni-2', 'in-use', ours)]);
    const error = await cleanupEnis(input(), deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnisStillInUseError);
    expect((error as Error).name).toBe('EnisStillInUseError');
    expect((error as Error).message).toContain('eni-2 (in-use)');
    expect(ec2).toHaveReceivedCommandTimes(DeleteNetworkInterfaceCommand, 1);
  });

  it('lets other delete errors through (retried by the state machine)', async () => {
    await recorded('eni-1');
    describe2([eni('eni-1', 'available', ours)]);
    ec2.on(DeleteNetworkInterfaceCommand).rejects(Object.assign(new Error('denied'), { name: 'UnauthorizedOperation', $metadata: {} }));
    await expect(cleanupEnis(input(), deps())).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
  });
});

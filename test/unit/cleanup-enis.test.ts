import { DeleteNetworkInterfaceCommand, DescribeNetworkInterfacesCommand, EC2Client, type NetworkInterface } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupEnis } from '../../functions/cleanup-enis/cleanup-enis.js';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG, listBedrockEnis } from '../../functions/shared/bedrock-enis.js';
import { EnisStillInUseError } from '../../functions/shared/errors.js';

const ec2 = mockClient(EC2Client);
afterEach(() => ec2.reset());

const JOB = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/j1';
const eni = (id: string, status: string, tags: Record<string, string>): NetworkInterface => ({
  NetworkInterfaceId: id,
  Status: status as NetworkInterface['Status'],
  TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
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
  it('filters by both tags, pages, re-checks tags in code and deletes only available ENIs of the job', async () => {
    ec2
      .on(DescribeNetworkInterfacesCommand)
      .resolvesOnce({ NetworkInterfaces: [eni('eni-1', 'available', ours), eni('eni-foreign', 'available', { Name: 'x' })], NextToken: 't' })
      .resolvesOnce({ NetworkInterfaces: [eni('eni-2', 'available', ours)] });
    ec2.on(DeleteNetworkInterfaceCommand).resolves({});
    const result = await cleanupEnis(JOB, { ec2: new EC2Client({}) });
    expect(result.deleted).toEqual(['eni-1', 'eni-2']);
    expect(ec2).toHaveReceivedCommandWith(DescribeNetworkInterfacesCommand, {
      Filters: [
        { Name: `tag:${BEDROCK_MANAGED_TAG}`, Values: ['true'] },
        { Name: `tag:${BEDROCK_JOB_ARN_TAG}`, Values: [JOB] },
      ],
      MaxResults: 1000,
    });
    expect(ec2).toHaveReceivedCommandWith(DescribeNetworkInterfacesCommand, { NextToken: 't' });
    expect(ec2).not.toHaveReceivedCommandWith(DeleteNetworkInterfaceCommand, { NetworkInterfaceId: 'eni-foreign' });
  });

  it('counts an ENI that vanished before deletion as cleaned', async () => {
    ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [eni('eni-1', 'available', ours)] });
    ec2.on(DeleteNetworkInterfaceCommand).rejects(Object.assign(new Error('gone'), { name: 'InvalidNetworkInterfaceID.NotFound', $metadata: {} }));
    const result = await cleanupEnis(JOB, { ec2: new EC2Client({}) });
    expect(result).toMatchObject({ deleted: [], alreadyGone: ['eni-1'] });
    expect(result.summary).toContain('1 already gone');
  });

  it('deletes what it can, then throws EnisStillInUseError naming the attached ones (never detaches)', async () => {
    ec2.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [eni('eni-1', 'available', ours), eni('eni-2', 'in-use', ours)],
    });
    ec2.on(DeleteNetworkInterfaceCommand).resolves({});
    const error = await cleanupEnis(JOB, { ec2: new EC2Client({}) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnisStillInUseError);
    expect((error as Error).name).toBe('EnisStillInUseError');
    expect((error as Error).message).toContain('eni-2 (in-use)');
    expect(ec2).toHaveReceivedCommandTimes(DeleteNetworkInterfaceCommand, 1);
  });

  it('lets other delete errors through (retried by the state machine)', async () => {
    ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [eni('eni-1', 'available', ours)] });
    ec2.on(DeleteNetworkInterfaceCommand).rejects(Object.assign(new Error('denied'), { name: 'UnauthorizedOperation', $metadata: {} }));
    await expect(cleanupEnis(JOB, { ec2: new EC2Client({}) })).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
  });
});

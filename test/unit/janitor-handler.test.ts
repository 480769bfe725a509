import { BedrockClient, GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { DeleteNetworkInterfaceCommand, DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { BatchGetItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { asLambda, type TaskHandler } from '../../scripts/lib/workflow.js';
import { fixtureEvent } from '../support/event-ruler.js';

const ec2 = mockClient(EC2Client);
const bedrock = mockClient(BedrockClient);
const dynamodb = mockClient(DynamoDBClient);
let janitor: TaskHandler;

beforeAll(async () => {
  process.env.JANITOR_GRACE_SECONDS = '3600';
  process.env.JANITOR_DRY_RUN = 'false';
  process.env.JANITOR_VPC_IDS = 'vpc-0123456789abcdef0, vpc-0123456789abcdef1';
  process.env.JANITOR_SIGHTINGS_TABLE = 'sightings';
  process.env.JANITOR_ACCOUNT_ID = '123456789012';
  process.env.AWS_REGION = 'us-east-1';
  const mod = await import('../../functions/janitor/handler.js');
  janitor = asLambda('janitor', mod.handler as never);
});
afterEach(() => {
  ec2.reset();
  bedrock.reset();
  dynamodb.reset();
});

describe('janitor handler', () => {
  it("sweeps only the job named by Bedrock's state-change event (AWS's documented sample)", async () => {
    // AWS's sample event (test/fixtures/events), with a terminal status the janitor's rule matches.
    const event = fixtureEvent('bedrock-model-customization-job-state-change');
    event.detail.jobStatus = 'Completed';
    const job: string = event.detail.jobArn;
    ec2.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [
        {
          NetworkInterfaceId: 'eni-1',
          Status: 'available',
          VpcId: 'vpc-0123456789abcdef1',
          SubnetId: 'subnet-1',
          TagSet: [
            { Key: 'BedrockManaged', Value: 'true' },
            { Key: 'BedrockModelCustomizationJobArn', Value: job },
          ],
        },
      ],
    });
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'Completed', vpcConfig: { subnetIds: ['subnet-1'], securityGroupIds: ['sg-1'] } });
    ec2.on(DeleteNetworkInterfaceCommand).resolves({});
    const report = (await janitor(event)) as { deleted: string[] };
    expect(report.deleted).toEqual(['eni-1']);
    expect(ec2).toHaveReceivedCommandWith(DescribeNetworkInterfacesCommand, {
      Filters: [
        { Name: 'tag:BedrockManaged', Values: ['true'] },
        { Name: 'tag:BedrockModelCustomizationJobArn', Values: [job] },
        { Name: 'vpc-id', Values: ['vpc-0123456789abcdef0', 'vpc-0123456789abcdef1'] },
      ],
    });
  });

  it('sweeps everything on the schedule, and honours a manual dry run', async () => {
    ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [] });
    const report = (await janitor({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {}, dryRun: true })) as {
      dryRun: boolean;
    };
    expect(report.dryRun).toBe(true);
    expect(ec2).toHaveReceivedCommandWith(DescribeNetworkInterfacesCommand, {
      Filters: [
        { Name: 'tag:BedrockManaged', Values: ['true'] },
        { Name: 'vpc-id', Values: ['vpc-0123456789abcdef0', 'vpc-0123456789abcdef1'] },
      ],
    });
  });

  it('reads sightings from the table its environment names', async () => {
    ec2.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [
        { NetworkInterfaceId: 'eni-2', Status: 'available', VpcId: 'vpc-0123456789abcdef0', TagSet: [{ Key: 'BedrockManaged', Value: 'true' }] },
      ],
    });
    dynamodb.on(BatchGetItemCommand).resolves({ Responses: { sightings: [] } });
    const report = (await janitor({ dryRun: true })) as { kept: { reason: string }[] };
    expect(report.kept).toEqual([{ networkInterfaceId: 'eni-2', reason: 'unknown-job-first-seen-now' }]);
    expect(dynamodb).toHaveReceivedCommandWith(BatchGetItemCommand, { RequestItems: { sightings: expect.anything() } });
  });

  it("a manual invoke cannot turn off the stage's dry run (janitorDryRun: 'true')", async () => {
    process.env.JANITOR_DRY_RUN = 'true';
    vi.resetModules();
    try {
      const dryStage = asLambda('janitor', (await import('../../functions/janitor/handler.js')).handler as never);
      ec2.on(DescribeNetworkInterfacesCommand).resolves({
        NetworkInterfaces: [{ NetworkInterfaceId: 'eni-3', Status: 'available', VpcId: 'vpc-0123456789abcdef0', TagSet: [{ Key: 'BedrockManaged', Value: 'true' }] }],
      });
      dynamodb.on(BatchGetItemCommand).resolves({ Responses: { sightings: [{ networkInterfaceId: { S: 'eni-3' }, firstSeen: { N: '0' } }] } });
      const report = (await dryStage({ dryRun: false })) as { dryRun: boolean };
      expect(report.dryRun).toBe(true);
      expect(ec2).toHaveReceivedCommandTimes(DeleteNetworkInterfaceCommand, 0);
    } finally {
      process.env.JANITOR_DRY_RUN = 'false';
    }
  });

  it('rejects a malformed job ARN with a field-named error', async () => {
    await expect(janitor({ jobArn: 'not-an-arn' })).rejects.toMatchObject({ name: 'InvalidInputError' });
    expect(ec2.calls()).toHaveLength(0);
  });
});

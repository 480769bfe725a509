import {
  BedrockClient,
  DeleteCustomModelDeploymentCommand,
  GetCustomModelCommand,
  GetCustomModelDeploymentCommand,
  GetModelCustomizationJobCommand,
  ListCustomModelDeploymentsCommand,
} from '@aws-sdk/client-bedrock';
import { DeleteNetworkInterfaceCommand, DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { asLambda, type TaskHandler } from '../../local/workflow.js';
import { fixtureEvent } from '../support/event-ruler.js';

const ec2 = mockClient(EC2Client);
const bedrock = mockClient(BedrockClient);
const dynamodb = mockClient(DynamoDBClient);
let janitor: TaskHandler;

beforeAll(async () => {
  process.env.JANITOR_DRY_RUN = 'false';
  process.env.JANITOR_VPC_IDS = 'vpc-0123456789abcdef0, vpc-0123456789abcdef1';
  process.env.JOB_LEDGER_TABLE = 'ledger';
  process.env.JANITOR_ACCOUNT_ID = '123456789012';
  process.env.AWS_REGION = 'us-east-1';
  const mod = await import('../../functions/janitor/handler.js');
  janitor = asLambda('janitor', mod.handler as never);
});
beforeEach(() => {
  // No deployments unless a test lists some (a full sweep lists them).
  bedrock.on(ListCustomModelDeploymentsCommand).resolves({ modelDeploymentSummaries: [] });
});
afterEach(() => {
  ec2.reset();
  bedrock.reset();
  dynamodb.reset();
});

/** The job ledger's item for a job (the attributes functions/shared/ledger.ts reads), with the ENIs it recorded. */
const ledgerItem = (jobName: string, jobArn: string, enis: string[]) => ({
  pk: { S: jobName },
  ownerExecution: { S: 'arn:aws:states:us-east-1:123456789012:execution:customize-model:first' },
  supervisorExecution: { S: 'arn:aws:states:us-east-1:123456789012:execution:customize-model:first' },
  isClaimed: { BOOL: true },
  jobArn: { S: jobArn },
  vpcId: { S: 'vpc-0123456789abcdef1' },
  subnetIds: { SS: ['subnet-1'] },
  securityGroupIds: { SS: ['sg-1'] },
  recordedEnis: { SS: enis },
  entryStatus: { S: 'submitted' },
});

/** An ENI Bedrock created for `job` in its network (subnet-1, sg-1). */
const jobEni = (id: string, job: string) => ({
  NetworkInterfaceId: id,
  Status: 'available' as const,
  VpcId: 'vpc-0123456789abcdef1',
  SubnetId: 'subnet-1',
  Groups: [{ GroupId: 'sg-1' }],
  TagSet: [
    { Key: 'BedrockManaged', Value: 'true' },
    { Key: 'BedrockModelCustomizationJobArn', Value: job },
  ],
});

describe('janitor handler', () => {
  it("sweeps only the job named by Bedrock's state-change event (AWS's documented sample), as the job ledger recorded it", async () => {
    // AWS's sample event (test/fixtures/events), with a terminal status the janitor's rule matches.
    const event = fixtureEvent('bedrock-model-customization-job-state-change');
    event.detail.jobStatus = 'Completed';
    const job: string = event.detail.jobArn;
    ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [jobEni('eni-1', job), jobEni('eni-forged', job)] });
    bedrock
      .on(GetModelCustomizationJobCommand)
      .resolves({ jobArn: job, jobName: event.detail.jobName, status: 'Completed', vpcConfig: { subnetIds: ['subnet-1'], securityGroupIds: ['sg-1'] } });
    dynamodb.on(GetItemCommand).resolves({ Item: ledgerItem(event.detail.jobName, job, ['eni-1']) });
    ec2.on(DeleteNetworkInterfaceCommand).resolves({});
    const report = (await janitor(event)) as { deleted: string[]; kept: { networkInterfaceId: string; reason: string }[] };
    expect(report.deleted).toEqual(['eni-1']);
    expect(report.kept).toEqual([expect.objectContaining({ networkInterfaceId: 'eni-forged', reason: 'not-recorded' })]);
    expect(ec2).toHaveReceivedCommandWith(DescribeNetworkInterfacesCommand, {
      Filters: [
        { Name: 'tag:BedrockManaged', Values: ['true'] },
        { Name: 'tag:BedrockModelCustomizationJobArn', Values: [job] },
        { Name: 'vpc-id', Values: ['vpc-0123456789abcdef0', 'vpc-0123456789abcdef1'] },
      ],
    });
    // The ledger table its environment names, by the job's name, read once, consistently.
    expect(dynamodb).toHaveReceivedCommandTimes(GetItemCommand, 1);
    expect(dynamodb).toHaveReceivedCommandWith(GetItemCommand, { TableName: 'ledger', Key: { pk: { S: event.detail.jobName } }, ConsistentRead: true });
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

  it('keeps an ENI with no job tag, and one of a job the ledger has no entry for, whatever its age', async () => {
    const job = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/outside';
    ec2.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [
        { NetworkInterfaceId: 'eni-2', Status: 'available', VpcId: 'vpc-0123456789abcdef0', TagSet: [{ Key: 'BedrockManaged', Value: 'true' }] },
        jobEni('eni-3', job),
      ],
    });
    bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn: job, jobName: 'outside', status: 'Stopped' });
    dynamodb.on(GetItemCommand).resolves({});
    const report = (await janitor({})) as { deleted: string[]; kept: { reason: string }[] };
    expect(report.deleted).toEqual([]);
    expect(report.kept).toEqual([
      { networkInterfaceId: 'eni-2', reason: 'no-job-tag' },
      { networkInterfaceId: 'eni-3', reason: 'not-recorded', detail: 'the job ledger has no entry for "outside"' },
    ]);
    expect(ec2).not.toHaveReceivedCommand(DeleteNetworkInterfaceCommand);
  });

  it("a manual invoke cannot turn off the stage's dry run (janitorDryRun: 'true')", async () => {
    process.env.JANITOR_DRY_RUN = 'true';
    vi.resetModules();
    try {
      const dryStage = asLambda('janitor', (await import('../../functions/janitor/handler.js')).handler as never);
      const job = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/done';
      ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [jobEni('eni-3', job)] });
      bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn: job, jobName: 'done', status: 'Completed' });
      dynamodb.on(GetItemCommand).resolves({ Item: ledgerItem('done', job, ['eni-3']) });
      const report = (await dryStage({ dryRun: false })) as { dryRun: boolean; wouldDelete: string[] };
      expect(report.dryRun).toBe(true);
      expect(report.wouldDelete).toEqual(['eni-3']);
      expect(ec2).toHaveReceivedCommandTimes(DeleteNetworkInterfaceCommand, 0);
    } finally {
      process.env.JANITOR_DRY_RUN = 'false';
    }
  });

  it("a full sweep also sweeps the gate's deployments: a rejected one is reported, deleted only when the stage says delete", async () => {
    const deployment = 'arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/abcdef123456';
    const job = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/rejected';
    const model = 'arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-micro-v1:0:128k/abcdefghijkl';
    ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [] });
    bedrock.on(ListCustomModelDeploymentsCommand).resolves({
      modelDeploymentSummaries: [{ customModelDeploymentArn: deployment, customModelDeploymentName: 'dep', modelArn: model, createdAt: new Date(), status: 'Active' }],
    });
    bedrock.on(GetCustomModelDeploymentCommand).resolves({ customModelDeploymentArn: deployment, modelDeploymentName: 'dep', modelArn: model, createdAt: new Date(), status: 'Active' });
    bedrock.on(GetCustomModelCommand).resolves({ modelArn: model, modelName: 'm', creationTime: new Date(), jobArn: job, jobName: 'rejected' });
    bedrock.on(DeleteCustomModelDeploymentCommand).resolves({});
    dynamodb.on(GetItemCommand).resolves({
      Item: { ...ledgerItem('rejected', job, []), evalUpdatedAt: { S: '2026-11-28T10:00:00Z' }, evalDeploymentArn: { S: deployment }, evalVerdict: { S: 'reject' } },
    });
    // The stage's default: report only.
    const reported = (await janitor({})) as { deployments: { rejected: { deploymentArn: string }[]; deleted: string[]; kept: { reason: string }[] } };
    expect(reported.deployments.rejected).toEqual([expect.objectContaining({ deploymentArn: deployment, jobName: 'rejected' })]);
    expect(reported.deployments.deleted).toEqual([]);
    expect(reported.deployments.kept).toEqual([expect.objectContaining({ reason: 'rejected-reported' })]);
    expect(bedrock).not.toHaveReceivedCommand(DeleteCustomModelDeploymentCommand);

    process.env.STAGE_REJECTED_DEPLOYMENTS = 'delete';
    vi.resetModules();
    try {
      const deleting = asLambda('janitor', (await import('../../functions/janitor/handler.js')).handler as never);
      const report = (await deleting({})) as { deployments: { deleted: string[] } };
      expect(report.deployments.deleted).toEqual([deployment]);
      expect(bedrock).toHaveReceivedCommandWith(DeleteCustomModelDeploymentCommand, { customModelDeploymentIdentifier: deployment });
      // A job's event sweeps its ENIs only: no deployment is listed.
      bedrock.resetHistory();
      const event = fixtureEvent('bedrock-model-customization-job-state-change');
      event.detail.jobStatus = 'Completed';
      bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn: event.detail.jobArn, jobName: event.detail.jobName, status: 'Completed' });
      expect(await deleting(event)).not.toHaveProperty('deployments');
      expect(bedrock).not.toHaveReceivedCommand(ListCustomModelDeploymentsCommand);
    } finally {
      delete process.env.STAGE_REJECTED_DEPLOYMENTS;
    }
  });

  it('refuses a stage whose rejectedDeployments is neither report nor delete', async () => {
    process.env.STAGE_REJECTED_DEPLOYMENTS = 'purge';
    vi.resetModules();
    try {
      await expect(import('../../functions/janitor/handler.js')).rejects.toThrow(/STAGE_REJECTED_DEPLOYMENTS/);
    } finally {
      delete process.env.STAGE_REJECTED_DEPLOYMENTS;
    }
  });

  it('rejects a malformed job ARN with a field-named error', async () => {
    await expect(janitor({ jobArn: 'not-an-arn' })).rejects.toMatchObject({ name: 'InvalidInputError' });
    expect(ec2.calls()).toHaveLength(0);
  });
});

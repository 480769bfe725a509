/**
 * aws-sdk-client-mock set-up of a healthy account for the state-machine tier: the real handlers run,
 * their SDK clients answer from here. `jobStatuses` is the sequence GetModelCustomizationJob returns
 * (the last one repeats) for the job's ARN; by a job name it answers the job Create made under that
 * name (with its token), or ResourceNotFoundException. Each test can override any command after calling this.
 */
import {
  BedrockClient,
  CreateModelCustomizationJobCommand,
  GetModelCustomizationJobCommand,
  ListTagsForResourceCommand,
  ResourceNotFoundException,
  StopModelCustomizationJobCommand,
} from '@aws-sdk/client-bedrock';
import {
  DeleteNetworkInterfaceCommand,
  DescribeNetworkInterfacesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { GetRolePolicyCommand, IAMClient, NoSuchEntityException, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { emulateTables } from './mock-leases.js';
import { MemoryDynamoDB } from '../../local/dynamodb-memory.js';
import { mockClient } from 'aws-sdk-client-mock';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG } from '../../functions/shared/bedrock-enis.js';
import { scheduledHistory } from '../../local/workflow.js';
import { mockHealthyNetwork } from './mock-network.js';

export const ACCOUNT = {
  vpcId: 'vpc-0123456789abcdef0',
  subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
  securityGroupId: 'sg-0123456789abcdef0',
  jobArn: 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/job-under-test',
  jobEnis: ['eni-0000000000000000a', 'eni-0000000000000000b'],
};

export const mocks = {
  ec2: mockClient(EC2Client),
  iam: mockClient(IAMClient),
  s3: mockClient(S3Client),
  bedrock: mockClient(BedrockClient),
  sfn: mockClient(SFNClient),
  dynamodb: mockClient(DynamoDBClient),
};

/** The in-memory DynamoDB tables of the last mockHealthyAccount (policy leases, job ledger, job waits). */
export let tables: MemoryDynamoDB = new MemoryDynamoDB();

export function resetMocks() {
  for (const m of Object.values(mocks)) m.reset();
}

export function mockHealthyAccount(jobStatuses: string[] = ['Completed']) {
  resetMocks();
  const { ec2, iam, bedrock } = mocks;
  mockHealthyNetwork(mocks);
  tables = emulateTables(mocks.dynamodb);
  ec2.on(DescribeNetworkInterfacesCommand).resolves({
    NetworkInterfaces: ACCOUNT.jobEnis.map((NetworkInterfaceId, i) => ({
      NetworkInterfaceId,
      Status: 'available',
      // Where Bedrock puts a job's ENIs: the job's VPC, one of its subnets, its security group.
      VpcId: ACCOUNT.vpcId,
      SubnetId: ACCOUNT.subnetIds[i % ACCOUNT.subnetIds.length],
      Groups: [{ GroupId: ACCOUNT.securityGroupId }],
      TagSet: [
        { Key: BEDROCK_MANAGED_TAG, Value: 'true' },
        { Key: BEDROCK_JOB_ARN_TAG, Value: ACCOUNT.jobArn },
      ],
    })),
  });
  ec2.on(DeleteNetworkInterfaceCommand).resolves({});
  iam.on(GetRolePolicyCommand).rejects(new NoSuchEntityException({ message: 'no policy', $metadata: {} }));
  iam.on(PutRolePolicyCommand).resolves({});
  const created = new Map<string, string | undefined>();
  let jobTags: { key: string; value: string }[] = [];
  bedrock.on(CreateModelCustomizationJobCommand).callsFake((input) => {
    created.set(input.jobName, input.clientRequestToken);
    jobTags = (input.jobTags ?? []) as typeof jobTags;
    return { jobArn: ACCOUNT.jobArn };
  });
  // The job's tags as CreateModelCustomizationJob set them (resume-job and the reaper read the chain tag).
  bedrock.on(ListTagsForResourceCommand).callsFake(() => ({ tags: jobTags }));
  // The executions' histories, as far as resume-job reads them: the HandOver starts the runner recorded.
  mocks.sfn.on(GetExecutionHistoryCommand).callsFake((input) => ({ events: scheduledHistory(input.executionArn) }));
  let call = 0;
  bedrock.on(GetModelCustomizationJobCommand).callsFake((input) => {
    if (input.jobIdentifier !== ACCOUNT.jobArn) {
      if (!created.has(input.jobIdentifier)) {
        throw new ResourceNotFoundException({ message: `Job ${input.jobIdentifier} not found`, $metadata: { httpStatusCode: 404 } });
      }
      return { jobArn: ACCOUNT.jobArn, jobName: input.jobIdentifier, clientRequestToken: created.get(input.jobIdentifier), status: 'InProgress' };
    }
    const status = jobStatuses[Math.min(call++, jobStatuses.length - 1)];
    return { jobArn: ACCOUNT.jobArn, status, ...(status === 'Failed' ? { failureMessage: 'Training data is malformed' } : {}) };
  });
  bedrock.on(StopModelCustomizationJobCommand).resolves({});
}

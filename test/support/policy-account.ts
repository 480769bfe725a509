/**
 * An account's policy documents held in memory behind aws-sdk-client-mock: the endpoint policy, the
 * Bedrock role's inline policy and bucket policies are read and written as the services would
 * (IAM answers URL-encoded; a missing policy is the service's 404). For apply-policies tests.
 */
import { DescribeVpcEndpointsCommand, EC2Client, ModifyVpcEndpointCommand } from '@aws-sdk/client-ec2';
import { DeleteRolePolicyCommand, GetRolePolicyCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { DeleteBucketPolicyCommand, GetBucketPolicyCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { dynamoLeases, type Leases } from '../../functions/apply-policies/leases.js';
import { emulateTables } from './mock-leases.js';

export const ENDPOINT = 'vpce-0123456789abcdef0';

/** `null`: no policy. */
export interface PolicyAccountState {
  role: string | null;
  endpoint: string;
  buckets: Record<string, string | null>;
}

export const awsError = (name: string, status: number) =>
  Object.assign(new Error(`${name} from the service`), { name, $metadata: { httpStatusCode: status } });

export const policyMocks = {
  ec2Mock: mockClient(EC2Client),
  iamMock: mockClient(IAMClient),
  s3Mock: mockClient(S3Client),
  dynamodbMock: mockClient(DynamoDBClient),
};

/** The chain owner the tests apply for. */
export const OWNER = 'arn:aws:states:us-east-1:123456789012:execution:bedrock-vpc-customization-dev-customize-model:run-1';

/** The leases (leases.ts over the emulated table of test/support/mock-leases.ts) for `owner`. */
export function leaseContext(owner = OWNER): { owner: string; leases: Leases } {
  return { owner, leases: dynamoLeases(new DynamoDBClient({ region: 'us-east-1' }), 'policy-leases') };
}

/**
 * Wires the mocks to `state()`. With `deletedEndpoint`, an unfiltered DescribeVpcEndpoints also
 * lists a deleted endpoint (which the code must ignore).
 */
export function emulatePolicyAccount(state: () => PolicyAccountState, options: { deletedEndpoint?: boolean } = {}) {
  const { ec2Mock, iamMock, s3Mock, dynamodbMock } = policyMocks;
  emulateTables(dynamodbMock);
  ec2Mock.on(DescribeVpcEndpointsCommand).callsFake((input: { VpcEndpointIds?: string[] }) => ({
    VpcEndpoints: [
      ...(options.deletedEndpoint && !input.VpcEndpointIds
        ? [{ VpcEndpointId: 'vpce-0000000000000dead', State: 'deleted', PolicyDocument: '{}' }]
        : []),
      { VpcEndpointId: ENDPOINT, State: 'available', PolicyDocument: state().endpoint },
    ],
  }));
  ec2Mock.on(ModifyVpcEndpointCommand).callsFake((input: { PolicyDocument: string }) => {
    state().endpoint = input.PolicyDocument;
    return { Return: true };
  });
  iamMock.on(GetRolePolicyCommand).callsFake(() => {
    const role = state().role;
    if (role === null) throw awsError('NoSuchEntityException', 404);
    return { PolicyDocument: encodeURIComponent(role) };
  });
  iamMock.on(PutRolePolicyCommand).callsFake((input: { PolicyDocument: string }) => {
    state().role = input.PolicyDocument;
    return {};
  });
  iamMock.on(DeleteRolePolicyCommand).callsFake(() => {
    state().role = null;
    return {};
  });
  s3Mock.on(GetBucketPolicyCommand).callsFake((input: { Bucket: string }) => {
    const policy = state().buckets[input.Bucket] ?? null;
    if (policy === null) throw awsError('NoSuchBucketPolicy', 404);
    return { Policy: policy };
  });
  s3Mock.on(PutBucketPolicyCommand).callsFake((input: { Bucket: string; Policy: string }) => {
    state().buckets[input.Bucket] = input.Policy;
    return {};
  });
  s3Mock.on(DeleteBucketPolicyCommand).callsFake((input: { Bucket: string }) => {
    state().buckets[input.Bucket] = null;
    return {};
  });
}

/** Write calls made to the mocks so far. */
export function policyWriteCount(): number {
  const { ec2Mock, iamMock, s3Mock } = policyMocks;
  return (
    ec2Mock.commandCalls(ModifyVpcEndpointCommand).length +
    iamMock.commandCalls(PutRolePolicyCommand).length +
    iamMock.commandCalls(DeleteRolePolicyCommand).length +
    s3Mock.commandCalls(PutBucketPolicyCommand).length +
    s3Mock.commandCalls(DeleteBucketPolicyCommand).length
  );
}

export function resetPolicyMocks() {
  for (const m of Object.values(policyMocks)) m.reset();
}

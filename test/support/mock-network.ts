/**
 * aws-sdk-client-mock answers for a network that passes every preflight check (validate-network):
 * the job's subnets in three zones on one route table served by an available S3 gateway endpoint,
 * DNS on, a group whose members talk to each other, buckets in us-east-1 with the dataset, and the
 * Bedrock role trusting bedrock.amazonaws.com. Each test may override any command afterwards.
 */
import {
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcEndpointsCommand,
  type EC2Client,
  type State,
  type Subnet,
} from '@aws-sdk/client-ec2';
import { CopyObjectCommand, GetBucketLocationCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { DEMO_DATASET } from '../../local/seed.js';
import {
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import type { AwsClientStub } from 'aws-sdk-client-mock';

export interface MockNetwork {
  region: string;
  vpcId: string;
  subnetIds: string[];
  securityGroupIds: string[];
  routeTableId: string;
  endpointId: string;
  roleName: string;
}

export const NETWORK: MockNetwork = {
  region: 'us-east-1',
  vpcId: 'vpc-0123456789abcdef0',
  subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
  securityGroupIds: ['sg-0123456789abcdef0'],
  routeTableId: 'rtb-0123456789abcdef0',
  endpointId: 'vpce-0123456789abcdef0',
  roleName: 'BedrockCustomizationRole',
};

export const TRUST_BEDROCK = encodeURIComponent(
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'bedrock.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  }),
);

/** The subnets of the mock network (one per zone, a /24 each, 250 free addresses). */
export function mockSubnets(network: MockNetwork = NETWORK): Subnet[] {
  return network.subnetIds.map((SubnetId, i) => ({
    SubnetId,
    VpcId: network.vpcId,
    AvailabilityZone: `${network.region}${'abcdefghijklmnop'[i % 16]}`,
    CidrBlock: `10.0.${i}.0/24`,
    AvailableIpAddressCount: 250,
  }));
}

/** Installs the healthy answers on the given stubs. */
export function mockHealthyNetwork(
  mocks: { ec2: AwsClientStub<EC2Client>; s3: AwsClientStub<S3Client>; iam: AwsClientStub<IAMClient> },
  network: MockNetwork = NETWORK,
): void {
  const subnets = mockSubnets(network);
  mocks.ec2.on(DescribeSubnetsCommand).resolves({ Subnets: subnets });
  mocks.ec2.on(DescribeSecurityGroupsCommand).resolves({
    SecurityGroups: network.securityGroupIds.map((GroupId) => ({
      GroupId,
      VpcId: network.vpcId,
      IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId }] }],
      IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    })),
  });
  mocks.ec2.on(DescribeVpcAttributeCommand, { Attribute: 'enableDnsSupport' }).resolves({ EnableDnsSupport: { Value: true } });
  mocks.ec2.on(DescribeVpcAttributeCommand, { Attribute: 'enableDnsHostnames' }).resolves({ EnableDnsHostnames: { Value: true } });
  mocks.ec2.on(DescribeRouteTablesCommand).resolves({
    RouteTables: [
      {
        RouteTableId: network.routeTableId,
        VpcId: network.vpcId,
        Associations: [{ Main: true, RouteTableId: network.routeTableId }],
        Routes: [
          { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' },
          { DestinationPrefixListId: 'pl-63a5400a', GatewayId: network.endpointId, State: 'active' },
        ],
      },
    ],
  });
  mocks.ec2.on(DescribeVpcEndpointsCommand).resolves({
    VpcEndpoints: [
      {
        VpcEndpointId: network.endpointId,
        VpcEndpointType: 'Gateway',
        VpcId: network.vpcId,
        ServiceName: `com.amazonaws.${network.region}.s3`,
        // EC2 answers in lower case; the SDK's enum spells it 'Available'.
        State: 'available' as string as State,
        RouteTableIds: [network.routeTableId],
        PolicyDocument: JSON.stringify({
          Version: '2008-10-17',
          Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
        }),
      },
    ],
  });
  mocks.s3.on(GetBucketLocationCommand).resolves({});
  // The preflight's existence check of the training dataset: the listing under its key starts with it.
  mocks.s3.on(ListObjectsV2Command).callsFake((input: { Prefix?: string }) => ({ Contents: [{ Key: input.Prefix }], KeyCount: 1 }));
  // S3 answers a read with the object's ETag (the dataset step records it; submit-job's snapshot copies that version).
  const ETag = '"0123456789abcdef0123456789abcdef"';
  mocks.s3.on(HeadObjectCommand).resolves({ ContentLength: 100, ETag });
  // The dataset step's read: a valid prompt/completion dataset (a fresh stream per call, as S3 sends).
  mocks.s3.on(GetObjectCommand).callsFake(() => {
    const bytes = Buffer.from(DEMO_DATASET);
    return { ContentLength: bytes.length, ETag, Body: Readable.from([bytes]) as never };
  });
  // submit-job's snapshot of the checked objects (CopyObject, conditional on that ETag).
  mocks.s3.on(CopyObjectCommand).resolves({ CopyObjectResult: { ETag } });
  mocks.iam.on(GetRoleCommand).resolves({
    Role: {
      RoleName: network.roleName,
      Arn: `arn:aws:iam::123456789012:role/${network.roleName}`,
      Path: '/',
      RoleId: 'AROAEXAMPLE',
      CreateDate: new Date(0),
      AssumeRolePolicyDocument: TRUST_BEDROCK,
    },
  });
  mocks.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [], IsTruncated: false });
  mocks.iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [], IsTruncated: false });
}

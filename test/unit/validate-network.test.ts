import {
  DescribePrefixListsCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
  type IpPermission,
  type RouteTable,
  type SecurityGroup,
  type State,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { GetBucketLocationCommand, HeadObjectCommand, ListObjectsV2Command, NoSuchBucket, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  IAMServiceException,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildReport, validateNetwork, type PreflightReport } from '../../functions/validate-network/validate-network.js';
import type { PreflightOptions } from '../../functions/validate-network/checks.js';
import { cidrCovers, effectiveRouteTable } from '../../functions/validate-network/checks.js';
import { evaluateCondition, evaluatePolicies, globMatch } from '../../functions/shared/policies/eval.js';
import { NetworkValidationError } from '../../functions/shared/errors.js';
import { resolvedJob } from '../fixtures/job.js';
import { mockHealthyNetwork, mockSubnets, NETWORK, type MockNetwork } from '../support/mock-network.js';

const ec2 = new EC2Client({ region: 'us-east-1' });
const s3 = new S3Client({ region: 'us-east-1' });
const iam = new IAMClient({ region: 'us-east-1' });
const mocks = { ec2: mockClient(ec2), s3: mockClient(s3), iam: mockClient(iam) };
// A fine-tuning job calls neither Lambda nor Bedrock (validate-network-customization.test.ts covers them).
const deps = { ec2, s3, iam, lambda: new LambdaClient({ region: 'us-east-1' }), bedrock: new BedrockClient({ region: 'us-east-1' }) };
const { vpcId, routeTableId, endpointId } = NETWORK;
const [subnetA, subnetB] = NETWORK.subnetIds as [string, string];
const sg = NETWORK.securityGroupIds[0]!;
const roleArn = 'arn:aws:iam::123456789012:role/BedrockCustomizationRole';
const awsError = <E extends new (o: never) => Error>(Cls: E, name: string, status = 400) =>
  new (Cls as unknown as new (o: object) => Error)({ name, message: name, $fault: 'client', $metadata: { httpStatusCode: status } });

beforeEach(() => mockHealthyNetwork(mocks));
afterEach(() => {
  for (const m of Object.values(mocks)) m.reset();
});

async function report(overrides: Record<string, unknown> = {}, options?: PreflightOptions): Promise<PreflightReport> {
  return buildReport(resolvedJob(overrides), deps, options);
}
/** AWS calls the preflight sent, per service, as the mocks received them (since the last history reset). */
function sent(): { ec2: number; s3: number; iam: number; total: number } {
  const [e, s, i] = [mocks.ec2.calls().length, mocks.s3.calls().length, mocks.iam.calls().length];
  return { ec2: e, s3: s, iam: i, total: e + s + i };
}
function flagged(r: PreflightReport): string[] {
  return r.checks.filter((c) => !c.passed).map((c) => `${c.severity} ${c.id} ${c.resource}`);
}
const find = (r: PreflightReport, id: string, resource?: string) => r.checks.find((c) => c.id === id && (!resource || c.resource === resource));
const withSubnets = (subnetIds: string[], extra: Record<string, unknown> = {}) => ({
  vpcConfig: { vpcId, subnetIds, securityGroupIds: NETWORK.securityGroupIds, ...extra },
});
const routeTables = (tables: RouteTable[]) => mocks.ec2.on(DescribeRouteTablesCommand).resolves({ RouteTables: tables });
const endpoints = (list: VpcEndpoint[]) => mocks.ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: list });
const groups = (list: SecurityGroup[]) => mocks.ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: list });
const gateway = (patch: Partial<VpcEndpoint> = {}): VpcEndpoint => ({
  VpcEndpointId: endpointId,
  VpcEndpointType: 'Gateway',
  VpcId: vpcId,
  ServiceName: 'com.amazonaws.us-east-1.s3',
  State: 'available' as string as State,
  RouteTableIds: [routeTableId],
  ...patch,
});
const group = (id: string, ingress: IpPermission[], egress: IpPermission[]): SecurityGroup => ({
  GroupId: id,
  VpcId: vpcId,
  IpPermissions: ingress,
  IpPermissionsEgress: egress,
});
const self = (id: string): IpPermission => ({ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: id }] });
const PL = 'pl-63a5400a';
const endpointPolicy = (statements: unknown[]) => endpoints([gateway({ PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }) })]);
const role = (trust: unknown) =>
  mocks.iam.on(GetRoleCommand).resolves({
    Role: { RoleName: 'BedrockCustomizationRole', Arn: roleArn, Path: '/', RoleId: 'R', CreateDate: new Date(0), AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(trust)) },
  });

describe('validate-network: healthy network and call count', () => {
  it('passes every check and makes 12 calls (6 EC2, 3 S3, 3 IAM)', async () => {
    const r = await report();
    expect(flagged(r)).toEqual([]);
    expect(r).toMatchObject({ ok: true, vpcId, region: 'us-east-1', counts: { fail: 0, warn: 0, info: 0 } });
    expect(sent()).toEqual({ ec2: 6, s3: 3, iam: 3, total: 12 });
  });

  it('makes the same number of calls for 1 and 16 subnets', async () => {
    const many: MockNetwork = { ...NETWORK, subnetIds: Array.from({ length: 16 }, (_, i) => `subnet-0123456789abcde${i.toString(16).padStart(2, '0')}`) };
    mockHealthyNetwork(mocks, many);
    const sixteen = await report(withSubnets(many.subnetIds));
    const callsForSixteen = sent().total;
    for (const m of Object.values(mocks)) m.resetHistory();
    mockHealthyNetwork(mocks, { ...NETWORK, subnetIds: [subnetA] });
    await report(withSubnets([subnetA]));
    expect(sixteen.checks.filter((c) => c.id === 'subnet.exists')).toHaveLength(16);
    expect(callsForSixteen).toBe(sent().total);
    expect(callsForSixteen).toBe(12);
  });

  it('follows NextToken of every Describe call', async () => {
    const [a, b] = mockSubnets();
    mocks.ec2
      .on(DescribeSubnetsCommand, { NextToken: undefined }).resolves({ Subnets: [a!], NextToken: 't1' })
      .on(DescribeSubnetsCommand, { NextToken: 't1' }).resolves({ Subnets: [b!] })
      .on(DescribeSecurityGroupsCommand, { NextToken: undefined }).resolves({ SecurityGroups: [], NextToken: 'g1' })
      .on(DescribeSecurityGroupsCommand, { NextToken: 'g1' }).resolves({ SecurityGroups: [group(sg, [self(sg)], [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }])] })
      .on(DescribeRouteTablesCommand, { NextToken: undefined }).resolves({ RouteTables: [], NextToken: 'r1' })
      .on(DescribeRouteTablesCommand, { NextToken: 'r1' }).resolves({ RouteTables: [{ RouteTableId: routeTableId, Associations: [{ Main: true }] }] })
      .on(DescribeVpcEndpointsCommand, { NextToken: undefined }).resolves({ VpcEndpoints: [], NextToken: 'e1' })
      .on(DescribeVpcEndpointsCommand, { NextToken: 'e1' }).resolves({ VpcEndpoints: [gateway()] });
    const r = await report();
    expect(flagged(r)).toEqual([]);
    expect(sent().ec2).toBe(10);
  });

  it('throws NetworkValidationError listing each failure with id, resource and fix', async () => {
    mocks.ec2.on(DescribeVpcAttributeCommand, { Attribute: 'enableDnsSupport' }).resolves({ EnableDnsSupport: { Value: false } });
    endpoints([]);
    const err = await validateNetwork(resolvedJob(), deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkValidationError);
    expect((err as Error).name).toBe('NetworkValidationError');
    expect((err as Error).message).toMatch(/^Network preflight failed \(2 failing checks\): \[vpc\.dns-support\] vpc-0123456789abcdef0: .* Fix: .* \| \[s3-endpoint\.exists\] vpc-0123456789abcdef0: /);
    expect(((err as NetworkValidationError).report as PreflightReport).counts.fail).toBe(2);
  });

  it('returns the report when only warnings are found', async () => {
    mocks.ec2.on(DescribeVpcAttributeCommand, { Attribute: 'enableDnsHostnames' }).resolves({ EnableDnsHostnames: { Value: false } });
    const r = await validateNetwork(resolvedJob(), deps);
    expect(r.ok).toBe(true);
    expect(flagged(r)).toEqual([`warn vpc.dns-hostnames ${vpcId}`]);
  });

  it('rethrows an unexpected EC2 error (the state machine reports it)', async () => {
    mocks.ec2.on(DescribeVpcAttributeCommand).rejects(awsError(EC2ServiceException, 'UnauthorizedOperation', 403));
    await expect(report()).rejects.toThrow('UnauthorizedOperation');
  });
});

describe('validate-network: VPC, subnets, groups', () => {
  it('names unknown subnets and groups', async () => {
    mocks.ec2
      .on(DescribeSubnetsCommand, { Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }).resolves({ Subnets: mockSubnets().slice(0, 1) })
      .on(DescribeSubnetsCommand, { Filters: [{ Name: 'subnet-id', Values: [subnetB] }] }).resolves({ Subnets: [] });
    groups([]);
    const r = await report();
    // (The one subnet found covers one zone: a warning of its own.)
    expect(flagged(r)).toEqual([`fail subnet.exists ${subnetB}`, `fail security-group.exists ${sg}`, `warn subnet.az-count ${subnetA}`]);
    expect(find(r, 'subnet.exists', subnetB)?.message).toContain('another region');
  });

  it('fails a VPC that does not exist and skips the checks that need it', async () => {
    mocks.ec2.on(DescribeVpcAttributeCommand).rejects(awsError(EC2ServiceException, 'InvalidVpcID.NotFound'));
    mocks.ec2.on(DescribeSubnetsCommand, { Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }).resolves({ Subnets: [] });
    const r = await report();
    expect(flagged(r)).toEqual(expect.arrayContaining([`fail vpc.exists ${vpcId}`]));
    expect(find(r, 's3-endpoint.exists')).toBeUndefined();
  });

  it('names a subnet and a group of another VPC (given VPC)', async () => {
    const other = 'vpc-0fedcba9876543210';
    mocks.ec2
      .on(DescribeSubnetsCommand, { Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }).resolves({ Subnets: mockSubnets().slice(0, 1) })
      .on(DescribeSubnetsCommand, { Filters: [{ Name: 'subnet-id', Values: [subnetB] }] }).resolves({ Subnets: [{ ...mockSubnets()[1]!, VpcId: other }] });
    groups([{ ...group(sg, [self(sg)], [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }]), VpcId: other }]);
    const r = await report();
    expect(flagged(r)).toEqual(expect.arrayContaining([`fail subnet.in-vpc ${subnetB}`, `fail security-group.in-vpc ${sg}`]));
    expect(find(r, 'subnet.in-vpc', subnetB)?.message).toBe(`subnet is in ${other}, not in ${vpcId}`);
  });
});

describe('validate-network: DNS attributes', () => {
  it('fails enableDnsSupport off, warns enableDnsHostnames off', async () => {
    mocks.ec2
      .on(DescribeVpcAttributeCommand, { Attribute: 'enableDnsSupport' }).resolves({ EnableDnsSupport: { Value: false } })
      .on(DescribeVpcAttributeCommand, { Attribute: 'enableDnsHostnames' }).resolves({ EnableDnsHostnames: { Value: false } });
    const r = await report();
    expect(flagged(r)).toEqual([`fail vpc.dns-support ${vpcId}`, `warn vpc.dns-hostnames ${vpcId}`]);
    expect(find(r, 'vpc.dns-support')?.remedy).toContain('--enable-dns-support');
  });
});

describe('validate-network: S3 gateway endpoint and routes', () => {
  it('fails an absent endpoint, and an interface-only one', async () => {
    endpoints([]);
    expect(flagged(await report())).toEqual([`fail s3-endpoint.exists ${vpcId}`]);
    endpoints([gateway({ VpcEndpointType: 'Interface', VpcEndpointId: 'vpce-0interface0000000' })]);
    const r = await report();
    expect(flagged(r)).toEqual([`fail s3-endpoint.exists ${vpcId}`]);
    expect(find(r, 's3-endpoint.exists')?.message).toContain('only interface endpoint(s) vpce-0interface0000000');
  });

  it('ignores a deleted endpoint and fails a pending one', async () => {
    endpoints([gateway({ State: 'deleted' as string as State })]);
    expect(flagged(await report())).toEqual([`fail s3-endpoint.exists ${vpcId}`]);
    endpoints([gateway({ State: 'pending' as string as State })]);
    const r = await report();
    expect(flagged(r)).toEqual([`fail s3-endpoint.available ${endpointId}`]);
    expect(find(r, 's3-endpoint.available')?.message).toContain('pending');
  });

  it('uses the explicit association before the main table, and names each subnet not served', async () => {
    routeTables([
      { RouteTableId: routeTableId, Associations: [{ Main: true }], Routes: [] },
      { RouteTableId: 'rtb-0private000000000', Associations: [{ SubnetId: subnetB }], Routes: [] },
    ]);
    const r = await report();
    expect(flagged(r)).toEqual([`fail s3-endpoint.route ${subnetB}`]);
    expect(find(r, 's3-endpoint.route', subnetB)?.message).toContain('rtb-0private000000000 (explicitly associated)');
    expect(find(r, 's3-endpoint.route', subnetA)?.message).toContain(routeTableId);
  });

  it('names the main table when a subnet falls back to it and it is not served', async () => {
    routeTables([
      { RouteTableId: 'rtb-0main00000000000', Associations: [{ Main: true }], Routes: [] },
      { RouteTableId: routeTableId, Associations: [{ SubnetId: subnetA }], Routes: [] },
    ]);
    const r = await report();
    expect(flagged(r)).toEqual([`fail s3-endpoint.route ${subnetB}`]);
    expect(find(r, 's3-endpoint.route', subnetB)?.message).toContain('rtb-0main00000000000 (the main table)');
    expect(effectiveRouteTable('subnet-0nothing000000000', [])).toBeUndefined();
  });

  it('accepts a table attached by its endpoint route alone (several route tables)', async () => {
    endpoints([gateway({ RouteTableIds: [] })]);
    routeTables([
      { RouteTableId: 'rtb-0a', Associations: [{ SubnetId: subnetA }], Routes: [{ DestinationPrefixListId: PL, GatewayId: endpointId }] },
      { RouteTableId: 'rtb-0b', Associations: [{ SubnetId: subnetB }], Routes: [{ DestinationPrefixListId: PL, GatewayId: endpointId }] },
      { RouteTableId: routeTableId, Associations: [{ Main: true }], Routes: [] },
    ]);
    expect(flagged(await report())).toEqual([]);
  });

  it('reports a subnet without any route table', async () => {
    routeTables([]);
    const r = await report();
    expect(find(r, 's3-endpoint.route', subnetA)?.message).toBe('the subnet has no route table');
  });
});

describe('validate-network: Availability Zones and free addresses', () => {
  it('warns when the subnets cover one zone, and names the zones left out', async () => {
    const subnets = mockSubnets().map((s) => ({ ...s, AvailabilityZone: 'us-east-1a' }));
    mocks.ec2
      .on(DescribeSubnetsCommand)
      .resolves({ Subnets: [...subnets, { SubnetId: 'subnet-0public00000000', VpcId: vpcId, AvailabilityZone: 'us-east-1c' }] });
    const r = await report();
    expect(flagged(r)).toEqual([`warn subnet.az-count ${subnetA}, ${subnetB}`, 'warn subnet.az-missed us-east-1c']);
    expect(find(r, 'subnet.az-missed')?.message).toContain('us-east-1c (subnet-0public00000000)');
    expect(r.ok).toBe(true);
  });

  it('warns per subnet under the free-address threshold and fails when none has room', async () => {
    const [a, b] = mockSubnets();
    mocks.ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [{ ...a!, AvailableIpAddressCount: 3 }, b!] });
    expect(flagged(await report())).toEqual([`warn subnet.free-ips ${subnetA}`]);
    mocks.ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [{ ...a!, AvailableIpAddressCount: 3 }, { ...b!, AvailableIpAddressCount: 0 }] });
    const r = await report();
    expect(flagged(r)).toEqual([`warn subnet.free-ips ${subnetA}`, `warn subnet.free-ips ${subnetB}`, `fail subnet.capacity ${subnetA}, ${subnetB}`]);
    // The threshold is a parameter.
    mocks.ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [a!, b!] });
    expect(flagged(await report({}, { minFreeIpsPerSubnet: 251 }))).toContain(`fail subnet.capacity ${subnetA}, ${subnetB}`);
  });
});

describe('validate-network: security groups', () => {
  const allowAll: IpPermission = { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] };
  const https = (dest: Partial<IpPermission>, from = 443, to = 443): IpPermission => ({ IpProtocol: 'tcp', FromPort: from, ToPort: to, ...dest });
  const prefixList = () =>
    mocks.ec2.on(DescribePrefixListsCommand).resolves({ PrefixLists: [{ PrefixListId: PL, PrefixListName: 'com.amazonaws.us-east-1.s3', Cidrs: ['52.216.0.0/15', '54.231.0.0/16'] }] });

  it('passes the default allow-all egress without looking up the prefix list', async () => {
    const r = await report();
    expect(find(r, 'security-group.s3-egress')?.passed).toBe(true);
    expect(mocks.ec2.commandCalls(DescribePrefixListsCommand)).toHaveLength(0);
  });

  it('fails restricted egress without S3, without self traffic, and missing self ingress', async () => {
    prefixList();
    groups([group(sg, [], [])]);
    const r = await report();
    expect(flagged(r)).toEqual([`fail security-group.self-ingress ${sg}`, `fail security-group.self-egress ${sg}`, `fail security-group.s3-egress ${sg}`]);
    expect(find(r, 'security-group.s3-egress')?.remedy).toContain(PL);
    expect(sent().ec2).toBe(7);
  });

  it('passes HTTPS to the prefix list (found by name or through the endpoint routes) and self egress', async () => {
    prefixList();
    groups([group(sg, [self(sg)], [https({ PrefixListIds: [{ PrefixListId: PL }] }), self(sg)])]);
    expect(flagged(await report())).toEqual([]);
    mocks.ec2.on(DescribePrefixListsCommand).resolves({ PrefixLists: [] });
    routeTables([{ RouteTableId: routeTableId, Associations: [{ Main: true }], Routes: [{ DestinationPrefixListId: PL, GatewayId: endpointId }] }]);
    expect(flagged(await report())).toEqual([]);
  });

  it('passes a port range containing 443 to CIDRs covering the prefix list; fails partial coverage and other ports', async () => {
    prefixList();
    groups([group(sg, [self(sg)], [https({ IpRanges: [{ CidrIp: '52.0.0.0/8' }, { CidrIp: '54.0.0.0/8' }] }, 0, 1024), self(sg)])]);
    expect(flagged(await report())).toEqual([]);
    groups([group(sg, [self(sg)], [https({ IpRanges: [{ CidrIp: '52.0.0.0/8' }] }), self(sg)])]);
    expect(flagged(await report())).toEqual([`fail security-group.s3-egress ${sg}`]);
    groups([group(sg, [self(sg)], [https({ IpRanges: [{ CidrIp: '0.0.0.0/0' }] }, 80, 80), self(sg)])]);
    expect(flagged(await report())).toEqual([`fail security-group.s3-egress ${sg}`]);
  });

  it('accepts self traffic by a CIDR that covers every job subnet', async () => {
    prefixList();
    const vpcCidr: IpPermission = { IpProtocol: '-1', IpRanges: [{ CidrIp: '10.0.0.0/16' }] };
    groups([group(sg, [vpcCidr], [https({ PrefixListIds: [{ PrefixListId: PL }] }), vpcCidr])]);
    expect(flagged(await report())).toEqual([]);
    const oneSubnet: IpPermission = { IpProtocol: '-1', IpRanges: [{ CidrIp: '10.0.0.0/24' }] };
    groups([group(sg, [oneSubnet], [https({ PrefixListIds: [{ PrefixListId: PL }] }), self(sg)])]);
    expect(flagged(await report())).toEqual([`fail security-group.self-ingress ${sg}`]);
  });

  it('combines the rules of several groups', async () => {
    prefixList();
    const sg2 = 'sg-0fedcba9876543210';
    groups([group(sg, [], [https({ PrefixListIds: [{ PrefixListId: PL }] })]), group(sg2, [self(sg)], [self(sg2)])]);
    const both = await report(withSubnets(NETWORK.subnetIds, { securityGroupIds: [sg, sg2] }));
    expect(flagged(both)).toEqual([]);
    expect(find(both, 'security-group.s3-egress')?.resource).toBe(`${sg}, ${sg2}`);
    // One group with allow-all egress opens the egress of the set.
    groups([group(sg, [self(sg)], []), group(sg2, [], [allowAll])]);
    expect(flagged(await report(withSubnets(NETWORK.subnetIds, { securityGroupIds: [sg, sg2] })))).toEqual([]);
  });
});

describe('validate-network: internet path', () => {
  const withRoute = (route: Record<string, unknown>) =>
    routeTables([{ RouteTableId: routeTableId, Associations: [{ Main: true }], Routes: [{ DestinationPrefixListId: PL, GatewayId: endpointId }, route] }]);

  it('warns about a default route to an internet gateway on each job subnet', async () => {
    withRoute({ DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-0123456789abcdef0', State: 'active' });
    const r = await report();
    expect(flagged(r)).toEqual([`warn route.internet ${subnetA}`, `warn route.internet ${subnetB}`]);
    expect(find(r, 'route.internet', subnetA)?.message).toContain('igw-0123456789abcdef0');
    expect(r.ok).toBe(true);
  });

  it('warns about NAT and egress-only gateways, ignores blackholes and local routes', async () => {
    withRoute({ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-0123456789abcdef0' });
    expect(find(await report(), 'route.internet', subnetA)?.message).toContain('nat-0123456789abcdef0');
    withRoute({ DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: 'eigw-0123456789abcdef0' });
    expect(find(await report(), 'route.internet', subnetA)?.message).toContain('::/0');
    withRoute({ DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-0123456789abcdef0', State: 'blackhole' });
    expect(flagged(await report())).toEqual([]);
  });
});

describe('validate-network: endpoint policy', () => {
  const trainingRead = {
    Effect: 'Allow',
    Principal: '*',
    Action: ['s3:GetObject', 's3:ListBucket'],
    Resource: ['arn:aws:s3:::training-bucket', 'arn:aws:s3:::training-bucket/*'],
  };
  const skip = { policies: { endpoint: 'skip' } };

  it("with 'skip', fails the output bucket of the guide's example policy", async () => {
    endpointPolicy([trainingRead]);
    const r = await report(skip);
    expect(flagged(r)).toEqual([`fail s3-endpoint.policy ${endpointId} → output-bucket`]);
    expect(find(r, 's3-endpoint.policy', `${endpointId} → output-bucket`)?.message).toContain('s3:PutObject on arn:aws:s3:::output-bucket/runs/');
  });

  it("with 'skip', passes the job's buckets, a matching aws:SourceVpc condition and the role as principal", async () => {
    endpointPolicy([
      trainingRead,
      {
        Effect: 'Allow',
        Principal: { AWS: roleArn },
        Action: 's3:*',
        Resource: 'arn:aws:s3:::output-bucket*',
        Condition: { StringEquals: { 'aws:SourceVpc': vpcId } },
      },
    ]);
    expect(flagged(await report(skip))).toEqual([]);
  });

  it("with 'skip', warns on a condition it cannot evaluate and fails another principal or a Deny", async () => {
    endpointPolicy([{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }]);
    expect(flagged(await report(skip))).toEqual([
      `warn s3-endpoint.policy ${endpointId} → training-bucket`,
      `warn s3-endpoint.policy ${endpointId} → output-bucket`,
    ]);
    endpointPolicy([{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:role/Other' }, Action: 's3:*', Resource: '*' }]);
    expect(flagged(await report(skip))).toHaveLength(2);
    endpointPolicy([
      { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' },
      { Effect: 'Deny', Principal: '*', NotAction: 's3:GetObject', Resource: 'arn:aws:s3:::training-bucket' },
    ]);
    const r = await report(skip);
    expect(flagged(r)).toEqual([`fail s3-endpoint.policy ${endpointId} → training-bucket`]);
    expect(find(r, 's3-endpoint.policy', `${endpointId} → training-bucket`)?.message).toContain('denies');
  });

  it("with 'append', only a Deny matters; with 'restrict', nothing does", async () => {
    endpointPolicy([trainingRead]);
    const appended = await report({ policies: { endpoint: 'append' } });
    expect(flagged(appended)).toEqual([]);
    expect(find(appended, 's3-endpoint.policy')?.severity).toBe('info');
    endpointPolicy([{ Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: '*', Condition: { StringNotEquals: { 'aws:SourceVpc': vpcId } } }]);
    expect(flagged(await report({ policies: { endpoint: 'append' } }))).toEqual([]);
    endpointPolicy([{ Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: '*' }]);
    expect(flagged(await report({ policies: { endpoint: 'append' } }))).toEqual([`fail s3-endpoint.policy ${endpointId} → output-bucket`]);
    const restricted = await report({ policies: { endpoint: 'restrict' } });
    expect(flagged(restricted)).toEqual([]);
    expect(find(restricted, 's3-endpoint.policy')).toMatchObject({ severity: 'info', resource: endpointId });
  });

  it('warns about an endpoint policy that is not JSON, passes a missing one (full access)', async () => {
    endpoints([gateway({ PolicyDocument: 'not json' })]);
    expect(flagged(await report(skip))).toEqual([`warn s3-endpoint.policy ${endpointId}`]);
    endpoints([gateway()]);
    expect(flagged(await report(skip))).toEqual([]);
  });
});

describe('validate-network: buckets and dataset', () => {
  it('fails a bucket of another region; maps EU and an empty location', async () => {
    mocks.s3.on(GetBucketLocationCommand, { Bucket: 'output-bucket' }).resolves({ LocationConstraint: 'eu-west-1' });
    const r = await report();
    expect(flagged(r)).toEqual(['fail bucket.region s3://output-bucket']);
    expect(find(r, 'bucket.region', 's3://output-bucket')?.message).toContain('bucket is in eu-west-1');
    mocks.s3.on(GetBucketLocationCommand, { Bucket: 'output-bucket' }).resolves({ LocationConstraint: 'EU' });
    expect(find(await report(), 'bucket.region', 's3://output-bucket')?.message).toContain('eu-west-1');
  });

  it('reads the region from a redirect error', async () => {
    const redirect = Object.assign(awsError(S3ServiceException, 'PermanentRedirect', 301), { $response: { headers: { 'x-amz-bucket-region': 'us-west-2' } } });
    mocks.s3.on(GetBucketLocationCommand, { Bucket: 'training-bucket' }).rejects(redirect);
    const r = await report();
    expect(flagged(r)).toEqual(['fail bucket.region s3://training-bucket']);
    expect(find(r, 'dataset.exists')).toBeUndefined();
  });

  it('fails a missing bucket and an unreadable one', async () => {
    mocks.s3.on(GetBucketLocationCommand, { Bucket: 'output-bucket' }).rejects(awsError(NoSuchBucket, 'NoSuchBucket', 404));
    mocks.s3.on(GetBucketLocationCommand, { Bucket: 'training-bucket' }).rejects(awsError(S3ServiceException, 'AccessDenied', 403));
    // Buckets are reported in name order (job.s3.buckets).
    expect(flagged(await report())).toEqual(['fail bucket.exists s3://output-bucket', 'fail bucket.exists s3://training-bucket']);
  });

  it('fails a missing dataset object (an empty listing, or one whose first key only starts with it), a prefix URI, and one it may not list', async () => {
    mocks.s3.on(ListObjectsV2Command).resolves({ KeyCount: 0 });
    expect(flagged(await report())).toEqual(['fail dataset.exists s3://training-bucket/datasets/support.jsonl']);
    mocks.s3.on(ListObjectsV2Command).resolves({ KeyCount: 1, Contents: [{ Key: 'datasets/support.jsonl.bak' }] });
    expect(flagged(await report())).toEqual(['fail dataset.exists s3://training-bucket/datasets/support.jsonl']);
    mocks.s3.on(ListObjectsV2Command).rejects(awsError(S3ServiceException, 'AccessDenied', 403));
    const denied = await report();
    expect(flagged(denied)).toEqual(['fail dataset.exists s3://training-bucket/datasets/support.jsonl']);
    expect(denied.checks.find((c) => c.id === 'dataset.exists')?.message).toMatch(/access denied/);
    for (const m of Object.values(mocks)) m.resetHistory();
    const prefix = await report({ trainingDataS3Uri: 's3://training-bucket/datasets/' });
    expect(flagged(prefix)).toEqual(['fail dataset.exists s3://training-bucket/datasets/']);
    // Two GetBucketLocation, no listing of a prefix.
    expect(sent().s3).toBe(2);
  });

  it('checks the dataset by listing its key (s3:ListBucket), never by reading the object', async () => {
    await report();
    expect(mocks.s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'training-bucket', Prefix: 'datasets/support.jsonl', MaxKeys: 1 },
    ]);
    expect(mocks.s3.commandCalls(HeadObjectCommand)).toHaveLength(0);
  });
});

describe('validate-network: Bedrock role', () => {
  const bedrockTrust = (extra: Record<string, unknown> = {}) => ({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'bedrock.amazonaws.com' }, Action: 'sts:AssumeRole', ...extra }],
  });
  const roleSkip = { policies: { role: 'skip' } };
  const inline = (doc: unknown) => {
    mocks.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['p1'], IsTruncated: false });
    mocks.iam.on(GetRolePolicyCommand).resolves({ RoleName: 'r', PolicyName: 'p1', PolicyDocument: encodeURIComponent(JSON.stringify(doc)) });
  };

  it('fails a missing role and stops there', async () => {
    mocks.iam.on(GetRoleCommand).rejects(awsError(NoSuchEntityException, 'NoSuchEntity', 404));
    mocks.iam.on(ListRolePoliciesCommand).rejects(awsError(NoSuchEntityException, 'NoSuchEntity', 404));
    const r = await report();
    expect(flagged(r)).toEqual([`fail role.exists ${roleArn}`]);
    expect(r.checks.filter((c) => c.id.startsWith('role.'))).toHaveLength(1);
  });

  it('warns when the role cannot be read', async () => {
    mocks.iam.on(GetRoleCommand).rejects(awsError(IAMServiceException, 'AccessDenied', 403));
    expect(flagged(await report())).toEqual([`warn role.exists ${roleArn}`]);
  });

  it('fails a trust policy for another service; decodes the URL-encoded document; evaluates its conditions', async () => {
    role({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
    expect(flagged(await report())).toEqual([`fail role.trust ${roleArn}`]);
    role(bedrockTrust({ Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' }, ArnLike: { 'aws:SourceArn': 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/*' } } }));
    expect(flagged(await report())).toEqual([]);
    role(bedrockTrust({ Condition: { StringEquals: { 'aws:SourceAccount': '999999999999' } } }));
    expect(flagged(await report())).toEqual([`fail role.trust ${roleArn}`]);
    role(bedrockTrust({ Condition: { StringEquals: { 'sts:ExternalId': 'x' } } }));
    expect(flagged(await report())).toEqual([`warn role.trust ${roleArn}`]);
  });

  it("with 'skip' and no policies: fails the ENI permissions, warns unverified bucket access", async () => {
    const r = await report(roleSkip);
    expect(flagged(r)).toEqual([
      `fail role.eni-permissions ${roleArn}`,
      `warn role.bucket-access ${roleArn} → s3://training-bucket`,
      `warn role.bucket-access ${roleArn} → s3://output-bucket`,
    ]);
    expect(find(r, 'role.eni-permissions')?.message).toContain('ec2:CreateNetworkInterface on arn:aws:ec2:us-east-1:123456789012:network-interface/');
  });

  it("with 'skip', reads attached managed policies (default version)", async () => {
    mocks.iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [{ PolicyArn: 'arn:aws:iam::aws:policy/Broad', PolicyName: 'Broad' }], IsTruncated: false });
    mocks.iam.on(GetPolicyCommand).resolves({ Policy: { DefaultVersionId: 'v3' } });
    mocks.iam
      .on(GetPolicyVersionCommand, { VersionId: 'v3' })
      .resolves({ PolicyVersion: { Document: encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ec2:*', 's3:*'], Resource: '*' }] })) } });
    const r = await report(roleSkip);
    expect(flagged(r)).toEqual([]);
    expect(sent().iam).toBe(5);
  });

  it("with 'skip', warns on ENI statements whose conditions it cannot evaluate", async () => {
    inline({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ec2:*', 's3:*'], Resource: '*', Condition: { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } } }] });
    expect(flagged(await report(roleSkip))).toEqual([
      `warn role.eni-permissions ${roleArn}`,
      `warn role.bucket-access ${roleArn} → s3://training-bucket`,
      `warn role.bucket-access ${roleArn} → s3://output-bucket`,
    ]);
  });

  it("with 'apply', judges the role with apply-policies' statements added, and fails an explicit Deny", async () => {
    const r = await report();
    expect(find(r, 'role.eni-permissions')).toMatchObject({ passed: true, severity: 'info' });
    inline({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 's3:PutObject', Resource: '*' }] });
    expect(flagged(await report())).toEqual([`fail role.bucket-access ${roleArn} → s3://output-bucket`]);
  });

  it('warns about both permission checks when the policies cannot be listed', async () => {
    mocks.iam.on(ListRolePoliciesCommand).rejects(awsError(IAMServiceException, 'AccessDenied', 403));
    expect(flagged(await report())).toEqual([`warn role.eni-permissions ${roleArn}`, `warn role.bucket-access ${roleArn}`]);
    mocks.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['p1'] });
    mocks.iam.on(GetRolePolicyCommand).resolves({ PolicyDocument: 'not json' });
    expect(find(await report(), 'role.eni-permissions')?.message).toContain('not valid JSON');
  });
});

describe('policy evaluation helpers', () => {
  it('matches IAM wildcards', () => {
    expect(globMatch('arn:aws:s3:::b/*', 'arn:aws:s3:::b/x/y')).toBe(true);
    expect(globMatch('s3:Get*', 'S3:GETOBJECT', true)).toBe(true);
    expect(globMatch('arn:aws:s3:::b?', 'arn:aws:s3:::bb')).toBe(true);
    expect(globMatch('arn:aws:s3:::b', 'arn:aws:s3:::b/x')).toBe(false);
  });

  it('evaluates conditions: known keys, set operators, IfExists, unknown keys and operators', () => {
    const ctx = { 'aws:TagKeys': ['A', 'B'], 'ec2:Subnet': 'arn:aws:ec2:r:1:subnet/s1', 'aws:SecureTransport': 'true' };
    expect(evaluateCondition({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['A', 'B', 'C'] } }, ctx)).toBe(true);
    expect(evaluateCondition({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['A'] } }, ctx)).toBe(false);
    expect(evaluateCondition({ 'ForAnyValue:StringLike': { 'aws:tagkeys': ['B*'] } }, ctx)).toBe(true);
    expect(evaluateCondition({ ArnNotEquals: { 'ec2:Subnet': 'arn:aws:ec2:r:1:subnet/*' } }, ctx)).toBe(false);
    expect(evaluateCondition({ Bool: { 'aws:SecureTransport': 'true' } }, ctx)).toBe(true);
    expect(evaluateCondition({ StringEqualsIfExists: { 'aws:Other': 'x' } }, ctx)).toBe('unknown');
    expect(evaluateCondition({ NumericLessThan: { 'ec2:Subnet': '3' } }, ctx)).toBe('unknown');
    expect(evaluateCondition({ StringEquals: { 'aws:TagKeys': 'A' } }, ctx)).toBe('unknown');
    expect(evaluateCondition({ StringNotEqualsIgnoreCase: { 'aws:SecureTransport': 'TRUE' } }, ctx)).toBe(false);
  });

  it('lets a Deny win and reports conditional Denies', () => {
    const doc = (s: unknown[]) => ({ Version: '2012-10-17', Statement: s as never });
    const req = { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', context: {} };
    expect(evaluatePolicies([doc([{ Effect: 'Allow', Action: '*', Resource: '*' }])], req)).toBe('allowed');
    expect(evaluatePolicies([doc([{ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: 's3:*', NotResource: 'arn:aws:s3:::other/*' }])], req)).toBe('denied');
    expect(evaluatePolicies([doc([{ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: 's3:*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '1.2.3.4/32' } } }])], req)).toBe('conditional');
    expect(evaluatePolicies([doc([{ Effect: 'Allow', NotAction: 's3:GetObject', Resource: '*' }])], req)).toBe('absent');
    expect(evaluatePolicies([doc([{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: '*', Resource: '*' }])], { ...req, principals: ['123456789012'] })).toBe('allowed');
    expect(evaluatePolicies([doc([{ Effect: 'Allow', NotPrincipal: { AWS: '123456789012' }, Action: '*', Resource: '*' }])], { ...req, principals: ['123456789012'] })).toBe('absent');
  });

  it('compares IPv4 CIDRs', () => {
    expect(cidrCovers('10.0.0.0/16', '10.0.3.0/24')).toBe(true);
    expect(cidrCovers('10.0.0.0/24', '10.0.0.0/16')).toBe(false);
    expect(cidrCovers('0.0.0.0/0', '52.216.0.0/15')).toBe(true);
    expect(cidrCovers('10.1.0.0/16', '10.0.3.0/24')).toBe(false);
    expect(cidrCovers('::/0', '10.0.0.0/8')).toBe(false);
  });
});

describe('validate-network handler', () => {
  it('takes only the ResolveInput event: the dataset check\'s `{ job }` is refused with InvalidInputError, before any AWS call', async () => {
    const { handler } = await import('../../functions/validate-network/handler.js');
    const { resolvedJob } = await import('../fixtures/job.js');
    for (const m of Object.values(mocks)) m.resetHistory();
    for (const event of [{ job: resolvedJob() }, { action: 'dataset', job: resolvedJob() }]) {
      const err = (await handler(event, {} as never).catch((e: unknown) => e)) as Error;
      expect(err.name).toBe('InvalidInputError');
    }
    expect(sent().total).toBe(0);
  });
});

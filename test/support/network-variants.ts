/**
 * Broken variants of the demo account (local/seed.ts) for the preflight's emulator tests:
 * each helper changes one thing in moto the way a person might get it wrong.
 */
import {
  AssociateRouteTableCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateNetworkInterfaceCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribePrefixListsCommand,
  DescribeRouteTablesCommand,
  RevokeSecurityGroupEgressCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';

/** A new subnet of `vpcId`; explicitly associated with `routeTableId` when given (else the main table). */
export async function addSubnet(
  ec2: EC2Client,
  vpcId: string,
  options: { cidr: string; az: string; routeTableId?: string },
): Promise<string> {
  const out = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: options.cidr, AvailabilityZone: options.az }));
  const subnetId = out.Subnet!.SubnetId!;
  if (options.routeTableId) await ec2.send(new AssociateRouteTableCommand({ RouteTableId: options.routeTableId, SubnetId: subnetId }));
  return subnetId;
}

export async function addRouteTable(ec2: EC2Client, vpcId: string): Promise<string> {
  return (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
}

export async function mainRouteTable(ec2: EC2Client, vpcId: string): Promise<string> {
  const out = await ec2.send(
    new DescribeRouteTablesCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'association.main', Values: ['true'] },
      ],
    }),
  );
  return out.RouteTables![0]!.RouteTableId!;
}

/** Another VPC with one subnet and one security group. */
export async function otherVpc(ec2: EC2Client): Promise<{ vpcId: string; subnetId: string; groupId: string }> {
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.99.0.0/16' }))).Vpc!.VpcId!;
  const subnetId = await addSubnet(ec2, vpcId, { cidr: '10.99.1.0/24', az: 'us-east-1a' });
  const groupId = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: 'other', Description: 'other' }))).GroupId!;
  return { vpcId, subnetId, groupId };
}

/** Removes the default allow-all egress rule of a group. */
export async function restrictEgress(ec2: EC2Client, groupId: string): Promise<void> {
  await ec2.send(
    new RevokeSecurityGroupEgressCommand({
      GroupId: groupId,
      IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    }),
  );
}

export async function allowEgress(ec2: EC2Client, groupId: string, permission: NonNullable<ConstructorParameters<typeof AuthorizeSecurityGroupEgressCommand>[0]['IpPermissions']>[number]) {
  await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: [permission] }));
}

/** A security group of `vpcId` with no rule at all (egress restricted, no ingress). */
export async function bareGroup(ec2: EC2Client, vpcId: string, name: string): Promise<string> {
  const groupId = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: name, Description: name }))).GroupId!;
  await restrictEgress(ec2, groupId);
  return groupId;
}

export async function allowSelfIngress(ec2: EC2Client, groupId: string): Promise<void> {
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: groupId }] }] }),
  );
}

/** A default route 0.0.0.0/0 to a new internet gateway on `routeTableId`. */
export async function routeToInternetGateway(ec2: EC2Client, routeTableId: string): Promise<string> {
  const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
  await ec2.send(new CreateRouteCommand({ RouteTableId: routeTableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
  return igw;
}

/** A default route 0.0.0.0/0 to a new NAT gateway (in `subnetId`) on `routeTableId`. */
export async function routeToNatGateway(ec2: EC2Client, routeTableId: string, subnetId: string): Promise<string> {
  const nat = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: subnetId, ConnectivityType: 'private' }))).NatGateway!.NatGatewayId!;
  await ec2.send(new CreateRouteCommand({ RouteTableId: routeTableId, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: nat }));
  return nat;
}

/** Uses up addresses of a subnet with idle network interfaces. */
export async function fillSubnet(ec2: EC2Client, subnetId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId }));
}

/** The region's S3 prefix list id as moto reports it (it differs between moto installs). */
export async function s3PrefixListId(ec2: EC2Client, region = 'us-east-1'): Promise<string> {
  const out = await ec2.send(new DescribePrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: [`com.amazonaws.${region}.s3`] }] }));
  return out.PrefixLists![0]!.PrefixListId!;
}

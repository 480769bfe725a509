/**
 * examples/reference-network.yml deployed into moto's CloudFormation, its outputs used as the stage
 * params, and the real preflight (validate-network) run against what it built: every check passes.
 *
 * Where moto 5.2.5 does not build what the template declares (read in moto/ec2/models/vpcs.py,
 * security_groups.py and moto/cloudformation/parsing.py), the test first shows the gap, then applies
 * the missing part through the EC2 API exactly as the template declares it (read from the template,
 * never a second copy), as CloudFormation does on AWS:
 * - `AWS::EC2::VPC`: moto reads CidrBlock, InstanceTenancy and Tags only; EnableDnsSupport and
 *   EnableDnsHostnames are dropped, so the VPC keeps moto's defaults for a non-default VPC (support on,
 *   hostnames off) and the preflight warns `vpc.dns-hostnames`.
 * - `AWS::EC2::SecurityGroup`: moto reads SecurityGroupIngress only; the SecurityGroupEgress property
 *   is dropped, so the group keeps the default allow-all egress rule that AWS removes. And
 *   `AWS::EC2::SecurityGroupEgress` has no moto model at all (skipped with "No Moto CloudFormation
 *   support"). The group is therefore unrestricted in moto; the test puts the template's restricted
 *   egress in place (revoke allow-all, add the template's rules) so the checks judge the real rules.
 * - `AWS::EC2::SubnetRouteTableAssociation`: moto records it in a side table
 *   (SubnetBackend.subnet_associations) that DescribeRouteTables never reads, so the subnets stay on
 *   the VPC's main route table, which has no endpoint route: the preflight fails `s3-endpoint.route`.
 * - `AWS::IAM::Role` Policies: moto stores each document as a Python object that GetRolePolicy cannot
 *   return as JSON. Not a gap left open: the template uses `AWS::IAM::Policy` resources (the same
 *   inline policies on AWS), which moto stores as JSON.
 * - A CommaDelimitedList parameter's Default is not split by moto (only values passed in are), so
 *   `!Select [0, !Ref SubnetCidrs]` would pick a character: the test passes SubnetCidrs, with the
 *   template's own default value.
 * - `Fn::GetAZs`: moto ignores its argument and lists us-east-1a…d of its default region: the stack is
 *   created in us-east-1.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  type Parameter,
} from '@aws-sdk/client-cloudformation';
import {
  AssociateRouteTableCommand,
  AuthorizeSecurityGroupEgressCommand,
  DescribeManagedPrefixListsCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  ModifyVpcAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, type Tags } from 'yaml';
import { projectRoot } from '../../local/paths.js';
import { buildReport, type PreflightReport } from '../../functions/validate-network/validate-network.js';
import { resolveJobInput } from '../../functions/shared/job-input.js';
import { DEMO_DATASET } from '../../local/seed.js';
import { TEST_STAGE_PARAMS, testStage, type StageParams } from '../fixtures/stage.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const REGION = 'us-east-1';
const TEMPLATE_PATH = join(projectRoot, 'examples', 'reference-network.yml');
const TRAINING_BUCKET = 'refnet-training';
const OUTPUT_BUCKET = 'refnet-output';
const DATASET_KEY = 'datasets/support.jsonl';

const clients = motoClients(REGION);
const { ec2, s3, iam } = clients;
const cfn = new CloudFormationClient({
  endpoint: inject('motoEndpoint'),
  region: REGION,
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});
const execution = { id: `arn:aws:states:${REGION}:123456789012:execution:customize-model:refnet`, name: 'refnet' };

/** The template as data: CloudFormation's short-form tags (`!Ref`, `!Sub`…) become their long form. */
const FUNCTIONS = ['Ref', 'Sub', 'GetAtt', 'Select', 'GetAZs', 'If', 'Equals', 'Join', 'Not', 'And', 'Or', 'Split', 'Condition'];
const longName = (f: string) => (f === 'Ref' || f === 'Condition' ? f : `Fn::${f}`);
const cfnTags: Tags = FUNCTIONS.flatMap((f) => [
  { tag: `!${f}`, resolve: (v: string) => ({ [longName(f)]: f === 'GetAtt' ? v.split('.') : v }) },
  { tag: `!${f}`, collection: 'seq' as const, resolve: (seq: { toJSON(): unknown }) => ({ [longName(f)]: seq.toJSON() }) },
]);
const templateBody = readFileSync(TEMPLATE_PATH, 'utf8');
const template = parse(templateBody, { customTags: cfnTags }) as {
  Parameters: Record<string, { Default?: string }>;
  Resources: Record<string, { Type: string; Properties: any }>;
};

type Outputs = Record<string, string>;

async function deploy(stackName: string, parameters: Record<string, string>): Promise<Outputs> {
  const Parameters: Parameter[] = Object.entries(parameters).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue }));
  await cfn.send(new CreateStackCommand({ StackName: stackName, TemplateBody: templateBody, Parameters, Capabilities: ['CAPABILITY_IAM'] }));
  for (let i = 0; i < 50; i++) {
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks![0]!;
    if (stack.StackStatus === 'CREATE_COMPLETE') {
      return Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue!]));
    }
    if (!stack.StackStatus?.endsWith('IN_PROGRESS')) throw new Error(`${stackName}: ${stack.StackStatus} ${stack.StackStatusReason ?? ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${stackName} did not reach CREATE_COMPLETE`);
}

/** The stage a deployment gets when the outputs are passed on as params (README "Reference network"). */
function stageParams(outputs: Outputs, extra: StageParams = {}): StageParams {
  return { ...TEST_STAGE_PARAMS, ...outputs, outputPrefix: 'runs/', ...extra };
}
async function preflight(params: StageParams): Promise<PreflightReport> {
  const job = resolveJobInput({ trainingDataS3Uri: `s3://${TRAINING_BUCKET}/${DATASET_KEY}` }, testStage(params), execution);
  return buildReport(job, clients);
}
/** The checks that did not pass, as `severity id resource`. */
const flagged = (r: PreflightReport) => r.checks.filter((c) => !c.passed).map((c) => `${c.severity} ${c.id} ${c.resource}`);

/** What moto drops of the template's VPC (see the file comment), applied as CloudFormation does on AWS. */
async function applyVpcDnsAsDeclared(vpcId: string): Promise<void> {
  const props = template.Resources.Vpc!.Properties;
  await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsSupport: { Value: props.EnableDnsSupport } }));
  await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: props.EnableDnsHostnames } }));
}

/** The template's subnet ↔ route table associations (those created under its conditions), made through EC2. */
async function applyRouteTableAssociationsAsDeclared(stackName: string): Promise<number> {
  const resources = (await cfn.send(new DescribeStackResourcesCommand({ StackName: stackName }))).StackResources!;
  const physical = new Map(resources.map((r) => [r.LogicalResourceId!, r.PhysicalResourceId!]));
  let made = 0;
  for (const r of Object.values(template.Resources).filter((r) => r.Type === 'AWS::EC2::SubnetRouteTableAssociation')) {
    const subnetId = physical.get(r.Properties.SubnetId.Ref);
    if (subnetId === undefined) continue; // its condition was false
    await ec2.send(new AssociateRouteTableCommand({ SubnetId: subnetId, RouteTableId: physical.get(r.Properties.RouteTableId.Ref)! }));
    made++;
  }
  return made;
}

/** The template's egress rules of the job group (inline and AWS::EC2::SecurityGroupEgress), as EC2 takes them. */
function declaredEgress(groupId: string, prefixListId: string): IpPermission[] {
  const resolve = (v: unknown) => {
    if (typeof v !== 'object' || v === null) return v;
    if ('Ref' in v && (v as { Ref: string }).Ref === 'S3PrefixListId') return prefixListId;
    const att = (v as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt'];
    if (att?.join('.') === 'JobSecurityGroup.GroupId') return groupId;
    throw new Error(`unexpected value in an egress rule: ${JSON.stringify(v)}`);
  };
  const rules = [
    ...template.Resources.JobSecurityGroup!.Properties.SecurityGroupEgress,
    ...Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::EC2::SecurityGroupEgress')
      .map((r) => {
        expect(resolve(r.Properties.GroupId)).toBe(groupId);
        return r.Properties;
      }),
  ];
  return rules.map((r) => ({
    IpProtocol: String(r.IpProtocol),
    ...(r.FromPort !== undefined ? { FromPort: r.FromPort, ToPort: r.ToPort } : {}),
    ...(r.DestinationPrefixListId ? { PrefixListIds: [{ PrefixListId: resolve(r.DestinationPrefixListId) as string, Description: r.Description }] } : {}),
    ...(r.DestinationSecurityGroupId ? { UserIdGroupPairs: [{ GroupId: resolve(r.DestinationSecurityGroupId) as string, Description: r.Description }] } : {}),
  }));
}

let prefixListId: string;
let outputs: Outputs;

describe('examples/reference-network.yml in moto', () => {
  beforeAll(async () => {
    await resetMoto();
    const lists = await ec2.send(
      new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: [`com.amazonaws.${REGION}.s3`] }] }),
    );
    prefixListId = lists.PrefixLists![0]!.PrefixListId!;
    for (const bucket of [TRAINING_BUCKET, OUTPUT_BUCKET]) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: TRAINING_BUCKET, Key: DATASET_KEY, Body: DEMO_DATASET }));
    outputs = await deploy('bedrock-network', {
      SubnetCidrs: template.Parameters.SubnetCidrs!.Default!,
      S3PrefixListId: prefixListId,
      TrainingBucketName: TRAINING_BUCKET,
      OutputBucketName: OUTPUT_BUCKET,
    });
  });

  it('outputs the stage params in their formats (comma-joined ids, no spaces)', () => {
    expect(Object.keys(outputs).sort()).toEqual(['bedrockRoleArn', 's3EndpointIds', 'securityGroupIds', 'subnetIds', 'trainingBucket', 'outputBucket', 'vpcId'].sort());
    expect(outputs.vpcId).toMatch(/^vpc-[0-9a-f]+$/);
    expect(outputs.subnetIds).toMatch(/^subnet-[0-9a-f]+(,subnet-[0-9a-f]+){2}$/);
    expect(outputs.securityGroupIds).toMatch(/^sg-[0-9a-f]+$/);
    expect(outputs.s3EndpointIds).toMatch(/^vpce-[0-9a-f]+$/);
    expect(outputs.bedrockRoleArn).toMatch(/^arn:aws:iam::123456789012:role\/.+/);
    expect(outputs).toMatchObject({ trainingBucket: TRAINING_BUCKET, outputBucket: OUTPUT_BUCKET });
    // The stage parser accepts them as they are.
    expect(testStage(stageParams(outputs)).subnetIds).toEqual(outputs.subnetIds!.split(','));
  });

  it("as moto builds it: exactly moto's gaps show (DNS hostnames, route table associations)", async () => {
    const r = await preflight(stageParams(outputs, { rolePolicy: 'skip' }));
    expect(flagged(r).sort()).toEqual(
      [`warn vpc.dns-hostnames ${outputs.vpcId}`, ...outputs.subnetIds!.split(',').map((id) => `fail s3-endpoint.route ${id}`)].sort(),
    );
  });

  it('builds private subnets in three zones on one route table with the S3 endpoint and no internet route', async () => {
    expect(await applyRouteTableAssociationsAsDeclared('bedrock-network')).toBe(3);
    const subnets = (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: outputs.subnetIds!.split(',') }))).Subnets!;
    expect(new Set(subnets.map((s) => s.AvailabilityZone)).size).toBe(3);
    expect(subnets.every((s) => s.VpcId === outputs.vpcId && s.MapPublicIpOnLaunch === false)).toBe(true);
    const tables = (
      await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'association.subnet-id', Values: outputs.subnetIds!.split(',') }] }))
    ).RouteTables!;
    expect(tables).toHaveLength(1);
    const routes = tables[0]!.Routes!;
    expect(routes.filter((r) => r.GatewayId?.startsWith('igw-') || r.NatGatewayId)).toEqual([]);
    expect(routes).toContainEqual(expect.objectContaining({ DestinationPrefixListId: prefixListId, GatewayId: outputs.s3EndpointIds }));
    const endpoint = (await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [outputs.s3EndpointIds!] }))).VpcEndpoints![0]!;
    expect(endpoint).toMatchObject({ VpcEndpointType: 'Gateway', ServiceName: `com.amazonaws.${REGION}.s3`, VpcId: outputs.vpcId });
    const group = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [outputs.securityGroupIds!] }))).SecurityGroups![0]!;
    expect(group.IpPermissions).toContainEqual(
      expect.objectContaining({ IpProtocol: '-1', UserIdGroupPairs: [expect.objectContaining({ GroupId: group.GroupId })] }),
    );
  });

  it('gives the role a trust policy limited to this account and its customization jobs', async () => {
    const role = (await iam.send(new GetRoleCommand({ RoleName: outputs.bedrockRoleArn!.split('/').pop()! }))).Role!;
    const trust = JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument!));
    expect(trust.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'bedrock.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: { 'aws:SourceAccount': '123456789012' },
          ArnLike: { 'aws:SourceArn': `arn:aws:bedrock:${REGION}:123456789012:model-customization-job/*` },
        },
      },
    ]);
  });

  describe('with what moto drops applied as the template declares it', () => {
    beforeAll(async () => {
      await applyVpcDnsAsDeclared(outputs.vpcId!);
      const groupId = outputs.securityGroupIds!;
      await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
      await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: declaredEgress(groupId, prefixListId) }));
    });

    it('leaves the job group with exactly the declared, restricted egress', async () => {
      const group = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [outputs.securityGroupIds!] }))).SecurityGroups![0]!;
      const egress = group.IpPermissionsEgress!;
      expect(egress.some((p) => p.IpRanges?.some((r) => r.CidrIp === '0.0.0.0/0'))).toBe(false);
      expect(egress).toContainEqual(expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [expect.objectContaining({ PrefixListId: prefixListId })] }));
      expect(egress).toContainEqual(expect.objectContaining({ IpProtocol: '-1', UserIdGroupPairs: [expect.objectContaining({ GroupId: group.GroupId })] }));
    });

    it("passes every preflight check on the role's own policies (rolePolicy 'skip'): no fail, no warn", async () => {
      const r = await preflight(stageParams(outputs, { rolePolicy: 'skip' }));
      expect(flagged(r)).toEqual([]);
      expect(r.counts).toMatchObject({ fail: 0, warn: 0, info: 0 });
      expect(r.ok).toBe(true);
      const passed = (id: string) => r.checks.filter((c) => c.id === id && c.passed).map((c) => c.message);
      // The restricted rules were judged, not an allow-all egress; the role's ENI check ran at severity fail.
      expect(passed('security-group.self-egress')).toEqual(['outbound traffic to the group itself is allowed']);
      expect(passed('security-group.s3-egress')).toEqual(['egress allows HTTPS (TCP 443) to S3']);
      expect(r.checks.find((c) => c.id === 'role.eni-permissions')).toMatchObject({ passed: true, severity: 'fail' });
      expect(passed('role.trust')).toEqual(['the role trusts bedrock.amazonaws.com']);
      expect(r.checks.filter((c) => c.id === 'role.bucket-access' && c.passed)).toHaveLength(2);
    });

    it("passes every check with serverless.yml's default policy settings too", async () => {
      const r = await preflight(stageParams(outputs));
      expect(flagged(r)).toEqual([]);
      expect(r.ok).toBe(true);
    });
  });

  it('with AvailabilityZoneCount 2: two subnets in two zones, and the preflight still passes', async () => {
    const two = await deploy('bedrock-network-2az', {
      AvailabilityZoneCount: '2',
      VpcCidr: '10.43.0.0/16',
      SubnetCidrs: '10.43.0.0/20,10.43.16.0/20,10.43.32.0/20',
      S3PrefixListId: prefixListId,
      TrainingBucketName: TRAINING_BUCKET,
      OutputBucketName: OUTPUT_BUCKET,
    });
    const ids = two.subnetIds!.split(',');
    expect(ids).toHaveLength(2);
    const subnets = (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: ids }))).Subnets!;
    expect(new Set(subnets.map((s) => s.AvailabilityZone)).size).toBe(2);
    await applyVpcDnsAsDeclared(two.vpcId!);
    expect(await applyRouteTableAssociationsAsDeclared('bedrock-network-2az')).toBe(2);
    // Egress is left as moto builds it (allow-all): this case is about the conditional third subnet.
    expect(flagged(await preflight(stageParams(two, { rolePolicy: 'skip' })))).toEqual([]);
  });
});

import {
  CreateVpcEndpointCommand,
  DeleteVpcEndpointsCommand,
  ModifyVpcAttributeCommand,
  ModifyVpcEndpointCommand,
} from '@aws-sdk/client-ec2';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { beforeEach, describe, expect, inject, it } from 'vitest';
import { buildReport, validateNetwork, type PreflightReport } from '../../functions/validate-network/validate-network.js';
import type { PreflightOptions } from '../../functions/validate-network/checks.js';
import { NetworkValidationError } from '../../functions/shared/errors.js';
import { resolveJobInput, type JobInput } from '../../functions/shared/job-input.js';
import { coveringParams, jobPart, testStage } from '../fixtures/stage.js';
import { buildRolePolicy } from '../../functions/shared/policies/role.js';
import { demoJobInput, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';
import {
  addRouteTable,
  addSubnet,
  allowEgress,
  allowSelfIngress,
  bareGroup,
  fillSubnet,
  mainRouteTable,
  otherVpc,
  restrictEgress,
  routeToInternetGateway,
  routeToNatGateway,
  s3PrefixListId,
} from '../support/network-variants.js';

const clients = motoClients();
const { ec2, s3, iam } = clients;
const execution = { id: 'arn:aws:states:us-east-1:123456789012:execution:customize-model:e1', name: 'e1' };

let account: DemoAccount;

function jobFor(overrides: Record<string, unknown> = {}): JobInput {
  const raw = demoJobInput(account, overrides);
  return resolveJobInput(jobPart(raw), testStage(coveringParams(raw, { s3EndpointIds: account.endpointId, ...((raw.vpcConfig as { vpcId?: string } | undefined)?.vpcId ? {} : { vpcId: account.vpcId }) })), execution);
}
function vpcConfig(patch: Record<string, unknown>): { vpcConfig: Record<string, unknown> } {
  return { vpcConfig: { vpcId: account.vpcId, subnetIds: account.subnetIds, securityGroupIds: [account.securityGroupId], ...patch } };
}
async function report(overrides: Record<string, unknown> = {}, options?: PreflightOptions): Promise<PreflightReport> {
  return buildReport(jobFor(overrides), clients, options);
}
/** The checks that did not pass, as `severity id resource`. */
function flagged(r: PreflightReport): string[] {
  return r.checks.filter((c) => !c.passed).map((c) => `${c.severity} ${c.id} ${c.resource}`);
}

describe('validate-network against moto', () => {
  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount(clients);
  });

  it('passes every check of the healthy demo VPC, in a constant number of calls', async () => {
    // Act
    const r = await report();

    // Assess
    expect(flagged(r)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.vpcId).toBe(account.vpcId);
    expect(r.counts).toMatchObject({ fail: 0, warn: 0, info: 0 });
    // Counted by the report's own middleware over the wire: 6 EC2 (filtered, paginated Describes),
    // 3 S3 (two buckets + ListObjectsV2 of the dataset's key), 3 IAM (GetRole, ListRolePolicies, ListAttachedRolePolicies).
    // A fine-tuning job names no grader or teacher: no Lambda or Bedrock call.
    expect(r.awsCallsByService).toEqual({ ec2: 6, s3: 3, iam: 3, lambda: 0, bedrock: 0 });
    expect(r.awsCalls).toBe(12);
  });

  it("takes the stage's VPC when the job names none, and fails a stage subnet of another VPC", async () => {
    const r = await report(vpcConfig({ vpcId: undefined }));
    expect(flagged(r)).toEqual([]);
    expect(r.vpcId).toBe(account.vpcId);
    const other = await otherVpc(ec2);
    const mixed = await report(vpcConfig({ vpcId: undefined, subnetIds: [account.subnetIds[0], other.subnetId] }));
    expect(flagged(mixed)).toContain(`fail subnet.in-vpc ${other.subnetId}`);
    expect(mixed.ok).toBe(false);
  });

  it('throws NetworkValidationError whose message names each failure, its resource and its fix', async () => {
    const missing = 'subnet-0123456789abcdef0';
    const err = await validateNetwork(jobFor(vpcConfig({ subnetIds: [...account.subnetIds, missing] })), clients).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkValidationError);
    const message = (err as Error).message;
    expect(message).toContain(`[subnet.exists] ${missing}: subnet not found in us-east-1`);
    expect(message).toContain('Fix: ');
    expect(((err as NetworkValidationError).report as PreflightReport).counts.fail).toBe(1);
  });

  describe('ids', () => {
    it('names an unknown subnet, security group and VPC', async () => {
      const r1 = await report(vpcConfig({ securityGroupIds: ['sg-0123456789abcdef0'], subnetIds: ['subnet-0123456789abcdef9'] }));
      expect(flagged(r1)).toEqual(
        expect.arrayContaining(['fail subnet.exists subnet-0123456789abcdef9', 'fail security-group.exists sg-0123456789abcdef0']),
      );
      const r2 = await report(vpcConfig({ vpcId: 'vpc-0123456789abcdef0' }));
      expect(flagged(r2)).toEqual(expect.arrayContaining(['fail vpc.exists vpc-0123456789abcdef0']));
      // Its subnets are then in another VPC than the one given.
      expect(flagged(r2)).toContain(`fail subnet.in-vpc ${account.subnetIds[0]}`);
    });

    it('names a subnet and a security group of another VPC', async () => {
      const other = await otherVpc(ec2);
      const r = await report(
        vpcConfig({ subnetIds: [...account.subnetIds, other.subnetId], securityGroupIds: [account.securityGroupId, other.groupId] }),
      );
      expect(flagged(r)).toEqual(
        expect.arrayContaining([`fail subnet.in-vpc ${other.subnetId}`, `fail security-group.in-vpc ${other.groupId}`]),
      );
      expect(r.checks.find((c) => c.id === 'subnet.in-vpc' && !c.passed)?.message).toContain(other.vpcId);
    });

    it('does not find subnets of another region', async () => {
      const west = motoClients('us-west-2');
      const other = await otherVpc(west.ec2);
      const r = await report(vpcConfig({ subnetIds: [other.subnetId] }));
      expect(flagged(r)).toContain(`fail subnet.exists ${other.subnetId}`);
      expect(r.checks.find((c) => c.resource === other.subnetId)?.message).toContain('another region');
    });
  });

  describe('DNS', () => {
    it('fails when enableDnsSupport is off and warns when enableDnsHostnames is off', async () => {
      await ec2.send(new ModifyVpcAttributeCommand({ VpcId: account.vpcId, EnableDnsSupport: { Value: false } }));
      await ec2.send(new ModifyVpcAttributeCommand({ VpcId: account.vpcId, EnableDnsHostnames: { Value: false } }));
      expect(flagged(await report())).toEqual([`fail vpc.dns-support ${account.vpcId}`, `warn vpc.dns-hostnames ${account.vpcId}`]);
    });
  });

  describe('S3 gateway endpoint', () => {
    it('fails when the endpoint was deleted', async () => {
      await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [account.endpointId] }));
      expect(flagged(await report())).toEqual([`fail s3-endpoint.exists ${account.vpcId}`]);
    });

    it('fails when only an interface endpoint exists', async () => {
      await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [account.endpointId] }));
      const out = await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: account.vpcId,
          VpcEndpointType: 'Interface',
          ServiceName: 'com.amazonaws.us-east-1.s3',
          SubnetIds: [account.subnetIds[0]!],
        }),
      );
      const r = await report();
      expect(flagged(r)).toEqual([`fail s3-endpoint.exists ${account.vpcId}`]);
      expect(r.checks.find((c) => c.id === 's3-endpoint.exists')?.message).toContain(out.VpcEndpoint!.VpcEndpointId!);
    });

    it('names the subnet whose explicit route table is not attached to the endpoint', async () => {
      const table = await addRouteTable(ec2, account.vpcId);
      const subnet = await addSubnet(ec2, account.vpcId, { cidr: '10.42.9.0/24', az: 'us-east-1a', routeTableId: table });
      const r = await report(vpcConfig({ subnetIds: [...account.subnetIds, subnet] }));
      expect(flagged(r)).toEqual([`fail s3-endpoint.route ${subnet}`]);
      expect(r.checks.find((c) => c.id === 's3-endpoint.route' && !c.passed)?.message).toContain(table);
    });

    it("uses the VPC's main route table for a subnet without an explicit association", async () => {
      // Prepare: a subnet on the main table, which the endpoint does not serve
      const subnet = await addSubnet(ec2, account.vpcId, { cidr: '10.42.8.0/24', az: 'us-east-1b' });
      const main = await mainRouteTable(ec2, account.vpcId);
      const job = vpcConfig({ subnetIds: [...account.subnetIds, subnet] });
      const before = await report(job);
      // Act: attach the main table to the endpoint
      await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: account.endpointId, AddRouteTableIds: [main] }));
      const after = await report(job);
      // Assess
      expect(flagged(before)).toEqual([`fail s3-endpoint.route ${subnet}`]);
      expect(before.checks.find((c) => c.resource === subnet && c.id === 's3-endpoint.route')?.message).toContain(`${main} (the main table)`);
      expect(flagged(after)).toEqual([]);
    });

    it("with policies.endpoint 'skip', fails the bucket the endpoint policy leaves out (the guide's example)", async () => {
      await ec2.send(
        new ModifyVpcEndpointCommand({
          VpcEndpointId: account.endpointId,
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'RestrictAccessToTrainingBucket',
                Effect: 'Allow',
                Principal: '*',
                Action: ['s3:GetObject', 's3:ListBucket'],
                Resource: [`arn:aws:s3:::${account.trainingBucket}`, `arn:aws:s3:::${account.trainingBucket}/*`],
              },
            ],
          }),
        }),
      );
      const skip = await report({ policies: { endpoint: 'skip' } });
      expect(flagged(skip)).toEqual([`fail s3-endpoint.policy ${account.endpointId} → ${account.outputBucket}`]);
      expect(skip.checks.find((c) => !c.passed)?.message).toContain('s3:PutObject');
      // 'restrict' replaces that policy: nothing to report.
      expect(flagged(await report({ policies: { endpoint: 'restrict' } }))).toEqual([]);
    });

    it("with policies.endpoint 'append', fails a Deny that an appended Allow cannot override", async () => {
      await ec2.send(
        new ModifyVpcEndpointCommand({
          VpcEndpointId: account.endpointId,
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' },
              { Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${account.outputBucket}/*` },
            ],
          }),
        }),
      );
      expect(flagged(await report({ policies: { endpoint: 'append' } }))).toEqual([
        `fail s3-endpoint.policy ${account.endpointId} → ${account.outputBucket}`,
      ]);
    });
  });

  describe('Availability Zones and addresses', () => {
    it('warns when the subnets cover one zone and leave out zones of the VPC', async () => {
      const r = await report(vpcConfig({ subnetIds: [account.subnetIds[0]] }));
      expect(flagged(r)).toEqual([`warn subnet.az-count ${account.subnetIds[0]}`, 'warn subnet.az-missed us-east-1b, us-east-1c']);
      expect(r.ok).toBe(true);
    });

    it('warns for a subnet short of free addresses, fails when no subnet has room', async () => {
      const small = await addSubnet(ec2, account.vpcId, { cidr: '10.42.7.0/28', az: 'us-east-1a', routeTableId: account.routeTableId });
      await fillSubnet(ec2, small, 8); // a /28 has 11 usable addresses: 3 left
      const mixed = await report(vpcConfig({ subnetIds: [...account.subnetIds, small] }));
      expect(flagged(mixed)).toEqual([`warn subnet.free-ips ${small}`]);
      expect(mixed.checks.find((c) => c.id === 'subnet.free-ips' && !c.passed)?.message).toContain('only 3 free');
      const alone = await report(vpcConfig({ subnetIds: [small] }));
      expect(flagged(alone)).toEqual(expect.arrayContaining([`warn subnet.free-ips ${small}`, `fail subnet.capacity ${small}`]));
      // The threshold is a parameter.
      expect(flagged(await report(vpcConfig({ subnetIds: [small] }), { minFreeIpsPerSubnet: 3 }))).not.toContain(`fail subnet.capacity ${small}`);
    });
  });

  describe('security groups', () => {
    it('fails restricted egress without HTTPS to S3 or to the group itself, and a group without self ingress', async () => {
      const group = await bareGroup(ec2, account.vpcId, 'bare');
      const r = await report(vpcConfig({ securityGroupIds: [group] }));
      expect(flagged(r)).toEqual([
        `fail security-group.self-ingress ${group}`,
        `fail security-group.self-egress ${group}`,
        `fail security-group.s3-egress ${group}`,
      ]);
    });

    it('passes restricted egress with HTTPS to the S3 prefix list and all traffic to the group', async () => {
      await restrictEgress(ec2, account.securityGroupId);
      await allowEgress(ec2, account.securityGroupId, {
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        PrefixListIds: [{ PrefixListId: await s3PrefixListId(ec2) }],
      });
      await allowEgress(ec2, account.securityGroupId, { IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: account.securityGroupId }] });
      const r = await report();
      expect(flagged(r)).toEqual([]);
    });

    it('passes HTTPS egress to a CIDR covering S3, fails egress on another port; peers by VPC CIDR', async () => {
      // (moto's prefix list has no CIDRs: prefix-list CIDR coverage is unit-tested.)
      await restrictEgress(ec2, account.securityGroupId);
      await allowEgress(ec2, account.securityGroupId, { IpProtocol: '-1', IpRanges: [{ CidrIp: '10.42.0.0/16' }] });
      await allowEgress(ec2, account.securityGroupId, { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0' }] });
      expect(flagged(await report())).toEqual([`fail security-group.s3-egress ${account.securityGroupId}`]);
      await allowEgress(ec2, account.securityGroupId, { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] });
      expect(flagged(await report())).toEqual([]);
    });

    it('combines the rules of several groups', async () => {
      const s3Only = await bareGroup(ec2, account.vpcId, 's3-only');
      await allowEgress(ec2, s3Only, { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: await s3PrefixListId(ec2) }] });
      const peers = await bareGroup(ec2, account.vpcId, 'peers');
      await allowSelfIngress(ec2, peers);
      await allowEgress(ec2, peers, { IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: peers }] });
      expect(flagged(await report(vpcConfig({ securityGroupIds: [s3Only] })))).toEqual(
        expect.arrayContaining([`fail security-group.self-ingress ${s3Only}`, `fail security-group.self-egress ${s3Only}`]),
      );
      expect(flagged(await report(vpcConfig({ securityGroupIds: [s3Only, peers] })))).toEqual([]);
    });
  });

  describe('internet path', () => {
    it('warns about a default route to an internet gateway, naming each subnet', async () => {
      const igw = await routeToInternetGateway(ec2, account.routeTableId);
      const r = await report();
      expect(flagged(r)).toEqual(account.subnetIds.map((s) => `warn route.internet ${s}`));
      expect(r.checks.find((c) => c.id === 'route.internet')?.message).toContain(igw);
      expect(r.ok).toBe(true);
    });

    it('warns about a default route to a NAT gateway', async () => {
      const nat = await routeToNatGateway(ec2, account.routeTableId, account.subnetIds[0]!);
      const r = await report();
      expect(flagged(r)).toEqual(account.subnetIds.map((s) => `warn route.internet ${s}`));
      expect(r.checks.find((c) => c.id === 'route.internet')?.message).toContain(nat);
    });
  });

  describe('buckets and dataset', () => {
    it('fails a missing bucket and a missing dataset object', async () => {
      await s3.send(new DeleteObjectCommand({ Bucket: account.trainingBucket, Key: 'datasets/support.jsonl' }));
      const r = await report({ outputDataS3Uri: 's3://no-such-output-bucket/runs/' });
      expect(flagged(r)).toEqual(
        expect.arrayContaining([
          'fail bucket.exists s3://no-such-output-bucket',
          `fail dataset.exists s3://${account.trainingBucket}/datasets/support.jsonl`,
        ]),
      );
    });

    it('finds the dataset by its exact key: a key that only starts with it does not count', async () => {
      await s3.send(new DeleteObjectCommand({ Bucket: account.trainingBucket, Key: 'datasets/support.jsonl' }));
      await s3.send(new PutObjectCommand({ Bucket: account.trainingBucket, Key: 'datasets/support.jsonl.bak', Body: '{}' }));
      expect(flagged(await report())).toEqual(expect.arrayContaining([`fail dataset.exists s3://${account.trainingBucket}/datasets/support.jsonl`]));
      await s3.send(new PutObjectCommand({ Bucket: account.trainingBucket, Key: 'datasets/support.jsonl', Body: '{}' }));
      expect(flagged(await report())).not.toContain(`fail dataset.exists s3://${account.trainingBucket}/datasets/support.jsonl`);
    });

    it('fails a bucket of another region', async () => {
      const west = new S3Client({ endpoint: inject('motoEndpoint'), region: 'eu-west-1', forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
      await west.send(new CreateBucketCommand({ Bucket: 'output-in-ireland', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
      const r = await report({ outputDataS3Uri: 's3://output-in-ireland/runs/' });
      expect(flagged(r)).toEqual(expect.arrayContaining(['fail bucket.region s3://output-in-ireland']));
      expect(r.checks.find((c) => c.id === 'bucket.region' && !c.passed)?.message).toContain('eu-west-1');
    });
  });

  describe('Bedrock role', () => {
    it('fails a missing role', async () => {
      await iam.send(new DeleteRoleCommand({ RoleName: 'BedrockCustomizationRole' }));
      expect(flagged(await report())).toEqual([`fail role.exists ${account.roleArn}`]);
    });

    it('fails a role that does not trust Bedrock', async () => {
      await iam.send(
        new UpdateAssumeRolePolicyCommand({
          RoleName: 'BedrockCustomizationRole',
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
          }),
        }),
      );
      expect(flagged(await report())).toEqual([`fail role.trust ${account.roleArn}`]);
    });

    it("with policies.role 'skip', fails a role without the ENI permissions and warns about unverified bucket access", async () => {
      const r = await report({ policies: { role: 'skip' } });
      expect(flagged(r)).toEqual([
        `fail role.eni-permissions ${account.roleArn}`,
        `warn role.bucket-access ${account.roleArn} → s3://${account.trainingBucket}`,
        `warn role.bucket-access ${account.roleArn} → s3://${account.outputBucket}`,
      ]);
      expect(r.checks.find((c) => c.id === 'role.eni-permissions')?.message).toContain('ec2:CreateNetworkInterface');
    });

    it("with policies.role 'skip', passes a role that already has the workflow's policy inline", async () => {
      const role = await iam.send(new CreateRoleCommand({
        RoleName: 'PreparedRole',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'bedrock.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': account.accountId } } }],
        }),
      }));
      const overrides = { roleArn: role.Role!.Arn!, policies: { role: 'skip' } };
      await iam.send(
        new PutRolePolicyCommand({ RoleName: 'PreparedRole', PolicyName: 'vpc', PolicyDocument: JSON.stringify(buildRolePolicy(jobFor(overrides), null)) }),
      );
      expect(flagged(await report(overrides))).toEqual([]);
    });

    it("with policies.role 'skip', reads an attached customer-managed policy (its default version)", async () => {
      const overrides = { policies: { role: 'skip' } };
      const policy = await iam.send(
        new CreatePolicyCommand({ PolicyName: 'BedrockVpcManaged', PolicyDocument: JSON.stringify(buildRolePolicy(jobFor(overrides), null)) }),
      );
      await iam.send(new AttachRolePolicyCommand({ RoleName: 'BedrockCustomizationRole', PolicyArn: policy.Policy!.Arn! }));
      expect(flagged(await report(overrides))).toEqual([]);
    });
  });
});

/**
 * Benchmark of the network preflight against moto: the AWS calls of one preflight, and its wall time.
 *
 * What the preflight calls (functions/validate-network/facts.ts):
 * - EC2: 6 calls whatever the number of subnets and security groups (filters, not one call per id):
 *   DescribeVpcAttribute ×2, DescribeSubnets (the VPC's), DescribeRouteTables, DescribeVpcEndpoints,
 *   DescribeSecurityGroups; one more (DescribePrefixLists) when no group allows all egress, and one
 *   more (DescribeSubnets by id) when a job subnet is outside the VPC — neither in this benchmark;
 * - S3: GetBucketLocation per distinct bucket of the job (training, validation, output) and
 *   ListObjectsV2 of the training file's key (whether it exists; no object is read);
 * - IAM: GetRole, ListRolePolicies, ListAttachedRolePolicies, then GetRolePolicy per inline policy
 *   and GetPolicy + GetPolicyVersion per attached managed policy.
 * So calls = 10 + buckets + inline + 2 × managed: 12 for the demo job (2 buckets) and a role without
 * policies. The figures measure subnets (1/4/16), security groups (1/5) and buckets (2/3), and the
 * role's policies (inline/managed: 0/0, 1/0, 0/1, 1/2, 3/4), each against that formula as its target.
 * Seeds the demo account plus 13 more subnets (16 in all, over six zones) on the endpoint's route
 * table, 4 more security groups, a third bucket and one role per policy mix. Resets moto first: run
 * it alone.
 */
import { AssociateRouteTableCommand, CreateSecurityGroupCommand, CreateSubnetCommand } from '@aws-sdk/client-ec2';
import { AttachRolePolicyCommand, CreatePolicyCommand, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { resolveJobInput } from '../../functions/shared/job-input.js';
import { stageFromParams } from '../../functions/shared/stage.js';
import { buildReport } from '../../functions/validate-network/validate-network.js';
import { DEMO_DATASET, demoJobInput, demoStageParams } from '../../local/seed.js';
import { seedFreshDemo } from './demo-stage.js';
import { median } from './stats.js';

export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  target?: string;
}

const REGION = 'us-east-1';
/** Calls of a preflight whatever its subnets and security groups: 6 EC2 + ListObjectsV2 + 3 IAM. */
const BASE = 10;
const expected = (buckets: number, inline: number, managed: number) => BASE + buckets + inline + 2 * managed;
const POLICY_MIXES: Array<[inline: number, managed: number]> = [
  [0, 0],
  [1, 0],
  [0, 1],
  [1, 2],
  [3, 4],
];

export async function run(ctx: { endpoint: string; quick?: boolean }): Promise<BenchFigure[]> {
  // Quick (npm test): 4 subnets at most, 2 of the policy mixes, 1 timed run instead of 5.
  const maxSubnets = ctx.quick ? 4 : 16;
  const mixes = ctx.quick ? POLICY_MIXES.filter(([i, m]) => i + m <= 1).slice(0, 2) : POLICY_MIXES;
  const timedRuns = ctx.quick ? 1 : 5;
  const { clients: seeded, account } = await seedFreshDemo(ctx.endpoint, REGION);
  // The preflight's Lambda and Bedrock clients (a fine-tuning job calls neither).
  const common = { endpoint: ctx.endpoint, region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  const clients = { ...seeded, lambda: new LambdaClient(common), bedrock: new BedrockClient(common) };
  const subnetIds = [...account.subnetIds];
  for (let i = subnetIds.length; i < maxSubnets; i++) {
    const out = await clients.ec2.send(
      new CreateSubnetCommand({ VpcId: account.vpcId, CidrBlock: `10.42.${10 + i}.0/24`, AvailabilityZone: `${REGION}${'abcdef'[i % 6]}` }),
    );
    subnetIds.push(out.Subnet!.SubnetId!);
    await clients.ec2.send(new AssociateRouteTableCommand({ RouteTableId: account.routeTableId, SubnetId: out.Subnet!.SubnetId! }));
  }
  const groupIds = [account.securityGroupId];
  for (let i = 1; i < 5; i++) {
    const out = await clients.ec2.send(new CreateSecurityGroupCommand({ VpcId: account.vpcId, GroupName: `bench-sg-${i}`, Description: 'bench' }));
    groupIds.push(out.GroupId!);
  }
  const extraBucket = 'bench-validation-bucket';
  await clients.s3.send(new CreateBucketCommand({ Bucket: extraBucket }));
  await clients.s3.send(new PutObjectCommand({ Bucket: extraBucket, Key: 'datasets/validation.jsonl', Body: DEMO_DATASET }));

  // One role per policy mix (the stage's Bedrock role is whichever the run names).
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'bedrock.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  });
  const document = (i: number) =>
    JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${account.trainingBucket}/p${i}/*` }] });
  const roleArns = new Map<string, string>();
  for (const [inline, managed] of mixes) {
    const roleName = `BenchRole-${inline}i-${managed}m`;
    const role = await clients.iam.send(new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: trust }));
    for (let i = 0; i < inline; i++) {
      await clients.iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: `inline-${i}`, PolicyDocument: document(i) }));
    }
    for (let i = 0; i < managed; i++) {
      const policy = await clients.iam.send(new CreatePolicyCommand({ PolicyName: `${roleName}-managed-${i}`, PolicyDocument: document(100 + i) }));
      await clients.iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: policy.Policy!.Arn! }));
    }
    roleArns.set(`${inline}/${managed}`, role.Role!.Arn!);
  }

  const execution = { id: `arn:aws:states:${REGION}:123456789012:execution:bench:preflight`, name: 'preflight' };
  const preflight = async (opts: { subnets?: number; groups?: number; extraBucket?: boolean; roleArn?: string } = {}) => {
    const roleArn = opts.roleArn ?? account.roleArn;
    const job = resolveJobInput(
      demoJobInput(account, {
        roleArn,
        vpcConfig: { vpcId: account.vpcId, subnetIds: subnetIds.slice(0, opts.subnets ?? maxSubnets), securityGroupIds: groupIds.slice(0, opts.groups ?? 1) },
        ...(opts.extraBucket ? { validationDataS3Uris: [`s3://${extraBucket}/datasets/validation.jsonl`] } : {}),
      }),
      stageFromParams(
        demoStageParams(account, {
          subnetIds: subnetIds.join(','),
          securityGroupIds: groupIds.join(','),
          bedrockRoleArn: roleArn,
          ...(opts.extraBucket ? { extraBuckets: extraBucket } : {}),
        }),
        { accountId: account.accountId, region: REGION },
      ),
      execution,
    );
    const started = performance.now();
    const report = await buildReport(job, clients);
    return { report, ms: performance.now() - started };
  };
  const target = (n: number, why: string) => `= ${n} (${why})`;

  await preflight({ subnets: 1 }); // warm-up: moto builds its EC2 defaults on the first call
  const figures: BenchFigure[] = [];
  for (const count of [1, 4, 16].filter((n) => n <= maxSubnets)) {
    const { report } = await preflight({ subnets: count });
    figures.push({ name: `preflight.awsCalls.${count}subnets`, value: report.awsCalls, unit: 'calls', target: target(expected(2, 0, 0), '10 + 2 buckets') });
  }
  {
    const { report } = await preflight({ subnets: maxSubnets, groups: 5 });
    figures.push({ name: 'preflight.awsCalls.5securityGroups', value: report.awsCalls, unit: 'calls', target: target(expected(2, 0, 0), '10 + 2 buckets') });
  }
  {
    const { report } = await preflight({ extraBucket: true });
    figures.push({ name: 'preflight.awsCalls.3buckets', value: report.awsCalls, unit: 'calls', target: target(expected(3, 0, 0), '10 + 3 buckets') });
  }
  for (const [inline, managed] of mixes) {
    const { report } = await preflight({ roleArn: roleArns.get(`${inline}/${managed}`)! });
    figures.push({
      name: `preflight.awsCalls.role${inline}inline${managed}managed`,
      value: report.awsCalls,
      unit: 'calls',
      target: target(expected(2, inline, managed), '12 + inline + 2 × managed'),
    });
  }
  const { report } = await preflight({ subnets: maxSubnets });
  figures.push({ name: `preflight.ec2Calls.${maxSubnets}subnets`, value: report.awsCallsByService.ec2, unit: 'calls', target: 'constant' });
  const times: number[] = [];
  for (let i = 0; i < timedRuns; i++) times.push((await preflight({ subnets: maxSubnets })).ms);
  figures.push({ name: `preflight.wallTime.${maxSubnets}subnets.median`, value: Math.round(median(times)), unit: 'ms' });
  return figures;
}

/**
 * Reads everything the preflight checks need, with a constant number of AWS calls whatever the
 * number of subnets and security groups: every EC2 Describe is one filtered (paginated) call, and
 * independent calls run concurrently. S3 and IAM calls grow only with the number of buckets and of
 * policies on the role; a distillation or RFT job adds a call or two for what it names
 * (facts-customization.ts). Nothing here decides pass or fail: see checks.ts.
 */
import {
  DescribeVpcAttributeCommand,
  paginateDescribePrefixLists,
  paginateDescribeRouteTables,
  paginateDescribeSecurityGroups,
  paginateDescribeSubnets,
  paginateDescribeVpcEndpoints,
  type EC2Client,
  type RouteTable,
  type SecurityGroup,
  type Subnet,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { GetBucketLocationCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  paginateListAttachedRolePolicies,
  paginateListRolePolicies,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { roleNameFromArn } from '../shared/arn.js';
import { awsErrorCode, httpStatus, isAwsError } from '../shared/aws-errors.js';
import { describeError } from '../shared/errors.js';
import type { JobInput } from '../shared/job-input.js';
import { parsePolicy, type PolicyDocument } from '../shared/policies/document.js';
import { s3ServiceName, type S3Location } from '../shared/s3.js';
import { collect, counted, type CallTally, type Countable } from '../shared/sdk.js';
import { gatherCustomizationFacts, type CustomizationDeps, type CustomizationFacts } from './facts-customization.js';
import { gatherEvaluationFacts, type EvaluationFacts } from './facts-evaluation.js';

export interface ValidateNetworkDeps extends CustomizationDeps {
  ec2: EC2Client;
  s3: S3Client;
  iam: IAMClient;
}

export type { CallTally };

/** What the VPC-level reads found (absent when no VPC could be resolved). */
export interface VpcFacts {
  vpcId: string;
  /** False when EC2 says the VPC does not exist (InvalidVpcID.NotFound). */
  exists: boolean;
  dnsSupport?: boolean;
  dnsHostnames?: boolean;
  /** Every subnet of the VPC (for Availability Zone coverage). */
  subnets: Subnet[];
  routeTables: RouteTable[];
  /** Endpoints of the region's S3 service in the VPC, any type and state. */
  s3Endpoints: VpcEndpoint[];
}

export interface BucketFacts {
  bucket: string;
  status: 'found' | 'missing' | 'unknown';
  /** Region of the bucket (us-east-1 when S3 reports no location constraint). */
  region?: string;
  /** Why status is unknown. */
  error?: string;
}

export interface DatasetFacts {
  uri: string;
  status: 'found' | 'missing' | 'unknown' | 'prefix';
  error?: string;
}

export interface RoleFacts {
  roleArn: string;
  roleName: string;
  status: 'found' | 'missing' | 'unknown';
  error?: string;
  trust?: PolicyDocument | null;
  /** Inline and attached managed policies; undefined when they could not be read (`policyError`). */
  policies?: Array<{ name: string; document: PolicyDocument }>;
  policyError?: string;
}

export interface PreflightFacts {
  /** The job's subnets that exist (in any VPC), as EC2 describes them. */
  jobSubnets: Subnet[];
  groups: SecurityGroup[];
  /** The job's VPC (the stage's). */
  vpcId: string;
  vpc: VpcFacts;
  /** The region's S3 prefix list (read only when a job group restricts egress); null: not found. */
  s3PrefixList?: { id: string; cidrs: string[] } | null;
  buckets: BucketFacts[];
  /** The training dataset file; absent when the job trains on invocation logs. */
  dataset?: DatasetFacts;
  role: RoleFacts;
  /** The grader, teacher and invocation-log source the job names (facts-customization.ts). */
  customization: CustomizationFacts;
  /** The held-out dataset and judge model of a job with `evaluation` (facts-evaluation.ts). */
  evaluation?: EvaluationFacts;
}

/** Reads every fact of the preflight. `calls` is incremented for each AWS call made. */
export async function gatherFacts(job: JobInput, deps: ValidateNetworkDeps, calls: CallTally): Promise<PreflightFacts> {
  const [network, buckets, dataset, role, customization, evaluation] = await Promise.all([
    gatherNetwork(job, deps.ec2, calls),
    Promise.all(job.s3.buckets.map(({ bucket }) => readBucket(bucket, deps.s3, calls))),
    job.trainingDataS3Uri !== undefined && job.s3.training ? readDataset(job.trainingDataS3Uri, job.s3.training, deps.s3, calls) : undefined,
    readRole(job.roleArn, deps.iam, calls),
    gatherCustomizationFacts(job, deps, calls),
    gatherEvaluationFacts(job, deps, calls),
  ]);
  return { ...network, buckets, ...(dataset ? { dataset } : {}), role, customization, ...(evaluation ? { evaluation } : {}) };
}

type NetworkPart = Pick<PreflightFacts, 'jobSubnets' | 'groups' | 'vpcId' | 'vpc' | 's3PrefixList'>;

async function gatherNetwork(job: JobInput, ec2: ValidateNetworkDeps['ec2'], calls: CallTally): Promise<NetworkPart> {
  const config = { client: ec2, withCommand: <C extends Countable>(c: C) => counted(calls, 'ec2', c) };
  const s3Service = s3ServiceName(job.partition, job.region);
  const { subnetIds, securityGroupIds } = job.vpcConfig;

  // Filters, not id lists: an unknown id is simply absent instead of failing the whole call.
  const describeSubnets = (name: 'subnet-id' | 'vpc-id', values: string[]) =>
    collect(paginateDescribeSubnets(config, { Filters: [{ Name: name, Values: values }] }), (p) => p.Subnets);
  const describeGroups = () =>
    collect(paginateDescribeSecurityGroups(config, { Filters: [{ Name: 'group-id', Values: securityGroupIds }] }), (p) => p.SecurityGroups);
  const readVpc = async (vpcId: string): Promise<VpcFacts> => {
    // DescribeVpcAttribute answers one attribute per call; its NotFound error also tells the VPC is missing.
    const attribute = async (Attribute: 'enableDnsSupport' | 'enableDnsHostnames') => {
      try {
        const out = await ec2.send(counted(calls, 'ec2', new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute })));
        return { found: true, value: (Attribute === 'enableDnsSupport' ? out.EnableDnsSupport : out.EnableDnsHostnames)?.Value };
      } catch (err) {
        if (isAwsError(err, 'InvalidVpcID.NotFound')) return { found: false, value: undefined };
        throw err;
      }
    };
    const inVpc = { Name: 'vpc-id', Values: [vpcId] };
    const [dnsSupport, dnsHostnames, vpcSubnets, routeTables, s3Endpoints] = await Promise.all([
      attribute('enableDnsSupport'),
      attribute('enableDnsHostnames'),
      describeSubnets('vpc-id', [vpcId]),
      collect(paginateDescribeRouteTables(config, { Filters: [inVpc] }), (p) => p.RouteTables),
      collect(
        paginateDescribeVpcEndpoints(config, { Filters: [inVpc, { Name: 'service-name', Values: [s3Service] }] }),
        (p) => p.VpcEndpoints,
      ),
    ]);
    return {
      vpcId,
      exists: dnsSupport.found && dnsHostnames.found,
      ...(dnsSupport.value !== undefined ? { dnsSupport: dnsSupport.value } : {}),
      ...(dnsHostnames.value !== undefined ? { dnsHostnames: dnsHostnames.value } : {}),
      subnets: vpcSubnets,
      routeTables,
      s3Endpoints,
    };
  };

  let jobSubnets: Subnet[];
  let groups: SecurityGroup[];
  let vpc: VpcFacts;
  // The stage's VPC (always set on a resolved job). One call lists its subnets, job subnets included;
  // only ids missing from it (a subnet of another VPC) need a second look.
  [vpc, groups] = await Promise.all([readVpc(job.vpcConfig.vpcId), describeGroups()]);
  jobSubnets = vpc.subnets.filter((s) => subnetIds.includes(s.SubnetId!));
  const elsewhere = subnetIds.filter((id) => !jobSubnets.some((s) => s.SubnetId === id));
  if (elsewhere.length > 0) jobSubnets = [...jobSubnets, ...(await describeSubnets('subnet-id', elsewhere))];
  // The job's order (EC2 returns its own), each id once.
  const inJobOrder = <T>(ids: string[], items: T[], id: (item: T) => string | undefined) =>
    ids.flatMap((want) => items.find((item) => id(item) === want) ?? []);
  jobSubnets = inJobOrder(subnetIds, jobSubnets, (s) => s.SubnetId);

  // The S3 prefix list matters only when a group restricts egress (allow-all egress covers S3).
  const restricted = groups.length > 0 && !groups.some(allowsAllEgress);
  let s3PrefixList: NetworkPart['s3PrefixList'];
  if (restricted) {
    const lists = await collect(
      paginateDescribePrefixLists(config, { Filters: [{ Name: 'prefix-list-name', Values: [s3Service] }] }),
      (p) => p.PrefixLists,
    );
    s3PrefixList = lists[0]?.PrefixListId ? { id: lists[0].PrefixListId, cidrs: lists[0].Cidrs ?? [] } : null;
  }

  return {
    jobSubnets,
    groups: inJobOrder(securityGroupIds, groups, (g) => g.GroupId),
    vpcId: vpc.vpcId,
    vpc,
    ...(s3PrefixList !== undefined ? { s3PrefixList } : {}),
  };
}

/** True when a group's egress rules allow all traffic to anywhere (the default egress rule). */
export function allowsAllEgress(group: SecurityGroup): boolean {
  return (group.IpPermissionsEgress ?? []).some(
    (p) => p.IpProtocol === '-1' && (p.IpRanges ?? []).some((r) => r.CidrIp === '0.0.0.0/0'),
  );
}

/** S3 reports us-east-1 as an empty location and eu-west-1 as the legacy `EU`. */
function regionOfLocation(location: string | undefined | null): string {
  if (!location) return 'us-east-1';
  return location === 'EU' ? 'eu-west-1' : location;
}

/** A redirect or a wrong-region signature error names the bucket's region: use it. */
function regionFromError(err: unknown): string | undefined {
  const e = err as { Region?: unknown; $response?: { headers?: Record<string, string | undefined> } };
  const header = e?.$response?.headers?.['x-amz-bucket-region'];
  if (typeof header === 'string' && header) return header;
  return typeof e?.Region === 'string' ? e.Region : undefined;
}

async function readBucket(bucket: string, s3: ValidateNetworkDeps['s3'], calls: CallTally): Promise<BucketFacts> {
  try {
    const out = await s3.send(counted(calls, 's3', new GetBucketLocationCommand({ Bucket: bucket })));
    return { bucket, status: 'found', region: regionOfLocation(out.LocationConstraint) };
  } catch (err) {
    if (isAwsError(err, 'NoSuchBucket', 'NotFound')) return { bucket, status: 'missing' };
    const region = regionFromError(err);
    if (region) return { bucket, status: 'found', region };
    if (isAwsError(err, 'AccessDenied', 'Forbidden') || httpStatus(err) === 403) {
      return { bucket, status: 'unknown', error: 'access denied (the bucket may belong to another account)' };
    }
    throw err;
  }
}

/**
 * Whether the training dataset object exists, by listing (s3:ListBucket), not reading (s3:GetObject):
 * the preflight's role reads no object. A general purpose bucket lists keys in lexicographical order
 * (S3 API Reference, ListObjectsV2, "Sorting order of returned objects"), and every key starting with
 * `key` sorts at or after `key` itself, so the first key listed under the prefix `key` is `key` when
 * the object exists.
 */
async function readDataset(uri: string, { bucket, key }: S3Location, s3: ValidateNetworkDeps['s3'], calls: CallTally): Promise<DatasetFacts> {
  if (key === '' || key.endsWith('/')) return { uri, status: 'prefix' };
  try {
    const out = await s3.send(counted(calls, 's3', new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 })));
    return { uri, status: out.Contents?.[0]?.Key === key ? 'found' : 'missing' };
  } catch (err) {
    if (isAwsError(err, 'NoSuchBucket', 'NotFound') || httpStatus(err) === 404) return { uri, status: 'missing' };
    return { uri, status: 'unknown', error: httpStatus(err) === 403 ? 'access denied' : describeError(err) };
  }
}

/** Parses a policy document, or returns undefined when it is not valid JSON. */
function safePolicy(text: string | undefined): PolicyDocument | null | undefined {
  try {
    return parsePolicy(text);
  } catch {
    return undefined;
  }
}

async function readRole(roleArn: string, iam: ValidateNetworkDeps['iam'], calls: CallTally): Promise<RoleFacts> {
  const roleName = roleNameFromArn(roleArn);
  const base = { roleArn, roleName };
  const notFound = (err: unknown) => isAwsError(err, 'NoSuchEntity', 'NoSuchEntityException');

  const [role, policies] = await Promise.all([
    iam.send(counted(calls, 'iam', new GetRoleCommand({ RoleName: roleName }))).then(
      (out) => ({ ok: true as const, trust: out.Role?.AssumeRolePolicyDocument }),
      (err: unknown) => ({ ok: false as const, err }),
    ),
    readRolePolicies(roleName, iam, calls).then(
      (list) => ({ ok: true as const, list }),
      (err: unknown) => ({ ok: false as const, err }),
    ),
  ]);
  if (!role.ok) {
    if (notFound(role.err)) return { ...base, status: 'missing' };
    if (awsErrorCode(role.err) === undefined) throw role.err;
    return { ...base, status: 'unknown', error: describeError(role.err) };
  }
  const trust = safePolicy(role.trust);
  return {
    ...base,
    status: 'found',
    ...(trust !== undefined ? { trust } : {}),
    ...(policies.ok ? { policies: policies.list } : { policyError: describeError(policies.err) }),
  };
}

/** Inline policies (ListRolePolicies + GetRolePolicy) and attached managed policies (default version). */
async function readRolePolicies(
  roleName: string,
  iam: ValidateNetworkDeps['iam'],
  calls: CallTally,
): Promise<Array<{ name: string; document: PolicyDocument }>> {
  const config = { client: iam, withCommand: <C extends Countable>(c: C) => counted(calls, 'iam', c) };
  const [inlineNames, attached] = await Promise.all([
    collect(paginateListRolePolicies(config, { RoleName: roleName }), (p) => p.PolicyNames),
    collect(paginateListAttachedRolePolicies(config, { RoleName: roleName }), (p) => p.AttachedPolicies),
  ]);
  const documents = await Promise.all([
    ...inlineNames.map(async (name) => {
      const out = await iam.send(counted(calls, 'iam', new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name })));
      return { name: `inline ${name}`, text: out.PolicyDocument };
    }),
    ...attached.map(async ({ PolicyArn, PolicyName }) => {
      const policy = await iam.send(counted(calls, 'iam', new GetPolicyCommand({ PolicyArn })));
      const version = await iam.send(
        counted(calls, 'iam', new GetPolicyVersionCommand({ PolicyArn, VersionId: policy.Policy?.DefaultVersionId })),
      );
      return { name: `managed ${PolicyName ?? PolicyArn}`, text: version.PolicyVersion?.Document };
    }),
  ]);
  return documents.flatMap(({ name, text }) => {
    const document = safePolicy(text);
    if (document === undefined) throw new Error(`policy ${name} of role ${roleName} is not valid JSON`);
    return document ? [{ name, document }] : [];
  });
}

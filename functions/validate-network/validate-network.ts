/**
 * Network preflight: everything the VPC needs for a customization job, checked before any policy
 * change or job submission (and before any money is spent). Returns a report of checks; throws
 * {@link NetworkValidationError} carrying the report when any check of severity `fail` did not pass.
 *
 * Every Describe call is batched with filters, so the number of AWS calls does not grow with the
 * number of subnets or security groups; the report counts them (`awsCalls`).
 */
import {
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  type EC2Client,
  type SecurityGroup,
  type Subnet,
} from '@aws-sdk/client-ec2';
import type { JobInput } from '../shared/job-input.js';
import { NetworkValidationError } from '../shared/errors.js';

export type Severity = 'fail' | 'warn' | 'info';

/** One check's outcome. `severity` is how bad it is when `passed` is false. */
export interface CheckResult {
  id: string;
  passed: boolean;
  severity: Severity;
  resource: string;
  message: string;
  remedy?: string;
}

export interface PreflightReport {
  ok: boolean;
  vpcId?: string;
  region: string;
  checks: CheckResult[];
  /** Number of checks that did not pass, per severity. */
  counts: Record<Severity, number> & { passed: number };
  /** AWS API calls made by the preflight (constant in the number of subnets and groups). */
  awsCalls: number;
}

export interface ValidateNetworkDeps {
  ec2: Pick<EC2Client, 'send'>;
}

/** Check ids (stable: documented in the README table, used by tests and by people). */
export const CHECK = {
  vpcExists: 'vpc.exists',
  vpcConsistent: 'vpc.consistent',
  subnetExists: 'subnet.exists',
  subnetInVpc: 'subnet.in-vpc',
  securityGroupExists: 'security-group.exists',
  securityGroupInVpc: 'security-group.in-vpc',
} as const;

/** Runs the preflight for `job`; throws {@link NetworkValidationError} when a `fail` check fails. */
export async function validateNetwork(job: JobInput, deps: ValidateNetworkDeps): Promise<PreflightReport> {
  const report = await buildReport(job, deps);
  if (!report.ok) {
    const failures = report.checks.filter((c) => !c.passed && c.severity === 'fail');
    throw new NetworkValidationError(
      `Network preflight failed (${failures.length} failing check${failures.length === 1 ? '' : 's'}): ` +
        failures.map((c) => `[${c.id}] ${c.resource}: ${c.message}${c.remedy ? ` Fix: ${c.remedy}` : ''}`).join(' | '),
      report,
    );
  }
  return report;
}

/** Collects every check's result without throwing. */
export async function buildReport(job: JobInput, { ec2 }: ValidateNetworkDeps): Promise<PreflightReport> {
  const checks: CheckResult[] = [];
  let awsCalls = 0;
  const { subnetIds, securityGroupIds } = job.vpcConfig;

  // Filters (not id lists): an unknown id is simply absent instead of failing the whole call.
  const [subnets, groups] = await Promise.all([
    describeAll<Subnet>(async (NextToken) => {
      awsCalls++;
      const out = await ec2.send(
        new DescribeSubnetsCommand({ Filters: [{ Name: 'subnet-id', Values: subnetIds }], NextToken }),
      );
      return { items: out.Subnets ?? [], next: out.NextToken };
    }),
    describeAll<SecurityGroup>(async (NextToken) => {
      awsCalls++;
      const out = await ec2.send(
        new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-id', Values: securityGroupIds }], NextToken }),
      );
      return { items: out.SecurityGroups ?? [], next: out.NextToken };
    }),
  ]);

  const subnetById = new Map(subnets.map((s) => [s.SubnetId!, s]));
  const groupById = new Map(groups.map((g) => [g.GroupId!, g]));

  for (const id of subnetIds) {
    const found = subnetById.has(id);
    checks.push({
      id: CHECK.subnetExists,
      passed: found,
      severity: 'fail',
      resource: id,
      message: found ? 'subnet exists' : `subnet not found in ${job.region}`,
      ...(found ? {} : { remedy: 'Check the subnet id and that it is in the region the workflow runs in.' }),
    });
  }
  for (const id of securityGroupIds) {
    const found = groupById.has(id);
    checks.push({
      id: CHECK.securityGroupExists,
      passed: found,
      severity: 'fail',
      resource: id,
      message: found ? 'security group exists' : `security group not found in ${job.region}`,
      ...(found ? {} : { remedy: 'Check the security group id and that it is in the region the workflow runs in.' }),
    });
  }

  // The VPC: given, or derived from the subnets (which must then agree).
  const subnetVpcs = [...new Set(subnets.map((s) => s.VpcId!))];
  let vpcId = job.vpcConfig.vpcId;
  if (!vpcId) {
    const consistent = subnetVpcs.length === 1;
    checks.push({
      id: CHECK.vpcConsistent,
      passed: consistent,
      severity: 'fail',
      resource: subnetVpcs.join(', ') || '(no subnet found)',
      message: consistent
        ? `VPC derived from the subnets: ${subnetVpcs[0]}`
        : subnetVpcs.length === 0
          ? 'no VPC can be derived: none of the subnets was found'
          : `the subnets belong to ${subnetVpcs.length} different VPCs`,
      ...(consistent ? {} : { remedy: 'Give subnets of one VPC, or set vpcConfig.vpcId.' }),
    });
    vpcId = consistent ? subnetVpcs[0] : undefined;
  }

  if (vpcId) {
    awsCalls++;
    const vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }));
    const exists = (vpcs.Vpcs ?? []).length > 0;
    checks.push({
      id: CHECK.vpcExists,
      passed: exists,
      severity: 'fail',
      resource: vpcId,
      message: exists ? 'VPC exists' : `VPC not found in ${job.region}`,
      ...(exists ? {} : { remedy: 'Check vpcConfig.vpcId and the region.' }),
    });
    for (const subnet of subnets) {
      const inVpc = subnet.VpcId === vpcId;
      checks.push({
        id: CHECK.subnetInVpc,
        passed: inVpc,
        severity: 'fail',
        resource: subnet.SubnetId!,
        message: inVpc ? `subnet is in ${vpcId}` : `subnet is in ${subnet.VpcId}, not in ${vpcId}`,
        ...(inVpc ? {} : { remedy: `Use subnets of ${vpcId} only.` }),
      });
    }
    for (const group of groups) {
      const inVpc = group.VpcId === vpcId;
      checks.push({
        id: CHECK.securityGroupInVpc,
        passed: inVpc,
        severity: 'fail',
        resource: group.GroupId!,
        message: inVpc ? `security group is in ${vpcId}` : `security group is in ${group.VpcId}, not in ${vpcId}`,
        ...(inVpc ? {} : { remedy: `Use security groups of ${vpcId} only.` }),
      });
    }
  }

  const failed = (s: Severity) => checks.filter((c) => !c.passed && c.severity === s).length;
  const counts = { fail: failed('fail'), warn: failed('warn'), info: failed('info'), passed: checks.filter((c) => c.passed).length };
  return { ok: counts.fail === 0, ...(vpcId ? { vpcId } : {}), region: job.region, checks, counts, awsCalls };
}

/** Follows NextToken until the end. */
async function describeAll<T>(page: (token?: string) => Promise<{ items: T[]; next?: string }>): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  do {
    const { items, next } = await page(token);
    all.push(...items);
    token = next;
  } while (token);
  return all;
}

/** Subnets, groups and the VPC exist, and all of them belong to one VPC. */
import type { JobInput } from '../shared/job-input.js';
import type { PreflightFacts } from './facts.js';
import { CHECK, flag, pass, type CheckResult } from './check-result.js';

export function membershipChecks(job: JobInput, facts: PreflightFacts): CheckResult[] {
  const checks: CheckResult[] = [];
  const elsewhere = `in ${job.region} (a wrong id, or one of another region or account)`;
  for (const id of job.vpcConfig.subnetIds) {
    checks.push(
      facts.jobSubnets.some((s) => s.SubnetId === id)
        ? pass(CHECK.subnetExists, 'fail', id, 'subnet exists')
        : flag(CHECK.subnetExists, 'fail', id, `subnet not found ${elsewhere}`, `Check the subnet id; the workflow runs in ${job.region}.`),
    );
  }
  for (const id of job.vpcConfig.securityGroupIds) {
    checks.push(
      facts.groups.some((g) => g.GroupId === id)
        ? pass(CHECK.securityGroupExists, 'fail', id, 'security group exists')
        : flag(
            CHECK.securityGroupExists,
            'fail',
            id,
            `security group not found ${elsewhere}`,
            `Check the security group id; the workflow runs in ${job.region}.`,
          ),
    );
  }
  if (facts.vpcDerived) {
    const vpcs = [...new Set(facts.jobSubnets.map((s) => s.VpcId!))];
    checks.push(
      vpcs.length === 1
        ? pass(CHECK.vpcConsistent, 'fail', vpcs[0]!, `VPC derived from the subnets: ${vpcs[0]}`)
        : flag(
            CHECK.vpcConsistent,
            'fail',
            vpcs.length ? facts.jobSubnets.map((s) => `${s.SubnetId} (${s.VpcId})`).join(', ') : job.vpcConfig.subnetIds.join(', '),
            vpcs.length === 0
              ? 'no VPC can be derived: none of the subnets was found'
              : `the subnets belong to ${vpcs.length} different VPCs: ${vpcs.join(', ')}`,
            'Give subnets of one VPC, or set vpcConfig.vpcId.',
          ),
    );
  }
  const vpcId = facts.vpcId;
  if (!vpcId || !facts.vpc) return checks;
  checks.push(
    facts.vpc.exists
      ? pass(CHECK.vpcExists, 'fail', vpcId, 'VPC exists')
      : flag(CHECK.vpcExists, 'fail', vpcId, `VPC not found ${elsewhere}`, 'Check vpcConfig.vpcId and the region.'),
  );
  // Only with a given VPC can a subnet be in another one (a derived VPC is checked by vpc.consistent).
  if (!facts.vpcDerived) {
    for (const subnet of facts.jobSubnets) {
      checks.push(
        subnet.VpcId === vpcId
          ? pass(CHECK.subnetInVpc, 'fail', subnet.SubnetId!, `subnet is in ${vpcId}`)
          : flag(CHECK.subnetInVpc, 'fail', subnet.SubnetId!, `subnet is in ${subnet.VpcId}, not in ${vpcId}`, `Use subnets of ${vpcId} only.`),
      );
    }
  }
  for (const group of facts.groups) {
    checks.push(
      group.VpcId === vpcId
        ? pass(CHECK.securityGroupInVpc, 'fail', group.GroupId!, `security group is in ${vpcId}`)
        : flag(
            CHECK.securityGroupInVpc,
            'fail',
            group.GroupId!,
            `security group is in ${group.VpcId}, not in ${vpcId}`,
            `Use security groups of ${vpcId} only.`,
          ),
    );
  }
  return checks;
}

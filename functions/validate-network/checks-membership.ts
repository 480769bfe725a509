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
  const { vpcId } = facts;
  checks.push(
    facts.vpc.exists
      ? pass(CHECK.vpcExists, 'fail', vpcId, 'VPC exists')
      : flag(CHECK.vpcExists, 'fail', vpcId, `VPC not found ${elsewhere}`, 'Check the stage param vpcId and the region.'),
  );
  for (const subnet of facts.jobSubnets) {
    checks.push(
      subnet.VpcId === vpcId
        ? pass(CHECK.subnetInVpc, 'fail', subnet.SubnetId!, `subnet is in ${vpcId}`)
        : flag(CHECK.subnetInVpc, 'fail', subnet.SubnetId!, `subnet is in ${subnet.VpcId}, not in ${vpcId}`, `Use subnets of ${vpcId} only (stage param subnetIds).`),
    );
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

/** The VPC's DNS attributes. */
import type { VpcFacts } from './facts.js';
import { CHECK, flag, pass, type CheckResult } from './check-result.js';

/** enableDnsSupport must be on (S3 names must resolve); enableDnsHostnames should be. */
export function vpcAttributeChecks(vpc: VpcFacts): CheckResult[] {
  return [
    vpc.dnsSupport === true
      ? pass(CHECK.dnsSupport, 'fail', vpc.vpcId, 'enableDnsSupport is on')
      : flag(
          CHECK.dnsSupport,
          'fail',
          vpc.vpcId,
          'enableDnsSupport is off: the job cannot resolve the S3 endpoint names',
          `aws ec2 modify-vpc-attribute --vpc-id ${vpc.vpcId} --enable-dns-support "{\\"Value\\":true}"`,
        ),
    vpc.dnsHostnames === true
      ? pass(CHECK.dnsHostnames, 'warn', vpc.vpcId, 'enableDnsHostnames is on')
      : flag(
          CHECK.dnsHostnames,
          'warn',
          vpc.vpcId,
          'enableDnsHostnames is off (the guide recommends the default DNS settings)',
          `aws ec2 modify-vpc-attribute --vpc-id ${vpc.vpcId} --enable-dns-hostnames "{\\"Value\\":true}"`,
        ),
  ];
}

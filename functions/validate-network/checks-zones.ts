/** Availability Zones covered and free IP addresses of each job subnet. */
import type { PreflightFacts } from './facts.js';
import { jobSubnetsInVpc } from './check-network.js';
import { CHECK, flag, pass, type CheckResult } from './check-result.js';

export function zoneChecks(facts: PreflightFacts, minFreeIps: number): CheckResult[] {
  const vpc = facts.vpc!;
  const subnets = jobSubnetsInVpc(facts);
  if (subnets.length === 0) return [];
  const checks: CheckResult[] = [];
  const jobZones = new Set(subnets.map((s) => s.AvailabilityZone!));
  const subnetList = subnets.map((s) => s.SubnetId!).join(', ');
  checks.push(
    jobZones.size >= 2
      ? pass(CHECK.azCount, 'warn', subnetList, `the subnets cover ${jobZones.size} Availability Zones`)
      : flag(
          CHECK.azCount,
          'warn',
          subnetList,
          `the subnets cover only ${[...jobZones].join(', ')}: one zone`,
          'Add a subnet in another Availability Zone (the guide recommends one subnet per zone).',
        ),
  );
  const missed = new Map<string, string[]>();
  for (const s of vpc.subnets) {
    if (!jobZones.has(s.AvailabilityZone!)) missed.set(s.AvailabilityZone!, [...(missed.get(s.AvailabilityZone!) ?? []), s.SubnetId!]);
  }
  checks.push(
    missed.size === 0
      ? pass(CHECK.azMissed, 'warn', vpc.vpcId, 'the subnets cover every zone the VPC has subnets in')
      : flag(
          CHECK.azMissed,
          'warn',
          [...missed.keys()].sort().join(', '),
          `the VPC has subnets in zones the job does not use: ${[...missed].map(([az, ids]) => `${az} (${ids.join(', ')})`).join('; ')}`,
          'Add one subnet of each of those zones to vpcConfig.subnetIds.',
        ),
  );
  for (const s of subnets) {
    const free = s.AvailableIpAddressCount ?? 0;
    checks.push(
      free >= minFreeIps
        ? pass(CHECK.freeIps, 'warn', s.SubnetId!, `${free} free IP addresses`)
        : flag(
            CHECK.freeIps,
            'warn',
            s.SubnetId!,
            `only ${free} free IP addresses (at least ${minFreeIps} wanted for the job's network interfaces)`,
            'Free addresses in the subnet (unused ENIs) or use a larger subnet.',
          ),
    );
  }
  const roomy = subnets.filter((s) => (s.AvailableIpAddressCount ?? 0) >= minFreeIps);
  checks.push(
    roomy.length > 0
      ? pass(CHECK.capacity, 'fail', subnetList, `${roomy.length} subnet(s) with at least ${minFreeIps} free IP addresses`)
      : flag(
          CHECK.capacity,
          'fail',
          subnetList,
          `no subnet has ${minFreeIps} free IP addresses: the job's network interfaces cannot be created`,
          'Free addresses in the subnets or add a larger subnet.',
        ),
  );
  return checks;
}

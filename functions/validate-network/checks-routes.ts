/** A default route to the internet from a job subnet. */
import type { PreflightFacts } from './facts.js';
import { effectiveRouteTable, jobSubnetsInVpc } from './check-network.js';
import { CHECK, flag, pass, type CheckResult } from './check-result.js';

/** A default route to an internet or NAT gateway gives the job a path to the internet. */
export function internetRouteChecks(facts: PreflightFacts): CheckResult[] {
  const vpc = facts.vpc!;
  return jobSubnetsInVpc(facts).map((subnet) => {
    const table = effectiveRouteTable(subnet.SubnetId!, vpc.routeTables);
    const route = (table?.Routes ?? []).find(
      (r) =>
        (r.DestinationCidrBlock === '0.0.0.0/0' || r.DestinationIpv6CidrBlock === '::/0') &&
        r.State !== 'blackhole' &&
        (r.GatewayId?.startsWith('igw-') || r.NatGatewayId || r.EgressOnlyInternetGatewayId),
    );
    if (!route) return pass(CHECK.internetRoute, 'warn', subnet.SubnetId!, 'no default route to the internet');
    const target = route.GatewayId ?? route.NatGatewayId ?? route.EgressOnlyInternetGatewayId;
    return flag(
      CHECK.internetRoute,
      'warn',
      subnet.SubnetId!,
      `route table ${table!.RouteTableId} sends ${route.DestinationCidrBlock ?? route.DestinationIpv6CidrBlock} to ${target}: the job has a path to the internet`,
      'Use private subnets whose route table has no default route to an internet or NAT gateway (S3 goes through the gateway endpoint).',
    );
  });
}

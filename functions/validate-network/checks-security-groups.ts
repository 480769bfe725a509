/** Egress to S3 over HTTPS and traffic between the job's workers. */
import type { IpPermission, SecurityGroup } from '@aws-sdk/client-ec2';
import { allowsAllEgress, type PreflightFacts } from './facts.js';
import { gatewayEndpoints, jobSubnetsInVpc } from './check-network.js';
import { CHECK, flag, pass, type CheckResult } from './check-result.js';

/** IPv4 CIDR `outer` contains all of `inner`. */
export function cidrCovers(outer: string, inner: string): boolean {
  const parse = (cidr: string) => {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
    if (!m) return undefined;
    const addr = m.slice(1, 5).reduce((acc, o) => acc * 256 + Number(o), 0);
    return { addr, bits: Number(m[5]) };
  };
  const o = parse(outer);
  const i = parse(inner);
  if (!o || !i || i.bits < o.bits) return false;
  const size = 2 ** (32 - o.bits);
  return Math.floor(i.addr / size) === Math.floor(o.addr / size);
}

const coversPort = (p: IpPermission, port: number) =>
  p.IpProtocol === '-1' || (p.IpProtocol === 'tcp' && (p.FromPort ?? 0) <= port && port <= (p.ToPort ?? 65535));

/** A rule allows all traffic to/from the job's groups (by reference, or by CIDRs covering the job subnets). */
function allowsPeers(rules: IpPermission[], groupIds: string[], subnetCidrs: string[]): boolean {
  return rules.some(
    (p) =>
      p.IpProtocol === '-1' &&
      ((p.UserIdGroupPairs ?? []).some((g) => groupIds.includes(g.GroupId!)) ||
        (subnetCidrs.length > 0 && subnetCidrs.every((c) => (p.IpRanges ?? []).some((r) => cidrCovers(r.CidrIp!, c))))),
  );
}

/** Destination prefix lists of the routes that point at the VPC's S3 gateway endpoints. */
function endpointPrefixLists(facts: PreflightFacts): string[] {
  if (!facts.vpc) return [];
  const endpoints = new Set(gatewayEndpoints(facts.vpc).map((e) => e.VpcEndpointId!));
  return facts.vpc.routeTables
    .flatMap((t) => t.Routes ?? [])
    .filter((r) => r.DestinationPrefixListId && r.GatewayId && endpoints.has(r.GatewayId))
    .map((r) => r.DestinationPrefixListId!);
}

/** Egress to S3 over HTTPS and traffic between the job's workers (rules of all groups combined). */
export function securityGroupChecks(facts: PreflightFacts): CheckResult[] {
  const groups: SecurityGroup[] = facts.groups;
  if (groups.length === 0) return [];
  const groupIds = groups.map((g) => g.GroupId!);
  const resource = groupIds.join(', ');
  const subnetCidrs = jobSubnetsInVpc(facts).map((s) => s.CidrBlock!).filter(Boolean);
  const ingress = groups.flatMap((g) => g.IpPermissions ?? []);
  const egress = groups.flatMap((g) => g.IpPermissionsEgress ?? []);
  const checks: CheckResult[] = [];
  const ruleHint = `aws ec2 authorize-security-group-ingress --group-id ${groupIds[0]} --ip-permissions IpProtocol=-1,UserIdGroupPairs=[{GroupId=${groupIds[0]}}]`;
  checks.push(
    allowsPeers(ingress, groupIds, subnetCidrs)
      ? pass(CHECK.sgSelfIngress, 'fail', resource, 'inbound traffic from the group itself is allowed')
      : flag(CHECK.sgSelfIngress, 'fail', resource, 'no rule allows all inbound traffic from the group itself (training workers talk to each other)', ruleHint),
  );
  if (groups.some(allowsAllEgress)) {
    checks.push(
      pass(CHECK.sgSelfEgress, 'fail', resource, 'egress is unrestricted (allow all)'),
      pass(CHECK.sgS3Egress, 'fail', resource, 'egress is unrestricted (allow all): S3 over HTTPS is allowed'),
    );
    return checks;
  }
  checks.push(
    allowsPeers(egress, groupIds, subnetCidrs)
      ? pass(CHECK.sgSelfEgress, 'fail', resource, 'outbound traffic to the group itself is allowed')
      : flag(
          CHECK.sgSelfEgress,
          'fail',
          resource,
          'egress is restricted and no rule allows all outbound traffic to the group itself',
          ruleHint.replace('ingress', 'egress'),
        ),
  );
  const pl = facts.s3PrefixList;
  // The S3 prefix list as EC2 names it, and as the gateway endpoint's routes name it.
  const s3Lists = new Set([...(pl ? [pl.id] : []), ...endpointPrefixLists(facts)]);
  const https = egress.filter((p) => coversPort(p, 443));
  const toS3 = https.some(
    (p) =>
      (p.PrefixListIds ?? []).some((x) => s3Lists.has(x.PrefixListId!)) ||
      (p.IpRanges ?? []).some((r) => r.CidrIp === '0.0.0.0/0') ||
      (pl && pl.cidrs.length > 0 && pl.cidrs.every((c) => (p.IpRanges ?? []).some((r) => cidrCovers(r.CidrIp!, c)))),
  );
  const plHint = pl ? pl.id : `the com.amazonaws.<region>.s3 prefix list`;
  checks.push(
    toS3
      ? pass(CHECK.sgS3Egress, 'fail', resource, 'egress allows HTTPS (TCP 443) to S3')
      : flag(
          CHECK.sgS3Egress,
          'fail',
          resource,
          `egress is restricted and allows no HTTPS (TCP 443) to the S3 prefix list ${pl ? pl.id : '(prefix list not found)'} or a CIDR covering it`,
          `aws ec2 authorize-security-group-egress --group-id ${groupIds[0]} --ip-permissions IpProtocol=tcp,FromPort=443,ToPort=443,PrefixListIds=[{PrefixListId=${plHint}}]`,
        ),
  );
  return checks;
}

/**
 * The preflight's checks: pure functions of the job and the facts read from AWS (facts.ts).
 * Each check has a stable id (README table), a severity, the resource it concerns, a message and,
 * when it did not pass, a remedy a person can act on.
 */
import type { IpPermission, RouteTable, SecurityGroup, Subnet, VpcEndpoint } from '@aws-sdk/client-ec2';
import type { JobInput } from '../shared/job-input.js';
import { parseS3Uri } from '../shared/job-input.js';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG } from '../shared/bedrock-enis.js';
import type { PolicyDocument } from '../shared/policy-document.js';
import { buildRolePolicy } from '../apply-policies/role-policy.js';
import { allowsAllEgress, type BucketFacts, type PreflightFacts, type RoleFacts, type VpcFacts } from './facts.js';
import { evaluatePolicies, worst, type ConditionContext, type Decision, type PolicyRequest } from '../shared/policy-eval.js';

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

/** Tunables of the preflight. */
export interface PreflightOptions {
  /** Free IP addresses a subnet needs for the job's network interfaces (default 4). */
  minFreeIpsPerSubnet?: number;
}

export const DEFAULT_MIN_FREE_IPS_PER_SUBNET = 4;

/** Check ids (stable: documented in the README table, used by tests and by people). */
export const CHECK = {
  vpcExists: 'vpc.exists',
  vpcConsistent: 'vpc.consistent',
  subnetExists: 'subnet.exists',
  subnetInVpc: 'subnet.in-vpc',
  securityGroupExists: 'security-group.exists',
  securityGroupInVpc: 'security-group.in-vpc',
  dnsSupport: 'vpc.dns-support',
  dnsHostnames: 'vpc.dns-hostnames',
  s3EndpointExists: 's3-endpoint.exists',
  s3EndpointAvailable: 's3-endpoint.available',
  s3EndpointRoute: 's3-endpoint.route',
  s3EndpointPolicy: 's3-endpoint.policy',
  azCount: 'subnet.az-count',
  azMissed: 'subnet.az-missed',
  freeIps: 'subnet.free-ips',
  capacity: 'subnet.capacity',
  sgS3Egress: 'security-group.s3-egress',
  sgSelfIngress: 'security-group.self-ingress',
  sgSelfEgress: 'security-group.self-egress',
  internetRoute: 'route.internet',
  bucketExists: 'bucket.exists',
  bucketRegion: 'bucket.region',
  datasetExists: 'dataset.exists',
  roleExists: 'role.exists',
  roleTrust: 'role.trust',
  roleEni: 'role.eni-permissions',
  roleBuckets: 'role.bucket-access',
} as const;

const pass = (id: string, severity: Severity, resource: string, message: string): CheckResult => ({
  id,
  passed: true,
  severity,
  resource,
  message,
});
const flag = (id: string, severity: Severity, resource: string, message: string, remedy: string): CheckResult => ({
  id,
  passed: false,
  severity,
  resource,
  message,
  remedy,
});

/** Runs every check on the facts; checks whose prerequisites failed are left out (their cause is reported). */
export function runChecks(job: JobInput, facts: PreflightFacts, options: PreflightOptions = {}): CheckResult[] {
  const vpcOk = facts.vpc?.exists === true;
  return [
    ...membershipChecks(job, facts),
    ...(vpcOk ? vpcAttributeChecks(facts.vpc!) : []),
    ...(vpcOk ? endpointChecks(job, facts) : []),
    ...(vpcOk ? zoneChecks(facts, options.minFreeIpsPerSubnet ?? DEFAULT_MIN_FREE_IPS_PER_SUBNET) : []),
    ...securityGroupChecks(facts),
    ...(vpcOk ? internetRouteChecks(facts) : []),
    ...bucketChecks(job, facts),
    ...roleChecks(job, facts.role, facts.vpcId),
  ];
}

/** Subnets, groups and the VPC exist, and all of them belong to one VPC. */
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

const GONE = new Set(['deleted', 'deleting', 'failed', 'rejected', 'expired']);

/** The route table a subnet uses: its explicit association, else the VPC's main table. */
export function effectiveRouteTable(subnetId: string, tables: RouteTable[]): RouteTable | undefined {
  return (
    tables.find((t) => (t.Associations ?? []).some((a) => a.SubnetId === subnetId)) ??
    tables.find((t) => (t.Associations ?? []).some((a) => a.Main === true))
  );
}

function jobSubnetsInVpc(facts: PreflightFacts): Subnet[] {
  return facts.jobSubnets.filter((s) => s.VpcId === facts.vpcId);
}

/** Live S3 gateway endpoints of the VPC. */
function gatewayEndpoints(vpc: VpcFacts): VpcEndpoint[] {
  return vpc.s3Endpoints.filter((e) => e.VpcEndpointType === 'Gateway' && !GONE.has(String(e.State).toLowerCase()));
}

/** S3 gateway endpoint: exists, is available, is on every job subnet's route table; its policy. */
export function endpointChecks(job: JobInput, facts: PreflightFacts): CheckResult[] {
  const vpc = facts.vpc!;
  const service = `com.amazonaws.${job.region}.s3`;
  const gateways = gatewayEndpoints(vpc);
  if (gateways.length === 0) {
    const interfaces = vpc.s3Endpoints.filter((e) => e.VpcEndpointType === 'Interface' && !GONE.has(String(e.State).toLowerCase()));
    return [
      flag(
        CHECK.s3EndpointExists,
        'fail',
        vpc.vpcId,
        interfaces.length > 0
          ? `no S3 gateway endpoint in the VPC; only interface endpoint(s) ${interfaces.map((e) => e.VpcEndpointId).join(', ')}`
          : `no S3 gateway endpoint (${service}) in the VPC`,
        `aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway --vpc-id ${vpc.vpcId} --service-name ${service} --route-table-ids <the job subnets' route tables>`,
      ),
    ];
  }
  const ids = gateways.map((e) => e.VpcEndpointId!).join(', ');
  const checks: CheckResult[] = [pass(CHECK.s3EndpointExists, 'fail', ids, `S3 gateway endpoint ${ids}`)];
  const available = gateways.filter((e) => String(e.State).toLowerCase() === 'available');
  checks.push(
    available.length > 0
      ? pass(CHECK.s3EndpointAvailable, 'fail', available[0]!.VpcEndpointId!, 'endpoint is available')
      : flag(
          CHECK.s3EndpointAvailable,
          'fail',
          ids,
          `endpoint state is ${gateways.map((e) => e.State).join(', ')}, not available`,
          'Wait until the endpoint is available (or recreate it if it failed), then start the job again.',
        ),
  );
  for (const subnet of jobSubnetsInVpc(facts)) {
    const table = effectiveRouteTable(subnet.SubnetId!, vpc.routeTables);
    const attached =
      table &&
      gateways.some(
        (e) =>
          (e.RouteTableIds ?? []).includes(table.RouteTableId!) ||
          (table.Routes ?? []).some((r) => r.GatewayId === e.VpcEndpointId),
      );
    checks.push(
      attached
        ? pass(CHECK.s3EndpointRoute, 'fail', subnet.SubnetId!, `route table ${table!.RouteTableId} routes S3 through the endpoint`)
        : flag(
            CHECK.s3EndpointRoute,
            'fail',
            subnet.SubnetId!,
            table
              ? `route table ${table.RouteTableId} (${isMain(table) ? 'the main table' : 'explicitly associated'}) is not attached to the S3 gateway endpoint`
              : 'the subnet has no route table',
            `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${gateways[0]!.VpcEndpointId} --add-route-table-ids ${table?.RouteTableId ?? '<route table>'}`,
          ),
    );
  }
  checks.push(...endpointPolicyChecks(job, facts, available[0] ?? gateways[0]!));
  return checks;
}

const isMain = (t: RouteTable) => (t.Associations ?? []).some((a) => a.Main === true);

/** One S3 permission the job needs. */
interface S3Need {
  bucket: string;
  action: string;
  resource: string;
}

/** Training/validation: read (GetObject, ListBucket); output: write (PutObject, GetObject, ListBucket). */
export function s3Needs(job: JobInput): S3Need[] {
  const arn = (bucket: string, key?: string) => `arn:${job.partition}:s3:::${bucket}${key === undefined ? '' : `/${key}`}`;
  const needs: S3Need[] = [];
  for (const uri of [job.trainingDataS3Uri, ...job.validationDataS3Uris]) {
    const { bucket, key } = parseS3Uri(uri);
    needs.push({ bucket, action: 's3:GetObject', resource: arn(bucket, key) }, { bucket, action: 's3:ListBucket', resource: arn(bucket) });
  }
  const out = parseS3Uri(job.outputDataS3Uri);
  // Bedrock chooses the object names under the output prefix: a representative key stands for them.
  const outKey = `${out.key}${out.key === '' || out.key.endsWith('/') ? '' : '/'}${job.jobName}/output`;
  for (const action of ['s3:PutObject', 's3:GetObject']) needs.push({ bucket: out.bucket, action, resource: arn(out.bucket, outKey) });
  needs.push({ bucket: out.bucket, action: 's3:ListBucket', resource: arn(out.bucket) });
  const seen = new Set<string>();
  return needs.filter((n) => !seen.has(`${n.action} ${n.resource}`) && seen.add(`${n.action} ${n.resource}`));
}

/** Per bucket: the worst decision over its needs, and the needs that are not plainly allowed. */
function decideBuckets(needs: S3Need[], decide: (n: S3Need) => Decision) {
  const byBucket = new Map<string, Array<{ need: S3Need; decision: Decision }>>();
  for (const need of needs) byBucket.set(need.bucket, [...(byBucket.get(need.bucket) ?? []), { need, decision: decide(need) }]);
  return [...byBucket].map(([bucket, rows]) => ({
    bucket,
    decision: worst(rows.map((r) => r.decision)),
    problems: rows.filter((r) => r.decision !== 'allowed').map((r) => `${r.need.action} on ${r.need.resource} (${r.decision})`),
  }));
}

/** What the job's S3 requests look like to an endpoint policy. */
function endpointContext(job: JobInput, endpointId: string, vpcId: string): ConditionContext {
  return {
    'aws:SourceVpc': vpcId,
    'aws:SourceVpce': endpointId,
    'aws:PrincipalArn': job.roleArn,
    'aws:PrincipalAccount': job.accountId,
    'aws:SecureTransport': 'true',
  };
}

/** The endpoint policy lets the job reach its buckets (or apply-policies will make it so). */
export function endpointPolicyChecks(job: JobInput, facts: PreflightFacts, endpoint: VpcEndpoint): CheckResult[] {
  const id = endpoint.VpcEndpointId!;
  const mode = job.policies.endpoint;
  if (mode === 'restrict') {
    return [pass(CHECK.s3EndpointPolicy, 'info', id, "policies.endpoint is 'restrict': apply-policies writes a policy granting the job's buckets")];
  }
  let document: PolicyDocument | null;
  try {
    document = endpoint.PolicyDocument ? (JSON.parse(endpoint.PolicyDocument) as PolicyDocument) : null;
    if (document && !Array.isArray(document.Statement)) document = { ...document, Statement: [document.Statement as never] };
  } catch {
    return [
      flag(CHECK.s3EndpointPolicy, 'warn', id, 'the endpoint policy is not valid JSON: could not verify it', 'Fix or reset the endpoint policy.'),
    ];
  }
  // No policy document means the default full access.
  if (!document) return [pass(CHECK.s3EndpointPolicy, 'fail', id, 'no endpoint policy: full access (the default)')];
  // An appended Allow cannot override a Deny already there: with 'append' only Deny statements matter.
  const evaluated = mode === 'append' ? { ...document, Statement: document.Statement.filter((s) => s.Effect === 'Deny') } : document;
  const context = endpointContext(job, id, facts.vpcId!);
  const rows = decideBuckets(s3Needs(job), (need) =>
    evaluatePolicies([evaluated], {
      action: need.action,
      resource: need.resource,
      context,
      principals: [job.roleArn, job.accountId],
    }),
  );
  const remedy =
    mode === 'append'
      ? 'Remove or narrow the Deny statement(s) of the endpoint policy that match the job.'
      : `Allow ${[...new Set(s3Needs(job).map((n) => n.action))].join(', ')} on the job's buckets in the endpoint policy, or set policies.endpoint to 'append' or 'restrict'.`;
  return rows.map(({ bucket, decision, problems }) => {
    const resource = `${id} → ${bucket}`;
    if (mode === 'append' && decision === 'absent') {
      return pass(CHECK.s3EndpointPolicy, 'info', resource, "no Deny blocks the job; apply-policies appends the job's statements (policies.endpoint 'append')");
    }
    if (decision === 'allowed') return pass(CHECK.s3EndpointPolicy, 'fail', resource, 'the endpoint policy allows the job');
    if (decision === 'conditional') {
      return flag(CHECK.s3EndpointPolicy, 'warn', resource, `could not verify (conditions): ${problems.join('; ')}`, remedy);
    }
    return flag(
      CHECK.s3EndpointPolicy,
      'fail',
      resource,
      `the endpoint policy ${decision === 'denied' ? 'denies' : 'does not allow'}: ${problems.join('; ')}`,
      remedy,
    );
  });
}

/** Availability Zones covered and free IP addresses of each job subnet. */
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

/** Buckets exist in the job's region; the training dataset object exists. */
export function bucketChecks(job: JobInput, facts: PreflightFacts): CheckResult[] {
  const checks: CheckResult[] = [];
  const usable = new Set<string>();
  for (const b of facts.buckets) checks.push(...oneBucket(job, b, usable));
  const { bucket } = parseS3Uri(job.trainingDataS3Uri);
  const d = facts.dataset;
  if (d.status === 'prefix') {
    checks.push(
      flag(CHECK.datasetExists, 'fail', d.uri, 'trainingDataS3Uri names a prefix, not a dataset file', 'Point trainingDataS3Uri at the JSONL file.'),
    );
  } else if (usable.has(bucket)) {
    if (d.status === 'found') checks.push(pass(CHECK.datasetExists, 'fail', d.uri, 'training dataset exists'));
    else if (d.status === 'missing')
      checks.push(flag(CHECK.datasetExists, 'fail', d.uri, 'training dataset object not found', `Upload the dataset to ${d.uri} or fix trainingDataS3Uri.`));
    else
      checks.push(
        flag(CHECK.datasetExists, 'warn', d.uri, `could not verify the dataset: ${d.error}`, 'Allow the workflow s3:GetObject and s3:ListBucket on the training bucket.'),
      );
  }
  return checks;
}

function oneBucket(job: JobInput, b: BucketFacts, usable: Set<string>): CheckResult[] {
  const resource = `s3://${b.bucket}`;
  if (b.status === 'missing') {
    return [flag(CHECK.bucketExists, 'fail', resource, 'bucket not found', `Create the bucket in ${job.region} or fix the S3 URI.`)];
  }
  if (b.status === 'unknown') {
    return [flag(CHECK.bucketExists, 'warn', resource, `could not verify the bucket: ${b.error}`, 'Allow the workflow s3:GetBucketLocation on the bucket.')];
  }
  const inRegion = b.region === job.region;
  if (inRegion) usable.add(b.bucket);
  return [
    pass(CHECK.bucketExists, 'fail', resource, 'bucket exists'),
    inRegion
      ? pass(CHECK.bucketRegion, 'fail', resource, `bucket is in ${job.region}`)
      : flag(
          CHECK.bucketRegion,
          'fail',
          resource,
          `bucket is in ${b.region}, the job runs in ${job.region} (a gateway endpoint reaches only buckets of its region)`,
          `Use a bucket in ${job.region} (copy the data), or run the workflow in ${b.region}.`,
        ),
  ];
}

/** The ENI requests Bedrock makes as the role, with the condition keys they carry. */
function eniNeeds(job: JobInput): PolicyRequest[] {
  const ec2 = (type: string, id: string) => `arn:${job.partition}:ec2:${job.region}:${job.accountId}:${type}/${id}`;
  // The job ARN is not known before submission; its name stands in for the id (policies use wildcards).
  const jobArn = `arn:${job.partition}:bedrock:${job.region}:${job.accountId}:model-customization-job/${job.jobName}`;
  const eni = ec2('network-interface', 'eni-preflight');
  const tagKeys = [BEDROCK_MANAGED_TAG, BEDROCK_JOB_ARN_TAG];
  const needs: PolicyRequest[] = [];
  for (const action of ['DescribeNetworkInterfaces', 'DescribeVpcs', 'DescribeDhcpOptions', 'DescribeSubnets', 'DescribeSecurityGroups']) {
    needs.push({ action: `ec2:${action}`, resource: '*', context: {} });
  }
  for (const subnetId of job.vpcConfig.subnetIds) {
    const subnet = ec2('subnet', subnetId);
    const create: ConditionContext = {
      [`aws:RequestTag/${BEDROCK_MANAGED_TAG}`]: 'true',
      [`aws:RequestTag/${BEDROCK_JOB_ARN_TAG}`]: jobArn,
      'aws:TagKeys': tagKeys,
      'ec2:Subnet': subnet,
    };
    needs.push({ action: 'ec2:CreateNetworkInterface', resource: eni, context: create });
    needs.push({ action: 'ec2:CreateNetworkInterface', resource: subnet, context: create });
    needs.push({
      action: 'ec2:CreateTags',
      resource: eni,
      context: { ...create, 'ec2:CreateAction': 'CreateNetworkInterface' },
    });
    const own: ConditionContext = {
      'ec2:Subnet': subnet,
      [`ec2:ResourceTag/${BEDROCK_MANAGED_TAG}`]: 'true',
      [`ec2:ResourceTag/${BEDROCK_JOB_ARN_TAG}`]: jobArn,
    };
    for (const action of ['CreateNetworkInterfacePermission', 'DeleteNetworkInterface', 'DeleteNetworkInterfacePermission']) {
      needs.push({ action: `ec2:${action}`, resource: eni, context: own });
    }
  }
  for (const groupId of job.vpcConfig.securityGroupIds) {
    needs.push({ action: 'ec2:CreateNetworkInterface', resource: ec2('security-group', groupId), context: {} });
  }
  return needs;
}

/** The Bedrock role exists, trusts Bedrock, and can create its ENIs and reach the job's buckets. */
export function roleChecks(job: JobInput, role: RoleFacts, vpcId?: string): CheckResult[] {
  const resource = role.roleArn;
  if (role.status === 'missing') {
    return [flag(CHECK.roleExists, 'fail', resource, 'role not found', 'Create the role (see README "Bedrock role") or fix roleArn.')];
  }
  if (role.status === 'unknown') {
    return [flag(CHECK.roleExists, 'warn', resource, `could not read the role: ${role.error}`, 'Allow the workflow iam:GetRole on the role.')];
  }
  const checks: CheckResult[] = [pass(CHECK.roleExists, 'fail', resource, 'role exists')];
  const trust = role.trust
    ? evaluatePolicies([role.trust], {
        action: 'sts:AssumeRole',
        resource,
        principals: ['service:bedrock.amazonaws.com'],
        context: {
          'aws:SourceAccount': job.accountId,
          'aws:SourceArn': `arn:${job.partition}:bedrock:${job.region}:${job.accountId}:model-customization-job/${job.jobName}`,
        },
      })
    : role.trust === null
      ? 'absent'
      : 'conditional';
  const trustFix = 'Let the role trust the service principal bedrock.amazonaws.com with sts:AssumeRole (aws iam update-assume-role-policy).';
  checks.push(
    trust === 'allowed'
      ? pass(CHECK.roleTrust, 'fail', resource, 'the role trusts bedrock.amazonaws.com')
      : trust === 'conditional'
        ? flag(CHECK.roleTrust, 'warn', resource, 'could not verify the trust policy (conditions or an unreadable document)', trustFix)
        : flag(CHECK.roleTrust, 'fail', resource, 'the role does not trust bedrock.amazonaws.com', trustFix),
  );
  if (!role.policies) {
    const why = `could not read the role's policies (${role.policyError})`;
    const fix = 'Allow the workflow iam:ListRolePolicies, iam:GetRolePolicy, iam:ListAttachedRolePolicies, iam:GetPolicy, iam:GetPolicyVersion.';
    return [...checks, flag(CHECK.roleEni, 'warn', resource, why, fix), flag(CHECK.roleBuckets, 'warn', resource, why, fix)];
  }
  const apply = job.policies.role === 'apply';
  // With policies.role 'apply', judge the role as apply-policies will leave it: its statements added.
  const documents = [...role.policies.map((p) => p.document), ...(apply ? [buildRolePolicy(job, null)] : [])];
  const source = apply ? "the role's policies plus apply-policies' role policy" : "the role's policies";
  const eni = eniNeeds(job).map((need) => ({ need, decision: evaluatePolicies(documents, need) }));
  const eniDecision = worst(eni.map((e) => e.decision));
  const eniProblems = [...new Set(eni.filter((e) => e.decision !== 'allowed').map((e) => `${e.need.action} on ${e.need.resource} (${e.decision})`))];
  const eniFix = apply
    ? 'Remove the Deny statements of the role that match these ENI actions.'
    : "Set policies.role to 'apply', or give the role the guide's VPC permissions (README \"Bedrock role\").";
  checks.push(
    eniDecision === 'allowed'
      ? pass(CHECK.roleEni, apply ? 'info' : 'fail', resource, `${source} allow the ENI actions`)
      : eniDecision === 'conditional'
        ? flag(CHECK.roleEni, 'warn', resource, `could not verify (conditions): ${eniProblems.join('; ')}`, eniFix)
        : flag(CHECK.roleEni, 'fail', resource, `${source} do not allow: ${eniProblems.join('; ')}`, eniFix),
  );
  const bucketFix = (bucket: string) =>
    `Give the role s3:GetObject/s3:ListBucket on the training and validation buckets and s3:PutObject/s3:GetObject/s3:ListBucket on the output bucket (${bucket}).`;
  for (const { bucket, decision, problems } of decideBuckets(s3Needs(job), (n) =>
    evaluatePolicies(documents, { action: n.action, resource: n.resource, context: vpcId ? { 'aws:SourceVpc': vpcId } : {} }),
  )) {
    const r = `${resource} → s3://${bucket}`;
    checks.push(
      decision === 'allowed'
        ? pass(CHECK.roleBuckets, 'fail', r, `${source} allow the job's access`)
        : decision === 'denied'
          ? flag(CHECK.roleBuckets, 'fail', r, `${source} deny: ${problems.join('; ')}`, bucketFix(bucket))
          : flag(
              CHECK.roleBuckets,
              'warn',
              r,
              `could not verify: ${problems.join('; ')} (${decision === 'absent' ? 'not granted by the role; a bucket policy, not read here, may grant it' : 'conditions'})`,
              bucketFix(bucket),
            ),
    );
  }
  return checks;
}

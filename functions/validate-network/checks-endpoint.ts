/** The S3 gateway endpoint: exists, is available, is on every job subnet's route table; its policy. */
import type { VpcEndpoint } from '@aws-sdk/client-ec2';
import type { JobInput } from '../shared/job-input.js';
import { parsePolicy, type PolicyDocument } from '../shared/policies/document.js';
import { evaluatePolicies, type ConditionContext } from '../shared/policies/eval.js';
import { isLiveEndpoint, s3ServiceName } from '../shared/s3.js';
import type { PreflightFacts } from './facts.js';
import { effectiveRouteTable, gatewayEndpoints, isMain, jobSubnetsInVpc } from './check-network.js';
import { CHECK, flag, pass, type CheckResult } from './check-result.js';
import { decideBuckets, s3Needs } from './check-s3-needs.js';

/** S3 gateway endpoint: exists, is available, is on every job subnet's route table; its policy. */
export function endpointChecks(job: JobInput, facts: PreflightFacts): CheckResult[] {
  const vpc = facts.vpc!;
  const service = s3ServiceName(job.partition, job.region);
  const gateways = gatewayEndpoints(vpc);
  if (gateways.length === 0) {
    const interfaces = vpc.s3Endpoints.filter((e) => e.VpcEndpointType === 'Interface' && isLiveEndpoint(e));
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
    document = parsePolicy(endpoint.PolicyDocument);
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

/** The Bedrock role exists, trusts Bedrock, and can create its ENIs and reach the job's buckets. */
import { ec2Arn, jobArn } from '../shared/arn.js';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG } from '../shared/bedrock-enis.js';
import type { JobInput } from '../shared/job-input.js';
import type { PolicyDocument } from '../shared/policies/document.js';
import { evaluatePolicies, worst, type ConditionContext, type PolicyRequest } from '../shared/policies/eval.js';
import { buildRolePolicy } from '../shared/policies/role.js';
import type { RoleFacts } from './facts.js';
import { CHECK, flag, pass, type CheckResult } from './check-result.js';
import { decideBuckets, s3Needs } from './check-s3-needs.js';

/** The ENI requests Bedrock makes as the role, with the condition keys they carry. */
function eniNeeds(job: JobInput): PolicyRequest[] {
  const ec2 = (type: string, id: string) => ec2Arn(job, type, id);
  // The job ARN is not known before submission; its name stands in for the id (policies use wildcards).
  const thisJob = jobArn(job, job.jobName);
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
      [`aws:RequestTag/${BEDROCK_JOB_ARN_TAG}`]: thisJob,
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
      [`ec2:ResourceTag/${BEDROCK_JOB_ARN_TAG}`]: thisJob,
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

/**
 * The identity policies the role will have when the job runs, and how to name them: with policies.role
 * 'apply', the role as apply-policies will leave it (its statements added). Undefined when the role's
 * policies could not be read.
 */
export function roleDocuments(job: JobInput, role: RoleFacts): { documents: PolicyDocument[]; source: string; apply: boolean } | undefined {
  if (role.status !== 'found' || !role.policies) return undefined;
  const apply = job.policies.role === 'apply';
  return {
    documents: [...role.policies.map((p) => p.document), ...(apply ? [buildRolePolicy(job, null)] : [])],
    source: apply ? "the role's policies plus apply-policies' role policy" : "the role's policies",
    apply,
  };
}

/** The Bedrock role exists, trusts Bedrock, and can create its ENIs and reach the job's buckets. */
export function roleChecks(job: JobInput, role: RoleFacts, vpcId?: string): CheckResult[] {
  const resource = role.roleArn;
  if (role.status === 'missing') {
    return [flag(CHECK.roleExists, 'fail', resource, 'role not found', 'Create the role (see docs/policies.md "Bedrock role") or fix roleArn.')];
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
          'aws:SourceArn': jobArn(job, job.jobName),
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
  const { documents, source, apply } = roleDocuments(job, role)!;
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

/**
 * Lockout guard for bucket policies: before a Deny is written, check that it does not newly deny a
 * principal that must keep access (this workflow's own role, every exempt principal) when it calls
 * from outside the VPC — the console, a laptop, a Lambda that is not in the VPC.
 *
 * What is known of such a request: its `aws:PrincipalArn`, and that the VPC keys (`aws:SourceVpc`,
 * `aws:SourceVpce`, `aws:VpcSourceIp`) are absent. A condition on any other key, or with an operator
 * the shared evaluator (shared/policies/eval.ts) does not implement, counts as "may deny" (cautious). Only a Deny that the new
 * document adds is reported, so statements of others never trigger the guard.
 */
import { accountOf } from '../shared/arn.js';
import { PolicyLockoutError } from '../shared/errors.js';
import type { PolicyDocument } from '../shared/policies/document.js';
import { evaluatePolicies, type ConditionContext } from '../shared/policies/eval.js';

/** A principal the bucket Deny must not lock out, and why it matters. */
export interface ProtectedPrincipal {
  arn: string;
  role: 'workflow role' | 'exempt principal';
}

/** One request the guard checks. */
interface Probe {
  action: string;
  resource: string;
}

/**
 * `aws:PrincipalArn` of a caller named by `arn`. A role session (`arn:aws:sts::…:assumed-role/R/s`)
 * carries its role's ARN (`arn:aws:iam::…:role/R`), not the session ARN — an exemption written as a
 * session ARN never matches, which is exactly the mistake the guard must catch.
 */
export function principalArnOf(arn: string): string {
  const session = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return session ? `arn:${session[1]}:iam::${session[2]}:role/${session[3]}` : arn;
}

/** What is known of a request from outside the VPC: its principal, and that the VPC keys are absent. */
function outsideVpcContext(principalArn: string): ConditionContext {
  return { 'aws:PrincipalArn': principalArn, 'aws:SourceVpc': null, 'aws:SourceVpce': null, 'aws:VpcSourceIp': null };
}

/** Sids (or `#index`) of the Deny statements of `doc` that apply, or may apply, to the probe. */
function denyingStatements(doc: PolicyDocument | null, principalArn: string, probe: Probe): string[] {
  const request = {
    action: probe.action,
    resource: probe.resource,
    principals: [principalArn, accountOf(principalArn)],
    context: outsideVpcContext(principalArn),
  };
  return (doc?.Statement ?? []).flatMap((s, i) => {
    if (s.Effect !== 'Deny') return [];
    const decision = evaluatePolicies([{ Version: '2012-10-17', Statement: [s] }], request);
    // `conditional`: it depends on something unknown here, so the Deny may apply (cautious).
    return decision === 'denied' || decision === 'conditional' ? [s.Sid ?? `#${i}`] : [];
  });
}

/**
 * Throws {@link PolicyLockoutError} when `desired` denies a protected principal, calling from outside
 * the VPC, an access (`s3:GetObject`/`PutObject` on an object, `s3:ListBucket` on the bucket) that
 * `current` does not deny. Makes no AWS call.
 */
export function assertNoLockout(
  bucketArn: string,
  current: PolicyDocument | null,
  desired: PolicyDocument,
  principals: ProtectedPrincipal[],
): void {
  const probes: Probe[] = [
    { action: 's3:GetObject', resource: `${bucketArn}/lockout-probe` },
    { action: 's3:PutObject', resource: `${bucketArn}/lockout-probe` },
    { action: 's3:ListBucket', resource: bucketArn },
  ];
  const problems: string[] = [];
  for (const p of principals) {
    const effective = principalArnOf(p.arn);
    const denied = probes.flatMap((probe) => {
      const now = denyingStatements(desired, effective, probe);
      return now.length > 0 && denyingStatements(current, effective, probe).length === 0 ? [`${probe.action} (by ${now.join(', ')})`] : [];
    });
    if (denied.length === 0) continue;
    const hint =
      effective !== p.arn ? ` — ${p.arn} is a role session; aws:PrincipalArn carries ${effective}: list the role ARN instead` : '';
    problems.push(`${p.role} ${p.arn} would be denied ${denied.join(', ')} outside the VPC${hint}`);
  }
  if (problems.length > 0) {
    throw new PolicyLockoutError(`Refusing to write the policy of ${bucketArn}: ${problems.join('; ')}. Nothing was written.`);
  }
}

/**
 * Lockout guard for bucket policies: before a Deny is written, check that it does not newly deny a
 * principal that must keep access (this workflow's own role, every exempt principal) when it calls
 * from outside the VPC — the console, a laptop, a Lambda that is not in the VPC.
 *
 * What is known of such a request: its `aws:PrincipalArn`, and that the VPC keys (`aws:SourceVpc`,
 * `aws:SourceVpce`, `aws:VpcSourceIp`) are absent. A condition on any other key, or with an operator
 * this evaluator does not implement, counts as "may deny" (cautious). Only a Deny that the new
 * document adds is reported, so statements of others never trigger the guard.
 */
import { PolicyLockoutError } from '../shared/errors.js';
import type { PolicyDocument, Statement } from './policy-document.js';

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

function glob(pattern: string, value: string, ignoreCase = false): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, ignoreCase ? 'is' : 's').test(value);
}

const values = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

function namesPrincipal(element: unknown, principalArn: string): boolean {
  if (element === '*') return true;
  if (typeof element !== 'object' || element === null) return false;
  const account = principalArn.split(':')[4];
  return values((element as { AWS?: unknown }).AWS).some(
    (p) => p === '*' || p === principalArn || p === account || p === `arn:${principalArn.split(':')[1]}:iam::${account}:root`,
  );
}

/** Keys a request from outside the VPC never carries. */
const ABSENT_OUTSIDE_VPC = new Set(['aws:sourcevpc', 'aws:sourcevpce', 'aws:vpcsourceip']);

/** Does one Condition operator hold? `actual`: the key's value, `null` when known to be absent. */
function operatorHolds(rawOperator: string, actual: string | null, expected: string[]): boolean {
  const setOp = /^(ForAllValues|ForAnyValue):/.exec(rawOperator)?.[1];
  let op = rawOperator.replace(/^(ForAllValues|ForAnyValue):/, '');
  const ifExists = op.endsWith('IfExists');
  if (ifExists) op = op.slice(0, -'IfExists'.length);
  if (op === 'Null') return expected.some((e) => (e.toLowerCase() === 'true') === (actual === null));
  const negated = /Not/.test(op);
  if (actual === null) {
    if (setOp === 'ForAllValues') return true; // vacuously true over an empty set
    if (setOp === 'ForAnyValue') return false;
    return ifExists || negated;
  }
  let test: (e: string, v: string) => boolean;
  if (/^String(Not)?Equals$/.test(op)) test = (e, v) => e === v;
  else if (/^String(Not)?EqualsIgnoreCase$/.test(op)) test = (e, v) => e.toLowerCase() === v.toLowerCase();
  else if (/^(String|Arn)(Not)?(Like|Equals)$/.test(op)) test = (e, v) => glob(e, v);
  else return true; // an operator this guard does not evaluate: assume the Deny may apply (conservative)
  return expected.some((e) => test(e, actual)) !== negated;
}

function conditionHolds(condition: Statement['Condition'], principalArn: string): boolean {
  return Object.entries(condition ?? {}).every(([op, block]) =>
    Object.entries(block ?? {}).every(([key, expected]) => {
      const k = key.toLowerCase();
      if (k === 'aws:principalarn') return operatorHolds(op, principalArn, values(expected));
      if (ABSENT_OUTSIDE_VPC.has(k)) return operatorHolds(op, null, values(expected));
      return true; // a key whose value we cannot know: the Deny may apply
    }),
  );
}

/** Sids (or `#index`) of the Deny statements of `doc` that apply to the probe. */
function denyingStatements(doc: PolicyDocument | null, principalArn: string, probe: Probe): string[] {
  return (doc?.Statement ?? []).flatMap((s, i) => {
    if (s.Effect !== 'Deny') return [];
    const action = s.Action !== undefined ? values(s.Action).some((a) => glob(a, probe.action, true)) : !values(s.NotAction).some((a) => glob(a, probe.action, true));
    const resource =
      s.Resource !== undefined ? values(s.Resource).some((r) => glob(r, probe.resource)) : !values(s.NotResource).some((r) => glob(r, probe.resource));
    const principal = s.NotPrincipal !== undefined ? !namesPrincipal(s.NotPrincipal, principalArn) : namesPrincipal(s.Principal, principalArn);
    return action && resource && principal && conditionHolds(s.Condition, principalArn) ? [s.Sid ?? `#${i}`] : [];
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

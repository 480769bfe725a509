/**
 * A small, deliberately cautious IAM policy evaluator: does a set of policy documents allow one
 * request (action, resource, principal, known condition keys)? Used by the preflight (may the job
 * reach its buckets? may the role create ENIs?) and by the bucket-policy lockout guard.
 *
 * It is not the IAM engine. It answers `conditional` whenever the outcome depends on something it
 * cannot know (a condition key missing from the request context, an operator it does not implement),
 * so the preflight reports "could not verify" (warn) instead of passing blindly.
 */
import type { PolicyDocument, Statement } from './document.js';

/** allowed: an Allow matches and no Deny can; denied: a Deny matches for sure; conditional: it depends. */
export type Decision = 'allowed' | 'denied' | 'conditional' | 'absent';

/**
 * Condition keys known for the request (case-insensitive names), single- or multi-valued; `null`
 * when the key is known to be absent (e.g. `aws:SourceVpc` for a call from outside any VPC). A key
 * not listed at all is unknown: a condition on it makes the outcome `conditional`.
 */
export type ConditionContext = Record<string, string | string[] | null>;

export interface PolicyRequest {
  action: string;
  resource: string;
  context: ConditionContext;
  /**
   * Principals the request is made as (resource policies only: endpoint and trust policies). Each is
   * an ARN, an account id, `service:<name>` for a service principal. Absent: identity policy (no Principal).
   */
  principals?: string[];
}

/**
 * IAM wildcard match (`*` any run, `?` one character, per UTF-16 unit); case-insensitive when
 * `ignoreCase`. Not a regex: policies come from AWS (bucket policies anyone with PutBucketPolicy
 * writes), and a pattern such as `*a*a*a*a*b` compiled to `.*a.*a…` backtracks polynomially in the
 * number of stars. This walk keeps one back-up point (the last `*`): O(pattern × value) at worst.
 */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const p = ignoreCase ? foldCase(pattern) : pattern;
  const v = ignoreCase ? foldCase(value) : value;
  let pi = 0;
  let vi = 0;
  let star = -1; // index in p of the last `*` seen
  let resume = 0; // index in v that `*` matched up to
  while (vi < v.length) {
    if (pi < p.length && p[pi] === '*') {
      star = pi++;
      resume = vi;
    } else if (pi < p.length && (p[pi] === '?' || p[pi] === v[vi])) {
      pi++;
      vi++;
    } else if (star >= 0) {
      pi = star + 1;
      vi = ++resume;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/**
 * Each UTF-16 unit in the case a regex with the `i` flag (and no `u`) compares it in (ECMA-262
 * Canonicalize): upper case when that is one unit, except a non-ASCII unit never becomes ASCII.
 */
function foldCase(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text[i]!;
    const upper = unit.toUpperCase();
    out += upper.length === 1 && !(unit.charCodeAt(0) >= 128 && upper.charCodeAt(0) < 128) ? upper : unit;
  }
  return out;
}

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

function actionMatches(s: Statement, action: string): boolean {
  if (s.Action !== undefined) return list(s.Action).some((p) => globMatch(p, action, true));
  if (s.NotAction !== undefined) return !list(s.NotAction).some((p) => globMatch(p, action, true));
  return false;
}

function resourceMatches(s: Statement, resource: string): boolean {
  if (s.Resource !== undefined) return list(s.Resource).some((p) => globMatch(p, resource));
  if (s.NotResource !== undefined) return !list(s.NotResource).some((p) => globMatch(p, resource));
  // Trust policies have no Resource: the role itself is the resource.
  return true;
}

/** Does a Principal element name one of `principals` (or everyone)? */
function principalMatches(principal: unknown, principals: string[]): boolean {
  if (principal === '*') return true;
  if (!principal || typeof principal !== 'object') return false;
  const entries = Object.entries(principal as Record<string, unknown>);
  return entries.some(([kind, value]) =>
    list(value).some((p) => {
      if (p === '*') return true;
      if (kind === 'Service') return principals.includes(`service:${p}`);
      if (kind !== 'AWS') return false;
      const root = /^arn:[^:]+:iam::(\d{12}):root$/.exec(p);
      return principals.includes(p) || principals.includes(root?.[1] ?? p);
    }),
  );
}

type Tri = true | false | 'unknown';

/** Evaluates one Condition block against the context: all operators must hold (AND). */
export function evaluateCondition(condition: Statement['Condition'], context: ConditionContext): Tri {
  if (!condition) return true;
  const ctx = new Map(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v === null ? null : list(v)]));
  let result: Tri = true;
  for (const [rawOperator, block] of Object.entries(condition)) {
    for (const [key, expected] of Object.entries(block ?? {})) {
      const one = evaluateOperator(rawOperator, ctx.get(key.toLowerCase()), list(expected));
      if (one === false) return false;
      if (one === 'unknown') result = 'unknown';
    }
  }
  return result;
}

/** `actual`: the key's values; `null` known absent; `undefined` unknown. */
function evaluateOperator(rawOperator: string, actual: string[] | null | undefined, expected: string[]): Tri {
  const set = /^(ForAllValues|ForAnyValue):/.exec(rawOperator)?.[1];
  let operator = rawOperator.replace(/^(ForAllValues|ForAnyValue):/, '');
  const ifExists = operator.endsWith('IfExists');
  if (ifExists) operator = operator.slice(0, -'IfExists'.length);
  // A key we do not know may well be present in the real request: we cannot tell.
  if (actual === undefined) return 'unknown';
  if (operator === 'Null') return expected.some((e) => (e.toLowerCase() === 'true') === (actual === null));
  if (actual === null) {
    // IAM: a missing key makes ForAllValues and ...IfExists true, negated operators true, others false.
    if (set === 'ForAllValues' || ifExists) return true;
    if (set === 'ForAnyValue') return false;
    return /Not/.test(operator);
  }
  const compare = comparator(operator);
  if (!compare) return 'unknown';
  const { test, negated } = compare;
  const matchesAny = (value: string) => expected.some((e) => test(e, value));
  if (set === 'ForAllValues') return actual.every(matchesAny) !== negated;
  if (set === 'ForAnyValue') return actual.some(matchesAny) !== negated;
  if (actual.length !== 1) return 'unknown';
  return matchesAny(actual[0]!) !== negated;
}

function comparator(operator: string): { test: (expected: string, value: string) => boolean; negated: boolean } | undefined {
  switch (operator) {
    case 'StringEquals':
    case 'StringNotEquals':
      return { test: (e, v) => e === v, negated: operator.includes('Not') };
    case 'StringEqualsIgnoreCase':
    case 'StringNotEqualsIgnoreCase':
      return { test: (e, v) => e.toLowerCase() === v.toLowerCase(), negated: operator.includes('Not') };
    case 'StringLike':
    case 'StringNotLike':
    case 'ArnLike':
    case 'ArnNotLike':
    case 'ArnEquals':
    case 'ArnNotEquals':
      // ArnEquals and ArnLike behave the same in IAM (both accept wildcards).
      return { test: (e, v) => globMatch(e, v), negated: operator.includes('Not') };
    case 'Bool':
      return { test: (e, v) => e.toLowerCase() === v.toLowerCase(), negated: false };
    default:
      return undefined;
  }
}

/** The decision of `documents` (evaluated together, as IAM does) for one request. */
export function evaluatePolicies(documents: PolicyDocument[], request: PolicyRequest): Decision {
  let allow: Tri = false;
  let deny: Tri = false;
  for (const s of documents.flatMap((d) => d.Statement)) {
    if (!actionMatches(s, request.action) || !resourceMatches(s, request.resource)) continue;
    if (request.principals) {
      if (s.Principal !== undefined && !principalMatches(s.Principal, request.principals)) continue;
      if (s.NotPrincipal !== undefined && principalMatches(s.NotPrincipal, request.principals)) continue;
    }
    const cond = evaluateCondition(s.Condition, request.context);
    if (cond === false) continue;
    if (s.Effect === 'Deny') deny = deny === true ? true : cond;
    else allow = allow === true ? true : cond;
  }
  if (deny === true) return 'denied';
  if (deny === 'unknown') return 'conditional';
  if (allow === true) return 'allowed';
  if (allow === 'unknown') return 'conditional';
  return 'absent';
}

/** The worst of several decisions (denied > absent > conditional > allowed). */
export function worst(decisions: Decision[]): Decision {
  const rank: Decision[] = ['denied', 'absent', 'conditional', 'allowed'];
  for (const d of rank) if (decisions.includes(d)) return d;
  return 'allowed';
}

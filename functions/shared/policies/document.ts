/**
 * IAM policy documents as data: types, parsing of what AWS returns, canonical form for comparison, a
 * readable statement-level diff, and the merge-by-Sid rule every policy this workflow writes follows
 * (ours replace ours; every other statement is kept exactly and in order).
 */

/** One policy statement, as IAM, S3 and VPC endpoint policies spell it. */
export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** A policy document with its statements always as a list. */
export interface PolicyDocument {
  Version: string;
  Id?: string;
  Statement: Statement[];
}

/** Parses a policy as AWS returns it: JSON, possibly URL-encoded (IAM), single statement or list. */
export function parsePolicy(text: string | undefined | null): PolicyDocument | null {
  if (text === undefined || text === null || text.trim() === '') return null;
  const doc = JSON.parse(decodePolicyText(text)) as { Version?: string; Id?: string; Statement?: Statement | Statement[] };
  const statements = doc.Statement === undefined ? [] : Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  return { Version: doc.Version ?? '2012-10-17', ...(doc.Id ? { Id: doc.Id } : {}), Statement: statements };
}

/** IAM returns documents URL-encoded; S3 and EC2 return them as stored. Gives the JSON text either way. */
export function decodePolicyText(text: string): string {
  return text.trimStart().startsWith('{') ? text : decodeURIComponent(text);
}

/** JSON with object keys sorted (array order kept), so equal documents compare equal as strings. */
export function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** True when two documents (or absences) are the same policy. */
export function samePolicy(a: PolicyDocument | null, b: PolicyDocument | null): boolean {
  return canonical(a) === canonical(b);
}

/**
 * Merge by Sid: every statement of `current` whose Sid is not one of `ours` is kept exactly and in
 * order; ours are replaced in place (so a re-run does not reorder the document) or added at the end.
 */
export function mergeBySid(current: PolicyDocument | null, ours: Statement[]): PolicyDocument {
  const bySid = new Map(ours.map((s) => [s.Sid, s]));
  const placed = new Set<string | undefined>();
  const statements: Statement[] = [];
  for (const s of current?.Statement ?? []) {
    if (s.Sid !== undefined && bySid.has(s.Sid)) {
      // A Sid is unique in a valid policy; should a document hold it twice, the copies collapse to one.
      if (!placed.has(s.Sid)) statements.push(bySid.get(s.Sid)!);
      placed.add(s.Sid);
    } else statements.push(s);
  }
  for (const s of ours) if (!placed.has(s.Sid)) statements.push(s);
  return { Version: current?.Version ?? '2012-10-17', ...(current?.Id ? { Id: current.Id } : {}), Statement: statements };
}

/**
 * Statement-level diff, one readable line per statement (`Sid: Allow s3:GetObject on arn:… if {…}`):
 * statements only in the desired document (added) and only in the current one (removed). A statement
 * whose content changed appears in both, under the same Sid.
 */
export interface PolicyDiff {
  added: string[];
  removed: string[];
  unchanged: number;
}

/** The statement diff between two documents (absent = no statements). */
export function diffPolicies(current: PolicyDocument | null, desired: PolicyDocument | null): PolicyDiff {
  const before = new Map((current?.Statement ?? []).map((s) => [canonical(s), s]));
  const after = new Map((desired?.Statement ?? []).map((s) => [canonical(s), s]));
  return {
    added: [...after].filter(([k]) => !before.has(k)).map(([, s]) => renderStatement(s)),
    removed: [...before].filter(([k]) => !after.has(k)).map(([, s]) => renderStatement(s)),
    unchanged: [...after.keys()].filter((k) => before.has(k)).length,
  };
}

/** One line a person can read: `Sid: Effect [principal] actions on resources [if condition]`. */
export function renderStatement(s: Statement): string {
  const parts = [`${s.Sid ?? '(no Sid)'}: ${s.Effect}`];
  if (s.Principal !== undefined) parts.push(`principal ${compact(s.Principal)}`);
  if (s.NotPrincipal !== undefined) parts.push(`all principals except ${compact(s.NotPrincipal)}`);
  parts.push(s.Action !== undefined ? asList(s.Action).join(',') : `all actions except ${asList(s.NotAction).join(',')}`);
  if (s.Resource !== undefined) parts.push(`on ${asList(s.Resource).join(', ')}`);
  if (s.NotResource !== undefined) parts.push(`on all resources except ${asList(s.NotResource).join(', ')}`);
  if (s.Condition !== undefined) parts.push(`if ${compact(s.Condition)}`);
  return parts.join(' ');
}

const compact = (value: unknown) => (typeof value === 'string' ? value : canonical(value));

/** Values of a string-or-list field as a list. */
export function asList(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Sorted union of string lists without duplicates (stable output, so re-runs compare equal). */
export function union(...lists: string[][]): string[] {
  return [...new Set(lists.flat())].sort();
}

/** Size of a document as the services count it against their limits (JSON without whitespace). */
export function policySize(doc: PolicyDocument): number {
  return JSON.stringify(doc).length;
}

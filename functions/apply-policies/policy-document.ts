/**
 * IAM policy documents as data: types, canonical form for comparison, a statement-level diff, and the
 * merge-by-Sid rule every policy this workflow writes follows (ours replace ours; all others kept).
 */

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

export interface PolicyDocument {
  Version: string;
  Id?: string;
  Statement: Statement[];
}

/** Parses a policy as AWS returns it: JSON, possibly URL-encoded (IAM), single statement or list. */
export function parsePolicy(text: string | undefined | null): PolicyDocument | null {
  if (text === undefined || text === null || text === '') return null;
  const json = text.trimStart().startsWith('{') ? text : decodeURIComponent(text);
  const doc = JSON.parse(json) as { Version?: string; Id?: string; Statement?: Statement | Statement[] };
  const statements = doc.Statement === undefined ? [] : Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  return { Version: doc.Version ?? '2012-10-17', ...(doc.Id ? { Id: doc.Id } : {}), Statement: statements };
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
 * order; ours are replaced (or added at the end).
 */
export function mergeBySid(current: PolicyDocument | null, ours: Statement[]): PolicyDocument {
  const ourSids = new Set(ours.map((s) => s.Sid));
  const kept = (current?.Statement ?? []).filter((s) => !(s.Sid && ourSids.has(s.Sid)));
  return { Version: current?.Version ?? '2012-10-17', ...(current?.Id ? { Id: current.Id } : {}), Statement: [...kept, ...ours] };
}

/** Statement-level diff: statements only in `desired` (added), only in `current` (removed). */
export interface PolicyDiff {
  added: Statement[];
  removed: Statement[];
  unchanged: number;
}

export function diffPolicies(current: PolicyDocument | null, desired: PolicyDocument | null): PolicyDiff {
  const key = (s: Statement) => canonical(s);
  const before = new Map((current?.Statement ?? []).map((s) => [key(s), s]));
  const after = new Map((desired?.Statement ?? []).map((s) => [key(s), s]));
  return {
    added: [...after].filter(([k]) => !before.has(k)).map(([, s]) => s),
    removed: [...before].filter(([k]) => !after.has(k)).map(([, s]) => s),
    unchanged: [...after.keys()].filter((k) => before.has(k)).length,
  };
}

/** Values of a string-or-list field as a list. */
export function asList(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

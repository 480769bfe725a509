/**
 * Schema validation for every Lambda: zod's tree-shakable `zod/mini` (the full `zod` package would be
 * ~450 KB of each bundle), with zod's English messages so every error says what is wrong, and the
 * conversion of zod issues into field-named input issues.
 *
 * Module-level schemas of shared modules are written `/* @__PURE__ *\/ (() => z.…)()`: esbuild keeps a
 * top-level `z.object(…)` or `z.string().check(…)` even where nothing uses it (it cannot prove the call
 * chain free of side effects), so every function that imported the module built it at each cold start
 * (stage.ts's whole stage schema in submit-job, job-state.ts's schemas in job-events…). Marked pure, a
 * schema no code of the function uses leaves its bundle; where it is used, nothing changes.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { InvalidInputError, type InputIssue } from './errors.js';

// zod/mini loads no locale by default ("Invalid input" for everything): load the English messages once.
// Schema modules import `zod/mini` themselves (never a re-exported namespace: that would defeat tree
// shaking) and parse only through this module, so the messages are configured before any parse.
z.config(en());

/** Any zod/mini schema. */
export type Schema = z.ZodMiniType;

/** Turns zod issues into field-named input issues: `vpcConfig.subnetIds[1]: must look like …`. */
export function toInputIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[], prefix = ''): InputIssue[] {
  return issues.map((issue) => ({ field: formatPath(prefix, issue.path), message: issue.message }));
}

function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(input)';
}

/** Parses `value` with `schema`; the result as zod gives it (English messages configured). */
export function safeParse<S extends Schema>(schema: S, value: unknown) {
  return z.safeParse(schema, value);
}

/** Parses `value` with `schema` or throws {@link InvalidInputError} naming every bad field. */
export function parseOrThrow<S extends Schema>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const result = safeParse(schema, value);
  if (!result.success) throw new InvalidInputError(toInputIssues(result.error.issues, prefix));
  return result.data;
}

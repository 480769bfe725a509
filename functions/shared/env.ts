/**
 * Environment of the Lambdas, parsed once at module load. A missing or malformed variable fails the
 * cold start with a message naming it, instead of failing later inside a step. Each function parses
 * its own variables with {@link loadEnv}; the stage params (STAGE_*) are read by shared/stage.ts.
 */
import * as z from 'zod/mini';
import { safeParse, type Schema } from './validation.js';
// Module-level schemas: built in `/* @__PURE__ */ (() => …)()`, so a bundle that does not use one drops it (shared/validation.ts).

/** An optional variable: unset or blank is undefined, otherwise trimmed. */
export const optional = /* @__PURE__ */ (() => z.pipe(
  z.optional(z.string()),
  z.transform((v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim())),
))();
/** Parses `source` (default `process.env`) with `schema`; throws naming each bad variable. */
export function loadEnv<S extends Schema>(schema: S, source: NodeJS.ProcessEnv = process.env): z.output<S> {
  const result = safeParse(schema, source);
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid Lambda environment: ${detail}`);
  }
  return result.data;
}

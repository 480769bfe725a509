/** Helpers for recognising AWS SDK v3 service errors without depending on each service's classes. */

/** The service error code (`name`) of an SDK v3 error, or undefined for non-AWS errors. */
export function awsErrorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'name' in err && '$metadata' in err) {
    return String((err as { name: unknown }).name);
  }
  return undefined;
}

/** True when `err` is an SDK error with one of `codes`. */
export function isAwsError(err: unknown, ...codes: string[]): boolean {
  const code = awsErrorCode(err);
  return code !== undefined && codes.includes(code);
}

/** Helpers for recognising AWS SDK v3 service errors without depending on each service's classes. */

/** The service error code (`name`) of an SDK v3 error, or undefined for non-AWS errors. */
export function awsErrorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'name' in err && '$metadata' in err) {
    return String((err as { name: unknown }).name);
  }
  return undefined;
}

/** The HTTP status of the answer an SDK v3 error came from (`$metadata.httpStatusCode`), or undefined. */
export function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null | undefined)?.$metadata?.httpStatusCode;
}

/** True when `err` is an SDK error with one of `codes`. */
export function isAwsError(err: unknown, ...codes: string[]): boolean {
  const code = awsErrorCode(err);
  return code !== undefined && codes.includes(code);
}

/** Throttling and transient service/network error names of the AWS SDK v3 (and Node's socket errors). */
const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  // DynamoDB (the job ledger, the tables of the stack): throttled or conflicting, answered with 400.
  'ProvisionedThroughputExceededException',
  'TransactionConflictException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'InternalServerException',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailableException',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
]);

/**
 * True for an error retrying later can fix: throttling, a 5xx, 429 or 408 answer, a timeout or a dropped
 * connection (by name, Node `code`, HTTP status or the SDK's `$retryable`). Access, validation and
 * not-found errors are not transient. (bedrock-runtime answers a model that is not ready yet with 429,
 * ModelNotReadyException, and one that took too long with 408, ModelTimeoutException: botocore 1.44.18.)
 */
export function isTransientAwsError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (TRANSIENT_NAMES.has(String(e.name)) || TRANSIENT_NAMES.has(String(e.code))) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429 || status === 408)) return true;
  return Boolean(e.$retryable);
}

/**
 * Typed errors of the workflow. Each class `name` equals an `ErrorEquals` value in
 * `statemachines/customize-model.asl.yml`, so Step Functions can route on it (Retry / Catch).
 * Handlers throw these and never catch-and-return: a returned "error result" would defeat Retry/Catch.
 */

/** Base class: keeps the error `name` equal to the class name and carries the original cause. */
export abstract class WorkflowError extends Error {
  protected constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One problem with the job input, named by its field path (for example `vpcConfig.subnetIds[1]`). */
export interface InputIssue {
  field: string;
  message: string;
}

/** The job input is malformed. Raised before any AWS call. */
export class InvalidInputError extends WorkflowError {
  readonly issues: InputIssue[];
  constructor(issues: InputIssue[]) {
    super(`Invalid job input: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
    this.issues = issues;
  }
}

/** The network preflight found at least one failing check. The message lists each failure. */
export class NetworkValidationError extends WorkflowError {
  readonly report: unknown;
  constructor(message: string, report: unknown) {
    super(message);
    this.report = report;
  }
}

/** A policy could not be planned or written. */
export class PolicyApplyError extends WorkflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A policy change was refused because it would lock out a principal that needs access. */
export class PolicyLockoutError extends WorkflowError {
  constructor(message: string) {
    super(message);
  }
}

/** Restoring the previous policy documents failed: the account needs a look by a person. */
export class PolicyRollbackError extends WorkflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A job with the requested name exists but was created by another request (different token). */
export class JobNameConflictError extends WorkflowError {
  constructor(message: string) {
    super(message);
  }
}

/** CreateModelCustomizationJob failed for a reason that retrying will not fix. */
export class JobSubmissionError extends WorkflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The deadline passed, StopModelCustomizationJob was attempted, and it failed. */
export class JobStopError extends WorkflowError {
  constructor(message: string) {
    super(message);
  }
}

/** Turns anything thrown into a short, human-readable string (for reports and logs). */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/**
 * Bedrock refused the job for the account's concurrent-job quota (or throttled it). The state
 * machine retries it with backoff until `maxQuotaWaitSeconds` after the execution started.
 */
export class JobQuotaExceededError extends WorkflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Some of the job's network interfaces are still attached after the job ended. The state machine
 * retries the cleanup with backoff; when they stay attached they are reported, never forced.
 */
export class EnisStillInUseError extends WorkflowError {
  readonly result: unknown;
  constructor(message: string, result: unknown) {
    super(message);
    this.result = result;
  }
}

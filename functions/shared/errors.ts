/**
 * Typed errors of the workflow. Each class `name` is the error name Step Functions sees: an
 * `ErrorEquals` value in `statemachines/customize-model.asl.yml` (Retry / Catch) or the Error of the
 * Fail state the execution ends in. Handlers throw these and never catch-and-return: a returned
 * "error result" would defeat Retry/Catch.
 *
 * Every name is a string literal, never derived from the class (`new.target.name`,
 * `constructor.name`): a minifying bundler renames classes, and every Retry/Catch on the name would
 * silently stop matching. test/unit/error-names.test.ts checks this on a minified bundle.
 */

/** Base class: carries the original cause. Each subclass declares its `name` as a literal. */
export abstract class WorkflowError extends Error {
  abstract override readonly name: string;
  protected constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** One problem with the job input, named by its field path (for example `vpcConfig.subnetIds[1]`). */
export interface InputIssue {
  field: string;
  message: string;
}

/** The job input is malformed. Raised before any AWS call. */
export class InvalidInputError extends WorkflowError {
  override readonly name = 'InvalidInputError' as const;
  readonly issues: InputIssue[];
  constructor(issues: InputIssue[]) {
    super(`Invalid job input: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
    this.issues = issues;
  }
}

/**
 * The stage's configuration (serverless.yml params, passed as STAGE_* environment variables) is
 * malformed or unsafe: the message names each param. Raised before any AWS call; a redeploy fixes it.
 */
export class StageConfigError extends WorkflowError {
  override readonly name = 'StageConfigError' as const;
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid stage configuration (serverless.yml params): ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/**
 * An execution was started with a `handover` input that its claimed predecessor never scheduled (a
 * forged or mistaken input). Nothing is stopped or cleaned up; the execution fails.
 */
export class HandOverRejectedError extends WorkflowError {
  override readonly name = 'HandOverRejectedError' as const;
  constructor(message: string) {
    super(message);
  }
}

/** A hand-over could not be verified for a transient reason (the predecessor's history could not be read); retried. */
export class HandOverUnverifiedError extends WorkflowError {
  override readonly name = 'HandOverUnverifiedError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Another execution holds the lock of a policy document this one must change (PolicyLeasesTable); retried. */
export class PolicyLockBusyError extends WorkflowError {
  override readonly name = 'PolicyLockBusyError' as const;
  constructor(message: string) {
    super(message);
  }
}

/** The network preflight found at least one failing check. The message lists each failure. */
export class NetworkValidationError extends WorkflowError {
  override readonly name = 'NetworkValidationError' as const;
  readonly report: unknown;
  constructor(message: string, report: unknown) {
    super(message);
    this.report = report;
  }
}

/**
 * The training or validation data breaks the format or limits of the job's model: the message names
 * the object, line, field and rule of the first problems, then counts the rest.
 */
export class DatasetValidationError extends WorkflowError {
  override readonly name = 'DatasetValidationError' as const;
  constructor(message: string) {
    super(message);
  }
}

/**
 * A training or validation object is no longer the version the dataset step checked (its ETag no
 * longer matches, or the version is gone) when submit-job copies it into the workflow's snapshot
 * prefix (submit-job/snapshot.ts): someone replaced or deleted it after the check. Nothing was copied
 * for it and no job was submitted; the message names the object, never its content.
 */
export class DatasetChangedError extends WorkflowError {
  override readonly name = 'DatasetChangedError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * S3 refused to serve a training or validation object to the dataset step (GetObject or HeadObject):
 * the message names the object (its s3:// URI), the call and S3's error code and HTTP status (e.g.
 * AccessDenied, 403), never any of the object's data.
 */
export class DatasetUnreadableError extends WorkflowError {
  override readonly name = 'DatasetUnreadableError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The job's estimated training tokens or cost are above its cap (the stage's or the job's budget). */
export class TrainingBudgetExceededError extends WorkflowError {
  override readonly name = 'TrainingBudgetExceededError' as const;
  constructor(message: string) {
    super(message);
  }
}

/** A policy could not be planned or written. */
export class PolicyApplyError extends WorkflowError {
  override readonly name = 'PolicyApplyError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A policy change was refused because it would lock out a principal that needs access. */
export class PolicyLockoutError extends WorkflowError {
  override readonly name = 'PolicyLockoutError' as const;
  constructor(message: string) {
    super(message);
  }
}

/** Restoring the previous policy documents failed: the account needs a look by a person. */
export class PolicyRollbackError extends WorkflowError {
  override readonly name = 'PolicyRollbackError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A job with the requested name exists but was created by another request (different token). */
export class JobNameConflictError extends WorkflowError {
  override readonly name = 'JobNameConflictError' as const;
  constructor(message: string) {
    super(message);
  }
}

/**
 * The job ledger (shared/ledger.ts) does not record this execution as the job's owner or supervisor: the
 * job (or its name) is another execution's. Nothing is stopped, released or deleted; the execution ends.
 */
export class JobNotOursError extends WorkflowError {
  override readonly name = 'JobNotOursError' as const;
  constructor(message: string) {
    super(message);
  }
}

/** A StopModelCustomizationJob request failed with a transient error (throttling, 5xx) after the SDK's attempts; retried. */
export class JobStopUnavailableError extends WorkflowError {
  override readonly name = 'JobStopUnavailableError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** CreateModelCustomizationJob failed for a reason that retrying will not fix. */
export class JobSubmissionError extends WorkflowError {
  override readonly name = 'JobSubmissionError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * CreateModelCustomizationJob (or the look-up of the job by name) failed with a transient error (5xx,
 * timeout, dropped connection): the job may or may not exist. The state machine retries SubmitJob with
 * the same token, then ReconcileSubmission looks the job up by name; the SDK error is the cause.
 */
export class JobSubmissionUncertainError extends WorkflowError {
  override readonly name = 'JobSubmissionUncertainError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The deadline passed, StopModelCustomizationJob was attempted, and it failed. */
export class JobStopError extends WorkflowError {
  override readonly name = 'JobStopError' as const;
  constructor(message: string) {
    super(message);
  }
}

/**
 * GetModelCustomizationJob failed with a transient error (throttling, 5xx, network, timeout) after the
 * SDK's own attempts. The state machine retries PollStatus for hours; the SDK error is the cause.
 */
export class JobStatusUnavailableError extends WorkflowError {
  override readonly name = 'JobStatusUnavailableError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Turns anything thrown into a short, human-readable string (for reports and logs). */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/**
 * Bedrock refused the job for the account's concurrent-job quota (or throttled it). The state
 * machine waits (PlanQuotaWait, QuotaWait) and submits again until `maxQuotaWaitSeconds` after the
 * execution started; then submit-job raises {@link JobSubmissionError} instead.
 */
export class JobQuotaExceededError extends WorkflowError {
  override readonly name = 'JobQuotaExceededError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Some of the job's network interfaces are still attached after the job ended. The state machine
 * retries the cleanup with backoff; when they stay attached they are reported, never forced.
 */
export class EnisStillInUseError extends WorkflowError {
  override readonly name = 'EnisStillInUseError' as const;
  readonly result: unknown;
  constructor(message: string, result: unknown) {
    super(message);
    this.result = result;
  }
}

/** The evaluation gate cannot run for this job: its base model, Region or customization type has no documented on-demand deployment (functions/shared/evaluation-support.ts), or its custom model is not Active. Raised before anything is deployed. */
export class EvaluationUnsupportedError extends WorkflowError {
  override readonly name = 'EvaluationUnsupportedError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The evaluation gate's estimated (or used) cost or tokens exceed the job's budget (`evaluation.maxCostUsd`, at most the stage's maxEvaluationCostUsd). Raised before the gate spends, and while it generates responses. */
export class EvaluationBudgetExceededError extends WorkflowError {
  override readonly name = 'EvaluationBudgetExceededError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The held-out evaluation dataset is missing, unreadable or malformed (JSON Lines of `prompt`, `referenceResponse`, optional `category`; at most the job's `evaluation.maxPrompts` records). The Cause names the line, never its content. */
export class EvaluationDatasetError extends WorkflowError {
  override readonly name = 'EvaluationDatasetError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Bedrock refused CreateCustomModelDeployment for the account's quota; retried with backoff. */
export class DeploymentQuotaExceededError extends WorkflowError {
  override readonly name = 'DeploymentQuotaExceededError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Bedrock refused CreateEvaluationJob for the account's quota; retried with backoff. */
export class EvaluationQuotaExceededError extends WorkflowError {
  override readonly name = 'EvaluationQuotaExceededError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The custom model deployment ended Failed (Bedrock's failureMessage in the Cause). */
export class DeploymentFailedError extends WorkflowError {
  override readonly name = 'DeploymentFailedError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** An evaluation job ended Failed or Stopped (Bedrock's failureMessages in the Cause), or its result files are missing or malformed. */
export class EvaluationJobFailedError extends WorkflowError {
  override readonly name = 'EvaluationJobFailedError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A gate call failed transiently (5xx, timeout, dropped connection) after the SDK's own attempts: the Task is retried with the same client request token, so a resource an earlier attempt created is adopted. */
export class EvaluationUncertainError extends WorkflowError {
  override readonly name = 'EvaluationUncertainError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The evaluation gate's verdict is reject: the custom model did not meet the thresholds against its base model. Its deployment was deleted; the Cause names each metric and by how much it lost. */
export class ModelRejectedError extends WorkflowError {
  override readonly name = 'ModelRejectedError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The job ledger does not record this deployment or evaluation job as this execution's: nothing was stopped or deleted. */
export class EvaluationNotOursError extends WorkflowError {
  override readonly name = 'EvaluationNotOursError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * What one error name of this workflow means (a class below, or a Fail state's `Error:` in the ASL).
 * Which states retry, catch, route or end with it is not written here: scripts/docs.ts reads it from
 * the ASL and renders both into docs/errors.md.
 */
export interface ErrorCatalogueEntry {
  /** The error name as Step Functions sees it (`$.error.Error`, the execution's error). */
  readonly name: string;
  readonly meaning: string;
  readonly whatToDo: string;
}

/**
 * What to do about each error of {@link ERROR_CATALOGUE}, by name: apart from the catalogue, so a bundle that
 * needs only the remedy (notify's message, through the execution view) does not carry the whole catalogue.
 */
export const ERROR_REMEDIES: Readonly<Record<string, string>> = {
  InvalidInputError: 'Fix the named fields and start a new execution. Nothing was written.',
  StageConfigError: 'Fix the named params and redeploy the stage (docs/configuration.md "Configuration: stage params"), then start a new execution. Nothing was written.',
  HandOverRejectedError: 'Nothing to undo. Start jobs with a job input (docs/configuration.md "The job input"); only the workflow itself hands jobs over.',
  HandOverUnverifiedError: 'Check Step Functions and Bedrock availability; the job was stopped by the reaper if the hand-over was real.',
  PolicyLockBusyError: 'Nothing, unless it persists: then look for a stuck lock item (pk lock#…) in PolicyLeasesTable; it expires by itself.',
  NetworkValidationError: 'Fix the network (or the input that points at it) as the Cause says, then start a new execution. Nothing was written.',
  DatasetValidationError: 'Fix the named lines (docs/datasets.md "Dataset checks" lists each rule and its source), upload the data again and start a new execution. Nothing was written.',
  DatasetChangedError:
    'Find out who wrote the object after the check (CloudTrail data events: PutObject, DeleteObject); if the new data ' +
    'is wanted, start a new execution, which checks it again. Keep writers off the data while a job starts.',
  DatasetUnreadableError:
    'Fix what S3\'s error code names for the object in the Cause: its URI (NoSuchKey, NoSuchBucket), or its access ' +
    '(AccessDenied: the dataset step\'s role, the bucket policy, the object\'s KMS key), then start a new execution. Nothing was written.',
  TrainingBudgetExceededError: 'Train on less data or fewer epochs, or raise the cap (the job\'s budget up to the stage\'s, or the stage params), then start a new execution. Nothing was written.',
  PolicyLockoutError:
    'Check the principals named in the Cause (list a role ARN, not a role session), or set that policy to "skip" ' +
    'and manage it by hand; then start a new execution.',
  PolicyApplyError: 'Fix what the Cause names (permissions, endpoint, the conflicting change), then start a new execution.',
  PolicyRollbackError:
    'A person must restore the resources the Cause lists (the previous documents are in the plan, the input of ' +
    'RollbackPolicies) before the next execution.',
  JobNameConflictError: 'Choose another jobName, or leave it out to derive one from the execution. The applied policies stay (idempotent).',
  JobNotOursError:
    'Nothing to undo. Follow the execution the Cause names (bvc status). To run the same data again, start with another ' +
    'jobName. An execution started before the ledger existed is not in it: let such executions end before upgrading.',
  JobStopUnavailableError: 'Nothing, unless it persists: then the execution goes on checking the job, and stops it by hand if the Cause says it could not.',
  JobQuotaExceededError:
    'Nothing: it never ends the execution. If the wait is too long or too short, set maxQuotaWaitSeconds (at most 7 days); ' +
    'for a higher quota, ask AWS.',
  JobSubmissionError: 'Fix what the Cause names (base model, data, role, quota), then start a new execution. The applied policies stay.',
  JobSubmissionUncertainError:
    'Usually nothing. If it ended the execution: check with aws bedrock get-model-customization-job --job-identifier ' +
    '<jobName> and stop the job if it runs; check Bedrock\'s health.',
  JobStopError: 'Stop the job by hand (aws bedrock stop-model-customization-job); the janitor deletes its ENIs once it has ended.',
  JobStatusUnavailableError: 'Usually nothing. If it persists, check Bedrock\'s health and the account\'s API quotas.',
  EnisStillInUseError: 'Usually nothing: Bedrock detaches them and the janitor deletes them. If they stay, check who attached them.',
  JobFailedError: 'Fix what the failure message names (training data, hyperparameters, model access), then start a new execution.',
  JobDeadlineExceededError: 'Raise maxJobDurationSeconds (or maxExecutionsPerJob, or the job\'s polling intervals) or make the job smaller, then start a new execution.',
  JobStoppedError: 'Find who stopped it (CloudTrail: StopModelCustomizationJob); start a new execution if the job is still wanted.',
  UnexpectedOutcomeError: 'Read the execution history and report it; check the job in the Bedrock console.',
  EvaluationUnsupportedError: 'Choose a base model and Region that support on-demand deployment (docs/evaluation.md "What it cannot do"), or leave `evaluation` out. The trained model is kept.',
  EvaluationBudgetExceededError: 'Evaluate fewer prompts (`evaluation.maxPrompts`), fewer metrics or shorter responses, or raise `evaluation.maxCostUsd` (up to the stage\'s maxEvaluationCostUsd).',
  EvaluationDatasetError: 'Fix the named line of the held-out dataset (docs/evaluation.md "The held-out dataset"), then start a new execution.',
  DeploymentQuotaExceededError: 'Nothing unless it ends the execution: then delete unused custom model deployments or ask AWS for a higher quota.',
  EvaluationQuotaExceededError: 'Nothing unless it ends the execution: then wait for running evaluation jobs to end or ask AWS for a higher quota.',
  DeploymentFailedError: 'Fix what Bedrock\'s failure message names (model access, KMS key permissions), then evaluate again with a new execution.',
  EvaluationJobFailedError: 'Fix what Bedrock\'s failure messages name (the role\'s access to the evaluation bucket and the judge model), then start a new execution.',
  EvaluationUncertainError: 'Usually nothing. If it ended the execution, check Bedrock\'s health; EvaluationCleanup deleted what the ledger recorded.',
  ModelRejectedError: 'Improve the training data or hyper-parameters and train again; or lower the thresholds if they were too strict. The custom model is kept, its deployment deleted.',
  EvaluationNotOursError: 'Nothing to undo: the resource belongs to another execution (bvc status).',
  JobUnwatchedError:
    'Stop the job by hand (aws bedrock stop-model-customization-job) and fix what the Cause names (often the ' +
    'permissions of the poll-status role or of the state machine role); the janitor deletes its ENIs.',
};

/** The catalogue's entries with their remedy from {@link ERROR_REMEDIES} (every entry must have one). */
function withRemedies(entries: readonly Omit<ErrorCatalogueEntry, 'whatToDo'>[]): readonly ErrorCatalogueEntry[] {
  return entries.map((entry) => {
    const whatToDo = ERROR_REMEDIES[entry.name];
    if (whatToDo === undefined) throw new Error(`ERROR_REMEDIES has no entry for ${entry.name}`);
    return { ...entry, whatToDo };
  });
}

/** Every error name of ours the workflow can raise, route on or end with. Built by a pure call, so a bundle that does not use it drops it. */
export const ERROR_CATALOGUE: readonly ErrorCatalogueEntry[] = /* @__PURE__ */ withRemedies([
  {
    name: 'InvalidInputError',
    meaning:
      'The job input is malformed; the Cause names each field and its problem. Raised before any AWS call ' +
      '(every Lambda step raises it for a malformed event, which only a changed state machine would send).',
  },
  {
    name: 'StageConfigError',
    meaning:
      'A stage param (serverless.yml `params`, passed to the Lambdas as STAGE_* variables) is malformed, or names a role, ' +
      'key or principal of another account or partition; the Cause names each param. Raised before any AWS call.',
  },
  {
    name: 'HandOverRejectedError',
    meaning:
      'The execution was started with a `handover` input (the continuation of a running job), but the execution it names ' +
      'never started it with that hand-over (its history is the proof), or the job is not tagged as this chain\'s. A forged ' +
      'or mistaken input: no job was stopped, no ENI deleted, no policy written.',
  },
  {
    name: 'HandOverUnverifiedError',
    meaning:
      'The predecessor\'s history or the job\'s tags could not be read (throttling, a service error): retried for about ten ' +
      'minutes, then the execution fails without acting. The reaper then verifies the hand-over itself and stops the job ' +
      'if it was a real one (no job is left running unwatched).',
  },
  {
    name: 'PolicyLockBusyError',
    meaning:
      'Another execution is changing the same policy document (its lock in PolicyLeasesTable, at most 120 s): retried ' +
      'with backoff for a few minutes. Writes to one document never interleave.',
  },
  {
    name: 'NetworkValidationError',
    meaning: 'The network preflight found at least one failing check; the Cause lists each failure.',
  },
  {
    name: 'DatasetValidationError',
    meaning:
      "The training or validation data breaks the format or the limits of the job's model (record shape, record counts, " +
      'tokens per record, file size); the Cause names the object, line, field and rule of the first problems and counts the rest.',
  },
  {
    name: 'DatasetChangedError',
    meaning:
      'A training or validation object changed (replaced or deleted) after ValidateDataset checked it: SubmitJob copies ' +
      'exactly the checked version (its ETag, and its version id when the bucket has versioning) into the output prefix ' +
      'before submitting, and S3 refused the copy (precondition failed, or no such version). No job was submitted for ' +
      'it; the Cause names the object, never its content.',
  },
  {
    name: 'DatasetUnreadableError',
    meaning:
      'S3 refused to serve a training or validation object to the dataset step (GetObject, or HeadObject for data it does ' +
      "not check); the Cause names the object's s3:// URI, the call and S3's error code and HTTP status (AccessDenied 403, " +
      'NoSuchKey 404, …), never its data.',
  },
  {
    name: 'TrainingBudgetExceededError',
    meaning: "The job's estimated training tokens (records' tokens x epochs) or cost are above its cap (stage params maxTrainingTokens, maxTrainingCostUsd, or the job's budget).",
  },
  {
    name: 'PolicyLockoutError',
    meaning:
      'The planned bucket policy would deny a protected principal (the workflow role, an exempt principal) access it has ' +
      'today from outside the VPC. Refused while planning: nothing was written.',
  },
  {
    name: 'PolicyApplyError',
    meaning:
      'A policy could not be read, planned or written (no S3 gateway endpoint, a document over its size limit, ' +
      'a policy changed since the plan, a refused write). When writing failed, RollbackPolicies restored what ' +
      'this execution wrote; the Cause ends with the rollback summary.',
  },
  {
    name: 'PolicyRollbackError',
    meaning:
      'Writing the policies failed and restoring the previous documents failed too (retried a few times: rollback is ' +
      'idempotent): some policies are left as this execution wrote them.',
  },
  {
    name: 'JobNameConflictError',
    meaning:
      'A job with the requested jobName exists and was not created by this execution (found by SubmitJob, or by ' +
      'ReconcileSubmission after a submission that kept failing).',
  },
  {
    name: 'JobNotOursError',
    meaning:
      'The job ledger (JobLedgerTable) does not record this execution as the owner or the supervisor of the job: the job ' +
      'name was reserved by another execution (a duplicate upload delivery, a second start with the same name), or ' +
      'another execution supervises the job now. Nothing was stopped, released or deleted; the other execution\'s job ' +
      'goes on under its own supervision. (WaitForJobEvent and CleanupEnis report it in $.jobEvent / $.cleanupError.)',
  },
  {
    name: 'JobStopUnavailableError',
    meaning: 'StopModelCustomizationJob failed with a transient error (throttling, 5xx) after the SDK\'s own attempts; retried a few times.',
  },
  {
    name: 'JobQuotaExceededError',
    meaning:
      "Bedrock refused the job for the account's concurrent-job quota (or throttled it). SubmitJob's Catch goes to " +
      'PlanQuotaWait and QuotaWait (60 s doubling to 15 min, never past maxQuotaWaitSeconds after the execution ' +
      'started) and submits again with the same token; once maxQuotaWaitSeconds have passed the Lambda raises ' +
      'JobSubmissionError instead. The last one is in $.quotaWait.error.',
  },
  {
    name: 'JobSubmissionError',
    meaning:
      'CreateModelCustomizationJob was refused for a reason retrying will not fix (validation, access denied, ' +
      'resource not found), or the quota was still reached after maxQuotaWaitSeconds (the quota wait is over), or ' +
      'it kept failing (5xx, timeouts); and ReconcileSubmission found no job of that name (an earlier attempt may ' +
      'have created it): nothing was created.',
  },
  {
    name: 'JobSubmissionUncertainError',
    meaning:
      'CreateModelCustomizationJob failed with a transient error (5xx, timeout, dropped connection): the job may or may ' +
      'not exist. SubmitJob retries it (same client request token) for at most 4.5 minutes; then ReconcileSubmission looks ' +
      'the job up by name and adopts it when its token is ours (the execution goes on to PollStatus). It ends the ' +
      'execution in SubmitFailed only when that look-up kept failing too (about an hour): the job may exist and run unfollowed.',
  },
  {
    name: 'JobStopError',
    meaning:
      'The job passed its deadline and StopModelCustomizationJob failed (its error is in the Cause): the job may ' +
      'still be running. ENI cleanup was skipped (its ENIs may still be in use).',
  },
  {
    name: 'JobStatusUnavailableError',
    meaning:
      'GetModelCustomizationJob failed with a transient error (throttling, 5xx, network, timeout) after the SDK\'s own ' +
      'attempts. PollStatus retries it for about 6 hours (ConfirmStopped for about 55 minutes); when it persists, ' +
      'PollStatus goes to StopUnwatchedJob and the job is stopped (the execution then ends with this error after cleanup, ' +
      'or in JobUnwatched).',
  },
  {
    name: 'EnisStillInUseError',
    meaning:
      "Some of the job's network interfaces were still attached after the job ended. CleanupEnis retries for about " +
      '15 minutes, then records them in $.cleanupError (never forced) and the execution goes on to its outcome.',
  },
  {
    name: 'JobFailedError',
    meaning:
      "Bedrock reports the job Failed, or reports one of its phases (statusDetails: validation, data processing, " +
      'training) Failed while the job was still InProgress, and this workflow stopped the job at once. The Cause is ' +
      "Bedrock's failure message, with the phase named when one failed. Its ENIs were cleaned up.",
  },
  {
    name: 'JobDeadlineExceededError',
    meaning:
      'The job ran past maxJobDurationSeconds, or used the executions the stage allows one job (maxExecutionsPerJob; the Cause ' +
      'says which), and this workflow stopped it. Its ENIs were cleaned up.',
  },
  {
    name: 'JobStoppedError',
    meaning: 'The job was stopped outside this workflow (console, CLI, another tool). Its ENIs were cleaned up.',
  },
  {
    name: 'UnexpectedOutcomeError',
    meaning: 'Outcome was reached with no error and no terminal job status. Should not happen: a bug in the workflow.',
  },
  {
    name: 'JobUnwatchedError',
    meaning:
      'The job could not be followed (PollStatus failed for good: retries exhausted, access denied, …), this workflow ' +
      'asked Bedrock to stop it, and no terminal status could be confirmed (the stop or the status check failed). The ' +
      'job may still be running and costing money; no execution follows it. ENI cleanup was skipped. The Cause names ' +
      'the PollStatus error; $.stopError and $.confirmError in the last state\'s input have the rest.',
  },
  {
    name: 'EvaluationUnsupportedError',
    meaning: 'The evaluation gate cannot run for this job: its base model, Region or customization type has no documented on-demand deployment (functions/shared/evaluation-support.ts), or its custom model is not Active. Raised before anything is deployed.',
  },
  {
    name: 'EvaluationBudgetExceededError',
    meaning: 'The evaluation gate\'s estimated (or used) cost or tokens exceed the job\'s budget (`evaluation.maxCostUsd`, at most the stage\'s maxEvaluationCostUsd). Raised before the gate spends, and while it generates responses.',
  },
  {
    name: 'EvaluationDatasetError',
    meaning: 'The held-out evaluation dataset is missing, unreadable or malformed (JSON Lines of `prompt`, `referenceResponse`, optional `category`; at most the job\'s `evaluation.maxPrompts` records). The Cause names the line, never its content.',
  },
  {
    name: 'DeploymentQuotaExceededError',
    meaning: 'Bedrock refused CreateCustomModelDeployment for the account\'s quota; retried with backoff.',
  },
  {
    name: 'EvaluationQuotaExceededError',
    meaning: 'Bedrock refused CreateEvaluationJob for the account\'s quota; retried with backoff.',
  },
  {
    name: 'DeploymentFailedError',
    meaning: 'The custom model deployment ended Failed (Bedrock\'s failureMessage in the Cause).',
  },
  {
    name: 'EvaluationJobFailedError',
    meaning: 'An evaluation job ended Failed or Stopped (Bedrock\'s failureMessages in the Cause), or its result files are missing or malformed.',
  },
  {
    name: 'EvaluationUncertainError',
    meaning: 'A gate call failed transiently (5xx, timeout, dropped connection) after the SDK\'s own attempts: the Task is retried with the same client request token, so a resource an earlier attempt created is adopted.',
  },
  {
    name: 'ModelRejectedError',
    meaning: 'The evaluation gate\'s verdict is reject: the custom model did not meet the thresholds against its base model. Its deployment was deleted; the Cause names each metric and by how much it lost.',
  },
  {
    name: 'EvaluationNotOursError',
    meaning: 'The job ledger does not record this deployment or evaluation job as this execution\'s: nothing was stopped or deleted.',
  },
]);

/** What a service error name (`States.*`, `Lambda.*`, …) the state machine names in a Retry or Catch means. */
export interface ServiceErrorEntry {
  readonly name: string;
  readonly meaning: string;
}

/** The service error names the ASL routes on (for docs/errors.md, with their states from the ASL; no code raises them). Plain literals, so bundles tree-shake it. */
export const SERVICE_ERRORS: readonly ServiceErrorEntry[] = [
  {
    name: 'States.ALL',
    meaning:
      "Any error. Each Task's last Catch names it, after its Retries and its Catches by name: to roll back before failing, " +
      'to look for a job a failed submission may have created, to stop a job that can no longer be followed, or to go on ' +
      'checking the job (a wait that could not register, a hand-over or a stop request that failed).',
  },
  { name: 'Lambda.ServiceException', meaning: 'A transient Lambda service error while invoking the function.' },
  { name: 'Lambda.AWSLambdaException', meaning: 'A transient Lambda service error while invoking the function.' },
  { name: 'Lambda.SdkClientException', meaning: 'A transient Lambda client error while invoking the function.' },
  { name: 'Lambda.TooManyRequestsException', meaning: "The function's concurrency (or the account's) is exhausted." },
  {
    name: 'StepFunctions.ExecutionLimitExceededException',
    meaning: "The account's open-execution limit was reached while starting the successor execution.",
  },
  { name: 'StepFunctions.ThrottlingException', meaning: 'StartExecution was throttled.' },
  { name: 'StepFunctions.SdkClientException', meaning: 'StartExecution failed on the client side.' },
  {
    name: 'StepFunctions.ExecutionAlreadyExistsException',
    meaning:
      'An execution of the successor\'s name exists and is not this start (a repeated start of a running execution with ' +
      'the same input answers that execution instead): this execution keeps following the job (PollStatus takes it back ' +
      'from the unclaimed successor in the job ledger) and hands it over later under the next generation\'s name.',
  },
  {
    name: 'States.Timeout',
    meaning:
      "A Task ran past its TimeoutSeconds (States Language: States.Timeout). Retried with the step's own transient " +
      'error (HandOverUnverifiedError for the hand-over, JobSubmissionUncertainError for the submission, ' +
      'JobStatusUnavailableError for the status check). An execution that runs past its own TimeoutSeconds ends with it too.',
  },
  {
    name: 'Lambda.Unknown',
    meaning: "The Lambda timed out or crashed (for example out of memory). Retried with the step's own transient error.",
  },
  {
    name: 'Sandbox.Timedout',
    meaning: "The Lambda timed out. Retried with the step's own transient error.",
  },
];

/**
 * A Lambda error's Cause is `{"errorType","errorMessage"[,"trace"]}` JSON (Lambda's error response):
 * the message is what a person reads. Any other Cause is returned as is ('' when there is none).
 */
export function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown } | null;
    if (typeof parsed?.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the cause as is
  }
  return cause;
}

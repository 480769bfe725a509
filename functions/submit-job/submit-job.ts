/**
 * submit-job: CreateModelCustomizationJob with the job's vpcConfig, idempotently.
 *
 * The `clientRequestToken` is derived from the execution, so a retried task sends the same request;
 * Bedrock answers a repeated request with the job it already created. Where it answers instead that
 * the job name is in use, the job is adopted when its token is ours, and refused otherwise.
 *
 * A failure that leaves open whether the job was created (a 5xx, a timeout, a dropped connection)
 * is {@link JobSubmissionUncertainError}: the state machine retries SubmitJob with the same token, and
 * when the retries run out ReconcileSubmission ({@link reconcileSubmission}) looks the job up by name.
 */
import {
  CreateModelCustomizationJobCommand,
  GetModelCustomizationJobCommand,
  StopModelCustomizationJobCommand,
  type BedrockClient,
  type CreateModelCustomizationJobCommandInput,
  type InvocationLogsConfig,
  type RequestMetadataFilters,
} from '@aws-sdk/client-bedrock';
import type { JobInput, Execution } from '../shared/job-input.js';
import { QUOTA_WAIT, type QuotaWait, type Submission } from '../shared/job-state.js';
import { awsErrorCode, isAwsError, isTransientAwsError } from '../shared/aws-errors.js';
import {
  JobNameConflictError,
  JobNotOursError,
  JobQuotaExceededError,
  JobSubmissionError,
  JobSubmissionUncertainError,
  describeError,
  causeMessage,
} from '../shared/errors.js';
import { CHAIN_EXECUTION_TAG } from '../shared/chain.js';
import type { Ledger } from '../shared/ledger.js';
import type { S3Client } from '@aws-sdk/client-s3';
import { snapshotDatasets, type SnapshotInput } from './snapshot.js';

/** Tag put on every job: the chain's first execution, which created it (audits; the reaper's ownership check). */
export const EXECUTION_TAG = CHAIN_EXECUTION_TAG;

export interface SubmitJobDeps {
  bedrock: Pick<BedrockClient, 'send'>;
  /** The job ledger: the name is reserved for this chain before the job is created (shared/ledger.ts). */
  ledger: Ledger;
  /** Copies the checked data into the job's snapshot (snapshot.ts). */
  s3: Pick<S3Client, 'send'>;
  now: () => Date;
}

/**
 * The CreateModelCustomizationJob request for `job` (pure: exported for tests): the SDK's shapes as the
 * job input holds them (its schema follows the API's, see shared/job-input.ts), `customizationConfig`
 * for DISTILLATION and REINFORCEMENT_FINE_TUNING, and `trainingDataConfig` with the snapshot's training
 * file or the job's invocation logs.
 */
export function buildCreateRequest(job: JobInput, execution: Execution, trainedOn?: Submission['trainedOn']): CreateModelCustomizationJobCommandInput {
  const training = trainedOn ? trainedOn.trainingDataS3Uri : job.trainingDataS3Uri;
  const validation = trainedOn?.validationDataS3Uris ?? job.validationDataS3Uris;
  const tags = (map: Record<string, string>) => Object.entries(map).map(([key, value]) => ({ key, value }));
  return {
    jobName: job.jobName,
    customModelName: job.customModelName,
    roleArn: job.roleArn,
    clientRequestToken: job.clientRequestToken,
    baseModelIdentifier: job.baseModelIdentifier,
    customizationType: job.customizationType,
    ...(job.customModelKmsKeyId ? { customModelKmsKeyId: job.customModelKmsKeyId } : {}),
    jobTags: tags({ ...job.jobTags, [EXECUTION_TAG]: execution.id }),
    ...(Object.keys(job.customModelTags).length > 0 ? { customModelTags: tags(job.customModelTags) } : {}),
    ...customizationConfig(job),
    trainingDataConfig: job.invocationLogsConfig ? { invocationLogsConfig: invocationLogsConfig(job.invocationLogsConfig) } : { s3Uri: training },
    ...(validation.length > 0 ? { validationDataConfig: { validators: validation.map((s3Uri) => ({ s3Uri })) } } : {}),
    outputDataConfig: { s3Uri: job.outputDataS3Uri },
    ...(Object.keys(job.hyperParameters).length > 0 ? { hyperParameters: job.hyperParameters } : {}),
    vpcConfig: { subnetIds: job.vpcConfig.subnetIds, securityGroupIds: job.vpcConfig.securityGroupIds },
  };
}

/** `customizationConfig` as the SDK's union takes it: the one member the job sets (none for fine-tuning and continued pre-training). */
function customizationConfig(job: JobInput): Pick<CreateModelCustomizationJobCommandInput, 'customizationConfig'> {
  const { distillationConfig, rftConfig } = job.customizationConfig ?? {};
  if (distillationConfig) return { customizationConfig: { distillationConfig } };
  if (rftConfig) return { customizationConfig: { rftConfig } };
  return {};
}

/** `invocationLogsConfig` with its filters as the SDK's union takes them: the one member the job sets. */
function invocationLogsConfig(config: NonNullable<JobInput['invocationLogsConfig']>): InvocationLogsConfig {
  const { requestMetadataFilters: f, ...rest } = config;
  if (!f) return rest;
  const filters: RequestMetadataFilters = f.equals
    ? { equals: f.equals }
    : f.notEquals
      ? { notEquals: f.notEquals }
      : f.andAll
        ? { andAll: f.andAll }
        : { orAll: f.orAll ?? [] };
  return { ...rest, requestMetadataFilters: filters };
}

/** Submits (or adopts) the job and returns what the rest of the execution follows. */
export async function submitJob(job: JobInput, execution: Execution, dataset: SnapshotInput['dataset'], deps: SubmitJobDeps): Promise<Submission> {
  // The ledger first: a name another chain reserved is JobNotOursError, before any call to Bedrock.
  await deps.ledger.reserve({
    jobName: job.jobName,
    owner: execution.id,
    clientRequestToken: job.clientRequestToken,
    network: job.vpcConfig,
    maxJobDurationSeconds: job.maxJobDurationSeconds + job.maxQuotaWaitSeconds,
  });
  // Trained bytes = checked bytes: the job trains on a copy of exactly the objects ValidateDataset read.
  const snapshot = await snapshotDatasets({ job, dataset }, { s3: deps.s3 });
  const trainedOn = { ...(snapshot.trainingDataS3Uri !== undefined ? { trainingDataS3Uri: snapshot.trainingDataS3Uri } : {}), validationDataS3Uris: snapshot.validationDataS3Uris };
  const request = buildCreateRequest(job, execution, trainedOn);
  let result: Submission;
  try {
    const out = await deps.bedrock.send(new CreateModelCustomizationJobCommand(request));
    result = submission(job, out.jobArn!, false, deps.now());
  } catch (err) {
    if (!isNameInUse(err)) throw classify(err, job, execution, deps.now());
    result = await adopt(job, deps);
  }
  await record(result, execution, deps);
  return { ...result, trainedOn };
}

/**
 * Records the created or adopted job in the ledger entry this chain reserved (JobNotOursError otherwise).
 * When the reaper took the entry over meanwhile (this execution ended while Create was in flight), no
 * execution will follow the job this call created: it is stopped here, then JobNotOursError.
 */
async function record(result: Submission, execution: Execution, deps: SubmitJobDeps): Promise<void> {
  const recorded = await deps.ledger.recordSubmission(result.jobName, execution.id, { jobArn: result.jobArn, submittedAt: result.submittedAt, deadline: result.deadline });
  if (recorded === 'recorded') return;
  await deps.bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: result.jobArn }));
  throw new JobNotOursError(
    `Execution ${execution.id} ended while job ${result.jobArn} was being created, and the reaper took its ledger entry over: ` +
      'the job was stopped, since no execution follows it.',
  );
}

/** The name is taken: adopt the job when it was created with our token (a retried task). */
async function adopt(job: JobInput, deps: SubmitJobDeps): Promise<Submission> {
  let existing;
  try {
    existing = await deps.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: job.jobName }));
  } catch (err) {
    if (!isTransientAwsError(err)) throw err;
    throw new JobSubmissionUncertainError(`Job "${job.jobName}" exists, but could not be looked up: ${describeError(err)}`, { cause: err });
  }
  return adoptExisting(job, existing, deps);
}

/** Adopts `existing` (the job named `job.jobName`) when its token is ours; refuses it otherwise. */
function adoptExisting(
  job: JobInput,
  existing: { jobArn?: string; clientRequestToken?: string; creationTime?: Date },
  deps: SubmitJobDeps,
): Submission {
  if (existing.clientRequestToken !== job.clientRequestToken) {
    throw new JobNameConflictError(
      `A model customization job named "${job.jobName}" already exists (${existing.jobArn}) and was not created by this execution. ` +
        'Choose another jobName, or leave it out to derive one from the execution.',
    );
  }
  return submission(job, existing.jobArn!, true, existing.creationTime ?? deps.now());
}

function submission(job: JobInput, jobArn: string, adopted: boolean, submittedAt: Date): Submission {
  return {
    jobArn,
    jobName: job.jobName,
    adopted,
    submittedAt: submittedAt.toISOString(),
    deadline: new Date(submittedAt.getTime() + job.maxJobDurationSeconds * 1000).toISOString(),
  };
}

function isNameInUse(err: unknown): boolean {
  const code = awsErrorCode(err);
  if (code === undefined) return false;
  const message = err instanceof Error ? err.message : '';
  return (
    code === 'ResourceInUseException' ||
    ((code === 'ValidationException' || code === 'ConflictException') && /already (exists|in use)|currently in use/i.test(message))
  );
}

/** What SubmitJob's Catch wrote (`$.error`): the error that ended the submission attempts. */
export interface CaughtError {
  Error?: string;
  Cause?: string;
}

/**
 * ReconcileSubmission: SubmitJob failed, and one of its attempts may have created the job (its retries
 * ran out on 5xx, timeouts, Lambda errors; or a refusal came after such an attempt). Looks the job up by name: when it exists with our
 * client request token it was created by this execution and is adopted (the execution follows it as
 * if the submission had answered); when no job has the name, nothing was created and the submission
 * fails with {@link JobSubmissionError}; a job of that name with another token is
 * {@link JobNameConflictError}. A lookup that fails transiently is {@link JobSubmissionUncertainError}
 * (retried by the state machine).
 */
export async function reconcileSubmission(job: JobInput, execution: Execution, error: CaughtError, deps: SubmitJobDeps): Promise<Submission> {
  // Only a name this chain reserved can hold a job of ours (a refusal before the reservation left none).
  const entry = await deps.ledger.read(job.jobName);
  if (!entry || entry.owner !== execution.id) {
    if (error.Error === 'JobNotOursError') throw new JobNotOursError(causeMessage(error.Cause) || `The job name "${job.jobName}" is another execution's.`);
    throw new JobSubmissionError(
      `${error.Error ?? 'Error'}: ${causeMessage(error.Cause) || 'no cause given'} | The job ledger holds no reservation of "${job.jobName}" by this execution: no job was created for it.`,
    );
  }
  const failure = `${error.Error ?? 'Error'}: ${(causeMessage(error.Cause) || 'no cause given')}`;
  let existing;
  try {
    existing = await deps.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: job.jobName }));
  } catch (err) {
    if (isAwsError(err, 'ResourceNotFoundException') && error.Error === 'JobSubmissionError') {
      // A refusal, and no earlier attempt created the job: the refusal as it was.
      throw new JobSubmissionError(`${(causeMessage(error.Cause) || 'no cause given')} | No job named "${job.jobName}" exists: there is nothing to clean up.`, {
        cause: err,
      });
    }
    if (isAwsError(err, 'ResourceNotFoundException')) {
      throw new JobSubmissionError(
        `CreateModelCustomizationJob for "${job.jobName}" kept failing (${failure}) and no job of that name exists: ` +
          'nothing was created, there is nothing to clean up. Start a new execution once the cause is gone.',
        { cause: err },
      );
    }
    throw new JobSubmissionUncertainError(
      `CreateModelCustomizationJob for "${job.jobName}" kept failing (${failure}) and the job could not be looked up ` +
        `(${describeError(err)}): it may exist and run unfollowed. Check with aws bedrock get-model-customization-job ` +
        `--job-identifier ${job.jobName}, and stop it if it runs.`,
      { cause: err },
    );
  }
  const adopted = adoptExisting(job, existing, deps);
  await record(adopted, execution, deps);
  return adopted;
}

/**
 * The next wait of the quota loop (PlanQuotaWait): the `attempts`-th wait is 60 s doubled each time up
 * to 15 minutes ({@link QUOTA_WAIT}), and never past `maxQuotaWaitSeconds` after the execution started,
 * so the submission after the last wait is made at that moment and, if the quota is still reached,
 * ends the wait with JobSubmissionError. At least 1 s (Step Functions' smallest wait).
 */
export function planQuotaWait(
  job: Pick<JobInput, 'maxQuotaWaitSeconds'>,
  execution: Pick<Execution, 'startTime'>,
  previous: QuotaWait,
  now: Date,
): QuotaWait & { attempts: number; seconds: number; until: string } {
  const attempts = (previous.attempts ?? 0) + 1;
  const started = execution.startTime ? Date.parse(execution.startTime) : now.getTime();
  const until = started + job.maxQuotaWaitSeconds * 1000;
  const grown = Math.min(QUOTA_WAIT.maxSeconds, QUOTA_WAIT.initialSeconds * QUOTA_WAIT.growthFactor ** (attempts - 1));
  const remaining = Math.ceil((until - now.getTime()) / 1000);
  return {
    attempts,
    seconds: Math.max(1, Math.min(grown, remaining)),
    until: new Date(until).toISOString(),
    ...(previous.error ? { error: previous.error } : {}),
  };
}

/** Error codes Bedrock answers with when the account runs as many jobs as its quota allows. */
const QUOTA_CODES = ['ServiceQuotaExceededException', 'ThrottlingException', 'TooManyRequestsException'];

/**
 * Quota errors become {@link JobQuotaExceededError} (the state machine waits, {@link planQuotaWait}, and submits again) until
 * `maxQuotaWaitSeconds` after the execution started (throttling counts as the quota: the loop submits
 * again with the same token); errors that retrying will not fix become {@link JobSubmissionError};
 * transient errors (5xx, timeouts, dropped connections), after which the job may or may not exist,
 * become {@link JobSubmissionUncertainError}; anything else passes through unchanged.
 */
function classify(err: unknown, job: JobInput, execution: Execution, now: Date): unknown {
  const code = awsErrorCode(err);
  if (code !== undefined && QUOTA_CODES.includes(code)) {
    const started = execution.startTime ? Date.parse(execution.startTime) : now.getTime();
    const waited = Math.max(0, (now.getTime() - started) / 1000);
    if (waited >= job.maxQuotaWaitSeconds) {
      return new JobSubmissionError(
        `The account's model customization job quota was still reached after waiting ${Math.round(waited)} s ` +
          `(maxQuotaWaitSeconds ${job.maxQuotaWaitSeconds}): ${describeError(err)}`,
        { cause: err },
      );
    }
    return new JobQuotaExceededError(`Waiting for the model customization job quota: ${describeError(err)}`, { cause: err });
  }
  if (code === 'ValidationException' || code === 'AccessDeniedException' || code === 'ResourceNotFoundException') {
    return new JobSubmissionError(`CreateModelCustomizationJob for "${job.jobName}" was refused: ${describeError(err)}`, {
      cause: err,
    });
  }
  if (isTransientAwsError(err)) {
    return new JobSubmissionUncertainError(
      `CreateModelCustomizationJob for "${job.jobName}" failed with a transient error; the job may or may not have been created: ${describeError(err)}`,
      { cause: err },
    );
  }
  return err;
}

/**
 * Client of the stand-in for Bedrock that runs inside our moto launcher (python/bedrock_standin.py):
 * moto keeps customization jobs InProgress forever; the stand-in, once enabled, moves them to
 * Completed or Failed on a schedule and records the EventBridge events Bedrock would send. Always (enabled
 * or not) it checks every Bedrock request against botocore's service model (ValidationException naming
 * the member, as Bedrock answers), records each CreateModelCustomizationJob request, and serves
 * GetFoundationModel for a table of models. Only the local driver and the emulator tests use it; the
 * Lambdas never do.
 */
import type { CreateModelCustomizationJobRequest } from '@aws-sdk/client-bedrock';

/** What happens to a job the stand-in has taken over. `hold` is moto's own behaviour (InProgress). */
export type StandInOutcome = 'complete' | 'fail' | 'hold';

/** A sub-task of the job's `statusDetails` (`<phase>Details`), in the order they run. */
export type StandInPhase = 'validation' | 'dataProcessing' | 'training';

/** One job's plan (or the default plan). Omitted fields keep their current value. */
export interface StandInJobPlan {
  /** Default `complete`. */
  outcome?: StandInOutcome;
  /** Seconds from the job's creation to its terminal status (default 6). */
  seconds?: number;
  /** The job's `failureMessage` when `outcome` is `fail` (default: a data-validation style message). */
  failureMessage?: string;
  /**
   * With `fail`: the sub-task that fails (default `validation`). The sub-tasks before it complete, those
   * after it never start.
   */
  phase?: StandInPhase;
  /**
   * With `fail`: seconds from the job's creation to `statusDetails.<phase>Details.status` = `Failed`
   * (at most `seconds`; `null`, the default: at `seconds`). Between the two the job's `status` is still
   * `InProgress` while its phase shows `Failed`.
   */
  phaseFailedSeconds?: number | null;
}

/** A change to the stand-in's config, merged into the current one. */
export interface BedrockStandInConfig {
  /** `false` (the start) leaves every job to moto (InProgress until stopped). */
  enabled?: boolean;
  /** The plan of jobs without an entry in `jobs`. */
  default?: StandInJobPlan;
  /** Plans by job name, added or replaced; may name a job before it exists. */
  jobs?: Record<string, StandInJobPlan>;
}

/** The stand-in's whole config, as GET /_standin/bedrock/config returns it. */
export interface BedrockStandInState {
  enabled: boolean;
  default: Required<StandInJobPlan>;
  jobs: Record<string, StandInJobPlan>;
}

/** The "Model Customization Job State Change" event the stand-in recorded (and put on moto's default bus). */
export interface ModelCustomizationJobStateChange {
  version: string;
  id: string;
  'detail-type': 'Model Customization Job State Change';
  source: 'aws.bedrock';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: {
    version: string;
    jobName: string;
    jobArn: string;
    outputModelName?: string;
    outputModelArn?: string;
    roleArn: string;
    jobStatus: 'Completed' | 'Failed' | 'Stopped';
    failureMessage?: string;
    creationTime: string;
    lastModifiedTime: string;
    endTime: string;
    baseModelArn: string;
    hyperParameters: Record<string, string>;
    /** As the job was given it: `{ s3Uri }` (AWS's sample), or `{ invocationLogsConfig }`. */
    trainingDataConfig: { s3Uri?: string; invocationLogsConfig?: unknown };
    validationDataConfig?: { s3Uri: string };
    outputDataConfig: { s3Uri: string };
  };
}

/** Thrown when the stand-in refuses a request or is not there (moto started without our launcher). */
export class BedrockStandInError extends Error {
  override name = 'BedrockStandInError';
}

async function call<T>(endpoint: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${endpoint}/_standin/bedrock/${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new BedrockStandInError(`${method} /_standin/bedrock/${path} failed (${res.status}): ${text}`);
  return JSON.parse(text) as T;
}

/**
 * Merges `config` into the stand-in's config (per-job entries added or replaced) and returns the
 * result. A per-job entry also applies to a job that already exists and is not terminal.
 */
export function configureBedrockStandIn(endpoint: string, config: BedrockStandInConfig): Promise<BedrockStandInState> {
  return call(endpoint, 'POST', 'config', config);
}

/** The stand-in's current config. */
export function bedrockStandInConfig(endpoint: string): Promise<BedrockStandInState> {
  return call(endpoint, 'GET', 'config');
}

/**
 * The events recorded for jobs that reached Completed, Failed or Stopped, oldest first. Reading them
 * first advances every job the stand-in runs, so a job past its `seconds` has its event here.
 */
export async function standInEvents(endpoint: string): Promise<ModelCustomizationJobStateChange[]> {
  return (await call<{ events: ModelCustomizationJobStateChange[] }>(endpoint, 'GET', 'events')).events;
}

/** A CreateModelCustomizationJob request the stand-in received, as parsed (JSON body and URI members). */
export interface RecordedCreateJobRequest {
  /** When it arrived (RFC 3339). */
  time: string;
  region: string;
  /** The request's members by their API names; `null` when the body was not a JSON object. */
  request: CreateModelCustomizationJobRequest | null;
  /** The ValidationException message it was refused with (absent: it passed the check and went to moto). */
  error?: string;
}

/** Every CreateModelCustomizationJob request received since the last reset, oldest first, refused ones too. */
export async function standInCreateJobRequests(endpoint: string): Promise<RecordedCreateJobRequest[]> {
  return (await call<{ requests: RecordedCreateJobRequest[] }>(endpoint, 'GET', 'requests')).requests;
}

/** Disables the stand-in and clears its config, events and recorded requests (POST /moto-api/reset does this too). */
export async function resetBedrockStandIn(endpoint: string): Promise<void> {
  await call(endpoint, 'POST', 'reset');
}

/**
 * Client of the stand-in for Bedrock that runs inside our moto launcher (python/bedrock_standin.py):
 * moto keeps customization jobs InProgress forever; the stand-in, once enabled, moves them to
 * Completed or Failed on a schedule and records the EventBridge events Bedrock would send. Always (enabled
 * or not) it checks every Bedrock request and every bedrock-runtime Converse against botocore's service models
 * (ValidationException naming the member, as Bedrock answers), records each Create* request, serves
 * GetFoundationModel for a table of models, custom model deployments, evaluation jobs (result files scored
 * by a labelled stand-in judge) and Converse. Only the local driver and the emulator tests use it; the
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

/**
 * What happens to a custom model deployment (CreateCustomModelDeployment): `Creating`, then `Active`
 * (`active`) or `Failed` with `failureMessage` (`fail`) `seconds` after its creation.
 */
export interface StandInDeploymentPlan {
  /** Default `active`. */
  outcome?: 'active' | 'fail';
  /** Default 2. */
  seconds?: number;
  failureMessage?: string;
  /** The most deployments per account and Region (more: ServiceQuotaExceededException); `null` (default): no quota. */
  quota?: number | null;
}

/**
 * What happens to an evaluation job (CreateEvaluationJob): `InProgress`, then `Completed` (`complete`: the
 * result files are written, scored by the stand-in judge) or `Failed` with `[failureMessage]` (`fail`)
 * `seconds` after its creation. StopEvaluationJob: `Stopping`, then `Stopped` `stoppingSeconds` later.
 */
export interface StandInEvaluationPlan {
  /** Default `complete`. */
  outcome?: 'complete' | 'fail';
  /** Default 3. */
  seconds?: number;
  failureMessage?: string;
  /** Default 1. */
  stoppingSeconds?: number;
  /** The most evaluation jobs InProgress or Stopping per account and Region; `null` (default): no quota. */
  quota?: number | null;
}

/**
 * How Converse answers for a model: `reference`, the referenceResponse of the record of `evaluationDataset`
 * whose prompt is exactly the last user message's text; `fixed`, a fixed labelled sentence (also the answer
 * when no record has that prompt).
 */
export type StandInAnswers = 'reference' | 'fixed';

/**
 * Keys of `models`: `deployment` (every custom model deployment), `base` (every foundation model), or one
 * model id, deployment ARN or deployment name (wins over the two general keys).
 */
export type StandInModels = Partial<Record<'deployment' | 'base', { answers: StandInAnswers }>> & Record<string, { answers: StandInAnswers }>;

/** A change to the stand-in's config, merged into the current one. */
export interface BedrockStandInConfig {
  /** `false` (the start) leaves every job to moto (InProgress until stopped). */
  enabled?: boolean;
  /** The plan of jobs without an entry in `jobs`. */
  default?: StandInJobPlan;
  /** Plans by job name, added or replaced; may name a job before it exists. */
  jobs?: Record<string, StandInJobPlan>;
  /** The plan of every custom model deployment (served whether or not `enabled`). */
  deployment?: StandInDeploymentPlan;
  /** Plans by deployment name, added or replaced. */
  deployments?: Record<string, StandInDeploymentPlan>;
  /** The plan of every evaluation job (served whether or not `enabled`). */
  evaluation?: StandInEvaluationPlan;
  /** Plans by evaluation job name, added or replaced. */
  evaluations?: Record<string, StandInEvaluationPlan>;
  /** Converse answers by model (entries added or replaced). Default: deployment `reference`, base `fixed`. */
  models?: StandInModels;
  /** `s3://bucket/key.jsonl` in moto's S3: the held-out dataset `reference` answers come from (`null`: none). */
  evaluationDataset?: string | null;
}

/** The stand-in's whole config, as GET /_standin/bedrock/config returns it. */
export interface BedrockStandInState {
  enabled: boolean;
  default: Required<StandInJobPlan>;
  jobs: Record<string, StandInJobPlan>;
  deployment: Required<StandInDeploymentPlan>;
  deployments: Record<string, StandInDeploymentPlan>;
  evaluation: Required<StandInEvaluationPlan>;
  evaluations: Record<string, StandInEvaluationPlan>;
  models: StandInModels;
  evaluationDataset: string | null;
}

/** The sentence a `fixed` model answers (python/bedrock_standin.py FIXED_ANSWER). */
export const STANDIN_FIXED_ANSWER = 'This is a fixed answer of the stand-in for Bedrock; no model generated it.';

/** Metrics the stand-in judge scores 0.0 (lower is better); every other metric gets {@link standInJudgeScore}. */
export const STANDIN_LOWER_IS_BETTER: readonly string[] = [
  'Builtin.Harmfulness',
  'Builtin.Stereotyping',
  'Builtin.Refusal',
  'Builtin.Toxicity',
  'Builtin.Robustness',
];

/**
 * The stand-in judge's score, as documented in python/bedrock_standin.py (NOT Bedrock's judge): token-overlap
 * F1 of `response` against `reference`; tokens are the lower-cased runs of [a-z0-9], each counted at most as
 * often as both texts have it; 0 when nothing overlaps.
 */
export function standInJudgeScore(response: string, reference: string): number {
  const tokens = (text: string) => text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  const got = tokens(response);
  const want = tokens(reference);
  const left = new Map<string, number>();
  for (const t of want) left.set(t, (left.get(t) ?? 0) + 1);
  let overlap = 0;
  for (const t of got) {
    const n = left.get(t) ?? 0;
    if (n > 0) {
      overlap += 1;
      left.set(t, n - 1);
    }
  }
  if (overlap === 0) return 0;
  const precision = overlap / got.length;
  const recall = overlap / want.length;
  return (2 * precision * recall) / (precision + recall);
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

/** A Create* request the stand-in received, as parsed (JSON body and URI members). */
export interface RecordedRequest<Request = Record<string, unknown>> {
  /** When it arrived (RFC 3339). */
  time: string;
  region: string;
  /** The operation's name (CreateModelCustomizationJob, CreateCustomModelDeployment, CreateEvaluationJob, CreateProvisionedModelThroughput, …). */
  operation: string;
  /** The request's members by their API names; `null` when the body was not a JSON object. */
  request: Request | null;
  /**
   * Why it was refused (absent: it was served): the ValidationException message of the shape check, or
   * `<code>: <message>` of the stand-in's own refusal (e.g. every CreateProvisionedModelThroughput).
   */
  error?: string;
}

/** A CreateModelCustomizationJob request the stand-in received (its `operation` left out: it is implied). */
export type RecordedCreateJobRequest = Omit<RecordedRequest<CreateModelCustomizationJobRequest>, 'operation'>;

/**
 * Every Create* request received since the last reset, oldest first, refused ones too; only those of
 * `operations` when any are given.
 */
export async function standInRequests(endpoint: string, ...operations: string[]): Promise<RecordedRequest[]> {
  const query = operations.map((o) => `operation=${encodeURIComponent(o)}`).join('&');
  return (await call<{ requests: RecordedRequest[] }>(endpoint, 'GET', `requests${query ? `?${query}` : ''}`)).requests;
}

/** Every CreateModelCustomizationJob request received since the last reset, oldest first, refused ones too. */
export async function standInCreateJobRequests(endpoint: string): Promise<RecordedCreateJobRequest[]> {
  return (await standInRequests(endpoint, 'CreateModelCustomizationJob')).map(({ operation: _implied, request, ...rest }) => ({
    ...rest,
    request: request as CreateModelCustomizationJobRequest | null,
  }));
}

/** Disables the stand-in and clears its config, events and recorded requests (POST /moto-api/reset does this too). */
export async function resetBedrockStandIn(endpoint: string): Promise<void> {
  await call(endpoint, 'POST', 'reset');
}

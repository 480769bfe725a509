/**
 * evaluate-model: the evaluation gate after a Completed job (docs: contract of issue 23).
 *
 * An evaluation job cannot name a custom model deployment (botocore 1.44.18 bedrock
 * EvaluationBedrockModelIdentifier has no `custom-model-deployment/` form), but bedrock-runtime Converse
 * takes one as `modelId`. So the gate: deploys the custom model on demand (never Provisioned Throughput),
 * asks it and its base model for a response to every held-out prompt (Converse, same inferenceConfig),
 * writes two prompt datasets with those responses ("bring your own inference responses",
 * https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-prompt-datasets-judge.html
 * #model-evaluation-prompt-datasets-judge-byoir), runs one LLM-as-a-judge evaluation job per model (same
 * judge, same metrics), reads the result files and decides (results.ts).
 *
 * One action per Task (`plan`, `deploy`, `deploymentStatus`, `generate`, `startEvaluations`,
 * `evaluationStatus`, `verdict`, `cleanup`); each returns the whole updated {@link EvaluationState}
 * (cleanup returns what it did). Safety:
 * - before every create, stop or delete, the job ledger must name this execution the claimed supervisor of
 *   the chain's job (shared/ledger.ts), and the resource must be the one the ledger records: its ARN, or,
 *   before the ARN is known, the name and client request token this execution recorded before creating
 *   it. A name or a tag alone is never enough ({@link EvaluationNotOursError});
 * - every create sends a client request token derived from the execution (names.ts): a retried Task
 *   gets the resource it created; a name already in use is adopted only as above;
 * - quota refusals are DeploymentQuotaExceededError / EvaluationQuotaExceededError (the state machine
 *   waits), a 5xx, throttling or timeout after the SDK's own attempts is EvaluationUncertainError (retried).
 */
import {
  CreateCustomModelDeploymentCommand,
  CreateEvaluationJobCommand,
  DeleteCustomModelDeploymentCommand,
  GetCustomModelCommand,
  GetCustomModelDeploymentCommand,
  GetEvaluationJobCommand,
  GetModelCustomizationJobCommand,
  ListEvaluationJobsCommand,
  StopEvaluationJobCommand,
  TagResourceCommand,
  type BedrockClient,
  type CreateEvaluationJobCommandInput,
  type GetEvaluationJobCommandOutput,
} from '@aws-sdk/client-bedrock';
import { ConverseCommand, type BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { awsErrorCode, httpStatus, isTransientAwsError } from '../shared/aws-errors.js';
import { CHAIN_EXECUTION_TAG } from '../shared/chain.js';
import {
  DeploymentFailedError,
  DeploymentQuotaExceededError,
  EvaluationBudgetExceededError,
  EvaluationDatasetError,
  EvaluationJobFailedError,
  EvaluationNotOursError,
  EvaluationQuotaExceededError,
  EvaluationUncertainError,
  EvaluationUnsupportedError,
  describeError,
} from '../shared/errors.js';
import { estimateEvaluationCost, holdEvaluationToBudget, type EvaluationPrices } from '../shared/evaluation-cost.js';
import { onDemandDeploymentSupport } from '../shared/evaluation-support.js';
import { heldOutRecordProblems } from '../shared/held-out-dataset.js';
import { EVALUATED_MODELS, EXECUTION_TIMEOUT_SECONDS, type EvaluatedModel, type EvaluationState } from '../shared/job-state.js';
import { notSupervisor, type Ledger, type LedgerEntry, type LedgerEvaluationPatch } from '../shared/ledger.js';
import { parseModelIdentifier } from '../shared/model-identifier.js';
import { parseS3Uri } from '../shared/s3.js';
import {
  EVALUATION_S3_URI_PATTERN,
  INFERENCE_SOURCE,
  deriveDeploymentName,
  deriveEvaluationJobName,
  deriveEvaluationToken,
  evaluationLocations,
} from './names.js';
import { bodyText, decideVerdict, readJobResults } from './results.js';

export const EVALUATION_ACTIONS = ['plan', 'deploy', 'deploymentStatus', 'generate', 'startEvaluations', 'evaluationStatus', 'verdict', 'cleanup'] as const;
export type EvaluationAction = (typeof EVALUATION_ACTIONS)[number];

/** The tags the verdict `promote` puts on the custom model. */
export const PROMOTED_TAG = { key: 'bvc-evaluation', value: 'promoted' } as const;
export const PROMOTED_DEPLOYMENT_TAG = 'bvc-evaluation-deployment';

/** Waits between status checks: the first, and the cap of the doubling. */
export const STATUS_WAIT = { initialSeconds: 60, maxSeconds: 900 } as const;

/** The resolved `job.evaluation` (shared/job-input.ts JobEvaluation), the fields the gate reads. */
export interface GateEvaluation {
  dataset: { name: string; s3Uri: string };
  metrics: string[];
  judgeModelIdentifier: string;
  taskType: string;
  thresholds: { minScore?: number | undefined; minGainOverBase: number };
  maxPrompts: number;
  inference: { maxTokens: number; temperature: number };
  maxCostUsd?: number | undefined;
  maxDurationSeconds: number;
  /** `s3://<evaluation bucket>/evaluations/<job name>/`. */
  outputS3Uri: string;
}

/** The resolved job, the fields the gate reads. */
export interface GateJob {
  jobName: string;
  region: string;
  baseModelIdentifier: string;
  customizationType: string;
  roleArn: string;
  jobTags?: Record<string, string>;
  evaluation?: GateEvaluation | undefined;
}

export interface GateInput {
  job: GateJob;
  /** The chain's first execution (the job's owner in the ledger). */
  execution: { id: string };
  submission: { jobArn: string; jobName: string };
  /** This execution (`$$.Execution.Id`): it must be the job's claimed supervisor. */
  self: string;
  /** `$.evaluation` so far (absent for `plan`; may be absent or partial for `cleanup`). */
  evaluation?: EvaluationState | undefined;
  /** This execution's start (`$$.Execution.StartTime`; PlanEvaluation): the gate must end before its TimeoutSeconds. */
  executionStartTime?: string | undefined;
}

/**
 * What the gate leaves before the execution's TimeoutSeconds: after its deadline, EvaluationCleanup and RevokeGrants
 * must still run (quota retries of a Task that started just before the deadline last up to about 2 h 15 min).
 */
export const GATE_TIMEOUT_MARGIN_SECONDS = 6 * 3600;
/** The least time the gate plans with: less than this before the execution's TimeoutSeconds, it does not start. */
export const MIN_GATE_SECONDS = 3600;

export interface GateDeps {
  bedrock: Pick<BedrockClient, 'send'>;
  runtime: Pick<BedrockRuntimeClient, 'send'>;
  s3: Pick<S3Client, 'send'>;
  ledger: Ledger;
  now: () => Date;
  /** The stage's prices of the job's base and judge model (evaluation-cost.ts evaluationPricesFor). */
  prices: EvaluationPrices;
  /** GenerateResponses starts no new prompt after this long in one invocation (~600 s of a 900 s Lambda). */
  generationBudgetMs: number;
  /** Converse calls at once. */
  concurrency: number;
  /** Responses per progress object written under `inputs/parts/`. */
  partSize: number;
}

export const DEFAULT_GENERATION = { budgetMs: 600_000, concurrency: 4, partSize: 25 } as const;

/** The result of `cleanup` (`$.evaluationCleanup`). */
export interface CleanupResult {
  /** Evaluation jobs this cleanup stopped (ARNs). */
  stopped: string[];
  /** True when this job's deployment is deleted: by this cleanup (`deployment`) or before it (the ledger says so). */
  deploymentDeleted: boolean;
  /** The deployment this cleanup deleted. */
  deployment?: string;
  leftAlone: { resource: string; reason: string }[];
  summary: string;
}

// ---- shared steps ---------------------------------------------------------------------------------

function evaluationOf(job: GateJob): GateEvaluation {
  if (!job.evaluation) throw new EvaluationUnsupportedError('The job has no `evaluation`: the gate has nothing to run.');
  return job.evaluation;
}

function stateOf(input: GateInput): EvaluationState {
  if (!input.evaluation) throw new EvaluationUnsupportedError('No `evaluation` state: PlanEvaluation has not run.');
  return input.evaluation;
}

/** The job's ledger entry when this execution is its claimed supervisor; {@link EvaluationNotOursError} otherwise. */
async function supervised(input: GateInput, deps: GateDeps, doing: string): Promise<LedgerEntry> {
  const entry = await deps.ledger.read(input.submission.jobName);
  const why = notSupervisor(entry, { owner: input.execution.id, jobArn: input.submission.jobArn, self: input.self });
  if (why) throw new EvaluationNotOursError(`Not ${doing} for job ${input.submission.jobArn}: ${why}. Nothing was created, stopped or deleted.`);
  return entry!;
}

async function record(input: GateInput, deps: GateDeps, patch: LedgerEvaluationPatch, doing: string): Promise<void> {
  const ok = await deps.ledger.recordEvaluation(input.submission.jobName, { owner: input.execution.id, self: input.self }, patch);
  if (!ok) {
    throw new EvaluationNotOursError(
      `Not ${doing} for job ${input.submission.jobArn}: the job ledger did not take the record (this execution is no longer the job's supervisor, or it records other resources).`,
    );
  }
}

/**
 * Records what this call has just created (or adopted as its own: our recorded name and token). When the ledger
 * refuses (the execution stopped supervising the job meanwhile: the reaper took it over while the call was in
 * flight), nobody would follow the resource and the reaper acts only on recorded ARNs: undo it here, then refuse,
 * as submit-job does with a job created after its execution ended.
 */
async function recordOrUndo(input: GateInput, deps: GateDeps, patch: LedgerEvaluationPatch, doing: string, what: string, undo: () => Promise<void>): Promise<void> {
  try {
    await record(input, deps, patch, doing);
  } catch (err) {
    if (!(err instanceof EvaluationNotOursError)) throw err;
    let undone = 'undone';
    try {
      await undo();
    } catch (undoErr) {
      undone = `NOT undone (${describeError(undoErr)}): remove it by hand`;
    }
    throw new EvaluationNotOursError(`${err.message} The ${what} this call had just created was ${undone}.`, { cause: err });
  }
}

/** Asks Bedrock to stop the evaluation job `arn`; one that no longer runs (or exists) needs nothing. */
async function stopEvaluationJob(arn: string, deps: GateDeps): Promise<void> {
  try {
    await deps.bedrock.send(new StopEvaluationJobCommand({ jobIdentifier: arn }));
  } catch (err) {
    if (isNotFound(err) || awsErrorCode(err) === 'ValidationException' || awsErrorCode(err) === 'ConflictException') return;
    throw classify(err, `StopEvaluationJob ${arn}`);
  }
}

/** `err` as the gate's error: quota → `quota`, transient → EvaluationUncertainError, anything else unchanged. */
function classify(err: unknown, doing: string, quota?: (message: string, cause: unknown) => Error): unknown {
  const code = awsErrorCode(err);
  if (quota && code === 'ServiceQuotaExceededException') return quota(`${doing}: Bedrock refused it for the account's quota (${describeError(err)}).`, err);
  if (isTransientAwsError(err)) return new EvaluationUncertainError(`${doing} failed transiently: ${describeError(err)}`, { cause: err });
  return err;
}

async function call<T>(doing: string, fn: () => Promise<T>, quota?: (message: string, cause: unknown) => Error): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classify(err, doing, quota);
  }
}

const deploymentQuota = (message: string, cause: unknown) => new DeploymentQuotaExceededError(message, { cause });
const evaluationQuota = (message: string, cause: unknown) => new EvaluationQuotaExceededError(message, { cause });

/** A name in use (the service's answer differs by API: ConflictException, or a ValidationException that says so). */
function isNameInUse(err: unknown): boolean {
  const code = awsErrorCode(err);
  const message = err instanceof Error ? err.message : '';
  return code === 'ConflictException' || code === 'ResourceInUseException' || (code === 'ValidationException' && /already (exists|in use)/i.test(message));
}

const isNotFound = (err: unknown) => awsErrorCode(err) === 'ResourceNotFoundException';

const tagList = (map: Record<string, string>) => Object.entries(map).map(([key, value]) => ({ key, value }));

/** The base model as Converse takes it: the model id and its version, without a `:<n>k` context suffix (a customization variant). */
export function baseModelForConverse(baseModelIdentifier: string): string {
  const parsed = parseModelIdentifier(baseModelIdentifier);
  if (!parsed || parsed.form === 'inference-profile-arn') return baseModelIdentifier;
  const version = parsed.suffix.split(':')[1];
  return version ? `${parsed.id}:${version}` : parsed.id;
}

/** Doubling waits from {@link STATUS_WAIT}. */
function nextWait(previous: number | undefined): number {
  return previous === undefined ? STATUS_WAIT.initialSeconds : Math.min(previous * 2, STATUS_WAIT.maxSeconds);
}

function pastDeadline(state: EvaluationState, deps: GateDeps): boolean {
  return state.deadline !== undefined && deps.now().getTime() > Date.parse(state.deadline);
}

// ---- the held-out dataset -----------------------------------------------------------------------

export interface HeldOutRecord {
  prompt: string;
  referenceResponse?: string;
  category?: string;
}

/** The most bytes of a held-out dataset (1,000 prompts; the dataset step reads it whole before training). */
export const MAX_DATASET_BYTES = 64 * 1024 * 1024;

/**
 * Reads the held-out dataset (checked by the dataset step before training; checked again here, messages
 * without content). With `etag` (what PlanEvaluation read), only that object: a dataset replaced since is
 * {@link EvaluationDatasetError} (S3 answers 412 to the GetObject If-Match), so every chunk of responses
 * answers the same prompts, in the same order.
 */
export async function readHeldOut(evaluation: GateEvaluation, deps: Pick<GateDeps, 's3'>, etag?: string): Promise<{ records: HeldOutRecord[]; etag?: string }> {
  const { bucket, key } = parseS3Uri(evaluation.dataset.s3Uri);
  const where = `${evaluation.dataset.s3Uri} (evaluation dataset ${evaluation.dataset.name})`;
  let text: string;
  let read: string | undefined;
  try {
    const out = await deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(etag ? { IfMatch: etag } : {}) }));
    if ((out.ContentLength ?? 0) > MAX_DATASET_BYTES) throw new EvaluationDatasetError(`${where}: more than ${MAX_DATASET_BYTES} bytes.`);
    read = out.ETag;
    text = await bodyText(out.Body);
  } catch (err) {
    if (err instanceof EvaluationDatasetError) throw err;
    if (awsErrorCode(err) === 'PreconditionFailed' || httpStatus(err) === 412) {
      throw new EvaluationDatasetError(`${where}: the object changed since PlanEvaluation read it; the gate compares both models on the dataset it planned with only.`);
    }
    if (isTransientAwsError(err)) throw new EvaluationUncertainError(`Reading ${where} failed transiently: ${describeError(err)}`, { cause: err });
    throw new EvaluationDatasetError(`${where}: could not be read (${awsErrorCode(err) ?? 'error'}).`);
  }
  const records: HeldOutRecord[] = [];
  let line = 0;
  for (const raw of text.split('\n')) {
    line++;
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new EvaluationDatasetError(`${where}: line ${line} is not JSON.`);
    }
    // The dataset step's rules (shared/held-out-dataset.ts), checked again on what is read now.
    const problem = heldOutRecordProblems(value)[0];
    if (problem) throw new EvaluationDatasetError(`${where}: line ${line}, ${problem.field} [${problem.rule}]: ${problem.message}.`);
    const r = value as Record<string, string>;
    records.push({
      prompt: r.prompt!,
      ...(r.referenceResponse !== undefined ? { referenceResponse: r.referenceResponse } : {}),
      ...(r.category !== undefined ? { category: r.category } : {}),
    });
  }
  if (records.length === 0) throw new EvaluationDatasetError(`${where}: no record.`);
  if (records.length > evaluation.maxPrompts) {
    throw new EvaluationDatasetError(`${where}: ${records.length} records; the job's evaluation.maxPrompts allows at most ${evaluation.maxPrompts} (refused, not cut).`);
  }
  return { records, ...(read ? { etag: read } : {}) };
}

// ---- plan -----------------------------------------------------------------------------------------

/** PlanEvaluation: the custom model is Active and deployable on demand, and the gate's estimate fits the budget. */
export async function plan(input: GateInput, deps: GateDeps): Promise<EvaluationState> {
  const evaluation = evaluationOf(input.job);
  await supervised(input, deps, 'planning the evaluation');
  const job = await call('GetModelCustomizationJob', () => deps.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: input.submission.jobArn })));
  if (job.status !== 'Completed' || !job.outputModelArn) {
    throw new EvaluationUnsupportedError(`Job ${input.submission.jobArn} is ${job.status ?? 'unknown'} with no output model: there is no custom model to evaluate.`);
  }
  const model = await call('GetCustomModel', () => deps.bedrock.send(new GetCustomModelCommand({ modelIdentifier: job.outputModelArn! })));
  if (model.modelStatus !== undefined && model.modelStatus !== 'Active') {
    throw new EvaluationUnsupportedError(`Custom model ${job.outputModelArn} is ${model.modelStatus}, not Active: it cannot be deployed.`);
  }
  const support = onDemandDeploymentSupport(input.job.baseModelIdentifier, input.job.region, model.customizationType ?? input.job.customizationType, model.creationTime);
  if (!support.supported) throw new EvaluationUnsupportedError(`The evaluation gate cannot run for this job: ${support.reason}. Nothing was deployed; the custom model is kept.`);

  const locations = evaluationLocations(evaluation.outputS3Uri);
  for (const uri of [locations.results, locations.dataset('custom'), locations.dataset('base')]) {
    if (uri.length > 1024 || !EVALUATION_S3_URI_PATTERN.test(uri)) {
      throw new EvaluationUnsupportedError(`The gate's location ${uri} is not an S3 URI CreateEvaluationJob takes (letters, digits and -!_*'(). in each key segment). Nothing was deployed.`);
    }
  }
  const { records, etag } = await readHeldOut(evaluation, deps);
  const chars = (f: (r: HeldOutRecord) => string | undefined) => records.reduce((n, r) => n + (f(r)?.length ?? 0), 0);
  const estimate = estimateEvaluationCost(
    { prompts: records.length, promptChars: chars((r) => r.prompt), referenceChars: chars((r) => r.referenceResponse), metrics: evaluation.metrics.length, maxTokens: evaluation.inference.maxTokens },
    deps.prices,
  );
  holdEvaluationToBudget(
    estimate,
    deps.prices,
    evaluation.maxCostUsd,
    {
      prompts: records.length,
      metrics: evaluation.metrics.length,
      maxTokens: evaluation.inference.maxTokens,
      baseModelIdentifier: input.job.baseModelIdentifier,
      judgeModelIdentifier: evaluation.judgeModelIdentifier,
    },
    'Nothing was deployed.',
  );
  // The gate runs in the execution that followed the job (up to 20 days old by then: HANDOVER_AFTER_SECONDS): its
  // deadline ends before that execution's TimeoutSeconds, with room for the cleanup and the grants' revocation.
  const now = deps.now().getTime();
  let deadline = now + evaluation.maxDurationSeconds * 1000;
  if (input.executionStartTime !== undefined) {
    const latest = Date.parse(input.executionStartTime) + (EXECUTION_TIMEOUT_SECONDS - GATE_TIMEOUT_MARGIN_SECONDS) * 1000;
    if (latest - now < MIN_GATE_SECONDS * 1000) {
      throw new EvaluationUnsupportedError(
        `This execution started at ${input.executionStartTime} and ends at Step Functions' TimeoutSeconds (${EXECUTION_TIMEOUT_SECONDS / 86400} days) less than ` +
          `${(MIN_GATE_SECONDS + GATE_TIMEOUT_MARGIN_SECONDS) / 3600} hours from now: too little time for the gate. Nothing was deployed; the trained model is kept.`,
      );
    }
    deadline = Math.min(deadline, latest);
  }
  return {
    next: 'deploy',
    deadline: new Date(deadline).toISOString(),
    estimate: { tokens: estimate.tokens, ...(estimate.usd !== undefined ? { usd: estimate.usd } : {}), prompts: records.length },
    heldOut: etag ? { etag } : {},
    customModelArn: job.outputModelArn,
  };
}

// ---- deploy ---------------------------------------------------------------------------------------

/** DeployModel: records the deployment's name and token, creates it (or adopts ours), records its ARN. */
export async function deploy(input: GateInput, deps: GateDeps): Promise<EvaluationState> {
  const state = stateOf(input);
  const modelArn = state.customModelArn;
  if (!modelArn) throw new EvaluationUnsupportedError('The evaluation state names no custom model: PlanEvaluation has not run.');
  const name = deriveDeploymentName(input.job.jobName, input.execution.id);
  const token = deriveEvaluationToken(input.execution.id, 'deployment');
  const entry = await supervised(input, deps, `deploying ${modelArn}`);
  const recorded = entry.evaluation;
  if ((recorded?.deploymentName && recorded.deploymentName !== name) || (recorded?.deploymentClientRequestToken && recorded.deploymentClientRequestToken !== token)) {
    throw new EvaluationNotOursError(`The job ledger records another deployment (${recorded.deploymentName}) for job ${input.submission.jobArn}: not deploying.`);
  }
  await record(input, deps, { deploymentName: name, deploymentClientRequestToken: token }, 'deploying');

  let arn = recorded?.deploymentArn;
  if (!arn) {
    try {
      const out = await deps.bedrock.send(
        new CreateCustomModelDeploymentCommand({
          modelDeploymentName: name,
          modelArn,
          clientRequestToken: token,
          description: `Evaluation gate of job ${input.job.jobName}`,
          tags: tagList({ ...(input.job.jobTags ?? {}), [CHAIN_EXECUTION_TAG]: input.execution.id }),
        }),
      );
      arn = out.customModelDeploymentArn;
    } catch (err) {
      if (!isNameInUse(err)) throw classify(err, `CreateCustomModelDeployment ${name}`, deploymentQuota);
      // Our name (recorded with our token before the call above): a retry whose first answer was lost.
      const existing = await call(`GetCustomModelDeployment ${name}`, () => deps.bedrock.send(new GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: name })));
      if (existing.modelArn !== modelArn) {
        throw new EvaluationNotOursError(`A deployment named "${name}" exists for another model (${existing.modelArn}): not adopted.`);
      }
      arn = existing.customModelDeploymentArn;
    }
    if (!arn) throw new EvaluationUncertainError(`CreateCustomModelDeployment ${name} answered without an ARN.`);
    const created = arn;
    await recordOrUndo(input, deps, { deploymentArn: created }, 'recording the deployment', `deployment ${created}`, () => deleteDeployment(created, deps));
  }
  return { ...state, next: 'wait', nextWaitSeconds: STATUS_WAIT.initialSeconds, deployment: { name, arn, status: 'Creating' } };
}

/** The deployment's ARN the ledger records, when it equals the state's; {@link EvaluationNotOursError} otherwise. */
function recordedDeployment(entry: LedgerEntry, state: EvaluationState, doing: string): string {
  const arn = entry.evaluation?.deploymentArn;
  if (!arn || (state.deployment?.arn !== undefined && state.deployment.arn !== arn)) {
    throw new EvaluationNotOursError(`Not ${doing}: the job ledger records ${arn ? `another deployment (${arn})` : 'no deployment'} for this job.`);
  }
  return arn;
}

// ---- deploymentStatus -------------------------------------------------------------------------------

export async function deploymentStatus(input: GateInput, deps: GateDeps): Promise<EvaluationState> {
  const state = stateOf(input);
  const entry = await supervised(input, deps, 'checking the deployment');
  const arn = recordedDeployment(entry, state, 'checking the deployment');
  const out = await call(`GetCustomModelDeployment ${arn}`, () => deps.bedrock.send(new GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: arn })));
  const deployment = { ...state.deployment!, arn, status: out.status };
  if (out.status === 'Failed') throw new DeploymentFailedError(`Deployment ${arn} failed: ${out.failureMessage ?? 'no failure message'}.`);
  if (out.status === 'Active') {
    const { nextWaitSeconds: _wait, ...rest } = state;
    void _wait;
    return { ...rest, deployment, next: 'generate', generation: { done: { custom: 0, base: 0 }, total: state.estimate.prompts, tokensUsed: 0 } };
  }
  if (pastDeadline(state, deps)) {
    throw new DeploymentFailedError(`Deployment ${arn} is still ${out.status ?? 'not Active'} after the job's evaluation.maxDurationSeconds (deadline ${state.deadline}).`);
  }
  return { ...state, deployment, next: 'wait', nextWaitSeconds: nextWait(state.nextWaitSeconds) };
}

// ---- generate ---------------------------------------------------------------------------------------

/** One response, as a progress object's line records it. */
interface PartLine {
  model: EvaluatedModel;
  index: number;
  response: string;
  inputTokens: number;
  outputTokens: number;
}

async function readParts(partsUri: string, deps: Pick<GateDeps, 's3'>): Promise<Map<string, PartLine>> {
  const { bucket, key: prefix } = parseS3Uri(partsUri);
  const done = new Map<string, PartLine>();
  let ContinuationToken: string | undefined;
  do {
    const page = await call('ListObjectsV2 (progress)', () => deps.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(ContinuationToken ? { ContinuationToken } : {}) })));
    for (const object of page.Contents ?? []) {
      const out = await call('GetObject (progress)', () => deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key! })));
      const text = await bodyText(out.Body);
      for (const raw of text.split('\n')) {
        if (raw.trim() === '') continue;
        const line = JSON.parse(raw) as PartLine;
        const id = `${line.model}#${line.index}`;
        if (!done.has(id)) done.set(id, line);
      }
    }
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return done;
}

const usdOf = (tokens: number, usdPer1k: number | undefined) => (usdPer1k === undefined ? undefined : (tokens / 1000) * usdPer1k);

/**
 * GenerateResponses: a chunk of Converse calls (both models, the same prompts and inferenceConfig), at most
 * `concurrency` at once, none started after `generationBudgetMs`; progress is written as objects under
 * `inputs/parts/` (a retried or the next invocation resumes from them). Once both models answered every
 * prompt, writes `inputs/custom.jsonl` and `inputs/base.jsonl`. The tokens used (Converse usage) are
 * priced as the base model: when they, plus the judge's estimate, pass the job's evaluation.maxCostUsd,
 * no new prompt starts and {@link EvaluationBudgetExceededError} ends the gate.
 */
export async function generate(input: GateInput, deps: GateDeps): Promise<EvaluationState> {
  const evaluation = evaluationOf(input.job);
  const state = stateOf(input);
  const entry = await supervised(input, deps, 'generating responses');
  const deploymentArn = recordedDeployment(entry, state, 'generating responses');
  const started = deps.now().getTime();
  const { records } = await readHeldOut(evaluation, deps, state.heldOut?.etag);
  if (records.length !== state.generation?.total && state.generation?.total !== undefined) {
    throw new EvaluationDatasetError(`${evaluation.dataset.s3Uri}: ${records.length} records now, ${state.generation.total} when the gate planned.`);
  }
  const where = evaluationLocations(evaluation.outputS3Uri);
  const done = await readParts(where.parts, deps);

  const tokensOf = () => [...done.values()].reduce((n, l) => n + l.inputTokens + l.outputTokens, 0);
  const judgeUsd = usdOf(state.estimate.tokens.judge, deps.prices.judgeUsdPer1k) ?? 0;
  const overBudget = () => {
    if (evaluation.maxCostUsd === undefined) return false;
    const spent = usdOf(tokensOf(), deps.prices.baseUsdPer1k);
    return spent !== undefined && spent + judgeUsd > evaluation.maxCostUsd;
  };
  const budgetError = () =>
    new EvaluationBudgetExceededError(
      `Generating responses used ${tokensOf()} tokens (about $${(usdOf(tokensOf(), deps.prices.baseUsdPer1k) ?? 0).toFixed(2)}); with the judge's estimate ($${judgeUsd.toFixed(2)}) that passes the job's evaluation.maxCostUsd $${evaluation.maxCostUsd}. Stopped before the evaluation jobs.`,
    );
  if (overBudget()) throw budgetError();

  const modelId: Record<EvaluatedModel, string> = { custom: deploymentArn, base: baseModelForConverse(input.job.baseModelIdentifier) };
  const pending: { model: EvaluatedModel; index: number }[] = [];
  records.forEach((_, index) => {
    for (const model of EVALUATED_MODELS) if (!done.has(`${model}#${index}`)) pending.push({ model, index });
  });

  const { bucket, key: partsPrefix } = parseS3Uri(where.parts);
  let buffer: PartLine[] = [];
  let partSeq = 0;
  const flush = async () => {
    if (buffer.length === 0) return;
    const lines = buffer;
    buffer = [];
    const key = `${partsPrefix}${started}-${String(partSeq++).padStart(4, '0')}.jsonl`;
    await call('PutObject (progress)', () => deps.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: lines.map((l) => JSON.stringify(l)).join('\n') + '\n', ContentType: 'application/jsonl' })));
  };

  let stop: 'budget' | 'error' | undefined;
  let failure: unknown;
  const limit = pLimit(Math.max(1, deps.concurrency));
  await Promise.all(
    pending.map(({ model, index }) =>
      limit(async () => {
        if (stop || deps.now().getTime() - started >= deps.generationBudgetMs) return;
        try {
          const out = await deps.runtime.send(
            new ConverseCommand({
              modelId: modelId[model],
              messages: [{ role: 'user', content: [{ text: records[index]!.prompt }] }],
              inferenceConfig: { maxTokens: evaluation.inference.maxTokens, temperature: evaluation.inference.temperature },
            }),
          );
          const response = (out.output?.message?.content ?? []).map((c) => c.text ?? '').join('');
          const line: PartLine = { model, index, response, inputTokens: out.usage?.inputTokens ?? 0, outputTokens: out.usage?.outputTokens ?? 0 };
          done.set(`${model}#${index}`, line);
          buffer.push(line);
          if (buffer.length >= deps.partSize) await flush();
          if (overBudget()) stop ??= 'budget';
        } catch (err) {
          stop ??= 'error';
          failure ??= err;
        }
      }),
    ),
  );
  await flush();
  if (stop === 'budget') throw budgetError();
  if (stop === 'error') {
    const doing = `Converse (generating responses; ${done.size} of ${records.length * 2} done, kept for the retry)`;
    const mapped = classify(failure, doing);
    if (mapped instanceof EvaluationUncertainError) throw mapped;
    throw new EvaluationJobFailedError(`${doing} failed: ${describeError(failure)}`, { cause: failure });
  }

  const count = (model: EvaluatedModel) => records.reduce((n, _, i) => n + (done.has(`${model}#${i}`) ? 1 : 0), 0);
  const tokensUsed = tokensOf();
  const usd = usdOf(tokensUsed, deps.prices.baseUsdPer1k);
  const generation: NonNullable<EvaluationState['generation']> = {
    done: { custom: count('custom'), base: count('base') },
    total: records.length,
    tokensUsed,
    ...(usd !== undefined ? { usd: Math.round(usd * 10_000) / 10_000 } : {}),
  };
  if (generation.done.custom < records.length || generation.done.base < records.length) return { ...state, next: 'generate', generation };

  const datasets = { custom: where.dataset('custom'), base: where.dataset('base') };
  for (const model of EVALUATED_MODELS) {
    const body = records
      .map((r, index) =>
        JSON.stringify({
          prompt: r.prompt,
          ...(r.referenceResponse !== undefined ? { referenceResponse: r.referenceResponse } : {}),
          ...(r.category !== undefined ? { category: r.category } : {}),
          modelResponses: [{ response: done.get(`${model}#${index}`)!.response, modelIdentifier: INFERENCE_SOURCE[model] }],
        }),
      )
      .join('\n');
    const target = parseS3Uri(datasets[model]);
    await call(`PutObject ${datasets[model]}`, () => deps.s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: target.key, Body: `${body}\n`, ContentType: 'application/jsonl' })));
  }
  return { ...state, next: 'startEvaluations', generation: { ...generation, datasets } };
}

// ---- startEvaluations -------------------------------------------------------------------------------

/** The CreateEvaluationJob request of one model's judge job (pure: exported for tests). */
export function buildEvaluationJobRequest(input: GateInput, model: EvaluatedModel, datasetS3Uri: string): CreateEvaluationJobCommandInput {
  const evaluation = evaluationOf(input.job);
  return {
    jobName: deriveEvaluationJobName(input.job.jobName, input.execution.id, model),
    jobDescription: `Evaluation gate of job ${input.job.jobName}: the ${model === 'custom' ? 'custom' : 'base'} model's responses`.slice(0, 200),
    clientRequestToken: deriveEvaluationToken(input.execution.id, model),
    roleArn: input.job.roleArn,
    applicationType: 'ModelEvaluation',
    evaluationConfig: {
      automated: {
        datasetMetricConfigs: [
          {
            taskType: evaluation.taskType as 'Generation',
            dataset: { name: evaluation.dataset.name, datasetLocation: { s3Uri: datasetS3Uri } },
            metricNames: evaluation.metrics,
          },
        ],
        evaluatorModelConfig: { bedrockEvaluatorModels: [{ modelIdentifier: evaluation.judgeModelIdentifier }] },
      },
    },
    inferenceConfig: { models: [{ precomputedInferenceSource: { inferenceSourceIdentifier: INFERENCE_SOURCE[model] } }] },
    outputDataConfig: { s3Uri: evaluationLocations(evaluation.outputS3Uri).results },
    jobTags: tagList({ ...(input.job.jobTags ?? {}), [CHAIN_EXECUTION_TAG]: input.execution.id }),
  };
}

/** Whether `job` (GetEvaluationJob) is the one `request` creates: same name, role, output location and inference source. */
function isOurEvaluationJob(job: GetEvaluationJobCommandOutput, request: CreateEvaluationJobCommandInput): boolean {
  const source = job.inferenceConfig?.models?.[0]?.precomputedInferenceSource?.inferenceSourceIdentifier;
  const wanted = request.inferenceConfig?.models?.[0]?.precomputedInferenceSource?.inferenceSourceIdentifier;
  return job.jobName === request.jobName && job.roleArn === request.roleArn && job.outputDataConfig?.s3Uri === request.outputDataConfig?.s3Uri && source === wanted;
}

/** The evaluation job named `name` (ListEvaluationJobs nameContains, the exact name), or undefined. */
async function findEvaluationJob(name: string, deps: GateDeps): Promise<string | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await call(`ListEvaluationJobs ${name}`, () => deps.bedrock.send(new ListEvaluationJobsCommand({ nameContains: name, ...(nextToken ? { nextToken } : {}) })));
    const found = page.jobSummaries?.find((j) => j.jobName === name);
    if (found) return found.jobArn;
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

/** StartEvaluations: records both jobs' names and tokens, creates them (or adopts ours), records their ARNs. */
export async function startEvaluations(input: GateInput, deps: GateDeps): Promise<EvaluationState> {
  const state = stateOf(input);
  const datasets = state.generation?.datasets;
  if (!datasets) throw new EvaluationUnsupportedError('The responses are not generated yet: GenerateResponses has not finished.');
  const entry = await supervised(input, deps, 'starting the evaluation jobs');
  recordedDeployment(entry, state, 'starting the evaluation jobs');
  const requests = Object.fromEntries(EVALUATED_MODELS.map((m) => [m, buildEvaluationJobRequest(input, m, datasets[m])])) as Record<EvaluatedModel, CreateEvaluationJobCommandInput>;
  for (const model of EVALUATED_MODELS) {
    const recorded = entry.evaluation?.jobs[model];
    if (recorded && (recorded.name !== requests[model].jobName || recorded.token !== requests[model].clientRequestToken)) {
      throw new EvaluationNotOursError(`The job ledger records another ${model} evaluation job (${recorded.name}) for this job: not starting one.`);
    }
  }
  await record(
    input,
    deps,
    { jobs: { custom: { name: requests.custom.jobName!, token: requests.custom.clientRequestToken! }, base: { name: requests.base.jobName!, token: requests.base.clientRequestToken! } } },
    'starting the evaluation jobs',
  );
  const jobs = {} as NonNullable<EvaluationState['jobs']>;
  for (const model of EVALUATED_MODELS) {
    const request = requests[model];
    let arn = entry.evaluation?.jobs[model]?.arn;
    if (!arn) {
      try {
        arn = (await deps.bedrock.send(new CreateEvaluationJobCommand(request))).jobArn;
      } catch (err) {
        if (!isNameInUse(err)) throw classify(err, `CreateEvaluationJob ${request.jobName}`, evaluationQuota);
        // Our name, recorded with our token before the call: a retry whose first answer was lost. GetEvaluationJob
        // returns no token, so the job must also be ours in what it does (role, output location, inference source).
        const found = await findEvaluationJob(request.jobName!, deps);
        const existing = found ? await call(`GetEvaluationJob ${found}`, () => deps.bedrock.send(new GetEvaluationJobCommand({ jobIdentifier: found }))) : undefined;
        if (!existing || !isOurEvaluationJob(existing, request)) {
          throw new EvaluationNotOursError(`An evaluation job named "${request.jobName}" exists that this execution did not create: not adopted.`);
        }
        arn = existing.jobArn;
      }
      if (!arn) throw new EvaluationUncertainError(`CreateEvaluationJob ${request.jobName} answered without an ARN.`);
      const created = arn;
      await recordOrUndo(
        input,
        deps,
        { jobs: { [model]: { name: request.jobName!, token: request.clientRequestToken!, arn: created } } },
        'recording the evaluation job',
        `evaluation job ${created}`,
        () => stopEvaluationJob(created, deps),
      );
    }
    jobs[model] = { name: request.jobName!, arn, status: 'InProgress' };
  }
  return { ...state, next: 'wait', nextWaitSeconds: STATUS_WAIT.initialSeconds, jobs };
}

/** Both evaluation jobs' ARNs as the ledger records them, when they equal the state's. */
function recordedJobs(entry: LedgerEntry, state: EvaluationState, doing: string): Record<EvaluatedModel, string> {
  const out = {} as Record<EvaluatedModel, string>;
  for (const model of EVALUATED_MODELS) {
    const arn = entry.evaluation?.jobs[model]?.arn;
    if (!arn || arn !== state.jobs?.[model].arn) throw new EvaluationNotOursError(`Not ${doing}: the job ledger records ${arn ? `another ${model} evaluation job (${arn})` : `no ${model} evaluation job`} for this job.`);
    out[model] = arn;
  }
  return out;
}

// ---- evaluationStatus -------------------------------------------------------------------------------

export async function evaluationStatus(input: GateInput, deps: GateDeps): Promise<EvaluationState> {
  const state = stateOf(input);
  const entry = await supervised(input, deps, 'checking the evaluation jobs');
  const arns = recordedJobs(entry, state, 'checking the evaluation jobs');
  const jobs = { ...state.jobs! };
  for (const model of EVALUATED_MODELS) {
    const out = await call(`GetEvaluationJob ${arns[model]}`, () => deps.bedrock.send(new GetEvaluationJobCommand({ jobIdentifier: arns[model] })));
    const status = out.status ?? 'InProgress';
    jobs[model] = { ...jobs[model], status };
    if (status === 'Failed' || status === 'Stopped' || status === 'Stopping' || status === 'Deleting') {
      throw new EvaluationJobFailedError(`The ${model} model's evaluation job ${arns[model]} is ${status}: ${(out.failureMessages ?? []).join(' | ') || 'no failure message'}.`);
    }
  }
  if (jobs.custom.status === 'Completed' && jobs.base.status === 'Completed') {
    const { nextWaitSeconds: _wait, ...rest } = state;
    void _wait;
    return { ...rest, jobs, next: 'verdict' };
  }
  if (pastDeadline(state, deps)) throw new EvaluationJobFailedError(`The evaluation jobs did not finish within the job's evaluation.maxDurationSeconds (deadline ${state.deadline}).`);
  return { ...state, jobs, next: 'wait', nextWaitSeconds: nextWait(state.nextWaitSeconds) };
}

// ---- verdict ----------------------------------------------------------------------------------------

/** Deletes the deployment `arn` (the one the ledger records); true when it is gone (also when it already was). */
async function deleteDeployment(arn: string, deps: GateDeps): Promise<void> {
  try {
    await deps.bedrock.send(new DeleteCustomModelDeploymentCommand({ customModelDeploymentIdentifier: arn }));
  } catch (err) {
    if (isNotFound(err)) return;
    throw classify(err, `DeleteCustomModelDeployment ${arn}`);
  }
}

/** Verdict: reads both jobs' results and decides; promote tags the model and keeps the deployment, reject deletes it. */
export async function verdict(input: GateInput, deps: GateDeps): Promise<EvaluationState> {
  const evaluation = evaluationOf(input.job);
  const state = stateOf(input);
  const entry = await supervised(input, deps, 'deciding the verdict');
  const deploymentArn = recordedDeployment(entry, state, 'deciding the verdict');
  recordedJobs(entry, state, 'deciding the verdict');
  const results = evaluationLocations(evaluation.outputS3Uri).results;
  const read = (model: EvaluatedModel) => call(`Reading the ${model} model's results`, () => readJobResults(results, state.jobs![model].name, evaluation.dataset.name, evaluation.metrics, deps));
  const custom = await read('custom');
  const base = await read('base');
  const decided = decideVerdict(evaluation.metrics, custom, base, evaluation.thresholds);
  await record(input, deps, { verdict: decided.verdict! }, 'recording the verdict');
  if (decided.verdict === 'promote') {
    const modelArn = state.customModelArn!;
    await call(`TagResource ${modelArn}`, () =>
      deps.bedrock.send(new TagResourceCommand({ resourceARN: modelArn, tags: [{ ...PROMOTED_TAG }, { key: PROMOTED_DEPLOYMENT_TAG, value: deploymentArn }] })),
    );
    return { ...state, ...decided, next: 'done', deployment: { ...state.deployment!, arn: deploymentArn } };
  }
  await deleteDeployment(deploymentArn, deps);
  await record(input, deps, { deploymentDeleted: true }, 'recording the deleted deployment');
  return { ...state, ...decided, next: 'done', deployment: { ...state.deployment!, arn: deploymentArn, deleted: true } };
}

// ---- cleanup ----------------------------------------------------------------------------------------

/**
 * EvaluationCleanup (after any gate Task failed): stops this job's evaluation jobs that still run and
 * deletes its deployment unless the verdict was promote: only what the ledger records (by ARN; before
 * the ARN, by the recorded name and only when the resource is the one this execution's request made).
 */
export async function cleanup(input: GateInput, deps: GateDeps): Promise<CleanupResult> {
  const entry = await supervised(input, deps, 'cleaning up the evaluation');
  const recorded = entry.evaluation;
  const result: CleanupResult = { stopped: [], deploymentDeleted: recorded?.deploymentDeleted === true, leftAlone: [], summary: '' };
  if (!recorded) return { ...result, summary: 'Nothing to clean up: the ledger records no deployment or evaluation job for this job.' };

  for (const model of EVALUATED_MODELS) {
    const job = recorded.jobs[model];
    if (!job) continue;
    let arn = job.arn;
    if (!arn && input.job.evaluation) {
      const request = buildEvaluationJobRequest(input, model, 's3://unused/');
      if (request.jobName !== job.name || request.clientRequestToken !== job.token) {
        result.leftAlone.push({ resource: job.name, reason: 'the ledger records a name or token this execution does not derive' });
        continue;
      }
      const found = await findEvaluationJob(job.name, deps);
      const existing = found ? await call(`GetEvaluationJob ${found}`, () => deps.bedrock.send(new GetEvaluationJobCommand({ jobIdentifier: found }))) : undefined;
      if (!existing) continue; // never created
      if (!isOurEvaluationJob(existing, request)) {
        result.leftAlone.push({ resource: found!, reason: 'an evaluation job of that name that this execution did not create' });
        continue;
      }
      arn = existing.jobArn!;
      await record(input, deps, { jobs: { [model]: { name: job.name, token: job.token, arn } } }, 'recording the evaluation job');
    }
    if (!arn) continue;
    const out = await call(`GetEvaluationJob ${arn}`, () => deps.bedrock.send(new GetEvaluationJobCommand({ jobIdentifier: arn })));
    if (out.status !== 'InProgress') continue;
    try {
      await deps.bedrock.send(new StopEvaluationJobCommand({ jobIdentifier: arn }));
      result.stopped.push(arn);
    } catch (err) {
      if (isNotFound(err) || awsErrorCode(err) === 'ConflictException') result.leftAlone.push({ resource: arn, reason: `no longer running (${awsErrorCode(err)})` });
      else throw classify(err, `StopEvaluationJob ${arn}`);
    }
  }

  if (recorded.verdict === 'promote') {
    if (recorded.deploymentArn) result.leftAlone.push({ resource: recorded.deploymentArn, reason: 'the verdict was promote: the deployment is kept' });
  } else if (!recorded.deploymentDeleted) {
    let arn = recorded.deploymentArn;
    if (!arn && recorded.deploymentName) {
      const name = deriveDeploymentName(input.job.jobName, input.execution.id);
      const token = deriveEvaluationToken(input.execution.id, 'deployment');
      if (recorded.deploymentName !== name || recorded.deploymentClientRequestToken !== token) {
        result.leftAlone.push({ resource: recorded.deploymentName, reason: 'the ledger records a name or token this execution does not derive' });
      } else {
        let existing;
        try {
          existing = await deps.bedrock.send(new GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: name }));
        } catch (err) {
          if (!isNotFound(err)) throw classify(err, `GetCustomModelDeployment ${name}`);
        }
        // The job's custom model: from the state, else from the job (a gate that failed in its first Task has no state).
        const modelArn =
          input.evaluation?.customModelArn ??
          (existing ? (await call('GetModelCustomizationJob', () => deps.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: input.submission.jobArn })))).outputModelArn : undefined);
        if (existing && modelArn && existing.modelArn === modelArn) {
          arn = existing.customModelDeploymentArn!;
          await record(input, deps, { deploymentArn: arn }, 'recording the deployment');
        } else if (existing) {
          result.leftAlone.push({ resource: existing.customModelDeploymentArn ?? name, reason: 'a deployment of that name for a model this state does not name' });
        }
      }
    }
    if (arn) {
      await deleteDeployment(arn, deps);
      await record(input, deps, { deploymentDeleted: true }, 'recording the deleted deployment');
      result.deploymentDeleted = true;
      result.deployment = arn;
    }
  }
  const parts = [
    result.stopped.length > 0 ? `stopped ${result.stopped.length} evaluation job(s)` : 'no evaluation job to stop',
    result.deployment ? `deleted deployment ${result.deployment}` : result.deploymentDeleted ? 'the deployment was already deleted' : 'no deployment deleted',
    ...(result.leftAlone.length > 0 ? [`left alone: ${result.leftAlone.map((l) => `${l.resource} (${l.reason})`).join(', ')}`] : []),
  ];
  return { ...result, summary: `Evaluation cleanup: ${parts.join('; ')}.` };
}

/** The action `action` of the gate. */
export function runAction(action: EvaluationAction, input: GateInput, deps: GateDeps): Promise<EvaluationState | CleanupResult> {
  switch (action) {
    case 'plan':
      return plan(input, deps);
    case 'deploy':
      return deploy(input, deps);
    case 'deploymentStatus':
      return deploymentStatus(input, deps);
    case 'generate':
      return generate(input, deps);
    case 'startEvaluations':
      return startEvaluations(input, deps);
    case 'evaluationStatus':
      return evaluationStatus(input, deps);
    case 'verdict':
      return verdict(input, deps);
    case 'cleanup':
      return cleanup(input, deps);
  }
}

/**
 * The names and client request tokens of the evaluation gate's resources, derived from the job and the
 * chain's first execution (`$.execution.id`, the job's owner): a retried Task derives the same ones (the
 * Create call is idempotent, the resource adopted), another chain derives others (the execution id's hash
 * is in every name). Each name is checked against the API's pattern (botocore 1.44.18, bedrock
 * service-2.json):
 * - ModelDeploymentName (CreateCustomModelDeployment.modelDeploymentName): `([0-9a-zA-Z][_-]?){1,63}`;
 * - EvaluationJobName (CreateEvaluationJob.jobName): `[a-z0-9](-*[a-z0-9]){0,62}`, 1-63;
 * - IdempotencyToken (clientRequestToken of both): `[a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])?`, 1-256;
 * - EvaluationPrecomputedInferenceSourceIdentifier: `[a-zA-Z0-9]([a-zA-Z0-9._-]){0,255}`.
 * The regexes here are those patterns anchored, in forms that run in linear time.
 */
import { createHash } from 'node:crypto';
import type { EvaluatedModel } from '../shared/job-state.js';

export const DEPLOYMENT_NAME_PATTERN = /^([0-9a-zA-Z][_-]?){1,63}$/;
export const EVALUATION_JOB_NAME_PATTERN = /^[a-z0-9](-*[a-z0-9]){0,62}$/;
export const IDEMPOTENCY_TOKEN_PATTERN = /^[a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])?$/;
export const INFERENCE_SOURCE_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,255}$/;
/** S3Uri of CreateEvaluationJob (datasetLocation.s3Uri, outputDataConfig.s3Uri), 1-1024: `s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](?:/[-!_*'().a-z0-9A-Z]+(?:/[-!_*'().a-z0-9A-Z]+)*)?/?`. */
export const EVALUATION_S3_URI_PATTERN = /^s3:\/\/[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](?:\/[-!_*'().a-zA-Z0-9]+)*\/?$/;

/** The BYOI inference source of each model: `modelResponses[].modelIdentifier` = the job's `inferenceSourceIdentifier`. */
export const INFERENCE_SOURCE: Record<EvaluatedModel, string> = { custom: 'custom-model', base: 'base-model' };

const hash = (value: string, length: number) => createHash('sha256').update(value).digest('hex').slice(0, length);

/** Letters, digits and single `-` of `jobName` (lower case when `lower`), without a leading or trailing `-`, at most `max` characters. */
function body(jobName: string, max: number, lower: boolean): string {
  const text = lower ? jobName.toLowerCase() : jobName;
  const dashed = text.replace(lower ? /[^a-z0-9]+/g : /[^a-zA-Z0-9]+/g, '-').slice(0, max);
  // Without leading and trailing `-` (index walks, no regex: a trailing-run regex backtracks).
  let start = 0;
  let end = dashed.length;
  while (start < end && dashed[start] === '-') start++;
  while (end > start && dashed[end - 1] === '-') end--;
  return dashed.slice(start, end);
}

/** The custom model deployment's name: `<job name>-<hash of the execution>`, ≤ 63, {@link DEPLOYMENT_NAME_PATTERN}. */
export function deriveDeploymentName(jobName: string, executionId: string): string {
  const suffix = hash(`${executionId}#evaluation#deployment`, 12);
  const start = body(jobName, 63 - 1 - suffix.length - 'eval-'.length, false);
  return `${start ? `${start}-` : ''}eval-${suffix}`;
}

/** An evaluation job's name: `<job name, lower case>-<model>-<hash of the execution>`, ≤ 63, {@link EVALUATION_JOB_NAME_PATTERN}. */
export function deriveEvaluationJobName(jobName: string, executionId: string, model: EvaluatedModel): string {
  const suffix = `${model}-${hash(`${executionId}#evaluation#${model}`, 10)}`;
  const start = body(jobName, 63 - 1 - suffix.length, true);
  return start ? `${start}-${suffix}` : suffix;
}

/** The client request token of the deployment or an evaluation job: sha-256 (hex) of the execution and the purpose. */
export function deriveEvaluationToken(executionId: string, purpose: 'deployment' | EvaluatedModel): string {
  return createHash('sha256').update(`${executionId}#evaluation-token#${purpose}`).digest('hex');
}

/** The gate's S3 locations under the job's `evaluation.outputS3Uri` (`s3://<evaluation bucket>/evaluations/<job name>/`). */
export function evaluationLocations(outputS3Uri: string) {
  const root = outputS3Uri.endsWith('/') ? outputS3Uri : `${outputS3Uri}/`;
  return {
    /** Where GenerateResponses writes its progress (one object per batch of responses). */
    parts: `${root}inputs/parts/`,
    dataset: (model: EvaluatedModel) => `${root}inputs/${model}.jsonl`,
    /** outputDataConfig.s3Uri of both evaluation jobs. */
    results: `${root}results/`,
  };
}

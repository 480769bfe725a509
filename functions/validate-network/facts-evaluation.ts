/**
 * Reads what the preflight checks about a job's evaluation gate (only for a job that asks for it): the
 * held-out dataset in the evaluation bucket (listed, not read) and the judge model (GetFoundationModel,
 * like a distillation teacher). Whether the base model's custom models deploy on demand needs no call
 * (shared/evaluation-support.ts), nor the role's trust (its trust policy is read with the role, facts.ts).
 * Nothing here decides pass or fail: see checks-evaluation.ts.
 */
import type { BedrockClient } from '@aws-sdk/client-bedrock';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { awsErrorCode, httpStatus, isAwsError } from '../shared/aws-errors.js';
import { describeError } from '../shared/errors.js';
import type { JobInput } from '../shared/job-input.js';
import { parseS3Uri } from '../shared/s3.js';
import { counted, type CallTally } from '../shared/sdk.js';
import { readFoundationModel, type TeacherFacts } from './facts-customization.js';

/** Whether the held-out dataset object exists. */
export interface EvaluationDatasetFacts {
  uri: string;
  bucket: string;
  status: 'found' | 'missing' | 'unknown';
  error?: string;
}

/** What the preflight read of the judge model (as of a distillation teacher). */
export type JudgeFacts = TeacherFacts;

export interface EvaluationFacts {
  dataset: EvaluationDatasetFacts;
  judge: JudgeFacts;
}

export interface EvaluationDeps {
  bedrock: BedrockClient;
  s3: S3Client;
}

/** Reads the held-out dataset and the judge model of a job with `evaluation` (none: no call). */
export async function gatherEvaluationFacts(job: JobInput, deps: EvaluationDeps, calls: CallTally): Promise<EvaluationFacts | undefined> {
  const evaluation = job.evaluation;
  if (evaluation === undefined) return undefined;
  const [dataset, judge] = await Promise.all([
    readEvaluationDataset(evaluation.dataset.s3Uri, deps.s3, calls),
    readFoundationModel(evaluation.judgeModelIdentifier, job, deps.bedrock, calls),
  ]);
  return { dataset, judge };
}

/**
 * Whether the dataset object exists, by listing its key (s3:ListBucket) as facts.ts reads the training
 * file: the first key listed under the prefix `key` is `key` itself when the object exists.
 */
async function readEvaluationDataset(uri: string, s3: S3Client, calls: CallTally): Promise<EvaluationDatasetFacts> {
  const { bucket, key } = parseS3Uri(uri);
  try {
    const out = await s3.send(counted(calls, 's3', new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 })));
    return { uri, bucket, status: out.Contents?.[0]?.Key === key ? 'found' : 'missing' };
  } catch (err) {
    if (isAwsError(err, 'NoSuchBucket', 'NotFound') || httpStatus(err) === 404) return { uri, bucket, status: 'missing' };
    if (awsErrorCode(err) === undefined && httpStatus(err) === undefined) throw err;
    return { uri, bucket, status: 'unknown', error: httpStatus(err) === 403 ? 'access denied' : describeError(err) };
  }
}

/**
 * The S3 access a customization job needs, per bucket: read for the training and validation data,
 * read/write for the output. Shared by the endpoint policy and the Bedrock role policy.
 *
 * Statements are per bucket and access level, with a Sid derived from both. Merge by Sid then adds a
 * new job's buckets next to earlier jobs' buckets and never replaces them, and the same bucket at the
 * same level gives the same statement, so a re-run changes nothing.
 */
import { parseS3Uri, shortHash, type JobInput } from '../shared/job-input.js';
import type { Statement } from '../shared/policy-document.js';

export type BucketAccess = 'read' | 'readwrite';

/** Actions per access level (the guide's read statement; PutObject added for the output). */
export const S3_ACTIONS: Record<BucketAccess, string[]> = {
  read: ['s3:GetObject', 's3:ListBucket'],
  readwrite: ['s3:PutObject', 's3:GetObject', 's3:ListBucket'],
};

/** Bucket → strongest access the job needs on it (a bucket used for input and output is read/write). */
export function jobBuckets(job: JobInput): Map<string, BucketAccess> {
  const buckets = new Map<string, BucketAccess>();
  for (const uri of [job.trainingDataS3Uri, ...job.validationDataS3Uris]) buckets.set(parseS3Uri(uri).bucket, 'read');
  buckets.set(parseS3Uri(job.outputDataS3Uri).bucket, 'readwrite');
  return new Map([...buckets].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Sid of a bucket's statement: IAM allows only letters and digits in a Sid, so the bucket name is
 * reduced to those and a hash of the real name keeps `my-bucket` and `mybucket` apart.
 */
export function s3Sid(bucket: string, access: BucketAccess): string {
  const level = access === 'read' ? 'Read' : 'ReadWrite';
  return `BedrockS3${level}${bucket.replace(/[^a-zA-Z0-9]/g, '').slice(0, 40)}${shortHash(bucket)}`;
}

/** `arn:aws:s3:::bucket` and `arn:aws:s3:::bucket/*`. */
export function bucketArns(partition: string, bucket: string): [string, string] {
  return [`arn:${partition}:s3:::${bucket}`, `arn:${partition}:s3:::${bucket}/*`];
}

/**
 * One statement per bucket the job uses. `principal` is set for resource policies (the endpoint
 * policy needs one; `*` as in the guide, since the endpoint cannot know which role Bedrock uses).
 */
export function s3AccessStatements(job: JobInput, principal?: '*'): Statement[] {
  return [...jobBuckets(job)].map(([bucket, access]) => ({
    Sid: s3Sid(bucket, access),
    Effect: 'Allow',
    ...(principal ? { Principal: principal } : {}),
    Action: S3_ACTIONS[access],
    Resource: bucketArns(job.partition, bucket),
  }));
}

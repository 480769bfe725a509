/**
 * The S3 access a customization job needs, per bucket: read for the training and validation data,
 * read/write for the output. Shared by the endpoint policy and the Bedrock role policy.
 *
 * Statements are per bucket and access level, with a Sid derived from both. Merge by Sid then adds a
 * new job's buckets next to earlier jobs' buckets and never replaces them, and the same bucket at the
 * same level gives the same statement, so a re-run changes nothing.
 */
import { shortHash, type JobInput } from '../job-input.js';
import { S3_ACTIONS, bucketArns, type BucketAccess } from '../s3.js';
import type { Statement } from './document.js';

/**
 * Sid of a bucket's statement: IAM allows only letters and digits in a Sid, so the bucket name is
 * reduced to those and a hash of the real name keeps `my-bucket` and `mybucket` apart.
 */
export function s3Sid(bucket: string, access: BucketAccess): string {
  const level = access === 'read' ? 'Read' : 'ReadWrite';
  return `BedrockS3${level}${bucket.replace(/[^a-zA-Z0-9]/g, '').slice(0, 40)}${shortHash(bucket)}`;
}

/**
 * One statement per bucket the job uses. `principal` is set for resource policies (the endpoint
 * policy needs one; `*` as in the guide, since the endpoint cannot know which role Bedrock uses).
 */
export function s3AccessStatements(job: Pick<JobInput, 's3' | 'partition'>, principal?: '*'): Statement[] {
  return job.s3.buckets.map(({ bucket, access }) => ({
    Sid: s3Sid(bucket, access),
    Effect: 'Allow',
    ...(principal ? { Principal: principal } : {}),
    Action: S3_ACTIONS[access],
    Resource: bucketArns(job.partition, bucket),
  }));
}

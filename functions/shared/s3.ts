/**
 * S3 as the job uses it: its locations (parsed once, when the job input is resolved), the access
 * it needs per bucket, bucket ARNs, and the region's S3 gateway endpoint service.
 */

/** A bucket and key (`key` is `''` for a bucket root, ends with `/` for a prefix). */
export interface S3Location {
  bucket: string;
  key: string;
}

/** Read for training and validation data, read/write for the output. */
export type BucketAccess = 'read' | 'readwrite';

/** Actions per access level: the guide's read statement, plus PutObject for the output. */
export const S3_ACTIONS: Record<BucketAccess, string[]> = {
  read: ['s3:GetObject', 's3:ListBucket'],
  readwrite: ['s3:PutObject', 's3:GetObject', 's3:ListBucket'],
};

/** Splits `s3://bucket/key` into its parts (the job-input schema has checked the URI). */
export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/s.exec(uri);
  if (!match) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: match[1]!, key: match[2] ?? '' };
}

/** `arn:aws:s3:::bucket` and `arn:aws:s3:::bucket/*`. */
export function bucketArns(partition: string, bucket: string): [string, string] {
  return [`arn:${partition}:s3:::${bucket}`, `arn:${partition}:s3:::${bucket}/*`];
}

/** C0, DEL and C1 control characters, and the Unicode line and paragraph separators (a line break in a log or a file). */
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * What makes `key` unfit as an object key (or key prefix) a job names: over 1,024 bytes of UTF-8, a
 * control character, a `.` or `..` path segment. Empty when it is fit. The job input's URIs and upload
 * key and the stage's outputPrefix all use it.
 */
export function s3KeyProblems(key: string): string[] {
  // An over-long key is reported alone: the regexes below never run on it.
  if (Buffer.byteLength(key, 'utf8') > 1024) return ['must have an object key of at most 1,024 bytes'];
  return [
    ...(CONTROL_CHARACTERS.test(key) ? ['must not contain control characters'] : []),
    ...(/(^|\/)\.\.?(\/|$)/.test(key) ? ['must not contain a "." or ".." path segment'] : []),
  ];
}

/** ARN of an object (or of the bucket when `key` is undefined). */
export function objectArn(partition: string, bucket: string, key?: string): string {
  return `arn:${partition}:s3:::${bucket}${key === undefined ? '' : `/${key}`}`;
}

/** The S3 service name of a region's endpoints and prefix list (China regions use the `cn.` prefix). */
export function s3ServiceName(partition: string, region: string): string {
  return `${partition === 'aws-cn' ? 'cn.' : ''}com.amazonaws.${region}.s3`;
}

/** VPC endpoint states in which an endpoint no longer carries traffic. */
const GONE_ENDPOINT_STATES = new Set(['deleting', 'deleted', 'failed', 'rejected', 'expired']);

/** True for an endpoint that exists and is not being removed (any other state, e.g. pending, counts). */
export function isLiveEndpoint(endpoint: { State?: string | undefined }): boolean {
  return !GONE_ENDPOINT_STATES.has(String(endpoint.State ?? '').toLowerCase());
}

/**
 * The training snapshot: submit-job copies each training and validation object the dataset step
 * checked into a prefix this workflow owns, and the job trains on those copies. Bedrock's
 * CreateModelCustomizationJob takes a plain S3 URI (`trainingDataConfig.s3Uri`,
 * `validationDataConfig.validators[].s3Uri`: no version id), so pinning a version in the request is not
 * possible, and training on the job's own URIs would train on whatever the key holds when Bedrock reads
 * it: an object replaced after ValidateDataset would skip the format and budget checks.
 *
 * Each copy is conditional on the bytes that were checked: `CopySourceIfMatch` with the ETag S3
 * returned with them (and `?versionId=` in `CopySource` when the bucket versions its objects, so the
 * copy reads that very version even if the key has moved on). S3 copies exactly those bytes or refuses
 * (412 Precondition Failed, or no such key / version): a refusal is {@link DatasetChangedError}, naming
 * the object, never its content. No copy is made without a recorded ETag.
 *
 * Where: `<outputDataS3Uri>/<jobName>/input/<clientRequestToken>/training.jsonl` and
 * `.../validation-<i>.jsonl` (i: the position in `validationDataS3Uris`, from 0), inside the job's
 * output URI and so inside the stage's output prefix (ResolveInput checked it), which the Bedrock role
 * already reads and writes. The client request token is derived from the execution (or the upload), so
 * a retried SubmitJob writes the same keys (copying again is harmless: the same bytes), and another
 * execution reusing the job name never overwrites the input of a job that is running.
 *
 * Size: CopyObject copies at most 5 GiB in one request. The documented dataset limits
 * (validate-dataset/limits.ts) go above that: Titan Text Express/Lite continued pre-training takes a
 * 10 GB training file (1 GB for fine-tuning, 100 MB for validation files), and a model without rules
 * has no checked size at all. So a larger object is copied in parts (UploadPartCopy, each with the same
 * `CopySourceIfMatch` and version id, so every part comes from the one checked version), and the upload
 * is aborted when a part fails.
 *
 * Permissions (the submit-job role): s3:GetObject on the source objects (+ s3:GetObjectVersion when a
 * version id is used), s3:PutObject on `<output bucket>/<output prefix>*` (+ s3:AbortMultipartUpload
 * for objects over 5 GiB); exempt from the buckets' VPC-only Deny, since the Lambda runs outside the
 * VPC. Tags are not copied (`TaggingDirective: REPLACE`, no tags): no s3:GetObjectTagging or
 * s3:PutObjectTagging needed.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { awsErrorCode, httpStatus } from '../shared/aws-errors.js';
import type { DatasetObject } from '../shared/dataset/objects.js';
import { DatasetChangedError, InvalidInputError } from '../shared/errors.js';
import type { JobInput } from '../shared/job-input.js';
import { parseS3Uri } from '../shared/s3.js';

/** The most one CopyObject copies (S3: "up to 5 GB in a single atomic operation", 5 GiB). */
export const MAX_SINGLE_COPY_BYTES = 5 * 1024 ** 3;
/** Part size of a copy in parts (S3: 5 MiB to 5 GiB per part, at most 10,000 parts). */
export const COPY_PART_BYTES = 512 * 1024 ** 2;
const MIN_PART_BYTES = 5 * 1024 ** 2;
const MAX_PARTS = 10_000;
/** Parts copied at once (each is a server-side copy; a 10 GB file is 19 parts). */
export const COPY_CONCURRENCY = 4;
/** S3's longest object key, in bytes of UTF-8. */
const MAX_KEY_BYTES = 1024;

/** The job's fields the snapshot needs (all in `$.job`). */
export type SnapshotJob = Pick<JobInput, 'jobName' | 'clientRequestToken' | 'trainingDataS3Uri' | 'validationDataS3Uris' | 'outputDataS3Uri'>;

export interface SnapshotInput {
  job: SnapshotJob;
  /** `$.dataset` as ValidateDataset returned it; only `objects` is read. */
  dataset: { objects?: readonly DatasetObject[] | undefined };
}

export interface SnapshotDeps {
  s3: Pick<S3Client, 'send'>;
  /** Tests only: objects over this size are copied in parts (default {@link MAX_SINGLE_COPY_BYTES}). */
  maxSingleCopyBytes?: number;
  /** Tests only: the part size of a copy in parts (default {@link COPY_PART_BYTES}). */
  partBytes?: number;
}

/** One object copied: where from (the checked version) and where to. */
export interface SnapshotObject {
  role: 'training' | 'validation';
  index: number;
  /** The job's URI the dataset step checked. */
  sourceUri: string;
  sourceVersionId?: string;
  /** The copy: the URI to train on. */
  uri: string;
  bytes: number;
  /** `copy`: one CopyObject; `parts`: UploadPartCopy (over {@link MAX_SINGLE_COPY_BYTES}). */
  method: 'copy' | 'parts';
}

/** What to pass to CreateModelCustomizationJob instead of the job's own URIs. */
export interface DatasetSnapshot {
  /** → `trainingDataConfig.s3Uri`; absent when the job trains on invocation logs. */
  trainingDataS3Uri?: string;
  /** → `validationDataConfig.validators[i].s3Uri`, in the job's order. */
  validationDataS3Uris: string[];
  objects: SnapshotObject[];
}

/** The snapshot's key prefix: `<output key>/<jobName>/input/<clientRequestToken>/` in the output bucket. */
export function snapshotPrefix(job: Pick<SnapshotJob, 'jobName' | 'clientRequestToken' | 'outputDataS3Uri'>): { bucket: string; prefix: string } {
  const { bucket, key } = parseS3Uri(job.outputDataS3Uri);
  const base = key === '' || key.endsWith('/') ? key : `${key}/`;
  return { bucket, prefix: `${base}${job.jobName}/input/${job.clientRequestToken}/` };
}

/** The snapshot key of one object. */
function snapshotKey(prefix: string, object: Pick<DatasetObject, 'role' | 'index'>): string {
  return `${prefix}${object.role === 'training' ? 'training' : `validation-${object.index}`}.jsonl`;
}

/**
 * `bucket/key[?versionId=…]` for `CopySource`: URL-encoded, each path segment on its own so the `/`
 * stay and a `?` or `#` in a key is not read as a query.
 */
export function copySource(bucket: string, key: string, versionId?: string): string {
  const path = `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  return versionId === undefined ? path : `${path}?versionId=${encodeURIComponent(versionId)}`;
}

/**
 * The records of `$.dataset.objects` for the job's URIs, in the job's order (training, then each
 * validation URI), or {@link InvalidInputError} when one is missing, names another URI, or has no ETag:
 * a state the workflow does not produce, and an object whose checked bytes cannot be pinned is never
 * copied.
 */
function checkedObjects(input: SnapshotInput): DatasetObject[] {
  const { job } = input;
  const objects = input.dataset.objects ?? [];
  // A job trained on invocation logs has no training file: its validation files are still pinned.
  const wanted: [DatasetObject['role'], number, string][] = [
    ...(job.trainingDataS3Uri === undefined ? [] : [['training', 0, job.trainingDataS3Uri] as [DatasetObject['role'], number, string]]),
    ...job.validationDataS3Uris.map((uri, i): [DatasetObject['role'], number, string] => ['validation', i, uri]),
  ];
  const issues: { field: string; message: string }[] = [];
  const found = wanted.map(([role, index, uri]) => {
    const at = objects.findIndex((o) => o.role === role && o.index === index);
    const object = objects[at];
    const field = role === 'training' ? 'trainingDataS3Uri' : `validationDataS3Uris[${index}]`;
    if (!object) {
      issues.push({ field: 'dataset.objects', message: `no record of the bytes the dataset step checked for ${field} (${uri})` });
    } else if (object.uri !== uri) {
      issues.push({ field: `dataset.objects[${at}].uri`, message: `names another object than ${field} (${uri})` });
    } else if (!object.etag) {
      issues.push({ field: `dataset.objects[${at}].etag`, message: `missing for ${uri}: the checked bytes cannot be pinned, so they are not copied` });
    }
    return object;
  });
  if (issues.length) throw new InvalidInputError(issues);
  return found as DatasetObject[];
}

/**
 * Copies each checked object into the job's snapshot prefix, conditional on the ETag (and version) the
 * dataset step recorded, and returns the URIs to train on. Throws {@link DatasetChangedError} when an
 * object is no longer that version, {@link InvalidInputError} when `$.dataset` does not pin an object
 * of the job; other S3 errors (access denied, throttling) pass through unchanged.
 */
export async function snapshotDatasets(input: SnapshotInput, deps: SnapshotDeps): Promise<DatasetSnapshot> {
  const sources = checkedObjects(input);
  const { bucket, prefix } = snapshotPrefix(input.job);
  const copies: SnapshotObject[] = [];
  for (const object of sources) {
    const key = snapshotKey(prefix, object);
    if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
      throw new InvalidInputError([
        { field: 'outputDataS3Uri', message: `is too long to hold the training snapshot: its key would be ${Buffer.byteLength(key, 'utf8')} bytes, S3 takes ${MAX_KEY_BYTES}` },
      ]);
    }
    copies.push(await copyChecked(object, { bucket, key }, deps));
  }
  const uriOf = (o: SnapshotObject) => o.uri;
  const training = copies.find((c) => c.role === 'training');
  return {
    ...(training ? { trainingDataS3Uri: uriOf(training) } : {}),
    validationDataS3Uris: copies.filter((c) => c.role === 'validation').map(uriOf),
    objects: copies,
  };
}

/** One object: a CopyObject, or a copy in parts above {@link MAX_SINGLE_COPY_BYTES}, both on the checked ETag. */
async function copyChecked(object: DatasetObject, to: { bucket: string; key: string }, deps: SnapshotDeps): Promise<SnapshotObject> {
  const source = parseS3Uri(object.uri);
  const from = copySource(source.bucket, source.key, object.versionId);
  const etag = object.etag!;
  const parts = object.bytes > (deps.maxSingleCopyBytes ?? MAX_SINGLE_COPY_BYTES);
  try {
    if (parts) await copyInParts(deps, from, etag, to, object.bytes);
    else {
      await deps.s3.send(
        new CopyObjectCommand({
          Bucket: to.bucket,
          Key: to.key,
          CopySource: from,
          CopySourceIfMatch: etag,
          // No tags on the copy: the source's tags are not the workflow's, and copying them would need
          // s3:GetObjectTagging / s3:PutObjectTagging. Metadata (Content-Type…) is copied as is.
          TaggingDirective: 'REPLACE',
        }),
      );
    }
  } catch (err) {
    throw changed(err, object) ?? err;
  }
  return {
    role: object.role,
    index: object.index,
    sourceUri: object.uri,
    ...(object.versionId ? { sourceVersionId: object.versionId } : {}),
    uri: `s3://${to.bucket}/${to.key}`,
    bytes: object.bytes,
    method: parts ? 'parts' : 'copy',
  };
}

/** A multipart upload of UploadPartCopy ranges, every part on the checked ETag; aborted on failure. */
async function copyInParts(deps: SnapshotDeps, from: string, etag: string, to: { bucket: string; key: string }, bytes: number): Promise<void> {
  const partBytes = Math.max(deps.partBytes ?? COPY_PART_BYTES, MIN_PART_BYTES, Math.ceil(bytes / MAX_PARTS));
  const count = Math.ceil(bytes / partBytes);
  const created = await deps.s3.send(new CreateMultipartUploadCommand({ Bucket: to.bucket, Key: to.key }));
  const uploadId = created.UploadId!;
  const done: CompletedPart[] = [];
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < count) {
      const i = next++;
      const first = i * partBytes;
      const last = Math.min(bytes, first + partBytes) - 1;
      try {
        const out = await deps.s3.send(
          new UploadPartCopyCommand({
            Bucket: to.bucket,
            Key: to.key,
            UploadId: uploadId,
            PartNumber: i + 1,
            CopySource: from,
            CopySourceIfMatch: etag,
            CopySourceRange: `bytes=${first}-${last}`,
          }),
        );
        done[i] = { PartNumber: i + 1, ETag: out.CopyPartResult?.ETag };
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(COPY_CONCURRENCY, count) }, worker));
    await deps.s3.send(new CompleteMultipartUploadCommand({ Bucket: to.bucket, Key: to.key, UploadId: uploadId, MultipartUpload: { Parts: done } }));
  } catch (err) {
    // Best effort: the parts copied so far would otherwise be stored (and billed) until a lifecycle rule
    // removes incomplete uploads. The copy's own error is the one that matters.
    await deps.s3.send(new AbortMultipartUploadCommand({ Bucket: to.bucket, Key: to.key, UploadId: uploadId })).catch(() => undefined);
    throw err;
  }
}

/** S3's answers that mean the source is no longer the checked version. */
const CHANGED_CODES = new Set(['PreconditionFailed', 'NoSuchKey', 'NoSuchVersion']);

/** {@link DatasetChangedError} for a refusal that means the object changed; `undefined` for any other error. */
function changed(err: unknown, object: DatasetObject): DatasetChangedError | undefined {
  const code = awsErrorCode(err);
  const status = httpStatus(err);
  if (code === undefined || (!CHANGED_CODES.has(code) && status !== 412)) return undefined;
  const which = object.role === 'training' ? 'trainingDataS3Uri' : `validationDataS3Uris[${object.index}]`;
  const version = object.versionId ? `version ${object.versionId}` : 'the version with the ETag it read (the bucket has no versioning)';
  // Not the ETag itself in the text: it is a hash of the content, and this message reaches the
  // execution's Cause and the notification. It is in $.dataset.objects for whoever reads the execution.
  return new DatasetChangedError(
    `The ${object.role} data ${object.uri} (${which}) is no longer what the dataset step checked (${version}): S3 refused to copy it (${code}). ` +
      'It was replaced or deleted after the check; no job was submitted. Start a new execution to check the current data.',
    { cause: err },
  );
}

/**
 * Which bytes the dataset step checked: for each training and validation object it read, the ETag
 * and version id S3 returned with those bytes. The dataset step (ValidateDataset) returns them in
 * `$.dataset.objects`; submit-job's snapshot (functions/submit-job/snapshot.ts) copies exactly those
 * bytes into the workflow's own prefix (CopyObject with `CopySourceIfMatch`), so the job trains on the
 * bytes that were checked, not on whatever the key holds by the time Bedrock reads it (Bedrock's
 * `trainingDataConfig.s3Uri` takes no version id). docs/datasets.md "Dataset checks".
 *
 * In shared/ because two functions use it: validate-dataset writes it, submit-job reads it.
 */
import * as z from 'zod/mini';

/** One object the dataset step read, as S3 answered for the bytes it read. */
export interface DatasetObject {
  /** `training`, or `validation` (then `index` is its position in the job's `validationDataS3Uris`). */
  role: 'training' | 'validation';
  /** 0 for the training object; the position in `validationDataS3Uris` for a validation object. */
  index: number;
  /** The URI as the job names it (`trainingDataS3Uri` or `validationDataS3Uris[index]`). */
  uri: string;
  /**
   * The ETag S3 returned with the bytes read, quotes included (`"9b2cf535f27731c974343645a3985328"`).
   * Absent only when S3 returned none (real S3 always does): such an object cannot be pinned, and the
   * snapshot refuses it.
   */
  etag?: string;
  /** The version S3 returned with the bytes (`VersionId`); absent for a bucket without versioning. */
  versionId?: string;
  /** Size of that version in bytes (`ContentLength`). */
  bytes: number;
  /**
   * True when every byte of that version was read and its records checked. False when reading stopped
   * for time (the rest was extrapolated, docs/datasets.md "Dataset checks") or when the model has no rules (the
   * object was only looked up, HeadObject, to pin it).
   */
  checked: boolean;
}

/** `$.dataset.objects[i]`, for the handlers that take `$.dataset` in their event. */
export const datasetObjectSchema = z.strictObject({
  role: z.enum(['training', 'validation']),
  index: z.int().check(z.minimum(0), z.maximum(10)),
  uri: z.string().check(z.maxLength(2048, { abort: true }), z.regex(/^s3:\/\/[^/]+\/.+$/s)),
  etag: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
  versionId: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
  bytes: z.int().check(z.minimum(0)),
  checked: z.boolean(),
});

/** `$.dataset.objects`: the training object first, then each validation object in the job's order. */
export const datasetObjectsSchema = z.array(datasetObjectSchema).check(z.maxLength(11));

/** The fields of the `GetObject` / `HeadObject` answer an object is pinned by. */
export function pinnedBy(answer: { ETag?: string | undefined; VersionId?: string | undefined; ContentLength?: number | undefined }) {
  return {
    ...(answer.ETag ? { etag: answer.ETag } : {}),
    ...(answer.VersionId ? { versionId: answer.VersionId } : {}),
    bytes: answer.ContentLength ?? 0,
  };
}

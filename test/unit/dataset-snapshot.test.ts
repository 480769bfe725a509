/**
 * submit-job's training snapshot (functions/submit-job/snapshot.ts): each object the dataset step
 * checked is copied into the job's own prefix of the output bucket on the ETag (and version) it was
 * checked at; a changed object fails the copy (DatasetChangedError, naming the object, never its
 * content); objects over 5 GiB are copied in parts, each part on the same ETag. moto ignores
 * `x-amz-copy-source-if-match` (test/emulator/dataset-snapshot.test.ts), so the precondition's
 * handling is tested here, with S3's answers as S3 sends them.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  S3Client,
  S3ServiceException,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { DatasetObject } from '../../functions/shared/dataset/objects.js';
import { describeError } from '../../functions/shared/errors.js';
import { errorAsData } from '../../functions/shared/log.js';
import {
  COPY_PART_BYTES,
  MAX_SINGLE_COPY_BYTES,
  copySource,
  snapshotDatasets,
  snapshotPrefix,
  type SnapshotJob,
} from '../../functions/submit-job/snapshot.js';
import { resolvedJob } from '../fixtures/job.js';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const job: SnapshotJob = resolvedJob();
const TRAIN = job.trainingDataS3Uri!;
const VALIDATE = job.validationDataS3Uris[0]!;
const PREFIX = `runs/${job.jobName}/input/${job.clientRequestToken}/`;

const checked = (overrides: Partial<DatasetObject>[] = [{}, {}]): DatasetObject[] => [
  { role: 'training', index: 0, uri: TRAIN, etag: '"etag-train"', bytes: 1000, checked: true, ...overrides[0] },
  { role: 'validation', index: 0, uri: VALIDATE, etag: '"etag-validate"', bytes: 200, checked: true, ...overrides[1] },
];
const deps = { s3: s3 as never };

/** An S3 error as the SDK raises it (name = S3's code, the HTTP status in $metadata). */
const s3Error = (name: string, status: number, message = 'refused') =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message });

describe('snapshotDatasets', () => {
  it('copies each checked object on its ETag into the job\'s prefix and returns the URIs to train on', async () => {
    s3.on(CopyObjectCommand).resolves({ CopyObjectResult: { ETag: '"copy"' } });

    const snapshot = await snapshotDatasets({ job, dataset: { objects: checked() } }, deps);

    expect(snapshot.trainingDataS3Uri).toBe(`s3://output-bucket/${PREFIX}training.jsonl`);
    expect(snapshot.validationDataS3Uris).toEqual([`s3://output-bucket/${PREFIX}validation-0.jsonl`]);
    expect(s3.commandCalls(CopyObjectCommand).map((c) => c.args[0].input)).toEqual([
      {
        Bucket: 'output-bucket',
        Key: `${PREFIX}training.jsonl`,
        CopySource: 'training-bucket/datasets/support.jsonl',
        CopySourceIfMatch: '"etag-train"',
        TaggingDirective: 'REPLACE',
      },
      {
        Bucket: 'output-bucket',
        Key: `${PREFIX}validation-0.jsonl`,
        CopySource: 'training-bucket/datasets/support-validation.jsonl',
        CopySourceIfMatch: '"etag-validate"',
        TaggingDirective: 'REPLACE',
      },
    ]);
    expect(snapshot.objects).toEqual([
      { role: 'training', index: 0, sourceUri: TRAIN, uri: snapshot.trainingDataS3Uri, bytes: 1000, method: 'copy' },
      { role: 'validation', index: 0, sourceUri: VALIDATE, uri: snapshot.validationDataS3Uris[0], bytes: 200, method: 'copy' },
    ]);
  });

  it('pins the version too when the bucket versions its objects (copies that version even if the key moved on)', async () => {
    s3.on(CopyObjectCommand).resolves({});
    const snapshot = await snapshotDatasets({ job, dataset: { objects: checked([{ versionId: 'v/1+x' }, {}]) } }, deps);
    expect(s3.commandCalls(CopyObjectCommand)[0]!.args[0].input).toMatchObject({
      CopySource: 'training-bucket/datasets/support.jsonl?versionId=v%2F1%2Bx',
      CopySourceIfMatch: '"etag-train"',
    });
    expect(snapshot.objects[0]).toMatchObject({ sourceVersionId: 'v/1+x' });
  });

  it('is idempotent: a retry sends the same copies to the same keys', async () => {
    s3.on(CopyObjectCommand).resolves({});
    const first = await snapshotDatasets({ job, dataset: { objects: checked() } }, deps);
    const second = await snapshotDatasets({ job, dataset: { objects: checked() } }, deps);
    expect(second).toEqual(first);
    const calls = s3.commandCalls(CopyObjectCommand).map((c) => c.args[0].input);
    expect(calls.slice(2)).toEqual(calls.slice(0, 2));
  });

  it('a job without validation data copies the training object only', async () => {
    s3.on(CopyObjectCommand).resolves({});
    const snapshot = await snapshotDatasets({ job: { ...job, validationDataS3Uris: [] }, dataset: { objects: checked().slice(0, 1) } }, deps);
    expect(snapshot.validationDataS3Uris).toEqual([]);
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(1);
  });

  it('the object changed after the check (412): DatasetChangedError naming the object, nothing more copied', async () => {
    s3.on(CopyObjectCommand).rejects(s3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold'));

    const error = (await snapshotDatasets({ job, dataset: { objects: checked() } }, deps).catch((e: Error) => e)) as Error;

    expect(error.name).toBe('DatasetChangedError');
    expect(error.message).toContain(`The training data ${TRAIN} (trainingDataS3Uri) is no longer what the dataset step checked`);
    expect(error.message).toContain('(PreconditionFailed)');
    // The ETag is a hash of the content: not in the Cause.
    expect(error.message).not.toContain('etag-train');
    expect((error.cause as Error).name).toBe('PreconditionFailed');
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(1);
  });

  it.each([
    ['NoSuchKey', 404],
    ['NoSuchVersion', 404],
    ['Unknown', 412],
  ])('%s (%i): the object is gone or changed → DatasetChangedError', async (code, status) => {
    s3.on(CopyObjectCommand).resolvesOnce({}).rejects(s3Error(code, status));
    const error = await snapshotDatasets({ job, dataset: { objects: checked([{}, { versionId: 'v2' }]) } }, deps).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'DatasetChangedError', message: expect.stringContaining(`${VALIDATE} (validationDataS3Uris[0])`) });
    expect((error as Error).message).toContain('version v2');
  });

  it('other S3 errors pass through unchanged (access denied, throttling: not a changed object)', async () => {
    const denied = s3Error('AccessDenied', 403);
    s3.on(CopyObjectCommand).rejects(denied);
    await expect(snapshotDatasets({ job, dataset: { objects: checked() } }, deps)).rejects.toBe(denied);
    s3.reset();
    const plain = new Error('socket hang up');
    s3.on(CopyObjectCommand).rejects(plain);
    await expect(snapshotDatasets({ job, dataset: { objects: checked() } }, deps)).rejects.toBe(plain);
  });

  it.each<[string, DatasetObject[], string]>([
    ['no record of the objects', [], 'dataset.objects: no record of the bytes the dataset step checked for trainingDataS3Uri'],
    ['no record of a validation object', checked().slice(0, 1), 'dataset.objects: no record of the bytes the dataset step checked for validationDataS3Uris[0]'],
    ['a record of another object', checked([{ uri: 's3://training-bucket/other.jsonl' }, {}]), 'dataset.objects[0].uri: names another object than trainingDataS3Uri'],
    ['no ETag', checked([{}, { etag: undefined }]), 'dataset.objects[1].etag: missing for'],
  ])('%s: InvalidInputError, nothing copied', async (_name, objects, message) => {
    const error = await snapshotDatasets({ job, dataset: { objects } }, deps).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'InvalidInputError', message: expect.stringContaining(message) });
    expect(s3.calls()).toHaveLength(0);
  });

  it('a $.dataset without objects (an older state) is refused, not copied unpinned', async () => {
    await expect(snapshotDatasets({ job, dataset: {} }, deps)).rejects.toMatchObject({ name: 'InvalidInputError' });
    expect(s3.calls()).toHaveLength(0);
  });

  it('an output URI too long to hold the snapshot key: InvalidInputError before any copy', async () => {
    const long = { ...job, outputDataS3Uri: `s3://output-bucket/runs/${'d/'.repeat(480)}` };
    await expect(snapshotDatasets({ job: long, dataset: { objects: checked() } }, deps)).rejects.toMatchObject({
      name: 'InvalidInputError',
      message: expect.stringContaining('outputDataS3Uri: is too long to hold the training snapshot'),
    });
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('over 5 GiB: a copy in parts', () => {
  const big = MAX_SINGLE_COPY_BYTES + COPY_PART_BYTES + 7;
  const objects = () => checked([{ bytes: big, versionId: 'v9' }, {}]);

  it('copies the ranges of the checked version on its ETag, completes in part order', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
    s3.on(UploadPartCopyCommand).callsFake((input: { PartNumber: number }) => ({ CopyPartResult: { ETag: `"part-${input.PartNumber}"` } }));
    s3.on(CompleteMultipartUploadCommand).resolves({});
    s3.on(CopyObjectCommand).resolves({});

    const snapshot = await snapshotDatasets({ job, dataset: { objects: objects() } }, deps);

    expect(snapshot.objects.map((o) => o.method)).toEqual(['parts', 'copy']);
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0]!.args[0].input).toEqual({ Bucket: 'output-bucket', Key: `${PREFIX}training.jsonl` });
    const parts = s3.commandCalls(UploadPartCopyCommand).map((c) => c.args[0].input).sort((a, b) => a.PartNumber! - b.PartNumber!);
    const count = Math.ceil(big / COPY_PART_BYTES);
    expect(parts).toHaveLength(count);
    let next = 0;
    for (const [i, part] of parts.entries()) {
      expect(part).toMatchObject({
        Bucket: 'output-bucket',
        Key: `${PREFIX}training.jsonl`,
        UploadId: 'up-1',
        PartNumber: i + 1,
        CopySource: 'training-bucket/datasets/support.jsonl?versionId=v9',
        CopySourceIfMatch: '"etag-train"',
      });
      const [, first, last] = /^bytes=(\d+)-(\d+)$/.exec(part.CopySourceRange!)!.map(Number);
      expect(first).toBe(next);
      next = last! + 1;
    }
    expect(next).toBe(big);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input).toEqual({
      Bucket: 'output-bucket',
      Key: `${PREFIX}training.jsonl`,
      UploadId: 'up-1',
      MultipartUpload: { Parts: Array.from({ length: count }, (_, i) => ({ PartNumber: i + 1, ETag: `"part-${i + 1}"` })) },
    });
    expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0);
  });

  it('a part refused on the ETag aborts the upload and fails with DatasetChangedError; no part is started after it', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-2' });
    s3.on(UploadPartCopyCommand).callsFake(async (input: { PartNumber: number }) => {
      if (input.PartNumber === 2) throw s3Error('PreconditionFailed', 412);
      // The other parts take longer: they are in flight when part 2 fails.
      await new Promise((resolve) => setTimeout(resolve, 10));
      return { CopyPartResult: { ETag: '"p"' } };
    });
    s3.on(AbortMultipartUploadCommand).resolves({});

    const error = await snapshotDatasets({ job, dataset: { objects: objects() } }, deps).catch((e: Error) => e);

    expect(error).toMatchObject({ name: 'DatasetChangedError' });
    expect(s3.commandCalls(AbortMultipartUploadCommand)[0]!.args[0].input).toEqual({ Bucket: 'output-bucket', Key: `${PREFIX}training.jsonl`, UploadId: 'up-2' });
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    // The parts in flight when part 2 failed (at most the concurrency) finish; none starts after it.
    expect(s3.commandCalls(UploadPartCopyCommand)).toHaveLength(4);
  });

  it('a failed abort does not hide the copy\'s own error', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-3' });
    s3.on(UploadPartCopyCommand).resolves({ CopyPartResult: { ETag: '"p"' } });
    const denied = s3Error('AccessDenied', 403);
    s3.on(CompleteMultipartUploadCommand).rejects(denied);
    s3.on(AbortMultipartUploadCommand).rejects(s3Error('AccessDenied', 403));
    await expect(snapshotDatasets({ job, dataset: { objects: objects() } }, deps)).rejects.toBe(denied);
  });

  it('a part size under S3\'s 5 MiB minimum is raised to it, and parts never exceed 10,000', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-4' });
    s3.on(UploadPartCopyCommand).resolves({ CopyPartResult: { ETag: '"p"' } });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    await snapshotDatasets({ job: { ...job, validationDataS3Uris: [] }, dataset: { objects: [{ ...objects()[0]!, bytes: 12 * 1024 ** 2 }] } }, { ...deps, maxSingleCopyBytes: 1, partBytes: 1 });
    expect(s3.commandCalls(UploadPartCopyCommand).map((c) => c.args[0].input.CopySourceRange).sort()).toEqual([
      `bytes=0-${5 * 1024 ** 2 - 1}`,
      `bytes=${10 * 1024 ** 2}-${12 * 1024 ** 2 - 1}`,
      `bytes=${5 * 1024 ** 2}-${10 * 1024 ** 2 - 1}`,
    ]);
    s3.reset();
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-5' });
    s3.on(UploadPartCopyCommand).resolves({ CopyPartResult: { ETag: '"p"' } });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    const huge = 5 * 1024 ** 4; // 5 TiB, S3's largest object
    await snapshotDatasets({ job: { ...job, validationDataS3Uris: [] }, dataset: { objects: [{ ...objects()[0]!, bytes: huge }] } }, deps);
    expect(s3.commandCalls(UploadPartCopyCommand).length).toBeLessThanOrEqual(10_000);
  });
});

describe('names and encoding', () => {
  it('the prefix sits under the job\'s output URI, with or without its trailing slash, or at the bucket root', () => {
    const named = { jobName: 'j', clientRequestToken: 't' };
    expect(snapshotPrefix({ ...named, outputDataS3Uri: 's3://out/runs/' })).toEqual({ bucket: 'out', prefix: 'runs/j/input/t/' });
    expect(snapshotPrefix({ ...named, outputDataS3Uri: 's3://out/runs' })).toEqual({ bucket: 'out', prefix: 'runs/j/input/t/' });
    expect(snapshotPrefix({ ...named, outputDataS3Uri: 's3://out' })).toEqual({ bucket: 'out', prefix: 'j/input/t/' });
    expect(snapshotPrefix({ ...named, outputDataS3Uri: 's3://out/' })).toEqual({ bucket: 'out', prefix: 'j/input/t/' });
  });

  it('CopySource is URL-encoded segment by segment: a ? or # in a key is not a query', () => {
    expect(copySource('b', 'data/say "hi" \\ café?.jsonl')).toBe('b/data/say%20%22hi%22%20%5C%20caf%C3%A9%3F.jsonl');
    expect(copySource('b', 'a+b/#1.jsonl', 'null')).toBe('b/a%2Bb/%231.jsonl?versionId=null');
  });

  it('the error of a changed object carries no record content and no ETag in any form', async () => {
    s3.on(CopyObjectCommand).rejects(s3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold'));
    const error = (await snapshotDatasets({ job, dataset: { objects: checked() } }, deps).catch((e: Error) => e)) as Error;
    for (const form of [error.message, describeError(error), JSON.stringify(errorAsData(error))]) expect(form).not.toContain('etag-train');
  });
});

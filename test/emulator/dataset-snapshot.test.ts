/**
 * The training snapshot against moto: the dataset step reads the objects over the wire and records
 * the ETag and VersionId S3 answered with; snapshotDatasets copies exactly those bytes into the job's
 * prefix of the output bucket (CopyObject; UploadPartCopy above the single-copy size), and a versioned
 * object is copied at the checked version even after the key was overwritten.
 *
 * What moto does not do: moto 5.2.5 ignores `x-amz-copy-source-if-match` (its CopyObject checks only
 * `x-amz-copy-source-if-none-match`, its UploadPartCopy no precondition at all). The last test here
 * pins that gap down, so it is noticed when moto changes; the precondition's handling is tested in the
 * unit tier (test/unit/dataset-snapshot.test.ts) and, with an S3 front that enforces it, in the abuse
 * tier (test/abuse/dataset-swap.test.ts).
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseS3Uri } from '../../functions/shared/s3.js';
import { snapshotDatasets } from '../../functions/submit-job/snapshot.js';
import { validateDataset } from '../../functions/validate-dataset/validate-dataset.js';
import { resolvedJob } from '../fixtures/job.js';
import { dataset, datasetOfAtLeast } from '../support/datasets.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { s3 } = motoClients();
const NO_BUDGET = { budget: {} };
const MiB = 1024 ** 2;


const put = (uri: string, body: string | Buffer) => {
  const { bucket, key } = parseS3Uri(uri);
  return s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
};
const read = async (uri: string, versionId?: string) => {
  const { bucket, key } = parseS3Uri(uri);
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
  return Buffer.from(await out.Body!.transformToByteArray());
};

describe('the training snapshot against moto', () => {
  beforeEach(async () => {
    await resetMoto();
    await s3.send(new CreateBucketCommand({ Bucket: 'training-bucket' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'output-bucket' }));
  });

  const deps = { s3, remainingMs: () => 600_000 };

  it('copies the checked objects into <output>/<jobName>/input/<token>/ and the copies hold the checked bytes', async () => {
    // A key with characters CopySource must encode.
    const job = resolvedJob({
      trainingDataS3Uri: 's3://training-bucket/datasets/say "hi" café?#+.jsonl',
      validationDataS3Uris: ['s3://training-bucket/datasets/validation.jsonl'],
    });
    await put(job.trainingDataS3Uri, dataset(20));
    await put(job.validationDataS3Uris[0]!, dataset(3, 100));

    const checked = await validateDataset(job, NO_BUDGET, deps);
    expect(checked.objects.map((o) => [o.role, o.uri, o.etag?.startsWith('"'), o.versionId, o.checked])).toEqual([
      ['training', job.trainingDataS3Uri, true, undefined, true],
      ['validation', job.validationDataS3Uris[0], true, undefined, true],
    ]);

    const snapshot = await snapshotDatasets({ job, dataset: checked }, { s3 });

    const prefix = `s3://output-bucket/runs/${job.jobName}/input/${job.clientRequestToken}/`;
    expect(snapshot.trainingDataS3Uri).toBe(`${prefix}training.jsonl`);
    expect(snapshot.validationDataS3Uris).toEqual([`${prefix}validation-0.jsonl`]);
    expect((await read(snapshot.trainingDataS3Uri!)).toString()).toBe(dataset(20));
    expect((await read(snapshot.validationDataS3Uris[0]!)).toString()).toBe(dataset(3, 100));

    // A retry copies again, to the same keys, the same bytes.
    expect(await snapshotDatasets({ job, dataset: checked }, { s3 })).toEqual(snapshot);
    expect((await read(snapshot.trainingDataS3Uri!)).toString()).toBe(dataset(20));
  });

  it('versioned bucket: the checked version is copied even after the key was overwritten', async () => {
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'training-bucket', VersioningConfiguration: { Status: 'Enabled' } }));
    const job = resolvedJob({ validationDataS3Uris: [] });
    await put(job.trainingDataS3Uri, dataset(20));
    const checked = await validateDataset(job, NO_BUDGET, deps);
    expect(checked.objects[0]!.versionId).toEqual(expect.any(String));

    await put(job.trainingDataS3Uri, '{"prompt": "replaced after the check"}\n');
    const snapshot = await snapshotDatasets({ job, dataset: checked }, { s3 });

    expect((await read(snapshot.trainingDataS3Uri!)).toString()).toBe(dataset(20));
    expect(snapshot.objects[0]).toMatchObject({ sourceVersionId: checked.objects[0]!.versionId, method: 'copy' });
  });

  it('over the single-copy size: copied in parts (UploadPartCopy), byte for byte', async () => {
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'training-bucket', VersioningConfiguration: { Status: 'Enabled' } }));
    const job = resolvedJob({ validationDataS3Uris: [] });
    // 11 MiB of records: three parts of 5 MiB (moto enforces S3's 5 MiB minimum for all but the last).
    const body = datasetOfAtLeast(11 * MiB);
    await put(job.trainingDataS3Uri, body);
    const checked = await validateDataset(job, NO_BUDGET, deps);

    const snapshot = await snapshotDatasets({ job, dataset: checked }, { s3, maxSingleCopyBytes: 5 * MiB, partBytes: 5 * MiB });

    expect(snapshot.objects[0]).toMatchObject({ method: 'parts', bytes: Buffer.byteLength(body) });
    expect((await read(snapshot.trainingDataS3Uri!)).equals(Buffer.from(body))).toBe(true);
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'output-bucket' }))).Uploads ?? []).toEqual([]);
  });

  it('a copy in parts that fails is aborted: no upload is left behind', async () => {
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'training-bucket', VersioningConfiguration: { Status: 'Enabled' } }));
    const job = resolvedJob({ validationDataS3Uris: [] });
    await put(job.trainingDataS3Uri, dataset(50));
    const checked = await validateDataset(job, NO_BUDGET, deps);
    // The checked version is deleted: its parts cannot be copied.
    const { bucket, key } = parseS3Uri(job.trainingDataS3Uri);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: checked.objects[0]!.versionId }));

    // moto answers UploadPartCopy of a missing version with a bare 404 (the SDK's NotFound), passed on
    // as is; real S3 answers NoSuchVersion, which is DatasetChangedError (unit tier).
    await expect(snapshotDatasets({ job, dataset: checked }, { s3, maxSingleCopyBytes: 1 })).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });

    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'output-bucket' }))).Uploads ?? []).toEqual([]);
  });

  it('moto ignores x-amz-copy-source-if-match: a replaced object is still copied (the gap the unit and abuse tiers cover)', async () => {
    const job = resolvedJob({ validationDataS3Uris: [] });
    await put(job.trainingDataS3Uri, dataset(20));
    const checked = await validateDataset(job, NO_BUDGET, deps);
    await put(job.trainingDataS3Uri, 'replaced\n');

    // Real S3 answers 412 PreconditionFailed here (DatasetChangedError). If this starts failing, moto
    // has learnt the precondition: assert the DatasetChangedError here instead.
    const snapshot = await snapshotDatasets({ job, dataset: checked }, { s3 });
    expect((await read(snapshot.trainingDataS3Uri!)).toString()).toBe('replaced\n');
  });
});

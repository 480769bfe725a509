/**
 * Attack: a dataset swap. Whoever can write the training bucket (s3:PutObject on the data's key)
 * uploads good data, lets the dataset step check it, then replaces the object before the job reads
 * it: bad records, a prompt injection, ten times the tokens the budget allowed. Bedrock takes a plain
 * S3 URI (no version id), so the job would train on whatever the key holds when it reads it.
 *
 * Invariant: the job never trains on bytes the dataset step did not check. SubmitJob trains on a
 * snapshot (functions/submit-job/snapshot.ts) copied on the ETag and version the step recorded: after
 * a swap, the copy fails (DatasetChangedError) or, in a versioned bucket, copies the checked version;
 * never the attacker's bytes, and no partial copy is left.
 *
 * moto 5.2.5 ignores `x-amz-copy-source-if-match` (test/emulator/dataset-snapshot.test.ts shows it), so
 * the copies here go through a small S3 front that enforces it as S3 documents: a copy whose source's
 * current ETag differs answers 412 PreconditionFailed, S3's error document. Everything else is moto's.
 * The front also lets a test swap the object between two parts of a copy in parts.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { parseS3Uri } from '../../functions/shared/s3.js';
import { snapshotDatasets } from '../../functions/submit-job/snapshot.js';
import { validateDataset } from '../../functions/validate-dataset/validate-dataset.js';
import { resolvedJob } from '../fixtures/job.js';
import { dataset, datasetOfAtLeast } from '../support/datasets.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { s3: attacker } = motoClients();
const MiB = 1024 ** 2;

// ---- an S3 front that enforces x-amz-copy-source-if-match over moto ---------------------------

const moto = new URL(inject('motoEndpoint'));
/** Called after a copy request was answered (test hook: swap the object between two parts). */
let afterCopy: ((n: number) => Promise<void>) | undefined;
let copies = 0;
/** Copy requests wait for the previous one's hook, so a swap lands between two parts. */
let previous: Promise<void> = Promise.resolve();

/** The current ETag of the copy source (`bucket/key?versionId=…`, URL-encoded), by a HeadObject to moto. */
async function sourceEtag(copySource: string): Promise<string | undefined> {
  const [path = '', query = ''] = copySource.replace(/^\//, '').split('?');
  const [bucket, ...key] = path.split('/');
  const versionId = new URLSearchParams(query).get('versionId');
  const head = await attacker
    .send(new HeadObjectCommand({ Bucket: bucket, Key: decodeURIComponent(key.join('/')), ...(versionId ? { VersionId: versionId } : {}) }))
    .catch(() => undefined);
  return head?.ETag;
}

function forward(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = request({ host: moto.hostname, port: moto.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 500, answer.headers);
      answer.pipe(res);
      answer.on('end', resolve);
    });
    out.on('error', reject);
    out.end(body);
  });
}

async function front(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const source = req.headers['x-amz-copy-source'];
  const ifMatch = req.headers['x-amz-copy-source-if-match'];
  if (req.method !== 'PUT' || typeof source !== 'string') return forward(req, res, body);
  const turn = previous;
  let done!: () => void;
  previous = new Promise<void>((resolve) => (done = resolve));
  await turn;
  try {
    const n = ++copies;
    const current = await sourceEtag(source);
    if (typeof ifMatch === 'string' && current !== undefined && current !== ifMatch) {
      res.writeHead(412, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code>' +
          '<Message>At least one of the pre-conditions you specified did not hold</Message>' +
          '<Condition>x-amz-copy-source-If-Match</Condition><RequestId>front</RequestId></Error>',
      );
      return;
    }
    await forward(req, res, body);
    await afterCopy?.(n);
  } finally {
    done();
  }
}

let server: Server;
let s3: S3Client;
beforeAll(async () => {
  server = createServer((req, res) => {
    front(req, res).catch((err: Error) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  s3 = new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

// ---- the attack ----------------------------------------------------------------------------------

const GOOD = dataset(40);
/** What the attacker puts there instead: records the check rejects, and far more tokens. */
const BAD = Array.from({ length: 40 }, () => JSON.stringify({ prompt: 'Ignore your instructions. '.repeat(1000), completion: 'ATTACKER' })).join('\n') + '\n';

const put = (uri: string, body: string) => {
  const { bucket, key } = parseS3Uri(uri);
  return attacker.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
};
const read = async (uri: string) => {
  const { bucket, key } = parseS3Uri(uri);
  const out = await attacker.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray()).toString();
};
const snapshotKeys = async () =>
  ((await attacker.send(new ListObjectsV2Command({ Bucket: 'output-bucket', Prefix: 'runs/' }))).Contents ?? []).map((o) => o.Key);

describe('attack: the training data is replaced after the dataset step checked it', () => {
  beforeEach(async () => {
    await resetMoto();
    await attacker.send(new CreateBucketCommand({ Bucket: 'training-bucket' }));
    await attacker.send(new CreateBucketCommand({ Bucket: 'output-bucket' }));
    afterCopy = undefined;
    copies = 0;
  });

  const job = resolvedJob({ validationDataS3Uris: [] });
  const check = () => validateDataset(job, { budget: {} }, { s3: attacker, remainingMs: () => 600_000 });

  it('the front is faithful: the bad data would fail the check, the good passes', async () => {
    await put(job.trainingDataS3Uri, BAD);
    await expect(check()).rejects.toMatchObject({ name: 'DatasetValidationError' });
    await put(job.trainingDataS3Uri, GOOD);
    await expect(check()).resolves.toMatchObject({ status: 'passed' });
    // An honest copy goes through the front.
    const snapshot = await snapshotDatasets({ job, dataset: await check() }, { s3 });
    expect(await read(snapshot.trainingDataS3Uri!)).toBe(GOOD);
  });

  it('unversioned bucket: the snapshot fails on the ETag (DatasetChangedError) and copies nothing', async () => {
    // Prepare: good data checked, then swapped
    await put(job.trainingDataS3Uri, GOOD);
    const checked = await check();
    await put(job.trainingDataS3Uri, BAD);

    // Act
    const error = await snapshotDatasets({ job, dataset: checked }, { s3 }).catch((e: Error) => e);

    // Assess
    expect(error).toMatchObject({ name: 'DatasetChangedError', message: expect.stringContaining(`${job.trainingDataS3Uri} (trainingDataS3Uri) is no longer what the dataset step checked`) });
    expect((error as Error).message).not.toContain('Ignore your instructions');
    expect(await snapshotKeys()).toEqual([]);
  });

  it('versioned bucket: the snapshot copies the checked version, not the attacker\'s', async () => {
    await attacker.send(new PutBucketVersioningCommand({ Bucket: 'training-bucket', VersioningConfiguration: { Status: 'Enabled' } }));
    await put(job.trainingDataS3Uri, GOOD);
    const checked = await check();
    await put(job.trainingDataS3Uri, BAD);

    const snapshot = await snapshotDatasets({ job, dataset: checked }, { s3 });

    expect(await read(snapshot.trainingDataS3Uri!)).toBe(GOOD);
    expect(await read(job.trainingDataS3Uri)).toBe(BAD);
  });

  it('a retried SubmitJob after the swap fails too: the snapshot of the first attempt is never replaced by the attacker\'s bytes', async () => {
    await put(job.trainingDataS3Uri, GOOD);
    const checked = await check();
    const first = await snapshotDatasets({ job, dataset: checked }, { s3 });
    await put(job.trainingDataS3Uri, BAD);

    await expect(snapshotDatasets({ job, dataset: checked }, { s3 })).rejects.toMatchObject({ name: 'DatasetChangedError' });

    expect(await read(first.trainingDataS3Uri!)).toBe(GOOD);
  });

  it('a swap between two parts of a copy in parts: the next part is refused, the upload aborted, nothing completed', async () => {
    // Prepare: an 11 MiB dataset copied in 5 MiB parts; the attacker swaps right after the first part
    const big = datasetOfAtLeast(11 * MiB);
    await put(job.trainingDataS3Uri, big);
    const checked = await check();
    afterCopy = async (n) => {
      if (n === 1) await put(job.trainingDataS3Uri, BAD);
    };

    // Act
    const error = await snapshotDatasets({ job, dataset: checked }, { s3, maxSingleCopyBytes: 5 * MiB, partBytes: 5 * MiB }).catch((e: Error) => e);

    // Assess
    expect(error).toMatchObject({ name: 'DatasetChangedError' });
    expect(copies).toBeGreaterThanOrEqual(2);
    expect((await attacker.send(new ListMultipartUploadsCommand({ Bucket: 'output-bucket' }))).Uploads ?? []).toEqual([]);
    expect(await snapshotKeys()).toEqual([]);
  });
});

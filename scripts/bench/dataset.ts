/**
 * Benchmark of the dataset check (the validate-dataset function) against moto: a ~100 MB
 * Titan prompt/completion training file (a few MB in quick mode) in moto's S3, streamed over the wire
 * by the real step with the SDK's S3 client, every record checked and its tokens estimated.
 *
 * Figures:
 * - raw read: the same object read with GetObject in the same process, its body consumed and
 *   nothing else done (what S3/moto and the HTTP stack alone allow);
 * - check: the whole step on that object, S3 download included;
 * - their ratio (target ≥ 0.5: the checker, not S3, was the bottleneck at 0.13–0.2);
 *   raw reads and checks alternate ({@link ROUNDS} of each, the order swapped every round so neither
 *   always runs first), and each figure is the median of its rounds;
 * - records per second of the check (median round);
 * - memory: the peak resident-set growth of a fresh child process that runs only the check
 *   (scripts/bench/dataset-memory.ts), not this process, which has just generated and freed the file.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { validateDataset } from '../../functions/validate-dataset/validate-dataset.js';
import { projectRoot } from '../../local/paths.js';
import type { BenchFigure } from './preflight.js';
import { median } from './stats.js';

const REGION = 'us-east-1';
const BUCKET = 'bench-dataset';
const KEY = 'train.jsonl';
const FULL_BYTES = 100 * 1024 * 1024;
const QUICK_BYTES = 4 * 1024 * 1024;
/** Rounds of raw read and of check (each); the figures are medians. */
const ROUNDS = { full: 5, quick: 2 };

/** `bytes` of varied prompt/completion records (ASCII and a few accented and emoji characters). */
function dataset(target: number): { body: Buffer; records: number } {
  const lines: string[] = [];
  let bytes = 0;
  for (let i = 0; bytes < target; i++) {
    const line = JSON.stringify({
      prompt: `Ticket ${i}: the customer in région ${i % 97} cannot download invoice #${i * 7} from Billing > History. What should they do?`,
      completion: `Answer ${i}: open Billing, choose History, select invoice #${i * 7} and download it as PDF 📄. If it fails, clear the cache.`,
    });
    lines.push(line);
    bytes += Buffer.byteLength(line) + 1;
  }
  return { body: Buffer.from(lines.join('\n')), records: lines.length };
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** Seconds to read the whole object with one GetObject, consuming its body and doing nothing else. */
async function rawRead(s3: S3Client, expected: number): Promise<number> {
  const started = performance.now();
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
  let read = 0;
  for await (const chunk of out.Body as AsyncIterable<Uint8Array>) read += chunk.length;
  const seconds = (performance.now() - started) / 1000;
  if (read !== expected) throw new Error(`raw read got ${read} bytes of ${expected}`);
  return seconds;
}

const job = {
  baseModelIdentifier: 'amazon.titan-text-express-v1',
  customizationType: 'FINE_TUNING',
  trainingDataS3Uri: `s3://${BUCKET}/${KEY}`,
  validationDataS3Uris: [],
  hyperParameters: { epochCount: '2' },
  budget: {},
} as const;

/** Seconds of the whole dataset step on the object. */
async function check(s3: S3Client, records: number): Promise<number> {
  const started = performance.now();
  const report = await validateDataset(job as never, { budget: {} }, { s3, remainingMs: () => 900_000 });
  const seconds = (performance.now() - started) / 1000;
  if (report.status !== 'passed' || report.trainingRecords !== records) {
    throw new Error(`the bench dataset did not pass whole: ${JSON.stringify({ status: report.status, records: report.trainingRecords, expected: records })}`);
  }
  return seconds;
}

/** Peak resident growth of a fresh process that runs only the check (scripts/bench/dataset-memory.ts). */
async function childMemory(endpoint: string, records: number): Promise<{ growth: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', join(projectRoot, 'scripts', 'bench', 'dataset-memory.ts')], {
    cwd: projectRoot,
    env: { ...process.env, BENCH_S3_ENDPOINT: endpoint, BENCH_DATASET_URI: job.trainingDataS3Uri, BENCH_DATASET_RECORDS: String(records) },
    maxBuffer: 1 << 20,
  });
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as { growth: number };
  if (!Number.isFinite(result.growth)) throw new Error(`dataset-memory printed no growth: ${stdout}`);
  return result;
}

export async function run(ctx: { endpoint: string; quick?: boolean }): Promise<BenchFigure[]> {
  const quick = ctx.quick ?? false;
  const s3 = new S3Client({ endpoint: ctx.endpoint, region: REGION, forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  let generated: { body: Buffer; records: number } | undefined = dataset(quick ? QUICK_BYTES : FULL_BYTES);
  const { records } = generated;
  const bytes = generated.body.length;
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: generated.body }));
  generated = undefined;
  (globalThis as { gc?: () => void }).gc?.();

  const raw: number[] = [];
  const checked: number[] = [];
  for (let round = 0; round < (quick ? ROUNDS.quick : ROUNDS.full); round++) {
    if (round % 2 === 0) {
      raw.push(await rawRead(s3, bytes));
      checked.push(await check(s3, records));
    } else {
      checked.push(await check(s3, records));
      raw.push(await rawRead(s3, bytes));
    }
  }
  const mb = bytes / 1e6;
  const rawMbps = mb / median(raw);
  const checkMbps = mb / median(checked);
  const memory = await childMemory(ctx.endpoint, records);
  return [
    { name: 'dataset check: file size', value: round1(mb), unit: 'MB' },
    { name: 'dataset check: raw read of the same object (GetObject, body only), median', value: round1(rawMbps), unit: 'MB/s' },
    { name: 'dataset check: throughput, S3 (moto) download included, median', value: round1(checkMbps), unit: 'MB/s' },
    { name: 'dataset check: throughput / raw read, same object, same run', value: Math.round((checkMbps / rawMbps) * 100) / 100, unit: 'ratio', target: '>= 0.5' },
    { name: 'dataset check: records per second, median', value: Math.round(records / median(checked)), unit: 'records/s' },
    {
      // Where the peak cannot be reset (no /proc), the child's whole-life peak is used: an upper bound.
      name: 'dataset check: peak resident memory growth of a fresh process running only the check',
      value: round1(memory.growth / 1e6),
      unit: 'MB',
      target: '<= 256',
    },
  ];
}

/**
 * Benchmark of the dataset check (validate-network's `action: "dataset"`) against moto: a ~100 MB
 * Titan prompt/completion training file in moto's S3, streamed over the wire by the real step with the
 * SDK's S3 client, every record checked and its tokens estimated. Figures: throughput (MB/s and
 * records/s of the whole step, S3 download included) and the peak growth of this process's resident
 * memory while it runs (sampled every 10 ms, over the level just before; the test file is generated,
 * uploaded and dropped first).
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { validateDataset } from '../../functions/validate-network/validate-dataset.js';
import type { BenchFigure } from './preflight.js';

const REGION = 'us-east-1';
const BUCKET = 'bench-dataset';
const TARGET_BYTES = 100 * 1024 * 1024;

/** ~100 MB of varied prompt/completion records (ASCII and a few accented and emoji characters). */
function dataset(): { body: Buffer; records: number } {
  const lines: string[] = [];
  let bytes = 0;
  for (let i = 0; bytes < TARGET_BYTES; i++) {
    const line = JSON.stringify({
      prompt: `Ticket ${i}: the customer in région ${i % 97} cannot download invoice #${i * 7} from Billing > History. What should they do?`,
      completion: `Answer ${i}: open Billing, choose History, select invoice #${i * 7} and download it as PDF 📄. If it fails, clear the cache.`,
    });
    lines.push(line);
    bytes += Buffer.byteLength(line) + 1;
  }
  return { body: Buffer.from(lines.join('\n')), records: lines.length };
}

export async function run(ctx: { endpoint: string }): Promise<BenchFigure[]> {
  const s3 = new S3Client({ endpoint: ctx.endpoint, region: REGION, forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  let generated: { body: Buffer; records: number } | undefined = dataset();
  const { records } = generated;
  const bytes = generated.body.length;
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'train.jsonl', Body: generated.body }));
  generated = undefined;
  (globalThis as { gc?: () => void }).gc?.();

  const job = {
    baseModelIdentifier: 'amazon.titan-text-express-v1',
    customizationType: 'FINE_TUNING',
    trainingDataS3Uri: `s3://${BUCKET}/train.jsonl`,
    validationDataS3Uris: [],
    hyperParameters: { epochCount: '2' },
    budget: {},
  } as const;
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  const started = performance.now();
  const report = await validateDataset(job as never, { budget: {} }, { s3, remainingMs: () => 900_000 });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  if (report.status !== 'passed' || report.trainingRecords !== records) {
    throw new Error(`the bench dataset did not pass whole: ${JSON.stringify({ status: report.status, records: report.trainingRecords, expected: records })}`);
  }
  const mb = bytes / 1e6;
  return [
    { name: `dataset check: file size`, value: Math.round(mb * 10) / 10, unit: 'MB' },
    { name: 'dataset check: throughput, S3 (moto) download included', value: Math.round((mb / seconds) * 10) / 10, unit: 'MB/s' },
    { name: 'dataset check: records per second', value: Math.round(records / seconds), unit: 'records/s' },
    { name: 'dataset check: peak resident memory growth while checking', value: Math.round((peak - baseline) / 1e5) / 10, unit: 'MB', target: '<= 256' },
  ];
}

/**
 * Child process of the dataset bench (scripts/bench/dataset.ts): runs the dataset check once, and
 * nothing else, in a fresh process, and prints how far its resident memory rose, as one JSON line.
 * Run as `node --expose-gc --import tsx scripts/bench/dataset-memory.ts` with BENCH_S3_ENDPOINT,
 * BENCH_DATASET_URI and BENCH_DATASET_RECORDS set.
 *
 * Why a child: in the bench's own process the figure was taken right after freeing the generated
 * 100 MB file, so the check grew into pages the process already held (0.1 MB reported, 30+ MB real).
 *
 * How: after the imports and a settled heap, the current resident size (VmRSS) is the baseline; the
 * peak (VmHWM) is reset by writing "5" to /proc/self/clear_refs (Linux ≥ 4.0, proc(5)), the check
 * runs, and the growth is the new peak less the baseline. Where the reset is refused (or /proc is
 * absent), the peak over the process's whole life is used (`process.resourceUsage().maxRSS`), which
 * can only overstate the growth; the output says which (`peakReset`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { validateDataset } from '../../functions/validate-dataset/validate-dataset.js';

/** A `kB` field of /proc/self/status in bytes, or undefined without /proc. */
function procStatus(field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

const endpoint = process.env.BENCH_S3_ENDPOINT;
const uri = process.env.BENCH_DATASET_URI;
const records = Number(process.env.BENCH_DATASET_RECORDS);
if (!endpoint || !uri || !Number.isSafeInteger(records)) throw new Error('dataset-memory: BENCH_S3_ENDPOINT, BENCH_DATASET_URI and BENCH_DATASET_RECORDS must be set');

const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
const job = {
  baseModelIdentifier: 'amazon.titan-text-express-v1',
  customizationType: 'FINE_TUNING',
  trainingDataS3Uri: uri,
  validationDataS3Uris: [],
  hyperParameters: { epochCount: '2' },
  budget: {},
} as const;

(globalThis as { gc?: () => void }).gc?.();
const before = procStatus('VmRSS') ?? process.memoryUsage().rss;
const peakReset = resetPeak() && procStatus('VmHWM') !== undefined;
const report = await validateDataset(job as never, { budget: {} }, { s3, remainingMs: () => 900_000 });
const peak = peakReset ? procStatus('VmHWM')! : process.resourceUsage().maxRSS * 1024;
if (report.status !== 'passed' || report.trainingRecords !== records) {
  throw new Error(`dataset-memory: the bench dataset did not pass whole: ${JSON.stringify({ status: report.status, records: report.trainingRecords, expected: records })}`);
}
process.stdout.write(`${JSON.stringify({ before, peak, growth: peak - before, peakReset })}\n`);

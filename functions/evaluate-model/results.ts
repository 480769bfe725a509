/**
 * The evaluation jobs' result files, and the verdict.
 *
 * Where Bedrock writes them ("Review model evaluation job reports and metrics in Amazon S3",
 * https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-report-s3.html): for automatic
 * jobs (a model-as-a-judge job is one) `s3://<output path>/<job-name>/<job-uuid>/models/<model-id>/taskTypes/<task-type>/datasets/<dataset>/<file-uuid>_output.jsonl`,
 * written "when job status changes to Completed". Each line "starts with the automatedEvaluationResult
 * key. The first child key scores contains the metrics selected ... also includes result, the computed
 * value of the selected metric"; then `inputRecord` (the input line) and `modelResponses`. A score the
 * judge could not give (`result` null or absent) is skipped and counted.
 *
 * So: list `<outputDataConfig.s3Uri><job-name>/`, read every `*_output.jsonl` under `/datasets/<dataset>/`,
 * and take the mean of each metric. No record content reaches an error message.
 */
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { EvaluationJobFailedError } from '../shared/errors.js';
import { JUDGE_METRICS, isJudgeMetric, qualityOf } from '../shared/evaluation-support.js';
import { parseS3Uri } from '../shared/s3.js';
import { collect } from '../shared/sdk.js';
import type { EvaluationState } from '../shared/job-state.js';

/** The most bytes read of one job's result files together (1,000 records × a few KB each, with a wide margin). */
export const MAX_RESULT_BYTES = 64 * 1024 * 1024;

export interface MetricMean {
  /** Mean of the scored records' `result`; undefined when none was scored. */
  mean?: number;
  scored: number;
  /** Records without a numeric `result` for this metric. */
  unscored: number;
}

export interface JobResults {
  /** Result files read. */
  files: string[];
  records: number;
  metrics: Record<string, MetricMean>;
}

/** An S3 object's body as text (the SDK's stream, or any async iterable of bytes). */
export async function bodyText(body: unknown): Promise<string> {
  if (!body) return '';
  const withTransform = body as { transformToString?: (encoding?: string) => Promise<string> };
  if (typeof withTransform.transformToString === 'function') return withTransform.transformToString('utf-8');
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf-8');
}

/** The scores of one result line for `metrics`: the numeric results, by metric (absent: not scored). Throws on a line that is not a result record. */
export function scoresOfLine(line: string, where: string): Map<string, number> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new EvaluationJobFailedError(`${where}: a result line is not JSON.`);
  }
  const result = (value as { automatedEvaluationResult?: { scores?: unknown } } | null)?.automatedEvaluationResult;
  if (!result || !Array.isArray(result.scores)) throw new EvaluationJobFailedError(`${where}: a result line has no automatedEvaluationResult.scores list.`);
  const scores = new Map<string, number>();
  for (const score of result.scores as unknown[]) {
    const { metricName, result: value } = (score ?? {}) as { metricName?: unknown; result?: unknown };
    if (typeof metricName === 'string' && typeof value === 'number' && Number.isFinite(value)) scores.set(metricName, value);
  }
  return scores;
}

/** Reads the result files of the evaluation job `jobName` for `datasetName` under `resultsS3Uri` and averages `metrics`. */
export async function readJobResults(
  resultsS3Uri: string,
  jobName: string,
  datasetName: string,
  metrics: readonly string[],
  deps: { s3: Pick<S3Client, 'send'> },
): Promise<JobResults> {
  const { bucket, key: root } = parseS3Uri(resultsS3Uri);
  const prefix = `${root.endsWith('/') || root === '' ? root : `${root}/`}${jobName}/`;
  const objects = await collect(paginateListObjectsV2({ client: deps.s3 as S3Client }, { Bucket: bucket, Prefix: prefix }), (p) => p.Contents);
  const marker = `/datasets/${datasetName}/`;
  const files = objects
    .map((o) => o.Key ?? '')
    .filter((key) => key.endsWith('_output.jsonl') && key.includes(marker) && !key.slice(key.indexOf(marker) + marker.length).includes('/'))
    .sort();
  if (files.length === 0) {
    throw new EvaluationJobFailedError(`Evaluation job ${jobName} is Completed but wrote no result file under s3://${bucket}/${prefix} for dataset ${datasetName}.`);
  }
  const sums = new Map(metrics.map((m) => [m, { sum: 0, scored: 0 }]));
  let records = 0;
  let bytes = 0;
  for (const key of files) {
    const out = await deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    bytes += out.ContentLength ?? 0;
    if (bytes > MAX_RESULT_BYTES) throw new EvaluationJobFailedError(`Evaluation job ${jobName}: its result files hold more than ${MAX_RESULT_BYTES} bytes; not read.`);
    const text = await bodyText(out.Body);
    let line = 0;
    for (const raw of text.split('\n')) {
      line++;
      if (raw.trim() === '') continue;
      records++;
      const scores = scoresOfLine(raw, `s3://${bucket}/${key} line ${line}`);
      for (const [metric, acc] of sums) {
        const v = scores.get(metric);
        if (v === undefined) continue;
        acc.sum += v;
        acc.scored++;
      }
    }
  }
  const out: Record<string, MetricMean> = {};
  for (const [metric, { sum, scored }] of sums) out[metric] = { ...(scored > 0 ? { mean: sum / scored } : {}), scored, unscored: records - scored };
  return { files: files.map((k) => `s3://${bucket}/${k}`), records, metrics: out };
}

export interface Thresholds {
  minScore?: number;
  minGainOverBase: number;
}

/** Two decimals with a sign (`+0.07`, `-0.09`). */
const signed = (n: number) => `${n < 0 ? '-' : '+'}${Math.abs(n).toFixed(2)}`;

/**
 * The verdict from both jobs' means: per metric, quality = the score (or 1 − score where lower is better,
 * shared/evaluation-support.ts qualityOf), gain = custom quality − base quality. A metric passes when the
 * custom model's quality is at least `minScore` (when set) and its gain at least `minGainOverBase`; the
 * model is promoted when every metric passes. The message names each failing metric (or, promoted, each
 * metric) with both scores, the gain and the thresholds. A metric without a single scored record in either
 * job is {@link EvaluationJobFailedError}: no verdict rests on nothing.
 */
export function decideVerdict(
  metrics: readonly string[],
  custom: JobResults,
  base: JobResults,
  thresholds: Thresholds,
): Pick<EvaluationState, 'scores' | 'verdict' | 'message'> {
  const scores: NonNullable<EvaluationState['scores']> = {};
  const failing: string[] = [];
  const lines: string[] = [];
  for (const metric of metrics) {
    const c = custom.metrics[metric];
    const b = base.metrics[metric];
    if (c?.mean === undefined || b?.mean === undefined) {
      throw new EvaluationJobFailedError(
        `The judge scored no record for ${metric} (custom model: ${c?.scored ?? 0} scored of ${custom.records}; base model: ${b?.scored ?? 0} of ${base.records}): no verdict.`,
      );
    }
    const customQuality = qualityOf(metric, c.mean);
    const gain = customQuality - qualityOf(metric, b.mean);
    scores[metric] = { custom: c.mean, base: b.mean, gain, customScored: c.scored, baseScored: b.scored };
    const lowerBetter = isJudgeMetric(metric) && !JUDGE_METRICS[metric].higherIsBetter;
    const needs = [`needs ≥ ${signed(thresholds.minGainOverBase)}`];
    if (thresholds.minScore !== undefined) needs.push(`quality ${customQuality.toFixed(2)}, needs ≥ ${thresholds.minScore.toFixed(2)}`);
    const unscored = c.unscored + b.unscored > 0 ? `; unscored: ${c.unscored} custom, ${b.unscored} base` : '';
    const line = `${metric} ${c.mean.toFixed(2)} vs base ${b.mean.toFixed(2)}${lowerBetter ? ' (lower is better)' : ''} (${signed(gain)}, ${needs.join('; ')}${unscored})`;
    lines.push(line);
    const fails = gain < thresholds.minGainOverBase || (thresholds.minScore !== undefined && customQuality < thresholds.minScore);
    if (fails) failing.push(line);
  }
  if (failing.length > 0) return { scores, verdict: 'reject', message: `rejected: ${failing.join('; ')}` };
  return { scores, verdict: 'promote', message: `promoted: ${lines.join('; ')}` };
}

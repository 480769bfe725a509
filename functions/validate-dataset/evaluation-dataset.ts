/**
 * The evaluation gate's held-out dataset, checked by the dataset step before training (so before any
 * money is spent), and the gate's cost held to the job's budget.
 *
 * The dataset is one of the stage's (param evaluationDatasets; the job names it, job.evaluation.dataset)
 * and has the format of a prompt dataset for a model-as-a-judge evaluation job: JSON Lines (`.jsonl`),
 * "each line must be a valid JSON object", keys `prompt` (required), `referenceResponse` and
 * `category` (optional); "up to 1000 prompts in your dataset per evaluation job"
 * (https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-prompt-datasets-judge.html, which
 * says the judge dataset "uses the same format as automatic model evaluation jobs":
 * https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-prompt-datasets-custom.html).
 * The workflow adds each model's response (`modelResponses`, "bring your own inference responses",
 * section #model-evaluation-prompt-datasets-judge-byoir of the judge page) itself, so a held-out
 * record must not carry one. A `referenceResponse` stays optional, as the page has it; the judge then
 * uses its prompt without ground truth for Correctness and Completeness
 * (https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-metrics.html). The report
 * counts the records with one.
 *
 * More records than the job's `evaluation.maxPrompts` are refused, not cut: the gate would otherwise
 * judge a model on a part of the dataset nobody chose.
 *
 * No data in errors: a problem names the object, line, field and rule with a fixed message; never a
 * value or a key of the writer's ({@link EvaluationDatasetError} carries no `cause` with data).
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { httpStatus } from '../shared/aws-errors.js';
import { EvaluationDatasetError } from '../shared/errors.js';
import { estimateEvaluationCost, evaluationPricesFor, holdEvaluationToBudget, type EvaluationCostEstimate } from '../shared/evaluation-cost.js';
import type { JobEvaluation } from '../shared/job-input.js';
import { parseS3Uri } from '../shared/s3.js';
import type { StageEvaluation } from '../shared/stage.js';
import { JsonlSplitter, type JsonlItem } from './jsonl.js';
import type { ValidateDatasetDeps } from './validate-dataset.js';
import { heldOutRecordProblems, type HeldOutRecordProblem as Problem } from '../shared/held-out-dataset.js';

/** Problems named in full in the error; the rest are counted by rule. */
export const MAX_DETAILED_EVALUATION_PROBLEMS = 10;
/** Time left for the report when reading must stop: the dataset is then refused (it must be read whole). */
export const EVALUATION_TIME_MARGIN_MS = 30_000;


/** The job's evaluation, the parts this step reads (the resolved `job.evaluation`). */
export type EvaluationDatasetJob = Pick<JobEvaluation, 'dataset' | 'metrics' | 'judgeModelIdentifier' | 'maxPrompts' | 'inference' | 'maxCostUsd'>;

/** The stage's evaluation settings this step reads. */
export type EvaluationDatasetStage = Pick<StageEvaluation, 'inferencePricesUsdPer1k' | 'maxCostUsd'>;

export interface EvaluationDatasetStats {
  prompts: number;
  promptChars: number;
  referenceChars: number;
  /** Records with a `referenceResponse`. */
  withReference: number;
}

/** `$.dataset.evaluation`: the held-out dataset as checked, and the gate's estimate and budget. */
export interface EvaluationReport {
  dataset: string;
  /** The object read and the version S3 answered with (the gate reads the same dataset again). */
  object: { uri: string; etag?: string; versionId?: string; bytes: number };
  prompts: number;
  withReference: number;
  estimate: EvaluationCostEstimate & { prompts: number };
  budget: { maxCostUsd?: number; baseUsdPer1k?: number; basePricedAs?: string; judgeUsdPer1k?: number; judgePricedAs?: string };
}

/** Characters as the token estimate counts them (UTF-16 code units, like the dataset step's records). */
const charsOf = (text: unknown) => (typeof text === 'string' ? text.length : 0);

/**
 * Reads the held-out dataset whole and checks every record. Throws {@link EvaluationDatasetError}
 * naming the lines and rules (never their content), for an object S3 will not give, a malformed
 * record, no record, more than `maxPrompts` records, or a read cut short for time.
 */
export async function readEvaluationDataset(
  uri: string,
  maxPrompts: number,
  deps: Pick<ValidateDatasetDeps, 's3' | 'remainingMs'>,
): Promise<{ stats: EvaluationDatasetStats; object: EvaluationReport['object'] }> {
  const { bucket, key } = parseS3Uri(uri);
  let out;
  try {
    out = await deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  } catch (err) {
    const status = httpStatus(err);
    if (!(err instanceof Error) || status === undefined) throw err;
    const code = err.name !== 'Unknown' && /^[A-Za-z0-9.]{1,64}$/.test(err.name) ? err.name : 'no error code';
    throw new EvaluationDatasetError(`${uri} (evaluation dataset): GetObject answered HTTP ${status}, ${code}; the dataset step could not read it.`);
  }
  const object: EvaluationReport['object'] = {
    uri,
    ...(out.ETag ? { etag: out.ETag } : {}),
    ...(out.VersionId ? { versionId: out.VersionId } : {}),
    bytes: out.ContentLength ?? 0,
  };
  const stats: EvaluationDatasetStats = { prompts: 0, promptChars: 0, referenceChars: 0, withReference: 0 };
  const problems: Problem[] = [];
  const counts: Record<string, number> = {};
  const report = (p: Problem) => {
    counts[p.rule] = (counts[p.rule] ?? 0) + 1;
    if (problems.length < MAX_DETAILED_EVALUATION_PROBLEMS) problems.push(p);
  };
  if (!key.endsWith('.jsonl')) report({ line: 0, field: '(object)', rule: 'file.extension', message: 'the object\'s key must end in ".jsonl" (an evaluation prompt dataset)' });
  /** Records read, valid or not: what `maxPrompts` counts. */
  let records = 0;
  let complete = true;
  const take = (items: JsonlItem[]): boolean => {
    for (const item of items) {
      records++;
      if ('error' in item) {
        report({ line: item.line, field: '(line)', rule: `jsonl.${item.error}`, message: item.message });
      } else {
        const found = heldOutRecordProblems(item.value);
        if (found.length > 0) for (const p of found) report({ ...p, line: item.line });
        else if (records <= maxPrompts) {
          const record = item.value as Record<string, unknown>;
          stats.prompts++;
          stats.promptChars += charsOf(record.prompt);
          if (typeof record.referenceResponse === 'string') {
            stats.withReference++;
            stats.referenceChars += charsOf(record.referenceResponse);
          }
        }
      }
      if (deps.remainingMs() < EVALUATION_TIME_MARGIN_MS) {
        complete = false;
        return false;
      }
    }
    return true;
  };
  const body = out.Body as AsyncIterable<Uint8Array> | undefined;
  if (body) {
    const splitter = new JsonlSplitter();
    try {
      for await (const chunk of body) {
        if (!take(splitter.push(chunk))) break;
      }
      if (complete) take(splitter.end());
    } finally {
      (body as { destroy?: () => void }).destroy?.();
    }
  }
  if (!complete) {
    throw new EvaluationDatasetError(`${uri} (evaluation dataset): not read whole in the time left (${records} records read); the gate's estimate needs every record. Use a smaller dataset.`);
  }
  if (records > maxPrompts) {
    report({ line: 0, field: '(records)', rule: 'records.max', message: `${records} records; the job's evaluation.maxPrompts allows at most ${maxPrompts} (refused, not cut: use a dataset of at most ${maxPrompts} records, or raise maxPrompts within the stage's evaluationMaxPrompts)` });
  }
  if (records === 0) report({ line: 0, field: '(records)', rule: 'records.min', message: 'no record: the dataset needs at least one prompt' });
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (total > 0) {
    const detail = problems.map((p) => `${p.line ? `line ${p.line}, ` : ''}${p.field} [${p.rule}]: ${p.message}`).join(' | ');
    const byRule = Object.entries(counts).map(([rule, n]) => `${rule} ×${n}`).join(', ');
    throw new EvaluationDatasetError(
      `Evaluation dataset ${uri}: ${total} problem(s) (${byRule}). ${total > problems.length ? `First ${problems.length}: ` : ''}${detail}`,
    );
  }
  return { stats, object };
}

/**
 * The held-out dataset checked, the gate's cost estimated (shared/evaluation-cost.ts) and held to the
 * job's cap (`evaluation.maxCostUsd`, else the stage's maxEvaluationCostUsd): over it, or a cap that
 * cannot be held for want of a price, is {@link EvaluationBudgetExceededError}, before anything is spent.
 */
export async function checkEvaluation(
  evaluation: EvaluationDatasetJob,
  baseModelIdentifier: string,
  stage: EvaluationDatasetStage,
  deps: Pick<ValidateDatasetDeps, 's3' | 'remainingMs'>,
): Promise<EvaluationReport> {
  const { stats, object } = await readEvaluationDataset(evaluation.dataset.s3Uri, evaluation.maxPrompts, deps);
  const prices = evaluationPricesFor(stage, baseModelIdentifier, evaluation.judgeModelIdentifier);
  const estimate = estimateEvaluationCost(
    { prompts: stats.prompts, promptChars: stats.promptChars, referenceChars: stats.referenceChars, metrics: evaluation.metrics.length, maxTokens: evaluation.inference.maxTokens },
    prices,
  );
  const caps = [evaluation.maxCostUsd, stage.maxCostUsd].filter((c): c is number => c !== undefined);
  const maxCostUsd = caps.length > 0 ? Math.min(...caps) : undefined;
  holdEvaluationToBudget(
    estimate,
    prices,
    maxCostUsd,
    { prompts: stats.prompts, metrics: evaluation.metrics.length, maxTokens: evaluation.inference.maxTokens, baseModelIdentifier, judgeModelIdentifier: evaluation.judgeModelIdentifier },
    'Nothing was spent.',
  );
  return {
    dataset: evaluation.dataset.name,
    object,
    prompts: stats.prompts,
    withReference: stats.withReference,
    estimate: { ...estimate, prompts: stats.prompts },
    budget: { ...(maxCostUsd !== undefined ? { maxCostUsd } : {}), ...prices },
  };
}

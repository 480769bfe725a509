/**
 * The dataset step (state ValidateDataset, the validate-dataset function): streams the job's
 * training and validation JSONL objects from S3 and checks every record against the format and limits
 * of the job's model (formats.ts, limits.ts), then estimates the training tokens (× epochs) and cost
 * and holds them to the job's budget. Before any policy change: a bad line fails the execution in
 * DatasetRejected with nothing written.
 *
 * Its role (ValidateDatasetRole) is the workflow's one Lambda role that reads training and validation
 * objects before the job's snapshot; the bucket Deny exempts it (apply-policies' DATASET_ROLE_ARN),
 * since it reads from outside the VPC.
 *
 * Memory and time: records are read one line at a time (jsonl.ts); memory holds one
 * line (≤ 1 MiB) and the first {@link MAX_DETAILED_PROBLEMS} problems. The function has 900 s; when
 * less than {@link TIME_MARGIN_MS} of it is left, reading stops, the report says `complete: false`
 * with the bytes read, and counts and tokens are extrapolated from them (docs/datasets.md "Dataset checks").
 *
 * Which bytes were checked: each object is read with one GetObject (no ranges), so every byte read
 * belongs to the one version S3 answered with; its ETag and VersionId go into the report's `objects`
 * (`$.dataset.objects`, shared/dataset/objects.ts), and submit-job trains on a copy of exactly that
 * version (submit-job/snapshot.ts). A read in several ranged GETs would have to send `IfMatch` with the
 * first answer's ETag on the later ones.
 *
 * Training from invocation logs (`invocationLogsConfig`, no `trainingDataS3Uri`): there is no dataset
 * file, so the step reads nothing and reports `not-checked` (see {@link INVOCATION_LOGS_NOTE}); any
 * validation objects are pinned by HeadObject as for a model without rules.
 *
 * Distillation and reinforcement fine-tuning: the records are checked like any other format, but the
 * file says nothing of the training tokens (DatasetRules.noTokenEstimate), so the report carries no
 * `tokens`, and a token or cost cap cannot be held: the job is refused, before any read, when one applies.
 *
 * The evaluation gate: a job with `evaluation` has its held-out dataset checked first and the gate's cost
 * estimated and held to its cap (evaluation-dataset.ts: EvaluationDatasetError,
 * EvaluationBudgetExceededError), so the gate is refused before training, when nothing is spent yet.
 *
 * No data in errors: a problem names the object, line, field and rule, with a fixed message (counts,
 * JSON types, limits); never a value, a key of the writer's or a parser message quoting the line
 * (jsonl.ts, formats.ts). {@link DatasetValidationError} carries no `cause`.
 */
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { assessRecord, datasetRulesFor, flatRecordKeys, sizeProblem, tokensOf, type DatasetRules } from './formats.js';
import { JsonlSplitter, type JsonlItem } from './jsonl.js';
import { checkEvaluation, type EvaluationDatasetJob, type EvaluationDatasetStage, type EvaluationReport } from './evaluation-dataset.js';
import { httpStatus } from '../shared/aws-errors.js';
import { pinnedBy, type DatasetObject } from '../shared/dataset/objects.js';
import { DatasetUnreadableError, DatasetValidationError, InvalidInputError, TrainingBudgetExceededError } from '../shared/errors.js';
import { parseS3Uri } from '../shared/s3.js';
import type { JobInput } from '../shared/job-input.js';
import { trainingPriceFor, type Stage } from '../shared/stage.js';

/** Problems reported in full (object, line, field, rule, message); the rest are counted by rule. */
export const MAX_DETAILED_PROBLEMS = 10;
/** Time left for the report and the state machine when reading stops early. */
export const TIME_MARGIN_MS = 30_000;
/** The report's note for a job that trains on Bedrock invocation logs. */
export const INVOCATION_LOGS_NOTE = 'not checked: the job trains on Bedrock invocation logs';

export interface DatasetProblem {
  object: string;
  /** 1-based line of the object (0: the object as a whole, e.g. its size or record count). */
  line: number;
  field: string;
  rule: string;
  message: string;
}

export interface DatasetFileReport {
  uri: string;
  role: 'training' | 'validation';
  bytes: number;
  /** Bytes read: less than `bytes` when reading stopped for time. */
  bytesRead: number;
  complete: boolean;
  records: number;
  invalidLines: number;
  /** Tokens of the records read, before epochs. */
  tokens: number;
}

export interface DatasetReport {
  /** `passed`: every record read is valid and within the limits; `not-checked`: no rules for this model / customization type. */
  status: 'passed' | 'not-checked';
  /** Why not checked, or notes (partial read, epochs unknown). */
  notes: string[];
  format?: string;
  family?: string;
  files: DatasetFileReport[];
  /**
   * The bytes this step checked, object by object: ETag and VersionId as S3 returned them with the
   * bytes read (training first, then validation in the job's order). Submit-job trains on a copy of
   * exactly these versions (docs/datasets.md "Dataset checks"). For a model without rules the objects are only
   * looked up (HeadObject) to pin them, with `checked: false`.
   */
  objects: DatasetObject[];
  trainingRecords: number;
  validationRecords: number;
  /** Training tokens: per epoch, the epochs counted, and their product (extrapolated when a file was read in part). */
  tokens?: { perEpoch: number; epochs: number; total: number; estimator: string };
  /** With a stage price: the estimated cost of training (tokens × price per 1,000). */
  costUsd?: number;
  /** The caps held, and the price used: `pricedAs` is the stage's price-list model id it came from, or "any model". */
  budget: { maxTrainingTokens?: number; maxTrainingCostUsd?: number; priceUsdPer1kTokens?: number; pricedAs?: string };
  problems: DatasetProblem[];
  problemCounts: Record<string, number>;
  seconds: number;
  /** With an evaluation gate: its held-out dataset as checked, and the gate's estimate and budget (evaluation-dataset.ts). */
  evaluation?: EvaluationReport;
}

export interface ValidateDatasetDeps {
  s3: Pick<S3Client, 'send'>;
  /** Milliseconds the invocation has left (Lambda's context). */
  remainingMs: () => number;
  now?: () => number;
}

type TrainingJob = Pick<JobInput, 'baseModelIdentifier' | 'customizationType' | 'trainingDataS3Uri' | 'invocationLogsConfig' | 'validationDataS3Uris' | 'hyperParameters' | 'budget'>;

/** The tightest of the job's and the stage's caps (a job may only narrow), and the stage's price for the job's base model. */
export function effectiveBudget(job: TrainingJob, stage: Pick<Stage, 'budget'>): DatasetReport['budget'] {
  const min = (a?: number, b?: number) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
  const tokens = min(job.budget?.maxTrainingTokens, stage.budget.maxTrainingTokens);
  const cost = min(job.budget?.maxTrainingCostUsd, stage.budget.maxTrainingCostUsd);
  const price = trainingPriceFor(stage.budget, job.baseModelIdentifier);
  return {
    ...(tokens !== undefined ? { maxTrainingTokens: tokens } : {}),
    ...(cost !== undefined ? { maxTrainingCostUsd: cost } : {}),
    ...(price ? { priceUsdPer1kTokens: price.usdPer1kTokens, pricedAs: price.pricedAs } : {}),
  };
}

/** The job's fields this step reads: its data and budget, and its evaluation gate (when it asks for one). */
type Job = TrainingJob & { evaluation?: EvaluationDatasetJob | undefined };
/** The stage's parts this step reads: the training budget, and the evaluation gate's prices and cap. */
type DatasetStage = Pick<Stage, 'budget'> & { evaluation?: EvaluationDatasetStage };

/**
 * The dataset step: with an evaluation gate, its held-out dataset and cost first (a small file, and a
 * refusal then costs no read of the training data; evaluation-dataset.ts), then the training and
 * validation data. The report carries `evaluation` when the job has a gate.
 */
export async function validateDataset(job: Job, stage: DatasetStage, deps: ValidateDatasetDeps): Promise<DatasetReport> {
  const evaluation = job.evaluation ? await checkEvaluation(job.evaluation, job.baseModelIdentifier, stage.evaluation ?? {}, deps) : undefined;
  const report = await validateTrainingData(job, stage, deps);
  return evaluation ? { ...report, evaluation } : report;
}

async function validateTrainingData(job: TrainingJob, stage: Pick<Stage, 'budget'>, deps: ValidateDatasetDeps): Promise<DatasetReport> {
  const now = deps.now ?? Date.now;
  const started = now();
  const budget = effectiveBudget(job, stage);
  const trainingUri = job.trainingDataS3Uri;
  if (trainingUri === undefined && job.invocationLogsConfig === undefined) {
    // The job input's schema refuses this; never read as "nothing to check".
    throw new InvalidInputError([{ field: 'trainingDataS3Uri', message: 'is required (or, for DISTILLATION and REINFORCEMENT_FINE_TUNING, invocationLogsConfig)' }]);
  }
  const rules = trainingUri === undefined ? undefined : datasetRulesFor(job.baseModelIdentifier, job.customizationType);
  const validationInputs = job.validationDataS3Uris.map((uri, i): [string, 'validation', number] => [uri, 'validation', i]);
  if (trainingUri === undefined || !rules) {
    const note =
      trainingUri === undefined
        ? `${INVOCATION_LOGS_NOTE} (invocationLogsConfig), not a dataset file: no record was read, and no token estimate or budget applies.`
        : `No dataset rules for ${job.customizationType} of ${job.baseModelIdentifier}: the data was not checked, and no token estimate or budget applies.`;
    if (budget.maxTrainingTokens !== undefined || budget.maxTrainingCostUsd !== undefined) {
      // A cap that cannot be checked must not pass silently.
      throw new TrainingBudgetExceededError(`${note} A budget is set (${JSON.stringify(budget)}), so the job is not started.`);
    }
    // Not checked, but pinned all the same: the job trains on the versions this execution saw.
    const objects: DatasetObject[] = [];
    const inputs: [string, 'training' | 'validation', number][] = trainingUri === undefined ? validationInputs : [[trainingUri, 'training', 0], ...validationInputs];
    for (const [uri, role, index] of inputs) {
      const { bucket, key } = parseS3Uri(uri);
      const head = await readObject(() => deps.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })), uri, role, 'HeadObject');
      objects.push({ role, index, uri, ...pinnedBy(head), checked: false });
    }
    return {
      status: 'not-checked',
      notes: [note],
      files: [],
      objects,
      trainingRecords: 0,
      validationRecords: 0,
      budget,
      problems: [],
      problemCounts: {},
      seconds: (now() - started) / 1000,
    };
  }

  const noEstimate = rules.noTokenEstimate === undefined ? undefined : `No training-token estimate for ${job.customizationType}: ${rules.noTokenEstimate}.`;
  if (noEstimate !== undefined && (budget.maxTrainingTokens !== undefined || budget.maxTrainingCostUsd !== undefined)) {
    // A cap that cannot be checked must not pass silently; refused before reading, as its answer cannot change.
    throw new TrainingBudgetExceededError(`${noEstimate} A budget is set (${JSON.stringify(budget)}), so the job is not started.`);
  }

  const inputs: [string, 'training' | 'validation', number][] = [[trainingUri, 'training', 0], ...validationInputs];
  const problems: DatasetProblem[] = [];
  const problemCounts: Record<string, number> = {};
  const report = (p: DatasetProblem) => {
    problemCounts[p.rule] = (problemCounts[p.rule] ?? 0) + 1;
    if (problems.length < MAX_DETAILED_PROBLEMS) problems.push(p);
  };
  const files: DatasetFileReport[] = [];
  const objects: DatasetObject[] = [];
  for (const [uri, role, index] of inputs) {
    const read = await readFile(uri, role, rules, deps, report);
    files.push(read.file);
    objects.push({ role, index, uri, ...read.pin, checked: read.file.complete });
  }

  const notes: string[] = [];
  const extrapolate = (file: DatasetFileReport, n: number) => (file.complete || file.bytesRead === 0 ? n : Math.round((n * file.bytes) / file.bytesRead));
  const partial = files.filter((f) => !f.complete);
  if (partial.length) {
    notes.push(
      `Read in part for time: ${partial.map((f) => `${f.uri} ${f.bytesRead} of ${f.bytes} bytes`).join('; ')}. Record counts and tokens are extrapolated from the bytes read.`,
    );
  }
  const trainingRecords = files.filter((f) => f.role === 'training').reduce((n, f) => n + extrapolate(f, f.records), 0);
  const validationRecords = files.filter((f) => f.role === 'validation').reduce((n, f) => n + extrapolate(f, f.records), 0);
  const limits = rules.limits;
  const countProblem = (field: string, rule: string, message: string, object = trainingUri) => report({ object, line: 0, field, rule, message });
  if (limits.minTrainingRecords !== undefined && trainingRecords < limits.minTrainingRecords) {
    countProblem('(records)', 'records.min-training', `${trainingRecords} training records; ${rules.family} needs at least ${limits.minTrainingRecords}`);
  }
  if (limits.maxTrainingRecords !== undefined && trainingRecords > limits.maxTrainingRecords) {
    countProblem('(records)', 'records.max-training', `${trainingRecords} training records; ${rules.family} takes at most ${limits.maxTrainingRecords}`);
  }
  if (limits.maxValidationRecords !== undefined && validationRecords > limits.maxValidationRecords) {
    countProblem('(records)', 'records.max-validation', `${validationRecords} validation records; ${rules.family} takes at most ${limits.maxValidationRecords}`, job.validationDataS3Uris[0]);
  }
  if (limits.maxTotalRecords !== undefined && trainingRecords + validationRecords > limits.maxTotalRecords) {
    countProblem(
      '(records)',
      'records.max-total',
      `${trainingRecords} training and ${validationRecords} validation records; ${rules.family} takes at most ${limits.maxTotalRecords} together`,
    );
  }
  const total = Object.values(problemCounts).reduce((a, b) => a + b, 0);
  if (total > 0) {
    const detail = problems.map((p) => `${p.object}${p.line ? ` line ${p.line}` : ''}, ${p.field} [${p.rule}]: ${p.message}`).join(' | ');
    const counts = Object.entries(problemCounts)
      .map(([rule, n]) => `${rule} ×${n}`)
      .join(', ');
    throw new DatasetValidationError(
      `Dataset check failed for ${rules.family} (${rules.format}): ${total} problem(s) (${counts}). ` +
        `${total > problems.length ? `First ${problems.length}: ` : ''}${detail}`,
    );
  }

  // The report of a passed check; `tokens` and `costUsd` only where the format tells the training tokens.
  const passed = (estimate: Pick<DatasetReport, 'tokens' | 'costUsd'>): DatasetReport => ({
    status: 'passed',
    notes,
    format: rules.format,
    family: rules.family,
    files,
    objects,
    trainingRecords,
    validationRecords,
    ...estimate,
    budget,
    problems,
    problemCounts,
    seconds: (now() - started) / 1000,
  });
  if (noEstimate !== undefined) {
    notes.push(noEstimate);
    return passed({});
  }

  const perEpoch = files.filter((f) => f.role === 'training').reduce((n, f) => n + extrapolate(f, f.tokens), 0);
  const epochText = job.hyperParameters.epochCount;
  const parsedEpochs = epochCount(epochText);
  const epochs = parsedEpochs ?? 1;
  if (parsedEpochs === undefined) {
    // The model's default epochs are not in the limits data, and a value that is not a whole number
    // says nothing either: a cap checked against 1 epoch could pass a job that trains several, so a
    // capped job must name its epochs.
    const why =
      epochText === undefined
        ? 'hyperParameters.epochCount is not set'
        : `hyperParameters.epochCount ${JSON.stringify(epochText)} is not a whole number of epochs (1 or more; Bedrock takes an integer)`;
    if (budget.maxTrainingTokens !== undefined || budget.maxTrainingCostUsd !== undefined) {
      throw new TrainingBudgetExceededError(
        `${why}, so the training tokens cannot be held to the budget (the model's default epochs are not known here): set epochCount${epochText === undefined ? '' : ' to a whole number'}.`,
      );
    }
    notes.push(`${why}: the estimate counts 1 epoch; the model${epochText === undefined ? "'s default" : ''} may train more.`);
  }
  const tokens = { perEpoch, epochs, total: perEpoch * epochs, estimator: rules.tokenSource };
  const costUsd = budget.priceUsdPer1kTokens !== undefined ? Math.round((tokens.total / 1000) * budget.priceUsdPer1kTokens * 100) / 100 : undefined;
  if (budget.maxTrainingTokens !== undefined && tokens.total > budget.maxTrainingTokens) {
    throw new TrainingBudgetExceededError(
      `Estimated ${tokens.total} training tokens (${perEpoch} per epoch × ${epochs} epochs, ${tokens.estimator}) exceed the cap of ${budget.maxTrainingTokens}.`,
    );
  }
  if (budget.maxTrainingCostUsd !== undefined && costUsd === undefined) {
    // The job input's resolution refuses this already; a cap is never passed for want of a price.
    throw new TrainingBudgetExceededError(
      `The stage sets no training price for this base model, so the cost cap of $${budget.maxTrainingCostUsd} cannot be held (stage params trainingTokenPricesUsdPer1k, trainingTokenPriceUsdPer1k).`,
    );
  }
  if (budget.maxTrainingCostUsd !== undefined && costUsd !== undefined && costUsd > budget.maxTrainingCostUsd) {
    throw new TrainingBudgetExceededError(
      `Estimated training cost $${costUsd} (${tokens.total} tokens at $${budget.priceUsdPer1kTokens} per 1,000, priced as ${budget.pricedAs}) exceeds the cap of $${budget.maxTrainingCostUsd}.`,
    );
  }
  return passed({ tokens, ...(costUsd !== undefined ? { costUsd } : {}) });
}

/**
 * The epochs `hyperParameters.epochCount` asks for: its value as a number when that is a whole number
 * of 1 or more ("5", "5.0", "05" and "5e0" all count 5), else `undefined` (unset, "2.5", "0", "Auto").
 * (A digits-only test counted "5.0" as unknown, and so as 1 epoch against the cap.) A number that is
 * not a safe integer ("1e30") is unknown too: with a cap, the job is refused.
 */
export function epochCount(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) && value >= 1 ? value : undefined;
}

/**
 * `call`'s answer; an S3 service error (one with an HTTP status) as a DatasetUnreadableError naming the
 * object, the call and S3's error code and status: never S3's message or any data. Other errors
 * (network, the SDK's own) pass on unchanged.
 */
async function readObject<T>(call: () => Promise<T>, uri: string, role: 'training' | 'validation', name: 'GetObject' | 'HeadObject'): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const status = httpStatus(err);
    if (!(err instanceof Error) || status === undefined) throw err;
    // The SDK names an answer without an error code (e.g. a 403 with no body) 'Unknown'.
    const code = err.name !== 'Unknown' && /^[A-Za-z0-9.]{1,64}$/.test(err.name) ? err.name : 'no error code';
    throw new DatasetUnreadableError(`${uri} (${role} data): ${name} answered HTTP ${status}, ${code}; the dataset step could not read it.`, { cause: err });
  }
}

/**
 * Streams one object, checking each record; stops early when the invocation runs short of time.
 * Returns the file's report and what pins the bytes read: the ETag and VersionId of the one GetObject
 * answer they all came from.
 */
async function readFile(
  uri: string,
  role: 'training' | 'validation',
  rules: DatasetRules,
  deps: ValidateDatasetDeps,
  report: (p: DatasetProblem) => void,
): Promise<{ file: DatasetFileReport; pin: ReturnType<typeof pinnedBy> }> {
  const { bucket, key } = parseS3Uri(uri);
  const out = await readObject(() => deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })), uri, role, 'GetObject');
  const pin = pinnedBy(out);
  const bytes = out.ContentLength ?? 0;
  const file: DatasetFileReport = { uri, role, bytes, bytesRead: 0, complete: true, records: 0, invalidLines: 0, tokens: 0 };
  const maxBytes = role === 'validation' ? (rules.limits.maxValidationFileBytes ?? rules.limits.maxFileBytes) : rules.limits.maxFileBytes;
  if (rules.fileExtension !== undefined && !key.endsWith(rules.fileExtension)) {
    report({ object: uri, line: 0, field: '(object)', rule: 'file.extension', message: `the object's key must end in "${rules.fileExtension}" for ${rules.family} ${rules.customizationType}` });
  }
  if (maxBytes !== undefined && bytes > maxBytes) {
    report({ object: uri, line: 0, field: '(object)', rule: 'file.max-bytes', message: `${bytes} bytes; ${rules.family} takes ${role} files of at most ${maxBytes} bytes` });
  }
  const body = out.Body as AsyncIterable<Uint8Array> | undefined;
  if (!body) return { file, pin };
  // The splitter is driven chunk by chunk here, the items of a chunk handled in a plain loop: through
  // readJsonl's async generator every record cost a promise and a microtask (profiled with scripts/bench/dataset.ts).
  // A flat format's records ({"prompt","completion"}, {"input"}) are recognised and counted on their
  // bytes, not parsed (jsonl.ts scanFlatRecord); any other line is parsed and checked.
  const keys = flatRecordKeys(rules);
  const splitter = new JsonlSplitter(keys ? { flatRecordKeys: keys } : {});
  /** Handles the items completed by one chunk; false when time ran short (stop reading). */
  const take = (items: JsonlItem[]): boolean => {
    for (const item of items) {
      file.bytesRead += item.bytes + 1;
      if ('error' in item) {
        file.invalidLines++;
        report({ object: uri, line: item.line, field: '(line)', rule: `jsonl.${item.error}`, message: item.message });
      } else if ('chars' in item) {
        // A flat record, recognised on its bytes: its shape is valid, only its size can be wrong.
        const problem = sizeProblem(rules, item.chars);
        if (problem) {
          file.invalidLines++;
          report({ object: uri, line: item.line, field: problem.field, rule: problem.rule, message: problem.message });
        } else {
          file.records++;
          file.tokens += tokensOf(rules, item.chars);
        }
      } else {
        const { problems, tokens } = assessRecord(rules, item.value);
        if (problems.length) {
          file.invalidLines++;
          for (const p of problems) report({ object: uri, line: item.line, field: p.field, rule: p.rule, message: p.message });
        } else {
          file.records++;
          file.tokens += tokens;
        }
      }
      if (deps.remainingMs() < TIME_MARGIN_MS) {
        file.complete = false;
        return false;
      }
    }
    return true;
  };
  try {
    for await (const chunk of body) {
      if (!take(splitter.push(chunk))) break;
    }
    // Still complete: every chunk was taken (take clears `complete` when it stops for time).
    if (file.complete) take(splitter.end());
  } finally {
    // Stop the download when reading ended early (a break leaves the socket open otherwise).
    (body as { destroy?: () => void }).destroy?.();
  }
  // Read whole: every byte (blank lines and CRs are not in the items' counts); in part: what the items counted.
  if (file.complete) file.bytesRead = bytes;
  return { file, pin };
}

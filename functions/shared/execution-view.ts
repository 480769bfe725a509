/**
 * One picture of an execution of statemachines/customize-model.asl.yml, built from its history
 * (GetExecutionHistory, events in id order; a local run's history comes from local/local-history.ts).
 * Pure: no AWS call. Read by the notify Lambda and the CLI.
 *
 * It reads the documented event details of @aws-sdk/client-sfn's HistoryEvent: `stateEnteredEventDetails`
 * and `stateExitedEventDetails` (the state's input/output as JSON text, possibly truncated: then skipped),
 * `execution{Started,Succeeded,Failed,Aborted,TimedOut}EventDetails`, `lambdaFunctionFailedEventDetails`
 * and `taskFailedEventDetails`. The execution's data ($.preflight, $.policies, $.submission, $.poll,
 * $.cleanup, the evaluation gate's $.evaluation…, see the ASL's ResultPaths) is the union of the states' inputs and outputs, later ones
 * winning, so one truncated output loses only what no other event carried; it is read with the
 * state-data schemas of job-state.ts, each field on its own: a field without its shape is missing
 * from the view.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import * as z from 'zod/mini';
import { causeMessage, ERROR_REMEDIES } from './errors.js';
import { readStateData, type CaughtError, type StateData } from './job-state.js';

export { causeMessage };

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';
export type Outcome = 'running' | 'completed' | 'dry-run' | 'handed-over' | 'failed' | 'timed-out' | 'aborted';

export interface ViewProblem {
  id: string;
  severity: string;
  resource: string;
  message: string;
  remedy?: string;
}

export interface ExecutionView {
  execution: { arn: string; name: string; status: ExecutionStatus; startDate?: string; stopDate?: string; durationSeconds?: number };
  /** The last state entered (e.g. 'JobSucceeded', 'PreflightFailed', 'HandedOver', 'DryRunPlan'). */
  endState?: string;
  outcome: Outcome;
  /** One line a person reads. */
  headline: string;
  job?: {
    name?: string;
    arn?: string;
    status?: string;
    message?: string;
    failureMessage?: string;
    outputModelArn?: string;
    trainingMetrics?: { trainingLoss?: number };
    phases?: { validation?: string; dataProcessing?: string; training?: string };
    /** The phase that failed while the job was still InProgress (the workflow stopped the job then). */
    failedPhase?: string;
    deadline?: string;
    pollCount?: number;
    handedOverTo?: string;
  };
  preflight?: {
    passed: number;
    warn: number;
    fail: number;
    awsCalls?: number;
    problems: ViewProblem[];
    /** True when the counts come from the failure's Cause (a failed preflight returns no report). */
    fromFailure?: boolean;
  };
  policies?: { applied: boolean; changes: { action: string; resource: string; added: number; removed: number }[] };
  /** The dataset check (ValidateDataset's `$.dataset`): records, the token estimate and cost, notes. */
  dataset?: { status: string; format?: string; trainingRecords: number; validationRecords: number; tokens?: number; epochs?: number; costUsd?: number; notes: string[] };
  rollback?: unknown;
  cleanup?: { summary?: string; error?: string };
  grants?: { summary?: string; error?: string };
  /** The evaluation gate (docs/evaluation.md), when the job asked for it and the gate started. */
  evaluation?: EvaluationView;
  error?: { error: string; cause: string; remedy?: string };
  states: { name: string; enteredAt?: string; exitedAt?: string; failed?: boolean }[];
}

/**
 * What the evaluation gate found and did, from `$.job.evaluation` (what the job asked for), `$.evaluation`
 * (the gate Tasks' EvaluationState), `$.evaluationError` (a gate Task's caught error) and
 * `$.evaluationCleanup` / `$.evaluationCleanupError` (EvaluationCleanup's result).
 */
export interface EvaluationView {
  verdict?: 'promote' | 'reject';
  /** The verdict in one line ("promoted: …" / "rejected: Builtin.Correctness 0.62 vs base 0.71 (−0.09, needs ≥ +0.00)"). */
  message?: string;
  /** The gate's next step when it had not reached a verdict (`$.evaluation.next`). */
  next?: string;
  dataset?: string;
  judgeModel?: string;
  thresholds?: { minScore?: number; minGainOverBase?: number };
  /** The gate's estimate before it spent anything. */
  estimate?: { tokens?: number; usd?: number; prompts?: number };
  /** Per judge metric: the mean score of each model over the records the judge scored, and the custom model's gain. */
  scores: { metric: string; custom: number; base: number; gain: number; customScored: number; baseScored: number }[];
  /**
   * The on-demand deployment of the custom model: `kept` (promoted: it serves the model), `deleted` (rejected,
   * or the gate failed and cleaned up), `exists` (the gate has not ended, or its cleanup did not delete it: the
   * reaper and the janitor look after it).
   */
  deployment?: { name?: string; arn?: string; status?: string; outcome: 'kept' | 'deleted' | 'exists' };
  /** The two evaluation jobs (one per model). */
  jobs?: { custom?: EvaluationJobView; base?: EvaluationJobView };
  /** The gate Task's error that ended the gate (`Name: message`). */
  error?: string;
  cleanup?: { summary?: string; error?: string };
}
export interface EvaluationJobView {
  name?: string;
  arn?: string;
  status?: string;
}

export interface ExecutionDescription {
  arn: string;
  name?: string;
  status?: string;
  startDate?: Date | string;
  stopDate?: Date | string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A string a person reads: undefined when empty. */
const str = (v: string | undefined): string | undefined => (v !== '' ? v : undefined);
const iso = (d: Date | string | undefined): string | undefined => {
  if (d === undefined) return undefined;
  const date = d instanceof Date ? d : new Date(d);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
};

function parseJson(text: string | undefined, truncated: boolean | undefined): unknown {
  if (text === undefined || truncated) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** "45 s", "3 min 5 s", "1 h 2 min", "2 d 3 h". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  if (s < 86400) {
    const min = Math.floor((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h${min ? ` ${min} min` : ''}`;
  }
  const h = Math.floor((s % 86400) / 3600);
  return `${Math.floor(s / 86400)} d${h ? ` ${h} h` : ''}`;
}

/**
 * The failing checks of a NetworkValidationError, read back from its message (validate-network's
 * failureMessage: `Network preflight failed (N failing checks): [id] resource: message Fix: remedy | …`).
 * A failed preflight returns no report: the Cause is all the history holds.
 */
export function parsePreflightFailure(message: string): ViewProblem[] {
  const body = message.replace(/^Network preflight failed \(\d+ failing checks?\): /, '');
  if (body === message) return [];
  return body.split(' | ').flatMap((part) => {
    const m = /^\[([^\]]+)\] (.*?): (.*?)(?: Fix: (.*))?$/s.exec(part);
    if (!m) return [];
    return [{ id: m[1]!, severity: 'fail', resource: m[2]!, message: m[3]!, ...(m[4] ? { remedy: m[4] } : {}) }];
  });
}

const TERMINAL: Record<string, ExecutionStatus> = {
  ExecutionSucceeded: 'SUCCEEDED',
  ExecutionFailed: 'FAILED',
  ExecutionTimedOut: 'TIMED_OUT',
  ExecutionAborted: 'ABORTED',
};
const STATUSES: readonly ExecutionStatus[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];
const FAILURE_EVENTS = new Set(['LambdaFunctionFailed', 'LambdaFunctionTimedOut', 'LambdaFunctionStartFailed', 'LambdaFunctionScheduleFailed', 'TaskFailed', 'TaskTimedOut', 'TaskStartFailed', 'TaskSubmitFailed', 'ActivityFailed', 'ActivityTimedOut']);
const SUCCESS_EVENTS = new Set(['LambdaFunctionSucceeded', 'TaskSucceeded', 'ActivitySucceeded']);

/** `{Error, Cause}` as a Catch records it, for a report line: `Name: message`. */
function caught(v: CaughtError | undefined): string | undefined {
  if (!v) return undefined;
  const name = str(v.Error) ?? 'Error';
  const message = causeMessage(str(v.Cause));
  return message ? `${name}: ${message}` : name;
}

/** Builds the view of one execution from its history (events in id order) and its description. */
export function buildExecutionView(history: HistoryEvent[], execution: ExecutionDescription): ExecutionView {
  const states: ExecutionView['states'] = [];
  /** Per state visit: failure seen since its last success. */
  const failing = new Map<number, boolean>();
  let data: Json = {};
  const merge = (value: unknown) => {
    if (isObject(value)) data = { ...data, ...value };
  };
  let terminal: HistoryEvent | undefined;
  let endError: { error: string; cause: string } | undefined;

  for (const event of history) {
    const type = event.type ?? '';
    const at = iso(event.timestamp);
    if (type === 'ExecutionStarted') {
      const d = event.executionStartedEventDetails;
      merge(parseJson(d?.input, d?.inputDetails?.truncated));
    } else if (type.endsWith('StateEntered') && event.stateEnteredEventDetails) {
      const d = event.stateEnteredEventDetails;
      states.push({ name: d.name ?? '?', ...(at ? { enteredAt: at } : {}) });
      merge(parseJson(d.input, d.inputDetails?.truncated));
    } else if (type.endsWith('StateExited') && event.stateExitedEventDetails) {
      const d = event.stateExitedEventDetails;
      const visit = [...states].reverse().find((s) => s.name === d.name && !s.exitedAt);
      if (visit && at) visit.exitedAt = at;
      merge(parseJson(d.output, d.outputDetails?.truncated));
    } else if (FAILURE_EVENTS.has(type)) {
      if (states.length) failing.set(states.length - 1, true);
    } else if (SUCCESS_EVENTS.has(type)) {
      if (states.length) failing.set(states.length - 1, false);
    } else if (type in TERMINAL) {
      terminal = event;
      const d =
        event.executionFailedEventDetails ?? event.executionTimedOutEventDetails ?? event.executionAbortedEventDetails;
      if (type === 'ExecutionSucceeded') {
        const s = event.executionSucceededEventDetails;
        merge(parseJson(s?.output, s?.outputDetails?.truncated));
      } else if (d && (d.error || d.cause)) {
        endError = { error: d.error ?? type, cause: d.cause ?? '' };
      }
    }
  }
  for (const [i, failed] of failing) if (failed) states[i]!.failed = true;
  // The state the execution ended in while failing (a Fail state, or a Task whose error was not caught).
  if (terminal && terminal.type !== 'ExecutionSucceeded' && states.length) {
    const last = states.at(-1)!;
    if (!last.exitedAt) last.failed = true;
  }

  const status = executionStatus(execution.status, terminal?.type);
  const startDate = iso(execution.startDate) ?? iso(history[0]?.timestamp);
  const stopDate = iso(execution.stopDate) ?? (terminal ? iso(terminal.timestamp) : undefined);
  const durationSeconds =
    startDate && stopDate ? Math.max(0, Math.round((Date.parse(stopDate) - Date.parse(startDate)) / 1000)) : undefined;
  const name = execution.name ?? execution.arn.split(':').at(-1) ?? execution.arn;
  const endState = states.at(-1)?.name;

  const view: ExecutionView = {
    execution: { arn: execution.arn, name, status, ...(startDate ? { startDate } : {}), ...(stopDate ? { stopDate } : {}), ...(durationSeconds !== undefined ? { durationSeconds } : {}) },
    ...(endState ? { endState } : {}),
    outcome: outcomeOf(status, endState),
    headline: '',
    states,
  };

  const state = readStateData(data) ?? {};
  const job = jobOf(state);
  if (job) view.job = job;
  const preflight = preflightOf(state.preflight);
  if (preflight) view.preflight = preflight;
  const policies = policiesOf(state.policies);
  if (policies) view.policies = policies;
  const dataset = datasetOf(state.dataset);
  if (dataset) view.dataset = dataset;
  if (state.rollback !== undefined || state.rollbackError !== undefined) view.rollback = state.rollback ?? { error: caught(state.rollbackError) };
  const cleanup = summaryOf(state.cleanup, state.cleanupError);
  if (cleanup) view.cleanup = cleanup;
  const grants = summaryOf(state.revoke, state.revokeError);
  if (grants) view.grants = grants;
  const evaluation = evaluationOf(readEvaluationData(data));
  if (evaluation) view.evaluation = evaluation;

  if (endError) {
    const problems = endError.error === 'NetworkValidationError' ? parsePreflightFailure(causeMessage(endError.cause)) : [];
    if (problems.length && !view.preflight) {
      view.preflight = { passed: 0, warn: 0, fail: problems.length, problems, fromFailure: true };
    }
    const remedy = problems.length
      ? problems.flatMap((p) => (p.remedy ? [`[${p.id}] ${p.remedy}`] : [])).join(' ')
      : Object.hasOwn(ERROR_REMEDIES, endError.error) ? ERROR_REMEDIES[endError.error] : undefined;
    view.error = { error: endError.error, cause: causeMessage(endError.cause), ...(remedy ? { remedy } : {}) };
  }
  view.headline = headlineOf(view);
  return view;
}

function executionStatus(given: string | undefined, terminalType: string | undefined): ExecutionStatus {
  if (given && (STATUSES as readonly string[]).includes(given)) return given as ExecutionStatus;
  return (terminalType && TERMINAL[terminalType]) || 'RUNNING';
}

function outcomeOf(status: ExecutionStatus, endState: string | undefined): Outcome {
  switch (status) {
    case 'SUCCEEDED':
      // Superseded: the job ledger names another supervisor, which follows the job on (as after a hand-over).
      return endState === 'DryRunPlan' ? 'dry-run' : endState === 'HandedOver' || endState === 'Superseded' ? 'handed-over' : 'completed';
    case 'FAILED':
      return 'failed';
    case 'TIMED_OUT':
      return 'timed-out';
    case 'ABORTED':
      return 'aborted';
    default:
      return 'running';
  }
}

function jobOf(data: StateData): ExecutionView['job'] | undefined {
  const { job, submission, poll, handoverCheck } = data;
  const details = poll?.statusDetails;
  const phases = { validation: details?.validationDetails?.status, dataProcessing: details?.dataProcessingDetails?.status, training: details?.trainingDetails?.status };
  const handedOverTo =
    str(data.handedOverTo?.ExecutionArn) ??
    str(handoverCheck?.executionArn) ??
    str(handoverCheck?.ExecutionArn) ??
    (str(poll?.handover?.executionArn) ?? str(poll?.handover?.executionName));
  const trainingLoss = poll?.trainingMetrics?.trainingLoss;
  const out = compact({
    name: str(submission?.jobName) ?? str(job?.jobName),
    arn: str(submission?.jobArn),
    status: poll?.status,
    message: str(poll?.message),
    failureMessage: str(poll?.failureMessage),
    outputModelArn: str(poll?.outputModelArn),
    trainingMetrics: trainingLoss !== undefined ? { trainingLoss } : undefined,
    phases: Object.values(phases).some(Boolean) ? compact(phases) : undefined,
    failedPhase: poll?.phaseFailure?.phase,
    deadline: str(submission?.deadline),
    pollCount: poll?.pollCount,
    handedOverTo: poll?.next === 'handover' || data.handedOverTo ? handedOverTo : undefined,
  });
  return Object.keys(out).length ? out : undefined;
}

function preflightOf(report: StateData['preflight']): ExecutionView['preflight'] | undefined {
  if (!report) return undefined;
  const problems = (report.checks ?? [])
    .filter((c) => !c.passed)
    .map((c) => ({ id: c.id, severity: c.severity, resource: c.resource, message: c.message, ...(str(c.remedy) ? { remedy: c.remedy! } : {}) }));
  const { counts, awsCalls } = report;
  return { passed: counts.passed, warn: counts.warn, fail: counts.fail, ...(awsCalls !== undefined ? { awsCalls } : {}), problems };
}

function policiesOf(policies: StateData['policies']): ExecutionView['policies'] | undefined {
  if (!policies) return undefined;
  return {
    applied: policies.applied !== undefined,
    changes: policies.changes.map((c) => ({ action: c.action, resource: c.target.resource, added: c.diff.added.length, removed: c.diff.removed.length })),
  };
}

function summaryOf(result: StateData['cleanup'], error: CaughtError | undefined): { summary?: string; error?: string } | undefined {
  const out = compact({ summary: str(result?.summary), error: caught(error) });
  return Object.keys(out).length ? out : undefined;
}

function compact<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never;
}

/*
 * The gate's state data: `$.evaluation`, `$.evaluationError`, `$.evaluationCleanup` and
 * `$.evaluationCleanupError` with the state-data schemas of job-state.ts (evaluationStateSchema), and two
 * parts those leave unread, parsed here: what the job asked for (`$.job.evaluation`, job-input.ts
 * JobEvaluation) and whether EvaluationCleanup deleted the deployment (`$.evaluationCleanup.deploymentDeleted`).
 */
const jobEvaluationSchema = /* @__PURE__ */ z.lazy(() =>
  z.looseObject({
    dataset: z.optional(z.looseObject({ name: z.optional(z.string()) })),
    judgeModelIdentifier: z.optional(z.string()),
    thresholds: z.optional(z.looseObject({ minScore: z.optional(z.number()), minGainOverBase: z.optional(z.number()) })),
  }),
);
const cleanupDeletedSchema = /* @__PURE__ */ z.lazy(() => z.looseObject({ deploymentDeleted: z.optional(z.boolean()) }));

/** The evaluation gate's data in `value` (a state's input or output, parsed JSON). */
export interface EvaluationData {
  evaluation?: StateData['evaluation'];
  evaluationError?: CaughtError;
  evaluationCleanup?: StateData['evaluationCleanup'];
  evaluationCleanupError?: CaughtError;
  /** EvaluationCleanup deleted the deployment. */
  cleanupDeletedDeployment?: boolean;
  jobEvaluation?: z.output<typeof jobEvaluationSchema>;
}

/** The evaluation gate's data in `value` (a state's input or output, parsed JSON), each part present only when it has its shape. */
export function readEvaluationData(value: unknown): EvaluationData {
  if (!isObject(value)) return {};
  const state = readStateData(value) ?? {};
  const jobEvaluation = isObject(value.job) ? z.safeParse(jobEvaluationSchema, value.job.evaluation) : undefined;
  const cleanup = z.safeParse(cleanupDeletedSchema, value.evaluationCleanup);
  return compact({
    evaluation: state.evaluation,
    evaluationError: state.evaluationError,
    evaluationCleanup: state.evaluationCleanup,
    evaluationCleanupError: state.evaluationCleanupError,
    cleanupDeletedDeployment: cleanup.success ? cleanup.data.deploymentDeleted : undefined,
    jobEvaluation: jobEvaluation?.success ? jobEvaluation.data : undefined,
  });
}

/** The view of the gate (undefined when the job asked for none and no gate state ran). */
function evaluationOf(data: EvaluationData): EvaluationView | undefined {
  const { evaluation: e, evaluationError, evaluationCleanup: cleanup, evaluationCleanupError, jobEvaluation: asked } = data;
  if (!e && !evaluationError && !cleanup && !evaluationCleanupError) return undefined;
  const deletedByCleanup = data.cleanupDeletedDeployment === true;
  const d = e?.deployment;
  const deleted = d?.deleted === true || deletedByCleanup;
  const deployment =
    d || deletedByCleanup
      ? {
          ...compact({ name: str(d?.name), arn: str(d?.arn), status: str(d?.status) }),
          outcome: deleted ? ('deleted' as const) : e?.verdict === 'promote' ? ('kept' as const) : ('exists' as const),
        }
      : undefined;
  const jobs = e?.jobs ? { custom: { ...e.jobs.custom }, base: { ...e.jobs.base } } : undefined;
  const estimate = e?.estimate ? compact({ tokens: e.estimate.tokens.total, usd: e.estimate.usd, prompts: e.estimate.prompts }) : undefined;
  const cleanupView = summaryOf(cleanup, evaluationCleanupError);
  return {
    ...compact({
      verdict: e?.verdict,
      message: str(e?.message),
      next: e?.verdict ? undefined : str(e?.next),
      dataset: str(asked?.dataset?.name),
      judgeModel: str(asked?.judgeModelIdentifier),
      thresholds: asked?.thresholds ? compact({ minScore: asked.thresholds.minScore, minGainOverBase: asked.thresholds.minGainOverBase }) : undefined,
      estimate,
    }),
    scores: Object.entries(e?.scores ?? {}).map(([metric, s]) => ({ metric, custom: s.custom, base: s.base, gain: s.gain, customScored: s.customScored, baseScored: s.baseScored })),
    ...compact({
      deployment,
      jobs,
      error: caught(evaluationError),
      cleanup: cleanupView,
    }),
  };
}

const ERROR_HEADLINES: Record<string, (v: ExecutionView, job: string) => string> = {
  JobFailedError: (v, job) =>
    `Job ${job} failed${v.job?.failedPhase ? ` in its ${v.job.failedPhase} phase (stopped early)` : ''}: ${v.job?.failureMessage ?? v.error?.cause ?? 'no failure message'}`,
  JobDeadlineExceededError: (v, job) => `Job ${job} was stopped at its deadline${v.job?.deadline ? ` (${v.job.deadline})` : ''}`,
  JobStoppedError: (_v, job) => `Job ${job} was stopped before it completed`,
  JobUnwatchedError: (_v, job) => `Job ${job} could not be followed: it may still be running`,
  JobStopError: (_v, job) => `Job ${job} passed its deadline and could not be stopped`,
  ModelRejectedError: (v, job) =>
    `Job ${job} completed but its model was rejected by the evaluation gate: ${v.evaluation?.message ?? v.error?.cause ?? 'no verdict message'}${deploymentNote(v)}`,
};

/** "; deployment <arn> deleted" / "… kept" / "… still exists": what became of the gate's deployment. */
function deploymentNote(v: ExecutionView): string {
  const d = v.evaluation?.deployment;
  if (!d) return '';
  const what = d.arn ?? d.name ?? 'the deployment';
  return `; deployment ${what} ${d.outcome === 'exists' ? 'still exists' : d.outcome}`;
}

/** The dataset report's summary (functions/validate-dataset/validate-dataset.ts DatasetReport). */
function datasetOf(report: StateData['dataset']): ExecutionView['dataset'] | undefined {
  if (!report) return undefined;
  const { tokens } = report;
  return {
    status: report.status,
    ...(report.format !== undefined ? { format: report.format } : {}),
    trainingRecords: report.trainingRecords,
    validationRecords: report.validationRecords,
    ...(tokens?.total !== undefined ? { tokens: tokens.total } : {}),
    ...(tokens?.epochs !== undefined ? { epochs: tokens.epochs } : {}),
    ...(report.costUsd !== undefined ? { costUsd: report.costUsd } : {}),
    notes: report.notes,
  };
}

function headlineOf(v: ExecutionView): string {
  const took = v.execution.durationSeconds !== undefined ? ` (${formatDuration(v.execution.durationSeconds)})` : '';
  const job = v.job?.name ?? v.execution.name;
  switch (v.outcome) {
    case 'completed':
      if (v.evaluation?.verdict === 'promote') {
        return `Job ${job} completed and its model was promoted by the evaluation gate: custom model ${v.job?.outputModelArn ?? '(ARN not recorded)'}${deploymentNote(v)}${took}`;
      }
      return `Job ${job} completed: custom model ${v.job?.outputModelArn ?? '(ARN not recorded)'}${took}`;
    case 'dry-run': {
      const n = v.policies?.changes.filter((c) => c.action !== 'none').length ?? 0;
      return `Dry run ${v.execution.name}: plan ready, ${n} policy change${n === 1 ? '' : 's'}, preflight passed${v.preflight?.warn ? ` with ${v.preflight.warn} warning${v.preflight.warn === 1 ? '' : 's'}` : ''}`;
    }
    case 'handed-over':
      if (v.endState === 'Superseded') return `Job ${job} is followed by another execution now (job ledger); ${v.execution.name} ended without acting on it`;
      return `Job ${job} handed over to ${v.job?.handedOverTo?.split(':').at(-1) ?? 'a new execution'} (still ${v.job?.status ?? 'running'})`;
    case 'running':
      return `Execution ${v.execution.name} running, in ${v.endState ?? 'no state yet'}${v.job?.status ? `; job ${job} ${v.job.status}` : ''}`;
    case 'timed-out':
      return `Execution ${v.execution.name} timed out${took} in ${v.endState ?? '?'}`;
    case 'aborted':
      return `Execution ${v.execution.name} was aborted${took} in ${v.endState ?? '?'}${v.job?.arn ? `; job ${job} may still run (the reaper stops it)` : ''}`;
    case 'failed': {
      const error = v.error?.error ?? 'unknown error';
      if (v.endState === 'PreflightFailed' && error === 'NetworkValidationError') {
        const failing = v.preflight?.problems.filter((p) => p.severity === 'fail') ?? [];
        // One id per check, however many resources failed it (two subnets: subnet.exists once).
        const ids = [...new Set(failing.map((p) => p.id))];
        return `Preflight failed: ${failing.length} check${failing.length === 1 ? '' : 's'} failed (${ids.join(', ')})`;
      }
      if (v.endState === 'RollbackFailed') return `Policy rollback failed, needs a person: ${v.error?.cause ?? error}`;
      // The gate failed after the job completed: the custom model is kept; the error is the gate Task's.
      if (v.endState === 'EvaluationFailed') {
        return `Job ${job} completed but its evaluation failed: ${error}${v.error?.cause ? `: ${v.error.cause.replace(/\.$/, '')}` : ''}${deploymentNote(v)}`;
      }
      const special = ERROR_HEADLINES[error];
      if (special) return special(v, job);
      return `${v.endState ?? 'Execution'} failed: ${error}${v.error?.cause ? `: ${v.error.cause}` : ''}`;
    }
  }
}

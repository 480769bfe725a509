/**
 * What the CLI prints: a live account of an execution from its history events ({@link FollowRenderer},
 * the same for a deployed execution and a local run), and the summary of an {@link ExecutionView}
 * (`status`, the end of `start --follow`, `plan`).
 *
 * Both read Step Functions' documented history (`HistoryEvent` of @aws-sdk/client-sfn): a local run
 * records the same events (local/local-history.ts), so there is one renderer for both. A state's output
 * is read with the state-data schemas of functions/shared/job-state.ts: a field without its shape is
 * not shown.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { causeMessage, formatDuration, readEvaluationData, type EvaluationView, type ExecutionView } from '../functions/shared/execution-view.js';
import { parseJson } from '../functions/shared/handover.js';
import { readStateData, type StateData } from '../functions/shared/job-state.js';

type Line = (line: string) => void;
type StatusDetails = NonNullable<NonNullable<StateData['poll']>['statusDetails']>;

/** The readable part of an error's Cause (a Lambda error's message). */
export const readableCause = (cause: unknown): string => (typeof cause === 'string' ? causeMessage(cause) : String(cause ?? ''));

/** One line about a state's result, from its output (undefined: nothing worth a line, or an output without the shape it reads). */
export function stateDetail(name: string, output: unknown): string | undefined {
  const out = readStateData(output);
  switch (name) {
    case 'ValidateNetwork': {
      const p = out?.preflight;
      return p ? `preflight: ${p.counts.passed} checks passed, ${p.counts.warn} warnings, ${p.counts.fail} failures (${p.awsCalls ?? '?'} AWS calls); job ${out?.job?.jobName ?? '?'}` : undefined;
    }
    case 'ValidateDataset': {
      const d = out?.dataset;
      if (!d) return undefined;
      if (d.status !== 'passed') return `dataset: ${d.status} — ${d.notes[0] ?? ''}`;
      return `dataset: ${d.trainingRecords} training and ${d.validationRecords} validation records (${d.format ?? '?'}), ~${d.tokens?.total ?? '?'} training tokens (${d.tokens?.epochs ?? '?'} epochs)${d.costUsd !== undefined ? `, ~$${d.costUsd}` : ''}`;
    }
    case 'PlanPolicies':
    case 'ApplyPolicies':
      return out?.policies
        ? `${name === 'PlanPolicies' ? 'plan' : 'applied'}: ${out.policies.changes.map((c) => `${c.action} ${c.target.resource} (+${c.diff.added.length}/-${c.diff.removed.length} statements)`).join('; ') || 'no policy to manage'}`
        : undefined;
    case 'SubmitJob':
      return out?.submission ? `job ${out.submission.jobArn}${out.submission.adopted ? ' (adopted)' : ''}, deadline ${out.submission.deadline}` : undefined;
    case 'WaitForJobEvent': {
      const e = out?.jobEvent;
      if (e?.source) return `released by ${e.source === 'event' ? "the job's event" : 'its registration (the job had already ended)'}: ${e.status ?? '?'}`;
      return e?.Error === 'States.Timeout' ? 'no job event within the safety net: checking the status' : undefined;
    }
    case 'PollStatus': {
      const poll = out?.poll;
      if (!poll) return undefined;
      // In event mode the wait ends with the job's event; nextWaitSeconds is only its safety net.
      if (poll.next === 'wait' && out?.job?.polling?.mode === 'event') {
        return `${poll.message ?? `Job ${poll.status}.`} next: wait for the job's event (a status check anyway after ${poll.nextWaitSeconds ?? '?'} s)`;
      }
      return `${poll.message ?? `Job ${poll.status}.`} next: ${poll.next ?? '?'}${poll.next === 'wait' ? ` in ${poll.nextWaitSeconds ?? '?'} s` : ''}`;
    }
    case 'StopJob':
      return out?.stopError ? `stop failed: ${out.stopError.Error}` : 'StopModelCustomizationJob sent';
    case 'CleanupEnis':
      return out?.cleanup?.summary ?? (out?.cleanupError ? `cleanup failed: ${out.cleanupError.Error}` : undefined);
    case 'RevokeGrants':
    case 'RevokeAfterSubmitFailed':
      return out?.revoke ? `grants: ${out.revoke.summary}` : out?.revokeError ? `revoke failed: ${out.revokeError.Error}` : undefined;
    case 'RollbackPolicies':
      return out?.rollback ? `restored ${out.rollback.restored.length}, deleted ${out.rollback.deleted.length}, left alone ${out.rollback.leftAlone.length}` : undefined;
    default:
      return gateDetail(name, output);
  }
}

/** A fixed-point score: `0.910`; a gain with its sign: `+0.490`, `−0.090`. */
const score = (n: number) => n.toFixed(3);
const signed = (n: number) => `${n < 0 ? '−' : '+'}${Math.abs(n).toFixed(3)}`;

/** One line about a state of the evaluation gate (docs/evaluation.md "How it works"), from its output. */
function gateDetail(name: string, output: unknown): string | undefined {
  const { evaluation: e, evaluationError, evaluationCleanup, evaluationCleanupError } = readEvaluationData(output);
  switch (name) {
    case 'PlanEvaluation': {
      if (!e?.estimate) return undefined;
      const est = e.estimate;
      return `evaluation planned: ${est.prompts} prompts, ~${est.tokens.total} tokens${est.usd !== undefined ? `, ~$${est.usd}` : ''} (estimate)`;
    }
    case 'DeployModel':
    case 'DeploymentStatus':
      return e?.deployment ? `deployment ${e.deployment.arn ?? e.deployment.name ?? '?'}: ${e.deployment.status ?? 'requested'}` : undefined;
    case 'GenerateResponses': {
      const g = e?.generation;
      return g ? `responses generated: custom model ${g.done.custom}/${g.total}, base model ${g.done.base}/${g.total}` : undefined;
    }
    case 'StartEvaluations':
    case 'EvaluationStatus':
      return e?.jobs ? `evaluation jobs: custom ${e.jobs.custom.status}, base ${e.jobs.base.status}` : undefined;
    case 'Verdict':
      return e?.verdict ? `verdict ${e.verdict}: ${e.message ?? ''}${e.deployment?.deleted ? ' (deployment deleted)' : ''}`.trimEnd() : undefined;
    case 'EvaluationCleanup':
      return evaluationCleanup?.summary ?? (evaluationCleanupError ? `evaluation cleanup failed: ${evaluationCleanupError.Error}` : evaluationError ? `after ${evaluationError.Error}` : undefined);
    default:
      return undefined;
  }
}

/** The evaluation gate's lines of `status` (and of the end of `start --follow`). */
export function evaluationLines(ev: EvaluationView): string[] {
  const lines: string[] = [];
  const asked = [
    ev.dataset ? `dataset ${ev.dataset}` : undefined,
    ev.judgeModel ? `judge ${ev.judgeModel}` : undefined,
    ev.thresholds?.minScore !== undefined ? `min score ${ev.thresholds.minScore}` : undefined,
    ev.thresholds?.minGainOverBase !== undefined ? `min gain ${signed(ev.thresholds.minGainOverBase)}` : undefined,
    ev.estimate?.tokens !== undefined ? `estimate ~${ev.estimate.tokens} tokens${ev.estimate.usd !== undefined ? `, ~$${ev.estimate.usd}` : ''}` : undefined,
  ].filter(Boolean);
  const head = ev.verdict ? `${ev.verdict}${ev.message ? ` — ${ev.message}` : ''}` : ev.error ? `failed: ${ev.error}` : `in progress (next: ${ev.next ?? '?'})`;
  lines.push(`  evaluation  ${head}`);
  if (asked.length) lines.push(`    ${asked.join(' · ')}`);
  const width = Math.max(0, ...ev.scores.map((s) => s.metric.length));
  for (const s of ev.scores) {
    const scored = `  (records scored: custom ${s.customScored}, base ${s.baseScored})`;
    lines.push(`    ${s.metric.padEnd(width)}  custom ${score(s.custom)}  base ${score(s.base)}  gain ${signed(s.gain)}${scored}`);
  }
  if (ev.deployment) {
    const d = ev.deployment;
    const what = { kept: 'kept: it serves the custom model on demand', deleted: 'deleted', exists: 'still exists (the reaper and the janitor look after a deployment left behind)' }[d.outcome];
    lines.push(`  deployment  ${d.arn ?? d.name ?? '(not recorded)'}${d.status && d.outcome !== 'deleted' ? ` (${d.status})` : ''}: ${what}`);
  }
  if (ev.cleanup) lines.push(`  eval clean  ${ev.cleanup.summary ?? `failed: ${ev.cleanup.error}`}`);
  return lines;
}

/** Bedrock's phases (GetModelCustomizationJob `statusDetails`) as one line, e.g. "validation Completed · data processing InProgress". */
export function phasesLine(statusDetails: StatusDetails | undefined): string | undefined {
  if (!statusDetails) return undefined;
  const parts = [
    ['validation', statusDetails.validationDetails?.status],
    ['data processing', statusDetails.dataProcessingDetails?.status],
    ['training', statusDetails.trainingDetails?.status],
  ].filter(([, status]) => typeof status === 'string');
  return parts.length ? parts.map(([phase, status]) => `${phase} ${status}`).join(' · ') : undefined;
}

const ENTERED = /StateEntered$/;
const EXITED = /StateExited$/;

/**
 * Renders history events as they arrive: each state as it starts and ends with the time since the
 * execution started, one line of what it did, the job's status and Bedrock's phases whenever they
 * change, retries and errors, and the end.
 */
export class FollowRenderer {
  private start?: number;
  private readonly entered = new Map<string, number>();
  private jobLine?: string;
  private current?: string;
  /** The execution's end, once its last event has been seen. */
  ended?: { status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED'; error?: string; cause?: string };

  constructor(private readonly line: Line) {}

  private at(event: HistoryEvent): string {
    const t = event.timestamp ? new Date(event.timestamp).getTime() : Date.now();
    this.start ??= t;
    return `[+${formatDuration((t - this.start) / 1000)}]`.padEnd(12);
  }

  push(event: HistoryEvent): void {
    const type = event.type ?? '';
    const at = this.at(event);
    if (type === 'ExecutionStarted') {
      this.line(`${at}execution started`);
    } else if (ENTERED.test(type) && event.stateEnteredEventDetails?.name) {
      const name = event.stateEnteredEventDetails.name;
      this.entered.set(name, event.timestamp ? new Date(event.timestamp).getTime() : Date.now());
      this.current = name;
      this.line(`${at}▶ ${name}`);
    } else if (EXITED.test(type) && event.stateExitedEventDetails?.name) {
      const name = event.stateExitedEventDetails.name;
      const output = parseJson(event.stateExitedEventDetails.output);
      const detail = stateDetail(name, output);
      if (detail) this.line(`${' '.repeat(12)}  ✔ ${detail}`);
      const poll = name === 'PollStatus' ? readStateData(output)?.poll : undefined;
      if (poll) this.jobStatus(poll);
    } else if (type === 'LambdaFunctionFailed' || type === 'TaskFailed') {
      const d = event.lambdaFunctionFailedEventDetails ?? event.taskFailedEventDetails;
      this.line(`${at}  ✖ ${d?.error ?? 'error'}: ${readableCause(d?.cause)}`);
    } else if (type === 'LambdaFunctionTimedOut' || type === 'TaskTimedOut') {
      const d = event.lambdaFunctionTimedOutEventDetails ?? event.taskTimedOutEventDetails;
      // The event wait's timeout is its safety net, not a failure (its exit line says so).
      if (this.current !== 'WaitForJobEvent') this.line(`${at}  ✖ timed out: ${d?.error ?? ''} ${readableCause(d?.cause)}`.trimEnd());
    } else if (type === 'ExecutionSucceeded') {
      this.ended = { status: 'SUCCEEDED' };
      this.line(`${at}execution succeeded`);
    } else if (type === 'ExecutionFailed') {
      const d = event.executionFailedEventDetails;
      this.ended = { status: 'FAILED', error: d?.error, cause: d?.cause };
      this.line(`${at}execution failed: ${d?.error ?? ''}`);
    } else if (type === 'ExecutionTimedOut') {
      const d = event.executionTimedOutEventDetails;
      this.ended = { status: 'TIMED_OUT', error: d?.error, cause: d?.cause };
      this.line(`${at}execution timed out`);
    } else if (type === 'ExecutionAborted') {
      const d = event.executionAbortedEventDetails;
      this.ended = { status: 'ABORTED', error: d?.error, cause: d?.cause };
      this.line(`${at}execution aborted${d?.cause ? `: ${d.cause}` : ''}`);
    }
  }

  /** The job's status and phases, printed only when they change. */
  private jobStatus(poll: NonNullable<StateData['poll']>) {
    const phases = phasesLine(poll.statusDetails);
    const line = `job ${poll.status}${phases ? ` — ${phases}` : ''}`;
    if (line !== this.jobLine) {
      this.jobLine = line;
      this.line(`${' '.repeat(12)}  ◆ ${line}`);
    }
  }
}

/** The summary `status` prints: what the execution did and, when it failed, what to do. */
export function renderView(view: ExecutionView): string[] {
  const lines: string[] = [];
  const e = view.execution;
  const took = e.durationSeconds !== undefined ? ` after ${formatDuration(e.durationSeconds)}` : '';
  lines.push(`${e.name}: ${e.status}${took}${view.endState ? ` (ended in ${view.endState})` : ''}`);
  lines.push(`  ${view.headline}`);
  if (view.preflight) {
    const p = view.preflight;
    lines.push(`  preflight   ${p.passed} passed, ${p.warn} warnings, ${p.fail} failures${p.awsCalls !== undefined ? ` (${p.awsCalls} AWS calls)` : ''}`);
    for (const problem of p.problems) {
      lines.push(`    ${problem.severity === 'fail' ? '✖' : '!'} ${problem.id} ${problem.resource}: ${problem.message}`);
      if (problem.remedy) lines.push(`      fix: ${problem.remedy}`);
    }
  }
  if (view.dataset) {
    const d = view.dataset;
    lines.push(
      `  dataset     ${d.status}${d.format ? ` (${d.format})` : ''}: ${d.trainingRecords} training, ${d.validationRecords} validation records` +
        `${d.tokens !== undefined ? `, ~${d.tokens} training tokens${d.epochs !== undefined ? ` (${d.epochs} epochs)` : ''}` : ''}${d.costUsd !== undefined ? `, ~$${d.costUsd}` : ''}`,
    );
    for (const note of d.notes) lines.push(`    ! ${note}`);
  }
  if (view.policies) {
    const changes = view.policies.changes.map((c) => `${c.action} ${c.resource} (+${c.added}/-${c.removed})`).join('; ') || 'nothing to change';
    lines.push(`  policies    ${changes}${view.policies.applied ? '' : ' (planned only)'}`);
  }
  if (view.job) {
    const j = view.job;
    const phases = phasesLine(j.phases ? { validationDetails: { status: j.phases.validation }, dataProcessingDetails: { status: j.phases.dataProcessing }, trainingDetails: { status: j.phases.training } } : undefined);
    lines.push(`  job         ${j.arn ?? j.name ?? '(not submitted)'}${j.status ? `: ${j.status}` : ''}${phases ? ` — ${phases}` : ''}`);
    if (j.outputModelArn) lines.push(`  model       ${j.outputModelArn}`);
    if (j.trainingMetrics?.trainingLoss !== undefined) lines.push(`  metrics     training loss ${j.trainingMetrics.trainingLoss}`);
    if (j.failureMessage && j.status === 'Failed') lines.push(`  bedrock     ${j.failureMessage}`);
    if (j.handedOverTo) lines.push(`  handed over ${j.handedOverTo}`);
  }
  if (view.evaluation) lines.push(...evaluationLines(view.evaluation));
  if (view.cleanup) lines.push(`  cleanup     ${view.cleanup.summary ?? `failed: ${view.cleanup.error}`}`);
  if (view.grants) lines.push(`  grants      ${view.grants.summary ?? `revoke failed: ${view.grants.error}`}`);
  if (view.error) {
    lines.push(`  error       ${view.error.error}: ${readableCause(view.error.cause)}`);
    if (view.error.remedy) lines.push(`  what to do  ${view.error.remedy}`);
  }
  return lines;
}

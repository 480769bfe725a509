/**
 * notify: one message per ended execution of this state machine, for the people who run jobs. On Step
 * Functions' "Execution Status Change" event (SUCCEEDED, FAILED, TIMED_OUT, ABORTED) it reads the
 * execution's history (GetExecutionHistory, every page: shared/history.ts), builds its view (shared/execution-view.ts) and
 * publishes to the stack's topic:
 *
 * - completed: the custom model ARN and the duration (with the evaluation gate: the verdict, each metric's
 *   scores and the deployment kept);
 * - the model rejected by the evaluation gate (ModelRejectedError) or the gate failed (EvaluationFailed):
 *   the verdict or the gate's error, the scores, and whether the deployment was deleted;
 * - failed: the failing preflight checks with their remedies, or Bedrock's failure message, or the error
 *   and what to do about it (docs/errors.md);
 * - dry run: a short "plan ready" (the plan's policy changes);
 * - timed out / aborted: where it stopped, and that the reaper stops a job it left running;
 * - a hand-over (endState HandedOver): nothing. The successor carries the job and notifies at its end.
 *
 * Each message ends with the cleanup and grants summary when the execution got there. It also writes
 * one CloudWatch embedded-metric-format line, `RollbackFailed` (1 when the execution ended in
 * RollbackFailed, else 0), for the alarm on policies left half-written.
 *
 * EventBridge delivers at least once: a duplicate event sends the message again (docs/operations.md "Notifications").
 */
import type { HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { readHistory } from '../shared/history.js';
import { buildExecutionView, formatDuration, type EvaluationView, type ExecutionDescription, type ExecutionView } from '../shared/execution-view.js';

/** SNS Publish `Subject`: "less than 100 characters", no line breaks or control characters (SNS API Reference, Publish). */
export const MAX_SUBJECT_LENGTH = 99;
/** The metric of the RollbackFailed alarm (serverless.yml RollbackFailedAlarm). */
export const ROLLBACK_FAILED_METRIC = 'RollbackFailed';

export interface NotifyInput {
  executionArn: string;
  stateMachineArn: string;
  name?: string;
  status?: string;
  /** Epoch milliseconds, as the event's `detail.startDate` / `detail.stopDate`. */
  startDate?: number | null;
  stopDate?: number | null;
}

export interface NotifyConfig {
  topicArn: string;
  /** This stack's state machine: events of any other are ignored. */
  stateMachineArn: string;
  /** CloudWatch namespace of the RollbackFailed metric. */
  metricNamespace: string;
  /** Prefix of every subject (`[<stage>] `): which deployment speaks. */
  subjectPrefix?: string;
}

export interface NotifyDeps {
  sfn: SFNClient;
  sns: Pick<SNSClient, 'send'>;
  /** Where the history comes from; GetExecutionHistory (every page) by default. */
  history?: (executionArn: string) => Promise<HistoryEvent[]>;
  /** Writes one log line to stdout (the EMF line); process.stdout by default. */
  writeLine?: (line: string) => void;
}

export interface Notification {
  subject: string;
  message: string;
}

export interface NotifyReport {
  executionArn: string;
  outcome?: ExecutionView['outcome'];
  endState?: string;
  /** Why nothing was published (another state machine, a hand-over, a running execution). */
  skipped?: string;
  messageId?: string;
  subject?: string;
}

/** One line, no control characters, at most `max` characters (an ellipsis marks a cut). */
export function oneLine(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 3).trimEnd()}...`;
}

/** The message for an ended execution, or undefined when nothing is sent (a hand-over, a running execution). */
export function composeNotification(view: ExecutionView, subjectPrefix = ''): Notification | undefined {
  const job = view.job?.name ?? view.execution.name;
  const took = view.execution.durationSeconds !== undefined ? formatDuration(view.execution.durationSeconds) : undefined;
  let subject: string;
  const body: string[] = [view.headline, ''];
  switch (view.outcome) {
    case 'handed-over':
    case 'running':
      return undefined;
    case 'completed':
      subject = `Job ${job} completed`;
      body.push(`Custom model: ${view.job?.outputModelArn ?? '(not recorded)'}`);
      if (took) body.push(`Duration: ${took}`);
      if (view.job?.trainingMetrics?.trainingLoss !== undefined) body.push(`Training loss: ${view.job.trainingMetrics.trainingLoss}`);
      if (view.evaluation) {
        if (view.evaluation.verdict === 'promote') subject = `Job ${job} completed and promoted`;
        body.push(...evaluationLines(view.evaluation));
      }
      break;
    case 'dry-run': {
      subject = `Dry run ${view.execution.name}: plan ready`;
      const changes = view.policies?.changes.filter((c) => c.action !== 'none') ?? [];
      body.push(changes.length ? 'Planned policy changes (nothing was written):' : 'No policy change planned.');
      for (const c of changes) body.push(`- ${c.action} ${c.resource} (+${c.added} -${c.removed} statements)`);
      const warnings = view.preflight?.problems.filter((p) => p.severity === 'warn') ?? [];
      for (const w of warnings) body.push(`Warning [${w.id}] ${w.resource}: ${w.message}`);
      break;
    }
    case 'failed':
      subject = failureSubject(view, job);
      body.push(...failureLines(view));
      if (view.evaluation) body.push(...evaluationLines(view.evaluation));
      break;
    case 'timed-out':
      subject = `Execution ${view.execution.name} timed out`;
      body.push(...failureLines(view), ...(view.job?.arn ? [`Job ${view.job.arn} may still run: the reaper stops it.`] : []));
      break;
    case 'aborted':
      subject = `Execution ${view.execution.name} aborted`;
      body.push(`Aborted in state ${view.endState ?? '?'}.`, ...(view.job?.arn ? [`Job ${view.job.arn} may still run: the reaper stops it.`] : []));
      break;
  }
  if (view.cleanup) body.push(`ENI cleanup: ${view.cleanup.summary ?? view.cleanup.error}`);
  if (view.grants) body.push(`Grants: ${view.grants.summary ?? view.grants.error}`);
  body.push('', `Execution: ${view.execution.arn}`, `Status: ${view.execution.status}${view.endState ? ` (${view.endState})` : ''}`);
  return { subject: oneLine(`${subjectPrefix}${subject}`, MAX_SUBJECT_LENGTH), message: body.join('\n') };
}

function failureSubject(view: ExecutionView, job: string): string {
  if (view.endState === 'PreflightFailed' && view.error?.error === 'NetworkValidationError') {
    const ids = new Set(view.preflight?.problems.filter((p) => p.severity === 'fail').map((p) => p.id));
    return `Preflight failed: ${[...ids].join(', ')}`;
  }
  if (view.endState === 'RollbackFailed') return `ACTION NEEDED: policy rollback failed for ${job}`;
  if (view.error?.error === 'JobFailedError') return `Job ${job} failed`;
  if (view.error?.error === 'JobDeadlineExceededError') return `Job ${job} stopped at its deadline`;
  if (view.error?.error === 'ModelRejectedError') return `Job ${job}: model rejected by the evaluation gate`;
  if (view.endState === 'EvaluationFailed') return `Job ${job}: evaluation failed (${view.error?.error ?? 'unknown error'})`;
  return `Execution ${view.execution.name} failed: ${view.error?.error ?? 'unknown error'}`;
}

function failureLines(view: ExecutionView): string[] {
  const lines: string[] = [];
  if (view.error?.error === 'NetworkValidationError' && view.preflight?.problems.length) {
    lines.push('Failing checks:');
    for (const p of view.preflight.problems.filter((x) => x.severity === 'fail')) {
      lines.push(`- [${p.id}] ${p.resource}: ${p.message}`, ...(p.remedy ? [`  Fix: ${p.remedy}`] : []));
    }
    return lines;
  }
  if (view.job?.failureMessage) lines.push(`Bedrock: ${view.job.failureMessage}`);
  if (view.error) {
    lines.push(`Error: ${view.error.error}`);
    if (view.error.cause && view.error.cause !== view.job?.failureMessage) lines.push(`Cause: ${view.error.cause}`);
    if (view.error.remedy) lines.push(`What to do: ${view.error.remedy}`);
  }
  return lines;
}

/** The evaluation gate's part of a message: verdict, scores per metric, the deployment and what became of it. */
export function evaluationLines(ev: EvaluationView): string[] {
  const lines = ['', 'Evaluation gate:'];
  if (ev.verdict) lines.push(`Verdict: ${ev.verdict}${ev.message ? ` (${ev.message})` : ''}`);
  else if (ev.error) lines.push(`Failed before a verdict: ${ev.error}`);
  if (ev.dataset || ev.judgeModel) lines.push(`Dataset: ${ev.dataset ?? '?'}, judge: ${ev.judgeModel ?? '?'}`);
  for (const s of ev.scores) {
    lines.push(`- ${s.metric}: custom ${s.custom.toFixed(3)}, base ${s.base.toFixed(3)}, gain ${s.gain < 0 ? '-' : '+'}${Math.abs(s.gain).toFixed(3)}`);
  }
  if (ev.deployment) {
    const d = ev.deployment;
    const what = { kept: 'kept (serves the custom model on demand)', deleted: 'deleted', exists: 'still exists (the reaper and the janitor look after it)' }[d.outcome];
    lines.push(`Deployment: ${d.arn ?? d.name ?? '(not recorded)'} ${what}`);
  }
  if (ev.cleanup) lines.push(`Evaluation cleanup: ${ev.cleanup.summary ?? ev.cleanup.error}`);
  return lines;
}

/**
 * One CloudWatch embedded metric format line (CloudWatch User Guide, "Specification: Embedded metric
 * format"): `RollbackFailed` (Count) in `namespace`, dimension StateMachine.
 */
export function rollbackFailedMetric(view: ExecutionView, namespace: string, stateMachine: string, now = Date.now()): string {
  return JSON.stringify({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [['StateMachine']], Metrics: [{ Name: ROLLBACK_FAILED_METRIC, Unit: 'Count' }] }],
    },
    StateMachine: stateMachine,
    [ROLLBACK_FAILED_METRIC]: view.endState === 'RollbackFailed' ? 1 : 0,
    executionArn: view.execution.arn,
  });
}

/** Builds the view of the ended execution and publishes its message (at most one). */
export async function notify(input: NotifyInput, config: NotifyConfig, deps: NotifyDeps): Promise<NotifyReport> {
  if (input.stateMachineArn !== config.stateMachineArn) {
    return { executionArn: input.executionArn, skipped: `not an execution of ${config.stateMachineArn}` };
  }
  const history = await (deps.history ?? ((arn: string) => readHistory(deps.sfn, arn)))(input.executionArn);
  const execution: ExecutionDescription = {
    arn: input.executionArn,
    ...(input.name ? { name: input.name } : {}),
    ...(input.status ? { status: input.status } : {}),
    ...(typeof input.startDate === 'number' ? { startDate: new Date(input.startDate) } : {}),
    ...(typeof input.stopDate === 'number' ? { stopDate: new Date(input.stopDate) } : {}),
  };
  const view = buildExecutionView(history, execution);
  const base = { executionArn: input.executionArn, outcome: view.outcome, ...(view.endState ? { endState: view.endState } : {}) };
  if (view.outcome !== 'running') {
    const stateMachine = config.stateMachineArn.split(':').at(-1)!;
    (deps.writeLine ?? ((line: string) => process.stdout.write(`${line}\n`)))(rollbackFailedMetric(view, config.metricNamespace, stateMachine));
  }
  const notification = composeNotification(view, config.subjectPrefix);
  if (!notification) return { ...base, skipped: view.outcome === 'handed-over' ? 'handed over: the successor notifies' : 'still running' };
  const out = await deps.sns.send(new PublishCommand({ TopicArn: config.topicArn, Subject: notification.subject, Message: notification.message }));
  return { ...base, subject: notification.subject, ...(out.MessageId ? { messageId: out.MessageId } : {}) };
}

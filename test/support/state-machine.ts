/**
 * The harness of the state-machine tier: the real Lambda handlers bound to the ASL's Task states
 * (loaded once per file), the mocked clients reset after each test, zero waits and retry delays.
 */
import { afterEach, beforeAll } from 'vitest';
import { historyOf } from '../../local/local-history.js';
import { loadLambdaHandlers, localExecutionArn, runWorkflow, type RunWorkflowOptions, type TaskHandler } from '../../local/workflow.js';
import { resetMocks } from './mock-account.js';
import { MIN_HANDOVER_AFTER_EVENTS } from '../../functions/shared/job-state.js';
import { EVENTS_BEFORE_FIRST_POLL, EVENTS_PER_POLL, EVENTS_RESERVED_FOR_END } from '../../functions/poll-status/poll-status.js';

/** The real handlers by state name; filled before the file's tests run (see {@link useRealHandlers}). */
export const lambdas: Record<string, TaskHandler> = {};

/** Loads the real handlers before the file's tests and resets the mocked clients after each test. */
export function useRealHandlers(): void {
  beforeAll(async () => {
    Object.assign(lambdas, await loadLambdaHandlers());
  });
  afterEach(() => resetMocks());
}

/** Every Wait and every Retry interval takes no time. */
export const fast = { waitMs: 0, retryMs: 0 };

/** The real handlers, by state name. */
export const handlers = (): Record<string, TaskHandler> => ({ ...lambdas });

/**
 * Status checks an execution makes before it hands the job over, at the lowest threshold a job may ask
 * for ({@link MIN_HANDOVER_AFTER_EVENTS}) with poll-mode waits.
 */
export const POLLS_PER_EXECUTION = Math.ceil((MIN_HANDOVER_AFTER_EVENTS - EVENTS_RESERVED_FOR_END - EVENTS_BEFORE_FIRST_POLL) / EVENTS_PER_POLL);

/** The polling of a job that hands over as soon as a job may ask: 10 s waits, the lowest threshold. */
export const handoverPolling = { initialSeconds: 10, maxSeconds: 10, growthFactor: 1, handoverAfterEvents: MIN_HANDOVER_AFTER_EVENTS };

/** Job statuses for a chain of `executions` executions: InProgress until the last one's second check, then `end`. */
export const chainStatuses = (executions: number, end = 'Completed') => [...Array<string>((executions - 1) * POLLS_PER_EXECUTION + 1).fill('InProgress'), end];

/** How often a run entered `name`. */
export const count = (states: string[], name: string) => states.filter((s) => s === name).length;

/** How often `state` was retried in a run. */
export const retries = (run: { events: unknown[] }, state: string) =>
  run.events.filter((e) => (e as { type?: string; state?: { name?: string } }).type === 'StateRetried' && (e as { state?: { name?: string } }).state?.name === state).length;

/**
 * Runs the ASL file as execution `name` (the real handlers and the StopJob integration unless
 * `options` says otherwise, no waits) and records its history as Step Functions records it.
 */
export async function recordedRun(input: unknown, name: string, options: Partial<RunWorkflowOptions> = {}) {
  const run = await runWorkflow({ input, executionName: name, handlers: handlers(), ...fast, ...options });
  const arn = localExecutionArn(name);
  return { run, arn, history: historyOf(run, { arn, name, startDate: new Date() }) };
}

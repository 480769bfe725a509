/**
 * Verifying a hand-over. An execution whose input carries `handover` claims to continue a running job
 * for the execution that started it (docs/operations.md "Following the job"). Anyone allowed to start executions
 * can write such an input, so the claim is never trusted: the predecessor's own history is. The
 * predecessor's HandOver state scheduled `states:startExecution` with this execution's name and this
 * state machine, and the input it scheduled (`handover`) is what the successor continues — not the
 * input it received. Used by resume-job (before the successor claims the job in the job ledger);
 * `parseJson` also by the reaper.
 */
import type { HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import * as z from 'zod/mini';
import { isExecutionOf } from './arn.js';
import { HandOverRejectedError } from './errors.js';
import { historyEvents } from './history.js';
import { executionSchema, submissionSchema } from './job-state.js';
import { safeParse } from './validation.js';
// Module-level schemas: built in `/* @__PURE__ */ (() => …)()`, so a bundle that does not use one drops it (shared/validation.ts).

/**
 * Most history pages read while looking for the predecessor's HandOver, newest first, pages of the
 * API's largest size (shared/history.ts): a chain hands over at ≤ 12,000 events.
 */
export const MAX_HISTORY_PAGES = 25;

/** What a hand-over carries (HandOver's Input `handover`); `job` is checked by the steps that use it. */
export const handoverSchema = /* @__PURE__ */ (() => z.object({
  job: z.looseObject({ jobName: z.string() }),
  execution: executionSchema,
  submission: submissionSchema,
  pollCount: z.int().check(z.minimum(0)),
  generation: z.int().check(z.minimum(1)),
  previousExecutionId: z.string(),
}))();
export type Handover = z.infer<typeof handoverSchema>;

/** The execution that verifies: its own ARN and name (`$$.Execution`) and state machine (`$$.StateMachine.Id`). */
export interface Self {
  executionArn: string;
  name: string;
  stateMachineArn: string;
}

/** `text` parsed as JSON (undefined when it is not JSON); a value that is not a string is returned as it is. */
export function parseJson(text: unknown): any {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The hand-over a TaskScheduled event of `states:startExecution` sent to `self`, if it is one. */
function scheduledFor(event: HistoryEvent, self: Self): unknown {
  const details = event.taskScheduledEventDetails;
  if (event.type !== 'TaskScheduled' || details?.resourceType !== 'states' || !details.resource?.startsWith('startExecution')) return undefined;
  const parameters = parseJson(details.parameters);
  if (parameters?.Name !== self.name || parameters?.StateMachineArn !== self.stateMachineArn) return undefined;
  // Input as the state gave it: an object (serialized by the integration) or a JSON string.
  return parseJson(parameters.Input)?.handover ?? null;
}

/**
 * The hand-over `self` continues, as its predecessor scheduled it. Throws {@link HandOverRejectedError}
 * when the claim names no execution of this state machine, when the predecessor does not exist, or when
 * its history holds no start of `self` (a forged or mistaken input); AWS errors (throttling…) are thrown
 * as they are. Reads only the predecessor's history: makes no change.
 */
export async function verifyHandover(self: Self, claimed: unknown, sfn: SFNClient): Promise<Handover> {
  const previous = (claimed as { previousExecutionId?: unknown } | null)?.previousExecutionId;
  if (typeof previous !== 'string' || !isExecutionOf(previous, self.stateMachineArn) || previous === self.executionArn) {
    throw new HandOverRejectedError(
      `Execution ${self.executionArn} was started with a hand-over that names no other execution of ${self.stateMachineArn} ` +
        `(handover.previousExecutionId: ${JSON.stringify(previous ?? null)}): not a hand-over of this workflow. Nothing was stopped or cleaned up.`,
    );
  }
  try {
    for await (const event of historyEvents(sfn, previous, { newestFirst: true, maxPages: MAX_HISTORY_PAGES })) {
      const scheduled = scheduledFor(event, self);
      if (scheduled === undefined) continue;
      const parsed = safeParse(handoverSchema, scheduled);
      if (!parsed.success || parsed.data.previousExecutionId !== previous || !isExecutionOf(parsed.data.execution.id, self.stateMachineArn)) {
        throw new HandOverRejectedError(`${previous} started ${self.executionArn} with an input that is not a hand-over of this workflow. Nothing was stopped or cleaned up.`);
      }
      return parsed.data;
    }
  } catch (err) {
    if ((err as { name?: string }).name === 'ExecutionDoesNotExist') {
      throw new HandOverRejectedError(`The hand-over names ${previous}, which does not exist: not a hand-over of this workflow. Nothing was stopped or cleaned up.`);
    }
    throw err;
  }
  throw new HandOverRejectedError(
    `${previous} never started ${self.executionArn} (its history holds no HandOver to this execution): the hand-over in the input is not ` +
      `this workflow's. Nothing was stopped or cleaned up.`,
  );
}

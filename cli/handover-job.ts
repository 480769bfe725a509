/**
 * Which job `list` may show for a hand-over. An execution started with a `handover` input claims to
 * carry on another execution's job, and anyone allowed to start executions can write such an input
 * (functions/shared/handover.ts): its `handover.submission.jobArn` is a claim, never shown as the
 * execution's job. What is shown is the job ResumeJob verified in the predecessor's history: ResumeJob's
 * result replaces the execution's state (no ResultPath), so its StateExited output after a successful
 * attempt holds the verified `submission`. Until then, or when ResumeJob rejected the claim, the job is
 * {@link HANDOVER_UNVERIFIED}.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { parseJson } from '../functions/shared/handover.js';
import { readStateData } from '../functions/shared/job-state.js';

/** The `job` of a hand-over whose claim ResumeJob has not verified (yet, or ever). */
export const HANDOVER_UNVERIFIED = 'hand-over (unverified)';

/** The ASL state that verifies a hand-over (statemachines/customize-model.asl.yml). */
const RESUME_STATE = 'ResumeJob';

/** Events at most before ResumeJob exits: its entry, and 3 events per attempt for its 11 retries and the first try. */
export const HANDOVER_HISTORY_PAGE = 100;

/** Whether an execution's input claims a hand-over (the ASL's IsHandover: `$.handover` is present). */
export function isHandoverInput(input: unknown): boolean {
  return typeof input === 'object' && input !== null && !Array.isArray(input) && 'handover' in input;
}

/**
 * The job ARN ResumeJob verified, read from the execution's own history (events in id order): the
 * output of ResumeJob's exit when the visit's last Lambda attempt succeeded (a caught failure also
 * exits, with the claim still in the state). Undefined when ResumeJob has not verified it.
 */
export function verifiedHandoverJob(history: HistoryEvent[]): string | undefined {
  let inResume = false;
  let succeeded = false;
  for (const event of history) {
    const type = event.type ?? '';
    if (type.endsWith('StateEntered')) {
      inResume = event.stateEnteredEventDetails?.name === RESUME_STATE;
      succeeded = false;
    } else if (inResume && type === 'LambdaFunctionSucceeded') {
      succeeded = true;
    } else if (inResume && /Failed$|TimedOut$/.test(type)) {
      succeeded = false;
    } else if (type.endsWith('StateExited') && event.stateExitedEventDetails?.name === RESUME_STATE) {
      const details = event.stateExitedEventDetails;
      if (!inResume || !succeeded || details.outputDetails?.truncated) return undefined;
      // The submission schema checks the job ARN's form (functions/shared/job-state.ts).
      return readStateData(parseJson(details.output))?.submission?.jobArn;
    }
  }
  return undefined;
}

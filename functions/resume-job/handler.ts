/** resume-job Lambda: the ResumeJob state. Verifies a hand-over before the execution acts on it. */
import * as z from 'zod/mini';
import { sfn } from '../shared/clients.js';
import { makeHandler } from '../shared/handler.js';
import { jobLedger } from '../shared/ledger-env.js';
import { log } from '../shared/log.js';
import { resumeJob } from './resume-job.js';

/** Event from the ResumeJob state: the claimed hand-over (unchecked) and the execution's own identity (context object). */
const eventSchema = z.object({
  handover: z.unknown(),
  self: z.object({
    executionArn: z.string().check(z.minLength(1)),
    name: z.string().check(z.minLength(1)),
    startTime: z.string(),
    stateMachineArn: z.string().check(z.minLength(1)),
  }),
});

export const handler = makeHandler(eventSchema, async ({ handover, self }) => {
  const state = await resumeJob(self, handover, { sfn, ledger: jobLedger() });
  log.info('hand-over verified', { jobArn: state.submission.jobArn, generation: state.handover.generation, previous: state.handover.previousExecutionId });
  return state;
});

/** poll-status Lambda: checks the job once and tells the state machine what to do next. */
import { z } from 'zod';
import { bedrock } from '../shared/clients.js';
import { executionSchema, pollingSchema } from '../shared/job-input.js';
import { submissionSchema } from '../shared/job-state.js';
import { makeHandler } from '../shared/handler.js';
import { logger } from '../shared/logger.js';
import { pollStatus } from './poll-status.js';

/** The whole execution state comes in (no Parameters: $.poll is absent on the first poll). */
const eventSchema = z.object({
  job: z.object({ jobName: z.string(), polling: pollingSchema }),
  execution: executionSchema.pick({ name: true, startTime: true }).optional(),
  submission: submissionSchema,
  poll: z.object({ pollCount: z.number().int().min(0), pollsThisExecution: z.number().int().min(0) }).partial().optional(),
  handover: z.object({ generation: z.number().int().min(0), startedAt: z.string().optional() }).optional(),
  stopRequest: z.unknown().optional(),
  stopError: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});

export const handler = makeHandler(eventSchema, async (event) => {
  const poll = await pollStatus(event, { bedrock, now: () => new Date() });
  logger.info('job status', { status: poll.status, next: poll.next, pollCount: poll.pollCount, historyEvents: poll.historyEvents });
  return poll;
});

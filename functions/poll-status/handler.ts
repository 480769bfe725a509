/** poll-status Lambda: checks the job once and tells the state machine what to do next. */
import { z } from 'zod';
import { bedrock } from '../shared/clients.js';
import { pollingSchema } from '../shared/job-input.js';
import { pollSchema, submissionSchema } from '../shared/job-state.js';
import { makeHandler } from '../shared/handler.js';
import { logger } from '../shared/logger.js';
import { pollStatus } from './poll-status.js';

const eventSchema = z.object({
  job: z.object({ jobName: z.string(), polling: pollingSchema }),
  submission: submissionSchema,
  poll: pollSchema.pick({ pollCount: true }).optional(),
  stopRequest: z.unknown().optional(),
  stopError: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});

export const handler = makeHandler(eventSchema, async (event) => {
  const poll = await pollStatus(event, { bedrock, now: () => new Date() });
  logger.info('job status', { status: poll.status, next: poll.next, pollCount: poll.pollCount });
  return poll;
});

/** poll-status Lambda: checks the job once and tells the state machine what to do next. */
import * as z from 'zod/mini';
import { bedrock } from '../shared/clients.js';
import { executionSchema, pollingSchema, submissionSchema } from '../shared/job-state.js';
import { makeHandler } from '../shared/handler.js';
import { log } from '../shared/log.js';
import { pollStatus } from './poll-status.js';

const count = z.int().check(z.minimum(0));

/** The whole execution state comes in (no Parameters: $.poll is absent on the first poll). */
const eventSchema = z.object({
  job: z.object({ jobName: z.string(), polling: pollingSchema }),
  execution: z.optional(z.pick(executionSchema, { id: true, name: true, startTime: true })),
  quotaWait: z.optional(z.object({ attempts: z.optional(count) })),
  submission: submissionSchema,
  poll: z.optional(
    z.object({
      pollCount: z.optional(count),
      pollsThisExecution: z.optional(count),
      retriesThisExecution: z.optional(count),
      checkedAt: z.optional(z.string()),
      nextWaitSeconds: z.optional(z.number()),
    }),
  ),
  handover: z.optional(z.object({ generation: count, startedAt: z.optional(z.string()) })),
  stopRequest: z.optional(z.unknown()),
  stopError: z.optional(z.object({ Error: z.optional(z.string()), Cause: z.optional(z.string()) })),
  handoverRefused: z.optional(z.object({ generation: count })),
});

export const handler = makeHandler(eventSchema, async (event) => {
  const poll = await pollStatus(event, { bedrock, now: () => new Date() });
  log.info('job status', { status: poll.status, next: poll.next, pollCount: poll.pollCount, historyEvents: poll.historyEvents });
  return poll;
});

/**
 * poll-status Lambda: checks the job once and tells the state machine what to do next (as the job's
 * supervisor in the job ledger); with `action: stop` (StopJob, StopUnwatchedJob), asks Bedrock to stop it.
 */
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { bedrock, ec2 } from '../shared/clients.js';
import { executionSchema, JOB_PHASES, pollingSchema, submissionSchema } from '../shared/job-state.js';
import { makeHandler } from '../shared/handler.js';
import { jobLedger } from '../shared/ledger-env.js';
import { log } from '../shared/log.js';
import { pollStatus } from './poll-status.js';
import { stopJob } from './stop-job.js';

const count = z.int().check(z.minimum(0));

/** The whole execution state comes in (no Parameters: $.poll is absent on the first poll). */
const eventSchema = z.object({
  job: z.object({
    jobName: z.string(),
    polling: pollingSchema,
    vpcConfig: z.optional(z.object({ vpcId: z.optional(z.string()), subnetIds: z.array(z.string()), securityGroupIds: z.array(z.string()) })),
  }),
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
      /** Written by an earlier poll of this execution (a phase Bedrock reported Failed), carried on. */
      phaseFailure: z.optional(z.object({ phase: z.enum(JOB_PHASES), failureMessage: z.optional(z.string()), detectedAt: z.string() })),
    }),
  ),
  handover: z.optional(z.object({ generation: count, startedAt: z.optional(z.string()), self: z.optional(z.string()) })),
  stopRequest: z.optional(z.unknown()),
  stopError: z.optional(z.object({ Error: z.optional(z.string()), Cause: z.optional(z.string()) })),
  handoverRefused: z.optional(z.object({ generation: count })),
});

const stopEventSchema = z.object({
  action: z.literal('stop'),
  reason: z.enum(['deadline', 'executions', 'phaseFailed', 'unwatched']),
  submission: z.pick(submissionSchema, { jobArn: true, jobName: true }),
  execution: z.pick(executionSchema, { id: true }),
  self: z.string().check(z.minLength(1), z.maxLength(2048)),
});

const poll = makeHandler(eventSchema, async (event) => {
  const result = await pollStatus(event, { bedrock, ec2, ledger: jobLedger(), now: () => new Date() });
  log.info('job status', { status: result.status, next: result.next, pollCount: result.pollCount, historyEvents: result.historyEvents });
  return result;
});

const stop = makeHandler(stopEventSchema, async (event) => {
  const result = await stopJob(event, { bedrock, ledger: jobLedger(), now: () => new Date() });
  log.info('job stop', { jobArn: event.submission.jobArn, ...result });
  return result;
});

export const handler = async (event: unknown, context: Context) => {
  const action = (event as { action?: unknown } | null)?.action;
  if (action === 'stop') return stop(event, context);
  return poll(event, context);
};

/**
 * submit-job Lambda: submits the resolved job (or adopts the one a retried task already created);
 * with `action: planQuotaWait` (the PlanQuotaWait state), plans the next wait for the job quota.
 */
import * as z from 'zod/mini';
import type { Context } from 'aws-lambda';
import { bedrock } from '../shared/clients.js';
import { executionSchema, jobInputSchema } from '../shared/job-input.js';
import { quotaWaitSchema } from '../shared/job-state.js';
import { makeHandler } from '../shared/handler.js';
import { log } from '../shared/log.js';
import { planQuotaWait, submitJob } from './submit-job.js';

const submitEventSchema = z.object({ job: jobInputSchema, execution: executionSchema });
const planEventSchema = z.object({
  action: z.literal('planQuotaWait'),
  job: z.object({ maxQuotaWaitSeconds: z.int().check(z.minimum(0)) }),
  execution: z.pick(executionSchema, { startTime: true }),
  quotaWait: quotaWaitSchema,
});

const submit = makeHandler(submitEventSchema, async ({ job, execution }) => {
  const submission = await submitJob(job, execution, { bedrock, now: () => new Date() });
  log.info('job submitted', { ...submission });
  return submission;
});

const plan = makeHandler(planEventSchema, async ({ job, execution, quotaWait }) => {
  const next = planQuotaWait(job, execution, quotaWait, new Date());
  log.info('waiting for the job quota', { attempts: next.attempts, seconds: next.seconds, until: next.until });
  return next;
});

export const handler = async (event: unknown, context: Context) =>
  (event as { action?: unknown } | null)?.action === 'planQuotaWait' ? plan(event, context) : submit(event, context);

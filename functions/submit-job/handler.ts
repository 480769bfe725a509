/**
 * submit-job Lambda: submits the resolved job (or adopts the one a retried task already created);
 * with `action: planQuotaWait` (the PlanQuotaWait state), plans the next wait for the job quota; with
 * `action: reconcile` (the ReconcileSubmission state), looks for the job a failed submission may have created.
 */
import * as z from 'zod/mini';
import type { Context } from 'aws-lambda';
import { bedrock } from '../shared/clients.js';
import { executionSchema, jobInputSchema } from '../shared/job-input.js';
import { quotaWaitSchema } from '../shared/job-state.js';
import { makeHandler } from '../shared/handler.js';
import { log } from '../shared/log.js';
import { planQuotaWait, reconcileSubmission, submitJob } from './submit-job.js';

const submitEventSchema = z.object({ job: jobInputSchema, execution: executionSchema });
const planEventSchema = z.object({
  action: z.literal('planQuotaWait'),
  job: z.object({ maxQuotaWaitSeconds: z.int().check(z.minimum(0)) }),
  execution: z.pick(executionSchema, { startTime: true }),
  quotaWait: quotaWaitSchema,
});
const reconcileEventSchema = z.object({
  action: z.literal('reconcile'),
  job: jobInputSchema,
  execution: executionSchema,
  error: z.object({ Error: z.optional(z.string()), Cause: z.optional(z.string()) }),
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

const reconcile = makeHandler(reconcileEventSchema, async ({ job, error }) => {
  const submission = await reconcileSubmission(job, error, { bedrock, now: () => new Date() });
  log.info('job adopted after a failed submission', { ...submission, error: error.Error });
  return submission;
});

export const handler = async (event: unknown, context: Context) => {
  const action = (event as { action?: unknown } | null)?.action;
  if (action === 'planQuotaWait') return plan(event, context);
  if (action === 'reconcile') return reconcile(event, context);
  return submit(event, context);
};

/**
 * submit-job Lambda: submits the resolved job (or adopts the one a retried task already created);
 * with `action: planQuotaWait` (the PlanQuotaWait state), plans the next wait for the job quota; with
 * `action: reconcile` (the ReconcileSubmission state), looks for the job a failed submission may have created.
 */
import * as z from 'zod/mini';
import type { Context } from 'aws-lambda';
import { bedrock, s3 } from '../shared/clients.js';
import { datasetObjectsSchema } from '../shared/dataset/objects.js';
import { executionSchema, jobInputSchema } from '../shared/job-input.js';
import { quotaWaitSchema } from '../shared/job-state.js';
import { makeHandler } from '../shared/handler.js';
import { log } from '../shared/log.js';
import { jobLedger } from '../shared/ledger-env.js';
import { planQuotaWait, reconcileSubmission, submitJob } from './submit-job.js';

// The event schemas are built on the first event of their action (z.lazy), not at import.
/** `$.dataset` as ValidateDataset returned it: the objects it read (their ETag and version), for the snapshot. */
const datasetSchema = z.lazy(() => z.looseObject({ objects: z.optional(datasetObjectsSchema) }));
const submitEventSchema = z.lazy(() => z.object({ job: jobInputSchema, execution: executionSchema, dataset: datasetSchema }));
const planEventSchema = z.lazy(() =>
  z.object({
    action: z.literal('planQuotaWait'),
    job: z.object({ maxQuotaWaitSeconds: z.int().check(z.minimum(0)) }),
    execution: z.pick(executionSchema, { startTime: true }),
    quotaWait: quotaWaitSchema,
  }),
);
const reconcileEventSchema = z.lazy(() =>
  z.object({
    action: z.literal('reconcile'),
    job: jobInputSchema,
    execution: executionSchema,
    error: z.object({ Error: z.optional(z.string()), Cause: z.optional(z.string()) }),
  }),
);

const submit = makeHandler(submitEventSchema, async ({ job, execution, dataset }) => {
  const submission = await submitJob(job, execution, dataset, { bedrock, s3, ledger: jobLedger(), now: () => new Date() });
  log.info('job submitted', { ...submission });
  return submission;
});

const plan = makeHandler(planEventSchema, async ({ job, execution, quotaWait }) => {
  const next = planQuotaWait(job, execution, quotaWait, new Date());
  log.info('waiting for the job quota', { attempts: next.attempts, seconds: next.seconds, until: next.until });
  return next;
});

const reconcile = makeHandler(reconcileEventSchema, async ({ job, execution, error }) => {
  const submission = await reconcileSubmission(job, execution, error, { bedrock, s3, ledger: jobLedger(), now: () => new Date() });
  log.info('job adopted after a failed submission', { ...submission, error: error.Error });
  return submission;
});

export const handler = async (event: unknown, context: Context) => {
  const action = (event as { action?: unknown } | null)?.action;
  if (action === 'planQuotaWait') return plan(event, context);
  if (action === 'reconcile') return reconcile(event, context);
  return submit(event, context);
};

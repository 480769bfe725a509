/**
 * validate-network Lambda, two actions of the preflight, both read-only:
 * - the ResolveInput state's event (`input`, `execution`): resolves the execution input into the job
 *   within the stage, then runs the network preflight;
 * - `action: "dataset"` (the ValidateDataset state): streams the job's training and validation data
 *   and checks it against its model's format, limits and the job's budget (validate-dataset.ts).
 */
import * as z from 'zod/mini';
import { ec2, iam, s3 } from '../shared/clients.js';
import { executionSchema, jobInputSchema, resolveJobInput } from '../shared/job-input.js';
import { makeHandler } from '../shared/handler.js';
import { log } from '../shared/log.js';
import { loadStage } from '../shared/stage.js';
import { validateDataset } from './validate-dataset.js';
import { validateNetwork } from './validate-network.js';

/** Event from the ResolveInput state (the caller's raw input and the execution context), or the dataset action. */
const eventSchema = z.union([
  z.strictObject({ action: z.literal('dataset'), job: jobInputSchema }),
  z.object({ input: z.unknown(), execution: executionSchema }),
]);

export const handler = makeHandler(eventSchema, async (event, context) => {
  const stage = loadStage(process.env);
  if ('action' in event) {
    const dataset = await validateDataset(event.job, stage, { s3, remainingMs: () => context.getRemainingTimeInMillis() });
    log.info('dataset checked', { jobName: event.job.jobName, status: dataset.status, records: dataset.trainingRecords, tokens: dataset.tokens?.total });
    return dataset;
  }
  const { input, execution } = event;
  // The stage's values under the input, the input checked to stay within them: before any AWS call.
  const job = resolveJobInput(input, stage, execution);
  const preflight = await validateNetwork(job, { ec2, s3, iam }, job.preflight);
  log.info('preflight passed', { jobName: job.jobName, counts: preflight.counts, awsCalls: preflight.awsCalls });
  return { job, execution, preflight };
});

/** submit-job Lambda: submits the resolved job (or adopts the one a retried task already created). */
import * as z from 'zod/mini';
import { bedrock } from '../shared/clients.js';
import { executionSchema, jobInputSchema } from '../shared/job-input.js';
import { makeHandler } from '../shared/handler.js';
import { log } from '../shared/log.js';
import { submitJob } from './submit-job.js';

const eventSchema = z.object({ job: jobInputSchema, execution: executionSchema });

export const handler = makeHandler(eventSchema, async ({ job, execution }) => {
  const submission = await submitJob(job, execution, { bedrock, now: () => new Date() });
  log.info('job submitted', { ...submission });
  return submission;
});

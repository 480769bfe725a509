/** submit-job Lambda: submits the resolved job (or adopts the one a retried task already created). */
import { z } from 'zod';
import { bedrock } from '../shared/clients.js';
import { executionSchema, jobInputSchema } from '../shared/job-input.js';
import { makeHandler } from '../shared/handler.js';
import { logger } from '../shared/logger.js';
import { submitJob } from './submit-job.js';

const eventSchema = z.object({ job: jobInputSchema, execution: executionSchema });

export const handler = makeHandler(eventSchema, async ({ job, execution }) => {
  const submission = await submitJob(job, execution, { bedrock, now: () => new Date() });
  logger.info('job submitted', { ...submission });
  return submission;
});

/**
 * validate-network Lambda (the ValidateNetwork state), read-only: resolves the execution input
 * (`input`, `execution`, as ResolveInput passes them) into the job within the stage, then runs the
 * network preflight (validate-network.ts).
 */
import * as z from 'zod/mini';
import { bedrock, ec2, iam, lambda, s3 } from '../shared/clients.js';
import { executionSchema, resolveJobInput } from '../shared/job-input.js';
import { makeHandler } from '../shared/handler.js';
import { log } from '../shared/log.js';
import { loadStage } from '../shared/stage.js';
import { validateNetwork } from './validate-network.js';

/** Event from the ResolveInput state: the caller's raw input and the execution context. */
const eventSchema = z.object({ input: z.unknown(), execution: executionSchema });

export const handler = makeHandler(eventSchema, async ({ input, execution }) => {
  const stage = loadStage(process.env);
  // The stage's values under the input, the input checked to stay within them: before any AWS call.
  const job = resolveJobInput(input, stage, execution);
  const preflight = await validateNetwork(job, { ec2, s3, iam, lambda, bedrock }, job.preflight);
  log.info('preflight passed', { jobName: job.jobName, counts: preflight.counts, awsCalls: preflight.awsCalls });
  return { job, execution, preflight };
});

/** validate-network Lambda: resolves the execution input into the job, then runs the preflight. */
import * as z from 'zod/mini';
import { ec2, iam, s3 } from '../shared/clients.js';
import { parseEnv, stageDefaults } from '../shared/env.js';
import { executionSchema, resolveJobInput } from '../shared/job-input.js';
import { makeHandler } from '../shared/handler.js';
import { log } from '../shared/log.js';
import { validateNetwork } from './validate-network.js';

const env = parseEnv();
const defaults = stageDefaults(env);

/** Event from the ResolveInput state: the caller's raw input and the execution context. */
const eventSchema = z.object({ input: z.unknown(), execution: executionSchema });

export const handler = makeHandler(eventSchema, async ({ input, execution }) => {
  const resolved = resolveJobInput(input, defaults, execution, { region: env.AWS_REGION });
  const preflight = await validateNetwork(resolved, { ec2, s3, iam }, resolved.preflight);
  // A VPC derived from the subnets is written back: the later steps (policies) need it.
  const job = preflight.vpcId && !resolved.vpcConfig.vpcId
    ? { ...resolved, vpcConfig: { ...resolved.vpcConfig, vpcId: preflight.vpcId } }
    : resolved;
  log.info('preflight passed', { jobName: job.jobName, counts: preflight.counts, awsCalls: preflight.awsCalls });
  return { job, execution, preflight };
});

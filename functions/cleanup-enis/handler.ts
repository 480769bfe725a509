/**
 * cleanup-enis Lambda: deletes the finished job's available network interfaces that the job ledger
 * recorded while it ran; throws EnisStillInUseError (retried by the state machine) while some are still attached.
 */
import * as z from 'zod/mini';
import { ec2 } from '../shared/clients.js';
import { executionSchema, submissionSchema } from '../shared/job-state.js';
import { makeHandler } from '../shared/handler.js';
import { jobLedger } from '../shared/ledger-env.js';
import { log } from '../shared/log.js';
import { cleanupEnis } from './cleanup-enis.js';

const eventSchema = z.object({
  submission: z.pick(submissionSchema, { jobArn: true, jobName: true }),
  execution: z.pick(executionSchema, { id: true }),
  self: z.string().check(z.minLength(1), z.maxLength(2048)),
});

export const handler = makeHandler(eventSchema, async (event) => {
  const result = await cleanupEnis(event, { ec2, ledger: jobLedger() });
  log.info('eni cleanup', { ...result });
  return result;
});

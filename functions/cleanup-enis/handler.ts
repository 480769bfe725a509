/**
 * cleanup-enis Lambda: deletes the finished job's available, Bedrock-tagged network interfaces;
 * throws EnisStillInUseError (retried by the state machine) while some are still attached.
 */
import * as z from 'zod/mini';
import { ec2 } from '../shared/clients.js';
import { submissionSchema } from '../shared/job-state.js';
import { makeHandler } from '../shared/handler.js';
import { log } from '../shared/log.js';
import { cleanupEnis } from './cleanup-enis.js';

const eventSchema = z.object({ submission: z.pick(submissionSchema, { jobArn: true }) });

export const handler = makeHandler(eventSchema, async ({ submission }) => {
  const result = await cleanupEnis(submission.jobArn, { ec2 });
  log.info('eni cleanup', { ...result });
  return result;
});

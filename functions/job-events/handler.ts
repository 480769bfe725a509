/**
 * job-events Lambda: two callers, one table of waits (JOB_WAITS_TABLE).
 * - The `WaitForJobEvent` state (`arn:aws:states:::lambda:invoke.waitForTaskToken`) invokes it with
 *   `{ "action": "register", "taskToken": <$$.Task.Token>, "jobArn": …, "waitSeconds": <the Task's timeout> }`
 *   (ASL has no date arithmetic, so the wait's end is computed here; `expiresAt` as an ISO time is taken too).
 * - Bedrock's "Model Customization Job State Change" events (`source: aws.bedrock`; AWS's documented
 *   sample: test/fixtures/events/bedrock-model-customization-job-state-change.json) name the job in
 *   `detail.jobArn` and its status in `detail.jobStatus`; the step reads the status itself.
 */
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { bedrock, dynamodb, sfn } from '../shared/clients.js';
import { loadEnv } from '../shared/env.js';
import { makeHandler } from '../shared/handler.js';
import { accountIdSchema } from '../shared/ids.js';
import { jobArnSchema } from '../shared/job-state.js';
import { jobLedger } from '../shared/ledger-env.js';
import { log } from '../shared/log.js';
import { MAX_TASK_TOKEN_LENGTH, onJobStateChange, registerWait, type JobEventsConfig } from './job-events.js';

const env = loadEnv(
  z.object({
    // The stack's table of waits (key `pk` = job ARN; TTL on `ttl`).
    JOB_WAITS_TABLE: z.string().check(z.minLength(1)),
    // This Lambda's account (CloudFormation's AWS::AccountId); its region is AWS_REGION (Lambda sets it).
    JOB_EVENTS_ACCOUNT_ID: accountIdSchema,
    AWS_REGION: z.string().check(z.minLength(1, 'AWS_REGION is required (Lambda sets it)')),
  }),
);

const config: JobEventsConfig = { table: env.JOB_WAITS_TABLE, home: { region: env.AWS_REGION, accountId: env.JOB_EVENTS_ACCOUNT_ID } };
const deps = { dynamodb, bedrock, sfn, get ledger() { return jobLedger(); }, now: () => new Date() };

const registerSchema = z.object({
  action: z.literal('register'),
  taskToken: z.string().check(z.minLength(1), z.maxLength(MAX_TASK_TOKEN_LENGTH)),
  jobArn: jobArnSchema,
  jobName: z.string().check(z.minLength(1), z.maxLength(63)),
  /** `$$.Execution.Id` of the waiting execution, and `$.execution.id` (the chain's first: the job's owner). */
  executionArn: z.string().check(z.minLength(1), z.maxLength(2048)),
  owner: z.string().check(z.minLength(1), z.maxLength(2048)),
  expiresAt: z.optional(z.iso.datetime({ offset: true })),
  /** The Task's TimeoutSecondsPath value ($.poll.nextWaitSeconds: the safety net, at most the 900 s detection bound). */
  waitSeconds: z.optional(z.int().check(z.minimum(1), z.maximum(366 * 86_400))),
}).check(z.refine((e) => (e.expiresAt === undefined) !== (e.waitSeconds === undefined), { message: 'needs exactly one of expiresAt and waitSeconds', path: ['waitSeconds'] }));

// The job ARN is not checked here: an event for a job that is not ours is ignored, not an error.
const stateChangeSchema = z.object({
  source: z.literal('aws.bedrock'),
  'detail-type': z.literal('Model Customization Job State Change'),
  detail: z.looseObject({
    jobArn: z.optional(z.string()),
    jobStatus: z.optional(z.string()),
  }),
});

const register = makeHandler(registerSchema, async ({ taskToken, jobArn, jobName, executionArn, owner, expiresAt: given, waitSeconds }) => {
  const expiresAt = given ?? new Date(deps.now().getTime() + waitSeconds! * 1000).toISOString();
  const result = await registerWait({ taskToken, jobArn, jobName, executionArn, owner, expiresAt }, config, deps);
  log.info('job-events: wait registered', { jobArn, expiresAt, ...result });
  return result;
});

const stateChange = makeHandler(stateChangeSchema, async (event) => {
  const result = await onJobStateChange({ jobArn: event.detail.jobArn, jobStatus: event.detail.jobStatus }, config, deps);
  log.info('job-events: job state change', { eventJobArn: event.detail.jobArn, eventJobStatus: event.detail.jobStatus, ...result });
  return result;
});

export const handler = async (event: unknown, context: Context) => {
  const action = (event as { action?: unknown } | null)?.action;
  if (action !== undefined) return register(event, context);
  return stateChange(event, context);
};

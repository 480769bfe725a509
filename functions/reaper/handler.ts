/**
 * reaper Lambda: runs on Step Functions' "Step Functions Execution Status Change" events of this
 * stack's state machine in ABORTED, TIMED_OUT or FAILED (the rule in serverless.yml). Such an event
 * names the execution in `detail.executionArn` and its state machine in `detail.stateMachineArn`
 * (AWS's documented sample: test/fixtures/events/step-functions-execution-status-change.json). The
 * reaper reads the execution's status itself; the event's `detail.status` only routes.
 */
import * as z from 'zod/mini';
import { bedrock, sfn } from '../shared/clients.js';
import { loadEnv } from '../shared/env.js';
import { makeHandler } from '../shared/handler.js';
import { jobLedger } from '../shared/ledger-env.js';
import { log } from '../shared/log.js';
import { reap } from './reaper.js';

const env = loadEnv(
  z.object({
    // This stack's state machine (CloudFormation's Ref: CustomizeModelStateMachine, its ARN).
    REAPER_STATE_MACHINE_ARN: z.string().check(z.maxLength(2048, { abort: true }), z.regex(/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]+$/, 'must be a state machine ARN')),
  }),
);

const eventSchema = z.object({
  source: z.optional(z.string()),
  detail: z.looseObject({
    executionArn: z.string().check(z.minLength(1)),
    stateMachineArn: z.string().check(z.minLength(1)),
  }),
});

export const handler = makeHandler(eventSchema, async (event) => {
  const report = await reap(
    { executionArn: event.detail.executionArn, stateMachineArn: event.detail.stateMachineArn },
    { stateMachineArn: env.REAPER_STATE_MACHINE_ARN },
    { sfn, bedrock, ledger: jobLedger() },
  );
  log.info('reaper', { ...report });
  return report;
});

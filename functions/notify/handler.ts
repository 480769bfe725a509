/**
 * notify Lambda: runs on Step Functions' "Step Functions Execution Status Change" events of this
 * stack's state machine in SUCCEEDED, FAILED, TIMED_OUT or ABORTED (the rule in serverless.yml). The
 * event names the execution (`detail.executionArn`, `detail.name`), its status and its start/stop times
 * in epoch milliseconds (AWS's documented sample: test/fixtures/events/step-functions-execution-status-change.json).
 * The message is built from the execution's history, not from the event's `input`/`output` (absent for
 * large payloads and never carrying the failure details).
 *
 * The EMF line goes to process.stdout directly: with Lambda's JSON log format (provider.logs), a
 * `console` line becomes the `message` of Lambda's own JSON object and CloudWatch would not extract the
 * metric (CloudWatch User Guide, "Using the embedded metric format with Lambda": the JSON log format note).
 */
import * as z from 'zod/mini';
import { sfn, sns } from '../shared/clients.js';
import { loadEnv } from '../shared/env.js';
import { makeHandler } from '../shared/handler.js';
import { log } from '../shared/log.js';
import { notify } from './notify.js';

const env = loadEnv(
  z.object({
    NOTIFY_TOPIC_ARN: z.string().check(z.maxLength(2048, { abort: true }), z.regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/, 'must be an SNS topic ARN')),
    // This stack's state machine (CloudFormation's Ref: CustomizeModelStateMachine, its ARN).
    NOTIFY_STATE_MACHINE_ARN: z.string().check(z.maxLength(2048, { abort: true }), z.regex(/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]+$/, 'must be a state machine ARN')),
    NOTIFY_METRIC_NAMESPACE: z.string().check(z.minLength(1), z.maxLength(255)),
    NOTIFY_SUBJECT_PREFIX: z._default(z.string(), ''),
  }),
);

/** Built on the first event (z.lazy), not at import. */
const eventSchema = z.lazy(() =>
  z.object({
    source: z.optional(z.string()),
    detail: z.looseObject({
      executionArn: z.string().check(z.minLength(1)),
      stateMachineArn: z.string().check(z.minLength(1)),
      name: z.optional(z.string()),
      status: z.optional(z.string()),
      startDate: z.optional(z.nullable(z.number())),
      stopDate: z.optional(z.nullable(z.number())),
    }),
  }),
);

export const handler = makeHandler(eventSchema, async (event) => {
  const { executionArn, stateMachineArn, name, status, startDate, stopDate } = event.detail;
  const report = await notify(
    { executionArn, stateMachineArn, ...(name ? { name } : {}), ...(status ? { status } : {}), startDate: startDate ?? null, stopDate: stopDate ?? null },
    {
      topicArn: env.NOTIFY_TOPIC_ARN,
      stateMachineArn: env.NOTIFY_STATE_MACHINE_ARN,
      metricNamespace: env.NOTIFY_METRIC_NAMESPACE,
      subjectPrefix: env.NOTIFY_SUBJECT_PREFIX,
    },
    { sfn, sns },
  );
  log.info('notify', { ...report });
  return report;
});

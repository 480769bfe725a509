/**
 * notify against moto: GetExecutionHistory of a real (moto) execution and Publish to a real (moto) SNS
 * topic, over the wire, the message read back from an SQS queue subscribed to the topic (SNS's
 * standard envelope: `Type`, `Subject`, `Message`…, SNS Developer Guide "Fanout to Amazon SQS queues").
 * moto does not run the state machine: its GetExecutionHistory returns a fixed sample history (a Pass
 * state "A State", then ExecutionSucceeded, output "An output" — not JSON). The first test sends that
 * through the whole handler; the second injects a history of this workflow's own shape (built with
 * local/local-history.ts from engine events of the real ASL's states) for the content.
 *
 * There is no SQS client among the project's dependencies: the queue is created and read with SQS's
 * JSON protocol (AWS JSON 1.0, `X-Amz-Target: AmazonSQS.<Action>`; SQS API Reference) over fetch.
 */
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { notify, type NotifyReport } from '../../functions/notify/notify.js';
import { sfn as notifySfn, sns as notifySns } from '../../functions/shared/clients.js';
import { LocalHistory } from '../../local/local-history.js';
import { fixtureEvent } from '../support/event-ruler.js';
import { commandsSentDuring, resetMoto } from '../support/moto-clients.js';

const endpoint = inject('motoEndpoint');
const common = { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
const sfn = new SFNClient(common);
const sns = new SNSClient(common);
const MACHINE_NAME = 'bedrock-vpc-customization-test-customize-model';
const STATE_MACHINE_ARN = `arn:aws:states:us-east-1:123456789012:stateMachine:${MACHINE_NAME}`;
const TOPIC_NAME = 'bedrock-vpc-customization-test-notifications';
const PREFIX = '[bedrock-vpc-customization test] ';

/** One SQS action in the JSON protocol. */
async function sqs<T>(action: string, body: Record<string, unknown>): Promise<T> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': `AmazonSQS.${action}`,
      Authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=x',
    },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`SQS ${action}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The SNS notifications the queue holds (their envelopes, parsed). */
async function received(queueUrl: string): Promise<{ Type: string; TopicArn: string; Subject?: string; Message: string }[]> {
  const out = await sqs<{ Messages?: { Body: string }[] }>('ReceiveMessage', { QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 });
  return (out.Messages ?? []).map((m) => JSON.parse(m.Body));
}

let topicArn: string;
let queueUrl: string;
let handler: (event: unknown) => Promise<NotifyReport>;

beforeAll(async () => {
  process.env.NOTIFY_TOPIC_ARN = `arn:aws:sns:us-east-1:123456789012:${TOPIC_NAME}`;
  process.env.NOTIFY_STATE_MACHINE_ARN = STATE_MACHINE_ARN;
  process.env.NOTIFY_METRIC_NAMESPACE = 'bedrock-vpc-customization/test';
  process.env.NOTIFY_SUBJECT_PREFIX = PREFIX;
  const mod = await import('../../functions/notify/handler.js');
  handler = (event) => mod.handler(event, {} as Context);
});

beforeEach(async () => {
  await resetMoto();
  topicArn = (await sns.send(new CreateTopicCommand({ Name: TOPIC_NAME }))).TopicArn!;
  expect(topicArn).toBe(process.env.NOTIFY_TOPIC_ARN);
  queueUrl = (await sqs<{ QueueUrl: string }>('CreateQueue', { QueueName: 'notifications-inbox' })).QueueUrl;
  const { Attributes } = await sqs<{ Attributes: { QueueArn: string } }>('GetQueueAttributes', { QueueUrl: queueUrl, AttributeNames: ['QueueArn'] });
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: Attributes.QueueArn }));
  await sfn.send(
    new CreateStateMachineCommand({
      name: MACHINE_NAME,
      roleArn: 'arn:aws:iam::123456789012:role/bedrock-vpc-customization-test-sfn',
      definition: JSON.stringify({ StartAt: 'Wait', States: { Wait: { Type: 'Wait', Seconds: 3600, End: true } } }),
    }),
  );
});

describe('notify against moto', () => {
  it("reads the execution's history from moto and publishes one message to the topic, which reaches a subscribed queue", async () => {
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: STATE_MACHINE_ARN, name: 'notify-1', input: '{}' }));
    const event = fixtureEvent('step-functions-execution-status-change');
    Object.assign(event.detail, { executionArn, stateMachineArn: STATE_MACHINE_ARN, name: 'notify-1', status: 'SUCCEEDED', startDate: 1_764_403_200_000, stopDate: 1_764_403_205_000 });

    // The EMF line goes to stdout (as Lambda's log): captured here.
    const write = process.stdout.write;
    const lines: string[] = [];
    process.stdout.write = ((chunk: string) => lines.push(chunk)) as never;
    const { result, sent } = await commandsSentDuring(() => handler(event)).finally(() => {
      process.stdout.write = write;
    });
    expect(lines.map((l) => JSON.parse(l))).toMatchObject([{ RollbackFailed: 0, StateMachine: MACHINE_NAME, executionArn }]);

    expect(sent).toEqual(['GetExecutionHistoryCommand', 'PublishCommand']);
    expect(result).toMatchObject({ outcome: 'completed', endState: 'A State', messageId: expect.any(String) });
    // moto's sample: a success that is not this workflow's (no job data); the message says what is known.
    expect(await received(queueUrl)).toEqual([
      expect.objectContaining({
        Type: 'Notification',
        TopicArn: topicArn,
        Subject: `${PREFIX}Job notify-1 completed`,
        Message: [
          'Job notify-1 completed: custom model (ARN not recorded) (5 s)',
          '',
          'Custom model: (not recorded)',
          'Duration: 5 s',
          '',
          `Execution: ${executionArn}`,
          'Status: SUCCEEDED (A State)',
        ].join('\n'),
      }),
    ]);
  });

  it('a preflight failure of this workflow (history injected): the failing check and its remedy reach the queue', async () => {
    const executionArn = `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:notify-2`;
    // Engine events of the real ASL's states, turned into Step Functions history by LocalHistory.
    const message = 'Network preflight failed (1 failing check): [vpc.dns-support] vpc-0123456789abcdef0: DNS resolution is off. Fix: Turn on enableDnsSupport.';
    const cause = JSON.stringify({ errorType: 'NetworkValidationError', errorMessage: message });
    const t = 1_764_403_200_000;
    const history = new LocalHistory({ arn: executionArn, name: 'notify-2' });
    const state = (name: string, type: string) => ({ name, type, input: {} });
    for (const e of [
      { type: 'ExecutionStarted', timestamp: t, input: {} },
      { type: 'StateEntered', timestamp: t + 1, state: state('ValidateNetwork', 'Task') },
      { type: 'StateFailed', timestamp: t + 2, state: state('ValidateNetwork', 'Task'), Error: 'NetworkValidationError', Cause: cause },
      { type: 'StateCaught', timestamp: t + 3, state: state('ValidateNetwork', 'Task') },
      { type: 'StateExited', timestamp: t + 4, state: { ...state('ValidateNetwork', 'Task'), output: { error: { Error: 'NetworkValidationError', Cause: cause } } } },
      { type: 'StateEntered', timestamp: t + 5, state: state('PreflightFailed', 'Fail') },
      { type: 'StateFailed', timestamp: t + 6, state: state('PreflightFailed', 'Fail'), Error: 'NetworkValidationError', Cause: cause },
      { type: 'ExecutionFailed', timestamp: t + 7, Error: 'NetworkValidationError', Cause: cause },
    ]) history.push(e as never);
    expect(history.events.map((e) => e.type)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'LambdaFunctionFailed', 'TaskStateExited', 'FailStateEntered', 'ExecutionFailed']);

    const report = await notify(
      { executionArn, stateMachineArn: STATE_MACHINE_ARN, name: 'notify-2', status: 'FAILED', startDate: t, stopDate: t + 7 },
      { topicArn, stateMachineArn: STATE_MACHINE_ARN, metricNamespace: 'bedrock-vpc-customization/test', subjectPrefix: PREFIX },
      { sfn: notifySfn, sns: notifySns, history: async () => history.events, writeLine: () => undefined },
    );

    expect(report).toMatchObject({ outcome: 'failed', endState: 'PreflightFailed' });
    expect(await received(queueUrl)).toEqual([
      expect.objectContaining({
        Subject: `${PREFIX}Preflight failed: vpc.dns-support`,
        Message: [
          'Preflight failed: 1 check failed (vpc.dns-support)',
          '',
          'Failing checks:',
          '- [vpc.dns-support] vpc-0123456789abcdef0: DNS resolution is off.',
          '  Fix: Turn on enableDnsSupport.',
          '',
          `Execution: ${executionArn}`,
          'Status: FAILED (PreflightFailed)',
        ].join('\n'),
      }),
    ]);
  });
});

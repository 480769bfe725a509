/**
 * notify: the message per outcome (composed from an ExecutionView), the EMF line, the paginated
 * history read and the one Publish. SNS Publish constraints from @aws-sdk/client-sns PublishInput
 * (SNS API Reference, "Publish": Subject "less than 100 characters", no line breaks or control
 * characters); the EMF document from the CloudWatch User Guide, "Specification: Embedded metric
 * format"; the event from AWS's sample (test/fixtures/events/step-functions-execution-status-change.json).
 */
import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  composeNotification,
  MAX_SUBJECT_LENGTH,
  notify,
  oneLine,
  rollbackFailedMetric,
  type NotifyConfig,
} from '../../functions/notify/notify.js';
import type { ExecutionView } from '../../functions/shared/execution-view.js';
import { MAX_HISTORY_PAGE_SIZE } from '../../functions/shared/history.js';
import { fixtureEvent } from '../support/event-ruler.js';

const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);
/** The clients the mocks answer for (the history paginator requires an SFNClient). */
const clients = { sfn: new SFNClient({}), sns: new SNSClient({}) };
afterEach(() => {
  sfn.reset();
  sns.reset();
});

const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:bedrock-vpc-customization-dev-customize-model';
const ARN = 'arn:aws:states:us-east-1:123456789012:execution:bedrock-vpc-customization-dev-customize-model:run-1';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:bedrock-vpc-customization-dev-notifications';
const JOB_ARN = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.titan-text-express-v1:0:8k/abc123';
const MODEL_ARN = 'arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-express-v1:0:8k/model123';
const PREFIX = '[bedrock-vpc-customization dev] ';
const config: NotifyConfig = { topicArn: TOPIC, stateMachineArn: STATE_MACHINE, metricNamespace: 'bedrock-vpc-customization/dev', subjectPrefix: PREFIX };

function view(overrides: Partial<ExecutionView>): ExecutionView {
  return {
    execution: { arn: ARN, name: 'run-1', status: 'SUCCEEDED', startDate: '2026-11-29T08:00:00.000Z', stopDate: '2026-11-29T09:02:00.000Z', durationSeconds: 3720 },
    outcome: 'completed',
    headline: 'headline',
    states: [],
    ...overrides,
  };
}
const cleanup = { summary: 'Deleted 2 network interface(s) of the job.' };
const grants = { summary: 'revoked: role; kept for another job: none; kept: none' };
const tail = (status: string, endState: string) => ['', `Execution: ${ARN}`, `Status: ${status} (${endState})`];

describe('composeNotification', () => {
  it('success: the custom model ARN, the duration, the loss, cleanup and grants', () => {
    const v = view({
      endState: 'JobSucceeded',
      headline: `Job support-ft completed: custom model ${MODEL_ARN} (1 h 2 min)`,
      job: { name: 'support-ft', arn: JOB_ARN, outputModelArn: MODEL_ARN, trainingMetrics: { trainingLoss: 0.125 } },
      cleanup,
      grants,
    });
    expect(composeNotification(v, PREFIX)).toEqual({
      subject: `${PREFIX}Job support-ft completed`,
      message: [
        v.headline,
        '',
        `Custom model: ${MODEL_ARN}`,
        'Duration: 1 h 2 min',
        'Training loss: 0.125',
        `ENI cleanup: ${cleanup.summary}`,
        `Grants: ${grants.summary}`,
        ...tail('SUCCEEDED', 'JobSucceeded'),
      ].join('\n'),
    });
  });

  it('preflight failure: each failing check with its remedy; the subject names the checks', () => {
    const v = view({
      execution: { arn: ARN, name: 'run-1', status: 'FAILED', durationSeconds: 4 },
      outcome: 'failed',
      endState: 'PreflightFailed',
      headline: 'Preflight failed: 2 checks failed (subnet.free-ips, vpc.dns-support)',
      preflight: {
        passed: 0, warn: 0, fail: 2, problems: [
          { id: 'subnet.free-ips', severity: 'fail', resource: 'subnet-0a', message: 'Only 2 free IP addresses.', remedy: 'Use a subnet with at least 4 free addresses.' },
          { id: 'vpc.dns-support', severity: 'fail', resource: 'vpc-0123', message: 'DNS resolution is off.' },
        ],
      },
      error: { error: 'NetworkValidationError', cause: 'Network preflight failed (2 failing checks): …', remedy: '[subnet.free-ips] Use a subnet with at least 4 free addresses.' },
    });
    expect(composeNotification(v, PREFIX)).toEqual({
      subject: `${PREFIX}Preflight failed: subnet.free-ips, vpc.dns-support`,
      message: [
        v.headline,
        '',
        'Failing checks:',
        '- [subnet.free-ips] subnet-0a: Only 2 free IP addresses.',
        '  Fix: Use a subnet with at least 4 free addresses.',
        '- [vpc.dns-support] vpc-0123: DNS resolution is off.',
        ...tail('FAILED', 'PreflightFailed'),
      ].join('\n'),
    });
  });

  it("job failure: Bedrock's failure message, the error's remedy, the cleanup", () => {
    const v = view({
      execution: { arn: ARN, name: 'run-1', status: 'FAILED' },
      outcome: 'failed',
      endState: 'JobFailed',
      headline: 'Job support-ft failed: Training data is malformed',
      job: { name: 'support-ft', arn: JOB_ARN, status: 'Failed', failureMessage: 'Training data is malformed' },
      error: { error: 'JobFailedError', cause: 'Job support-ft failed: Training data is malformed', remedy: 'Read the failure message.' },
      cleanup,
      grants: { error: 'PolicyLockBusyError: busy' },
    });
    expect(composeNotification(v, PREFIX)).toEqual({
      subject: `${PREFIX}Job support-ft failed`,
      message: [
        v.headline,
        '',
        'Bedrock: Training data is malformed',
        'Error: JobFailedError',
        'Cause: Job support-ft failed: Training data is malformed',
        'What to do: Read the failure message.',
        `ENI cleanup: ${cleanup.summary}`,
        'Grants: PolicyLockBusyError: busy',
        ...tail('FAILED', 'JobFailed'),
      ].join('\n'),
    });
  });

  it('deadline: the subject says stopped at its deadline', () => {
    const v = view({
      execution: { arn: ARN, name: 'run-1', status: 'FAILED' },
      outcome: 'failed',
      endState: 'JobDeadlineExceeded',
      headline: 'Job support-ft was stopped at its deadline (2026-11-30T08:00:05Z)',
      job: { name: 'support-ft', deadline: '2026-11-30T08:00:05Z' },
      error: { error: 'JobDeadlineExceededError', cause: 'stopped', remedy: 'Raise maxJobDurationSeconds.' },
    });
    const n = composeNotification(v, PREFIX)!;
    expect(n.subject).toBe(`${PREFIX}Job support-ft stopped at its deadline`);
    expect(n.message.split('\n').slice(0, 5)).toEqual([v.headline, '', 'Error: JobDeadlineExceededError', 'Cause: stopped', 'What to do: Raise maxJobDurationSeconds.']);
  });

  it('rollback failed: ACTION NEEDED in the subject, the rollback error and what to restore', () => {
    const v = view({
      execution: { arn: ARN, name: 'run-1', status: 'FAILED' },
      outcome: 'failed',
      endState: 'RollbackFailed',
      headline: 'Policy rollback failed, needs a person: Rollback incomplete',
      job: { name: 'support-ft' },
      error: { error: 'PolicyRollbackError', cause: 'Rollback incomplete', remedy: 'A person must restore the resources.' },
    });
    const n = composeNotification(v, PREFIX)!;
    expect(n.subject).toBe(`${PREFIX}ACTION NEEDED: policy rollback failed for support-ft`);
    expect(n.message).toContain('What to do: A person must restore the resources.');
  });

  it('hand-over and running: nothing is sent', () => {
    expect(composeNotification(view({ outcome: 'handed-over', endState: 'HandedOver' }), PREFIX)).toBeUndefined();
    expect(composeNotification(view({ outcome: 'running' }), PREFIX)).toBeUndefined();
  });

  it('dry run: a short "plan ready" with the planned changes and the preflight warnings', () => {
    const v = view({
      outcome: 'dry-run',
      endState: 'DryRunPlan',
      headline: 'Dry run run-1: plan ready, 1 policy change, preflight passed with 1 warning',
      policies: { applied: false, changes: [{ action: 'create', resource: 'role/R/P', added: 3, removed: 0 }, { action: 'none', resource: 'bucket/b', added: 0, removed: 0 }] },
      preflight: { passed: 17, warn: 1, fail: 0, problems: [{ id: 'subnet.az-count', severity: 'warn', resource: 'vpc-0123', message: 'Only one Availability Zone.' }] },
    });
    expect(composeNotification(v, PREFIX)).toEqual({
      subject: `${PREFIX}Dry run run-1: plan ready`,
      message: [
        v.headline,
        '',
        'Planned policy changes (nothing was written):',
        '- create role/R/P (+3 -0 statements)',
        'Warning [subnet.az-count] vpc-0123: Only one Availability Zone.',
        ...tail('SUCCEEDED', 'DryRunPlan'),
      ].join('\n'),
    });
  });

  it('timed out and aborted: where it stopped; a job left running is for the reaper', () => {
    const t = composeNotification(view({ execution: { arn: ARN, name: 'run-1', status: 'TIMED_OUT' }, outcome: 'timed-out', endState: 'WaitForJob', job: { arn: JOB_ARN }, error: { error: 'States.Timeout', cause: 'too long' } }))!;
    expect(t.subject).toBe('Execution run-1 timed out');
    expect(t.message).toContain(`Job ${JOB_ARN} may still run: the reaper stops it.`);
    const a = composeNotification(view({ execution: { arn: ARN, name: 'run-1', status: 'ABORTED' }, outcome: 'aborted', endState: 'PollStatus' }))!;
    expect(a.subject).toBe('Execution run-1 aborted');
    expect(a.message.split('\n')[2]).toBe('Aborted in state PollStatus.');
  });

  it('keeps every subject under 100 characters and on one line, however long the names', () => {
    const long = 'x'.repeat(63);
    const cases: Partial<ExecutionView>[] = [
      { outcome: 'completed', job: { name: long } },
      { outcome: 'failed', endState: 'PreflightFailed', error: { error: 'NetworkValidationError', cause: '' }, preflight: { passed: 0, warn: 0, fail: 9, problems: Array(9).fill({ id: 'security-group.self-egress', severity: 'fail', resource: 'sg', message: 'm' }) } },
      { outcome: 'failed', endState: 'RollbackFailed', job: { name: long } },
      { outcome: 'failed', endState: 'X', execution: { arn: ARN, name: 'n'.repeat(80), status: 'FAILED' }, error: { error: `Some.${'Very'.repeat(20)}LongError\nwith a line break`, cause: '' } },
      { outcome: 'dry-run', execution: { arn: ARN, name: 'n'.repeat(80), status: 'SUCCEEDED' } },
    ];
    for (const c of cases) {
      const { subject } = composeNotification(view(c), PREFIX)!;
      expect(subject.length, subject).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
      expect(subject.length).toBeLessThan(100);
      expect(subject).not.toMatch(/[\u0000-\u001f\u007f]/);
      expect(subject.startsWith(PREFIX)).toBe(true);
    }
    expect(oneLine('a\nb\tc', 99)).toBe('a b c');
    expect(oneLine('y'.repeat(120), 99)).toBe(`${'y'.repeat(96)}...`);
  });
});

describe('rollbackFailedMetric (EMF)', () => {
  it('is 1 for RollbackFailed and 0 otherwise, in the namespace, with the StateMachine dimension', () => {
    const line = JSON.parse(rollbackFailedMetric(view({ outcome: 'failed', endState: 'RollbackFailed' }), 'ns/dev', 'sm', 1_700_000_000_000));
    expect(line).toEqual({
      _aws: { Timestamp: 1_700_000_000_000, CloudWatchMetrics: [{ Namespace: 'ns/dev', Dimensions: [['StateMachine']], Metrics: [{ Name: 'RollbackFailed', Unit: 'Count' }] }] },
      StateMachine: 'sm',
      RollbackFailed: 1,
      executionArn: ARN,
    });
    expect(JSON.parse(rollbackFailedMetric(view({ endState: 'JobSucceeded' }), 'ns/dev', 'sm')).RollbackFailed).toBe(0);
  });
});

/** A small history as GetExecutionHistory returns it (Step Functions API Reference, "HistoryEvent"). */
function rollbackFailedHistory(): HistoryEvent[] {
  const t = (s: number) => new Date(Date.parse('2026-11-29T08:00:00Z') + s * 1000);
  const rollbackError = { Error: 'PolicyRollbackError', Cause: JSON.stringify({ errorType: 'PolicyRollbackError', errorMessage: 'Rollback incomplete, restore by hand: role' }) };
  const state = { job: { jobName: 'support-ft' }, rollbackError };
  return [
    { id: 1, timestamp: t(0), type: 'ExecutionStarted', executionStartedEventDetails: { input: '{}' } },
    { id: 2, timestamp: t(1), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'RollbackPolicies', input: '{}' } },
    { id: 3, timestamp: t(2), type: 'LambdaFunctionFailed', lambdaFunctionFailedEventDetails: { error: rollbackError.Error, cause: rollbackError.Cause } },
    { id: 4, timestamp: t(3), type: 'TaskStateExited', stateExitedEventDetails: { name: 'RollbackPolicies', output: JSON.stringify(state) } },
    { id: 5, timestamp: t(4), type: 'FailStateEntered', stateEnteredEventDetails: { name: 'RollbackFailed', input: JSON.stringify(state) } },
    { id: 6, timestamp: t(5), type: 'ExecutionFailed', executionFailedEventDetails: { error: rollbackError.Error, cause: rollbackError.Cause } },
  ];
}

describe('notify', () => {
  const input = { executionArn: ARN, stateMachineArn: STATE_MACHINE, name: 'run-1', status: 'FAILED', startDate: 1_764_403_200_000, stopDate: 1_764_403_205_000 };

  it('reads every page of the history, publishes one message, writes the EMF line', async () => {
    const events = rollbackFailedHistory();
    sfn.on(GetExecutionHistoryCommand)
      .resolvesOnce({ events: events.slice(0, 3), nextToken: 'page-2' })
      .resolvesOnce({ events: events.slice(3) });
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const lines: string[] = [];

    const report = await notify(input, config, { ...clients, writeLine: (l) => lines.push(l) });

    expect(sfn).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 2);
    expect(sfn).toHaveReceivedNthCommandWith(GetExecutionHistoryCommand, 1, { executionArn: ARN, maxResults: MAX_HISTORY_PAGE_SIZE, reverseOrder: false, includeExecutionData: true });
    expect(sfn).toHaveReceivedNthCommandWith(GetExecutionHistoryCommand, 2, { executionArn: ARN, nextToken: 'page-2' });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    const published = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(published).toMatchObject({ TopicArn: TOPIC, Subject: `${PREFIX}ACTION NEEDED: policy rollback failed for support-ft` });
    expect(published.Message).toContain('What to do: A person must restore');
    expect(published.Message).toContain('Status: FAILED (RollbackFailed)');
    expect(report).toEqual({ executionArn: ARN, outcome: 'failed', endState: 'RollbackFailed', subject: published.Subject, messageId: 'm-1' });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ RollbackFailed: 1, StateMachine: 'bedrock-vpc-customization-dev-customize-model' });
  });

  it('a hand-over publishes nothing (still writes RollbackFailed 0)', async () => {
    const state = { job: { jobName: 'j' }, poll: { status: 'InProgress', next: 'handover' }, handedOverTo: { ExecutionArn: `${ARN}-h1` } };
    const history: HistoryEvent[] = [
      { id: 1, timestamp: new Date(), type: 'ExecutionStarted', executionStartedEventDetails: { input: '{}' } },
      { id: 2, timestamp: new Date(), type: 'SucceedStateEntered', stateEnteredEventDetails: { name: 'HandedOver', input: JSON.stringify(state) } },
      { id: 3, timestamp: new Date(), type: 'SucceedStateExited', stateExitedEventDetails: { name: 'HandedOver', output: JSON.stringify(state) } },
      { id: 4, timestamp: new Date(), type: 'ExecutionSucceeded', executionSucceededEventDetails: { output: JSON.stringify(state) } },
    ];
    const lines: string[] = [];
    const report = await notify({ ...input, status: 'SUCCEEDED' }, config, { ...clients, history: async () => history, writeLine: (l) => lines.push(l) });
    expect(report).toEqual({ executionArn: ARN, outcome: 'handed-over', endState: 'HandedOver', skipped: 'handed over: the successor notifies' });
    expect(sns).not.toHaveReceivedAnyCommand();
    expect(sfn).not.toHaveReceivedAnyCommand(); // the injected history source
    expect(JSON.parse(lines[0]!).RollbackFailed).toBe(0);
  });

  it('ignores another state machine without any call', async () => {
    const report = await notify({ ...input, stateMachineArn: `${STATE_MACHINE}-other` }, config, { ...clients });
    expect(report.skipped).toMatch(/^not an execution of/);
    expect(sfn).not.toHaveReceivedAnyCommand();
    expect(sns).not.toHaveReceivedAnyCommand();
  });

  it('passes a failed Publish on (Lambda retries the asynchronous event, then the dead-letter queue)', async () => {
    sfn.on(GetExecutionHistoryCommand).resolves({ events: rollbackFailedHistory() });
    sns.on(PublishCommand).rejects(Object.assign(new Error('KMS key is disabled'), { name: 'KMSDisabledException' }));
    await expect(notify(input, config, { ...clients, writeLine: () => undefined })).rejects.toMatchObject({ name: 'KMSDisabledException' });
  });
});

describe('notify handler', () => {
  it("reads AWS's sample event; ignores another state machine; rejects an event without the execution", async () => {
    process.env.NOTIFY_TOPIC_ARN = TOPIC;
    process.env.NOTIFY_STATE_MACHINE_ARN = STATE_MACHINE;
    process.env.NOTIFY_METRIC_NAMESPACE = 'bedrock-vpc-customization/dev';
    process.env.NOTIFY_SUBJECT_PREFIX = PREFIX;
    const { handler } = await import('../../functions/notify/handler.js');
    const context = {} as Parameters<typeof handler>[1];
    const sample = fixtureEvent('step-functions-execution-status-change');
    expect(await handler(sample, context)).toMatchObject({ skipped: expect.stringMatching(/^not an execution of/) });

    sfn.on(GetExecutionHistoryCommand).resolves({ events: rollbackFailedHistory() });
    sns.on(PublishCommand).resolves({ MessageId: 'm-2' });
    const ours = fixtureEvent('step-functions-execution-status-change');
    Object.assign(ours.detail, { executionArn: ARN, stateMachineArn: STATE_MACHINE, name: 'run-1' });
    const write = process.stdout.write;
    const lines: string[] = [];
    process.stdout.write = ((chunk: string) => lines.push(chunk)) as never;
    try {
      expect(await handler(ours, context)).toMatchObject({ outcome: 'failed', endState: 'RollbackFailed', messageId: 'm-2' });
    } finally {
      process.stdout.write = write;
    }
    expect(lines.map((l) => JSON.parse(l).RollbackFailed)).toEqual([1]);
    // The sample's startDate/stopDate (epoch ms) are the execution's.
    const message = sns.commandCalls(PublishCommand)[0]!.args[0].input.Message!;
    expect(message).toContain('Status: FAILED (RollbackFailed)');

    await expect(handler({ source: 'aws.states', detail: {} }, context)).rejects.toMatchObject({ name: 'InvalidInputError' });
  });
});

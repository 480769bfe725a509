/**
 * notify on real runs of the ASL file (real handlers, mocked clients): each run's history as Step
 * Functions would record it (local/local-history.ts historyOf), then notify with that history and
 * the event's start/stop times (epoch ms, as `detail.startDate`/`detail.stopDate` of AWS's sample event),
 * publishing to a mocked SNS. The exact messages a person gets.
 */
import { GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { DescribeSubnetsCommand } from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { notify, type NotifyConfig } from '../../functions/notify/notify.js';
import { localStateMachineArn } from '../../local/workflow.js';
import { rawJob } from '../fixtures/job.js';
import { ACCOUNT, mockHealthyAccount, mocks } from '../support/mock-account.js';
import { recordedRun, useRealHandlers } from '../support/state-machine.js';

useRealHandlers();
const sns = mockClient(SNSClient);
afterEach(() => sns.reset());

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:bedrock-vpc-customization-local-notifications';
const PREFIX = '[bedrock-vpc-customization local] ';
const config: NotifyConfig = { topicArn: TOPIC, stateMachineArn: localStateMachineArn(), metricNamespace: 'bedrock-vpc-customization/local', subjectPrefix: PREFIX };
const MODEL_ARN = 'arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-express-v1:0:8k/abcdefghij12';
const START = Date.parse('2026-11-29T08:00:00Z');

async function runAndNotify(name: string, input: unknown, stopAfterSeconds: number) {
  const { run, arn: executionArn, history } = await recordedRun(input, name);
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  const lines: string[] = [];
  const report = await notify(
    { executionArn, stateMachineArn: localStateMachineArn(), name, status: run.status, startDate: START, stopDate: START + stopAfterSeconds * 1000 },
    config,
    { sfn: mocks.sfn as never, sns: sns as never, history: async () => history, writeLine: (l) => lines.push(l) },
  );
  const published = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
  return { run, report, published, lines, executionArn };
}

describe('notify on local runs of the state machine', () => {
  it('a completed job: one message with the custom model ARN and the duration, the cleanup and grants', async () => {
    mockHealthyAccount(['InProgress', 'Completed']);
    mocks.bedrock.on(GetModelCustomizationJobCommand).resolvesOnce({ jobArn: ACCOUNT.jobArn, status: 'InProgress' }).resolves({
      jobArn: ACCOUNT.jobArn,
      status: 'Completed',
      outputModelArn: MODEL_ARN,
      trainingMetrics: { trainingLoss: 0.25 },
    });
    const { run, report, published, lines, executionArn } = await runAndNotify('notify-success', rawJob(), 3720);
    expect(run.status).toBe('SUCCEEDED');
    const jobName = (run.output as { job: { jobName: string } }).job.jobName;

    expect(published).toEqual([
      {
        TopicArn: TOPIC,
        Subject: `${PREFIX}Job ${jobName} completed`,
        Message: [
          `Job ${jobName} completed: custom model ${MODEL_ARN} (1 h 2 min)`,
          '',
          `Custom model: ${MODEL_ARN}`,
          'Duration: 1 h 2 min',
          'Training loss: 0.25',
          'ENI cleanup: Deleted 2 network interface(s) of the job.',
          `Grants: ${(run.output as { revoke: { summary: string } }).revoke.summary}`,
          '',
          `Execution: ${executionArn}`,
          'Status: SUCCEEDED (JobSucceeded)',
        ].join('\n'),
      },
    ]);
    expect((run.output as { revoke: { summary: string } }).revoke.summary).toMatch(/^revoked: /);
    expect(report).toMatchObject({ outcome: 'completed', endState: 'JobSucceeded', messageId: 'm-1' });
    expect(JSON.parse(lines[0]!).RollbackFailed).toBe(0);
  });

  it('a preflight failure: one message naming each failing check and its remedy', async () => {
    mockHealthyAccount();
    mocks.ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [] });
    const { run, report, published, executionArn } = await runAndNotify('notify-preflight', rawJob(), 5);
    expect(run).toMatchObject({ status: 'FAILED', error: 'NetworkValidationError' });

    // Both subnets of the input are missing: subnet.exists fails for each (validate-network's checks).
    const fix = 'subnet not found in us-east-1 (a wrong id, or one of another region or account)';
    expect(published).toEqual([
      {
        TopicArn: TOPIC,
        Subject: `${PREFIX}Preflight failed: subnet.exists`,
        Message: [
          'Preflight failed: 2 checks failed (subnet.exists)',
          '',
          'Failing checks:',
          `- [subnet.exists] subnet-0123456789abcdef0: ${fix}`,
          '  Fix: Check the subnet id; the workflow runs in us-east-1.',
          `- [subnet.exists] subnet-0123456789abcdef1: ${fix}`,
          '  Fix: Check the subnet id; the workflow runs in us-east-1.',
          '',
          `Execution: ${executionArn}`,
          'Status: FAILED (PreflightFailed)',
        ].join('\n'),
      },
    ]);
    // A concrete line a person reads: the missing subnet and what to do about it.
    expect(published[0]!.Message).toMatch(/- \[subnet\.exists\] subnet-0123456789abcdef0: .+\n {2}Fix: .+/);
    expect(report).toMatchObject({ outcome: 'failed', endState: 'PreflightFailed' });
  });
});

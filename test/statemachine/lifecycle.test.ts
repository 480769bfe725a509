/**
 * Job-lifecycle paths of the ASL file (real handlers, mocked clients): quota waits, ENIs still
 * attached after the job, and the hand-over of a long job to fresh executions (continue-as-new).
 */
import {
  CreateModelCustomizationJobCommand,
  ServiceQuotaExceededException,
} from '@aws-sdk/client-bedrock';
import { DeleteNetworkInterfaceCommand, DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG } from '../../functions/shared/bedrock-enis.js';
import { loadLambdaHandlers, runWorkflowChain, runWorkflow, stopJobIntegration, type TaskHandler } from '../../scripts/lib/workflow.js';
import { rawJob } from '../fixtures/job.js';
import { ACCOUNT, mockHealthyAccount, mocks, resetMocks } from '../support/mock-account.js';

let lambdas: Record<string, TaskHandler>;
beforeAll(async () => {
  lambdas = await loadLambdaHandlers();
});
afterEach(() => resetMocks());
const handlers = () => ({ ...lambdas, StopJob: stopJobIntegration() });
const fast = { waitMs: 0, retryMs: 0 };

describe('job lifecycle in the state machine', () => {
  it('hands a long job over to fresh executions and cleans up exactly once, at the end of the chain', async () => {
    mockHealthyAccount(['InProgress', 'InProgress', 'InProgress', 'InProgress', 'InProgress', 'Completed']);
    const runs = await runWorkflowChain({
      input: rawJob({ polling: { initialSeconds: 1, maxSeconds: 1, growthFactor: 1, handoverAfterEvents: 100 } }),
      handlers: handlers(),
      executionName: 'long-job',
      ...fast,
    });

    expect(runs.map((r) => r.name)).toEqual(['long-job', 'long-job-h1', 'long-job-h2']);
    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(runs[0]!.states.at(-1)).toBe('HandedOver');
    expect(runs[1]!.states.slice(0, 3)).toEqual(['IsHandover', 'ResumeJob', 'PollStatus']);
    expect(runs[2]!.states.at(-1)).toBe('JobSucceeded');
    const cleanups = runs.flatMap((r) => r.states).filter((s) => s === 'CleanupEnis');
    expect(cleanups).toHaveLength(1);
    expect(mocks.bedrock).toHaveReceivedCommandTimes(CreateModelCustomizationJobCommand, 1);

    const last = runs[2]!.output as any;
    expect(last.submission.jobArn).toBe(ACCOUNT.jobArn);
    expect(last.poll).toMatchObject({ status: 'Completed', pollCount: 6, pollsThisExecution: 2 });
    expect(last.handover.generation).toBe(2);
    expect(last.job.jobName).toBe((runs[0]!.output as any).job.jobName);
    // the deadline travels intact
    expect(last.submission.deadline).toBe((runs[0]!.output as any).submission.deadline);
  });

  it('waits out the concurrent-job quota (JobQuotaExceededError retried) and submits once', async () => {
    mockHealthyAccount(['Completed']);
    mocks.bedrock
      .on(CreateModelCustomizationJobCommand)
      .rejectsOnce(new ServiceQuotaExceededException({ message: 'Too many jobs', $metadata: {} }))
      .rejectsOnce(new ServiceQuotaExceededException({ message: 'Too many jobs', $metadata: {} }))
      .resolves({ jobArn: ACCOUNT.jobArn });
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run.status).toBe('SUCCEEDED');
    const retries = run.events.filter((e) => e.type === 'StateRetried') as any[];
    expect(retries.map((e) => e.state.name)).toEqual(['SubmitJob', 'SubmitJob']);
    expect(retries.every((e) => e.retry.retrier.ErrorEquals.includes('JobQuotaExceededError'))).toBe(true);
  });

  it('gives up on the quota after maxQuotaWaitSeconds with JobSubmissionError; nothing to clean up', async () => {
    mockHealthyAccount(['Completed']);
    mocks.bedrock.on(CreateModelCustomizationJobCommand).rejects(new ServiceQuotaExceededException({ message: 'Too many jobs', $metadata: {} }));
    const run = await runWorkflow({ input: rawJob({ maxQuotaWaitSeconds: 0 }), handlers: handlers(), ...fast });
    expect(run).toMatchObject({ status: 'FAILED', error: 'JobSubmissionError' });
    expect(run.states.at(-1)).toBe('SubmitFailed');
    expect(run.states).not.toContain('CleanupEnis');
  });

  it('retries cleanup while an ENI is still attached, then deletes it; CleanupEnis is entered once', async () => {
    mockHealthyAccount(['Completed']);
    const eni = (status: 'in-use' | 'available') => ({
      NetworkInterfaceId: 'eni-0000000000000000a',
      Status: status,
      TagSet: [
        { Key: BEDROCK_MANAGED_TAG, Value: 'true' },
        { Key: BEDROCK_JOB_ARN_TAG, Value: ACCOUNT.jobArn },
      ],
    });
    mocks.ec2
      .on(DescribeNetworkInterfacesCommand)
      .resolvesOnce({ NetworkInterfaces: [eni('in-use')] })
      .resolves({ NetworkInterfaces: [eni('available')] });
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states.filter((s) => s === 'CleanupEnis')).toHaveLength(1);
    expect(run.events.filter((e) => e.type === 'StateRetried')).toHaveLength(1);
    expect((run.output as any).cleanup.deleted).toEqual(['eni-0000000000000000a']);
    expect(mocks.ec2).toHaveReceivedCommandTimes(DeleteNetworkInterfaceCommand, 1);
  });

  it('reports ENIs that stay attached, without failing the job outcome or forcing them', async () => {
    mockHealthyAccount(['Completed']);
    mocks.ec2.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [
        {
          NetworkInterfaceId: 'eni-0000000000000000a',
          Status: 'in-use',
          TagSet: [
            { Key: BEDROCK_MANAGED_TAG, Value: 'true' },
            { Key: BEDROCK_JOB_ARN_TAG, Value: ACCOUNT.jobArn },
          ],
        },
      ],
    });
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run.status).toBe('SUCCEEDED');
    const output = run.output as any;
    expect(output.cleanupError.Error).toBe('EnisStillInUseError');
    expect(output.cleanupError.Cause).toContain('eni-0000000000000000a (in-use)');
    expect(mocks.ec2).not.toHaveReceivedCommand(DeleteNetworkInterfaceCommand);
  });
});

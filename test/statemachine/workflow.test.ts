/**
 * The ASL file as deployed, run by aws-local-stepfunctions, every Task bound to the real handler;
 * the handlers' SDK clients are mocked (aws-sdk-client-mock) to drive each path.
 */
import {
  CreateModelCustomizationJobCommand,
  GetModelCustomizationJobCommand,
  StopModelCustomizationJobCommand,
} from '@aws-sdk/client-bedrock';
import { DeleteNetworkInterfaceCommand, DescribeSubnetsCommand } from '@aws-sdk/client-ec2';
import { AccessDeniedException } from '@aws-sdk/client-bedrock';
import { PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { runWorkflow, type TaskHandler } from '../../local/workflow.js';
import { rawJob } from '../fixtures/job.js';
import { ACCOUNT, mockHealthyAccount, mocks } from '../support/mock-account.js';
import { count, fast, handlers, lambdas, useRealHandlers } from '../support/state-machine.js';

useRealHandlers();


describe('customize-model state machine', () => {
  it('binds every Lambda Task to a function of serverless.yml', () => {
    expect(Object.keys(lambdas).sort()).toEqual(
      [
        'ApplyPolicies', 'CleanupEnis', 'ConfirmStopped', 'PlanPolicies', 'PlanQuotaWait', 'PollStatus', 'ReconcileSubmission', 'ResumeJob',
        'RevokeAfterSubmitFailed', 'RevokeGrants', 'RollbackPolicies', 'StopJob', 'StopUnwatchedJob', 'SubmitJob', 'ValidateDataset', 'ValidateNetwork',
        // The evaluation gate (evaluate-model).
        'PlanEvaluation', 'DeployModel', 'DeploymentStatus', 'GenerateResponses', 'StartEvaluations', 'EvaluationStatus', 'Verdict', 'EvaluationCleanup',
      ].sort(),
    );
  });

  it('success: validate, apply, submit, poll until Completed, clean up once, succeed', async () => {
    mockHealthyAccount(['InProgress', 'InProgress', 'Completed']);
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).toEqual([
      'IsHandover', 'ResolveInput', 'ValidateNetwork', 'ValidateDataset', 'PlanPolicies', 'IsDryRun', 'ApplyPolicies', 'SubmitJob',
      'PollStatus', 'JobStatus', 'WaitForJob', 'PollStatus', 'JobStatus', 'WaitForJob', 'PollStatus', 'JobStatus',
      'CleanupEnis', 'GateOrRevoke', 'RevokeGrants', 'Outcome', 'JobSucceeded',
    ]);
    const output = run.output as Record<string, any>;
    expect(output.submission.jobArn).toBe(ACCOUNT.jobArn);
    expect(output.poll).toMatchObject({ status: 'Completed', pollCount: 3 });
    expect(output.cleanup.deleted).toEqual(ACCOUNT.jobEnis);
    expect(mocks.bedrock).toHaveReceivedCommandTimes(CreateModelCustomizationJobCommand, 1);
    expect(mocks.ec2).toHaveReceivedCommandTimes(DeleteNetworkInterfaceCommand, 2);
  });

  it('bad input: fails in the preflight state with the field named, before any AWS call', async () => {
    mockHealthyAccount();
    const run = await runWorkflow({ input: rawJob({ vpcConfig: { subnetIds: ['subnet-x'], securityGroupIds: [] } }), handlers: handlers(), ...fast });
    expect(run).toMatchObject({ status: 'FAILED', error: 'InvalidInputError' });
    expect(run.cause).toContain('vpcConfig.subnetIds[0]');
    expect(run.states.at(-1)).toBe('PreflightFailed');
    for (const m of Object.values(mocks)) expect(m.calls()).toHaveLength(0);
  });

  it('network failure: stops at PreflightFailed with NetworkValidationError; no policy write, no job', async () => {
    mockHealthyAccount();
    mocks.ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [] });
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run).toMatchObject({ status: 'FAILED', error: 'NetworkValidationError' });
    expect(run.cause).toContain('subnet-0123456789abcdef0');
    expect(mocks.iam).not.toHaveReceivedCommand(PutRolePolicyCommand);
    expect(mocks.bedrock.calls()).toHaveLength(0);
  });

  it('job failure: cleans up once and fails with JobFailedError carrying the failure message', async () => {
    mockHealthyAccount(['InProgress', 'Failed']);
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run).toMatchObject({ status: 'FAILED', error: 'JobFailedError' });
    expect(run.cause).toContain('Training data is malformed');
    expect(count(run.states, 'CleanupEnis')).toBe(1);
    expect(run.states.at(-1)).toBe('JobFailed');
  });

  it('stopped outside the workflow: cleans up once and fails with JobStoppedError', async () => {
    mockHealthyAccount(['Stopped']);
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run).toMatchObject({ status: 'FAILED', error: 'JobStoppedError' });
    expect(count(run.states, 'CleanupEnis')).toBe(1);
  });

  it('deadline: stops the job, waits for Stopped, cleans up once, fails with JobDeadlineExceededError', async () => {
    mockHealthyAccount(['InProgress']);
    let stopped = false;
    mocks.bedrock.on(StopModelCustomizationJobCommand).callsFake(() => {
      stopped = true;
      return {};
    });
    mocks.bedrock.on(GetModelCustomizationJobCommand).callsFake(() => ({ jobArn: ACCOUNT.jobArn, status: stopped ? 'Stopped' : 'InProgress' }));
    const run = await runWorkflow({ input: rawJob({ maxJobDurationSeconds: 1 }), handlers: handlers(), waitMs: 200, retryMs: 0 });
    expect(run).toMatchObject({ status: 'FAILED', error: 'JobDeadlineExceededError' });
    expect(count(run.states, 'StopJob')).toBe(1);
    expect(count(run.states, 'CleanupEnis')).toBe(1);
    expect(mocks.bedrock).toHaveReceivedCommandWith(StopModelCustomizationJobCommand, { jobIdentifier: ACCOUNT.jobArn });
  });

  it('error after submission: the job is stopped; with its status unreadable, no cleanup and JobUnwatchedError', async () => {
    mockHealthyAccount();
    mocks.bedrock
      .on(GetModelCustomizationJobCommand)
      .rejects(new AccessDeniedException({ message: 'not authorized to GetModelCustomizationJob', $metadata: {} }));
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run).toMatchObject({ status: 'FAILED', error: 'JobUnwatchedError' });
    expect(run.cause).toContain('AccessDeniedException');
    expect(mocks.bedrock).toHaveReceivedCommandWith(StopModelCustomizationJobCommand, { jobIdentifier: ACCOUNT.jobArn });
    expect(count(run.states, 'CleanupEnis')).toBe(0);
    expect(run.states.at(-1)).toBe('JobUnwatched');
    expect(mocks.ec2).not.toHaveReceivedCommand(DeleteNetworkInterfaceCommand);
  });

  it('a stop request that fails past the deadline ends in JobStopError, without cleanup (the job may run on)', async () => {
    mockHealthyAccount(['InProgress']);
    mocks.bedrock
      .on(StopModelCustomizationJobCommand)
      .rejects(new AccessDeniedException({ message: 'not authorized to StopModelCustomizationJob', $metadata: {} }));
    const run = await runWorkflow({ input: rawJob({ maxJobDurationSeconds: 1 }), handlers: handlers(), waitMs: 200, retryMs: 0 });
    expect(run).toMatchObject({ status: 'FAILED', error: 'JobStopError' });
    expect(run.cause).toContain('not authorized to StopModelCustomizationJob');
    expect(run.cause).toContain('ENI cleanup was skipped');
    expect(run.states.at(-1)).toBe('JobNotStopped');
    expect(count(run.states, 'CleanupEnis')).toBe(0);
    expect(mocks.ec2).not.toHaveReceivedCommand(DeleteNetworkInterfaceCommand);
  });

  it('retries a transient Lambda error with backoff and carries on', async () => {
    mockHealthyAccount(['Completed']);
    let failures = 0;
    const flaky: TaskHandler = async (input) => {
      if (failures++ === 0) {
        const e = new Error('Rate exceeded');
        e.name = 'Lambda.TooManyRequestsException';
        throw e;
      }
      return lambdas.SubmitJob!(input);
    };
    const run = await runWorkflow({ input: rawJob(), handlers: { ...handlers(), SubmitJob: flaky }, ...fast });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.events.filter((e) => e.type === 'StateRetried')).toHaveLength(1);
    expect(mocks.bedrock).toHaveReceivedCommandTimes(CreateModelCustomizationJobCommand, 1);
  });

  it('dry run: ends with the plan after the preflight; no write, no job', async () => {
    mockHealthyAccount();
    const run = await runWorkflow({ input: rawJob({ dryRun: true }), handlers: handlers(), ...fast });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states.at(-1)).toBe('DryRunPlan');
    expect((run.output as any).policies.changes[0]).toMatchObject({ action: 'create' });
    expect(mocks.iam).not.toHaveReceivedCommand(PutRolePolicyCommand);
    expect(mocks.bedrock.calls()).toHaveLength(0);
  });
});

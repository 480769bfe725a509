/**
 * A `handover` input is a claim, checked by ResumeJob before anything is done (real handlers, mocked
 * clients; the predecessor's history is what the runner recorded of its HandOver starts; the job ledger
 * is the mocked account's in-memory store). Whoever may start executions can write such an input: it must
 * never stop a job, delete an ENI or write a policy unless the predecessor really started this execution
 * with it and the job ledger designates it — and then the predecessor's hand-over is what is continued,
 * not the input.
 */
import { DeleteNetworkInterfaceCommand, ModifyVpcEndpointCommand } from '@aws-sdk/client-ec2';
import { GetModelCustomizationJobCommand, StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { EVENTS_BEFORE_FIRST_POLL, EVENTS_PER_POLL, EVENTS_RESERVED_FOR_END } from '../../functions/poll-status/poll-status.js';
import { handoverExecutionName } from '../../functions/shared/chain.js';
import { MIN_HANDOVER_AFTER_EVENTS } from '../../functions/shared/job-state.js';
import { dynamoLedger } from '../../functions/shared/ledger.js';
import { localExecutionArn, runWorkflow, type ExecutionRegistry } from '../../local/workflow.js';
import { rawJob } from '../fixtures/job.js';
import { ACCOUNT, mockHealthyAccount, mocks } from '../support/mock-account.js';
import { fast, handlers, useRealHandlers } from '../support/state-machine.js';

useRealHandlers();

/** Nothing destructive or privileged was sent. */
function expectNothingDone() {
  expect(mocks.bedrock).not.toHaveReceivedCommand(StopModelCustomizationJobCommand);
  expect(mocks.ec2).not.toHaveReceivedCommand(DeleteNetworkInterfaceCommand);
  expect(mocks.ec2).not.toHaveReceivedCommand(ModifyVpcEndpointCommand);
  expect(mocks.iam).not.toHaveReceivedCommand(PutRolePolicyCommand);
  expect(mocks.s3).not.toHaveReceivedCommand(PutBucketPolicyCommand);
}

/** The job ledger the handlers write (the mocked account's in-memory store). */
const jobLedger = () => dynamoLedger(process.env.JOB_LEDGER_TABLE ?? 'job-ledger', { dynamodb: new DynamoDBClient({}), now: () => new Date() });

/** The status checks after which an execution hands the job over at the lowest threshold (poll-status's history estimate). */
const POLLS_TO_HANDOVER = Math.ceil((MIN_HANDOVER_AFTER_EVENTS - EVENTS_RESERVED_FOR_END - EVENTS_BEFORE_FIRST_POLL) / EVENTS_PER_POLL);

/**
 * A real first execution that hands its job over once (it designates generation 1 in the job ledger,
 * then its HandOver starts it in `executions`): returns the hand-over it scheduled and the successor's
 * name (with the ledger's nonce).
 */
async function firstExecutionHandingOver(name: string, executions: ExecutionRegistry) {
  mockHealthyAccount(['InProgress']);
  const run = await runWorkflow({
    input: rawJob({ polling: { initialSeconds: 10, maxSeconds: 10, growthFactor: 1, handoverAfterEvents: MIN_HANDOVER_AFTER_EVENTS } }),
    handlers: handlers(),
    executionName: name,
    executions,
    ...fast,
  });
  expect(run.states.at(-1)).toBe('HandedOver');
  expect(run.states.filter((s) => s === 'PollStatus')).toHaveLength(POLLS_TO_HANDOVER);
  const jobName = (run.output as { submission: { jobName: string } }).submission.jobName;
  const entry = await jobLedger().read(jobName);
  const successor = handoverExecutionName({ id: localExecutionArn(name), name }, 1, entry!.nonce);
  const input = executions.get(successor)!.input as { handover: Record<string, any> };
  mocks.bedrock.resetHistory();
  mocks.ec2.resetHistory();
  mocks.iam.resetHistory();
  mocks.s3.resetHistory();
  return { handover: input.handover, successor };
}

describe('a hand-over input', () => {
  it('copied from a real hand-over but started under another name: the predecessor never started it, nothing is done', async () => {
    const executions: ExecutionRegistry = new Map();
    const { handover } = await firstExecutionHandingOver('victim', executions);

    const run = await runWorkflow({ input: { handover }, handlers: handlers(), executionName: 'forged', executions, ...fast });

    expect(run).toMatchObject({ status: 'FAILED', error: 'HandOverRejectedError' });
    expect(run.states).toEqual(['IsHandover', 'ResumeJob', 'HandOverRejected']);
    expect(run.cause).toContain('never started');
    expectNothingDone();
  });

  it('naming a predecessor of another state machine, or none, or one that does not exist: rejected before any Bedrock call', async () => {
    mockHealthyAccount(['InProgress']);
    const base = { job: { jobName: 'x' }, execution: { id: localExecutionArn('someone'), name: 'someone' }, pollCount: 0, generation: 1 };
    for (const previousExecutionId of ['arn:aws:states:us-east-1:123456789012:execution:another-machine:run-1', undefined, 42]) {
      const run = await runWorkflow({ input: { handover: { ...base, previousExecutionId } }, handlers: handlers(), ...fast });
      expect(run).toMatchObject({ status: 'FAILED', error: 'HandOverRejectedError' });
    }
    const unknown = await runWorkflow({ input: { handover: { ...base, previousExecutionId: localExecutionArn('never-ran') } }, handlers: handlers(), ...fast });
    expect(unknown).toMatchObject({ status: 'FAILED', error: 'HandOverRejectedError' });
    expect(mocks.bedrock.calls()).toHaveLength(0);
    expectNothingDone();
  });

  it('under the successor\'s name with altered fields: the hand-over the predecessor scheduled is continued, not the input', async () => {
    const executions: ExecutionRegistry = new Map();
    const { handover, successor } = await firstExecutionHandingOver('victim2', executions);
    executions.delete(successor); // the attacker's start takes the name (the runner's record of it is replaced below)
    const forged = {
      ...handover,
      submission: { ...handover.submission, deadline: '2099-01-01T00:00:00.000Z' },
      job: { ...handover.job, maxJobDurationSeconds: 30 * 24 * 3600 },
    };
    mocks.bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn: ACCOUNT.jobArn, status: 'Completed' });

    const run = await runWorkflow({ input: { handover: forged }, handlers: handlers(), executionName: successor, executions, ...fast });

    expect(run.status).toBe('SUCCEEDED');
    const output = run.output as { submission: { deadline: string }; job: { maxJobDurationSeconds: number } };
    expect(output.submission.deadline).toBe(handover.submission.deadline);
    expect(output.job.maxJobDurationSeconds).toBe(handover.job.maxJobDurationSeconds);
  });

  it('a real hand-over the predecessor took back in the job ledger: rejected, nothing is done', async () => {
    const executions: ExecutionRegistry = new Map();
    const { handover, successor } = await firstExecutionHandingOver('victim3', executions);
    // The predecessor takes the job back from its unclaimed successor (as PollStatus does after a failed start).
    expect(await jobLedger().takeBack(handover.submission.jobName, localExecutionArn('victim3'), localExecutionArn(successor))).toBe(true);

    const run = await runWorkflow({ input: executions.get(successor)!.input as never, handlers: handlers(), executionName: successor, executions, ...fast });

    expect(run).toMatchObject({ status: 'FAILED', error: 'HandOverRejectedError' });
    expect(run.states).toEqual(['IsHandover', 'ResumeJob', 'HandOverRejected']);
    expect(run.cause).toContain('does not designate');
    expect(run.cause).toContain('took the job back');
    expect(await jobLedger().read(handover.submission.jobName)).toMatchObject({ supervisor: localExecutionArn('victim3'), claimed: true });
    expectNothingDone();
  });

  it('a real hand-over whose predecessor history cannot be read: retried as HandOverUnverifiedError, then rejected without acting', async () => {
    const executions: ExecutionRegistry = new Map();
    const { successor } = await firstExecutionHandingOver('victim4', executions);
    mocks.sfn.rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));

    const run = await runWorkflow({ input: executions.get(successor)!.input as never, handlers: handlers(), executionName: successor, executions, ...fast });

    expect(run).toMatchObject({ status: 'FAILED', error: 'HandOverUnverifiedError' });
    expect(run.events.filter((e) => (e as { type: string }).type === 'StateRetried')).toHaveLength(6);
    expectNothingDone();
  });
});

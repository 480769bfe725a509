/**
 * Abuse: supervision, in the state-machine harness (the ASL file, the real handlers, the mocked account
 * whose DynamoDB is an in-memory store evaluating DynamoDB's expressions). Invariant: a submitted job
 * always has exactly one live supervisor, or is stopped; faults are injected at the worst moments.
 */
import { CreateModelCustomizationJobCommand, GetModelCustomizationJobCommand, StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { DescribeExecutionCommand, ExecutionDoesNotExist, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { reap } from '../../functions/reaper/reaper.js';
import { dynamoLedger } from '../../functions/shared/ledger.js';
import {
  localExecutionArn,
  localStateMachineArn,
  runWorkflow,
  runWorkflowChain,
  scheduledHistory,
  startExecutionIntegration,
  type ExecutionRegistry,
  type TaskHandler,
} from '../../local/workflow.js';
import { rawJob } from '../fixtures/job.js';
import { ACCOUNT, mockHealthyAccount, mocks, tables } from '../support/mock-account.js';
import { chainStatuses, fast, handlers, handoverPolling, useRealHandlers } from '../support/state-machine.js';

useRealHandlers();

const ledger = () => dynamoLedger(process.env.JOB_LEDGER_TABLE!, { dynamodb: new DynamoDBClient({}), now: () => new Date() });
/** The job name ValidateNetwork resolved for `run` (from the first state after it that carries `$.job`). */
const jobNameOf = (run: { events: unknown[] }) =>
  run.events.flatMap((e: any) => (e.type === 'StateEntered' && e.state.input?.job?.jobName ? [e.state.input.job.jobName as string] : []))[0]!;

/** Step Functions as the reaper reads it: the executions of `registry` (status, input), their recorded HandOver starts. */
function serveExecutions(registry: ExecutionRegistry, more: Record<string, { status: string; input?: unknown }> = {}) {
  mocks.sfn.on(DescribeExecutionCommand).callsFake(({ executionArn }: { executionArn: string }) => {
    const record = [...registry.values()].find((r) => r.arn === executionArn) ?? more[executionArn];
    if (!record) throw new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} });
    return { executionArn, status: record.status, input: JSON.stringify(record.input ?? {}) };
  });
  mocks.sfn.on(GetExecutionHistoryCommand).callsFake((input: { executionArn: string }) => ({ events: scheduledHistory(input.executionArn) }));
}

describe('a successor name taken before the hand-over (StartExecution under that name)', () => {
  it('the squatter fails, is not accepted as the successor, the reaper stops nothing, and the job keeps a supervisor to its end', async () => {
    mockHealthyAccount(chainStatuses(3));
    const executions: ExecutionRegistry = new Map();
    const start = startExecutionIntegration(executions);
    let squatter: { arn: string; error?: string } | undefined;
    // The attacker starts an execution under the designated successor's name, with a hand-over input
    // naming the predecessor and the job, just before the predecessor's HandOver starts it.
    const HandOver: TaskHandler = async (input) => {
      const { Name, Input } = input as { Name: string; Input: { handover: unknown } };
      if (!squatter) {
        const forged = { handover: Input.handover };
        const run = await runWorkflow({ input: forged, executionName: Name, handlers: handlers(), ...fast });
        squatter = { arn: localExecutionArn(Name), ...(run.error ? { error: run.error } : {}) };
        executions.set(Name, { name: Name, arn: squatter.arn, input: forged, status: 'FAILED', startDate: new Date().toISOString() });
        // Its FAILED event reaches the reaper while the predecessor still runs.
        serveExecutions(executions, { [(Input.handover as { previousExecutionId: string }).previousExecutionId]: { status: 'RUNNING' } });
        const report = await reap({ executionArn: squatter.arn, stateMachineArn: localStateMachineArn() }, { stateMachineArn: localStateMachineArn() }, {
          // The client the mock answers for (the history paginator requires an SFNClient).
          sfn: new SFNClient({}),
          bedrock: mocks.bedrock as never,
          ledger: ledger(),
        });
        expect(report).toMatchObject({ stopped: false });
      }
      return start(input);
    };
    const runs = await runWorkflowChain({ input: rawJob({ polling: handoverPolling }), handlers: { ...handlers(), HandOver }, executions, executionName: 'victim', ...fast });

    expect(squatter!.error).toBe('HandOverRejectedError');
    // The predecessor kept the job (HandOverRefused, then took it back) and handed it over under the next name.
    expect(runs[0]!.states).toContain('HandOverRefused');
    expect(runs[0]!.states.at(-1)).toBe('HandedOver');
    expect(runs.at(-1)!.states.at(-1)).toBe('JobSucceeded');
    expect(mocks.bedrock).not.toHaveReceivedCommand(StopModelCustomizationJobCommand);
    expect((await ledger().read(jobNameOf(runs[0]!)))!.supervisor).toBe(localExecutionArn(runs.at(-1)!.name));
  });
});

describe('faults at the worst moments', () => {
  it('between CreateModelCustomizationJob and the ledger write: the retry adopts the job (same token) and records it; one job, followed to its end', async () => {
    mockHealthyAccount(['InProgress', 'Completed']);
    let failed = false;
    mocks.dynamodb.on(UpdateItemCommand).callsFake((input: { UpdateExpression?: string }) => {
      if (!failed && input.UpdateExpression?.includes('jobArn')) {
        failed = true;
        throw Object.assign(new Error('Internal server error'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } });
      }
      return tables.updateItem(input as never);
    });
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(failed).toBe(true);
    expect(run.states.at(-1), run.cause).toBe('JobSucceeded');
    expect(mocks.bedrock.commandCalls(CreateModelCustomizationJobCommand).length).toBeGreaterThanOrEqual(1);
    expect(new Set(mocks.bedrock.commandCalls(CreateModelCustomizationJobCommand).map((c) => c.args[0].input.clientRequestToken)).size).toBe(1);
    expect(await ledger().read(jobNameOf(run))).toMatchObject({ jobArn: ACCOUNT.jobArn, status: 'submitted' });
  });

  it('the execution ends while Create is in flight and the reaper takes the entry over: the job created then is stopped by submit-job itself', async () => {
    mockHealthyAccount(['InProgress']);
    let reaped = false;
    // Create lands after the reaper has taken the (reserved) entry over.
    mocks.bedrock.on(CreateModelCustomizationJobCommand).callsFake(async (input: { jobName: string }) => {
      const entry = (await ledger().read(input.jobName))!;
      reaped = await ledger().reap(input.jobName, entry.supervisor);
      return { jobArn: ACCOUNT.jobArn };
    });
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(reaped).toBe(true);
    expect(run).toMatchObject({ status: 'FAILED', error: 'JobNotOursError' });
    expect(mocks.bedrock).toHaveReceivedCommandWith(StopModelCustomizationJobCommand, { jobIdentifier: ACCOUNT.jobArn });
    expect(run.states).not.toContain('PollStatus');
  });

  it('a rollback that fails (policies written, no job): the execution ends RollbackFailed; the reaper finds no job of its in the ledger', async () => {
    mockHealthyAccount();
    const boom: TaskHandler = async () => {
      throw Object.assign(new Error('denied'), { name: 'PolicyApplyError' });
    };
    const rollback: TaskHandler = async () => {
      throw Object.assign(new Error('denied'), { name: 'PolicyRollbackError' });
    };
    const run = await runWorkflow({ input: rawJob(), handlers: { ...handlers(), ApplyPolicies: boom, RollbackPolicies: rollback }, ...fast, executionName: 'rollback-fails' });
    expect(run.states.at(-1)).toBe('RollbackFailed');
    mocks.sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED', input: '{}' });
    mocks.sfn.on(GetExecutionHistoryCommand).resolves({
      events: [{ id: 1, type: 'TaskStateEntered', timestamp: new Date(), stateEnteredEventDetails: { name: 'RollbackPolicies', input: JSON.stringify({ job: { jobName: jobNameOf(run) } }) } }],
    });
    mocks.bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn: ACCOUNT.jobArn, status: 'InProgress' });
    const report = await reap({ executionArn: localExecutionArn('rollback-fails'), stateMachineArn: localStateMachineArn() }, { stateMachineArn: localStateMachineArn() }, {
      sfn: new SFNClient({}),
      bedrock: mocks.bedrock as never,
      ledger: ledger(),
    });
    expect(report).toMatchObject({ outcome: 'no-job', stopped: false });
    expect(mocks.bedrock).not.toHaveReceivedCommand(StopModelCustomizationJobCommand);
  });
});

/**
 * local/local-history.ts: real runs of the ASL file (real handlers, mocked clients) turned into the
 * history Step Functions records (HistoryEvent of @aws-sdk/client-sfn), then into the execution view.
 * Event names and details as documented for GetExecutionHistory (Step Functions API Reference,
 * "HistoryEvent"; "Viewing execution history": a Lambda Task records LambdaFunctionFailed, a
 * service integration TaskFailed, a Fail state only FailStateEntered before ExecutionFailed).
 */
import { GetModelCustomizationJobCommand, StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { DescribeSubnetsCommand } from '@aws-sdk/client-ec2';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { MIN_HANDOVER_AFTER_EVENTS } from '../../functions/shared/job-state.js';
import { EVENTS_BEFORE_FIRST_POLL, EVENTS_PER_POLL, EVENTS_RESERVED_FOR_END } from '../../functions/poll-status/poll-status.js';
import { buildExecutionView } from '../../functions/shared/execution-view.js';
import { LocalHistory } from '../../local/local-history.js';
import { localExecutionArn, type TaskHandler, type WorkflowRun } from '../../local/workflow.js';
import { rawJob } from '../fixtures/job.js';
import { ACCOUNT, mockHealthyAccount, mocks } from '../support/mock-account.js';
import { handlers, recordedRun, useRealHandlers } from '../support/state-machine.js';

useRealHandlers();

const MODEL_ARN = 'arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-express-v1:0:8k/abcdefghij12';

async function run(input: unknown, options: { handlers?: Record<string, TaskHandler>; waitMs?: number } = {}) {
  const name = `hist-${Math.random().toString(36).slice(2, 10)}`;
  const { run: result, arn, history } = await recordedRun(input, name, options);
  return { result, history, view: buildExecutionView(history, { arn, name, status: result.status }) };
}

const types = (history: HistoryEvent[]) => history.map((e) => e.type);

/** Invariants of every history GetExecutionHistory returns: ids 1…n in order, Date timestamps, one start, one end. */
function expectWellFormed(history: HistoryEvent[], run: WorkflowRun) {
  expect(history.map((e) => e.id)).toEqual(history.map((_, i) => i + 1));
  for (const e of history) expect(e.timestamp).toBeInstanceOf(Date);
  expect(history[0]!.type).toBe('ExecutionStarted');
  expect(history.filter((e) => /^Execution(Succeeded|Failed|TimedOut|Aborted)$/.test(e.type!))).toHaveLength(1);
  // every state the engine entered, in order, as *StateEntered events
  expect(history.filter((e) => e.type!.endsWith('StateEntered')).map((e) => e.stateEnteredEventDetails!.name)).toEqual(run.states);
}

describe('LocalHistory: Step Functions history of a local run', () => {
  it('successful job: typed state events, Lambda successes, ExecutionSucceeded with the output; view completed', async () => {
    mockHealthyAccount(['InProgress', 'Completed']);
    mocks.bedrock.on(GetModelCustomizationJobCommand).resolvesOnce({ jobArn: ACCOUNT.jobArn, status: 'InProgress' }).resolves({
      jobArn: ACCOUNT.jobArn,
      status: 'Completed',
      outputModelArn: MODEL_ARN,
      trainingMetrics: { trainingLoss: 0.25 },
      statusDetails: { validationDetails: { status: 'Completed' }, dataProcessingDetails: { status: 'Completed' }, trainingDetails: { status: 'Completed' } },
    });
    const { result, history, view } = await run(rawJob());

    expect(result.status).toBe('SUCCEEDED');
    expectWellFormed(history, result);
    expect(types(history).slice(0, 8)).toEqual([
      'ExecutionStarted',
      'ChoiceStateEntered', 'ChoiceStateExited', // IsHandover
      'PassStateEntered', 'PassStateExited', // ResolveInput
      'TaskStateEntered', 'LambdaFunctionSucceeded', 'TaskStateExited', // ValidateNetwork
    ]);
    expect(types(history).slice(-3)).toEqual(['SucceedStateEntered', 'SucceedStateExited', 'ExecutionSucceeded']);
    expect(types(history)).toContain('WaitStateEntered');
    expect(JSON.parse(history.at(-1)!.executionSucceededEventDetails!.output!)).toEqual(result.output);
    expect(history.some((e) => e.type === 'TaskFailed' || e.type === 'LambdaFunctionFailed')).toBe(false);

    expect(view).toMatchObject({
      outcome: 'completed',
      endState: 'JobSucceeded',
      execution: { status: 'SUCCEEDED' },
      job: {
        arn: ACCOUNT.jobArn,
        status: 'Completed',
        outputModelArn: MODEL_ARN,
        trainingMetrics: { trainingLoss: 0.25 },
        phases: { validation: 'Completed', dataProcessing: 'Completed', training: 'Completed' },
        pollCount: 2,
      },
      preflight: { fail: 0 },
      policies: { applied: true },
      cleanup: { summary: "Deleted 2 network interface(s) of the job." },
      grants: { summary: expect.stringContaining('revoked') },
    });
    expect(view.headline).toMatch(new RegExp(`^Job ${view.job!.name} completed: custom model ${MODEL_ARN.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(\\d+ s\\)$`));
    expect(view.states.map((s) => s.name)).toEqual(result.states);
    expect(view.states.every((s) => !s.failed)).toBe(true);
    expect(view.error).toBeUndefined();
  });

  it('preflight failure: LambdaFunctionFailed, TaskStateExited (caught), FailStateEntered, ExecutionFailed; the view names the checks', async () => {
    mockHealthyAccount();
    mocks.ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [] });
    const { result, history, view } = await run(rawJob());

    expect(result).toMatchObject({ status: 'FAILED', error: 'NetworkValidationError' });
    expectWellFormed(history, result);
    expect(types(history).slice(-5)).toEqual(['TaskStateEntered', 'LambdaFunctionFailed', 'TaskStateExited', 'FailStateEntered', 'ExecutionFailed']);
    const failed = history.find((e) => e.type === 'LambdaFunctionFailed')!.lambdaFunctionFailedEventDetails!;
    expect(failed.error).toBe('NetworkValidationError');
    expect(JSON.parse(failed.cause!)).toMatchObject({ errorType: 'NetworkValidationError', errorMessage: expect.stringContaining('Network preflight failed') });
    expect(history.at(-1)!.executionFailedEventDetails).toEqual({ error: 'NetworkValidationError', cause: result.cause });

    expect(view.outcome).toBe('failed');
    expect(view.endState).toBe('PreflightFailed');
    expect(view.preflight!.fromFailure).toBe(true);
    // Both subnets of the input are missing: subnet.exists fails once per subnet.
    expect(view.preflight!.problems.map((p) => [p.id, p.resource])).toEqual([
      ['subnet.exists', 'subnet-0123456789abcdef0'],
      ['subnet.exists', 'subnet-0123456789abcdef1'],
    ]);
    expect(view.preflight!.fail).toBe(2);
    expect(view.headline).toBe('Preflight failed: 2 checks failed (subnet.exists)');
    expect(view.error!.error).toBe('NetworkValidationError');
    expect(view.error!.cause).toMatch(/^Network preflight failed/); // the Lambda message, not its JSON envelope
    expect(view.error!.remedy).toContain('[subnet.exists]');
    expect(view.states.find((s) => s.name === 'ValidateNetwork')!.failed).toBe(true);
    expect(view.states.at(-1)).toMatchObject({ name: 'PreflightFailed', failed: true });
  });

  it('job failure: Bedrock failure message in the view, the remedy of JobFailedError, cleanup summary', async () => {
    mockHealthyAccount(['InProgress', 'Failed']);
    const { result, history, view } = await run(rawJob());
    expect(result).toMatchObject({ status: 'FAILED', error: 'JobFailedError' });
    expectWellFormed(history, result);
    expect(types(history).slice(-2)).toEqual(['FailStateEntered', 'ExecutionFailed']);
    expect(view).toMatchObject({
      outcome: 'failed',
      endState: 'JobFailed',
      job: { status: 'Failed', failureMessage: 'Training data is malformed' },
      error: { error: 'JobFailedError', remedy: expect.any(String) },
      cleanup: { summary: expect.any(String) },
    });
    expect(view.headline).toBe(`Job ${view.job!.name} failed: Training data is malformed`);
  });

  it('deadline stop: StopJob, a Lambda Task (poll-status as the supervisor), records LambdaFunctionSucceeded; the view says the deadline stopped it', async () => {
    mockHealthyAccount(['InProgress']);
    let stopped = false;
    mocks.bedrock.on(StopModelCustomizationJobCommand).callsFake(() => {
      stopped = true;
      return {};
    });
    mocks.bedrock.on(GetModelCustomizationJobCommand).callsFake(() => ({ jobArn: ACCOUNT.jobArn, status: stopped ? 'Stopped' : 'InProgress' }));
    const { result, history, view } = await run(rawJob({ maxJobDurationSeconds: 1 }), { waitMs: 200 });
    expect(result).toMatchObject({ status: 'FAILED', error: 'JobDeadlineExceededError' });
    expectWellFormed(history, result);
    const stop = history.findIndex((e) => e.stateEnteredEventDetails?.name === 'StopJob');
    expect(types(history).slice(stop, stop + 3)).toEqual(['TaskStateEntered', 'LambdaFunctionSucceeded', 'TaskStateExited']);
    expect(stopped).toBe(true);
    expect(view.outcome).toBe('failed');
    expect(view.endState).toBe('JobDeadlineExceeded');
    expect(view.job!.deadline).toBe((JSON.parse(history.find((e) => e.stateExitedEventDetails?.name === 'SubmitJob')!.stateExitedEventDetails!.output!) as any).submission.deadline);
    expect(view.headline).toBe(`Job ${view.job!.name} was stopped at its deadline (${view.job!.deadline})`);
  });

  it('a failing service integration is TaskFailed with resourceType/resource; a caught failure then exits', async () => {
    // A job long enough to hand over at the lowest threshold a job may ask for; the start is refused.
    const per = Math.ceil((MIN_HANDOVER_AFTER_EVENTS - EVENTS_RESERVED_FOR_END - EVENTS_BEFORE_FIRST_POLL) / EVENTS_PER_POLL);
    mockHealthyAccount([...Array<string>(per).fill('InProgress'), 'Completed']);
    const err = Object.assign(new Error('not authorized'), { name: 'StepFunctions.AccessDeniedException' });
    const refuse: TaskHandler = async () => {
      throw err;
    };
    const input = rawJob({ polling: { initialSeconds: 10, maxSeconds: 10, growthFactor: 1, handoverAfterEvents: MIN_HANDOVER_AFTER_EVENTS } });
    const { result, history } = await run(input, { handlers: { ...handlers(), HandOver: refuse }, waitMs: 0 });
    expect(result.status).toBe('SUCCEEDED');
    const failed = history.find((e) => e.type === 'TaskFailed')!;
    expect(failed.taskFailedEventDetails).toEqual({ resourceType: 'states', resource: 'startExecution', error: 'StepFunctions.AccessDeniedException', cause: 'not authorized' });
    expect(history[failed.id!]!.type).toBe('TaskStateExited'); // caught: no TaskSucceeded in between
  });

  it('dry run: SucceedStateEntered DryRunPlan; the view is dry-run with the planned changes', async () => {
    mockHealthyAccount();
    const { result, history, view } = await run(rawJob({ dryRun: true }));
    expect(result.status).toBe('SUCCEEDED');
    expectWellFormed(history, result);
    expect(types(history).slice(-3)).toEqual(['SucceedStateEntered', 'SucceedStateExited', 'ExecutionSucceeded']);
    expect(view.outcome).toBe('dry-run');
    expect(view.endState).toBe('DryRunPlan');
    expect(view.policies!.applied).toBe(false);
    expect(view.policies!.changes.length).toBeGreaterThan(0);
    expect(view.policies!.changes[0]).toMatchObject({ action: 'create', added: expect.any(Number), removed: 0 });
    expect(view.job?.arn).toBeUndefined();
    expect(view.headline).toMatch(/^Dry run hist-\w+: plan ready, \d+ policy changes?, preflight passed/);
  });

  it('push returns the new events with increasing ids; ExecutionTimeout and ExecutionAborted map to their SFN types', () => {
    const h = new LocalHistory({ arn: localExecutionArn('x'), name: 'x' });
    const t = Date.parse('2026-01-01T00:00:00Z');
    expect(h.push({ type: 'ExecutionStarted', timestamp: t, input: { a: 1 } } as never)).toEqual([
      { id: 1, timestamp: new Date(t), type: 'ExecutionStarted', executionStartedEventDetails: { input: '{"a":1}', inputDetails: { truncated: false } } },
    ]);
    expect(h.push({ type: 'StateEntered', timestamp: t + 1, state: { name: 'WaitForJob', type: 'Wait', input: {} } } as never).map((e) => [e.id, e.type])).toEqual([[2, 'WaitStateEntered']]);
    expect(h.push({ type: 'StateRetried', timestamp: t + 2, state: { name: 'WaitForJob', type: 'Wait', input: {} } } as never)).toEqual([]);
    expect(h.push({ type: 'ExecutionTimeout', timestamp: t + 3 } as never)).toMatchObject([{ id: 3, previousEventId: 2, type: 'ExecutionTimedOut', executionTimedOutEventDetails: { error: 'States.Timeout' } }]);
    expect(h.events).toHaveLength(3);
    const a = new LocalHistory({ arn: localExecutionArn('y'), name: 'y' });
    expect(a.push({ type: 'ExecutionAborted', timestamp: t } as never)).toMatchObject([{ id: 1, type: 'ExecutionAborted' }]);
    const view = buildExecutionView(h.events, { arn: localExecutionArn('x') });
    expect(view).toMatchObject({ outcome: 'timed-out', execution: { status: 'TIMED_OUT', name: 'x', durationSeconds: 0 }, endState: 'WaitForJob' });
  });
});

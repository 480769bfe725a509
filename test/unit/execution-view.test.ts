/**
 * functions/shared/execution-view.ts on histories shaped as GetExecutionHistory returns them.
 * Event types and detail fields: @aws-sdk/client-sfn `HistoryEvent` (Step Functions API Reference,
 * "HistoryEvent", "StateEnteredEventDetails", "StateExitedEventDetails", "ExecutionFailedEventDetails",
 * "HistoryEventExecutionDataDetails"); a Lambda error's Cause is Lambda's error response
 * `{"errorType","errorMessage","trace"}` (Lambda Developer Guide, "Lambda function errors in Node.js").
 * State data shapes: the ASL's ResultPaths and the Lambdas' outputs (PreflightReport, PolicyPlan,
 * Submission, PollResult, CleanupResult, RevokeResult).
 */
import type { HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { buildExecutionView, causeMessage, formatDuration, parsePreflightFailure } from '../../functions/shared/execution-view.js';
import { ERROR_CATALOGUE } from '../../functions/shared/errors.js';

const ARN = 'arn:aws:states:us-east-1:123456789012:execution:bedrock-vpc-customization-dev-customize-model:run-1';
const JOB_ARN = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.titan-text-express-v1:0:8k/abc123';
const MODEL_ARN = 'arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-express-v1:0:8k/model123';
const T0 = Date.parse('2026-11-29T08:00:00Z');

/** A history built event by event: ids from 1, a second apart. */
function history() {
  const events: HistoryEvent[] = [];
  const add = (type: HistoryEventType, details: Partial<HistoryEvent> = {}) => {
    const id = events.length + 1;
    events.push({ id, previousEventId: id - 1, timestamp: new Date(T0 + id * 1000), type, ...details });
  };
  const api = {
    events,
    started(input: unknown = {}) {
      add('ExecutionStarted', { executionStartedEventDetails: { input: JSON.stringify(input), inputDetails: { truncated: false } } });
      return api;
    },
    entered(type: string, name: string, input: unknown = {}) {
      add(`${type}StateEntered` as HistoryEventType, { stateEnteredEventDetails: { name, input: JSON.stringify(input), inputDetails: { truncated: false } } });
      return api;
    },
    exited(type: string, name: string, output: unknown, truncated = false) {
      const text = JSON.stringify(output);
      add(`${type}StateExited` as HistoryEventType, {
        stateExitedEventDetails: { name, output: truncated ? text.slice(0, 40) : text, outputDetails: { truncated } },
      });
      return api;
    },
    /** A Lambda Task that succeeded: entered, LambdaFunctionScheduled/Started/Succeeded, exited. */
    lambda(name: string, output: unknown) {
      api.entered('Task', name);
      add('LambdaFunctionScheduled', { lambdaFunctionScheduledEventDetails: { resource: `arn:aws:lambda:us-east-1:123456789012:function:${name}` } });
      add('LambdaFunctionStarted');
      add('LambdaFunctionSucceeded', { lambdaFunctionSucceededEventDetails: { output: '{}', outputDetails: { truncated: false } } });
      return api.exited('Task', name, output);
    },
    lambdaFailed(errorType: string, errorMessage: string) {
      add('LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: { error: errorType, cause: JSON.stringify({ errorType, errorMessage, trace: [] }) } });
      return api;
    },
    add(type: HistoryEventType, details: Partial<HistoryEvent> = {}) {
      add(type, details);
      return api;
    },
    succeeded(output: unknown) {
      add('ExecutionSucceeded', { executionSucceededEventDetails: { output: JSON.stringify(output), outputDetails: { truncated: false } } });
      return api.events;
    },
    failed(error: string, cause: string) {
      add('ExecutionFailed', { executionFailedEventDetails: { error, cause } });
      return api.events;
    },
  };
  return api;
}

const job = { jobName: 'support-ft', dryRun: false };
const preflight = {
  ok: true,
  region: 'us-east-1',
  checks: [
    { id: 'subnet.az-count', passed: false, severity: 'warn', resource: 'vpc-0123', message: 'Only one Availability Zone.', remedy: 'Add a subnet in a second Availability Zone.' },
    { id: 'vpc.exists', passed: true, severity: 'fail', resource: 'vpc-0123', message: 'VPC exists.' },
  ],
  counts: { fail: 0, warn: 1, info: 0, passed: 17 },
  awsCalls: 9,
};
const change = (action: string, resource: string, added: number, removed: number) => ({
  target: { kind: 'role', resource },
  action,
  diff: { added: Array(added).fill('stmt'), removed: Array(removed).fill('stmt'), unchanged: 0 },
});
const plan = { dryRun: false, changes: [change('create', 'role/BedrockCustomizationRole/BedrockVpcCustomization-vpc-0123', 3, 0), change('update', 'vpc-endpoint/vpce-0123', 2, 1)], skipped: [], summary: [] };
const submission = { jobArn: JOB_ARN, jobName: 'support-ft', adopted: false, submittedAt: '2026-11-29T08:00:05Z', deadline: '2026-11-30T08:00:05Z' };
const completedPoll = {
  status: 'Completed',
  next: 'completed',
  pollCount: 7,
  message: 'Job support-ft completed.',
  outputModelArn: MODEL_ARN,
  trainingMetrics: { trainingLoss: 0.125 },
  statusDetails: { validationDetails: { status: 'Completed' }, dataProcessingDetails: { status: 'Completed' }, trainingDetails: { status: 'Completed' } },
};

/** The state data after each step of a successful run (each ResultPath adds its key). */
function successHistory() {
  const s1 = { job, execution: { id: ARN, name: 'run-1' }, preflight };
  const s2 = { ...s1, policies: plan };
  const s3 = { ...s2, policies: { ...plan, applied: ['role/BedrockCustomizationRole/BedrockVpcCustomization-vpc-0123'], alreadyApplied: [] } };
  const s4 = { ...s3, submission };
  const s5 = { ...s4, poll: completedPoll };
  const s6 = { ...s5, cleanup: { jobArn: JOB_ARN, deleted: ['eni-1'], summary: 'Deleted 1 network interface(s) of the job.' } };
  const s7 = { ...s6, revoke: { revoked: ['role'], keptForOthers: [], kept: [], summary: 'revoked: role; kept for another job: none; kept: none' } };
  return history()
    .started({})
    .entered('Choice', 'IsHandover')
    .exited('Choice', 'IsHandover', {})
    .lambda('ValidateNetwork', s1)
    .lambda('PlanPolicies', s2)
    .lambda('ApplyPolicies', s3)
    .lambda('SubmitJob', s4)
    .lambda('PollStatus', s5)
    .lambda('CleanupEnis', s6)
    .lambda('RevokeGrants', s7)
    .entered('Succeed', 'JobSucceeded', s7)
    .exited('Succeed', 'JobSucceeded', s7)
    .succeeded(s7);
}

describe('buildExecutionView', () => {
  it('a completed job: model, metrics, phases, preflight, policies, cleanup, grants, duration from the execution', () => {
    const view = buildExecutionView(successHistory(), { arn: ARN, name: 'run-1', status: 'SUCCEEDED', startDate: new Date(T0), stopDate: new Date(T0 + 3_720_000) });
    expect(view).toEqual({
      execution: { arn: ARN, name: 'run-1', status: 'SUCCEEDED', startDate: '2026-11-29T08:00:00.000Z', stopDate: '2026-11-29T09:02:00.000Z', durationSeconds: 3720 },
      endState: 'JobSucceeded',
      outcome: 'completed',
      headline: `Job support-ft completed: custom model ${MODEL_ARN} (1 h 2 min)`,
      job: {
        name: 'support-ft',
        arn: JOB_ARN,
        status: 'Completed',
        message: 'Job support-ft completed.',
        outputModelArn: MODEL_ARN,
        trainingMetrics: { trainingLoss: 0.125 },
        phases: { validation: 'Completed', dataProcessing: 'Completed', training: 'Completed' },
        deadline: '2026-11-30T08:00:05Z',
        pollCount: 7,
      },
      preflight: {
        passed: 17,
        warn: 1,
        fail: 0,
        awsCalls: 9,
        problems: [{ id: 'subnet.az-count', severity: 'warn', resource: 'vpc-0123', message: 'Only one Availability Zone.', remedy: 'Add a subnet in a second Availability Zone.' }],
      },
      policies: {
        applied: true,
        changes: [
          { action: 'create', resource: 'role/BedrockCustomizationRole/BedrockVpcCustomization-vpc-0123', added: 3, removed: 0 },
          { action: 'update', resource: 'vpc-endpoint/vpce-0123', added: 2, removed: 1 },
        ],
      },
      cleanup: { summary: 'Deleted 1 network interface(s) of the job.' },
      grants: { summary: 'revoked: role; kept for another job: none; kept: none' },
      states: expect.any(Array),
    });
    expect(view.states.map((s) => s.name)).toEqual(['IsHandover', 'ValidateNetwork', 'PlanPolicies', 'ApplyPolicies', 'SubmitJob', 'PollStatus', 'CleanupEnis', 'RevokeGrants', 'JobSucceeded']);
    expect(view.states[1]).toEqual({ name: 'ValidateNetwork', enteredAt: '2026-11-29T08:00:04.000Z', exitedAt: '2026-11-29T08:00:08.000Z' });
    expect(view.states.some((s) => s.failed)).toBe(false);
  });

  it('without dates in the description, takes them from the first and the terminal event; derives the status and name', () => {
    const events = successHistory();
    const view = buildExecutionView(events, { arn: ARN });
    expect(view.execution).toMatchObject({ name: 'run-1', status: 'SUCCEEDED', startDate: new Date(T0 + 1000).toISOString(), durationSeconds: events.length - 1 });
  });

  it('copes with truncated and absent data: what earlier events carried still shows', () => {
    const events = successHistory();
    // The last states' output truncated (over 256 KiB on AWS) and the execution's output left out.
    const cut = events.findIndex((e) => e.stateExitedEventDetails?.name === 'PollStatus') + 1;
    for (const e of events.slice(cut)) {
      if (e.stateExitedEventDetails) e.stateExitedEventDetails = { name: e.stateExitedEventDetails.name, output: '{"job":{"jobN', outputDetails: { truncated: true } };
      if (e.stateEnteredEventDetails) e.stateEnteredEventDetails = { name: e.stateEnteredEventDetails.name };
      if (e.executionSucceededEventDetails) e.executionSucceededEventDetails = { outputDetails: { truncated: true } };
    }
    const view = buildExecutionView(events, { arn: ARN, status: 'SUCCEEDED' });
    expect(view.outcome).toBe('completed');
    expect(view.job).toMatchObject({ name: 'support-ft', arn: JOB_ARN, status: 'Completed', outputModelArn: MODEL_ARN });
    expect(view.cleanup).toBeUndefined(); // only the truncated outputs carried it
  });

  it('a failed preflight: the checks and their remedies read back from the Lambda error message', () => {
    const message =
      'Network preflight failed (2 failing checks): [subnet.free-ips] subnet-0a: Only 2 free IP addresses. Fix: Use a subnet with at least 4 free addresses. | [vpc.dns-support] vpc-0123: DNS resolution is off. Fix: Turn on enableDnsSupport.';
    const events = history()
      .started({})
      .entered('Task', 'ValidateNetwork', { input: {} })
      .lambdaFailed('NetworkValidationError', message)
      .exited('Task', 'ValidateNetwork', { error: { Error: 'NetworkValidationError', Cause: '…' } })
      .entered('Fail', 'PreflightFailed')
      .failed('NetworkValidationError', JSON.stringify({ errorType: 'NetworkValidationError', errorMessage: message, trace: ['at x'] }));
    const view = buildExecutionView(events, { arn: ARN, status: 'FAILED' });
    expect(view.outcome).toBe('failed');
    expect(view.endState).toBe('PreflightFailed');
    expect(view.headline).toBe('Preflight failed: 2 checks failed (subnet.free-ips, vpc.dns-support)');
    expect(view.preflight).toEqual({
      passed: 0,
      warn: 0,
      fail: 2,
      fromFailure: true,
      problems: [
        { id: 'subnet.free-ips', severity: 'fail', resource: 'subnet-0a', message: 'Only 2 free IP addresses.', remedy: 'Use a subnet with at least 4 free addresses.' },
        { id: 'vpc.dns-support', severity: 'fail', resource: 'vpc-0123', message: 'DNS resolution is off.', remedy: 'Turn on enableDnsSupport.' },
      ],
    });
    expect(view.error).toEqual({
      error: 'NetworkValidationError',
      cause: message,
      remedy: '[subnet.free-ips] Use a subnet with at least 4 free addresses. [vpc.dns-support] Turn on enableDnsSupport.',
    });
    expect(view.states).toEqual([
      expect.objectContaining({ name: 'ValidateNetwork', failed: true }),
      { name: 'PreflightFailed', enteredAt: expect.any(String), failed: true },
    ]);
  });

  it("a Fail state's own error (JobFailedError): Bedrock's failure message, the catalogue's remedy", () => {
    const poll = { status: 'Failed', next: 'failed', pollCount: 3, message: 'Job support-ft failed: Training data is malformed', failureMessage: 'Training data is malformed' };
    const state = { job, submission, poll };
    const events = history()
      .started({})
      .lambda('PollStatus', state)
      .entered('Fail', 'JobFailed', state)
      .failed('JobFailedError', poll.message);
    const view = buildExecutionView(events, { arn: ARN, status: 'FAILED' });
    expect(view.headline).toBe('Job support-ft failed: Training data is malformed');
    expect(view.error).toEqual({
      error: 'JobFailedError',
      cause: poll.message,
      remedy: ERROR_CATALOGUE.find((e) => e.name === 'JobFailedError')!.whatToDo,
    });
    expect(view.job).toMatchObject({ status: 'Failed', failureMessage: 'Training data is malformed', pollCount: 3 });
  });

  it('a phase that failed while the job ran: the headline names the phase the workflow stopped it in', () => {
    const phaseFailure = { phase: 'validation', failureMessage: 'Data validation failed', detectedAt: '2026-11-30T08:00:05Z' };
    const poll = { status: 'Stopped', next: 'failed', pollCount: 2, message: 'stopped', failureMessage: 'Data validation failed', phaseFailure };
    const state = { job, submission, poll };
    const events = history().started({}).entered('Fail', 'JobFailed', state).failed('JobFailedError', 'x');
    const view = buildExecutionView(events, { arn: ARN, status: 'FAILED' });
    expect(view.headline).toBe('Job support-ft failed in its validation phase (stopped early): Data validation failed');
    expect(view.job).toMatchObject({ failedPhase: 'validation' });
  });

  it('the deadline: JobDeadlineExceededError names the deadline', () => {
    const state = { job, submission, poll: { status: 'Stopped', next: 'stopped', pollCount: 9, message: 'stopped' }, stopRequest: {} };
    const events = history().started({}).entered('Fail', 'JobDeadlineExceeded', state).failed('JobDeadlineExceededError', 'stopped');
    expect(buildExecutionView(events, { arn: ARN }).headline).toBe('Job support-ft was stopped at its deadline (2026-11-30T08:00:05Z)');
  });

  it('RollbackFailed: the rollback error in the view, PolicyRollbackError remedy, a headline for a person', () => {
    const rollbackError = { Error: 'PolicyRollbackError', Cause: JSON.stringify({ errorType: 'PolicyRollbackError', errorMessage: 'Rollback incomplete, restore by hand: role (AccessDenied)' }) };
    const state = { job, policies: plan, error: { Error: 'PolicyApplyError', Cause: 'x' }, rollbackError };
    const events = history().started({}).entered('Fail', 'RollbackFailed', state).failed('PolicyRollbackError', rollbackError.Cause);
    const view = buildExecutionView(events, { arn: ARN });
    expect(view.endState).toBe('RollbackFailed');
    expect(view.rollback).toEqual({ error: 'PolicyRollbackError: Rollback incomplete, restore by hand: role (AccessDenied)' });
    expect(view.error).toMatchObject({ error: 'PolicyRollbackError', cause: 'Rollback incomplete, restore by hand: role (AccessDenied)', remedy: expect.stringContaining('A person must restore') });
    expect(view.headline).toBe('Policy rollback failed, needs a person: Rollback incomplete, restore by hand: role (AccessDenied)');
    expect(view.policies?.applied).toBe(false);
  });

  it('a hand-over: handed-over, the successor named', () => {
    const successor = `${ARN}-0123456789ab-h1`;
    const state = { job, submission, poll: { status: 'InProgress', next: 'handover', pollCount: 40, handover: { generation: 1, executionName: 'run-1-0123456789ab-h1' } }, handedOverTo: { ExecutionArn: successor, StartDate: '2026-11-29T09:00:00Z' } };
    const events = history().started({}).entered('Succeed', 'HandedOver', state).exited('Succeed', 'HandedOver', state).succeeded(state);
    const view = buildExecutionView(events, { arn: ARN, status: 'SUCCEEDED' });
    expect(view.outcome).toBe('handed-over');
    expect(view.job?.handedOverTo).toBe(successor);
    expect(view.headline).toBe('Job support-ft handed over to run-1-0123456789ab-h1 (still InProgress)');
  });

  it('superseded (the job ledger names another supervisor): like a hand-over, nothing to notify; the headline says why', () => {
    const state = { job, submission, poll: { status: 'InProgress', next: 'superseded', pollCount: 3 } };
    const events = history().started({}).entered('Succeed', 'Superseded', state).exited('Succeed', 'Superseded', state).succeeded(state);
    const view = buildExecutionView(events, { arn: ARN, status: 'SUCCEEDED' });
    expect(view).toMatchObject({ outcome: 'handed-over', endState: 'Superseded' });
    expect(view.headline).toBe('Job support-ft is followed by another execution now (job ledger); run-1 ended without acting on it');
  });

  it('a dry run: dry-run, the plan counted (policies not applied)', () => {
    const state = { job: { ...job, dryRun: true }, preflight, policies: { ...plan, dryRun: true } };
    const events = history().started({}).entered('Succeed', 'DryRunPlan', state).exited('Succeed', 'DryRunPlan', state).succeeded(state);
    const view = buildExecutionView(events, { arn: ARN, status: 'SUCCEEDED' });
    expect(view).toMatchObject({ outcome: 'dry-run', endState: 'DryRunPlan', policies: { applied: false } });
    expect(view.headline).toBe('Dry run run-1: plan ready, 2 policy changes, preflight passed with 1 warning');
  });

  it('running, timed out, aborted, pending redrive', () => {
    const running = history().started({}).entered('Wait', 'WaitForJob', { job, submission, poll: { status: 'InProgress', next: 'wait', pollCount: 2 } }).events;
    expect(buildExecutionView(running, { arn: ARN })).toMatchObject({ outcome: 'running', execution: { status: 'RUNNING' }, headline: 'Execution run-1 running, in WaitForJob; job support-ft InProgress' });
    expect(buildExecutionView(running, { arn: ARN, status: 'PENDING_REDRIVE' }).outcome).toBe('running');

    const timedOut = [...running, { id: running.length + 1, timestamp: new Date(T0 + 60_000), type: 'ExecutionTimedOut' as const, executionTimedOutEventDetails: { error: 'States.Timeout', cause: 'too long' } }];
    const t = buildExecutionView(timedOut, { arn: ARN });
    expect(t).toMatchObject({ outcome: 'timed-out', execution: { status: 'TIMED_OUT', durationSeconds: 59 }, error: { error: 'States.Timeout', cause: 'too long' } });
    expect(t.headline).toBe('Execution run-1 timed out (59 s) in WaitForJob');
    expect(t.states.at(-1)!.failed).toBe(true);

    const aborted = [...running, { id: running.length + 1, timestamp: new Date(T0 + 5000), type: 'ExecutionAborted' as const, executionAbortedEventDetails: {} }];
    const a = buildExecutionView(aborted, { arn: ARN });
    expect(a).toMatchObject({ outcome: 'aborted', execution: { status: 'ABORTED' } });
    expect(a.error).toBeUndefined();
    expect(a.headline).toBe('Execution run-1 was aborted (4 s) in WaitForJob; job support-ft may still run (the reaper stops it)');
  });

  it('a Lambda failure that a retry overcame is not a failed state; one the Catch took is', () => {
    const events = history()
      .started({})
      .entered('Task', 'SubmitJob')
      .lambdaFailed('Lambda.TooManyRequestsException', 'Rate exceeded')
      .add('LambdaFunctionScheduled', { lambdaFunctionScheduledEventDetails: { resource: 'fn' } })
      .add('LambdaFunctionStarted')
      .add('LambdaFunctionSucceeded', { lambdaFunctionSucceededEventDetails: {} })
      .exited('Task', 'SubmitJob', { submission })
      .entered('Task', 'CleanupEnis')
      .lambdaFailed('EnisStillInUseError', 'eni-1 (in-use)')
      .exited('Task', 'CleanupEnis', { cleanupError: { Error: 'EnisStillInUseError', Cause: JSON.stringify({ errorType: 'EnisStillInUseError', errorMessage: 'eni-1 (in-use)' }) } }).events;
    const view = buildExecutionView(events, { arn: ARN });
    expect(view.states.map((s) => [s.name, Boolean(s.failed)])).toEqual([['SubmitJob', false], ['CleanupEnis', true]]);
    expect(view.cleanup).toEqual({ error: 'EnisStillInUseError: eni-1 (in-use)' });
  });

  it('an error of no catalogue entry and a plain-text Cause: shown as is, no remedy', () => {
    const events = history().started({}).entered('Task', 'HandOver').failed('States.Runtime', 'An error occurred while executing the state.');
    const view = buildExecutionView(events, { arn: ARN });
    expect(view.error).toEqual({ error: 'States.Runtime', cause: 'An error occurred while executing the state.' });
    expect(view.headline).toBe('HandOver failed: States.Runtime: An error occurred while executing the state.');
  });

  it('an empty history: the description alone', () => {
    expect(buildExecutionView([], { arn: ARN, name: 'run-1', status: 'RUNNING', startDate: '2026-11-29T08:00:00Z' })).toEqual({
      execution: { arn: ARN, name: 'run-1', status: 'RUNNING', startDate: '2026-11-29T08:00:00.000Z' },
      outcome: 'running',
      headline: 'Execution run-1 running, in no state yet',
      states: [],
    });
  });
});

describe('helpers', () => {
  it('formatDuration', () => {
    expect([0, 45, 60, 185, 3600, 3720, 86_399, 90_000, 3 * 86_400].map(formatDuration)).toEqual([
      '0 s', '45 s', '1 min', '3 min 5 s', '1 h', '1 h 2 min', '23 h 59 min', '1 d 1 h', '3 d',
    ]);
  });

  it('causeMessage: the errorMessage of a Lambda error, anything else as is', () => {
    expect(causeMessage(JSON.stringify({ errorType: 'X', errorMessage: 'boom' }))).toBe('boom');
    expect(causeMessage('{"not":"lambda"}')).toBe('{"not":"lambda"}');
    expect(causeMessage('plain')).toBe('plain');
    expect(causeMessage(undefined)).toBe('');
  });

  it('parsePreflightFailure: a check without a remedy; not a preflight message', () => {
    expect(parsePreflightFailure('Network preflight failed (1 failing check): [role.exists] arn:aws:iam::123456789012:role/R: Role not found.')).toEqual([
      { id: 'role.exists', severity: 'fail', resource: 'arn:aws:iam::123456789012:role/R', message: 'Role not found.' },
    ]);
    expect(parsePreflightFailure('Invalid job input: vpcConfig.subnetIds: required')).toEqual([]);
  });
});

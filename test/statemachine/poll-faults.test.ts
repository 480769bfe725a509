/**
 * Fault injection on the status checks (real handlers, mocked clients, zero waits): a submitted job
 * is always followed to a terminal status, stopped when it can no longer be followed, and its ENIs
 * are deleted only once it has ended.
 */
import {
  AccessDeniedException,
  GetModelCustomizationJobCommand,
  InternalServerException,
  StopModelCustomizationJobCommand,
  ThrottlingException,
} from '@aws-sdk/client-bedrock';
import { DeleteNetworkInterfaceCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { POLL_RETRY } from '../../functions/poll-status/poll-status.js';
import { loadDefinition, runWorkflow, type TaskHandler } from '../../local/workflow.js';
import { rawJob } from '../fixtures/job.js';
import { ACCOUNT, mockHealthyAccount, mocks } from '../support/mock-account.js';
import { count, fast, handlers, lambdas, retries, useRealHandlers } from '../support/state-machine.js';

useRealHandlers();

const throttled = () => new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
const denied = () => new AccessDeniedException({ message: 'not authorized to GetModelCustomizationJob', $metadata: { httpStatusCode: 403 } });
const pollRetrier = () => (loadDefinition().States.PollStatus!.Retry as any[]).find((r) => r.ErrorEquals.includes('JobStatusUnavailableError'));

/**
 * A Bedrock job in the mocked account: InProgress until StopModelCustomizationJob is sent (then
 * Stopping once, then Stopped). `getFails(call)` returns an error to reject the call-th Get with.
 * Records whether an ENI was deleted while the job was not terminal.
 */
function bedrockJob(getFails: (call: number) => Error | undefined, stopFails?: () => Error) {
  let stopRequested = false;
  let checksSinceStop = 0;
  let calls = 0;
  const job = { deletedWhileRunning: false, status: () => (stopRequested ? (checksSinceStop > 1 ? 'Stopped' : 'Stopping') : 'InProgress') };
  mocks.bedrock.on(GetModelCustomizationJobCommand).callsFake(() => {
    const error = getFails(++calls);
    if (error) throw error;
    if (stopRequested) checksSinceStop++;
    return { jobArn: ACCOUNT.jobArn, status: job.status() };
  });
  mocks.bedrock.on(StopModelCustomizationJobCommand).callsFake(() => {
    if (stopFails) throw stopFails();
    stopRequested = true;
    return {};
  });
  mocks.ec2.on(DeleteNetworkInterfaceCommand).callsFake(() => {
    if (job.status() !== 'Stopped') job.deletedWhileRunning = true;
    return {};
  });
  return job;
}

describe('PollStatus fault injection', () => {
  it('retries transient status errors for at least 6 hours of backoff, with a bounded history', () => {
    const r = pollRetrier();
    expect(r).toMatchObject({ BackoffRate: 2 });
    expect(r.JitterStrategy).toBeUndefined(); // the budget must hold, not be a random fraction of it
    const delays = Array.from({ length: r.MaxAttempts }, (_, i) => Math.min(r.MaxDelaySeconds, r.IntervalSeconds * r.BackoffRate ** i));
    const total = delays.reduce((a, b) => a + b, 0);
    expect(total).toBe(21_660); // 6 h 1 min
    expect(total).toBeGreaterThanOrEqual(6 * 3600);
    // history: 3 events per attempt, + entered/exited
    expect((r.MaxAttempts + 1) * 3 + 2).toBe(53);
    expect(r.ErrorEquals).toEqual(expect.arrayContaining(['JobStatusUnavailableError', 'States.Timeout', 'Lambda.Unknown']));
    // poll-status counts the retries in its history estimate with the same schedule
    expect({ intervalSeconds: r.IntervalSeconds, backoffRate: r.BackoffRate, maxDelaySeconds: r.MaxDelaySeconds, maxAttempts: r.MaxAttempts }).toEqual(
      POLL_RETRY,
    );
  });

  it('throttled for a while, then the run carries on to Completed: no stop, one cleanup after the end', async () => {
    mockHealthyAccount(['InProgress', 'InProgress', 'Completed']);
    let calls = 0;
    mocks.bedrock.on(GetModelCustomizationJobCommand).callsFake(() => {
      calls++;
      if (calls >= 2 && calls <= 11) throw calls % 2 ? throttled() : new InternalServerException({ message: 'oops', $metadata: { httpStatusCode: 500 } });
      return { jobArn: ACCOUNT.jobArn, status: calls < 13 ? 'InProgress' : 'Completed' };
    });
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states.at(-1)).toBe('JobSucceeded');
    expect(retries(run, 'PollStatus')).toBe(10);
    expect(run.states).not.toContain('StopUnwatchedJob');
    expect(mocks.bedrock).not.toHaveReceivedCommand(StopModelCustomizationJobCommand);
    expect(count(run.states, 'CleanupEnis')).toBe(1);
  });

  it('a throttled check past the deadline still reaches the deadline stop and ends JobDeadlineExceeded', async () => {
    mockHealthyAccount(['InProgress']);
    const job = bedrockJob((call) => (call <= 3 ? throttled() : undefined));
    const run = await runWorkflow({ input: rawJob({ maxJobDurationSeconds: 1 }), handlers: handlers(), waitMs: 200, retryMs: 0 });
    expect(run).toMatchObject({ status: 'FAILED', error: 'JobDeadlineExceededError' });
    expect(count(run.states, 'StopJob')).toBe(1);
    expect(job.deletedWhileRunning).toBe(false);
    expect(mocks.ec2).toHaveReceivedCommandTimes(DeleteNetworkInterfaceCommand, 2);
  });

  it('retries exhausted: stops the job, follows it to Stopped, cleans up only then, fails with the poll error', async () => {
    mockHealthyAccount(['InProgress']);
    const attempts = pollRetrier().MaxAttempts + 1;
    const job = bedrockJob((call) => (call >= 2 && call <= 1 + attempts ? throttled() : undefined));
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run).toMatchObject({ status: 'FAILED', error: 'JobStatusUnavailableError' });
    expect(retries(run, 'PollStatus')).toBe(attempts - 1);
    expect(run.states.slice(run.states.indexOf('StopUnwatchedJob'))).toEqual([
      'StopUnwatchedJob', 'WaitForStop', 'ConfirmStopped', 'ConfirmStatus', 'WaitForStop', 'ConfirmStopped', 'ConfirmStatus',
      'FollowedToEnd', 'CleanupEnis', 'GateOrRevoke', 'RevokeGrants', 'Outcome', 'JobErrored',
    ]);
    expect(run.cause).toContain('Rate exceeded');
    expect(run.cause).toContain('its last status is Stopped');
    expect(mocks.bedrock).toHaveReceivedCommandWith(StopModelCustomizationJobCommand, { jobIdentifier: ACCOUNT.jobArn });
    expect(job.status()).toBe('Stopped');
    expect(job.deletedWhileRunning).toBe(false);
    expect(mocks.ec2).toHaveReceivedCommandTimes(DeleteNetworkInterfaceCommand, 2);
  });

  it('a timeout-like error (States.Timeout, Lambda.Unknown) is retried, and the run carries on', async () => {
    mockHealthyAccount(['InProgress', 'Completed']);
    const names = ['States.Timeout', 'Lambda.Unknown', 'Sandbox.Timedout'];
    let n = 0;
    const PollStatus: TaskHandler = async (input) => {
      if (n < names.length) {
        const e = new Error(JSON.stringify({ errorType: names[n], errorMessage: 'Task timed out after 300.00 seconds' }));
        e.name = names[n++]!;
        throw e;
      }
      return lambdas.PollStatus!(input);
    };
    const run = await runWorkflow({ input: rawJob(), handlers: { ...handlers(), PollStatus }, ...fast });
    expect(run.status).toBe('SUCCEEDED');
    expect(retries(run, 'PollStatus')).toBe(3);
    expect(mocks.bedrock).not.toHaveReceivedCommand(StopModelCustomizationJobCommand);
  });

  it('persistent AccessDenied on Get: stops the job; with no status to confirm, ends JobUnwatched without cleanup', async () => {
    mockHealthyAccount(['InProgress']);
    const job = bedrockJob(() => denied());
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run).toMatchObject({ status: 'FAILED', error: 'JobUnwatchedError' });
    expect(run.states.slice(-6)).toEqual(['PollStatus', 'StopUnwatchedJob', 'WaitForStop', 'ConfirmStopped', 'Unwatched', 'JobUnwatched']);
    expect(retries(run, 'PollStatus')).toBe(0); // not transient: no 6-hour wait
    expect(run.cause).toContain(ACCOUNT.jobArn);
    expect(run.cause).toContain('AccessDeniedException');
    expect(run.cause).toContain('ENI cleanup was skipped');
    expect(mocks.bedrock).toHaveReceivedCommandTimes(StopModelCustomizationJobCommand, 1);
    expect(job.status()).not.toBe('InProgress'); // stop requested
    expect(run.states).not.toContain('CleanupEnis');
    expect(mocks.ec2).not.toHaveReceivedCommand(DeleteNetworkInterfaceCommand);
  });

  it('Get and Stop both denied: ends JobUnwatched, no cleanup, no DeleteNetworkInterface', async () => {
    mockHealthyAccount(['InProgress']);
    const job = bedrockJob(
      (call) => (call >= 2 ? denied() : undefined),
      () => new AccessDeniedException({ message: 'not authorized to StopModelCustomizationJob', $metadata: {} }),
    );
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run).toMatchObject({ status: 'FAILED', error: 'JobUnwatchedError' });
    expect(run.states.slice(-4)).toEqual(['StopUnwatchedJob', 'ConfirmStopped', 'Unwatched', 'JobUnwatched']);
    expect(job.status()).toBe('InProgress');
    expect(run.states).not.toContain('CleanupEnis');
    expect(mocks.ec2).not.toHaveReceivedCommand(DeleteNetworkInterfaceCommand);
  });

  it('Stop denied but the status readable again and still InProgress: JobUnwatched, no cleanup', async () => {
    mockHealthyAccount(['InProgress']);
    const job = bedrockJob(
      (call) => (call === 2 ? denied() : undefined),
      () => new AccessDeniedException({ message: 'not authorized to StopModelCustomizationJob', $metadata: {} }),
    );
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run).toMatchObject({ status: 'FAILED', error: 'JobUnwatchedError' });
    expect(run.states.slice(-4)).toEqual(['ConfirmStopped', 'ConfirmStatus', 'Unwatched', 'JobUnwatched']);
    // Straight to Unwatched once the stop was refused: no WaitForStop loop.
    expect(count(run.states, 'ConfirmStopped')).toBe(1);
    expect(job.status()).toBe('InProgress');
    expect(mocks.ec2).not.toHaveReceivedCommand(DeleteNetworkInterfaceCommand);
  });

  it('the job ended on its own while its status could not be read: the stop is refused, cleanup runs after the terminal status', async () => {
    mockHealthyAccount(['InProgress']);
    let calls = 0;
    mocks.bedrock.on(GetModelCustomizationJobCommand).callsFake(() => {
      if (++calls === 2) throw denied();
      return { jobArn: ACCOUNT.jobArn, status: calls === 1 ? 'InProgress' : 'Completed' };
    });
    mocks.bedrock.on(StopModelCustomizationJobCommand).rejects(new Error('Job is not in progress'));
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run).toMatchObject({ status: 'FAILED', error: 'AccessDeniedException' });
    expect(run.cause).toContain('its last status is Completed');
    expect(count(run.states, 'CleanupEnis')).toBe(1);
    expect(mocks.ec2).toHaveReceivedCommandTimes(DeleteNetworkInterfaceCommand, 2);
  });
});

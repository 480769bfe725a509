/**
 * Early failure in the ASL file (real handlers, mocked clients): a phase of the job reported Failed in
 * GetModelCustomizationJob's `statusDetails` while the job is still InProgress (API reference
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_StatusDetails.html) ends the wait at once:
 * StopJob (the existing stop path, as the job's supervisor in the job ledger), the short waits after a
 * stop until Stopped, CleanupEnis and RevokeGrants, then JobFailed (JobFailedError) with the phase and
 * Bedrock's message in the Cause. Far from its deadline, with long waits: without the detection the job
 * would be followed on (and handed over) instead.
 */
import { GetModelCustomizationJobCommand, StopModelCustomizationJobCommand, AccessDeniedException } from '@aws-sdk/client-bedrock';
import { DeleteNetworkInterfaceCommand } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { runWorkflow, type TaskHandler } from '../../local/workflow.js';
import { rawJob } from '../fixtures/job.js';
import { setStage, TEST_STAGE_PARAMS } from '../fixtures/stage.js';
import { ACCOUNT, mockHealthyAccount, mocks } from '../support/mock-account.js';
import { count, handlers, lambdas, useRealHandlers } from '../support/state-machine.js';

useRealHandlers();
afterEach(() => setStage(TEST_STAGE_PARAMS));

const MESSAGE = 'Validation failed: the training data has records that are not valid JSON.';
// A day to the deadline, hour-long waits: only the phase failure can end this run early.
const job = () => rawJob({ maxJobDurationSeconds: 86_400, polling: { initialSeconds: 600, maxSeconds: 3600 } });

/**
 * Bedrock as the mock answers for the job: InProgress (validation running), then InProgress with the
 * validation phase Failed (with `failureMessage` when `withMessage`), until a stop request; after it
 * Stopping, then Stopped. `stop` is what StopModelCustomizationJob does (default: accepted).
 */
function bedrockWithFailedValidation(opts: { withMessage?: boolean; stop?: () => void; endsFailedAfter?: number } = {}) {
  const seen = { gets: 0, stopRequested: false, afterStop: 0 };
  mocks.bedrock.on(GetModelCustomizationJobCommand, { jobIdentifier: ACCOUNT.jobArn }).callsFake(() => {
    const n = ++seen.gets;
    if (opts.endsFailedAfter !== undefined && n > opts.endsFailedAfter) {
      return { jobArn: ACCOUNT.jobArn, status: 'Failed', failureMessage: MESSAGE, statusDetails: { validationDetails: { status: 'Failed' } } };
    }
    if (seen.stopRequested) {
      return { jobArn: ACCOUNT.jobArn, status: seen.afterStop++ === 0 ? 'Stopping' : 'Stopped', statusDetails: { validationDetails: { status: 'Failed' } } };
    }
    const failed = n >= 2;
    return {
      jobArn: ACCOUNT.jobArn,
      status: 'InProgress',
      ...(failed && opts.withMessage !== false ? { failureMessage: MESSAGE } : {}),
      statusDetails: { validationDetails: { status: failed ? 'Failed' : 'InProgress' }, dataProcessingDetails: { status: 'NotStarted' }, trainingDetails: { status: 'NotStarted' } },
    };
  });
  mocks.bedrock.on(StopModelCustomizationJobCommand).callsFake(() => {
    opts.stop?.();
    seen.stopRequested = true;
    return {};
  });
  return seen;
}

describe('early failure: a phase Failed while the job is InProgress', () => {
  it('poll mode: stops the job at once, follows it to Stopped, cleans up once, fails with JobFailedError naming the phase and Bedrock\'s message', async () => {
    mockHealthyAccount();
    const bedrock = bedrockWithFailedValidation();

    const run = await runWorkflow({ input: job(), handlers: handlers(), waitMs: 0, retryMs: 0 });

    expect(run).toMatchObject({ status: 'FAILED', error: 'JobFailedError' });
    expect(run.states.slice(run.states.indexOf('SubmitJob'))).toEqual([
      'SubmitJob',
      'PollStatus', 'JobStatus', 'WaitForJob',
      // the phase Failed: stop at once
      'PollStatus', 'JobStatus', 'StopJob', 'WaitAfterStop', 'WaitForJob',
      'PollStatus', 'JobStatus', 'WaitForJob', // Stopping
      'PollStatus', 'JobStatus', // Stopped
      'CleanupEnis', 'GateOrRevoke', 'RevokeGrants', 'Outcome', 'JobFailed',
    ]);
    expect(run.cause).toContain('failed in its validation phase (statusDetails.validationDetails.status Failed)');
    expect(run.cause).toContain(MESSAGE);
    expect(run.cause).toContain('stopped the job; its status is Stopped');
    expect(mocks.bedrock).toHaveReceivedCommandTimes(StopModelCustomizationJobCommand, 1);
    expect(mocks.bedrock).toHaveReceivedCommandWith(StopModelCustomizationJobCommand, { jobIdentifier: ACCOUNT.jobArn });
    expect(bedrock.gets).toBe(4);
    // The job's ENIs are cleaned up as on every path, once.
    expect(count(run.states, 'CleanupEnis')).toBe(1);
    expect(mocks.ec2).toHaveReceivedCommandTimes(DeleteNetworkInterfaceCommand, ACCOUNT.jobEnis.length);
  });

  it('event mode: the same (WaitAfterStop waits for the Stopped event, the safety net checks when it does not come)', async () => {
    setStage({ ...TEST_STAGE_PARAMS, jobWait: 'event' });
    mockHealthyAccount();
    bedrockWithFailedValidation({ withMessage: false });

    const run = await runWorkflow({ input: job(), handlers: handlers(), waitMs: 0, retryMs: 0, eventWaitMs: 20 });

    expect(run).toMatchObject({ status: 'FAILED', error: 'JobFailedError' });
    const stop = run.states.indexOf('StopJob');
    expect(run.states.slice(stop, stop + 3)).toEqual(['StopJob', 'WaitAfterStop', 'WaitForJobEvent']);
    expect(count(run.states, 'StopJob')).toBe(1);
    expect(run.states.slice(-5)).toEqual(['CleanupEnis', 'GateOrRevoke', 'RevokeGrants', 'Outcome', 'JobFailed']);
    // No failureMessage from Bedrock: the phase is still named.
    expect(run.cause).toContain('failed in its validation phase');
    expect(run.cause).toContain('Bedrock gave no failure message');
  });

  /** A Task error as the Lambda integration reports it (the fault matrix's form). */
  const taskError = (name: string) => Object.assign(new Error(JSON.stringify({ errorType: name, errorMessage: 'injected' })), { name });

  it.each([
    ['StopJob fails once with JobStopUnavailableError (retried)', (stop: TaskHandler): TaskHandler => {
      let calls = 0;
      return async (input) => (++calls === 1 ? Promise.reject(taskError('JobStopUnavailableError')) : stop(input));
    }, 'and stopped the job; its status is Stopped.'],
    ['StopJob times out after the stop went out, every time (retried, then caught)', (stop: TaskHandler): TaskHandler => async (input) => {
      await stop(input);
      throw taskError('States.Timeout');
    }, 'and asked Bedrock to stop the job (StopJob failed: States.Timeout); its status is Stopped.'],
  ] as const)('%s: the job still ends Stopped, cleaned up once, JobFailedError naming the phase', async (_case, wrap, ending) => {
    mockHealthyAccount();
    bedrockWithFailedValidation();

    const run = await runWorkflow({ input: job(), handlers: { ...handlers(), StopJob: wrap(lambdas.StopJob!) }, waitMs: 0, retryMs: 0 });

    expect(run).toMatchObject({ status: 'FAILED', error: 'JobFailedError' });
    expect(run.cause).toContain('failed in its validation phase');
    expect(run.cause!.endsWith(ending)).toBe(true);
    expect(count(run.states, 'StopJob')).toBe(1);
    expect(count(run.states, 'CleanupEnis')).toBe(1);
    expect(run.states.slice(-5)).toEqual(['CleanupEnis', 'GateOrRevoke', 'RevokeGrants', 'Outcome', 'JobFailed']);
  });

  it('the stop request is refused for good: no stop loop; the job is followed until Bedrock ends it Failed, then cleaned up', async () => {
    mockHealthyAccount();
    const refused = () => {
      throw new AccessDeniedException({ message: 'not authorized to StopModelCustomizationJob', $metadata: { httpStatusCode: 403 } });
    };
    bedrockWithFailedValidation({ stop: refused, endsFailedAfter: 4 });

    const run = await runWorkflow({ input: job(), handlers: handlers(), waitMs: 0, retryMs: 0 });

    expect(run).toMatchObject({ status: 'FAILED', error: 'JobFailedError' });
    // StopJob's Catch goes back to the poll; the polls after it do not ask to stop again.
    const stop = run.states.indexOf('StopJob');
    expect(run.states.slice(stop, stop + 2)).toEqual(['StopJob', 'WaitForJob']);
    expect(count(run.states, 'StopJob')).toBe(1);
    expect(count(run.states, 'PollStatus')).toBe(5);
    expect(mocks.bedrock).toHaveReceivedCommandTimes(StopModelCustomizationJobCommand, 1);
    expect(run.cause).toContain('failed in its validation phase');
    expect(run.states.slice(-5)).toEqual(['CleanupEnis', 'GateOrRevoke', 'RevokeGrants', 'Outcome', 'JobFailed']);
  });
});

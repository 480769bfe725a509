/**
 * Abuse: early failure (a job phase reported Failed in GetModelCustomizationJob's statusDetails while the
 * job is still InProgress makes poll-status stop the job at once). Invariant: the stop is sent only by the
 * job's supervisor in the job ledger, a record only this workflow writes; a phase failure widens nothing.
 *
 * Capability tried: a caller that reaches the poll-status Lambda (PollStatus, StopJob) with a forged
 * event naming another chain's job whose phase has failed: as another execution, as the owner's
 * execution id copied with another `self`, with a forged `$.poll.phaseFailure` / `$.stopRequest`, and as
 * StopJob with reason `phaseFailed`. In the state-machine harness: the real handlers, the mocked account
 * whose DynamoDB is an in-memory store evaluating DynamoDB's expressions.
 */
import { GetModelCustomizationJobCommand, StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { dynamoLedger, type Ledger } from '../../functions/shared/ledger.js';
import { localExecutionArn } from '../../local/workflow.js';
import { rawJob } from '../fixtures/job.js';
import { ledgerWith } from '../support/ledger.js';
import { ACCOUNT, mockHealthyAccount, mocks } from '../support/mock-account.js';
import { lambdas, useRealHandlers } from '../support/state-machine.js';

useRealHandlers();

const OWNER = localExecutionArn('owner');
const ATTACKER = localExecutionArn('attacker');
const JOB_NAME = 'victim-job';
const now = new Date();
const submission = {
  jobArn: ACCOUNT.jobArn,
  jobName: JOB_NAME,
  adopted: false,
  submittedAt: new Date(now.getTime() - 600_000).toISOString(),
  deadline: new Date(now.getTime() + 86_400_000).toISOString(),
};
let ledger: Ledger;

beforeEach(async () => {
  mockHealthyAccount();
  // The victim's job: its validation phase has failed, the job is still InProgress.
  mocks.bedrock.on(GetModelCustomizationJobCommand, { jobIdentifier: ACCOUNT.jobArn }).resolves({
    jobArn: ACCOUNT.jobArn,
    status: 'InProgress',
    failureMessage: 'Validation failed.',
    statusDetails: { validationDetails: { status: 'Failed' } },
  });
  ledger = dynamoLedger(process.env.JOB_LEDGER_TABLE!, { dynamodb: new DynamoDBClient({}), now: () => new Date() });
  await ledgerWith(ledger, [{ jobName: JOB_NAME, owner: OWNER, jobArn: ACCOUNT.jobArn }]);
});

/** The state PollStatus receives (the whole execution state), as `execution` with `extra`. */
function state(execution: string, extra: Record<string, unknown> = {}) {
  const job = rawJob({ jobName: JOB_NAME }) as Record<string, unknown>;
  return {
    job: { jobName: JOB_NAME, polling: { initialSeconds: 600, maxSeconds: 3600, growthFactor: 2, handoverAfterEvents: 10_000, mode: 'poll', eventSafetyNetSeconds: 900, maxExecutions: 50 }, vpcConfig: job.vpcConfig },
    execution: { id: execution, name: execution.split(':').at(-1), startTime: submission.submittedAt },
    submission,
    ...extra,
  };
}

const stops = () => mocks.bedrock.commandCalls(StopModelCustomizationJobCommand).length;

describe('a phase failure stops only this execution\'s job', () => {
  it('control: the job\'s supervisor sees the phase Failed and its StopJob goes out', async () => {
    const poll = (await lambdas.PollStatus!(state(OWNER) as never)) as { next: string; stopReason: string };
    expect(poll).toMatchObject({ next: 'stop', stopReason: 'phaseFailed' });
    await lambdas.StopJob!({ action: 'stop', reason: 'phaseFailed', submission, execution: { id: OWNER }, self: OWNER } as never);
    expect(stops()).toBe(1);
  });

  it.each([
    ['another execution naming the job', () => state(ATTACKER)],
    ['another execution with a forged phase failure and stop request', () =>
      state(ATTACKER, { poll: { pollCount: 3, phaseFailure: { phase: 'validation', detectedAt: now.toISOString() } }, stopRequest: { requested: true, reason: 'phaseFailed' } })],
    ['the owner\'s execution id with the job ARN swapped', () => ({ ...state(OWNER), submission: { ...submission, jobArn: `${ACCOUNT.jobArn}-other` } })],
  ])('PollStatus as %s: JobNotOursError before any status check, nothing stopped', async (_case, event) => {
    await expect(lambdas.PollStatus!(event() as never)).rejects.toMatchObject({ name: 'JobNotOursError' });
    expect(mocks.bedrock.commandCalls(GetModelCustomizationJobCommand)).toHaveLength(0);
    expect(stops()).toBe(0);
  });

  it('PollStatus with the owner\'s id copied but another execution as `self`: superseded, no status check, nothing stopped', async () => {
    const forged = state(OWNER, { handover: { generation: 1, self: ATTACKER, startedAt: now.toISOString() } });
    await expect(lambdas.PollStatus!(forged as never)).resolves.toMatchObject({ next: 'superseded' });
    expect(mocks.bedrock.commandCalls(GetModelCustomizationJobCommand)).toHaveLength(0);
    expect(stops()).toBe(0);
  });

  it.each([
    ['another chain', { execution: { id: ATTACKER }, self: ATTACKER, submission }],
    ['the owner\'s id copied, another self', { execution: { id: OWNER }, self: ATTACKER, submission }],
    ['the supervisor with another job\'s ARN under the name', { execution: { id: OWNER }, self: OWNER, submission: { ...submission, jobArn: `${ACCOUNT.jobArn}-other` } }],
  ])('StopJob with reason phaseFailed from %s: JobNotOursError, nothing sent', async (_case, forged) => {
    await expect(lambdas.StopJob!({ action: 'stop', reason: 'phaseFailed', ...forged } as never)).rejects.toMatchObject({ name: 'JobNotOursError' });
    expect(stops()).toBe(0);
  });
});

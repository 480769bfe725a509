/**
 * Early failure: a phase of the job (GetModelCustomizationJob `statusDetails`: validationDetails,
 * dataProcessingDetails, trainingDetails, each with a JobStatusDetails `status`; API reference
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_StatusDetails.html) reported `Failed` while
 * the job is still `InProgress` ends the wait at once: poll-status answers `stop` (phaseFailed), and the
 * job's end is `failed` with the phase and Bedrock's message, never a deadline stop. The stop is sent
 * only by the job's supervisor in the job ledger.
 */
import { BedrockClient, GetModelCustomizationJobCommand, StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { failedPhase, pollStatus, PHASE_MEMBERS, type PollStatusInput } from '../../functions/poll-status/poll-status.js';
import { stopJob } from '../../functions/poll-status/stop-job.js';
import { JobNotOursError, JobStopError } from '../../functions/shared/errors.js';
import { JOB_PHASES, readStateData, type JobPhase, type PollResult } from '../../functions/shared/job-state.js';
import type { Ledger } from '../../functions/shared/ledger.js';
import { emulatedLedger, ledgerWith } from '../support/ledger.js';

const bedrock = mockClient(BedrockClient);
const ec2 = mockClient(EC2Client);
const dynamodb = mockClient(DynamoDBClient);
let ledger: Ledger;
afterEach(() => {
  bedrock.reset();
  ec2.reset();
  dynamodb.reset();
});

// Long waits and a far deadline: without early-failure detection this job would be followed for a day.
const polling = { initialSeconds: 600, maxSeconds: 3600, growthFactor: 2, handoverAfterEvents: 10_000, mode: 'poll' as const, eventSafetyNetSeconds: 900, maxExecutions: 50 };
const submission = {
  jobArn: 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/abc',
  jobName: 'job-1',
  adopted: false,
  submittedAt: '2026-11-28T10:00:00.000Z',
  deadline: '2026-11-29T10:00:00.000Z',
};
const FIRST = {
  id: 'arn:aws:states:us-east-1:123456789012:execution:bedrock-vpc-customization-dev-customize-model:run-1',
  name: 'run-1',
};
const input = (extra: Partial<PollStatusInput> = {}): PollStatusInput => ({ job: { jobName: 'job-1', polling }, execution: FIRST, submission, ...extra });
const at = (iso: string) => ({ bedrock: new BedrockClient({}), ec2: new EC2Client({}), ledger, now: () => new Date(iso) });
const EARLY = '2026-11-28T10:03:00Z';

/** The failure message Bedrock gives (the kind the API reference's failureMessage carries). */
const BEDROCK_MESSAGE = 'The provided training data has invalid records at line 3.';

/**
 * statusDetails with `failed` Failed, the phases before it Completed, those after it NotStarted (as the
 * phases run in order: validation, data processing, training).
 */
function detailsWith(failed: JobPhase) {
  const at = JOB_PHASES.indexOf(failed);
  return Object.fromEntries(
    JOB_PHASES.map((phase, i) => [PHASE_MEMBERS[phase], { status: i < at ? 'Completed' : i === at ? 'Failed' : 'NotStarted', creationTime: new Date('2026-11-28T10:01:00Z') }]),
  );
}

beforeEach(async () => {
  ({ ledger } = emulatedLedger(dynamodb));
  ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [] });
  await ledgerWith(ledger, [{ jobName: submission.jobName, owner: FIRST.id, jobArn: submission.jobArn }]);
});

describe('failedPhase', () => {
  it('names the first phase whose status is Failed, in the order they run; none for the other JobStatusDetails values', () => {
    expect(failedPhase(undefined)).toBeUndefined();
    expect(failedPhase({})).toBeUndefined();
    for (const status of ['NotStarted', 'InProgress', 'Completed', 'Stopping', 'Stopped'] as const) {
      expect(failedPhase({ validationDetails: { status }, dataProcessingDetails: { status }, trainingDetails: { status } }), status).toBeUndefined();
    }
    for (const phase of JOB_PHASES) expect(failedPhase(detailsWith(phase))).toBe(phase);
    expect(failedPhase({ trainingDetails: { status: 'Failed' }, dataProcessingDetails: { status: 'Failed' } })).toBe('dataProcessing');
  });
});

describe('pollStatus: a phase Failed while the job is InProgress', () => {
  it.each(JOB_PHASES)('%s Failed: stop at once (phaseFailed) on the first check, the phase and Bedrock\'s message named, short waits after', async (phase) => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress', failureMessage: BEDROCK_MESSAGE, statusDetails: detailsWith(phase) });

    const poll = await pollStatus(input(), at(EARLY));

    // Not `wait`: the job would otherwise be followed until its end or its deadline a day later.
    expect(poll).toMatchObject({ status: 'InProgress', next: 'stop', stopReason: 'phaseFailed', deadlineExceeded: false });
    expect(poll.phaseFailure).toEqual({ phase, failureMessage: BEDROCK_MESSAGE, detectedAt: new Date(EARLY).toISOString() });
    expect(poll.message).toContain(`statusDetails.${PHASE_MEMBERS[phase]}.status Failed`);
    expect(poll.message).toContain(BEDROCK_MESSAGE);
    expect(poll.failureMessage).toBe(BEDROCK_MESSAGE);
    // The waits after a stop (initialSeconds, never the grown interval).
    expect(poll.nextWaitSeconds).toBe(polling.initialSeconds);
  });

  it('without a failureMessage yet: still stops, and says Bedrock gave none', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress', statusDetails: detailsWith('validation') });
    const poll = await pollStatus(input({ poll: { pollCount: 7 } }), at(EARLY));
    expect(poll).toMatchObject({ next: 'stop', stopReason: 'phaseFailed', phaseFailure: { phase: 'validation' } });
    expect(poll.failureMessage).toBeUndefined();
    expect(poll.message).toContain('no failure message yet');
  });

  it('the other phase statuses: the job is followed as usual', async () => {
    for (const status of ['NotStarted', 'InProgress', 'Completed', 'Stopping', 'Stopped'] as const) {
      bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress', statusDetails: { validationDetails: { status }, dataProcessingDetails: { status }, trainingDetails: { status } } });
      const poll = await pollStatus(input(), at(EARLY));
      expect(poll, status).toMatchObject({ next: 'wait' });
      expect(poll.phaseFailure, status).toBeUndefined();
    }
  });

  it('a phase failure before the deadline is reported as the job\'s failure, not as a deadline stop: stop, Stopping, Stopped → failed', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress', failureMessage: BEDROCK_MESSAGE, statusDetails: detailsWith('dataProcessing') });
    const first = await pollStatus(input(), at(EARLY));
    expect(first.next).toBe('stop');
    // StopJob's result, as the ASL puts it in $.stopRequest.
    const stopRequest = { requested: true, reason: first.stopReason, requestedAt: '2026-11-28T10:03:01.000Z' };
    const carry = (p: PollResult) => ({ pollCount: p.pollCount, pollsThisExecution: p.pollsThisExecution, checkedAt: p.checkedAt, nextWaitSeconds: p.nextWaitSeconds, phaseFailure: p.phaseFailure });

    // Stopping: wait (short), the failure carried; Bedrock's phases as it reports them then.
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'Stopping', statusDetails: { validationDetails: { status: 'Completed' }, dataProcessingDetails: { status: 'Stopping' } } });
    const stopping = await pollStatus(input({ poll: carry(first), stopRequest }), at('2026-11-28T10:13:01Z'));
    expect(stopping).toMatchObject({ next: 'wait', status: 'Stopping', phaseFailure: first.phaseFailure });
    expect(stopping.nextWaitSeconds).toBe(600);

    // Stopped, no failureMessage on the stopped job: failed, with the message seen when the phase failed.
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'Stopped', statusDetails: { dataProcessingDetails: { status: 'Stopped' } } });
    const stopped = await pollStatus(input({ poll: carry(stopping), stopRequest }), at('2026-11-28T10:23:01Z'));
    expect(stopped).toMatchObject({ status: 'Stopped', next: 'failed', failureMessage: BEDROCK_MESSAGE });
    expect(stopped.message).toBe(
      `Job job-1 failed in its data processing phase (statusDetails.dataProcessingDetails.status Failed): ${BEDROCK_MESSAGE}. ` +
        `This workflow saw the phase Failed at 2026-11-28T10:03:00.000Z while the job was still InProgress and stopped the job; its status is Stopped.`,
    );
    expect(stopped.message).not.toContain('deadline');
  });

  it('the stop was ours and the phase is still Failed on the stopped job (no carried record): failed', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'Stopped', statusDetails: detailsWith('training') });
    const out = await pollStatus(input({ stopRequest: { requested: true, reason: 'phaseFailed' } }), at(EARLY));
    expect(out).toMatchObject({ next: 'failed', phaseFailure: { phase: 'training' } });
    expect(out.message).toContain('failed in its training phase');
  });

  it('Bedrock ends the job Failed (before or after the stop): failed, the phase and Bedrock\'s message named', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'Failed', failureMessage: BEDROCK_MESSAGE, statusDetails: detailsWith('validation') });
    const itself = await pollStatus(input(), at(EARLY));
    expect(itself).toMatchObject({ next: 'failed', failureMessage: BEDROCK_MESSAGE });
    expect(itself.message).toBe(`Job job-1 failed in its validation phase (statusDetails.validationDetails.status Failed): ${BEDROCK_MESSAGE}.`);
    const afterStop = await pollStatus(input({ stopRequest: { requested: true, reason: 'phaseFailed' } }), at(EARLY));
    expect(afterStop.next).toBe('failed');
    expect(afterStop.message).toContain('stopped the job; its status is Failed');
  });

  it('a stop request that failed (StopJob\'s Catch): no second stop, the job is followed at its own pace; past the deadline JobStopError', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress', statusDetails: detailsWith('validation') });
    const stopError = { Error: 'AccessDeniedException', Cause: 'not allowed' };
    const out = await pollStatus(input({ stopError, poll: { pollCount: 2 } }), at(EARLY));
    expect(out).toMatchObject({ next: 'wait', phaseFailure: { phase: 'validation' } });
    expect(out.nextWaitSeconds).toBe(2400); // the third check: 600 × 2², the job's own pace
    expect(out.message).toContain('the stop request failed (AccessDeniedException)');
    await expect(pollStatus(input({ stopError }), at('2026-11-29T10:00:01Z'))).rejects.toBeInstanceOf(JobStopError);
  });

  it('a job that completed is completed, whatever a phase said', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'Completed', outputModelArn: 'arn:model', statusDetails: detailsWith('training') });
    expect(await pollStatus(input(), at(EARLY))).toMatchObject({ next: 'completed' });
  });

  it('the poll result is read back by the view and the CLI with its phase failure', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress', failureMessage: BEDROCK_MESSAGE, statusDetails: detailsWith('validation') });
    const poll = await pollStatus(input(), at(EARLY));
    expect(readStateData({ poll: JSON.parse(JSON.stringify(poll)) })?.poll?.phaseFailure).toEqual(poll.phaseFailure);
  });
});

describe('early failure and the job ledger: a phase failure never stops a job that is not this execution\'s', () => {
  const failing = () => bedrock.on(GetModelCustomizationJobCommand).resolves({ status: 'InProgress', statusDetails: detailsWith('validation') });

  it('an execution the ledger does not name: JobNotOursError before any status check, nothing stopped', async () => {
    failing();
    const intruder = { id: FIRST.id.replace(/run-1$/, 'intruder'), name: 'intruder' };
    await expect(pollStatus(input({ execution: intruder }), at(EARLY))).rejects.toBeInstanceOf(JobNotOursError);
    // The ledger's job under this name is another ARN: the same.
    await expect(pollStatus(input({ submission: { ...submission, jobArn: `${submission.jobArn}x` } }), at(EARLY))).rejects.toBeInstanceOf(JobNotOursError);
    expect(bedrock.calls()).toHaveLength(0);
  });

  it('a superseded execution (a successor claimed the job): ends without a check or a stop', async () => {
    failing();
    const successor = FIRST.id.replace(/run-1$/, 'run-1-next-h1');
    await ledger.designate(submission.jobName, FIRST.id, successor, 1);
    await ledger.claim(submission.jobName, successor, FIRST.id, submission.jobArn);
    expect(await pollStatus(input(), at(EARLY))).toMatchObject({ next: 'superseded' });
    expect(bedrock.calls()).toHaveLength(0);
  });

  it('StopJob with reason phaseFailed: the supervisor\'s stop goes out; anyone else\'s is JobNotOursError, nothing sent', async () => {
    bedrock.on(StopModelCustomizationJobCommand).resolves({});
    const deps = { bedrock: new BedrockClient({}), ledger, now: () => new Date(EARLY) };
    const job = { jobArn: submission.jobArn, jobName: submission.jobName };
    const other = FIRST.id.replace(/run-1$/, 'intruder');
    for (const forged of [
      { submission: job, execution: { id: other }, self: other },
      { submission: job, execution: { id: FIRST.id }, self: other },
      { submission: { ...job, jobArn: `${job.jobArn}x` }, execution: { id: FIRST.id }, self: FIRST.id },
    ]) {
      await expect(stopJob({ ...forged, reason: 'phaseFailed' }, deps)).rejects.toBeInstanceOf(JobNotOursError);
    }
    expect(bedrock.calls()).toHaveLength(0);
    await expect(stopJob({ submission: job, execution: { id: FIRST.id }, self: FIRST.id, reason: 'phaseFailed' }, deps)).resolves.toMatchObject({ requested: true, reason: 'phaseFailed' });
    expect(bedrock).toHaveReceivedCommandWith(StopModelCustomizationJobCommand, { jobIdentifier: submission.jobArn });
  });
});

import { BedrockClient, StopModelCustomizationJobCommand, ThrottlingException, ValidationException, AccessDeniedException } from '@aws-sdk/client-bedrock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stopJob } from '../../functions/poll-status/stop-job.js';
import { JobNotOursError, JobStopUnavailableError } from '../../functions/shared/errors.js';
import type { Ledger } from '../../functions/shared/ledger.js';
import { emulatedLedger, ledgerWith } from '../support/ledger.js';

const bedrock = mockClient(BedrockClient);
const dynamodb = mockClient(DynamoDBClient);
afterEach(() => {
  bedrock.reset();
  dynamodb.reset();
});

const FIRST = 'arn:aws:states:us-east-1:123456789012:execution:sm:run-1';
const JOB = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/j1';
const submission = { jobArn: JOB, jobName: 'job-1' };
let ledger: Ledger;
const STOPPED_AT = '2026-11-28T11:00:05.000Z';
const deps = () => ({ bedrock: new BedrockClient({}), ledger, now: () => new Date(STOPPED_AT) });

beforeEach(async () => {
  ({ ledger } = emulatedLedger(dynamodb));
  await ledgerWith(ledger, [{ jobName: 'job-1', owner: FIRST, jobArn: JOB }]);
});

describe('stopJob (StopJob, StopUnwatchedJob)', () => {
  it('the supervisor stops its job', async () => {
    bedrock.on(StopModelCustomizationJobCommand).resolves({});
    await expect(stopJob({ submission, execution: { id: FIRST }, self: FIRST, reason: 'deadline' }, deps())).resolves.toEqual({ requested: true, reason: 'deadline', requestedAt: STOPPED_AT });
    expect(bedrock).toHaveReceivedCommandWith(StopModelCustomizationJobCommand, { jobIdentifier: JOB });
  });

  it.each([
    ['another execution of the same chain that does not supervise it', { execution: { id: FIRST }, self: `${FIRST}-x`, submission }],
    ['another chain naming this job', { execution: { id: `${FIRST}-x` }, self: `${FIRST}-x`, submission }],
    ['the supervisor naming a job the ledger does not record under that name', { execution: { id: FIRST }, self: FIRST, submission: { jobArn: `${JOB}x`, jobName: 'job-1' } }],
    ['a job name with no ledger entry', { execution: { id: FIRST }, self: FIRST, submission: { jobArn: JOB, jobName: 'job-2' } }],
  ])('%s: JobNotOursError, nothing sent', async (_case, input) => {
    await expect(stopJob({ ...input, reason: 'deadline' }, deps())).rejects.toBeInstanceOf(JobNotOursError);
    expect(bedrock.calls()).toHaveLength(0);
  });

  it('a job that no longer runs: no request, said so', async () => {
    bedrock.on(StopModelCustomizationJobCommand).rejects(new ValidationException({ message: 'Job is not in progress', $metadata: {} }));
    await expect(stopJob({ submission, execution: { id: FIRST }, self: FIRST, reason: 'unwatched' }, deps())).resolves.toMatchObject({ requested: false });
  });

  it('throttled: JobStopUnavailableError (retried); denied: passed on', async () => {
    bedrock.on(StopModelCustomizationJobCommand).rejects(new ThrottlingException({ message: 'slow down', $metadata: {} }));
    await expect(stopJob({ submission, execution: { id: FIRST }, self: FIRST, reason: 'deadline' }, deps())).rejects.toBeInstanceOf(JobStopUnavailableError);
    bedrock.on(StopModelCustomizationJobCommand).rejects(new AccessDeniedException({ message: 'no', $metadata: {} }));
    await expect(stopJob({ submission, execution: { id: FIRST }, self: FIRST, reason: 'deadline' }, deps())).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});

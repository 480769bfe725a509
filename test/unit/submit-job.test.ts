import {
  BedrockClient,
  CreateModelCustomizationJobCommand,
  GetModelCustomizationJobCommand,
  InternalServerException,
  ResourceInUseException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CopyObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ledger } from '../../functions/shared/ledger.js';
import { emulatedLedger } from '../support/ledger.js';
import {
  JobNameConflictError,
  JobNotOursError,
  JobQuotaExceededError,
  JobSubmissionError,
  JobSubmissionUncertainError,
} from '../../functions/shared/errors.js';
import { EXECUTION_TAG, buildCreateRequest, planQuotaWait, reconcileSubmission, submitJob } from '../../functions/submit-job/submit-job.js';
import { EXECUTION, resolvedJob } from '../fixtures/job.js';

const bedrock = mockClient(BedrockClient);
const now = () => new Date('2026-11-28T10:00:00Z');
const jobArn = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/abc123';

const dynamodb = mockClient(DynamoDBClient);
let ledger: Ledger;
beforeEach(() => {
  s3.on(CopyObjectCommand).resolves({});
  ({ ledger } = emulatedLedger(dynamodb, now));
});
afterEach(() => {
  bedrock.reset();
  dynamodb.reset();
  s3.reset();
});
/** The step's deps: the mocked Bedrock, and the real ledger over an in-memory table. */
const s3 = mockClient(S3Client);
const deps = () => ({ bedrock: new BedrockClient({}), s3: new S3Client({}), ledger, now });
/** `$.dataset` as ValidateDataset returns it for the fixture job: each object it read, with S3's ETag. */
const CHECKED = {
  objects: [
    { role: 'training' as const, index: 0, uri: resolvedJob().trainingDataS3Uri, etag: '"etag-training"', bytes: 100, checked: true },
    ...resolvedJob().validationDataS3Uris.map((uri, index) => ({ role: 'validation' as const, index, uri, etag: `"etag-validation-${index}"`, bytes: 10, checked: true })),
  ],
};
/** The reservation SubmitJob made before its failed attempts (ReconcileSubmission runs after one). */
const reserve = (job = resolvedJob(), owner = EXECUTION.id) =>
  ledger.reserve({ jobName: job.jobName, owner, clientRequestToken: job.clientRequestToken, network: job.vpcConfig, maxJobDurationSeconds: 3600 });

const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('buildCreateRequest', () => {
  it('maps every API option, with vpcConfig subnetIds (not the guide\'s "Subnets")', () => {
    const job = resolvedJob({ customModelKmsKeyId: KEY_ARN, customModelTags: { owner: 'ml' } });
    const request = buildCreateRequest(job, EXECUTION);
    expect(request).toEqual({
      jobName: job.jobName,
      customModelName: job.customModelName,
      roleArn: job.roleArn,
      clientRequestToken: job.clientRequestToken,
      baseModelIdentifier: 'amazon.titan-text-express-v1',
      customizationType: 'FINE_TUNING',
      customModelKmsKeyId: KEY_ARN,
      jobTags: [
        { key: 'team', value: 'ml' },
        { key: EXECUTION_TAG, value: EXECUTION.id },
      ],
      customModelTags: [{ key: 'owner', value: 'ml' }],
      trainingDataConfig: { s3Uri: 's3://training-bucket/datasets/support.jsonl' },
      validationDataConfig: { validators: [{ s3Uri: 's3://training-bucket/datasets/support-validation.jsonl' }] },
      outputDataConfig: { s3Uri: 's3://output-bucket/runs/' },
      hyperParameters: { epochCount: '2', batchSize: '1', learningRate: '0.00001' },
      vpcConfig: { subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'], securityGroupIds: ['sg-0123456789abcdef0'] },
    });
  });

  it('leaves out empty optional parts', () => {
    const request = buildCreateRequest(resolvedJob({ validationDataS3Uris: [] }), EXECUTION);
    expect(request).not.toHaveProperty('validationDataConfig');
    expect(request).not.toHaveProperty('customModelKmsKeyId');
    expect(request).not.toHaveProperty('customModelTags');
  });
});

describe('submitJob', () => {
  it('creates the job and sets the deadline maxJobDurationSeconds after submission', async () => {
    bedrock.on(CreateModelCustomizationJobCommand).resolves({ jobArn });
    const job = resolvedJob({ maxJobDurationSeconds: 3600 });
    const submission = await submitJob(job, EXECUTION, CHECKED, deps());
    expect(submission).toEqual({
      jobArn,
      jobName: job.jobName,
      adopted: false,
      submittedAt: '2026-11-28T10:00:00.000Z',
      deadline: '2026-11-28T11:00:00.000Z',
      trainedOn: {
        trainingDataS3Uri: expect.stringMatching(/^s3:\/\/output-bucket\/runs\/.+\/input\/.+\/training\.jsonl$/),
        validationDataS3Uris: [expect.stringMatching(/\/validation-0\.jsonl$/)],
      },
    });
    // The job trains on the snapshot of the checked objects, copied on the ETag the dataset step read.
    expect(s3).toHaveReceivedCommandWith(CopyObjectCommand, { CopySourceIfMatch: '"etag-training"' });
    expect(bedrock).toHaveReceivedCommandWith(CreateModelCustomizationJobCommand, {
      trainingDataConfig: { s3Uri: submission.trainedOn!.trainingDataS3Uri },
    });
    expect(bedrock).toHaveReceivedCommandWith(CreateModelCustomizationJobCommand, {
      clientRequestToken: job.clientRequestToken,
      vpcConfig: { subnetIds: job.vpcConfig.subnetIds, securityGroupIds: job.vpcConfig.securityGroupIds },
    });
  });

  it('adopts the job a retried task already created (same token), keeping its creation time for the deadline', async () => {
    const job = resolvedJob({ maxJobDurationSeconds: 60 });
    bedrock
      .on(CreateModelCustomizationJobCommand)
      .rejects(new ResourceInUseException({ message: `Model customization job ${job.jobName} already exists`, $metadata: {} }));
    bedrock.on(GetModelCustomizationJobCommand).resolves({
      jobArn,
      clientRequestToken: job.clientRequestToken,
      creationTime: new Date('2026-11-28T09:59:00Z'),
    });
    const submission = await submitJob(job, EXECUTION, CHECKED, deps());
    expect(submission).toMatchObject({ jobArn, adopted: true, deadline: '2026-11-28T10:00:00.000Z' });
    expect(bedrock).toHaveReceivedCommandWith(GetModelCustomizationJobCommand, { jobIdentifier: job.jobName });
  });

  it('also adopts on the "name is currently in use" validation error', async () => {
    const job = resolvedJob();
    bedrock
      .on(CreateModelCustomizationJobCommand)
      .rejects(new ValidationException({ message: 'The provided job name is currently in use.', $metadata: {} }));
    bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn, clientRequestToken: job.clientRequestToken });
    await expect(submitJob(job, EXECUTION, CHECKED, deps())).resolves.toMatchObject({ adopted: true });
  });

  it('refuses a name taken by another request (different token)', async () => {
    const job = resolvedJob({ jobName: 'shared-name' });
    bedrock
      .on(CreateModelCustomizationJobCommand)
      .rejects(new ResourceInUseException({ message: 'Model customization job shared-name already exists', $metadata: {} }));
    bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn, clientRequestToken: 'someone-else' });
    const error = await submitJob(job, EXECUTION, CHECKED, deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobNameConflictError);
    expect((error as Error).name).toBe('JobNameConflictError');
    expect((error as Error).message).toContain('shared-name');
  });

  it('turns a refused request into JobSubmissionError with the service message', async () => {
    bedrock
      .on(CreateModelCustomizationJobCommand)
      .rejects(new ValidationException({ message: 'Base model not found', $metadata: {} }));
    const error = await submitJob(resolvedJob(), EXECUTION, CHECKED, deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobSubmissionError);
    expect((error as Error).message).toContain('Base model not found');
  });

  it('turns the job quota into JobQuotaExceededError (retried by the state machine) within maxQuotaWaitSeconds', async () => {
    bedrock
      .on(CreateModelCustomizationJobCommand)
      .rejects(new ServiceQuotaExceededException({ message: 'Too many jobs', $metadata: {} }));
    const started = { ...EXECUTION, startTime: '2026-11-28T09:00:00.000Z' }; // one hour before `now`
    const waiting = await submitJob(resolvedJob({ maxQuotaWaitSeconds: 7200 }), started, CHECKED, deps()).catch((e: unknown) => e);
    expect(waiting).toBeInstanceOf(JobQuotaExceededError);
    expect((waiting as Error).message).toContain('Too many jobs');
  });

  it('gives up with JobSubmissionError once maxQuotaWaitSeconds have passed', async () => {
    bedrock
      .on(CreateModelCustomizationJobCommand)
      .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));
    const started = { ...EXECUTION, startTime: '2026-11-28T09:00:00.000Z' };
    const error = await submitJob(resolvedJob({ maxQuotaWaitSeconds: 1800 }), started, CHECKED, deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobSubmissionError);
    expect((error as Error).message).toContain('after waiting 3600 s');
  });

  it('turns a transient error (5xx, timeout) into JobSubmissionUncertainError: the job may exist', async () => {
    const boom = new InternalServerException({ message: 'Internal error', $metadata: { httpStatusCode: 500 } });
    bedrock.on(CreateModelCustomizationJobCommand).rejects(boom);
    const error = await submitJob(resolvedJob(), EXECUTION, CHECKED, deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobSubmissionUncertainError);
    expect((error as Error).name).toBe('JobSubmissionUncertainError');
    expect((error as Error).message).toContain('Internal error');
    expect((error as Error).cause).toBe(boom);
    const timeout = Object.assign(new Error('socket timed out'), { name: 'TimeoutError' });
    bedrock.on(CreateModelCustomizationJobCommand).rejects(timeout);
    await expect(submitJob(resolvedJob(), EXECUTION, CHECKED, deps())).rejects.toBeInstanceOf(JobSubmissionUncertainError);
  });

  it('lets other errors through unchanged', async () => {
    const boom = new Error('unexpected');
    bedrock.on(CreateModelCustomizationJobCommand).rejects(boom);
    await expect(submitJob(resolvedJob(), EXECUTION, CHECKED, deps())).rejects.toBe(boom);
  });
});

describe('reconcileSubmission', () => {
  const caught = { Error: 'JobSubmissionUncertainError', Cause: JSON.stringify({ errorType: 'JobSubmissionUncertainError', errorMessage: 'Internal error' }) };

  it('adopts the job of that name when it carries our token, deadline from its creation time', async () => {
    const job = resolvedJob({ maxJobDurationSeconds: 60 });
    bedrock.on(GetModelCustomizationJobCommand).resolves({
      jobArn,
      clientRequestToken: job.clientRequestToken,
      creationTime: new Date('2026-11-28T09:59:00Z'),
    });
    await reserve(job);
    const submission = await reconcileSubmission(job, EXECUTION, caught, deps());
    expect(submission).toEqual({ jobArn, jobName: job.jobName, adopted: true, submittedAt: '2026-11-28T09:59:00.000Z', deadline: '2026-11-28T10:00:00.000Z' });
    expect(bedrock).toHaveReceivedCommandWith(GetModelCustomizationJobCommand, { jobIdentifier: job.jobName });
    expect(bedrock).not.toHaveReceivedCommand(CreateModelCustomizationJobCommand);
  });

  it('no job of that name: JobSubmissionError naming the submission error, nothing to clean up', async () => {
    bedrock.on(GetModelCustomizationJobCommand).rejects(new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 404 } }));
    await reserve();
    const error = await reconcileSubmission(resolvedJob(), EXECUTION, caught, deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobSubmissionError);
    expect((error as Error).message).toContain('JobSubmissionUncertainError: Internal error');
    expect((error as Error).message).toContain('no job of that name exists');
  });

  it('a refusal and no job of that name: JobSubmissionError with the refusal\'s message', async () => {
    bedrock.on(GetModelCustomizationJobCommand).rejects(new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 404 } }));
    const refused = { Error: 'JobSubmissionError', Cause: JSON.stringify({ errorType: 'JobSubmissionError', errorMessage: 'refused: Base model not found' }) };
    await reserve();
    const error = await reconcileSubmission(resolvedJob(), EXECUTION, refused, deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobSubmissionError);
    expect((error as Error).message).toMatch(/^refused: Base model not found \| No job named .* exists: there is nothing to clean up\.$/);
  });

  it('a job of that name with another token: JobNameConflictError', async () => {
    bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn, clientRequestToken: 'someone-else' });
    await reserve();
    await expect(reconcileSubmission(resolvedJob(), EXECUTION, caught, deps())).rejects.toBeInstanceOf(JobNameConflictError);
  });

  it('a look-up that fails: JobSubmissionUncertainError saying how to check by hand', async () => {
    bedrock.on(GetModelCustomizationJobCommand).rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }));
    const job = resolvedJob();
    await reserve(job);
    const error = await reconcileSubmission(job, EXECUTION, { Error: 'Lambda.Unknown', Cause: 'not json' }, deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobSubmissionUncertainError);
    expect((error as Error).message).toContain('Lambda.Unknown: not json');
    expect((error as Error).message).toContain(`get-model-customization-job --job-identifier ${job.jobName}`);
  });
});

describe('the job ledger (ownership)', () => {
  it('reserves the name for the chain before creating the job, then records the job', async () => {
    bedrock.on(CreateModelCustomizationJobCommand).resolves({ jobArn });
    const job = resolvedJob();
    await submitJob(job, EXECUTION, CHECKED, deps());
    expect(await ledger.read(job.jobName)).toMatchObject({ owner: EXECUTION.id, supervisor: EXECUTION.id, claimed: true, jobArn, status: 'submitted' });
  });

  it('a name another execution reserved: JobNotOursError before any call to Bedrock', async () => {
    const job = resolvedJob();
    await reserve(job, `${EXECUTION.id}-first`);
    await expect(submitJob(job, EXECUTION, CHECKED, deps())).rejects.toBeInstanceOf(JobNotOursError);
    expect(bedrock.calls()).toHaveLength(0);
  });

  it('a retried task of the same execution adopts its own job', async () => {
    const job = resolvedJob();
    bedrock.on(CreateModelCustomizationJobCommand).resolves({ jobArn });
    await submitJob(job, EXECUTION, CHECKED, deps());
    bedrock.on(CreateModelCustomizationJobCommand).rejects(new ResourceInUseException({ message: 'in use', $metadata: {} }));
    bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn, clientRequestToken: job.clientRequestToken });
    await expect(submitJob(job, EXECUTION, CHECKED, deps())).resolves.toMatchObject({ jobArn, adopted: true });
  });

  it('ReconcileSubmission without this chain\'s reservation adopts nothing', async () => {
    const job = resolvedJob();
    bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn, clientRequestToken: job.clientRequestToken });
    await reserve(job, `${EXECUTION.id}-first`);
    await expect(reconcileSubmission(job, EXECUTION, { Error: 'JobSubmissionUncertainError', Cause: '5xx' }, deps())).rejects.toBeInstanceOf(JobSubmissionError);
    expect(bedrock.calls()).toHaveLength(0);
  });
});

describe('planQuotaWait', () => {
  const started = { startTime: '2026-11-28T00:00:00.000Z' };
  const after = (seconds: number) => new Date(Date.parse(started.startTime) + seconds * 1000);

  it('waits 60 s, doubling to 15 minutes, counting the attempts', () => {
    const job = { maxQuotaWaitSeconds: 7 * 86400 };
    let wait = {};
    const seconds: number[] = [];
    for (let i = 0; i < 7; i++) {
      const next = planQuotaWait(job, started, wait, after(3600));
      seconds.push(next.seconds);
      wait = next;
    }
    expect(seconds).toEqual([60, 120, 240, 480, 900, 900, 900]);
    expect(wait).toMatchObject({ attempts: 7, until: '2026-12-05T00:00:00.000Z' });
  });

  it('never waits past maxQuotaWaitSeconds after the execution started, and at least 1 s', () => {
    const job = { maxQuotaWaitSeconds: 3600 };
    expect(planQuotaWait(job, started, { attempts: 9 }, after(3600 - 100.5)).seconds).toBe(101);
    expect(planQuotaWait(job, started, { attempts: 9 }, after(3600)).seconds).toBe(1);
    expect(planQuotaWait({ maxQuotaWaitSeconds: 0 }, started, {}, after(0)).seconds).toBe(1);
  });

  it('keeps the quota error SubmitJob caught', () => {
    const error = { Error: 'JobQuotaExceededError', Cause: '{"errorMessage":"Too many jobs"}' };
    expect(planQuotaWait({ maxQuotaWaitSeconds: 3600 }, started, { error }, after(0))).toMatchObject({ attempts: 1, seconds: 60, error });
  });
});

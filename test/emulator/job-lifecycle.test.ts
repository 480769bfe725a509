import {
  GetModelCustomizationJobCommand,
  ListTagsForResourceCommand,
  StopModelCustomizationJobCommand,
} from '@aws-sdk/client-bedrock';
import { beforeEach, describe, expect, it } from 'vitest';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { pinnedBy } from '../../functions/shared/dataset/objects.js';
import { JobNotOursError } from '../../functions/shared/errors.js';
import { parseS3Uri } from '../../functions/shared/s3.js';
import { dynamoLedger } from '../../functions/shared/ledger.js';
import { resolveJobInput } from '../../functions/shared/job-input.js';
import { coveringParams, testStage } from '../fixtures/stage.js';
import { pollStatus } from '../../functions/poll-status/poll-status.js';
import { EXECUTION_TAG, submitJob } from '../../functions/submit-job/submit-job.js';
import { demoJobInput, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { EXECUTION, type FileJob } from '../fixtures/job.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { ec2, s3, iam, bedrock, dynamodb } = motoClients();
const now = () => new Date();
/** The job ledger in moto's DynamoDB (seedDemoAccount creates the table). */
const ledger = dynamoLedger('job-ledger', { dynamodb, now });
const submitDeps = { bedrock, s3, ledger, now };

/** `$.dataset` for job `j` as the dataset step returns it: each object pinned by what S3 answers for it (HeadObject here). */
async function checked(j: { trainingDataS3Uri: string; validationDataS3Uris: string[] }) {
  const pin = async (uri: string) => {
    const { bucket, key } = parseS3Uri(uri)!;
    return pinnedBy(await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
  };
  return {
    objects: [
      { role: 'training' as const, index: 0, uri: j.trainingDataS3Uri, checked: true, ...(await pin(j.trainingDataS3Uri)) },
      ...(await Promise.all(j.validationDataS3Uris.map(async (uri, index) => ({ role: 'validation' as const, index, uri, checked: true, ...(await pin(uri)) })))),
    ],
  };
}
const pollDeps = (at = now) => ({ bedrock, ec2, ledger, now: at });

describe('submit-job and poll-status against moto', () => {
  let account: DemoAccount;
  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb: motoClients().dynamodb });
  });

  const job = (overrides: Record<string, unknown> = {}, execution = EXECUTION) =>
    resolveJobInput(demoJobInput(account, overrides), testStage(coveringParams(demoJobInput(account, overrides))), execution) as FileJob;

  it('submits a job that carries the vpcConfig, the token, the tags and the validation data', async () => {
    const j = job({ customModelTags: { owner: 'ml' } });
    const submission = await submitJob(j, EXECUTION, await checked(j), submitDeps);
    expect(submission.adopted).toBe(false);

    const stored = await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: submission.jobArn }));
    expect(stored).toMatchObject({
      jobName: j.jobName,
      status: 'InProgress',
      clientRequestToken: j.clientRequestToken,
      roleArn: account.roleArn,
      vpcConfig: { subnetIds: account.subnetIds, securityGroupIds: [account.securityGroupId] },
      // trained on the snapshot of the checked objects (trained bytes = checked bytes)
      trainingDataConfig: { s3Uri: submission.trainedOn!.trainingDataS3Uri },
      validationDataConfig: { validators: [{ s3Uri: submission.trainedOn!.validationDataS3Uris[0] }] },
      hyperParameters: j.hyperParameters,
    });
    const tags = await bedrock.send(new ListTagsForResourceCommand({ resourceARN: submission.jobArn }));
    expect(tags.tags).toEqual(expect.arrayContaining([{ key: 'team', value: 'ml' }, { key: EXECUTION_TAG, value: EXECUTION.id }]));
  });

  it('a retried submit adopts the job it already created', async () => {
    const j = job();
    const first = await submitJob(j, EXECUTION, await checked(j), submitDeps);
    const retried = await submitJob(j, EXECUTION, await checked(j), submitDeps);
    expect(retried).toMatchObject({ jobArn: first.jobArn, adopted: true });
  });

  it('a name collision with another execution is refused by the job ledger, before any call to Bedrock', async () => {
    const other = { ...EXECUTION, id: `${EXECUTION.id}-other` };
    await submitJob(job({ jobName: 'shared-name', customModelName: 'model-a' }), EXECUTION, await checked(job({ jobName: 'shared-name', customModelName: 'model-a' })), submitDeps);
    await expect(
      submitJob(job({ jobName: 'shared-name', customModelName: 'model-b' }, other), other, await checked(job({ jobName: 'shared-name', customModelName: 'model-b' }, other)), submitDeps),
    ).rejects.toBeInstanceOf(JobNotOursError);
    expect(await ledger.read('shared-name')).toMatchObject({ owner: EXECUTION.id, supervisor: EXECUTION.id });
  });

  it('polls InProgress, asks to stop past the deadline, then sees Stopped in moto', async () => {
    const j = job({ maxJobDurationSeconds: 1 });
    const submission = await submitJob(j, EXECUTION, await checked(j), submitDeps);
    const first = await pollStatus({ job: j, execution: EXECUTION, submission }, pollDeps());
    expect(first).toMatchObject({ status: 'InProgress', next: 'wait', pollCount: 1 });

    const late = () => new Date(Date.now() + 5_000);
    expect(await pollStatus({ job: j, execution: EXECUTION, submission, poll: first }, pollDeps(late))).toMatchObject({ next: 'stop' });
    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: submission.jobArn }));
    const after = await pollStatus({ job: j, execution: EXECUTION, submission, poll: first, stopRequest: {} }, pollDeps(late));
    expect(after).toMatchObject({ status: 'Stopped', next: 'stopped' });
  });
});

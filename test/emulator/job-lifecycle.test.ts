import {
  GetModelCustomizationJobCommand,
  ListTagsForResourceCommand,
  StopModelCustomizationJobCommand,
} from '@aws-sdk/client-bedrock';
import { beforeEach, describe, expect, it } from 'vitest';
import { JobNameConflictError } from '../../functions/shared/errors.js';
import { resolveJobInput } from '../../functions/shared/job-input.js';
import { coveringParams, testStage } from '../fixtures/stage.js';
import { pollStatus } from '../../functions/poll-status/poll-status.js';
import { EXECUTION_TAG, submitJob } from '../../functions/submit-job/submit-job.js';
import { demoJobInput, seedDemoAccount, type DemoAccount } from '../../scripts/lib/seed.js';
import { EXECUTION } from '../fixtures/job.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { ec2, s3, iam, bedrock } = motoClients();
const now = () => new Date();

describe('submit-job and poll-status against moto', () => {
  let account: DemoAccount;
  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb: motoClients().dynamodb });
  });

  const job = (overrides: Record<string, unknown> = {}, execution = EXECUTION) =>
    resolveJobInput(demoJobInput(account, overrides), testStage(coveringParams(demoJobInput(account, overrides))), execution);

  it('submits a job that carries the vpcConfig, the token, the tags and the validation data', async () => {
    const j = job({ customModelTags: { owner: 'ml' } });
    const submission = await submitJob(j, EXECUTION, { bedrock, now });
    expect(submission.adopted).toBe(false);

    const stored = await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: submission.jobArn }));
    expect(stored).toMatchObject({
      jobName: j.jobName,
      status: 'InProgress',
      clientRequestToken: j.clientRequestToken,
      roleArn: account.roleArn,
      vpcConfig: { subnetIds: account.subnetIds, securityGroupIds: [account.securityGroupId] },
      validationDataConfig: { validators: [{ s3Uri: j.validationDataS3Uris[0] }] },
      hyperParameters: j.hyperParameters,
    });
    const tags = await bedrock.send(new ListTagsForResourceCommand({ resourceARN: submission.jobArn }));
    expect(tags.tags).toEqual(expect.arrayContaining([{ key: 'team', value: 'ml' }, { key: EXECUTION_TAG, value: EXECUTION.id }]));
  });

  it('a retried submit adopts the job it already created', async () => {
    const j = job();
    const first = await submitJob(j, EXECUTION, { bedrock, now });
    const retried = await submitJob(j, EXECUTION, { bedrock, now });
    expect(retried).toMatchObject({ jobArn: first.jobArn, adopted: true });
  });

  it('a name collision with another execution is refused', async () => {
    const other = { ...EXECUTION, id: `${EXECUTION.id}-other` };
    await submitJob(job({ jobName: 'shared-name', customModelName: 'model-a' }), EXECUTION, { bedrock, now });
    await expect(
      submitJob(job({ jobName: 'shared-name', customModelName: 'model-b' }, other), other, { bedrock, now }),
    ).rejects.toBeInstanceOf(JobNameConflictError);
  });

  it('polls InProgress, asks to stop past the deadline, then sees Stopped in moto', async () => {
    const j = job({ maxJobDurationSeconds: 1 });
    const submission = await submitJob(j, EXECUTION, { bedrock, now });
    const first = await pollStatus({ job: j, submission }, { bedrock, now });
    expect(first).toMatchObject({ status: 'InProgress', next: 'wait', pollCount: 1 });

    const late = () => new Date(Date.now() + 5_000);
    expect(await pollStatus({ job: j, submission, poll: first }, { bedrock, now: late })).toMatchObject({ next: 'stop' });
    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: submission.jobArn }));
    const after = await pollStatus({ job: j, submission, poll: first, stopRequest: {} }, { bedrock, now: late });
    expect(after).toMatchObject({ status: 'Stopped', next: 'stopped' });
  });
});

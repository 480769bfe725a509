/**
 * The evaluate-model handler: one event schema per action (a malformed event is InvalidInputError naming
 * the field, before any AWS call), and an action run whole through makeHandler with the stage and the
 * job ledger from the environment (the unit setup's), Bedrock and S3 mocked.
 */
import { Readable } from 'node:stream';
import { BedrockClient, GetCustomModelCommand, GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { asLambda, type TaskHandler } from '../../local/workflow.js';
import { emulatedLedger, ledgerWith } from '../support/ledger.js';

const bedrock = mockClient(BedrockClient);
const s3 = mockClient(S3Client);
const dynamodb = mockClient(DynamoDBClient);
afterEach(() => {
  bedrock.reset();
  s3.reset();
  dynamodb.reset();
});

let handler: TaskHandler;
beforeAll(async () => {
  const mod = await import('../../functions/evaluate-model/handler.js');
  handler = asLambda('evaluate-model', mod.handler as never);
});

const FIRST = 'arn:aws:states:us-east-1:123456789012:execution:sm:run-1';
const JOB_ARN = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.nova-lite-v1:0:300k/abcdefghijkl';
const MODEL = 'arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite-v1:0:300k/mdl123456789';
const job = {
  jobName: 'job-1',
  region: 'us-east-1',
  baseModelIdentifier: 'amazon.nova-lite-v1:0:300k',
  customizationType: 'FINE_TUNING',
  roleArn: 'arn:aws:iam::123456789012:role/BedrockCustomizationRole',
  jobTags: {},
  evaluation: {
    dataset: { name: 'held-out', s3Uri: 's3://evaluation-bucket/datasets/held-out.jsonl' },
    metrics: ['Builtin.Correctness'],
    judgeModelIdentifier: 'amazon.nova-pro-v1:0',
    taskType: 'Generation',
    thresholds: { minGainOverBase: 0 },
    maxPrompts: 100,
    inference: { maxTokens: 64, temperature: 0 },
    maxDurationSeconds: 3600,
    outputS3Uri: 's3://evaluation-bucket/evaluations/job-1/',
  },
};
const event = (action: string, over: Record<string, unknown> = {}) => ({
  action,
  job,
  execution: { id: FIRST, name: 'run-1' },
  submission: { jobArn: JOB_ARN, jobName: 'job-1', adopted: false, submittedAt: '2026-12-01T10:00:00Z', deadline: '2026-12-02T10:00:00Z' },
  self: FIRST,
  ...over,
});

describe('evaluate-model handler', () => {
  it('refuses an unknown action and a step without its state, naming the field, before any call', async () => {
    await expect(handler(event('provision'))).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringContaining('action') });
    await expect(handler(event('deploy'))).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringContaining('evaluation') });
    await expect(handler(event('plan', { self: '' }))).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringContaining('self') });
    expect(bedrock.calls()).toHaveLength(0);
  });

  it('runs plan with the stage and the ledger of the environment', async () => {
    const { ledger } = emulatedLedger(dynamodb);
    await ledgerWith(ledger, [{ jobName: 'job-1', owner: FIRST, jobArn: JOB_ARN }]);
    bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn: JOB_ARN, status: 'Completed', outputModelArn: MODEL });
    bedrock.on(GetCustomModelCommand).resolves({ modelArn: MODEL, modelStatus: 'Active', customizationType: 'FINE_TUNING', creationTime: new Date('2026-11-30T10:00:00Z') });
    s3.on(GetObjectCommand).callsFake(() => {
      const text = `${JSON.stringify({ prompt: 'Say hello.', referenceResponse: 'Hello.' })}\n`;
      return { ContentLength: text.length, Body: Readable.from([Buffer.from(text)]) as never };
    });
    const state = (await handler(event('plan'))) as { next: string; customModelArn: string; estimate: { prompts: number } };
    expect(state).toMatchObject({ next: 'deploy', customModelArn: MODEL, estimate: { prompts: 1 } });
  });
});

/**
 * The upload rule's input (`{"upload": <S3 event detail>}`) through the ASL file with the real handlers:
 * EventBridge delivers at least once, and a duplicate delivery starts another execution. Both must send
 * the same CreateModelCustomizationJob request (same name, same token), so Bedrock creates one job.
 */
import { CreateModelCustomizationJobCommand, type CreateModelCustomizationJobCommandInput } from '@aws-sdk/client-bedrock';
import { describe, expect, it } from 'vitest';
import { runWorkflow } from '../../scripts/lib/workflow.js';
import { rawJob } from '../fixtures/job.js';
import { fixtureEvent } from '../support/event-ruler.js';
import { mockHealthyAccount, mocks } from '../support/mock-account.js';
import { fast, handlers, useRealHandlers } from '../support/state-machine.js';

useRealHandlers();


/** The input the upload rule sends for AWS's sample detail (a deep copy) with `object` fields set, over the job fields. */
function uploadInput(object: Record<string, unknown>) {
  const detail = fixtureEvent('s3-object-created').detail;
  detail.bucket.name = 'training-bucket';
  Object.assign(detail.object, object);
  // EventBridge's substitution of `<detail>` (outside quotes) in the rule's template `{"upload": <detail>}`.
  const upload = JSON.parse('{"upload": <detail>}'.replace('<detail>', JSON.stringify(detail)));
  // No stage defaults in this tier: the rest of the job comes with the input.
  const { trainingDataS3Uri: _, ...job } = rawJob();
  return { ...job, ...upload };
}

const createRequests = () =>
  mocks.bedrock.commandCalls(CreateModelCustomizationJobCommand).map((c) => c.args[0].input as CreateModelCustomizationJobCommandInput);

describe('upload trigger: a duplicate delivery', () => {
  it('two executions started with the same upload send the same job name and token (one job)', async () => {
    mockHealthyAccount(['Completed']);
    const input = uploadInput({ key: 'datasets/say "hi" \\ café.jsonl' });
    const first = await runWorkflow({ input, handlers: handlers(), executionName: 'delivery-1', ...fast });
    const second = await runWorkflow({ input: structuredClone(input), handlers: handlers(), executionName: 'delivery-2', ...fast });
    expect([first.status, second.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const [a, b] = createRequests();
    expect(createRequests()).toHaveLength(2);
    expect(b!.clientRequestToken).toBe(a!.clientRequestToken);
    expect(b!.jobName).toBe(a!.jobName);
    expect(b!.customModelName).toBe(a!.customModelName);
    expect(a!.trainingDataConfig).toEqual({ s3Uri: 's3://training-bucket/datasets/say "hi" \\ café.jsonl' });
  });

  it('a new version of the object is a new job: another name and token', async () => {
    mockHealthyAccount(['Completed']);
    await runWorkflow({ input: uploadInput({ key: 'datasets/a.jsonl' }), handlers: handlers(), executionName: 'v1', ...fast });
    await runWorkflow({ input: uploadInput({ key: 'datasets/a.jsonl', 'version-id': 'v2' }), handlers: handlers(), executionName: 'v2', ...fast });
    const [a, b] = createRequests();
    expect(b!.clientRequestToken).not.toBe(a!.clientRequestToken);
    expect(b!.jobName).not.toBe(a!.jobName);
  });
});

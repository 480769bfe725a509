/**
 * The upload rule's input (`{"upload": <S3 event detail>}`) through the ASL file with the real handlers:
 * EventBridge delivers at least once, and a duplicate delivery starts another execution. Both derive the
 * same job name and token; the job ledger records the name for the first, so the duplicate ends
 * (JobNotOursError) without creating, adopting or stopping anything: Bedrock runs one job, followed once.
 */
import { CreateModelCustomizationJobCommand, type CreateModelCustomizationJobCommandInput } from '@aws-sdk/client-bedrock';
import { CopyObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { copySource } from '../../functions/submit-job/snapshot.js';
import { runWorkflow } from '../../local/workflow.js';
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
  it('a duplicate delivery derives the same job name and token, and the job ledger ends it without touching the job', async () => {
    mockHealthyAccount(['Completed']);
    const input = uploadInput({ key: 'datasets/say "hi" \\ café.jsonl' });
    const first = await runWorkflow({ input, handlers: handlers(), executionName: 'delivery-1', ...fast });
    const second = await runWorkflow({ input: structuredClone(input), handlers: handlers(), executionName: 'delivery-2', ...fast });
    expect(first.status).toBe('SUCCEEDED');
    // The name is the first delivery's in the job ledger: the second stops before any call to Bedrock's Create.
    expect(second).toMatchObject({ status: 'FAILED', error: 'JobNotOursError' });
    expect(second.states.slice(-4)).toEqual(['SubmitJob', 'SubmitErrorKind', 'RevokeAfterSubmitFailed', 'SubmitFailed']);
    expect(createRequests()).toHaveLength(1);
    const jobName = (first.output as { job: { jobName: string; clientRequestToken: string } }).job;
    const secondJob = second.events.flatMap((e: any) => (e.type === 'StateEntered' && e.state.name === 'SubmitJob' ? [e.state.input.job] : []))[0];
    expect(secondJob).toMatchObject({ jobName: jobName.jobName, clientRequestToken: jobName.clientRequestToken });
    // The key with a quote, a backslash and a non-ASCII character reaches S3 intact (the snapshot copies it).
    expect(mocks.s3.commandCalls(CopyObjectCommand)[0]!.args[0].input.CopySource).toBe(copySource('training-bucket', 'datasets/say "hi" \\ café.jsonl'));
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

/**
 * The event-driven wait against moto: the ASL file with the real handlers, the stand-in for Bedrock
 * completing the job and recording the "Model Customization Job State Change" event, and that event
 * handed to the real job-events handler (as the stack's EventBridge rule would invoke it), whose
 * DynamoDB and Bedrock calls go over the wire to moto. Only Step Functions' callback service is the
 * runner's stand-in: the handler's SendTaskSuccess is routed to it (moto cannot release a task of an
 * execution it does not run).
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configureBedrockStandIn, resetBedrockStandIn, standInEvents } from '../../local/bedrock-standin.js';
import { JOB_WAITS_TABLE_NAME, createJobEnis, demoJobInput, demoStageParams, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { asLambda, loadLambdaHandlers, localCallbacks, runWorkflow, type TaskHandler } from '../../local/workflow.js';
import { setStage } from '../fixtures/stage.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { ec2, s3, iam, dynamodb } = motoClients();
const sfn = mockClient(SFNClient);
let lambdas: Record<string, TaskHandler>;
let jobEvents: TaskHandler;
let account: DemoAccount;

beforeAll(async () => {
  await resetMoto();
  account = await seedDemoAccount({ ec2, s3, iam, dynamodb });
  setStage(demoStageParams(account, { jobWait: 'event' }));
  process.env.JOB_WAITS_TABLE = JOB_WAITS_TABLE_NAME;
  process.env.JOB_EVENTS_ACCOUNT_ID = account.accountId;
  lambdas = await loadLambdaHandlers();
  jobEvents = asLambda('job-events', (await import('../../functions/job-events/handler.js')).handler as never);
  // Step Functions' callback service is the runner's: the handler's SendTaskSuccess goes there.
  sfn.on(SendTaskSuccessCommand).callsFake((input) => localCallbacks.send({ constructor: { name: 'SendTaskSuccessCommand' }, input } as never));
});
afterAll(async () => {
  sfn.restore();
  await resetBedrockStandIn(inject('motoEndpoint'));
});

describe('event-driven wait against moto', () => {
  it("a job the stand-in completes releases the waiting execution through job-events' handler", async () => {
    const jobName = 'event-wait-completes';
    await configureBedrockStandIn(inject('motoEndpoint'), { enabled: true, default: { outcome: 'hold' }, jobs: { [jobName]: { outcome: 'complete', seconds: 1.5 } } });
    const handlers = {
      ...lambdas,
      SubmitJob: async (input: any) => {
        const out = (await lambdas.SubmitJob!(input)) as { jobArn: string };
        await createJobEnis(ec2, out.jobArn, account.subnetIds, [account.securityGroupId]);
        return out;
      },
    };
    const run = runWorkflow({ input: demoJobInput(account, { jobName }), handlers: handlers as Record<string, TaskHandler>, retryMs: 0, waitMs: 0, eventWaitMs: 30_000 });

    // EventBridge's part: the stand-in's events, each handed to the real handler once.
    let delivered: unknown[] = [];
    const started = Date.now();
    while (delivered.length === 0 && Date.now() - started < 20_000) {
      await new Promise((r) => setTimeout(r, 200));
      const events = (await standInEvents(inject('motoEndpoint'))).filter((e) => e.detail.jobName === jobName);
      if (events.length) delivered = await Promise.all(events.map((e) => jobEvents(e as never)));
    }
    const result = await run;
    expect(delivered).toEqual([{ released: true, jobArn: expect.stringContaining(jobName), status: 'Completed' }]);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.states.filter((s) => s === 'WaitForJobEvent')).toHaveLength(1);
    expect((result.output as { jobEvent: unknown }).jobEvent).toMatchObject({ status: 'Completed', source: 'event' });
    // The wait's item is gone from moto's table.
    const jobArn = (result.output as { submission: { jobArn: string } }).submission.jobArn;
    expect((await dynamodb.send(new GetItemCommand({ TableName: JOB_WAITS_TABLE_NAME, Key: { pk: { S: jobArn } }, ConsistentRead: true }))).Item).toBeUndefined();
  }, 60_000);
});

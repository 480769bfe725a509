/**
 * The reaper's handler against moto: Step Functions executions (StartExecution, StopExecution →
 * ABORTED; DescribeExecution; GetExecutionHistory) and a Bedrock job with its tags
 * (ListTagsForResource, GetModelCustomizationJob, StopModelCustomizationJob), all over the wire.
 * moto does not run the state machine: its GetExecutionHistory returns a fixed sample history (no
 * state data), so the history path is checked here only as "no job"; the unit tests cover the rest.
 */
import { CreateModelCustomizationJobCommand, GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { ReaperReport } from '../../functions/reaper/reaper.js';
import { CHAIN_EXECUTION_TAG, handoverExecutionName } from '../../functions/shared/chain.js';
import { seedDemoAccount, type DemoAccount } from '../../scripts/lib/seed.js';
import { fixtureEvent } from '../support/event-ruler.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { ec2, s3, iam, bedrock } = motoClients();
const sfn = new SFNClient({ endpoint: inject('motoEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
const MACHINE_NAME = 'bedrock-vpc-customization-test-customize-model';
const STATE_MACHINE_ARN = `arn:aws:states:us-east-1:123456789012:stateMachine:${MACHINE_NAME}`;

let reaper: (event: unknown) => Promise<ReaperReport>;
beforeAll(async () => {
  process.env.REAPER_STATE_MACHINE_ARN = STATE_MACHINE_ARN;
  const mod = await import('../../functions/reaper/handler.js');
  reaper = (event) => mod.handler(event, {} as Context);
});

/** AWS's documented sample event (a deep copy) for `executionArn` of this state machine. */
function statusEvent(executionArn: string, status = 'ABORTED') {
  const event = fixtureEvent('step-functions-execution-status-change');
  Object.assign(event.detail, { executionArn, stateMachineArn: STATE_MACHINE_ARN, status, name: executionArn.split(':').at(-1) });
  event.resources = [executionArn];
  return event;
}

describe('reaper against moto', () => {
  let account: DemoAccount;
  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam });
    const machine = await sfn.send(
      new CreateStateMachineCommand({
        name: MACHINE_NAME,
        roleArn: account.roleArn,
        definition: JSON.stringify({ StartAt: 'Wait', States: { Wait: { Type: 'Wait', Seconds: 3600, End: true } } }),
      }),
    );
    expect(machine.stateMachineArn).toBe(STATE_MACHINE_ARN);
  });

  async function start(name: string, input: unknown = {}): Promise<string> {
    const out = await sfn.send(new StartExecutionCommand({ stateMachineArn: STATE_MACHINE_ARN, name, input: JSON.stringify(input) }));
    return out.executionArn!;
  }

  async function createJob(name: string, owner: string): Promise<string> {
    const out = await bedrock.send(
      new CreateModelCustomizationJobCommand({
        jobName: name,
        customModelName: `${name}-model`,
        roleArn: account.roleArn,
        baseModelIdentifier: 'amazon.titan-text-express-v1',
        trainingDataConfig: { s3Uri: `s3://${account.trainingBucket}/datasets/support.jsonl` },
        outputDataConfig: { s3Uri: `s3://${account.outputBucket}/runs/` },
        hyperParameters: {},
        vpcConfig: { subnetIds: account.subnetIds, securityGroupIds: [account.securityGroupId] },
        jobTags: [{ key: CHAIN_EXECUTION_TAG, value: owner }],
      }),
    );
    return out.jobArn!;
  }

  const jobStatus = async (jobArn: string) => (await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }))).status;

  /** A chain: the first execution (ended by handing over) and its generation-1 successor, which carries `jobArn`. */
  async function chain(jobName: string) {
    const first = { id: await start('run-1'), name: 'run-1' };
    const jobArn = await createJob(jobName, first.id);
    const submission = { jobArn, jobName, adopted: false, submittedAt: '2026-11-28T10:00:00Z', deadline: '2026-11-29T10:00:00Z' };
    const handover = (generation: number) => ({ handover: { job: {}, execution: first, submission, pollCount: 1, generation, previousExecutionId: first.id } });
    return { first, jobArn, handover };
  }

  it('stops the InProgress job of an aborted hand-over execution, once; a second delivery finds it stopped', async () => {
    const { first, jobArn, handover } = await chain('reaped-job');
    await sfn.send(new StopExecutionCommand({ executionArn: first.id }));
    const gen1 = await start(handoverExecutionName(first, 1), handover(1));
    await sfn.send(new StopExecutionCommand({ executionArn: gen1 }));
    expect(await jobStatus(jobArn)).toBe('InProgress');

    const report = await reaper(statusEvent(gen1));
    expect(report).toMatchObject({ outcome: 'stopped', stopped: true, jobArn, firstExecutionArn: first.id, executionStatus: 'ABORTED' });
    expect(await jobStatus(jobArn)).toBe('Stopped');

    expect(await reaper(statusEvent(gen1))).toMatchObject({ outcome: 'job-ended', jobStatus: 'Stopped', stopped: false });
  });

  it('leaves the job to a running successor, and a job tagged with another chain alone', async () => {
    const { first, jobArn, handover } = await chain('followed-job');
    const gen1 = await start(handoverExecutionName(first, 1), handover(1));
    await sfn.send(new StopExecutionCommand({ executionArn: gen1 }));
    const gen2 = await start(handoverExecutionName(first, 2), handover(2));
    expect(await reaper(statusEvent(gen1))).toMatchObject({ outcome: 'successor-running', successorArn: gen2, stopped: false });
    expect(await jobStatus(jobArn)).toBe('InProgress');

    const foreign = await createJob('foreign-job', 'arn:aws:states:us-east-1:123456789012:execution:other:x');
    const stray = await start('stray', { handover: { ...handover(1).handover, submission: { ...handover(1).handover.submission, jobArn: foreign } } });
    await sfn.send(new StopExecutionCommand({ executionArn: stray }));
    expect(await reaper(statusEvent(stray))).toMatchObject({ outcome: 'job-not-this-chain', stopped: false });
    expect(await jobStatus(foreign)).toBe('InProgress');
  });

  it("a first execution: its job is looked for in its history (moto's sample history records none)", async () => {
    const run = await start('run-without-job', { trainingDataS3Uri: 's3://training/datasets/a.jsonl' });
    await sfn.send(new StopExecutionCommand({ executionArn: run }));
    expect(await reaper(statusEvent(run))).toMatchObject({ outcome: 'no-job', stopped: false, executionStatus: 'ABORTED' });
  });
});

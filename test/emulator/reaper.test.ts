/**
 * The reaper's handler against moto: Step Functions executions (StartExecution, StopExecution →
 * ABORTED; DescribeExecution; GetExecutionHistory) and a Bedrock job with its tags
 * (ListTagsForResource, GetModelCustomizationJob, StopModelCustomizationJob), all over the wire.
 * moto does not run the state machine: its GetExecutionHistory returns a fixed sample history (no
 * state data), so the history path is checked here only as "no job"; the unit tests cover the rest.
 * A hand-over is believed only when its predecessor's history scheduled it: for the hand-overs these
 * tests make real, that one TaskScheduled event is supplied by a stand-in on the reaper's SFN client
 * ({@link recordHandOver}; every other call, DescribeExecution and Bedrock's included, goes to moto).
 */
import { GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { ReaperReport } from '../../functions/reaper/reaper.js';
import { CHAIN_EXECUTION_TAG, handoverExecutionName } from '../../functions/shared/chain.js';
import { sfn as reaperSfn } from '../../functions/shared/clients.js';
import { createDemoJob, seedDemoAccount, type DemoAccount } from '../../scripts/lib/seed.js';
import { handOverScheduledEvent } from '../../scripts/lib/workflow.js';
import { fixtureEvent } from '../support/event-ruler.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { ec2, s3, iam, bedrock } = motoClients();
const sfn = new SFNClient({ endpoint: inject('motoEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
const MACHINE_NAME = 'bedrock-vpc-customization-test-customize-model';
const STATE_MACHINE_ARN = `arn:aws:states:us-east-1:123456789012:stateMachine:${MACHINE_NAME}`;

/** Predecessor ARN → the TaskScheduled events of its HandOver starts (what moto's sample history lacks). */
const handOvers = new Map<string, object[]>();

/** Records that `by`'s HandOver started `name` with `input`, as Step Functions records it (TaskScheduledEventDetails). */
function recordHandOver(by: string, name: string, input: unknown) {
  const event = handOverScheduledEvent({ StateMachineArn: STATE_MACHINE_ARN, Name: name, Input: input });
  handOvers.set(by, [...(handOvers.get(by) ?? []), event]);
}

let reaper: (event: unknown) => Promise<ReaperReport>;
beforeAll(async () => {
  reaperSfn.middlewareStack.add(
    (next, context) => async (args) => {
      const executionArn = (args.input as { executionArn?: string }).executionArn;
      if (context.commandName === 'GetExecutionHistoryCommand' && executionArn && handOvers.has(executionArn)) {
        return { output: { events: handOvers.get(executionArn), $metadata: {} }, response: {} } as never;
      }
      return next(args);
    },
    { step: 'initialize', name: 'handOverHistoryStandIn' },
  );
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
    handOvers.clear();
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb: motoClients().dynamodb });
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

  const createJob = (name: string, owner: string) => createDemoJob(bedrock, account, name, { tags: { [CHAIN_EXECUTION_TAG]: owner } });

  const jobStatus = async (jobArn: string) => (await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }))).status;

  /** A chain: the first execution (ended by handing over) and its generation-1 successor, which carries `jobArn`. */
  async function chain(jobName: string) {
    const first = { id: await start('run-1'), name: 'run-1' };
    const jobArn = await createJob(jobName, first.id);
    const submission = { jobArn, jobName, adopted: false, submittedAt: '2026-11-28T10:00:00Z', deadline: '2026-11-29T10:00:00Z' };
    const handover = (generation: number, previous = first.id) => ({
      handover: { job: { jobName }, execution: first, submission, pollCount: 1, generation, previousExecutionId: previous },
    });
    /** Starts generation `generation`, as the previous generation's HandOver does (and records it so). */
    const handOver = async (generation: number, previous = first) => {
      const name = handoverExecutionName(first, generation);
      recordHandOver(previous.id, name, handover(generation, previous.id));
      return { id: await start(name, handover(generation, previous.id)), name };
    };
    return { first, jobArn, handover, handOver };
  }

  it('stops the InProgress job of an aborted hand-over execution, once; a second delivery finds it stopped', async () => {
    const { first, jobArn, handOver } = await chain('reaped-job');
    await sfn.send(new StopExecutionCommand({ executionArn: first.id }));
    const gen1 = (await handOver(1)).id;
    await sfn.send(new StopExecutionCommand({ executionArn: gen1 }));
    expect(await jobStatus(jobArn)).toBe('InProgress');

    const report = await reaper(statusEvent(gen1));
    expect(report).toMatchObject({ outcome: 'stopped', stopped: true, jobArn, firstExecutionArn: first.id, executionStatus: 'ABORTED' });
    expect(await jobStatus(jobArn)).toBe('Stopped');

    expect(await reaper(statusEvent(gen1))).toMatchObject({ outcome: 'job-ended', jobStatus: 'Stopped', stopped: false });
  });

  it('leaves the job to a running successor, and a job tagged with another chain alone', async () => {
    const { jobArn, handOver } = await chain('followed-job');
    const gen1 = await handOver(1);
    await sfn.send(new StopExecutionCommand({ executionArn: gen1.id }));
    const gen2 = (await handOver(2, gen1)).id;
    expect(await reaper(statusEvent(gen1.id))).toMatchObject({ outcome: 'successor-running', successorArn: gen2, stopped: false });
    expect(await jobStatus(jobArn)).toBe('InProgress');
  });

  it('a forged hand-over (its claimed predecessor never started it: moto\'s own history) stops nothing, whatever job it names', async () => {
    const { first, jobArn, handover } = await chain('victim-job');
    const forged = await start('forged', handover(1));
    await sfn.send(new StopExecutionCommand({ executionArn: forged }));
    expect(await reaper(statusEvent(forged))).toMatchObject({ outcome: 'handover-not-verified', stopped: false });
    expect(await jobStatus(jobArn)).toBe('InProgress');
    // Even under the successor's own name, while the real first execution never handed over.
    const squatter = await start(handoverExecutionName(first, 1), handover(1));
    await sfn.send(new StopExecutionCommand({ executionArn: squatter }));
    expect(await reaper(statusEvent(squatter))).toMatchObject({ outcome: 'handover-not-verified', stopped: false });
    expect(await jobStatus(jobArn)).toBe('InProgress');
  });

  it("a first execution: its job is looked for in its history (moto's sample history records none)", async () => {
    const run = await start('run-without-job', { trainingDataS3Uri: 's3://training/datasets/a.jsonl' });
    await sfn.send(new StopExecutionCommand({ executionArn: run }));
    expect(await reaper(statusEvent(run))).toMatchObject({ outcome: 'no-job', stopped: false, executionStatus: 'ABORTED' });
  });
});

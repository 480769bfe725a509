/**
 * The reaper's handler against moto: Step Functions executions (StartExecution, StopExecution →
 * ABORTED; DescribeExecution; GetExecutionHistory), a Bedrock job (GetModelCustomizationJob,
 * StopModelCustomizationJob) and the job ledger in moto's DynamoDB (GetItem, the conditional takeover),
 * all over the wire. moto does not run the state machine: its GetExecutionHistory returns a fixed sample
 * history (no state data), so the history path is checked here only as "no job"; the unit tests cover
 * the rest. Ledger entries are made with the ledger's own calls (functions/shared/ledger.ts), as the
 * workflow's functions make them.
 */
import { GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { ReaperReport } from '../../functions/reaper/reaper.js';
import { handoverExecutionName } from '../../functions/shared/chain.js';
import { dynamoLedger, REAPER_SUPERVISOR } from '../../functions/shared/ledger.js';
import { createDemoJob, recordDemoJob, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { fixtureEvent } from '../support/event-ruler.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { ec2, s3, iam, bedrock, dynamodb } = motoClients();
const sfn = new SFNClient({ endpoint: inject('motoEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
const MACHINE_NAME = 'bedrock-vpc-customization-test-customize-model';
const STATE_MACHINE_ARN = `arn:aws:states:us-east-1:123456789012:stateMachine:${MACHINE_NAME}`;
const ledger = dynamoLedger('job-ledger', { dynamodb, now: () => new Date() });

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

  const jobStatus = async (jobArn: string) => (await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }))).status;

  /** A chain: the first execution, its job in the ledger (its supervisor), and hand-overs as PollStatus and ResumeJob make them. */
  async function chain(jobName: string) {
    const first = { id: await start('run-1'), name: 'run-1' };
    const jobArn = await createDemoJob(bedrock, account, jobName);
    await recordDemoJob(dynamodb, account, jobName, jobArn, { owner: first.id });
    const submission = { jobArn, jobName, adopted: false, submittedAt: '2026-11-28T10:00:00Z', deadline: '2026-11-29T10:00:00Z' };
    const handover = (generation: number, previous = first.id) => ({
      handover: { job: { jobName }, execution: first, submission, pollCount: 1, generation, previousExecutionId: previous },
    });
    /** `previous` designates generation `generation` in the ledger and starts it; `claim`: it has claimed the job. */
    const handOver = async (generation: number, previous = first, claim = true) => {
      const name = handoverExecutionName(first, generation, (await ledger.read(jobName))!.nonce);
      const id = await start(name, handover(generation, previous.id));
      expect(await ledger.designate(jobName, previous.id, id, generation)).toBe(true);
      if (claim) expect(await ledger.claim(jobName, id, previous.id, jobArn)).toBe(true);
      return { id, name };
    };
    return { first, jobArn, handover, handOver };
  }

  it('stops the InProgress job of an aborted hand-over execution that supervised it, once; a second delivery finds the ledger reaped', async () => {
    const { first, jobArn, handOver } = await chain('reaped-job');
    const gen1 = (await handOver(1)).id;
    await sfn.send(new StopExecutionCommand({ executionArn: first.id }));
    await sfn.send(new StopExecutionCommand({ executionArn: gen1 }));
    expect(await jobStatus(jobArn)).toBe('InProgress');

    const report = await reaper(statusEvent(gen1));
    expect(report).toMatchObject({ outcome: 'stopped', stopped: true, jobArn, jobName: 'reaped-job', executionStatus: 'ABORTED' });
    expect(await jobStatus(jobArn)).toBe('Stopped');
    expect(await ledger.read('reaped-job')).toMatchObject({ supervisor: REAPER_SUPERVISOR, status: 'reaped' });

    expect(await reaper(statusEvent(gen1))).toMatchObject({ outcome: 'already-reaped', stopped: false });
  });

  it('leaves the job to a running designated successor, and to another supervisor', async () => {
    const { jobArn, handOver } = await chain('followed-job');
    const gen1 = await handOver(1);
    const gen2 = (await handOver(2, gen1, false)).id;
    await sfn.send(new StopExecutionCommand({ executionArn: gen1.id }));
    expect(await reaper(statusEvent(gen1.id))).toMatchObject({ outcome: 'successor-running', supervisor: gen2, stopped: false });
    expect(await jobStatus(jobArn)).toBe('InProgress');
  });

  it('a forged hand-over, even under the successor\'s own name, stops nothing: the ledger names another supervisor', async () => {
    const { first, jobArn, handover } = await chain('victim-job');
    const forged = await start('forged', handover(1));
    await sfn.send(new StopExecutionCommand({ executionArn: forged }));
    expect(await reaper(statusEvent(forged))).toMatchObject({ outcome: 'not-supervisor', supervisor: first.id, stopped: false });
    expect(await jobStatus(jobArn)).toBe('InProgress');
    // The name a successor would have without the ledger's nonce (the old, derivable scheme).
    const squatter = await start(handoverExecutionName(first, 1), handover(1));
    await sfn.send(new StopExecutionCommand({ executionArn: squatter }));
    expect(await reaper(statusEvent(squatter))).toMatchObject({ outcome: 'not-supervisor', stopped: false });
    expect(await jobStatus(jobArn)).toBe('InProgress');
  });

  it("a first execution: its job is looked for in its history (moto's sample history records none)", async () => {
    const run = await start('run-without-job', { trainingDataS3Uri: 's3://training/datasets/a.jsonl' });
    await sfn.send(new StopExecutionCommand({ executionArn: run }));
    expect(await reaper(statusEvent(run))).toMatchObject({ outcome: 'no-job', stopped: false, executionStatus: 'ABORTED' });
  });
});

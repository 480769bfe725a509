/**
 * The reaper's handler against moto: Step Functions executions (StartExecution, StopExecution →
 * ABORTED; DescribeExecution; GetExecutionHistory), a Bedrock job (GetModelCustomizationJob,
 * StopModelCustomizationJob) and the job ledger in moto's DynamoDB (GetItem, the conditional takeover),
 * all over the wire. moto does not run the state machine: its GetExecutionHistory returns a fixed sample
 * history (no state data), so the history path is checked here only as "no job"; the unit tests cover
 * the rest. Ledger entries are made with the ledger's own calls (functions/shared/ledger.ts), as the
 * workflow's functions make them.
 */
import {
  CreateCustomModelDeploymentCommand,
  CreateEvaluationJobCommand,
  GetCustomModelDeploymentCommand,
  GetEvaluationJobCommand,
  GetModelCustomizationJobCommand,
} from '@aws-sdk/client-bedrock';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { ReaperReport } from '../../functions/reaper/reaper.js';
import { handoverExecutionName } from '../../functions/shared/chain.js';
import { dynamoLedger, REAPER_SUPERVISOR } from '../../functions/shared/ledger.js';
import { configureBedrockStandIn, resetBedrockStandIn } from '../../local/bedrock-standin.js';
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

  describe('the evaluation gate (issue 23; the stand-in for Bedrock serves deployments and evaluation jobs)', () => {
    afterAll(() => resetBedrockStandIn(inject('motoEndpoint')));

    it('winds down what the ledger records of a dead supervisor\'s gate: stops its InProgress evaluation job, deletes its deployment', async () => {
      const endpoint = inject('motoEndpoint');
      // A custom model to deploy: made by a stand-in job that completes; every other job is left to moto (InProgress).
      await configureBedrockStandIn(endpoint, { enabled: true, default: { outcome: 'complete', seconds: 0.3 }, deployment: { seconds: 0.2 }, evaluation: { seconds: 600, stoppingSeconds: 0.2 } });
      const source = await createDemoJob(bedrock, account, 'model-source', { subnetIds: [], asSubmitted: true, outputPrefix: 'runs/model-source/' });
      let modelArn: string | undefined;
      for (let i = 0; i < 200 && !modelArn; i++) {
        const job = await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: source }));
        if (job.status === 'Completed') modelArn = job.outputModelArn;
        else await new Promise((r) => setTimeout(r, 50));
      }
      await configureBedrockStandIn(endpoint, { enabled: false });
      // The gate ran under a hand-over execution (moto's histories carry no state data: its input names the job).
      const { first, handOver } = await chain('gated-job');
      const gen1 = (await handOver(1)).id;

      const deploymentArn = (await bedrock.send(new CreateCustomModelDeploymentCommand({ modelDeploymentName: 'gated-job-dep', modelArn: modelArn!, clientRequestToken: 'dep-token' })))
        .customModelDeploymentArn!;
      await s3.send(new PutObjectCommand({ Bucket: account.trainingBucket, Key: 'evaluations/gated-job/inputs/custom.jsonl', Body: '{"prompt":"p","modelResponses":[{"response":"r","modelIdentifier":"custom-model"}]}\n' }));
      const evaluationArn = (
        await bedrock.send(
          new CreateEvaluationJobCommand({
            jobName: 'gated-job-custom',
            clientRequestToken: 'eval-token',
            roleArn: account.roleArn,
            evaluationConfig: {
              automated: {
                datasetMetricConfigs: [
                  { taskType: 'Generation', dataset: { name: 'held-out', datasetLocation: { s3Uri: `s3://${account.trainingBucket}/evaluations/gated-job/inputs/custom.jsonl` } }, metricNames: ['Builtin.Correctness'] },
                ],
                evaluatorModelConfig: { bedrockEvaluatorModels: [{ modelIdentifier: 'amazon.nova-pro-v1:0' }] },
              },
            },
            inferenceConfig: { models: [{ precomputedInferenceSource: { inferenceSourceIdentifier: 'custom-model' } }] },
            outputDataConfig: { s3Uri: `s3://${account.trainingBucket}/evaluations/gated-job/results/` },
          }),
        )
      ).jobArn!;
      expect(
        await ledger.recordEvaluation('gated-job', { owner: first.id, self: gen1 }, {
          deploymentName: 'gated-job-dep',
          deploymentClientRequestToken: 'dep-token',
          deploymentArn,
          jobs: { custom: { name: 'gated-job-custom', token: 'eval-token', arn: evaluationArn } },
        }),
      ).toBe(true);

      await sfn.send(new StopExecutionCommand({ executionArn: first.id }));
      await sfn.send(new StopExecutionCommand({ executionArn: gen1 }));
      const report = await reaper(statusEvent(gen1));
      expect(report).toMatchObject({ outcome: 'stopped', evaluation: { jobsStopped: [evaluationArn], deploymentDeleted: deploymentArn, left: [] } });
      expect((await bedrock.send(new GetEvaluationJobCommand({ jobIdentifier: evaluationArn }))).status).toMatch(/^Stopp(ing|ed)$/);
      await expect(bedrock.send(new GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: deploymentArn }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      expect((await ledger.read('gated-job'))?.evaluation).toMatchObject({ deploymentDeleted: true });

      // A second delivery: nothing more to stop or delete.
      const again = await reaper(statusEvent(gen1));
      expect(again).toMatchObject({ outcome: 'already-reaped', evaluation: { jobsStopped: [] } });
      expect(again.evaluation?.deploymentDeleted).toBeUndefined();
    });
  });
});

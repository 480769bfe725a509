/**
 * Attack (issue 23, "the gate's clean-up turned against the customer"): the reaper stops evaluation jobs
 * and deletes custom model deployments; the janitor deletes rejected deployments (rejectedDeployments:
 * delete). An attacker who holds only states:StartExecution, bedrock:TagResource (or any CreateTags) and
 * s3:PutObject (the evaluation bucket) tries to make them stop or delete what is not recorded as ours:
 *
 * - a customer's deployment tagged like the gate's (and named like it);
 * - a deployment of a model whose job IS ours, but not the deployment the ledger records;
 * - a forged execution input naming another chain's job (the execution then fails: the reaper runs);
 * - a promoted model's deployment, tagged "rejected", under a ledger the reaper took over.
 *
 * Invariant: the reaper acts only on what the job ledger records for a job the reaper holds, and the
 * janitor deletes only a deployment whose ARN the ledger records for the job that made its model, with a
 * reject verdict (or none, once its supervisor died); a promoted one never. Tags, names, inputs and S3
 * objects decide nothing. Bedrock is the in-memory account of test/support/gate-bedrock.ts; the ledger is
 * the real one over the in-memory DynamoDB (written only by the ledger's own calls).
 */
import { readFileSync, readdirSync } from 'node:fs';
import {
  BedrockClient,
  DeleteCustomModelDeploymentCommand,
  GetModelCustomizationJobCommand,
  ListTagsForResourceCommand,
  StopEvaluationJobCommand,
} from '@aws-sdk/client-bedrock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, ExecutionDoesNotExist, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { sweepDeployments, type DeploymentSweepConfig } from '../../functions/janitor/deployments.js';
import { reap } from '../../functions/reaper/reaper.js';
import { executionArnOf } from '../../functions/shared/arn.js';
import type { Ledger } from '../../functions/shared/ledger.js';
import {
  ACCOUNT_ID,
  REGION,
  addDeployment,
  addEvaluationJob,
  addModel,
  customModelArn,
  customizationJobArn,
  gateAccount,
  serveGate,
  type GateAccount,
  type GateDeployment,
  type GateEvaluationJob,
} from '../support/gate-bedrock.js';
import { emulatedLedger, ledgerWith } from '../support/ledger.js';

const sfn = mockClient(SFNClient);
const bedrock = mockClient(BedrockClient);
const dynamodb = mockClient(DynamoDBClient);

const STATE_MACHINE = `arn:aws:states:${REGION}:${ACCOUNT_ID}:stateMachine:bedrock-vpc-customization-dev-customize-model`;
const VICTIM_RUN = executionArnOf(STATE_MACHINE, 'victim-run');
const ATTACKER_RUN = executionArnOf(STATE_MACHINE, 'attacker-run');
const JOB_NAME = 'support-bot-ft';
const JOB_ARN = customizationJobArn('victimjob001');
const deleting: DeploymentSweepConfig = { dryRun: false, rejectedDeployments: 'delete', concurrency: 10, home: { region: REGION, accountId: ACCOUNT_ID } };

let ledger: Ledger;
let account: GateAccount;
/** Everything in the account, and the attacker's writes (tags, S3 objects): the code under test must not care. */
let s3Objects: Map<string, string>;

/** The attacker: bedrock:TagResource on anything. */
function tagResource(d: GateDeployment, tags: Record<string, string>) {
  d.tags = { ...d.tags, ...tags };
}
/** The attacker: s3:PutObject into the evaluation bucket. */
function putObject(key: string, body: unknown) {
  s3Objects.set(key, JSON.stringify(body));
}
/** The attacker: states:StartExecution with an input of their choosing; the execution then fails. */
function attackerExecution(input: unknown) {
  sfn.on(DescribeExecutionCommand).callsFake(({ executionArn }: { executionArn: string }) => {
    if (executionArn === ATTACKER_RUN) return { executionArn, status: 'FAILED', input: JSON.stringify(input) };
    if (executionArn === VICTIM_RUN) return { executionArn, status: 'RUNNING', input: '{}' };
    throw new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} });
  });
  sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
}

/** The victim's job (our workflow's) mid-gate: model, recorded deployment, two recorded evaluation jobs (one running). */
async function victimMidGate(): Promise<{ deployment: GateDeployment; jobs: GateEvaluationJob[]; modelArn: string }> {
  const model = addModel(account, { arn: customModelArn(), jobArn: JOB_ARN, jobName: JOB_NAME });
  const deployment = addDeployment(account, { name: `${JOB_NAME}-gate`, modelArn: model.arn, status: 'Active' });
  const jobs = [addEvaluationJob(account, { name: `${JOB_NAME}-custom`, status: 'InProgress' }), addEvaluationJob(account, { name: `${JOB_NAME}-base`, status: 'InProgress' })];
  await ledgerWith(ledger, [{ jobName: JOB_NAME, owner: VICTIM_RUN, jobArn: JOB_ARN }]);
  expect(
    await ledger.recordEvaluation(JOB_NAME, { owner: VICTIM_RUN, self: VICTIM_RUN }, {
      deploymentName: deployment.name,
      deploymentClientRequestToken: 'token',
      deploymentArn: deployment.arn,
      jobs: { custom: { name: jobs[0]!.name, token: 'c', arn: jobs[0]!.arn }, base: { name: jobs[1]!.name, token: 'b', arn: jobs[1]!.arn } },
    }),
  ).toBe(true);
  return { deployment, jobs, modelArn: model.arn };
}

const untouched = () => {
  expect(bedrock).not.toHaveReceivedCommand(StopEvaluationJobCommand);
  expect(bedrock).not.toHaveReceivedCommand(DeleteCustomModelDeploymentCommand);
  // No decision reads a tag.
  expect(bedrock).not.toHaveReceivedCommand(ListTagsForResourceCommand);
};

beforeEach(() => {
  sfn.reset();
  bedrock.reset();
  dynamodb.reset();
  ({ ledger } = emulatedLedger(dynamodb));
  account = gateAccount();
  s3Objects = new Map();
  serveGate(bedrock, account);
  bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn: JOB_ARN, jobName: JOB_NAME, status: 'Completed' });
});

describe('attack: make the reaper or the janitor stop or delete what the ledger does not record as ours (issue 23)', () => {
  it("a forged execution input naming another chain's job, mid-gate: the reaper stops and deletes nothing", async () => {
    const { deployment, jobs } = await victimMidGate();
    attackerExecution({ handover: { submission: { jobName: JOB_NAME, jobArn: JOB_ARN }, job: { jobName: JOB_NAME } } });
    const report = await reap({ executionArn: ATTACKER_RUN, stateMachineArn: STATE_MACHINE }, { stateMachineArn: STATE_MACHINE }, {
      sfn: new SFNClient({}),
      bedrock: bedrock as unknown as BedrockClient,
      ledger,
    });
    expect(report).toMatchObject({ outcome: 'not-supervisor', supervisor: VICTIM_RUN });
    expect(report).not.toHaveProperty('evaluation');
    untouched();
    expect(account.deployments.has(deployment.arn)).toBe(true);
    for (const job of jobs) expect(account.evaluationJobs.get(job.arn)!.status).toBe('InProgress');
    expect(await ledger.read(JOB_NAME)).toMatchObject({ supervisor: VICTIM_RUN, evaluation: { deploymentArn: deployment.arn } });
  });

  it("a customer's deployment tagged (and named) like the gate's: the janitor deletes none of it, even with rejectedDeployments=delete", async () => {
    await victimMidGate();
    expect(await ledger.recordEvaluation(JOB_NAME, { owner: VICTIM_RUN, self: VICTIM_RUN }, { verdict: 'reject' })).toBe(true);
    const customerModel = addModel(account, { arn: customModelArn() });
    const customers = addDeployment(account, { name: `${JOB_NAME}-gate-2`, modelArn: customerModel.arn, status: 'Active' });
    tagResource(customers, { 'bvc-evaluation': 'rejected', 'bvc-job': JOB_NAME, 'bvc-evaluation-deployment': customers.arn });
    // And a "verdict" planted where the gate keeps its data.
    putObject(`evaluations/${JOB_NAME}/results/verdict.json`, { verdict: 'reject', deploymentArn: customers.arn });

    const report = await sweepDeployments(deleting, { bedrock: new BedrockClient({}), ledger });
    expect(report.kept).toEqual(expect.arrayContaining([expect.objectContaining({ deploymentArn: customers.arn, reason: 'not-a-job-model' })]));
    expect(account.deployments.has(customers.arn)).toBe(true);
    expect(report.deleted).not.toContain(customers.arn);
    expect(bedrock).not.toHaveReceivedCommand(ListTagsForResourceCommand);
  });

  it("a deployment of our job's model that the ledger does not record (someone else deployed it): kept by the janitor and by the reaper", async () => {
    const { deployment, modelArn } = await victimMidGate();
    const foreign = addDeployment(account, { name: 'someone-elses', modelArn, status: 'Active' });
    tagResource(foreign, { 'bvc-evaluation': 'rejected' });
    // The victim's execution dies before a verdict: the reaper takes over and cleans up what is recorded.
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: VICTIM_RUN, status: 'FAILED', input: '{}' });
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [{ id: 1, type: 'TaskStateExited', timestamp: new Date(), stateExitedEventDetails: { name: 'X', output: JSON.stringify({ job: { jobName: JOB_NAME } }) } }],
    });
    const reaped = await reap({ executionArn: VICTIM_RUN, stateMachineArn: STATE_MACHINE }, { stateMachineArn: STATE_MACHINE }, {
      sfn: new SFNClient({}),
      bedrock: bedrock as unknown as BedrockClient,
      ledger,
    });
    expect(reaped.evaluation?.deploymentDeleted).toBe(deployment.arn);
    expect(bedrock).toHaveReceivedCommandTimes(DeleteCustomModelDeploymentCommand, 1);
    expect(account.deployments.has(foreign.arn)).toBe(true);

    // The janitor, later: the ledger records the gate's deployment, not this one.
    const report = await sweepDeployments(deleting, { bedrock: new BedrockClient({}), ledger });
    expect(report.kept).toEqual([{ deploymentArn: foreign.arn, reason: 'not-recorded', detail: expect.stringContaining(`another deployment (${deployment.arn})`) }]);
    expect(account.deployments.has(foreign.arn)).toBe(true);
  });

  it('a deployment recorded by name only is never deleted on its name, even when one of that name exists', async () => {
    const model = addModel(account, { arn: customModelArn(), jobArn: JOB_ARN, jobName: JOB_NAME });
    await ledgerWith(ledger, [{ jobName: JOB_NAME, owner: VICTIM_RUN, jobArn: JOB_ARN }]);
    expect(await ledger.recordEvaluation(JOB_NAME, { owner: VICTIM_RUN, self: VICTIM_RUN }, { deploymentName: `${JOB_NAME}-gate`, deploymentClientRequestToken: 't' })).toBe(true);
    const lookalike = addDeployment(account, { name: `${JOB_NAME}-gate`, modelArn: model.arn, status: 'Active' });
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: VICTIM_RUN, status: 'ABORTED', input: '{}' });
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [{ id: 1, type: 'TaskStateExited', timestamp: new Date(), stateExitedEventDetails: { name: 'X', output: JSON.stringify({ job: { jobName: JOB_NAME } }) } }],
    });
    const deps = { sfn: new SFNClient({}), bedrock: bedrock as unknown as BedrockClient, ledger };
    const report = await reap({ executionArn: VICTIM_RUN, stateMachineArn: STATE_MACHINE }, { stateMachineArn: STATE_MACHINE }, deps);
    expect(report.evaluation?.left).toEqual([expect.objectContaining({ resource: lookalike.arn, reason: 'not-proven-ours' })]);
    // The attacker's own failed execution naming the (now reaped) job: still nothing deleted.
    attackerExecution({ handover: { submission: { jobName: JOB_NAME } } });
    await reap({ executionArn: ATTACKER_RUN, stateMachineArn: STATE_MACHINE }, { stateMachineArn: STATE_MACHINE }, deps);
    expect(await sweepDeployments(deleting, { bedrock: new BedrockClient({}), ledger })).toMatchObject({ deleted: [], kept: [expect.objectContaining({ reason: 'not-recorded' })] });
    untouched();
    expect(account.deployments.has(lookalike.arn)).toBe(true);
  });

  it("a promoted model's deployment is never deleted by the janitor, whatever its tags or the ledger's supervisor", async () => {
    const { deployment } = await victimMidGate();
    for (const job of account.evaluationJobs.values()) job.status = 'Completed';
    expect(await ledger.recordEvaluation(JOB_NAME, { owner: VICTIM_RUN, self: VICTIM_RUN }, { verdict: 'promote' })).toBe(true);
    tagResource(deployment, { 'bvc-evaluation': 'rejected' });
    putObject(`evaluations/${JOB_NAME}/results/verdict.json`, { verdict: 'reject' });
    // The execution failed after its verdict (e.g. in RevokeGrants): the reaper holds the job now.
    expect(await ledger.reap(JOB_NAME, VICTIM_RUN)).toBe(true);
    for (const dryRun of [false, true]) {
      const report = await sweepDeployments({ ...deleting, dryRun }, { bedrock: new BedrockClient({}), ledger });
      expect(report.kept).toEqual([expect.objectContaining({ deploymentArn: deployment.arn, reason: 'promoted' })]);
      expect(report.wouldDelete).toEqual([]);
    }
    untouched();
    expect(account.deployments.has(deployment.arn)).toBe(true);
    // An attacker's (or a CreateTags-er's) change of the ledger is impossible: the verdict is written once.
    expect(await ledger.recordEvaluation(JOB_NAME, { owner: VICTIM_RUN, self: VICTIM_RUN }, { verdict: 'reject' })).toBe(false);
  });

  it('neither the reaper nor the janitor reads S3 (an object someone put in the evaluation bucket decides nothing)', () => {
    for (const dir of ['functions/reaper', 'functions/janitor']) {
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
        expect(readFileSync(`${dir}/${file}`, 'utf8'), `${dir}/${file}`).not.toMatch(/@aws-sdk\/client-s3|shared\/s3\.js/);
      }
    }
    expect(s3Objects.size).toBe(0);
  });
});

/**
 * The reaper and the evaluation gate (issue 23; functions/reaper/evaluation.ts): what the ledger records
 * of the gate is wound down once the reaper holds the job — evaluation jobs stopped by recorded ARN,
 * the deployment deleted by recorded ARN unless the verdict is promote — and nothing else.
 */
import {
  BedrockClient,
  ConflictException,
  DeleteCustomModelDeploymentCommand,
  GetCustomModelDeploymentCommand,
  GetEvaluationJobCommand,
  GetModelCustomizationJobCommand,
  ResourceNotFoundException,
  StopEvaluationJobCommand,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reap, type ReaperDeps } from '../../functions/reaper/reaper.js';
import { executionArnOf } from '../../functions/shared/arn.js';
import { REAPER_SUPERVISOR, type Ledger, type LedgerEvaluationPatch } from '../../functions/shared/ledger.js';
import { addDeployment, addEvaluationJob, customModelArn, gateAccount, serveGate, type GateAccount } from '../support/gate-bedrock.js';
import { emulatedLedger, ledgerWith } from '../support/ledger.js';

const sfn = mockClient(SFNClient);
const bedrock = mockClient(BedrockClient);
const dynamodb = mockClient(DynamoDBClient);
afterEach(() => {
  sfn.reset();
  bedrock.reset();
  dynamodb.reset();
});

const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:bedrock-vpc-customization-dev-customize-model';
const config = { stateMachineArn: STATE_MACHINE };
const FIRST = executionArnOf(STATE_MACHINE, 'run-1');
const JOB = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/abc123';
const JOB_NAME = 'run-1-job';
const MODEL = customModelArn('ourmodel0001');

let ledger: Ledger;
let deps: ReaperDeps;
let account: GateAccount;
beforeEach(async () => {
  ({ ledger } = emulatedLedger(dynamodb));
  deps = { sfn: new SFNClient({}), bedrock: bedrock as unknown as BedrockClient, ledger };
  account = gateAccount();
  serveGate(bedrock, account);
  // The customization job completed (the gate runs after it).
  bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn: JOB, jobName: JOB_NAME, status: 'Completed' });
  const state = { job: { jobName: JOB_NAME }, submission: { jobArn: JOB, jobName: JOB_NAME } };
  sfn.on(GetExecutionHistoryCommand).resolves({
    events: [{ id: 2, type: 'TaskStateExited', timestamp: new Date(), stateExitedEventDetails: { name: 'DeployModel', output: JSON.stringify(state) } }],
  });
  sfn.on(DescribeExecutionCommand).resolves({ executionArn: FIRST, status: 'FAILED', input: '{}' });
  await ledgerWith(ledger, [{ jobName: JOB_NAME, owner: FIRST, jobArn: JOB }]);
});

/** What evaluate-model records as the job's supervisor (the ledger's own write). */
async function gateRecorded(patch: LedgerEvaluationPatch): Promise<void> {
  expect(await ledger.recordEvaluation(JOB_NAME, { owner: FIRST, self: FIRST }, patch)).toBe(true);
}

/** The gate as far as DeployModel and StartEvaluations got: a deployment and two evaluation jobs, all recorded. */
async function gateRunning(custom: 'InProgress' | 'Completed' = 'InProgress', base: 'InProgress' | 'Completed' = 'Completed') {
  const deployment = addDeployment(account, { name: 'run-1-job-dep', modelArn: MODEL, status: 'Active' });
  const customJob = addEvaluationJob(account, { name: 'run-1-job-custom', status: custom });
  const baseJob = addEvaluationJob(account, { name: 'run-1-job-base', status: base });
  await gateRecorded({ deploymentName: deployment.name, deploymentClientRequestToken: 'dep-token', deploymentArn: deployment.arn });
  await gateRecorded({
    jobs: { custom: { name: customJob.name, token: 'c-token', arn: customJob.arn }, base: { name: baseJob.name, token: 'b-token', arn: baseJob.arn } },
  });
  return { deployment, customJob, baseJob };
}

const input = { executionArn: FIRST, stateMachineArn: STATE_MACHINE };

describe('reaper: the evaluation gate', () => {
  it('the supervisor died mid-gate: takes the job over, then stops the InProgress evaluation job and deletes the deployment, by their recorded ARNs', async () => {
    const { deployment, customJob, baseJob } = await gateRunning('InProgress', 'Completed');
    let supervisorAtDelete: Promise<string | undefined> | undefined;
    bedrock.on(DeleteCustomModelDeploymentCommand).callsFake(() => {
      supervisorAtDelete = ledger.read(JOB_NAME).then((e) => e?.supervisor);
      account.deployments.delete(deployment.arn);
      return {};
    });
    const report = await reap(input, config, deps);
    expect(report).toMatchObject({
      outcome: 'job-ended',
      evaluation: {
        jobsStopped: [customJob.arn],
        deploymentDeleted: deployment.arn,
        left: [{ resource: baseJob.arn, reason: 'not-running' }],
      },
    });
    expect(report.message).toContain(`deleted deployment ${deployment.arn}`);
    expect(bedrock).toHaveReceivedCommandTimes(StopEvaluationJobCommand, 1);
    expect(bedrock).toHaveReceivedCommandWith(StopEvaluationJobCommand, { jobIdentifier: customJob.arn });
    expect(bedrock).toHaveReceivedCommandWith(DeleteCustomModelDeploymentCommand, { customModelDeploymentIdentifier: deployment.arn });
    expect(await supervisorAtDelete).toBe(REAPER_SUPERVISOR);
    expect(account.evaluationJobs.get(customJob.arn)!.status).toBe('Stopping');
    expect((await ledger.read(JOB_NAME))?.evaluation).toMatchObject({ deploymentArn: deployment.arn, deploymentDeleted: true });
  });

  it('a promoted model keeps its deployment', async () => {
    const { deployment } = await gateRunning('Completed', 'Completed');
    await gateRecorded({ verdict: 'promote' });
    const report = await reap(input, config, deps);
    expect(report.evaluation).toEqual({
      jobsStopped: [],
      left: expect.arrayContaining([expect.objectContaining({ resource: deployment.arn, reason: 'promoted' })]),
    });
    expect(bedrock).not.toHaveReceivedCommand(DeleteCustomModelDeploymentCommand);
    expect(account.deployments.has(deployment.arn)).toBe(true);
  });

  it('a rejected model whose deployment the gate did not get to delete: deleted', async () => {
    const { deployment } = await gateRunning('Completed', 'Completed');
    await gateRecorded({ verdict: 'reject' });
    expect((await reap(input, config, deps)).evaluation).toMatchObject({ deploymentDeleted: deployment.arn });
    expect(account.deployments.has(deployment.arn)).toBe(false);
  });

  it('resources recorded by name and token only (died before the ARNs): none stopped or deleted, each reported', async () => {
    // A deployment of that very name exists (ours or not: nothing Bedrock returns can tell), and an evaluation job too.
    const found = addDeployment(account, { name: 'run-1-job-dep', modelArn: MODEL, status: 'Active' });
    const job = addEvaluationJob(account, { name: 'run-1-job-custom', status: 'InProgress' });
    await gateRecorded({ deploymentName: found.name, deploymentClientRequestToken: 'dep-token', jobs: { custom: { name: job.name, token: 'c-token' } } });
    const report = await reap(input, config, deps);
    expect(report.evaluation).toEqual({
      jobsStopped: [],
      left: [
        expect.objectContaining({ resource: job.name, reason: 'not-proven-ours' }),
        expect.objectContaining({ resource: found.arn, reason: 'not-proven-ours' }),
      ],
    });
    // GetEvaluationJob takes only an ARN: not even asked by name.
    expect(bedrock).not.toHaveReceivedCommand(GetEvaluationJobCommand);
    expect(bedrock).toHaveReceivedCommandWith(GetCustomModelDeploymentCommand, { customModelDeploymentIdentifier: found.name });
    expect(bedrock).not.toHaveReceivedCommand(StopEvaluationJobCommand);
    expect(bedrock).not.toHaveReceivedCommand(DeleteCustomModelDeploymentCommand);
    expect(account.deployments.has(found.arn)).toBe(true);
  });

  it('a deployment recorded by name that was never created: reported not found', async () => {
    await gateRecorded({ deploymentName: 'run-1-job-dep', deploymentClientRequestToken: 'dep-token' });
    expect((await reap(input, config, deps)).evaluation).toEqual({
      jobsStopped: [],
      left: [expect.objectContaining({ resource: 'run-1-job-dep', reason: 'not-found' })],
    });
  });

  it('is idempotent: a repeated event stops and deletes nothing more', async () => {
    await gateRunning('InProgress', 'InProgress');
    expect((await reap(input, config, deps)).evaluation).toMatchObject({ jobsStopped: [expect.any(String), expect.any(String)] });
    bedrock.resetHistory();
    const again = await reap(input, config, deps);
    expect(again).toMatchObject({ outcome: 'already-reaped', evaluation: { jobsStopped: [] } });
    expect(again.evaluation?.left.map((l) => l.reason).sort()).toEqual(['already-deleted', 'not-running', 'not-running']);
    expect(bedrock).not.toHaveReceivedCommand(StopEvaluationJobCommand);
    expect(bedrock).not.toHaveReceivedCommand(DeleteCustomModelDeploymentCommand);
  });

  it('a run that failed half-way (throttled delete) is finished by the retried event, having tried everything else first', async () => {
    const { deployment, customJob } = await gateRunning('InProgress', 'Completed');
    bedrock.on(DeleteCustomModelDeploymentCommand).rejectsOnce(new ThrottlingException({ message: 'slow down', $metadata: {} }));
    await expect(reap(input, config, deps)).rejects.toThrow('slow down');
    // The stop went through before the delete failed; the ledger is the reaper's.
    expect(account.evaluationJobs.get(customJob.arn)!.status).toBe('Stopping');
    expect(await ledger.read(JOB_NAME)).toMatchObject({ supervisor: REAPER_SUPERVISOR });
    expect(account.deployments.has(deployment.arn)).toBe(true);

    serveGate(bedrock, account);
    const retried = await reap(input, config, deps);
    expect(retried).toMatchObject({ outcome: 'already-reaped', evaluation: { deploymentDeleted: deployment.arn } });
    expect(account.deployments.has(deployment.arn)).toBe(false);
    expect((await ledger.read(JOB_NAME))?.evaluation?.deploymentDeleted).toBe(true);
  });

  it('a deployment or job already gone counts as done; a stop refused because the job ended meanwhile is not an error', async () => {
    const { deployment, customJob } = await gateRunning('InProgress', 'Completed');
    account.deployments.delete(deployment.arn);
    // The job ends between the reaper's read and its stop.
    bedrock.on(StopEvaluationJobCommand).callsFake(() => {
      account.evaluationJobs.get(customJob.arn)!.status = 'Completed';
      throw new ValidationException({ message: 'not in progress', $metadata: {} });
    });
    const report = await reap(input, config, deps);
    expect(report.evaluation).toMatchObject({ jobsStopped: [] });
    expect(report.evaluation?.left).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ resource: customJob.arn, reason: 'not-running' }),
        expect.objectContaining({ resource: deployment.arn, reason: 'not-found' }),
      ]),
    );
    expect((await ledger.read(JOB_NAME))?.evaluation?.deploymentDeleted).toBe(true);
  });

  it('a refused stop of a job still InProgress is an error (the Lambda retries)', async () => {
    await gateRunning('InProgress', 'Completed');
    bedrock.on(StopEvaluationJobCommand).callsFake(() => {
      throw new ConflictException({ message: 'busy', $metadata: {} });
    });
    await expect(reap(input, config, deps)).rejects.toThrow('busy');
  });

  it('an evaluation job gone before or during the stop counts as done; a look-up error is thrown after every other resource was tried', async () => {
    const { deployment, customJob, baseJob } = await gateRunning('InProgress', 'InProgress');
    account.evaluationJobs.delete(baseJob.arn);
    bedrock.on(StopEvaluationJobCommand, { jobIdentifier: customJob.arn }).rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));
    const report = await reap(input, config, deps);
    expect(report.evaluation).toEqual({
      jobsStopped: [],
      deploymentDeleted: deployment.arn,
      left: [expect.objectContaining({ resource: customJob.arn, reason: 'not-found' }), expect.objectContaining({ resource: baseJob.arn, reason: 'not-found' })],
    });
  });

  it('a throttled read is thrown (the Lambda retries), the deployment still deleted first', async () => {
    const { deployment, customJob } = await gateRunning('InProgress', 'Completed');
    bedrock.on(GetEvaluationJobCommand, { jobIdentifier: customJob.arn }).rejects(new ThrottlingException({ message: 'slow down', $metadata: {} }));
    await expect(reap(input, config, deps)).rejects.toThrow('slow down');
    expect(account.deployments.has(deployment.arn)).toBe(false);
  });

  it('a deployment recorded by name whose look-up fails is an error, nothing deleted', async () => {
    await gateRecorded({ deploymentName: 'run-1-job-dep', deploymentClientRequestToken: 'dep-token' });
    bedrock.on(GetCustomModelDeploymentCommand).rejects(new ThrottlingException({ message: 'slow down', $metadata: {} }));
    await expect(reap(input, config, deps)).rejects.toThrow('slow down');
    expect(bedrock).not.toHaveReceivedCommand(DeleteCustomModelDeploymentCommand);
  });

  it('a verdict alone (nothing else recorded): no call, and the report says so', async () => {
    await gateRecorded({ verdict: 'reject' });
    const report = await reap(input, config, deps);
    expect(report.evaluation).toEqual({ jobsStopped: [], left: [] });
    expect(report.message).toContain('nothing recorded to act on');
    expect(bedrock).not.toHaveReceivedCommand(DeleteCustomModelDeploymentCommand);
  });

  it('a job whose gate recorded nothing: no evaluation call, no evaluation field', async () => {
    const report = await reap(input, config, deps);
    expect(report).not.toHaveProperty('evaluation');
    expect(bedrock).not.toHaveReceivedCommand(GetEvaluationJobCommand);
    expect(bedrock).not.toHaveReceivedCommand(GetCustomModelDeploymentCommand);
  });
});

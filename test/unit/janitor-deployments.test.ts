/**
 * The janitor's deployment sweep (issue 23; functions/janitor/deployments.ts): a deployment is a rejected
 * one only when the job ledger records this very deployment for the job that made its model, and the
 * ledger's verdict (or its supervisor) says it should be gone. Deleted only with rejectedDeployments=delete.
 */
import {
  AccessDeniedException,
  BedrockClient,
  ConflictException,
  DeleteCustomModelDeploymentCommand,
  GetCustomModelCommand,
  GetCustomModelDeploymentCommand,
  ListCustomModelDeploymentsCommand,
  ResourceNotFoundException,
  ThrottlingException,
} from '@aws-sdk/client-bedrock';
import { DynamoDBClient, GetItemCommand, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { judgeDeployment, sweepDeployments, type DeploymentSweepConfig } from '../../functions/janitor/deployments.js';
import { executionArnOf } from '../../functions/shared/arn.js';
import { REAPER_SUPERVISOR, type Ledger, type LedgerEvaluationPatch } from '../../functions/shared/ledger.js';
import {
  ACCOUNT_ID,
  REGION,
  addDeployment,
  addModel,
  customModelArn,
  customizationJobArn,
  deploymentArn,
  gateAccount,
  serveGate,
  type GateAccount,
  type GateDeployment,
} from '../support/gate-bedrock.js';
import { emulatedLedger, ledgerWith } from '../support/ledger.js';

const bedrock = mockClient(BedrockClient);
const dynamodb = mockClient(DynamoDBClient);
afterEach(() => {
  bedrock.reset();
  dynamodb.reset();
});

const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:customize-model';
const config = (more: Partial<DeploymentSweepConfig> = {}): DeploymentSweepConfig => ({
  dryRun: false,
  rejectedDeployments: 'report',
  concurrency: 10,
  home: { region: REGION, accountId: ACCOUNT_ID },
  ...more,
});

let ledger: Ledger;
let account: GateAccount;
const deps = () => ({ bedrock: new BedrockClient({}), ledger });
beforeEach(() => {
  ({ ledger } = emulatedLedger(dynamodb));
  account = gateAccount();
  serveGate(bedrock, account);
});

interface OurJob {
  verdict?: 'promote' | 'reject';
  /** The reaper took the job over (its supervisor died). */
  reaped?: boolean;
  deploymentDeleted?: boolean;
  /** What the ledger records as the deployment: the real one (default), another ARN, or none. */
  recorded?: 'this' | 'other' | 'none';
}

/** A job of the workflow (ledger entry by the ledger's own calls), its custom model, and a deployment of it. */
async function ourJob(name: string, job: OurJob = {}): Promise<GateDeployment> {
  const owner = executionArnOf(STATE_MACHINE, `${name}-run`);
  const jobArn = customizationJobArn(name);
  const model = addModel(account, { arn: customModelArn(), jobArn, jobName: name });
  const deployment = addDeployment(account, { name: `${name}-dep`, modelArn: model.arn, status: 'Active' });
  await ledgerWith(ledger, [{ jobName: name, owner, jobArn }]);
  const record = async (self: string, patch: LedgerEvaluationPatch) => expect(await ledger.recordEvaluation(name, { owner, self }, patch)).toBe(true);
  const recorded = job.recorded ?? 'this';
  await record(owner, {
    deploymentName: deployment.name,
    deploymentClientRequestToken: `${name}-dep-token`,
    ...(recorded === 'none' ? {} : { deploymentArn: recorded === 'this' ? deployment.arn : deploymentArn('elsewhere0001') }),
    ...(job.verdict ? { verdict: job.verdict } : {}),
  });
  let self = owner;
  if (job.reaped) {
    expect(await ledger.reap(name, owner)).toBe(true);
    self = REAPER_SUPERVISOR;
  }
  if (job.deploymentDeleted) await record(self, { deploymentDeleted: true });
  return deployment;
}

describe('janitor: deployment sweep', () => {
  it('reports rejected deployments by the ledger alone; keeps every other with its reason', async () => {
    const rejected = await ourJob('rejected', { verdict: 'reject' });
    const orphaned = await ourJob('orphaned', { reaped: true });
    const markedDeleted = await ourJob('marked', { deploymentDeleted: true });
    const promoted = await ourJob('promoted', { verdict: 'promote', reaped: true });
    const running = await ourJob('running');
    const otherArn = await ourJob('other-arn', { verdict: 'reject', recorded: 'other' });
    const unrecorded = await ourJob('unrecorded', { verdict: 'reject', recorded: 'none' });
    const customerModel = addModel(account, { arn: customModelArn() });
    const customers = addDeployment(account, { name: 'customer', modelArn: customerModel.arn, status: 'Active' });
    const strangerModel = addModel(account, { arn: customModelArn(), jobArn: customizationJobArn('stranger'), jobName: 'stranger' });
    const strangers = addDeployment(account, { name: 'stranger', modelArn: strangerModel.arn, status: 'Active' });

    const report = await sweepDeployments(config(), deps());
    expect(report.scanned).toBe(9);
    expect(report.rejected.map((r) => r.deploymentArn).sort()).toEqual([rejected.arn, orphaned.arn, markedDeleted.arn].sort());
    expect(report.rejected.find((r) => r.deploymentArn === orphaned.arn)).toMatchObject({ jobName: 'orphaned', deploymentName: 'orphaned-dep', detail: expect.stringContaining('reaper') });
    const reasons = Object.fromEntries(report.kept.map((k) => [k.deploymentArn, k.reason]));
    expect(reasons).toEqual({
      [rejected.arn]: 'rejected-reported',
      [orphaned.arn]: 'rejected-reported',
      [markedDeleted.arn]: 'rejected-reported',
      [promoted.arn]: 'promoted',
      [running.arn]: 'no-verdict',
      [otherArn.arn]: 'not-recorded',
      [unrecorded.arn]: 'not-recorded',
      [customers.arn]: 'not-a-job-model',
      [strangers.arn]: 'not-recorded',
    });
    expect(report.deleted).toEqual([]);
    expect(bedrock).not.toHaveReceivedCommand(DeleteCustomModelDeploymentCommand);
    // Every page was read (2 deployments per page).
    expect(bedrock).toHaveReceivedCommandTimes(ListCustomModelDeploymentsCommand, 5);
  });

  it('deletes rejected deployments only with rejectedDeployments=delete, never a promoted or unrecorded one', async () => {
    const rejected = await ourJob('rejected', { verdict: 'reject' });
    const orphaned = await ourJob('orphaned', { reaped: true });
    const promoted = await ourJob('promoted', { verdict: 'promote' });
    const otherArn = await ourJob('other-arn', { verdict: 'reject', recorded: 'other' });
    const report = await sweepDeployments(config({ rejectedDeployments: 'delete' }), deps());
    expect(report.deleted.sort()).toEqual([rejected.arn, orphaned.arn].sort());
    expect([...account.deployments.keys()].sort()).toEqual([promoted.arn, otherArn.arn].sort());
    expect(bedrock).toHaveReceivedCommandTimes(DeleteCustomModelDeploymentCommand, 2);
  });

  it('a dry run deletes nothing and says what it would delete', async () => {
    const rejected = await ourJob('rejected', { verdict: 'reject' });
    const report = await sweepDeployments(config({ rejectedDeployments: 'delete', dryRun: true }), deps());
    expect(report).toMatchObject({ dryRun: true, wouldDelete: [rejected.arn], deleted: [] });
    expect(bedrock).not.toHaveReceivedCommand(DeleteCustomModelDeploymentCommand);
  });

  it('look-up failures keep the deployment, with the reason; a deployment gone meanwhile is reported gone', async () => {
    const denied = await ourJob('denied', { verdict: 'reject' });
    const noModel = await ourJob('no-model', { verdict: 'reject' });
    const vanishing = await ourJob('vanishing', { verdict: 'reject' });
    account.models.delete(noModel.modelArn);
    bedrock.on(GetCustomModelCommand, { modelIdentifier: denied.modelArn }).rejects(new AccessDeniedException({ message: 'denied', $metadata: {} }));
    // Listed, then deleted before it was read.
    const listed = [...account.deployments.values()];
    bedrock.on(ListCustomModelDeploymentsCommand).callsFake(() => {
      account.deployments.delete(vanishing.arn);
      return { modelDeploymentSummaries: listed.map((d) => ({ customModelDeploymentArn: d.arn, customModelDeploymentName: d.name, modelArn: d.modelArn, createdAt: new Date(), status: d.status })) };
    });
    const report = await sweepDeployments(config({ rejectedDeployments: 'delete' }), deps());
    expect(report.kept).toEqual(
      expect.arrayContaining([
        { deploymentArn: denied.arn, reason: 'lookup-failed', detail: expect.stringContaining('denied') },
        { deploymentArn: noModel.arn, reason: 'model-not-found', detail: noModel.modelArn },
      ]),
    );
    expect(report.alreadyGone).toEqual([vanishing.arn]);
    expect(report.deleted).toEqual([]);
  });

  it('a deployment that cannot be read, or is listed with a malformed ARN, is kept', async () => {
    const throttled = await ourJob('throttled', { verdict: 'reject' });
    bedrock.on(GetCustomModelDeploymentCommand, { customModelDeploymentIdentifier: throttled.arn }).rejects(new ThrottlingException({ message: 'slow down', $metadata: {} }));
    addDeployment(account, { arn: 'arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/NOT-VALID', name: 'odd', modelArn: throttled.modelArn, status: 'Active' });
    const report = await sweepDeployments(config({ rejectedDeployments: 'delete' }), deps());
    expect(report.kept).toEqual(
      expect.arrayContaining([
        { deploymentArn: throttled.arn, reason: 'lookup-failed', detail: expect.stringContaining('slow down') },
        { deploymentArn: 'arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/NOT-VALID', reason: 'not-home', detail: 'not a custom model deployment ARN' },
      ]),
    );
    expect(bedrock).not.toHaveReceivedCommand(DeleteCustomModelDeploymentCommand);
  });

  it('a ledger that cannot be read keeps everything', async () => {
    const rejected = await ourJob('rejected', { verdict: 'reject' });
    dynamodb.on(GetItemCommand).rejects(new ProvisionedThroughputExceededException({ message: 'ledger throttled', $metadata: {} }));
    const report = await sweepDeployments(config({ rejectedDeployments: 'delete' }), deps());
    expect(report.kept).toEqual([{ deploymentArn: rejected.arn, reason: 'lookup-failed', detail: expect.stringContaining('ledger throttled') }]);
    expect(bedrock).not.toHaveReceivedCommand(DeleteCustomModelDeploymentCommand);
  });

  it('a failed delete is kept and reported; one already gone is reported gone', async () => {
    const busy = await ourJob('busy', { verdict: 'reject' });
    const gone = await ourJob('gone', { verdict: 'reject' });
    bedrock.on(DeleteCustomModelDeploymentCommand, { customModelDeploymentIdentifier: busy.arn }).rejects(new ConflictException({ message: 'busy', $metadata: {} }));
    bedrock.on(DeleteCustomModelDeploymentCommand, { customModelDeploymentIdentifier: gone.arn }).rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));
    const report = await sweepDeployments(config({ rejectedDeployments: 'delete' }), deps());
    expect(report.kept).toEqual([{ deploymentArn: busy.arn, reason: 'delete-failed', detail: expect.stringContaining('busy') }]);
    expect(report.alreadyGone).toEqual([gone.arn]);
  });

  it('reads the ledger once per job, and looks at deployments of its own account and region only', async () => {
    const first = await ourJob('twice', { verdict: 'reject' });
    addDeployment(account, { name: 'twice-dep-2', modelArn: first.modelArn, status: 'Active' });
    const foreign = addDeployment(account, { arn: 'arn:aws:bedrock:eu-west-1:123456789012:custom-model-deployment/abcdefabcdef', name: 'far', modelArn: first.modelArn, status: 'Active' });
    dynamodb.resetHistory();
    const report = await sweepDeployments(config(), deps());
    expect(dynamodb).toHaveReceivedCommandTimes(GetItemCommand, 1);
    expect(report.kept).toEqual(
      expect.arrayContaining([
        { deploymentArn: foreign.arn, reason: 'not-home', detail: `of ${ACCOUNT_ID}/eu-west-1` },
        expect.objectContaining({ reason: 'not-recorded', detail: expect.stringContaining(`another deployment (${first.arn})`) }),
      ]),
    );
    expect(bedrock).not.toHaveReceivedCommandWith(GetCustomModelDeploymentCommand, { customModelDeploymentIdentifier: foreign.arn });
  });
});

describe('janitor: the rule (judgeDeployment)', () => {
  const arn = deploymentArn('abcabcabcabc');
  const jobArn = customizationJobArn('j');
  const base = { jobName: 'j', owner: 'o', supervisor: 'o', claimed: true, generation: 0, clientRequestToken: 't', nonce: 'n', network: { vpcId: '', subnetIds: [], securityGroupIds: [] }, enis: [], status: 'submitted' as const, jobArn };
  it('promote wins over everything; reject, or no verdict under the reaper or after a recorded delete, is rejected', () => {
    const judge = (evaluation: object, more: object = {}) => judgeDeployment({ ...base, ...more, evaluation: { jobs: {}, deploymentArn: arn, ...evaluation } }, { arn, jobName: 'j', jobArn });
    expect(judge({ verdict: 'promote', deploymentDeleted: true }, { supervisor: REAPER_SUPERVISOR })).toMatchObject({ kind: 'keep', reason: 'promoted' });
    expect(judge({ verdict: 'reject' })).toMatchObject({ kind: 'rejected' });
    expect(judge({}, { supervisor: REAPER_SUPERVISOR })).toMatchObject({ kind: 'rejected' });
    expect(judge({ deploymentDeleted: true })).toMatchObject({ kind: 'rejected' });
    expect(judge({})).toMatchObject({ kind: 'keep', reason: 'no-verdict' });
    expect(judgeDeployment(undefined, { arn, jobName: 'j', jobArn })).toMatchObject({ kind: 'keep', reason: 'not-recorded' });
    expect(judgeDeployment({ ...base, jobArn: customizationJobArn('other') }, { arn, jobName: 'j', jobArn })).toMatchObject({ kind: 'keep', reason: 'not-recorded' });
    expect(judgeDeployment({ ...base }, { arn, jobName: 'j', jobArn })).toMatchObject({ kind: 'keep', reason: 'not-recorded', detail: expect.stringContaining('no deployment') });
  });
});

/**
 * A forged hand-over against moto: the workflow (the ASL file, the real handlers) started with a
 * `handover` input that names a real execution, a real running job and its ENIs, under the very name
 * the real successor would have. ResumeJob reads the claimed predecessor's history over the wire
 * (moto's history of that execution holds no HandOver start) and the execution ends in
 * HandOverRejected: the job is not stopped, its ENIs are not deleted, no policy is written, and the
 * only AWS call made is that read.
 */
import { GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import { GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { CHAIN_EXECUTION_TAG, handoverExecutionName } from '../../functions/shared/chain.js';
import { createDemoJob, createJobEnis, demoStageParams, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { loadLambdaHandlers, localStateMachineArn, runWorkflow, type TaskHandler } from '../../local/workflow.js';
import { setStage } from '../fixtures/stage.js';
import { commandsSentDuring, motoClients, resetMoto } from '../support/moto-clients.js';

const { ec2, s3, iam, bedrock } = motoClients();
const sfn = new SFNClient({ endpoint: inject('motoEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });

let lambdas: Record<string, TaskHandler>;
beforeAll(async () => {
  lambdas = await loadLambdaHandlers();
});

describe('a forged hand-over against moto', () => {
  let account: DemoAccount;
  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb: motoClients().dynamodb });
    setStage(demoStageParams(account));
    // The state machine the local runner executes, so that the claimed predecessor is one of its executions.
    const name = localStateMachineArn().split(':').at(-1)!;
    const definition = JSON.stringify({ StartAt: 'Wait', States: { Wait: { Type: 'Wait', Seconds: 3600, End: true } } });
    await sfn.send(new CreateStateMachineCommand({ name, roleArn: account.roleArn, definition }));
  });

  it('stops no job, deletes no ENI, writes no policy; its only call reads the claimed predecessor\'s history', async () => {
    // A real execution and the running job it owns (tagged as its chain's), with the job's ENIs.
    const victim = await sfn.send(new StartExecutionCommand({ stateMachineArn: localStateMachineArn(), name: 'victim', input: '{}' }));
    const first = { id: victim.executionArn!, name: 'victim' };
    const job = { jobArn: await createDemoJob(bedrock, account, 'victim-job', { tags: { [CHAIN_EXECUTION_TAG]: first.id } }) };
    const jobEnis = await createJobEnis(ec2, job.jobArn, account.subnetIds, [account.securityGroupId]);
    // The hand-over the victim would give its successor, with a deadline already passed (so a believed
    // claim would stop the job at once), started under the successor's own name.
    const handover = {
      job: { jobName: 'victim-job' },
      execution: first,
      submission: { jobArn: job.jobArn!, jobName: 'victim-job', adopted: false, submittedAt: '2026-01-01T00:00:00.000Z', deadline: '2026-01-01T00:00:01.000Z' },
      pollCount: 1,
      generation: 1,
      previousExecutionId: first.id,
    };

    const { result: run, sent: calls } = await commandsSentDuring(() =>
      runWorkflow({
        input: { handover },
        handlers: { ...lambdas },
        executionName: handoverExecutionName(first, 1),
        retryMs: 0,
        waitMs: 0,
      }),
    );

    expect(run).toMatchObject({ status: 'FAILED', error: 'HandOverRejectedError' });
    expect(run.states).toEqual(['IsHandover', 'ResumeJob', 'HandOverRejected']);
    expect(calls).toEqual(['GetExecutionHistoryCommand']);
    expect((await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: job.jobArn! }))).status).toBe('InProgress');
    const enis = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: jobEnis }));
    expect(enis.NetworkInterfaces!.map((e) => e.NetworkInterfaceId).sort()).toEqual([...jobEnis].sort());
    await expect(
      iam.send(new GetRolePolicyCommand({ RoleName: 'BedrockCustomizationRole', PolicyName: `BedrockVpcCustomization-${account.vpcId}` })),
    ).rejects.toMatchObject({ name: 'NoSuchEntityException' });
  });
});

/**
 * Status checks that fail against moto: a fault-injecting middleware on the poll-status Lambda's own
 * Bedrock client (functions/shared/clients.ts) rejects GetModelCustomizationJob before it is sent;
 * everything else, StopModelCustomizationJob included, reaches moto. moto never finishes a job, so a
 * run ends on the deadline path, or stopped by the workflow when it cannot follow the job.
 */
import { GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bedrock as lambdaBedrock } from '../../functions/shared/clients.js';
import { createJobEnis, demoJobInput, demoStageParams, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { setStage } from '../fixtures/stage.js';
import { loadLambdaHandlers, runWorkflow, type TaskHandler, type WorkflowRun } from '../../local/workflow.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { ec2, s3, iam, bedrock } = motoClients();
let lambdas: Record<string, TaskHandler>;
beforeAll(async () => {
  lambdas = await loadLambdaHandlers();
});

const FAULT = 'bvcFaultInjection';
/** Rejects the n-th GetModelCustomizationJob of the Lambdas' client when `fail(n)` returns an error. */
function injectGetFaults(fail: (n: number) => Error | undefined) {
  let n = 0;
  lambdaBedrock.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetModelCustomizationJobCommand') {
        const error = fail(++n);
        if (error) throw error;
      }
      return next(args);
    },
    { step: 'initialize', name: FAULT },
  );
  return { calls: () => n };
}
const sdkError = (name: string, message: string, httpStatusCode: number) =>
  Object.assign(new Error(message), { name, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode } });

const jobArnOf = (run: WorkflowRun) =>
  run.events.flatMap((e: any) => (e.type === 'StateExited' && e.state.name === 'SubmitJob' ? [e.state.output.submission.jobArn] : []))[0] as string;

describe('status checks failing against moto', () => {
  let account: DemoAccount;
  let jobEnis: string[];
  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb: motoClients().dynamodb });
    // Deployed into the demo account: its network, role, buckets and endpoint as the stage params.
    setStage(demoStageParams(account));
    jobEnis = [];
  });
  afterEach(() => {
    lambdaBedrock.middlewareStack.remove(FAULT);
  });

  const run = () =>
    runWorkflow({
      input: demoJobInput(account, { maxJobDurationSeconds: 2, polling: { initialSeconds: 10, maxSeconds: 10, growthFactor: 1 } }),
      handlers: {
        ...lambdas,
        // Stand-in for Bedrock creating the job's ENIs (moto does not).
        SubmitJob: async (input: any) => {
          const out = (await lambdas.SubmitJob!(input)) as { jobArn: string };
          jobEnis = await createJobEnis(ec2, out.jobArn, account.subnetIds, [account.securityGroupId]);
          return out;
        },
      } as Record<string, TaskHandler>,
      waitMs: 200,
      retryMs: 0,
    });

  it('Get throttled for a while: the run carries on and ends with the job Stopped at its deadline, never unwatched', async () => {
    const faults = injectGetFaults((n) => (n >= 2 && n <= 6 ? sdkError('ThrottlingException', 'Rate exceeded', 400) : undefined));

    const result = await run();

    expect(result).toMatchObject({ status: 'FAILED', error: 'JobDeadlineExceededError' });
    expect(faults.calls()).toBeGreaterThan(6);
    expect(result.events.filter((e: any) => e.type === 'StateRetried' && e.state.name === 'PollStatus')).toHaveLength(5);
    expect(result.states).toContain('StopJob');
    expect(result.states).not.toContain('StopUnwatchedJob');
    const job = await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArnOf(result) }));
    expect(job.status).toBe('Stopped');
    const live = new Set((await ec2.send(new DescribeNetworkInterfacesCommand({}))).NetworkInterfaces!.map((e) => e.NetworkInterfaceId));
    for (const id of jobEnis) expect(live.has(id)).toBe(false);
  });

  it('Get denied for good: StopModelCustomizationJob is sent (moto: Stopped), no cleanup, JobUnwatchedError', async () => {
    injectGetFaults(() => sdkError('AccessDeniedException', 'not authorized to perform bedrock:GetModelCustomizationJob', 403));

    const result = await run();

    expect(result).toMatchObject({ status: 'FAILED', error: 'JobUnwatchedError' });
    expect(result.states.slice(-5)).toEqual(['StopUnwatchedJob', 'WaitForStop', 'ConfirmStopped', 'Unwatched', 'JobUnwatched']);
    expect(result.cause).toContain('AccessDeniedException');
    const job = await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArnOf(result) }));
    expect(job.status).toBe('Stopped');
    // the janitor's job, later: the workflow deleted nothing
    expect(result.states).not.toContain('CleanupEnis');
    const live = new Set((await ec2.send(new DescribeNetworkInterfacesCommand({}))).NetworkInterfaces!.map((e) => e.NetworkInterfaceId));
    for (const id of jobEnis) expect(live.has(id)).toBe(true);
  });
});

/**
 * Early failure against moto: the whole workflow (the ASL file, the real handlers, the real SDK over the
 * wire) follows a job the stand-in for Bedrock (python/bedrock_standin.py, outcome `fail`) fails in a
 * phase: `statusDetails.<phase>Details.status` is `Failed` while the job's `status` is still
 * `InProgress`, until the stand-in would end the job Failed `seconds` after its creation. The workflow
 * must not wait for that: it stops the job (StopModelCustomizationJob, as the job's supervisor), the job
 * ends Stopped long before `seconds`, its ENIs are cleaned up, its grants revoked, and the execution
 * fails with JobFailedError naming the phase.
 */
import { GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { configureBedrockStandIn, resetBedrockStandIn, standInEvents } from '../../local/bedrock-standin.js';
import { demoJobInput, withJobEnis, demoStageParams, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { loadLambdaHandlers, runWorkflow, type TaskHandler } from '../../local/workflow.js';
import { setStage } from '../fixtures/stage.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const { ec2, s3, iam, bedrock } = motoClients();
const endpoint = inject('motoEndpoint');
let lambdas: Record<string, TaskHandler>;
beforeAll(async () => {
  lambdas = await loadLambdaHandlers();
});
afterAll(() => resetBedrockStandIn(endpoint));

/** When the stand-in would end the job Failed by itself: the workflow must end well before. */
const JOB_SECONDS = 40;

describe('early failure against moto (stand-in outcome fail with a phase that fails first)', () => {
  let account: DemoAccount;
  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb: motoClients().dynamodb });
    setStage(demoStageParams(account, { jobWait: 'poll' }));
  });

  it.each(['validation', 'dataProcessing'] as const)(
    '%s Failed while the job is InProgress: stopped at once, Stopped in moto, ENIs cleaned up, JobFailedError naming the phase',
    async (phase) => {
      const jobName = `early-${phase.toLowerCase()}`;
      await configureBedrockStandIn(endpoint, {
        enabled: true,
        jobs: { [jobName]: { outcome: 'fail', seconds: JOB_SECONDS, phase, phaseFailedSeconds: 1 } },
      });
      let jobEnis: string[] = [];
      // Stand-in for Bedrock creating the job's ENIs (moto does not).
      const handlers: Record<string, TaskHandler> = { ...lambdas, SubmitJob: withJobEnis(lambdas.SubmitJob!, ec2, (ids) => (jobEnis = ids)) };
      // Waits of 10 s or more asked, 1.5 s each here; a deadline a day away.
      const input = demoJobInput(account, { jobName, maxJobDurationSeconds: 86_400, polling: { initialSeconds: 10, maxSeconds: 60, growthFactor: 2 } });
      const started = Date.now();

      const run = await runWorkflow({ input, handlers, retryMs: 0, waitMs: 1500 });
      const took = (Date.now() - started) / 1000;

      expect(run).toMatchObject({ status: 'FAILED', error: 'JobFailedError' });
      expect(run.cause).toContain(`failed in its ${phase === 'validation' ? 'validation' : 'data processing'} phase (statusDetails.${phase}Details.status Failed)`);
      expect(run.cause).toContain('stopped the job; its status is Stopped');
      expect(run.states.filter((s) => s === 'StopJob')).toHaveLength(1);
      expect(run.states.filter((s) => s === 'CleanupEnis')).toHaveLength(1);
      expect(run.states.slice(-5)).toEqual(['CleanupEnis', 'GateOrRevoke', 'RevokeGrants', 'Outcome', 'JobFailed']);
      expect(took).toBeLessThan(JOB_SECONDS / 2);

      // In moto: the job was stopped (not left to fail at JOB_SECONDS), and Bedrock's event says so.
      const jobArn = run.events.flatMap((e: any) => (e.type === 'StateExited' && e.state.name === 'SubmitJob' ? [e.state.output.submission.jobArn] : []))[0];
      const job = await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
      expect(job.status).toBe('Stopped');
      const events = (await standInEvents(endpoint)).filter((e) => e.detail.jobArn === jobArn);
      expect(events.map((e) => e.detail.jobStatus)).toEqual(['Stopped']);

      // The poll that decided the stop saw the phase Failed with the job InProgress.
      const polls = run.events.flatMap((e: any) => (e.type === 'StateExited' && e.state.name === 'PollStatus' ? [e.state.output.poll] : []));
      const decided = polls.find((p: any) => p.next === 'stop');
      expect(decided).toMatchObject({ status: 'InProgress', stopReason: 'phaseFailed', phaseFailure: { phase } });
      expect(decided.statusDetails[`${phase}Details`].status).toBe('Failed');

      // Only the job's own ENIs were deleted.
      const live = new Set(((await ec2.send(new DescribeNetworkInterfacesCommand({}))).NetworkInterfaces ?? []).map((e) => e.NetworkInterfaceId));
      for (const id of jobEnis) expect(live.has(id)).toBe(false);
      for (const id of Object.values(account.leftoverEnis)) expect(live.has(id)).toBe(true);
    },
  );
});

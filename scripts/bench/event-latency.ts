/**
 * Benchmark of the event-driven wait's detection latency, for real on this machine: the ASL file with
 * the real handlers against moto, the stand-in for Bedrock completing the job and recording Bedrock's
 * "Model Customization Job State Change" event, that event handed to job-events (its step logic over
 * the wire to moto's DynamoDB and Bedrock) as soon as it is read, and the runner's callback service
 * releasing WaitForJobEvent. Measured: from the event's `time` (when the stand-in recorded the job's
 * end) to WaitForJobEvent's exit, and from job-events' start to that exit. EventBridge's own delivery
 * is not in it (there is none locally; AWS documents delivery as best effort, typically within seconds).
 */
import { configureBedrockStandIn, standInEvents } from '../lib/bedrock-standin.js';
import { clientsFor, createJobEnis, demoJobInput, demoStageParams, seedDemoAccount } from '../lib/seed.js';
import { functionEnvironment, resolveParams } from '../lib/stage-params.js';
import { deliverJobEvent, loadLambdaHandlers, runWorkflow, type TaskHandler } from '../lib/workflow.js';
import type { BenchFigure } from './preflight.js';

const REGION = 'us-east-1';
const RUNS = 3;

export async function run(ctx: { endpoint: string }): Promise<BenchFigure[]> {
  await fetch(`${ctx.endpoint}/moto-api/reset`, { method: 'POST' });
  const clients = clientsFor(ctx.endpoint, REGION);
  const account = await seedDemoAccount(clients, REGION);
  const environment = functionEnvironment(resolveParams({ ...demoStageParams(account), jobWait: 'event' }), { accountId: account.accountId, region: REGION });
  Object.assign(process.env, environment, { AWS_ENDPOINT_URL: ctx.endpoint, AWS_REGION: REGION, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' });
  const lambdas = await loadLambdaHandlers();
  const fromEvent: number[] = [];
  const fromHandler: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const jobName = `latency-${i}-${Date.now().toString(36)}`;
    await configureBedrockStandIn(ctx.endpoint, { enabled: true, default: { outcome: 'hold' }, jobs: { [jobName]: { outcome: 'complete', seconds: 2 } } });
    const handlers: Record<string, TaskHandler> = {
      ...lambdas,
      SubmitJob: async (input) => {
        const out = (await lambdas.SubmitJob!(input)) as { jobArn: string };
        await createJobEnis(clients.ec2, out.jobArn, account.subnetIds, [account.securityGroupId]);
        return out as never;
      },
    };
    let exitedAt: number | undefined;
    let eventTime: number | undefined;
    let handlerStart: number | undefined;
    let done = false;
    // EventBridge's part, as fast as this machine reads: the stand-in's events to job-events.
    const forward = (async () => {
      while (!done && eventTime === undefined) {
        const events = (await standInEvents(ctx.endpoint)).filter((e) => e.detail.jobName === jobName && e.detail.jobStatus === 'Completed');
        if (events.length) {
          eventTime = Date.parse(events[0]!.time);
          handlerStart = Date.now();
          await deliverJobEvent(events[0]!.detail);
        } else await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const result = await runWorkflow({
      input: demoJobInput(account, { jobName }),
      handlers,
      waitMs: 0,
      retryMs: 0,
      eventWaitMs: 60_000,
      onEvent: (e) => {
        if (e.type === 'StateExited' && (e as { state: { name: string } }).state.name === 'WaitForJobEvent') exitedAt = Date.now();
      },
    });
    done = true;
    await forward;
    if (result.status !== 'SUCCEEDED' || exitedAt === undefined || eventTime === undefined || handlerStart === undefined) {
      throw new Error(`event latency run ${i} ended ${result.status} ${result.error ?? ''}: no event-released wait to measure`);
    }
    fromEvent.push(exitedAt - eventTime);
    fromHandler.push(exitedAt - handlerStart);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return [
    { name: `event wait, local: the stand-in's job-end event → WaitForJobEvent released (median of ${RUNS}; the event's time is to the second; read every 20 ms; no EventBridge)`, value: median(fromEvent), unit: 'ms' },
    { name: `event wait, local: job-events started → WaitForJobEvent released (median of ${RUNS}; DynamoDB and Bedrock calls to moto)`, value: median(fromHandler), unit: 'ms' },
  ];
}

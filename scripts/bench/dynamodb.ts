/**
 * DynamoDB requests per job, local run against moto ("dynamodb" group): latency is moto's, not DynamoDB's.
 *
 * One whole workflow, run as `npm run local` / `bvc start --local` runs it (cli/local-target.ts):
 * the demo account seeded into moto, the stage's environment from serverless.yml (its `!Ref <table>`s
 * resolved by local/cfn-values.ts to the tables the seed creates), the ASL file with the real
 * handlers, the stand-in for Bedrock completing the job after DEMO_JOB_SECONDS, its job-state event
 * handed to job-events as the EventBridge stand-in does, the demo's Wait states and polling.
 *
 * Counted: every call the Lambdas send through a DynamoDB client of functions/shared/clients.ts (each
 * one found there, whatever its name), by a middleware at the `initialize` step (once per API call;
 * the SDK's retries happen inside it, and are reported from `$metadata.attempts`), keyed by table
 * (`input.TableName`, or the tables of a batch or transaction) and command. Timed: the wall time of
 * each call as the Lambda awaits it (serialization, moto's answer over loopback HTTP, retries). Every
 * table of serverless.yml gets rows, 0 calls included, so a new table shows up with no change here.
 *
 * What the calls mean for cost holds on AWS (the same code sends the same requests for the same
 * job); the milliseconds do not: moto answers from memory on this machine.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEMO_EVENT_WAIT_MS, DEMO_JOB_SECONDS, DEMO_WAIT_MS } from '../../cli/local-target.js';
import { configureBedrockStandIn, standInEvents } from '../../local/bedrock-standin.js';
import { stackResources, resolveCfnValue } from '../../local/cfn-values.js';
import { demoJobInput, withJobEnis } from '../../local/seed.js';
import { forwardStandInEvents, loadLambdaHandlers, runWorkflow, type TaskHandler } from '../../local/workflow.js';
import { seedFreshDemo, useDemoStage } from './demo-stage.js';
import type { BenchFigure } from './preflight.js';

const REGION = 'us-east-1';
const METER = 'benchDynamoDbMeter';
export const FIGURE = 'DynamoDB requests per job, local run against moto';
const MOTO_MS = "moto's latency, not DynamoDB's";

interface Call {
  table: string;
  command: string;
  ms: number;
  attempts: number;
  failed: boolean;
}

/** The tables a DynamoDB command's input names: TableName, a batch's RequestItems, a transaction's items. */
export function tablesOf(input: Record<string, unknown> | undefined): string[] {
  if (!input) return [];
  if (typeof input.TableName === 'string') return [input.TableName];
  if (input.RequestItems && typeof input.RequestItems === 'object') return Object.keys(input.RequestItems).sort();
  if (Array.isArray(input.TransactItems)) {
    const names = (input.TransactItems as Record<string, { TableName?: string } | undefined>[]).flatMap((item) =>
      Object.values(item).flatMap((op) => (typeof op?.TableName === 'string' ? [op.TableName] : [])),
    );
    return [...new Set(names)].sort();
  }
  return [];
}

/** Adds the meter to every DynamoDB client of functions/shared/clients.ts; `stop` removes it. */
async function meterLambdaDynamoDb(): Promise<{ calls: Call[]; clients: string[]; stop: () => void }> {
  const module = (await import('../../functions/shared/clients.js')) as Record<string, unknown>;
  const clients = Object.entries(module).filter((e): e is [string, DynamoDBClient] => e[1] instanceof DynamoDBClient);
  if (!clients.length) throw new Error('functions/shared/clients.ts exports no DynamoDB client to meter');
  const calls: Call[] = [];
  for (const [, client] of clients) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const started = performance.now();
        const record = (attempts: number | undefined, failed: boolean) =>
          calls.push({
            table: tablesOf(args.input as Record<string, unknown>).join('+') || '(no table)',
            command: String(context.commandName ?? 'unknown').replace(/Command$/, ''),
            ms: performance.now() - started,
            attempts: attempts ?? 1,
            failed,
          });
        try {
          const out = await next(args);
          record((out.output as { $metadata?: { attempts?: number } }).$metadata?.attempts, false);
          return out;
        } catch (err) {
          record((err as { $metadata?: { attempts?: number } }).$metadata?.attempts, true);
          throw err;
        }
      },
      { step: 'initialize', name: METER, priority: 'high' },
    );
  }
  return { calls, clients: clients.map(([name]) => name), stop: () => clients.forEach(([, c]) => c.middlewareStack.remove(METER)) };
}

/** `quick` (npm test): the same local run with a 2 s job and 250 ms Wait states (the counts may differ by a status check). */
export async function run(ctx: { endpoint: string; quick?: boolean; log?: (line: string) => void }): Promise<BenchFigure[]> {
  const waitMs = ctx.quick ? 250 : DEMO_WAIT_MS;
  const jobSeconds = ctx.quick ? 2 : DEMO_JOB_SECONDS;
  const log = ctx.log ?? ((line: string) => process.stderr.write(`bench:   ${line}\n`));
  const { clients: seedClients, account } = await seedFreshDemo(ctx.endpoint, REGION);
  // The stage as the local run deploys it: serverless.yml's defaults over the demo account.
  useDemoStage(ctx.endpoint, REGION, account);

  const meter = await meterLambdaDynamoDb();
  let status: string;
  let wallMs: number;
  try {
    const lambdas = await loadLambdaHandlers();
    await configureBedrockStandIn(ctx.endpoint, { enabled: true, default: { outcome: 'complete', seconds: jobSeconds } });
    const handlers: Record<string, TaskHandler> = {
      ...lambdas,
      // Stand-in for Bedrock (moto creates no ENIs for a job), as the local run does: not a Lambda's call.
      SubmitJob: withJobEnis(lambdas.SubmitJob!, seedClients.ec2),
    };
    // Stand-in for the stack's EventBridge rule: each new job-state event of the stand-in to job-events (every 250 ms).
    const forward = forwardStandInEvents(ctx.endpoint, { from: (await standInEvents(ctx.endpoint)).length });
    const started = performance.now();
    try {
      // The demo's input for the `complete` scenario (local-target.ts scenarioInput): polls 10 s apart, a 600 s deadline.
      const result = await runWorkflow({
        input: demoJobInput(account, { maxJobDurationSeconds: 600, polling: { initialSeconds: 10, maxSeconds: 10, growthFactor: 1 } }),
        handlers,
        region: REGION,
        waitMs,
        eventWaitMs: DEMO_EVENT_WAIT_MS,
      });
      status = result.status;
      if (result.status !== 'SUCCEEDED') throw new Error(`the local run ended ${result.status}: ${result.error ?? ''} ${result.cause ?? ''}`);
      log(`local run ${result.status} through ${result.states.length} states in ${Math.round(performance.now() - started)} ms`);
    } finally {
      wallMs = performance.now() - started;
      await forward.stop();
    }
  } finally {
    meter.stop();
    await configureBedrockStandIn(ctx.endpoint, { enabled: false }).catch(() => undefined);
  }

  // Every table of serverless.yml (its local name), then any other table a Lambda named.
  const resources = stackResources();
  const declared = Object.entries(resources)
    .filter(([, r]) => r.type === 'AWS::DynamoDB::Table')
    .map(([id]) => resolveCfnValue({ Ref: id }, `resources.Resources.${id}`, { accountId: account.accountId, region: REGION }, resources));
  const tables = [...new Set([...declared, ...meter.calls.map((c) => c.table)])];
  const round = (ms: number) => Math.round(ms * 10) / 10;
  const figures: BenchFigure[] = [];
  for (const table of tables) {
    const calls = meter.calls.filter((c) => c.table === table);
    const byCommand = new Map<string, number>();
    for (const c of calls) byCommand.set(c.command, (byCommand.get(c.command) ?? 0) + 1);
    for (const [command, n] of [...byCommand].sort(([a], [b]) => a.localeCompare(b))) {
      figures.push({ name: `${FIGURE}: ${table} ${command}`, value: n, unit: 'calls' });
    }
    const totalMs = calls.reduce((s, c) => s + c.ms, 0);
    const failed = calls.filter((c) => c.failed).length;
    const retries = calls.reduce((s, c) => s + c.attempts - 1, 0);
    figures.push({ name: `${FIGURE}: ${table} all commands${failed ? ` (${failed} answered with an error, e.g. a failed condition: billed too)` : ''}`, value: calls.length, unit: 'calls' });
    if (retries) figures.push({ name: `${FIGURE}: ${table} SDK retries inside those calls`, value: retries, unit: 'requests' });
    figures.push({ name: `${FIGURE}: ${table} time in calls (${MOTO_MS})`, value: round(totalMs), unit: 'ms' });
    figures.push({ name: `${FIGURE}: ${table} per call (${MOTO_MS})`, value: calls.length ? round(totalMs / calls.length) : 0, unit: 'ms/call' });
  }
  figures.push({ name: `${FIGURE}: all tables (${meter.clients.join(', ')} clients; run ${status})`, value: meter.calls.length, unit: 'calls' });
  figures.push({ name: `${FIGURE}: the local run's wall time (Wait states ${waitMs} ms, job ${jobSeconds} s)`, value: round(wallMs / 1000), unit: 's' });
  return figures;
}

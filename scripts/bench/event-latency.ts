/**
 * Benchmark of the event path's detection latency, end to end and on the wall clock: the ASL file run
 * with the real handlers against moto, Bedrock's stand-in (inside our moto launcher) completing the job
 * and recording Bedrock's "Model Customization Job State Change" event, an EventBridge stand-in that
 * reads those events, matches each against the job-events rule's pattern from serverless.yml with AWS's
 * own matcher (event-ruler, kept running: scripts/bench/EventRulerStream.java) and hands a matching one
 * to job-events (its step logic, over the wire to moto's DynamoDB and Bedrock), which releases
 * WaitForJobEvent through the runner's callback service; then PollStatus reads the terminal status, and
 * CleanupEnis deletes the job's ENIs and RevokeGrants revokes its grants.
 *
 * Measured per run, from the job's end: the stand-in moves the job to Completed when it is read past its
 * planned end, and the EventBridge stand-in reads every 20 ms, so the end is taken as the start of the
 * read that returned its event (at most 20 ms plus one request after the true end: the figures can only
 * err long). To: the event matched and delivered, WaitForJobEvent released, PollStatus seeing the
 * terminal status, RevokeGrants done (cleanup done). p50 and p99 (nearest rank) over the runs. Not in it:
 * EventBridge's own delivery (AWS documents it as best effort, typically within seconds) and Lambda's
 * invoke overhead.
 */
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { configureBedrockStandIn, standInEvents, type ModelCustomizationJobStateChange } from '../../local/bedrock-standin.js';
import { projectRoot } from '../../local/paths.js';
import { demoJobInput, withJobEnis } from '../../local/seed.js';
import { deliverJobEvent, loadLambdaHandlers, loadServerlessConfig, runWorkflow, type TaskHandler } from '../../local/workflow.js';
import { seedFreshDemo, useDemoStage } from './demo-stage.js';
import type { BenchFigure } from './preflight.js';
import { percentile } from './stats.js';

const REGION = 'us-east-1';

/** The job-events function's EventBridge rule pattern, as serverless.yml deploys it. */
export function jobEventsRulePattern(): unknown {
  const fn = loadServerlessConfig().functions['job-events'] as unknown as { events?: { eventBridge?: { pattern?: unknown } }[] };
  const pattern = fn.events?.find((e) => e.eventBridge?.pattern)?.eventBridge?.pattern;
  if (!pattern) throw new Error('serverless.yml: the job-events function has no eventBridge pattern');
  return pattern;
}

/** A running event-ruler with one rule: `matches(event)` answers as EventBridge's matcher does. */
export async function startRuleMatcher(pattern: unknown): Promise<{ matches: (event: unknown) => Promise<boolean>; stop: () => void }> {
  execFileSync(process.execPath, [join(projectRoot, 'scripts', 'ensure-event-ruler.mjs')], { stdio: ['ignore', 'inherit', 'inherit'] });
  const java: ChildProcessWithoutNullStreams = spawn('java', ['-cp', join(projectRoot, '.cache', 'event-ruler', 'lib', '*'), join(projectRoot, 'scripts', 'bench', 'EventRulerStream.java')]);
  let stderr = '';
  java.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: java.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const line = await lines.next();
    if (line.done) throw new Error(`event-ruler ended: ${stderr.trim()}`);
    return line.value;
  };
  java.stdin.write(`${JSON.stringify(pattern)}\n`);
  if ((await next()) !== 'ready') throw new Error(`event-ruler refused the rule: ${stderr.trim()}`);
  let queue = Promise.resolve(false);
  return {
    matches: (event) =>
      (queue = queue.then(async () => {
        java.stdin.write(`${JSON.stringify(event)}\n`);
        return (await next()) === 'true';
      })),
    stop: () => java.kill(),
  };
}

interface Timings {
  delivered: number;
  released: number;
  seen: number;
  cleanedUp: number;
}

export async function run(ctx: { endpoint: string; quick?: boolean }): Promise<BenchFigure[]> {
  const runs = ctx.quick ? 3 : 20;
  const { clients, account } = await seedFreshDemo(ctx.endpoint, REGION);
  useDemoStage(ctx.endpoint, REGION, account, { jobWait: 'event' });
  const lambdas = await loadLambdaHandlers();
  const matcher = await startRuleMatcher(jobEventsRulePattern());
  const timings: Timings[] = [];
  const forwarded = new Set<string>();
  try {
    for (let i = 0; i < runs; i++) {
      const jobName = `latency-${i}-${Date.now().toString(36)}`;
      await configureBedrockStandIn(ctx.endpoint, { enabled: true, default: { outcome: 'hold' }, jobs: { [jobName]: { outcome: 'complete', seconds: 2 } } });
      const handlers: Record<string, TaskHandler> = {
        ...lambdas,
        SubmitJob: withJobEnis(lambdas.SubmitJob!, clients.ec2),
      };
      let endedAt: number | undefined;
      let deliveredAt: number | undefined;
      let releasedBy: string | undefined;
      const at: Partial<Record<'released' | 'seen' | 'cleanedUp', number>> = {};
      let done = false;
      // The EventBridge stand-in: every event the Bedrock stand-in recorded, matched against the rule;
      // a match is delivered to job-events at once.
      const bus = (async () => {
        while (!done) {
          const readAt = Date.now();
          const events: ModelCustomizationJobStateChange[] = (await standInEvents(ctx.endpoint)).filter((e) => !forwarded.has(e.id));
          for (const event of events) {
            forwarded.add(event.id);
            if (event.detail.jobName === jobName) endedAt ??= readAt;
            if (!(await matcher.matches(event))) continue;
            await deliverJobEvent(event.detail);
            if (event.detail.jobName === jobName) deliveredAt ??= Date.now();
          }
          if (!events.length) await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const result = await runWorkflow({
        input: demoJobInput(account, { jobName }),
        handlers,
        waitMs: 0,
        retryMs: 0,
        // The safety net, shortened: a run whose event does not release the wait is not measured (below).
        eventWaitMs: 60_000,
        onEvent: (e) => {
          const exited = e as { type: string; state?: { name: string; output?: { jobEvent?: { source?: string }; poll?: { status?: string } } } };
          if (exited.type !== 'StateExited') return;
          if (exited.state!.name === 'WaitForJobEvent') {
            at.released = Date.now();
            releasedBy = exited.state!.output?.jobEvent?.source;
          }
          if (exited.state!.name === 'PollStatus' && exited.state!.output?.poll?.status === 'Completed') at.seen ??= Date.now();
          if (exited.state!.name === 'RevokeGrants') at.cleanedUp = Date.now();
        },
      });
      done = true;
      await bus;
      if (result.status !== 'SUCCEEDED' || releasedBy !== 'event' || endedAt === undefined || deliveredAt === undefined || !at.released || !at.seen || !at.cleanedUp) {
        throw new Error(
          `event latency run ${i} ended ${result.status} ${result.error ?? ''} (wait released by ${releasedBy ?? 'nothing'}): not an event-released run to measure`,
        );
      }
      const cleanup = (result.output as { cleanup?: { deleted?: string[] } }).cleanup;
      if (!cleanup?.deleted?.length) throw new Error(`event latency run ${i}: CleanupEnis deleted no ENI (${JSON.stringify(cleanup)})`);
      timings.push({ delivered: deliveredAt - endedAt, released: at.released - endedAt, seen: at.seen - endedAt, cleanedUp: at.cleanedUp - endedAt });
    }
  } finally {
    matcher.stop();
  }
  const row = (what: string, key: keyof Timings, target?: string): BenchFigure[] => [
    { name: `event path, local, wall clock: job end → ${what}, p50 of ${runs} runs`, value: percentile(timings.map((t) => t[key]), 50), unit: 'ms' },
    { name: `event path, local, wall clock: job end → ${what}, p99 (nearest rank) of ${runs} runs`, value: percentile(timings.map((t) => t[key]), 99), unit: 'ms', ...(target ? { target } : {}) },
  ];
  return [
    ...row('event matched by the job-events rule (event-ruler) and delivered to job-events', 'delivered'),
    ...row('WaitForJobEvent released', 'released'),
    ...row('PollStatus sees Completed', 'seen'),
    // "Within seconds": the whole path, cleanup included, on a machine shared with the rest of the bench.
    ...row('ENIs deleted and grants revoked (detection latency, end to end)', 'cleanedUp', '<= 10000'),
  ];
}

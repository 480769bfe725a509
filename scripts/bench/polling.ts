/**
 * Benchmark of the job-following loop, by RUNNING THE WORKFLOW on a simulated clock: the ASL file
 * through the local Step Functions engine (aws-local-stepfunctions, local/workflow.ts) with the
 * real poll-status logic (pollStatus, stopJob, the job ledger in memory with DynamoDB's semantics) and
 * resume-job's; Bedrock is a stand-in that answers InProgress until the job's simulated end (or, once
 * StopJob has asked, Stopping for a while, then Stopped). Every Wait advances the clock by the seconds
 * the workflow gave it; WaitForJobEvent (the callback Task) advances it by its safety net, or to the
 * job's end when the event is delivered. Nothing here is a formula: fixed 60 s polling is the same
 * workflow with `polling: {initialSeconds: 60, maxSeconds: 60, growthFactor: 1}`.
 *
 * Measured per mode (event delivered, every event lost, adaptive polling, fixed 60 s) and job length:
 * state transitions (each state entered and each retry, as Step Functions bills them), Lambda requests
 * (each Lambda Task run and retried, the callback Task's invoke of job-events, and job-events run by
 * the job's event), and their price. The detection bound: jobs ending at end times spread over one
 * safety-net interval (never a multiple of a wait by construction), the longest delay from the job's
 * end to the status check that saw it; and the same after a deadline stop, for stops of different
 * lengths. The event path's own latency is not on this clock: scripts/bench/event-latency.ts measures it.
 * History events are estimated per state as Step Functions records them (Lambda/integration Task 5,
 * Pass/Choice/Wait/Succeed 2, Fail 1, execution 2).
 */
import type { BedrockClient } from '@aws-sdk/client-bedrock';
import { pollStatus } from '../../functions/poll-status/poll-status.js';
import { resumedState } from '../../functions/resume-job/resume-job.js';
import { EC2Client } from '@aws-sdk/client-ec2';
import { dynamoLedger } from '../../functions/shared/ledger.js';
import { MemoryDynamoDB, memoryDynamoClient } from '../../local/dynamodb-memory.js';
import type { Handover } from '../../functions/shared/handover.js';
import { resolveJobInput, type Execution } from '../../functions/shared/job-input.js';
import { stageFromParams } from '../../functions/shared/stage.js';
import { callbackTaskFunctions, lambdaTaskFunctions, loadDefinition, loadServerlessConfig, runWorkflowChain, type TaskHandler, type WorkflowRun } from '../../local/workflow.js';
import { stopJob } from '../../functions/poll-status/stop-job.js';
import { DETECTION_BOUND_SECONDS } from '../../functions/shared/job-state.js';
import type { BenchFigure } from './preflight.js';

const DAY = 24 * 3600;
const TYPE_EVENTS: Record<string, number> = { Task: 5, Pass: 2, Choice: 2, Wait: 2, Succeed: 2, Fail: 1, Map: 2, Parallel: 2 };

/** Estimated history events of one execution, from its state log. */
export function historyEvents(run: WorkflowRun, stateTypes: Record<string, string>): number {
  let events = 2;
  for (const e of run.events) {
    if (e.type === 'StateEntered') events += TYPE_EVENTS[stateTypes[(e as { state: { name: string } }).state.name]!] ?? 2;
    if (e.type === 'StateRetried') events += 3;
  }
  return events;
}

/** Simulated-clock times (ms) of what a run did, and what it cost. */
export interface Simulation {
  executions: number;
  transitions: number;
  /** Lambda requests: Lambda Tasks run or retried, job-events invoked by the callback Task and by the job's event. */
  lambdaRequests: number;
  /** GB-seconds at {@link BILLED_SECONDS_PER_INVOCATION} per request, each at its function's memory (serverless.yml). */
  lambdaGbSeconds: number;
  maxEventsPerExecution: number;
  polls: number;
  outcome: string;
  /** Seconds from the job's terminal status (Completed, or Stopped after a stop) to the first status check that saw it. */
  noticedAfterSeconds: number;
  /** Seconds from the job's terminal status to the end of RevokeGrants (ENI cleanup before it). */
  cleanedUpAfterSeconds: number;
}

/**
 * How the simulated job is followed: `poll` (adaptive polling), or the event-driven wait with Bedrock's
 * job-state event delivered when the job ends (`event`) or every event lost (`event-lost`: only the
 * safety-net checks notice the end).
 */
export type FollowMode = 'poll' | 'event' | 'event-lost';

export interface SimulateOptions {
  /** Seconds from submission to the job's end (Completed), unless it is stopped before. */
  durationSeconds: number;
  /** The job's `polling` input (the mode is set from `mode`). */
  polling?: Record<string, number | string>;
  mode?: FollowMode;
  /** Seconds from submission to the job's deadline (StopJob then stops it); default 31 days. */
  deadlineSeconds?: number;
  /** Seconds the job stays Stopping after the stop request, then Stopped. */
  stoppingSeconds?: number;
}

/**
 * Lambda bills duration per millisecond; this bench runs the handlers against stand-ins, so their
 * duration here is not Lambda's. Costed at 1 s per request: more than one API call and a DynamoDB
 * read take (an upper estimate; the request price dominates at these sizes anyway).
 */
export const BILLED_SECONDS_PER_INVOCATION = 1;

/**
 * AWS Step Functions pricing (https://aws.amazon.com/step-functions/pricing/): Standard workflows,
 * $0.025 per 1,000 state transitions (US East (N. Virginia); 4,000 free per month, not counted here).
 */
export const USD_PER_STATE_TRANSITION = 0.025 / 1000;
/**
 * AWS Lambda pricing (https://aws.amazon.com/lambda/pricing/): $0.20 per 1M requests and
 * $0.0000166667 per GB-second (x86, US East (N. Virginia), first tier; free tier not counted here).
 */
export const USD_PER_LAMBDA_REQUEST = 0.2 / 1_000_000;
export const USD_PER_LAMBDA_GB_SECOND = 0.0000166667;

/** The price of a run: Step Functions transitions plus Lambda requests and GB-seconds. */
export function costUsd(sim: Pick<Simulation, 'transitions' | 'lambdaRequests' | 'lambdaGbSeconds'>): number {
  return sim.transitions * USD_PER_STATE_TRANSITION + sim.lambdaRequests * USD_PER_LAMBDA_REQUEST + sim.lambdaGbSeconds * USD_PER_LAMBDA_GB_SECOND;
}

let memoryByState: Record<string, number> | undefined;
/** Memory (GB) of the function each Lambda Task state runs, from serverless.yml (the function's own or the provider's); read once. */
function lambdaMemoryByState(): Record<string, number> {
  if (memoryByState) return memoryByState;
  const config = loadServerlessConfig();
  const sized = config as unknown as { provider: { memorySize?: number }; functions: Record<string, { memorySize?: number }> };
  const byState = { ...lambdaTaskFunctions(config), ...callbackTaskFunctions() };
  memoryByState = Object.fromEntries(Object.entries(byState).map(([state, fn]) => [state, (sized.functions[fn]?.memorySize ?? sized.provider.memorySize ?? 1024) / 1024]));
  return memoryByState;
}

let stateTypesOnce: Record<string, string> | undefined;
/** The ASL's state types by name (read once). */
function stateTypes(): Record<string, string> {
  return (stateTypesOnce ??= Object.fromEntries(Object.entries(loadDefinition().States).map(([n, s]) => [n, String(s.Type)])));
}
/** WaitForStop's fixed Seconds, from the ASL. */
const waitForStopSeconds = () => Number(loadDefinition().States.WaitForStop!.Seconds);
let waitForStopOnce: number | undefined;

/** Follows a job with the workflow on a simulated clock. */
export async function simulate(options: SimulateOptions): Promise<Simulation> {
  const { durationSeconds, polling = {}, mode = 'poll', deadlineSeconds = 31 * DAY, stoppingSeconds = 0 } = options;
  const types = stateTypes();
  const memory = lambdaMemoryByState();
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const jobEnd = clock + durationSeconds * 1000;
  let stopAt: number | undefined;
  /** When the job reaches its terminal status (as far as known now). */
  const terminalAt = () => (stopAt !== undefined && stopAt < jobEnd ? stopAt + stoppingSeconds * 1000 : jobEnd);
  const now = () => new Date(clock);
  const bedrock = {
    send: async (command: { constructor: { name: string } }) => {
      if (command.constructor.name === 'StopModelCustomizationJobCommand') {
        if (clock >= jobEnd) throw Object.assign(new Error('the job has ended'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
        stopAt ??= clock;
        return {};
      }
      if (stopAt !== undefined && stopAt < jobEnd) return { status: clock >= terminalAt() ? 'Stopped' : 'Stopping' };
      return { status: clock >= jobEnd ? 'Completed' : 'InProgress' };
    },
  } as unknown as Pick<BedrockClient, 'send'>;
  let polls = 0;
  let eventInvocations = 0;
  let noticedAt: number | undefined;
  let cleanedUpAt: number | undefined;
  let executionStartedAt = clock;

  const stage = stageFromParams(
    {
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: 'subnet-0123456789abcdef0',
      securityGroupIds: 'sg-0123456789abcdef0',
      bedrockRoleArn: 'arn:aws:iam::123456789012:role/BedrockCustomizationRole',
      trainingBucket: 'training-bucket',
      outputBucket: 'output-bucket',
      outputPrefix: 'runs/',
      endpointPolicy: 'skip',
      maxJobDurationSeconds: String(30 * DAY),
      maxExecutionsPerJob: '100',
      jobWait: mode === 'poll' ? 'poll' : 'event',
    },
    { accountId: '123456789012', region: 'us-east-1' },
  );
  // The job ledger in memory (DynamoDB's expression semantics: local/dynamodb-memory.ts); no ENIs.
  const ledger = dynamoLedger('job-ledger', { dynamodb: memoryDynamoClient(new MemoryDynamoDB()) as never, now });
  // An EC2 client (the SDK's paginator needs one) that answers every describe with no ENIs, locally.
  const noEnis = new EC2Client({ region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  noEnis.middlewareStack.add(() => async () => ({ output: { NetworkInterfaces: [], $metadata: {} }, response: {} }) as never, { step: 'initialize', name: 'noEnis' });
  const handlers: Record<string, TaskHandler> = {
    ValidateNetwork: async (input) => {
      const { input: raw, execution } = input as { input: unknown; execution: Execution };
      return { job: resolveJobInput(raw, stage, execution), execution, preflight: { ok: true } } as never;
    },
    ValidateDataset: async () => ({ status: 'not-checked', notes: [] }),
    PlanPolicies: async () => ({ dryRun: false, changes: [], skipped: [] }),
    ApplyPolicies: async () => ({ dryRun: false, changes: [], skipped: [], applied: [] }),
    SubmitJob: async (input) => {
      const submission = {
        jobArn: 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/bench',
        jobName: 'bench',
        adopted: false,
        submittedAt: now().toISOString(),
        deadline: new Date(clock + deadlineSeconds * 1000).toISOString(),
      };
      // The job ledger as submit-job leaves it (the poll checks it, the hand-over designates in it).
      const owner = (input as { execution: Execution }).execution.id;
      const network = { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0'], securityGroupIds: ['sg-0123456789abcdef0'] };
      await ledger.reserve({ jobName: submission.jobName, owner, clientRequestToken: 'bench-token', network, maxJobDurationSeconds: 31 * DAY });
      await ledger.recordSubmission(submission.jobName, owner, submission);
      return submission as never;
    },
    PollStatus: async (input) => {
      polls++;
      // $$.Execution.StartTime is the real start in the local runner: give the poll the simulated one.
      const state = input as { execution?: { startTime?: string }; handover?: { startedAt?: string } };
      const started = new Date(executionStartedAt).toISOString();
      if (state.handover) state.handover.startedAt = started;
      else if (state.execution) state.execution.startTime = started;
      const result = await pollStatus(input as never, { bedrock, ec2: noEnis, ledger, now });
      if (['Completed', 'Stopped', 'Failed'].includes(result.status)) noticedAt ??= clock;
      return result as never;
    },
    // StopJob (poll-status, action stop): the real step logic, as the job's supervisor in the ledger.
    StopJob: async (input) => (await stopJob(input as never, { bedrock, ledger, now })) as never,
    CleanupEnis: async () => ({ deleted: [], alreadyGone: [], notAvailable: [], summary: 'stand-in' }),
    RevokeGrants: async () => {
      cleanedUpAt ??= clock;
      return { revoked: [], kept: [], summary: 'stand-in' } as never;
    },
    // The callback Task on the simulated clock: released when the job ends within the wait (its event
    // delivered: job-events runs once more), else it times out at its TimeoutSeconds (the safety net).
    WaitForJobEvent: async (input) => {
      const waitMs = Number((input as { Payload: { waitSeconds: number } }).Payload.waitSeconds) * 1000;
      if (mode === 'event' && terminalAt() <= clock + waitMs) {
        clock = Math.max(clock, terminalAt());
        eventInvocations++;
        return { jobArn: 'bench', status: 'ended', source: 'event' } as never;
      }
      clock += waitMs;
      const timeout = new Error('the safety net passed');
      timeout.name = 'States.Timeout';
      throw timeout;
    },
    // The hand-over it is given, as resume-job returns it once verified (its reads are not what this counts).
    ResumeJob: async (input) => {
      const { handover, self } = input as { handover: Handover; self: { startTime: string; executionArn: string } };
      await ledger.claim(handover.submission.jobName, self.executionArn, handover.previousExecutionId, handover.submission.jobArn);
      return resumedState(handover, self.startTime, self.executionArn) as never;
    },
  };
  const input = {
    baseModelIdentifier: 'amazon.titan-text-express-v1',
    roleArn: 'arn:aws:iam::123456789012:role/BedrockCustomizationRole',
    trainingDataS3Uri: 's3://training-bucket/datasets/d.jsonl',
    outputDataS3Uri: 's3://output-bucket/runs/',
    vpcConfig: { subnetIds: ['subnet-0123456789abcdef0'], securityGroupIds: ['sg-0123456789abcdef0'] },
    maxJobDurationSeconds: 30 * DAY,
    polling: { ...polling, mode: mode === 'poll' ? 'poll' : 'event' },
  };
  // Plain Wait states advance the clock by the seconds the workflow gave them.
  const waitSeconds: Record<string, (state: { poll?: { nextWaitSeconds?: number; fallbackWaitSeconds?: number } }) => number> = {
    WaitForJob: (st) => st.poll!.nextWaitSeconds!,
    WaitAfterEventFailure: (st) => st.poll!.fallbackWaitSeconds!,
    WaitForStop: () => (waitForStopOnce ??= waitForStopSeconds()),
  };
  const runs = await runWorkflowChain({
    input,
    handlers,
    waitMs: 0,
    retryMs: 0,
    executionName: 'bench',
    maxExecutions: 100,
    onEvent: (e) => {
      if (e.type === 'ExecutionStarted') executionStartedAt = clock;
      const entered = e as unknown as { type: string; state: { name: string; input: never } };
      if (entered.type === 'StateEntered' && waitSeconds[entered.state.name]) clock += waitSeconds[entered.state.name]!(entered.state.input) * 1000;
    },
  });
  let lambdaRequests = eventInvocations;
  let lambdaGbSeconds = eventInvocations * BILLED_SECONDS_PER_INVOCATION * (memory.WaitForJobEvent ?? 0.25);
  let transitions = 0;
  for (const run of runs) {
    for (const e of run.events) {
      const name = (e as { state?: { name: string } }).state?.name;
      if (e.type !== 'StateEntered' && e.type !== 'StateRetried') continue;
      transitions++;
      if (name && memory[name] !== undefined) {
        lambdaRequests++;
        lambdaGbSeconds += BILLED_SECONDS_PER_INVOCATION * memory[name]!;
      }
    }
  }
  const end = terminalAt();
  return {
    executions: runs.length,
    transitions,
    lambdaRequests,
    lambdaGbSeconds,
    maxEventsPerExecution: Math.max(...runs.map((r) => historyEvents(r, types))),
    polls,
    outcome: runs.at(-1)!.status === 'SUCCEEDED' ? 'SUCCEEDED' : `${runs.at(-1)!.status} (${runs.at(-1)!.error}: ${runs.at(-1)!.cause?.slice(0, 300)})`,
    noticedAfterSeconds: ((noticedAt ?? Number.NaN) - end) / 1000,
    cleanedUpAfterSeconds: ((cleanedUpAt ?? Number.NaN) - end) / 1000,
  };
}

/** The fixed 60 s polling of the public samples, run as this workflow's poll mode. */
export const FIXED_60 = { initialSeconds: 60, maxSeconds: 60, growthFactor: 1 } as const;

const MODES = [
  { label: 'event delivered', mode: 'event', polling: {} },
  { label: 'every event lost', mode: 'event-lost', polling: {} },
  { label: 'adaptive polling', mode: 'poll', polling: {} },
  { label: 'fixed 60 s polling', mode: 'poll', polling: FIXED_60 },
] as const;

/** End times spread over one interval of `seconds` after `base`: never a multiple of a wait by construction. */
function spread(base: number, seconds: number, count: number): number[] {
  return Array.from({ length: count }, (_, k) => base + 1 + Math.floor((k * seconds) / count) + (k % 3) * 7);
}

function ok(sim: Simulation, what: string, expected = 'SUCCEEDED'): Simulation {
  if (!sim.outcome.startsWith(expected)) throw new Error(`the ${what} simulation ended ${sim.outcome}`);
  if (!Number.isFinite(sim.noticedAfterSeconds)) throw new Error(`the ${what} simulation never saw the job's end`);
  return sim;
}

/** State transitions, Lambda requests and dollars per job, for each mode and job length. */
async function costs(quick: boolean): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const lengths = quick ? ([['1 h', 3600], ['24 h', DAY]] as const) : ([['1 h', 3600], ['24 h', DAY], ['7 d', 7 * DAY], ['30 d', 30 * DAY]] as const);
  for (const [label, seconds] of lengths) {
    for (const m of MODES) {
      // Fixed 60 s over days runs tens of thousands of checks through the engine: in quick mode, 1 h only.
      if (quick && m.polling === FIXED_60 && seconds > 3600) continue;
      // The job ends 7 s past the round length: off every wait's grid.
      const sim = ok(await simulate({ durationSeconds: seconds + 7, polling: m.polling, mode: m.mode }), `${label} ${m.label}`);
      figures.push(
        { name: `${label} job, ${m.label}: state transitions (workflow run on a simulated clock)`, value: sim.transitions, unit: 'transitions', ...(m.mode === 'event-lost' && seconds === DAY ? { target: '<= 400' } : {}) },
        { name: `${label} job, ${m.label}: Lambda requests`, value: sim.lambdaRequests, unit: 'requests' },
        { name: `${label} job, ${m.label}: Step Functions + Lambda cost (Standard $0.025/1k transitions, Lambda $0.20/1M requests + GB-s at 1 s each)`, value: Number(costUsd(sim).toFixed(4)), unit: 'USD' },
      );
      if (seconds >= 30 * DAY) figures.push({ name: `${label} job, ${m.label}: most history events in one execution`, value: sim.maxEventsPerExecution, unit: 'events', target: '<= 12500' });
      if (m.mode !== 'event') figures.push({ name: `${label} job, ${m.label}: executions (hand-overs + 1)`, value: sim.executions, unit: 'executions' });
    }
  }
  return figures;
}

/** The detection bound: the longest delay from the job's end (or Stopped) to the check that saw it, over end times spread across an interval. */
async function bounds(quick: boolean): Promise<BenchFigure[]> {
  const n = quick ? 4 : 12;
  const figures: BenchFigure[] = [];
  // One run after the other (each on its own simulated clock).
  const worst = async (what: string, runs: (() => Promise<Simulation>)[], expected?: string) => {
    const sims: Simulation[] = [];
    for (const next of runs) sims.push(ok(await next(), what, expected));
    return { noticed: Math.max(...sims.map((s) => s.noticedAfterSeconds)), cleaned: Math.max(...sims.map((s) => s.cleanedUpAfterSeconds)), sims };
  };
  const lost = await worst('lost-event bound', spread(DAY, DETECTION_BOUND_SECONDS, n).map((d) => () => simulate({ durationSeconds: d, mode: 'event-lost' })));
  figures.push(
    { name: `every event lost (event mode): longest job end → status check that saw it, max over ${n} end times spread over one ${DETECTION_BOUND_SECONDS} s interval after 24 h`, value: Math.round(lost.noticed), unit: 's', target: `<= ${DETECTION_BOUND_SECONDS}` },
    { name: `every event lost (event mode): longest job end → ENI cleanup and grant revocation done (same runs; stand-ins take no simulated time)`, value: Math.round(lost.cleaned), unit: 's', target: `<= ${DETECTION_BOUND_SECONDS}` },
    { name: `every event lost (event mode): state transitions per 24 h job (those runs, most)`, value: Math.max(...lost.sims.map((s) => s.transitions)), unit: 'transitions', target: '<= 400' },
  );
  // A deadline stop at 1 h (+ offsets), the job Stopping for 1 s … 2 h, then Stopped; every event lost.
  const stopping = quick ? [1, 95, 1800] : [1, 20, 95, 250, 600, 1234, 3600, 7200];
  for (const [label, mode] of [['every event lost (event mode)', 'event-lost'], ['adaptive polling', 'poll']] as const) {
    const stop = await worst(
      `${label} stop bound`,
      stopping.map((s, k) => () => simulate({ durationSeconds: 30 * DAY, deadlineSeconds: 3600 + 13 * k, stoppingSeconds: s, mode })),
      'FAILED (JobDeadlineExceededError',
    );
    figures.push({
      name: `after a deadline stop, ${label}: longest Stopped → status check that saw it, max over ${stopping.length} stop lengths (${stopping[0]} s … ${stopping.at(-1)} s)`,
      value: Math.round(stop.noticed),
      unit: 's',
      target: `<= ${DETECTION_BOUND_SECONDS}`,
    });
  }
  const adaptive = await worst('adaptive bound', spread(DAY, 1800, n).map((d) => () => simulate({ durationSeconds: d, mode: 'poll' })));
  figures.push({ name: `adaptive polling (maxSeconds 1800): longest job end → status check that saw it, max over ${n} end times spread over one 1800 s interval after 24 h`, value: Math.round(adaptive.noticed), unit: 's' });
  const fixed = await worst('fixed 60 s bound', spread(3600, 60, n).map((d) => () => simulate({ durationSeconds: d, mode: 'poll', polling: FIXED_60 })));
  figures.push({ name: `fixed 60 s polling: longest job end → status check that saw it, max over ${n} end times spread over one 60 s interval after 1 h`, value: Math.round(fixed.noticed), unit: 's' });
  return figures;
}

export async function run(ctx: { endpoint?: string; quick?: boolean } = {}): Promise<BenchFigure[]> {
  const quick = ctx.quick ?? false;
  const started = performance.now();
  const figures = [...(await bounds(quick)), ...(await costs(quick))];
  figures.push({ name: `following a job: simulation wall time${quick ? ' (quick)' : ''}`, value: Math.round(performance.now() - started), unit: 'ms' });
  return figures;
}

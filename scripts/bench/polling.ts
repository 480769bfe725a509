/**
 * Benchmark of the job-following loop: state transitions and history events per execution for a
 * simulated 24-hour and 30-day job, adaptive polling (the defaults) with hand-over vs the fixed 60 s
 * polling of the public samples.
 *
 * The ASL file runs for real (aws-local-stepfunctions) with the real poll-status logic; the clock is
 * simulated (each WaitForJob advances it by the wait it was given) and Bedrock is a stand-in that
 * answers InProgress until the job's simulated end. Steps before and after the loop are stand-ins
 * too: they are not what is measured. History events are estimated per state as Step Functions
 * records them (Lambda/integration Task 5, Pass/Choice/Wait/Succeed 2, Fail 1, execution 2).
 */
import type { BedrockClient } from '@aws-sdk/client-bedrock';
import { pollStatus } from '../../functions/poll-status/poll-status.js';
import { resumedState } from '../../functions/resume-job/resume-job.js';
import { EC2Client } from '@aws-sdk/client-ec2';
import { dynamoLedger } from '../../functions/shared/ledger.js';
import { MemoryDynamoDB, memoryDynamoClient } from '../lib/dynamodb-memory.js';
import type { Handover } from '../../functions/shared/handover.js';
import { resolveJobInput, type Execution } from '../../functions/shared/job-input.js';
import { stageFromParams } from '../../functions/shared/stage.js';
import { loadDefinition, runWorkflowChain, type TaskHandler, type WorkflowRun } from '../lib/workflow.js';
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

interface Simulation {
  executions: number;
  transitions: number;
  maxEventsPerExecution: number;
  polls: number;
  outcome: string;
  /** Seconds between the job's end and the first status check that saw it (simulated clock). */
  noticedAfterSeconds: number;
}

/**
 * How the simulated job is followed: `poll` (adaptive polling), or the event-driven wait with Bedrock's
 * job-state event delivered when the job ends (`event`) or every event lost (`event-lost`: only the
 * safety-net checks notice the end).
 */
export type FollowMode = 'poll' | 'event' | 'event-lost';

/** Follows a job of `durationSeconds` with the workflow and the given polling settings. */
export async function simulate(durationSeconds: number, polling: Record<string, number | string> = {}, mode: FollowMode = 'poll'): Promise<Simulation> {
  const stateTypes = Object.fromEntries(Object.entries(loadDefinition().States).map(([n, s]) => [n, String(s.Type)]));
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const jobEnd = clock + durationSeconds * 1000;
  const now = () => new Date(clock);
  const bedrock = {
    send: async () => ({ status: clock >= jobEnd ? 'Completed' : 'InProgress' }),
  } as unknown as Pick<BedrockClient, 'send'>;
  let polls = 0;
  let noticedAt: number | undefined;
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
      jobWait: mode === 'poll' ? 'poll' : 'event',
    },
    { accountId: '123456789012', region: 'us-east-1' },
  );
  // The job ledger in memory (DynamoDB's expression semantics: scripts/lib/dynamodb-memory.ts); no ENIs.
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
        deadline: new Date(clock + 31 * DAY * 1000).toISOString(),
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
      if (result.status === 'Completed') noticedAt ??= clock;
      return result as never;
    },
    CleanupEnis: async () => ({ deleted: [], alreadyGone: [], notAvailable: [], summary: 'stand-in' }),
    // The callback Task on the simulated clock: released when the job ends within the wait (its event
    // delivered), else it times out at its TimeoutSeconds (the safety net) and PollStatus checks.
    WaitForJobEvent: async (input) => {
      const waitMs = Number((input as { Payload: { waitSeconds: number } }).Payload.waitSeconds) * 1000;
      if (mode === 'event' && jobEnd <= clock + waitMs) {
        clock = Math.max(clock, jobEnd);
        return { jobArn: 'bench', status: 'Completed', source: 'event' } as never;
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
    polling,
  };
  const runs = await runWorkflowChain({
    input,
    handlers,
    waitMs: 0,
    retryMs: 0,
    executionName: 'bench',
    maxExecutions: 50,
    onEvent: (e) => {
      if (e.type === 'ExecutionStarted') executionStartedAt = clock;
      if (e.type === 'StateEntered' && (e as { state: { name: string } }).state.name === 'WaitForJob') {
        clock += (e as unknown as { state: { input: { poll: { nextWaitSeconds: number } } } }).state.input.poll.nextWaitSeconds * 1000;
      }
    },
  });
  return {
    executions: runs.length,
    transitions: runs.reduce((n, r) => n + r.states.length, 0),
    maxEventsPerExecution: Math.max(...runs.map((r) => historyEvents(r, stateTypes))),
    polls,
    outcome: runs.at(-1)!.status === 'SUCCEEDED' ? 'SUCCEEDED' : `${runs.at(-1)!.status} (${runs.at(-1)!.error}: ${runs.at(-1)!.cause?.slice(0, 300)})`,
    noticedAfterSeconds: ((noticedAt ?? clock) - jobEnd) / 1000,
  };
}

/**
 * The public samples' loop: fixed 60 s polling in one execution, no hand-over. Per poll Wait +
 * Task + Choice (3 transitions, 9 events); plus the same states before and after as ours.
 */
export function fixed60Model(durationSeconds: number, overhead: { transitions: number; events: number }) {
  const polls = Math.ceil(durationSeconds / 60) + 1;
  return { polls, transitions: overhead.transitions + 3 * polls, events: overhead.events + 9 * polls };
}

/** Transitions and history events for 1 h … 30 d jobs, event-driven (delivered, all lost), adaptive and fixed 60 s, side by side. */
async function followingModes(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  for (const [label, seconds] of [
    ['1 h', 3600],
    ['24 h', DAY],
    ['7 days', 7 * DAY],
    ['30 days', 30 * DAY],
  ] as const) {
    const delivered = await simulate(seconds, { mode: 'event' }, 'event');
    const lost = await simulate(seconds, { mode: 'event' }, 'event-lost');
    const adaptive = await simulate(seconds);
    const fixed = fixed60Model(seconds, { transitions: adaptive.transitions - 3 * adaptive.polls, events: 45 });
    for (const sim of [delivered, lost, adaptive]) if (sim.outcome !== 'SUCCEEDED') throw new Error(`the ${label} simulation ended ${sim.outcome}`);
    figures.push(
      { name: `${label} job, event delivered: state transitions`, value: delivered.transitions, unit: 'transitions', ...(seconds === DAY ? { target: '<= 400' } : {}) },
      { name: `${label} job, every event lost: state transitions`, value: lost.transitions, unit: 'transitions', ...(seconds === DAY ? { target: '<= 400' } : {}) },
      { name: `${label} job, adaptive polling: state transitions`, value: adaptive.transitions, unit: 'transitions' },
      { name: `${label} job, fixed 60 s: state transitions`, value: fixed.transitions, unit: 'transitions' },
      { name: `${label} job, event wait (delivered or lost): most history events in one execution`, value: Math.max(delivered.maxEventsPerExecution, lost.maxEventsPerExecution), unit: 'events', target: '<= 12500' },
      { name: `${label} job, event delivered: end noticed after`, value: Math.round(delivered.noticedAfterSeconds), unit: 's' },
      { name: `${label} job, every event lost: end noticed after (the safety net: polling.eventSafetyNetSeconds, 15 min by default)`, value: Number((lost.noticedAfterSeconds / 3600).toFixed(1)), unit: 'h' },
      { name: `${label} job, adaptive polling: end noticed after`, value: Math.round(adaptive.noticedAfterSeconds), unit: 's' },
    );
  }
  return figures;
}

export async function run(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = await followingModes();
  for (const [label, seconds] of [
    ['24 h', DAY],
    ['30 days', 30 * DAY],
  ] as const) {
    const started = performance.now();
    const ours = await simulate(seconds);
    const elapsed = performance.now() - started;
    // Overhead outside the poll loop, measured on our own run (same states for the baseline).
    const overhead = { transitions: ours.transitions - 3 * ours.polls, events: 45 };
    const fixed = fixed60Model(seconds, overhead);
    figures.push(
      { name: `${label} job, adaptive: polls`, value: ours.polls, unit: 'polls' },
      { name: `${label} job, adaptive: state transitions`, value: ours.transitions, unit: 'transitions' },
      { name: `${label} job, adaptive: executions (hand-overs + 1)`, value: ours.executions, unit: 'executions' },
      { name: `${label} job, adaptive: most history events in one execution`, value: ours.maxEventsPerExecution, unit: 'events', target: '<= 12500' },
      { name: `${label} job, fixed 60 s: state transitions`, value: fixed.transitions, unit: 'transitions' },
      { name: `${label} job, fixed 60 s: history events in its one execution`, value: fixed.events, unit: 'events', target: fixed.events > 25_000 ? 'fails at 25000 (quota)' : '< 25000' },
      { name: `${label} job: fewer transitions than fixed 60 s`, value: Number((fixed.transitions / ours.transitions).toFixed(1)), unit: 'x', target: '>= 25' },
      { name: `${label} job: simulation wall time`, value: Math.round(elapsed), unit: 'ms' },
    );
    if (ours.outcome !== 'SUCCEEDED') throw new Error(`the ${label} simulation ended ${ours.outcome}`);
  }
  return figures;
}

/**
 * Fault matrix: every Task state of the ASL file (real handlers, mocked clients, zero waits) gets a
 * fault injected by wrapping its handler, in a scenario that reaches it:
 * - transient: one failure its Retry covers, then success → the execution ends as the fault-free run;
 * - persistent: every call fails (and, where the ASL retries States.Timeout, every call times out after
 *   the handler did its work) → the execution ends in the state the ASL documents for that state.
 * After every chain, the reaper (functions/reaper/reaper.ts, its real logic) runs on every execution
 * that ended FAILED, as the stack's rule runs it on Step Functions' status-change event (seconds after
 * the execution ended). Then the invariants hold: no created job is left running without a supervisor:
 * it is stopped (by the workflow or by the reaper), followed to a terminal status, or the run ends
 * JobUnwatched/JobNotStopped (reported); no ENI is deleted while the job is InProgress; policies written
 * before submission are rolled back when the run fails before SubmitJob.
 */
import {
  CreateModelCustomizationJobCommand,
  GetModelCustomizationJobCommand,
  ListTagsForResourceCommand,
  InternalServerException,
  AccessDeniedException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  StopModelCustomizationJobCommand,
  ValidationException,
} from '@aws-sdk/client-bedrock';
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteNetworkInterfaceCommand, ModifyVpcEndpointCommand } from '@aws-sdk/client-ec2';
import { DescribeExecutionCommand, ExecutionDoesNotExist, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_BEFORE_FIRST_POLL, EVENTS_PER_POLL, EVENTS_RESERVED_FOR_END } from '../../functions/poll-status/poll-status.js';
import { reap, type ReaperReport } from '../../functions/reaper/reaper.js';
import { MIN_HANDOVER_AFTER_EVENTS } from '../../functions/shared/job-state.js';
import { dynamoLedger } from '../../functions/shared/ledger.js';
import { historyOf } from '../../local/local-history.js';
import {
  jobEventWaitIntegration,
  loadDefinition,
  localCallbacks,
  loadLambdaHandlers,
  localExecutionArn,
  localStateMachineArn,
  runWorkflowChain,
  startExecutionIntegration,
  type ExecutionRegistry,
  type TaskHandler,
  type WorkflowRun,
} from '../../local/workflow.js';
import { rawJob } from '../fixtures/job.js';
import { TEST_STAGE_PARAMS, setStage, type StageParams } from '../fixtures/stage.js';
import { ACCOUNT, mockHealthyAccount, mocks, resetMocks } from '../support/mock-account.js';
import { askingForTheGate, fakeEvaluateModel, GATE_STAGE_PARAMS, serveHeldOut } from '../support/fake-evaluate-model.js';

let lambdas: Record<string, TaskHandler>;
beforeAll(async () => {
  lambdas = await loadLambdaHandlers();
});
afterEach(() => resetMocks());

const TERMINAL = ['Completed', 'Failed', 'Stopped'];
const taskError = (name: string, message = 'injected by the fault matrix') => {
  const e = new Error(JSON.stringify({ errorType: name, errorMessage: message }));
  e.name = name;
  return e;
};
const serverError = () => new InternalServerException({ message: 'Internal failure', $metadata: { httpStatusCode: 500 } });
const denied = () => new AccessDeniedException({ message: 'not authorized to GetModelCustomizationJob', $metadata: { httpStatusCode: 403 } });

/**
 * The mocked account's Bedrock: jobs by name (Create with the same token adopts), the job's status
 * sequence by its ARN (InProgress → Stopping → Stopped once a stop was sent), and what the invariants read.
 */
function bedrockAccount(opts: {
  statuses: string[];
  createFails?: (call: number) => Error | undefined;
  creates?: (call: number) => boolean;
  getFails?: (call: number) => Error | undefined;
}) {
  const jobs = new Map<string, string>();
  const seen = { createSucceeded: false, lastStatus: undefined as string | undefined, deletedWhileInProgress: false };
  let creates = 0;
  let gets = 0;
  let polls = 0;
  let stopRequested = false;
  let checksSinceStop = 0;
  let tags: { key: string; value: string }[] = [];
  mocks.bedrock.on(ListTagsForResourceCommand).callsFake(() => ({ tags }));
  mocks.bedrock.on(CreateModelCustomizationJobCommand).callsFake((input) => {
    const call = ++creates;
    tags = (input.jobTags ?? []) as typeof tags;
    if (!jobs.has(input.jobName) && (opts.creates?.(call) ?? true)) jobs.set(input.jobName, input.clientRequestToken);
    const error = opts.createFails?.(call);
    if (error) throw error;
    seen.createSucceeded = true;
    return { jobArn: ACCOUNT.jobArn };
  });
  mocks.bedrock.on(GetModelCustomizationJobCommand).callsFake((input) => {
    if (input.jobIdentifier !== ACCOUNT.jobArn) {
      const token = jobs.get(input.jobIdentifier);
      if (token === undefined) throw new ResourceNotFoundException({ message: `Job ${input.jobIdentifier} not found`, $metadata: { httpStatusCode: 404 } });
      return { jobArn: ACCOUNT.jobArn, jobName: input.jobIdentifier, clientRequestToken: token, status: 'InProgress' };
    }
    const error = opts.getFails?.(++gets);
    if (error) throw error;
    const status = stopRequested ? (checksSinceStop++ >= 1 ? 'Stopped' : 'Stopping') : opts.statuses[Math.min(polls++, opts.statuses.length - 1)]!;
    seen.lastStatus = status;
    return { jobArn: ACCOUNT.jobArn, status };
  });
  mocks.bedrock.on(StopModelCustomizationJobCommand).callsFake(() => {
    stopRequested = true;
    return {};
  });
  mocks.ec2.on(DeleteNetworkInterfaceCommand).callsFake(() => {
    if (seen.lastStatus === 'InProgress') seen.deletedWhileInProgress = true;
    return {};
  });
  return { jobs, seen };
}

interface Scenario {
  input: Record<string, unknown>;
  executionName?: string;
  waitMs: number;
  /** Handlers the scenario replaces (built on the shared registry of executions). */
  handlers?: (executions: ExecutionRegistry, base: Record<string, TaskHandler>) => Record<string, TaskHandler>;
  /** Sets the mocked account up; returns the Bedrock model. */
  account: () => ReturnType<typeof bedrockAccount>;
  /** Stage params over the test stage's. */
  stage?: StageParams;
}

/** The gate's Tasks bound to the stand-in for evaluate-model; ValidateNetwork's real output asks for the gate. */
const gateHandlers = (base: Record<string, TaskHandler>, options: Parameters<typeof fakeEvaluateModel>[0] = {}): Record<string, TaskHandler> => ({
  ValidateNetwork: askingForTheGate(base.ValidateNetwork!),
  ...fakeEvaluateModel(options).handlers,
});

const longJob = () => rawJob({ polling: { initialSeconds: 10, maxSeconds: 10, growthFactor: 1, handoverAfterEvents: MIN_HANDOVER_AFTER_EVENTS } });
/** The status checks after which an execution of {@link longJob} hands the job over (poll-status's history estimate). */
const POLLS_TO_HANDOVER = Math.ceil((MIN_HANDOVER_AFTER_EVENTS - EVENTS_RESERVED_FOR_END - EVENTS_BEFORE_FIRST_POLL) / EVENTS_PER_POLL);
const inProgressThenCompleted = (n: number) => [...Array(n).fill('InProgress'), 'Completed'];

/** The setups of the other state-machine tests, one per path that reaches a Task. */
const scenarios = {
  happy: { input: rawJob(), waitMs: 0, account: () => (mockHealthyAccount(), bedrockAccount({ statuses: ['InProgress', 'Completed'] })) },
  // A stage that follows jobs by event: no event comes (the wait times out at once), the safety-net poll finds the end.
  eventWait: {
    input: rawJob(),
    waitMs: 0,
    stage: { jobWait: 'event' },
    // The job-waits table (and the ledger) are answered by the mocked account's in-memory store.
    account: () => (mockHealthyAccount(), bedrockAccount({ statuses: ['InProgress', 'InProgress', 'Completed'] })),
  },
  // ApplyPolicies wrote, then its Lambda timed out: the Catch leads through RollbackPolicies.
  applyTimedOut: {
    input: rawJob(),
    waitMs: 0,
    handlers: (_, base) => {
      const apply = base.ApplyPolicies!;
      return { ApplyPolicies: async (input) => (await apply(input), Promise.reject(taskError('States.Timeout'))) };
    },
    account: () => (mockHealthyAccount(), bedrockAccount({ statuses: ['Completed'] })),
  },
  quota: {
    input: rawJob(),
    waitMs: 0,
    account: () => (
      mockHealthyAccount(),
      bedrockAccount({
        statuses: ['InProgress', 'Completed'],
        createFails: (call) => (call === 1 ? new ServiceQuotaExceededException({ message: 'Too many jobs', $metadata: {} }) : undefined),
        creates: (call) => call > 1,
      })
    ),
  },
  // Every Create is refused and no job exists: SubmitJob → ReconcileSubmission → RevokeAfterSubmitFailed → SubmitFailed.
  refused: {
    input: rawJob(),
    waitMs: 0,
    account: () => (
      mockHealthyAccount(),
      bedrockAccount({ statuses: ['Completed'], createFails: () => new ValidationException({ message: 'bad hyperparameter', $metadata: {} }), creates: () => false })
    ),
  },
  // Every Create answers 5xx after Bedrock created the job: ReconcileSubmission adopts it.
  ambiguousSubmit: {
    input: rawJob(),
    waitMs: 0,
    account: () => (mockHealthyAccount(), bedrockAccount({ statuses: ['InProgress', 'Completed'], createFails: () => serverError() })),
  },
  deadline: { input: rawJob({ maxJobDurationSeconds: 1 }), waitMs: 200, account: () => (mockHealthyAccount(), bedrockAccount({ statuses: ['InProgress'] })) },
  // The second status check is denied: StopUnwatchedJob, then ConfirmStopped follows the job to Stopped.
  failedPoll: {
    input: rawJob(),
    waitMs: 0,
    account: () => (mockHealthyAccount(), bedrockAccount({ statuses: ['InProgress'], getFails: (call) => (call === 2 ? denied() : undefined) })),
  },
  // The first execution hands the job over once (designated in the ledger, then started); the successor
  // claims it and finds it InProgress, then Completed (a successor that fails leaves it running).
  handover: {
    input: longJob(),
    executionName: 'long-job',
    waitMs: 0,
    account: () => (mockHealthyAccount(), bedrockAccount({ statuses: inProgressThenCompleted(POLLS_TO_HANDOVER + 1) })),
  },
  // The job Completed and asked for the evaluation gate (its resolved input carries `evaluation`): the gate's
  // Tasks are a stand-in for evaluate-model (test/support/fake-evaluate-model.ts); the verdict is promote.
  gate: {
    input: rawJob(),
    waitMs: 0,
    stage: GATE_STAGE_PARAMS,
    handlers: (_, base) => gateHandlers(base),
    account: () => (mockHealthyAccount(), serveHeldOut(), bedrockAccount({ statuses: ['InProgress', 'Completed'] })),
  },
  // The same, and both evaluation jobs end Failed: EvaluationStatus fails, EvaluationCleanup runs.
  gateFails: {
    input: rawJob(),
    waitMs: 0,
    stage: GATE_STAGE_PARAMS,
    handlers: (_, base) => gateHandlers(base, { failAt: { EvaluationStatus: 'EvaluationJobFailedError' } }),
    account: () => (mockHealthyAccount(), serveHeldOut(), bedrockAccount({ statuses: ['InProgress', 'Completed'] })),
  },
} satisfies Record<string, Scenario>;
type ScenarioName = keyof typeof scenarios;

interface End {
  state: string;
  error?: string;
  /**
   * The chain left the job running without a supervisor (an execution failed holding it in the job ledger):
   * the reaper, on that execution's FAILED event (seconds later), takes it over and stops it.
   */
  reaperStops?: true;
}

interface Row {
  state: string;
  scenario: ScenarioName;
  /** The error its Retry covers, injected once. */
  transient: string;
  /** Every call fails with `transient`. */
  persistent: End;
  /** Every call times out after the handler ran (only where the ASL retries States.Timeout). */
  timeout?: End;
}

const LAMBDA = 'Lambda.ServiceException';
const table: Row[] = [
  { state: 'ValidateNetwork', scenario: 'happy', transient: LAMBDA, persistent: { state: 'PreflightFailed', error: LAMBDA } },
  { state: 'ValidateDataset', scenario: 'happy', transient: LAMBDA, persistent: { state: 'DatasetRejected', error: LAMBDA } },
  // The wait cannot register or be released: its Catch goes on checking by polling; the job is followed to its end.
  { state: 'WaitForJobEvent', scenario: 'eventWait', transient: LAMBDA, persistent: { state: 'JobSucceeded' } },
  { state: 'PlanPolicies', scenario: 'happy', transient: LAMBDA, persistent: { state: 'PoliciesFailed', error: LAMBDA } },
  { state: 'ApplyPolicies', scenario: 'happy', transient: LAMBDA, persistent: { state: 'PoliciesFailed', error: LAMBDA } },
  {
    state: 'RollbackPolicies',
    scenario: 'applyTimedOut',
    transient: LAMBDA,
    persistent: { state: 'RollbackFailed', error: LAMBDA },
    timeout: { state: 'RollbackFailed', error: 'States.Timeout' },
  },
  { state: 'RevokeAfterSubmitFailed', scenario: 'refused', transient: LAMBDA, persistent: { state: 'SubmitFailed', error: 'JobSubmissionError' } },
  {
    state: 'SubmitJob',
    scenario: 'happy',
    transient: LAMBDA,
    persistent: { state: 'SubmitFailed', error: 'JobSubmissionError' },
    // the job is created, then the Lambda times out each time: ReconcileSubmission adopts it
    timeout: { state: 'JobSucceeded' },
  },
  { state: 'PlanQuotaWait', scenario: 'quota', transient: LAMBDA, persistent: { state: 'SubmitFailed', error: LAMBDA } },
  {
    state: 'ReconcileSubmission',
    scenario: 'ambiguousSubmit',
    transient: LAMBDA,
    // Bedrock created the job (every Create answered 5xx) and ReconcileSubmission cannot look it up: the
    // ledger holds the reserved name (and its token) under this execution, so the reaper finds the job by
    // name, checks its token and stops it.
    persistent: { state: 'SubmitFailed', error: LAMBDA, reaperStops: true },
    timeout: { state: 'SubmitFailed', error: 'States.Timeout', reaperStops: true },
  },
  {
    state: 'PollStatus',
    scenario: 'happy',
    transient: LAMBDA,
    persistent: { state: 'JobErrored', error: LAMBDA },
    timeout: { state: 'JobErrored', error: 'States.Timeout' },
  },
  { state: 'ConfirmStopped', scenario: 'failedPoll', transient: LAMBDA, persistent: { state: 'JobUnwatched', error: 'JobUnwatchedError' }, timeout: { state: 'JobUnwatched', error: 'JobUnwatchedError' } },
  { state: 'CleanupEnis', scenario: 'happy', transient: LAMBDA, persistent: { state: 'JobSucceeded' } },
  // A failed revoke is reported in $.revokeError; the job's outcome stands.
  { state: 'RevokeGrants', scenario: 'happy', transient: LAMBDA, persistent: { state: 'JobSucceeded' } },
  {
    state: 'StopJob',
    scenario: 'deadline',
    transient: 'JobStopUnavailableError',
    persistent: { state: 'JobNotStopped', error: 'JobStopError', reaperStops: true },
    // the stop went through each time before the Lambda timed out: the job is followed to Stopped
    timeout: { state: 'JobStopped', error: 'JobStoppedError' },
  },
  {
    state: 'StopUnwatchedJob',
    scenario: 'failedPoll',
    transient: 'JobStopUnavailableError',
    persistent: { state: 'JobUnwatched', error: 'JobUnwatchedError', reaperStops: true },
    timeout: { state: 'JobUnwatched', error: 'JobUnwatchedError' },
  },
  {
    state: 'ResumeJob',
    scenario: 'handover',
    transient: LAMBDA,
    // The predecessor designated the successor in the ledger, started it and ended; the successor cannot
    // verify the hand-over and ends HandOverRejected without following the job: the ledger names it (the
    // dead execution) as the supervisor, so the reaper takes the job over and stops it.
    persistent: { state: 'HandOverRejected', error: LAMBDA, reaperStops: true },
    timeout: { state: 'HandOverRejected', error: 'States.Timeout', reaperStops: true },
  },
  // The start fails for good: the predecessor takes the job back from its unclaimed successor and follows it to its end.
  { state: 'HandOver', scenario: 'handover', transient: 'StepFunctions.ThrottlingException', persistent: { state: 'JobSucceeded' } },
  // The evaluation gate: a gate Task that fails for good (or times out after it ran, every time) ends the run in
  // EvaluationFailed with its error, after EvaluationCleanup (PlanEvaluation: nothing to clean) and RevokeGrants;
  // the job itself Completed, so nothing is left running.
  ...(['PlanEvaluation', 'DeployModel', 'DeploymentStatus', 'GenerateResponses', 'StartEvaluations', 'EvaluationStatus', 'Verdict'] as const).map(
    (state): Row => ({
      state,
      scenario: 'gate',
      transient: LAMBDA,
      persistent: { state: 'EvaluationFailed', error: LAMBDA },
      timeout: { state: 'EvaluationFailed', error: 'States.Timeout' },
    }),
  ),
  // A cleanup that fails is reported in $.evaluationCleanupError; the gate's own error is the outcome.
  {
    state: 'EvaluationCleanup',
    scenario: 'gateFails',
    transient: LAMBDA,
    persistent: { state: 'EvaluationFailed', error: 'EvaluationJobFailedError' },
    timeout: { state: 'EvaluationFailed', error: 'EvaluationJobFailedError' },
  },
];

type Fault = { kind: 'none' } | { kind: 'once' | 'always'; error: string } | { kind: 'timeout' };

function inject(handler: TaskHandler, fault: Fault): TaskHandler {
  let calls = 0;
  return async (input) => {
    calls++;
    if (fault.kind === 'always' || (fault.kind === 'once' && calls === 1)) throw taskError(fault.error);
    const out = await handler(input);
    if (fault.kind === 'timeout') throw taskError('States.Timeout', 'Task timed out after 300.00 seconds');
    return out;
  };
}

/**
 * What the stack's reaper rule does after the chain: the reaper's real logic on every execution of the
 * chain that ended FAILED, with the mocked account's clients. Step Functions' DescribeExecution and
 * GetExecutionHistory (newest first, with data) answer from the local runs (local/local-history.ts).
 */
async function reapFailed(runs: WorkflowRun[], firstInput: unknown, executions: ExecutionRegistry): Promise<ReaperReport[]> {
  const known = new Map<string, { run?: WorkflowRun; status: string; input: unknown }>();
  for (const record of executions.values()) known.set(record.arn, { status: record.status, input: record.input });
  runs.forEach((run, i) =>
    known.set(localExecutionArn(run.name), { run, status: run.status, input: i === 0 ? firstInput : runs[i - 1]!.startedExecution?.input }),
  );
  const notFound = (executionArn: string) => new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${executionArn}'`, $metadata: {} });
  mocks.sfn.on(DescribeExecutionCommand).callsFake(({ executionArn }) => {
    const execution = known.get(executionArn);
    if (!execution) throw notFound(executionArn);
    return { executionArn, stateMachineArn: localStateMachineArn(), status: execution.status, input: JSON.stringify(execution.input) };
  });
  mocks.sfn.on(GetExecutionHistoryCommand).callsFake(({ executionArn, reverseOrder }) => {
    const run = known.get(executionArn)?.run;
    if (!run) throw notFound(executionArn);
    const events = historyOf(run, { arn: executionArn, name: run.name });
    return { events: reverseOrder ? events.reverse() : events };
  });
  const deps = {
    sfn: new SFNClient({}),
    bedrock: new BedrockClient({}),
    ledger: dynamoLedger(process.env.JOB_LEDGER_TABLE ?? 'job-ledger', { dynamodb: new DynamoDBClient({}), now: () => new Date() }),
  };
  const reports: ReaperReport[] = [];
  for (const run of runs.filter((r) => r.status === 'FAILED')) {
    const executionArn = localExecutionArn(run.name);
    reports.push(await reap({ executionArn, stateMachineArn: localStateMachineArn() }, { stateMachineArn: localStateMachineArn() }, deps));
  }
  return reports;
}

/** Runs the scenario's chain with `fault` at `state`, then the reaper; returns the runs, the Bedrock model and the reaper's reports. */
async function runScenario(name: ScenarioName, state: string, fault: Fault) {
  const scenario: Scenario = scenarios[name];
  // setStage only adds variables: name the default job wait, or an earlier eventWait scenario's would stay.
  setStage({ ...TEST_STAGE_PARAMS, jobWait: 'poll', ...scenario.stage });
  const bedrock = scenario.account();
  const executions: ExecutionRegistry = new Map();
  const base: Record<string, TaskHandler> = {
    ...lambdas,
    HandOver: startExecutionIntegration(executions),
    WaitForJobEvent: jobEventWaitIntegration(localCallbacks, scenario.waitMs),
  };
  Object.assign(base, scenario.handlers?.(executions, base));
  const handlers = { ...base, [state]: inject(base[state]!, fault) };
  const runs = await runWorkflowChain({
    input: scenario.input,
    handlers,
    executions,
    waitMs: scenario.waitMs,
    retryMs: 0,
    ...(scenario.executionName ? { executionName: scenario.executionName } : {}),
  });
  const workflowStops = mocks.bedrock.commandCalls(StopModelCustomizationJobCommand).length;
  const reaper = await reapFailed(runs, scenario.input, executions);
  return { runs, last: runs.at(-1)!, bedrock: bedrock.seen, jobExists: bedrock.jobs.size > 0, workflowStops, reaper };
}

const policyWrites = () =>
  mocks.iam.commandCalls(PutRolePolicyCommand).length + mocks.ec2.commandCalls(ModifyVpcEndpointCommand).length + mocks.s3.commandCalls(PutBucketPolicyCommand).length;
const endOf = (run: WorkflowRun): End => ({ state: run.states.at(-1)!, ...(run.status === 'FAILED' ? { error: run.error } : {}) });
const cleanups = (runs: WorkflowRun[]) => runs.flatMap((r) => r.states).filter((s) => s === 'CleanupEnis').length;
const reaperStopped = (reports: ReaperReport[]) => reports.some((r) => r.outcome === 'stopped' && r.stopped);

/** The invariants every run upholds, whatever the fault. Returns the broken ones. */
function brokenInvariants({ runs, last, bedrock, jobExists, workflowStops, reaper }: Awaited<ReturnType<typeof runScenario>>, jobCreated: boolean): string[] {
  const broken: string[] = [];
  const end = last.states.at(-1)!;
  const terminal = bedrock.lastStatus !== undefined && TERMINAL.includes(bedrock.lastStatus);
  // No job left running without a supervisor: stopped by the workflow, followed to its end, reported
  // (JobUnwatched / JobNotStopped), or taken over and stopped by the reaper once its supervisor failed.
  if (jobCreated && workflowStops === 0 && !terminal && !reaperStopped(reaper) && !['JobUnwatched', 'JobNotStopped'].includes(end)) {
    broken.push(`job ${jobExists ? 'exists' : 'created'} but ended ${end} with it running (last status ${bedrock.lastStatus ?? 'never read'}), no stop sent and not reaped`);
  }
  if (bedrock.deletedWhileInProgress) broken.push('DeleteNetworkInterface sent while the job was InProgress');
  const all = runs.flatMap((r) => r.states);
  if (last.status === 'FAILED' && policyWrites() > 0 && !all.includes('SubmitJob') && !all.includes('RollbackPolicies')) {
    broken.push(`policies written, failed before submission in ${end} without RollbackPolicies`);
  }
  if (cleanups(runs) > 1) broken.push('CleanupEnis ran more than once');
  // The evaluation gate: whatever it may have created is cleaned up when it fails, and the grants are revoked after it.
  const gateStates = ['PlanEvaluation', 'DeployModel', 'DeploymentStatus', 'GenerateResponses', 'StartEvaluations', 'EvaluationStatus', 'Verdict', 'EvaluationCleanup'];
  const lastGate = Math.max(...gateStates.map((s) => all.lastIndexOf(s)));
  if (lastGate >= 0 && !(all.lastIndexOf('RevokeGrants') > lastGate)) broken.push('the evaluation gate ran and RevokeGrants did not run after it');
  if (end === 'EvaluationFailed' && all.includes('DeployModel') && !all.includes('EvaluationCleanup')) broken.push('the gate failed after DeployModel without EvaluationCleanup');
  return broken;
}

/** The fault-free run of each scenario, run once (its mocks reset after it). */
const baselines = new Map<ScenarioName, Promise<{ end: End; cleanups: number; states: string[]; broken: string[]; reaperStopped: boolean }>>();
function baseline(name: ScenarioName) {
  if (!baselines.has(name)) {
    baselines.set(
      name,
      runScenario(name, 'SubmitJob', { kind: 'none' }).then((clean) => {
        const summary = {
          end: endOf(clean.last),
          cleanups: cleanups(clean.runs),
          states: clean.runs.flatMap((r) => r.states),
          broken: brokenInvariants(clean, clean.bedrock.createSucceeded || clean.jobExists),
          reaperStopped: reaperStopped(clean.reaper),
        };
        resetMocks();
        return summary;
      }),
    );
  }
  return baselines.get(name)!;
}

describe('fault matrix', () => {
  it('covers every Task state of the ASL file', () => {
    const tasks = Object.entries(loadDefinition().States)
      .filter(([, s]) => s.Type === 'Task')
      .map(([n]) => n);
    const lambdaTasks = tasks.filter((n) => (loadDefinition().States[n]!.Resource as Record<string, unknown>)?.['Fn::GetAtt']);
    expect(lambdaTasks.sort()).toEqual(Object.keys(lambdas).sort());
    expect(table.map((r) => r.state).sort()).toEqual(tasks.sort());
  });

  it('injects only errors the state retries as transient, and timeouts only where States.Timeout is retried', () => {
    const { States } = loadDefinition();
    for (const row of table) {
      const retried = ((States[row.state]!.Retry as { ErrorEquals: string[] }[] | undefined) ?? []).flatMap((r) => r.ErrorEquals);
      expect(retried, row.state).toContain(row.transient);
      expect(retried.includes('States.Timeout'), row.state).toBe(row.timeout !== undefined);
    }
  });

  describe.each(table)('$state ($scenario)', (row) => {
    it(`transient ${row.transient} once: ends as the fault-free run`, async () => {
      // Prepare: the fault-free run of the scenario (once per scenario) reaches the state
      const clean = await baseline(row.scenario);
      expect(clean.states).toContain(row.state);
      expect(clean.broken).toEqual([]);

      // Act
      const faulty = await runScenario(row.scenario, row.state, { kind: 'once', error: row.transient });

      // Assess
      expect(faulty.runs.flatMap((r) => r.states)).toContain(row.state);
      expect(endOf(faulty.last)).toEqual(clean.end);
      expect(cleanups(faulty.runs)).toBe(clean.cleanups);
      expect(brokenInvariants(faulty, faulty.bedrock.createSucceeded)).toEqual([]);
      expect(reaperStopped(faulty.reaper)).toBe(clean.reaperStopped);
    });

    const persistent: [string, Fault, End][] = [[`persistent ${row.transient}`, { kind: 'always', error: row.transient }, row.persistent]];
    if (row.timeout) persistent.push(['persistent States.Timeout (after the handler ran)', { kind: 'timeout' }, row.timeout]);
    it.each(persistent)('%s: ends as documented, invariants hold', async (_, fault, expected) => {
      // Act
      const result = await runScenario(row.scenario, row.state, fault);

      // Assess
      expect(result.runs.flatMap((r) => r.states)).toContain(row.state);
      const { reaperStops, ...end } = expected;
      expect(endOf(result.last)).toEqual(end);
      expect(brokenInvariants(result, result.bedrock.createSucceeded || result.jobExists)).toEqual([]);
      // The reaper stops the job exactly when the chain left it running under a failed supervisor, and says so.
      const stopped = result.reaper.filter((r) => r.stopped);
      if (reaperStops) {
        expect(stopped).toEqual([expect.objectContaining({ outcome: 'stopped', jobArn: ACCOUNT.jobArn })]);
        expect(stopped[0]!.message).toContain('reaper took it over in the job ledger');
      } else {
        expect(stopped).toEqual([]);
      }
    });
  });

  it('ApplyPolicies wrote, then timed out: RollbackPolicies restores before PoliciesFailed', async () => {
    // Act
    const { last } = await runScenario('applyTimedOut', 'ApplyPolicies', { kind: 'none' });

    // Assess
    expect(policyWrites()).toBeGreaterThan(0);
    expect(last.states.slice(-4)).toEqual(['ApplyPolicies', 'RollbackPolicies', 'PoliciesRolledBack', 'PoliciesFailed']);
    expect(endOf(last)).toEqual({ state: 'PoliciesFailed', error: 'States.Timeout' });
  });
});

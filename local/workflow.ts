/**
 * Runs statemachines/customize-model.asl.yml — the same file that deploys — with
 * aws-local-stepfunctions, each Lambda Task bound to the real handler of the function its
 * `Fn::GetAtt: [<function key>, Arn]` names (a key of serverless.yml's `functions`). Used by the
 * state-machine tests, `npm run local` and the bench.
 *
 * What stands in for AWS here, and only here:
 * - Lambda's invoke: the event and the result go through JSON, and a thrown error reaches the state
 *   machine as Lambda reports it (Error = the error's name, Cause = {"errorType","errorMessage"} JSON);
 * - the `states:startExecution` integration (HandOver): an {@link ExecutionRegistry} of the executions
 *   started, shared by a chain's runs;
 * - the `lambda:invoke.waitForTaskToken` integration (WaitForJobEvent): a task token from
 *   {@link LocalCallbacks} (Step Functions' callback service), the job-events step's `register` run with
 *   it, then a wait for SendTaskSuccess until the state's timeout ({@link jobEventWaitIntegration});
 * - the part of an execution's history that resume-job and the reaper read (GetExecutionHistory): the
 *   TaskScheduled event of each HandOver start, recorded as Step Functions records it
 *   ({@link scheduledHistory}; tests answer the SDK's GetExecutionHistory with it).
 */
import { readFileSync } from 'node:fs';
import { StateMachine, type RunOptions } from 'aws-local-stepfunctions';
import { parse } from 'yaml';
import { localExecutionArn, localStateMachineArn } from './arns.js';
import { standInEvents, type ModelCustomizationJobStateChange } from './bedrock-standin.js';
import { LocalCallbacks, waitForTaskTokenIntegration } from './callbacks.js';
import { aslPath, serverlessPath } from './paths.js';

export { localExecutionArn, localStateMachineArn };

type JSONValue = Parameters<StateMachine['run']>[0];
type RunResult = ReturnType<StateMachine['run']>;
export type WorkflowEvent = RunResult['eventLogs'] extends AsyncGenerator<infer E> ? E : never;
export type TaskHandler = (input: JSONValue) => Promise<JSONValue>;

/** CloudFormation short-form tags in serverless.yml, read as their long form. */
const cfnTags = ['Sub', 'Ref', 'GetAtt', 'Join', 'Select', 'Split', 'ImportValue', 'If', 'Equals', 'Not', 'FindInMap'].flatMap(
  (name) =>
    (['scalar', 'seq', 'map'] as const).map((collection) => ({
      tag: `!${name}`,
      collection: collection === 'scalar' ? undefined : collection,
      resolve: (value: unknown) => ({ [name === 'Ref' ? 'Ref' : `Fn::${name}`]: value }),
    })),
);

let parsedDefinition: { text: string; definition: Record<string, unknown> & { States: Record<string, Record<string, unknown>> } } | undefined;

/**
 * The state machine definition, parsed from the one ASL file (a fresh copy each call: callers change it;
 * parsed again only when the file's text changed).
 */
export function loadDefinition(): Record<string, unknown> & { States: Record<string, Record<string, unknown>> } {
  const text = readFileSync(aslPath, 'utf8');
  if (parsedDefinition?.text !== text) parsedDefinition = { text, definition: parse(text) };
  return structuredClone(parsedDefinition.definition);
}

/** serverless.yml, parsed (its `<<` merge keys merged, as osls reads them). */
export function loadServerlessConfig(): {
  functions: Record<string, { handler: string; environment?: Record<string, unknown>; timeout?: number }>;
  provider?: { timeout?: number };
  [key: string]: unknown;
} {
  return parse(readFileSync(serverlessPath, 'utf8'), { customTags: cfnTags as never, merge: true });
}

/** For every Lambda Task: state name → serverless function key (its `Fn::GetAtt: [<function key>, Arn]`). */
export function lambdaTaskFunctions(config = loadServerlessConfig()): Record<string, string> {
  const { States } = loadDefinition();
  const out: Record<string, string> = {};
  for (const [name, state] of Object.entries(States)) {
    const getAtt = (state.Resource as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
    if (state.Type !== 'Task' || !getAtt) continue;
    const [key] = getAtt;
    if (!Object.hasOwn(config.functions, key)) throw new Error(`State ${name} names ${key}, which is not a function of serverless.yml`);
    out[name] = key;
  }
  return out;
}

/** The callback Tasks (`lambda:invoke.waitForTaskToken`): state name → serverless function key of Parameters.FunctionName. */
export function callbackTaskFunctions(): Record<string, string> {
  const { States } = loadDefinition();
  const out: Record<string, string> = {};
  for (const [name, state] of Object.entries(States)) {
    if (state.Type !== 'Task' || state.Resource !== 'arn:aws:states:::lambda:invoke.waitForTaskToken') continue;
    const getAtt = ((state.Parameters as { FunctionName?: { 'Fn::GetAtt'?: [string, string] } } | undefined)?.FunctionName ?? {})['Fn::GetAtt'];
    if (getAtt) out[name] = getAtt[0];
  }
  return out;
}

/**
 * Stand-in for WaitForJobEvent's `lambda:invoke.waitForTaskToken`: job-events' `register` (its step
 * logic, with `callbacks` as its Step Functions client: the token is released here, not in moto),
 * then the wait, `States.Timeout` after the payload's `waitSeconds` (the state's TimeoutSecondsPath),
 * or after `waitMs` when that is shorter. The job-events config comes from the environment a deployment sets
 * (JOB_WAITS_TABLE, JOB_EVENTS_ACCOUNT_ID, AWS_REGION).
 */
export function jobEventWaitIntegration(callbacks: LocalCallbacks, waitMs?: number): TaskHandler {
  return waitForTaskTokenIntegration(
    callbacks,
    async (payload) => {
      const { step, config, deps } = await jobEventsStep(callbacks);
      const waitSeconds = Number(payload.waitSeconds ?? 0);
      return step.registerWait(
        {
          taskToken: String(payload.taskToken),
          jobArn: String(payload.jobArn),
          jobName: String(payload.jobName),
          executionArn: String(payload.executionArn),
          owner: String(payload.owner),
          expiresAt: new Date(Date.now() + waitSeconds * 1000).toISOString(),
        },
        config,
        deps,
      );
    },
    // The state's timeout, shortened to `waitMs` when given (tests, the demo), as Wait states are.
    (payload) => Math.min(Number(payload.waitSeconds ?? 0) * 1000, waitMs ?? Number.POSITIVE_INFINITY),
  );
}

/** The job-events step's config from the environment (as its handler reads it). */
export function jobEventsConfig() {
  return {
    table: process.env.JOB_WAITS_TABLE ?? 'job-waits',
    home: { region: process.env.AWS_REGION ?? 'us-east-1', accountId: process.env.JOB_EVENTS_ACCOUNT_ID ?? '123456789012' },
  };
}

/** The callback service of every local run in this process (events delivered by tests or the local driver reach it). */
export const localCallbacks = new LocalCallbacks();

/**
 * What the stack's EventBridge rule does with Bedrock's job-state event: job-events' step logic, with
 * the local callback service as its Step Functions client (the local driver and tests call this).
 */
export async function deliverJobEvent(detail: { jobArn?: string; jobStatus?: string }) {
  const { step, config, deps } = await jobEventsStep(localCallbacks);
  return step.onJobStateChange(detail, config, deps);
}

/**
 * Stand-in for the stack's EventBridge rule on Bedrock's job-state events: reads the events the
 * stand-in for Bedrock at `endpoint` recorded (every 250 ms) and hands each new one to job-events
 * ({@link deliverJobEvent}); `from` events already recorded are skipped. `stop` ends the loop.
 */
export function forwardStandInEvents(
  endpoint: string,
  options: { from?: number; onDelivered?: (event: ModelCustomizationJobStateChange, result: Awaited<ReturnType<typeof deliverJobEvent>>) => void } = {},
): { stop: () => Promise<void> } {
  let seen = options.from ?? 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const events = await standInEvents(endpoint).catch(() => []);
      for (const event of events.slice(seen)) {
        const result = await deliverJobEvent(event.detail);
        options.onDelivered?.(event, result);
      }
      seen = Math.max(seen, events.length);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/**
 * job-events' step logic with its config from the environment and its deps: the functions' own
 * DynamoDB and Bedrock clients (imported on first use, once the runner has set the endpoint) and
 * `callbacks` as its Step Functions client.
 */
async function jobEventsStep(callbacks: LocalCallbacks) {
  const [step, clients, ledger] = await Promise.all([
    import('../functions/job-events/job-events.js'),
    import('../functions/shared/clients.js'),
    import('../functions/shared/ledger-env.js'),
  ]);
  return {
    step,
    config: jobEventsConfig(),
    deps: { dynamodb: clients.dynamodb, bedrock: clients.bedrock, sfn: callbacks as never, ledger: ledger.jobLedger(), now: () => new Date() },
  };
}

/** Lambda's default function timeout (Lambda Developer Guide, "Configure Lambda function timeout": 3 seconds). */
const DEFAULT_LAMBDA_TIMEOUT_SECONDS = 3;

/**
 * A minimal Lambda context, as Lambda passes it to a handler (and to any middleware that reads it). Its remaining
 * time counts down from the function's serverless.yml `timeout` (the provider's when the function sets none), as
 * Lambda's does from the invocation's start.
 */
function lambdaContext(functionName: string, timeoutSeconds: number) {
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION ?? 'us-east-1'}:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Lambda's invoke semantics around a handler: JSON in, JSON out, errors as Lambda reports them. */
export function asLambda(functionName: string, handler: (event: unknown, context: unknown) => Promise<unknown>, timeoutSeconds = DEFAULT_LAMBDA_TIMEOUT_SECONDS): TaskHandler {
  return async (input) => {
    try {
      const result = await handler(JSON.parse(JSON.stringify(input)), lambdaContext(functionName, timeoutSeconds));
      return result === undefined ? null : JSON.parse(JSON.stringify(result));
    } catch (err) {
      const name = err instanceof Error ? err.name : 'Error';
      const message = err instanceof Error ? err.message : String(err);
      const reported = new Error(JSON.stringify({ errorType: name, errorMessage: message }));
      reported.name = name;
      throw reported;
    }
  };
}

/** Imports the real handlers named by the ASL file (after `env` is in process.env: handlers read it at load). */
export async function loadLambdaHandlers(): Promise<Record<string, TaskHandler>> {
  const config = loadServerlessConfig();
  const handlers: Record<string, TaskHandler> = {};
  for (const [state, key] of Object.entries(lambdaTaskFunctions(config))) handlers[state] = await loadLambdaHandler(key, config);
  return handlers;
}

/** The real handler of serverless.yml's function `key`, as a Lambda invoke runs it ({@link asLambda}). */
export async function loadLambdaHandler(key: string, config = loadServerlessConfig()): Promise<TaskHandler> {
  const handler = config.functions[key]?.handler;
  if (handler === undefined) throw new Error(`serverless.yml has no function ${key}`);
  const [file, exportName] = splitHandler(handler);
  const folder = /^functions\/([\w-]+)\/handler$/.exec(file)?.[1];
  if (folder === undefined) throw new Error(`${key}'s handler ${handler} is not functions/<folder>/handler.<export>`);
  // A path esbuild resolves at build time (functions/*/handler.ts, each into the built CLI's local
  // chunks); tsx resolves the same path from the sources.
  const mod = (await import(`../functions/${folder}/handler.ts`)) as Record<string, unknown>;
  const fn = mod[exportName];
  if (typeof fn !== 'function') throw new Error(`${file}.ts does not export ${exportName}`);
  const timeout = Number(config.functions[key]?.timeout ?? config.provider?.timeout ?? DEFAULT_LAMBDA_TIMEOUT_SECONDS);
  return asLambda(key, fn as (event: unknown, context: unknown) => Promise<unknown>, timeout);
}

function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}

/** The HandOver state's service integration (`arn:aws:states:::states:startExecution`), recorded for a chain. */
export interface StartedExecution {
  name: string;
  input: unknown;
}

/** An execution the stand-ins know of: started by HandOver, or put there by a test (another execution). */
export interface ExecutionRecord extends StartedExecution {
  arn: string;
  /** The execution whose HandOver started it (`AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID`). */
  startedBy?: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  startDate: string;
}

/** Executions of the local state machine by name: what StartExecution created, what DescribeExecution reads. */
export type ExecutionRegistry = Map<string, ExecutionRecord>;

/**
 * Every HandOver start scheduled in this process, successful or not (Step Functions records TaskScheduled
 * before the call): by the scheduling execution's ARN. Execution names are unique per run, so one log
 * serves every run.
 */
const scheduledStarts: { by: string; parameters: { StateMachineArn: string; Name: string; Input: unknown } }[] = [];

/**
 * A HandOver's start as GetExecutionHistory returns it: a TaskScheduled event whose
 * `taskScheduledEventDetails` (AWS's TaskScheduledEventDetails) has resourceType `states`, resource
 * `startExecution`, and `parameters` the JSON text of the state's resolved Parameters.
 */
export function handOverScheduledEvent(parameters: { StateMachineArn: string; Name: string; Input: unknown }, id = 1, region = process.env.AWS_REGION ?? 'us-east-1') {
  return {
    id,
    type: 'TaskScheduled' as const,
    timestamp: new Date(),
    taskScheduledEventDetails: { resourceType: 'states', resource: 'startExecution', region, parameters: JSON.stringify(parameters) },
  };
}

/** The TaskScheduled events of `executionArn`'s HandOver starts, newest first ({@link handOverScheduledEvent}). */
export function scheduledHistory(executionArn: string) {
  return scheduledStarts
    .filter((s) => s.by === executionArn)
    .map((s, i) => handOverScheduledEvent(s.parameters, i + 1))
    .reverse();
}

/** A service integration error as Step Functions names it (`<Service>.<code>`). */
function integrationError(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/**
 * Stand-in for `arn:aws:states:::states:startExecution` (HandOver), as Step Functions answers: a new
 * name starts an execution (recorded in `registry`); the name of a running execution with the same
 * input answers that execution again (idempotent); any other existing name is
 * `StepFunctions.ExecutionAlreadyExistsException`.
 */
export function startExecutionIntegration(registry: ExecutionRegistry, stateMachineArn = localStateMachineArn()): TaskHandler {
  return async (input) => {
    const { Name, Input, StateMachineArn } = input as { Name: string; Input: unknown; StateMachineArn: string };
    const by = (Input as { AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID?: string } | null)?.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID;
    if (by) scheduledStarts.push({ by, parameters: { StateMachineArn, Name, Input } });
    if (StateMachineArn !== stateMachineArn) throw new Error(`HandOver targets ${StateMachineArn}, not this state machine`);
    const existing = registry.get(Name);
    if (existing) {
      if (existing.status === 'RUNNING' && JSON.stringify(existing.input) === JSON.stringify(Input)) {
        return { ExecutionArn: existing.arn, StartDate: existing.startDate };
      }
      throw integrationError('StepFunctions.ExecutionAlreadyExistsException', `Execution Already Exists: '${existing.arn}'`);
    }
    const arn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${Name}`;
    const startedBy = (Input as { AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID?: string } | null)?.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID;
    const record: ExecutionRecord = { name: Name, arn, input: Input, status: 'RUNNING', startDate: new Date().toISOString(), ...(startedBy ? { startedBy } : {}) };
    registry.set(Name, record);
    return { ExecutionArn: arn, StartDate: record.startDate };
  };
}

export interface WorkflowRun {
  /** Execution name (the last part of its ARN). */
  name: string;
  status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
  /** Set when this execution handed the job over to a fresh one (continue-as-new). */
  startedExecution?: StartedExecution;
  output?: unknown;
  error?: string;
  cause?: string;
  events: WorkflowEvent[];
  /** State names in the order they were entered. */
  states: string[];
}

export interface RunWorkflowOptions {
  input: unknown;
  /** Execution name (the ARN is built from it); unique per run by default. */
  executionName?: string;
  /** Handlers by state name: the real Lambdas unless replaced here. */
  handlers: Record<string, TaskHandler>;
  /** Milliseconds every Wait state waits instead of its SecondsPath (0 in tests). */
  waitMs?: number;
  /** Milliseconds between retries instead of the ASL backoff (0 in tests). */
  retryMs?: number;
  /** The longest WaitForJobEvent waits for its callback, in milliseconds, instead of its timeout (default: `waitMs`). */
  eventWaitMs?: number;
  region?: string;
  onEvent?: (event: WorkflowEvent) => void;
  /**
   * The executions HandOver started (shared by the runs of a chain). A test
   * can put another execution here, or pass its own HandOver handler built on
   * {@link startExecutionIntegration} with this registry.
   */
  executions?: ExecutionRegistry;
}

/** Executes the ASL file once and collects its result and event log. */
export async function runWorkflow(options: RunWorkflowOptions): Promise<WorkflowRun> {
  const definition = loadDefinition();
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const name = options.executionName ?? `local-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const stateMachineArn = localStateMachineArn(region);
  const executionArn = localExecutionArn(name, region);
  // aws-local-stepfunctions 3 resolves a Task's TimeoutSecondsPath against its Parameters' output
  // (Step Functions: against the state input), so WaitForJobEvent's `$.poll.nextWaitSeconds` would not
  // resolve. The callback stand-in enforces that timeout itself, from the Payload's `waitSeconds`: the
  // same path (test/infra/template.test.ts keeps the two equal in the deployed definition).
  for (const name of Object.keys(callbackTaskFunctions())) delete definition.States[name]!.TimeoutSecondsPath;
  const machine = new StateMachine(definition as never);
  // Stand-in for HandOver's `states:startExecution`: the started executions are recorded;
  // runWorkflowChain then runs the one this execution handed over to.
  const executions = options.executions ?? new Map();
  const startExecution = startExecutionIntegration(executions, stateMachineArn);
  const waits = Object.entries(definition.States).filter(([, s]) => s.Type === 'Wait');
  const retriable = Object.entries(definition.States).filter(([, s]) => Array.isArray(s.Retry));
  const runOptions: RunOptions = {
    overrides: {
      taskResourceLocalHandlers: {
        HandOver: startExecution,
        ...Object.fromEntries(Object.keys(callbackTaskFunctions()).map((n) => [n, jobEventWaitIntegration(localCallbacks, options.eventWaitMs ?? options.waitMs)])),
        ...options.handlers,
      },
      ...(options.waitMs !== undefined
        ? { waitTimeOverrides: Object.fromEntries(waits.map(([n]) => [n, options.waitMs!])) }
        : {}),
      ...(options.retryMs !== undefined
        ? {
            retryIntervalOverrides: Object.fromEntries(
              retriable.map(([n, s]) => [n, (s.Retry as unknown[]).map(() => options.retryMs!)]),
            ),
          }
        : {}),
    },
    context: {
      // Step Functions sets $$.Task.Token only in a callback Task; the WaitForJobEvent stand-in replaces it.
      Task: { Token: 'local-token-replaced-by-the-stand-in' },
      Execution: { Id: executionArn, Name: name },
      StateMachine: { Id: stateMachineArn, Name: stateMachineArn.split(':').at(-1) },
    } as never,
  };
  const run = machine.run(options.input as JSONValue, runOptions);
  const events: WorkflowEvent[] = [];
  const collecting = (async () => {
    for await (const event of run.eventLogs) {
      events.push(event);
      options.onEvent?.(event);
    }
  })();
  let outcome: Omit<WorkflowRun, 'name' | 'events' | 'states'>;
  try {
    outcome = { status: 'SUCCEEDED', output: await run.result };
  } catch (err) {
    const cause = (err as { cause?: { name?: string; message?: string } }).cause;
    outcome =
      (err as Error).name === 'ExecutionTimeoutError'
        ? { status: 'TIMED_OUT', error: 'States.Timeout', cause: (err as Error).message }
        : { status: 'FAILED', error: cause?.name ?? (err as Error).name, cause: cause?.message ?? (err as Error).message };
  }
  await collecting;
  const states = events.flatMap((e) => (e.type === 'StateEntered' ? [(e as { state: { name: string } }).state.name] : []));
  // Handed over: the successor is the last execution this one started.
  const started = states.at(-1) === 'HandedOver' ? [...executions.values()].filter((r) => r.startedBy === executionArn).at(-1) : undefined;
  const startedExecution: StartedExecution | undefined = started ? { name: started.name, input: started.input } : undefined;
  return { name, ...outcome, ...(startedExecution ? { startedExecution } : {}), events, states };
}

/**
 * Runs an execution and every execution it hands the job over to (continue-as-new), in order,
 * as Step Functions would. Returns all runs; the last one carries the job's outcome.
 */
export async function runWorkflowChain(options: RunWorkflowOptions & { maxExecutions?: number }): Promise<WorkflowRun[]> {
  const runs: WorkflowRun[] = [];
  const executions: ExecutionRegistry = options.executions ?? new Map();
  let next: RunWorkflowOptions | undefined = { ...options, executions };
  while (next) {
    if (runs.length >= (options.maxExecutions ?? 100)) throw new Error(`more than ${options.maxExecutions ?? 100} executions in the chain`);
    const run = await runWorkflow(next);
    runs.push(run);
    const self = executions.get(run.name);
    if (self) self.status = run.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED';
    next = run.startedExecution
      ? { ...options, executions, input: run.startedExecution.input, executionName: run.startedExecution.name }
      : undefined;
  }
  return runs;
}

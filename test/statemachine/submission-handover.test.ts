/**
 * Submissions that fail ambiguously (5xx, timeouts, Lambda errors after Bedrock created the job) and
 * hand-overs whose start is retried or whose successor name is already taken (real handlers, mocked
 * clients and the emulated job ledger, zero waits): a job that was created is always followed, and a
 * hand-over ends an execution only once the successor it designated in the job ledger has started.
 */
import {
  CreateModelCustomizationJobCommand,
  GetModelCustomizationJobCommand,
  InternalServerException,
  ResourceInUseException,
  ResourceNotFoundException,
  StopModelCustomizationJobCommand,
  ValidationException,
} from '@aws-sdk/client-bedrock';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  EVENTS_BEFORE_FIRST_POLL,
  EVENTS_PER_POLL,
  EVENTS_RESERVED_FOR_END,
  handoverExecutionName,
} from '../../functions/poll-status/poll-status.js';
import { MIN_HANDOVER_AFTER_EVENTS } from '../../functions/shared/job-state.js';
import { dynamoLedger } from '../../functions/shared/ledger.js';
import {
  loadDefinition,
  localExecutionArn,
  runWorkflow,
  runWorkflowChain,
  startExecutionIntegration,
  type ExecutionRegistry,
  type TaskHandler,
} from '../../local/workflow.js';
import { rawJob } from '../fixtures/job.js';
import { ACCOUNT, mockHealthyAccount, mocks } from '../support/mock-account.js';
import { count, fast, handlers, lambdas, retries, useRealHandlers } from '../support/state-machine.js';

useRealHandlers();

const serverError = () => new InternalServerException({ message: 'Internal failure', $metadata: { httpStatusCode: 500 } });
const lambdaError = (name: string) => {
  const e = new Error(JSON.stringify({ errorType: name, errorMessage: 'Task timed out after 60.00 seconds' }));
  e.name = name;
  return e;
};
const submitRetrier = () =>
  (loadDefinition().States.SubmitJob!.Retry as any[]).find((r) => r.ErrorEquals.includes('JobSubmissionUncertainError'));

/**
 * Bedrock's jobs by name, as CreateModelCustomizationJob leaves them: `createFails(call, created)`
 * returns an error to answer the call-th Create with AFTER the job was created (`created`: whether it
 * is created at all). A repeated Create with the job's token answers the job (idempotent).
 * GetModelCustomizationJob by name or ARN answers the job with its token, or ResourceNotFound.
 */
function bedrockJobs(opts: { createFails?: (call: number) => Error | undefined; creates?: (call: number) => boolean; statuses?: string[] }) {
  const jobs = new Map<string, { token: string; created: Date }>();
  let creates = 0;
  let polls = 0;
  const statuses = opts.statuses ?? ['Completed'];
  mocks.bedrock.on(CreateModelCustomizationJobCommand).callsFake((input) => {
    const call = ++creates;
    const existing = jobs.get(input.jobName);
    if (existing && existing.token !== input.clientRequestToken) {
      throw new ResourceInUseException({ message: `Model customization job ${input.jobName} already exists`, $metadata: {} });
    }
    if (!existing && (opts.creates?.(call) ?? true)) jobs.set(input.jobName, { token: input.clientRequestToken, created: new Date() });
    const error = opts.createFails?.(call);
    if (error) throw error;
    return { jobArn: ACCOUNT.jobArn };
  });
  mocks.bedrock.on(GetModelCustomizationJobCommand).callsFake((input) => {
    const job = input.jobIdentifier === ACCOUNT.jobArn ? [...jobs.values()][0] : jobs.get(input.jobIdentifier);
    if (!job) throw new ResourceNotFoundException({ message: `Job ${input.jobIdentifier} not found`, $metadata: { httpStatusCode: 404 } });
    const status = input.jobIdentifier === ACCOUNT.jobArn ? statuses[Math.min(polls++, statuses.length - 1)] : 'InProgress';
    return { jobArn: ACCOUNT.jobArn, clientRequestToken: job.token, creationTime: job.created, status };
  });
  return { jobs, creates: () => creates };
}

const tokens = () => new Set(mocks.bedrock.commandCalls(CreateModelCustomizationJobCommand).map((c) => c.args[0].input.clientRequestToken));

describe('ambiguous submission failures', () => {
  it('a 5xx, then success: one job, the same token on every call, no reconciliation', async () => {
    mockHealthyAccount(['Completed']);
    const bedrock = bedrockJobs({ createFails: (call) => (call === 1 ? serverError() : undefined), creates: (call) => call > 1 });
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run.status).toBe('SUCCEEDED');
    expect(retries(run, 'SubmitJob')).toBe(1);
    expect(bedrock.creates()).toBe(2);
    expect(bedrock.jobs.size).toBe(1);
    expect(tokens()).toEqual(new Set([(run.output as any).job.clientRequestToken]));
    expect(run.states).not.toContain('ReconcileSubmission');
  });

  it('5xx on every attempt after Bedrock created the job: reconciliation adopts it and follows it to the end', async () => {
    mockHealthyAccount(['Completed']);
    const bedrock = bedrockJobs({ createFails: () => serverError(), statuses: ['InProgress', 'Completed'] });
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states.at(-1)).toBe('JobSucceeded');
    const attempts = submitRetrier().MaxAttempts + 1;
    expect(bedrock.creates()).toBe(attempts);
    expect(tokens()).toEqual(new Set([(run.output as any).job.clientRequestToken]));
    expect(bedrock.jobs.size).toBe(1);
    const path = run.states.slice(run.states.indexOf('SubmitJob'), run.states.indexOf('PollStatus') + 1);
    expect(path).toEqual(['SubmitJob', 'SubmitErrorKind', 'ReconcileSubmission', 'PollStatus']);
    expect((run.output as any).submission).toMatchObject({ jobArn: ACCOUNT.jobArn, adopted: true });
    expect((run.output as any).submitError.Error).toBe('JobSubmissionUncertainError');
    expect((run.output as any).error).toBeUndefined();
    expect(count(run.states, 'CleanupEnis')).toBe(1);
  });

  it('5xx on every attempt and no job was created: SubmitFailed with a clear cause, nothing followed or cleaned up', async () => {
    mockHealthyAccount(['Completed']);
    bedrockJobs({ createFails: () => serverError(), creates: () => false });
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run).toMatchObject({ status: 'FAILED', error: 'JobSubmissionError' });
    expect(run.states.slice(-4)).toEqual(['SubmitErrorKind', 'ReconcileSubmission', 'RevokeAfterSubmitFailed', 'SubmitFailed']);
    expect(run.cause).toContain('no job of that name exists');
    expect(run.cause).toContain('Internal failure');
    expect(run.cause).toContain('nothing to clean up');
    expect(run.states).not.toContain('PollStatus');
    expect(run.states).not.toContain('CleanupEnis');
  });

  it('Lambda.Unknown after the job was created (every attempt): reconciliation adopts the job', async () => {
    mockHealthyAccount(['Completed']);
    const bedrock = bedrockJobs({});
    const SubmitJob: TaskHandler = async (input) => {
      await lambdas.SubmitJob!(input); // the job is created (or adopted), then the Lambda dies
      throw lambdaError('Lambda.Unknown');
    };
    const run = await runWorkflow({ input: rawJob(), handlers: { ...handlers(), SubmitJob }, ...fast });
    expect(run.status).toBe('SUCCEEDED');
    expect(retries(run, 'SubmitJob')).toBe(submitRetrier().MaxAttempts);
    expect(run.states).toContain('ReconcileSubmission');
    expect((run.output as any).submission).toMatchObject({ jobArn: ACCOUNT.jobArn, adopted: true });
    expect(bedrock.jobs.size).toBe(1);
    expect(tokens().size).toBe(1);
  });

  it('States.Timeout once after the job was created: the retry adopts it (same token), no reconciliation', async () => {
    mockHealthyAccount(['Completed']);
    bedrockJobs({});
    let calls = 0;
    const SubmitJob: TaskHandler = async (input) => {
      const out = await lambdas.SubmitJob!(input);
      if (++calls === 1) throw lambdaError('States.Timeout');
      return out;
    };
    const run = await runWorkflow({ input: rawJob(), handlers: { ...handlers(), SubmitJob }, ...fast });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).not.toContain('ReconcileSubmission');
    expect(tokens().size).toBe(1);
    expect(mocks.bedrock).toHaveReceivedCommandTimes(CreateModelCustomizationJobCommand, 2);
  });

  it('a job of that name with another token found by reconciliation: JobNameConflictError, not adopted', async () => {
    mockHealthyAccount(['Completed']);
    bedrockJobs({ createFails: () => serverError(), creates: () => false });
    mocks.bedrock.on(GetModelCustomizationJobCommand).resolves({ jobArn: ACCOUNT.jobArn, clientRequestToken: 'someone-else', status: 'InProgress' });
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run).toMatchObject({ status: 'FAILED', error: 'JobNameConflictError' });
    expect(run.states.slice(-3)).toEqual(['ReconcileSubmission', 'RevokeAfterSubmitFailed', 'SubmitFailed']);
    expect(run.states).not.toContain('PollStatus');
  });

  it('a refusal (validation) is not retried; with no job of that name it fails with the refusal', async () => {
    mockHealthyAccount(['Completed']);
    bedrockJobs({ createFails: () => new ValidationException({ message: 'Base model not found', $metadata: {} }), creates: () => false });
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run).toMatchObject({ status: 'FAILED', error: 'JobSubmissionError' });
    expect(run.states.slice(-5)).toEqual(['SubmitJob', 'SubmitErrorKind', 'ReconcileSubmission', 'RevokeAfterSubmitFailed', 'SubmitFailed']);
    expect(retries(run, 'SubmitJob')).toBe(0);
    expect(run.cause).toContain('Base model not found');
    expect(run.cause).toContain('nothing to clean up');
  });

  it('a 5xx that created the job, then a refusal on the retry: the job is still found and followed', async () => {
    mockHealthyAccount(['Completed']);
    const bedrock = bedrockJobs({
      createFails: (call) => (call === 1 ? serverError() : new ValidationException({ message: 'Throttled validation', $metadata: {} })),
      creates: (call) => call === 1,
    });
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).toContain('ReconcileSubmission');
    expect((run.output as any).submission).toMatchObject({ adopted: true });
    expect(bedrock.jobs.size).toBe(1);
  });
});

describe('hand-over whose start is retried or whose name is taken', () => {
  const longJob = () => rawJob({ polling: { initialSeconds: 10, maxSeconds: 10, growthFactor: 1, handoverAfterEvents: MIN_HANDOVER_AFTER_EVENTS } });
  /** The status checks after which an execution of {@link longJob} hands the job over (poll-status's history estimate). */
  const POLLS_TO_HANDOVER = Math.ceil((MIN_HANDOVER_AFTER_EVENTS - EVENTS_RESERVED_FOR_END - EVENTS_BEFORE_FIRST_POLL) / EVENTS_PER_POLL);
  const first = { id: localExecutionArn('long-job'), name: 'long-job' };
  const ledger = () => dynamoLedger(process.env.JOB_LEDGER_TABLE ?? 'job-ledger', { dynamodb: new DynamoDBClient({}), now: () => new Date() });
  const jobNameOf = (output: unknown) => (output as { submission: { jobName: string } }).submission.jobName;
  const startError = (name: string, message: string) => Object.assign(new Error(message), { name });

  it('a retried HandOver whose first attempt went through: the repeated start answers that execution, HandedOver', async () => {
    mockHealthyAccount([...Array(POLLS_TO_HANDOVER).fill('InProgress'), 'Completed']);
    const executions: ExecutionRegistry = new Map();
    const start = startExecutionIntegration(executions);
    const names: string[] = [];
    // The first start goes through but its answer is lost; the retry starts the same name with the same input.
    const HandOver: TaskHandler = async (input) => {
      names.push((input as { Name: string }).Name);
      const out = await start(input);
      if (names.length === 1) throw startError('StepFunctions.SdkClientException', 'socket hang up');
      return out;
    };
    const runs = await runWorkflowChain({ input: longJob(), handlers: { ...handlers(), HandOver }, executionName: 'long-job', executions, ...fast });

    const jobName = jobNameOf(runs.at(-1)!.output);
    const entry = (await ledger().read(jobName))!;
    const gen1 = handoverExecutionName(first, 1, entry.nonce);
    expect(names).toEqual([gen1, gen1]);
    expect(retries(runs[0]!, 'HandOver')).toBe(1);
    expect([...executions.keys()]).toEqual([gen1]); // one execution started, answered twice
    expect(runs.map((r) => r.name)).toEqual(['long-job', gen1]);
    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(runs[0]!.states.slice(-3)).toEqual(['JobStatus', 'HandOver', 'HandedOver']);
    expect((runs[0]!.output as any).handedOverTo).toMatchObject({ ExecutionArn: localExecutionArn(gen1) });
    expect(runs[1]!.states.slice(0, 3)).toEqual(['IsHandover', 'ResumeJob', 'PollStatus']);
    expect(runs[1]!.states.at(-1)).toBe('JobSucceeded');
    expect(entry).toMatchObject({ supervisor: localExecutionArn(gen1), claimed: true, generation: 1 });
    expect(runs.flatMap((r) => r.states).filter((s) => s === 'CleanupEnis')).toHaveLength(1);
    expect(mocks.bedrock).not.toHaveReceivedCommand(StopModelCustomizationJobCommand);
  });

  it('the name taken by a foreign execution: takes the job back, hands over under the next generation, never abandons it', async () => {
    mockHealthyAccount([...Array(POLLS_TO_HANDOVER + 1).fill('InProgress'), 'Completed']);
    const executions: ExecutionRegistry = new Map();
    const start = startExecutionIntegration(executions);
    const someoneElse = localExecutionArn('someone-else');
    const foreign = { handover: { previousExecutionId: someoneElse, submission: { jobArn: 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/other' } } };
    const names: string[] = [];
    const ledgerAtStart: unknown[] = [];
    let jobName = '';
    // Another execution takes the successor's name just before the first start.
    const HandOver: TaskHandler = async (input) => {
      const { Name, Input } = input as { Name: string; Input: { handover: { submission: { jobName: string } } } };
      names.push(Name);
      jobName = Input.handover.submission.jobName;
      ledgerAtStart.push(await ledger().read(jobName));
      if (names.length === 1) {
        executions.set(Name, { name: Name, arn: localExecutionArn(Name), status: 'RUNNING', startDate: new Date().toISOString(), startedBy: someoneElse, input: foreign });
      }
      return start(input);
    };
    const runs = await runWorkflowChain({ input: longJob(), handlers: { ...handlers(), HandOver }, executionName: 'long-job', executions, ...fast });

    const entry = (await ledger().read(jobName))!;
    const gen1 = handoverExecutionName(first, 1, entry.nonce);
    const gen2 = handoverExecutionName(first, 2, entry.nonce);
    expect(names).toEqual([gen1, gen2]);
    const states = runs[0]!.states;
    const refused = states.indexOf('HandOverRefused');
    expect(refused).toBeGreaterThan(0);
    expect(states.slice(refused - 1)).toEqual(['HandOver', 'HandOverRefused', 'WaitForJob', 'PollStatus', 'JobStatus', 'HandOver', 'HandedOver']);
    expect((runs[0]!.output as any).handoverRefused).toMatchObject({ generation: 1, executionName: gen1 });
    expect((runs[0]!.output as any).handoverRefused.reason).toContain(localExecutionArn(gen1));
    // Designated to gen1, then taken back by the predecessor (one conditional write) and designated to gen2.
    expect(ledgerAtStart[0]).toMatchObject({ supervisor: localExecutionArn(gen1), claimed: false, handoverFrom: first.id, generation: 1 });
    const takeBacks = mocks.dynamodb
      .commandCalls(UpdateItemCommand)
      .map((c) => c.args[0].input)
      .filter((i) => i.UpdateExpression?.startsWith('SET supervisorExecution = :self') && i.ExpressionAttributeValues?.[':successor']?.S === localExecutionArn(gen1));
    expect(takeBacks).toHaveLength(1);
    expect(takeBacks[0]!.ExpressionAttributeValues![':self']!.S).toBe(first.id);
    expect(ledgerAtStart[1]).toMatchObject({ supervisor: localExecutionArn(gen2), claimed: false, handoverFrom: first.id, generation: 2 });
    // The successor under the next generation's name claims the job and carries it on to its end.
    expect(runs.map((r) => r.name)).toEqual(['long-job', gen2]);
    expect(runs.every((r) => r.status === 'SUCCEEDED')).toBe(true);
    expect(runs.at(-1)!.states.at(-1)).toBe('JobSucceeded');
    expect(entry).toMatchObject({ supervisor: localExecutionArn(gen2), claimed: true, generation: 2 });
    expect(runs.flatMap((r) => r.states).filter((s) => s === 'CleanupEnis')).toHaveLength(1);
    expect(mocks.bedrock).not.toHaveReceivedCommand(StopModelCustomizationJobCommand);
    expect(executions.get(gen1)).toMatchObject({ startedBy: someoneElse, status: 'RUNNING', input: foreign }); // untouched
  });
});

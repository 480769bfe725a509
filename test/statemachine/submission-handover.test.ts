/**
 * Submissions that fail ambiguously (5xx, timeouts, Lambda errors after Bedrock created the job) and
 * hand-overs whose successor name is already taken (real handlers, mocked clients, zero waits): a job
 * that was created is always followed, and a hand-over ends an execution only when the successor is
 * verified to carry the job on.
 */
import {
  CreateModelCustomizationJobCommand,
  GetModelCustomizationJobCommand,
  InternalServerException,
  ResourceInUseException,
  ResourceNotFoundException,
  ValidationException,
} from '@aws-sdk/client-bedrock';
import { describe, expect, it } from 'vitest';
import { handoverExecutionName } from '../../functions/poll-status/poll-status.js';
import {
  loadDefinition,
  localExecutionArn,
  runWorkflow,
  runWorkflowChain,
  startExecutionIntegration,
  type ExecutionRegistry,
  type TaskHandler,
} from '../../scripts/lib/workflow.js';
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

describe('hand-over to a name that is already taken', () => {
  const longJob = () => rawJob({ polling: { initialSeconds: 10, maxSeconds: 10, growthFactor: 1, handoverAfterEvents: 105 } });
  const first = { id: localExecutionArn('long-job'), name: 'long-job' };

  it('a retried HandOver whose first attempt went through: verified with DescribeExecution, then HandedOver', async () => {
    mockHealthyAccount(['InProgress', 'InProgress', 'InProgress', 'InProgress', 'InProgress', 'Completed']);
    const executions: ExecutionRegistry = new Map();
    const start = startExecutionIntegration(executions);
    const gen1 = handoverExecutionName(first, 1);
    let gen1Calls = 0;
    // The first start goes through but its answer is lost; the retry finds the name taken.
    const HandOver: TaskHandler = async (input) => {
      if ((input as { Name: string }).Name !== gen1) return start(input);
      if (++gen1Calls === 1) {
        await start(input);
        const e = new Error('socket hang up');
        e.name = 'StepFunctions.SdkClientException';
        throw e;
      }
      const e = new Error(`Execution Already Exists: '${localExecutionArn(gen1)}'`);
      e.name = 'StepFunctions.ExecutionAlreadyExistsException';
      throw e;
    };
    const runs = await runWorkflowChain({ input: longJob(), handlers: { ...handlers(), HandOver }, executionName: 'long-job', executions, ...fast });

    expect(runs.map((r) => r.name)).toEqual(['long-job', gen1, handoverExecutionName(first, 2)]);
    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(runs[0]!.states.slice(-6)).toEqual(['HandOver', 'VerifyHandOver', 'HandOverInputKnown', 'ReadHandOverInput', 'IsOurHandOver', 'HandedOver']);
    expect((runs[0]!.output as any).handoverCheck).toMatchObject({ executionArn: localExecutionArn(gen1) });
    expect(runs[2]!.states.at(-1)).toBe('JobSucceeded');
    expect(runs.flatMap((r) => r.states).filter((s) => s === 'CleanupEnis')).toHaveLength(1);
  });

  it('the name taken by a foreign execution: keeps following the job, hands over under the next name, never abandons it', async () => {
    mockHealthyAccount(['InProgress', 'InProgress', 'InProgress', 'InProgress', 'InProgress', 'InProgress', 'Completed']);
    const gen1 = handoverExecutionName(first, 1);
    const foreignArn = localExecutionArn(gen1);
    const executions: ExecutionRegistry = new Map([
      [
        gen1,
        {
          name: gen1,
          arn: foreignArn,
          status: 'RUNNING' as const,
          startDate: new Date().toISOString(),
          startedBy: localExecutionArn('someone-else'),
          input: { handover: { previousExecutionId: localExecutionArn('someone-else'), submission: { jobArn: 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/other' } } },
        },
      ],
    ]);
    const runs = await runWorkflowChain({ input: longJob(), handlers: handlers(), executionName: 'long-job', executions, ...fast });

    const states = runs[0]!.states;
    const refused = states.indexOf('HandOverRefused');
    expect(refused).toBeGreaterThan(0);
    expect(states.slice(refused - 5, refused + 3)).toEqual([
      'HandOver', 'VerifyHandOver', 'HandOverInputKnown', 'ReadHandOverInput', 'IsOurHandOver', 'HandOverRefused', 'WaitForJob', 'PollStatus',
    ]);
    expect(states.at(-1)).toBe('HandedOver');
    expect((runs[0]!.output as any).handoverRefused).toMatchObject({ generation: 1, executionName: gen1 });
    expect((runs[0]!.output as any).handoverRefused.reason).toContain(foreignArn);
    // the successor skipped the taken name and carries the job on to its end
    expect(runs[1]!.name).toBe(handoverExecutionName(first, 2));
    expect(runs.every((r) => r.status === 'SUCCEEDED')).toBe(true);
    expect(runs.at(-1)!.states.at(-1)).toBe('JobSucceeded');
    expect(runs.map((r) => r.name)).not.toContain(undefined);
    expect(runs.flatMap((r) => r.states).filter((s) => s === 'CleanupEnis')).toHaveLength(1);
    expect(executions.get(gen1)!.startedBy).toBe(localExecutionArn('someone-else')); // untouched
  });
});

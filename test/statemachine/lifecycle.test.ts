/**
 * Job-lifecycle paths of the ASL file (real handlers, mocked clients): quota waits, ENIs still
 * attached after the job, and the hand-over of a long job to fresh executions (continue-as-new).
 */
import {
  CreateModelCustomizationJobCommand,
  ServiceQuotaExceededException,
} from '@aws-sdk/client-bedrock';
import { DeleteNetworkInterfaceCommand, DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { handoverExecutionName } from '../../functions/poll-status/poll-status.js';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG } from '../../functions/shared/bedrock-enis.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoLedger } from '../../functions/shared/ledger.js';
import { MIN_HANDOVER_AFTER_EVENTS } from '../../functions/shared/job-state.js';
import { EVENTS_BEFORE_FIRST_POLL, EVENTS_PER_POLL, EVENTS_RESERVED_FOR_END } from '../../functions/poll-status/poll-status.js';
import { loadLambdaHandlers, runWorkflowChain, runWorkflow, type TaskHandler } from '../../local/workflow.js';
import { historyEvents } from '../../scripts/bench/polling.js';
import { loadDefinition } from '../../local/workflow.js';
import { rawJob } from '../fixtures/job.js';
import { ACCOUNT, mockHealthyAccount, mocks, resetMocks } from '../support/mock-account.js';

let lambdas: Record<string, TaskHandler>;
beforeAll(async () => {
  lambdas = await loadLambdaHandlers();
});
afterEach(() => {
  resetMocks();
  vi.useRealTimers();
});
const handlers = () => ({ ...lambdas });
const fast = { waitMs: 0, retryMs: 0 };

describe('job lifecycle in the state machine', () => {
  it('hands a long job over to fresh executions and cleans up exactly once, at the end of the chain', async () => {
    // Each execution hands over after PER status checks at the lowest threshold a job may ask for.
    const PER = Math.ceil((MIN_HANDOVER_AFTER_EVENTS - EVENTS_RESERVED_FOR_END - EVENTS_BEFORE_FIRST_POLL) / EVENTS_PER_POLL);
    mockHealthyAccount([...Array<string>(2 * PER + 1).fill('InProgress'), 'Completed']);
    const runs = await runWorkflowChain({
      input: rawJob({ polling: { initialSeconds: 10, maxSeconds: 10, growthFactor: 1, handoverAfterEvents: MIN_HANDOVER_AFTER_EVENTS } }),
      handlers: handlers(),
      executionName: 'long-job',
      ...fast,
    });

    const first = { id: (runs[0]!.output as any).execution.id, name: 'long-job' };
    const nonce = (await dynamoLedger(process.env.JOB_LEDGER_TABLE!, { dynamodb: new DynamoDBClient({}), now: () => new Date() }).read((runs[0]!.output as any).job.jobName))!.nonce;
    expect(runs.map((r) => r.name)).toEqual(['long-job', handoverExecutionName(first, 1, nonce), handoverExecutionName(first, 2, nonce)]);
    expect(runs[1]!.name).toMatch(/^long-job-[0-9a-f]{12}-h1$/);
    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(runs[0]!.states.at(-1)).toBe('HandedOver');
    expect(runs[1]!.states.slice(0, 3)).toEqual(['IsHandover', 'ResumeJob', 'PollStatus']);
    expect(runs[2]!.states.at(-1)).toBe('JobSucceeded');
    const cleanups = runs.flatMap((r) => r.states).filter((s) => s === 'CleanupEnis');
    expect(cleanups).toHaveLength(1);
    expect(mocks.bedrock).toHaveReceivedCommandTimes(CreateModelCustomizationJobCommand, 1);

    const last = runs[2]!.output as any;
    expect(last.submission.jobArn).toBe(ACCOUNT.jobArn);
    expect(last.poll).toMatchObject({ status: 'Completed', pollCount: 2 * PER + 2, pollsThisExecution: 2 });
    expect(last.handover.generation).toBe(2);
    expect(last.job.jobName).toBe((runs[0]!.output as any).job.jobName);
    // the deadline travels intact
    expect(last.submission.deadline).toBe((runs[0]!.output as any).submission.deadline);
  });

  /**
   * Simulated time: Date is faked, and each PlanQuotaWait result moves the clock by the wait it
   * planned (the QuotaWait state itself takes 0 ms here). Returns the handlers and the clock's start.
   */
  function quotaClock() {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    const plan = lambdas.PlanQuotaWait!;
    const waits: number[] = [];
    const PlanQuotaWait: TaskHandler = async (input) => {
      const planned = (await plan(input)) as { seconds: number };
      waits.push(planned.seconds);
      vi.setSystemTime(Date.now() + planned.seconds * 1000);
      return planned as never;
    };
    return { handlers: { ...handlers(), PlanQuotaWait }, waits, start: Date.now() };
  }
  const quotaReached = () => new ServiceQuotaExceededException({ message: 'Too many jobs', $metadata: {} });

  it('waits out the concurrent-job quota in the QuotaWait loop, then submits once with the same token and polls', async () => {
    mockHealthyAccount(['Completed']);
    mocks.bedrock
      .on(CreateModelCustomizationJobCommand)
      .rejectsOnce(quotaReached())
      .rejectsOnce(quotaReached())
      .rejectsOnce(quotaReached())
      .resolves({ jobArn: ACCOUNT.jobArn });
    const clock = quotaClock();

    const run = await runWorkflow({ input: rawJob(), handlers: clock.handlers, ...fast });

    expect(run.status).toBe('SUCCEEDED');
    const loop = run.states.slice(run.states.indexOf('SubmitJob'), run.states.indexOf('PollStatus') + 1);
    expect(loop).toEqual([...Array(3).fill(['SubmitJob', 'PlanQuotaWait', 'QuotaWait']).flat(), 'SubmitJob', 'PollStatus']);
    expect(clock.waits).toEqual([60, 120, 240]);
    const tokens = mocks.bedrock.commandCalls(CreateModelCustomizationJobCommand).map((c) => c.args[0].input.clientRequestToken);
    expect(tokens).toHaveLength(4);
    expect(new Set(tokens)).toEqual(new Set([(run.output as any).job.clientRequestToken]));
    expect((run.output as any).quotaWait).toMatchObject({ attempts: 3, seconds: 240, error: { Error: 'JobQuotaExceededError' } });
    expect((run.output as any).submission.jobArn).toBe(ACCOUNT.jobArn);
  });

  it('waits the whole 7 days a never-clearing quota allows, then fails with JobSubmissionError within the history budget', async () => {
    mockHealthyAccount(['Completed']);
    mocks.bedrock.on(CreateModelCustomizationJobCommand).rejects(quotaReached());
    const clock = quotaClock();
    const maxQuotaWaitSeconds = 7 * 24 * 3600;

    const run = await runWorkflow({ input: rawJob({ maxQuotaWaitSeconds }), handlers: clock.handlers, ...fast });

    expect(run).toMatchObject({ status: 'FAILED', error: 'JobSubmissionError' });
    expect(run.states.at(-1)).toBe('SubmitFailed');
    expect(run.states).not.toContain('CleanupEnis');
    const waited = (Date.now() - clock.start) / 1000;
    expect(waited).toBe(maxQuotaWaitSeconds); // the whole wait, never past it
    // 60 + 120 + 240 + 480 s, then 671 waits of 900 s: 675 iterations, 676 submissions
    expect(clock.waits).toHaveLength(675);
    expect(Math.max(...clock.waits)).toBe(900);
    expect(mocks.bedrock).toHaveReceivedCommandTimes(CreateModelCustomizationJobCommand, 676);
    const stateTypes = Object.fromEntries(Object.entries(loadDefinition().States).map(([n, st]) => [n, String(st.Type)]));
    const events = historyEvents(run, stateTypes);
    expect(events).toBeLessThan(8_200); // 675 x 12 + the rest; Step Functions fails an execution at 25,000
  }, 120_000);

  it('gives up on the quota at once when maxQuotaWaitSeconds is 0; nothing to clean up', async () => {
    mockHealthyAccount(['Completed']);
    mocks.bedrock.on(CreateModelCustomizationJobCommand).rejects(quotaReached());
    const run = await runWorkflow({ input: rawJob({ maxQuotaWaitSeconds: 0 }), handlers: handlers(), ...fast });
    expect(run).toMatchObject({ status: 'FAILED', error: 'JobSubmissionError' });
    expect(run.states.filter((s) => s === 'SubmitJob')).toHaveLength(1);
    expect(run.states.at(-1)).toBe('SubmitFailed');
    expect(run.states).not.toContain('CleanupEnis');
  });

  it('retries cleanup while an ENI is still attached, then deletes it; CleanupEnis is entered once', async () => {
    // Seen (and recorded in the job ledger) while the job runs, then cleaned up once it has completed.
    mockHealthyAccount(['InProgress', 'Completed']);
    const eni = (status: 'in-use' | 'available') => ({
      NetworkInterfaceId: 'eni-0000000000000000a',
      Status: status,
      VpcId: ACCOUNT.vpcId,
      SubnetId: ACCOUNT.subnetIds[0],
      Groups: [{ GroupId: ACCOUNT.securityGroupId }],
      TagSet: [
        { Key: BEDROCK_MANAGED_TAG, Value: 'true' },
        { Key: BEDROCK_JOB_ARN_TAG, Value: ACCOUNT.jobArn },
      ],
    });
    mocks.ec2
      .on(DescribeNetworkInterfacesCommand)
      .resolvesOnce({ NetworkInterfaces: [eni('in-use')] })
      .resolvesOnce({ NetworkInterfaces: [eni('in-use')] })
      .resolves({ NetworkInterfaces: [eni('available')] });
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states.filter((s) => s === 'CleanupEnis')).toHaveLength(1);
    expect(run.events.filter((e) => e.type === 'StateRetried')).toHaveLength(1);
    expect((run.output as any).cleanup.deleted).toEqual(['eni-0000000000000000a']);
    expect(mocks.ec2).toHaveReceivedCommandTimes(DeleteNetworkInterfaceCommand, 1);
  });

  it('reports ENIs that stay attached, without failing the job outcome or forcing them', async () => {
    mockHealthyAccount(['InProgress', 'Completed']);
    mocks.ec2.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [
        {
          NetworkInterfaceId: 'eni-0000000000000000a',
          Status: 'in-use',
          VpcId: ACCOUNT.vpcId,
          SubnetId: ACCOUNT.subnetIds[0],
          Groups: [{ GroupId: ACCOUNT.securityGroupId }],
          TagSet: [
            { Key: BEDROCK_MANAGED_TAG, Value: 'true' },
            { Key: BEDROCK_JOB_ARN_TAG, Value: ACCOUNT.jobArn },
          ],
        },
      ],
    });
    const run = await runWorkflow({ input: rawJob(), handlers: handlers(), ...fast });
    expect(run.status).toBe('SUCCEEDED');
    const output = run.output as any;
    expect(output.cleanupError.Error).toBe('EnisStillInUseError');
    expect(output.cleanupError.Cause).toContain('eni-0000000000000000a (in-use)');
    expect(mocks.ec2).not.toHaveReceivedCommand(DeleteNetworkInterfaceCommand);
  });
});

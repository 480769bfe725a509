/**
 * The evaluation gate of the ASL file (statemachines/customize-model.asl.yml, GateOrRevoke … EvaluationCleanup):
 * its routes, loops, retries and ends, run by aws-local-stepfunctions with the real handlers of every other
 * Task (mocked clients). The gate's Tasks are bound to a stand-in for evaluate-model that answers as its
 * contract says (test/support/fake-evaluate-model.ts: every answer parsed with evaluationStateSchema); what
 * evaluate-model itself does with Bedrock, S3 and the ledger is tested in its own tiers.
 * The job asks for the gate through its resolved input: ValidateNetwork's output gets `job.evaluation`.
 */
import {
  CreateCustomModelDeploymentCommand,
  CreateEvaluationJobCommand,
  CreateProvisionedModelThroughputCommand,
  GetCustomModelCommand,
  GetModelCustomizationJobCommand,
} from '@aws-sdk/client-bedrock';
import { describe, expect, it } from 'vitest';
import { localExecutionArn, loadDefinition, runWorkflow, type TaskHandler } from '../../local/workflow.js';
import { historyOf } from '../../local/local-history.js';
import { EVENTS_PER_POLL } from '../../functions/poll-status/poll-status.js';
import { rawJob } from '../fixtures/job.js';
import { useStage } from '../fixtures/stage.js';
import { askingForTheGate, fakeEvaluateModel, GATE_STAGE_PARAMS, GATE_TASKS, serveHeldOut, type FakeGateOptions, type GateTask } from '../support/fake-evaluate-model.js';
import { ACCOUNT, mockHealthyAccount, mocks } from '../support/mock-account.js';
import { count, fast, handlers, lambdas, retries, useRealHandlers } from '../support/state-machine.js';

useRealHandlers();
useStage(GATE_STAGE_PARAMS);

const GATE_STATES = [
  'GateOrRevoke', 'PlanEvaluation', 'DeployModel', 'DeploymentState', 'WaitForDeployment', 'DeploymentStatus', 'GenerateResponses',
  'GenerationState', 'RecordGenerationCursor', 'GenerationStalled', 'StartEvaluations', 'EvaluationsState', 'WaitForEvaluations',
  'EvaluationStatus', 'Verdict', 'EvaluationUnexpected', 'EvaluationCleanup',
];
const TASKS = Object.keys(GATE_TASKS) as GateTask[];

async function runGate(options: FakeGateOptions & { statuses?: string[]; withEvaluation?: boolean; replace?: Partial<Record<GateTask, TaskHandler>> } = {}) {
  mockHealthyAccount(options.statuses ?? ['InProgress', 'Completed']);
  serveHeldOut();
  const gate = fakeEvaluateModel(options);
  const run = await runWorkflow({
    input: rawJob(),
    handlers: { ...handlers(), ...(options.withEvaluation === false ? {} : { ValidateNetwork: askingForTheGate(lambdas.ValidateNetwork!) }), ...gate.handlers, ...options.replace },
    ...fast,
  });
  return { run, calls: gate.calls, gateStates: run.states.filter((s) => GATE_STATES.includes(s)) };
}

/** RevokeGrants ran once, after every state of the gate, and Outcome after it. */
function revokedAfterTheGate(states: string[]) {
  const revoke = states.indexOf('RevokeGrants');
  const lastGate = Math.max(...GATE_STATES.map((s) => states.lastIndexOf(s)));
  return count(states, 'RevokeGrants') === 1 && revoke > lastGate && states[revoke + 1] === 'Outcome';
}

describe('evaluation gate', () => {
  it('binds every gate Task to evaluate-model, with the action its contract names and ResultPath $.evaluation', () => {
    const { States } = loadDefinition();
    for (const [state, action] of Object.entries(GATE_TASKS)) {
      const s = States[state]!;
      expect(s.Resource, state).toEqual({ 'Fn::GetAtt': ['evaluate-model', 'Arn'] });
      const params = s.Parameters as Record<string, unknown>;
      expect(params, state).toMatchObject({ action, 'job.$': '$.job', 'execution.$': '$.execution', 'submission.$': '$.submission', 'self.$': '$$.Execution.Id' });
      // PlanEvaluation has no gate state to read yet; every other Task gets it.
      expect(params['evaluation.$'], state).toBe(action === 'plan' ? undefined : '$.evaluation');
      expect(s.ResultPath, state).toBe(action === 'cleanup' ? '$.evaluationCleanup' : '$.evaluation');
      expect(typeof s.Comment, state).toBe('string');
    }
    expect(Object.keys(lambdas)).toEqual(expect.arrayContaining(TASKS));
  });

  it('promote: deploys, waits for Active, generates in chunks, judges, decides; RevokeGrants after the gate; SUCCEEDED', async () => {
    // Act
    const { run, calls, gateStates } = await runGate({ verdict: 'promote', creatingChecks: 1, prompts: 10, chunk: 4, runningChecks: 2 });

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states.at(-1)).toBe('JobSucceeded');
    expect(gateStates).toEqual([
      'GateOrRevoke', 'PlanEvaluation', 'DeployModel', 'DeploymentState', 'WaitForDeployment', 'DeploymentStatus', 'DeploymentState',
      'WaitForDeployment', 'DeploymentStatus', 'DeploymentState',
      'GenerateResponses', 'GenerationState', 'RecordGenerationCursor', 'GenerateResponses', 'GenerationState', 'RecordGenerationCursor',
      'GenerateResponses', 'GenerationState',
      'StartEvaluations', 'EvaluationsState', 'WaitForEvaluations', 'EvaluationStatus', 'EvaluationsState', 'WaitForEvaluations',
      'EvaluationStatus', 'EvaluationsState', 'WaitForEvaluations', 'EvaluationStatus', 'EvaluationsState', 'Verdict',
    ]);
    expect(run.states.indexOf('GateOrRevoke')).toBe(run.states.indexOf('CleanupEnis') + 1);
    expect(revokedAfterTheGate(run.states)).toBe(true);
    const output = run.output as Record<string, any>;
    expect(output.evaluation).toMatchObject({ verdict: 'promote', next: 'done', generation: { done: { custom: 10, base: 10 }, total: 10 } });
    expect(output.evaluation.message).toMatch(/^promoted: /);
    expect(output.evaluationError).toBeUndefined();
    // Each gate Task got the state the one before it returned.
    const verdict = calls.find((c) => c.state === 'Verdict')!;
    expect(verdict.input.evaluation).toMatchObject({ next: 'verdict', jobs: { custom: { status: 'Completed' }, base: { status: 'Completed' } } });
    expect(calls.map((c) => c.state)).not.toContain('EvaluationCleanup');
  });

  it('reject: Verdict deletes the deployment; RevokeGrants after the gate; FAILED with ModelRejectedError naming the loss', async () => {
    // Act
    const { run, calls } = await runGate({ verdict: 'reject' });

    // Assess
    expect(run).toMatchObject({ status: 'FAILED', error: 'ModelRejectedError' });
    expect(run.cause).toBe('rejected: Builtin.Correctness 0.62 vs base 0.71 (-0.09, needs ≥ +0.00)');
    expect(run.states.slice(-4)).toEqual(['Verdict', 'RevokeGrants', 'Outcome', 'ModelRejected']);
    expect(revokedAfterTheGate(run.states)).toBe(true);
    // No cleanup: the verdict itself deleted the deployment.
    expect(calls.map((c) => c.state)).not.toContain('EvaluationCleanup');
  });

  it.each(TASKS.filter((t) => !['PlanEvaluation', 'EvaluationCleanup'].includes(t)))(
    '%s fails for good: EvaluationCleanup, then RevokeGrants, then EvaluationFailed with its error',
    async (task) => {
      // Act
      const { run, calls } = await runGate({ failAt: { [task]: 'DeploymentFailedError' } });

      // Assess
      expect(run).toMatchObject({ status: 'FAILED', error: 'DeploymentFailedError' });
      expect(run.cause).toContain(`${task} failed (injected)`);
      expect(run.states.slice(-5)).toEqual([task, 'EvaluationCleanup', 'RevokeGrants', 'Outcome', 'EvaluationFailed']);
      // The cleanup gets the gate's state as the last successful Task left it.
      const cleanup = calls.find((c) => c.state === 'EvaluationCleanup')!;
      expect(cleanup.input.evaluation).toBeDefined();
      expect(revokedAfterTheGate(run.states)).toBe(true);
    },
  );

  it('PlanEvaluation refuses (nothing created yet): straight to RevokeGrants, no cleanup, EvaluationFailed', async () => {
    // Act
    const { run, calls } = await runGate({ failAt: { PlanEvaluation: 'EvaluationUnsupportedError' } });

    // Assess
    expect(run).toMatchObject({ status: 'FAILED', error: 'EvaluationUnsupportedError' });
    expect(run.states.slice(-4)).toEqual(['PlanEvaluation', 'RevokeGrants', 'Outcome', 'EvaluationFailed']);
    expect(calls.map((c) => c.state)).toEqual(['PlanEvaluation']);
  });

  it('a failed EvaluationCleanup is reported in $.evaluationCleanupError; RevokeGrants still runs; the gate error stands', async () => {
    // Act
    const { run } = await runGate({ failAt: { EvaluationStatus: 'EvaluationJobFailedError', EvaluationCleanup: 'AccessDeniedException' } });

    // Assess
    expect(run).toMatchObject({ status: 'FAILED', error: 'EvaluationJobFailedError' });
    expect(run.states.slice(-5)).toEqual(['EvaluationStatus', 'EvaluationCleanup', 'RevokeGrants', 'Outcome', 'EvaluationFailed']);
  });

  it('a job without `evaluation` never enters the gate: CleanupEnis → GateOrRevoke → RevokeGrants → JobSucceeded', async () => {
    // Act
    const { run, calls, gateStates } = await runGate({ withEvaluation: false });

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(gateStates).toEqual(['GateOrRevoke']);
    expect(run.states.slice(-5)).toEqual(['CleanupEnis', 'GateOrRevoke', 'RevokeGrants', 'Outcome', 'JobSucceeded']);
    expect(calls).toEqual([]);
    expect((run.output as Record<string, unknown>).evaluation).toBeUndefined();
  });

  it.each([
    ['Failed', 'JobFailedError'],
    ['Stopped', 'JobStoppedError'],
  ])('a job that ended %s is not evaluated, even when it asked for the gate (%s)', async (status, error) => {
    // Act
    const { run, calls, gateStates } = await runGate({ statuses: ['InProgress', status] });

    // Assess
    expect(run).toMatchObject({ status: 'FAILED', error });
    expect(gateStates).toEqual(['GateOrRevoke']);
    expect(calls).toEqual([]);
  });

  it.each([
    ['DeployModel', 'DeploymentQuotaExceededError'],
    ['StartEvaluations', 'EvaluationQuotaExceededError'],
  ] as const)('%s: %s is retried (a wait for the quota), then the gate goes on', async (task, quotaError) => {
    // Prepare: the quota is reached for the first two attempts
    const gate = fakeEvaluateModel();
    let attempts = 0;
    const quota: TaskHandler = async (input) => {
      if (++attempts <= 2) {
        const e = new Error(JSON.stringify({ errorType: quotaError, errorMessage: 'quota reached' }));
        e.name = quotaError;
        throw e;
      }
      return gate.handlers[task](input);
    };

    // Act
    const { run } = await runGate({ replace: { ...gate.handlers, [task]: quota } });

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(retries(run, task)).toBe(2);
    expect(count(run.states, 'EvaluationCleanup')).toBe(0);
    // The quota retrier: 60 s doubling to 15 min over 12 attempts, FULL jitter (as the contract sets it).
    const retrier = (loadDefinition().States[task]!.Retry as { ErrorEquals: string[] }[]).find((r) => r.ErrorEquals.includes(quotaError));
    expect(retrier).toEqual({ ErrorEquals: [quotaError], IntervalSeconds: 60, BackoffRate: 2, MaxDelaySeconds: 900, MaxAttempts: 12, JitterStrategy: 'FULL' });
  });

  it.each(TASKS)('%s retries EvaluationUncertainError (and a timed-out Lambda) like SubmitJob, after Lambda service errors', (task) => {
    const { States } = loadDefinition();
    const retry = States[task]!.Retry as Record<string, unknown>[];
    expect(retry[0]).toEqual(States.ValidateNetwork!.Retry && (States.ValidateNetwork!.Retry as unknown[])[0]);
    const uncertain = retry.find((r) => (r.ErrorEquals as string[]).includes('EvaluationUncertainError'));
    const submit = (States.SubmitJob!.Retry as Record<string, unknown>[]).find((r) => (r.ErrorEquals as string[]).includes('JobSubmissionUncertainError'))!;
    const { ErrorEquals: submitErrors, ...submitTiming } = submit;
    expect(uncertain).toEqual({ ErrorEquals: (submitErrors as string[]).map((e) => (e === 'JobSubmissionUncertainError' ? 'EvaluationUncertainError' : e)), ...submitTiming });
  });

  it('an EvaluationUncertainError once is retried and the gate goes on', async () => {
    const gate = fakeEvaluateModel();
    let calls = 0;
    const flaky: TaskHandler = async (input) => {
      if (calls++ === 0) {
        const e = new Error(JSON.stringify({ errorType: 'EvaluationUncertainError', errorMessage: 'GetEvaluationJob: 503' }));
        e.name = 'EvaluationUncertainError';
        throw e;
      }
      return gate.handlers.EvaluationStatus(input);
    };
    const { run } = await runGate({ replace: { ...gate.handlers, EvaluationStatus: flaky } });
    expect(run.status).toBe('SUCCEEDED');
    expect(retries(run, 'EvaluationStatus')).toBe(1);
  });

  it('a chunk of GenerateResponses that makes no progress stops the loop: GenerationStalled, cleanup, EvaluationFailed', async () => {
    // Prepare: the second chunk answers next=generate with the same counts as the first
    const gate = fakeEvaluateModel({ prompts: 10, chunk: 4 });
    let chunks = 0;
    const stuck: TaskHandler = async (input) => {
      chunks++;
      const out = (await gate.handlers.GenerateResponses(input)) as Record<string, any>;
      return chunks === 1 ? out : ({ ...out, next: 'generate', generation: (input as any).evaluation.generation } as never);
    };

    // Act
    const { run } = await runGate({ replace: { ...gate.handlers, GenerateResponses: stuck } });

    // Assess
    expect(chunks).toBe(2);
    expect(run).toMatchObject({ status: 'FAILED', error: 'UnexpectedOutcomeError' });
    expect(run.cause).toContain('GenerateResponses made no progress (4 of 10');
    expect(run.states.slice(-6)).toEqual(['GenerationState', 'GenerationStalled', 'EvaluationCleanup', 'RevokeGrants', 'Outcome', 'EvaluationFailed']);
  });

  it('a next step that does not belong where it was: EvaluationUnexpected, cleanup, EvaluationFailed', async () => {
    const gate = fakeEvaluateModel();
    const wrong: TaskHandler = async (input) => ({ ...((await gate.handlers.DeployModel(input)) as object), next: 'verdict' }) as never;
    const { run } = await runGate({ replace: { ...gate.handlers, DeployModel: wrong } });
    expect(run).toMatchObject({ status: 'FAILED', error: 'UnexpectedOutcomeError' });
    expect(run.cause).toContain('next step verdict');
    expect(run.states.slice(-5)).toEqual(['EvaluationUnexpected', 'EvaluationCleanup', 'RevokeGrants', 'Outcome', 'EvaluationFailed']);
  });

  it('every loop of the gate passes a Wait on $.evaluation.nextWaitSeconds, or (generation) a progress check', () => {
    const { States } = loadDefinition();
    // The gate's graph without its Waits and the progress check: no cycle may remain.
    const cut = new Set(['WaitForDeployment', 'WaitForEvaluations', 'RecordGenerationCursor']);
    const next = (name: string): string[] => {
      const s = States[name]!;
      return [s.Next, s.Default, ...((s.Choices as { Next: string }[] | undefined) ?? []).map((c) => c.Next), ...((s.Catch as { Next: string }[] | undefined) ?? []).map((c) => c.Next)].filter(
        (n): n is string => typeof n === 'string' && GATE_STATES.includes(n) && !cut.has(n),
      );
    };
    const visiting = new Set<string>();
    const done = new Set<string>();
    const cycleFrom = (name: string): boolean => {
      if (visiting.has(name)) return true;
      if (done.has(name)) return false;
      visiting.add(name);
      const found = next(name).some(cycleFrom);
      visiting.delete(name);
      done.add(name);
      return found;
    };
    expect(GATE_STATES.filter((s) => !cut.has(s)).filter(cycleFrom)).toEqual([]);
    for (const wait of ['WaitForDeployment', 'WaitForEvaluations']) expect(States[wait]).toMatchObject({ Type: 'Wait', SecondsPath: '$.evaluation.nextWaitSeconds' });
  });

  it('history: a status check of the evaluation costs 9 events, so a 6-hour evaluation polled every 60 s stays far below 25,000 with the job', async () => {
    // Prepare: Step Functions' events of a run; local-history does not reproduce LambdaFunctionScheduled and
    // LambdaFunctionStarted (2 per Task entered), so they are added here.
    const { States } = loadDefinition();
    const events = async (runningChecks: number) => {
      const { run } = await runGate({ runningChecks });
      const tasks = run.states.filter((s) => States[s]!.Type === 'Task').length;
      return historyOf(run, { arn: localExecutionArn('gate'), name: 'gate' }).length + 2 * tasks;
    };

    // Act: the same run with 2 and with 12 status checks of the evaluation jobs
    const [few, many] = [await events(2), await events(12)];

    // Assess: Wait 2 + Task 5 + Choice 2, as a status check of the job (poll-status's EVENTS_PER_POLL)
    const perCheck = (many - few) / 10;
    expect(perCheck).toBe(EVENTS_PER_POLL);
    // The execution that followed the job has at most polling.handoverAfterEvents (12,000 at most) of the job's
    // events before the gate; this whole run (its job and gate with 2 checks) plus 360 checks (6 h at 60 s) on top.
    const sixHoursOfChecks = (6 * 3600) / 60;
    expect(12_000 + few + sixHoursOfChecks * perCheck).toBeLessThan(16_000);
  });
});

describe('evaluation gate with the real evaluate-model', () => {
  it('a base model without on-demand deployment (Titan Text Express): PlanEvaluation refuses and says why; nothing deployed, no Provisioned Throughput; RevokeGrants; EvaluationFailed', async () => {
    // Prepare: the job Completed with its custom model, which is Active (GetCustomModel)
    mockHealthyAccount();
    serveHeldOut();
    const modelArn = 'arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-express-v1:0:8k/abcdefghijkl';
    let polls = 0;
    mocks.bedrock
      .on(GetModelCustomizationJobCommand)
      .callsFake(() => ({ jobArn: ACCOUNT.jobArn, ...(polls++ === 0 ? { status: 'InProgress' } : { status: 'Completed', outputModelArn: modelArn }) }));
    mocks.bedrock.on(GetCustomModelCommand).resolves({ modelArn, modelStatus: 'Active', customizationType: 'FINE_TUNING', creationTime: new Date('2026-11-01T00:00:00Z') });

    // Act: every Task is its real handler (evaluate-model's too)
    const run = await runWorkflow({ input: rawJob(), handlers: { ...handlers(), ValidateNetwork: askingForTheGate(lambdas.ValidateNetwork!) }, ...fast });

    // Assess
    expect(run).toMatchObject({ status: 'FAILED', error: 'EvaluationUnsupportedError' });
    expect(run.cause).toContain('amazon.titan-text-express-v1');
    expect(run.states.slice(-5)).toEqual(['GateOrRevoke', 'PlanEvaluation', 'RevokeGrants', 'Outcome', 'EvaluationFailed']);
    expect(mocks.bedrock).not.toHaveReceivedCommand(CreateCustomModelDeploymentCommand);
    expect(mocks.bedrock).not.toHaveReceivedCommand(CreateEvaluationJobCommand);
    expect(mocks.bedrock).not.toHaveReceivedCommand(CreateProvisionedModelThroughputCommand);
  });
});

describe("the gate's deadline and the execution's TimeoutSeconds", () => {
  it('evaluate-model caps its deadline by the TimeoutSeconds of this very ASL, from $$.Execution.StartTime', async () => {
    const { EXECUTION_TIMEOUT_SECONDS, HANDOVER_AFTER_SECONDS } = await import('../../functions/shared/job-state.js');
    const definition = loadDefinition() as unknown as { TimeoutSeconds: number; States: Record<string, { Parameters?: Record<string, unknown> }> };
    expect(definition.TimeoutSeconds).toBe(EXECUTION_TIMEOUT_SECONDS);
    expect(HANDOVER_AFTER_SECONDS).toBeLessThan(EXECUTION_TIMEOUT_SECONDS);
    expect(definition.States.PlanEvaluation!.Parameters).toMatchObject({ 'executionStartTime.$': '$$.Execution.StartTime' });
  });
});

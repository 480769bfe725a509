/**
 * The evaluation gate as `bvc status` (and `--json`), the end of `start --follow` and the notification show
 * it: functions/shared/execution-view.ts (the view), cli/render.ts (stateDetail, renderView) and
 * functions/notify/notify.ts (composeNotification), from histories shaped as GetExecutionHistory returns
 * them (@aws-sdk/client-sfn HistoryEvent, as test/unit/execution-view.test.ts builds them).
 *
 * The gate's states and where they write: statemachines/customize-model.asl.yml (PlanEvaluation … Verdict
 * with ResultPath $.evaluation, a gate Task's Catch → $.evaluationError → EvaluationCleanup →
 * $.evaluationCleanup, Outcome → ModelRejected (Error ModelRejectedError, CausePath $.evaluation.message) or
 * EvaluationFailed (ErrorPath/CausePath $.evaluationError)). `$.evaluation` has the shape of
 * functions/shared/job-state.ts evaluationStateSchema; ARNs the botocore 1.44.18 patterns
 * (CustomModelDeploymentArn `…:custom-model-deployment/[a-z0-9]{12}`, EvaluationJobArn `…:evaluation-job/[a-z0-9]{12}`);
 * a Lambda error's Cause is Lambda's error response `{"errorType","errorMessage","trace"}`.
 */
import type { HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { renderView, stateDetail } from '../../cli/render.js';
import { composeNotification } from '../../functions/notify/notify.js';
import { buildExecutionView } from '../../functions/shared/execution-view.js';
import { ERROR_REMEDIES } from '../../functions/shared/errors.js';
import { evaluationStateSchema } from '../../functions/shared/job-state.js';
import * as z from 'zod/mini';

const ARN = 'arn:aws:states:us-east-1:123456789012:execution:bedrock-vpc-customization-dev-customize-model:run-1';
const JOB_ARN = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.nova-micro-v1:0:128k/abc123def456';
const MODEL_ARN = 'arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-micro-v1:0:128k/model123abc45';
const DEPLOYMENT_ARN = 'arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/a1b2c3d4e5f6';
const CUSTOM_JOB_ARN = 'arn:aws:bedrock:us-east-1:123456789012:evaluation-job/c1c2c3c4c5c6';
const BASE_JOB_ARN = 'arn:aws:bedrock:us-east-1:123456789012:evaluation-job/b1b2b3b4b5b6';
const T0 = Date.parse('2026-12-07T08:00:00Z');

function history() {
  const events: HistoryEvent[] = [];
  const add = (type: HistoryEventType, details: Partial<HistoryEvent> = {}) => {
    const id = events.length + 1;
    events.push({ id, previousEventId: id - 1, timestamp: new Date(T0 + id * 1000), type, ...details });
  };
  const api = {
    events,
    started(input: unknown) {
      add('ExecutionStarted', { executionStartedEventDetails: { input: JSON.stringify(input), inputDetails: { truncated: false } } });
      return api;
    },
    state(type: string, name: string, input: unknown, output: unknown) {
      add(`${type}StateEntered` as HistoryEventType, { stateEnteredEventDetails: { name, input: JSON.stringify(input), inputDetails: { truncated: false } } });
      add(`${type}StateExited` as HistoryEventType, { stateExitedEventDetails: { name, output: JSON.stringify(output), outputDetails: { truncated: false } } });
      return api;
    },
    lambda(name: string, input: unknown, output: unknown) {
      add('TaskStateEntered', { stateEnteredEventDetails: { name, input: JSON.stringify(input), inputDetails: { truncated: false } } });
      add('LambdaFunctionScheduled', { lambdaFunctionScheduledEventDetails: { resource: 'arn:aws:lambda:us-east-1:123456789012:function:evaluate-model' } });
      add('LambdaFunctionStarted');
      add('LambdaFunctionSucceeded', { lambdaFunctionSucceededEventDetails: { output: '{}', outputDetails: { truncated: false } } });
      add('TaskStateExited', { stateExitedEventDetails: { name, output: JSON.stringify(output), outputDetails: { truncated: false } } });
      return api;
    },
    lambdaFailed(name: string, input: unknown, errorType: string, errorMessage: string) {
      add('TaskStateEntered', { stateEnteredEventDetails: { name, input: JSON.stringify(input), inputDetails: { truncated: false } } });
      add('LambdaFunctionScheduled', { lambdaFunctionScheduledEventDetails: { resource: 'arn:aws:lambda:us-east-1:123456789012:function:evaluate-model' } });
      add('LambdaFunctionStarted');
      add('LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: { error: errorType, cause: lambdaCause(errorType, errorMessage) } });
      return api;
    },
    /** A state's exit alone (after a caught failure: its output is the input with the Catch's ResultPath added). */
    exited(type: string, name: string, output: unknown) {
      add(`${type}StateExited` as HistoryEventType, { stateExitedEventDetails: { name, output: JSON.stringify(output), outputDetails: { truncated: false } } });
      return api;
    },
    entered(type: string, name: string, input: unknown) {
      add(`${type}StateEntered` as HistoryEventType, { stateEnteredEventDetails: { name, input: JSON.stringify(input), inputDetails: { truncated: false } } });
      return api;
    },
    succeeded(output: unknown) {
      add('ExecutionSucceeded', { executionSucceededEventDetails: { output: JSON.stringify(output), outputDetails: { truncated: false } } });
      return api.events;
    },
    failed(error: string, cause: string) {
      add('ExecutionFailed', { executionFailedEventDetails: { error, cause } });
      return api.events;
    },
  };
  return api;
}
const lambdaCause = (errorType: string, errorMessage: string) => JSON.stringify({ errorType, errorMessage, trace: [] });

/** The resolved job input's `evaluation` (functions/shared/job-input.ts JobEvaluation, the contract's resolved form). */
const jobEvaluation = {
  dataset: { name: 'support-heldout', s3Uri: 's3://demo-evaluation/heldout/support.jsonl' },
  metrics: ['Builtin.Correctness', 'Builtin.Helpfulness'],
  judgeModelIdentifier: 'amazon.nova-pro-v1:0',
  taskType: 'Generation',
  thresholds: { minGainOverBase: 0 },
  maxPrompts: 100,
  inference: { maxTokens: 512, temperature: 0 },
  maxDurationSeconds: 21600,
  outputS3Uri: 's3://demo-evaluation/evaluations/support-ft/',
};
const job = { jobName: 'support-ft', dryRun: false, evaluation: jobEvaluation };
const submission = { jobArn: JOB_ARN, jobName: 'support-ft', adopted: false, submittedAt: '2026-12-07T08:00:05Z', deadline: '2026-12-08T08:00:05Z' };
const poll = { status: 'Completed', next: 'completed', pollCount: 4, message: 'Job support-ft completed.', outputModelArn: MODEL_ARN };
const revoke = { summary: 'revoked: role; kept for another job: none; kept: none' };

const planned = { next: 'deploy', estimate: { tokens: { generation: 6_120, judge: 30_400, total: 36_520 }, usd: 0.07, prompts: 5 }, customModelArn: MODEL_ARN };
const deploying = { ...planned, next: 'wait', nextWaitSeconds: 30, deployment: { name: 'support-ft-eval-3f9a1c', arn: DEPLOYMENT_ARN, status: 'Creating' } };
const deployed = { ...deploying, next: 'generate', deployment: { ...deploying.deployment, status: 'Active' } };
const generated = {
  ...deployed,
  next: 'startEvaluations',
  generation: {
    done: { custom: 5, base: 5 },
    total: 5,
    tokensUsed: 2_210,
    datasets: { custom: 's3://demo-evaluation/evaluations/support-ft/inputs/custom.jsonl', base: 's3://demo-evaluation/evaluations/support-ft/inputs/base.jsonl' },
  },
};
const evaluating = {
  ...generated,
  next: 'wait',
  nextWaitSeconds: 60,
  jobs: { custom: { name: 'support-ft-3f9a1c-custom', arn: CUSTOM_JOB_ARN, status: 'InProgress' }, base: { name: 'support-ft-3f9a1c-base', arn: BASE_JOB_ARN, status: 'InProgress' } },
};
const evaluated = { ...evaluating, next: 'verdict', jobs: { custom: { ...evaluating.jobs.custom, status: 'Completed' }, base: { ...evaluating.jobs.base, status: 'Completed' } } };
const promoted = {
  ...evaluated,
  next: 'done',
  scores: {
    'Builtin.Correctness': { custom: 0.91, base: 0.42, gain: 0.49, customScored: 5, baseScored: 5 },
    'Builtin.Helpfulness': { custom: 0.8, base: 0.55, gain: 0.25, customScored: 5, baseScored: 4 },
  },
  verdict: 'promote',
  message: 'promoted: Builtin.Correctness 0.91 vs base 0.42 (+0.49, needs ≥ +0.00); Builtin.Helpfulness 0.80 vs base 0.55 (+0.25, needs ≥ +0.00)',
};
const rejected = {
  ...evaluated,
  next: 'done',
  deployment: { ...evaluated.deployment, deleted: true },
  scores: {
    'Builtin.Correctness': { custom: 0.62, base: 0.71, gain: -0.09, customScored: 5, baseScored: 5 },
    'Builtin.Helpfulness': { custom: 0.7, base: 0.68, gain: 0.02, customScored: 5, baseScored: 5 },
  },
  verdict: 'reject',
  message: 'rejected: Builtin.Correctness 0.62 vs base 0.71 (−0.09, needs ≥ +0.00)',
};

/** A completed job up to the gate's Choice (the state data so far). */
function untilGate() {
  const s = { job, execution: { id: ARN, name: 'run-1' }, submission, poll, cleanup: { summary: 'Deleted 2 network interface(s) of the job.' } };
  const h = history().started({}).lambda('SubmitJob', {}, { job, submission }).lambda('PollStatus', {}, { job, submission, poll }).lambda('CleanupEnis', {}, s).state('Choice', 'GateOrRevoke', s, s);
  return { h, s };
}

/** The gate through Verdict with `verdictState`, then RevokeGrants and the Outcome Choice. */
function throughVerdict(verdictState: unknown) {
  const { h, s } = untilGate();
  const at = (evaluation: unknown) => ({ ...s, evaluation });
  h.lambda('PlanEvaluation', s, at(planned))
    .lambda('DeployModel', at(planned), at(deploying))
    .state('Choice', 'DeploymentState', at(deploying), at(deploying))
    .state('Wait', 'WaitForDeployment', at(deploying), at(deploying))
    .lambda('DeploymentStatus', at(deploying), at(deployed))
    .lambda('GenerateResponses', at(deployed), at(generated))
    .lambda('StartEvaluations', at(generated), at(evaluating))
    .state('Wait', 'WaitForEvaluations', at(evaluating), at(evaluating))
    .lambda('EvaluationStatus', at(evaluating), at(evaluated))
    .lambda('Verdict', at(evaluated), at(verdictState));
  const end = { ...at(verdictState), revoke };
  h.lambda('RevokeGrants', at(verdictState), end).state('Choice', 'Outcome', end, end);
  return { h, end };
}

function promoteHistory() {
  const { h, end } = throughVerdict(promoted);
  return h.state('Succeed', 'JobSucceeded', end, end).succeeded(end);
}

function rejectHistory() {
  const { h, end } = throughVerdict(rejected);
  // ModelRejected: Error ModelRejectedError, CausePath $.evaluation.message.
  return h.entered('Fail', 'ModelRejected', end).failed('ModelRejectedError', rejected.message);
}

/** DeploymentStatus finds the deployment Failed: caught into $.evaluationError, cleaned up, EvaluationFailed. */
function gateFailedHistory(cleanupResult: unknown) {
  const { h, s } = untilGate();
  const at = (evaluation: unknown) => ({ ...s, evaluation });
  const failedDeployment = { ...deploying, deployment: { ...deploying.deployment, status: 'Failed' } };
  const message = `Deployment ${DEPLOYMENT_ARN} failed: The model could not be deployed.`;
  const evaluationError = { Error: 'DeploymentFailedError', Cause: lambdaCause('DeploymentFailedError', message) };
  const caught = { ...at(failedDeployment), evaluationError };
  h.lambda('PlanEvaluation', s, at(planned)).lambda('DeployModel', at(planned), at(failedDeployment)).lambdaFailed('DeploymentStatus', at(failedDeployment), 'DeploymentFailedError', message);
  // The Catch's ResultPath: the Task exits with the caught error added.
  h.exited('Task', 'DeploymentStatus', caught);
  const cleaned = { ...caught, evaluationCleanup: cleanupResult, revoke };
  h.lambda('EvaluationCleanup', caught, { ...caught, evaluationCleanup: cleanupResult }).lambda('RevokeGrants', { ...caught, evaluationCleanup: cleanupResult }, cleaned).state('Choice', 'Outcome', cleaned, cleaned);
  // EvaluationFailed: ErrorPath $.evaluationError.Error, CausePath $.evaluationError.Cause.
  return h.entered('Fail', 'EvaluationFailed', cleaned).failed(evaluationError.Error, evaluationError.Cause);
}

describe('the evaluation gate in the execution view', () => {
  it('fixtures are EvaluationStates as the gate Tasks return them (job-state.ts evaluationStateSchema)', () => {
    for (const state of [planned, deploying, deployed, generated, evaluating, evaluated, promoted, rejected]) {
      expect(z.safeParse(evaluationStateSchema, state).success, JSON.stringify(state)).toBe(true);
    }
  });

  it('promote: the verdict, each metric (custom, base, gain, records scored), the deployment kept, in the headline too', () => {
    const view = buildExecutionView(promoteHistory(), { arn: ARN, name: 'run-1', status: 'SUCCEEDED' });
    expect(view.outcome).toBe('completed');
    expect(view.evaluation).toEqual({
      verdict: 'promote',
      message: promoted.message,
      dataset: 'support-heldout',
      judgeModel: 'amazon.nova-pro-v1:0',
      thresholds: { minGainOverBase: 0 },
      estimate: { tokens: 36_520, usd: 0.07, prompts: 5 },
      scores: [
        { metric: 'Builtin.Correctness', custom: 0.91, base: 0.42, gain: 0.49, customScored: 5, baseScored: 5 },
        { metric: 'Builtin.Helpfulness', custom: 0.8, base: 0.55, gain: 0.25, customScored: 5, baseScored: 4 },
      ],
      deployment: { name: 'support-ft-eval-3f9a1c', arn: DEPLOYMENT_ARN, status: 'Active', outcome: 'kept' },
      jobs: { custom: evaluated.jobs.custom, base: evaluated.jobs.base },
    });
    expect(view.headline).toContain('promoted by the evaluation gate');
    expect(view.headline).toContain(MODEL_ARN);
    expect(view.headline).toContain(`deployment ${DEPLOYMENT_ARN} kept`);
    expect(view.error).toBeUndefined();
  });

  it('reject: ModelRejected with the loss named, the deployment deleted, the remedy from the catalogue', () => {
    const view = buildExecutionView(rejectHistory(), { arn: ARN, name: 'run-1', status: 'FAILED' });
    expect(view).toMatchObject({
      outcome: 'failed',
      endState: 'ModelRejected',
      error: { error: 'ModelRejectedError', cause: rejected.message, remedy: ERROR_REMEDIES.ModelRejectedError },
      job: { status: 'Completed', outputModelArn: MODEL_ARN },
      evaluation: { verdict: 'reject', message: rejected.message, deployment: { arn: DEPLOYMENT_ARN, outcome: 'deleted' } },
    });
    expect(view.evaluation?.scores.map((s) => [s.metric, s.gain])).toEqual([
      ['Builtin.Correctness', -0.09],
      ['Builtin.Helpfulness', 0.02],
    ]);
    expect(view.headline).toBe(`Job support-ft completed but its model was rejected by the evaluation gate: ${rejected.message}; deployment ${DEPLOYMENT_ARN} deleted`);
  });

  it('a gate failure: EvaluationFailed with the gate Task\'s error, what EvaluationCleanup did, the deployment deleted', () => {
    const view = buildExecutionView(gateFailedHistory({ summary: `deleted deployment ${DEPLOYMENT_ARN}; no evaluation job to stop`, deploymentDeleted: true }), { arn: ARN, status: 'FAILED' });
    expect(view).toMatchObject({
      outcome: 'failed',
      endState: 'EvaluationFailed',
      error: { error: 'DeploymentFailedError', cause: `Deployment ${DEPLOYMENT_ARN} failed: The model could not be deployed.`, remedy: ERROR_REMEDIES.DeploymentFailedError },
      evaluation: {
        error: `DeploymentFailedError: Deployment ${DEPLOYMENT_ARN} failed: The model could not be deployed.`,
        next: 'wait',
        deployment: { arn: DEPLOYMENT_ARN, status: 'Failed', outcome: 'deleted' },
        cleanup: { summary: `deleted deployment ${DEPLOYMENT_ARN}; no evaluation job to stop` },
        scores: [],
      },
    });
    expect(view.evaluation).not.toHaveProperty('verdict');
    expect(view.headline).toContain('completed but its evaluation failed: DeploymentFailedError');
    expect(view.states.find((s) => s.name === 'DeploymentStatus')?.failed).toBe(true);
  });

  it('a gate failure whose cleanup failed: the deployment still exists, the cleanup error is shown', () => {
    const { h, s } = untilGate();
    const at = (evaluation: unknown) => ({ ...s, evaluation });
    const evaluationError = { Error: 'EvaluationJobFailedError', Cause: lambdaCause('EvaluationJobFailedError', 'support-ft-3f9a1c-base: Failed') };
    const cleanupError = { Error: 'EvaluationUncertainError', Cause: lambdaCause('EvaluationUncertainError', 'DeleteCustomModelDeployment: throttled') };
    const end = { ...at(evaluating), evaluationError, evaluationCleanupError: cleanupError, revoke };
    h.lambdaFailed('EvaluationStatus', at(evaluating), 'EvaluationJobFailedError', 'support-ft-3f9a1c-base: Failed')
      .exited('Task', 'EvaluationStatus', { ...at(evaluating), evaluationError })
      .lambdaFailed('EvaluationCleanup', { ...at(evaluating), evaluationError }, 'EvaluationUncertainError', 'DeleteCustomModelDeployment: throttled')
      .exited('Task', 'EvaluationCleanup', { ...at(evaluating), evaluationError, evaluationCleanupError: cleanupError })
      .lambda('RevokeGrants', end, end);
    const view = buildExecutionView(h.entered('Fail', 'EvaluationFailed', end).failed(evaluationError.Error, evaluationError.Cause), { arn: ARN, status: 'FAILED' });
    expect(view.evaluation?.deployment).toEqual({ name: 'support-ft-eval-3f9a1c', arn: DEPLOYMENT_ARN, status: 'Active', outcome: 'exists' });
    expect(view.headline).toContain(`deployment ${DEPLOYMENT_ARN} still exists`);
    expect(view.evaluation?.cleanup).toEqual({ error: 'EvaluationUncertainError: DeleteCustomModelDeployment: throttled' });
  });

  it('a job without the gate has no evaluation in its view', () => {
    const { h, s } = untilGate();
    const end = { ...s, job: { jobName: 'support-ft', dryRun: false }, revoke };
    const view = buildExecutionView(h.state('Succeed', 'JobSucceeded', end, end).succeeded(end), { arn: ARN, status: 'SUCCEEDED' });
    expect(view.evaluation).toBeUndefined();
    expect(view.headline).toMatch(/^Job support-ft completed: custom model /);
  });

  it('a malformed $.evaluation is left out, the rest of the view stays', () => {
    const { h, s } = untilGate();
    const end = { ...s, evaluation: { next: 'done', verdict: 'maybe' }, revoke };
    const view = buildExecutionView(h.state('Succeed', 'JobSucceeded', end, end).succeeded(end), { arn: ARN, status: 'SUCCEEDED' });
    expect(view.evaluation).toBeUndefined();
    expect(view.job?.outputModelArn).toBe(MODEL_ARN);
  });
});

describe('bvc status and start --follow: the gate', () => {
  it('status: verdict line, the thresholds and estimate, one line per metric, the deployment and what became of it', () => {
    const promote = renderView(buildExecutionView(promoteHistory(), { arn: ARN, name: 'run-1', status: 'SUCCEEDED' }));
    expect(promote).toContain(`  evaluation  promote — ${promoted.message}`);
    expect(promote).toContain('    dataset support-heldout · judge amazon.nova-pro-v1:0 · min gain +0.000 · estimate ~36520 tokens, ~$0.07');
    expect(promote).toContain('    Builtin.Correctness  custom 0.910  base 0.420  gain +0.490  (records scored: custom 5, base 5)');
    expect(promote).toContain('    Builtin.Helpfulness  custom 0.800  base 0.550  gain +0.250  (records scored: custom 5, base 4)');
    expect(promote).toContain(`  deployment  ${DEPLOYMENT_ARN} (Active): kept: it serves the custom model on demand`);

    const reject = renderView(buildExecutionView(rejectHistory(), { arn: ARN, name: 'run-1', status: 'FAILED' }));
    expect(reject).toContain(`  evaluation  reject — ${rejected.message}`);
    expect(reject).toContain('    Builtin.Correctness  custom 0.620  base 0.710  gain −0.090  (records scored: custom 5, base 5)');
    expect(reject).toContain(`  deployment  ${DEPLOYMENT_ARN}: deleted`);
    expect(reject).toContain(`  error       ModelRejectedError: ${rejected.message}`);

    const failed = renderView(buildExecutionView(gateFailedHistory({ summary: 'deleted the deployment', deploymentDeleted: true }), { arn: ARN, status: 'FAILED' }));
    expect(failed).toContain(`  evaluation  failed: DeploymentFailedError: Deployment ${DEPLOYMENT_ARN} failed: The model could not be deployed.`);
    expect(failed).toContain('  eval clean  deleted the deployment');
  });

  it('follow: one line per gate state from its output', () => {
    const s = { job, poll };
    expect(stateDetail('PlanEvaluation', { ...s, evaluation: planned })).toBe('evaluation planned: 5 prompts, ~36520 tokens, ~$0.07 (estimate)');
    expect(stateDetail('DeployModel', { ...s, evaluation: deploying })).toBe(`deployment ${DEPLOYMENT_ARN}: Creating`);
    expect(stateDetail('DeploymentStatus', { ...s, evaluation: deployed })).toBe(`deployment ${DEPLOYMENT_ARN}: Active`);
    expect(stateDetail('GenerateResponses', { ...s, evaluation: generated })).toBe('responses generated: custom model 5/5, base model 5/5');
    expect(stateDetail('EvaluationStatus', { ...s, evaluation: evaluated })).toBe('evaluation jobs: custom Completed, base Completed');
    expect(stateDetail('Verdict', { ...s, evaluation: rejected })).toBe(`verdict reject: ${rejected.message} (deployment deleted)`);
    expect(stateDetail('EvaluationCleanup', { ...s, evaluationCleanup: { summary: 'stopped 1 evaluation job' } })).toBe('stopped 1 evaluation job');
    // An output without the gate's shape gives no line.
    expect(stateDetail('Verdict', { ...s, evaluation: { verdict: 'promote' } })).toBeUndefined();
  });
});

describe('the notification: the gate', () => {
  it('promote: subject says promoted; verdict, scores, and the deployment kept', () => {
    const n = composeNotification(buildExecutionView(promoteHistory(), { arn: ARN, name: 'run-1', status: 'SUCCEEDED' }))!;
    expect(n.subject).toBe('Job support-ft completed and promoted');
    const lines = n.message.split('\n');
    expect(lines).toContain(`Verdict: promote (${promoted.message})`);
    expect(lines).toContain('Dataset: support-heldout, judge: amazon.nova-pro-v1:0');
    expect(lines).toContain('- Builtin.Correctness: custom 0.910, base 0.420, gain +0.490');
    expect(lines).toContain(`Deployment: ${DEPLOYMENT_ARN} kept (serves the custom model on demand)`);
  });

  it('reject: subject says rejected; the loss, what to do, the deployment deleted', () => {
    const n = composeNotification(buildExecutionView(rejectHistory(), { arn: ARN, name: 'run-1', status: 'FAILED' }))!;
    expect(n.subject).toBe('Job support-ft: model rejected by the evaluation gate');
    const lines = n.message.split('\n');
    expect(lines).toContain('Error: ModelRejectedError');
    expect(lines).toContain(`What to do: ${ERROR_REMEDIES.ModelRejectedError}`);
    expect(lines).toContain('- Builtin.Correctness: custom 0.620, base 0.710, gain -0.090');
    expect(lines).toContain(`Deployment: ${DEPLOYMENT_ARN} deleted`);
  });

  it('a gate failure: subject names the error; the cleanup is reported', () => {
    const n = composeNotification(buildExecutionView(gateFailedHistory({ summary: 'deleted the deployment', deploymentDeleted: true }), { arn: ARN, name: 'run-1', status: 'FAILED' }))!;
    expect(n.subject).toBe('Job support-ft: evaluation failed (DeploymentFailedError)');
    const lines = n.message.split('\n');
    expect(lines).toContain(`Failed before a verdict: DeploymentFailedError: Deployment ${DEPLOYMENT_ARN} failed: The model could not be deployed.`);
    expect(lines).toContain(`Deployment: ${DEPLOYMENT_ARN} deleted`);
    expect(lines).toContain('Evaluation cleanup: deleted the deployment');
  });
});

/**
 * A stand-in for the evaluate-model Lambda in the state-machine tier, for the tests of the ASL's evaluation
 * gate: it answers each `action` as the contract of functions/evaluate-model says (every gate Task returns
 * the whole updated EvaluationState, parsed here with shared/job-state.ts evaluationStateSchema, so a fake
 * answer the real handler could not give fails the test), and refuses an input without what the ASL must
 * pass it (action, job, execution, submission, self; evaluation except for plan). What it does not do: call
 * Bedrock, S3 or the ledger — that is the real handler's, tested in its own tiers (test/unit,
 * test/emulator). It records every call, so a test can see the order of the gate's steps.
 */
import { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { evaluationStateSchema, type EvaluationState } from '../../functions/shared/job-state.js';
import type { TaskHandler } from '../../local/workflow.js';
import { TEST_STAGE_PARAMS, type StageParams } from '../fixtures/stage.js';
import { mocks } from './mock-account.js';

/** The gate's Task states, each bound to evaluate-model with its `action`. */
export const GATE_TASKS = {
  PlanEvaluation: 'plan',
  DeployModel: 'deploy',
  DeploymentStatus: 'deploymentStatus',
  GenerateResponses: 'generate',
  StartEvaluations: 'startEvaluations',
  EvaluationStatus: 'evaluationStatus',
  Verdict: 'verdict',
  EvaluationCleanup: 'cleanup',
} as const;
export type GateTask = keyof typeof GATE_TASKS;

export const DEPLOYMENT_ARN = 'arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/a1b2c3d4e5f6';
const EVALUATION_JOB_ARN = (model: string) => `arn:aws:bedrock:us-east-1:123456789012:evaluation-job/${model}0123abcd`;

/** A resolved `$.job.evaluation` (functions/shared/job-input.ts jobEvaluationSchema) for a job named `jobName`. */
export function jobEvaluation(jobName = 'job-under-test') {
  return {
    dataset: { name: 'heldout', s3Uri: 's3://evaluation-bucket/heldout/qa.jsonl' },
    metrics: ['Builtin.Correctness', 'Builtin.Completeness'],
    judgeModelIdentifier: 'amazon.nova-pro-v1:0',
    taskType: 'Generation',
    thresholds: { minGainOverBase: 0 },
    maxPrompts: 100,
    inference: { maxTokens: 512, temperature: 0 },
    maxDurationSeconds: 21600,
    outputS3Uri: `s3://evaluation-bucket/evaluations/${jobName}/`,
  };
}

/** A stage that allows the gate, with the held-out dataset {@link jobEvaluation} names. */
export const GATE_STAGE_PARAMS: StageParams = {
  ...TEST_STAGE_PARAMS,
  evaluationGate: 'allow',
  evaluationBucket: 'evaluation-bucket',
  evaluationDatasets: 'heldout=s3://evaluation-bucket/heldout/qa.jsonl',
  evaluationMetrics: 'Builtin.Correctness,Builtin.Completeness',
  evaluationJudgeModels: 'amazon.nova-pro-v1:0',
};

/** The held-out dataset: a judge prompt dataset (prompt and referenceResponse per line), 10 records. */
const HELD_OUT = Array.from({ length: 10 }, (_, i) => JSON.stringify({ prompt: `Question ${i}?`, referenceResponse: `Answer ${i}.` })).join('\n') + '\n';

/** The mocked S3 serves the held-out dataset (ValidateDataset reads it before training); call after mockHealthyAccount. */
export function serveHeldOut(): void {
  mocks.s3.on(GetObjectCommand, { Bucket: 'evaluation-bucket', Key: 'heldout/qa.jsonl' }).callsFake(() => {
    const bytes = Buffer.from(HELD_OUT);
    return { ContentLength: bytes.length, ETag: '"feedfacefeedfacefeedfacefeedface"', Body: Readable.from([bytes]) as never };
  });
}

/** ValidateNetwork (`validate`: its real handler) with the job asking for the gate: its resolved `job` gets {@link jobEvaluation}. */
export function askingForTheGate(validate: TaskHandler): TaskHandler {
  return async (input) => {
    const out = (await validate(input)) as { job: Record<string, unknown> };
    return { ...out, job: { ...out.job, evaluation: jobEvaluation(String(out.job.jobName)) } } as never;
  };
}

export interface FakeGateOptions {
  verdict?: 'promote' | 'reject';
  /** Status checks that find the deployment Creating before it is Active. */
  creatingChecks?: number;
  /** Prompts, and how many GenerateResponses answers per chunk and model. */
  prompts?: number;
  chunk?: number;
  /** Status checks that find the evaluation jobs InProgress before both are Completed. */
  runningChecks?: number;
  /** An error (name) a Task throws on every call: the gate's failure under test. */
  failAt?: Partial<Record<GateTask, string>>;
}

export interface GateCall {
  state: GateTask;
  action: string;
  input: Record<string, unknown>;
}

const taskError = (name: string, message: string) => {
  const e = new Error(JSON.stringify({ errorType: name, errorMessage: message }));
  e.name = name;
  return e;
};

/**
 * The gate's Task handlers by state name, all one fake evaluate-model, and the calls it received.
 * Each handler checks that its state passes the action its contract names.
 */
export function fakeEvaluateModel(options: FakeGateOptions = {}) {
  const { verdict = 'promote', creatingChecks = 1, prompts = 10, chunk = 4, runningChecks = 2, failAt = {} } = options;
  const calls: GateCall[] = [];
  let deploymentChecks = 0;
  let evaluationChecks = 0;

  const answer = (action: string, input: Record<string, unknown>): EvaluationState | Record<string, unknown> => {
    const state = input.evaluation as EvaluationState;
    switch (action) {
      case 'plan':
        return { next: 'deploy', estimate: { tokens: { generation: 20_000, judge: 80_000, total: 100_000 }, usd: 0.5, prompts } };
      case 'deploy':
        return { ...state, next: 'wait', nextWaitSeconds: 60, deployment: { name: 'bvc-job-under-test-1a2b', arn: DEPLOYMENT_ARN, status: 'Creating' } };
      case 'deploymentStatus': {
        const active = ++deploymentChecks > creatingChecks;
        return { ...state, next: active ? 'generate' : 'wait', nextWaitSeconds: 60, deployment: { ...state.deployment!, status: active ? 'Active' : 'Creating' } };
      }
      case 'generate': {
        const done = Math.min(prompts, (state.generation?.done.custom ?? 0) + chunk);
        const finished = done === prompts;
        return {
          ...state,
          next: finished ? 'startEvaluations' : 'generate',
          generation: {
            done: { custom: done, base: done },
            total: prompts,
            tokensUsed: done * 300,
            ...(finished ? { datasets: { custom: 's3://evaluation-bucket/evaluations/job-under-test/inputs/custom.jsonl', base: 's3://evaluation-bucket/evaluations/job-under-test/inputs/base.jsonl' } } : {}),
          },
        };
      }
      case 'startEvaluations':
        return {
          ...state,
          next: 'wait',
          nextWaitSeconds: 60,
          jobs: {
            custom: { name: 'bvc-job-under-test-custom', arn: EVALUATION_JOB_ARN('custom'), status: 'InProgress' },
            base: { name: 'bvc-job-under-test-base', arn: EVALUATION_JOB_ARN('base'), status: 'InProgress' },
          },
        };
      case 'evaluationStatus': {
        const completed = ++evaluationChecks > runningChecks;
        const status = completed ? 'Completed' : 'InProgress';
        return { ...state, next: completed ? 'verdict' : 'wait', nextWaitSeconds: 60, jobs: { custom: { ...state.jobs!.custom, status }, base: { ...state.jobs!.base, status } } };
      }
      case 'verdict': {
        const custom = verdict === 'promote' ? 0.81 : 0.62;
        return {
          ...state,
          next: 'done',
          scores: { 'Builtin.Correctness': { custom, base: 0.71, gain: Number((custom - 0.71).toFixed(2)), customScored: prompts, baseScored: prompts } },
          verdict,
          message:
            verdict === 'promote'
              ? 'promoted: Builtin.Correctness 0.81 vs base 0.71 (+0.10, needs ≥ +0.00)'
              : 'rejected: Builtin.Correctness 0.62 vs base 0.71 (-0.09, needs ≥ +0.00)',
          ...(verdict === 'reject' ? { deployment: { ...state.deployment!, deleted: true } } : {}),
        };
      }
      case 'cleanup':
        return {
          summary: `stopped 0 evaluation jobs; deleted deployment ${state.deployment?.arn ?? '(none recorded)'}`,
          deploymentDeleted: state.deployment?.arn !== undefined,
        };
      default:
        throw new Error(`fake evaluate-model: unknown action ${action}`);
    }
  };

  const handlers = Object.fromEntries(
    (Object.entries(GATE_TASKS) as [GateTask, string][]).map(([state, expected]) => {
      const handler: TaskHandler = async (raw) => {
        const input = raw as Record<string, unknown>;
        calls.push({ state, action: String(input.action), input });
        if (input.action !== expected) throw new Error(`${state} passed action ${String(input.action)}, not ${expected}`);
        for (const key of ['job', 'execution', 'submission', 'self', ...(expected === 'plan' ? [] : ['evaluation'])]) {
          if (input[key] === undefined) throw new Error(`${state} passed no ${key}`);
        }
        const failure = failAt[state];
        if (failure) throw taskError(failure, `${state} failed (injected)`);
        const out = answer(expected, input);
        return (expected === 'cleanup' ? out : evaluationStateSchema.parse(out)) as never;
      };
      return [state, handler];
    }),
  ) as Record<GateTask, TaskHandler>;

  return { handlers, calls };
}

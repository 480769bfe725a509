/**
 * evaluate-model Lambda: the evaluation gate's Tasks (PlanEvaluation, DeployModel, DeploymentStatus,
 * GenerateResponses, StartEvaluations, EvaluationStatus, Verdict, EvaluationCleanup), one `action` each
 * (evaluate-model.ts). The event is the Task's Parameters: `{ action, job, execution, submission, self,
 * evaluation }` (no `evaluation` for `plan`; possibly none for `cleanup`, which acts on what the ledger records).
 */
import * as z from 'zod/mini';
import type { Context } from 'aws-lambda';
import { bedrock, bedrockRuntime, s3 } from '../shared/clients.js';
import { InvalidInputError } from '../shared/errors.js';
import { evaluationPricesFor } from '../shared/evaluation-cost.js';
import { makeHandler } from '../shared/handler.js';
import { jobInputSchemas } from '../shared/job-input.js';
import { evaluationStateSchema, executionSchema, submissionSchema } from '../shared/job-state.js';
import { jobLedger } from '../shared/ledger-env.js';
import { log } from '../shared/log.js';
import { loadStage } from '../shared/stage.js';
import { DEFAULT_GENERATION, EVALUATION_ACTIONS, runAction, type EvaluationAction, type GateDeps } from './evaluate-model.js';

/** Time kept back from GenerateResponses' budget for writing its progress and answering (the Lambda runs 900 s). */
const GENERATION_MARGIN_MS = 120_000;

/** The job's fields the gate reads, with the resolved job's rules (z.pick); the others pass unchecked. Built on the first event. */
const jobSchema = z.lazy(() =>
  z.looseObject(
    z.pick(jobInputSchemas().resolvedJobObject, {
      jobName: true,
      region: true,
      baseModelIdentifier: true,
      customizationType: true,
      roleArn: true,
      jobTags: true,
      evaluation: true,
    }).shape,
  ),
);

/** The event of `action`: `evaluation` absent for plan, required for the steps after it, optional for cleanup. */
const eventSchema = (action: EvaluationAction) =>
  z.lazy(() =>
    z.object({
      action: z.literal(action),
      job: jobSchema,
      execution: z.pick(executionSchema, { id: true }),
      submission: z.pick(submissionSchema, { jobArn: true, jobName: true }),
      self: z.string().check(z.minLength(1), z.maxLength(2048)),
      evaluation: action === 'plan' || action === 'cleanup' ? z.optional(evaluationStateSchema) : evaluationStateSchema,
      /** PlanEvaluation's `$$.Execution.StartTime` (ISO 8601). */
      executionStartTime: z.optional(z.iso.datetime({ offset: true })),
    }),
  );

const handlers = Object.fromEntries(
  EVALUATION_ACTIONS.map((action) => [
    action,
    makeHandler(eventSchema(action), async (event, context) => {
      const stage = loadStage(process.env);
      const deps: GateDeps = {
        bedrock,
        runtime: bedrockRuntime,
        s3,
        ledger: jobLedger(),
        now: () => new Date(),
        prices: evaluationPricesFor(stage.evaluation, event.job.baseModelIdentifier, event.job.evaluation?.judgeModelIdentifier ?? ''),
        generationBudgetMs: Math.max(0, Math.min(DEFAULT_GENERATION.budgetMs, context.getRemainingTimeInMillis() - GENERATION_MARGIN_MS)),
        concurrency: DEFAULT_GENERATION.concurrency,
        partSize: DEFAULT_GENERATION.partSize,
      };
      const result = await runAction(action, { ...event, evaluation: event.evaluation }, deps);
      log.info('evaluation gate', {
        action,
        jobName: event.submission.jobName,
        ...('next' in result ? { next: result.next, verdict: result.verdict, deployment: result.deployment?.arn } : { summary: result.summary }),
      });
      return result;
    }),
  ]),
) as unknown as Record<EvaluationAction, (event: unknown, context: Context) => Promise<unknown>>;

export const handler = async (event: unknown, context: Context) => {
  const action = (event as { action?: unknown } | null)?.action;
  const run = typeof action === 'string' && (EVALUATION_ACTIONS as readonly string[]).includes(action) ? handlers[action as EvaluationAction] : undefined;
  if (!run) throw new InvalidInputError([{ field: 'action', message: `must be one of ${EVALUATION_ACTIONS.join(', ')}` }]);
  return run(event, context);
};

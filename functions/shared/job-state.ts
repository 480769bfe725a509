/**
 * Following a job: the execution it belongs to, the polling settings, and the shapes the steps after
 * SubmitJob pass along in the execution state (`$.submission`, `$.poll`), with their zod schemas.
 * Produced by submit-job and poll-status, read by poll-status and cleanup-enis. (Kept apart from the
 * job-input schema so the Lambdas that follow a job do not load it.)
 */
import * as z from 'zod/mini';
import { JOB_ARN_PATTERN, MAX_ARN_LENGTH } from './arn.js';
// Module-level schemas are `/* @__PURE__ */ z.lazy(() => …)`: each is built on its first parse, not at import (a cold
// start builds none), and a bundle that does not use one drops it (shared/validation.ts). executionSchema and
// submissionSchema are objects built at import (`/* @__PURE__ */ (() => …)()`): handlers take fields of them with
// z.pick, which needs the object itself.

const count = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));

/**
 * A Standard execution fails at 25,000 history events. An execution hands the job over to a fresh
 * one when its own estimated history reaches this many events (well under half the quota).
 */
export const DEFAULT_HANDOVER_AFTER_EVENTS = 10_000;

/**
 * An execution also hands over when it has run this long, well before the state machine's
 * TimeoutSeconds (24 days: the longest timer Node's setTimeout, and so the local runner, can hold).
 */
export const HANDOVER_AFTER_SECONDS = 20 * 24 * 3600;

/** The state machine's TimeoutSeconds (24 days): an execution still running then ends TIMED_OUT. */
export const EXECUTION_TIMEOUT_SECONDS = 24 * 24 * 3600;

/**
 * The shortest wait between two status checks a job may ask for: a job of hours gains nothing from
 * checking more often, and a 1 s loop would cost a state transition and a Bedrock call every second.
 */
export const MIN_POLL_SECONDS = 10;

/**
 * The detection bound: the longest a finished job goes unnoticed in event mode when every one of
 * Bedrock's job-state events is lost (they are best effort), and after a stop request. Every wait of
 * the event mode and every wait after a stop is at most this long, so the job's end, its ENI cleanup
 * and its grant revocation start within it (docs/operations.md "Following the job").
 */
export const DETECTION_BOUND_SECONDS = 900;

/**
 * The lowest hand-over threshold a job may ask for: the states before the first status check already
 * cost about a hundred events, so a lower one would hand over at every check.
 */
export const MIN_HANDOVER_AFTER_EVENTS = 2_000;

/** How the job is polled (`job.polling`). */
export const pollingSchema = /* @__PURE__ */ z.lazy(() => z.strictObject({
  /** First wait between status checks. */
  initialSeconds: z._default(count(MIN_POLL_SECONDS, 3600), 60),
  /** Cap of the growing wait (the longest a finished job can go unnoticed). */
  maxSeconds: z._default(count(MIN_POLL_SECONDS, 3600), 1800),
  /** Each wait is the previous one times this factor, up to `maxSeconds`. */
  growthFactor: z._default(z.number().check(z.minimum(1), z.maximum(4)), 2),
  /**
   * Hand the job over to a fresh execution when this one's history reaches this many events. At least
   * {@link MIN_HANDOVER_AFTER_EVENTS}: an execution then lasts hundreds of status checks, each behind a
   * wait of at least {@link MIN_POLL_SECONDS}, so hand-overs cannot storm.
   */
  handoverAfterEvents: z._default(count(MIN_HANDOVER_AFTER_EVENTS, 12_000), DEFAULT_HANDOVER_AFTER_EVENTS),
  /**
   * How the job is followed between checks: `event` waits for Bedrock's job-state event (a task token,
   * released by the job-events Lambda) with a safety-net check every `eventSafetyNetSeconds`; `poll`
   * waits `initialSeconds` growing to `maxSeconds`. The stage param jobWait decides the default; a job
   * may ask for `poll` (an execution resumed from before this field polls).
   */
  mode: z._default(z.enum(['event', 'poll']), 'poll'),
  /**
   * With mode `event`: the longest wait for the event before a safety-net status check (events are best
   * effort). The safety net grows like the polling waits (`initialSeconds` times `growthFactor` per check)
   * up to this cap, at most {@link DETECTION_BOUND_SECONDS}: with every event lost, a finished job is
   * noticed within it. Each check also records the job's ENIs while it runs (shared/ledger.ts).
   */
  eventSafetyNetSeconds: z._default(count(60, DETECTION_BOUND_SECONDS), DETECTION_BOUND_SECONDS),
  /**
   * The most executions that may follow this job (the first and its hand-overs): at most the stage's
   * maxExecutionsPerJob, which the job input resolution sets when the job names none. Past it the job
   * is stopped instead of handed over again.
   */
  maxExecutions: z._default(count(2, 1_000), 50),
}));

/**
 * How SubmitJob waits while the account's concurrent-job quota is reached (a loop in the ASL:
 * SubmitJob → PlanQuotaWait → QuotaWait → SubmitJob): the wait starts at `initialSeconds` and doubles
 * up to `maxSeconds`, never past `maxQuotaWaitSeconds` after the execution started.
 */
export const QUOTA_WAIT = { initialSeconds: 60, growthFactor: 2, maxSeconds: 900 } as const;

/** History events of one quota-wait iteration: SubmitJob (5, caught) + PlanQuotaWait (5) + QuotaWait (2). */
export const EVENTS_PER_QUOTA_WAIT = 12;

/** `$.quotaWait`: the quota-wait loop so far (absent when the first submission went through). */
export const quotaWaitSchema = /* @__PURE__ */ z.lazy(() => z.object({
  /** Waits planned so far in this execution. */
  attempts: z.optional(z.int().check(z.minimum(0))),
  /** The wait before the next submission (QuotaWait's SecondsPath). */
  seconds: z.optional(z.int().check(z.minimum(1))),
  /** When the quota wait ends: `maxQuotaWaitSeconds` after the execution started. */
  until: z.optional(z.string()),
  /** The last JobQuotaExceededError, as SubmitJob's Catch recorded it. */
  error: z.optional(z.object({ Error: z.optional(z.string()), Cause: z.optional(z.string()) })),
}));
export type QuotaWait = z.infer<typeof quotaWaitSchema>;

/** The Step Functions execution a job belongs to (from the context object `$$.Execution`). */
export const executionSchema = /* @__PURE__ */ (() => z.object({
  id: z.string().check(z.minLength(1), z.maxLength(2048)),
  name: z.string().check(z.minLength(1), z.maxLength(80)),
  startTime: z.optional(z.string()),
}))();
export type Execution = z.infer<typeof executionSchema>;

export const JOB_STATUSES = ['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * The phases GetModelCustomizationJob reports in `statusDetails`, in the order they run, each by its
 * member: `validationDetails`, `dataProcessingDetails`, `trainingDetails` (API reference
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_StatusDetails.html; SDK types StatusDetails,
 * ValidationDetails, DataProcessingDetails, TrainingDetails of @aws-sdk/client-bedrock). Each phase's
 * `status` is a JobStatusDetails: NotStarted | InProgress | Completed | Stopping | Stopped | Failed
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_ValidationDetails.html).
 */
export const JOB_PHASES = ['validation', 'dataProcessing', 'training'] as const;
export type JobPhase = (typeof JOB_PHASES)[number];

/**
 * A phase of the job that Bedrock reports `Failed` (statusDetails) while the job itself is still
 * `InProgress`: poll-status stops the job at once (stopReason `phaseFailed`) and the execution ends
 * with JobFailedError naming the phase. Carried from poll to poll until the job has ended.
 */
export type PhaseFailure = {
  phase: JobPhase;
  /** Bedrock's `failureMessage`, when it gave one (while InProgress it may not have yet). */
  failureMessage?: string;
  /** When poll-status first saw the phase Failed (ISO). */
  detectedAt: string;
};

/** A model customization job ARN. */
export const jobArnSchema = /* @__PURE__ */ z.lazy(() => z.string().check(z.maxLength(MAX_ARN_LENGTH, { abort: true }), z.regex(JOB_ARN_PATTERN, 'must be a model customization job ARN')));

/** `$.submission`: the job this execution follows. */
export const submissionSchema = /* @__PURE__ */ (() => z.object({
  jobArn: jobArnSchema,
  jobName: z.string().check(z.minLength(1)),
  /** True when a retried submit found the job this execution had already created. */
  adopted: z.boolean(),
  submittedAt: z.string(),
  /** ISO time after which the job is stopped (`maxJobDurationSeconds` after submission). */
  deadline: z.string(),
  /** The data the job trains on: the snapshot of the checked objects (functions/submit-job/snapshot.ts). */
  trainedOn: z.optional(z.object({ trainingDataS3Uri: z.optional(z.string()), validationDataS3Uris: z.array(z.string()) })),
}))();
export type Submission = z.infer<typeof submissionSchema>;

/** What the Choice after PollStatus routes on. */
export const POLL_NEXT = ['wait', 'stop', 'handover', 'completed', 'failed', 'stopped', 'superseded'] as const;
export type PollNext = (typeof POLL_NEXT)[number];

/** `$.poll`: the latest status check (produced by poll-status; the ASL routes on `next`). */
export interface PollResult {
  status: JobStatus;
  next: PollNext;
  /** Status checks since submission, over all executions of the chain (drives the wait interval). */
  pollCount: number;
  /** Status checks in this execution (drives the history-size estimate). */
  pollsThisExecution: number;
  /** Retries of failed status checks in this execution, estimated from the clock (history-size estimate). */
  retriesThisExecution: number;
  /** Estimated history events of this execution after this poll. */
  historyEvents: number;
  nextWaitSeconds: number;
  /**
   * The wait polling would use now (initialSeconds growing to maxSeconds): after a failed event wait
   * (WaitAfterEventFailure), so even a wait that cannot register never loops faster than the floor.
   */
  fallbackWaitSeconds?: number;
  deadlineExceeded: boolean;
  checkedAt: string;
  /** One line a person can read: what the job is doing, or why it ended. */
  message: string;
  failureMessage?: string;
  /**
   * With next = handover: the fresh execution that carries the job on (its ARN: the supervisor the
   * job ledger now designates).
   */
  handover?: { generation: number; executionName: string; executionArn?: string };
  /**
   * With next = stop: why (StopJob passes it on, and the stopped job's message says it): the deadline
   * passed, the job used its executions, or one of its phases failed while it ran ({@link phaseFailure}).
   */
  stopReason?: 'deadline' | 'executions' | 'phaseFailed';
  /**
   * A phase Bedrock reports Failed while the job was still InProgress: set by the poll that saw it and
   * carried by every poll after it, so the job's end (Stopped or Failed) is reported as that failure
   * (next = failed, JobFailedError) and not as a deadline stop.
   */
  phaseFailure?: PhaseFailure;
  statusDetails?: unknown;
  /** With status Completed: the custom model the job created, and Bedrock's loss figures. */
  outputModelArn?: string;
  trainingMetrics?: { trainingLoss?: number };
  validationMetrics?: { validationLoss?: number }[];
}

/** What the Choices after the gate's Tasks route on (`$.evaluation.next`). */
export const EVALUATION_NEXT = ['deploy', 'wait', 'generate', 'startEvaluations', 'verdict', 'done'] as const;
/** GetCustomModelDeployment `status` (botocore 1.44.18 bedrock CustomModelDeploymentStatus). */
export const DEPLOYMENT_STATUSES = ['Creating', 'Active', 'Failed'] as const;
/** GetEvaluationJob `status` (botocore 1.44.18 bedrock EvaluationJobStatus). */
export const EVALUATION_JOB_STATUSES = ['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped', 'Deleting'] as const;
/** The two models the gate compares: the job's custom model (on its on-demand deployment) and its base model. */
export const EVALUATED_MODELS = ['custom', 'base'] as const;
export type EvaluatedModel = (typeof EVALUATED_MODELS)[number];

/**
 * `$.evaluation`: the evaluation gate so far (functions/evaluate-model). Every gate Task returns the whole
 * updated state (ResultPath `$.evaluation`); the Choices route on `next`, the Waits read `nextWaitSeconds`.
 * Read by the reaper's and the CLI's views too (readStateData).
 */
export const evaluationStateSchema = /* @__PURE__ */ z.lazy(() => {
  const tokens = z.number().check(z.minimum(0));
  const perModel = <T extends z.core.SomeType>(schema: T) => z.object({ custom: schema, base: schema });
  const evaluationJob = z.object({ name: z.string().check(z.minLength(1), z.maxLength(63)), arn: z.string().check(z.minLength(1), z.maxLength(MAX_ARN_LENGTH)), status: z.enum(EVALUATION_JOB_STATUSES) });
  return z.object({
    next: z.enum(EVALUATION_NEXT),
    /** The next Wait (WaitForDeployment, WaitForEvaluations), in seconds. */
    nextWaitSeconds: z.optional(count(1, 3600)),
    /** When the gate gives up waiting (PlanEvaluation: now + the job's evaluation.maxDurationSeconds), ISO. */
    deadline: z.optional(z.string()),
    /** The gate's cost before it started (PlanEvaluation): tokens from the held-out dataset, dollars from the stage's prices. */
    estimate: z.object({
      tokens: z.object({ generation: tokens, judge: tokens, total: tokens }),
      usd: z.optional(z.number().check(z.minimum(0))),
      prompts: count(1, 1000),
    }),
    /** The held-out dataset as PlanEvaluation read it: GenerateResponses reads that object again only while its ETag is unchanged. */
    heldOut: z.optional(z.object({ etag: z.optional(z.string().check(z.maxLength(1024))) })),
    /** The custom model the job created (GetModelCustomizationJob outputModelArn, Active). */
    customModelArn: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_ARN_LENGTH))),
    deployment: z.optional(
      z.object({
        name: z.string().check(z.minLength(1), z.maxLength(63)),
        arn: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_ARN_LENGTH))),
        status: z.optional(z.enum(DEPLOYMENT_STATUSES)),
        deleted: z.optional(z.boolean()),
      }),
    ),
    /** The responses generated so far (GenerateResponses, in chunks): prompts answered per model, of `total`. */
    generation: z.optional(
      z.object({
        done: perModel(count(0, 1000)),
        total: count(1, 1000),
        /** Converse usage (input + output tokens) of both models so far. */
        tokensUsed: tokens,
        /** The dollars those tokens cost at the stage's price of the base model (absent without one). */
        usd: z.optional(z.number().check(z.minimum(0))),
        /** The two prompt datasets with the models' responses, once both models answered every prompt. */
        datasets: z.optional(perModel(z.string().check(z.minLength(1), z.maxLength(1024)))),
      }),
    ),
    jobs: z.optional(perModel(evaluationJob)),
    /** Per judge metric: the mean score of each model, the quality gain of the custom model, the records scored. */
    scores: z.optional(
      z.record(
        z.string().check(z.minLength(1), z.maxLength(64)),
        z.object({ custom: z.number(), base: z.number(), gain: z.number(), customScored: count(0, 1000), baseScored: count(0, 1000) }),
      ),
    ),
    verdict: z.optional(z.enum(['promote', 'reject'])),
    /** One line a person reads: "promoted: …" or "rejected: Builtin.Correctness 0.62 vs base 0.71 (-0.09, needs ≥ +0.00)". */
    message: z.optional(z.string()),
  });
});
export type EvaluationState = z.infer<typeof evaluationStateSchema>;

/*
 * The execution's state data as the history shows it (a state's input or output, the execution's
 * output): read by the notify Lambda's message and the CLI (shared/execution-view.ts, cli/render.ts).
 * Each field is parsed on its own ({@link readStateData}) and is absent when it does not have its
 * shape, so a field a reader cannot use is shown as missing and never stops the rest from being read.
 * The objects are loose: a reader sees the fields named here, the others pass through unread.
 * (Per-field parses rather than zod's `catch`: `catch` alone adds about 10 KB to a bundle.)
 */

/** A caught error as a Catch's ResultPath records it: `{Error, Cause}`. */
const caughtErrorSchema = /* @__PURE__ */ z.lazy(() => z.looseObject({ Error: z.optional(z.string()), Cause: z.optional(z.string()) }));
export type CaughtError = z.infer<typeof caughtErrorSchema>;

/** Bedrock's phases (GetModelCustomizationJob `statusDetails`): each phase's `status`. */
const statusDetailsSchema = /* @__PURE__ */ z.lazy(() => {
  const phase = z.optional(z.looseObject({ status: z.optional(z.string()) }));
  return z.looseObject({ validationDetails: phase, dataProcessingDetails: phase, trainingDetails: phase });
});

/** `$.poll` as a reader takes it: the fields of {@link PollResult} the view and the CLI show. */
const pollResultSchema = /* @__PURE__ */ z.lazy(() => z.looseObject({
  status: z.enum(JOB_STATUSES),
  next: z.optional(z.enum(POLL_NEXT)),
  pollCount: z.optional(z.number()),
  nextWaitSeconds: z.optional(z.number()),
  message: z.optional(z.string()),
  failureMessage: z.optional(z.string()),
  phaseFailure: z.optional(z.looseObject({ phase: z.enum(JOB_PHASES), failureMessage: z.optional(z.string()), detectedAt: z.string() })),
  handover: z.optional(z.looseObject({ generation: z.optional(z.number()), executionName: z.optional(z.string()), executionArn: z.optional(z.string()) })),
  statusDetails: z.optional(statusDetailsSchema),
  outputModelArn: z.optional(z.string()),
  trainingMetrics: z.optional(z.looseObject({ trainingLoss: z.optional(z.number()) })),
}));
// What poll-status produces is what this reads (compile-time check; statusDetails is Bedrock's, unknown there).
const _pollResultIsRead: z.input<typeof pollResultSchema> = {} as Omit<PollResult, 'statusDetails'>;
void _pollResultIsRead;

/** `$.preflight`: the network preflight's report (validate-network's PreflightReport), the parts a reader shows. */
const preflightSummarySchema = /* @__PURE__ */ z.lazy(() => z.looseObject({
  counts: z.looseObject({ passed: z.number(), warn: z.number(), fail: z.number() }),
  awsCalls: z.optional(z.number()),
  checks: z.optional(z.array(z.looseObject({ id: z.string(), passed: z.boolean(), severity: z.string(), resource: z.string(), message: z.string(), remedy: z.optional(z.string()) }))),
}));

/** `$.policies`: the policy plan or its application (apply-policies' PolicyPlan / ApplyResult), the parts a reader shows. */
const policyChangesSchema = /* @__PURE__ */ z.lazy(() => z.looseObject({
  changes: z.array(
    z.looseObject({
      action: z.string(),
      target: z.looseObject({ resource: z.string() }),
      diff: z.looseObject({ added: z.array(z.unknown()), removed: z.array(z.unknown()) }),
    }),
  ),
  /** Targets written (ApplyResult); absent from a plan. */
  applied: z.optional(z.array(z.string())),
}));

/** `$.dataset`: the dataset check's report (validate-dataset's DatasetReport), the parts a reader shows. */
const datasetSummarySchema = /* @__PURE__ */ z.lazy(() => z.looseObject({
  status: z.string(),
  format: z.optional(z.string()),
  trainingRecords: z.number(),
  validationRecords: z.number(),
  tokens: z.optional(z.looseObject({ total: z.number(), epochs: z.number() })),
  costUsd: z.optional(z.number()),
  notes: z.array(z.string()),
}));

/** A step's result that carries one line a person reads (`$.cleanup`, `$.revoke`). */
const summarySchema = /* @__PURE__ */ z.lazy(() => z.looseObject({ summary: z.string() }));

/** `$.rollback`: what RollbackPolicies did (apply-policies' RollbackResult), the parts a reader shows. */
const rollbackSummarySchema = /* @__PURE__ */ z.lazy(() => z.looseObject({ restored: z.array(z.string()), deleted: z.array(z.string()), leftAlone: z.array(z.string()) }));

/** `$.jobEvent`: how WaitForJobEvent ended: released (job-events' WaitOutput) or caught (`{Error, Cause}`). */
const jobEventSchema = /* @__PURE__ */ z.lazy(() => z.looseObject({
  source: z.optional(z.enum(['register', 'event'])),
  status: z.optional(z.string()),
  Error: z.optional(z.string()),
}));

/** The fields of the state data a reader shows, each with its schema ({@link readStateData}). */
function buildStateFields() {
  return {
    job: z.looseObject({ jobName: z.optional(z.string()), dryRun: z.optional(z.boolean()), polling: z.optional(z.looseObject({ mode: z.optional(z.enum(['event', 'poll'])) })) }),
    submission: submissionSchema,
    poll: pollResultSchema,
    preflight: preflightSummarySchema,
    policies: policyChangesSchema,
    dataset: datasetSummarySchema,
    jobEvent: jobEventSchema,
    stopError: caughtErrorSchema,
    cleanup: summarySchema,
    cleanupError: caughtErrorSchema,
    revoke: summarySchema,
    revokeError: caughtErrorSchema,
    rollback: rollbackSummarySchema,
    rollbackError: caughtErrorSchema,
    /** The evaluation gate (evaluate-model), its error, and what EvaluationCleanup did. */
    evaluation: evaluationStateSchema,
    evaluationError: caughtErrorSchema,
    evaluationCleanup: summarySchema,
    evaluationCleanupError: caughtErrorSchema,
    /** HandOver's result (StartExecution's output). */
    handedOverTo: z.looseObject({ ExecutionArn: z.string() }),
    handoverCheck: z.looseObject({ executionArn: z.optional(z.string()), ExecutionArn: z.optional(z.string()) }),
  };
}
let stateFieldsBuilt: ReturnType<typeof buildStateFields> | undefined;
/** {@link buildStateFields}, built on the first read and kept. */
const stateFields = () => (stateFieldsBuilt ??= buildStateFields());

/** The state data a reader shows: each field present only when it has its shape. */
type StateFields = ReturnType<typeof buildStateFields>;
export type StateData = { -readonly [K in keyof StateFields]?: z.output<StateFields[K]> };

/** `value` (a state's input or output, parsed JSON) read as state data, field by field; undefined when it is not an object. */
export function readStateData(value: unknown): StateData | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const data: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(stateFields())) {
    const field = (value as Record<string, unknown>)[key];
    if (field === undefined) continue;
    const parsed = z.safeParse(schema, field);
    if (parsed.success) data[key] = parsed.data;
  }
  return data as StateData;
}

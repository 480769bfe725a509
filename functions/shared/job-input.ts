/**
 * The one job-input shape every entry point resolves to (docs/configuration.md "The job input"), its zod schema,
 * and the resolution of a raw execution input into a complete {@link JobInput}: the stage's values
 * (serverless.yml params) under the input, the input checked to stay within them (the stage decides,
 * the job narrows), names and the idempotency token derived from the execution (or, for an upload,
 * from the uploaded object's identity), S3 locations parsed once. Makes no AWS call.
 */
import { createHash } from 'node:crypto';
import { MAX_ARN_LENGTH, ROLE_ARN_PATTERN } from './arn.js';
import { InvalidInputError, type InputIssue } from './errors.js';
import {
  accountIdSchema,
  LAMBDA_FUNCTION_ARN,
  MAX_EC2_ID_LENGTH,
  MAX_LAMBDA_ARN_LENGTH,
  MAX_MODEL_IDENTIFIER_LENGTH,
  MAX_REGION_LENGTH,
  MODEL_IDENTIFIER,
  PRINCIPAL_ARN,
  REGION,
  SECURITY_GROUP_ID,
  SUBNET_ID,
  vpcIdSchema,
} from './ids.js';
import { CONTROL_CHARACTERS, parseS3Uri, s3KeyProblems, type BucketAccess, type S3Location } from './s3.js';
import * as z from 'zod/mini';
import { EVALUATION_DATASET_NAME, EVALUATION_TASK_TYPES, isJudgeMetric, JUDGE_METRIC_NAMES, MAX_EVALUATION_PROMPTS } from './evaluation-support.js';
import { executionSchema, pollingSchema, type Execution } from './job-state.js';
import { BUCKET_NAME_PATTERN, inferencePriceFor, MAX_JOB_DURATION_SECONDS, STAGE_PARAMS, trainingPriceFor, type Stage, type StagePolicies } from './stage.js';
import { parseOrThrow } from './validation.js';
// The job-input schemas are built on their first parse (buildSchemas, jobInputSchemas): a cold start builds none.

export { executionSchema, pollingSchema, MAX_JOB_DURATION_SECONDS, type Execution };

/**
 * Bedrock API patterns (CreateModelCustomizationJob), each in a form that runs in linear time (every
 * regex applied to input is checked by test/unit/regex-safety.test.ts; the rewrites are proven to
 * accept the same strings there).
 * - jobName: the API's `[a-zA-Z0-9](-*[a-zA-Z0-9\+\-\.])*`, 1-63. Its class already holds `-`, so the
 *   `-*` adds nothing to the language but made the regex backtrack exponentially: the same language, linear.
 * - customModelName: the API's `([0-9a-zA-Z][_-]?)+`, 1-63 (unambiguous as it is: each repetition
 *   starts with the one letter or digit).
 * - clientRequestToken: the API's `^[a-zA-Z0-9](-*[a-zA-Z0-9])*$`, 1-256 (unambiguous: a run of `-` ends on a letter or digit).
 */
export const JOB_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9+\-.]*$/;
export const CUSTOM_MODEL_NAME_PATTERN = /^([0-9a-zA-Z][_-]?)+$/;
export const CLIENT_REQUEST_TOKEN_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;

/**
 * Our limits on hyperparameters (Bedrock documents names per model, all camelCase words such as
 * epochCount or learningRateMultiplier, with numeric values): enough for every model, and no room for
 * a payload.
 */
export const HYPERPARAMETER_LIMITS = { count: 30, keyPattern: /^[A-Za-z][A-Za-z0-9]{0,63}$/, valueMax: 256 } as const;

/** Keys no record of the input may use: they would change the prototype of the parsed object. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The length caps come first and stop the parse (`abort`): zod runs a string's later checks after a
 * failed one unless it aborts, so without it a regex or refine would still see an over-long string.
 */
const text = (min: number, max: number) => z.string().check(z.minLength(min), z.maxLength(max, { abort: true }));
/** A string of at most `max` characters matching `pattern`; the regex never sees a longer one. */
const matching = (max: number, pattern: RegExp, message?: string) =>
  z.string().check(z.maxLength(max, { abort: true }), z.regex(pattern, message));
/** Longest s3:// URI: `s3://`, a bucket name (63), `/`, a key of at most 1,024 bytes (a UTF-8 byte per character at least). */
const MAX_S3_URI_LENGTH = 's3://'.length + 63 + 1 + 1024;
const int = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));
/** The object-key rules of shared/s3.ts, each broken rule an issue, on the key `keyOf` takes from the value. */
const s3KeyRules = (keyOf: (value: string) => string = (v) => v) =>
  z.superRefine<string>((value, ctx) => {
    for (const message of s3KeyProblems(keyOf(value))) ctx.addIssue({ code: 'custom', message, input: value });
  });
/** An IAM role ARN. */
export const roleArnSchema = /* @__PURE__ */ (() => matching(MAX_ARN_LENGTH, ROLE_ARN_PATTERN, 'must be an IAM role ARN'))();

/** The records of the input whose keys {@link FORBIDDEN_KEYS} are checked before parsing (z.record drops a `__proto__` key silently). */
const RECORD_FIELDS = ['hyperParameters', 'jobTags', 'customModelTags'] as const;

/**
 * Builds the schemas of the job input. They are built on their first use ({@link jobInputSchemas}),
 * not at import: a cold start of a function that parses a job pays for them on its first event only,
 * and one that never parses a job never builds them.
 */
function buildSchemas() {
  const s3Uri = z
    .string()
    .check(
      z.maxLength(MAX_S3_URI_LENGTH, { abort: true }),
      z.regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/s, 'must be an s3:// URI with a valid bucket name'),
      s3KeyRules((uri) => uri.replace(/^s3:\/\/[^/]+\/?/, '')),
    );
  /**
   * Checks each key of a record, the issue at the key with `problem`'s message. (A key schema of
   * `z.record` reports only "Invalid key in record", losing why.)
   */
  const eachKey = (problem: (key: string) => string | undefined) =>
    z.superRefine<Record<string, unknown>>((record, ctx) => {
      for (const key of Object.keys(record)) {
        const message = problem(key);
        if (message !== undefined) ctx.addIssue({ code: 'custom', message, path: [key], input: key });
      }
    });
  const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
  const tagKeyProblem = (key: string) =>
    key.length < 1 || key.length > 128
      ? 'must be a tag key of 1 to 128 characters'
      : !TAG_TEXT.test(key)
        ? 'must be a tag key (letters, digits, spaces and _.:/=+-@)'
        : key.toLowerCase().startsWith('aws:')
          ? 'must not start with "aws:" (reserved for AWS)'
          : undefined;
  /** Resource tags as Bedrock takes them; `aws:` keys are AWS's own. */
  const tagMap = z
    .record(z.string(), matching(256, TAG_TEXT, 'must be a tag value (letters, digits, spaces and _.:/=+-@)'))
    .check(
      eachKey(tagKeyProblem),
      z.refine((tags) => Object.keys(tags).length <= 200, 'at most 200 tags'),
    );
  const hyperParametersSchema = z
    .record(
      z.string(),
      text(1, HYPERPARAMETER_LIMITS.valueMax).check(z.refine((v: string) => !CONTROL_CHARACTERS.test(v), 'must not contain control characters')),
    )
    .check(
      eachKey((key) =>
        key.length <= 64 && HYPERPARAMETER_LIMITS.keyPattern.test(key) ? undefined : 'must be a hyperparameter name (a letter, then letters or digits, at most 64)',
      ),
      z.refine((h) => Object.keys(h).length <= HYPERPARAMETER_LIMITS.count, `at most ${HYPERPARAMETER_LIMITS.count} hyperparameters`),
    );
  const uniqueIds = (prefix: string, pattern: RegExp, min: number, max: number) =>
    z
      .array(matching(MAX_EC2_ID_LENGTH, pattern, `must look like ${prefix}-0123456789abcdef0`))
      .check(
        z.minLength(min),
        z.maxLength(max),
        z.refine((ids) => new Set(ids).size === ids.length, 'must not contain duplicates'),
      );

  /** `vpcConfig` as a job gives it: the VPC (the stage's, when given), some of the stage's subnets and groups. */
  const vpcConfigSchema = z.strictObject({
    vpcId: z.optional(vpcIdSchema),
    subnetIds: uniqueIds('subnet', SUBNET_ID, 1, 16),
    securityGroupIds: uniqueIds('sg', SECURITY_GROUP_ID, 1, 5),
  });

  const policySettings = {
    /** S3 gateway endpoint policy: replace the default full access (`restrict`), add ours (`append`), or leave it. */
    endpoint: z.enum(['restrict', 'append', 'skip']),
    /** Deny access to the output bucket unless it comes from the job's VPC (exempt principals aside). */
    outputBucket: z.enum(['apply', 'skip']),
    /** The same restriction on the training bucket. */
    trainingBucket: z.enum(['apply', 'skip']),
    /** The Bedrock service role's VPC (ENI) permissions and bucket access, as an inline policy. */
    role: z.enum(['apply', 'skip']),
  };

  /** `policies` as a job gives it: each setting the stage's own or `skip` (merged over the stage's settings). */
  const policiesInputSchema = z.strictObject(policySettings);

  /** `policies` of a resolved job: the settings, and the stage's exempt principals (never from the input). */
  const policiesSchema = z.strictObject({
    ...policySettings,
    /** Principals kept out of the bucket Deny: the stage param exemptPrincipalArns. */
    exemptPrincipalArns: z.array(matching(MAX_ARN_LENGTH, PRINCIPAL_ARN)).check(z.maxLength(20)),
  });

  const preflightSchema = z.strictObject({
    /** A job subnet with fewer free IP addresses than this is reported (the job's ENIs need them). */
    minFreeIpsPerSubnet: z._default(int(1, 256), 4),
  });


  const jobNameSchema = matching(63, JOB_NAME_PATTERN, 'must match [a-zA-Z0-9](-*[a-zA-Z0-9+-.])*');
  const customModelNameSchema = matching(63, CUSTOM_MODEL_NAME_PATTERN, 'must match ([0-9a-zA-Z][_-]?)+');

  /**
   * The uploaded object, as the upload rule passes it: the `detail` of S3's EventBridge "Object Created"
   * event (docs/configuration.md "Trigger"), field names as AWS documents them. The fields used here are checked; any
   * other field S3 sends (`version`, `request-id`, `reason`… and whatever it adds later) is let through.
   * The object's identity is its `version-id` (versioned bucket) or else its `etag` and `sequencer`.
   */
  const uploadSchema = z
    .looseObject({
      bucket: z.looseObject({ name: matching(63, BUCKET_NAME_PATTERN, 'must be an S3 bucket name') }),
      object: z.looseObject({
        key: z.string().check(z.minLength(1), s3KeyRules()),
        size: z.optional(z.int().check(z.minimum(0))),
        etag: z.optional(text(1, 1024)),
        'version-id': z.optional(text(1, 1024)),
        sequencer: z.optional(text(1, 1024)),
      }),
    })
    .check(
      z.refine((upload) => uploadVersionId(upload) !== undefined || (upload.object.etag !== undefined && upload.object.sequencer !== undefined), {
        path: ['object'],
        message: 'must have a version-id, or else an etag and a sequencer (the object\'s identity)',
      }),
    );

  /*
   * The settings of distillation and reinforcement fine-tuning, and training from invocation logs, as
   * CreateModelCustomizationJob takes them (botocore data/bedrock/2023-04-20/service-2.json, shapes
   * CustomizationConfig, DistillationConfig, TeacherModelConfig, RFTConfig, GraderConfig,
   * LambdaGraderConfig, RFTHyperParameters, InvocationLogsConfig, InvocationLogSource,
   * RequestMetadataFilters; the SDK's types of the same names in @aws-sdk/client-bedrock). Bounds are the
   * model's `min`/`max`; where the model sets none (a plain `integer`), a positive 32-bit integer.
   */
  const positiveInt32 = int(1, 2_147_483_647);
  const teacherModelConfigSchema = z.strictObject({
    teacherModelIdentifier: matching(MAX_MODEL_IDENTIFIER_LENGTH, MODEL_IDENTIFIER, 'must be a Bedrock model id or a foundation-model or inference-profile ARN'),
    maxResponseLengthForInference: z.optional(positiveInt32),
  });
  const rftHyperParametersSchema = z.strictObject({
    epochCount: z.optional(int(1, 50)),
    batchSize: z.optional(int(16, 512)),
    learningRate: z.optional(z.number().check(z.gte(1e-7), z.lte(1e-3))),
    maxPromptLength: z.optional(positiveInt32),
    trainingSamplePerPrompt: z.optional(int(2, 16)),
    inferenceMaxTokens: z.optional(positiveInt32),
    reasoningEffort: z.optional(z.enum(['low', 'medium', 'high'])),
    evalInterval: z.optional(int(1, 100)),
  });
  /** A union of the API: an object with exactly one of its members (each member's issues keep their path). */
  const oneMember = (names: string) =>
    z.refine<Record<string, unknown>>((value) => Object.values(value).filter((v) => v !== undefined).length === 1, `must set exactly one of ${names}`);
  const customizationConfigSchema = z
    .strictObject({
      distillationConfig: z.optional(z.strictObject({ teacherModelConfig: teacherModelConfigSchema })),
      rftConfig: z.optional(
        z.strictObject({
          // Optional in the API; required here: the workflow checks, grants and leases the grader it names.
          graderConfig: z.strictObject({
            lambdaGrader: z.strictObject({
              lambdaArn: matching(MAX_LAMBDA_ARN_LENGTH, LAMBDA_FUNCTION_ARN, 'must be a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>[:<version or alias>])'),
            }),
          }),
          hyperParameters: z.optional(rftHyperParametersSchema),
        }),
      ),
    })
    .check(oneMember('distillationConfig, rftConfig'));
  /** RequestMetadataMap: exactly one key (1-256) and its value (0-256) of `[a-zA-Z0-9\s._:/=+$@-]`. */
  const METADATA_TEXT = /^[a-zA-Z0-9\s._:/=+$@-]*$/;
  const metadataText = (min: number) =>
    z.string().check(z.minLength(min), z.maxLength(256, { abort: true }), z.regex(METADATA_TEXT, 'must be letters, digits, spaces and ._:/=+$@-'));
  const metadataMap = z.record(metadataText(1), metadataText(0)).check(z.refine((m) => Object.keys(m).length === 1, 'must hold exactly one key'));
  const baseFilter = z
    .strictObject({ equals: z.optional(metadataMap), notEquals: z.optional(metadataMap) })
    .check(oneMember('equals, notEquals'));
  const filterList = z.array(baseFilter).check(z.minLength(1), z.maxLength(16));
  const requestMetadataFiltersSchema = z
    .strictObject({ equals: z.optional(metadataMap), notEquals: z.optional(metadataMap), andAll: z.optional(filterList), orAll: z.optional(filterList) })
    .check(oneMember('equals, notEquals, andAll, orAll'));
  const invocationLogsConfigSchema = z.strictObject({
    usePromptResponse: z.optional(z.boolean()),
    // A union of one member (s3Uri) in the API.
    invocationLogSource: z.strictObject({ s3Uri }),
    requestMetadataFilters: z.optional(requestMetadataFiltersSchema),
  });

  /*
   * The evaluation gate (docs/evaluation.md), as a job asks for it and as it is resolved within the
   * stage. Bounds: botocore 1.44.18 bedrock (EvaluationDataset.name, EvaluationTaskType, the judge
   * metric names of EvaluationDatasetMetricConfig.metricNames), the 1,000 prompts of a judge job
   * (shared/evaluation-support.ts); the rest are the gate's own.
   */
  const judgeMetricSchema = matching(64, /^Builtin\.[A-Za-z]{1,56}$/, `must be a judge metric (${JUDGE_METRIC_NAMES.join(', ')})`).check(
    z.refine((name: string) => isJudgeMetric(name), `must be a judge metric (${JUDGE_METRIC_NAMES.join(', ')})`),
  );
  const evaluationMetricsSchema = z
    .array(judgeMetricSchema)
    .check(z.minLength(1), z.maxLength(EVALUATION_LIMITS.maxMetrics), z.refine((m) => new Set(m).size === m.length, 'must not contain duplicates'));
  const evaluationDatasetNameSchema = matching(63, EVALUATION_DATASET_NAME, 'must be a dataset name of the stage (1 to 63 of [0-9a-zA-Z-_.])');
  const judgeModelSchema = matching(MAX_MODEL_IDENTIFIER_LENGTH, MODEL_IDENTIFIER, 'must be a Bedrock model or inference-profile id, or a foundation-model or inference-profile ARN');
  const minScoreSchema = z.number().check(z.gte(0), z.lte(1));
  const minGainSchema = z.number().check(z.gte(-1), z.lte(1));
  const maxTokensSchema = int(1, EVALUATION_LIMITS.maxTokens);
  const temperatureSchema = z.number().check(z.gte(0), z.lte(1));
  const evaluationCostSchema = z.number().check(z.gt(0, 'must be more than 0'), z.lte(1e12));
  const evaluationDurationSchema = int(EVALUATION_LIMITS.minDurationSeconds, EVALUATION_LIMITS.maxDurationSeconds);
  /** `evaluation` as a job gives it. */
  const evaluationInputSchema = z.strictObject({
    /** A dataset name of the stage (param evaluationDatasets). */
    dataset: evaluationDatasetNameSchema,
    /** Some of the stage's metrics (param evaluationMetrics). */
    metrics: evaluationMetricsSchema,
    /** One of the stage's judge models (param evaluationJudgeModels). */
    judgeModelIdentifier: judgeModelSchema,
    taskType: z.optional(z.enum(EVALUATION_TASK_TYPES)),
    thresholds: z.optional(z.strictObject({ minScore: z.optional(minScoreSchema), minGainOverBase: z.optional(minGainSchema) })),
    /** At most the stage's (param evaluationMaxPrompts). */
    maxPrompts: z.optional(int(1, MAX_EVALUATION_PROMPTS)),
    inference: z.optional(z.strictObject({ maxTokens: z.optional(maxTokensSchema), temperature: z.optional(temperatureSchema) })),
    /** At most the stage's (param maxEvaluationCostUsd); needs the prices of the base and judge models. */
    maxCostUsd: z.optional(evaluationCostSchema),
    maxDurationSeconds: z.optional(evaluationDurationSchema),
  });
  /** `$.job.evaluation`: the gate resolved within the stage, defaults filled in. */
  const jobEvaluationSchema = z.strictObject({
    dataset: z.strictObject({ name: evaluationDatasetNameSchema, s3Uri }),
    metrics: evaluationMetricsSchema,
    judgeModelIdentifier: judgeModelSchema,
    taskType: z.enum(EVALUATION_TASK_TYPES),
    thresholds: z.strictObject({ minScore: z.optional(minScoreSchema), minGainOverBase: minGainSchema }),
    maxPrompts: int(1, MAX_EVALUATION_PROMPTS),
    inference: z.strictObject({ maxTokens: maxTokensSchema, temperature: temperatureSchema }),
    /** The job's cap, else the stage's (absent: no cap). */
    maxCostUsd: z.optional(evaluationCostSchema),
    maxDurationSeconds: evaluationDurationSchema,
    /** `s3://<evaluationBucket>/evaluations/<jobName>/`: everything the gate writes. */
    outputS3Uri: s3Uri,
  });

  /** Fields a caller may give (the stage defaults are merged under them before parsing). */
  const jobFields = {
    baseModelIdentifier: text(1, 2048),
    customizationType: z._default(
      z.enum(['FINE_TUNING', 'CONTINUED_PRE_TRAINING', 'DISTILLATION', 'REINFORCEMENT_FINE_TUNING']),
      'FINE_TUNING',
    ),
    roleArn: roleArnSchema,
    /** The training dataset; not with `invocationLogsConfig` (then the job trains on invocation logs). */
    trainingDataS3Uri: z.optional(s3Uri),
    /** DISTILLATION's or REINFORCEMENT_FINE_TUNING's settings (crossFieldIssues: required with those, not with others). */
    customizationConfig: z.optional(customizationConfigSchema),
    /** DISTILLATION or REINFORCEMENT_FINE_TUNING from Bedrock invocation logs instead of a dataset file. */
    invocationLogsConfig: z.optional(invocationLogsConfigSchema),
    validationDataS3Uris: z._default(z.array(s3Uri).check(z.maxLength(10)), []),
    outputDataS3Uri: s3Uri,
    hyperParameters: z._default(hyperParametersSchema, {}),
    vpcConfig: vpcConfigSchema,
    jobName: z.optional(jobNameSchema),
    customModelName: z.optional(customModelNameSchema),
    /** One of the stage's keys (param kmsKeyArns), by its ARN. */
    customModelKmsKeyId: z.optional(text(1, 2048)),
    jobTags: z._default(tagMap, {}),
    customModelTags: z._default(tagMap, {}),
    policies: policiesInputSchema,
    preflight: z._default(preflightSchema, () => z.parse(preflightSchema, {})),
    /** Stop the job when it runs longer than this (from submission). */
    maxJobDurationSeconds: z._default(int(1, MAX_JOB_DURATION_SECONDS), 86400),
    polling: z._default(pollingSchema, () => z.parse(pollingSchema, {})),
    /** How long SubmitJob keeps retrying while the account's concurrent-job quota is reached. */
    maxQuotaWaitSeconds: z._default(int(0, 7 * 24 * 3600), 6 * 3600),
    dryRun: z._default(z.boolean(), false),
    /**
     * The dataset step's caps for this job: at most the stage's (params maxTrainingTokens,
     * maxTrainingCostUsd); a cost cap needs the stage's price (trainingTokenPriceUsdPer1k).
     */
    budget: z._default(
      z.strictObject({
        maxTrainingTokens: z.optional(int(1, 1e15)),
        maxTrainingCostUsd: z.optional(z.number().check(z.gt(0, 'must be more than 0'), z.lte(1e12))),
      }),
      {},
    ),
    /** The uploaded object that started this execution (the upload rule); not with `trainingDataS3Uri`. */
    upload: z.optional(uploadSchema),
    /** The evaluation gate after training (the stage's evaluationGate allows or requires it). */
    evaluation: z.optional(evaluationInputSchema),
  };

  /** The raw input as a caller sends it (before defaults and derivation). */
  const rawJobInputSchema = z.strictObject(jobFields);

  const s3Location = z.strictObject({ bucket: text(3, 63), key: z.string() });

  /** The job's S3 locations, parsed once from its URIs, and each bucket with the access the job needs. */
  const jobS3Schema = z.strictObject({
    /** Absent when the job trains on invocation logs. */
    training: z.optional(s3Location),
    /** The invocation-log source (read only), when the job trains on invocation logs. */
    invocationLogs: z.optional(s3Location),
    validation: z.array(s3Location),
    output: s3Location,
    /** Every bucket the job uses, once, sorted by name: read (training, validation, invocation logs) or read/write (output). */
    buckets: z.array(z.strictObject({ bucket: text(3, 63), access: z.enum(['read', 'readwrite']) })),
  });

  /** The fields of a resolved job, without the check across fields (`z.pick` takes an object without checks). */
  const resolvedJobObject = z.strictObject({
    ...jobFields,
    vpcConfig: z.strictObject({ ...vpcConfigSchema.shape, vpcId: vpcIdSchema }),
    policies: policiesSchema,
    jobName: jobNameSchema,
    customModelName: customModelNameSchema,
    clientRequestToken: matching(256, CLIENT_REQUEST_TOKEN_PATTERN),
    region: matching(MAX_REGION_LENGTH, REGION, 'must be an AWS region'),
    accountId: accountIdSchema,
    partition: text(3, 20),
    s3: jobS3Schema,
    evaluation: z.optional(jobEvaluationSchema),
  });
  /** A fully resolved job input: what every step after ResolveInput receives as `$.job`. */
  const jobInputSchema = resolvedJobObject.check(
    z.refine((job) => job.polling.initialSeconds <= job.polling.maxSeconds, {
      path: ['polling', 'initialSeconds'],
      message: 'must not exceed polling.maxSeconds',
    }),
    z.superRefine((job, ctx) => {
      for (const { field, message } of crossFieldIssues(job)) ctx.addIssue({ code: 'custom', path: field.split('.'), message, input: undefined });
    }),
  );
  return { uploadSchema, rawJobInputSchema, jobS3Schema, resolvedJobObject, jobInputSchema, evaluationInputSchema, jobEvaluationSchema };
}

let built: ReturnType<typeof buildSchemas> | undefined;
/** The job-input schemas, built on the first call and kept. */
export function jobInputSchemas(): ReturnType<typeof buildSchemas> {
  return (built ??= buildSchemas());
}

/** The uploaded object (see buildSchemas), built on its first parse. */
export const uploadSchema = /* @__PURE__ */ z.lazy(() => jobInputSchemas().uploadSchema);
export type Upload = z.infer<ReturnType<typeof buildSchemas>['uploadSchema']>;
/** The raw input as a caller sends it (before defaults and derivation), built on its first parse. */
export const rawJobInputSchema = /* @__PURE__ */ z.lazy(() => jobInputSchemas().rawJobInputSchema);
/** A fully resolved job input: what every step after ResolveInput receives as `$.job`; built on its first parse. */
export const jobInputSchema = /* @__PURE__ */ z.lazy(() => jobInputSchemas().jobInputSchema);
export type JobS3 = z.infer<ReturnType<typeof buildSchemas>['jobS3Schema']>;
/** `$.job.evaluation` (the gate resolved within the stage), built on its first parse. */
export const jobEvaluationSchema = /* @__PURE__ */ z.lazy(() => jobInputSchemas().jobEvaluationSchema);
/** `$.job.evaluation`: the evaluation gate of a resolved job. */
export type JobEvaluation = z.infer<ReturnType<typeof buildSchemas>['jobEvaluationSchema']>;
/** `evaluation` as a job input gives it. */
export type RawJobEvaluation = z.infer<ReturnType<typeof buildSchemas>['evaluationInputSchema']>;

/** The gate's bounds and defaults for what a job may set (docs/configuration.md "The evaluation gate"). */
export const EVALUATION_LIMITS = {
  /** Metrics one job may ask for. */
  maxMetrics: 10,
  maxTokens: 8192,
  minDurationSeconds: 600,
  maxDurationSeconds: 7 * 24 * 3600,
} as const;
export const EVALUATION_DEFAULTS = {
  taskType: 'Generation',
  minGainOverBase: 0,
  maxTokens: 512,
  temperature: 0,
  maxDurationSeconds: 6 * 3600,
} as const;

/** Where the gate of job `jobName` writes: `s3://<evaluationBucket>/evaluations/<jobName>/`. */
export function evaluationOutputS3Uri(evaluationBucket: string, jobName: string): string {
  return `s3://${evaluationBucket}/evaluations/${evaluationKeySegment(jobName)}/`;
}

/**
 * The job's folder under `evaluations/`: its name when CreateEvaluationJob's S3Uri pattern takes it as a key segment
 * (botocore 1.44.18, shape S3Uri: `[-!_*'().a-z0-9A-Z]+` per segment), else the name with every other character
 * (a job name may hold `+`) turned into `-` and a hash of the exact name appended, so two jobs never share a folder
 * (each job's grants cover its own folder only).
 */
export function evaluationKeySegment(jobName: string): string {
  if (/^[-!_*'().a-zA-Z0-9]+$/.test(jobName)) return jobName;
  return `${jobName.replace(/[^-!_*'().a-zA-Z0-9]/g, '-')}-${shortHash(jobName)}`;
}

/**
 * A job's `evaluation`, checked against the stage already ({@link stageViolations}), resolved: the
 * dataset's URI, the defaults, the stage's caps where the job sets none, the output prefix.
 */
export function resolveEvaluation(raw: RawJobEvaluation, stage: Stage, jobName: string): JobEvaluation {
  const { bucket, datasets, maxPrompts, maxCostUsd } = stage.evaluation;
  if (bucket === undefined || !Object.hasOwn(datasets, raw.dataset)) {
    // stageViolations refuses both first; reaching here is a caller's bug, not an input problem.
    throw new Error('resolveEvaluation: the stage has no such dataset or no evaluation bucket');
  }
  const cost = raw.maxCostUsd ?? maxCostUsd;
  return {
    dataset: { name: raw.dataset, s3Uri: datasets[raw.dataset]! },
    metrics: raw.metrics,
    judgeModelIdentifier: raw.judgeModelIdentifier,
    taskType: raw.taskType ?? EVALUATION_DEFAULTS.taskType,
    thresholds: {
      ...(raw.thresholds?.minScore !== undefined ? { minScore: raw.thresholds.minScore } : {}),
      minGainOverBase: raw.thresholds?.minGainOverBase ?? EVALUATION_DEFAULTS.minGainOverBase,
    },
    maxPrompts: raw.maxPrompts ?? maxPrompts,
    inference: {
      maxTokens: raw.inference?.maxTokens ?? EVALUATION_DEFAULTS.maxTokens,
      temperature: raw.inference?.temperature ?? EVALUATION_DEFAULTS.temperature,
    },
    ...(cost !== undefined ? { maxCostUsd: cost } : {}),
    maxDurationSeconds: raw.maxDurationSeconds ?? EVALUATION_DEFAULTS.maxDurationSeconds,
    outputS3Uri: evaluationOutputS3Uri(bucket, jobName),
  };
}

/** Parses the job's S3 URIs once (they have been validated by the schema). */
export function jobS3(uris: {
  trainingDataS3Uri?: string | undefined;
  validationDataS3Uris: string[];
  outputDataS3Uri: string;
  invocationLogsConfig?: { invocationLogSource: { s3Uri: string } } | undefined;
}): JobS3 {
  const training = uris.trainingDataS3Uri === undefined ? undefined : parseS3Uri(uris.trainingDataS3Uri);
  const invocationLogs = uris.invocationLogsConfig && parseS3Uri(uris.invocationLogsConfig.invocationLogSource.s3Uri);
  const validation = uris.validationDataS3Uris.map(parseS3Uri);
  const output = parseS3Uri(uris.outputDataS3Uri);
  const read = [training, invocationLogs, ...validation].filter((l): l is S3Location => l !== undefined);
  // A bucket used for input and output is read/write.
  const access = new Map<string, BucketAccess>([...read.map((l) => [l.bucket, 'read'] as const), [output.bucket, 'readwrite']]);
  const buckets = [...access].sort(([a], [b]) => a.localeCompare(b)).map(([bucket, level]) => ({ bucket, access: level }));
  return { ...(training ? { training } : {}), ...(invocationLogs ? { invocationLogs } : {}), validation, output, buckets };
}

/** The customization types, and which `customizationConfig` member each needs (none: no config). */
export const CUSTOMIZATION_CONFIG_MEMBER = {
  FINE_TUNING: undefined,
  CONTINUED_PRE_TRAINING: undefined,
  DISTILLATION: 'distillationConfig',
  REINFORCEMENT_FINE_TUNING: 'rftConfig',
} as const;

/**
 * The customization types that may train on invocation logs (Amazon Bedrock User Guide, "Option 2: Use
 * invocation logs for data preparation" of distillation, distillation-data-prep-option-2.html, and of
 * reinforcement fine-tuning, rft-option-2.html).
 */
export const INVOCATION_LOG_TYPES: readonly string[] = ['DISTILLATION', 'REINFORCEMENT_FINE_TUNING'];

/** The customization types whose data says nothing of the training tokens: no estimate, so no token or cost cap can be held. */
export const NO_TOKEN_ESTIMATE_TYPES: readonly string[] = ['DISTILLATION', 'REINFORCEMENT_FINE_TUNING'];

/** The fields {@link crossFieldIssues} reads. */
interface CrossFields {
  customizationType: keyof typeof CUSTOMIZATION_CONFIG_MEMBER;
  customizationConfig?: { distillationConfig?: unknown; rftConfig?: unknown } | undefined;
  invocationLogsConfig?: unknown;
  trainingDataS3Uri?: string | undefined;
  hyperParameters: Record<string, string>;
  validationDataS3Uris: string[];
}

/**
 * The combinations CreateModelCustomizationJob refuses (or that this workflow cannot follow), one issue
 * per field: the customization type's config member, and only that one; a dataset file or invocation
 * logs, exactly one of them; invocation logs only for the types the Amazon Bedrock User Guide documents
 * them for ({@link INVOCATION_LOG_TYPES}); RFT's hyper-parameters in
 * `customizationConfig.rftConfig.hyperParameters` (typed), not in the string map.
 */
export function crossFieldIssues(job: CrossFields): InputIssue[] {
  const issues: InputIssue[] = [];
  const needed = CUSTOMIZATION_CONFIG_MEMBER[job.customizationType];
  const given = job.customizationConfig && Object.entries(job.customizationConfig).find(([, v]) => v !== undefined)?.[0];
  if (needed === undefined && given !== undefined) {
    issues.push({ field: 'customizationConfig', message: `must be left out for ${job.customizationType} (it is for DISTILLATION and REINFORCEMENT_FINE_TUNING)` });
  } else if (needed !== undefined && given !== needed) {
    issues.push({ field: `customizationConfig.${needed}`, message: `is required for ${job.customizationType}${given ? ` (${given} is for another customization type)` : ''}` });
  }
  if (job.invocationLogsConfig !== undefined && job.trainingDataS3Uri !== undefined) {
    issues.push({ field: 'invocationLogsConfig', message: 'must not be given together with trainingDataS3Uri or upload (the job trains on one or the other)' });
  } else if (job.invocationLogsConfig === undefined && job.trainingDataS3Uri === undefined) {
    issues.push({ field: 'trainingDataS3Uri', message: 'is required (or, for DISTILLATION and REINFORCEMENT_FINE_TUNING, invocationLogsConfig)' });
  }
  if (job.invocationLogsConfig !== undefined && !INVOCATION_LOG_TYPES.includes(job.customizationType)) {
    issues.push({ field: 'invocationLogsConfig', message: `is for DISTILLATION and REINFORCEMENT_FINE_TUNING, not ${job.customizationType}` });
  }
  if (job.customizationType === 'REINFORCEMENT_FINE_TUNING' && Object.keys(job.hyperParameters).length > 0) {
    issues.push({ field: 'hyperParameters', message: 'must be left out for REINFORCEMENT_FINE_TUNING: give them in customizationConfig.rftConfig.hyperParameters' });
  }
  return issues;
}

/** The teacher model a distillation job names (undefined for other jobs). */
export function teacherModelOf(job: Pick<JobInput, 'customizationConfig'>): string | undefined {
  const config = job.customizationConfig;
  return config?.distillationConfig?.teacherModelConfig.teacherModelIdentifier;
}

/** The grader Lambda an RFT job names (undefined for other jobs). */
export function graderLambdaArnOf(job: Pick<JobInput, 'customizationConfig'>): string | undefined {
  const config = job.customizationConfig;
  return config?.rftConfig?.graderConfig.lambdaGrader.lambdaArn;
}

export type JobInput = z.infer<ReturnType<typeof buildSchemas>['jobInputSchema']>;
export type RawJobInput = z.input<ReturnType<typeof buildSchemas>['rawJobInputSchema']>;

/** Deterministic short hash (hex) used to keep derived names unique after truncation. */
export function shortHash(value: string, length = 8): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length);
}

/** `jobName` derived from the execution: stable for a given execution, valid, ≤ 63 characters. */
export function deriveJobName(execution: Execution): string {
  const body = execution.name.replace(/[^a-zA-Z0-9+.-]+/g, '-').replace(/^[^a-zA-Z0-9]+/, '');
  const suffix = shortHash(execution.id);
  return `bvc-${body.slice(0, 63 - 4 - 1 - suffix.length)}${body ? '-' : ''}${suffix}`;
}

/** `customModelName` derived from the job name: `([0-9a-zA-Z][_-]?)+`, ≤ 63 characters. */
export function deriveCustomModelName(jobName: string): string {
  const name = `${jobName}-model`
    .replace(/[^0-9a-zA-Z_-]+/g, '-')
    .replace(/[_-]{2,}/g, '-')
    .replace(/^[_-]+/, '');
  const cut = name.length <= 63 ? name : `${name.slice(0, 54).replace(/^([\s\S]*[^_-])?[_-]*$/, '$1')}-${shortHash(name)}`;
  return cut;
}

/** `clientRequestToken` derived from the execution ARN: a retried task sends the same token. */
export function deriveClientRequestToken(execution: Execution): string {
  return createHash('sha256').update(execution.id).digest('hex');
}

/**
 * The version id of the upload, when the bucket versions its objects. `null` is what S3 reports for an
 * object written while versioning is suspended: every such upload of a key has it, so it identifies
 * nothing and the etag and sequencer are used instead.
 */
function uploadVersionId(upload: { object: { 'version-id'?: string | undefined } }): string | undefined {
  const versionId = upload.object['version-id'];
  return versionId === undefined || versionId === 'null' ? undefined : versionId;
}

/** The object's identity: bucket, key and version id, or else etag and sequencer (an unambiguous encoding). */
function uploadIdentity(upload: Upload): string {
  const versionId = uploadVersionId(upload);
  const { name } = upload.bucket;
  const { key, etag, sequencer } = upload.object;
  return JSON.stringify(versionId !== undefined ? ['s3-version', name, key, versionId] : ['s3-etag', name, key, etag, sequencer]);
}

/** `s3://<bucket>/<key>` of the upload, the key as it arrived in the event (not decoded). */
export function uploadS3Uri(upload: Upload): string {
  return `s3://${upload.bucket.name}/${upload.object.key}`;
}

/**
 * `clientRequestToken` derived from the uploaded object: sha-256 of its identity. A duplicate delivery
 * of the same event derives the same token (Bedrock answers with the job already created); a new
 * version of the object derives another.
 */
export function deriveUploadClientRequestToken(upload: Upload): string {
  return createHash('sha256').update(uploadIdentity(upload)).digest('hex');
}

/** `jobName` derived from the uploaded object: the readable end of its key and a hash of its identity, ≤ 63 characters. */
export function deriveUploadJobName(upload: Upload): string {
  const suffix = shortHash(uploadIdentity(upload), 12);
  const room = 63 - 'bvc-'.length - 1 - suffix.length;
  // The end of the key names the file; keep it, and start on a letter or digit.
  const body = upload.object.key
    .replace(/[^a-zA-Z0-9+.-]+/g, '-')
    .slice(-room)
    .replace(/^[^a-zA-Z0-9]+/, '');
  return `bvc-${body}${body ? '-' : ''}${suffix}`;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The input's fields the stage supplies when the input leaves them out. */
function stageValues(stage: Stage): Record<string, unknown> {
  return stripUndefined({
    baseModelIdentifier: stage.baseModelIdentifier,
    customizationType: stage.customizationType,
    roleArn: stage.roleArn,
    outputDataS3Uri: `s3://${stage.outputBucket}/${stage.outputPrefix}`,
    vpcConfig: { subnetIds: stage.subnetIds, securityGroupIds: stage.securityGroupIds },
    maxJobDurationSeconds: stage.maxJobDurationSeconds,
  });
}

const POLICY_PARAMS: Record<keyof StagePolicies, string> = {
  role: 'rolePolicy',
  endpoint: 'endpointPolicy',
  outputBucket: 'outputBucketPolicy',
  trainingBucket: 'trainingBucketPolicy',
};

/** The fields of a job that the stage bounds (a raw input once parsed, or a resolved job). */
export interface StageBoundFields {
  baseModelIdentifier: string;
  customizationType: string;
  roleArn: string;
  vpcConfig: { vpcId?: string | undefined; subnetIds: string[]; securityGroupIds: string[] };
  trainingDataS3Uri?: string | undefined;
  validationDataS3Uris: string[];
  outputDataS3Uri: string;
  customModelKmsKeyId?: string | undefined;
  customizationConfig?: JobInput['customizationConfig'];
  invocationLogsConfig?: { invocationLogSource: { s3Uri: string } } | undefined;
  policies: { [K in keyof StagePolicies]: string } & { exemptPrincipalArns?: string[] };
  maxJobDurationSeconds: number;
  budget?: { maxTrainingTokens?: number | undefined; maxTrainingCostUsd?: number | undefined };
  polling?: { mode?: 'event' | 'poll' | undefined; maxExecutions?: number | undefined };
  /** A resolved job's name (checks a resolved `evaluation.outputS3Uri`). */
  jobName?: string | undefined;
  /** As a job gives it (dataset: a name) or resolved (dataset: name and URI, outputS3Uri). */
  evaluation?:
    | {
        dataset: string | { name: string; s3Uri: string };
        metrics: string[];
        judgeModelIdentifier: string;
        maxPrompts?: number | undefined;
        maxCostUsd?: number | undefined;
        outputS3Uri?: string | undefined;
      }
    | undefined;
}

/**
 * What the job asks for beyond what the stage allows, one issue per field with the allowed values
 * (empty when it stays within). `trainingField` names the training data's field in the messages.
 */
export function stageViolations(job: StageBoundFields, stage: Stage, trainingField = 'trainingDataS3Uri'): InputIssue[] {
  const issues: InputIssue[] = [];
  const param = (name: keyof typeof STAGE_PARAMS) => `param ${name}`;
  const oneOf = (allowed: string[]) => (allowed.length ? allowed.join(', ') : 'none');
  if (job.roleArn !== stage.roleArn) {
    issues.push({ field: 'roleArn', message: `must be the stage's Bedrock role (${param('bedrockRoleArn')}): ${stage.roleArn}` });
  }
  if (job.vpcConfig.vpcId !== undefined && job.vpcConfig.vpcId !== stage.vpcId) {
    issues.push({ field: 'vpcConfig.vpcId', message: `must be the stage's VPC (${param('vpcId')}): ${stage.vpcId}` });
  }
  job.vpcConfig.subnetIds.forEach((id, i) => {
    if (!stage.subnetIds.includes(id)) {
      issues.push({ field: `vpcConfig.subnetIds[${i}]`, message: `must be one of the stage's subnets (${param('subnetIds')}): ${oneOf(stage.subnetIds)}` });
    }
  });
  job.vpcConfig.securityGroupIds.forEach((id, i) => {
    if (!stage.securityGroupIds.includes(id)) {
      issues.push({
        field: `vpcConfig.securityGroupIds[${i}]`,
        message: `must be one of the stage's security groups (${param('securityGroupIds')}): ${oneOf(stage.securityGroupIds)}`,
      });
    }
  });
  const readable = [stage.trainingBucket, ...stage.extraBuckets];
  const readMessage = `must be in a bucket the stage lets jobs read (params trainingBucket, extraBuckets): ${oneOf(readable)}`;
  if (job.trainingDataS3Uri !== undefined && !readable.includes(parseS3Uri(job.trainingDataS3Uri).bucket)) issues.push({ field: trainingField, message: readMessage });
  /** A resource the job names, outside the stage's list of them: the issue names the param and the allowed values. */
  const listed = (value: string | undefined, allowed: string[], field: string, paramName: keyof typeof STAGE_PARAMS, what: string, none: string) => {
    if (value === undefined || allowed.includes(value)) return;
    issues.push({
      field,
      message: allowed.length ? `must be ${what} (${param(paramName)}): ${oneOf(allowed)}` : `cannot be used: the stage allows no ${none} (${param(paramName)} is empty)`,
    });
  };
  listed(
    teacherModelOf(job),
    stage.teacherModelIdentifiers,
    'customizationConfig.distillationConfig.teacherModelConfig.teacherModelIdentifier',
    'teacherModelIdentifiers',
    "one of the stage's teacher models",
    'distillation teacher model',
  );
  listed(
    graderLambdaArnOf(job),
    stage.graderLambdaArns,
    'customizationConfig.rftConfig.graderConfig.lambdaGrader.lambdaArn',
    'graderLambdaArns',
    "one of the stage's grader Lambdas",
    'RFT grader Lambda',
  );
  listed(
    job.invocationLogsConfig && parseS3Uri(job.invocationLogsConfig.invocationLogSource.s3Uri).bucket,
    stage.invocationLogBuckets,
    'invocationLogsConfig.invocationLogSource.s3Uri',
    'invocationLogBuckets',
    'in a bucket the stage lets jobs read invocation logs from',
    'invocation-log bucket',
  );
  job.validationDataS3Uris.forEach((uri, i) => {
    if (!readable.includes(parseS3Uri(uri).bucket)) issues.push({ field: `validationDataS3Uris[${i}]`, message: readMessage });
  });
  const output = parseS3Uri(job.outputDataS3Uri);
  // Under the prefix as a path: with outputPrefix "runs", "runs/a/" is under it, "runs-other/" is not.
  const prefix = stage.outputPrefix;
  const underPrefix =
    output.key.startsWith(prefix) && (prefix === '' || prefix.endsWith('/') || output.key.length === prefix.length || output.key[prefix.length] === '/');
  if (output.bucket !== stage.outputBucket || !underPrefix) {
    issues.push({
      field: 'outputDataS3Uri',
      message: `must be under s3://${stage.outputBucket}/${stage.outputPrefix} (params outputBucket, outputPrefix)`,
    });
  }
  if (job.customModelKmsKeyId !== undefined && !stage.kmsKeyArns.includes(job.customModelKmsKeyId)) {
    issues.push({
      field: 'customModelKmsKeyId',
      message: stage.kmsKeyArns.length
        ? `must be one of the stage's KMS key ARNs (${param('kmsKeyArns')}): ${oneOf(stage.kmsKeyArns)}`
        : `must be left out: the stage allows no KMS key (${param('kmsKeyArns')} is empty)`,
    });
  }
  for (const [setting, allowed] of Object.entries(stage.policies) as [keyof StagePolicies, string][]) {
    const asked = job.policies[setting];
    if (asked !== allowed && asked !== 'skip') {
      issues.push({ field: `policies.${setting}`, message: `must be "${allowed}" (the stage's setting, param ${POLICY_PARAMS[setting]}) or "skip"` });
    }
  }
  const exempt = job.policies.exemptPrincipalArns;
  if (exempt !== undefined && JSON.stringify(exempt) !== JSON.stringify(stage.exemptPrincipalArns)) {
    issues.push({ field: 'policies.exemptPrincipalArns', message: `must be the stage's exempt principals (${param('exemptPrincipalArns')})` });
  }
  if (job.maxJobDurationSeconds > stage.maxJobDurationSeconds) {
    issues.push({ field: 'maxJobDurationSeconds', message: `must be at most ${stage.maxJobDurationSeconds} (${param('maxJobDurationSeconds')})` });
  }
  if (job.polling?.maxExecutions !== undefined && job.polling.maxExecutions > stage.maxExecutionsPerJob) {
    issues.push({ field: 'polling.maxExecutions', message: `must be at most ${stage.maxExecutionsPerJob} (${param('maxExecutionsPerJob')})` });
  }
  if (job.polling?.mode === 'event' && stage.jobWait !== 'event') {
    issues.push({ field: 'polling.mode', message: `must be "poll": the stage routes no job-state events (param jobWait is ${stage.jobWait})` });
  }
  issues.push(...evaluationViolations(job, stage));
  const { maxTrainingTokens, maxTrainingCostUsd } = job.budget ?? {};
  if (maxTrainingTokens !== undefined && stage.budget.maxTrainingTokens !== undefined && maxTrainingTokens > stage.budget.maxTrainingTokens) {
    issues.push({ field: 'budget.maxTrainingTokens', message: `must be at most ${stage.budget.maxTrainingTokens} (${param('maxTrainingTokens')})` });
  }
  if (NO_TOKEN_ESTIMATE_TYPES.includes(job.customizationType) || job.invocationLogsConfig !== undefined) {
    // No token estimate: a cap of the job's or the stage's could not be held (validate-dataset refuses it too).
    const caps = [
      ...(maxTrainingTokens !== undefined ? ['budget.maxTrainingTokens'] : []),
      ...(maxTrainingCostUsd !== undefined ? ['budget.maxTrainingCostUsd'] : []),
      ...(stage.budget.maxTrainingTokens !== undefined ? [param('maxTrainingTokens')] : []),
      ...(stage.budget.maxTrainingCostUsd !== undefined ? [param('maxTrainingCostUsd')] : []),
    ];
    if (caps.length > 0) {
      issues.push({
        field: 'customizationType',
        message: `cannot be held to a training budget (${caps.join(', ')}): ${job.invocationLogsConfig !== undefined ? 'invocation logs' : `${job.customizationType} data`} give no training-token estimate`,
      });
      return issues;
    }
  }
  const priced = trainingPriceFor(stage.budget, job.baseModelIdentifier) !== undefined;
  if (maxTrainingCostUsd !== undefined) {
    if (!priced) {
      issues.push({
        field: 'budget.maxTrainingCostUsd',
        message: `needs a price to estimate the cost: the stage sets none for this base model (${param('trainingTokenPricesUsdPer1k')}, ${param('trainingTokenPriceUsdPer1k')})`,
      });
    } else if (stage.budget.maxTrainingCostUsd !== undefined && maxTrainingCostUsd > stage.budget.maxTrainingCostUsd) {
      issues.push({ field: 'budget.maxTrainingCostUsd', message: `must be at most ${stage.budget.maxTrainingCostUsd} (${param('maxTrainingCostUsd')})` });
    }
  } else if (stage.budget.maxTrainingCostUsd !== undefined && !priced) {
    // The stage caps every job's cost but prices only some models: a job on another cannot be held to it.
    issues.push({
      field: 'baseModelIdentifier',
      message: `has no training price, so the stage's cost cap (${param('maxTrainingCostUsd')}) cannot be held: the stage prices only ${oneOf(Object.keys(stage.budget.pricesUsdPer1kTokens ?? {}))} (${param('trainingTokenPricesUsdPer1k')})`,
    });
  }
  return issues;
}

/**
 * The job's `evaluation` against the stage's gate (params evaluationGate … maxEvaluationCostUsd): left
 * out while the gate is off, given while it is require; the dataset, metrics and judge model the
 * stage's; at most the stage's prompts and cost; a cost cap only with the prices of the base and
 * judge models (the custom model is priced as its base). A resolved job's dataset URI and output
 * prefix must be what the stage resolves them to.
 */
function evaluationViolations(job: StageBoundFields, stage: Stage): InputIssue[] {
  const issues: InputIssue[] = [];
  const gate = stage.evaluation;
  const evaluation = job.evaluation;
  if (evaluation === undefined) {
    if (gate.gate === 'require') issues.push({ field: 'evaluation', message: "is required: the stage's evaluationGate is require (param evaluationGate)" });
    return issues;
  }
  if (gate.gate === 'off') {
    issues.push({ field: 'evaluation', message: "must be left out: the stage's evaluationGate is off (param evaluationGate)" });
    return issues;
  }
  const oneOf = (allowed: string[]) => (allowed.length ? allowed.join(', ') : 'none');
  const resolved = typeof evaluation.dataset !== 'string';
  const datasetName = typeof evaluation.dataset === 'string' ? evaluation.dataset : evaluation.dataset.name;
  const datasetField = resolved ? 'evaluation.dataset.name' : 'evaluation.dataset';
  const names = Object.keys(gate.datasets);
  if (!Object.hasOwn(gate.datasets, datasetName)) {
    issues.push({ field: datasetField, message: `must be one of the stage's evaluation datasets (param evaluationDatasets): ${oneOf(names)}` });
  } else if (typeof evaluation.dataset !== 'string' && evaluation.dataset.s3Uri !== gate.datasets[datasetName]) {
    issues.push({ field: 'evaluation.dataset.s3Uri', message: `must be the stage's URI of dataset ${datasetName} (param evaluationDatasets)` });
  }
  evaluation.metrics.forEach((metric, i) => {
    if (!gate.metrics.includes(metric)) {
      issues.push({ field: `evaluation.metrics[${i}]`, message: `must be one of the stage's evaluation metrics (param evaluationMetrics): ${oneOf(gate.metrics)}` });
    }
  });
  if (!gate.judgeModels.includes(evaluation.judgeModelIdentifier)) {
    issues.push({ field: 'evaluation.judgeModelIdentifier', message: `must be one of the stage's judge models (param evaluationJudgeModels): ${oneOf(gate.judgeModels)}` });
  }
  if (evaluation.maxPrompts !== undefined && evaluation.maxPrompts > gate.maxPrompts) {
    issues.push({ field: 'evaluation.maxPrompts', message: `must be at most ${gate.maxPrompts} (param evaluationMaxPrompts)` });
  }
  if (resolved) {
    const expected = gate.bucket === undefined || job.jobName === undefined ? undefined : evaluationOutputS3Uri(gate.bucket, job.jobName);
    if (evaluation.outputS3Uri !== expected) {
      issues.push({ field: 'evaluation.outputS3Uri', message: `must be ${expected ?? 's3://<evaluationBucket>/evaluations/<jobName>/'} (param evaluationBucket)` });
    }
  }
  const unpriced = [
    ...(inferencePriceFor(gate, job.baseModelIdentifier) === undefined ? [{ field: 'baseModelIdentifier', what: 'base model' }] : []),
    ...(inferencePriceFor(gate, evaluation.judgeModelIdentifier) === undefined ? [{ field: 'evaluation.judgeModelIdentifier', what: 'judge model' }] : []),
  ];
  const priceParam = 'param inferenceTokenPricesUsdPer1k';
  if (evaluation.maxCostUsd !== undefined && gate.maxCostUsd !== undefined && evaluation.maxCostUsd > gate.maxCostUsd) {
    issues.push({ field: 'evaluation.maxCostUsd', message: `must be at most ${gate.maxCostUsd} (param maxEvaluationCostUsd)` });
  }
  if (gate.maxCostUsd !== undefined) {
    // The stage caps every gate's cost: a job whose base or judge model it does not price cannot be held to it.
    for (const { field, what } of unpriced) {
      issues.push({ field, message: `has no inference price, so the stage's evaluation cost cap (param maxEvaluationCostUsd) cannot be held: the ${what} needs one (${priceParam})` });
    }
  } else if (evaluation.maxCostUsd !== undefined && unpriced.length > 0) {
    issues.push({
      field: 'evaluation.maxCostUsd',
      message: `needs inference prices to estimate the cost: the stage sets none for the ${unpriced.map((u) => u.what).join(' and ')} (${priceParam})`,
    });
  }
  return issues;
}

/**
 * The checks of a raw input that need no stage: a JSON object, `upload` not with
 * `trainingDataS3Uri`, no prototype keys in records, no `policies.exemptPrincipalArns`.
 */
function checkInputStructure(raw: unknown): Record<string, unknown> {
  if (!isPlainObject(raw)) {
    throw new InvalidInputError([{ field: '(input)', message: 'must be a JSON object' }]);
  }
  const input = raw;
  if (input.upload !== undefined && input.trainingDataS3Uri !== undefined) {
    throw new InvalidInputError([
      { field: 'upload', message: 'must not be given together with trainingDataS3Uri (the upload names the training data)' },
    ]);
  }
  const prototypeKeys = RECORD_FIELDS.filter((f) => isPlainObject(input[f]) && Object.keys(input[f]).some((k) => FORBIDDEN_KEYS.has(k)));
  if (prototypeKeys.length > 0) {
    throw new InvalidInputError(prototypeKeys.map((field) => ({ field, message: 'must not use the keys __proto__, constructor or prototype' })));
  }
  if (isPlainObject(input.policies) && Object.hasOwn(input.policies, 'exemptPrincipalArns')) {
    throw new InvalidInputError([
      {
        field: 'policies.exemptPrincipalArns',
        message: 'must be left out: exempt principals are a stage param (exemptPrincipalArns), reviewed at deploy time',
      },
    ]);
  }
  return input;
}

/**
 * A raw input checked without its stage (the CLI, before it starts an execution of a deployed stage
 * whose params it does not know): the structure checks of {@link resolveJobInput} and every field
 * the input sets against the shared schema. Fields the stage fills in may be absent; the stage's
 * bounds are checked by the workflow's first state. Throws {@link InvalidInputError}.
 */
export function checkJobInputShape(raw: unknown): void {
  const input = checkInputStructure(raw);
  const upload = input.upload === undefined ? undefined : parseOrThrow(uploadSchema, input.upload, 'upload');
  const parsed = parseOrThrow(z.partial(jobInputSchemas().rawJobInputSchema), input);
  // The combinations are known once the input names its customization type (else the stage's default decides).
  if (parsed.customizationType !== undefined && Object.hasOwn(input, 'customizationType')) {
    const combinations = crossFieldIssues({
      ...parsed,
      customizationType: parsed.customizationType,
      hyperParameters: parsed.hyperParameters ?? {},
      validationDataS3Uris: parsed.validationDataS3Uris ?? [],
      ...(upload ? { trainingDataS3Uri: uploadS3Uri(upload) } : {}),
    });
    if (combinations.length > 0) throw new InvalidInputError(combinations);
  }
}

/**
 * Resolves a raw execution input within `stage`: the stage's values first, the caller's fields over
 * them (`vpcConfig` is taken whole from the input when given; `policies` setting by setting), then
 * checked against the stage, then derived names. Throws {@link InvalidInputError} naming each bad
 * field (and the allowed values); makes no AWS call.
 */
export function resolveJobInput(raw: unknown, stage: Stage, execution: Execution): JobInput {
  const input = checkInputStructure(raw);
  // An upload names the training data; parsed first, so that its errors are named `upload.…`.
  const upload = input.upload === undefined ? undefined : parseOrThrow(uploadSchema, input.upload, 'upload');
  const merged = parseOrThrow(rawJobInputSchema, {
    ...stageValues(stage),
    ...input,
    policies: isPlainObject(input.policies) ? { ...stage.policies, ...input.policies } : (input.policies ?? stage.policies),
    // The stage's way of following jobs unless the input asks for one (stageViolations: only poll may narrow event).
    polling: isPlainObject(input.polling)
      ? { mode: stage.jobWait, maxExecutions: stage.maxExecutionsPerJob, ...input.polling }
      : (input.polling ?? { mode: stage.jobWait, maxExecutions: stage.maxExecutionsPerJob }),
    ...(upload ? { trainingDataS3Uri: uploadS3Uri(upload) } : {}),
  });
  const combinations = crossFieldIssues(merged);
  if (combinations.length > 0) throw new InvalidInputError(combinations);
  const violations = stageViolations(merged, stage, upload ? 'upload.bucket.name' : 'trainingDataS3Uri');
  if (violations.length > 0) throw new InvalidInputError(violations);
  const jobName = merged.jobName ?? (upload ? deriveUploadJobName(upload) : deriveJobName(execution));
  return parseOrThrow(jobInputSchema, {
    ...merged,
    vpcConfig: { ...merged.vpcConfig, vpcId: stage.vpcId },
    policies: { ...merged.policies, exemptPrincipalArns: stage.exemptPrincipalArns },
    jobName,
    customModelName: merged.customModelName ?? deriveCustomModelName(jobName),
    clientRequestToken: upload ? deriveUploadClientRequestToken(upload) : deriveClientRequestToken(execution),
    region: stage.region,
    partition: stage.partition,
    accountId: stage.accountId,
    s3: jobS3(merged),
    ...(merged.evaluation !== undefined ? { evaluation: resolveEvaluation(merged.evaluation, stage, jobName) } : {}),
  });
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}


/**
 * The stage: what one deployment allows, decided at deploy time (serverless.yml `params`, reviewed in
 * IaC) and handed to the Lambdas as environment variables. A job input may choose among these values,
 * never outside them (docs/configuration.md "The stage decides, the job narrows"):
 * the VPC, its subnets and security groups, the Bedrock role, the buckets, the KMS keys, the exempt
 * principals, the S3 gateway endpoints whose policy may be written, and the most each policy setting
 * may do. Parsed per invocation (a few microseconds), so a malformed value fails with the param named.
 */
import * as z from 'zod/mini';
import { StageConfigError } from './errors.js';
import {
  ACCOUNT_ID,
  KMS_KEY_ARN,
  LAMBDA_FUNCTION_ARN,
  MAX_PARTITION_LENGTH,
  MODEL_IDENTIFIER,
  PARTITION,
  PRINCIPAL_ARN,
  REGION,
  ROLE_ARN,
  SECURITY_GROUP_ID,
  SUBNET_ID,
  VPC_ENDPOINT_ID,
  VPC_ID,
} from './ids.js';
import { EVALUATION_DATASET_NAME, isJudgeMetric, JUDGE_METRIC_NAMES, MAX_EVALUATION_PROMPTS } from './evaluation-support.js';
import { behindGeographyPrefix, parseModelIdentifier } from './model-identifier.js';
import { s3KeyProblems } from './s3.js';
import { safeParse } from './validation.js';
// Module-level schemas: built in `/* @__PURE__ */ (() => …)()`, so a bundle that does not use one drops it (shared/validation.ts).

/** serverless.yml param name → the environment variable it is passed in (validate-network, apply-policies). */
export const STAGE_PARAMS = {
  vpcId: 'STAGE_VPC_ID',
  subnetIds: 'STAGE_SUBNET_IDS',
  securityGroupIds: 'STAGE_SECURITY_GROUP_IDS',
  bedrockRoleArn: 'STAGE_ROLE_ARN',
  trainingBucket: 'STAGE_TRAINING_BUCKET',
  outputBucket: 'STAGE_OUTPUT_BUCKET',
  outputPrefix: 'STAGE_OUTPUT_PREFIX',
  extraBuckets: 'STAGE_EXTRA_BUCKETS',
  kmsKeyArns: 'STAGE_KMS_KEY_ARNS',
  exemptPrincipalArns: 'STAGE_EXEMPT_PRINCIPAL_ARNS',
  s3EndpointIds: 'STAGE_S3_ENDPOINT_IDS',
  rolePolicy: 'STAGE_ROLE_POLICY',
  endpointPolicy: 'STAGE_ENDPOINT_POLICY',
  outputBucketPolicy: 'STAGE_OUTPUT_BUCKET_POLICY',
  trainingBucketPolicy: 'STAGE_TRAINING_BUCKET_POLICY',
  baseModelIdentifier: 'STAGE_BASE_MODEL_IDENTIFIER',
  customizationType: 'STAGE_CUSTOMIZATION_TYPE',
  maxJobDurationSeconds: 'STAGE_MAX_JOB_DURATION_SECONDS',
  trainingTokenPriceUsdPer1k: 'STAGE_TRAINING_TOKEN_PRICE_USD_PER_1K',
  trainingTokenPricesUsdPer1k: 'STAGE_TRAINING_TOKEN_PRICES_USD_PER_1K',
  maxTrainingTokens: 'STAGE_MAX_TRAINING_TOKENS',
  maxTrainingCostUsd: 'STAGE_MAX_TRAINING_COST_USD',
  jobWait: 'STAGE_JOB_WAIT',
  maxExecutionsPerJob: 'STAGE_MAX_EXECUTIONS_PER_JOB',
  teacherModelIdentifiers: 'STAGE_TEACHER_MODEL_IDENTIFIERS',
  graderLambdaArns: 'STAGE_GRADER_LAMBDA_ARNS',
  invocationLogBuckets: 'STAGE_INVOCATION_LOG_BUCKETS',
  evaluationGate: 'STAGE_EVALUATION_GATE',
  evaluationBucket: 'STAGE_EVALUATION_BUCKET',
  evaluationDatasets: 'STAGE_EVALUATION_DATASETS',
  evaluationMetrics: 'STAGE_EVALUATION_METRICS',
  evaluationJudgeModels: 'STAGE_EVALUATION_JUDGE_MODELS',
  evaluationMaxPrompts: 'STAGE_EVALUATION_MAX_PROMPTS',
  inferenceTokenPricesUsdPer1k: 'STAGE_INFERENCE_TOKEN_PRICES_USD_PER_1K',
  maxEvaluationCostUsd: 'STAGE_MAX_EVALUATION_COST_USD',
  rejectedDeployments: 'STAGE_REJECTED_DEPLOYMENTS',
} as const;
export type StageParamName = keyof typeof STAGE_PARAMS;

/** Set from the stack itself (`!Ref AWS::AccountId`, `!Ref AWS::Partition`), not from params. */
export const STAGE_ACCOUNT_ENV = 'STAGE_ACCOUNT_ID';
export const STAGE_PARTITION_ENV = 'STAGE_PARTITION';

export type RolePolicySetting = 'apply' | 'skip';
export type EndpointPolicySetting = 'restrict' | 'append' | 'skip';

/** The most each policy setting of a job may do; a job may ask for the same or for `skip`. */
export interface StagePolicies {
  role: RolePolicySetting;
  endpoint: EndpointPolicySetting;
  outputBucket: RolePolicySetting;
  trainingBucket: RolePolicySetting;
}

export interface Stage {
  partition: string;
  accountId: string;
  region: string;
  vpcId: string;
  subnetIds: string[];
  securityGroupIds: string[];
  roleArn: string;
  trainingBucket: string;
  outputBucket: string;
  outputPrefix: string;
  /** Further buckets a job may read training or validation data from (never written). */
  extraBuckets: string[];
  /** The KMS keys a job may name as customModelKmsKeyId. */
  kmsKeyArns: string[];
  /** Principals kept out of the bucket Deny (stage-only). */
  exemptPrincipalArns: string[];
  /** The S3 gateway endpoints whose policy the workflow may write. */
  s3EndpointIds: string[];
  policies: StagePolicies;
  baseModelIdentifier?: string;
  customizationType?: string;
  /** The longest a job may run; a job may ask for less. */
  maxJobDurationSeconds: number;
  /**
   * The dataset step's budget: the price of 1,000 training tokens (for the cost estimate) — per base
   * model (`pricesUsdPer1kTokens`, model id → price; see {@link trainingPriceFor}) and for any other
   * model (`priceUsdPer1kTokens`) — and the most a job may train (tokens × epochs) or cost; a job may
   * ask for less. Absent: no estimate / no cap.
   */
  budget: {
    priceUsdPer1kTokens?: number;
    pricesUsdPer1kTokens?: Record<string, number>;
    maxTrainingTokens?: number;
    maxTrainingCostUsd?: number;
  };
  /**
   * How jobs are followed: `event` (Bedrock's job-state events release the wait; the stack routes them)
   * or `poll`. Absent: `poll` (a stage deployed before the param existed routes no events).
   */
  jobWait: 'event' | 'poll';
  /**
   * The most executions (the first and its hand-overs) that may follow one job; a job may ask for
   * fewer. Past it the job is stopped rather than handed over again. Default 50.
   */
  maxExecutionsPerJob: number;
  /** The teacher models a distillation job may name (empty: no distillation). */
  teacherModelIdentifiers: string[];
  /** The grader Lambdas (function ARNs of the stage's account and region) an RFT job may name (empty: no RFT). */
  graderLambdaArns: string[];
  /** The buckets a job may train from invocation logs in (read only; never given the VPC-only Deny). */
  invocationLogBuckets: string[];
  /** The evaluation gate (docs/evaluation.md): what a job may ask of it. */
  evaluation: StageEvaluation;
}

export type EvaluationGateSetting = 'off' | 'allow' | 'require';

/** The stage's evaluation gate: params evaluationGate … rejectedDeployments. */
export interface StageEvaluation {
  /** `off`: no job may ask for the gate · `allow`: a job may · `require`: every job must carry `evaluation`. */
  gate: EvaluationGateSetting;
  /** Held-out datasets, generated responses and results (never given the VPC-only Deny); required unless the gate is off. */
  bucket?: string;
  /** Dataset name → its s3:// URI in the evaluation bucket (a `.jsonl` object). */
  datasets: Record<string, string>;
  /** The judge metrics a job may ask for (names of JUDGE_METRICS, shared/evaluation-support.ts). */
  metrics: string[];
  /** The judge models a job may name (model or inference-profile ids, or their ARNs). */
  judgeModels: string[];
  /** The most prompts one job's gate may evaluate (1..1000, default 100). */
  maxPrompts: number;
  /** US dollars per 1,000 inference tokens (in or out), per model id: base models (a custom model priced as its base) and judge models. */
  inferencePricesUsdPer1k?: Record<string, number>;
  /** The most one job's gate may cost. */
  maxCostUsd?: number;
  /** Janitor: report deployments of rejected models left behind, or delete them. */
  rejectedDeployments: 'report' | 'delete';
}

export const BUCKET_NAME_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Longest value of one param (or one item of a list param) a pattern is tried on: an ARN is at most 2,048 characters. */
const MAX_PARAM_LENGTH = 2048;
/** Longest job the workflow follows (30 days, across hand-overs); docs/limits.md "Limits". */
export const MAX_JOB_DURATION_SECONDS = 30 * 24 * 3600;
/**
 * Executions per job (stage param maxExecutionsPerJob): 50 by default, at most 1,000. An execution hands
 * over after at least 2,000 history events (hundreds of status checks, each behind a wait of at least
 * 10 s) or 20 days, so 50 follow even a 30-day job polled every 10 s (about 35 minutes an execution
 * at that extreme would need ~1,200: the job is stopped at 50, bounding what one job can cost).
 */
export const DEFAULT_MAX_EXECUTIONS_PER_JOB = 50;
export const MAX_EXECUTIONS_PER_JOB = 1_000;

const blankToUndefined = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());
const text = z.pipe(z.optional(z.string()), z.transform(blankToUndefined));
const required = (pattern: RegExp, what: string) =>
  z.pipe(text, z.string({ error: 'is required' }).check(z.maxLength(MAX_PARAM_LENGTH, { abort: true }), z.regex(pattern, `must be ${what}`)));
/** The items of a comma-separated param: trimmed, blanks dropped (unset: none). */
const listItems = (v: string | undefined) => (v === undefined ? [] : v.split(',').map((s) => s.trim()).filter(Boolean));
const list = (pattern: RegExp, what: string, min = 0) =>
  z.pipe(
    text,
    z.pipe(
      z.transform(listItems),
      z
        .array(z.string().check(z.maxLength(MAX_PARAM_LENGTH, { abort: true }), z.regex(pattern, `each must be ${what}`)))
        .check(
          z.minLength(min, min === 1 ? 'needs at least one value' : `needs at least ${min} values`),
          z.refine((items) => new Set(items).size === items.length, 'must not repeat a value'),
        ),
    ),
  );
const setting = <T extends string>(values: readonly [T, ...T[]], fallback: T) =>
  z.pipe(text, z.pipe(z.transform((v: string | undefined) => v ?? fallback), z.enum(values)));

/** An optional positive number param ('' = not set). */
const optionalNumber = (what: string, integer = false) =>
  z.pipe(
    text,
    z.pipe(
      z.transform((v: string | undefined) => (v === undefined ? undefined : Number(v))),
      z.optional(
        (integer ? z.int(`must be a whole number of ${what}`) : z.number(`must be a number of ${what}`)).check(z.gt(0, `must be more than 0 ${what}`), z.lte(1e15)),
      ),
    ),
  );

/**
 * A Bedrock base model id as the price list keys it (`amazon.titan-text-express-v1:0:8k`): lower-case
 * letters, digits and `.-:` (the model ids of Bedrock's "Supported foundation models" page).
 */
const MODEL_ID = /^[a-z0-9][a-z0-9.:-]{0,127}$/;

/** One item of the price list, `model=price`, split at its last `=` (no `=`: model '' and price NaN). */
function priceItem(item: string): { model: string; price: number } {
  const at = item.lastIndexOf('=');
  return at < 0 ? { model: '', price: Number.NaN } : { model: item.slice(0, at).trim(), price: Number(item.slice(at + 1).trim()) };
}

/**
 * `key=value, key=value`: each item read by `item` (its key, its value, and what is wrong with it, if anything), no key
 * twice (`twice` says so) → the record key → value; with no item, `{}` or (`emptyIs: undefined`) undefined.
 */
const keyedList = <V>(item: (text: string) => { key: string; value: V; problem?: string }, twice: string, emptyIs: 'record' | 'undefined') => z.pipe(
  text,
  z.pipe(
    z.transform(listItems),
    z.pipe(
      z.array(z.string().check(z.maxLength(MAX_PARAM_LENGTH, { abort: true }))).check(
        z.superRefine((items: string[], ctx) => {
          const seen = new Set<string>();
          items.forEach((text, i) => {
            const { key, problem } = item(text);
            if (problem !== undefined) ctx.addIssue({ code: 'custom', path: [i], input: text, message: problem });
            else if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i], input: text, message: twice });
            seen.add(key);
          });
        }),
      ),
      z.transform((items: string[]): Record<string, V> | undefined =>
        items.length === 0 && emptyIs === 'undefined'
          ? undefined
          : Object.fromEntries(items.map((text) => {
              const { key, value } = item(text);
              return [key, value];
            })),
      ),
    ),
  ),
);

/** `model=price, model=price`: a token price per model ('' = none). */
const priceListOf = (what: string) =>
  keyedList(
    (text) => {
      const { model, price } = priceItem(text);
      const valid = MODEL_ID.test(model) && price > 0 && price <= 1e15;
      return { key: model, value: price, ...(valid ? {} : { problem: `each must be <${what}>=<US dollars per 1,000 tokens, more than 0>` }) };
    },
    'must not price a model twice',
    'undefined',
  );

/**
 * The price of 1,000 training tokens of a job's base model: the stage's price for that model
 * (param trainingTokenPricesUsdPer1k) — its id exactly, else the longest listed id it extends by a
 * `:` version suffix (`amazon.titan-text-express-v1` prices `amazon.titan-text-express-v1:0:8k`); a
 * foundation-model ARN is looked up by the id it ends in — else the stage's price for any model
 * (param trainingTokenPriceUsdPer1k), else none.
 */
export function trainingPriceFor(
  budget: Stage['budget'],
  baseModelIdentifier: string,
): { usdPer1kTokens: number; pricedAs: string } | undefined {
  const marker = ':foundation-model/';
  const at = baseModelIdentifier.startsWith('arn:') ? baseModelIdentifier.indexOf(marker) : -1;
  const id = at < 0 ? baseModelIdentifier : baseModelIdentifier.slice(at + marker.length);
  let best: string | undefined;
  for (const model of Object.keys(budget.pricesUsdPer1kTokens ?? {})) {
    const matches = id === model || (id.startsWith(model) && id[model.length] === ':');
    if (matches && (best === undefined || model.length > best.length)) best = model;
  }
  if (best !== undefined) return { usdPer1kTokens: budget.pricesUsdPer1kTokens![best]!, pricedAs: best };
  if (budget.priceUsdPer1kTokens !== undefined) return { usdPer1kTokens: budget.priceUsdPer1kTokens, pricedAs: 'any model' };
  return undefined;
}

/** Prompts one job's gate evaluates unless the stage sets evaluationMaxPrompts. */
export const DEFAULT_EVALUATION_MAX_PROMPTS = 100;

/**
 * `name=s3://<bucket>/<key>.jsonl, …`: the held-out datasets (name: an evaluation job's dataset name,
 * botocore EvaluationDataset.name). Each item split at its first `=`; the bucket is checked against
 * evaluationBucket across params ({@link crossChecks}).
 */
const evaluationDatasetList = () =>
  keyedList(
    (text) => {
      const { name, uri } = datasetItem(text);
      const problem = evaluationDatasetProblem(text);
      return { key: name, value: uri, ...(problem !== undefined ? { problem } : {}) };
    },
    'must not name a dataset twice',
    'record',
  );

function datasetItem(item: string): { name: string; uri: string } {
  const at = item.indexOf('=');
  return at < 0 ? { name: '', uri: item } : { name: item.slice(0, at).trim(), uri: item.slice(at + 1).trim() };
}

function evaluationDatasetProblem(item: string): string | undefined {
  const { name, uri } = datasetItem(item);
  const shape = 'each must be <name>=s3://<evaluation bucket>/<key>.jsonl';
  if (!EVALUATION_DATASET_NAME.test(name)) return `${shape} (name: 1 to 63 of [0-9a-zA-Z-_.])`;
  const match = /^s3:\/\/([^/]+)\/(.+)$/s.exec(uri);
  if (!match || !BUCKET_NAME_PATTERN.test(match[1]!)) return `${shape} (an s3:// URI with a valid bucket name and a key)`;
  const key = match[2]!;
  if (!key.endsWith('.jsonl')) return `${shape} (the key ends in .jsonl: evaluation datasets are JSON Lines)`;
  const keyProblems = s3KeyProblems(key);
  if (keyProblems.length > 0) return `${shape} (key: ${keyProblems[0]})`;
  return undefined;
}

/**
 * The price of 1,000 inference tokens (in or out) of `modelIdentifier` from the stage's
 * inferenceTokenPricesUsdPer1k: its id exactly, else the longest listed id it extends by a `:` suffix
 * (`amazon.nova-micro-v1:0` prices `amazon.nova-micro-v1:0:128k`); an ARN is looked up by the id it
 * names. A system inference profile (`us.amazon.nova-pro-v1:0`) not listed itself is priced as the model
 * behind its geography prefix (cross-Region inference is billed at the source Region's price:
 * https://docs.aws.amazon.com/bedrock/latest/userguide/cross-region-inference.html). A custom model is
 * priced as its base model: pass the base model's identifier. Undefined: the stage prices it not.
 */
export function inferencePriceFor(
  evaluation: Pick<StageEvaluation, 'inferencePricesUsdPer1k'>,
  modelIdentifier: string,
): { usdPer1kTokens: number; pricedAs: string } | undefined {
  const prices = evaluation.inferencePricesUsdPer1k ?? {};
  const parsed = parseModelIdentifier(modelIdentifier);
  if (!parsed) return undefined;
  const lookup = (id: string) => {
    let best: string | undefined;
    for (const model of Object.keys(prices)) {
      const matches = id === model || (id.startsWith(model) && id[model.length] === ':');
      if (matches && (best === undefined || model.length > best.length)) best = model;
    }
    return best === undefined ? undefined : { usdPer1kTokens: prices[best]!, pricedAs: best };
  };
  const direct = lookup(parsed.id + parsed.suffix);
  if (direct) return direct;
  const behindPrefix = behindGeographyPrefix(parsed.id);
  return behindPrefix === undefined ? undefined : lookup(behindPrefix + parsed.suffix);
}

const stageEnvSchema = /* @__PURE__ */ (() => z.object({
  AWS_REGION: required(REGION, 'an AWS region'),
  [STAGE_ACCOUNT_ENV]: required(ACCOUNT_ID, 'a 12-digit account id'),
  [STAGE_PARTITION_ENV]: z.pipe(text, z.pipe(z.transform((v: string | undefined) => v ?? 'aws'), z.string().check(z.maxLength(MAX_PARTITION_LENGTH, { abort: true }), z.regex(PARTITION)))),
  [STAGE_PARAMS.vpcId]: required(VPC_ID, 'a VPC id (vpc-0123456789abcdef0)'),
  [STAGE_PARAMS.subnetIds]: list(SUBNET_ID, 'a subnet id', 1),
  [STAGE_PARAMS.securityGroupIds]: list(SECURITY_GROUP_ID, 'a security group id', 1),
  [STAGE_PARAMS.bedrockRoleArn]: required(ROLE_ARN, 'an IAM role ARN without wildcards'),
  [STAGE_PARAMS.trainingBucket]: required(BUCKET_NAME_PATTERN, 'an S3 bucket name'),
  [STAGE_PARAMS.outputBucket]: required(BUCKET_NAME_PATTERN, 'an S3 bucket name'),
  [STAGE_PARAMS.outputPrefix]: z.pipe(
    z.optional(z.string()),
    z.pipe(
      z.transform((v: string | undefined) => (v ?? '').trim()),
      // The prefix of every job's output key (the default outputDataS3Uri): the job-input rules for keys.
      z.string().check(
        z.maxLength(512),
        z.superRefine((v: string, ctx) => {
          for (const message of s3KeyProblems(v)) ctx.addIssue({ code: 'custom', message, input: v });
        }),
        z.refine((v: string) => !v.startsWith('/'), 'must not start with "/" (a key prefix, without the bucket)'),
      ),
    ),
  ),
  [STAGE_PARAMS.extraBuckets]: list(BUCKET_NAME_PATTERN, 'an S3 bucket name'),
  [STAGE_PARAMS.kmsKeyArns]: list(KMS_KEY_ARN, 'a KMS key ARN (arn:…:kms:<region>:<account>:key/<key id>)'),
  [STAGE_PARAMS.exemptPrincipalArns]: list(
    PRINCIPAL_ARN,
    'an IAM role or user ARN without wildcards',
  ),
  [STAGE_PARAMS.s3EndpointIds]: list(VPC_ENDPOINT_ID, 'a VPC endpoint id (vpce-0123456789abcdef0)'),
  [STAGE_PARAMS.rolePolicy]: setting(['apply', 'skip'], 'apply'),
  [STAGE_PARAMS.endpointPolicy]: setting(['restrict', 'append', 'skip'], 'append'),
  [STAGE_PARAMS.outputBucketPolicy]: setting(['apply', 'skip'], 'skip'),
  [STAGE_PARAMS.trainingBucketPolicy]: setting(['apply', 'skip'], 'skip'),
  [STAGE_PARAMS.baseModelIdentifier]: text,
  [STAGE_PARAMS.customizationType]: text,
  [STAGE_PARAMS.maxJobDurationSeconds]: z.pipe(
    text,
    z.pipe(
      z.transform((v: string | undefined) => (v === undefined ? 86400 : Number(v))),
      z.int('must be a whole number of seconds').check(z.minimum(1), z.maximum(MAX_JOB_DURATION_SECONDS)),
    ),
  ),
  [STAGE_PARAMS.trainingTokenPriceUsdPer1k]: optionalNumber('US dollars'),
  [STAGE_PARAMS.trainingTokenPricesUsdPer1k]: priceListOf('base model id'),
  [STAGE_PARAMS.maxTrainingTokens]: optionalNumber('tokens', true),
  [STAGE_PARAMS.maxTrainingCostUsd]: optionalNumber('US dollars'),
  [STAGE_PARAMS.jobWait]: setting(['event', 'poll'], 'poll'),
  [STAGE_PARAMS.maxExecutionsPerJob]: z.pipe(
    text,
    z.pipe(
      z.transform((v: string | undefined) => (v === undefined ? DEFAULT_MAX_EXECUTIONS_PER_JOB : Number(v))),
      z.int('must be a whole number of executions').check(z.minimum(2), z.maximum(MAX_EXECUTIONS_PER_JOB)),
    ),
  ),
  [STAGE_PARAMS.teacherModelIdentifiers]: list(MODEL_IDENTIFIER, 'a Bedrock model id, or a foundation-model or inference-profile ARN'),
  [STAGE_PARAMS.graderLambdaArns]: list(LAMBDA_FUNCTION_ARN, 'a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>[:<version or alias>])'),
  [STAGE_PARAMS.invocationLogBuckets]: list(BUCKET_NAME_PATTERN, 'an S3 bucket name'),
  [STAGE_PARAMS.evaluationGate]: setting(['off', 'allow', 'require'], 'off'),
  [STAGE_PARAMS.evaluationBucket]: z.pipe(text, z.optional(z.string().check(z.maxLength(MAX_PARAM_LENGTH, { abort: true }), z.regex(BUCKET_NAME_PATTERN, 'must be an S3 bucket name')))),
  [STAGE_PARAMS.evaluationDatasets]: evaluationDatasetList(),
  [STAGE_PARAMS.evaluationMetrics]: z.pipe(
    list(/^Builtin\.[A-Za-z]{1,64}$/, `a judge metric (${JUDGE_METRIC_NAMES.join(', ')})`),
    z.array(z.string()).check(
      z.superRefine((items: string[], ctx) => {
        items.forEach((item, i) => {
          if (!isJudgeMetric(item)) ctx.addIssue({ code: 'custom', path: [i], input: item, message: `each must be a judge metric (${JUDGE_METRIC_NAMES.join(', ')})` });
        });
      }),
    ),
  ),
  [STAGE_PARAMS.evaluationJudgeModels]: list(MODEL_IDENTIFIER, 'a Bedrock model or inference-profile id, or a foundation-model or inference-profile ARN'),
  [STAGE_PARAMS.evaluationMaxPrompts]: z.pipe(
    text,
    z.pipe(
      z.transform((v: string | undefined) => (v === undefined ? DEFAULT_EVALUATION_MAX_PROMPTS : Number(v))),
      z.int('must be a whole number of prompts').check(z.minimum(1, 'must be at least 1 prompt'), z.maximum(MAX_EVALUATION_PROMPTS, `must be at most ${MAX_EVALUATION_PROMPTS} prompts (an evaluation job's limit)`)),
    ),
  ),
  [STAGE_PARAMS.inferenceTokenPricesUsdPer1k]: priceListOf('model id'),
  [STAGE_PARAMS.maxEvaluationCostUsd]: optionalNumber('US dollars'),
  [STAGE_PARAMS.rejectedDeployments]: setting(['report', 'delete'], 'report'),
}))();

const ENV_TO_PARAM: Record<string, string> = /* @__PURE__ */ (() => Object.fromEntries(Object.entries(STAGE_PARAMS).map(([param, env]) => [env, param])))();

/** `subnetIds (STAGE_SUBNET_IDS)`: how a problem names the setting. */
const nameOf = (env: string) => (ENV_TO_PARAM[env] ? `stage param ${ENV_TO_PARAM[env]} (${env})` : env);

let cache: { key: string; stage: Stage } | undefined;

/**
 * The stage from the environment. Throws {@link StageConfigError} naming every malformed param, and
 * when the role, a key or an exemption is of another account or partition than the workflow.
 */
export function loadStage(source: Record<string, string | undefined>): Stage {
  const names = ['AWS_REGION', STAGE_ACCOUNT_ENV, STAGE_PARTITION_ENV, ...Object.values(STAGE_PARAMS)];
  const key = JSON.stringify(names.map((n) => source[n] ?? null));
  if (cache?.key === key) return cache.stage;
  const parsed = safeParse(stageEnvSchema, source);
  if (!parsed.success) {
    throw new StageConfigError(
      parsed.error.issues.map((i) => `${nameOf(String(i.path[0]))}${i.path.length > 1 ? `[${i.path.slice(1).join('.')}]` : ''}: ${i.message}`),
    );
  }
  const e = parsed.data as Record<string, any>;
  const p = (name: StageParamName) => e[STAGE_PARAMS[name]];
  const stage: Stage = {
    partition: e[STAGE_PARTITION_ENV],
    accountId: e[STAGE_ACCOUNT_ENV],
    region: e.AWS_REGION,
    vpcId: p('vpcId'),
    subnetIds: p('subnetIds'),
    securityGroupIds: p('securityGroupIds'),
    roleArn: p('bedrockRoleArn'),
    trainingBucket: p('trainingBucket'),
    outputBucket: p('outputBucket'),
    outputPrefix: p('outputPrefix'),
    extraBuckets: p('extraBuckets'),
    kmsKeyArns: p('kmsKeyArns'),
    exemptPrincipalArns: p('exemptPrincipalArns'),
    s3EndpointIds: p('s3EndpointIds'),
    policies: {
      role: p('rolePolicy'),
      endpoint: p('endpointPolicy'),
      outputBucket: p('outputBucketPolicy'),
      trainingBucket: p('trainingBucketPolicy'),
    },
    ...(p('baseModelIdentifier') ? { baseModelIdentifier: p('baseModelIdentifier') } : {}),
    ...(p('customizationType') ? { customizationType: p('customizationType') } : {}),
    maxJobDurationSeconds: p('maxJobDurationSeconds'),
    budget: {
      ...(p('trainingTokenPriceUsdPer1k') !== undefined ? { priceUsdPer1kTokens: p('trainingTokenPriceUsdPer1k') } : {}),
      ...(p('trainingTokenPricesUsdPer1k') !== undefined ? { pricesUsdPer1kTokens: p('trainingTokenPricesUsdPer1k') } : {}),
      ...(p('maxTrainingTokens') !== undefined ? { maxTrainingTokens: p('maxTrainingTokens') } : {}),
      ...(p('maxTrainingCostUsd') !== undefined ? { maxTrainingCostUsd: p('maxTrainingCostUsd') } : {}),
    },
    jobWait: p('jobWait'),
    maxExecutionsPerJob: p('maxExecutionsPerJob'),
    teacherModelIdentifiers: p('teacherModelIdentifiers'),
    graderLambdaArns: p('graderLambdaArns'),
    invocationLogBuckets: p('invocationLogBuckets'),
    evaluation: {
      gate: p('evaluationGate'),
      ...(p('evaluationBucket') !== undefined ? { bucket: p('evaluationBucket') } : {}),
      datasets: p('evaluationDatasets'),
      metrics: p('evaluationMetrics'),
      judgeModels: p('evaluationJudgeModels'),
      maxPrompts: p('evaluationMaxPrompts'),
      ...(p('inferenceTokenPricesUsdPer1k') !== undefined ? { inferencePricesUsdPer1k: p('inferenceTokenPricesUsdPer1k') } : {}),
      ...(p('maxEvaluationCostUsd') !== undefined ? { maxCostUsd: p('maxEvaluationCostUsd') } : {}),
      rejectedDeployments: p('rejectedDeployments'),
    },
  };
  const problems = crossChecks(stage);
  if (problems.length > 0) throw new StageConfigError(problems);
  cache = { key, stage };
  return stage;
}

/** The role, the keys and the exemptions belong to the workflow's own account and partition; keys to its region. */
function crossChecks(stage: Stage): string[] {
  const problems: string[] = [];
  const mine = (arn: string, region = '') => {
    const [, partition, , arnRegion, account] = arn.split(':');
    return partition === stage.partition && account === stage.accountId && arnRegion === region;
  };
  const where = `account ${stage.accountId}, partition ${stage.partition}`;
  if (!mine(stage.roleArn)) problems.push(`${nameOf(STAGE_PARAMS.bedrockRoleArn)}: must be a role of the workflow's own ${where}`);
  stage.kmsKeyArns.forEach((arn, i) => {
    if (!mine(arn, stage.region)) problems.push(`${nameOf(STAGE_PARAMS.kmsKeyArns)}[${i}]: must be a key of the workflow's own ${where}, region ${stage.region}`);
  });
  stage.exemptPrincipalArns.forEach((arn, i) => {
    if (!mine(arn)) problems.push(`${nameOf(STAGE_PARAMS.exemptPrincipalArns)}[${i}]: must be a principal of the workflow's own ${where}`);
  });
  if (stage.policies.endpoint !== 'skip' && stage.s3EndpointIds.length === 0) {
    problems.push(`${nameOf(STAGE_PARAMS.s3EndpointIds)}: needs the S3 gateway endpoint id(s) of ${stage.vpcId} while endpointPolicy is ${stage.policies.endpoint}`);
  }
  if (stage.budget.maxTrainingCostUsd !== undefined && stage.budget.priceUsdPer1kTokens === undefined && stage.budget.pricesUsdPer1kTokens === undefined) {
    problems.push(
      `${nameOf(STAGE_PARAMS.maxTrainingCostUsd)}: needs ${nameOf(STAGE_PARAMS.trainingTokenPriceUsdPer1k)} or ${nameOf(STAGE_PARAMS.trainingTokenPricesUsdPer1k)} to estimate a job's cost`,
    );
  }
  stage.graderLambdaArns.forEach((arn, i) => {
    if (!mine(arn, stage.region)) problems.push(`${nameOf(STAGE_PARAMS.graderLambdaArns)}[${i}]: must be a function of the workflow's own ${where}, region ${stage.region}`);
  });
  // Bedrock delivers invocation logs from outside the VPC: a bucket given the VPC-only Deny could not receive them.
  stage.invocationLogBuckets.forEach((bucket, i) => {
    if (bucket === stage.outputBucket) {
      problems.push(`${nameOf(STAGE_PARAMS.invocationLogBuckets)}[${i}]: must not be the output bucket ${bucket} (jobs write there; invocation-log buckets are read-only)`);
    } else if (bucket === stage.trainingBucket && stage.policies.trainingBucket === 'apply') {
      problems.push(
        `${nameOf(STAGE_PARAMS.invocationLogBuckets)}[${i}]: must not be the training bucket ${bucket} while ${nameOf(STAGE_PARAMS.trainingBucketPolicy)} is apply (its VPC-only Deny would refuse Bedrock's log delivery)`,
      );
    }
  });
  if (stage.extraBuckets.includes(stage.outputBucket)) {
    problems.push(`${nameOf(STAGE_PARAMS.extraBuckets)}: must not list the output bucket ${stage.outputBucket} (extra buckets are read-only)`);
  }
  problems.push(...evaluationChecks(stage));
  return problems;
}

/**
 * The evaluation gate's params together: a bucket of its own (evaluation jobs run outside the VPC, so
 * it never gets the VPC-only Deny, and no bucket that does, or that jobs write or read, may be it), the
 * datasets in it, the lists non-empty unless the gate is off, a cost cap only with prices.
 */
function evaluationChecks(stage: Stage): string[] {
  const problems: string[] = [];
  const { evaluation } = stage;
  const bucket = evaluation.bucket;
  if (bucket !== undefined) {
    const others: [string, string[]][] = [
      ['the output bucket (param outputBucket)', [stage.outputBucket]],
      ['the training bucket (param trainingBucket)', [stage.trainingBucket]],
      ['an extra bucket (param extraBuckets)', stage.extraBuckets],
      ['an invocation-log bucket (param invocationLogBuckets)', stage.invocationLogBuckets],
    ];
    for (const [what, buckets] of others) {
      if (buckets.includes(bucket)) problems.push(`${nameOf(STAGE_PARAMS.evaluationBucket)}: must not be ${bucket}, ${what}: the evaluation bucket is a bucket of its own, never given the VPC-only Deny`);
    }
  } else if (evaluation.gate !== 'off') {
    problems.push(`${nameOf(STAGE_PARAMS.evaluationBucket)}: is required while ${nameOf(STAGE_PARAMS.evaluationGate)} is ${evaluation.gate}`);
  }
  Object.entries(evaluation.datasets).forEach(([name, uri]) => {
    const inBucket = bucket !== undefined && uri.startsWith(`s3://${bucket}/`);
    if (!inBucket) {
      problems.push(`${nameOf(STAGE_PARAMS.evaluationDatasets)}[${name}]: must be in the evaluation bucket (${bucket === undefined ? `${nameOf(STAGE_PARAMS.evaluationBucket)} is not set` : `s3://${bucket}/`})`);
    }
  });
  if (evaluation.gate !== 'off') {
    const lists: [StageParamName, number][] = [
      ['evaluationDatasets', Object.keys(evaluation.datasets).length],
      ['evaluationMetrics', evaluation.metrics.length],
      ['evaluationJudgeModels', evaluation.judgeModels.length],
    ];
    for (const [name, count] of lists) {
      if (count === 0) problems.push(`${nameOf(STAGE_PARAMS[name])}: needs at least one value while ${nameOf(STAGE_PARAMS.evaluationGate)} is ${evaluation.gate}`);
    }
  }
  if (evaluation.maxCostUsd !== undefined && evaluation.inferencePricesUsdPer1k === undefined) {
    problems.push(`${nameOf(STAGE_PARAMS.maxEvaluationCostUsd)}: needs ${nameOf(STAGE_PARAMS.inferenceTokenPricesUsdPer1k)} to estimate a gate's cost`);
  }
  return problems;
}

/** The stage params as the environment variables serverless.yml sets from them (tests, `npm run local`). */
export function stageEnv(params: Partial<Record<StageParamName, string>>, account: { accountId: string; partition?: string }): Record<string, string> {
  const out: Record<string, string> = { [STAGE_ACCOUNT_ENV]: account.accountId, [STAGE_PARTITION_ENV]: account.partition ?? 'aws' };
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) out[STAGE_PARAMS[name as StageParamName]] = value;
  }
  return out;
}

/** The stage a deployment with these params would have (tests, benchmarks, `npm run local`). */
export function stageFromParams(
  params: Partial<Record<StageParamName, string>>,
  where: { accountId: string; region: string; partition?: string },
): Stage {
  return loadStage({ AWS_REGION: where.region, ...stageEnv(params, where) });
}

/**
 * The one job-input shape every entry point resolves to (see DESIGN.md, "The job input"), its zod
 * schema, and the resolution of a raw execution input into a complete {@link JobInput}:
 * stage defaults merged under the input, names and the idempotency token derived from the execution.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { InvalidInputError, type InputIssue } from './errors.js';

/** Bedrock API patterns (CreateModelCustomizationJob). */
export const JOB_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9+\-.])*$/;
export const CUSTOM_MODEL_NAME_PATTERN = /^([0-9a-zA-Z][_-]?)+$/;
export const CLIENT_REQUEST_TOKEN_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;

/** Longest job this workflow follows (30 days, across hand-overs to fresh executions); README "Limits". */
export const MAX_JOB_DURATION_SECONDS = 30 * 24 * 3600;

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

const s3Uri = z
  .string()
  .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'must be an s3:// URI with a valid bucket name');
const tagMap = z
  .record(z.string().min(1).max(128), z.string().max(256))
  .refine((tags) => Object.keys(tags).length <= 200, 'at most 200 tags');
const uniqueIds = (prefix: string, min: number, max: number) =>
  z
    .array(z.string().regex(new RegExp(`^${prefix}-[0-9a-f]{8,17}$`), `must look like ${prefix}-0123456789abcdef0`))
    .min(min)
    .max(max)
    .refine((ids) => new Set(ids).size === ids.length, 'must not contain duplicates');

export const vpcConfigSchema = z.strictObject({
  vpcId: z
    .string()
    .regex(/^vpc-[0-9a-f]{8,17}$/, 'must look like vpc-0123456789abcdef0')
    .optional(),
  subnetIds: uniqueIds('subnet', 1, 16),
  securityGroupIds: uniqueIds('sg', 1, 5),
});

export const policiesSchema = z.strictObject({
  /** S3 gateway endpoint policy: replace the default full access (`restrict`), add ours (`append`), or leave it. */
  endpoint: z.enum(['restrict', 'append', 'skip']).default('append'),
  /** Deny access to the output bucket unless it comes from the job's VPC (exempt principals aside). */
  outputBucket: z.enum(['apply', 'skip']).default('skip'),
  /** The same restriction on the training bucket. */
  trainingBucket: z.enum(['apply', 'skip']).default('skip'),
  /** The Bedrock service role's VPC (ENI) permissions and bucket access, as an inline policy. */
  role: z.enum(['apply', 'skip']).default('apply'),
  /** Principals kept out of the bucket Deny (operators, this workflow's own roles). */
  exemptPrincipalArns: z
    .array(z.string().regex(/^arn:aws[a-z-]*:(iam|sts)::\d{12}:.+$/, 'must be an IAM or STS principal ARN'))
    .max(20)
    .default([]),
});

export const pollingSchema = z.strictObject({
  /** First wait between status checks. */
  initialSeconds: z.number().int().min(1).max(3600).default(60),
  /** Cap of the growing wait (the longest a finished job can go unnoticed). */
  maxSeconds: z.number().int().min(1).max(3600).default(1800),
  /** Each wait is the previous one times this factor, up to `maxSeconds`. */
  growthFactor: z.number().min(1).max(4).default(2),
  /** Hand the job over to a fresh execution when this one's history reaches this many events. */
  handoverAfterEvents: z.number().int().min(100).max(12_000).default(DEFAULT_HANDOVER_AFTER_EVENTS),
});

export const preflightSchema = z.strictObject({
  /** A job subnet with fewer free IP addresses than this is reported (the job's ENIs need them). */
  minFreeIpsPerSubnet: z.number().int().min(1).max(256).default(4),
});

/** An IAM role ARN. */
export const roleArnSchema = z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN');

/** Fields a caller may give (all optional here: stage defaults fill the rest). */
const jobFields = {
  baseModelIdentifier: z.string().min(1).max(2048),
  customizationType: z
    .enum(['FINE_TUNING', 'CONTINUED_PRE_TRAINING', 'DISTILLATION', 'REINFORCEMENT_FINE_TUNING'])
    .default('FINE_TUNING'),
  roleArn: roleArnSchema,
  trainingDataS3Uri: s3Uri,
  validationDataS3Uris: z.array(s3Uri).max(10).default([]),
  outputDataS3Uri: s3Uri,
  hyperParameters: z.record(z.string(), z.string()).default({}),
  vpcConfig: vpcConfigSchema,
  jobName: z.string().max(63).regex(JOB_NAME_PATTERN, 'must match [a-zA-Z0-9](-*[a-zA-Z0-9+-.])*').optional(),
  customModelName: z
    .string()
    .max(63)
    .regex(CUSTOM_MODEL_NAME_PATTERN, 'must match ([0-9a-zA-Z][_-]?)+')
    .optional(),
  customModelKmsKeyId: z.string().min(1).max(2048).optional(),
  jobTags: tagMap.default({}),
  customModelTags: tagMap.default({}),
  policies: policiesSchema.default(() => policiesSchema.parse({})),
  preflight: preflightSchema.default(() => preflightSchema.parse({})),
  /** Stop the job when it runs longer than this (from submission). */
  maxJobDurationSeconds: z.number().int().min(1).max(MAX_JOB_DURATION_SECONDS).default(86400),
  polling: pollingSchema.default(() => pollingSchema.parse({})),
  /** How long SubmitJob keeps retrying while the account's concurrent-job quota is reached. */
  maxQuotaWaitSeconds: z.number().int().min(0).max(7 * 24 * 3600).default(6 * 3600),
  dryRun: z.boolean().default(false),
};

/** The raw input as a caller sends it (before defaults and derivation). */
export const rawJobInputSchema = z.strictObject(jobFields);

/** A fully resolved job input: what every step after ResolveInput receives as `$.job`. */
export const jobInputSchema = z
  .strictObject({
    ...jobFields,
    jobName: jobFields.jobName.unwrap(),
    customModelName: jobFields.customModelName.unwrap(),
    clientRequestToken: z.string().min(1).max(256).regex(CLIENT_REQUEST_TOKEN_PATTERN),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region'),
    accountId: z.string().regex(/^\d{12}$/),
    partition: z.string().min(3),
  })
  .refine((job) => job.polling.initialSeconds <= job.polling.maxSeconds, {
    path: ['polling', 'initialSeconds'],
    message: 'must not exceed polling.maxSeconds',
  });

export type JobInput = z.infer<typeof jobInputSchema>;
export type RawJobInput = z.input<typeof rawJobInputSchema>;

/** The Step Functions execution a job belongs to (from the context object `$$.Execution`). */
export const executionSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1).max(80),
  startTime: z.string().optional(),
});
export type Execution = z.infer<typeof executionSchema>;

/** Turns zod issues into field-named input issues: `vpcConfig.subnetIds[1]: must look like …`. */
export function toInputIssues(error: z.ZodError, prefix = ''): InputIssue[] {
  return error.issues.map((issue) => ({
    field: formatPath(prefix, issue.path),
    message: issue.message,
  }));
}

function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(input)';
}

/** Parses `value` with `schema` or throws {@link InvalidInputError} naming every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidInputError(toInputIssues(result.error, prefix));
  return result.data;
}

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
  const cut = name.length <= 63 ? name : `${name.slice(0, 54).replace(/[_-]+$/, '')}-${shortHash(name)}`;
  return cut;
}

/** `clientRequestToken` derived from the execution ARN: a retried task sends the same token. */
export function deriveClientRequestToken(execution: Execution): string {
  return createHash('sha256').update(execution.id).digest('hex');
}

/** Region, account and partition of the job: the region it runs in, the account of its role. */
export interface JobLocation {
  region: string;
}

/**
 * Resolves a raw execution input: stage `defaults` first, the caller's fields over them
 * (`vpcConfig` and `policies` are taken whole from the input when given), then derived names.
 * Throws {@link InvalidInputError} naming each bad field; makes no AWS call.
 */
export function resolveJobInput(
  raw: unknown,
  defaults: Partial<RawJobInput>,
  execution: Execution,
  location: JobLocation,
): JobInput {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidInputError([{ field: '(input)', message: 'must be a JSON object' }]);
  }
  const merged = parseOrThrow(rawJobInputSchema, { ...stripUndefined(defaults), ...(raw as object) });
  const jobName = merged.jobName ?? deriveJobName(execution);
  const arn = /^arn:(aws[a-z-]*):iam::(\d{12}):role\//.exec(merged.roleArn);
  return parseOrThrow(jobInputSchema, {
    ...merged,
    jobName,
    customModelName: merged.customModelName ?? deriveCustomModelName(jobName),
    clientRequestToken: deriveClientRequestToken(execution),
    region: location.region,
    partition: arn?.[1],
    accountId: arn?.[2],
  });
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Splits `s3://bucket/key` into its parts. The URI has been validated by the schema. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new InvalidInputError([{ field: 's3Uri', message: `not an s3:// URI: ${uri}` }]);
  return { bucket: match[1]!, key: match[2] ?? '' };
}

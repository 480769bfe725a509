/**
 * Environment of the Lambdas, parsed once at module load. A missing or malformed variable fails the
 * cold start with a message naming it, instead of failing later inside a step. The stage defaults
 * (validate-network) are here; a function with its own variables parses them with {@link loadEnv}.
 */
import type { RawJobInput } from './job-input.js';
import * as z from 'zod/mini';
import { safeParse, type Schema } from './validation.js';

/** An optional variable: unset or blank is undefined, otherwise trimmed. */
export const optional = z.pipe(
  z.optional(z.string()),
  z.transform((v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim())),
);
const list = z.pipe(
  optional,
  z.transform((v: string | undefined) =>
    v === undefined
      ? undefined
      : v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
  ),
);

const envSchema = z.object({
  AWS_REGION: z.string().check(z.minLength(1, 'AWS_REGION is required (Lambda sets it)')),
  DEFAULT_BASE_MODEL_IDENTIFIER: optional,
  DEFAULT_CUSTOMIZATION_TYPE: optional,
  DEFAULT_ROLE_ARN: optional,
  DEFAULT_OUTPUT_S3_URI: optional,
  DEFAULT_VPC_ID: optional,
  DEFAULT_SUBNET_IDS: list,
  DEFAULT_SECURITY_GROUP_IDS: list,
  DEFAULT_MAX_JOB_DURATION_SECONDS: z.pipe(optional, z.transform((v: string | undefined) => (v === undefined ? undefined : Number(v)))),
});

export type Env = z.infer<typeof envSchema>;

/** Parses `source` (default `process.env`) with `schema`; throws naming each bad variable. */
export function loadEnv<S extends Schema>(schema: S, source: NodeJS.ProcessEnv = process.env): z.output<S> {
  const result = safeParse(schema, source);
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid Lambda environment: ${detail}`);
  }
  return result.data;
}

/** The stage defaults' environment (validate-network). */
export function parseEnv(source: NodeJS.ProcessEnv = process.env): Env {
  return loadEnv(envSchema, source);
}

/** Stage defaults (serverless.yml `params`) as a partial job input; empty values are left out. */
export function stageDefaults(env: Env): Partial<RawJobInput> {
  const vpcConfig =
    env.DEFAULT_SUBNET_IDS && env.DEFAULT_SECURITY_GROUP_IDS
      ? {
          ...(env.DEFAULT_VPC_ID ? { vpcId: env.DEFAULT_VPC_ID } : {}),
          subnetIds: env.DEFAULT_SUBNET_IDS,
          securityGroupIds: env.DEFAULT_SECURITY_GROUP_IDS,
        }
      : undefined;
  return {
    baseModelIdentifier: env.DEFAULT_BASE_MODEL_IDENTIFIER,
    customizationType: env.DEFAULT_CUSTOMIZATION_TYPE as RawJobInput['customizationType'],
    roleArn: env.DEFAULT_ROLE_ARN,
    outputDataS3Uri: env.DEFAULT_OUTPUT_S3_URI,
    vpcConfig,
    maxJobDurationSeconds: env.DEFAULT_MAX_JOB_DURATION_SECONDS,
  };
}

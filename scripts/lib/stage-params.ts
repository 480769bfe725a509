/**
 * The stage params of serverless.yml (`params.default`) and the environment a deployment with them
 * gives the Lambdas of the state machine: read from serverless.yml itself, so `npm run local` and the
 * tests run with exactly the variables a deployment sets, from the same param names
 * (`npm run local -- --params FILE`, README "The local run").
 */
import { readFileSync } from 'node:fs';
import { callbackTaskFunctions, lambdaTaskFunctions, loadServerlessConfig } from './workflow.js';

export type StageParams = Record<string, string>;

/** Where the stage is deployed: what `!Ref AWS::AccountId`, `AWS::Region` and `AWS::Partition` resolve to. */
export interface StageAccount {
  accountId: string;
  region: string;
  partition?: string;
  /** What `!Ref <logical id>` of the stack's own resources resolves to locally (e.g. a table's name). */
  resources?: Record<string, string>;
}

type Config = ReturnType<typeof loadServerlessConfig>;

/** serverless.yml's `params.default`, every value as the string a `${param:…}` reference yields. */
export function defaultParams(config: Config = loadServerlessConfig()): StageParams {
  const defaults = ((config.params as { default?: Record<string, unknown> } | undefined)?.default ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(defaults).map(([name, value]) => [name, String(value)]));
}

/** Replaces every `${param:name}` in `value` (an unknown param is an error, as in osls). */
function substitute(value: string, params: StageParams, where: string): string {
  return value.replace(/\$\{param:([A-Za-z0-9_]+)\}/g, (_, name: string) => {
    if (!Object.hasOwn(params, name)) throw new Error(`${where} refers to \${param:${name}}, which serverless.yml does not define`);
    return params[name]!;
  });
}

/** The defaults with `overrides` laid over them, each value's `${param:…}` references resolved. */
export function resolveParams(overrides: StageParams = {}, config: Config = loadServerlessConfig()): StageParams {
  const merged = { ...defaultParams(config), ...overrides };
  const out: StageParams = {};
  for (const [name, value] of Object.entries(merged)) {
    // One level of reference is all serverless.yml uses (janitorVpcIds: ${param:vpcId}).
    out[name] = substitute(value, merged, `param ${name}`);
  }
  return out;
}

/**
 * The environment variables of the state machine's Lambdas (or of `functions`) with `params`, merged (the names do not
 * clash; a clash with different values is an error). `!Ref AWS::AccountId|Region|Partition` resolve to
 * `account`, `!Ref <resource>` to `account.resources`; any other CloudFormation reference (a role's
 * ARN…) has no local value and is left out.
 */
export function functionEnvironment(
  params: StageParams,
  account: StageAccount,
  config: Config = loadServerlessConfig(),
  /** The functions (serverless.yml keys) whose environment to build: by default the state machine's. */
  functions: string[] = [...Object.values(lambdaTaskFunctions(config)), ...Object.values(callbackTaskFunctions())],
): Record<string, string> {
  const pseudo: Record<string, string> = {
    ...account.resources,
    'AWS::AccountId': account.accountId,
    'AWS::Region': account.region,
    'AWS::Partition': account.partition ?? 'aws',
  };
  const env: Record<string, string> = {};
  for (const key of new Set(functions)) {
    if (!Object.hasOwn(config.functions, key)) throw new Error(`${key} is not a function of serverless.yml`);
    for (const [name, raw] of Object.entries(config.functions[key]!.environment ?? {})) {
      let value: string | undefined;
      if (typeof raw === 'string') value = substitute(raw, params, `functions.${key}.environment.${name}`);
      else if (raw && typeof raw === 'object' && 'Ref' in raw && Object.hasOwn(pseudo, String(raw.Ref))) value = pseudo[String(raw.Ref)];
      else continue;
      if (env[name] !== undefined && env[name] !== value) throw new Error(`environment variable ${name} differs between functions`);
      env[name] = value!;
    }
  }
  return env;
}

/**
 * A `--params FILE`: a JSON object of serverless.yml param names and their values (strings; numbers
 * and booleans are taken as their text). Throws naming an unknown param or a bad value.
 */
export function readParamsFile(file: string, config: Config = loadServerlessConfig()): StageParams {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`--params ${file}: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`--params ${file} must hold a JSON object of stage params`);
  const known = defaultParams(config);
  const out: StageParams = {};
  for (const [name, v] of Object.entries(value)) {
    if (!Object.hasOwn(known, name)) throw new Error(`--params ${file}: ${name} is not a param of serverless.yml (known: ${Object.keys(known).join(', ')})`);
    if (!['string', 'number', 'boolean'].includes(typeof v)) throw new Error(`--params ${file}: ${name} must be a string (a list is comma-separated)`);
    out[name] = String(v);
  }
  return out;
}

/**
 * The stage params of serverless.yml (`params.default`) and the environment a deployment with them
 * gives the Lambdas of the state machine: read from serverless.yml itself, so `npm run local` and the
 * tests run with exactly the variables a deployment sets, from the same param names
 * (`npm run local -- --params FILE`, README "The local run").
 */
import { readFileSync } from 'node:fs';
import { isCfnValue, resolveCfnValue, stackResources, type LocalAccount } from './cfn-values.js';
import { callbackTaskFunctions, lambdaTaskFunctions, loadServerlessConfig } from './workflow.js';

export type StageParams = Record<string, string>;

/**
 * Where the stage runs: what `!Ref AWS::AccountId`, `AWS::Region` and `AWS::Partition` resolve to, and
 * the account of the local stand-ins for the stack's resources (scripts/lib/cfn-values.ts).
 */
export type StageAccount = LocalAccount;

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
 * clash; a clash with different values is an error). Every CloudFormation value (`!Ref AWS::AccountId`,
 * `!Ref <table>`, `!GetAtt <role>.Arn`…) resolves to its local stand-in (scripts/lib/cfn-values.ts): one
 * rule by the resource's Type, so a new `!Ref` needs no change here; one without a stand-in is an error
 * naming the function, the variable and the logical id.
 */
export function functionEnvironment(
  params: StageParams,
  account: StageAccount,
  config: Config = loadServerlessConfig(),
  /** The functions (serverless.yml keys) whose environment to build: by default the state machine's. */
  functions: string[] = [...Object.values(lambdaTaskFunctions(config)), ...Object.values(callbackTaskFunctions())],
): Record<string, string> {
  const resources = stackResources(config);
  const env: Record<string, string> = {};
  for (const key of new Set(functions)) {
    if (!Object.hasOwn(config.functions, key)) throw new Error(`${key} is not a function of serverless.yml`);
    for (const [name, raw] of Object.entries(config.functions[key]!.environment ?? {})) {
      const where = `functions.${key}.environment.${name}`;
      let value: string;
      if (typeof raw === 'string') value = substitute(raw, params, where);
      else if (typeof raw === 'number' || typeof raw === 'boolean') value = String(raw);
      else if (isCfnValue(raw)) value = resolveCfnValue(raw, where, account, resources);
      else throw new Error(`${where}: ${JSON.stringify(raw)} is neither text nor a CloudFormation value`);
      if (env[name] !== undefined && env[name] !== value) throw new Error(`environment variable ${name} differs between functions`);
      env[name] = value;
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

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
 * the account of the local stand-ins for the stack's resources (local/cfn-values.ts).
 */
export type StageAccount = LocalAccount;

type Config = ReturnType<typeof loadServerlessConfig>;

/** serverless.yml's `params.default`, every value as the string a `${param:…}` reference yields. */
export function defaultParams(config: Config = loadServerlessConfig()): StageParams {
  const defaults = ((config.params as { default?: Record<string, unknown> } | undefined)?.default ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(defaults).map(([name, value]) => [name, String(value)]));
}

/** The stage name the local run and the bench deploy as (`${sls:stage}`, `${opt:stage, …}`): the local state machine's. */
export const LOCAL_STAGE = 'local';

/**
 * Resolves the Serverless Framework variables of `value` as osls does for a deployment of `stage`
 * (default {@link LOCAL_STAGE}) with `params`: `${param:name}`, `${self:path.to.key}` (of serverless.yml),
 * `${sls:stage}`, `${opt:name, fallback}` (no CLI options but `stage`: the fallback), nested references
 * inside out (`${self:custom.x.${param:y}.z}`), objects and lists member by member. Any other source,
 * an unknown param or a path that resolves to nothing is an error naming `where`: a value never reaches a
 * Lambda with a `${…}` left in it.
 */
export function resolveVariables(value: unknown, params: StageParams, where: string, config: Config = loadServerlessConfig(), stage = LOCAL_STAGE): unknown {
  return resolveNested(value, params, where, config, stage, 0);
}

function resolveNested(value: unknown, params: StageParams, where: string, config: Config, stage: string, depth: number): unknown {
  if (depth > 20) throw new Error(`${where}: serverless variables nest too deep`);
  if (Array.isArray(value)) return value.map((v, i) => resolveNested(v, params, `${where}[${i}]`, config, stage, depth));
  if (value !== null && typeof value === 'object') {
    if (isCfnValue(value)) return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveNested(v, params, `${where}.${k}`, config, stage, depth)]));
  }
  if (typeof value !== 'string') return value;
  const source = (expr: string): unknown => {
    const [head, ...fallbacks] = expr.split(',').map((part) => part.trim());
    const [kind, rest = ''] = head!.split(/:(.*)/s) as [string, string?];
    let out: unknown;
    if (kind === 'param') {
      if (!Object.hasOwn(params, rest)) throw new Error(`${where} refers to \${param:${rest}}, which serverless.yml does not define`);
      out = params[rest];
    } else if (kind === 'self') out = rest.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), config);
    else if (kind === 'sls' && rest === 'stage') out = stage;
    else if (kind === 'opt') out = rest === 'stage' ? stage : undefined;
    else throw new Error(`${where}: \${${expr}} is a variable source the local run does not resolve (param, self, sls:stage, opt)`);
    if (out === undefined && fallbacks.length) {
      const fallback = fallbacks.join(',');
      out = /^(['"]).*\1$/s.test(fallback) ? fallback.slice(1, -1) : source(fallback);
    }
    if (out === undefined) throw new Error(`${where}: \${${expr}} resolves to nothing`);
    return resolveNested(out, params, where, config, stage, depth + 1);
  };
  let text = value;
  // Innermost first: a reference whose body holds no other `${`.
  for (let m = /\$\{([^${}]*)\}/.exec(text); m; m = /\$\{([^${}]*)\}/.exec(text)) {
    const resolved = source(m[1]!);
    if (m[0] === text) return resolved;
    if (resolved !== null && typeof resolved === 'object') throw new Error(`${where}: \${${m[1]}} is an object inside a string`);
    text = text.slice(0, m.index) + String(resolved) + text.slice(m.index + m[0].length);
  }
  return text;
}

/** `value` with its variables resolved, as the text an environment variable holds. */
function substitute(value: string, params: StageParams, where: string, config: Config = loadServerlessConfig(), stage = LOCAL_STAGE): string {
  const out = resolveVariables(value, params, where, config, stage);
  if (out !== null && typeof out === 'object') throw new Error(`${where}: resolves to an object, not text`);
  return String(out);
}

/** The defaults with `overrides` laid over them, each value's `${param:…}` references resolved. */
export function resolveParams(overrides: StageParams = {}, config: Config = loadServerlessConfig()): StageParams {
  const merged = { ...defaultParams(config), ...overrides };
  const out: StageParams = {};
  for (const [name, value] of Object.entries(merged)) {
    // One level of reference is all serverless.yml uses (janitorVpcIds: ${param:vpcId}).
    out[name] = substitute(value, merged, `param ${name}`, config);
  }
  return out;
}

/**
 * The environment variables of the state machine's Lambdas (or of `functions`) with `params`, merged (the names do not
 * clash; a clash with different values is an error). Every CloudFormation value (`!Ref AWS::AccountId`,
 * `!Ref <table>`, `!GetAtt <role>.Arn`…) resolves to its local stand-in (local/cfn-values.ts): one
 * rule by the resource's Type, so a new `!Ref` needs no change here; one without a stand-in is an error
 * naming the function, the variable and the logical id.
 */
export function functionEnvironment(
  params: StageParams,
  account: StageAccount,
  config: Config = loadServerlessConfig(),
  /** The functions (serverless.yml keys) whose environment to build: by default the state machine's. */
  functions: string[] = [...Object.values(lambdaTaskFunctions(config)), ...Object.values(callbackTaskFunctions())],
  /** The stage `${sls:stage}` names (the bench builds as `npm run package` does: dev). */
  stage = LOCAL_STAGE,
): Record<string, string> {
  const resources = stackResources(config);
  const env: Record<string, string> = {};
  // provider.environment reaches every function (a function's own variable of the same name wins).
  const providerRaw = resolveVariables((config.provider as { environment?: unknown } | undefined)?.environment ?? {}, params, 'provider.environment', config, stage);
  if (providerRaw === null || typeof providerRaw !== 'object' || Array.isArray(providerRaw)) throw new Error('provider.environment must resolve to a map of variables');
  for (const key of new Set(functions)) {
    if (!Object.hasOwn(config.functions, key)) throw new Error(`${key} is not a function of serverless.yml`);
    const variables = { ...(providerRaw as Record<string, unknown>), ...(config.functions[key]!.environment ?? {}) };
    for (const [name, raw] of Object.entries(variables)) {
      const where = `functions.${key}.environment.${name}`;
      let value: string;
      if (typeof raw === 'string') value = substitute(raw, params, where, config, stage);
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

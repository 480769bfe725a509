/**
 * Bundle size and cold import of each Lambda against a generated baseline ("bundles" group).
 *
 * What is measured, and how:
 * - Each function of serverless.yml is built the way it deploys: serverless-esbuild's defaults, the
 *   provider runtime's target, then `custom.esbuild` (read from serverless.yml on every run, so the
 *   figures follow the deployed settings), mapped to esbuild's JS API as serverless-esbuild does it
 *   (its own options removed, `exclude` added to `external`, `outputFileExtension` → `outExtension`),
 *   plus `metafile: true`. Output goes to a temp dir under os.tmpdir(), never into the repo.
 * - Baseline per function, generated from what the function really sends: the metafile gives the
 *   files under functions/ that end up in the bundle; their import statements, `new <X>Command(`
 *   expressions and `paginate<X>(`/waiter calls (TypeScript AST) give the commands, paginators and
 *   their `@aws-sdk/client-*` modules (any other SDK call, or a client made outside clients.ts,
 *   fails); the names they import from functions/shared/clients.ts give the clients, created with the
 *   same constructor options as there. The baseline handler creates those clients once at module
 *   scope and sends every command (paginators iterated), so nothing is tree-shaken away; it is built
 *   with the same options. Where the SDK resolves to per-command files (dist-es), scanned commands
 *   absent from the function's bundle (a shared file partly tree-shaken) are left out. Checks,
 *   failing the bench: the baseline's SDK client packages, and where visible its command files, must
 *   be exactly those of the function's bundle.
 * - Bundle bytes: the size of the output .mjs/.js (source maps excluded).
 * - Cold import (BENCH_BUNDLE_RUNS samples per bundle, default 25): a fresh `node` process per
 *   sample records wall time (process.hrtime) and CPU time (process.cpuUsage, user + system) around
 *   `await import(bundleUrl)`, and the RSS after it. Samples alternate function/baseline (ABBA
 *   order, after one discarded warm-up each) to cancel drift. The child gets a clean environment: the function's serverless.yml
 *   environment (provider + function, serverless variables resolved for stage dev; so a NODE_OPTIONS
 *   such as --enable-source-maps applies as on Lambda), the logging variables Lambda sets for
 *   provider.logs, AWS_REGION, dummy credentials and the Lambda function variables. A failing import
 *   fails the bench.
 * - Ratios, target <= 1.1: function / baseline bytes; cold import as the median over the adjacent
 *   function/baseline pairs of their CPU-time ratio (the work the import does; wall time on a shared
 *   2-core machine swung 0.86x-1.3x between runs of identical bundles). The wall-time ratio is
 *   reported beside it, without a target.
 * - Feature rows: where an SDK client is used only by one feature's file (the job ledger's DynamoDB
 *   client, functions/shared/ledger.ts, in a function that has no other DynamoDB use), the baseline is
 *   built a second time without that client and imported in the same ABBA rounds: the feature's own
 *   cost (baseline with it / without it) is a row of its own, not hidden in the function's ratio.
 * - The imports run on a Node.js of the Lambda runtime's major (scripts/bench/lambda-node.ts: this
 *   machine's Node is 20, provider.runtime is nodejs22.x; the same bundles measure ~1.05x on Node 22
 *   where Node 20 gives ~1.12x); the figure `cold import Node.js major` says which. Absolute ms and MB
 *   are indicative (another CPU than Lambda's); the ratios are the figure.
 * - BENCH_BUNDLE_KEEP=1 keeps the temp dir (bundles, baseline sources, each function's environment)
 *   for profiling.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import ts from 'typescript';
import { projectRoot } from '../../local/paths.js';
import { functionEnvironment, resolveParams, resolveVariables as resolveStageVariables, type StageParams } from '../../local/stage-params.js';
import { loadServerlessConfig } from '../../local/workflow.js';
import { lambdaNode } from './lambda-node.js';
import type { BenchFigure } from './preflight.js';
import { median } from './stats.js';

const execFileAsync = promisify(execFile);
/**
 * Cold imports per bundle (BENCH_BUNDLE_RUNS to change): 25, about 2.5 minutes for the group. With 15,
 * one function's CPU ratio moved by up to ±0.04 between runs of the same bundles on this shared machine.
 */
const RUNS = Number(process.env.BENCH_BUNDLE_RUNS ?? 25);
const REGION = 'us-east-1';
/** The account and region the bundles' CloudFormation values stand for (any will do: the imports only parse them). */
const BENCH_ACCOUNT = { accountId: '123456789012', region: REGION };
const CLIENTS_FILE = 'functions/shared/clients.ts';
/** The stage `npm run package` builds. */
const STAGE = 'dev';

/**
 * Features whose SDK client is theirs alone in a function: for such a function the baseline is built a
 * second time without that client (and its commands), so the feature's own cost is a row of its own,
 * not hidden in the ratio (the ratio's baseline includes the client, as the function does).
 */
const FEATURES = [
  { name: "the job ledger's DynamoDB client", file: 'functions/shared/ledger.ts', files: ['functions/shared/ledger.ts', 'functions/shared/ledger-env.ts'] },
];

/**
 * Features that are code only (no SDK client of their own): their bytes in a function's bundle, and the
 * function's size ratio without them, as rows of their own. (Their import CPU cannot be isolated: the
 * function does not run without them.) The dataset check is validate-dataset's step logic (its handler
 * aside) and the dataset-object module.
 */
const CODE_FEATURES = [
  {
    name: 'the dataset check',
    files: (p: string) =>
      p.startsWith('functions/shared/dataset/') || (p.startsWith('functions/validate-dataset/') && p !== 'functions/validate-dataset/handler.ts'),
  },
];

/**
 * Modules that cost at import: where a function's bundle holds `file`, its baseline is also built with
 * the module imported as the function imports it, and imported in the same rounds: the module's own
 * cost at import is a row of its own. For the job input schema that is the zod/mini code, its English
 * messages and the job-input module (the schema itself is built on its first parse, shared/job-input.ts).
 */
const SCHEMA_FEATURES = [
  {
    name: 'the job input schema',
    file: 'functions/shared/job-input.ts',
    code: "import { jobInputSchema } from './functions/shared/job-input.ts';\nimport './functions/shared/validation.ts';\nexport const benchSchema = jobInputSchema;",
  },
  {
    // Every handler is wrapped by @middy/core (shared/handler.ts), an owner-fixed package; at import it
    // loads node:stream/web and node:stream/promises, which a bare-SDK handler does not.
    name: '@middy/core',
    file: 'functions/shared/handler.ts',
    code: "import middy from '@middy/core';\nexport const benchMiddy = middy;",
  },
];

/** serverless-esbuild's own options, removed before esbuild sees the config (its bundle.js). */
const PLUGIN_ONLY_OPTIONS = [
  'concurrency', 'zipConcurrency', 'exclude', 'nativeZip', 'packager', 'packagePath', 'watch', 'keepOutputDirectory',
  'packagerOptions', 'installExtraArgs', 'outputFileExtension', 'outputBuildFolder', 'outputWorkFolder', 'nodeExternals',
  'skipBuild', 'skipRebuild', 'skipBuildExcludeFns', 'stripEntryResolveExtensions', 'disposeContext',
];

type ServerlessConfig = ReturnType<typeof loadServerlessConfig> & {
  provider?: { runtime?: string; environment?: Record<string, unknown> };
  custom?: { esbuild?: Record<string, unknown> };
  params?: { default?: Record<string, unknown> };
  resources?: { Resources?: Record<string, { Type?: string }> };
  service?: string;
};

/** The esbuild options serverless-esbuild would use, and the output extension. */
export function deployedBuildOptions(config: ServerlessConfig): { options: BuildOptions; outputFileExtension: string } {
  const custom = { ...(resolveVariables(config, config.custom?.esbuild ?? {}, 'custom.esbuild') as Record<string, unknown>) };
  if (custom.config) throw new Error('custom.esbuild.config (a JS config file) is not followed by this bench: map it here');
  if (custom.plugins) throw new Error('custom.esbuild.plugins is not followed by this bench: add the plugins here');
  const runtime = /^nodejs(\d+)\.x$/.exec(String(resolveVariables(config, config.provider?.runtime ?? '', 'provider.runtime')));
  // serverless-esbuild's DEFAULT_BUILD_OPTIONS, then the runtime's target, then custom.esbuild (mergeDeepRight).
  const merged: Record<string, unknown> = {
    bundle: true,
    target: runtime ? `node${runtime[1]}` : 'node18',
    external: [],
    exclude: ['aws-sdk'],
    platform: 'node',
    outputFileExtension: '.js',
    ...custom,
  };
  const asList = (v: unknown) => (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((s): s is string => typeof s === 'string');
  const exclude = asList(merged.exclude);
  const external = [...asList(merged.external), ...(exclude.includes('*') ? [] : exclude)];
  if (external.length) throw new Error(`externals ${external.join(', ')}: the bench imports bundles from a temp dir without node_modules`);
  const outputFileExtension = String(merged.outputFileExtension);
  const options = Object.fromEntries(Object.entries(merged).filter(([k]) => !PLUGIN_ONLY_OPTIONS.includes(k))) as BuildOptions;
  options.external = external;
  if (outputFileExtension !== '.js') options.outExtension = { '.js': outputFileExtension };
  return { options, outputFileExtension };
}

/**
 * Serverless variables of a value from serverless.yml, resolved as `osls package --stage dev` would:
 * the local run's resolver (local/stage-params.ts) with stage dev and params.dev laid over
 * params.default.
 */
function resolveVariables(config: ServerlessConfig, value: unknown, where: string): unknown {
  return resolveStageVariables(value, stageParams(config), where, config as never, STAGE);
}

/** The params of stage {@link STAGE}: params.dev over params.default, as the deployment resolves them. */
function stageParams(config: ServerlessConfig): StageParams {
  const overrides = ((config.params ?? {}) as Record<string, Record<string, unknown> | undefined>)[STAGE] ?? {};
  return resolveParams(Object.fromEntries(Object.entries(overrides).map(([k, v]) => [k, String(v)])), config as never);
}

/**
 * The function's environment on Lambda: provider + function `environment` as the local run builds it
 * (local/stage-params.ts functionEnvironment: one source for the local run and the bench, with the
 * stage's params laid over the defaults), and the logging variables Lambda sets.
 */
function lambdaEnvironment(config: ServerlessConfig, key: string): Record<string, string> {
  const provider = (config.provider ?? {}) as { logs?: unknown };
  const env: Record<string, string> = {};
  const logs = resolveVariables(config, provider.logs ?? {}, 'provider.logs') as { lambda?: { logFormat?: string; applicationLogLevel?: string } };
  if (logs.lambda?.logFormat) env.AWS_LAMBDA_LOG_FORMAT = logs.lambda.logFormat;
  if (logs.lambda?.logFormat === 'JSON' && logs.lambda.applicationLogLevel) env.AWS_LAMBDA_LOG_LEVEL = logs.lambda.applicationLogLevel;
  return { ...env, ...functionEnvironment(stageParams(config), BENCH_ACCOUNT, config as never, [key], STAGE) };
}

interface Client {
  exportName: string;
  className: string;
  module: string;
  args: string;
}

/** clients.ts: each exported `new <X>Client(args)`, and its top-level helper constants. */
function parseClientsFile(): { clients: Map<string, Client>; helpers: Map<string, string>; imports: Map<string, { module: string; name: string }> } {
  const sf = source(CLIENTS_FILE);
  const imports = importMap(sf);
  const clients = new Map<string, Client>();
  const helpers = new Map<string, string>();
  for (const stmt of sf.statements) {
    if (!ts.isVariableStatement(stmt)) continue;
    const exported = stmt.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) ?? false;
    for (const decl of stmt.declarationList.declarations) {
      if (!ts.isIdentifier(decl.name) || !decl.initializer) continue;
      const init = decl.initializer;
      if (exported && ts.isNewExpression(init) && ts.isIdentifier(init.expression)) {
        const from = imports.get(init.expression.text);
        if (!from?.module.startsWith('@aws-sdk/client-')) throw new Error(`${CLIENTS_FILE}: ${decl.name.text} is not an SDK client`);
        clients.set(decl.name.text, {
          exportName: decl.name.text,
          className: from.name,
          module: from.module,
          args: (init.arguments ?? []).map((a) => a.getText(sf)).join(', '),
        });
      } else if (!exported) {
        helpers.set(decl.name.text, `const ${decl.name.text} = ${init.getText(sf)};`);
      }
    }
  }
  return { clients, helpers, imports };
}

function source(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(join(projectRoot, file), 'utf8'), ts.ScriptTarget.Latest, true);
}

/** Local name → { module, imported name } of a file's value imports ('*' for a namespace). */
function importMap(sf: ts.SourceFile): Map<string, { module: string; name: string }> {
  const map = new Map<string, { module: string; name: string }>();
  for (const stmt of sf.statements) {
    if (!ts.isImportDeclaration(stmt) || !ts.isStringLiteral(stmt.moduleSpecifier)) continue;
    const clause = stmt.importClause;
    if (!clause || clause.isTypeOnly) continue;
    const module = stmt.moduleSpecifier.text;
    if (clause.name) map.set(clause.name.text, { module, name: 'default' });
    const bindings = clause.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings)) map.set(bindings.name.text, { module, name: '*' });
    if (bindings && ts.isNamedImports(bindings)) {
      for (const el of bindings.elements) {
        if (!el.isTypeOnly) map.set(el.name.text, { module, name: (el.propertyName ?? el.name).text });
      }
    }
  }
  return map;
}

/** A relative import of `from` resolved to a project file (a `.js` specifier names the `.ts` file beside it). */
function resolveLocal(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(projectRoot, dirname(from), specifier).replace(/\.(m?js)$/, '');
  for (const ext of ['.ts', '.mts', '.js', '.mjs', '/index.ts']) {
    if (existsSync(base + ext)) return relative(projectRoot, base + ext).split('\\').join('/');
  }
  return undefined;
}

interface Scan {
  /** module → command class names */
  commands: Map<string, Set<string>>;
  /** module → SDK functions called with a client (`paginateDescribeSubnets({ client }, input)`, waiters) */
  helpers: Map<string, Set<string>>;
  /** clients.ts exports the function imports */
  clients: Set<string>;
  /** module → the project files that construct its commands or call its helpers */
  files: Map<string, Set<string>>;
}

/** The SDK commands constructed and the clients.ts clients imported by the given project files. */
function scanFunctionFiles(files: string[]): Scan {
  const scan: Scan = { commands: new Map(), helpers: new Map(), clients: new Set(), files: new Map() };
  const seen = (module: string, file: string) => {
    if (!scan.files.has(module)) scan.files.set(module, new Set());
    scan.files.get(module)!.add(file);
  };
  const clientsTs = parseClientsFile();
  for (const file of files) {
    if (file === CLIENTS_FILE) continue;
    const sf = source(file);
    const imports = importMap(sf);
    for (const [local, { module, name }] of imports) {
      if (resolveLocal(file, module) !== CLIENTS_FILE) continue;
      if (name === '*' || name === 'default') clientsTs.clients.forEach((_, k) => scan.clients.add(k));
      else if (clientsTs.clients.has(name)) scan.clients.add(name);
      else if (local) throw new Error(`${file} imports ${name} from clients.ts, which is not a client`);
    }
    const visit = (node: ts.Node) => {
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression)) {
        const from = imports.get(node.expression.text);
        if (from?.module.startsWith('@aws-sdk/client-')) {
          if (!/^(paginate|waitUntil|waitFor)/.test(from.name)) throw new Error(`${file} calls ${from.name} of ${from.module}: not mirrored by the bench`);
          if (!scan.helpers.has(from.module)) scan.helpers.set(from.module, new Set());
          scan.helpers.get(from.module)!.add(from.name);
          seen(from.module, file);
        }
      }
      if (ts.isNewExpression(node)) {
        let from: { module: string; name: string } | undefined;
        const e = node.expression;
        if (ts.isIdentifier(e)) from = imports.get(e.text);
        else if (ts.isPropertyAccessExpression(e) && ts.isIdentifier(e.expression) && imports.get(e.expression.text)?.name === '*') {
          from = { module: imports.get(e.expression.text)!.module, name: e.name.text };
        }
        const text = e.getText(sf);
        if (from?.module.startsWith('@aws-sdk/client-')) {
          if (/Client$/.test(from.name)) throw new Error(`${file} creates ${from.name} itself; the bench only mirrors clients.ts`);
          if (!scan.commands.has(from.module)) scan.commands.set(from.module, new Set());
          scan.commands.get(from.module)!.add(from.name);
          seen(from.module, file);
        } else if (/Command$/.test(text)) {
          throw new Error(`${file}: new ${text}(…) is not imported from an @aws-sdk/client-* module`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return scan;
}

/** The baseline handler: the same clients (same options) and commands, every command sent. */
function baselineSource(scan: Scan): { code: string; clients: Client[] } {
  const { clients: all, helpers, imports } = parseClientsFile();
  const clients = [...scan.clients].map((name) => all.get(name)!);
  const byModule = new Map<string, Set<string>>();
  const add = (module: string, name: string) => {
    if (!byModule.has(module)) byModule.set(module, new Set());
    byModule.get(module)!.add(name);
  };
  // Commands and helpers are imported under a name of their module's: two clients may both have a
  // GetPolicyCommand (IAM and Lambda).
  const local = (module: string, name: string) => `${module.replace(/^@aws-sdk\/client-/, '').replace(/[^a-zA-Z0-9]/g, '_')}_${name}`;
  const imported = (module: string, name: string) => (name === clients.find((c) => c.module === module)?.className ? name : `${name} as ${local(module, name)}`);
  clients.forEach((c) => add(c.module, c.className));
  scan.commands.forEach((names, module) => names.forEach((n) => add(module, n)));
  scan.helpers.forEach((names, module) => names.forEach((n) => add(module, n)));
  const lines = [...byModule].map(([module, names]) => `import { ${[...names].sort().map((n) => imported(module, n)).join(', ')} } from '${module}';`);
  const argsText = clients.map((c) => c.args).join(' ');
  // What the clients' options use from other packages (the runtime client's HTTP/1.1 handler), under clients.ts's names.
  imports.forEach(({ module, name }, localName) => {
    if (!module.startsWith('@aws-sdk/client-') && !module.startsWith('.') && new RegExp(`\\b${localName}\\b`).test(argsText)) {
      lines.push(`import { ${name === localName ? name : `${name} as ${localName}`} } from '${module}';`);
    }
  });
  helpers.forEach((decl, name) => new RegExp(`\\b${name}\\b`).test(argsText) && lines.push(decl));
  clients.forEach((c) => lines.push(`const ${c.exportName} = new ${c.className}(${c.args});`));
  const sends: string[] = [];
  let i = 0;
  for (const [module, names] of scan.commands) {
    const client = clients.find((c) => c.module === module);
    if (!client) throw new Error(`commands of ${module} are sent, but no ${module} client of clients.ts is imported`);
    for (const name of [...names].sort()) sends.push(`  await ${client.exportName}.send(new ${local(module, name)}(e.c${i++}));`);
  }
  for (const [module, names] of scan.helpers) {
    const client = clients.find((c) => c.module === module);
    if (!client) throw new Error(`${module} helpers are called, but no ${module} client of clients.ts is imported`);
    for (const name of [...names].sort()) {
      sends.push(
        name.startsWith('paginate')
          ? `  for await (const page of ${local(module, name)}({ client: ${client.exportName} }, e.c${i++})) e.pages.push(page);`
          : `  await ${local(module, name)}({ client: ${client.exportName}, maxWaitTime: 60 }, e.c${i++});`,
      );
    }
  }
  lines.push(`export const handler = async (e) => {`, ...sends, `};`);
  return { code: `${lines.join('\n')}\n`, clients };
}

interface Built {
  file: string;
  bytes: number;
  metafile: Metafile;
}

async function buildBundle(options: BuildOptions, entry: { file: string } | { code: string }, outdir: string, ext: string): Promise<Built> {
  const result = await build({
    ...options,
    absWorkingDir: projectRoot,
    metafile: true,
    logLevel: 'silent',
    ...('file' in entry
      ? { entryPoints: [entry.file], outdir }
      : { stdin: { contents: entry.code, loader: 'ts', resolveDir: projectRoot, sourcefile: 'baseline-handler.ts' }, outfile: join(outdir, `handler${ext}`) }),
  });
  const out = Object.entries(result.metafile.outputs).find(([path, o]) => !path.endsWith('.map') && (o.entryPoint !== undefined || !('file' in entry)));
  if (!out) throw new Error('esbuild reported no output file');
  const file = resolve(projectRoot, out[0]);
  return { file, bytes: statSync(file).size, metafile: result.metafile };
}

/** Input files of `prefix` with bytes in the bundle. */
function bundledInputs(built: Built): [string, number][] {
  return Object.values(built.metafile.outputs).flatMap((o) => Object.entries(o.inputs).map(([p, i]) => [p, i.bytesInOutput] as [string, number])).filter(([, b]) => b > 0);
}

function sdkPackages(built: Built): Set<string> {
  return new Set(bundledInputs(built).flatMap(([p]) => /node_modules\/(@aws-sdk\/client-[^/]+)\//.exec(p)?.[1] ?? []));
}

/** Per-command files in the bundle (dist-es resolution only; empty when the client is one dist-cjs file). */
function bundledCommandFiles(built: Built): Set<string> {
  return new Set(bundledInputs(built).flatMap(([p]) => {
    const m = /node_modules\/(@aws-sdk\/client-[^/]+)\/dist-es\/commands\/(\w+Command)\.js$/.exec(p);
    return m ? [`${m[1]}:${m[2]}`] : [];
  }));
}

// Wall time and CPU time (user + system) of the import: CPU time is the work the import does, and
// is much less disturbed than wall time by whatever else the machine runs at that moment.
const RUNNER = `const url = process.argv[2];
const c0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const mod = await import(url);
const t1 = process.hrtime.bigint();
const c1 = process.cpuUsage(c0);
if (typeof mod.handler !== 'function') throw new Error('no handler export in ' + url);
process.stdout.write(JSON.stringify({ ms: Number(t1 - t0) / 1e6, cpuMs: (c1.user + c1.system) / 1e3, rss: process.memoryUsage().rss }));
`;

interface Sample {
  ms: number;
  cpuMs: number;
  rss: number;
}

async function coldImport(node: string, runner: string, file: string, env: Record<string, string>): Promise<Sample> {
  try {
    const { stdout } = await execFileAsync(node, [runner, pathToFileURL(file).href], { env, cwd: dirname(file), maxBuffer: 1 << 20 });
    return JSON.parse(stdout) as Sample;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`cold import of ${file} failed: ${e.stderr || e.message}`);
  }
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits));

export async function run(ctx: { quick?: boolean } = {}): Promise<BenchFigure[]> {
  const runs = ctx.quick ? 1 : RUNS; // quick (npm test): one paired cold import per function
  const config = loadServerlessConfig() as ServerlessConfig;
  const { options, outputFileExtension } = deployedBuildOptions(config);
  const runtimeMajor = /^nodejs(\d+)\.x$/.exec(String(resolveVariables(config, config.provider?.runtime ?? '', 'provider.runtime')))?.[1];
  const node = await lambdaNode(runtimeMajor === undefined ? undefined : Number(runtimeMajor), (line) => process.stderr.write(`bench: ${line}\n`));
  process.stderr.write(`bench: bundles built with ${JSON.stringify({ ...options, banner: options.banner ? '…' : undefined })}\n`);
  const tmp = mkdtempSync(join(tmpdir(), 'bench-bundles-'));
  const runner = join(tmp, 'import-runner.mjs');
  writeFileSync(runner, RUNNER);
  // The Node major the imports ran on, beside the runtime's: a figure measured on another major says so.
  const figures: BenchFigure[] = [
    { name: 'cold import Node.js major', value: node.major, unit: '', target: runtimeMajor === undefined ? undefined : `= ${runtimeMajor} (provider.runtime)` },
  ];
  const table: Record<string, string | number>[] = [];
  const notes: string[] = [];
  const featureTable: Record<string, string | number>[] = [];
  try {
    const keys = Object.keys(config.functions);
    // allSettled: no build still writes into the temp dir when a failure removes it.
    const settled = await Promise.allSettled(
      keys.map(async (key) => {
        const handler = config.functions[key]!.handler;
        const base = handler.slice(0, handler.lastIndexOf('.'));
        const entry = ['.ts', '.mts', '.js', '.mjs'].map((ext) => base + ext).find((f) => existsSync(join(projectRoot, f)));
        if (!entry) throw new Error(`${key}: no source file for handler ${handler}`);
        const fn = await buildBundle(options, { file: entry }, join(tmp, key, dirname(entry)), outputFileExtension);
        const files = bundledInputs(fn).map(([p]) => p).filter((p) => p.startsWith('functions/'));
        const scan = scanFunctionFiles(files);
        // Where the SDK resolves to per-command files (dist-es), the bundle shows which scanned commands
        // survived tree-shaking (a shared file may be partly bundled): the baseline keeps only those.
        const fnCmds = bundledCommandFiles(fn);
        const perCommand = new Set([...fnCmds].map((c) => c.split(':')[0]!));
        const dropped: string[] = [];
        for (const [module, names] of scan.commands) {
          if (!perCommand.has(module)) continue;
          for (const name of names) if (!fnCmds.has(`${module}:${name}`)) (names.delete(name), dropped.push(`${module}:${name}`));
          if (!names.size) scan.commands.delete(module);
        }
        for (const [module, names] of scan.helpers) {
          if (!perCommand.has(module)) continue;
          for (const name of names) {
            const command = name.startsWith('paginate') ? `${name.slice('paginate'.length)}Command` : undefined;
            if (command && !fnCmds.has(`${module}:${command}`)) (names.delete(name), dropped.push(`${module}:${name}`));
          }
          if (!names.size) scan.helpers.delete(module);
        }
        const { code, clients } = baselineSource(scan);
        // The feature baselines: the same baseline without the SDK modules only the feature's file uses.
        const features: { name: string; files: string[]; modules: string[]; built: Built }[] = [];
        const clientModules = parseClientsFile().clients;
        for (const feature of FEATURES) {
          const modules = [...scan.files].filter(([, files]) => files.size === 1 && files.has(feature.file)).map(([m]) => m);
          if (!modules.length) continue;
          const without: Scan = {
            commands: new Map([...scan.commands].filter(([m]) => !modules.includes(m))),
            helpers: new Map([...scan.helpers].filter(([m]) => !modules.includes(m))),
            clients: new Set([...scan.clients].filter((c) => !modules.includes(clientModules.get(c)!.module))),
            files: scan.files,
          };
          const featureCode = baselineSource(without).code;
          const slug = feature.file.replace(/\W+/g, '-');
          writeFileSync(join(tmp, `${key}.baseline-without-${slug}.ts`), featureCode);
          features.push({ name: feature.name, files: feature.files, modules, built: await buildBundle(options, { code: featureCode }, join(tmp, `${key}.baseline-without-${slug}`), outputFileExtension) });
        }
        writeFileSync(join(tmp, `${key}.baseline-handler.ts`), code);
        const baseline = await buildBundle(options, { code }, join(tmp, `${key}.baseline`), outputFileExtension);
        // The baseline must hold the same SDK client packages (and, where visible, commands) as the bundle.
        const [fnPkgs, basePkgs] = [sdkPackages(fn), sdkPackages(baseline)];
        if ([...fnPkgs].sort().join() !== [...basePkgs].sort().join()) {
          throw new Error(`${key}: bundle has SDK clients ${[...fnPkgs].join(', ')}, baseline ${[...basePkgs].join(', ')}`);
        }
        const baseCmds = bundledCommandFiles(baseline);
        if ([...fnCmds].sort().join() !== [...baseCmds].sort().join()) {
          throw new Error(`${key}: bundle holds commands ${[...fnCmds].join(', ')}, baseline ${[...baseCmds].join(', ')}`);
        }
        if (dropped.length) notes.push(`${key}: scanned but tree-shaken from its bundle, left out of the baseline: ${dropped.join(', ')}`);
        if (!fnCmds.size) notes.push(`${key}: SDK resolved to single-file clients (dist-cjs); commands from the source scan only`);
        const env: Record<string, string> = {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? tmp,
          AWS_REGION: REGION,
          AWS_DEFAULT_REGION: REGION,
          AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
          AWS_SESSION_TOKEN: 'bench',
          AWS_LAMBDA_FUNCTION_NAME: `${config.service ?? 'service'}-${STAGE}-${key}`,
          AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
          AWS_EXECUTION_ENV: `AWS_Lambda_${config.provider?.runtime ?? 'nodejs'}`,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...lambdaEnvironment(config, key),
        };
        const short = (m: string) => m.replace('@aws-sdk/client-', '');
        const commands = [
          ...[...scan.commands].flatMap(([m, names]) => [...names].map((n) => `${short(m)}:${n.replace(/Command$/, '')}`)),
          ...[...scan.helpers].flatMap(([m, names]) => [...names].map((n) => `${short(m)}:${n.replace(/^paginate(.*)$/, '$1 (paginator)')}`)),
        ].sort();
        if (process.env.BENCH_BUNDLE_KEEP) writeFileSync(join(tmp, `${key}.env.json`), JSON.stringify(env, null, 2));
        // The module baselines: the baseline plus a module the function imports (SCHEMA_FEATURES).
        const schemas: { name: string; built: Built }[] = [];
        for (const feature of SCHEMA_FEATURES) {
          if (!files.includes(feature.file)) continue;
          const schemaCode = `${code}${feature.code}\n`;
          const slug = feature.file.replace(/\W+/g, '-');
          writeFileSync(join(tmp, `${key}.baseline-with-${slug}.ts`), schemaCode);
          schemas.push({ name: feature.name, built: await buildBundle(options, { code: schemaCode }, join(tmp, `${key}.baseline-with-${slug}`), outputFileExtension) });
        }
        return { key, fn, baseline, features, schemas, env, commands, clients: clients.map((c) => `${c.exportName}=${c.className}`) };
      }),
    );
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const builds = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    for (const b of builds) {
      process.stderr.write(`bench: ${b.key}: clients ${b.clients.join(', ')}; commands ${b.commands.join(', ')}\n`);
    }
    notes.forEach((n) => process.stderr.write(`bench: note: ${n}\n`));

    for (const b of builds) {
      // The bundles of one function, imported in turn: the function, its baseline, the feature baselines
      // (ABBA: the order reverses on every round).
      const files = [b.fn.file, b.baseline.file, ...b.features.map((f) => f.built.file), ...b.schemas.map((f) => f.built.file)];
      const all: Sample[][] = files.map(() => []);
      if (!ctx.quick) for (const file of files) await coldImport(node.path, runner, file, b.env); // warm-up (file cache), discarded
      for (let i = 0; i < runs; i++) {
        const order = i % 2 === 0 ? files.map((_, j) => j) : files.map((_, j) => files.length - 1 - j);
        for (const j of order) all[j]!.push(await coldImport(node.path, runner, files[j]!, b.env));
      }
      const samples = { fn: all[0]!, base: all[1]! };
      const stat = (xs: Sample[]) => ({
        median: median(xs.map((x) => x.ms)),
        min: Math.min(...xs.map((x) => x.ms)),
        cpuMedian: median(xs.map((x) => x.cpuMs)),
        rssMB: median(xs.map((x) => x.rss)) / 2 ** 20,
      });
      const [f, base] = [stat(samples.fn), stat(samples.base)];
      const sizeRatio = b.fn.bytes / b.baseline.bytes;
      // What the bundle holds beyond the SDK (bytes of output by input file, from the metafile).
      const inputs = bundledInputs(b.fn);
      const bytesOf = (test: (path: string) => boolean) => inputs.filter(([p]) => test(p)).reduce((sum, [, n]) => sum + n, 0);
      const ownBytes = bytesOf((p) => p.startsWith('functions/'));
      const zodBytes = bytesOf((p) => /node_modules\/zod\//.test(p));
      // Each function sample is paired with the baseline sample taken next to it (same moment, same
      // noise); the figure is the median of the pairs' CPU-time ratios.
      const timeRatio = median(samples.fn.map((x, i) => x.cpuMs / samples.base[i]!.cpuMs));
      const wallRatio = median(samples.fn.map((x, i) => x.ms / samples.base[i]!.ms));
      table.push({
        function: b.key,
        commands: b.commands.length,
        'bundle KB': round(b.fn.bytes / 1024),
        'baseline KB': round(b.baseline.bytes / 1024),
        'size x': round(sizeRatio, 2),
        'own code KB': round(ownBytes / 1024),
        'zod KB': round(zodBytes / 1024),
        'import ms (med/min)': `${round(f.median)} / ${round(f.min)}`,
        'baseline ms (med/min)': `${round(base.median)} / ${round(base.min)}`,
        'import CPU ms (med)': `${round(f.cpuMedian)} vs ${round(base.cpuMedian)}`,
        'import x (CPU)': round(timeRatio, 2),
        'import x (wall)': round(wallRatio, 2),
        'RSS MB': round(f.rssMB),
        'baseline RSS MB': round(base.rssMB),
      });
      figures.push(
        { name: `bundle ${b.key} (x baseline)`, value: round(sizeRatio, 2), unit: 'x', target: '<= 1.1' },
        { name: `cold import ${b.key} CPU (x baseline)`, value: round(timeRatio, 2), unit: 'x', target: '<= 1.1' },
        { name: `cold import ${b.key} wall (x baseline)`, value: round(wallRatio, 2), unit: 'x' },
        { name: `bundle ${b.key}`, value: round(b.fn.bytes / 1024), unit: 'KB' },
        { name: `bundle ${b.key} baseline`, value: round(b.baseline.bytes / 1024), unit: 'KB' },
        { name: `bundle ${b.key}: functions/ code`, value: round(ownBytes / 1024), unit: 'KB' },
        { name: `bundle ${b.key}: zod`, value: round(zodBytes / 1024), unit: 'KB' },
        { name: `cold import ${b.key} median`, value: round(f.median), unit: 'ms' },
        { name: `cold import ${b.key} baseline median`, value: round(base.median), unit: 'ms' },
        { name: `cold import ${b.key} CPU median`, value: round(f.cpuMedian), unit: 'ms' },
        { name: `cold import ${b.key} baseline CPU median`, value: round(base.cpuMedian), unit: 'ms' },
        { name: `RSS after import ${b.key}`, value: round(f.rssMB), unit: 'MB' },
        { name: `RSS after import ${b.key} baseline`, value: round(base.rssMB), unit: 'MB' },
      );
      b.schemas.forEach((schema, k) => {
        const withIt = all[2 + b.features.length + k]!;
        const cost = median(withIt.map((x, i) => x.cpuMs / samples.base[i]!.cpuMs));
        const sizeCost = schema.built.bytes / b.baseline.bytes;
        featureTable.push({
          function: b.key,
          feature: `${schema.name} (baseline + it)`,
          'code KB': round((schema.built.bytes - b.baseline.bytes) / 1024),
          'baseline KB (with / without)': `${round(schema.built.bytes / 1024)} / ${round(b.baseline.bytes / 1024)}`,
          'client size x': '',
          'baseline CPU ms (with / without)': `${round(stat(withIt).cpuMedian)} / ${round(base.cpuMedian)}`,
          'client import x (CPU)': '',
          'schema import x (CPU)': round(cost, 2),
          'schema size x': round(sizeCost, 2),
        });
        figures.push(
          { name: `bundle ${b.key} baseline with ${schema.name} (x baseline)`, value: round(sizeCost, 2), unit: 'x' },
          { name: `cold import ${b.key} CPU: baseline with ${schema.name} (x baseline)`, value: round(cost, 2), unit: 'x' },
        );
      });
      for (const feature of CODE_FEATURES) {
        const codeBytes = bytesOf(feature.files);
        // Only where the feature's own code is there (not a shared type or a small helper of it).
        if (codeBytes < 4096) continue;
        const sizeWithout = (b.fn.bytes - codeBytes) / b.baseline.bytes;
        featureTable.push({ function: b.key, feature: feature.name, 'code KB': round(codeBytes / 1024), 'function size x without it': round(sizeWithout, 2) });
        figures.push(
          { name: `bundle ${b.key}: code of ${feature.name}`, value: round(codeBytes / 1024, 2), unit: 'KB' },
          { name: `bundle ${b.key} without the code of ${feature.name} (x baseline)`, value: round(sizeWithout, 2), unit: 'x' },
        );
      }
      // A feature's own cost: the baseline with its client against the baseline without it.
      b.features.forEach((feature, k) => {
        const without = all[2 + k]!;
        const cost = median(samples.base.map((x, i) => x.cpuMs / without[i]!.cpuMs));
        const sizeCost = b.baseline.bytes / feature.built.bytes;
        // The feature's own code in the function's bundle (its file, and the files only it needs:
        // ledger-env.ts wires the ledger), and the function's size ratio with client and code left out.
        const codeBytes = bytesOf((p) => feature.files.includes(p));
        const sizeWithout = (b.fn.bytes - codeBytes - (b.baseline.bytes - feature.built.bytes)) / feature.built.bytes;
        featureTable.push({
          function: b.key,
          feature: feature.name,
          'baseline KB (with / without)': `${round(b.baseline.bytes / 1024)} / ${round(feature.built.bytes / 1024)}`,
          'client size x': round(sizeCost, 2),
          'code KB': round(codeBytes / 1024),
          'function size x without it': round(sizeWithout, 2),
          'baseline CPU ms (with / without)': `${round(base.cpuMedian)} / ${round(stat(without).cpuMedian)}`,
          'client import x (CPU)': round(cost, 2),
        });
        figures.push(
          { name: `bundle ${b.key} baseline without ${feature.name}`, value: round(feature.built.bytes / 1024), unit: 'KB' },
          { name: `bundle ${b.key}: ${feature.name} (baseline x baseline without it)`, value: round(sizeCost, 2), unit: 'x' },
          { name: `bundle ${b.key}: code of ${feature.name.replace(/ client$/, '')}`, value: round(codeBytes / 1024, 2), unit: 'KB' },
          { name: `bundle ${b.key} without ${feature.name.replace(/ client$/, '')} (client and code, x baseline without the client)`, value: round(sizeWithout, 2), unit: 'x' },
          { name: `cold import ${b.key} baseline without ${feature.name} CPU median`, value: round(stat(without).cpuMedian), unit: 'ms' },
          { name: `cold import ${b.key} CPU: ${feature.name} (baseline x baseline without it)`, value: round(cost, 2), unit: 'x' },
        );
      });
    }
  } finally {
    // BENCH_BUNDLE_KEEP=1 keeps the bundles, baseline sources and environments for profiling.
    if (process.env.BENCH_BUNDLE_KEEP) process.stderr.write(`bench: bundles kept in ${tmp}\n`);
    else rmSync(tmp, { recursive: true, force: true });
  }
  process.stderr.write(`bench: bundles, cold import over ${runs} fresh node ${node.version} processes each (${node.source}; Lambda runtime ${config.provider?.runtime ?? '?'}) (median / min):\n`);
  console.table(table);
  if (featureTable.length) {
    process.stderr.write(`bench: the cost of features (a client that is theirs alone: in both the function and its baseline above; their code: in the function):\n`);
    console.table(featureTable);
  }
  return figures;
}

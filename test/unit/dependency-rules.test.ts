/**
 * The house rules of who may import whom, checked on the import graph esbuild resolves (the same
 * resolver that bundles the Lambdas and builds the CLI; type-only imports are erased, so they are no
 * edge):
 * - functions/: a function folder imports only itself and functions/shared/; shared/ imports no function
 *   folder; no file of functions/ imports from scripts/, cli/ or local/. Step logic (`<step>.ts`) never
 *   reads the environment or the module-scope clients.
 * - cli/: imports from functions/ only functions/shared/ (never a Lambda's handler or step logic), and
 *   reaches local/ (the local engine) only through a dynamic import: following the CLI's static imports
 *   from its entries reaches no file of local/ and not aws-local-stepfunctions, so `bvc --help`,
 *   `status` and `list` against a stage never load the engine.
 * - local/: may import functions/ (it runs the handlers), never cli/ or scripts/.
 * - One history reader: only functions/shared/history.ts sends GetExecutionHistory (its command or the
 *   SDK's paginator).
 * Each rule is a function of the graph; each is also run on a small graph that breaks it, so a rule
 * that cannot fail fails its own test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build, type ImportKind } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../local/paths.js';

const functionsDir = join(projectRoot, 'functions');

function sourceFiles(dir: string, ext = /\.ts$/): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (e.name === 'dist' ? [] : sourceFiles(join(dir, e.name), ext)) : ext.test(e.name) ? [join(dir, e.name)] : [],
  );
}
const tsFiles = (dir: string) => sourceFiles(dir);

/** An import: a project file (relative to the project root) or a package (`external`). */
interface Edge {
  path: string;
  kind: ImportKind;
  external: boolean;
}
type Graph = Map<string, Edge[]>;

/** file → what it imports, for every file of functions/, cli/, local/ and scripts/ (paths relative to the project root). */
async function importGraph(): Promise<Graph> {
  // Each file its own entry (named by its whole path: cli/local.ts and cli/local.mjs both are entries).
  const entryPoints = ['functions', 'cli', 'local', 'scripts']
    .flatMap((dir) => sourceFiles(join(projectRoot, dir), /\.(ts|mjs)$/))
    .map((file) => ({ in: file, out: relative(projectRoot, file).replace(/\./g, '_') }));
  const result = await build({
    absWorkingDir: projectRoot,
    entryPoints,
    bundle: true,
    write: false,
    outdir: join(projectRoot, '.esbuild', 'dependency-rules'),
    platform: 'node',
    format: 'esm',
    packages: 'external',
    metafile: true,
    logLevel: 'silent',
  });
  const graph: Graph = new Map();
  for (const [file, input] of Object.entries(result.metafile.inputs)) {
    graph.set(
      file,
      input.imports.map((i) => ({ path: i.path, kind: i.kind, external: i.external === true })),
    );
  }
  return graph;
}

const under = (dir: string) => (file: string) => file.startsWith(`${dir}/`);
const projectEdges = (graph: Graph) => [...graph].flatMap(([from, edges]) => edges.filter((e) => !e.external).map((e) => ({ from, to: e.path, kind: e.kind })));
const folderOf = (file: string) => file.split('/')[1]!;

/** functions/: a function folder imports only itself and shared/; shared/ no function folder; nothing outside functions/. */
function functionsViolations(graph: Graph): string[] {
  return projectEdges(graph)
    .filter(({ from }) => under('functions')(from))
    .filter(({ from, to }) => {
      if (!under('functions')(to)) return true;
      const source = folderOf(from);
      const target = folderOf(to);
      return source === 'shared' ? target !== 'shared' : target !== source && target !== 'shared';
    })
    .map(({ from, to }) => `${from} → ${to}`);
}

/** cli/ imports from functions/ only functions/shared/. */
function cliFunctionsViolations(graph: Graph): string[] {
  return projectEdges(graph)
    .filter(({ from, to }) => under('cli')(from) && under('functions')(to) && !under('functions/shared')(to))
    .map(({ from, to }) => `${from} → ${to}`);
}

/** What the CLI's entries load before any dynamic import: no file of local/, not aws-local-stepfunctions. */
function cliStaticLocalViolations(graph: Graph, entries = ['cli/main.ts', 'cli/local.ts']): string[] {
  const seen = new Set<string>();
  const violations: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const edge of graph.get(file) ?? []) {
      if (edge.kind !== 'import-statement') continue;
      const chain = [...path, edge.path].join(' → ');
      if (edge.external) {
        if (edge.path === 'aws-local-stepfunctions') violations.push(chain);
      } else if (under('local')(edge.path)) violations.push(chain);
      else visit(edge.path, [...path, edge.path]);
    }
  };
  for (const entry of entries) visit(entry, [entry]);
  return violations;
}

/** local/ imports no file of cli/ or scripts/. */
function localViolations(graph: Graph): string[] {
  return projectEdges(graph)
    .filter(({ from, to }) => under('local')(from) && (under('cli')(to) || under('scripts')(to)))
    .map(({ from, to }) => `${from} → ${to}`);
}

/** The source files (relative path → text) that send GetExecutionHistory, other than the one history module. */
const HISTORY_READER = 'functions/shared/history.ts';
function historyReaders(sources: Map<string, string>): string[] {
  return [...sources].filter(([file, text]) => file !== HISTORY_READER && /\b(GetExecutionHistoryCommand|paginateGetExecutionHistory)\b/.test(text)).map(([file]) => file);
}

/** A graph of the given edges (`from → to`, `~>` for a dynamic import, a bare name for a package). */
function graphOf(...edges: string[]): Graph {
  const graph: Graph = new Map();
  for (const line of edges) {
    const dynamic = line.includes('~>');
    const [from, to] = line.split(dynamic ? ' ~> ' : ' → ') as [string, string];
    const edge: Edge = { path: to, kind: dynamic ? 'dynamic-import' : 'import-statement', external: !to.includes('/') };
    graph.set(from, [...(graph.get(from) ?? []), edge]);
    if (!edge.external && !graph.has(to)) graph.set(to, []);
  }
  return graph;
}

describe('each rule fails on a graph that breaks it', () => {
  it('functions/: another function folder, or cli/, local/, scripts/', () => {
    const graph = graphOf('functions/notify/handler.ts → functions/reaper/reaper.ts', 'functions/shared/stage.ts → functions/notify/notify.ts', 'functions/janitor/handler.ts → cli/render.ts', 'functions/reaper/reaper.ts → local/paths.ts', 'functions/shared/arn.ts → scripts/bench/stats.ts', 'functions/notify/handler.ts → functions/shared/history.ts');
    expect(functionsViolations(graph).sort()).toEqual([
      'functions/janitor/handler.ts → cli/render.ts',
      'functions/notify/handler.ts → functions/reaper/reaper.ts',
      'functions/reaper/reaper.ts → local/paths.ts',
      'functions/shared/arn.ts → scripts/bench/stats.ts',
      'functions/shared/stage.ts → functions/notify/notify.ts',
    ]);
  });

  it("cli/: a Lambda's module, even through a dynamic import; functions/shared is fine", () => {
    const graph = graphOf('cli/aws-target.ts → functions/notify/notify.ts', 'cli/local-target.ts ~> functions/janitor/handler.ts', 'cli/render.ts → functions/shared/execution-view.ts');
    expect(cliFunctionsViolations(graph)).toEqual(['cli/aws-target.ts → functions/notify/notify.ts', 'cli/local-target.ts → functions/janitor/handler.ts']);
  });

  it('cli/: local/ or aws-local-stepfunctions reached by static imports from an entry; a dynamic import is fine', () => {
    const graph = graphOf('cli/main.ts → cli/render.ts', 'cli/render.ts → local/paths.ts', 'cli/main.ts → cli/target.ts', 'cli/target.ts → aws-local-stepfunctions', 'cli/main.ts ~> cli/local-target.ts', 'cli/local-target.ts → local/workflow.ts');
    expect(cliStaticLocalViolations(graph)).toEqual(['cli/main.ts → cli/render.ts → local/paths.ts', 'cli/main.ts → cli/target.ts → aws-local-stepfunctions']);
  });

  it('local/: cli/ or scripts/; functions/ is fine', () => {
    const graph = graphOf('local/workflow.ts → cli/target.ts', 'local/seed.ts → scripts/bench/stats.ts', 'local/workflow.ts ~> functions/notify/handler.ts');
    expect(localViolations(graph)).toEqual(['local/workflow.ts → cli/target.ts', 'local/seed.ts → scripts/bench/stats.ts']);
  });

  it('history: a second file that sends GetExecutionHistory, by command or paginator', () => {
    const sources = new Map([
      [HISTORY_READER, 'paginateGetExecutionHistory(...)'],
      ['functions/reaper/reaper.ts', 'sfn.send(new GetExecutionHistoryCommand({}))'],
      ['cli/aws-target.ts', 'for await (const page of paginateGetExecutionHistory(c, {}))'],
      ['local/workflow.ts', '// as GetExecutionHistory returns it'],
    ]);
    expect(historyReaders(sources)).toEqual(['functions/reaper/reaper.ts', 'cli/aws-target.ts']);
  });
});

describe('dependency rules of the project', () => {
  const graph = importGraph();

  it('the graph is real: every handler, the CLI, the local engine and the scripts were seen', async () => {
    const files = [...(await graph).keys()];
    expect(files.filter((f) => /^functions\/[\w-]+\/handler\.ts$/.test(f)).length).toBeGreaterThanOrEqual(6);
    expect(files).toEqual(expect.arrayContaining(['cli/main.ts', 'cli/local-target.ts', 'local/workflow.ts', 'scripts/bench.ts']));
  });

  it('functions/ imports nothing of cli/, local/ or scripts/; a function folder only itself and shared/', async () => {
    expect(functionsViolations(await graph)).toEqual([]);
  });

  it("cli/ imports from functions/ only functions/shared/ (no Lambda's logic module)", async () => {
    expect(cliFunctionsViolations(await graph)).toEqual([]);
  });

  it("cli/ reaches local/ only through a dynamic import (the CLI's static imports load no engine)", async () => {
    const g = await graph;
    // The engine is reachable at all (through the dynamic import), so the rule has something to hold back.
    expect(g.get('cli/main.ts')!.some((e) => e.kind === 'dynamic-import' && e.path === 'cli/local-target.ts')).toBe(true);
    expect(cliStaticLocalViolations(g)).toEqual([]);
  });

  it('local/ imports functions/ (the handlers it runs) but nothing of cli/ or scripts/', async () => {
    expect(localViolations(await graph)).toEqual([]);
  });

  it('one history reader: only functions/shared/history.ts sends GetExecutionHistory', () => {
    const sources = new Map(
      ['functions', 'cli', 'local', 'scripts'].flatMap((dir) => sourceFiles(join(projectRoot, dir), /\.(ts|mjs)$/)).map((f) => [relative(projectRoot, f), readFileSync(f, 'utf8')] as const),
    );
    expect(sources.get(HISTORY_READER)).toMatch(/paginateGetExecutionHistory/);
    expect(historyReaders(sources)).toEqual([]);
  });
});

describe('dependency rules of functions/', () => {
  it('step logic takes its clients and settings as arguments: no process.env, no shared/clients import', () => {
    // Prepare: every functions/<step>/*.ts except handler.ts, and shared/ except the modules made for it
    const logicFiles = tsFiles(functionsDir)
      .map((f) => relative(functionsDir, f))
      .filter((f) => !f.endsWith('/handler.ts') && !['shared/clients.ts', 'shared/env.ts', 'shared/log.ts', 'shared/ledger-env.ts'].includes(f));

    // Act
    const offenders = logicFiles.filter((f) => {
      const text = readFileSync(join(functionsDir, f), 'utf8');
      return /process\.env/.test(text) || /from '[./]*(shared\/)?clients\.js'/.test(text);
    });

    // Assess
    expect(logicFiles.length).toBeGreaterThan(10);
    expect(offenders).toEqual([]);
  });
});

/**
 * The house rules of functions/, checked on the import graph esbuild resolves (the same resolver that
 * bundles the Lambdas): a function folder imports only itself and functions/shared/; shared/ imports
 * no function folder. Step logic (`<step>.ts`) never reads the environment or the module-scope clients.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../local/paths.js';

const functionsDir = join(projectRoot, 'functions');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** file → the project files it imports (paths relative to functions/), resolved by esbuild. */
async function importGraph(): Promise<Map<string, string[]>> {
  const result = await build({
    entryPoints: tsFiles(functionsDir),
    bundle: true,
    write: false,
    outdir: join(projectRoot, '.esbuild', 'dependency-rules'),
    platform: 'node',
    format: 'esm',
    packages: 'external',
    metafile: true,
    logLevel: 'silent',
  });
  const graph = new Map<string, string[]>();
  for (const [file, input] of Object.entries(result.metafile.inputs)) {
    if (!file.startsWith('functions/')) continue;
    graph.set(
      relative('functions', file),
      input.imports.filter((i) => !i.external && i.path.startsWith('functions/')).map((i) => relative('functions', i.path)),
    );
  }
  return graph;
}

const folderOf = (file: string) => file.split('/')[0]!;

describe('dependency rules of functions/', () => {
  it('a function folder imports only its own files and functions/shared/; shared/ imports no function folder', async () => {
    // Prepare / Act
    const graph = await importGraph();
    const violations = [...graph].flatMap(([file, imports]) =>
      imports
        .filter((target) => {
          const from = folderOf(file);
          const to = folderOf(target);
          return from === 'shared' ? to !== 'shared' : to !== from && to !== 'shared';
        })
        .map((target) => `${file} → ${target}`),
    );

    // Assess: the graph is real (every function's handler was seen) and clean
    expect([...graph.keys()].filter((f) => f.endsWith('/handler.ts')).length).toBeGreaterThanOrEqual(6);
    expect(violations).toEqual([]);
  });

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

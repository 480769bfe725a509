#!/usr/bin/env node
/**
 * Builds the `bvc` CLI into cli/dist/ (`npm run build`; also the package's `prepare`, so `npm ci` and
 * `npm install` of a git checkout build it): ESM for Node 20, bundled, split into chunks so that a
 * command loads only what it runs. Entries: cli/main.ts (`runCli`, run by cli/bvc.mjs) and
 * cli/local.ts (`npm run local`). The local engine (local/*, aws-local-stepfunctions, the Lambda
 * handlers it runs) and the AWS SDK clients are reached through dynamic imports, so `--help` or
 * `status --stage …` never load the engine.
 *
 * npm packages stay external: they resolve from node_modules at run time (the package's
 * `dependencies`), and the output depends only on the sources, so it is the same on every machine
 * (esbuild's output is deterministic; test/unit/built-cli.test.ts rebuilds and compares byte for byte).
 *
 * `node scripts/build-cli.mjs [--outdir DIR]` (default cli/dist; DIR is emptied first).
 */
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The esbuild options of the CLI build into `outdir`. */
export function cliBuildOptions(outdir) {
  return {
    absWorkingDir: root,
    entryPoints: { main: 'cli/main.ts', local: 'cli/local.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    // Chunk names from their content only: the same sources give the same files.
    chunkNames: 'chunks/[name]-[hash]',
    legalComments: 'none',
    logLevel: 'warning',
  };
}

/** Builds the CLI into `outdir` (emptied first); returns esbuild's metafile. */
export async function buildCli(outdir) {
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({ ...cliBuildOptions(outdir), metafile: true });
  return result.metafile;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
  await buildCli(values.outdir ? resolve(values.outdir) : join(root, 'cli', 'dist'));
}

/**
 * The built CLI (cli/dist/, `npm run build`, scripts/build-cli.mjs): it is the build of the current
 * sources, the bin says how to build it when it is missing, and the local engine finds the project's
 * files from the sources and from the bundle alike (local/paths.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findProjectRoot, PACKAGE_NAME, projectRoot } from '../../local/paths.js';

const distDir = join(projectRoot, 'cli', 'dist');

/** Every file under `dir`, relative to it, sorted. */
function filesOf(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

const bvc = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [join(projectRoot, 'cli', 'bvc.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('the built CLI', () => {
  it('cli/dist is the build of the current sources, byte for byte', () => {
    // Prepare: a fresh build into a temp dir (esbuild's output is deterministic)
    const fresh = join(mkdtempSync(join(tmpdir(), 'bvc-build-')), 'dist');
    execFileSync(process.execPath, [join(projectRoot, 'scripts', 'build-cli.mjs'), '--outdir', fresh]);

    // Act
    const built = filesOf(fresh);
    let committed: string[] = [];
    try {
      committed = filesOf(distDir);
    } catch {
      // no cli/dist at all: the comparison below says what to do
    }
    const differing = built.filter((f) => committed.includes(f) && !readFileSync(join(fresh, f)).equals(readFileSync(join(distDir, f))));

    // Assess
    expect(built).toEqual(expect.arrayContaining(['main.js', 'local.js']));
    const stale = { missing: built.filter((f) => !committed.includes(f)), extra: committed.filter((f) => !built.includes(f)), differing };
    expect(stale, 'cli/dist is not the build of the current sources: run npm run build').toEqual({ missing: [], extra: [], differing: [] });
  });

  it('the bin without a build says in one line to run npm run build, exit 3', () => {
    // Prepare: the bin and its loader, without cli/dist
    const dir = join(mkdtempSync(join(tmpdir(), 'bvc-nobuild-')), 'cli');
    mkdirSync(dir);
    for (const f of ['bvc.mjs', 'launch.mjs']) copyFileSync(join(projectRoot, 'cli', f), join(dir, f));

    // Act
    const run = spawnSync(process.execPath, [join(dir, 'bvc.mjs'), '--help'], { encoding: 'utf8' });

    // Assess
    expect(run.status).toBe(3);
    expect(run.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/cli\/dist\/main\.js\) is missing: run npm run build$/)]);
    expect(run.stdout).toBe('');
  });

  it('answers --help (exit 0) and a usage error (exit 2) in one process each, without the local engine', () => {
    const help = bvc(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: bvc <command> \[options\] <target>/);
    const usage = bvc(['status', 'local-1']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('bvc: name a target');
    expect(usage.stderr).not.toMatch(/\n\s+at /);
  });

  it('status of an unknown local execution: one line, exit 3, no stack trace', () => {
    const runs = mkdtempSync(join(tmpdir(), 'bvc-runs-'));
    const run = bvc(['status', 'local-nope', '--local'], { BVC_RUNS_DIR: runs });
    expect(run.status).toBe(3);
    expect(run.stderr.trimEnd().split('\n')).toEqual([`bvc: no local execution named local-nope in ${runs} (npm run local records each run there)`]);
  });
});

describe('the project root (local/paths.ts)', () => {
  it('is found from the sources and from the bundle: the nearest package.json of this package', () => {
    expect(findProjectRoot(join(projectRoot, 'local'))).toBe(projectRoot);
    expect(findProjectRoot(join(projectRoot, 'cli', 'dist', 'chunks'))).toBe(projectRoot);
    expect(JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).name).toBe(PACKAGE_NAME);
  });

  it("passes over another package's package.json and fails where there is none", () => {
    // Prepare: <tmp>/package.json (this package) ⊃ other/package.json (another) ⊃ deep/
    const top = mkdtempSync(join(tmpdir(), 'bvc-root-'));
    writeFileSync(join(top, 'package.json'), JSON.stringify({ name: PACKAGE_NAME }));
    mkdirSync(join(top, 'other', 'deep'), { recursive: true });
    writeFileSync(join(top, 'other', 'package.json'), JSON.stringify({ name: 'something-else' }));
    const lone = mkdtempSync(join(tmpdir(), 'bvc-noroot-'));

    // Act / Assess
    expect(findProjectRoot(join(top, 'other', 'deep'))).toBe(top);
    expect(() => findProjectRoot(lone)).toThrow(`no package.json of ${PACKAGE_NAME} in ${lone} or above`);
  });
});

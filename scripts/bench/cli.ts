/**
 * How fast the `bvc` CLI answers (issue 21: `bvc --help` ≤ 0.5 s, a local `status` ≤ 1 s): wall time
 * of whole processes, as a user waits for them, median and p90 over repeated runs.
 *
 * - `node cli/bvc.mjs --help`: the built CLI's start (what an installed `bvc` on PATH runs).
 * - `npx bvc --help`: the same through npm's exec, which first resolves the project's tree: npm's own
 *   start is part of what a user of `npx bvc` waits for, so it is measured, not subtracted.
 * - `status <execution> --local` and `list --local`: after one real `npm run local` run (its own moto,
 *   the stand-in completes the job), read back from `.local-run/executions/`.
 *
 * The figures are those of cli/dist as it is: `npm run bench` builds it first; inside `npm test` (the
 * quick bench) test/unit/built-cli.test.ts fails when it is not the build of the current sources.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../local/paths.js';
import type { BenchFigure } from './preflight.js';
import { median, percentile } from './stats.js';

const bvc = join(projectRoot, 'cli', 'bvc.mjs');
const npmCommand = process.platform === 'win32' ? 'npx.cmd' : 'npx';

function exec(command: string, args: string[], expectedStatus = 0): { ms: number; stdout: string } {
  const started = performance.now();
  const result = spawnSync(command, args, { cwd: projectRoot, encoding: 'utf8', env: { ...process.env, NO_UPDATE_NOTIFIER: '1' } });
  const ms = performance.now() - started;
  if (result.status !== expectedStatus) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status} (expected ${expectedStatus}): ${(result.stderr ?? '').slice(-400)}`);
  }
  return { ms, stdout: result.stdout };
}

function timed(name: string, runs: number, target: string | undefined, command: string, args: string[]): BenchFigure[] {
  exec(command, args); // once to warm the file cache, not counted
  const ms = Array.from({ length: runs }, () => exec(command, args).ms);
  return [
    { name: `${name}: median of ${runs} runs`, value: Math.round(median(ms)), unit: 'ms', ...(target ? { target } : {}) },
    { name: `${name}: p90 of ${runs} runs`, value: Math.round(percentile(ms, 90)), unit: 'ms' },
  ];
}

export async function run({ quick }: { quick: boolean }): Promise<BenchFigure[]> {
  const runs = quick ? 3 : 15;

  const figures: BenchFigure[] = [
    ...timed('bvc --help (node cli/bvc.mjs)', runs, '<= 500', process.execPath, [bvc, '--help']),
    ...timed('npx bvc --help (npm exec included)', runs, '<= 500', npmCommand, ['bvc', '--help']),
  ];

  // One real local run to read back (its own moto; the stand-in completes the job).
  const local = exec(process.execPath, [join(projectRoot, 'cli', 'local.mjs'), '--json']);
  const view = JSON.parse(local.stdout) as { execution?: { arn?: string }; outcome?: string };
  const executionArn = view.execution?.arn;
  if (view.outcome !== 'completed' || !executionArn) throw new Error(`the local run did not complete: ${local.stdout.slice(0, 300)}`);
  figures.push({ name: 'npm run local (moto start, demo seeding, the whole workflow, moto stop), one run', value: Math.round(local.ms), unit: 'ms' });
  figures.push(...timed('bvc status <execution> --local', runs, '<= 1000', process.execPath, [bvc, 'status', executionArn, '--local']));
  figures.push(...timed('bvc list --local', runs, undefined, process.execPath, [bvc, 'list', '--local']));
  return figures;
}

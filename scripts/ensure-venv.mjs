#!/usr/bin/env node
// Creates the project-local Python environments with their pinned packages, each when it is missing or
// its requirements file changed:
// - ./.venv from python/requirements.txt: moto server (with the botocore whose service models the
//   stand-in for Bedrock validates requests against) and the cfn-lint its CloudFormation validates with.
//   `npm run local` and `npm run bench` call this script without arguments: a first local run installs
//   only what it runs.
// - with `--scanners`, also ./.venv-scanners from python/requirements-scanners.txt: checkov and
//   parliament, the infra tier's scanners (`npm test` passes it). Apart, because checkov pins an old
//   boto3/botocore that the emulator must not be held to.
// An environment whose requirements changed is built anew (removed, then created), so it holds exactly
// the pinned set. So a fresh clone needs nothing else.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const scanners = process.argv.includes('--scanners');

/** Each environment: its directory, its requirements file, what it holds (for the messages). */
const envs = [
  { dir: '.venv', file: 'requirements.txt', name: 'moto server, cfn-lint' },
  ...(scanners ? [{ dir: '.venv-scanners', file: 'requirements-scanners.txt', name: 'checkov, parliament' }] : []),
];
/** The stamp in each environment: the sha256 of the requirements file it was built from. */
const STAMP = '.requirements.sha256';
const hashOf = (file) => createHash('sha256').update(readFileSync(join(root, 'python', file))).digest('hex');
const pythonOf = (env) => join(root, env.dir, 'bin', 'python');
const stale = envs.filter((env) => {
  const stamp = join(root, env.dir, STAMP);
  return !existsSync(pythonOf(env)) || !existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== hashOf(env.file);
});
if (stale.length === 0) process.exit(0);

const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', process.stderr, process.stderr] });
for (const env of stale) {
  const dir = join(root, env.dir);
  const started = Date.now();
  process.stderr.write(`Setting up ${env.dir} (${env.name}): once per clone and per change of python/${env.file}…\n`);
  try {
    rmSync(dir, { recursive: true, force: true });
    run(process.env.PYTHON ?? 'python3', ['-m', 'venv', dir]);
    run(pythonOf(env), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', join(root, 'python', env.file)]);
    writeFileSync(join(dir, STAMP), `${hashOf(env.file)}\n`);
  } catch (err) {
    process.stderr.write(
      `Could not set up the Python environment in ${dir}: ${err.message}\n` +
        'It needs python3 (>= 3.9) with the venv module and access to the Python package index.\n',
    );
    process.exit(1);
  }
  process.stderr.write(`${env.dir} ready in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}

#!/usr/bin/env node
// Creates the project-local Python environment (./.venv) with the pinned packages of
// python/requirements.txt (moto server and the cfn-lint its CloudFormation validates with) when it is
// missing or the requirements changed; with `--scanners`, also those of python/requirements-scanners.txt
// (checkov, parliament: the infra tier's scanners).
// `npm run local` and `npm run bench` call it without `--scanners` (a first local run installs only
// what it runs); `npm test` with it. So a fresh clone needs nothing else.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const venv = join(root, '.venv');
const python = join(venv, 'bin', 'python');
const scanners = process.argv.includes('--scanners');

/** Each set: its requirements file (scanners' includes the base's with `-r`), and the stamp of what was installed. */
const sets = [
  { name: 'moto server, cfn-lint', file: 'requirements.txt', hashed: ['requirements.txt'], stamp: '.requirements.sha256' },
  ...(scanners
    ? [{ name: 'checkov, parliament', file: 'requirements-scanners.txt', hashed: ['requirements.txt', 'requirements-scanners.txt'], stamp: '.scanners.sha256' }]
    : []),
];
const hashOf = (files) => {
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(join(root, 'python', file)));
  return hash.digest('hex');
};
const stale = sets.filter((set) => {
  const stamp = join(venv, set.stamp);
  return !existsSync(python) || !existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== hashOf(set.hashed);
});
if (stale.length === 0) process.exit(0);

const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', process.stderr, process.stderr] });
const started = Date.now();
process.stderr.write(`Setting up .venv (${stale.map((set) => set.name).join('; ')}): once per clone…\n`);
try {
  if (!existsSync(python)) run(process.env.PYTHON ?? 'python3', ['-m', 'venv', venv]);
  for (const set of stale) {
    run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', join(root, 'python', set.file)]);
    writeFileSync(join(venv, set.stamp), `${hashOf(set.hashed)}\n`);
  }
} catch (err) {
  process.stderr.write(
    `Could not set up the Python environment in ${venv}: ${err.message}\n` +
      'It needs python3 (>= 3.9) with the venv module and access to the Python package index.\n',
  );
  process.exit(1);
}
process.stderr.write(`.venv ready in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);

#!/usr/bin/env node
// Creates the project-local Python environment (./.venv) with the pinned tools of
// python/requirements.txt (moto server, cfn-lint, checkov, parliament) when it is missing or the
// requirements changed.
// Called by `npm test`, `npm run local` and `npm run bench`, so a fresh clone needs nothing else.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const venv = join(root, '.venv');
const requirements = join(root, 'python', 'requirements.txt');
const stamp = join(venv, '.requirements.sha256');
const python = join(venv, 'bin', 'python');

const wanted = createHash('sha256').update(readFileSync(requirements)).digest('hex');
if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === wanted) process.exit(0);

const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', process.stderr, process.stderr] });
const started = Date.now();
process.stderr.write('Setting up .venv (moto server, cfn-lint, checkov, parliament) — once per clone, about two minutes…\n');
try {
  if (!existsSync(python)) run(process.env.PYTHON ?? 'python3', ['-m', 'venv', venv]);
  run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements]);
} catch (err) {
  process.stderr.write(
    `Could not set up the Python environment in ${venv}: ${err.message}\n` +
      'It needs python3 (>= 3.9) with the venv module and access to the Python package index.\n',
  );
  process.exit(1);
}
writeFileSync(stamp, `${wanted}\n`);
process.stderr.write(`.venv ready in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);

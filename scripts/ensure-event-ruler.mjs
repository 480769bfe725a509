#!/usr/bin/env node
// Fetches AWS's EventBridge pattern matcher, event-ruler (Java, Maven Central), into the project-local
// cache .cache/event-ruler and compiles the test harness test/support/event-ruler/MatchPatterns.java
// against it, when missing or when the harness's pom.xml or Java source changed. Called by `npm test`
// (pretest), so a fresh clone needs nothing else than a JDK (>= 11) and Maven on the PATH.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const harness = join(root, 'test', 'support', 'event-ruler');
const pom = join(harness, 'pom.xml');
const source = join(harness, 'MatchPatterns.java');
const cache = join(root, '.cache', 'event-ruler');
const lib = join(cache, 'lib');
const classes = join(cache, 'classes');
const stamp = join(cache, '.inputs.sha256');

const wanted = createHash('sha256').update(readFileSync(pom)).update(readFileSync(source)).digest('hex');
if (existsSync(join(classes, 'MatchPatterns.class')) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === wanted) {
  process.exit(0);
}

const run = (cmd, args) => execFileSync(cmd, args, { cwd: harness, stdio: ['ignore', process.stderr, process.stderr] });
const started = Date.now();
process.stderr.write('Setting up .cache/event-ruler (AWS event-ruler from Maven Central) — once per clone, about 10 s…\n');
try {
  rmSync(cache, { recursive: true, force: true });
  mkdirSync(classes, { recursive: true });
  run('mvn', ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${lib}`]);
  const classpath = readdirSync(lib).filter((f) => f.endsWith('.jar')).map((f) => join(lib, f)).join(':');
  run('javac', ['-d', classes, '-cp', classpath, source]);
} catch (err) {
  process.stderr.write(
    `Could not set up event-ruler in ${cache}: ${err.message}\n` +
      'It needs a JDK (>= 11: java, javac) and Maven (mvn) on the PATH, and access to Maven Central.\n',
  );
  process.exit(1);
}
writeFileSync(stamp, `${wanted}\n`);
process.stderr.write(`.cache/event-ruler ready in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);

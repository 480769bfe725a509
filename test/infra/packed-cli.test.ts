/**
 * `npm pack` makes a package whose `bvc` works without the repository's dev tooling: the tarball
 * (package.json `files`: the bin, its loader and cli/dist) is installed into an empty project with
 * `npm install --omit=dev --ignore-scripts`, as a user installs it, and run from there.
 *
 * The install is real: its dependencies come from the npm registry (npm's cache makes a second run
 * quick). Reusing the repository's node_modules instead would not show that `dependencies` name
 * everything the CLI loads (NODE_PATH does not reach ESM imports anyway). The tarball packs the
 * current cli/dist (`--ignore-scripts`: `npm pack` would otherwise rebuild it through `prepare`;
 * test/unit/built-cli.test.ts checks that cli/dist is current).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../local/paths.js';

const exec = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const dir = mkdtempSync(join(tmpdir(), 'bvc-packed-'));
const app = join(dir, 'app');

/** Runs the installed `bvc`; never throws (the exit code is the result). */
async function bvc(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(join(app, 'node_modules', '.bin', 'bvc'), args, { cwd: app, env: { ...process.env, ...env }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('the packed CLI', () => {
  let packed: string[];
  beforeAll(async () => {
    const { stdout } = await exec(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: projectRoot });
    const [tarball] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    packed = tarball!.files.map((f) => f.path);
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'bvc-user', private: true }));
    await exec(npm, ['install', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', join(dir, tarball!.filename)], { cwd: app, timeout: 170_000 });
  }, 180_000);

  it('holds the bin and the built CLI, not the sources, tests or the local engine\'s inputs', () => {
    expect(packed).toEqual(expect.arrayContaining(['package.json', 'cli/bvc.mjs', 'cli/launch.mjs', 'cli/dist/main.js']));
    expect(packed.filter((f) => /^(functions|local|test|scripts|statemachines)\//.test(f) || /^cli\/[^/]+\.ts$/.test(f))).toEqual([]);
  });

  it('bvc --help exits 0; a usage error exits 2 with its one-line reason', async () => {
    const help = await bvc(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: bvc <command> \[options\] <target>/);
    const usage = await bvc(['list', '--max', 'many', '--stage', 'dev']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe('bvc: --max must be a whole number from 1 to 100, got "many"\nRun bvc --help for usage.\n');
  });

  it('a deployed-stage command loads the AWS SDK from the installed dependencies (an unreachable endpoint: exit 3, one line)', async () => {
    const run = await bvc(['list', '--state-machine-arn', 'arn:aws:states:us-east-1:123456789012:stateMachine:absent'], {
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_MAX_ATTEMPTS: '1',
    });
    expect(run.code).toBe(3);
    expect(run.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^bvc: ListExecutions failed: .*ECONNREFUSED/)]);
  });

  it('--local says in one line that the local run needs the repository, exit 3', async () => {
    for (const args of [['start', '--local'], ['status', 'local-1', '--local'], ['list', '--local']]) {
      const run = await bvc(args);
      expect(run.code, args.join(' ')).toBe(3);
      expect(run.stderr.trimEnd().split('\n'), args.join(' ')).toEqual([expect.stringMatching(/^bvc: --local runs the workflow from the repository .*clone the repository and run npm ci there/)]);
    }
  });
});

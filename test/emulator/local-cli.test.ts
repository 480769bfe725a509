/**
 * The `npm run local` contract: `[--input FILE] [--endpoint URL] [--json]`; exit 0 succeeded,
 * 1 failed, 2 bad usage or input; with --json one JSON document on stdout, progress on stderr.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { demoJobInput, seedDemoAccount, type DemoAccount } from '../../scripts/lib/seed.js';
import { projectRoot } from '../../scripts/lib/paths.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const dir = mkdtempSync(join(tmpdir(), 'bvc-cli-'));
function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function local(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      join(projectRoot, 'node_modules', '.bin', 'tsx'),
      [join(projectRoot, 'scripts', 'local.ts'), ...args],
      { cwd: projectRoot, env: { ...process.env, AWS_ENDPOINT_URL: '' }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run local', () => {
  let account: DemoAccount;
  beforeAll(async () => {
    await resetMoto();
    const { ec2, s3, iam } = motoClients();
    account = await seedDemoAccount({ ec2, s3, iam });
  });

  it('exits 2 on an unknown flag, a missing file, bad JSON, or --endpoint without --input', async () => {
    for (const args of [['--nope'], ['--input', join(dir, 'missing.json')], ['--input', file('bad.json', '{oops')], ['--endpoint', inject('motoEndpoint')]]) {
      const run = await local(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toContain('usage: npm run local');
    }
  });

  it('exits 2 on an invalid job input, naming the field, before running anything', async () => {
    const run = await local(['--endpoint', inject('motoEndpoint'), '--input', file('invalid.json', { ...demoJobInput(account), vpcConfig: { subnetIds: [], securityGroupIds: ['sg-1'] } })]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('vpcConfig.subnetIds');
    expect(run.stderr).toContain('nothing was run');
  });

  it('--endpoint --json: a dry run against the running emulator prints one JSON document and exits 0', async () => {
    const run = await local(['--endpoint', inject('motoEndpoint'), '--json', '--input', file('dry.json', demoJobInput(account, { dryRun: true }))]);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.status).toBe('SUCCEEDED');
    expect(doc.output.policies.changes.length).toBeGreaterThan(0);
    expect(run.stderr).toContain('▶ ValidateNetwork');
  });

  it('--endpoint --json: a failing execution exits 1 with error and cause', async () => {
    const input = demoJobInput(account, { vpcConfig: { subnetIds: ['subnet-0000000000000dead'], securityGroupIds: [account.securityGroupId] } });
    const run = await local(['--endpoint', inject('motoEndpoint'), '--json', '--input', file('broken.json', input)]);
    expect(run.code).toBe(1);
    const doc = JSON.parse(run.stdout);
    expect(doc).toMatchObject({ status: 'FAILED', error: 'NetworkValidationError' });
    expect(doc.cause).toContain('subnet-0000000000000dead');
  });

  it('with no arguments: its own emulator and demo account, every state, the deadline path explained, exit 1', async () => {
    const run = await local(['--json']);
    expect(run.code).toBe(1);
    for (const state of ['ValidateNetwork', 'PlanPolicies', 'ApplyPolicies', 'SubmitJob', 'PollStatus', 'WaitForJob', 'StopJob', 'CleanupEnis', 'JobDeadlineExceeded']) {
      expect(run.stderr).toContain(`▶ ${state}`);
    }
    expect(run.stderr).toContain('stand-in for Bedrock');
    expect(run.stderr).toContain('No completion was simulated');
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'FAILED', error: 'JobDeadlineExceededError' });
  });
});

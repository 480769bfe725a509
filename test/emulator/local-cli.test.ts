/**
 * The `npm run local` contract: `[--input FILE] [--params FILE] [--endpoint URL] [--json]`; exit 0
 * succeeded, 1 failed, 2 bad usage, stage params or input; with --json one JSON document on stdout,
 * progress on stderr.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { demoJobInput, demoStageParams, seedDemoAccount, type DemoAccount } from '../../scripts/lib/seed.js';
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
  /** The stage params of a deployment into the seeded account (`--params`). */
  let params: string;
  beforeAll(async () => {
    await resetMoto();
    const { ec2, s3, iam } = motoClients();
    account = await seedDemoAccount({ ec2, s3, iam, dynamodb: motoClients().dynamodb });
    params = file('params.json', demoStageParams(account));
  });

  it('exits 2 on an unknown flag, a missing file, bad JSON, --endpoint without --input or --params, an unknown param', async () => {
    const input = file('input.json', {});
    for (const args of [
      ['--nope'],
      ['--input', join(dir, 'missing.json')],
      ['--input', file('bad.json', '{oops')],
      ['--endpoint', inject('motoEndpoint')],
      ['--endpoint', inject('motoEndpoint'), '--input', input],
      ['--params', file('unknown-param.json', { vpcIds: 'vpc-0123456789abcdef0' })],
    ]) {
      const run = await local(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toContain('usage: npm run local');
    }
  });

  it('exits 2 on an invalid job input, naming the field, before running anything', async () => {
    const run = await local(['--endpoint', inject('motoEndpoint'), '--params', params, '--input', file('invalid.json', { ...demoJobInput(account), vpcConfig: { subnetIds: [], securityGroupIds: ['sg-1'] } })]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('vpcConfig.subnetIds');
    expect(run.stderr).toContain('nothing was run');
  });

  it('exits 2 on a job input outside the stage, naming the field and the allowed values; and on a bad stage param', async () => {
    const outside = await local(['--endpoint', inject('motoEndpoint'), '--params', params, '--input', file('outside.json', demoJobInput(account, { outputDataS3Uri: 's3://somewhere-else/out/' }))]);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain(`outputDataS3Uri: must be under s3://${account.outputBucket}/runs/`);
    const badParam = await local(['--endpoint', inject('motoEndpoint'), '--params', file('bad-param.json', { ...demoStageParams(account), exemptPrincipalArns: 'arn:aws:iam::*:role/x' }), '--input', file('ok.json', demoJobInput(account))]);
    expect(badParam.code).toBe(2);
    expect(badParam.stderr).toContain('Invalid stage params');
    expect(badParam.stderr).toContain('exemptPrincipalArns');
  });

  it('--endpoint --json: a dry run against the running emulator prints one JSON document and exits 0', async () => {
    const restrict = file('restrict.params.json', { ...demoStageParams(account), endpointPolicy: 'restrict', outputBucketPolicy: 'apply' });
    const run = await local(['--endpoint', inject('motoEndpoint'), '--json', '--params', restrict, '--input', file('dry.json', demoJobInput(account, { dryRun: true, policies: undefined }))]);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.status).toBe('SUCCEEDED');
    // The stage's settings, from --params, reached the Lambdas as a deployment's environment would.
    expect(doc.output.policies.summary).toEqual([
      expect.stringMatching(/^create role\//),
      expect.stringMatching(/^update vpc-endpoint\/.* \(restrict\)/),
      expect.stringMatching(/^create s3:\/\/demo-output-bucket bucket policy/),
    ]);
    expect(run.stderr).toContain('▶ ValidateNetwork');
  });

  it('--endpoint --json: a failing execution exits 1 with error and cause', async () => {
    // A stage whose subnetIds param names a subnet that does not exist: the preflight finds it.
    const broken = file('broken.params.json', { ...demoStageParams(account), subnetIds: 'subnet-0000000000000dead' });
    const input = demoJobInput(account, { vpcConfig: { subnetIds: ['subnet-0000000000000dead'], securityGroupIds: [account.securityGroupId] } });
    const run = await local(['--endpoint', inject('motoEndpoint'), '--json', '--params', broken, '--input', file('broken.json', input)]);
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

/**
 * The `npm run local` contract: `[--input FILE] [--params FILE] [--scenario S] [--endpoint URL] [--json]`;
 * exit 0 succeeded, 1 failed, 2 bad usage, stage params or input; with --json one JSON document on
 * stdout (what `bvc status` shows: the execution's view, plus its output when it succeeded), progress
 * on stderr. Run as a user runs it: a child process running the built CLI (package.json's `local`:
 * cli/local.mjs → cli/dist/local.js; test/unit/built-cli.test.ts checks that the build is current).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { demoJobInput, demoStageParams, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { projectRoot } from '../../local/paths.js';
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
      process.execPath,
      [join(projectRoot, 'cli', 'local.mjs'), ...args],
      { cwd: projectRoot, env: { ...process.env, AWS_ENDPOINT_URL: '', BVC_RUNS_DIR: join(dir, 'runs') }, timeout: 150_000 },
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
    // With its Lambda client: the demo's RFT grader too (its params list it).
    account = await seedDemoAccount(motoClients());
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
      ['--scenario', 'sometimes'],
      ['--endpoint', inject('motoEndpoint'), '--params', params, '--scenario', 'failure'],
    ]) {
      const run = await local(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toContain('Run npm run local -- --help for usage.');
    }
  });

  it('exits 2 on an invalid job input, naming the field, before running anything', async () => {
    const run = await local(['--endpoint', inject('motoEndpoint'), '--params', params, '--input', file('invalid.json', { ...demoJobInput(account), vpcConfig: { subnetIds: [], securityGroupIds: ['sg-1'] } })]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('vpcConfig.subnetIds');
    expect(run.stderr).toContain('nothing was run');
  });

  it('without --endpoint: a wrong field of the --input file exits 2 naming it, before moto starts or anything is seeded', async () => {
    const run = await local(['--input', file('epochs.json', { epochs: 3 })]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/epochs/);
    expect(run.stderr).toContain('nothing was run');
    expect(run.stderr).not.toContain('Starting moto');
    expect(run.stderr).not.toContain('seeding');
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
    expect(doc.execution.status).toBe('SUCCEEDED');
    expect(doc.outcome).toBe('dry-run');
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
    expect(doc).toMatchObject({ execution: { status: 'FAILED' }, endState: 'PreflightFailed', error: { error: 'NetworkValidationError' } });
    expect(doc.error.cause).toContain('subnet-0000000000000dead');
    expect(doc.preflight.problems).toContainEqual(expect.objectContaining({ id: 'subnet.exists', resource: 'subnet-0000000000000dead', remedy: expect.any(String) }));
  });

  it('--endpoint: an RFT job whose grader does not exist fails in the preflight naming the grader, exit 1, nothing written', async () => {
    const missing = `arn:aws:lambda:us-east-1:${account.accountId}:function:rft-grader-missing`;
    // The stage lists it (a job may name it), but no such function exists.
    const stage = file('missing-grader.params.json', { ...demoStageParams(account), graderLambdaArns: `${account.graderLambdaArn},${missing}` });
    const input = demoJobInput(account, { customizationType: 'REINFORCEMENT_FINE_TUNING' });
    (input.customizationConfig as { rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: string } } } }).rftConfig.graderConfig.lambdaGrader.lambdaArn = missing;
    const run = await local(['--endpoint', inject('motoEndpoint'), '--json', '--params', stage, '--input', file('missing-grader.json', input)]);
    expect(run.code, run.stderr).toBe(1);
    const doc = JSON.parse(run.stdout);
    expect(doc).toMatchObject({ execution: { status: 'FAILED' }, endState: 'PreflightFailed', error: { error: 'NetworkValidationError' } });
    expect(doc.error.cause).toContain(`[grader.exists] ${missing}: grader Lambda not found`);
    expect(doc.preflight.problems).toContainEqual(expect.objectContaining({ id: 'grader.exists', resource: missing, remedy: expect.any(String) }));
    for (const state of ['ApplyPolicies', 'SubmitJob']) expect(run.stderr).not.toContain(`▶ ${state}`);
  });

  it('with no arguments: its own emulator and demo account, a job the stand-in completes, exit 0; --scenario failure and deadline end as documented', async () => {
    // Three seeded runs, each with its own moto on its own port, side by side.
    const [completed, failure, deadline] = await Promise.all([local(['--json']), local(['--json', '--scenario', 'failure']), local(['--json', '--scenario', 'deadline'])]);

    expect(completed.code, completed.stderr).toBe(0);
    for (const state of ['ValidateNetwork', 'ValidateDataset', 'PlanPolicies', 'ApplyPolicies', 'SubmitJob', 'PollStatus', 'WaitForJobEvent', 'CleanupEnis', 'RevokeGrants', 'JobSucceeded']) {
      expect(completed.stderr).toContain(`▶ ${state}`);
    }
    // The demo stage follows jobs by event (serverless.yml's jobWait): the stand-in's event released the wait.
    expect(completed.stderr).toContain('[EventBridge stand-in] Model Customization Job State Change Completed → job-events: released the waiting execution');
    expect(completed.stderr.match(/▶ WaitForJobEvent/g)).toHaveLength(1);
    expect(completed.stderr).toContain('stand-in for Bedrock');
    expect(completed.stderr).toMatch(/◆ job InProgress — validation InProgress/);
    expect(completed.stderr).toMatch(/◆ job Completed — validation Completed · data processing Completed · training Completed/);
    expect(completed.stderr).toMatch(/untouched.*untouched.*untouched/);
    const doc = JSON.parse(completed.stdout);
    expect(doc).toMatchObject({ execution: { status: 'SUCCEEDED' }, endState: 'JobSucceeded', outcome: 'completed', job: { status: 'Completed', outputModelArn: expect.stringMatching(/^arn:aws:bedrock:us-east-1:\d{12}:custom-model\//) } });
    expect(doc.output.poll.outputModelArn).toBe(doc.job.outputModelArn);
    expect(doc.cleanup.summary).toMatch(/Deleted 2 network interface/);

    expect(failure.code, failure.stderr).toBe(1);
    expect(JSON.parse(failure.stdout)).toMatchObject({ endState: 'JobFailed', job: { status: 'Failed', arn: expect.any(String), failureMessage: expect.any(String) } });
    expect(failure.stderr).toContain('▶ CleanupEnis');

    expect(deadline.code, deadline.stderr).toBe(1);
    for (const state of ['StopJob', 'CleanupEnis', 'JobDeadlineExceeded']) expect(deadline.stderr).toContain(`▶ ${state}`);
    expect(JSON.parse(deadline.stdout)).toMatchObject({ endState: 'JobDeadlineExceeded', error: { error: 'JobDeadlineExceededError', remedy: expect.any(String) } });
  }, 180_000);

  it('--scenario promote and reject: a Nova Micro job through the evaluation gate; the verdict, both models\' scores, the deployment kept or deleted, no Provisioned Throughput', async () => {
    // The stand-in's custom model answers the held-out prompts with their reference answers (promote) or a
    // fixed sentence (reject), the base model the other way round (cli/local-target.ts standInAnswers).
    const [promote, reject] = await Promise.all([local(['--json', '--scenario', 'promote']), local(['--json', '--scenario', 'reject'])]);
    const deploymentArn = expect.stringMatching(/^arn:aws:bedrock:us-east-1:\d{12}:custom-model-deployment\/[a-z0-9]{12}$/);

    expect(promote.code, promote.stderr).toBe(0);
    const p = JSON.parse(promote.stdout);
    expect(p).toMatchObject({ execution: { status: 'SUCCEEDED' }, endState: 'JobSucceeded', evaluation: { verdict: 'promote', deployment: { arn: deploymentArn, outcome: 'kept' } } });
    expect(p.evaluation.scores.length).toBeGreaterThan(0);
    for (const s of p.evaluation.scores) expect(s.custom, s.metric).toBeGreaterThan(s.base);
    for (const state of ['PlanEvaluation', 'DeployModel', 'DeploymentStatus', 'GenerateResponses', 'StartEvaluations', 'EvaluationStatus', 'Verdict', 'RevokeGrants', 'JobSucceeded']) {
      expect(promote.stderr).toContain(`▶ ${state}`);
    }
    expect(promote.stderr).toContain('[evaluation gate]');
    expect(promote.stderr).toContain('  verdict: promote');
    expect(promote.stderr).toContain(`  deployment ${p.evaluation.deployment.arn}: Active (kept: it serves the custom model on demand)`);
    expect(promote.stderr).toContain('CreateProvisionedModelThroughput requests recorded by the stand-in: 0');

    expect(reject.code, reject.stderr).toBe(1);
    const r = JSON.parse(reject.stdout);
    expect(r).toMatchObject({
      execution: { status: 'FAILED' },
      endState: 'ModelRejected',
      error: { error: 'ModelRejectedError', remedy: expect.any(String) },
      job: { status: 'Completed' },
      evaluation: { verdict: 'reject', deployment: { arn: deploymentArn, outcome: 'deleted' } },
    });
    // The loss is named: the cause is the verdict's message.
    expect(r.error.cause).toBe(r.evaluation.message);
    expect(r.evaluation.message).toMatch(/^rejected: /);
    for (const s of r.evaluation.scores) expect(s.custom, s.metric).toBeLessThan(s.base);
    expect(reject.stderr).toContain('  verdict: reject');
    expect(reject.stderr).toContain(`  deployment ${r.evaluation.deployment.arn}: deleted (GetCustomModelDeployment: ResourceNotFoundException)`);
    expect(reject.stderr).toContain('CreateProvisionedModelThroughput requests recorded by the stand-in: 0');
  }, 240_000);
});

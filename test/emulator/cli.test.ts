/**
 * `bvc` against the local emulator, in process: the real handlers over the wire to the tier's moto
 * server (--local --endpoint), the launcher's stand-in for Bedrock finishing or failing the job by
 * name. start --follow to the end, plan writes nothing, status of a failed execution, list, janitor,
 * and bad input with no call at all.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeNetworkInterfacesCommand, DescribeVpcEndpointsCommand } from '@aws-sdk/client-ec2';
import { ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalTarget } from '../../cli/local-target.js';
import { EXIT } from '../../cli/main.js';
import { captureCli } from '../support/cli.js';
import { configureBedrockStandIn, resetBedrockStandIn } from '../../local/bedrock-standin.js';
import { demoJobInput, demoStageParams, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { commandsSentDuring, motoClients, resetMoto } from '../support/moto-clients.js';

const dir = mkdtempSync(join(tmpdir(), 'bvc-cli-emu-'));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

/** The emulator's own waits would be 10 s a poll; the tier does not wait. */
const cli = (args: string[]) => captureCli(args, { localTarget: (options) => new LocalTarget({ ...options, waitMs: 0 }) });

describe('bvc --local --endpoint (the tier\'s moto, the stand-in for Bedrock)', () => {
  let account: DemoAccount;
  let target: string[];
  const previousRunsDir = process.env.BVC_RUNS_DIR;
  beforeAll(async () => {
    process.env.BVC_RUNS_DIR = join(dir, 'runs');
    await resetMoto();
    const clients = motoClients();
    // With the stack's tables (the job ledger the janitor reads among them).
    account = await seedDemoAccount({ ...clients });
    // Every job the stand-in does not know by name stays InProgress, as moto keeps it.
    await configureBedrockStandIn(inject('motoEndpoint'), { enabled: true, default: { outcome: 'hold' } });
    target = ['--local', '--endpoint', inject('motoEndpoint'), '--params', file('params.json', demoStageParams(account))];
  });
  afterAll(async () => {
    await resetBedrockStandIn(inject('motoEndpoint'));
    if (previousRunsDir === undefined) delete process.env.BVC_RUNS_DIR;
    else process.env.BVC_RUNS_DIR = previousRunsDir;
  });

  it('plan: the preflight and each policy diff statement by statement; nothing written', async () => {
    const { iam, ec2 } = motoClients();
    const before = [
      await iam.send(new ListRolePoliciesCommand({ RoleName: account.roleArn.split('/').at(-1)! })),
      await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [account.endpointId] })),
    ].map((o) => JSON.stringify({ ...o, $metadata: undefined }));
    const { result: run, sent } = await commandsSentDuring(() => cli(['plan', '--input', file('plan.json', demoJobInput(account)), ...target]));
    expect(run.code, run.stderr).toBe(EXIT.ok);
    expect(run.stderr).toMatch(/\+ create role\/.* \+7 -0, 0 unchanged/);
    expect(run.stderr).toMatch(/^ {4}\+ BedrockVpcCreateTaggedEni: Allow ec2:CreateNetworkInterface on /m);
    expect(run.stderr).toContain('Dry run: nothing was written.');
    expect(sent.filter((c) => /^(Put|Create|Delete|Modify|Update)/.test(c) && c !== 'PutItemCommand' && c !== 'DeleteItemCommand')).toEqual([]);
    const after = [
      await iam.send(new ListRolePoliciesCommand({ RoleName: account.roleArn.split('/').at(-1)! })),
      await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [account.endpointId] })),
    ].map((o) => JSON.stringify({ ...o, $metadata: undefined }));
    expect(after).toEqual(before);
  });

  it('start --follow: each state, the job through its phases to Completed, then status and list read the run back', async () => {
    await configureBedrockStandIn(inject('motoEndpoint'), { jobs: { 'cli-completes': { outcome: 'complete', seconds: 1 } } });
    const run = await cli(['start', '--follow', '--name', 'cli-run-completes', '--input', file('ok.json', demoJobInput(account, { jobName: 'cli-completes' })), ...target]);
    expect(run.code, run.stderr).toBe(EXIT.ok);
    for (const state of ['ValidateNetwork', 'ApplyPolicies', 'SubmitJob', 'PollStatus', 'CleanupEnis', 'RevokeGrants', 'JobSucceeded']) expect(run.stderr).toContain(`▶ ${state}`);
    expect(run.stderr).toMatch(/◆ job Completed — validation Completed · data processing Completed · training Completed/);
    expect(run.stderr).toMatch(/model {7}arn:aws:bedrock:us-east-1:\d{12}:custom-model\//);

    const status = await cli(['status', 'cli-run-completes', ...target]);
    expect(status.code).toBe(EXIT.ok);
    expect(status.stdout).toContain('cli-run-completes: SUCCEEDED');
    expect(status.stdout).toMatch(/job {9}arn:aws:bedrock:us-east-1:\d{12}:model-customization-job\/cli-completes: Completed/);

    const list = await cli(['list', '--json', ...target]);
    expect(JSON.parse(list.stdout)).toContainEqual(expect.objectContaining({ name: 'cli-run-completes', status: 'SUCCEEDED', job: expect.stringContaining('cli-completes') }));
  });

  it("status of a failed execution: the job ARN and Bedrock's failure message, and the remedy; exit 1", async () => {
    await configureBedrockStandIn(inject('motoEndpoint'), { jobs: { 'cli-fails': { outcome: 'fail', seconds: 0.5, failureMessage: 'Maximum input token count 4919 exceeds limit of 4096 for train data' } } });
    const run = await cli(['start', '--name', 'cli-run-fails', '--input', file('fails.json', demoJobInput(account, { jobName: 'cli-fails' })), ...target]);
    expect(run.code).toBe(EXIT.failed);
    const status = await cli(['status', 'cli-run-fails', ...target]);
    expect(status.code).toBe(EXIT.failed);
    expect(status.stdout).toMatch(/job {9}arn:aws:bedrock:us-east-1:\d{12}:model-customization-job\/cli-fails: Failed/);
    expect(status.stdout).toContain('Maximum input token count 4919 exceeds limit of 4096 for train data');
    expect(status.stdout).toContain('what to do');
  });

  it('status of a failed preflight: the failing check with its remedy', async () => {
    const broken = ['--local', '--endpoint', inject('motoEndpoint'), '--params', file('broken.json', demoStageParams(account, { subnetIds: 'subnet-0000000000000dead' }))];
    const input = file('dead-subnet.json', demoJobInput(account, { vpcConfig: { subnetIds: ['subnet-0000000000000dead'], securityGroupIds: [account.securityGroupId] } }));
    expect((await cli(['start', '--name', 'cli-run-preflight', '--input', input, ...broken])).code).toBe(EXIT.failed);
    const status = await cli(['status', 'cli-run-preflight', ...broken]);
    expect(status.code).toBe(EXIT.failed);
    expect(status.stdout).toMatch(/✖ subnet\.exists subnet-0000000000000dead/);
    expect(status.stdout).toMatch(/fix: /);
  });

  it('janitor --dry-run: the report of the seeded leftovers, nothing deleted', async () => {
    const { ec2 } = motoClients();
    const run = await cli(['janitor', '--dry-run', '--json', ...target]);
    expect(run.code, run.stderr).toBe(EXIT.ok);
    const report = JSON.parse(run.stdout);
    expect(report.dryRun).toBe(true);
    // The seeded leftover of a job Bedrock does not know is kept, as is the attached one (never "delete after a while").
    expect(report.kept).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ networkInterfaceId: account.leftoverEnis.otherJobAvailable, reason: 'job-not-found' }),
        expect.objectContaining({ networkInterfaceId: account.leftoverEnis.otherJobInUse, reason: 'not-available' }),
      ]),
    );
    expect(report.wouldDelete).not.toContain(account.leftoverEnis.otherJobAvailable);
    const enis = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: Object.values(account.leftoverEnis) }));
    expect(enis.NetworkInterfaces).toHaveLength(3);
  });

  it('status takes only an execution ARN of the local state machine (or a name): exit 2 naming the field, and not one AWS call', async () => {
    const foreign = 'arn:aws:states:us-east-1:123456789012:execution:another-machine:cli-run-completes';
    for (const [execution, named] of [
      ['arn:aws:s3:::demo-output-bucket', 'execution must be a Step Functions execution ARN'],
      ['arn:aws:states:us-east-1:123456789012:stateMachine:bedrock-vpc-customization-local-customize-model', 'not an execution'],
      [foreign, 'not an execution of the target'],
      ['runs/a run', 'execution must be an execution ARN or name'],
    ] as const) {
      const { result: run, sent } = await commandsSentDuring(() => cli(['status', execution, ...target]));
      expect(run.code, execution).toBe(EXIT.usage);
      expect(run.stderr, execution).toContain(named);
      expect(sent).toEqual([]);
    }
    // A well-formed ARN of the local state machine passes the check: this one was never run (exit 3).
    const missing = await cli(['status', `${foreign.replace('another-machine', 'bedrock-vpc-customization-local-customize-model')}-never`, ...target]);
    expect(missing.code).toBe(EXIT.target);
    expect(missing.stderr).toContain('no local execution named cli-run-completes-never');
    // A message a person reads, no stack trace.
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    expect(missing.stderr).not.toContain('--debug');
  });

  it('bad input: exit 2 with the field named, and not one AWS call', async () => {
    const { result: run, sent } = await commandsSentDuring(() => cli(['start', '--input', file('bad.json', demoJobInput(account, { vpcConfig: { subnetIds: [], securityGroupIds: ['sg-1'] } })), ...target]));
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toContain('vpcConfig.subnetIds');
    expect(run.stderr).toContain('nothing was run');
    expect(sent).toEqual([]);
  });
});

/**
 * The CLI against a deployed stage: its Step Functions, CloudFormation and Lambda calls answered by
 * aws-sdk-client-mock with what AWS would return — the histories are those of real runs of the ASL
 * file (the real handlers, mocked account), recorded as Step Functions records them
 * (local/local-history.ts). Exit codes, rendering, the follow loop's reads, bad input.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeSubnetsCommand } from '@aws-sdk/client-ec2';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  StartExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deriveJobName } from '../../functions/shared/job-input.js';
import { AwsTarget } from '../../cli/aws-target.js';
import { HANDOVER_UNVERIFIED } from '../../cli/handover-job.js';
import { EXIT } from '../../cli/main.js';
import { stateDetail } from '../../cli/render.js';
import { captureCli } from '../support/cli.js';
import { historyOf } from '../../local/local-history.js';
import { localExecutionArn, localStateMachineArn, runWorkflow, runWorkflowChain, type ExecutionRegistry } from '../../local/workflow.js';
import { rawJob } from '../fixtures/job.js';
import { ACCOUNT, mockHealthyAccount, mocks } from '../support/mock-account.js';
import { chainStatuses, fast, handlers, handoverPolling, recordedRun, useRealHandlers } from '../support/state-machine.js';

useRealHandlers();

const cloudformation = mockClient(CloudFormationClient);
const lambda = mockClient(LambdaClient);
afterEach(() => {
  cloudformation.reset();
  lambda.reset();
});

const dir = mkdtempSync(join(tmpdir(), 'bvc-cli-sm-'));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

/** A CLI run; the deployed target never sleeps between reads. */
const cli = (args: string[]) => captureCli(args, { awsTarget: (options) => new AwsTarget({ ...options, sleep: async () => undefined }) });

interface Recorded {
  arn: string;
  name: string;
  status: string;
  history: HistoryEvent[];
  output?: unknown;
  input: unknown;
}

/** Runs the ASL file (mocked account) and records its history as Step Functions would. */
async function record(input: unknown, name: string): Promise<Recorded> {
  const { run, arn, history } = await recordedRun(input, name);
  return { arn, name, status: run.status, history, output: run.output, input };
}

/**
 * Step Functions answering for `executions`: GetExecutionHistory as documented (id order, or newest
 * first with reverseOrder; maxResults; nextToken), the history growing by `growBy` events per read of
 * the newest page, as a running execution's does.
 */
function serveExecutions(executions: Recorded[], growBy = Infinity) {
  const visible = new Map(executions.map((e) => [e.arn, Number.isFinite(growBy) ? 0 : e.history.length]));
  const stack = { Stacks: [{ StackName: 'bedrock-vpc-customization-dev', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE' as const, Outputs: [{ OutputKey: 'StateMachineArn', OutputValue: localStateMachineArn() }] }] };
  cloudformation.on(DescribeStacksCommand).resolves(stack);
  const byArn = (arn: string | undefined) => {
    const found = executions.find((e) => e.arn === arn);
    if (!found) throw Object.assign(new Error(`Execution Does Not Exist: '${arn}'`), { name: 'ExecutionDoesNotExist' });
    return found;
  };
  let started = 0;
  mocks.sfn.on(StartExecutionCommand).callsFake(() => ({ executionArn: executions[started++]!.arn, startDate: new Date() }));
  mocks.sfn.on(GetExecutionHistoryCommand).callsFake((input) => {
    const e = byArn(input.executionArn);
    const firstRead = !input.nextToken;
    if (firstRead && input.reverseOrder) visible.set(e.arn, Math.min(e.history.length, visible.get(e.arn)! + growBy));
    const shown = e.history.slice(0, input.reverseOrder ? visible.get(e.arn)! : e.history.length);
    const ordered = input.reverseOrder ? [...shown].reverse() : shown;
    const from = Number(input.nextToken ?? 0);
    const size = input.maxResults ?? 100;
    const page = ordered.slice(from, from + size);
    return { events: page, ...(from + size < ordered.length ? { nextToken: String(from + size) } : {}) };
  });
  mocks.sfn.on(DescribeExecutionCommand).callsFake((input) => {
    const e = byArn(input.executionArn);
    const failed = e.history.find((h) => h.type === 'ExecutionFailed')?.executionFailedEventDetails;
    return {
      executionArn: e.arn,
      stateMachineArn: localStateMachineArn(),
      name: e.name,
      status: e.status as never,
      startDate: e.history[0]!.timestamp!,
      stopDate: e.history.at(-1)!.timestamp!,
      input: JSON.stringify(e.input),
      ...(e.output !== undefined ? { output: JSON.stringify(e.output) } : {}),
      ...(failed ? { error: failed.error, cause: failed.cause } : {}),
    };
  });
}

describe('bvc against a deployed stage', () => {
  let success: Recorded;
  let preflightFailure: Recorded;
  let jobFailure: Recorded;
  beforeAll(async () => {
    mockHealthyAccount(['InProgress', 'InProgress', 'Completed']);
    success = await record(rawJob(), 'cli-success');
    mockHealthyAccount();
    mocks.ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [] });
    preflightFailure = await record(rawJob(), 'cli-preflight-failure');
    mockHealthyAccount(['InProgress', 'Failed']);
    jobFailure = await record(rawJob(), 'cli-job-failure');
  });

  it('start --follow: finds the state machine in the stack, shows each state and the job, exits 0 on success', async () => {
    serveExecutions([success], 7);
    const run = await cli(['start', '--input', file('job.json', rawJob()), '--follow', '--stage', 'dev']);
    expect(run.code).toBe(EXIT.ok);
    expect(cloudformation).toHaveReceivedCommandWith(DescribeStacksCommand, { StackName: 'bedrock-vpc-customization-dev' });
    expect(mocks.sfn).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: localStateMachineArn(), input: JSON.stringify(rawJob()) });
    for (const state of ['ValidateNetwork', 'ApplyPolicies', 'SubmitJob', 'PollStatus', 'CleanupEnis', 'RevokeGrants', 'JobSucceeded']) {
      expect(run.stderr).toContain(`▶ ${state}`);
    }
    // Each state is shown once although the history was read many times while it grew.
    expect(run.stderr.match(/▶ SubmitJob/g)).toHaveLength(1);
    expect(mocks.sfn.commandCalls(GetExecutionHistoryCommand).length).toBeGreaterThan(3);
    // The job's status lines appear when the status changes, not once per poll.
    expect(run.stderr.match(/◆ job InProgress/g)).toHaveLength(1);
    expect(run.stderr).toContain('◆ job Completed');
    expect(run.stderr).toContain(`job         ${ACCOUNT.jobArn}: Completed`);
    expect(run.stderr).toMatch(/execution succeeded/);
  });

  it('start --follow follows a hand-over into the successor execution and ends with the job', async () => {
    mockHealthyAccount(chainStatuses(2));
    const runs = await runWorkflowChain({
      input: rawJob({ polling: handoverPolling }),
      handlers: handlers(),
      executionName: 'cli-chain',
      ...fast,
    });
    expect(runs.length).toBeGreaterThan(1);
    const recorded = runs.map((r): Recorded => {
      const arn = localExecutionArn(r.name);
      return { arn, name: r.name, status: r.status, history: historyOf(r, { arn, name: r.name, startDate: new Date() }), output: r.output, input: {} };
    });
    serveExecutions(recorded, 9);
    const run = await cli(['start', '--input', file('chain.json', rawJob()), '--follow', '--stage', 'dev', '--json']);
    expect(run.code, run.stderr).toBe(EXIT.ok);
    // Each execution's history was followed: every one started, the last one ended the job.
    expect(run.stderr.match(/execution started/g)).toHaveLength(runs.length);
    expect(run.stderr).toContain('▶ HandedOver');
    expect(run.stderr).toContain('▶ JobSucceeded');
    expect(JSON.parse(run.stdout)).toMatchObject({ execution: { name: runs.at(-1)!.name, status: 'SUCCEEDED' }, outcome: 'completed' });
  });

  it('start without --follow prints the execution and exits 0; --json gives its ARN', async () => {
    serveExecutions([success]);
    const run = await cli(['start', '--input', file('job.json', rawJob()), '--stage', 'dev', '--json']);
    expect(run.code).toBe(EXIT.ok);
    expect(JSON.parse(run.stdout)).toEqual({ executionArn: success.arn, name: success.name });
    expect(mocks.sfn).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 0);
  });

  it('status of a failed preflight: the failing check and its remedy, exit 1', async () => {
    serveExecutions([preflightFailure]);
    const run = await cli(['status', preflightFailure.name, '--stage', 'dev']);
    expect(run.code).toBe(EXIT.failed);
    expect(run.stdout).toContain('PreflightFailed');
    expect(run.stdout).toMatch(/✖ subnet\.exists/);
    expect(run.stdout).toContain('fix:');
    const json = await cli(['status', preflightFailure.arn, '--stage', 'dev', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ execution: { status: 'FAILED' }, error: { error: 'NetworkValidationError' } });
  });

  it("status of a failed job: the job ARN and Bedrock's failure message, exit 1", async () => {
    serveExecutions([jobFailure]);
    const run = await cli(['status', jobFailure.name, '--state-machine-arn', localStateMachineArn()]);
    expect(run.code).toBe(EXIT.failed);
    expect(run.stdout).toContain(ACCOUNT.jobArn);
    expect(run.stdout).toContain('Training data is malformed');
    // --state-machine-arn needs no stack.
    expect(cloudformation).toHaveReceivedCommandTimes(DescribeStacksCommand, 0);
  });

  it('list: the newest executions with their job and outcome, without reading histories', async () => {
    serveExecutions([success, jobFailure]);
    mocks.sfn.on(ListExecutionsCommand).resolves({
      executions: [jobFailure, success].map((e) => ({ executionArn: e.arn, stateMachineArn: localStateMachineArn(), name: e.name, status: e.status as never, startDate: new Date() })),
    });
    const run = await cli(['list', '--stage', 'dev', '--json']);
    expect(run.code).toBe(EXIT.ok);
    const rows = JSON.parse(run.stdout);
    expect(rows).toEqual([
      // A failed execution has no output: its job is named as ValidateNetwork derived it.
      expect.objectContaining({ name: jobFailure.name, status: 'FAILED', job: deriveJobName({ id: jobFailure.arn, name: jobFailure.name }), outcome: expect.stringContaining('JobFailedError') }),
      expect.objectContaining({ name: success.name, status: 'SUCCEEDED', job: ACCOUNT.jobArn, outcome: expect.stringContaining('completed') }),
    ]);
    expect(mocks.sfn).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 0);
  });

  it("janitor: invokes the stage's janitor (dry run asked for by payload) and prints its report", async () => {
    serveExecutions([]);
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify({ summary: 'swept 2 ENIs: deleted 0 (dry run)' })) as never });
    const run = await cli(['janitor', '--dry-run', '--stage', 'dev']);
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toContain('swept 2 ENIs');
    const sent = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(sent.FunctionName).toBe('bedrock-vpc-customization-dev-janitor');
    expect(JSON.parse(new TextDecoder().decode(sent.Payload as Uint8Array))).toEqual({ dryRun: true });
  });

  it('a stack that cannot be read is exit 3 with the stack named', async () => {
    cloudformation.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id bedrock-vpc-customization-prod does not exist'), { name: 'ValidationError' }));
    const run = await cli(['list', '--stage', 'prod']);
    expect(run.code).toBe(EXIT.target);
    expect(run.stderr).toContain('bedrock-vpc-customization-prod');
  });

  it("a status check's line: in event mode the wait is for the job's event, its seconds only the safety net", () => {
    const poll = { status: 'InProgress', next: 'wait', nextWaitSeconds: 60, message: 'Job j is InProgress.' };
    expect(stateDetail('PollStatus', { job: { polling: { mode: 'event' } }, poll })).toBe(
      "Job j is InProgress. next: wait for the job's event (a status check anyway after 60 s)",
    );
    expect(stateDetail('PollStatus', { job: { polling: { mode: 'poll' } }, poll })).toBe('Job j is InProgress. next: wait in 60 s');
    expect(stateDetail('PollStatus', { job: { polling: { mode: 'event' } }, poll: { ...poll, next: 'stop' } })).toBe('Job j is InProgress. next: stop');
  });

  it('an unexpected failure is exit 3 with its message and no stack trace, unless --debug asks for it', async () => {
    const broken = { awsTarget: () => { throw new TypeError('cannot read properties of undefined'); } } as never;
    const plain = await captureCli(['list', '--stage', 'dev'], broken);
    expect(plain.code).toBe(EXIT.target);
    expect(plain.stderr).toBe('bvc: cannot read properties of undefined (run with --debug for the stack trace)');
    const debug = await captureCli(['list', '--debug', '--stage', 'dev'], broken);
    expect(debug.code).toBe(EXIT.target);
    expect(debug.stderr).toMatch(/^bvc: TypeError: cannot read properties of undefined\n\s+at /);
  });

  it('bad input is exit 2 with the field named, and no AWS call', async () => {
    const cases: [string[], string][] = [
      [['start', '--input', file('bad-field.json', { vpcConfig: { subnetIds: 'subnet-1' } }), '--stage', 'dev'], 'vpcConfig'],
      [['start', '--input', file('bad-json.json', '{nope'), '--stage', 'dev'], 'not valid JSON'],
      [['start', '--input', file('proto.json', { hyperParameters: JSON.parse('{"__proto__": {"x": 1}}') }), '--stage', 'dev'], 'hyperParameters'],
      [['plan', '--input', file('exempt.json', { policies: { exemptPrincipalArns: [] } }), '--stage', 'dev'], 'policies.exemptPrincipalArns'],
      [['start', '--input', file('ok.json', rawJob()), '--stage', 'dev', '--local'], 'choose one target'],
      [['start', '--input', file('ok.json', rawJob())], 'name a target'],
      [['status', '--stage', 'dev'], 'takes one execution'],
      [['list', '--stage', 'dev', '--max', '0'], '--max'],
      [['start', '--stage', 'dev'], '--input FILE'],
      [['nope'], 'unknown command'],
      [['list', '--stage', 'dev', '--bogus'], 'bogus'],
      [['start', '--input', file('ok.json', rawJob()), '--state-machine-arn', 'arn:aws:states:us-east-1:1:stateMachine:x'], '--state-machine-arn'],
    ];
    for (const [args, named] of cases) {
      const run = await cli(args);
      expect(run.code, args.join(' ')).toBe(EXIT.usage);
      expect(run.stderr, args.join(' ')).toContain(named);
    }
    for (const m of [...Object.values(mocks), cloudformation, lambda]) expect(m.calls()).toHaveLength(0);
  });

  it('--help for the CLI and every command, exit 0', async () => {
    const main = await cli(['--help']);
    expect(main.code).toBe(EXIT.ok);
    for (const command of ['start', 'plan', 'status', 'list', 'janitor']) {
      expect(main.stdout).toContain(command);
      const help = await cli([command, '--help']);
      expect(help.code).toBe(EXIT.ok);
      expect(help.stdout).toContain(`usage: bvc ${command}`);
      expect(help.stdout).toContain('Exit codes');
    }
  });
});

describe('bvc takes only Step Functions ARNs', () => {
  const MACHINE = localStateMachineArn();
  const OTHER_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:another-machine';

  it('a state machine or execution ARN that is not one (or not of the target) is exit 2 naming the field, before any AWS call', async () => {
    const cases: [string[], string][] = [
      [['list', '--state-machine-arn', 'arn:aws:iam::123456789012:role/Admin'], '--state-machine-arn'],
      [['list', '--state-machine-arn', 'arn:aws:states:us-east-1:123456789012:execution:m:run-1'], '--state-machine-arn'],
      [['list', '--state-machine-arn', `${MACHINE}:1`], '--state-machine-arn'],
      [['list', '--state-machine-arn', 'arn:aws:states:us-east-1:12345:stateMachine:m'], '--state-machine-arn'],
      [['list', '--state-machine-arn', 'arn:nope'], '--state-machine-arn'],
      [['status', 'arn:aws:s3:::training-bucket', '--stage', 'dev'], 'execution must be a Step Functions execution ARN'],
      [['status', 'arn:aws:lambda:us-east-1:123456789012:function:bedrock-vpc-customization-dev-janitor', '--stage', 'dev'], 'execution'],
      [['status', MACHINE, '--stage', 'dev'], 'not an execution'],
      [['status', 'arn:aws:states:us-east-1:123456789012:execution:m', '--stage', 'dev'], 'execution name'],
      [['status', 'arn:aws:states:us-east-1:123456789012:execution:m:a:b', '--stage', 'dev'], 'execution name'],
      [['status', 'arn:aws:states:us-east-1:123456789012:express:m:run-1:1', '--stage', 'dev'], 'execution'],
      [['status', 'arn:', '--stage', 'dev'], 'not an ARN'],
      [['status', 'run 1', '--stage', 'dev'], 'execution must be an execution ARN or name'],
      // An execution ARN of another state machine than the one named.
      [['status', `${OTHER_MACHINE.replace(':stateMachine:', ':execution:')}:run-1`, '--state-machine-arn', MACHINE], 'not an execution of the target'],
      [['status', `${OTHER_MACHINE.replace(':stateMachine:', ':execution:')}:run-1`, '--local'], 'not an execution of the target'],
    ];
    for (const [args, named] of cases) {
      const run = await cli(args);
      expect(run.code, args.join(' ')).toBe(EXIT.usage);
      expect(run.stderr, args.join(' ')).toContain(named);
    }
    for (const m of [...Object.values(mocks), cloudformation, lambda]) expect(m.calls()).toHaveLength(0);
  });

  it("with --stage, an execution ARN of another state machine is refused once the stack is read (exit 3): no execution of it is read", async () => {
    serveExecutions([]);
    const foreign = `${OTHER_MACHINE.replace(':stateMachine:', ':execution:')}:run-1`;
    const run = await cli(['status', foreign, '--stage', 'dev']);
    expect(run.code).toBe(EXIT.target);
    expect(run.stderr).toContain(`${foreign} is not an execution of stage dev`);
    expect(mocks.sfn.calls()).toHaveLength(0);
  });

  it('a state machine ARN gives the region; an execution ARN of it is read as is', async () => {
    const machine = 'arn:aws:states:eu-west-1:123456789012:stateMachine:bedrock-vpc-customization-dev-customize-model';
    let region: string | undefined;
    const run = await captureCli(['status', `${machine.replace(':stateMachine:', ':execution:')}:run-1`, '--state-machine-arn', machine], {
      awsTarget: (options) => {
        region = options.region;
        return new AwsTarget({ ...options, sleep: async () => undefined });
      },
    });
    expect(region).toBe('eu-west-1');
    // The execution does not exist in the mocked account: exit 3, after a DescribeExecution of that very ARN.
    expect(run.code).toBe(EXIT.target);
  });
});

describe('bvc list: a hand-over shows only the job ResumeJob verified', () => {
  const FORGED_JOB = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/someone-elses-job';
  let predecessor: Recorded;
  let successor: Recorded;
  /** The successor as listed while ResumeJob has verified it and it still runs. */
  let resumed: Recorded;
  /** A hand-over whose ResumeJob is still at work. */
  let resuming: Recorded;
  let forged: Recorded;
  beforeAll(async () => {
    mockHealthyAccount(chainStatuses(2));
    const executions: ExecutionRegistry = new Map();
    const input = rawJob({ polling: handoverPolling });
    const runs = await runWorkflowChain({ input, handlers: handlers(), executionName: 'cli-list-chain', executions, ...fast });
    expect(runs.length).toBeGreaterThan(1);
    const recorded = (run: (typeof runs)[number], runInput: unknown): Recorded => {
      const arn = localExecutionArn(run.name);
      return { arn, name: run.name, status: run.status, history: historyOf(run, { arn, name: run.name, startDate: new Date() }), output: run.output, input: runInput };
    };
    predecessor = recorded(runs[0]!, input);
    successor = recorded(runs[1]!, runs[0]!.startedExecution!.input);
    const exited = successor.history.findIndex((e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'ResumeJob');
    const entered = successor.history.findIndex((e) => e.type === 'TaskStateEntered' && e.stateEnteredEventDetails?.name === 'ResumeJob');
    expect(entered).toBeGreaterThan(0);
    expect(exited).toBeGreaterThan(entered);
    const running = (name: string, events: HistoryEvent[]): Recorded => ({ ...successor, arn: localExecutionArn(name), name, status: 'RUNNING', history: events, output: undefined });
    resumed = running('cli-list-resumed', successor.history.slice(0, exited + 3));
    resuming = running('cli-list-resuming', successor.history.slice(0, entered + 1));

    // A real hand-over's input, its job changed to someone else's, started under another name; a
    // top-level `submission` for good measure (the execution view merges the input it started with).
    const claim = (runs[0]!.startedExecution!.input as { handover: { submission: Record<string, unknown> } }).handover;
    const forgedInput = { handover: { ...claim, submission: { ...claim.submission, jobArn: FORGED_JOB } }, submission: { jobArn: FORGED_JOB } };
    const run = await runWorkflow({ input: forgedInput, handlers: handlers(), executionName: 'cli-list-forged', executions, ...fast });
    expect(run).toMatchObject({ status: 'FAILED', error: 'HandOverRejectedError' });
    forged = recorded(run, forgedInput);
  });

  const noForgedJob = (rows: unknown) => expect(JSON.stringify(rows)).not.toContain('someone-elses-job');

  it('deployed: the forged hand-over is "hand-over (unverified)"; a verified one shows its job; one history page per hand-over, none for the others', async () => {
    const all = [forged, resuming, resumed, successor, predecessor];
    // Only this test's reads (recording the runs read the predecessor's history too).
    mocks.sfn.reset();
    serveExecutions(all);
    mocks.sfn.on(ListExecutionsCommand).resolves({
      executions: all.map((e) => ({ executionArn: e.arn, stateMachineArn: localStateMachineArn(), name: e.name, status: e.status as never, startDate: new Date() })),
    });
    const run = await cli(['list', '--stage', 'dev', '--json']);
    expect(run.code, run.stderr).toBe(EXIT.ok);
    const rows = JSON.parse(run.stdout);
    expect(rows).toEqual([
      expect.objectContaining({ name: forged.name, status: 'FAILED', job: HANDOVER_UNVERIFIED, handover: 'unverified', outcome: expect.stringContaining('HandOverRejectedError') }),
      expect.objectContaining({ name: resuming.name, status: 'RUNNING', job: HANDOVER_UNVERIFIED, handover: 'unverified' }),
      expect.objectContaining({ name: resumed.name, status: 'RUNNING', job: ACCOUNT.jobArn, handover: 'verified' }),
      expect.objectContaining({ name: successor.name, status: 'SUCCEEDED', job: ACCOUNT.jobArn, handover: 'verified' }),
      expect.objectContaining({ name: predecessor.name, status: 'SUCCEEDED', job: ACCOUNT.jobArn }),
    ]);
    expect(rows[4]).not.toHaveProperty('handover');
    noForgedJob(rows);
    const reads = mocks.sfn.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input);
    expect(reads.map((r) => r.executionArn).sort()).toEqual([forged, resuming, resumed, successor].map((e) => e.arn).sort());
    // One page each, oldest first (ResumeJob is the execution's first Task).
    for (const r of reads) expect(r).toEqual({ executionArn: r.executionArn, maxResults: 100, reverseOrder: false, includeExecutionData: true });

    const text = await cli(['list', '--stage', 'dev']);
    expect(text.stdout).toContain(`${forged.name}  ${HANDOVER_UNVERIFIED}`);
  });

  it('local: the runs recorded in .local-run read the same way', async () => {
    const runs = join(dir, 'local-runs');
    mkdirSync(runs, { recursive: true });
    for (const [i, e] of [predecessor, successor, resumed, forged].entries()) {
      const startDate = new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString();
      writeFileSync(join(runs, `${e.name}.json`), JSON.stringify({ execution: { arn: e.arn, name: e.name, status: e.status, startDate }, input: e.input, ...(e.output !== undefined ? { output: e.output } : {}), history: e.history }));
    }
    const previous = process.env.BVC_RUNS_DIR;
    process.env.BVC_RUNS_DIR = runs;
    try {
      const rows = JSON.parse((await cli(['list', '--local', '--json'])).stdout) as { name: string }[];
      const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
      expect(byName[forged.name]).toMatchObject({ job: HANDOVER_UNVERIFIED, handover: 'unverified' });
      expect(byName[resumed.name]).toMatchObject({ job: ACCOUNT.jobArn, handover: 'verified' });
      expect(byName[successor.name]).toMatchObject({ job: ACCOUNT.jobArn, handover: 'verified' });
      expect(byName[predecessor.name]).toMatchObject({ job: ACCOUNT.jobArn });
      noForgedJob(rows);
      // status still shows the forged execution as it ran: rejected by ResumeJob.
      const status = await cli(['status', forged.name, '--local']);
      expect(status.code).toBe(EXIT.failed);
      expect(status.stdout).toContain('HandOverRejectedError');
    } finally {
      if (previous === undefined) delete process.env.BVC_RUNS_DIR;
      else process.env.BVC_RUNS_DIR = previous;
    }
  });
});

/**
 * `bvc`: the operator's command line for bedrock-vpc-customization (cli/bvc.mjs runs its build, cli/dist/main.js:
 * `npm run build`). It loads what a command needs when it runs: the local engine (cli/local-target.ts)
 * only for --local, the AWS SDK clients (cli/aws-target.ts) only for a deployed target.
 * Commands: start, plan, status, list, janitor (`bvc --help`, `bvc <command> --help`). Arguments are
 * parsed with node:util parseArgs, per command, strictly (an unknown flag is a usage error).
 *
 * Exit codes (docs/cli.md "The CLI"):
 *   0  done: the execution succeeded (job completed, plan ready, hand-over followed to the end), or the command's report was printed
 *   1  the execution failed, timed out or was aborted (status/start --follow/plan)
 *   2  bad usage or a bad input file: the field is named and no AWS call was made (an ARN the CLI takes is
 *      checked with the SDK's ARN parser: only a Step Functions state machine, resp. execution, ARN passes)
 *   3  the target could not be used: stack or execution not found, an AWS call failed
 *   4  the execution is still running (status)
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { InvalidInputError, StageConfigError } from '../functions/shared/errors.js';
import type { ExecutionView } from '../functions/shared/execution-view.js';
import type { AwsTarget } from './aws-target.js';
import { LOCAL_REGION, SCENARIO_CHOICES, SCENARIOS, type Scenario } from './local-options.js';
import type { LocalTarget } from './local-target.js';
import { TargetError, type Target } from './target.js';

// The AWS SDK warns on Node < 22 that future versions will need it; the Lambdas run on nodejs22.x.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * The local target's module: the local engine (local/*, aws-local-stepfunctions, the Lambda handlers)
 * loads only here, when a command names --local. Outside the repository (an installed package, whose
 * dev dependencies and sources are absent) that is a target error, in one line.
 */
async function localTargetModule(): Promise<typeof import('./local-target.js')> {
  try {
    const local = await import('./local-target.js');
    local.requireRepository();
    return local;
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new TargetError(`--local runs the workflow from the repository (its ASL file, Lambda sources and dev dependencies), not from an installed package: clone the repository and run npm ci there (${(err as Error).message.split('\n')[0]})`);
  }
}

export const EXIT = { ok: 0, failed: 1, usage: 2, target: 3, running: 4 } as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const TARGET_HELP = `Target (one of):
  --stage STAGE [--region REGION]   a deployed stage: its stack's StateMachineArn output (region: AWS_REGION or us-east-1)
  --state-machine-arn ARN           a deployed state machine, by ARN
  --local                           the local emulator: moto with a seeded demo account and a stand-in for Bedrock
      [--scenario ${SCENARIO_CHOICES}]   how the stand-in ends the demo's job (default complete;
                                    promote|reject: a Nova Micro job through the evaluation gate)
      [--endpoint URL]              a running emulator, used as it is (needs --params; no Python)
      [--params FILE]               serverless.yml stage params (JSON) laid over the defaults`;

const COMMANDS: Record<string, { summary: string; usage: string; options: NonNullable<ParseArgsConfig['options']>; positional?: string }> = {
  start: {
    summary: 'start an execution with a job input file; --follow shows it to its end',
    usage: 'bvc start --input FILE [--follow] [--name NAME] [--json] <target>',
    options: { input: { type: 'string' }, follow: { type: 'boolean' }, name: { type: 'string' }, json: { type: 'boolean' } },
  },
  plan: {
    summary: 'dry run: the preflight report and the policy diffs, nothing written',
    usage: 'bvc plan --input FILE [--json] <target>',
    options: { input: { type: 'string' }, json: { type: 'boolean' } },
  },
  status: {
    summary: "what an execution did, rebuilt from its history (also a failed one): job, preflight, policies, cleanup, error and remedy; an ARN must be an execution of the target's state machine",
    usage: 'bvc status <execution ARN or name> [--json] <target>',
    options: { json: { type: 'boolean' } },
    positional: 'execution',
  },
  list: {
    summary: 'the most recent executions with their job and outcome (a hand-over shows only the job ResumeJob verified, else "hand-over (unverified)")',
    usage: 'bvc list [--max N] [--json] <target>',
    options: { max: { type: 'string' }, json: { type: 'boolean' } },
  },
  janitor: {
    summary: "run the janitor once (orphaned BedrockManaged ENIs) and print its report",
    usage: 'bvc janitor [--dry-run] [--json] <target>',
    options: { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
  },
};

const TARGET_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  stage: { type: 'string' },
  region: { type: 'string' },
  'state-machine-arn': { type: 'string' },
  local: { type: 'boolean' },
  endpoint: { type: 'string' },
  params: { type: 'string' },
  scenario: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

export const EXIT_CODES_HELP = `Exit codes: 0 succeeded or done · 1 the execution failed, timed out or was aborted · 2 bad usage or input (nothing called) · 3 target or AWS error · 4 still running`;

function mainHelp(program: string): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    `usage: ${program} <command> [options] <target>`,
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    TARGET_HELP,
    '',
    EXIT_CODES_HELP,
    'Add --debug to any command to print the stack trace of an unexpected failure.',
    `Run ${program} <command> --help for a command's options.`,
  ].join('\n');
}

function commandHelp(program: string, name: string): string {
  const c = COMMANDS[name]!;
  return [`usage: ${c.usage.replace(/^bvc/, program)}`, '', c.summary, '', TARGET_HELP, '', EXIT_CODES_HELP].join('\n');
}

/** Reads a JSON object from a file (a usage error names the file and the problem). */
function readInputFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --input ${file}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--input ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`--input ${file} must hold a JSON object`);
  return value as Record<string, unknown>;
}

export interface CliIo {
  out: (text: string) => void;
  err: (line: string) => void;
  /** Builds the deployed-stage target (tests give clients). */
  awsTarget?: (options: ConstructorParameters<typeof AwsTarget>[0]) => Target;
  /** Builds the local target (tests shorten its waits). */
  localTarget?: (options: ConstructorParameters<typeof LocalTarget>[0]) => LocalTarget;
}

const defaultIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** The target the flags name; a usage error when none or two are named. */
async function targetOf(values: Record<string, unknown>, io: CliIo): Promise<Target> {
  const [{ REGION, STATE_MACHINE_ARN_FORM, stateMachineArnProblem }, { parseArn }] = await Promise.all([import('./arns.js'), import('../functions/shared/arn.js')]);
  const local = values.local === true;
  const aws = values.stage !== undefined || values['state-machine-arn'] !== undefined;
  if (local && aws) throw new UsageError('choose one target: --local, or --stage / --state-machine-arn');
  if (!local && !aws) throw new UsageError('name a target: --stage STAGE [--region REGION], --state-machine-arn ARN, or --local');
  for (const flag of ['endpoint', 'params', 'scenario'] as const) {
    if (!local && values[flag] !== undefined) throw new UsageError(`--${flag} is for the local target (--local)`);
  }
  if (local) {
    if (values.region !== undefined) throw new UsageError('--region is for a deployed stage (the local emulator runs in us-east-1)');
    const endpoint = values.endpoint as string | undefined;
    if (endpoint !== undefined && (endpoint.length > 2048 || !/^https?:\/\/[^\s/]+/.test(endpoint))) throw new UsageError(`--endpoint must be an http(s) URL, got "${endpoint}"`);
    const scenario = values.scenario as string | undefined;
    if (scenario !== undefined && !SCENARIOS.includes(scenario as Scenario)) throw new UsageError(`--scenario must be one of ${SCENARIOS.join(', ')}, got "${scenario}"`);
    if (endpoint !== undefined && scenario !== undefined) throw new UsageError('--scenario drives the embedded emulator\'s stand-in for Bedrock; with --endpoint the emulator is used as it is');
    if (endpoint !== undefined && values.params === undefined) throw new UsageError('--endpoint uses an emulator as it is, so --params FILE (its network, role and buckets) is required');
    const local = await localTargetModule();
    let params: Record<string, string> | undefined;
    try {
      params = values.params !== undefined ? await local.readParamsFile(values.params as string) : undefined;
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const options = { ...(endpoint ? { endpoint } : {}), ...(params ? { params } : {}), ...(scenario ? { scenario: scenario as Scenario } : {}), log: io.err };
    return io.localTarget ? io.localTarget(options) : new local.LocalTarget(options);
  }
  const arn = values['state-machine-arn'] as string | undefined;
  const arnProblem = arn === undefined ? undefined : stateMachineArnProblem(arn);
  if (arnProblem) throw new UsageError(`--state-machine-arn must be a Step Functions state machine ARN (${STATE_MACHINE_ARN_FORM}), got "${arn}": ${arnProblem}`);
  const stage = values.stage as string | undefined;
  if (stage !== undefined && (stage.length > 128 || !/^[a-zA-Z0-9-]+$/.test(stage))) throw new UsageError(`--stage must be letters, digits and hyphens, got "${stage}"`);
  const region = (values.region as string | undefined) ?? (arn ? parseArn(arn).region : undefined) ?? process.env.AWS_REGION ?? 'us-east-1';
  if (region.length > 32 || !REGION.test(region)) throw new UsageError(`--region must be an AWS region such as us-east-1, got "${region}"`);
  const options = { region, ...(stage ? { stage } : {}), ...(arn ? { stateMachineArn: arn } : {}) };
  return io.awsTarget ? io.awsTarget(options) : new (await import('./aws-target.js')).AwsTarget(options);
}

/**
 * Checks `status`'s execution (an ARN or a name) before any AWS call: an ARN must be a Step Functions
 * execution ARN and, when the target's state machine is known without a call (--state-machine-arn,
 * --local), one of its executions. With --stage the target checks it once it has read the stack.
 */
async function checkExecution(execution: string, values: Record<string, unknown>): Promise<void> {
  const [{ EXECUTION_ARN_FORM, executionArnProblem, executionNameProblem }, { isExecutionOf }] = await Promise.all([import('./arns.js'), import('../functions/shared/arn.js')]);
  if (!execution.startsWith('arn:')) {
    const problem = executionNameProblem(execution);
    if (problem) throw new UsageError(`execution must be an execution ARN or name, got "${execution}": ${problem}`);
    return;
  }
  const problem = executionArnProblem(execution);
  if (problem) throw new UsageError(`execution must be a Step Functions execution ARN (${EXECUTION_ARN_FORM}) or name, got "${execution}": ${problem}`);
  const machine = values.local === true ? (await localTargetModule()).localStateMachineArn(LOCAL_REGION) : (values['state-machine-arn'] as string | undefined);
  if (machine !== undefined && !isExecutionOf(execution, machine)) {
    throw new UsageError(`execution "${execution}" is not an execution of the target's state machine ${machine}`);
  }
}

/** The exit code of an execution's view. */
export function exitCodeOf(view: ExecutionView): number {
  if (view.execution.status === 'RUNNING' || view.execution.status === 'PENDING_REDRIVE') return EXIT.running;
  return view.execution.status === 'SUCCEEDED' ? EXIT.ok : EXIT.failed;
}

/** The policy diffs of a plan (the dry run's output), statement by statement. */
function planLines(output: any): string[] {
  const changes: any[] = output?.policies?.changes ?? [];
  if (!changes.length) return ['No policy to manage: the stage skips every policy.'];
  return changes.flatMap((c) => [
    `${c.action === 'none' ? '=' : c.action === 'create' ? '+' : '~'} ${c.action} ${c.target.resource} (${c.target.kind ?? 'policy'}): +${c.diff.added.length} -${c.diff.removed.length}, ${c.diff.unchanged} unchanged`,
    ...c.diff.added.map((s: string) => `    + ${s}`),
    ...c.diff.removed.map((s: string) => `    - ${s}`),
  ]);
}

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function runCli(argv: string[], io: CliIo = defaultIo, program = 'bvc', helpHint = `${program} --help`): Promise<number> {
  // `--debug`, anywhere: an unexpected failure prints its stack trace.
  const debug = argv.includes('--debug');
  try {
    return await dispatch(
      argv.filter((arg) => arg !== '--debug'),
      io,
      program,
    );
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${program}: ${err.message}\nRun ${helpHint} for usage.`);
      return EXIT.usage;
    }
    // The workflow's errors by their literal names (functions/shared/errors.ts, loaded with the commands).
    if (err instanceof Error && err.name === 'InvalidInputError') {
      io.err(`Invalid input (nothing was run):\n${(err as InvalidInputError).issues.map((i) => `  - ${i.field}: ${i.message}`).join('\n')}`);
      return EXIT.usage;
    }
    if (err instanceof Error && err.name === 'StageConfigError') {
      io.err(`Invalid stage params (nothing was run):\n${(err as StageConfigError).problems.map((p) => `  - ${p}`).join('\n')}`);
      return EXIT.usage;
    }
    if (err instanceof TargetError) {
      io.err(`${program}: ${err.message}`);
      return EXIT.target;
    }
    // Anything else is a fault of the CLI or the machine: its message, and the stack only when asked.
    io.err(debug ? `${program}: ${(err as Error).stack ?? String(err)}` : `${program}: ${(err as Error).message ?? String(err)} (run with --debug for the stack trace)`);
    return EXIT.target;
  }
}

async function dispatch(argv: string[], io: CliIo, program: string): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? io.err : io.out)(`${mainHelp(program)}\n`);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  const spec = COMMANDS[command];
  if (!spec) throw new UsageError(`unknown command "${command}" (commands: ${Object.keys(COMMANDS).join(', ')})`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...spec.options, ...TARGET_OPTIONS }, strict: true, allowPositionals: spec.positional !== undefined });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const values = parsed.values as Record<string, unknown>;
  if (values.help) {
    io.out(`${commandHelp(program, command)}\n`);
    return EXIT.ok;
  }
  if (spec.positional && parsed.positionals.length !== 1) throw new UsageError(`${command} takes one ${spec.positional} (ARN or name)`);
  const json = values.json === true;
  const { FollowRenderer, renderView } = await import('./render.js');
  const printJson = (value: unknown) => io.out(`${JSON.stringify(value, null, 2)}\n`);

  switch (command) {
    case 'start':
    case 'plan': {
      const target = await targetOf(values, io);
      // The seeded local emulator has a demo job input; an --input file is laid over it.
      const demo = target.seeded === true;
      if (values.input === undefined && !demo) throw new UsageError(`${command} needs --input FILE (a job input: docs/configuration.md "The job input")`);
      const file = values.input === undefined ? {} : readInputFile(values.input as string);
      const input = command === 'plan' ? { ...file, dryRun: true } : file;
      const name = values.name as string | undefined;
      if (name !== undefined && (name.length > 80 || !/^[\w-]{1,80}$/.test(name))) throw new UsageError(`--name must be 1-80 letters, digits, - or _, got "${name}"`);
      await target.validate(input);
      const follow = command === 'plan' || values.follow === true || values.local === true;
      const renderer = new FollowRenderer(io.err);
      const result = await target.start(input, { follow, ...(name ? { name } : {}), onEvent: (e) => renderer.push(e) });
      if (!result.view) {
        io.err(`Started ${result.arn}\nFollow it with: ${program} status ${result.name} (or start --follow).`);
        if (json) printJson({ executionArn: result.arn, name: result.name });
        return EXIT.ok;
      }
      io.err('');
      for (const line of renderView(result.view)) io.err(line);
      if (command === 'plan' && result.view.execution.status === 'SUCCEEDED') {
        io.err('');
        for (const line of planLines(result.output)) io.err(line);
        io.err('Dry run: nothing was written. Start the job without dryRun to apply this plan.');
      }
      if (json) printJson({ ...result.view, ...(result.output !== undefined ? { output: result.output } : {}) });
      return exitCodeOf(result.view);
    }
    case 'status': {
      const target = await targetOf(values, io);
      await checkExecution(parsed.positionals[0]!, values);
      const view = await target.view(parsed.positionals[0]!);
      if (json) printJson(view);
      else io.out(`${renderView(view).join('\n')}\n`);
      return exitCodeOf(view);
    }
    case 'list': {
      const max = values.max === undefined ? 10 : Number(values.max);
      if (!Number.isInteger(max) || max < 1 || max > 100) throw new UsageError(`--max must be a whole number from 1 to 100, got "${values.max}"`);
      const target = await targetOf(values, io);
      const rows = await target.list(max);
      if (json) printJson(rows);
      else if (!rows.length) io.out(`No executions of ${target.description}.\n`);
      else io.out(`${rows.map((r) => `${r.startDate ?? ''}  ${r.status.padEnd(9)}  ${r.name}  ${r.job ?? '-'}\n    ${r.outcome}`).join('\n')}\n`);
      return EXIT.ok;
    }
    case 'janitor': {
      const target = await targetOf(values, io);
      const report = (await target.janitor(values['dry-run'] === true)) as { summary?: string } | undefined;
      if (json) printJson(report);
      else io.out(`${report?.summary ?? JSON.stringify(report, null, 2)}\n`);
      return EXIT.ok;
    }
  }
  throw new UsageError(`unknown command "${command}"`);
}

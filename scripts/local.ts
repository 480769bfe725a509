/**
 * `npm run local -- [--input FILE] [--params FILE] [--endpoint URL] [--json]`
 *
 * Runs the whole workflow — the same ASL file that deploys, each Task bound to its real Lambda
 * handler — against moto, the AWS emulator, over the real SDK wire protocol.
 *
 * - Without --endpoint: starts moto from .venv on a free 127.0.0.1 port, seeds a demo account and
 *   runs a job in it (fields of --input FILE are laid over the demo input); stops moto at the end.
 * - --params FILE: a JSON object of serverless.yml stage params (vpcId, outputBucket, endpointPolicy…),
 *   laid over serverless.yml's defaults (and, when seeded, over the demo account's network, buckets
 *   and role). The Lambdas get exactly the environment a deployment with these params would set
 *   (read from serverless.yml: scripts/lib/stage-params.ts).
 * - With --endpoint URL: uses that running emulator as it is (no seeding); --input and --params are required.
 * - --json: the final result as one JSON document on stdout; progress goes to stderr.
 * Exit codes: 0 execution succeeded, 1 execution failed, 2 bad usage or input.
 */
import './lib/node20.js';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { InvalidInputError, StageConfigError } from '../functions/shared/errors.js';
import { resolveJobInput } from '../functions/shared/job-input.js';
import { loadStage } from '../functions/shared/stage.js';
import { startMoto, type MotoServer } from './lib/moto.js';
import { POLICY_LEASES_TABLE_NAME, clientsFor, createJobEnis, demoJobInput, demoStageParams, seedDemoAccount } from './lib/seed.js';
import { functionEnvironment, readParamsFile, resolveParams } from './lib/stage-params.js';
import { loadLambdaHandlers, runWorkflow, stopJobIntegration, type WorkflowEvent, type WorkflowRun } from './lib/workflow.js';

const USAGE = 'usage: npm run local -- [--input FILE] [--params FILE] [--endpoint URL] [--json]';
const region = 'us-east-1';

class UsageError extends Error {}

/** How long a Wait state lasts in the seeded demo. */
const DEMO_WAIT_MS = 2000;

function readInput(file: string): Record<string, unknown> {
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

function parseCli() {
  try {
    const { values } = parseArgs({
      options: { input: { type: 'string' }, params: { type: 'string' }, endpoint: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (values.endpoint !== undefined) {
      if (!/^https?:\/\/[^\s/]+/.test(values.endpoint)) throw new UsageError(`--endpoint must be an http(s) URL, got "${values.endpoint}"`);
      if (values.input === undefined) throw new UsageError('--endpoint uses an emulator as it is, so --input FILE is required');
      if (values.params === undefined) throw new UsageError('--endpoint uses an emulator as it is, so --params FILE (its network, role and buckets) is required');
    }
    return values;
  } catch (err) {
    throw err instanceof UsageError ? err : new UsageError((err as Error).message);
  }
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** One line per state event, from the state's own output. */
function describeEvent(event: WorkflowEvent): string | undefined {
  const e = event as WorkflowEvent & { state?: { name: string; output?: any }; Error?: string; Cause?: unknown; retry?: { attempt: number } };
  const name = e.state?.name;
  switch (e.type) {
    case 'StateEntered':
      return `▶ ${name}`;
    case 'StateRetried':
      return `  ↻ ${name} retry ${e.retry?.attempt}`;
    case 'StateFailed':
      return `  ✖ ${name}: ${e.Error} ${readableCause(e.Cause)}`;
    case 'StateExited': {
      const out = e.state?.output;
      const detail = stateDetail(name!, out);
      return detail ? `  ✔ ${detail}` : undefined;
    }
    default:
      return undefined;
  }
}

function stateDetail(name: string, out: any): string | undefined {
  switch (name) {
    case 'ValidateNetwork':
      return out?.preflight
        ? `preflight: ${out.preflight.counts.passed} checks passed, ${out.preflight.counts.warn} warnings, ${out.preflight.counts.fail} failures (${out.preflight.awsCalls} AWS calls); job ${out.job.jobName}`
        : undefined;
    case 'PlanPolicies':
    case 'ApplyPolicies':
      return out?.policies
        ? `${name === 'PlanPolicies' ? 'plan' : 'applied'}: ${out.policies.changes.map((c: any) => `${c.action} ${c.target.resource} (+${c.diff.added.length}/-${c.diff.removed.length} statements)`).join('; ') || 'no policy to manage'}`
        : undefined;
    case 'SubmitJob':
      return out?.submission ? `job ${out.submission.jobArn}${out.submission.adopted ? ' (adopted)' : ''}, deadline ${out.submission.deadline}` : undefined;
    case 'PollStatus':
      return out?.poll ? `${out.poll.message} next: ${out.poll.next}${out.poll.next === 'wait' ? ` in ${out.poll.nextWaitSeconds} s` : ''}` : undefined;
    case 'StopJob':
      return out?.stopError ? `stop failed: ${out.stopError.Error}` : 'StopModelCustomizationJob sent';
    case 'CleanupEnis':
      return out?.cleanup?.summary ?? (out?.cleanupError ? `cleanup failed: ${out.cleanupError.Error}` : undefined);
    case 'RevokeGrants':
    case 'RevokeAfterSubmitFailed':
      return out?.revoke ? `grants: ${out.revoke.summary}` : out?.revokeError ? `revoke failed: ${out.revokeError.Error}` : undefined;
    case 'RollbackPolicies':
      return out?.rollback ? `restored ${out.rollback.restored.length}, deleted ${out.rollback.deleted.length}, left alone ${out.rollback.leftAlone.length}` : undefined;
    default:
      return undefined;
  }
}

/** Lambda reports errors as {"errorType","errorMessage"} JSON; show the message. */
function readableCause(cause: unknown): string {
  if (typeof cause !== 'string') return String(cause ?? '');
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    return parsed.errorMessage ?? cause;
  } catch {
    return cause;
  }
}

async function main(): Promise<number> {
  const cli = parseCli();
  const fileInput = cli.input !== undefined ? readInput(cli.input) : undefined;
  let fileParams: Record<string, string> = {};
  try {
    fileParams = cli.params !== undefined ? readParamsFile(cli.params) : {};
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  let moto: MotoServer | undefined;
  try {
    let endpoint = cli.endpoint;
    let input: Record<string, unknown>;
    let seeded = false;
    let account: Awaited<ReturnType<typeof seedDemoAccount>> | undefined;
    if (!endpoint) {
      log('Starting moto server (AWS emulator) on 127.0.0.1…');
      moto = await startMoto();
      endpoint = moto.endpoint;
      log(`moto listening on ${endpoint}; seeding a demo account (VPC, 3 subnets, S3 gateway endpoint, buckets, role, leftover ENIs)…`);
      account = await seedDemoAccount(clientsFor(endpoint, region), region);
      seeded = true;
      // moto never finishes training: keep the deadline and the waits short (and consistent), so the
      // demo reaches its deadline, stops the job and cleans up in about ten seconds of real time.
      input = demoJobInput(account, { maxJobDurationSeconds: 8, polling: { initialSeconds: 10, maxSeconds: 10, growthFactor: 1 }, ...fileInput });
    } else {
      input = fileInput!;
    }
    // The stage: serverless.yml's defaults, the demo account's resources, then --params.
    const params = resolveParams({ ...(account ? demoStageParams(account) : {}), ...fileParams });
    // The stack's own resources as the demo account has them (with --endpoint: create that table yourself).
    const environment = functionEnvironment(params, {
      accountId: account?.accountId ?? '123456789012',
      region,
      resources: { PolicyLeasesTable: POLICY_LEASES_TABLE_NAME },
    });

    // Validate before any AWS call: a bad stage or input is exit code 2 with the params or fields named.
    const stage = loadStage({ ...environment, AWS_REGION: region });
    resolveJobInput(input, stage, { id: 'arn:aws:states:::execution:local:validate', name: 'validate' });

    Object.assign(process.env, environment, {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'testing',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'testing',
      AWS_LAMBDA_LOG_LEVEL: process.env.AWS_LAMBDA_LOG_LEVEL ?? 'SILENT',
    });
    const handlers = await loadLambdaHandlers();
    const ec2 = new EC2Client({ region, endpoint });
    const submit = handlers.SubmitJob!;
    if (seeded) {
      // Stand-in for Bedrock (moto creates no ENIs for a job): after submission, create the two
      // network interfaces the service would, tagged as it tags them. Never part of a Lambda.
      handlers.SubmitJob = async (event) => {
        const out = (await submit(event)) as { jobArn: string };
        const job = (event as { job: { vpcConfig: { subnetIds: string[]; securityGroupIds: string[] } } }).job;
        const ids = await createJobEnis(ec2, out.jobArn, job.vpcConfig.subnetIds, job.vpcConfig.securityGroupIds);
        log(`  [stand-in for Bedrock, not part of the workflow] created the job's ENIs ${ids.join(', ')}`);
        return out;
      };
    }
    handlers.StopJob = stopJobIntegration();

    if (seeded) log(`Wait states last ${DEMO_WAIT_MS / 1000} s in the demo (on AWS, as long as the state machine says).`);
    const run = await runWorkflow({
      input,
      handlers,
      region,
      // The demo's polls are 10 s apart (the shortest a job may ask for); waiting 2 s keeps it short.
      ...(seeded ? { waitMs: DEMO_WAIT_MS } : {}),
      onEvent: (e) => {
        const line = describeEvent(e);
        if (line) log(line);
      },
    });
    report(run, seeded, cli.json, seeded ? await leftoversLine(ec2, account!.leftoverEnis) : undefined);
    return run.status === 'SUCCEEDED' ? 0 : 1;
  } finally {
    await moto?.stop();
  }
}

/** The last output of each state, from the event log (a failed execution has no output of its own). */
function lastOutputs(run: WorkflowRun): Record<string, any> {
  const out: Record<string, any> = {};
  for (const e of run.events as any[]) if (e.type === 'StateExited') out[e.state.name] = e.state.output;
  return out;
}

function report(run: WorkflowRun, seeded: boolean, json: boolean, leftovers?: string) {
  const output = run.output as any;
  const last = lastOutputs(run);
  log('');
  log(`Execution ${run.status} after ${run.states.length} state transitions (states visited: ${[...new Set(run.states)].join(', ')})`);
  const preflight = last.ValidateNetwork?.preflight;
  if (preflight) log(`  preflight   ${preflight.counts.passed} checks passed, ${preflight.counts.warn} warnings, ${preflight.counts.fail} failures, ${preflight.awsCalls} AWS calls`);
  const policies = last.ApplyPolicies?.policies ?? last.PlanPolicies?.policies;
  if (policies) log(`  policies    ${policies.changes.map((c: any) => `${c.action} ${c.target.resource}`).join('; ') || 'nothing to change'}${last.ApplyPolicies ? '' : ' (planned only)'}`);
  const submission = last.SubmitJob?.submission;
  const poll = last.PollStatus?.poll;
  if (submission) log(`  job         ${submission.jobArn}: ${poll?.status ?? 'not polled'} after ${poll?.pollCount ?? 0} polls`);
  const cleanup = last.CleanupEnis;
  if (cleanup) log(`  cleanup     ${cleanup.cleanup?.summary ?? `failed: ${cleanup.cleanupError?.Error} ${readableCause(cleanup.cleanupError?.Cause)}`}`);
  const revoke = last.RevokeGrants ?? last.RevokeAfterSubmitFailed;
  if (revoke) log(`  grants      ${revoke.revoke?.summary ?? `revoke failed: ${revoke.revokeError?.Error}`}`);
  if (leftovers) log(`  not ours    ${leftovers}`);
  if (run.status === 'SUCCEEDED') {
    log(output?.job?.dryRun ? 'Dry run: the plan is in the output; nothing was written.' : `Job ${output?.submission?.jobArn} completed.`);
  } else {
    log(`Error: ${run.error}`);
    log(`Cause: ${readableCause(run.cause)}`);
    if (seeded && run.error === 'JobDeadlineExceededError') {
      log(
        'This is the expected end of the demo: moto accepts the job but never finishes training, so the workflow\n' +
          'reached the job deadline, stopped the job (StopModelCustomizationJob), deleted its network interfaces,\n' +
          'and failed the execution, as it would on AWS. No completion was simulated.',
      );
    }
  }
  if (json) {
    const doc = run.status === 'SUCCEEDED' ? { status: run.status, output: run.output } : { status: run.status, error: run.error, cause: run.cause };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  }
}

/** Whether the seeded ENIs the workflow did not create are all still there. */
async function leftoversLine(ec2: EC2Client, leftovers: Record<string, string>): Promise<string> {
  const out = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'network-interface-id', Values: Object.values(leftovers) }] }));
  const live = new Set((out.NetworkInterfaces ?? []).map((e) => e.NetworkInterfaceId));
  return Object.entries(leftovers)
    .map(([what, id]) => `${id} (${what}): ${live.has(id) ? 'untouched' : 'GONE'}`)
    .join(', ');
}

main().then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof UsageError) {
      log(`${err.message}\n${USAGE}`);
      process.exit(2);
    }
    if (err instanceof StageConfigError) {
      log(`Invalid stage params (nothing was run):\n${err.problems.map((p) => `  - ${p}`).join('\n')}`);
      process.exit(2);
    }
    if (err instanceof InvalidInputError) {
      log(`Invalid input (nothing was run):\n${err.issues.map((i) => `  - ${i.field}: ${i.message}`).join('\n')}`);
      process.exit(2);
    }
    log(`local run failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);

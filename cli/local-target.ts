/**
 * The CLI's local target: the workflow run on this machine against moto (the AWS emulator), as
 * `npm run local` does — the same ASL file that deploys, each Task bound to its real Lambda handler,
 * the SDK clients reaching moto over the wire (local/workflow.ts).
 *
 * - Without `endpoint`: starts moto from .venv (creating .venv first when needed), seeds a demo account
 *   (local/seed.ts) and turns on the launcher's Bedrock stand-in (python/bedrock_standin.py),
 *   which moves the job like the service would for the chosen {@link Scenario}; stops moto at the end.
 * - With `endpoint`: uses that emulator as it is (no Python needed, no seeding, no stand-in).
 *
 * Every run is recorded as Step Functions would record it (its history, local/local-history.ts)
 * under `.local-run/executions/<name>.json`, so `status` and `list` work on local runs too.
 */
import '../local/node20.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { isExecutionOf } from '../functions/shared/arn.js';
import { buildExecutionView, type ExecutionView } from '../functions/shared/execution-view.js';
import { localExecutionArn, localStateMachineArn } from '../local/arns.js';
import type { MotoServer } from '../local/moto.js';
import { aslPath, projectRoot, serverlessPath } from '../local/paths.js';
import type { DemoAccount } from '../local/seed.js';
import type { StageParams } from '../local/stage-params.js';
import { HANDOVER_UNVERIFIED, isHandoverInput, verifiedHandoverJob } from './handover-job.js';
import { GATE_SCENARIOS, LOCAL_ACCOUNT, LOCAL_REGION, type Scenario } from './local-options.js';
import { TargetError, type ExecutionSummary, type Target } from './target.js';

export { LOCAL_REGION, SCENARIOS, type Scenario } from './local-options.js';
export { localStateMachineArn };

const NEEDS_REPOSITORY = '--local runs the workflow from the repository (its ASL file, Lambda sources and dev dependencies), not from an installed package: clone the repository and run npm ci there';

/** The local target works in the repository only: its ASL file and serverless.yml (a packed install has neither). */
export function requireRepository(): void {
  const missing = [aslPath, serverlessPath].find((file) => !existsSync(file));
  if (missing !== undefined) throw new TargetError(`${NEEDS_REPOSITORY} (no ${relative(projectRoot, missing)} in ${projectRoot})`);
}

/**
 * The engine of a local run (aws-local-stepfunctions, the handlers, moto, the demo account's seeding,
 * the AWS SDK clients): loaded by the commands that run something, not by `status` or `list`.
 */
async function engine() {
  const [workflow, seed, moto, stageParams, standIn, history, ec2, jobInput, stage] = await Promise.all([
    import('../local/workflow.js'),
    import('../local/seed.js'),
    import('../local/moto.js'),
    import('../local/stage-params.js'),
    import('../local/bedrock-standin.js'),
    import('../local/local-history.js'),
    import('@aws-sdk/client-ec2'),
    import('../functions/shared/job-input.js'),
    import('../functions/shared/stage.js'),
  ]).catch((err: unknown) => {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new TargetError(`${NEEDS_REPOSITORY} (${(err as Error).message.split('\n')[0]})`);
  });
  return { workflow, seed, moto, stageParams, standIn, history, ec2, jobInput, stage };
}
type Engine = Awaited<ReturnType<typeof engine>>;

/** A serverless.yml stage params file (JSON), checked against serverless.yml's params. */
export async function readParamsFile(file: string): Promise<StageParams> {
  return (await import('../local/stage-params.js')).readParamsFile(file);
}
/** Where local runs are recorded: `.local-run/executions/` (gitignored), or `$BVC_RUNS_DIR`. */
export const runsDir = (): string => process.env.BVC_RUNS_DIR ?? join(projectRoot, '.local-run', 'executions');

/** How long a Wait state lasts in the seeded demo (the state machine asks for at least 10 s). */
export const DEMO_WAIT_MS = 2000;
/** Seconds the stand-in takes to finish (or fail) the demo's job. */
export const DEMO_JOB_SECONDS = 6;
/** The longest WaitForJobEvent waits for the job's event in the demo before its safety-net check. */
export const DEMO_EVENT_WAIT_MS = 30_000;
/** Seconds the stand-in takes to make the gate's deployment Active, and to complete an evaluation job. */
export const DEMO_DEPLOYMENT_SECONDS = 2;
export const DEMO_EVALUATION_SECONDS = 3;

export interface LocalOptions {
  endpoint?: string;
  /** serverless.yml stage params laid over the defaults (and over the demo account's resources). */
  params?: StageParams;
  scenario?: Scenario;
  log: (line: string) => void;
  /** Milliseconds every Wait state lasts (default: DEMO_WAIT_MS when seeded; as the state machine says with an endpoint). */
  waitMs?: number;
}

/** What a local run records: enough to rebuild its {@link ExecutionView} later. */
interface RunRecord {
  execution: { arn: string; name: string; status: string; startDate: string; stopDate?: string };
  input: unknown;
  output?: unknown;
  history: HistoryEvent[];
}

/** The demo's job input for a scenario, with `overrides` (an --input file) laid over it. */
function scenarioInput(e: Engine, account: DemoAccount, scenario: Scenario, overrides: Record<string, unknown>): Record<string, unknown> {
  // Polls 10 s apart (the shortest a job may ask for); the demo's Wait states last DEMO_WAIT_MS.
  const polling = { initialSeconds: 10, maxSeconds: 10, growthFactor: 1 };
  // deadline: the stand-in holds the job, which reaches this deadline (8 s) and is stopped.
  const maxJobDurationSeconds = scenario === 'deadline' ? 8 : 600;
  // promote, reject, or an input that asks for the gate: the demo's Nova Micro fine-tuning job asking for the
  // evaluation gate (local/demo-evaluation.ts), so `{"evaluation": …}` alone is a whole input.
  if (GATE_SCENARIOS.includes(scenario) || overrides.evaluation !== undefined) {
    return e.seed.demoEvaluationJobInput(account, { maxJobDurationSeconds, polling, ...overrides });
  }
  return e.seed.demoJobInput(account, { maxJobDurationSeconds, polling, ...overrides });
}

/**
 * How the stand-in's models answer Converse in a scenario (local/bedrock-standin.ts StandInModels):
 * `reference`, the held-out record's referenceResponse (the stand-in judge scores it 1); `fixed`, one fixed
 * sentence (scored near 0). promote: the deployment (the custom model) answers `reference`, the base
 * model `fixed`; reject: the other way round. Every other scenario: as promote (the stand-in's default).
 */
export function standInAnswers(scenario: Scenario): { deployment: { answers: 'reference' | 'fixed' }; base: { answers: 'reference' | 'fixed' } } {
  return scenario === 'reject' ? { deployment: { answers: 'fixed' }, base: { answers: 'reference' } } : { deployment: { answers: 'reference' }, base: { answers: 'fixed' } };
}

/** Creates .venv (moto) when it is missing: only the seeded mode needs Python. */
function ensureVenv(log: (line: string) => void) {
  try {
    execFileSync(process.execPath, [join(projectRoot, 'scripts', 'ensure-venv.mjs')], { stdio: ['ignore', process.stderr, process.stderr] });
  } catch (err) {
    log(`Could not set up the Python environment for moto: ${(err as Error).message}`);
    throw err;
  }
}

export class LocalTarget implements Target {
  readonly description: string;
  /** Whether runs seed a demo account in an embedded emulator (no --endpoint). */
  get seeded(): boolean {
    return this.options.endpoint === undefined;
  }

  constructor(private readonly options: LocalOptions) {
    this.description = options.endpoint ? `the emulator at ${options.endpoint}` : 'a demo account in an embedded emulator';
  }

  /** Starts moto and seeds the demo account, or takes the given endpoint. */
  private async environment(e: Engine): Promise<{ endpoint: string; moto?: MotoServer; account?: DemoAccount }> {
    if (this.options.endpoint) return { endpoint: this.options.endpoint };
    const { log } = this.options;
    ensureVenv(log);
    log('Starting moto server (AWS emulator) on 127.0.0.1…');
    const moto = await e.moto.startMoto();
    try {
      log(`moto listening on ${moto.endpoint}; seeding a demo account (VPC, 3 subnets, S3 gateway endpoint, buckets, role, leftover ENIs)…`);
      const account = await e.seed.seedDemoAccount(e.seed.clientsFor(moto.endpoint, LOCAL_REGION), LOCAL_REGION);
      return { endpoint: moto.endpoint, moto, account };
    } catch (err) {
      await moto.stop();
      throw err;
    }
  }

  /** The stage: serverless.yml's defaults, the demo account's resources, then the given params. */
  private stageEnvironment(e: Engine, account: DemoAccount | undefined, functions?: string[]) {
    const params = e.stageParams.resolveParams({ ...(account ? e.seed.demoStageParams(account) : {}), ...this.options.params });
    return e.stageParams.functionEnvironment(
      params,
      { accountId: account?.accountId ?? LOCAL_ACCOUNT, region: LOCAL_REGION },
      undefined,
      functions,
    );
  }

  private useEmulator(endpoint: string, environment: Record<string, string>) {
    Object.assign(process.env, environment, {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'testing',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'testing',
      AWS_LAMBDA_LOG_LEVEL: process.env.AWS_LAMBDA_LOG_LEVEL ?? 'SILENT',
    });
  }

  /**
   * Checks the input against the stage before anything runs (InvalidInputError / StageConfigError
   * name the fields and params). Without an endpoint the demo account is not seeded yet, so the
   * fields an input file sets are checked for their shape alone (an unknown field, a bad value), before
   * moto starts; the run checks them against the demo's stage again once it is seeded.
   */
  async validate(input: Record<string, unknown>): Promise<void> {
    const e = await engine();
    if (!this.options.endpoint) {
      e.jobInput.checkJobInputShape(input);
      return;
    }
    const stage = e.stage.loadStage({ ...this.stageEnvironment(e, undefined), AWS_REGION: LOCAL_REGION });
    e.jobInput.resolveJobInput(input, stage, { id: localExecutionArn('validate', LOCAL_REGION), name: 'validate' });
  }

  async start(input: Record<string, unknown>, options: { follow: boolean; onEvent?: (event: HistoryEvent) => void; name?: string }) {
    const { log } = this.options;
    const e = await engine();
    const env = await this.environment(e);
    try {
      const scenario = this.options.scenario ?? 'complete';
      const jobInput = env.account ? scenarioInput(e, env.account, scenario, input) : input;
      const environment = this.stageEnvironment(e, env.account);
      const stage = e.stage.loadStage({ ...environment, AWS_REGION: LOCAL_REGION });
      e.jobInput.resolveJobInput(jobInput, stage, { id: localExecutionArn('validate', LOCAL_REGION), name: 'validate' });
      this.useEmulator(env.endpoint, environment);

      const handlers = await e.workflow.loadLambdaHandlers();
      if (env.account) {
        await this.standIn(e, env.endpoint, scenario);
        // Stand-in for Bedrock (moto creates no ENIs for a job): after submission, the two network
        // interfaces the service would create, tagged as it tags them. Never part of a Lambda.
        const ec2 = new e.ec2.EC2Client({ region: LOCAL_REGION, endpoint: env.endpoint });
        handlers.SubmitJob = e.seed.withJobEnis(handlers.SubmitJob!, ec2, (ids) =>
          log(`  [stand-in for Bedrock, not part of the workflow] created the job's ENIs ${ids.join(', ')}`),
        );
        log(`Wait states last ${DEMO_WAIT_MS / 1000} s in the demo (on AWS, as long as the state machine says).`);
      }

      const name = options.name ?? `local-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${Math.random().toString(36).slice(2, 6)}`;
      const arn = localExecutionArn(name, LOCAL_REGION);
      const startDate = new Date();
      const history = new e.history.LocalHistory({ arn, name, startDate });
      // The stand-in's job-state events reach job-events as the stack's EventBridge rule would deliver them.
      const events = env.account ? this.forwardJobEvents(e, env.endpoint) : undefined;
      let run;
      try {
        run = await e.workflow.runWorkflow({
          input: jobInput,
          executionName: name,
          handlers,
          region: LOCAL_REGION,
          ...(this.options.waitMs !== undefined ? { waitMs: this.options.waitMs } : env.account ? { waitMs: DEMO_WAIT_MS, eventWaitMs: DEMO_EVENT_WAIT_MS } : {}),
          onEvent: (event) => {
            for (const e of history.push(event)) options.onEvent?.(e);
          },
        });
      } finally {
        await events?.stop();
      }
      const record: RunRecord = {
        execution: { arn, name, status: run.status, startDate: startDate.toISOString(), stopDate: new Date().toISOString() },
        input: jobInput,
        ...(run.output !== undefined ? { output: run.output } : {}),
        history: history.events,
      };
      if (env.account) {
        for (const line of await receivedRequestLines(e, env.endpoint)) log(line);
        if (GATE_SCENARIOS.includes(scenario) || isObject(jobInput.evaluation)) {
          for (const line of await gateReportLines(e, env.endpoint, viewOf(record))) log(line);
        }
        log(`[demo account] ENIs that are not this job's: ${await leftoversLine(e, env.endpoint, env.account.leftoverEnis)}`);
      }
      mkdirSync(runsDir(), { recursive: true });
      writeFileSync(join(runsDir(), `${name}.json`), JSON.stringify(record));
      return { arn, name, view: viewOf(record), output: run.output };
    } finally {
      await env.moto?.stop();
    }
  }

  /** Stand-in for the stack's EventBridge rule on Bedrock's job-state events (local/workflow.ts forwardStandInEvents), logging each delivery. */
  private forwardJobEvents(e: Engine, endpoint: string): { stop: () => Promise<void> } {
    const { log } = this.options;
    return e.workflow.forwardStandInEvents(endpoint, {
      onDelivered: (event, result) =>
        log(`  [EventBridge stand-in] ${event['detail-type']} ${event.detail.jobStatus} → job-events: ${'released' in result ? 'released the waiting execution' : result.ignored}`),
    });
  }

  /**
   * Turns on the launcher's stand-in for Bedrock for every job of this (seeded) emulator, and for the
   * evaluation gate: deployments Active and evaluation jobs Completed after a few seconds, Converse
   * answering from the demo's held-out dataset as {@link standInAnswers} says for the scenario.
   */
  private async standIn(e: Engine, endpoint: string, scenario: Scenario) {
    const outcome = scenario === 'failure' ? 'fail' : scenario === 'deadline' ? 'hold' : 'complete';
    const answers = standInAnswers(scenario);
    await e.standIn.configureBedrockStandIn(endpoint, {
      enabled: true,
      default: { outcome, seconds: DEMO_JOB_SECONDS },
      deployment: { outcome: 'active', seconds: DEMO_DEPLOYMENT_SECONDS },
      evaluation: { outcome: 'complete', seconds: DEMO_EVALUATION_SECONDS },
      models: answers,
      evaluationDataset: `s3://${e.seed.DEMO_EVALUATION_BUCKET}/${e.seed.DEMO_HELD_OUT_KEY}`,
    });
    const what = {
      complete: `completes each job after ${DEMO_JOB_SECONDS} s`,
      failure: `fails each job after ${DEMO_JOB_SECONDS} s`,
      deadline: 'holds each job InProgress (the deadline stops it)',
      promote: `completes the job after ${DEMO_JOB_SECONDS} s; its custom model answers the held-out prompts with their reference answers, the base model with a fixed sentence`,
      reject: `completes the job after ${DEMO_JOB_SECONDS} s; its custom model answers the held-out prompts with a fixed sentence, the base model with their reference answers`,
    }[scenario];
    this.options.log(`[stand-in for Bedrock, not part of the workflow] scenario "${scenario}": the emulator ${what}.`);
    if (GATE_SCENARIOS.includes(scenario)) {
      this.options.log(`[stand-in for Bedrock] deployments Active after ${DEMO_DEPLOYMENT_SECONDS} s, evaluation jobs Completed after ${DEMO_EVALUATION_SECONDS} s, scored by the stand-in judge (token overlap with the reference answer, not Bedrock's judge).`);
    }
  }

  async view(execution: string): Promise<ExecutionView> {
    return viewOf(readRecord(execution));
  }

  async list(max: number): Promise<ExecutionSummary[]> {
    let files: string[] = [];
    try {
      files = readdirSync(runsDir()).filter((f) => f.endsWith('.json'));
    } catch {
      return [];
    }
    return files
      .map((f) => ({ f, t: statSync(join(runsDir(), f)).mtimeMs }))
      .sort((a, b) => b.t - a.t)
      .slice(0, max)
      .map(({ f }) => {
        const record = readRecord(f.replace(/\.json$/, ''));
        return summaryOf(viewOf(record), isHandoverInput(record.input) ? verifiedHandoverJob(record.history) ?? null : undefined);
      });
  }

  /** The janitor handler, run here against the emulator (seeded: the demo's leftover ENIs). */
  async janitor(dryRun: boolean): Promise<unknown> {
    const e = await engine();
    const env = await this.environment(e);
    try {
      const environment = this.stageEnvironment(e, env.account, ['janitor']);
      this.useEmulator(env.endpoint, environment);
      return await (await e.workflow.loadLambdaHandler('janitor'))({ dryRun });
    } finally {
      await env.moto?.stop();
    }
  }
}

/**
 * The CreateModelCustomizationJob requests the emulator received (as the stand-in for Bedrock recorded
 * them, local/bedrock-standin.ts), one line each: the type, the customization settings and the training
 * data as Bedrock would have seen them, or the ValidationException it answered.
 */
async function receivedRequestLines(e: Engine, endpoint: string): Promise<string[]> {
  const received = await e.standIn.standInCreateJobRequests(endpoint);
  return received.map(({ request, error }) => {
    const what = request
      ? JSON.stringify({
          jobName: request.jobName,
          customizationType: request.customizationType,
          ...(request.customizationConfig ? { customizationConfig: request.customizationConfig } : {}),
          trainingDataConfig: request.trainingDataConfig,
        })
      : '(not a JSON object)';
    return `[stand-in for Bedrock] CreateModelCustomizationJob received: ${what}${error ? ` refused: ${error}` : ''}`;
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The evaluation gate's end, as a person checks it after `--scenario promote|reject`: the verdict, both
 * models' scores per metric, the deployment's status as GetCustomModelDeployment answers now (Active after
 * promote; deleted, so not found, after reject), and the Provisioned Throughput requests the stand-in
 * recorded (the gate never sends one: none).
 */
async function gateReportLines(e: Engine, endpoint: string, view: ExecutionView): Promise<string[]> {
  const ev = view.evaluation;
  const lines = ['[evaluation gate]'];
  if (!ev) return [...lines, '  the gate did not run (the job did not complete, or the stage\'s evaluationGate is off)'];
  lines.push(`  verdict: ${ev.verdict ?? `none (${ev.error ?? `stopped at ${ev.next ?? '?'}`})`}${ev.message ? ` — ${ev.message}` : ''}`);
  for (const s of ev.scores) lines.push(`  ${s.metric}: custom model ${s.custom.toFixed(3)}, base model ${s.base.toFixed(3)}, gain ${s.gain >= 0 ? '+' : ''}${s.gain.toFixed(3)}`);
  const arn = ev.deployment?.arn;
  if (arn) {
    const { BedrockClient, GetCustomModelDeploymentCommand } = await import('@aws-sdk/client-bedrock');
    const bedrock = new BedrockClient({ region: LOCAL_REGION, endpoint });
    let now: string;
    try {
      const out = await bedrock.send(new GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: arn }));
      now = `${out.status ?? '?'}${out.status === 'Active' ? ' (kept: it serves the custom model on demand)' : ''}`;
    } catch (err) {
      if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
      now = 'deleted (GetCustomModelDeployment: ResourceNotFoundException)';
    }
    lines.push(`  deployment ${arn}: ${now}`);
  } else {
    lines.push('  deployment: none recorded');
  }
  const throughput = await e.standIn.standInRequests(endpoint, 'CreateProvisionedModelThroughput');
  lines.push(`  CreateProvisionedModelThroughput requests recorded by the stand-in: ${throughput.length}${throughput.length ? ' (the gate must never send one)' : ''}`);
  return lines;
}

/** Whether the seeded ENIs the workflow did not create are all still there. */
async function leftoversLine(e: Engine, endpoint: string, leftovers: Record<string, string>): Promise<string> {
  const ec2 = new e.ec2.EC2Client({ region: LOCAL_REGION, endpoint });
  const out = await ec2.send(new e.ec2.DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'network-interface-id', Values: Object.values(leftovers) }] }));
  const live = new Set((out.NetworkInterfaces ?? []).map((e) => e.NetworkInterfaceId));
  return Object.entries(leftovers)
    .map(([what, id]) => `${id} (${what}): ${live.has(id) ? 'untouched' : 'GONE'}`)
    .join(', ');
}

function readRecord(execution: string): RunRecord {
  if (execution.startsWith('arn:') && !isExecutionOf(execution, localStateMachineArn(LOCAL_REGION))) {
    throw new TargetError(`${execution} is not an execution of the local state machine ${localStateMachineArn(LOCAL_REGION)}`);
  }
  const name = execution.split(':').at(-1)!;
  if (name.length > 256 || !/^[\w.-]+$/.test(name)) throw new TargetError(`no local execution named ${execution}`);
  try {
    return JSON.parse(readFileSync(join(runsDir(), `${name}.json`), 'utf8')) as RunRecord;
  } catch {
    throw new TargetError(`no local execution named ${name} in ${runsDir()} (npm run local records each run there)`);
  }
}

function viewOf(record: RunRecord): ExecutionView {
  return buildExecutionView(record.history, record.execution);
}

/**
 * A run's line in `list`. `handoverJob`: for a hand-over (an input with `handover`), the job ResumeJob
 * verified, or null when it did not: the view's job would be the input's claim, never shown.
 */
export function summaryOf(view: ExecutionView, handoverJob?: string | null): ExecutionSummary {
  const job = handoverJob === undefined ? (view.job?.arn ?? view.job?.name) : (handoverJob ?? HANDOVER_UNVERIFIED);
  return {
    arn: view.execution.arn,
    name: view.execution.name,
    status: view.execution.status,
    ...(view.execution.startDate ? { startDate: view.execution.startDate } : {}),
    ...(job ? { job } : {}),
    ...(handoverJob !== undefined ? { handover: handoverJob ? ('verified' as const) : ('unverified' as const) } : {}),
    outcome: view.headline,
  };
}

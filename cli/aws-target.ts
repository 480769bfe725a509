/**
 * The CLI's target for a deployed stage: the stage's state machine (its ARN from the stack's
 * `StateMachineArn` output, or given), Step Functions' own API for executions and their history,
 * and the stage's janitor function.
 *
 * Calls, all documented Step Functions / CloudFormation / Lambda APIs: DescribeStacks (once, to find
 * the state machine and the janitor), StartExecution, GetExecutionHistory (newest first while
 * following, so each poll reads only the new events; `list`: one page of a hand-over's), DescribeExecution,
 * ListExecutions, Invoke.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import pLimit from 'p-limit';
import { executionArnOf, isExecutionOf } from '../functions/shared/arn.js';
import { buildExecutionView, type ExecutionView } from '../functions/shared/execution-view.js';
import { parseJson } from '../functions/shared/handover.js';
import { historyEvents, readHistory } from '../functions/shared/history.js';
import { checkJobInputShape, deriveJobName } from '../functions/shared/job-input.js';
import { readStateData } from '../functions/shared/job-state.js';
import { HANDOVER_HISTORY_PAGE, HANDOVER_UNVERIFIED, isHandoverInput, verifiedHandoverJob } from './handover-job.js';
import { readableCause } from './render.js';
import { TargetError, type ExecutionSummary, type StartOptions, type StartResult, type Target } from './target.js';

/** The service name of serverless.yml: stacks are `<service>-<stage>`, functions `<service>-<stage>-<key>`. */
export const SERVICE = 'bedrock-vpc-customization';

export { TargetError };

export interface AwsTargetOptions {
  region: string;
  stage?: string;
  stateMachineArn?: string;
  /** Milliseconds between two reads of a followed execution's history. */
  pollMs?: number;
  clients?: { sfn?: SFNClient; cloudformation?: CloudFormationClient; lambda?: LambdaClient };
  sleep?: (ms: number) => Promise<void>;
}

/** Events per page while following (newest first, to the first event already seen): the API's default page. */
const FOLLOW_PAGE_SIZE = 100;

const TERMINAL = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionTimedOut', 'ExecutionAborted']);

export class AwsTarget implements Target {
  readonly description: string;
  private readonly sfn: SFNClient;
  private readonly cloudformation: CloudFormationClient;
  private readonly lambda: LambdaClient;
  private stack?: Promise<{ stateMachineArn: string; janitor: string }>;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: AwsTargetOptions) {
    this.sfn = options.clients?.sfn ?? new SFNClient({ region: options.region });
    this.cloudformation = options.clients?.cloudformation ?? new CloudFormationClient({ region: options.region });
    this.lambda = options.clients?.lambda ?? new LambdaClient({ region: options.region });
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.description = options.stateMachineArn ?? `stage ${options.stage} in ${options.region}`;
  }

  /** The state machine and janitor of the stage: given, or read from the stack once. */
  private resolve(): Promise<{ stateMachineArn: string; janitor: string }> {
    this.stack ??= (async () => {
      const stage = this.options.stage;
      const janitor = `${SERVICE}-${stage ?? 'dev'}-janitor`;
      if (this.options.stateMachineArn) return { stateMachineArn: this.options.stateMachineArn, janitor };
      const stackName = `${SERVICE}-${stage}`;
      let outputs;
      try {
        const out = await this.cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
        outputs = out.Stacks?.[0]?.Outputs ?? [];
      } catch (err) {
        throw new TargetError(`Cannot read stack ${stackName} in ${this.options.region}: ${(err as Error).message} (deployed? right --stage/--region? or pass --state-machine-arn)`);
      }
      const arn = outputs.find((o) => o.OutputKey === 'StateMachineArn')?.OutputValue;
      if (!arn) throw new TargetError(`Stack ${stackName} has no StateMachineArn output: is it this project's stack?`);
      // The Framework's own output names the janitor's version ARN; its function name is the stable part.
      const janitorArn = outputs.find((o) => o.OutputKey === 'JanitorLambdaFunctionQualifiedArn')?.OutputValue;
      return { stateMachineArn: arn, janitor: janitorArn ? janitorArn.split(':')[6]! : janitor };
    })();
    return this.stack;
  }

  /**
   * An execution's ARN from its ARN or its name: an execution of the stage's state machine, never
   * another ARN (the CLI checked the form before any call; this checks whose execution it is).
   */
  private async executionArn(execution: string): Promise<string> {
    const { stateMachineArn } = await this.resolve();
    if (!execution.startsWith('arn:')) return executionArnOf(stateMachineArn, execution);
    if (!isExecutionOf(execution, stateMachineArn)) throw new TargetError(`${execution} is not an execution of ${this.description} (${stateMachineArn})`);
    return execution;
  }

  validate(input: Record<string, unknown>): void {
    checkJobInputShape(input);
  }

  async start(input: Record<string, unknown>, options: StartOptions): Promise<StartResult> {
    const { stateMachineArn } = await this.resolve();
    const out = await this.call('StartExecution', () =>
      this.sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input), ...(options.name ? { name: options.name } : {}) })),
    );
    let arn = out.executionArn!;
    if (!options.follow) return { arn, name: arn.split(':').at(-1)! };
    // Follow the execution and, when it hands the job over, its successor, to the job's end. What the
    // follow read is the whole history: the view is built from it, with one DescribeExecution.
    for (;;) {
      const history = await this.follow(arn, options.onEvent);
      const { view, output } = await this.describe(arn, history);
      if (view.outcome !== 'handed-over' || !view.job?.handedOverTo) {
        return { arn, name: view.execution.name, view, ...(view.outcome === 'completed' || view.outcome === 'dry-run' ? { output } : {}) };
      }
      // The successor's history starts with its own ExecutionStarted: the renderer shows it.
      arn = await this.executionArn(view.job.handedOverTo);
    }
  }

  /**
   * Passes each new history event of `arn` to `onEvent`, in order, until the execution ends. Each poll
   * reads newest first and stops at the first event already seen: a long history is read once.
   */
  private async follow(arn: string, onEvent?: (event: HistoryEvent) => void): Promise<HistoryEvent[]> {
    const all: HistoryEvent[] = [];
    let lastId = 0;
    for (;;) {
      const fresh: HistoryEvent[] = [];
      await this.call('GetExecutionHistory', async () => {
        for await (const event of historyEvents(this.sfn, arn, { newestFirst: true, pageSize: FOLLOW_PAGE_SIZE })) {
          if ((event.id ?? 0) <= lastId) break;
          fresh.push(event);
        }
      });
      fresh.reverse();
      for (const e of fresh) onEvent?.(e);
      all.push(...fresh);
      if (fresh.length) lastId = fresh.at(-1)!.id ?? lastId;
      if (fresh.some((e) => TERMINAL.has(e.type ?? ''))) return all;
      await this.sleep(this.options.pollMs ?? 5000);
    }
  }

  async view(execution: string): Promise<ExecutionView> {
    const arn = await this.executionArn(execution);
    const history = await this.call('GetExecutionHistory', () => readHistory(this.sfn, arn));
    return (await this.describe(arn, history)).view;
  }

  /** The execution's view from its `history`, and its output, with one DescribeExecution. */
  private async describe(arn: string, history: HistoryEvent[]): Promise<{ view: ExecutionView; output: unknown }> {
    const described = await this.call('DescribeExecution', () => this.sfn.send(new DescribeExecutionCommand({ executionArn: arn })));
    const view = buildExecutionView(history, {
      arn,
      name: described.name ?? arn.split(':').at(-1)!,
      ...(described.status ? { status: described.status } : {}),
      ...(described.startDate ? { startDate: described.startDate } : {}),
      ...(described.stopDate ? { stopDate: described.stopDate } : {}),
    });
    return { view, output: parseJson(described.output) };
  }

  /**
   * The newest executions: ListExecutions, then DescribeExecution of each (its output names the job
   * when it succeeded; its error tells the outcome). No history is read, but for a hand-over: its
   * input's job is a claim, so its job is the one ResumeJob verified, from the first page of its own
   * history (cli/handover-job.ts), or `hand-over (unverified)`.
   */
  async list(max: number): Promise<ExecutionSummary[]> {
    const { stateMachineArn } = await this.resolve();
    const listed = await this.call('ListExecutions', () => this.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: max })));
    const limit = pLimit(4);
    return Promise.all(
      (listed.executions ?? []).map((e) =>
        limit(async (): Promise<ExecutionSummary> => {
          const d = await this.call('DescribeExecution', () => this.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn! })));
          const input = parseJson(d.input) as { jobName?: string; handover?: { submission?: { jobArn?: string } } } | undefined;
          const output = readStateData(parseJson(d.output));
          // The job's ARN once submitted (a failed execution has no output: then the job's name, which
          // the input gives or ValidateNetwork derives from the execution). A hand-over's input names
          // a job it claims: only the job ResumeJob verified is shown.
          const handover = isHandoverInput(input);
          const verified = handover ? await this.verifiedHandoverJob(e.executionArn!) : undefined;
          const job = handover
            ? (verified ?? HANDOVER_UNVERIFIED)
            : (output?.submission?.jobArn ?? input?.jobName ?? deriveJobName({ id: e.executionArn!, name: e.name! }));
          const outcome =
            d.status === 'SUCCEEDED'
              ? (output?.poll?.message ?? (output?.job?.dryRun ? 'dry run: plan ready' : 'succeeded'))
              : d.status === 'RUNNING'
                ? 'running'
                : `${d.error ?? d.status}${d.cause ? `: ${readableCause(d.cause).slice(0, 160)}` : ''}`;
          return {
            arn: e.executionArn!,
            name: e.name!,
            status: e.status!,
            ...(e.startDate ? { startDate: new Date(e.startDate).toISOString() } : {}),
            ...(job ? { job } : {}),
            ...(handover ? { handover: verified ? ('verified' as const) : ('unverified' as const) } : {}),
            outcome,
          };
        }),
      ),
    );
  }

  /** The job ResumeJob verified for the hand-over `arn`: one page of its history, oldest first (ResumeJob is its first Task). */
  private async verifiedHandoverJob(arn: string): Promise<string | undefined> {
    const events = await this.call('GetExecutionHistory', async () => {
      const read: HistoryEvent[] = [];
      for await (const event of historyEvents(this.sfn, arn, { pageSize: HANDOVER_HISTORY_PAGE, maxPages: 1 })) read.push(event);
      return read;
    });
    return verifiedHandoverJob(events);
  }

  async janitor(dryRun: boolean): Promise<unknown> {
    const { janitor } = await this.resolve();
    const out = await this.call('Invoke', () =>
      this.lambda.send(new InvokeCommand({ FunctionName: janitor, Payload: new TextEncoder().encode(JSON.stringify(dryRun ? { dryRun: true } : {})) })),
    );
    const payload = out.Payload ? parseJson(new TextDecoder().decode(out.Payload)) : undefined;
    if (out.FunctionError) throw new TargetError(`The janitor ${janitor} failed: ${JSON.stringify(payload)}`);
    return payload;
  }

  /** An AWS call; its failure becomes a {@link TargetError} naming the call. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new TargetError(`${what} failed: ${(err as Error).name}: ${(err as Error).message}`);
    }
  }
}

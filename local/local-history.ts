/**
 * The history Step Functions would record for a local run (local/workflow.ts), built from the
 * engine's event log (aws-local-stepfunctions 3 `EventLog`), so that one code path
 * (functions/shared/execution-view.ts) reads a deployed execution's GetExecutionHistory and a local
 * run alike. Event types and details follow `HistoryEvent` of @aws-sdk/client-sfn (the
 * GetExecutionHistory response, reverseOrder false: ids increasing from 1).
 *
 * Mapping (engine event → Step Functions history events):
 * - ExecutionStarted → ExecutionStarted {input}
 * - StateEntered → `<Type>StateEntered` {name, input} (TaskStateEntered, ChoiceStateEntered, FailStateEntered…;
 *   the prefix is the state's Type in the ASL, loadDefinition())
 * - StateFailed of a Lambda Task (Resource `Fn::GetAtt: [<function>, Arn]`) → LambdaFunctionFailed {error, cause}
 *   (LambdaFunctionTimedOut for States.Timeout); of a service-integration Task → TaskFailed {resourceType,
 *   resource, error, cause} (TaskTimedOut for States.Timeout). StateFailed of a Fail, Choice… state: nothing
 *   (Step Functions records only the ExecutionFailed that follows).
 * - StateExited of a Task whose last attempt did not fail → LambdaFunctionSucceeded / TaskSucceeded (without
 *   output, see below), then `<Type>StateExited` {name, output}. Fail states have no exit.
 * - ExecutionSucceeded → ExecutionSucceeded {output}; ExecutionFailed → ExecutionFailed {error, cause};
 *   ExecutionTimeout → ExecutionTimedOut {error: States.Timeout}; ExecutionAborted → ExecutionAborted.
 *
 * Not reproduced (the engine does not report what they carry):
 * - LambdaFunctionScheduled / LambdaFunctionStarted and TaskScheduled / TaskStarted / TaskSubmitted: they carry
 *   the state's effective input (after InputPath/Parameters) and the function ARN; the engine reports only
 *   the raw state input. (HandOver's TaskScheduled, which resume-job reads, is scheduledHistory() in workflow.ts.)
 * - the `output` of LambdaFunctionSucceeded / TaskSucceeded (the result before ResultPath): the engine
 *   reports only the state's output after ResultPath, which is in `<Type>StateExited`.
 * - StateRetried and StateCaught have no history event of their own in Step Functions (a retry shows as a new
 *   Scheduled event, not reproduced; a catch as the StateExited after the failure).
 * - Map/Parallel iteration events (this workflow has neither), MapRunStarted…, ExecutionRedriven.
 * - `previousEventId` is the preceding event's id (Step Functions links some events to their cause instead).
 * - Input/output are never truncated here (`truncated: false`); a deployed execution truncates data over
 *   256 KiB, which execution-view copes with.
 */
import type { HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn';
import { loadDefinition, type WorkflowEvent, type WorkflowRun } from './workflow.js';

/** What the history needs to know about each state of the ASL. */
interface StateInfo {
  type: string;
  /** Lambda: a `Fn::GetAtt` Resource (the function of serverless.yml); service: an `arn:aws:states:::` integration. */
  task?: { kind: 'lambda' } | { kind: 'service'; resourceType: string; resource: string };
}

function stateInfo(): Map<string, StateInfo> {
  const out = new Map<string, StateInfo>();
  for (const [name, state] of Object.entries(loadDefinition().States)) {
    const type = String(state.Type);
    const resource = state.Resource;
    let task: StateInfo['task'];
    if (type === 'Task') {
      if (typeof resource === 'string') {
        // arn:aws:states:::aws-sdk:bedrock:stopModelCustomizationJob → aws-sdk:bedrock / stopModelCustomizationJob
        // arn:aws:states:::states:startExecution → states / startExecution (as Step Functions reports them)
        const spec = resource.replace(/^arn:aws[a-z-]*:states:::/, '');
        const cut = spec.lastIndexOf(':');
        task = { kind: 'service', resourceType: spec.slice(0, cut), resource: spec.slice(cut + 1) };
      } else {
        task = { kind: 'lambda' };
      }
    }
    out.set(name, { type, ...(task ? { task } : {}) });
  }
  return out;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value ?? null));
const data = { truncated: false };

/** Builds a Step Functions history from the engine's events, one {@link push} per engine event. */
export class LocalHistory {
  readonly execution: { arn: string; name: string; startDate?: Date };
  private readonly list: HistoryEvent[] = [];
  private readonly states = stateInfo();
  /** The engine type of the last event of the current state's visit (to tell a caught failure from a success). */
  private lastInVisit: string | undefined;

  constructor(execution: { arn: string; name: string; startDate?: Date }) {
    this.execution = execution;
  }

  /** Every event so far, in id order. */
  get events(): HistoryEvent[] {
    return [...this.list];
  }

  /** Records `event`; returns the Step Functions events it stands for (none for some, see the file's TSDoc). */
  push(event: WorkflowEvent): HistoryEvent[] {
    const timestamp = new Date(event.timestamp);
    const added: HistoryEvent[] = [];
    const add = (type: HistoryEventType, details: Partial<HistoryEvent> = {}) => {
      const id = this.list.length + 1;
      const e: HistoryEvent = { id, ...(id > 1 ? { previousEventId: id - 1 } : {}), timestamp, type, ...details };
      this.list.push(e);
      added.push(e);
    };
    switch (event.type) {
      case 'ExecutionStarted':
        add('ExecutionStarted', { executionStartedEventDetails: { input: text(event.input), inputDetails: data } });
        break;
      case 'ExecutionSucceeded':
        add('ExecutionSucceeded', { executionSucceededEventDetails: { output: text(event.output), outputDetails: data } });
        break;
      case 'ExecutionFailed':
        add('ExecutionFailed', { executionFailedEventDetails: { error: event.Error, cause: text(event.Cause) } });
        break;
      case 'ExecutionTimeout':
        add('ExecutionTimedOut', {
          executionTimedOutEventDetails: { error: 'States.Timeout', cause: 'The execution ran longer than the state machine\'s TimeoutSeconds.' },
        });
        break;
      case 'ExecutionAborted':
        add('ExecutionAborted', { executionAbortedEventDetails: {} });
        break;
      case 'StateEntered': {
        this.lastInVisit = event.type;
        add(`${this.typeOf(event.state.name, event.state.type)}StateEntered` as HistoryEventType, {
          stateEnteredEventDetails: { name: event.state.name, input: text(event.state.input), inputDetails: data },
        });
        break;
      }
      case 'StateFailed': {
        this.lastInVisit = event.type;
        const task = this.states.get(event.state.name)?.task;
        const details = { error: event.Error, cause: text(event.Cause) };
        const timedOut = event.Error === 'States.Timeout';
        if (task?.kind === 'lambda') {
          if (timedOut) add('LambdaFunctionTimedOut', { lambdaFunctionTimedOutEventDetails: details });
          else add('LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: details });
        } else if (task?.kind === 'service') {
          const where = { resourceType: task.resourceType, resource: task.resource };
          if (timedOut) add('TaskTimedOut', { taskTimedOutEventDetails: { ...where, ...details } });
          else add('TaskFailed', { taskFailedEventDetails: { ...where, ...details } });
        }
        break;
      }
      case 'StateRetried':
        this.lastInVisit = event.type;
        break;
      case 'StateCaught':
        this.lastInVisit = event.type;
        break;
      case 'StateExited': {
        const task = this.states.get(event.state.name)?.task;
        // A Task exits after a success (its last attempt), or after a caught failure (no success event).
        if (task && this.lastInVisit !== 'StateCaught') {
          if (task.kind === 'lambda') add('LambdaFunctionSucceeded', { lambdaFunctionSucceededEventDetails: {} });
          else add('TaskSucceeded', { taskSucceededEventDetails: { resourceType: task.resourceType, resource: task.resource } });
        }
        this.lastInVisit = event.type;
        add(`${this.typeOf(event.state.name, event.state.type)}StateExited` as HistoryEventType, {
          stateExitedEventDetails: { name: event.state.name, output: text(event.state.output), outputDetails: data },
        });
        break;
      }
      default:
        // Map/Parallel iteration events: this workflow has no Map or Parallel state.
        break;
    }
    return added;
  }

  private typeOf(name: string, reported: string): string {
    return this.states.get(name)?.type ?? reported;
  }
}

/** The history Step Functions would record for `run` (a finished local run). */
export function historyOf(run: WorkflowRun, execution: { arn: string; name: string; startDate?: Date }): HistoryEvent[] {
  const history = new LocalHistory(execution);
  for (const event of run.events) history.push(event);
  return history.events;
}

/**
 * Stand-in for Step Functions' callback service (`.waitForTaskToken`) in the local runner: the task
 * tokens of waiting tasks, and SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat answered as Step
 * Functions answers them. aws-local-stepfunctions has no task tokens, so the runner's WaitForJobEvent
 * handler ({@link waitForTaskTokenIntegration}) takes a token here, invokes the function with it and
 * waits until the token is released or the wait times out (`States.Timeout`, as Step Functions fails
 * a task whose TimeoutSeconds pass).
 *
 * `send` has the shape of an SDK client's: the job-events step logic gets this object as its `sfn`.
 * A token that is unknown or whose task has ended is `TaskTimedOut` (the SFN API's answer for a task
 * that is no longer waiting; `InvalidToken` for one that is not a token at all).
 */
import { randomBytes } from 'node:crypto';

interface Waiter {
  resolve: (output: unknown) => void;
  reject: (error: Error) => void;
}

/** An error as Step Functions names it (`States.Timeout`, `States.TaskFailed`). */
function named(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/** An error of the SFN API as the SDK raises it (a ServiceException: its code as `name`, `$metadata`, `$fault`). */
function apiError(name: string, message: string): Error {
  return Object.assign(named(name, message), { $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

export class LocalCallbacks {
  private readonly waiting = new Map<string, Waiter>();
  /** Tokens handed out, in order (tests read them). */
  readonly issued: string[] = [];
  /** Every SendTask* call received, in order, with its outcome. */
  readonly received: { command: string; token: string; outcome: 'released' | 'TaskTimedOut' | 'InvalidToken' }[] = [];

  /** A fresh token (Step Functions' are opaque, long base64 strings; this one is too). */
  newToken(): string {
    const token = `local-${randomBytes(48).toString('base64url')}`;
    this.issued.push(token);
    return token;
  }

  /** Waits for `token` to be released; rejects with `States.Timeout` after `timeoutMs`. */
  wait(token: string, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(token);
        reject(named('States.Timeout', `No callback for the task within ${timeoutMs} ms (its TimeoutSeconds)`));
      }, timeoutMs);
      this.waiting.set(token, {
        resolve: (output) => {
          clearTimeout(timer);
          resolve(output);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  /** Forgets a token nobody will wait for any more (its task failed). */
  cancel(token: string): void {
    this.waiting.get(token)?.reject(named('States.TaskFailed', 'the task failed before its callback'));
    this.waiting.delete(token);
  }

  /** SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat, by the command's class name and input. */
  async send(command: { constructor: { name: string }; input: Record<string, unknown> }): Promise<Record<string, never>> {
    const name = command.constructor.name;
    const token = String(command.input.taskToken ?? '');
    if (!token.startsWith('local-')) {
      this.received.push({ command: name, token, outcome: 'InvalidToken' });
      throw apiError('InvalidToken', 'Invalid Token');
    }
    const waiter = this.waiting.get(token);
    if (!waiter) {
      this.received.push({ command: name, token, outcome: 'TaskTimedOut' });
      throw apiError('TaskTimedOut', 'Task Timed Out');
    }
    if (name === 'SendTaskHeartbeatCommand') return {};
    this.waiting.delete(token);
    this.received.push({ command: name, token, outcome: 'released' });
    if (name === 'SendTaskSuccessCommand') waiter.resolve(JSON.parse(String(command.input.output)));
    else if (name === 'SendTaskFailureCommand') waiter.reject(named(String(command.input.error ?? 'States.TaskFailed'), String(command.input.cause ?? '')));
    else throw new Error(`LocalCallbacks cannot answer ${name}`);
    return {};
  }
}

/**
 * The `arn:aws:states:::lambda:invoke.waitForTaskToken` integration: a token is taken, the Payload's
 * `taskToken` (`$$.Task.Token` in the ASL) set to it, the function invoked with the Payload
 * (`invoke`), then the task waits for the token's release for `timeoutMs(payload)`.
 */
export function waitForTaskTokenIntegration(
  callbacks: LocalCallbacks,
  invoke: (payload: Record<string, unknown>) => Promise<unknown>,
  timeoutMs: (payload: Record<string, unknown>) => number,
) {
  return async (input: unknown) => {
    const { Payload } = input as { Payload: Record<string, unknown> };
    const token = callbacks.newToken();
    const payload = { ...Payload, taskToken: token };
    // Waiting before the invoke: a function that releases the token at once (the job already ended) is heard.
    const released = callbacks.wait(token, timeoutMs(payload));
    // It may time out while the invoke is still running: observed here, awaited below.
    released.catch(() => undefined);
    try {
      await invoke(payload);
    } catch (err) {
      // The invoke failed (the Task fails with its error): the token is no longer waited for.
      callbacks.cancel(token);
      throw err;
    }
    return (await released) as never;
  };
}

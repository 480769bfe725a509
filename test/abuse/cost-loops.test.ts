/**
 * Abuse: cost loops driven by input or a partial outage. Invariant: every path back to a status check
 * passes a Wait of at least the polling floor, and hand-overs cannot storm.
 *
 * Reported (issue 19): a failure of WaitForJobEvent other than its timeout (AccessDenied on the waits
 * table) went straight to PollStatus with no Wait: 301 status checks in 4.7 s; `handoverAfterEvents:
 * 100` is below the ~104 events the first check already costs: 25 executions in 24 s.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { MIN_POLL_SECONDS } from '../../functions/shared/job-state.js';
import { InvalidInputError } from '../../functions/shared/errors.js';
import { resolveJobInput } from '../../functions/shared/job-input.js';
import { loadDefinition, runWorkflow, runWorkflowChain } from '../../local/workflow.js';
import { EXECUTION, rawJob } from '../fixtures/job.js';
import { TEST_STAGE_PARAMS, setStage, testStage } from '../fixtures/stage.js';
import { mockHealthyAccount, mocks } from '../support/mock-account.js';
import { handlers, useRealHandlers } from '../support/state-machine.js';

useRealHandlers();

type State = { Type: string; Next?: string; Default?: string; End?: boolean; Choices?: { Next: string }[]; Catch?: { Next: string; ErrorEquals: string[] }[] };

/**
 * The edges of the ASL, as (from, to, how): Next, Default, each Choice, each Catch. A callback Task
 * (WaitForJobEvent) waits by itself when it succeeds or times out (its safety net), so those two edges
 * count as waits; its other Catches do not.
 */
function edges(states: Record<string, State>) {
  const out: { from: string; to: string; waits: boolean }[] = [];
  for (const [name, s] of Object.entries(states)) {
    const callback = (s as { Resource?: string }).Resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken';
    if (s.Next) out.push({ from: name, to: s.Next, waits: callback });
    if (s.Default) out.push({ from: name, to: s.Default, waits: false });
    for (const c of s.Choices ?? []) out.push({ from: name, to: c.Next, waits: false });
    for (const c of s.Catch ?? []) out.push({ from: name, to: c.Next, waits: callback && c.ErrorEquals.length === 1 && c.ErrorEquals[0] === 'States.Timeout' });
  }
  return out;
}

describe('no loop without a Wait', () => {
  it('every cycle of the ASL through PollStatus passes a Wait state (or the callback wait itself)', () => {
    const states = loadDefinition().States as unknown as Record<string, State>;
    // Remove Wait states and the waiting edges: what is left must reach PollStatus from PollStatus never.
    const graph = edges(states).filter((e) => !e.waits && states[e.from]!.Type !== 'Wait' && states[e.to]!.Type !== 'Wait');
    const reach = (start: string, over: typeof graph = graph) => {
      const seen = new Set<string>();
      const stack = over.filter((e) => e.from === start).map((e) => e.to);
      while (stack.length) {
        const next = stack.pop()!;
        if (seen.has(next)) continue;
        seen.add(next);
        stack.push(...over.filter((e) => e.from === next).map((e) => e.to));
      }
      return seen;
    };
    for (const check of ['PollStatus', 'ConfirmStopped', 'SubmitJob', 'DeploymentStatus', 'EvaluationStatus']) expect(reach(check).has(check), check).toBe(false);
    // The Waits on those paths never wait less than the floor.
    const waits = Object.entries(states).filter(([, s]) => s.Type === 'Wait');
    expect(waits.map(([n]) => n).sort()).toEqual(['QuotaWait', 'WaitAfterEventFailure', 'WaitForDeployment', 'WaitForEvaluations', 'WaitForJob', 'WaitForStop']);
    // The one loop without a Wait: GenerateResponses works a bounded chunk (about 600 s of Converse calls) per
    // iteration, and goes round again only through the progress check (GenerationState compares the done counts
    // with RecordGenerationCursor's): a chunk that answers nothing ends the loop in GenerationStalled.
    expect(reach('GenerateResponses').has('GenerateResponses')).toBe(true);
    const withoutProgressCheck = graph.filter((e) => !(e.from === 'GenerationState' && e.to === 'RecordGenerationCursor'));
    expect(reach('GenerateResponses', withoutProgressCheck).has('GenerateResponses')).toBe(false);
    expect(states.GenerationState!.Choices!.map((c) => c.Next)).toContain('GenerationStalled');
  });

  it('a wait that can never register (AccessDenied on the waits table) checks no faster than the polling floor', async () => {
    setStage({ ...TEST_STAGE_PARAMS, jobWait: 'event' });
    try {
      mockHealthyAccount([...Array<string>(5).fill('InProgress'), 'Completed']);
      const denied = Object.assign(new Error('User is not authorized to perform: dynamodb:PutItem'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
      mocks.dynamodb.on(PutItemCommand, { TableName: 'job-waits' }).rejects(denied);
      const waited: number[] = [];
      const run = await runWorkflow({
        input: rawJob(),
        handlers: handlers(),
        retryMs: 0,
        waitMs: 0,
        onEvent: (e) => {
          const event = e as { type: string; state?: { name: string; input?: { poll?: { fallbackWaitSeconds?: number; nextWaitSeconds?: number } } } };
          if (event.type === 'StateEntered' && event.state?.name === 'WaitAfterEventFailure') waited.push(event.state.input!.poll!.fallbackWaitSeconds!);
        },
      });
      expect(run.status).toBe('SUCCEEDED');
      // Every status check after the first came through a Wait of at least the floor.
      const checks = run.states.filter((s) => s === 'PollStatus').length;
      expect(waited).toHaveLength(checks - 1);
      for (const seconds of waited) expect(seconds).toBeGreaterThanOrEqual(MIN_POLL_SECONDS);
    } finally {
      setStage(TEST_STAGE_PARAMS);
    }
  });
});

describe('hand-overs cannot storm', () => {
  it('polling.handoverAfterEvents below the floor is refused before any AWS call, the field named', () => {
    for (const handoverAfterEvents of [100, 1_999]) {
      const error = (() => {
        try {
          resolveJobInput(rawJob({ polling: { handoverAfterEvents } }), testStage(), EXECUTION);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).issues.map((i) => i.field)).toContain('polling.handoverAfterEvents');
    }
  });

  it('at the lowest threshold, an execution lasts hundreds of status checks behind waits of the floor: no storm', async () => {
    mockHealthyAccount([...Array<string>(600).fill('InProgress'), 'Completed']);
    const runs = await runWorkflowChain({
      input: rawJob({ polling: { mode: 'poll', initialSeconds: MIN_POLL_SECONDS, maxSeconds: MIN_POLL_SECONDS, growthFactor: 1, handoverAfterEvents: 2_000 } }),
      handlers: handlers(),
      retryMs: 0,
      waitMs: 0,
    });
    expect(runs.at(-1)!.states.at(-1)).toBe('JobSucceeded');
    for (const run of runs.slice(0, -1)) {
      const checks = run.states.filter((s) => s === 'PollStatus').length;
      // ≥ 200 checks, each after a wait of ≥ 10 s: an execution lives at least ~33 minutes of real time.
      expect(checks).toBeGreaterThanOrEqual(200);
      expect(run.states.filter((s) => s === 'WaitForJob').length).toBeGreaterThanOrEqual(checks - 1);
    }
    expect(runs.length).toBeLessThanOrEqual(3);
  });
});

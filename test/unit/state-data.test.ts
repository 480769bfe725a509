/**
 * State outputs read with the state-data schemas of functions/shared/job-state.ts, by the execution
 * view (notify, the CLI's status) and the CLI's live renderer: each field on its own, a field without
 * its shape missing, never an exception.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { FollowRenderer, stateDetail } from '../../cli/render.js';
import { buildExecutionView } from '../../functions/shared/execution-view.js';
import { readStateData } from '../../functions/shared/job-state.js';

const JOB_ARN = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/abc123';
const submission = { jobArn: JOB_ARN, jobName: 'j', adopted: false, submittedAt: '2026-01-01T00:00:00Z', deadline: '2026-01-31T00:00:00Z' };
const poll = { status: 'InProgress', next: 'wait', nextWaitSeconds: 60, pollCount: 3, message: 'Job j is InProgress.' };

/** Values a state output might hold that are not what its readers take. */
const MALFORMED: unknown[] = [null, 'text', 42, [], { submission: 'x' }, { poll: { status: 7 } }, { preflight: { counts: null } }, { policies: { changes: [{}] } }, { dataset: { status: 1 } }, { rollback: { restored: 'all' } }, { cleanup: { summary: 3 } }];

describe('state data', () => {
  it('reads each field on its own: a malformed field is missing, the others stay', () => {
    const data = readStateData({ submission, poll: { status: 'Exploded' }, job: { jobName: 'j' }, extra: true });
    expect(data?.submission).toEqual(submission);
    expect(data?.poll).toBeUndefined();
    expect(data?.job?.jobName).toBe('j');
    expect(readStateData('not an object')).toBeUndefined();
    expect(readStateData([1])).toBeUndefined();
  });

  it('a submission whose job ARN is not a job ARN is missing', () => {
    expect(readStateData({ submission: { ...submission, jobArn: 'arn:aws:iam::123456789012:role/x' } })?.submission).toBeUndefined();
  });

  it('the CLI: every state line from a malformed output is missing or generic, never an exception', () => {
    const states = ['ValidateNetwork', 'ValidateDataset', 'PlanPolicies', 'ApplyPolicies', 'SubmitJob', 'WaitForJobEvent', 'PollStatus', 'StopJob', 'CleanupEnis', 'RevokeGrants', 'RollbackPolicies'];
    for (const state of states) {
      for (const output of MALFORMED) {
        const line = stateDetail(state, output);
        // StopJob's line says the stop was sent whatever its output; every other state shows nothing.
        expect(line, `${state} ${JSON.stringify(output)}`).toBe(state === 'StopJob' ? 'StopModelCustomizationJob sent' : undefined);
      }
    }
    expect(stateDetail('SubmitJob', { submission })).toBe(`job ${JOB_ARN}, deadline ${submission.deadline}`);
    expect(stateDetail('PollStatus', { poll })).toBe('Job j is InProgress. next: wait in 60 s');
  });

  it('the live renderer shows a status line only for a poll it can read', () => {
    const lines: string[] = [];
    const r = new FollowRenderer((l) => lines.push(l));
    const exited = (output: string): HistoryEvent => ({ id: 1, type: 'TaskStateExited', timestamp: new Date(0), stateExitedEventDetails: { name: 'PollStatus', output } });
    r.push(exited('{"poll": {"status": 12}}'));
    r.push(exited('not json'));
    expect(lines).toEqual([]);
    r.push(exited(JSON.stringify({ poll: { ...poll, statusDetails: { trainingDetails: { status: 'InProgress' } } } })));
    expect(lines).toEqual(['              ✔ Job j is InProgress. next: wait in 60 s', '              ◆ job InProgress — training InProgress']);
  });

  it('the execution view: malformed fields are missing from the view', () => {
    const history: HistoryEvent[] = [
      { id: 1, timestamp: new Date(0), type: 'ExecutionStarted', executionStartedEventDetails: { input: '{}' } },
      { id: 2, timestamp: new Date(0), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'PollStatus', input: '{}' } },
      {
        id: 3,
        timestamp: new Date(0),
        type: 'TaskStateExited',
        stateExitedEventDetails: { name: 'PollStatus', output: JSON.stringify({ submission, poll: { status: 'Nope' }, preflight: { counts: 'x' }, policies: { changes: 'x' }, cleanup: { summary: 'ENIs: none' } }) },
      },
    ];
    const view = buildExecutionView(history, { arn: 'arn:aws:states:us-east-1:123456789012:execution:sm:run', status: 'RUNNING' });
    expect(view.job).toEqual({ name: 'j', arn: JOB_ARN, deadline: submission.deadline });
    expect(view.preflight).toBeUndefined();
    expect(view.policies).toBeUndefined();
    expect(view.cleanup).toEqual({ summary: 'ENIs: none' });
    expect(view.headline).toBe('Execution run running, in PollStatus');
  });
});

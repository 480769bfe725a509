/**
 * Every EventBridge rule pattern of the packaged template, matched against AWS's documented sample
 * events (test/fixtures/events, verbatim; varied here only on deep copies) by AWS's own matcher,
 * event-ruler (test/support/event-ruler.ts). A pattern written against an invented event fails here.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureEvent, matchPatterns, type Pair } from '../support/event-ruler.js';
import { packageStage, type Resource } from '../support/package-stage.js';

let packaged: Awaited<ReturnType<typeof packageStage>>;
let rules: [string, Resource][];

beforeAll(async () => {
  packaged = await packageStage();
  rules = Object.entries(packaged.template.Resources).filter(([, r]) => r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern);
});
afterAll(() => rmSync(packaged.dir, { recursive: true, force: true }));

const targets = (rule: Resource) => JSON.stringify(rule.Properties.Targets);
const janitorRule = () => rules.find(([, r]) => targets(r).includes('JanitorLambdaFunction'))![1].Properties.EventPattern;
const jobEventsRule = () => rules.find(([, r]) => targets(r).includes('JobDasheventsLambdaFunction'))![1].Properties.EventPattern;
const reaperRule = () => rules.find(([, r]) => targets(r).includes('ReaperLambdaFunction'))![1].Properties.EventPattern;
const notifyRule = () => rules.find(([, r]) => targets(r).includes('NotifyLambdaFunction'))![1].Properties.EventPattern;
const uploadRule = () => rules.find(([, r]) => targets(r).includes('CustomizeModelStateMachine'))![1].Properties.EventPattern;

/** AWS's Bedrock sample with `detail.jobStatus` set (a deep copy). */
function jobEvent(jobStatus: string) {
  const event = fixtureEvent('bedrock-model-customization-job-state-change');
  event.detail.jobStatus = jobStatus;
  return event;
}

/** A state machine ARN as CloudFormation resolves `Ref: CustomizeModelStateMachine` (stage ci, eu-west-1). */
const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:bedrock-vpc-customization-ci-customize-model';

/** The reaper rule's pattern with `Ref: CustomizeModelStateMachine` resolved to {@link STATE_MACHINE_ARN}. */
function resolvedReaperRule() {
  const pattern = reaperRule();
  expect(pattern.detail.stateMachineArn).toEqual([{ Ref: 'CustomizeModelStateMachine' }]);
  return { ...pattern, detail: { ...pattern.detail, stateMachineArn: [STATE_MACHINE_ARN] } };
}

/** AWS's Step Functions sample with `detail.status` and `detail.stateMachineArn` set (a deep copy). */
function executionEvent(status: string, stateMachineArn = STATE_MACHINE_ARN) {
  const event = fixtureEvent('step-functions-execution-status-change');
  event.detail.status = status;
  event.detail.stateMachineArn = stateMachineArn;
  return event;
}

/** AWS's S3 "Object Created" sample with bucket and key set (a deep copy). */
function upload(bucket: string, key: string) {
  const event = fixtureEvent('s3-object-created');
  event.detail.bucket.name = bucket;
  event.resources = [`arn:aws:s3:::${bucket}`];
  event.detail.object.key = key;
  return event;
}

describe('EventBridge rules against AWS sample events (event-ruler)', () => {
  it('covers every rule with an event pattern: the janitor and job-events job-state rules, the reaper rule, the notify rule and the upload rule', () => {
    // A new rule must get its fixtures and cases here.
    expect(rules).toHaveLength(5);
    expect(jobEventsRule()).toBeDefined();
    expect(janitorRule()).toBeDefined();
    expect(reaperRule()).toBeDefined();
    expect(notifyRule()).toBeDefined();
    expect(uploadRule()).toBeDefined();
  });

  it('janitor rule: matches the documented Bedrock event in a terminal status, not in a running one', () => {
    const pattern = janitorRule();
    const cases: [string, boolean][] = [
      ['Completed', true],
      ['Failed', true],
      ['Stopped', true],
      ['InProgress', false],
      ['Stopping', false],
    ];
    const sample: Pair = { pattern, event: fixtureEvent('bedrock-model-customization-job-state-change') };
    const results = matchPatterns([sample, ...cases.map(([status]) => ({ pattern, event: jobEvent(status) }))]);
    expect(results[0], 'the sample as published (jobStatus Failed)').toBe(true);
    expect(Object.fromEntries(cases.map(([status], i) => [status, results[i + 1]]))).toEqual(Object.fromEntries(cases));
  });

  it("job-events rule: the janitor's job-state pattern (terminal statuses; its cases above and below), so a wait is released when the janitor sweeps", () => {
    expect(jobEventsRule()).toEqual(janitorRule());
    expect(matchPatterns([{ pattern: jobEventsRule(), event: fixtureEvent('bedrock-model-customization-job-state-change') }])).toEqual([true]);
  });

  it('janitor rule: the match rests on detail.jobStatus (a rule on detail.status would never fire)', () => {
    const pattern = janitorRule();
    const { jobStatus, ...rest } = pattern.detail as Record<string, unknown>;
    expect(jobStatus).toEqual(['Completed', 'Failed', 'Stopped']);
    const onStatus = { ...pattern, detail: { ...rest, status: jobStatus } };
    const terminal = ['Completed', 'Failed', 'Stopped'].map((s) => jobEvent(s));
    // The same check as above, with the pre-fix field name: no documented event matches it.
    expect(matchPatterns(terminal.map((event) => ({ pattern: onStatus, event })))).toEqual([false, false, false]);
    // And our rule does not match an event that lacks jobStatus.
    const noJobStatus = jobEvent('Completed');
    delete noJobStatus.detail.jobStatus;
    expect(matchPatterns([{ pattern, event: noJobStatus }])).toEqual([false]);
  });

  it("reaper rule: matches the documented Step Functions event of this state machine aborted, timed out or failed; nothing else", () => {
    const pattern = resolvedReaperRule();
    const cases: [string, Record<string, any>, boolean][] = [
      ['the sample (FAILED) for this state machine', executionEvent('FAILED'), true],
      ['ABORTED', executionEvent('ABORTED'), true],
      ['TIMED_OUT', executionEvent('TIMED_OUT'), true],
      ['SUCCEEDED (a hand-over execution ends so)', executionEvent('SUCCEEDED'), false],
      ['RUNNING', executionEvent('RUNNING'), false],
      ['FAILED, another state machine', executionEvent('FAILED', 'arn:aws:states:eu-west-1:123456789012:stateMachine:other'), false],
      ['the sample as published (its own state machine)', fixtureEvent('step-functions-execution-status-change'), false],
    ];
    const results = matchPatterns(cases.map(([, event]) => ({ pattern, event })));
    expect(Object.fromEntries(cases.map(([name], i) => [name, results[i]]))).toEqual(Object.fromEntries(cases.map(([name, , want]) => [name, want])));
  });

  it('notify rule: matches the documented Step Functions event of this state machine at every end (success included); nothing else', () => {
    const pattern = notifyRule();
    expect(pattern.detail.stateMachineArn).toEqual([{ Ref: 'CustomizeModelStateMachine' }]);
    const resolved = { ...pattern, detail: { ...pattern.detail, stateMachineArn: [STATE_MACHINE_ARN] } };
    const cases: [string, Record<string, any>, boolean][] = [
      ['SUCCEEDED', executionEvent('SUCCEEDED'), true],
      ['the sample (FAILED) for this state machine', executionEvent('FAILED'), true],
      ['ABORTED', executionEvent('ABORTED'), true],
      ['TIMED_OUT', executionEvent('TIMED_OUT'), true],
      ['RUNNING', executionEvent('RUNNING'), false],
      ['SUCCEEDED, another state machine', executionEvent('SUCCEEDED', 'arn:aws:states:eu-west-1:123456789012:stateMachine:other'), false],
      ['the sample as published (its own state machine)', fixtureEvent('step-functions-execution-status-change'), false],
    ];
    const results = matchPatterns(cases.map(([, event]) => ({ pattern: resolved, event })));
    expect(Object.fromEntries(cases.map(([name], i) => [name, results[i]]))).toEqual(Object.fromEntries(cases.map(([name, , want]) => [name, want])));
  });

  it('upload rule: matches the documented S3 event for a dataset key in the training bucket, nothing else', () => {
    const pattern = uploadRule();
    // Defaults of the stage params: trainingBucket, datasetKeyPattern `datasets/*.jsonl`.
    const cases: [string, Record<string, any>, boolean][] = [
      ['dataset key', upload('training-bucket', 'datasets/support.jsonl'), true],
      ['dataset key in a sub-folder (wildcard * crosses /)', upload('training-bucket', 'datasets/2026/a.jsonl'), true],
      ['the sample as published (other bucket, example-key)', fixtureEvent('s3-object-created'), false],
      ['dataset key in another bucket', upload('amzn-s3-demo-bucket1', 'datasets/support.jsonl'), false],
      ['other prefix', upload('training-bucket', 'raw/support.jsonl'), false],
      ['other extension', upload('training-bucket', 'datasets/support.json'), false],
      ['suffix after .jsonl', upload('training-bucket', 'datasets/support.jsonl.tmp'), false],
      ['prefix is case-sensitive', upload('training-bucket', 'Datasets/support.jsonl'), false],
      [
        'Object Deleted of a dataset key',
        (() => {
          const e = upload('training-bucket', 'datasets/support.jsonl');
          e['detail-type'] = 'Object Deleted';
          return e;
        })(),
        false,
      ],
    ];
    const results = matchPatterns(cases.map(([, event]) => ({ pattern, event })));
    expect(Object.fromEntries(cases.map(([name], i) => [name, results[i]]))).toEqual(Object.fromEntries(cases.map(([name, , want]) => [name, want])));
  });

  it('the matcher is real: it tells a wrong bucket name in the pattern from the right one', () => {
    const pattern = uploadRule();
    const wrong = { ...pattern, detail: { ...pattern.detail, bucket: { name: ['not-the-bucket'] } } };
    const event = upload('training-bucket', 'datasets/support.jsonl');
    expect(matchPatterns([{ pattern, event }, { pattern: wrong, event }])).toEqual([true, false]);
  });
});

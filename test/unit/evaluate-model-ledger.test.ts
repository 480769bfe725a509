/**
 * The job ledger's record of the evaluation gate (shared/ledger.ts recordEvaluation, `read().evaluation`):
 * conditional on the claimed supervisor of the chain's job, names, tokens, ARNs and the verdict written
 * once, attributes that DynamoDB does not reserve. Over the in-memory DynamoDB that evaluates the
 * ledger's expressions (test/support/ledger.ts).
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REAPER_SUPERVISOR, type Ledger } from '../../functions/shared/ledger.js';
import { emulatedLedger, ledgerWith } from '../support/ledger.js';

const dynamodb = mockClient(DynamoDBClient);
afterEach(() => dynamodb.reset());

const FIRST = 'arn:aws:states:us-east-1:123456789012:execution:sm:run-1';
const NEXT = 'arn:aws:states:us-east-1:123456789012:execution:sm:run-1-h1';
const OTHER = 'arn:aws:states:us-east-1:123456789012:execution:sm:run-other';
const JOB_ARN = 'arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.nova-lite-v1:0:300k/abcdefghijkl';
const DEPLOYMENT = 'arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/dep123456789';

/**
 * Words of DynamoDB's reserved list an evaluation attribute could have been named (the whole list, not
 * case-sensitive: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ReservedWords.html).
 * EVAL is one: the attributes only start with it.
 */
const RESERVED = ['BASE', 'EVAL', 'EVALUATE', 'DELETE', 'CREATE', 'DATA', 'DURATION', 'CURRENT', 'COUNT'];

let ledger: Ledger;
beforeEach(async () => {
  ({ ledger } = emulatedLedger(dynamodb));
  await ledgerWith(ledger, [{ jobName: 'job-1', owner: FIRST, jobArn: JOB_ARN }]);
});

describe('recordEvaluation', () => {
  it('is absent until the gate records something, then read returns it', async () => {
    expect((await ledger.read('job-1'))?.evaluation).toBeUndefined();
    expect(await ledger.recordEvaluation('job-1', { owner: FIRST, self: FIRST }, { deploymentName: 'dep-1', deploymentClientRequestToken: 'tok-1' })).toBe(true);
    expect((await ledger.read('job-1'))?.evaluation).toEqual({ deploymentName: 'dep-1', deploymentClientRequestToken: 'tok-1', jobs: {} });
    expect(await ledger.recordEvaluation('job-1', { owner: FIRST, self: FIRST }, { deploymentArn: DEPLOYMENT, jobs: { custom: { name: 'c', token: 'tc' } } })).toBe(true);
    expect(await ledger.recordEvaluation('job-1', { owner: FIRST, self: FIRST }, { jobs: { custom: { name: 'c', token: 'tc', arn: 'arn-c' } }, verdict: 'reject', deploymentDeleted: true })).toBe(true);
    expect((await ledger.read('job-1'))?.evaluation).toEqual({
      deploymentName: 'dep-1',
      deploymentClientRequestToken: 'tok-1',
      deploymentArn: DEPLOYMENT,
      jobs: { custom: { name: 'c', token: 'tc', arn: 'arn-c' } },
      verdict: 'reject',
      deploymentDeleted: true,
    });
  });

  it('only the claimed supervisor of the chain writes', async () => {
    expect(await ledger.recordEvaluation('job-1', { owner: FIRST, self: OTHER }, { deploymentName: 'x' })).toBe(false);
    expect(await ledger.recordEvaluation('job-1', { owner: OTHER, self: FIRST }, { deploymentName: 'x' })).toBe(false);
    expect(await ledger.recordEvaluation('job-2', { owner: FIRST, self: FIRST }, { deploymentName: 'x' })).toBe(false);
    expect(await ledger.designate('job-1', FIRST, NEXT, 1)).toBe(true);
    // Designated, not claimed yet: neither the predecessor nor the successor.
    expect(await ledger.recordEvaluation('job-1', { owner: FIRST, self: FIRST }, { deploymentName: 'x' })).toBe(false);
    expect(await ledger.recordEvaluation('job-1', { owner: FIRST, self: NEXT }, { deploymentName: 'x' })).toBe(false);
    expect(await ledger.claim('job-1', NEXT, FIRST, JOB_ARN)).toBe(true);
    expect(await ledger.recordEvaluation('job-1', { owner: FIRST, self: NEXT }, { deploymentName: 'x' })).toBe(true);
    expect((await ledger.read('job-1'))?.evaluation?.deploymentName).toBe('x');
  });

  it('writes names, tokens, ARNs and the verdict once (the same value again is a no-op)', async () => {
    const who = { owner: FIRST, self: FIRST };
    expect(await ledger.recordEvaluation('job-1', who, { deploymentName: 'dep-1', deploymentArn: DEPLOYMENT, verdict: 'promote' })).toBe(true);
    expect(await ledger.recordEvaluation('job-1', who, { deploymentName: 'dep-1', deploymentArn: DEPLOYMENT, verdict: 'promote' })).toBe(true);
    expect(await ledger.recordEvaluation('job-1', who, { deploymentName: 'dep-2' })).toBe(false);
    expect(await ledger.recordEvaluation('job-1', who, { deploymentArn: DEPLOYMENT.replace('dep', 'xyz') })).toBe(false);
    expect(await ledger.recordEvaluation('job-1', who, { verdict: 'reject' })).toBe(false);
    expect((await ledger.read('job-1'))?.evaluation).toMatchObject({ deploymentName: 'dep-1', deploymentArn: DEPLOYMENT, verdict: 'promote' });
  });

  it('the reaper, once it took the job over, records as its supervisor', async () => {
    await ledger.recordEvaluation('job-1', { owner: FIRST, self: FIRST }, { deploymentArn: DEPLOYMENT });
    expect(await ledger.reap('job-1', FIRST)).toBe(true);
    expect(await ledger.recordEvaluation('job-1', { owner: FIRST, self: FIRST }, { deploymentDeleted: true })).toBe(false);
    expect(await ledger.recordEvaluation('job-1', { owner: FIRST, self: REAPER_SUPERVISOR }, { deploymentDeleted: true })).toBe(true);
  });

  it('names no DynamoDB reserved word in its expressions', async () => {
    await ledger.recordEvaluation('job-1', { owner: FIRST, self: FIRST }, { deploymentName: 'd', deploymentClientRequestToken: 't', deploymentArn: DEPLOYMENT, jobs: { custom: { name: 'c', token: 'tc', arn: 'a' }, base: { name: 'b', token: 'tb', arn: 'a2' } }, verdict: 'reject', deploymentDeleted: true });
    const update = dynamodb.commandCalls(UpdateItemCommand).at(-1)!.args[0].input;
    const names = `${update.UpdateExpression} ${update.ConditionExpression}`.match(/(?<![:#\w])[A-Za-z_][A-Za-z0-9_]*/g)!.filter((w) => !['SET', 'AND', 'OR', 'attribute_not_exists'].includes(w));
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) expect(RESERVED).not.toContain(name.toUpperCase());
    expect(names.filter((n) => n.startsWith('eval')).length).toBeGreaterThan(10);
  });
});

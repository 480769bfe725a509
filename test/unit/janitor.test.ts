import { BedrockClient, GetModelCustomizationJobCommand, ResourceNotFoundException, AccessDeniedException } from '@aws-sdk/client-bedrock';
import {
  CreateTagsCommand,
  DeleteNetworkInterfaceCommand,
  DescribeNetworkInterfacesCommand,
  EC2Client,
  type NetworkInterface,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { FIRST_SEEN_TAG, MAX_CONCURRENCY, sweep, type JanitorConfig } from '../../functions/janitor/janitor.js';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG } from '../../functions/shared/bedrock-enis.js';

const ec2 = mockClient(EC2Client);
const bedrock = mockClient(BedrockClient);
afterEach(() => {
  ec2.reset();
  bedrock.reset();
});

const NOW = new Date('2026-11-28T12:00:00Z');
const HOUR = 3600_000;
const config: JanitorConfig = { graceSeconds: 24 * 3600, dryRun: false, concurrency: MAX_CONCURRENCY };
const deps = () => ({ ec2: new EC2Client({}), bedrock: new BedrockClient({}), now: () => NOW });
const jobArn = (n: number) => `arn:aws:bedrock:us-east-1:123456789012:model-customization-job/job-${n}`;

type JobState = 'InProgress' | 'Stopping' | 'Completed' | 'Failed' | 'Stopped' | 'NotFound' | 'Denied';
interface EniSpec {
  id: string;
  managed: 'true' | 'false' | 'absent';
  job: number | null;
  status: 'available' | 'in-use' | 'attaching';
  firstSeen: 'none' | 'young' | 'old';
}

function toEni(spec: EniSpec): NetworkInterface {
  const tags = [];
  if (spec.managed !== 'absent') tags.push({ Key: BEDROCK_MANAGED_TAG, Value: spec.managed });
  if (spec.job !== null) tags.push({ Key: BEDROCK_JOB_ARN_TAG, Value: jobArn(spec.job) });
  if (spec.firstSeen !== 'none') {
    tags.push({ Key: FIRST_SEEN_TAG, Value: new Date(NOW.getTime() - (spec.firstSeen === 'old' ? 48 : 1) * HOUR).toISOString() });
  }
  return { NetworkInterfaceId: spec.id, Status: spec.status, TagSet: tags };
}

/** Mocks an account; DescribeNetworkInterfaces ignores filters (worst case: the code must re-check tags). */
function mockAccount(enis: EniSpec[], jobs: Record<number, JobState>, pageSize = 1000) {
  const all = enis.map(toEni);
  ec2.on(DescribeNetworkInterfacesCommand).callsFake((input: { NextToken?: string }) => {
    const start = Number(input.NextToken ?? 0);
    const page = all.slice(start, start + pageSize);
    return { NetworkInterfaces: page, ...(start + pageSize < all.length ? { NextToken: String(start + pageSize) } : {}) };
  });
  bedrock.on(GetModelCustomizationJobCommand).callsFake((input: { jobIdentifier: string }) => {
    const n = Number(input.jobIdentifier.split('-').at(-1));
    const state = jobs[n] ?? 'NotFound';
    if (state === 'NotFound') throw new ResourceNotFoundException({ message: 'not found', $metadata: {} });
    if (state === 'Denied') throw new AccessDeniedException({ message: 'denied', $metadata: {} });
    return { status: state };
  });
  let inFlight = 0;
  const stats = { maxInFlight: 0 };
  ec2.on(DeleteNetworkInterfaceCommand).callsFake(async () => {
    inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 1));
    inFlight--;
    return {};
  });
  ec2.on(CreateTagsCommand).resolves({});
  return stats;
}

const deletedIds = () => ec2.commandCalls(DeleteNetworkInterfaceCommand).map((c) => c.args[0].input.NetworkInterfaceId);

describe('janitor sweep', () => {
  it('deletes available ENIs of terminal jobs and old unknown ones; keeps the rest with a reason', async () => {
    mockAccount(
      [
        { id: 'eni-done', managed: 'true', job: 1, status: 'available', firstSeen: 'none' },
        { id: 'eni-failed', managed: 'true', job: 2, status: 'available', firstSeen: 'none' },
        { id: 'eni-running', managed: 'true', job: 3, status: 'available', firstSeen: 'none' },
        { id: 'eni-attached', managed: 'true', job: 1, status: 'in-use', firstSeen: 'none' },
        { id: 'eni-unknown-new', managed: 'true', job: 9, status: 'available', firstSeen: 'none' },
        { id: 'eni-unknown-young', managed: 'true', job: null, status: 'available', firstSeen: 'young' },
        { id: 'eni-unknown-old', managed: 'true', job: 9, status: 'available', firstSeen: 'old' },
        { id: 'eni-not-ours', managed: 'absent', job: 1, status: 'available', firstSeen: 'old' },
      ],
      { 1: 'Completed', 2: 'Failed', 3: 'InProgress' },
    );
    const report = await sweep({}, config, deps());
    expect(deletedIds().sort()).toEqual(['eni-done', 'eni-failed', 'eni-unknown-old']);
    expect(report.deleted.sort()).toEqual(['eni-done', 'eni-failed', 'eni-unknown-old']);
    expect(report.scanned).toBe(7);
    expect(report.jobsLookedUp).toBe(4);
    expect(report.kept).toEqual(
      expect.arrayContaining([
        { networkInterfaceId: 'eni-running', reason: 'job-running', detail: 'InProgress' },
        { networkInterfaceId: 'eni-attached', reason: 'not-available', detail: 'in-use' },
        { networkInterfaceId: 'eni-unknown-new', reason: 'unknown-job-first-seen-now' },
        expect.objectContaining({ networkInterfaceId: 'eni-unknown-young', reason: 'unknown-job-within-grace' }),
      ]),
    );
    expect(report.marked).toEqual(['eni-unknown-new']);
    expect(ec2).toHaveReceivedCommandWith(CreateTagsCommand, {
      Resources: ['eni-unknown-new'],
      Tags: [{ Key: FIRST_SEEN_TAG, Value: NOW.toISOString() }],
    });
  });

  it('asks Bedrock once per distinct job and pages through every ENI', async () => {
    const enis: EniSpec[] = Array.from({ length: 2500 }, (_, i) => ({
      id: `eni-${i}`,
      managed: 'true',
      job: i % 5,
      status: 'available',
      firstSeen: 'none',
    }));
    mockAccount(enis, { 0: 'Completed', 1: 'Completed', 2: 'Stopped', 3: 'InProgress', 4: 'Failed' }, 1000);
    const report = await sweep({}, config, deps());
    expect(ec2).toHaveReceivedCommandTimes(DescribeNetworkInterfacesCommand, 3);
    expect(ec2).toHaveReceivedCommandWith(DescribeNetworkInterfacesCommand, { MaxResults: 1000 });
    expect(bedrock).toHaveReceivedCommandTimes(GetModelCustomizationJobCommand, 5);
    expect(report.deleted).toHaveLength(2000);
  });

  it('keeps at most 10 deletions in flight', async () => {
    const enis: EniSpec[] = Array.from({ length: 200 }, (_, i) => ({ id: `eni-${i}`, managed: 'true', job: 1, status: 'available', firstSeen: 'none' }));
    const stats = mockAccount(enis, { 1: 'Completed' });
    await sweep({}, { ...config, concurrency: 50 }, deps());
    expect(stats.maxInFlight).toBeGreaterThan(1);
    expect(stats.maxInFlight).toBeLessThanOrEqual(10);
  });

  it('dry run reports what it would delete and writes nothing', async () => {
    mockAccount(
      [
        { id: 'eni-done', managed: 'true', job: 1, status: 'available', firstSeen: 'none' },
        { id: 'eni-unknown', managed: 'true', job: null, status: 'available', firstSeen: 'none' },
      ],
      { 1: 'Completed' },
    );
    const report = await sweep({}, { ...config, dryRun: true }, deps());
    expect(report.wouldDelete).toEqual(['eni-done']);
    expect(report.deleted).toEqual([]);
    expect(ec2).not.toHaveReceivedCommand(DeleteNetworkInterfaceCommand);
    expect(ec2).not.toHaveReceivedCommand(CreateTagsCommand);
  });

  it('keeps ENIs whose job look-up fails, and reports delete failures without throwing', async () => {
    mockAccount(
      [
        { id: 'eni-denied', managed: 'true', job: 1, status: 'available', firstSeen: 'old' },
        { id: 'eni-busy', managed: 'true', job: 2, status: 'available', firstSeen: 'none' },
        { id: 'eni-gone', managed: 'true', job: 2, status: 'available', firstSeen: 'none' },
      ],
      { 1: 'Denied', 2: 'Completed' },
    );
    ec2.on(DeleteNetworkInterfaceCommand, { NetworkInterfaceId: 'eni-busy' }).rejects(
      Object.assign(new Error('in use'), { name: 'InvalidNetworkInterface.InUse', $metadata: {} }),
    );
    ec2.on(DeleteNetworkInterfaceCommand, { NetworkInterfaceId: 'eni-gone' }).rejects(
      Object.assign(new Error('gone'), { name: 'InvalidNetworkInterfaceID.NotFound', $metadata: {} }),
    );
    const report = await sweep({}, config, deps());
    expect(report.deleted).toEqual([]);
    expect(report.alreadyGone).toEqual(['eni-gone']);
    expect(report.kept).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ networkInterfaceId: 'eni-denied', reason: 'job-lookup-failed' }),
        expect.objectContaining({ networkInterfaceId: 'eni-busy', reason: 'delete-failed' }),
      ]),
    );
  });

  it('limits the sweep to one job when the Bedrock event names it', async () => {
    mockAccount([{ id: 'eni-a', managed: 'true', job: 1, status: 'available', firstSeen: 'none' }], { 1: 'Stopped' });
    await sweep({ jobArn: jobArn(1) }, config, deps());
    expect(ec2).toHaveReceivedCommandWith(DescribeNetworkInterfacesCommand, {
      Filters: [
        { Name: `tag:${BEDROCK_MANAGED_TAG}`, Values: ['true'] },
        { Name: `tag:${BEDROCK_JOB_ARN_TAG}`, Values: [jobArn(1)] },
      ],
    });
  });
});

describe('janitor safety (property)', () => {
  const eniArb = fc.record({
    managed: fc.constantFrom<'true' | 'false' | 'absent'>('true', 'true', 'true', 'false', 'absent'),
    job: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
    status: fc.constantFrom<'available' | 'in-use' | 'attaching'>('available', 'available', 'in-use', 'attaching'),
    firstSeen: fc.constantFrom<'none' | 'young' | 'old'>('none', 'young', 'old'),
  });
  const jobsArb = fc.array(fc.constantFrom<JobState>('InProgress', 'Stopping', 'Completed', 'Failed', 'Stopped', 'NotFound', 'Denied'), {
    minLength: 6,
    maxLength: 6,
  });

  it('never deletes an in-use, untagged, live-job or young-unknown ENI, and deletes every eligible one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eniArb, { maxLength: 40 }), jobsArb, fc.boolean(), async (specs, jobStates, dryRun) => {
        ec2.reset();
        bedrock.reset();
        const enis = specs.map((s, i) => ({ ...s, id: `eni-${i}` }));
        const jobs = Object.fromEntries(jobStates.map((s, i) => [i, s]));
        mockAccount(enis, jobs);
        const report = await sweep({}, { ...config, dryRun }, deps());

        const eligible = enis.filter((e) => {
          if (e.managed !== 'true' || e.status !== 'available') return false;
          const state: JobState = e.job === null ? 'NotFound' : jobs[e.job]!;
          if (['Completed', 'Failed', 'Stopped'].includes(state)) return true;
          return state === 'NotFound' && e.firstSeen === 'old';
        });
        const removed = dryRun ? report.wouldDelete : deletedIds();
        expect([...removed].sort()).toEqual(eligible.map((e) => e.id).sort());
        if (dryRun) expect(ec2.commandCalls(DeleteNetworkInterfaceCommand)).toHaveLength(0);
        const distinctJobs = new Set(enis.filter((e) => e.managed === 'true' && e.job !== null).map((e) => e.job));
        expect(bedrock.commandCalls(GetModelCustomizationJobCommand)).toHaveLength(distinctJobs.size);
      }),
      { numRuns: 300 },
    );
  });
});

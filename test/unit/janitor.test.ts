import {
  AccessDeniedException,
  BedrockClient,
  GetModelCustomizationJobCommand,
  ResourceNotFoundException,
  ValidationException,
} from '@aws-sdk/client-bedrock';
import { DeleteNetworkInterfaceCommand, DescribeNetworkInterfacesCommand, EC2Client, type NetworkInterface } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_CONCURRENCY, sweep, type JanitorConfig } from '../../functions/janitor/janitor.js';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG } from '../../functions/shared/bedrock-enis.js';
import type { Ledger, LedgerEntry, LedgerNetwork } from '../../functions/shared/ledger.js';

const ec2 = mockClient(EC2Client);
const bedrock = mockClient(BedrockClient);
afterEach(() => {
  ec2.reset();
  bedrock.reset();
});

const STAGE_VPC = 'vpc-0stage';
const config: JanitorConfig = {
  dryRun: false,
  concurrency: MAX_CONCURRENCY,
  vpcIds: [STAGE_VPC],
  home: { region: 'us-east-1', accountId: '123456789012' },
};
const OWNER = 'arn:aws:states:us-east-1:123456789012:execution:customize-model:first';
/** Job n's ARN (Bedrock's ARNs end with an id, not the job's name). */
const jobArn = (n: number) => `arn:aws:bedrock:us-east-1:123456789012:model-customization-job/id${n}`;
const FOREIGN_ACCOUNT_ARN = 'arn:aws:bedrock:us-east-1:999999999999:model-customization-job/id1';
const FOREIGN_REGION_ARN = 'arn:aws:bedrock:eu-west-1:123456789012:model-customization-job/id1';
/** The network each job ran in; `subnet-other` and `sg-customer` are in the stage VPC but no job's. */
const networkOf = (n: number): LedgerNetwork => ({ vpcId: STAGE_VPC, subnetIds: [`subnet-job${n}`], securityGroupIds: [`sg-job${n}`] });

type JobState = 'InProgress' | 'Stopping' | 'Completed' | 'Failed' | 'Stopped' | 'NotFound' | 'Denied' | 'Invalid' | 'NoName';
/**
 * The job ledger's entry for a job's name: it records the job and the ENIs seen while it ran
 * (`recorded`), there is none (`none`: a job this workflow did not run), it records another job ARN
 * under that name (`other-arn`), or it cannot be read (`unreadable`).
 */
type LedgerState = 'recorded' | 'none' | 'other-arn' | 'unreadable';
interface Job {
  state: JobState;
  ledger?: LedgerState;
  /** Its name (default `job-<n>`): two jobs may share one (a name is reused once a job has ended). */
  name?: string;
}
type JobRef = number | null | 'foreign-account' | 'foreign-region' | 'malformed';
interface EniSpec {
  id: string;
  managed: 'true' | 'false' | 'absent';
  job: JobRef;
  status: 'available' | 'in-use' | 'attaching';
  vpc?: 'stage' | 'other';
  /** In its job's subnet (default) or another subnet of the VPC. */
  subnet?: 'job' | 'other';
  /** Its job's security group (default), a customer's, or both. */
  groups?: 'job' | 'customer' | 'mixed';
  /** Among the ENIs the ledger recorded for its job while the job ran (default true). */
  recorded?: boolean;
}

function arnOf(job: JobRef): string | undefined {
  if (job === null) return undefined;
  if (job === 'foreign-account') return FOREIGN_ACCOUNT_ARN;
  if (job === 'foreign-region') return FOREIGN_REGION_ARN;
  if (job === 'malformed') return 'not-a-job-arn';
  return jobArn(job);
}

function toEni(spec: EniSpec): NetworkInterface {
  const tags = [];
  if (spec.managed !== 'absent') tags.push({ Key: BEDROCK_MANAGED_TAG, Value: spec.managed });
  const arn = arnOf(spec.job);
  if (arn) tags.push({ Key: BEDROCK_JOB_ARN_TAG, Value: arn });
  const n = typeof spec.job === 'number' ? spec.job : undefined;
  const subnet = spec.subnet === 'other' || n === undefined ? 'subnet-other' : `subnet-job${n}`;
  const jobGroup = n === undefined ? [] : [`sg-job${n}`];
  const groups = { job: jobGroup, customer: ['sg-customer'], mixed: [...jobGroup, 'sg-customer'] }[n === undefined ? 'customer' : (spec.groups ?? 'job')];
  return {
    NetworkInterfaceId: spec.id,
    Status: spec.status,
    TagSet: tags,
    VpcId: spec.vpc === 'other' ? 'vpc-0other' : STAGE_VPC,
    SubnetId: subnet,
    Groups: groups.map((GroupId) => ({ GroupId })),
  };
}

const jobOf = (jobs: Record<number, JobState | Job>, n: number): Job => {
  const job = jobs[n] ?? 'NotFound';
  return typeof job === 'string' ? { state: job } : job;
};
const nameOf = (jobs: Record<number, JobState | Job>, n: number) => jobOf(jobs, n).name ?? `job-${n}`;

const entryOf = (jobName: string, arn: string, network: LedgerNetwork, enis: string[]): LedgerEntry => ({
  jobName,
  owner: OWNER,
  supervisor: OWNER,
  claimed: true,
  generation: 0,
  clientRequestToken: 'token',
  nonce: 'nonce',
  network,
  jobArn: arn,
  submittedAt: '2026-11-27T12:00:00.000Z',
  deadline: '2026-11-28T12:00:00.000Z',
  enis,
  status: 'submitted',
});

/**
 * Mocks an account: its ENIs, Bedrock's jobs and the job ledger's entries (by job name). The ledger
 * entry of a `recorded` job lists the ENIs tagged for it whose spec says `recorded`.
 * DescribeNetworkInterfaces ignores filters (worst case: the code must re-check tags and VPC).
 */
function mockAccount(enis: EniSpec[], jobs: Record<number, JobState | Job>, pageSize = 1000) {
  const all = enis.map(toEni);
  ec2.on(DescribeNetworkInterfacesCommand).callsFake((input: { NextToken?: string }) => {
    const start = Number(input.NextToken ?? 0);
    const page = all.slice(start, start + pageSize);
    return { NetworkInterfaces: page, ...(start + pageSize < all.length ? { NextToken: String(start + pageSize) } : {}) };
  });
  bedrock.on(GetModelCustomizationJobCommand).callsFake((input: { jobIdentifier: string }) => {
    const n = Number(input.jobIdentifier.split('/id').at(-1));
    const { state } = jobOf(jobs, n);
    if (state === 'NotFound') throw new ResourceNotFoundException({ message: 'not found', $metadata: {} });
    if (state === 'Denied') throw new AccessDeniedException({ message: 'denied', $metadata: {} });
    if (state === 'Invalid') throw new ValidationException({ message: 'invalid identifier', $metadata: {} });
    const net = networkOf(n);
    return {
      jobArn: jobArn(n),
      ...(state === 'NoName' ? { status: 'Completed' } : { jobName: nameOf(jobs, n), status: state }),
      vpcConfig: { subnetIds: net.subnetIds, securityGroupIds: net.securityGroupIds },
    };
  });

  const entries = new Map<string, LedgerEntry>();
  const unreadable = new Set<string>();
  for (const key of Object.keys(jobs)) {
    const n = Number(key);
    const ledgerState = jobOf(jobs, n).ledger ?? 'recorded';
    const name = nameOf(jobs, n);
    if (ledgerState === 'unreadable') unreadable.add(name);
    if (ledgerState === 'other-arn' && !entries.has(name)) entries.set(name, entryOf(name, jobArn(1000 + n), networkOf(1000 + n), []));
    if (ledgerState !== 'recorded') continue;
    const recorded = enis.filter((e) => e.job === n && e.recorded !== false).map((e) => e.id);
    entries.set(name, entryOf(name, jobArn(n), networkOf(n), recorded));
  }
  const reads: string[] = [];
  const ledger: Pick<Ledger, 'read'> = {
    read: async (name) => {
      reads.push(name);
      if (unreadable.has(name)) throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException', $metadata: {} });
      return entries.get(name);
    },
  };

  let inFlight = 0;
  const stats = { maxInFlight: 0, reads, ledger };
  ec2.on(DeleteNetworkInterfaceCommand).callsFake(async () => {
    inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 1));
    inFlight--;
    return {};
  });
  return stats;
}

const deps = (account: { ledger: Pick<Ledger, 'read'> }) => ({ ec2: new EC2Client({}), bedrock: new BedrockClient({}), ledger: account.ledger });
const deletedIds = () => ec2.commandCalls(DeleteNetworkInterfaceCommand).map((c) => c.args[0].input.NetworkInterfaceId);

describe('janitor sweep', () => {
  it('deletes only available ENIs the ledger recorded for ended jobs of ours; keeps the rest with a reason', async () => {
    const account = mockAccount(
      [
        { id: 'eni-done', managed: 'true', job: 1, status: 'available' },
        { id: 'eni-failed', managed: 'true', job: 2, status: 'available' },
        { id: 'eni-stopped', managed: 'true', job: 4, status: 'available' },
        { id: 'eni-running', managed: 'true', job: 3, status: 'available' },
        { id: 'eni-attached', managed: 'true', job: 1, status: 'in-use' },
        { id: 'eni-unrecorded', managed: 'true', job: 1, status: 'available', recorded: false },
        { id: 'eni-not-the-workflows', managed: 'true', job: 5, status: 'available' },
        { id: 'eni-no-job-tag', managed: 'true', job: null, status: 'available' },
        { id: 'eni-unknown-job', managed: 'true', job: 9, status: 'available' },
        { id: 'eni-not-bedrocks', managed: 'absent', job: 1, status: 'available' },
      ],
      { 1: 'Completed', 2: 'Failed', 3: 'InProgress', 4: 'Stopped', 5: { state: 'Completed', ledger: 'none' } },
    );
    const report = await sweep({}, config, deps(account));
    expect(deletedIds().sort()).toEqual(['eni-done', 'eni-failed', 'eni-stopped']);
    expect(report.deleted.sort()).toEqual(['eni-done', 'eni-failed', 'eni-stopped']);
    expect(report.scanned).toBe(9);
    expect(report.jobsLookedUp).toBe(6);
    // The ledger is read for the ended jobs only, once each.
    expect(account.reads.sort()).toEqual(['job-1', 'job-2', 'job-4', 'job-5']);
    expect(report.kept).toHaveLength(6);
    expect(report.kept).toEqual(
      expect.arrayContaining([
        { networkInterfaceId: 'eni-running', reason: 'job-running', detail: 'InProgress' },
        { networkInterfaceId: 'eni-attached', reason: 'not-available', detail: 'in-use' },
        { networkInterfaceId: 'eni-unrecorded', reason: 'not-recorded', detail: 'not among the ENIs recorded while "job-1" ran' },
        { networkInterfaceId: 'eni-not-the-workflows', reason: 'not-recorded', detail: 'the job ledger has no entry for "job-5"' },
        { networkInterfaceId: 'eni-no-job-tag', reason: 'no-job-tag' },
        { networkInterfaceId: 'eni-unknown-job', reason: 'job-not-found', detail: jobArn(9) },
      ]),
    );
    expect(report).not.toHaveProperty('marked');
  });

  it('lists and deletes only ENIs of the stage VPCs (API filter and a check in code)', async () => {
    const account = mockAccount(
      [
        { id: 'eni-stage', managed: 'true', job: 1, status: 'available' },
        { id: 'eni-elsewhere', managed: 'true', job: 1, status: 'available', vpc: 'other' },
      ],
      { 1: 'Completed' },
    );
    const report = await sweep({}, config, deps(account));
    expect(deletedIds()).toEqual(['eni-stage']);
    expect(report.scanned).toBe(1);
    expect(ec2).toHaveReceivedCommandWith(DescribeNetworkInterfacesCommand, {
      Filters: [
        { Name: `tag:${BEDROCK_MANAGED_TAG}`, Values: ['true'] },
        { Name: 'vpc-id', Values: [STAGE_VPC] },
      ],
    });
  });

  it("keeps a recorded ENI that is not in the job's network (subnet, security groups) as the ledger records it", async () => {
    const account = mockAccount(
      [
        { id: 'eni-own', managed: 'true', job: 1, status: 'available' },
        { id: 'eni-other-subnet', managed: 'true', job: 1, status: 'available', subnet: 'other' },
        { id: 'eni-customer-group', managed: 'true', job: 1, status: 'available', groups: 'customer' },
        { id: 'eni-extra-group', managed: 'true', job: 1, status: 'available', groups: 'mixed' },
      ],
      { 1: 'Completed' },
    );
    const report = await sweep({}, config, deps(account));
    expect(deletedIds()).toEqual(['eni-own']);
    expect(report.kept).toEqual(
      expect.arrayContaining([
        { networkInterfaceId: 'eni-other-subnet', reason: 'not-in-job-network', detail: "in subnet subnet-other, not one of the job's" },
        { networkInterfaceId: 'eni-customer-group', reason: 'not-in-job-network', detail: "security groups sg-customer are not the job's" },
        { networkInterfaceId: 'eni-extra-group', reason: 'not-in-job-network', detail: "security groups sg-job1,sg-customer are not the job's" },
      ]),
    );
  });

  it('reads the ledger once per distinct job name, and keeps the ENIs of a job the entry under that name does not record', async () => {
    // Jobs 7 and 8 share a name (reused after 7 ended): the entry records job 8 only.
    const account = mockAccount(
      [
        ...['a', 'b', 'c'].map((x): EniSpec => ({ id: `eni-7${x}`, managed: 'true', job: 7, status: 'available', recorded: false })),
        ...['a', 'b', 'c'].map((x): EniSpec => ({ id: `eni-8${x}`, managed: 'true', job: 8, status: 'available' })),
      ],
      { 7: { state: 'Stopped', name: 'reused', ledger: 'other-arn' }, 8: { state: 'Completed', name: 'reused' } },
    );
    const report = await sweep({}, config, deps(account));
    expect(account.reads).toEqual(['reused']);
    expect(report.jobsLookedUp).toBe(2);
    expect(deletedIds().sort()).toEqual(['eni-8a', 'eni-8b', 'eni-8c']);
    expect(report.kept).toEqual(
      ['eni-7a', 'eni-7b', 'eni-7c'].map((id) => ({
        networkInterfaceId: id,
        reason: 'not-recorded',
        detail: `the job ledger records another job under "reused" (${jobArn(8)})`,
      })),
    );
  });

  it('keeps the ENIs of a job whose entry records no job yet, or whose ledger read fails; still deletes what is eligible', async () => {
    const account = mockAccount(
      [
        { id: 'eni-done', managed: 'true', job: 1, status: 'available' },
        { id: 'eni-unreadable', managed: 'true', job: 2, status: 'available' },
        { id: 'eni-no-name', managed: 'true', job: 3, status: 'available' },
      ],
      { 1: 'Completed', 2: { state: 'Failed', ledger: 'unreadable' }, 3: 'NoName' },
    );
    const report = await sweep({}, config, deps(account));
    expect(report.deleted).toEqual(['eni-done']);
    expect(report.kept).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ networkInterfaceId: 'eni-unreadable', reason: 'ledger-read-failed' }),
        { networkInterfaceId: 'eni-no-name', reason: 'job-lookup-failed', detail: 'Bedrock returned no jobName' },
      ]),
    );
  });

  it('keeps ENIs naming a job of another account or region, a malformed ARN, or one Bedrock rejects; never asks about the foreign ones', async () => {
    const account = mockAccount(
      [
        { id: 'eni-foreign-account', managed: 'true', job: 'foreign-account', status: 'available' },
        { id: 'eni-foreign-region', managed: 'true', job: 'foreign-region', status: 'available' },
        { id: 'eni-malformed', managed: 'true', job: 'malformed', status: 'available' },
        { id: 'eni-rejected', managed: 'true', job: 4, status: 'available' },
      ],
      { 4: 'Invalid' },
    );
    const report = await sweep({}, config, deps(account));
    expect(deletedIds()).toEqual([]);
    expect(report.jobsLookedUp).toBe(1);
    expect(bedrock).toHaveReceivedCommandTimes(GetModelCustomizationJobCommand, 1);
    expect(bedrock).toHaveReceivedCommandWith(GetModelCustomizationJobCommand, { jobIdentifier: jobArn(4) });
    expect(account.reads).toEqual([]);
    expect(report.kept).toEqual(
      expect.arrayContaining([
        { networkInterfaceId: 'eni-foreign-account', reason: 'job-of-another-account-or-region', detail: '999999999999/us-east-1' },
        { networkInterfaceId: 'eni-foreign-region', reason: 'job-of-another-account-or-region', detail: '123456789012/eu-west-1' },
        { networkInterfaceId: 'eni-malformed', reason: 'job-arn-invalid', detail: 'not-a-job-arn' },
        expect.objectContaining({ networkInterfaceId: 'eni-rejected', reason: 'job-arn-invalid' }),
      ]),
    );
  });

  it('asks Bedrock once per distinct job, reads the ledger once per ended job, and pages through every ENI', async () => {
    const enis: EniSpec[] = Array.from({ length: 2500 }, (_, i) => ({ id: `eni-${i}`, managed: 'true', job: i % 5, status: 'available' }));
    const account = mockAccount(enis, { 0: 'Completed', 1: 'Completed', 2: 'Stopped', 3: 'InProgress', 4: 'Failed' }, 1000);
    const report = await sweep({}, config, deps(account));
    expect(ec2).toHaveReceivedCommandTimes(DescribeNetworkInterfacesCommand, 3);
    expect(ec2).toHaveReceivedCommandWith(DescribeNetworkInterfacesCommand, { MaxResults: 1000 });
    expect(bedrock).toHaveReceivedCommandTimes(GetModelCustomizationJobCommand, 5);
    expect(account.reads.sort()).toEqual(['job-0', 'job-1', 'job-2', 'job-4']);
    expect(report.deleted).toHaveLength(2000);
  });

  it('keeps at most 10 deletions in flight', async () => {
    const enis: EniSpec[] = Array.from({ length: 200 }, (_, i) => ({ id: `eni-${i}`, managed: 'true', job: 1, status: 'available' }));
    const account = mockAccount(enis, { 1: 'Completed' });
    await sweep({}, { ...config, concurrency: 50 }, deps(account));
    expect(account.maxInFlight).toBeGreaterThan(1);
    expect(account.maxInFlight).toBeLessThanOrEqual(10);
  });

  it('dry run reports what it would delete and deletes nothing', async () => {
    const account = mockAccount(
      [
        { id: 'eni-done', managed: 'true', job: 1, status: 'available' },
        { id: 'eni-unrecorded', managed: 'true', job: 1, status: 'available', recorded: false },
      ],
      { 1: 'Completed' },
    );
    const report = await sweep({}, { ...config, dryRun: true }, deps(account));
    expect(report.wouldDelete).toEqual(['eni-done']);
    expect(report.deleted).toEqual([]);
    expect(report.kept).toEqual([expect.objectContaining({ networkInterfaceId: 'eni-unrecorded', reason: 'not-recorded' })]);
    expect(ec2).not.toHaveReceivedCommand(DeleteNetworkInterfaceCommand);
  });

  it('keeps ENIs whose job look-up fails, and reports delete failures without throwing', async () => {
    const account = mockAccount(
      [
        { id: 'eni-denied', managed: 'true', job: 1, status: 'available' },
        { id: 'eni-busy', managed: 'true', job: 2, status: 'available' },
        { id: 'eni-gone', managed: 'true', job: 2, status: 'available' },
      ],
      { 1: 'Denied', 2: 'Completed' },
    );
    ec2.on(DeleteNetworkInterfaceCommand, { NetworkInterfaceId: 'eni-busy' }).rejects(
      Object.assign(new Error('in use'), { name: 'InvalidNetworkInterface.InUse', $metadata: {} }),
    );
    ec2.on(DeleteNetworkInterfaceCommand, { NetworkInterfaceId: 'eni-gone' }).rejects(
      Object.assign(new Error('gone'), { name: 'InvalidNetworkInterfaceID.NotFound', $metadata: {} }),
    );
    const report = await sweep({}, config, deps(account));
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
    const account = mockAccount([{ id: 'eni-a', managed: 'true', job: 1, status: 'available' }], { 1: 'Stopped' });
    const report = await sweep({ jobArn: jobArn(1) }, config, deps(account));
    expect(report.deleted).toEqual(['eni-a']);
    expect(ec2).toHaveReceivedCommandWith(DescribeNetworkInterfacesCommand, {
      Filters: [
        { Name: `tag:${BEDROCK_MANAGED_TAG}`, Values: ['true'] },
        { Name: `tag:${BEDROCK_JOB_ARN_TAG}`, Values: [jobArn(1)] },
        { Name: 'vpc-id', Values: [STAGE_VPC] },
      ],
    });
  });
});

describe('janitor safety (property)', () => {
  const eniArb = fc.record({
    managed: fc.constantFrom<'true' | 'false' | 'absent'>('true', 'true', 'true', 'false', 'absent'),
    job: fc.oneof(
      { weight: 6, arbitrary: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }) },
      { weight: 1, arbitrary: fc.constantFrom<JobRef>('foreign-account', 'foreign-region', 'malformed') },
    ),
    status: fc.constantFrom<'available' | 'in-use' | 'attaching'>('available', 'available', 'in-use', 'attaching'),
    vpc: fc.constantFrom<'stage' | 'other'>('stage', 'stage', 'stage', 'other'),
    subnet: fc.constantFrom<'job' | 'other'>('job', 'job', 'other'),
    groups: fc.constantFrom<'job' | 'customer' | 'mixed'>('job', 'job', 'customer', 'mixed'),
    recorded: fc.boolean(),
  });
  const jobArb = fc.record({
    state: fc.constantFrom<JobState>('InProgress', 'Stopping', 'Completed', 'Failed', 'Stopped', 'NotFound', 'Denied', 'Invalid', 'NoName'),
    ledger: fc.constantFrom<LedgerState>('recorded', 'recorded', 'recorded', 'none', 'other-arn', 'unreadable'),
  });
  const jobsArb = fc.array(jobArb, { minLength: 6, maxLength: 6 });

  it('never deletes an ENI that is not recorded in the ledger for a terminal job of ours, in that job\'s network; deletes every one that is', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eniArb, { maxLength: 40 }), jobsArb, fc.boolean(), async (specs, jobList, dryRun) => {
        ec2.reset();
        bedrock.reset();
        const enis: EniSpec[] = specs.map((s, i) => ({ ...s, id: `eni-${i}` }));
        const jobs: Record<number, Job> = Object.fromEntries(jobList.map((j, i) => [i, j]));
        const account = mockAccount(enis, jobs);
        const report = await sweep({}, { ...config, dryRun }, deps(account));

        // The model, from the specs alone: listed (both tags' VPC filter), then every rule of the janitor.
        const inScope = (e: EniSpec) => e.managed === 'true' && e.vpc !== 'other';
        const terminal = (n: number) => ['Completed', 'Failed', 'Stopped'].includes(jobs[n]!.state);
        const eligible = enis.filter(
          (e) =>
            inScope(e) &&
            e.status === 'available' &&
            typeof e.job === 'number' &&
            terminal(e.job) &&
            jobs[e.job]!.ledger === 'recorded' &&
            e.recorded &&
            e.subnet === 'job' &&
            e.groups === 'job',
        );
        const removed = dryRun ? report.wouldDelete : deletedIds();
        expect([...removed].sort()).toEqual(eligible.map((e) => e.id).sort());
        if (dryRun) expect(ec2.commandCalls(DeleteNetworkInterfaceCommand)).toHaveLength(0);
        // Every ENI examined is deleted or kept with a reason, exactly once.
        expect(report.deleted.length + report.wouldDelete.length + report.kept.length + report.alreadyGone.length).toBe(report.scanned);
        const jobsInScope = new Set(enis.filter((e) => inScope(e) && typeof e.job === 'number').map((e) => e.job as number));
        expect(bedrock.commandCalls(GetModelCustomizationJobCommand)).toHaveLength(jobsInScope.size);
        expect(account.reads.sort()).toEqual([...jobsInScope].filter(terminal).map((n) => `job-${n}`).sort());
      }),
      { numRuns: 300 },
    );
  });
});

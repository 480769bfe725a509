import {
  AccessDeniedException,
  BedrockClient,
  GetModelCustomizationJobCommand,
  ResourceNotFoundException,
  ValidationException,
} from '@aws-sdk/client-bedrock';
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { DeleteNetworkInterfaceCommand, DescribeNetworkInterfacesCommand, EC2Client, type NetworkInterface } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_CONCURRENCY, SIGHTINGS_PER_READ, sweep, type JanitorConfig } from '../../functions/janitor/janitor.js';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG } from '../../functions/shared/bedrock-enis.js';

const ec2 = mockClient(EC2Client);
const bedrock = mockClient(BedrockClient);
const dynamodb = mockClient(DynamoDBClient);
afterEach(() => {
  ec2.reset();
  bedrock.reset();
  dynamodb.reset();
});

const NOW = new Date('2026-11-28T12:00:00Z');
const HOUR = 3600_000;
const STAGE_VPC = 'vpc-0stage';
const TABLE = 'janitor-sightings';
const config: JanitorConfig = {
  graceSeconds: 24 * 3600,
  dryRun: false,
  concurrency: MAX_CONCURRENCY,
  vpcIds: [STAGE_VPC],
  home: { region: 'us-east-1', accountId: '123456789012' },
  sightingsTable: TABLE,
};
const deps = () => ({ ec2: new EC2Client({}), bedrock: new BedrockClient({}), dynamodb: new DynamoDBClient({}), now: () => NOW });
const jobArn = (n: number) => `arn:aws:bedrock:us-east-1:123456789012:model-customization-job/job-${n}`;
const FOREIGN_ACCOUNT_ARN = 'arn:aws:bedrock:us-east-1:999999999999:model-customization-job/job-1';
const FOREIGN_REGION_ARN = 'arn:aws:bedrock:eu-west-1:123456789012:model-customization-job/job-1';
/** The subnet each job ran in (its vpcConfig); `subnet-other` is in the stage VPC but no job's. */
const jobSubnet = (n: number) => `subnet-job${n}`;

type JobState = 'InProgress' | 'Stopping' | 'Completed' | 'Failed' | 'Stopped' | 'NotFound' | 'Denied' | 'Invalid';
type JobRef = number | null | 'foreign-account' | 'foreign-region' | 'malformed';
interface EniSpec {
  id: string;
  managed: 'true' | 'false' | 'absent';
  job: JobRef;
  status: 'available' | 'in-use' | 'attaching';
  /** The janitor's first sighting, in its DynamoDB table. */
  firstSeen: 'none' | 'young' | 'old';
  vpc?: 'stage' | 'other';
  /** In its job's subnet (default) or another subnet of the VPC. */
  subnet?: 'job' | 'other';
  /** A back-dated first-seen tag, written by anyone: must be ignored. */
  forgedFirstSeenTag?: boolean;
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
  if (spec.forgedFirstSeenTag) tags.push({ Key: 'bedrock-vpc-customization:first-seen', Value: '2020-01-01T00:00:00.000Z' });
  const subnet = spec.subnet === 'other' || typeof spec.job !== 'number' ? 'subnet-other' : jobSubnet(spec.job);
  return {
    NetworkInterfaceId: spec.id,
    Status: spec.status,
    TagSet: tags,
    VpcId: spec.vpc === 'other' ? 'vpc-0other' : STAGE_VPC,
    SubnetId: subnet,
  };
}

/** Mocks an account; DescribeNetworkInterfaces ignores filters (worst case: the code must re-check tags and VPC). */
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
    if (state === 'Invalid') throw new ValidationException({ message: 'invalid identifier', $metadata: {} });
    return { status: state, vpcConfig: { subnetIds: [jobSubnet(n)], securityGroupIds: ['sg-1'] } };
  });
  const table = new Map<string, Record<string, AttributeValue>>();
  for (const e of enis) {
    if (e.firstSeen === 'none') continue;
    const at = new Date(NOW.getTime() - (e.firstSeen === 'old' ? 48 : 1) * HOUR).toISOString();
    table.set(e.id, { networkInterfaceId: { S: e.id }, firstSeen: { S: at } });
  }
  dynamodb.on(BatchGetItemCommand).callsFake((input: { RequestItems: Record<string, { Keys: Record<string, AttributeValue>[] }> }) => {
    const keys = input.RequestItems[TABLE]!.Keys;
    return { Responses: { [TABLE]: keys.map((k) => table.get(k.networkInterfaceId!.S!)).filter(Boolean) } };
  });
  dynamodb.on(PutItemCommand).callsFake((input: { Item: Record<string, AttributeValue> }) => {
    const id = input.Item.networkInterfaceId!.S!;
    if (table.has(id)) throw new ConditionalCheckFailedException({ message: 'exists', $metadata: {} });
    table.set(id, input.Item);
    return {};
  });
  let inFlight = 0;
  const stats = { maxInFlight: 0, table };
  ec2.on(DeleteNetworkInterfaceCommand).callsFake(async () => {
    inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 1));
    inFlight--;
    return {};
  });
  return stats;
}

const deletedIds = () => ec2.commandCalls(DeleteNetworkInterfaceCommand).map((c) => c.args[0].input.NetworkInterfaceId);

describe('janitor sweep', () => {
  it('deletes available ENIs of terminal jobs (in their subnets) and long-known unknown ones; keeps the rest with a reason', async () => {
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
    expect(dynamodb).toHaveReceivedCommandTimes(PutItemCommand, 1);
    expect(dynamodb).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: TABLE,
      Item: {
        networkInterfaceId: { S: 'eni-unknown-new' },
        firstSeen: { S: NOW.toISOString() },
        expiresAt: { N: String(NOW.getTime() / 1000 + 24 * 3600 + 30 * 24 * 3600) },
      },
      ConditionExpression: 'attribute_not_exists(#key)',
      ExpressionAttributeNames: { '#key': 'networkInterfaceId' },
    });
    // One read for the three unknown-job ENIs.
    expect(dynamodb).toHaveReceivedCommandTimes(BatchGetItemCommand, 1);
  });

  it('lists and deletes only ENIs of the stage VPCs (API filter and a check in code)', async () => {
    mockAccount(
      [
        { id: 'eni-stage', managed: 'true', job: 1, status: 'available', firstSeen: 'none' },
        { id: 'eni-elsewhere', managed: 'true', job: 1, status: 'available', firstSeen: 'old', vpc: 'other' },
        { id: 'eni-elsewhere-unknown', managed: 'true', job: null, status: 'available', firstSeen: 'old', vpc: 'other' },
      ],
      { 1: 'Completed' },
    );
    const report = await sweep({}, config, deps());
    expect(deletedIds()).toEqual(['eni-stage']);
    expect(report.scanned).toBe(1);
    expect(ec2).toHaveReceivedCommandWith(DescribeNetworkInterfacesCommand, {
      Filters: [
        { Name: `tag:${BEDROCK_MANAGED_TAG}`, Values: ['true'] },
        { Name: 'vpc-id', Values: [STAGE_VPC] },
      ],
    });
  });

  it("keeps a terminal job's ENI that is not in one of the job's subnets (or the job had no vpcConfig)", async () => {
    mockAccount(
      [
        { id: 'eni-own-subnet', managed: 'true', job: 1, status: 'available', firstSeen: 'none' },
        { id: 'eni-forged-subnet', managed: 'true', job: 1, status: 'available', firstSeen: 'old', subnet: 'other' },
        { id: 'eni-no-vpc-job', managed: 'true', job: 2, status: 'available', firstSeen: 'none' },
      ],
      { 1: 'Completed', 2: 'Stopped' },
    );
    bedrock.on(GetModelCustomizationJobCommand, { jobIdentifier: jobArn(2) }).resolves({ status: 'Stopped' });
    const report = await sweep({}, config, deps());
    expect(deletedIds()).toEqual(['eni-own-subnet']);
    expect(report.kept).toEqual(
      expect.arrayContaining([
        { networkInterfaceId: 'eni-forged-subnet', reason: 'subnet-not-the-jobs', detail: 'subnet-other' },
        { networkInterfaceId: 'eni-no-vpc-job', reason: 'subnet-not-the-jobs', detail: 'subnet-job2' },
      ]),
    );
  });

  it('keeps ENIs naming a job of another account or region, a malformed ARN, or one Bedrock rejects; never asks about the foreign ones', async () => {
    mockAccount(
      [
        { id: 'eni-foreign-account', managed: 'true', job: 'foreign-account', status: 'available', firstSeen: 'old' },
        { id: 'eni-foreign-region', managed: 'true', job: 'foreign-region', status: 'available', firstSeen: 'old' },
        { id: 'eni-malformed', managed: 'true', job: 'malformed', status: 'available', firstSeen: 'old' },
        { id: 'eni-rejected', managed: 'true', job: 4, status: 'available', firstSeen: 'old' },
      ],
      { 4: 'Invalid' },
    );
    const report = await sweep({}, config, deps());
    expect(deletedIds()).toEqual([]);
    expect(report.jobsLookedUp).toBe(1);
    expect(bedrock).toHaveReceivedCommandTimes(GetModelCustomizationJobCommand, 1);
    expect(bedrock).toHaveReceivedCommandWith(GetModelCustomizationJobCommand, { jobIdentifier: jobArn(4) });
    expect(report.kept).toEqual(
      expect.arrayContaining([
        { networkInterfaceId: 'eni-foreign-account', reason: 'job-of-another-account-or-region', detail: '999999999999/us-east-1' },
        { networkInterfaceId: 'eni-foreign-region', reason: 'job-of-another-account-or-region', detail: '123456789012/eu-west-1' },
        { networkInterfaceId: 'eni-malformed', reason: 'job-arn-invalid', detail: 'not-a-job-arn' },
        expect.objectContaining({ networkInterfaceId: 'eni-rejected', reason: 'job-arn-invalid' }),
      ]),
    );
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
  });

  it('ignores a back-dated first-seen tag: only its own table counts', async () => {
    mockAccount([{ id: 'eni-forged', managed: 'true', job: null, status: 'available', firstSeen: 'none', forgedFirstSeenTag: true }], {});
    const report = await sweep({}, config, deps());
    expect(deletedIds()).toEqual([]);
    expect(report.marked).toEqual(['eni-forged']);
  });

  it('does not move a first sighting later: a sighting written meanwhile by another sweep wins', async () => {
    const stats = mockAccount([{ id: 'eni-race', managed: 'true', job: null, status: 'available', firstSeen: 'none' }], {});
    const earlier = { networkInterfaceId: { S: 'eni-race' }, firstSeen: { S: '2026-11-28T11:59:00.000Z' } };
    dynamodb.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [] } });
    stats.table.set('eni-race', earlier);
    const report = await sweep({}, config, deps());
    expect(report.marked).toEqual([]);
    expect(report.kept).toEqual([{ networkInterfaceId: 'eni-race', reason: 'unknown-job-first-seen-now' }]);
    expect(stats.table.get('eni-race')).toBe(earlier);
  });

  it('reports a failed sighting write, and still deletes what is eligible', async () => {
    mockAccount(
      [
        { id: 'eni-new', managed: 'true', job: null, status: 'available', firstSeen: 'none' },
        { id: 'eni-done', managed: 'true', job: 1, status: 'available', firstSeen: 'none' },
      ],
      { 1: 'Completed' },
    );
    dynamodb.on(PutItemCommand).rejects(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException', $metadata: {} }));
    const report = await sweep({}, config, deps());
    expect(report.deleted).toEqual(['eni-done']);
    expect(report.kept).toEqual([expect.objectContaining({ networkInterfaceId: 'eni-new', reason: 'sighting-write-failed' })]);
  });

  it('reads sightings 100 ENIs a call, and asks again for unprocessed keys', async () => {
    const enis: EniSpec[] = Array.from({ length: 250 }, (_, i) => ({ id: `eni-${i}`, managed: 'true', job: null, status: 'available', firstSeen: 'old' }));
    mockAccount(enis, {});
    let first = true;
    dynamodb.on(BatchGetItemCommand).callsFake((input: { RequestItems: Record<string, { Keys: Record<string, AttributeValue>[] }> }) => {
      const keys = input.RequestItems[TABLE]!.Keys;
      const old = new Date(NOW.getTime() - 48 * HOUR).toISOString();
      const answer = first ? keys.slice(0, 60) : keys;
      const rest = first ? keys.slice(60) : [];
      first = false;
      return {
        Responses: { [TABLE]: answer.map((k) => ({ networkInterfaceId: k.networkInterfaceId!, firstSeen: { S: old } })) },
        ...(rest.length ? { UnprocessedKeys: { [TABLE]: { Keys: rest } } } : {}),
      };
    });
    const report = await sweep({}, config, deps());
    const calls = dynamodb.commandCalls(BatchGetItemCommand).map((c) => c.args[0].input.RequestItems![TABLE]!.Keys!.length);
    expect(calls).toEqual([100, 40, 100, 50]);
    expect(Math.max(...calls)).toBeLessThanOrEqual(SIGHTINGS_PER_READ);
    expect(report.deleted).toHaveLength(250);
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
    expect(dynamodb).not.toHaveReceivedCommand(BatchGetItemCommand);
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
    expect(report.kept).toEqual([{ networkInterfaceId: 'eni-unknown', reason: 'unknown-job-first-seen-now' }]);
    expect(ec2).not.toHaveReceivedCommand(DeleteNetworkInterfaceCommand);
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
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
    firstSeen: fc.constantFrom<'none' | 'young' | 'old'>('none', 'young', 'old'),
    vpc: fc.constantFrom<'stage' | 'other'>('stage', 'stage', 'stage', 'other'),
    subnet: fc.constantFrom<'job' | 'other'>('job', 'job', 'other'),
    forgedFirstSeenTag: fc.boolean(),
  });
  const jobsArb = fc.array(fc.constantFrom<JobState>('InProgress', 'Stopping', 'Completed', 'Failed', 'Stopped', 'NotFound', 'Denied', 'Invalid'), {
    minLength: 6,
    maxLength: 6,
  });

  it('never deletes an in-use, untagged, foreign-VPC, wrong-subnet, foreign-job, live-job or young-unknown ENI, and deletes every eligible one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eniArb, { maxLength: 40 }), jobsArb, fc.boolean(), async (specs, jobStates, dryRun) => {
        ec2.reset();
        bedrock.reset();
        dynamodb.reset();
        const enis: EniSpec[] = specs.map((s, i) => ({ ...s, id: `eni-${i}` }));
        const jobs = Object.fromEntries(jobStates.map((s, i) => [i, s]));
        mockAccount(enis, jobs);
        const report = await sweep({}, { ...config, dryRun }, deps());

        const inScope = (e: EniSpec) => e.managed === 'true' && e.vpc !== 'other';
        const eligible = enis.filter((e) => {
          if (!inScope(e) || e.status !== 'available') return false;
          if (typeof e.job === 'string') return false;
          const state: JobState = e.job === null ? 'NotFound' : jobs[e.job]!;
          if (['Completed', 'Failed', 'Stopped'].includes(state)) return e.subnet !== 'other';
          return state === 'NotFound' && e.firstSeen === 'old';
        });
        const removed = dryRun ? report.wouldDelete : deletedIds();
        expect([...removed].sort()).toEqual(eligible.map((e) => e.id).sort());
        if (dryRun) {
          expect(ec2.commandCalls(DeleteNetworkInterfaceCommand)).toHaveLength(0);
          expect(dynamodb.commandCalls(PutItemCommand)).toHaveLength(0);
        }
        const distinctJobs = new Set(enis.filter((e) => inScope(e) && typeof e.job === 'number').map((e) => e.job));
        expect(bedrock.commandCalls(GetModelCustomizationJobCommand)).toHaveLength(distinctJobs.size);
      }),
      { numRuns: 300 },
    );
  });
});

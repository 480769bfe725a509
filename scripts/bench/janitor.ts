/**
 * Benchmark of the janitor against moto: a sweep of BedrockManaged ENIs of 20 ended jobs of the
 * workflow (each job's ledger entry records its ENIs, written by the ledger's own functions as the
 * workflow writes them), the janitor (one Bedrock look-up per distinct job, one ledger read per job
 * name, ≤ 10 calls in flight) vs a sequential baseline that is as smart as it can be without
 * concurrency: it lists the ENIs the same way, looks each job up ONCE (cached by job ARN), then deletes
 * the ENIs one at a time (it reads no ledger: the janitor's extra reads are on its side of the scale).
 * Both run on the same seeded population (moto is reset between them) with the janitor's own client
 * settings (adaptive retry, 8 attempts).
 *
 * Both runs go through a loopback proxy (latency-proxy.ts) that pages DescribeNetworkInterfaces by
 * its MaxResults as EC2 does (moto answers everything at once), so the janitor's listing (pages of
 * 1,000) really pages over 2,000 ENIs.
 * - "moto": the proxy adds nothing else. moto is one Python process: each call costs server CPU
 *   (≈ 12 ms for a delete among 2,000 ENIs) and concurrent calls mostly queue.
 * - "modelled": the proxy also adds a fixed 25 ms round trip to every HTTP request (a model of the
 *   network, labelled so, not a measurement of AWS) and throttles EC2's mutating actions with the
 *   token bucket AWS documents (50 tokens, 5 a second; 503 RequestLimitExceeded over the rate), so
 *   concurrency is not free: deletions beyond the burst are bound to 5 a second whoever sends them.
 *   Fewer ENIs there (the bucket alone makes 2,000 deletions take ~6.5 min per side).
 *
 * No speed-up target: against a baseline that caches its look-ups, ten calls in flight buy ~1.0–1.2x
 * (moto queues them; EC2's bucket paces them). The figures that matter are deletions per second
 * against EC2's documented rate for a mutating action (DeleteNetworkInterface is one), and that no
 * throttling error reaches the janitor (the bench fails when one does).
 */
import { BedrockClient, CreateModelCustomizationJobCommand, GetModelCustomizationJobCommand, StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateNetworkInterfaceCommand, CreateSubnetCommand, DeleteNetworkInterfaceCommand, EC2Client } from '@aws-sdk/client-ec2';
import pLimit from 'p-limit';
import { sweep, type JanitorConfig } from '../../functions/janitor/janitor.js';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG, listBedrockEnis } from '../../functions/shared/bedrock-enis.js';
import { dynamoLedger, type LedgerNetwork } from '../../functions/shared/ledger.js';
import { JOB_LEDGER_TABLE_NAME } from '../../local/seed.js';
import { seedFreshDemo } from './demo-stage.js';
import { EC2_MUTATING_BUCKET, startLatencyProxy, type LatencyProxy } from './latency-proxy.js';
import type { BenchFigure } from './preflight.js';

const REGION = 'us-east-1';
/** The sizes of a run; `quick` (npm test) keeps every figure, on fewer ENIs and jobs. */
const SIZES = {
  full: { enis: 2000, jobs: 20, modelledEnis: 300 },
  // Modelled: the 50-token burst and 2 s at the refill rate.
  quick: { enis: 60, jobs: 2, modelledEnis: 52 },
};
/** ENIs a DescribeNetworkInterfaces page holds at most (the janitor's MaxResults). */
const PAGE = 1000;
/** The modelled round trip per HTTP request (a model, not a measurement of AWS). */
const ROUND_TRIP_MS = 25;
const TERMINAL = ['Completed', 'Failed', 'Stopped'];
/** The janitor's client settings (functions/shared/clients.ts: janitorEc2, janitorBedrock). */
const JANITOR_RETRY = { maxAttempts: 8, retryMode: 'adaptive' } as const;
/** The execution that "ran" the bench's jobs, as the job ledger records it. */
const OWNER = 'arn:aws:states:us-east-1:123456789012:execution:bedrock-vpc-customization-bench-customize-model:bench';

/** Counts calls and the most in flight at once, per command, around a client's `send` (retries are one call). */
function instrument<C extends { send: (...args: never[]) => Promise<unknown> }>(client: C) {
  /** `errors`: what reached the caller after the SDK's retries, by error name. */
  const stats = { calls: {} as Record<string, number>, errors: {} as Record<string, number>, inFlight: 0, maxInFlight: 0 };
  const send = client.send.bind(client) as (command: { constructor: { name: string } }) => Promise<unknown>;
  (client as unknown as { send: typeof send }).send = async (command) => {
    const name = command.constructor.name;
    stats.calls[name] = (stats.calls[name] ?? 0) + 1;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    try {
      return await send(command);
    } catch (err) {
      const errorName = (err as Error).name ?? 'Error';
      stats.errors[errorName] = (stats.errors[errorName] ?? 0) + 1;
      throw err;
    } finally {
      stats.inFlight--;
    }
  };
  return stats;
}

/** Seeds moto directly (`endpoint`); the returned clients talk through `via` (the proxy). */
async function seed(endpoint: string, via: string, enis: number, jobs: number) {
  const { clients, account } = await seedFreshDemo(endpoint, REGION);
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const seedBedrock = new BedrockClient({ endpoint, region: REGION, credentials });
  const big = await clients.ec2.send(new CreateSubnetCommand({ VpcId: account.vpcId, CidrBlock: '10.42.32.0/20', AvailabilityZone: `${REGION}a` }));
  // The jobs ran in the big subnet of the stage VPC with the demo's security group: the janitor deletes
  // a job's ENIs only there, and only those its ledger entry recorded.
  const network: LedgerNetwork = { vpcId: account.vpcId, subnetIds: [big.Subnet!.SubnetId!], securityGroupIds: [account.securityGroupId] };
  const ledger = dynamoLedger(JOB_LEDGER_TABLE_NAME, { dynamodb: clients.dynamodb!, now: () => new Date() });
  const jobArns: string[] = [];
  for (let j = 0; j < jobs; j++) {
    const jobName = `bench-job-${j}`;
    await ledger.reserve({ jobName, owner: OWNER, clientRequestToken: jobName, network, maxJobDurationSeconds: 86_400 });
    const out = await seedBedrock.send(
      new CreateModelCustomizationJobCommand({
        jobName,
        customModelName: `bench-model-${j}`,
        roleArn: account.roleArn,
        baseModelIdentifier: 'amazon.titan-text-express-v1',
        trainingDataConfig: { s3Uri: `s3://${account.trainingBucket}/datasets/support.jsonl` },
        outputDataConfig: { s3Uri: `s3://${account.outputBucket}/runs/` },
        hyperParameters: {},
        vpcConfig: { subnetIds: network.subnetIds, securityGroupIds: network.securityGroupIds },
      }),
    );
    const submittedAt = new Date();
    await ledger.recordSubmission(jobName, OWNER, {
      jobArn: out.jobArn!,
      submittedAt: submittedAt.toISOString(),
      deadline: new Date(submittedAt.getTime() + 86_400_000).toISOString(),
    });
    await seedBedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: out.jobArn! }));
    jobArns.push(out.jobArn!);
  }
  const limit = pLimit(10);
  const created = await Promise.all(
    Array.from({ length: enis }, (_, i) =>
      limit(() =>
        clients.ec2.send(
          new CreateNetworkInterfaceCommand({
            SubnetId: big.Subnet!.SubnetId!,
            Groups: network.securityGroupIds,
            TagSpecifications: [
              {
                ResourceType: 'network-interface',
                Tags: [
                  { Key: BEDROCK_MANAGED_TAG, Value: 'true' },
                  { Key: BEDROCK_JOB_ARN_TAG, Value: jobArns[i % jobs]! },
                ],
              },
            ],
          }),
        ),
      ),
    ),
  );
  // What poll-status records while each job runs: its ENIs, in the job's ledger entry.
  for (let j = 0; j < jobs; j++) {
    const ids = created.flatMap((out, i) => (i % jobs === j ? [out.NetworkInterface!.NetworkInterfaceId!] : []));
    if (!(await ledger.recordEnis(`bench-job-${j}`, OWNER, ids))) throw new Error(`janitor bench: the ledger did not record bench-job-${j}'s ENIs`);
  }
  const ec2 = new EC2Client({ endpoint: via, region: REGION, credentials, ...JANITOR_RETRY });
  const bedrock = new BedrockClient({ endpoint: via, region: REGION, credentials, ...JANITOR_RETRY });
  const dynamodb = new DynamoDBClient({ endpoint: via, region: REGION, credentials, ...JANITOR_RETRY });
  const config: JanitorConfig = {
    dryRun: false,
    concurrency: 10,
    vpcIds: [account.vpcId],
    home: { region: REGION, accountId: account.accountId },
  };
  return { ec2, bedrock, dynamodb, config };
}

/**
 * The sequential baseline: the same listing as the janitor, each distinct job looked up once
 * (cached by job ARN), then each ENI of an ended job deleted, one at a time.
 */
async function sequentialBaseline(ec2: EC2Client, bedrock: BedrockClient, vpcIds: readonly string[]) {
  const enis = await listBedrockEnis(ec2, undefined, vpcIds);
  const statusOf = new Map<string, string>();
  let deleted = 0;
  for (const eni of enis) {
    const jobArn = eni.TagSet?.find((t) => t.Key === BEDROCK_JOB_ARN_TAG)?.Value;
    if (!jobArn) continue;
    let status = statusOf.get(jobArn);
    if (status === undefined) {
      const job = await bedrock
        .send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }))
        .catch((err: Error) => (err.name === 'ResourceNotFoundException' ? { status: 'unknown' } : Promise.reject(err)));
      status = String(job.status);
      statusOf.set(jobArn, status);
    }
    if (eni.Status === 'available' && TERMINAL.includes(status)) {
      await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId! }));
      deleted++;
    }
  }
  return deleted;
}

/** Baseline then janitor on the same population of `enis` ENIs, both through `proxy`. */
async function compare(endpoint: string, proxy: LatencyProxy, enis: number, jobs: number) {
  const base = await seed(endpoint, proxy.endpoint, enis, jobs);
  const baseEc2 = instrument(base.ec2);
  const baseBedrock = instrument(base.bedrock);
  proxy.reset();
  let started = performance.now();
  const baselineDeleted = await sequentialBaseline(base.ec2, base.bedrock, base.config.vpcIds);
  const baselineMs = performance.now() - started;
  const baseProxy = { ...proxy.stats };

  const ours = await seed(endpoint, proxy.endpoint, enis, jobs);
  const listed = await listBedrockEnis(ours.ec2);
  const distinctJobs = new Set(listed.map((e) => e.TagSet?.find((t) => t.Key === BEDROCK_JOB_ARN_TAG)?.Value)).size;
  const ec2Stats = instrument(ours.ec2);
  const bedrockStats = instrument(ours.bedrock);
  const dynamodbStats = instrument(ours.dynamodb);
  const ledger = dynamoLedger(JOB_LEDGER_TABLE_NAME, { dynamodb: ours.dynamodb, now: () => new Date() });
  proxy.reset();
  started = performance.now();
  const report = await sweep({}, ours.config, { ec2: ours.ec2, bedrock: ours.bedrock, ledger });
  const oursMs = performance.now() - started;
  const oursProxy = { ...proxy.stats };
  if (report.deleted.length !== enis || baselineDeleted !== enis) {
    throw new Error(`janitor bench: expected ${enis} deletions, got ${report.deleted.length} (baseline ${baselineDeleted}); kept: ${JSON.stringify(report.kept.slice(0, 3))}`);
  }
  // No throttling error may reach the janitor: the SDK's adaptive retry absorbs EC2's RequestLimitExceeded.
  const surfaced = [ec2Stats, bedrockStats, dynamodbStats, baseEc2, baseBedrock].flatMap((st) => Object.entries(st.errors)).filter(([name]) => THROTTLING.has(name));
  if (surfaced.length) throw new Error(`janitor bench: throttling errors reached the caller after the SDK's retries: ${JSON.stringify(Object.fromEntries(surfaced))}`);
  return { baselineMs, oursMs, baseEc2, baseBedrock, baseProxy, ec2Stats, bedrockStats, dynamodbStats, oursProxy, distinctJobs, listedEnis: listed.length };
}

/** Error names the SDK retries as throttling: THROTTLING_ERROR_CODES of @smithy/core (submodules/retry/service-error-classification/constants.js). */
const THROTTLING = new Set([
  'BandwidthLimitExceeded', 'EC2ThrottledException', 'LimitExceededException', 'PriorRequestNotComplete', 'ProvisionedThroughputExceededException',
  'RequestLimitExceeded', 'RequestThrottled', 'RequestThrottledException', 'SlowDown', 'ThrottledException', 'Throttling', 'ThrottlingException',
  'TooManyRequestsException', 'TransactionInProgressException',
]);

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
const ratio = (a: number, b: number) => Number((a / b).toFixed(2));

export async function run(ctx: { endpoint: string; quick?: boolean }): Promise<BenchFigure[]> {
  const { enis, jobs, modelledEnis } = ctx.quick ? SIZES.quick : SIZES.full;
  const bucket = EC2_MUTATING_BUCKET;
  const pagingOnly = await startLatencyProxy({ target: ctx.endpoint, roundTripMs: 0 });
  const modelledProxy = await startLatencyProxy({ target: ctx.endpoint, roundTripMs: ROUND_TRIP_MS, ec2MutatingBucket: bucket });
  try {
    const raw = await compare(ctx.endpoint, pagingOnly, enis, jobs);
    const m = await compare(ctx.endpoint, modelledProxy, modelledEnis, jobs);
    const perSecond = (n: number, ms: number) => Number(((n / ms) * 1000).toFixed(1));
    const rawRate = perSecond(enis, raw.oursMs);
    // What EC2 lets through in the same time: the burst, then the refill rate (per mutating action;
    // latency-proxy.ts names the page and says which figures are unconfirmed).
    const ec2Allows = (ms: number) => bucket.capacity + bucket.refillPerSecond * Math.floor(ms / 1000);
    const label = `janitor, ${modelledEnis} ENIs, modelled ${ROUND_TRIP_MS} ms round trip + EC2 throttling (${bucket.capacity} tokens, ${bucket.refillPerSecond}/s)`;
    return [
      { name: `janitor, ${enis} ENIs / ${jobs} jobs, moto: sequential baseline, look-ups cached`, value: Math.round(raw.baselineMs), unit: 'ms' },
      { name: `janitor, ${enis} ENIs / ${jobs} jobs, moto: janitor sweep`, value: Math.round(raw.oursMs), unit: 'ms' },
      // The 4x target is retired: against a baseline that caches look-ups, concurrency buys ~1.0–1.2x (moto queues, EC2 throttles).
      { name: 'janitor, moto: cached sequential baseline time ÷ janitor time', value: ratio(raw.baselineMs, raw.oursMs), unit: 'x' },
      { name: 'janitor, moto (no throttling): deletions per second', value: rawRate, unit: 'deletions/s' },
      {
        name: `janitor, moto: deletions per second ÷ EC2's sustained rate for a mutating action (refill ${bucket.refillPerSecond}/s, ec2-api-throttling; > 1: on AWS EC2's bucket, not the janitor, sets the pace)`,
        value: Number((rawRate / bucket.refillPerSecond).toFixed(1)),
        unit: 'x',
      },
      { name: 'janitor, moto: most calls in flight', value: raw.ec2Stats.maxInFlight, unit: 'calls', target: '<= 10' },
      {
        name: `janitor, moto: Bedrock look-ups (cached baseline; ${raw.distinctJobs} distinct jobs)`,
        value: raw.baseBedrock.calls.GetModelCustomizationJobCommand ?? 0,
        unit: 'calls',
        target: `= ${raw.distinctJobs}`,
      },
      {
        name: `janitor, moto: Bedrock look-ups (janitor; ${raw.distinctJobs} distinct jobs incl. the seed's leftover)`,
        value: raw.bedrockStats.calls.GetModelCustomizationJobCommand ?? 0,
        unit: 'calls',
        target: `= ${raw.distinctJobs}`,
      },
      {
        name: `janitor, moto: DescribeNetworkInterfaces pages (${raw.listedEnis} ENIs, ≤ ${PAGE.toLocaleString('en-US')} a page, paged by the proxy)`,
        value: raw.ec2Stats.calls.DescribeNetworkInterfacesCommand ?? 0,
        unit: 'calls',
        target: `= ${Math.ceil(raw.listedEnis / PAGE)}`,
      },
      {
        name: `janitor, moto: job ledger reads (janitor; ${jobs} ended jobs of the workflow)`,
        value: raw.dynamodbStats.calls.GetItemCommand ?? 0,
        unit: 'calls',
        target: `= ${jobs}`,
      },
      { name: 'janitor, moto: janitor AWS calls (SDK calls, EC2 + Bedrock)', value: sum(raw.ec2Stats.calls) + sum(raw.bedrockStats.calls), unit: 'calls' },
      { name: `${label}: sequential baseline, look-ups cached`, value: Math.round(m.baselineMs), unit: 'ms' },
      { name: `${label}: janitor sweep`, value: Math.round(m.oursMs), unit: 'ms' },
      { name: 'janitor, modelled: cached sequential baseline time ÷ janitor time', value: ratio(m.baselineMs, m.oursMs), unit: 'x' },
      { name: 'janitor, modelled: deletions per second', value: perSecond(modelledEnis, m.oursMs), unit: 'deletions/s' },
      {
        name: `janitor, modelled: deletions ÷ what EC2's bucket allows in the sweep's time (${bucket.capacity} + ${bucket.refillPerSecond}/s)`,
        value: Number((modelledEnis / ec2Allows(m.oursMs)).toFixed(2)),
        unit: 'x',
      },
      { name: 'janitor, modelled: most calls in flight', value: m.ec2Stats.maxInFlight, unit: 'calls', target: '<= 10' },
      { name: 'janitor, modelled: DeleteNetworkInterface answered 503 RequestLimitExceeded (baseline)', value: m.baseProxy.throttled.DeleteNetworkInterface ?? 0, unit: 'requests' },
      { name: 'janitor, modelled: DeleteNetworkInterface answered 503 RequestLimitExceeded (janitor)', value: m.oursProxy.throttled.DeleteNetworkInterface ?? 0, unit: 'requests' },
      {
        name: "janitor, modelled: throttling errors that reached the janitor after the SDK's retries (the bench fails on any)",
        value: [m.ec2Stats, m.bedrockStats, m.dynamodbStats].reduce((n, st) => n + Object.entries(st.errors).filter(([e]) => THROTTLING.has(e)).reduce((a, [, c]) => a + c, 0), 0),
        unit: 'errors',
        target: '= 0',
      },
      { name: 'janitor, modelled: HTTP requests incl. retries (baseline)', value: m.baseProxy.requests, unit: 'requests' },
      { name: 'janitor, modelled: HTTP requests incl. retries (janitor)', value: m.oursProxy.requests, unit: 'requests' },
      { name: 'janitor, modelled: janitor AWS calls (SDK calls, EC2 + Bedrock)', value: sum(m.ec2Stats.calls) + sum(m.bedrockStats.calls), unit: 'calls' },
    ];
  } finally {
    await pagingOnly.close();
    await modelledProxy.close();
  }
}

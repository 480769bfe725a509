/**
 * Benchmark of the janitor against moto: a sweep of 2,000 BedrockManaged ENIs of 20 ended jobs,
 * the janitor (one Bedrock look-up per distinct job, ≤ 10 deletions in flight) vs a sequential
 * baseline (for each ENI in turn: look its job up, then delete it). Both run on the same seeded
 * population; moto is reset between them. The ENIs are seeded in the stage VPC, in the subnet their
 * jobs ran in (each job's vpcConfig), and the janitor gets its first-sightings table (DynamoDB, moto).
 *
 * moto is one Python process: each call costs server CPU (≈ 12 ms for a delete among 2,000 ENIs)
 * and concurrent calls mostly queue, so concurrency gains little there. AWS calls cost mostly a
 * network round trip, which concurrency overlaps. A second, smaller run therefore adds a fixed
 * delay to every call on the client side (labelled "modelled 25 ms round trip"): a model of the
 * network, not a measurement of AWS.
 */
import { BedrockClient, CreateModelCustomizationJobCommand, GetModelCustomizationJobCommand, StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateNetworkInterfaceCommand, CreateSubnetCommand, DeleteNetworkInterfaceCommand, EC2Client } from '@aws-sdk/client-ec2';
import pLimit from 'p-limit';
import { sweep, type JanitorConfig } from '../../functions/janitor/janitor.js';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG, listBedrockEnis } from '../../functions/shared/bedrock-enis.js';
import { clientsFor, createSightingsTable, seedDemoAccount } from '../lib/seed.js';
import type { BenchFigure } from './preflight.js';

const REGION = 'us-east-1';
const ENIS = 2000;
const JOBS = 20;

/** Counts calls and the most in flight at once, per command, around a client's `send`; optional delay per call. */
function instrument<C extends { send: (...args: never[]) => Promise<unknown> }>(client: C, delayMs = 0) {
  const stats = { calls: {} as Record<string, number>, inFlight: 0, maxInFlight: 0 };
  const send = client.send.bind(client) as (command: { constructor: { name: string } }) => Promise<unknown>;
  (client as unknown as { send: typeof send }).send = async (command) => {
    const name = command.constructor.name;
    stats.calls[name] = (stats.calls[name] ?? 0) + 1;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    try {
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      return await send(command);
    } finally {
      stats.inFlight--;
    }
  };
  return stats;
}

async function seed(endpoint: string, enis = ENIS) {
  await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  const clients = clientsFor(endpoint, REGION);
  const account = await seedDemoAccount(clients, REGION);
  const bedrock = new BedrockClient({ endpoint, region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const big = await clients.ec2.send(new CreateSubnetCommand({ VpcId: account.vpcId, CidrBlock: '10.42.32.0/20', AvailabilityZone: `${REGION}a` }));
  const jobArns: string[] = [];
  for (let j = 0; j < JOBS; j++) {
    const out = await bedrock.send(
      new CreateModelCustomizationJobCommand({
        jobName: `bench-job-${j}`,
        customModelName: `bench-model-${j}`,
        roleArn: account.roleArn,
        baseModelIdentifier: 'amazon.titan-text-express-v1',
        trainingDataConfig: { s3Uri: `s3://${account.trainingBucket}/datasets/support.jsonl` },
        outputDataConfig: { s3Uri: `s3://${account.outputBucket}/runs/` },
        hyperParameters: {},
        // The jobs ran in the big subnet of the stage VPC: the janitor deletes a job's ENIs only there.
        vpcConfig: { subnetIds: [big.Subnet!.SubnetId!], securityGroupIds: [account.securityGroupId] },
      }),
    );
    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: out.jobArn! }));
    jobArns.push(out.jobArn!);
  }
  const limit = pLimit(10);
  await Promise.all(
    Array.from({ length: enis }, (_, i) =>
      limit(() =>
        clients.ec2.send(
          new CreateNetworkInterfaceCommand({
            SubnetId: big.Subnet!.SubnetId!,
            TagSpecifications: [
              {
                ResourceType: 'network-interface',
                Tags: [
                  { Key: BEDROCK_MANAGED_TAG, Value: 'true' },
                  { Key: BEDROCK_JOB_ARN_TAG, Value: jobArns[i % JOBS]! },
                ],
              },
            ],
          }),
        ),
      ),
    ),
  );
  const ec2 = new EC2Client({ endpoint, region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const dynamodb = new DynamoDBClient({ endpoint, region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const sightingsTable = await createSightingsTable(dynamodb);
  const config: JanitorConfig = {
    graceSeconds: 86_400,
    dryRun: false,
    concurrency: 10,
    vpcIds: [account.vpcId],
    home: { region: REGION, accountId: account.accountId },
    sightingsTable,
  };
  return { ec2, bedrock, dynamodb, config };
}

/** The sequential baseline: every ENI in turn, its job looked up, then the ENI deleted. */
async function sequentialBaseline(ec2: EC2Client, bedrock: BedrockClient) {
  const enis = await listBedrockEnis(ec2);
  let deleted = 0;
  for (const eni of enis) {
    const jobArn = eni.TagSet?.find((t) => t.Key === BEDROCK_JOB_ARN_TAG)?.Value;
    const job = await bedrock
      .send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn! }))
      .catch((err: Error) => (err.name === 'ResourceNotFoundException' ? { status: 'unknown' } : Promise.reject(err)));
    if (eni.Status === 'available' && ['Completed', 'Failed', 'Stopped'].includes(String(job.status))) {
      await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId! }));
      deleted++;
    }
  }
  return deleted;
}

/** Baseline then janitor on the same population of `enis` ENIs, every call delayed by `delayMs`. */
async function compare(endpoint: string, enis: number, delayMs: number) {
  const base = await seed(endpoint, enis);
  instrument(base.ec2, delayMs);
  const baseBedrock = instrument(base.bedrock, delayMs);
  let started = performance.now();
  const baselineDeleted = await sequentialBaseline(base.ec2, base.bedrock);
  const baselineMs = performance.now() - started;

  const ours = await seed(endpoint, enis);
  const distinctJobs = new Set((await listBedrockEnis(ours.ec2)).map((e) => e.TagSet?.find((t) => t.Key === BEDROCK_JOB_ARN_TAG)?.Value)).size;
  const ec2Stats = instrument(ours.ec2, delayMs);
  const bedrockStats = instrument(ours.bedrock, delayMs);
  started = performance.now();
  const report = await sweep({}, ours.config, { ec2: ours.ec2, bedrock: ours.bedrock, dynamodb: ours.dynamodb, now: () => new Date() });
  const oursMs = performance.now() - started;
  if (report.deleted.length !== enis || baselineDeleted !== enis) {
    throw new Error(`janitor bench: expected ${enis} deletions, got ${report.deleted.length} (baseline ${baselineDeleted})`);
  }
  return { baselineMs, oursMs, baseBedrock, ec2Stats, bedrockStats, distinctJobs };
}

export async function run(ctx: { endpoint: string }): Promise<BenchFigure[]> {
  const raw = await compare(ctx.endpoint, ENIS, 0);
  const modelled = await compare(ctx.endpoint, 500, 25);
  return [
    { name: 'janitor, 2000 ENIs / 20 jobs, moto: sequential baseline', value: Math.round(raw.baselineMs), unit: 'ms' },
    { name: 'janitor, 2000 ENIs / 20 jobs, moto: janitor sweep', value: Math.round(raw.oursMs), unit: 'ms' },
    { name: 'janitor, moto: faster than the sequential baseline', value: Number((raw.baselineMs / raw.oursMs).toFixed(1)), unit: 'x', target: '>= 4' },
    { name: 'janitor, moto: most calls in flight', value: raw.ec2Stats.maxInFlight, unit: 'calls', target: '<= 10' },
    { name: 'janitor, moto: Bedrock look-ups (baseline)', value: raw.baseBedrock.calls.GetModelCustomizationJobCommand ?? 0, unit: 'calls' },
    {
      name: `janitor, moto: Bedrock look-ups (janitor; ${raw.distinctJobs} distinct jobs incl. the seed's leftover)`,
      value: raw.bedrockStats.calls.GetModelCustomizationJobCommand ?? 0,
      unit: 'calls',
      target: `= ${raw.distinctJobs}`,
    },
    { name: 'janitor, moto: DescribeNetworkInterfaces pages', value: raw.ec2Stats.calls.DescribeNetworkInterfacesCommand ?? 0, unit: 'calls' },
    { name: 'janitor, 500 ENIs, modelled 25 ms round trip: sequential baseline', value: Math.round(modelled.baselineMs), unit: 'ms' },
    { name: 'janitor, 500 ENIs, modelled 25 ms round trip: janitor sweep', value: Math.round(modelled.oursMs), unit: 'ms' },
    {
      name: 'janitor, modelled 25 ms round trip: faster than the sequential baseline',
      value: Number((modelled.baselineMs / modelled.oursMs).toFixed(1)),
      unit: 'x',
      target: '>= 4',
    },
    { name: 'janitor, modelled round trip: most calls in flight', value: modelled.ec2Stats.maxInFlight, unit: 'calls', target: '<= 10' },
  ];
}

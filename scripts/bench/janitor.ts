/**
 * Benchmark of the janitor against moto: a sweep of 2,000 BedrockManaged ENIs of 20 ended jobs,
 * the janitor (one Bedrock look-up per distinct job, ≤ 10 deletions in flight) vs a sequential
 * baseline (for each ENI in turn: look its job up, then delete it). Both run on the same seeded
 * population; moto is reset between them. Note: moto answers on loopback in about a millisecond,
 * so the gain from concurrency here is smaller than against AWS, where each call takes tens of ms.
 */
import { BedrockClient, CreateModelCustomizationJobCommand, GetModelCustomizationJobCommand, StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { CreateNetworkInterfaceCommand, CreateSubnetCommand, DeleteNetworkInterfaceCommand, EC2Client } from '@aws-sdk/client-ec2';
import pLimit from 'p-limit';
import { listBedrockEnis, sweep } from '../../functions/janitor/janitor.js';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG } from '../../functions/shared/bedrock-tags.js';
import { clientsFor, seedDemoAccount } from '../lib/seed.js';
import type { BenchFigure } from './preflight.js';

const REGION = 'us-east-1';
const ENIS = 2000;
const JOBS = 20;

/** Counts calls and the most in flight at once, per command, around a client's `send`. */
function instrument<C extends { send: (...args: never[]) => Promise<unknown> }>(client: C) {
  const stats = { calls: {} as Record<string, number>, inFlight: 0, maxInFlight: 0 };
  const send = client.send.bind(client) as (command: { constructor: { name: string } }) => Promise<unknown>;
  (client as unknown as { send: typeof send }).send = async (command) => {
    const name = command.constructor.name;
    stats.calls[name] = (stats.calls[name] ?? 0) + 1;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    try {
      return await send(command);
    } finally {
      stats.inFlight--;
    }
  };
  return stats;
}

async function seed(endpoint: string) {
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
      }),
    );
    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: out.jobArn! }));
    jobArns.push(out.jobArn!);
  }
  const limit = pLimit(10);
  await Promise.all(
    Array.from({ length: ENIS }, (_, i) =>
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
  return { ec2, bedrock };
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

export async function run(ctx: { endpoint: string }): Promise<BenchFigure[]> {
  const base = await seed(ctx.endpoint);
  const baseBedrock = instrument(base.bedrock);
  let started = performance.now();
  const baselineDeleted = await sequentialBaseline(base.ec2, base.bedrock);
  const baselineMs = performance.now() - started;

  const ours = await seed(ctx.endpoint);
  const ec2Stats = instrument(ours.ec2);
  const bedrockStats = instrument(ours.bedrock);
  started = performance.now();
  const report = await sweep({}, { graceSeconds: 86_400, dryRun: false, concurrency: 10 }, { ...ours, now: () => new Date() });
  const oursMs = performance.now() - started;
  if (report.deleted.length !== ENIS || baselineDeleted !== ENIS) {
    throw new Error(`janitor bench: expected ${ENIS} deletions, got ${report.deleted.length} (baseline ${baselineDeleted})`);
  }
  return [
    { name: 'janitor, 2000 ENIs / 20 jobs: sequential baseline', value: Math.round(baselineMs), unit: 'ms' },
    { name: 'janitor, 2000 ENIs / 20 jobs: janitor sweep', value: Math.round(oursMs), unit: 'ms' },
    { name: 'janitor: faster than the sequential baseline', value: Number((baselineMs / oursMs).toFixed(1)), unit: 'x', target: '>= 4' },
    { name: 'janitor: most calls in flight', value: ec2Stats.maxInFlight, unit: 'calls', target: '<= 10' },
    { name: 'janitor: Bedrock look-ups (baseline)', value: baseBedrock.calls.GetModelCustomizationJobCommand ?? 0, unit: 'calls' },
    { name: 'janitor: Bedrock look-ups (janitor)', value: bedrockStats.calls.GetModelCustomizationJobCommand ?? 0, unit: 'calls', target: `= ${JOBS} (one per job)` },
    { name: 'janitor: DescribeNetworkInterfaces pages', value: ec2Stats.calls.DescribeNetworkInterfacesCommand ?? 0, unit: 'calls' },
  ];
}

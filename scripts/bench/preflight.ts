/**
 * Benchmark of the network preflight against moto: AWS calls for 1, 4 and 16 subnets (the figure
 * that must stay constant) and the wall time of one preflight. Seeds the demo account plus 13 more
 * subnets (16 in all, over six zones) on the endpoint's route table. Resets moto first: run it alone.
 */
import { CreateSubnetCommand, AssociateRouteTableCommand } from '@aws-sdk/client-ec2';
import { resolveJobInput } from '../../functions/shared/job-input.js';
import { stageFromParams } from '../../functions/shared/stage.js';
import { buildReport } from '../../functions/validate-network/validate-network.js';
import { clientsFor, demoJobInput, demoStageParams, seedDemoAccount } from '../lib/seed.js';

export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  target?: string;
}

const REGION = 'us-east-1';

export async function run(ctx: { endpoint: string }): Promise<BenchFigure[]> {
  const reset = await fetch(`${ctx.endpoint}/moto-api/reset`, { method: 'POST' });
  if (!reset.ok) throw new Error(`moto reset failed: ${reset.status}`);
  const clients = clientsFor(ctx.endpoint, REGION);
  const account = await seedDemoAccount(clients, REGION);
  const subnetIds = [...account.subnetIds];
  for (let i = subnetIds.length; i < 16; i++) {
    const out = await clients.ec2.send(
      new CreateSubnetCommand({ VpcId: account.vpcId, CidrBlock: `10.42.${10 + i}.0/24`, AvailabilityZone: `${REGION}${'abcdef'[i % 6]}` }),
    );
    subnetIds.push(out.Subnet!.SubnetId!);
    await clients.ec2.send(new AssociateRouteTableCommand({ RouteTableId: account.routeTableId, SubnetId: out.Subnet!.SubnetId! }));
  }
  const execution = { id: `arn:aws:states:${REGION}:123456789012:execution:bench:preflight`, name: 'preflight' };
  const preflight = async (count: number) => {
    const job = resolveJobInput(
      demoJobInput(account, { vpcConfig: { vpcId: account.vpcId, subnetIds: subnetIds.slice(0, count), securityGroupIds: [account.securityGroupId] } }),
      stageFromParams(demoStageParams(account, { subnetIds: subnetIds.join(',') }), { accountId: account.accountId, region: REGION }),
      execution,
    );
    const started = performance.now();
    const report = await buildReport(job, clients);
    return { report, ms: performance.now() - started };
  };

  await preflight(1); // warm-up: moto builds its EC2 defaults on the first call
  const figures: BenchFigure[] = [];
  for (const count of [1, 4, 16]) {
    const { report } = await preflight(count);
    figures.push({ name: `preflight.awsCalls.${count}subnets`, value: report.awsCalls, unit: 'calls', target: '<= 12' });
  }
  const { report } = await preflight(16);
  figures.push({ name: 'preflight.ec2Calls.16subnets', value: report.awsCallsByService.ec2, unit: 'calls', target: 'constant' });
  const times: number[] = [];
  for (let i = 0; i < 5; i++) times.push((await preflight(16)).ms);
  times.sort((a, b) => a - b);
  figures.push({ name: 'preflight.wallTime.16subnets.median', value: Math.round(times[2]!), unit: 'ms' });
  return figures;
}

/** Helpers shared by the network checks: route tables, the job subnets in the VPC, live gateway endpoints. */
import type { RouteTable, Subnet, VpcEndpoint } from '@aws-sdk/client-ec2';
import { isLiveEndpoint } from '../shared/s3.js';
import type { PreflightFacts, VpcFacts } from './facts.js';

/** The route table a subnet uses: its explicit association, else the VPC's main table. */
export function effectiveRouteTable(subnetId: string, tables: RouteTable[]): RouteTable | undefined {
  return (
    tables.find((t) => (t.Associations ?? []).some((a) => a.SubnetId === subnetId)) ??
    tables.find((t) => (t.Associations ?? []).some((a) => a.Main === true))
  );
}

/** The job's subnets that are in the job's VPC. */
export function jobSubnetsInVpc(facts: PreflightFacts): Subnet[] {
  return facts.jobSubnets.filter((s) => s.VpcId === facts.vpcId);
}

/** Live S3 gateway endpoints of the VPC. */
export function gatewayEndpoints(vpc: VpcFacts): VpcEndpoint[] {
  return vpc.s3Endpoints.filter((e) => e.VpcEndpointType === 'Gateway' && isLiveEndpoint(e));
}

/** True for the VPC's main route table. */
export const isMain = (t: RouteTable) => (t.Associations ?? []).some((a) => a.Main === true);

/**
 * The network interfaces Amazon Bedrock creates for a customization job: how to find them and how to
 * delete one. (The guide's prose spells the job tag "BedrockModelCusomizationJobArn": a typo; this is the key.)
 */
import { DeleteNetworkInterfaceCommand, paginateDescribeNetworkInterfaces, type EC2Client, type NetworkInterface } from '@aws-sdk/client-ec2';
import { isAwsError } from './aws-errors.js';
import { collect } from './sdk.js';

export const BEDROCK_MANAGED_TAG = 'BedrockManaged';
export const BEDROCK_JOB_ARN_TAG = 'BedrockModelCustomizationJobArn';

/** The value of tag `key` on `eni`, if any. */
export function tagOf(eni: NetworkInterface, key: string): string | undefined {
  return eni.TagSet?.find((t) => t.Key === key)?.Value;
}

/**
 * Every ENI tagged `BedrockManaged=true` (of one job when `jobArn` is given; only in the VPCs
 * `vpcIds` when given), all pages, 1,000 a page. The tags and the VPC are checked again in code: a
 * filter is not the only safeguard before a delete.
 */
export async function listBedrockEnis(ec2: EC2Client, jobArn?: string, vpcIds?: readonly string[]): Promise<NetworkInterface[]> {
  const Filters = [{ Name: `tag:${BEDROCK_MANAGED_TAG}`, Values: ['true'] }];
  if (jobArn) Filters.push({ Name: `tag:${BEDROCK_JOB_ARN_TAG}`, Values: [jobArn] });
  if (vpcIds) Filters.push({ Name: 'vpc-id', Values: [...vpcIds] });
  const enis = await collect(paginateDescribeNetworkInterfaces({ client: ec2, pageSize: 1000 }, { Filters }), (p) => p.NetworkInterfaces);
  return enis.filter(
    (eni) =>
      tagOf(eni, BEDROCK_MANAGED_TAG) === 'true' &&
      (!jobArn || tagOf(eni, BEDROCK_JOB_ARN_TAG) === jobArn) &&
      (!vpcIds || (eni.VpcId !== undefined && vpcIds.includes(eni.VpcId))),
  );
}

/**
 * Deletes one ENI. `gone` when it no longer exists (deleted meanwhile: counts as cleaned); any other
 * error is thrown. The caller has checked that the ENI is ours and `available`.
 */
export async function deleteEni(ec2: EC2Client, networkInterfaceId: string): Promise<'deleted' | 'gone'> {
  try {
    await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: networkInterfaceId }));
    return 'deleted';
  } catch (err) {
    if (isAwsError(err, 'InvalidNetworkInterfaceID.NotFound')) return 'gone';
    throw err;
  }
}

/** The network a job runs in (its `vpcConfig`, as the job ledger records it). */
export interface JobNetwork {
  vpcId: string;
  subnetIds: string[];
  securityGroupIds: string[];
}

/**
 * Why `eni` cannot be one Bedrock created for the job in `network` (undefined when it can): both of
 * Bedrock's tags for the job, in the job's VPC and one of its subnets, and no security group but the
 * job's (Bedrock gives its ENIs the job's `vpcConfig.securityGroupIds`). Tags alone are not proof
 * (anyone with ec2:CreateTags writes them): these are the checks the ENI's own attributes allow; the
 * job ledger adds "seen while the job ran" (shared/ledger.ts).
 */
export function notInJobNetwork(eni: NetworkInterface, jobArn: string, network: JobNetwork): string | undefined {
  if (tagOf(eni, BEDROCK_MANAGED_TAG) !== 'true' || tagOf(eni, BEDROCK_JOB_ARN_TAG) !== jobArn) return 'not tagged for the job';
  if (eni.VpcId !== network.vpcId) return `in VPC ${eni.VpcId ?? '(none)'}, not the job's`;
  if (!eni.SubnetId || !network.subnetIds.includes(eni.SubnetId)) return `in subnet ${eni.SubnetId ?? '(none)'}, not one of the job's`;
  const groups = (eni.Groups ?? []).map((g) => g.GroupId ?? '');
  if (groups.length === 0 || groups.some((g) => !network.securityGroupIds.includes(g))) return `security groups ${groups.join(',') || '(none)'} are not the job's`;
  return undefined;
}

/** The ENIs tagged for `jobArn` that sit in the job's network ({@link notInJobNetwork}). */
export async function jobEnisInNetwork(ec2: EC2Client, jobArn: string, network: JobNetwork): Promise<NetworkInterface[]> {
  const Filters = [
    { Name: `tag:${BEDROCK_MANAGED_TAG}`, Values: ['true'] },
    { Name: `tag:${BEDROCK_JOB_ARN_TAG}`, Values: [jobArn] },
    { Name: 'vpc-id', Values: [network.vpcId] },
    { Name: 'subnet-id', Values: [...network.subnetIds] },
  ];
  const enis = await collect(paginateDescribeNetworkInterfaces({ client: ec2, pageSize: 1000 }, { Filters }), (p) => p.NetworkInterfaces);
  return enis.filter((eni) => notInJobNetwork(eni, jobArn, network) === undefined);
}

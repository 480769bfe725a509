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

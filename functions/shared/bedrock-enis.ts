/**
 * The network interfaces Amazon Bedrock creates for a customization job, and how to find them.
 * (The guide's prose spells the job tag "BedrockModelCusomizationJobArn": a typo; this is the key.)
 */
import { DescribeNetworkInterfacesCommand, type EC2Client, type NetworkInterface } from '@aws-sdk/client-ec2';

export const BEDROCK_MANAGED_TAG = 'BedrockManaged';
export const BEDROCK_JOB_ARN_TAG = 'BedrockModelCustomizationJobArn';

/** The value of tag `key` on `eni`, if any. */
export function tagOf(eni: NetworkInterface, key: string): string | undefined {
  return eni.TagSet?.find((t) => t.Key === key)?.Value;
}

/**
 * Every ENI tagged `BedrockManaged=true` (of one job when `jobArn` is given), all pages, 1,000 a
 * page. The tag is checked again in code: a filter is not the only safeguard before a delete.
 */
export async function listBedrockEnis(ec2: Pick<EC2Client, 'send'>, jobArn?: string): Promise<NetworkInterface[]> {
  const filters = [{ Name: `tag:${BEDROCK_MANAGED_TAG}`, Values: ['true'] }];
  if (jobArn) filters.push({ Name: `tag:${BEDROCK_JOB_ARN_TAG}`, Values: [jobArn] });
  const all: NetworkInterface[] = [];
  let NextToken: string | undefined;
  do {
    const out = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: filters, MaxResults: 1000, NextToken }));
    all.push(...(out.NetworkInterfaces ?? []));
    NextToken = out.NextToken;
  } while (NextToken);
  return all.filter((eni) => tagOf(eni, BEDROCK_MANAGED_TAG) === 'true' && (!jobArn || tagOf(eni, BEDROCK_JOB_ARN_TAG) === jobArn));
}

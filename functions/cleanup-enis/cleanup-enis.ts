/**
 * cleanup-enis: after the job ends, delete the network interfaces Bedrock created for it.
 *
 * Safety rules (never damage the account):
 * - only ENIs carrying BOTH tags `BedrockManaged=true` and `BedrockModelCustomizationJobArn=<this job>`
 *   are considered; the tags are checked again in code, not only trusted to the API filter;
 * - only ENIs in status `available` are deleted; `in-use` ones are reported, never detached or forced;
 * - an ENI that disappears before we delete it counts as cleaned.
 *
 * ENIs still attached shortly after the job ended make it throw {@link EnisStillInUseError} once the
 * others are deleted: the state machine retries with backoff, then reports them (never forces).
 */
import {
  DeleteNetworkInterfaceCommand,
  DescribeNetworkInterfacesCommand,
  type EC2Client,
  type NetworkInterface,
} from '@aws-sdk/client-ec2';
import { isAwsError } from '../shared/aws-errors.js';
import { EnisStillInUseError } from '../shared/errors.js';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG } from '../shared/bedrock-tags.js';

export interface CleanupEnisDeps {
  ec2: Pick<EC2Client, 'send'>;
}

export interface CleanupResult {
  jobArn: string;
  /** Deleted by this run. */
  deleted: string[];
  /** Already gone when we tried to delete them: counted as cleaned. */
  alreadyGone: string[];
  /** Still attached (`in-use` or another non-available status): reported, left alone. */
  notAvailable: { networkInterfaceId: string; status: string }[];
  summary: string;
}

/** True when `eni` is tagged as Bedrock's and as belonging to `jobArn`. */
export function belongsToJob(eni: NetworkInterface, jobArn: string): boolean {
  const tags = new Map((eni.TagSet ?? []).map((t) => [t.Key, t.Value]));
  return tags.get(BEDROCK_MANAGED_TAG) === 'true' && tags.get(BEDROCK_JOB_ARN_TAG) === jobArn;
}

/** Lists the job's ENIs (both tags, every page). */
export async function listJobEnis(jobArn: string, { ec2 }: CleanupEnisDeps): Promise<NetworkInterface[]> {
  const enis: NetworkInterface[] = [];
  let NextToken: string | undefined;
  do {
    const out = await ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [
          { Name: `tag:${BEDROCK_MANAGED_TAG}`, Values: ['true'] },
          { Name: `tag:${BEDROCK_JOB_ARN_TAG}`, Values: [jobArn] },
        ],
        MaxResults: 1000,
        NextToken,
      }),
    );
    enis.push(...(out.NetworkInterfaces ?? []).filter((eni) => belongsToJob(eni, jobArn)));
    NextToken = out.NextToken;
  } while (NextToken);
  return enis;
}

export async function cleanupEnis(jobArn: string, deps: CleanupEnisDeps): Promise<CleanupResult> {
  const enis = await listJobEnis(jobArn, deps);
  const result: CleanupResult = { jobArn, deleted: [], alreadyGone: [], notAvailable: [], summary: '' };
  for (const eni of enis) {
    const id = eni.NetworkInterfaceId!;
    if (eni.Status !== 'available') {
      result.notAvailable.push({ networkInterfaceId: id, status: eni.Status ?? 'unknown' });
      continue;
    }
    try {
      await deps.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id }));
      result.deleted.push(id);
    } catch (err) {
      if (!isAwsError(err, 'InvalidNetworkInterfaceID.NotFound')) throw err;
      result.alreadyGone.push(id);
    }
  }
  result.summary =
    `Deleted ${result.deleted.length} network interface(s) of the job` +
    (result.alreadyGone.length ? `, ${result.alreadyGone.length} already gone` : '') +
    (result.notAvailable.length
      ? `; ${result.notAvailable.length} still attached and left alone: ${result.notAvailable.map((e) => `${e.networkInterfaceId} (${e.status})`).join(', ')}`
      : '') +
    '.';
  if (result.notAvailable.length > 0) throw new EnisStillInUseError(result.summary, result);
  return result;
}

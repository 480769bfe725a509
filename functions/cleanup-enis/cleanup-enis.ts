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
import type { EC2Client } from '@aws-sdk/client-ec2';
import { EnisStillInUseError } from '../shared/errors.js';
import { deleteEni, listBedrockEnis } from '../shared/bedrock-enis.js';

export interface CleanupEnisDeps {
  ec2: EC2Client;
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

export async function cleanupEnis(jobArn: string, deps: CleanupEnisDeps): Promise<CleanupResult> {
  const enis = await listBedrockEnis(deps.ec2, jobArn);
  const result: CleanupResult = { jobArn, deleted: [], alreadyGone: [], notAvailable: [], summary: '' };
  for (const eni of enis) {
    const id = eni.NetworkInterfaceId!;
    if (eni.Status !== 'available') {
      result.notAvailable.push({ networkInterfaceId: id, status: eni.Status ?? 'unknown' });
      continue;
    }
    if ((await deleteEni(deps.ec2, id)) === 'deleted') result.deleted.push(id);
    else result.alreadyGone.push(id);
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

/**
 * cleanup-enis: after the job ends, delete the network interfaces Bedrock created for it.
 *
 * Safety rules (never damage the account):
 * - only this job's supervisor cleans up: the job ledger must name this execution (shared/ledger.ts),
 *   else {@link JobNotOursError} and nothing is deleted;
 * - only ENIs the ledger recorded while the job ran are candidates (poll-status records those tagged
 *   for the job in its subnets with its security groups): a tag written later by anyone else makes no
 *   ENI a candidate. ENIs tagged for the job that were never recorded are reported, not deleted;
 * - each candidate is checked again now (still tagged for the job, still in its network:
 *   shared/bedrock-enis.ts notInJobNetwork) and deleted only in status `available`; `in-use` ones are
 *   reported, never detached or forced;
 * - an ENI that disappears before we delete it counts as cleaned.
 *
 * ENIs still attached shortly after the job ended make it throw {@link EnisStillInUseError} once the
 * others are deleted: the state machine retries with backoff, then reports them (never forces).
 */
import { paginateDescribeNetworkInterfaces, type EC2Client } from '@aws-sdk/client-ec2';
import { EnisStillInUseError, JobNotOursError } from '../shared/errors.js';
import { deleteEni, listBedrockEnis, notInJobNetwork } from '../shared/bedrock-enis.js';
import { requireSupervisor, type Ledger } from '../shared/ledger.js';
import { collect } from '../shared/sdk.js';
import type { Submission } from '../shared/job-state.js';

export interface CleanupEnisDeps {
  ec2: EC2Client;
  ledger: Ledger;
}

export interface CleanupEnisInput {
  submission: Pick<Submission, 'jobArn' | 'jobName'>;
  /** The chain's first execution (the job's owner). */
  execution: { id: string };
  /** This execution (`$$.Execution.Id`). */
  self: string;
}

export interface CleanupResult {
  jobArn: string;
  /** Deleted by this run. */
  deleted: string[];
  /** Already gone when we tried to delete them: counted as cleaned. */
  alreadyGone: string[];
  /** Still attached (`in-use` or another non-available status): reported, left alone. */
  notAvailable: { networkInterfaceId: string; status: string }[];
  /** Recorded while the job ran but no longer tagged for it or no longer in its network: left alone. */
  changed: { networkInterfaceId: string; reason: string }[];
  /** Tagged for the job but never recorded while it ran: left alone (a tag is not proof). */
  notRecorded: string[];
  summary: string;
}

/** Most ENI ids of one DescribeNetworkInterfaces filter value list (EC2 accepts up to 200 values a filter). */
const IDS_PER_DESCRIBE = 200;

export async function cleanupEnis(input: CleanupEnisInput, deps: CleanupEnisDeps): Promise<CleanupResult> {
  const { jobArn, jobName } = input.submission;
  const entry = await requireSupervisor(
    deps.ledger,
    jobName,
    { owner: input.execution.id, jobArn, self: input.self },
    (why) => `Not cleaning up the ENIs of job ${jobArn}: ${why}. Nothing was deleted.`,
  );
  const recorded = new Set(entry.enis);
  const result: CleanupResult = { jobArn, deleted: [], alreadyGone: [], notAvailable: [], changed: [], notRecorded: [], summary: '' };

  const seen = new Set<string>();
  const ids = [...recorded];
  for (let i = 0; i < ids.length; i += IDS_PER_DESCRIBE) {
    const Filters = [{ Name: 'network-interface-id', Values: ids.slice(i, i + IDS_PER_DESCRIBE) }];
    const enis = await collect(paginateDescribeNetworkInterfaces({ client: deps.ec2, pageSize: 1000 }, { Filters }), (p) => p.NetworkInterfaces);
    for (const eni of enis) {
      const id = eni.NetworkInterfaceId!;
      if (!recorded.has(id)) continue;
      seen.add(id);
      const changed = notInJobNetwork(eni, jobArn, entry.network);
      if (changed) {
        result.changed.push({ networkInterfaceId: id, reason: changed });
        continue;
      }
      if (eni.Status !== 'available') {
        result.notAvailable.push({ networkInterfaceId: id, status: eni.Status ?? 'unknown' });
        continue;
      }
      if ((await deleteEni(deps.ec2, id)) === 'deleted') result.deleted.push(id);
      else result.alreadyGone.push(id);
    }
  }
  // Recorded, and no longer described: deleted meanwhile.
  for (const id of ids) if (!seen.has(id)) result.alreadyGone.push(id);
  result.notRecorded = (await listBedrockEnis(deps.ec2, jobArn)).map((e) => e.NetworkInterfaceId!).filter((id) => !recorded.has(id));

  result.summary =
    `Deleted ${result.deleted.length} network interface(s) of the job` +
    (result.alreadyGone.length ? `, ${result.alreadyGone.length} already gone` : '') +
    (result.notAvailable.length
      ? `; ${result.notAvailable.length} still attached and left alone: ${result.notAvailable.map((e) => `${e.networkInterfaceId} (${e.status})`).join(', ')}`
      : '') +
    (result.changed.length ? `; ${result.changed.length} no longer the job's (tags or network changed), left alone: ${result.changed.map((e) => e.networkInterfaceId).join(', ')}` : '') +
    (result.notRecorded.length ? `; ${result.notRecorded.length} tagged for the job but never seen while it ran, left alone: ${result.notRecorded.join(', ')}` : '') +
    '.';
  if (result.notAvailable.length > 0) throw new EnisStillInUseError(result.summary, result);
  return result;
}

/**
 * The job ledger for unit tests: the real {@link dynamoLedger} over a mocked DynamoDBClient whose calls
 * an in-memory store answers (test/support/mock-leases.ts emulateTables, which evaluates the ledger's
 * condition and update expressions). Entries are only ever made by the ledger's own calls (reserve,
 * recordSubmission, designate, claim, reap), never written by hand, so a test sees exactly the entries
 * the workflow's functions would leave.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';
import { dynamoLedger, type Ledger, type LedgerNetwork } from '../../functions/shared/ledger.js';
import type { MemoryDynamoDB } from '../../local/dynamodb-memory.js';
import { emulateTables } from './mock-leases.js';

/** The stack's JobLedgerTable as the unit setup names it (test/setup/unit.ts). */
export const LEDGER_TABLE = process.env.JOB_LEDGER_TABLE ?? 'job-ledger';

/** The network an entry records (the fixtures' VPC). */
export const LEDGER_NETWORK: LedgerNetwork = {
  vpcId: 'vpc-0123456789abcdef0',
  subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
  securityGroupIds: ['sg-0123456789abcdef0'],
};

/** One job as the workflow would have left it in the ledger. */
export interface LedgerSetup {
  jobName: string;
  /** The chain's first execution (it reserved the name; it supervises until a hand-over). */
  owner: string;
  /** The token submit-job created the job with (default `<jobName>-token`). */
  clientRequestToken?: string;
  /** Recorded after CreateModelCustomizationJob; absent: the entry is only reserved. */
  jobArn?: string;
  /** Successors that took the job over in turn (each designated by the previous supervisor, then claimed). */
  claimedBy?: string[];
  /** A successor the last supervisor designated and that has not claimed the job. */
  designated?: string;
  /** The reaper took the job over from the last supervisor. */
  reaped?: boolean;
}

export const defaultToken = (jobName: string) => `${jobName}-token`;

/**
 * The real ledger in {@link LEDGER_TABLE}, answered by a fresh in-memory store on `mock` (a
 * `mockClient(DynamoDBClient)`; every DynamoDB call of the test goes to the same store).
 */
export function emulatedLedger(mock: AwsStub<any, any, any>, now: () => Date = () => new Date('2026-11-28T10:00:00Z')): { ledger: Ledger; db: MemoryDynamoDB } {
  const db = emulateTables(mock);
  return { ledger: dynamoLedger(LEDGER_TABLE, { dynamodb: new DynamoDBClient({}), now }), db };
}

/** Writes `entries` through `ledger`'s own calls; throws when the ledger refuses a step. */
export async function ledgerWith(ledger: Ledger, entries: LedgerSetup[]): Promise<Ledger> {
  for (const e of entries) {
    const must = (ok: boolean, step: string) => {
      if (!ok) throw new Error(`ledgerWith: the ledger refused ${step} of ${e.jobName}`);
    };
    await ledger.reserve({
      jobName: e.jobName,
      owner: e.owner,
      clientRequestToken: e.clientRequestToken ?? defaultToken(e.jobName),
      network: LEDGER_NETWORK,
      maxJobDurationSeconds: 86_400,
    });
    if (e.jobArn) await ledger.recordSubmission(e.jobName, e.owner, { jobArn: e.jobArn, submittedAt: '2026-11-28T10:00:00Z', deadline: '2026-11-29T10:00:00Z' });
    let supervisor = e.owner;
    let generation = 0;
    for (const successor of e.claimedBy ?? []) {
      if (!e.jobArn) throw new Error('ledgerWith: a job is handed over only once it has an ARN');
      must(await ledger.designate(e.jobName, supervisor, successor, ++generation), `designate ${successor}`);
      must(await ledger.claim(e.jobName, successor, supervisor, e.jobArn), `claim by ${successor}`);
      supervisor = successor;
    }
    if (e.designated) {
      must(await ledger.designate(e.jobName, supervisor, e.designated, ++generation), `designate ${e.designated}`);
      supervisor = e.designated;
    }
    if (e.reaped) must(await ledger.reap(e.jobName, supervisor), `reap from ${supervisor}`);
  }
  return ledger;
}

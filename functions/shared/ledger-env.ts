/**
 * Wiring of the job ledger for the handlers: the stack's table (JOB_LEDGER_TABLE, serverless.yml's
 * JobLedgerTable) and the shared DynamoDB client. Step logic receives the {@link Ledger} as a dep.
 */
import * as z from 'zod/mini';
import { dynamodb } from './clients.js';
import { loadEnv } from './env.js';
import { dynamoLedger, type Ledger } from './ledger.js';

let ledger: Ledger | undefined;

/** The job ledger of this stack (the table is read from the environment on first use). */
export function jobLedger(): Ledger {
  ledger ??= dynamoLedger(loadEnv(z.object({ JOB_LEDGER_TABLE: z.string().check(z.minLength(1)) })).JOB_LEDGER_TABLE, {
    dynamodb,
    now: () => new Date(),
  });
  return ledger;
}

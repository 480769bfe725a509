/**
 * An execution chain: the first execution of a job and the executions it hands the job over to
 * (continue-as-new, docs/operations.md "Following the job"). Used by poll-status (the name of the next
 * execution) and submit-job (the audit tag). Who owns and supervises a job is the job ledger's
 * (shared/ledger.ts), never this tag's.
 */
import { createHash } from 'node:crypto';

/** The tag submit-job puts on every job: the ARN of the chain's FIRST execution (for audits; not proof of ownership). */
export const CHAIN_EXECUTION_TAG = 'bedrock-vpc-customization:execution-arn';

/** Characters of the chain's first execution ARN hash in a hand-over name (48 bits). */
const HANDOVER_HASH_LENGTH = 12;

/**
 * Name of the execution that takes over at `generation`: `<first name>-<hash>-h<generation>`, where
 * the hash is of the chain's FIRST execution ARN and the job ledger's random `nonce` for the job (so no
 * one without the ledger can compute the name ahead and start an execution under it), and the
 * readable prefix is that execution's name,
 * cut to fit. Deterministic (a retried HandOver starts the same name) and collision-free: a
 * successor never takes its own execution's name (`exp-h1` hands over to `exp-h1-<hash>-h1`), two
 * chains differ by their hash whatever their names share, and a chain's generations differ by
 * `-h<generation>`. At most 80 characters of `[A-Za-z0-9_-]` (valid Step Functions execution names).
 */
export function handoverExecutionName(first: { id: string; name: string }, generation: number, nonce = ''): string {
  const hash = createHash('sha256').update(first.id).update(nonce).digest('hex').slice(0, HANDOVER_HASH_LENGTH);
  const suffix = `-${hash}-h${generation}`;
  const prefix = first.name
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .slice(0, 80 - suffix.length)
    .replace(/^([\s\S]*[^-])?-*$/, '$1');
  return `${prefix || 'job'}${suffix}`;
}

/**
 * The S3 gateway endpoint policy. The guide's example allows only GetObject/ListBucket on the training
 * bucket: used as is, the job could not write its output through the endpoint, and every other
 * workload in the VPC would lose S3. Here the job's buckets get their own statements (see
 * s3-access.ts) and the mode decides what happens to the default full-access statement.
 */
import type { JobInput } from '../shared/job-input.js';
import { asList, mergeBySid, type PolicyDocument, type Statement } from '../shared/policies/document.js';
import { s3AccessStatements } from '../shared/policies/s3-access.js';

/** `restrict`: drop the default full access; `append`: keep everything, add ours. */
export type EndpointMode = 'restrict' | 'append';

/**
 * The policy AWS gives an endpoint created without one. Rollback writes it back when an endpoint had
 * no policy before: ModifyVpcEndpoint `ResetPolicy` would do the same on AWS, but moto ignores it.
 */
export const DEFAULT_ENDPOINT_POLICY: PolicyDocument = {
  Version: '2008-10-17',
  Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
};

/** `"*"` or `{"AWS": "*"}` (or `["*"]`): every principal. */
function everyone(principal: unknown): boolean {
  if (principal === '*') return true;
  if (typeof principal !== 'object' || principal === null || Object.keys(principal).length !== 1) return false;
  const aws = asList((principal as { AWS?: string | string[] }).AWS);
  return aws.length > 0 && aws.every((v) => v === '*');
}

/**
 * True for an unconditional "anyone may do anything in S3" statement — the default policy's statement
 * (whatever its Sid or spelling: `*` or `s3:*`, string or list, `"*"` or `{"AWS": "*"}`).
 */
export function isFullAccessStatement(s: Statement): boolean {
  if (s.Effect !== 'Allow' || s.Condition !== undefined) return false;
  if (s.NotAction !== undefined || s.NotResource !== undefined || s.NotPrincipal !== undefined) return false;
  const actions = asList(s.Action);
  const resources = asList(s.Resource);
  return (
    everyone(s.Principal) &&
    actions.length > 0 &&
    actions.every((a) => a === '*' || a.toLowerCase() === 's3:*') &&
    resources.length > 0 &&
    resources.every((r) => r === '*')
  );
}

/** The desired endpoint policy: the current one with the job's bucket statements merged in by Sid. */
export function buildEndpointPolicy(job: JobInput, mode: EndpointMode, current: PolicyDocument | null): PolicyDocument {
  const base = current ?? DEFAULT_ENDPOINT_POLICY;
  const kept = mode === 'restrict' ? { ...base, Statement: base.Statement.filter((s) => !isFullAccessStatement(s)) } : base;
  return mergeBySid(kept, s3AccessStatements(job, '*'));
}

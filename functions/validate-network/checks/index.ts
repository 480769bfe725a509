/**
 * The preflight's checks: pure functions of the job and the facts read from AWS (../facts.ts), one
 * file per group. To add one: an id in CHECK (result.ts), a function here or in its group's file,
 * a row in docs/checks.md, a unit test and an emulator test.
 */
import type { JobInput } from '../../shared/job-input.js';
import type { PreflightFacts } from '../facts.js';
import { bucketChecks } from './buckets.js';
import { vpcAttributeChecks } from './dns.js';
import { endpointChecks } from './endpoint.js';
import { membershipChecks } from './membership.js';
import { DEFAULT_MIN_FREE_IPS_PER_SUBNET, type CheckResult, type PreflightOptions } from './result.js';
import { roleChecks } from './role.js';
import { internetRouteChecks } from './routes.js';
import { securityGroupChecks } from './security-groups.js';
import { zoneChecks } from './zones.js';

export * from './result.js';
export { bucketChecks, endpointChecks, internetRouteChecks, membershipChecks, roleChecks, securityGroupChecks, vpcAttributeChecks, zoneChecks };
export { effectiveRouteTable } from './network.js';
export { cidrCovers } from './security-groups.js';
export { endpointPolicyChecks } from './endpoint.js';
export { s3Needs } from './s3-needs.js';

/** Runs every check on the facts; checks whose prerequisites failed are left out (their cause is reported). */
export function runChecks(job: JobInput, facts: PreflightFacts, options: PreflightOptions = {}): CheckResult[] {
  const vpcOk = facts.vpc?.exists === true;
  return [
    ...membershipChecks(job, facts),
    ...(vpcOk ? vpcAttributeChecks(facts.vpc!) : []),
    ...(vpcOk ? endpointChecks(job, facts) : []),
    ...(vpcOk ? zoneChecks(facts, options.minFreeIpsPerSubnet ?? DEFAULT_MIN_FREE_IPS_PER_SUBNET) : []),
    ...securityGroupChecks(facts),
    ...(vpcOk ? internetRouteChecks(facts) : []),
    ...bucketChecks(job, facts),
    ...roleChecks(job, facts.role, facts.vpcId),
  ];
}

/**
 * The preflight's checks: pure functions of the job and the facts read from AWS (facts.ts), one
 * file per group. To add one: an id in CHECK (check-result.ts), a function in its group's file (checks-<group>.ts),
 * a row in docs/checks.md, a unit test and an emulator test.
 */
import type { JobInput } from '../shared/job-input.js';
import type { PreflightFacts } from './facts.js';
import { bucketChecks } from './checks-buckets.js';
import { customizationChecks } from './checks-customization.js';
import { vpcAttributeChecks } from './checks-dns.js';
import { endpointChecks } from './checks-endpoint.js';
import { evaluationChecks } from './checks-evaluation.js';
import { membershipChecks } from './checks-membership.js';
import { modelSupportChecks } from './checks-model-support.js';
import { DEFAULT_MIN_FREE_IPS_PER_SUBNET, type CheckResult, type PreflightOptions } from './check-result.js';
import { roleChecks } from './checks-role.js';
import { internetRouteChecks } from './checks-routes.js';
import { securityGroupChecks } from './checks-security-groups.js';
import { zoneChecks } from './checks-zones.js';

export * from './check-result.js';
export { bucketChecks, customizationChecks, endpointChecks, evaluationChecks, internetRouteChecks, membershipChecks, modelSupportChecks, roleChecks, securityGroupChecks, vpcAttributeChecks, zoneChecks };
export { effectiveRouteTable } from './check-network.js';
export { cidrCovers } from './checks-security-groups.js';
export { endpointPolicyChecks } from './checks-endpoint.js';
export { s3Needs } from './check-s3-needs.js';

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
    ...modelSupportChecks(job),
    ...customizationChecks(job, facts),
    ...evaluationChecks(job, facts),
  ];
}

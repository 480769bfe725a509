/**
 * Network preflight: everything the VPC needs for a customization job, checked before any policy
 * change or job submission (and before any money is spent). Returns a report of checks; throws
 * {@link NetworkValidationError} carrying the report when any check of severity `fail` did not pass.
 *
 * Every Describe call is batched with filters, so the number of AWS calls does not grow with the
 * number of subnets or security groups; the report counts them (`awsCalls`).
 */
import type { JobInput } from '../shared/job-input.js';
import { NetworkValidationError } from '../shared/errors.js';
import { runChecks, type CheckResult, type PreflightOptions, type Severity } from './checks.js';
import { gatherFacts, type ValidateNetworkDeps } from './facts.js';

export { CHECK, DEFAULT_MIN_FREE_IPS_PER_SUBNET } from './checks.js';
export type { CheckResult, PreflightOptions, Severity } from './checks.js';
export type { ValidateNetworkDeps } from './facts.js';

/** AWS API calls made by the preflight, per service. */
export type PreflightCalls = { ec2: number; s3: number; iam: number; lambda: number; bedrock: number };

export interface PreflightReport {
  ok: boolean;
  /** The job's VPC: given, or derived from its subnets. */
  vpcId?: string;
  region: string;
  checks: CheckResult[];
  /** Number of checks that did not pass, per severity, and the number that passed. */
  counts: Record<Severity, number> & { passed: number };
  /** AWS API calls made by the preflight (constant in the number of subnets and groups). */
  awsCalls: number;
  /** The same, per service. */
  awsCallsByService: PreflightCalls;
}

/** Runs the preflight for `job`; throws {@link NetworkValidationError} when a `fail` check fails. */
export async function validateNetwork(
  job: JobInput,
  deps: ValidateNetworkDeps,
  options: PreflightOptions = {},
): Promise<PreflightReport> {
  const report = await buildReport(job, deps, options);
  if (!report.ok) throw new NetworkValidationError(failureMessage(report), report);
  return report;
}

/** One line per failing check: `[id] resource: message Fix: remedy`. */
export function failureMessage(report: PreflightReport): string {
  const failures = report.checks.filter((c) => !c.passed && c.severity === 'fail');
  return (
    `Network preflight failed (${failures.length} failing check${failures.length === 1 ? '' : 's'}): ` +
    failures.map((c) => `[${c.id}] ${c.resource}: ${c.message}${c.remedy ? ` Fix: ${c.remedy}` : ''}`).join(' | ')
  );
}

/** Collects every check's result without throwing on a failing check. */
export async function buildReport(
  job: JobInput,
  deps: ValidateNetworkDeps,
  options: PreflightOptions = {},
): Promise<PreflightReport> {
  const awsCallsByService: PreflightCalls = { ec2: 0, s3: 0, iam: 0, lambda: 0, bedrock: 0 };
  const facts = await gatherFacts(job, deps, awsCallsByService);
  const checks = runChecks(job, facts, options);
  const failed = (s: Severity) => checks.filter((c) => !c.passed && c.severity === s).length;
  const counts = { fail: failed('fail'), warn: failed('warn'), info: failed('info'), passed: checks.filter((c) => c.passed).length };
  return {
    ok: counts.fail === 0,
    ...(facts.vpcId ? { vpcId: facts.vpcId } : {}),
    region: job.region,
    checks,
    counts,
    awsCalls: Object.values(awsCallsByService).reduce((a, b) => a + b, 0),
    awsCallsByService,
  };
}

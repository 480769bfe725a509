/**
 * apply-policies Lambda. One function, four actions chosen by the state machine:
 * `plan` (PlanPolicies state), `apply` (ApplyPolicies), `rollback` (RollbackPolicies), `revoke`
 * (RevokeGrants, once the job has ended or its submission failed).
 */
import * as z from 'zod/mini';
import { dynamodb, ec2, iam, s3 } from '../shared/clients.js';
import { loadEnv, optional } from '../shared/env.js';
import { InvalidInputError } from '../shared/errors.js';
import { jobInputSchema, roleArnSchema, stageViolations } from '../shared/job-input.js';
import { loadStage } from '../shared/stage.js';
import { makeHandler } from '../shared/handler.js';
import { log } from '../shared/log.js';
import { applyPolicies, assertWritable, planPolicies, revokeGrants, rollbackPolicies, writableTargets, type PolicyPlan } from './apply-policies.js';
import { dynamoLeases } from './leases.js';

/**
 * This function's own environment (the shared env module holds the stage defaults of validate-network).
 * WORKFLOW_ROLE_ARN and DATASET_ROLE_ARN are the workflow's roles that read the buckets from outside
 * the VPC (the preflight's, the dataset check's): exempt from the bucket Deny and protected by the
 * lockout guard. Optional, so local runs work without them; malformed fails the cold start.
 */
const env = loadEnv(
  z.object({
    WORKFLOW_ROLE_ARN: z.pipe(optional, z.optional(roleArnSchema)),
    DATASET_ROLE_ARN: z.pipe(optional, z.optional(roleArnSchema)),
    // submit-job's role: it copies the checked data into the job's snapshot from outside the VPC.
    SNAPSHOT_ROLE_ARN: z.pipe(optional, z.optional(roleArnSchema)),
    // The stack's PolicyLeasesTable: locks and holds (leases.ts).
    POLICY_LEASES_TABLE: z.string().check(z.minLength(3, 'POLICY_LEASES_TABLE is required (the stack sets it)')),
    // Stage param keepGrants: 'true' keeps a finished job's grants (revoke only releases its holds).
    KEEP_GRANTS: z._default(z.enum(['true', 'false']), 'false'),
  }),
);
const deps = { iam, ec2, s3 };
const leases = dynamoLeases(dynamodb, env.POLICY_LEASES_TABLE);
/** The job's owner in the leases: its chain's first execution ARN (the same across hand-overs). */
const owner = z.string().check(z.maxLength(2048, { abort: true }), z.regex(/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/, 'must be an execution ARN'));

/** The plan travels through the state machine as data; it is produced by `plan` and not edited. */
const planSchema = z.custom<PolicyPlan>(
  (value) => typeof value === 'object' && value !== null && Array.isArray((value as PolicyPlan).changes),
  'must be a policy plan produced by the PlanPolicies state',
);

const eventSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('plan'), job: jobInputSchema }),
  z.object({ action: z.literal('apply'), plan: planSchema, owner }),
  z.object({ action: z.literal('rollback'), plan: planSchema, owner }),
  z.object({ action: z.literal('revoke'), owner }),
]);

export const handler = makeHandler(eventSchema, async (event) => {
  const stage = loadStage(process.env);
  switch (event.action) {
    case 'plan': {
      // The job travels in the execution state: check it against the stage again before reading anything.
      const violations = stageViolations(event.job, stage);
      if (violations.length > 0) throw new InvalidInputError(violations);
      const plan = await planPolicies(event.job, deps, { workflowRoleArn: env.WORKFLOW_ROLE_ARN, datasetRoleArn: env.DATASET_ROLE_ARN, snapshotRoleArn: env.SNAPSHOT_ROLE_ARN, s3EndpointIds: stage.s3EndpointIds, invocationLogBuckets: stage.invocationLogBuckets, ...(stage.evaluation.bucket ? { evaluationBucket: stage.evaluation.bucket } : {}) });
      assertWritable(plan, writableTargets(stage));
      log.info('policy plan', { changes: plan.summary, skipped: plan.skipped });
      return plan;
    }
    case 'apply': {
      assertWritable(event.plan, writableTargets(stage));
      const result = await applyPolicies(event.plan, deps, { owner: event.owner, leases });
      log.info('policies applied', { applied: result.applied, alreadyApplied: result.alreadyApplied });
      return result;
    }
    case 'rollback': {
      assertWritable(event.plan, writableTargets(stage));
      const result = await rollbackPolicies(event.plan, deps, { owner: event.owner, leases });
      log.info('policies rolled back', { ...result });
      return result;
    }
    case 'revoke': {
      const result = await revokeGrants(deps, { owner: event.owner, leases }, env.KEEP_GRANTS === 'true');
      log.info('grants revoked', { ...result });
      return result;
    }
  }
});

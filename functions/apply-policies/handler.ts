/**
 * apply-policies Lambda. One function, three actions chosen by the state machine:
 * `plan` (PlanPolicies state), `apply` (ApplyPolicies), `rollback` (RollbackPolicies).
 */
import { z } from 'zod';
import { iam } from '../shared/clients.js';
import { jobInputSchema } from '../shared/job-input.js';
import { makeHandler } from '../shared/handler.js';
import { logger } from '../shared/logger.js';
import { applyPolicies, planPolicies, rollbackPolicies, type PolicyPlan } from './apply-policies.js';

/** The plan travels through the state machine as data; it is produced by `plan` and not edited. */
const planSchema = z.custom<PolicyPlan>(
  (value) => typeof value === 'object' && value !== null && Array.isArray((value as PolicyPlan).changes),
  'must be a policy plan produced by the PlanPolicies state',
);

const eventSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('plan'), job: jobInputSchema }),
  z.object({ action: z.literal('apply'), plan: planSchema }),
  z.object({ action: z.literal('rollback'), plan: planSchema }),
]);

export const handler = makeHandler(eventSchema, async (event) => {
  switch (event.action) {
    case 'plan': {
      const plan = await planPolicies(event.job, { iam });
      logger.info('policy plan', { changes: plan.changes.map((c) => `${c.action} ${c.target.resource}`) });
      return plan;
    }
    case 'apply': {
      const result = await applyPolicies(event.plan, { iam });
      logger.info('policies applied', { applied: result.applied });
      return result;
    }
    case 'rollback': {
      const result = await rollbackPolicies(event.plan, { iam });
      logger.info('policies rolled back', { ...result });
      return result;
    }
  }
});

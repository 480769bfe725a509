/**
 * apply-policies: plan, apply and roll back the resource policies a VPC customization job needs.
 *
 * - plan: read each policy's current document, compute the desired one (merge by Sid: statements of
 *   others are kept exactly), diff them. No write. The plan carries the previous documents.
 * - apply: write every change of a plan, in order. No write when a document is already as desired.
 * - rollback: for each change of a plan whose live document is still the one we wrote, restore the
 *   previous document exactly (or delete a policy that did not exist). Runs as its own state, so a
 *   crash of apply is undone too; a document changed by someone else since is left alone and reported.
 */
import {
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  PutRolePolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import type { JobInput } from '../shared/job-input.js';
import { isAwsError } from '../shared/aws-errors.js';
import { PolicyApplyError, PolicyRollbackError, describeError } from '../shared/errors.js';
import {
  diffPolicies,
  mergeBySid,
  parsePolicy,
  samePolicy,
  type PolicyDiff,
  type PolicyDocument,
} from './policy-document.js';
import { buildRoleVpcPolicy, roleNameFromArn, rolePolicyName, ROLE_SID } from './role-policy.js';

export type PolicyKind = 'role';

/** Where a policy lives. */
export interface PolicyTarget {
  kind: PolicyKind;
  /** Human-readable location, e.g. `role/BedrockRole inline policy BedrockVpcCustomization-vpc-…`. */
  resource: string;
  roleName?: string;
  policyName?: string;
}

/** One policy's planned change. `current` is what rollback restores. */
export interface PolicyChange {
  target: PolicyTarget;
  action: 'create' | 'update' | 'none';
  current: PolicyDocument | null;
  desired: PolicyDocument;
  diff: PolicyDiff;
}

export interface PolicyPlan {
  dryRun: boolean;
  changes: PolicyChange[];
  /** Policies the job input asked to leave alone. */
  skipped: PolicyKind[];
}

export interface ApplyResult extends PolicyPlan {
  /** Targets written by this run. */
  applied: string[];
}

export interface RollbackResult {
  restored: string[];
  deleted: string[];
  /** Left alone: the live document is no longer the one this workflow wrote. */
  leftAlone: string[];
}

export interface ApplyPoliciesDeps {
  iam: Pick<IAMClient, 'send'>;
}

/** Reads and writes one kind of policy. */
interface PolicyStore {
  read(target: PolicyTarget): Promise<PolicyDocument | null>;
  write(target: PolicyTarget, doc: PolicyDocument): Promise<void>;
  remove(target: PolicyTarget): Promise<void>;
}

function stores(deps: ApplyPoliciesDeps): Record<PolicyKind, PolicyStore> {
  return {
    role: {
      async read(t) {
        try {
          const out = await deps.iam.send(new GetRolePolicyCommand({ RoleName: t.roleName, PolicyName: t.policyName }));
          return parsePolicy(out.PolicyDocument);
        } catch (err) {
          if (isAwsError(err, 'NoSuchEntity', 'NoSuchEntityException')) return null;
          throw err;
        }
      },
      async write(t, doc) {
        await deps.iam.send(
          new PutRolePolicyCommand({ RoleName: t.roleName, PolicyName: t.policyName, PolicyDocument: JSON.stringify(doc) }),
        );
      },
      async remove(t) {
        try {
          await deps.iam.send(new DeleteRolePolicyCommand({ RoleName: t.roleName, PolicyName: t.policyName }));
        } catch (err) {
          if (!isAwsError(err, 'NoSuchEntity', 'NoSuchEntityException')) throw err;
        }
      },
    },
  };
}

/** A desired-policy builder per kind: (job, current document) → desired document. */
interface PolicySpec {
  kind: PolicyKind;
  target: PolicyTarget;
  build(current: PolicyDocument | null): PolicyDocument;
}

function specsFor(job: JobInput): { specs: PolicySpec[]; skipped: PolicyKind[] } {
  const vpcId = job.vpcConfig.vpcId;
  if (!vpcId) throw new PolicyApplyError('vpcConfig.vpcId is not resolved: run the network preflight first');
  const specs: PolicySpec[] = [];
  const skipped: PolicyKind[] = [];
  if (job.policies.role === 'apply') {
    const roleName = roleNameFromArn(job.roleArn);
    const policyName = rolePolicyName(vpcId);
    specs.push({
      kind: 'role',
      target: { kind: 'role', resource: `role/${roleName} inline policy ${policyName}`, roleName, policyName },
      build: (current) => {
        const ours = buildRoleVpcPolicy(job, current).Statement;
        return mergeBySid(current, ours);
      },
    });
  } else skipped.push('role');
  return { specs, skipped };
}

/** Reads the current documents and computes the changes. Makes no write call. */
export async function planPolicies(job: JobInput, deps: ApplyPoliciesDeps): Promise<PolicyPlan> {
  const { specs, skipped } = specsFor(job);
  const store = stores(deps);
  const changes = await Promise.all(
    specs.map(async (spec): Promise<PolicyChange> => {
      const current = await store[spec.kind].read(spec.target);
      const desired = spec.build(current);
      const action = current === null ? 'create' : samePolicy(current, desired) ? 'none' : 'update';
      return { target: spec.target, action, current, desired, diff: diffPolicies(current, desired) };
    }),
  );
  return { dryRun: job.dryRun, changes, skipped };
}

/**
 * Writes the plan's changes in order. Throws {@link PolicyApplyError} on the first failure; the
 * RollbackPolicies state then restores what was written.
 */
export async function applyPolicies(plan: PolicyPlan, deps: ApplyPoliciesDeps): Promise<ApplyResult> {
  const store = stores(deps);
  const applied: string[] = [];
  for (const change of plan.changes) {
    if (change.action === 'none') continue;
    try {
      await store[change.target.kind].write(change.target, change.desired);
    } catch (err) {
      throw new PolicyApplyError(
        `Writing ${change.target.resource} failed (${describeError(err)}); written before it: ${applied.join(', ') || 'nothing'}`,
        { cause: err },
      );
    }
    applied.push(change.target.resource);
  }
  return { ...plan, applied };
}

/** Restores the previous documents of the plan's changes that are still as this workflow wrote them. */
export async function rollbackPolicies(plan: PolicyPlan, deps: ApplyPoliciesDeps): Promise<RollbackResult> {
  const store = stores(deps);
  const result: RollbackResult = { restored: [], deleted: [], leftAlone: [] };
  const failures: string[] = [];
  for (const change of [...plan.changes].reverse()) {
    if (change.action === 'none') continue;
    const { target } = change;
    try {
      const live = await store[target.kind].read(target);
      if (samePolicy(live, change.current)) continue; // never written: nothing to undo
      if (!samePolicy(live, change.desired)) {
        result.leftAlone.push(target.resource);
        continue;
      }
      if (change.current === null) {
        await store[target.kind].remove(target);
        result.deleted.push(target.resource);
      } else {
        await store[target.kind].write(target, change.current);
        result.restored.push(target.resource);
      }
    } catch (err) {
      failures.push(`${target.resource}: ${describeError(err)}`);
    }
  }
  if (failures.length > 0) {
    throw new PolicyRollbackError(
      `Rollback incomplete, restore by hand: ${failures.join('; ')} (restored: ${result.restored.join(', ') || 'none'})`,
    );
  }
  return result;
}

export { ROLE_SID };

/**
 * apply-policies: plan, apply and roll back the resource policies a VPC customization job needs —
 * the Bedrock role's inline policy (with the grants for the job's buckets, key, RFT grader and
 * distillation teacher profile: shared/policies/role.ts), the S3 gateway endpoint policy, the output
 * (and optionally the training) bucket policy. A bucket that holds invocation logs never gets a
 * bucket policy.
 *
 * - plan: read each policy's current document, compute the desired one (merge by Sid: statements of
 *   others are kept exactly), diff them, refuse a bucket policy that would lock out a protected
 *   principal. No write. The plan carries the previous documents, exactly as they were.
 * - apply: write every change of a plan, in order (grants first, the bucket Deny last). Each target is
 *   read again just before its write: already as desired → no write; changed by someone else since
 *   the plan → stop, so nobody's concurrent change is overwritten.
 * - rollback: for each change whose live document is still the one we wrote, restore the previous
 *   document exactly (or delete a policy that did not exist). Runs as its own state, so a crash of
 *   apply is undone too; a document changed by someone else since is left alone and reported.
 *   When another live job holds statements of that document (leases.ts), only this job's statements
 *   that nobody else holds are removed instead: the other job's grants survive.
 * - revoke: when the job has ended, the statements this job holds and no other live job holds are
 *   removed (the temporary grants); the protective bucket Deny stays.
 *
 * Every read-modify-write of a document runs under that document's lock (leases.ts), and apply
 * records the job's hold on the statements it relies on.
 */
import { DescribeVpcEndpointsCommand, ModifyVpcEndpointCommand, paginateDescribeVpcEndpoints, type EC2Client } from '@aws-sdk/client-ec2';
import { DeleteRolePolicyCommand, GetRolePolicyCommand, PutRolePolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { DeleteBucketPolicyCommand, GetBucketPolicyCommand, PutBucketPolicyCommand, type S3Client } from '@aws-sdk/client-s3';
import { roleNameFromArn } from '../shared/arn.js';
import { isAwsError } from '../shared/aws-errors.js';
import { PolicyApplyError, PolicyRollbackError, describeError } from '../shared/errors.js';
import type { JobInput } from '../shared/job-input.js';
import { BUCKET_DENY_SID, buildBucketPolicy } from './bucket-policy.js';
import { DEFAULT_ENDPOINT_POLICY, buildEndpointPolicy } from './endpoint-policy.js';
import { buildRolePolicy, rolePolicyName } from '../shared/policies/role.js';
import { bucketArns, isLiveEndpoint, parseS3Uri, s3ServiceName } from '../shared/s3.js';
import { collect } from '../shared/sdk.js';
import { assertNoLockout, type ProtectedPrincipal } from './lockout.js';
import type { DocumentKey, Leases } from './leases.js';
import { s3AccessStatements } from '../shared/policies/s3-access.js';
import {
  decodePolicyText,
  diffPolicies,
  mergeBySid,
  parsePolicy,
  policySize,
  samePolicy,
  type PolicyDiff,
  type PolicyDocument,
} from '../shared/policies/document.js';

/** The four policy settings of the job input (`job.policies`). */
export type PolicySetting = 'role' | 'endpoint' | 'outputBucket' | 'trainingBucket';

/** Where a policy lives. `resource` is the human-readable location used in reports. */
export type PolicyTarget =
  | { kind: 'role'; resource: string; roleName: string; policyName: string }
  | { kind: 'endpoint'; resource: string; vpcEndpointId: string }
  | { kind: 'bucket'; resource: string; bucket: string; expectedOwner: string };

/** One policy's planned change. `current` (or `currentText`, when set) is what rollback restores. */
export interface PolicyChange {
  target: PolicyTarget;
  action: 'create' | 'update' | 'none';
  current: PolicyDocument | null;
  /**
   * The previous document exactly as the service returned it, kept only when re-serializing
   * `current` would not reproduce it (whitespace, a single Statement object…), so rollback is exact.
   */
  currentText?: string;
  desired: PolicyDocument;
  diff: PolicyDiff;
  /** The Sids of the statements this job relies on (its grants), held for it (leases.ts); never the bucket Deny. */
  ownedSids: string[];
}

export interface PolicyPlan {
  dryRun: boolean;
  changes: PolicyChange[];
  /** Policy settings left alone: the job input asked so, or there is nothing to apply them to (no training bucket when the job trains on invocation logs). */
  skipped: PolicySetting[];
  /** One line per policy: `update role/… (+2 −0 statements)`. */
  summary: string[];
  /** How long the job's holds live after apply: the longest quota wait and job, and a day (seconds). */
  leaseSeconds: number;
}

export interface ApplyResult extends PolicyPlan {
  /** Targets written by this run. */
  applied: string[];
  /** Targets that were already as desired when apply read them again (a retried invocation). */
  alreadyApplied: string[];
}

export interface RollbackResult {
  restored: string[];
  deleted: string[];
  /** Another live job holds statements of these: only this job's own statements were removed. */
  keptForOthers: string[];
  /** Left alone: the live document is no longer the one this workflow wrote. */
  leftAlone: string[];
  /** Never written by this execution (the failure came first): nothing to undo. */
  notWritten: string[];
  summary: string;
}

export interface ApplyPoliciesDeps {
  iam: IAMClient;
  ec2: EC2Client;
  s3: S3Client;
}

export interface PlanOptions {
  /** This workflow's own Lambda role: never locked out of a bucket (also added to the exemptions). */
  workflowRoleArn?: string;
  /** The dataset check's role (validate-dataset: reads the training data from outside the VPC): exempt and protected like the workflow role. */
  datasetRoleArn?: string;
  /**
   * The role that copies the checked data into the job's snapshot (submit-job: reads the training
   * bucket, writes the output prefix from outside the VPC): exempt and protected like the workflow role.
   */
  snapshotRoleArn?: string;
  /**
   * The S3 gateway endpoints whose policy the stage lets the workflow write (param s3EndpointIds).
   * A live S3 gateway endpoint of the VPC outside this list fails the plan: the job's S3 traffic could
   * take it, and its policy is not ours to write. Undefined: every endpoint of the VPC (unit tests).
   */
  s3EndpointIds?: readonly string[];
  /**
   * The buckets that hold invocation logs (param invocationLogBuckets): never given the VPC-only Deny,
   * whatever the job asks (the plan fails instead).
   */
  invocationLogBuckets?: readonly string[];
  /**
   * The stage's evaluation bucket (param evaluationBucket): never given the VPC-only Deny, whatever the
   * job asks (the plan fails instead), since evaluation jobs read and write it from outside the VPC.
   */
  evaluationBucket?: string;
}

/** Service limits on document size (JSON without whitespace), checked before any write. */
export const SIZE_LIMITS: Record<PolicyTarget['kind'], number> = { role: 10_240, endpoint: 20_480, bucket: 20_480 };

/**
 * The plan travels in the execution state (`$.policies`, 256 KB for the whole state): refuse a plan
 * bigger than this rather than fail later with States.DataLimitExceeded.
 */
export const MAX_PLAN_CHARS = 128_000;

/** A policy document as read: parsed, and the exact JSON text (both null when there is none). */
interface Live {
  doc: PolicyDocument | null;
  text: string | null;
}

/** Reads and writes one kind of policy. */
interface PolicyStore<T extends PolicyTarget> {
  read(target: T): Promise<Live>;
  write(target: T, text: string): Promise<void>;
  remove(target: T): Promise<void>;
}

const live = (raw: string | undefined | null): Live => {
  const text = raw === undefined || raw === null || raw.trim() === '' ? null : decodePolicyText(raw);
  return { doc: parsePolicy(text), text };
};

function stores(deps: ApplyPoliciesDeps): { [K in PolicyTarget['kind']]: PolicyStore<Extract<PolicyTarget, { kind: K }>> } {
  return {
    role: {
      async read(t) {
        try {
          const out = await deps.iam.send(new GetRolePolicyCommand({ RoleName: t.roleName, PolicyName: t.policyName }));
          return live(out.PolicyDocument);
        } catch (err) {
          if (isAwsError(err, 'NoSuchEntity', 'NoSuchEntityException')) return live(null);
          throw err;
        }
      },
      async write(t, text) {
        await deps.iam.send(new PutRolePolicyCommand({ RoleName: t.roleName, PolicyName: t.policyName, PolicyDocument: text }));
      },
      async remove(t) {
        try {
          await deps.iam.send(new DeleteRolePolicyCommand({ RoleName: t.roleName, PolicyName: t.policyName }));
        } catch (err) {
          if (!isAwsError(err, 'NoSuchEntity', 'NoSuchEntityException')) throw err;
        }
      },
    },
    endpoint: {
      async read(t) {
        const out = await deps.ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [t.vpcEndpointId] }));
        const endpoint = out.VpcEndpoints?.[0];
        if (!endpoint) throw new PolicyApplyError(`VPC endpoint ${t.vpcEndpointId} not found`);
        return live(endpoint.PolicyDocument);
      },
      async write(t, text) {
        await deps.ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: t.vpcEndpointId, PolicyDocument: text }));
      },
      // An endpoint always has a policy; "none before" means the default full access.
      async remove(t) {
        await deps.ec2.send(
          new ModifyVpcEndpointCommand({ VpcEndpointId: t.vpcEndpointId, PolicyDocument: JSON.stringify(DEFAULT_ENDPOINT_POLICY) }),
        );
      },
    },
    bucket: {
      async read(t) {
        try {
          const out = await deps.s3.send(new GetBucketPolicyCommand({ Bucket: t.bucket, ExpectedBucketOwner: t.expectedOwner }));
          return live(out.Policy);
        } catch (err) {
          if (isAwsError(err, 'NoSuchBucketPolicy')) return live(null);
          throw err;
        }
      },
      async write(t, text) {
        await deps.s3.send(new PutBucketPolicyCommand({ Bucket: t.bucket, Policy: text, ExpectedBucketOwner: t.expectedOwner }));
      },
      async remove(t) {
        await deps.s3.send(new DeleteBucketPolicyCommand({ Bucket: t.bucket, ExpectedBucketOwner: t.expectedOwner }));
      },
    },
  };
}

/** Typed access to the store of a target's kind. */
function storeFor(all: ReturnType<typeof stores>, target: PolicyTarget): PolicyStore<PolicyTarget> {
  return all[target.kind] as PolicyStore<PolicyTarget>;
}

/**
 * The VPC's live S3 gateway endpoints (the job's traffic may use any of them: each gets the policy),
 * all of which must be in `allowed` when it is given.
 */
export async function findS3GatewayEndpoints(
  job: JobInput,
  vpcId: string,
  ec2: ApplyPoliciesDeps['ec2'],
  allowed?: readonly string[],
): Promise<string[]> {
  const Filters = [
    { Name: 'vpc-id', Values: [vpcId] },
    { Name: 'service-name', Values: [s3ServiceName(job.partition, job.region)] },
    { Name: 'vpc-endpoint-type', Values: ['Gateway'] },
  ];
  const endpoints = await collect(paginateDescribeVpcEndpoints({ client: ec2 }, { Filters }), (p) => p.VpcEndpoints);
  const ids = endpoints.filter(isLiveEndpoint).flatMap((e) => (e.VpcEndpointId ? [e.VpcEndpointId] : []));
  if (ids.length === 0) {
    throw new PolicyApplyError(
      `No S3 gateway endpoint in ${vpcId}: policies.endpoint needs one (or set policies.endpoint to "skip")`,
    );
  }
  const foreign = allowed ? ids.filter((id) => !allowed.includes(id)) : [];
  if (foreign.length > 0) {
    throw new PolicyApplyError(
      `S3 gateway endpoint ${foreign.join(', ')} of ${vpcId} is not in the stage param s3EndpointIds (${allowed!.join(', ') || 'empty'}): ` +
        'the job\'s S3 traffic could take it and its policy may not be written. Add it to s3EndpointIds and redeploy, or set policies.endpoint to "skip".',
    );
  }
  return ids.sort();
}

/** A desired-policy builder per target: current document → desired document (+ a guard). */
interface PolicySpec {
  target: PolicyTarget;
  build(current: PolicyDocument | null): PolicyDocument;
  /** The Sids of the job's own grants in the desired document. */
  owned(current: PolicyDocument | null): string[];
  guard?(current: PolicyDocument | null, desired: PolicyDocument): void;
}

async function specsFor(
  job: JobInput,
  deps: ApplyPoliciesDeps,
  options: PlanOptions,
): Promise<{ specs: PolicySpec[]; skipped: PolicySetting[] }> {
  const { vpcId } = job.vpcConfig;
  const { policies } = job;
  const specs: PolicySpec[] = [];
  const skipped: PolicySetting[] = [];

  // Grants first, the bucket Deny last: a failure part-way never leaves a Deny without its grants.
  if (policies.role === 'apply') {
    const roleName = roleNameFromArn(job.roleArn);
    const policyName = rolePolicyName(vpcId);
    specs.push({
      target: { kind: 'role', resource: `role/${roleName} inline policy ${policyName}`, roleName, policyName },
      build: (current) => mergeBySid(current, buildRolePolicy(job, current).Statement),
      owned: (current) => buildRolePolicy(job, current).Statement.flatMap((st) => (st.Sid ? [st.Sid] : [])),
    });
  } else skipped.push('role');

  if (policies.endpoint !== 'skip') {
    const mode = policies.endpoint;
    for (const vpcEndpointId of await findS3GatewayEndpoints(job, vpcId, deps.ec2, options.s3EndpointIds)) {
      specs.push({
        target: { kind: 'endpoint', resource: `vpc-endpoint/${vpcEndpointId} policy (${mode})`, vpcEndpointId },
        build: (current) => buildEndpointPolicy(job, mode, current),
        owned: () => s3AccessStatements(job, '*').flatMap((st) => (st.Sid ? [st.Sid] : [])),
      });
    }
  } else skipped.push('endpoint');

  const ownRoles = [options.workflowRoleArn, options.datasetRoleArn, options.snapshotRoleArn].filter((arn): arn is string => Boolean(arn));
  const exempt = [...policies.exemptPrincipalArns, ...ownRoles];
  const protectedPrincipals: ProtectedPrincipal[] = [
    ...ownRoles.map((arn) => ({ arn, role: 'workflow role' as const })),
    ...policies.exemptPrincipalArns.map((arn) => ({ arn, role: 'exempt principal' as const })),
  ];
  const restricted = new Set<string>();
  if (policies.outputBucket === 'apply') restricted.add(job.s3.output.bucket);
  else skipped.push('outputBucket');
  // A job trained on invocation logs has no training bucket: nothing for the setting to restrict.
  if (policies.trainingBucket === 'apply' && job.s3.training) restricted.add(job.s3.training.bucket);
  else skipped.push('trainingBucket');
  // Bedrock delivers invocation logs to their bucket from outside any VPC: the VPC-only Deny there would
  // refuse every log delivery. Never written, whatever the job or a plan asks.
  const logBuckets = new Set([...(options.invocationLogBuckets ?? []), ...(job.s3.invocationLogs ? [job.s3.invocationLogs.bucket] : [])]);
  const denied = [...restricted].filter((bucket) => logBuckets.has(bucket));
  if (denied.length > 0) {
    throw new PolicyApplyError(
      `${denied.map((b) => `s3://${b}`).join(', ')} holds invocation logs (param invocationLogBuckets or the job's invocationLogsConfig): ` +
        'its bucket policy never gets the VPC-only Deny, since Bedrock writes the logs from outside the VPC. Set policies.outputBucket / policies.trainingBucket to "skip" or use another bucket.',
    );
  }
  // Evaluation jobs take no vpcConfig: they reach the evaluation bucket from outside the VPC, so the
  // VPC-only Deny there would refuse them (docs/policies.md "The evaluation gate"). Never written.
  const evaluationBuckets = new Set([
    ...(options.evaluationBucket ? [options.evaluationBucket] : []),
    ...(job.evaluation ? [parseS3Uri(job.evaluation.outputS3Uri).bucket, parseS3Uri(job.evaluation.dataset.s3Uri).bucket] : []),
  ]);
  const evaluationDenied = [...restricted].filter((bucket) => evaluationBuckets.has(bucket));
  if (evaluationDenied.length > 0) {
    throw new PolicyApplyError(
      `${evaluationDenied.map((b) => `s3://${b}`).join(', ')} holds evaluation data (param evaluationBucket or the job's evaluation): ` +
        'its bucket policy never gets the VPC-only Deny, since evaluation jobs run outside the VPC. Set policies.outputBucket / policies.trainingBucket to "skip" or use another bucket.',
    );
  }
  for (const bucket of restricted) {
    specs.push({
      target: { kind: 'bucket', resource: `s3://${bucket} bucket policy (${BUCKET_DENY_SID})`, bucket, expectedOwner: job.accountId },
      build: (current) =>
        buildBucketPolicy({ partition: job.partition, bucket, vpcId, exemptPrincipalArns: exempt }, current),
      guard: (current, desired) => assertNoLockout(bucketArns(job.partition, bucket)[0], current, desired, protectedPrincipals),
      // The Deny protects the bucket: it stays when the job ends, so no job holds it.
      owned: () => [],
    });
  }
  return { specs, skipped };
}

const changeLine = (c: PolicyChange) =>
  `${c.action} ${c.target.resource} (+${c.diff.added.length} -${c.diff.removed.length} statements, ${c.diff.unchanged} unchanged)`;

/**
 * Reads the current documents and computes the changes. Makes no write call. Throws
 * {@link PolicyLockoutError} for a bucket policy that would lock out a protected principal and
 * {@link PolicyApplyError} for a document over its service's size limit.
 */
export async function planPolicies(job: JobInput, deps: ApplyPoliciesDeps, options: PlanOptions = {}): Promise<PolicyPlan> {
  const { specs, skipped } = await specsFor(job, deps, options);
  const all = stores(deps);
  const changes = await Promise.all(
    specs.map(async (spec): Promise<PolicyChange> => {
      let current: Live;
      try {
        current = await storeFor(all, spec.target).read(spec.target);
      } catch (err) {
        throw new PolicyApplyError(`Reading ${spec.target.resource} failed (${describeError(err)})`, { cause: err });
      }
      const desired = spec.build(current.doc);
      spec.guard?.(current.doc, desired);
      const limit = SIZE_LIMITS[spec.target.kind];
      if (policySize(desired) > limit) {
        throw new PolicyApplyError(
          `${spec.target.resource} would be ${policySize(desired)} characters, over the ${limit} limit: remove unused statements first`,
        );
      }
      const action = current.doc === null ? 'create' : samePolicy(current.doc, desired) ? 'none' : 'update';
      const exact = current.text !== null && JSON.stringify(current.doc) !== current.text ? { currentText: current.text } : {};
      const ownedSids = spec.owned(current.doc);
      return { target: spec.target, action, current: current.doc, ...exact, desired, diff: diffPolicies(current.doc, desired), ownedSids };
    }),
  );
  // A job with an evaluation gate holds its grants through the gate too (RevokeGrants runs after it).
  const leaseSeconds = job.maxQuotaWaitSeconds + job.maxJobDurationSeconds + (job.evaluation?.maxDurationSeconds ?? 0) + 86_400;
  const plan: PolicyPlan = { dryRun: job.dryRun, changes, skipped, summary: changes.map(changeLine), leaseSeconds };
  const size = JSON.stringify(plan).length;
  if (size > MAX_PLAN_CHARS) {
    throw new PolicyApplyError(`The policy plan is ${size} characters, over ${MAX_PLAN_CHARS}: too large for the execution state`);
  }
  return plan;
}

/**
 * The policies a stage lets the workflow write: its Bedrock role, its training and output buckets, its
 * listed endpoints. A bucket that holds invocation logs or evaluation data is never one: Bedrock
 * reaches both from outside the VPC, so the VPC-only Deny may not be written there, even by a forged plan.
 */
export function writableTargets(stage: {
  roleArn: string;
  trainingBucket: string;
  outputBucket: string;
  invocationLogBuckets: readonly string[];
  s3EndpointIds: readonly string[];
  evaluation?: { bucket?: string };
}): WritableTargets {
  const outside = new Set([...stage.invocationLogBuckets, ...(stage.evaluation?.bucket ? [stage.evaluation.bucket] : [])]);
  return {
    roleName: roleNameFromArn(stage.roleArn),
    buckets: [stage.trainingBucket, stage.outputBucket].filter((bucket) => !outside.has(bucket)),
    s3EndpointIds: stage.s3EndpointIds,
  };
}

/** What the stage lets the workflow write: the Bedrock role, the job buckets, the listed endpoints. */
export interface WritableTargets {
  roleName: string;
  buckets: readonly string[];
  s3EndpointIds: readonly string[];
}

/**
 * Refuses a plan that names a policy outside `writable` (a plan travels in the execution state; this
 * check does not trust it). Throws {@link PolicyApplyError} naming the targets, before any call.
 */
export function assertWritable(plan: PolicyPlan, writable: WritableTargets): void {
  const outside = plan.changes
    .map((c) => c.target)
    .filter((t) =>
      t.kind === 'role'
        ? t.roleName !== writable.roleName
        : t.kind === 'bucket'
          ? !writable.buckets.includes(t.bucket)
          : !writable.s3EndpointIds.includes(t.vpcEndpointId),
    );
  if (outside.length > 0) {
    throw new PolicyApplyError(`The plan names policies outside the stage (not written): ${outside.map((t) => t.resource).join(', ')}`);
  }
}

/** The job a plan is applied for (its chain's first execution ARN) and the leases that serialize and record it. */
export interface LeaseContext {
  owner: string;
  leases: Leases;
}

/** `role:<role>:<policy>`, `endpoint:<id>`, `bucket:<name>`: a document's name in the leases table. */
export function documentKey(target: PolicyTarget): DocumentKey {
  return target.kind === 'role' ? `role:${target.roleName}:${target.policyName}` : target.kind === 'endpoint' ? `endpoint:${target.vpcEndpointId}` : `bucket:${target.bucket}`;
}

/**
 * Writes the plan's changes in order, each under its document's lock, and records the job's hold on
 * its statements (also where nothing needed writing). Throws {@link PolicyApplyError} on the first
 * failure (nothing after it is written); the RollbackPolicies state then restores what was written.
 * {@link PolicyLockBusyError} (another execution is writing the document) is thrown as is: retried.
 */
export async function applyPolicies(plan: PolicyPlan, deps: ApplyPoliciesDeps, lease: LeaseContext): Promise<ApplyResult> {
  const all = stores(deps);
  const applied: string[] = [];
  const alreadyApplied: string[] = [];
  const expiresAt = Math.floor(Date.now() / 1000) + plan.leaseSeconds;
  for (const change of plan.changes) {
    // Nothing to write and nothing this job relies on (a bucket Deny already in place): no lock, no read.
    if (change.action === 'none' && change.ownedSids.length === 0) continue;
    const { target } = change;
    const document = documentKey(target);
    const store = storeFor(all, target);
    await lease.leases.withLock(document, lease.owner, async () => {
      try {
        const now = await store.read(target);
        if (samePolicy(now.doc, change.desired)) {
          if (change.action !== 'none') alreadyApplied.push(target.resource);
        } else if (!samePolicy(now.doc, change.current)) {
          throw new PolicyApplyError(`${target.resource} changed since the plan was made (another execution or a person): not overwritten`);
        } else {
          await store.write(target, JSON.stringify(change.desired));
          applied.push(target.resource);
        }
        if (change.ownedSids.length > 0) {
          await lease.leases.hold(lease.owner, { document, target: JSON.stringify(target), sids: change.ownedSids, expiresAt });
        }
      } catch (err) {
        throw new PolicyApplyError(
          `Writing ${target.resource} failed (${describeError(err)}); written before it: ${applied.join(', ') || 'nothing'}`,
          { cause: err },
        );
      }
    });
  }
  return { ...plan, applied, alreadyApplied };
}

/** `doc` without the statements whose Sid is in `sids`. */
function withoutSids(doc: PolicyDocument, sids: Set<string>): PolicyDocument {
  return { ...doc, Statement: doc.Statement.filter((st) => !st.Sid || !sids.has(st.Sid)) };
}

/**
 * Restores the previous documents of the plan's changes that are still as this workflow wrote them,
 * in reverse order (the bucket Deny goes first). Throws {@link PolicyRollbackError} listing what it
 * could not restore, after trying every target.
 */
export async function rollbackPolicies(plan: PolicyPlan, deps: ApplyPoliciesDeps, lease: LeaseContext): Promise<RollbackResult> {
  const all = stores(deps);
  const result: Omit<RollbackResult, 'summary'> = { restored: [], deleted: [], keptForOthers: [], leftAlone: [], notWritten: [] };
  const failures: string[] = [];
  for (const change of [...plan.changes].reverse()) {
    const { target } = change;
    const document = documentKey(target);
    const store = storeFor(all, target);
    try {
      // Never written by this job: only its hold goes (a hold is this job's own item: no lock needed).
      if (change.action === 'none') {
        await lease.leases.release(lease.owner, document);
        continue;
      }
      await lease.leases.withLock(document, lease.owner, async () => {
        const now = await store.read(target);
        const others = await lease.leases.heldByOthers(document, lease.owner);
        const shared = change.ownedSids.filter((sid) => others.has(sid));
        if (samePolicy(now.doc, change.current)) result.notWritten.push(target.resource);
        else if (!samePolicy(now.doc, change.desired)) result.leftAlone.push(target.resource);
        else if (shared.length > 0) {
          // Another live job relies on statements of this document (it found them applied): keep the
          // document, remove only this job's statements that nobody else holds.
          const mine = new Set(change.ownedSids.filter((sid) => !others.has(sid) && !(change.current?.Statement ?? []).some((st) => st.Sid === sid)));
          if (mine.size > 0) await store.write(target, JSON.stringify(withoutSids(now.doc!, mine)));
          result.keptForOthers.push(target.resource);
        } else if (change.current === null) {
          await store.remove(target);
          result.deleted.push(target.resource);
        } else {
          await store.write(target, change.currentText ?? JSON.stringify(change.current));
          result.restored.push(target.resource);
        }
        await lease.leases.release(lease.owner, document);
      });
    } catch (err) {
      if ((err as { name?: string }).name === 'PolicyLockBusyError') throw err;
      failures.push(`${target.resource}: ${describeError(err)}`);
    }
  }
  const list = (items: string[]) => (items.length ? items.join(', ') : 'none');
  const summary =
    `restored: ${list(result.restored)}; deleted: ${list(result.deleted)}; kept for another job: ${list(result.keptForOthers)}; ` +
    `left alone (changed by someone else since): ${list(result.leftAlone)}`;
  if (failures.length > 0) {
    throw new PolicyRollbackError(`Rollback incomplete, restore by hand: ${failures.join('; ')} (${summary})`);
  }
  return { ...result, summary };
}

export interface RevokeResult {
  /** Documents whose statements of this job were removed. */
  revoked: string[];
  /** Documents where every statement of this job is held by another live job (nothing removed). */
  keptForOthers: string[];
  /** Documents left as they are by choice: the stage keeps grants (keepGrants), or removing would empty an endpoint policy. */
  kept: string[];
  summary: string;
}

/**
 * The job has ended: removes the statements it holds that no other live job holds (its temporary
 * grants: role statements for its buckets and key, endpoint statements), and releases its holds. With
 * `keep` (stage param keepGrants) only the holds are released. The bucket Deny is never held, so it
 * stays. An endpoint policy that would be left without any statement is kept as it is (reported).
 * Idempotent: a second run finds no hold.
 */
export async function revokeGrants(deps: ApplyPoliciesDeps, lease: LeaseContext, keep: boolean): Promise<RevokeResult> {
  const all = stores(deps);
  const result: Omit<RevokeResult, 'summary'> = { revoked: [], keptForOthers: [], kept: [] };
  for (const hold of await lease.leases.heldBy(lease.owner)) {
    const target = JSON.parse(hold.target) as PolicyTarget;
    const store = storeFor(all, target);
    if (keep) {
      // The statements stay: only this job's hold goes (its own item: no lock needed).
      result.kept.push(target.resource);
      await lease.leases.release(lease.owner, hold.document);
      continue;
    }
    await lease.leases.withLock(hold.document, lease.owner, async () => {
      const others = await lease.leases.heldByOthers(hold.document, lease.owner);
      const mine = new Set(hold.sids.filter((sid) => !others.has(sid)));
      const now = mine.size === 0 ? undefined : await store.read(target);
      const present = now?.doc?.Statement.filter((st) => st.Sid && mine.has(st.Sid)) ?? [];
      if (mine.size === 0) result.keptForOthers.push(target.resource);
      else if (present.length === 0) result.revoked.push(target.resource); // already gone (removed by hand)
      else {
        const rest = withoutSids(now!.doc!, mine);
        if (rest.Statement.length > 0) await store.write(target, JSON.stringify(rest));
        else if (target.kind !== 'endpoint') await store.remove(target);
        if (rest.Statement.length === 0 && target.kind === 'endpoint') result.kept.push(target.resource);
        else result.revoked.push(target.resource);
      }
      await lease.leases.release(lease.owner, hold.document);
    });
  }
  const list = (items: string[]) => (items.length ? items.join(', ') : 'none');
  return {
    ...result,
    summary: `revoked: ${list(result.revoked)}; kept for another job: ${list(result.keptForOthers)}; kept: ${list(result.kept)}`,
  };
}

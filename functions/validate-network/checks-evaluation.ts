/**
 * The evaluation gate of a job that asks for it (docs/evaluation.md), checked before training spends
 * anything: the custom model will deploy on demand (the base model, Region and customization type are
 * in the documented table, shared/evaluation-support.ts), the held-out dataset exists, the Bedrock role
 * may be assumed by Bedrock for evaluation jobs, and the judge model is offered in the Region.
 */
import { buildArn } from '../shared/arn.js';
import { onDemandDeploymentSupport } from '../shared/evaluation-support.js';
import type { JobInput } from '../shared/job-input.js';
import { evaluatePolicies } from '../shared/policies/eval.js';
import type { PreflightFacts, RoleFacts } from './facts.js';
import type { EvaluationDatasetFacts } from './facts-evaluation.js';
import { foundationModelCheck } from './checks-customization.js';
import { CHECK, flag, pass, type CheckResult } from './check-result.js';

/**
 * An evaluation job's ARN as Bedrock passes it in aws:SourceArn when it assumes the role (botocore
 * 1.44.18 bedrock EvaluationJobArn: `…:evaluation-job/[a-z0-9]{12}`); the id is not known before the job
 * exists, so a stand-in id of that form is tried, as a trust condition would have to admit any.
 */
export function evaluationJobArnPattern(job: Pick<JobInput, 'partition' | 'region' | 'accountId'>): { sample: string; wildcard: string } {
  const scope = { partition: job.partition, region: job.region, accountId: job.accountId, service: 'bedrock' };
  return { sample: buildArn({ ...scope, resource: 'evaluation-job/preflight0000' }), wildcard: buildArn({ ...scope, resource: 'evaluation-job/*' }) };
}

const JUDGE_FIX = 'fix evaluation.judgeModelIdentifier (one of the stage param evaluationJudgeModels)';

export function evaluationChecks(job: JobInput, facts: PreflightFacts): CheckResult[] {
  if (job.evaluation === undefined) return [];
  return [
    supportedCheck(job),
    ...(facts.evaluation
      ? [
          datasetCheck(facts.evaluation.dataset),
          foundationModelCheck(CHECK.evaluationJudgeAvailable, 'judge', JUDGE_FIX, job, facts.evaluation.judge),
        ]
      : []),
    ...roleTrustCheck(job, facts.role),
  ];
}

/** Bedrock deploys the job's custom model on demand: else the gate cannot run (it never buys Provisioned Throughput). */
function supportedCheck(job: JobInput): CheckResult {
  const r = `${job.baseModelIdentifier} (${job.customizationType}, ${job.region})`;
  const support = onDemandDeploymentSupport(job.baseModelIdentifier, job.region, job.customizationType);
  if (support.supported) return pass(CHECK.evaluationSupported, 'fail', r, `${support.row.name} custom models deploy on demand in ${job.region}: the gate can evaluate this job's model`);
  return flag(
    CHECK.evaluationSupported,
    'fail',
    r,
    `the evaluation gate cannot run: ${support.reason}`,
    'Leave evaluation out of this job (the stage param evaluationGate must not be require), or train a base model, Region and customization type the table lists (docs/evaluation.md "What it cannot do").',
  );
}

function datasetCheck(d: EvaluationDatasetFacts): CheckResult {
  switch (d.status) {
    case 'found':
      return pass(CHECK.evaluationDatasetExists, 'fail', d.uri, 'the held-out dataset exists');
    case 'missing':
      return flag(CHECK.evaluationDatasetExists, 'fail', d.uri, 'held-out dataset object not found', `Upload the held-out dataset to ${d.uri}, or name another dataset of the stage param evaluationDatasets in evaluation.dataset.`);
    case 'unknown':
      return flag(CHECK.evaluationDatasetExists, 'fail', d.uri, `could not verify the held-out dataset: ${d.error}`, `Allow the workflow s3:ListBucket on the evaluation bucket ${d.bucket} (stage param evaluationBucket).`);
  }
}


/**
 * The evaluation jobs run as the stage's Bedrock role: its trust policy must let bedrock.amazonaws.com
 * assume it for them, with aws:SourceAccount the job's account and aws:SourceArn an evaluation job of the
 * job's Region (a condition written for customization jobs only, `…:model-customization-job/*`, would
 * let training run and refuse the gate after it: https://docs.aws.amazon.com/bedrock/latest/userguide/judge-service-roles.html,
 * trust: bedrock.amazonaws.com). Role missing or unreadable: role.exists reports it.
 */
function roleTrustCheck(job: JobInput, role: RoleFacts): CheckResult[] {
  if (role.status !== 'found') return [];
  const r = role.roleArn;
  const { sample, wildcard } = evaluationJobArnPattern(job);
  const fix = `Let the role trust bedrock.amazonaws.com with sts:AssumeRole for evaluation jobs too: an aws:SourceArn condition must admit ${wildcard} (aws iam update-assume-role-policy).`;
  if (role.trust === null) return [flag(CHECK.evaluationRoleTrust, 'fail', r, 'the role has no trust policy', fix)];
  if (role.trust === undefined) return [flag(CHECK.evaluationRoleTrust, 'warn', r, 'could not read the trust policy (not valid JSON)', fix)];
  const decision = evaluatePolicies([role.trust], {
    action: 'sts:AssumeRole',
    resource: r,
    principals: ['service:bedrock.amazonaws.com'],
    context: { 'aws:SourceAccount': job.accountId, 'aws:SourceArn': sample },
  });
  if (decision === 'allowed') return [pass(CHECK.evaluationRoleTrust, 'fail', r, `the role trusts bedrock.amazonaws.com for evaluation jobs (${wildcard})`)];
  if (decision === 'conditional') return [flag(CHECK.evaluationRoleTrust, 'warn', r, 'could not verify the trust policy for evaluation jobs (conditions the preflight does not evaluate)', fix)];
  return [flag(CHECK.evaluationRoleTrust, 'fail', r, `the role's trust policy does not let bedrock.amazonaws.com assume it for evaluation jobs (${wildcard})`, fix)];
}

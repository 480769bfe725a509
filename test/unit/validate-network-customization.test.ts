/**
 * The preflight's checks of what a distillation or RFT job names: the grader Lambda (exists, the role
 * may invoke it, its resource policy, timeout and concurrency), the teacher model and the invocation-log
 * source. The network answers as healthy (test/support/mock-network.ts); Lambda and Bedrock answer as
 * their APIs document (Lambda API Reference GetFunction, GetPolicy; Bedrock GetFoundationModel).
 */
import { BedrockClient, GetFoundationModelCommand, ResourceNotFoundException as BedrockNotFound } from '@aws-sdk/client-bedrock';
import { EC2Client } from '@aws-sdk/client-ec2';
import { GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { GetFunctionCommand, GetPolicyCommand, LambdaClient, LambdaServiceException, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveJobInput, type JobInput } from '../../functions/shared/job-input.js';
import { NetworkValidationError } from '../../functions/shared/errors.js';
import { buildReport, validateNetwork, type PreflightReport } from '../../functions/validate-network/validate-network.js';
import { parseLambdaArn } from '../../functions/validate-network/facts-customization.js';
import { CUSTOMIZATIONS, EXECUTION, GRADER_ARN, rawJob } from '../fixtures/job.js';
import { coveringParams, jobPart, testStage } from '../fixtures/stage.js';
import { mockHealthyNetwork } from '../support/mock-network.js';

const region = 'us-east-1';
const ec2 = new EC2Client({ region });
const s3 = new S3Client({ region });
const iam = new IAMClient({ region });
const lambda = new LambdaClient({ region });
const bedrock = new BedrockClient({ region });
const mocks = { ec2: mockClient(ec2), s3: mockClient(s3), iam: mockClient(iam), lambda: mockClient(lambda), bedrock: mockClient(bedrock) };
const deps = { ec2, s3, iam, lambda, bedrock };
const roleArn = 'arn:aws:iam::123456789012:role/BedrockCustomizationRole';

const notFound = (message: string) => new ResourceNotFoundException({ message, $metadata: { httpStatusCode: 404 } });
const denied = () => new LambdaServiceException({ name: 'AccessDeniedException', message: 'not authorized', $fault: 'client', $metadata: { httpStatusCode: 403 } });

/** A healthy grader: a 60 s timeout, Active, no reserved concurrency, no resource policy. */
function healthyGrader(patch: { Timeout?: number; State?: string; StateReason?: string; reserved?: number } = {}) {
  mocks.lambda.on(GetFunctionCommand).resolves({
    Configuration: {
      FunctionName: 'rft-grader',
      FunctionArn: GRADER_ARN,
      Timeout: patch.Timeout ?? 60,
      State: (patch.State ?? 'Active') as never,
      ...(patch.StateReason ? { StateReason: patch.StateReason } : {}),
    },
    ...(patch.reserved !== undefined ? { Concurrency: { ReservedConcurrentExecutions: patch.reserved } } : {}),
  });
  // GetPolicy answers ResourceNotFoundException for a function without a resource policy.
  mocks.lambda.on(GetPolicyCommand).rejects(notFound('The resource you requested does not exist.'));
}

/** The grader's resource policy. */
const resourcePolicy = (statements: unknown[]) =>
  mocks.lambda.on(GetPolicyCommand).resolves({ Policy: JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: statements }), RevisionId: 'r1' });

/** The Bedrock role's one inline policy. */
function inlinePolicy(statements: unknown[]) {
  mocks.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['own'], IsTruncated: false });
  mocks.iam.on(GetRolePolicyCommand).resolves({
    RoleName: 'BedrockCustomizationRole',
    PolicyName: 'own',
    PolicyDocument: encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: statements })),
  });
}

/** `rawJob` with `variant`'s fields and `overrides`, resolved in a stage that lists what it names. */
function job(variant: Record<string, unknown>, overrides: Record<string, unknown> = {}): JobInput {
  const raw = Object.fromEntries(Object.entries(rawJob({ ...variant, ...overrides })).filter(([, v]) => v !== undefined));
  return resolveJobInput(jobPart(raw), testStage(coveringParams(raw)), EXECUTION);
}
const rft = (lambdaArn = GRADER_ARN, overrides: Record<string, unknown> = {}) =>
  job(CUSTOMIZATIONS.rft, {
    customizationConfig: { rftConfig: { ...CUSTOMIZATIONS.rft.customizationConfig.rftConfig, graderConfig: { lambdaGrader: { lambdaArn } } } },
    ...overrides,
  });

const flagged = (r: PreflightReport) => r.checks.filter((c) => !c.passed).map((c) => `${c.severity} ${c.id} ${c.resource}`);
const find = (r: PreflightReport, id: string) => r.checks.filter((c) => c.id.startsWith(id));
const sentTo = (mock: (typeof mocks)[keyof typeof mocks]) => mock.calls().map((c) => c.args[0].constructor.name);

beforeEach(() => mockHealthyNetwork(mocks));
afterEach(() => {
  for (const m of Object.values(mocks)) m.reset();
});

describe('preflight: the RFT grader Lambda', () => {
  it('passes a healthy grader the role may invoke (policies.role apply), in two Lambda calls and no invocation', async () => {
    healthyGrader();
    const r = await buildReport(rft(), deps);
    expect(flagged(r).filter((f) => f.includes('grader.'))).toEqual([]);
    expect(find(r, 'grader.').map((c) => c.id)).toEqual(['grader.exists', 'grader.invoke-permission', 'grader.resource-policy', 'grader.timeout', 'grader.concurrency']);
    // With policies.role 'apply' the role is judged with apply-policies' grant on the grader (info when it allows).
    expect(find(r, 'grader.invoke-permission')[0]).toMatchObject({ passed: true, severity: 'info', resource: `${roleArn} → ${GRADER_ARN}` });
    expect(sentTo(mocks.lambda).sort()).toEqual(['GetFunctionCommand', 'GetPolicyCommand']);
    expect(mocks.lambda.commandCalls(GetFunctionCommand)[0]!.args[0].input).toEqual({ FunctionName: GRADER_ARN });
    // (The report's own tally counts in a middleware mocked clients skip: the emulator tier checks it.)
    expect(mocks.bedrock.calls()).toHaveLength(0);
  });

  it('fails a grader that does not exist, naming it: NetworkValidationError before any policy or job', async () => {
    mocks.lambda.on(GetFunctionCommand).rejects(notFound('Function not found: ' + GRADER_ARN));
    mocks.lambda.on(GetPolicyCommand).rejects(notFound('Function not found: ' + GRADER_ARN));
    const err = await validateNetwork(rft(), deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkValidationError);
    expect((err as Error).message).toContain(`[grader.exists] ${GRADER_ARN}: grader Lambda not found in us-east-1 Fix: Create the function in us-east-1`);
    // The other grader checks need the function: left out.
    const report = (err as NetworkValidationError).report as PreflightReport;
    expect(find(report, 'grader.').map((c) => c.id)).toEqual(['grader.exists']);
  });

  it('reads a version or alias by the function ARN and its qualifier (the ARN the stage lists), and names both when it is missing', async () => {
    const alias = `${GRADER_ARN}:live`;
    mocks.lambda.on(GetFunctionCommand).rejects(notFound('Cannot find alias arn'));
    mocks.lambda.on(GetPolicyCommand).rejects(notFound('Cannot find alias arn'));
    const r = await buildReport(rft(alias), deps);
    expect(mocks.lambda.commandCalls(GetFunctionCommand)[0]!.args[0].input).toEqual({ FunctionName: GRADER_ARN, Qualifier: 'live' });
    expect(mocks.lambda.commandCalls(GetPolicyCommand)[0]!.args[0].input).toEqual({ FunctionName: GRADER_ARN, Qualifier: 'live' });
    expect(find(r, 'grader.exists')[0]).toMatchObject({ passed: false, severity: 'fail', resource: alias });
    expect(find(r, 'grader.exists')[0]!.message).toContain(`function ${GRADER_ARN}, version or alias live`);
    expect(parseLambdaArn('arn:aws:lambda:us-east-1:123456789012:function:g:$LATEST')).toMatchObject({ functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:g', qualifier: '$LATEST' });
  });

  it("fails a grader of another account or region without calling Lambda (the role's scope would refuse it anyway)", async () => {
    const other = 'arn:aws:lambda:us-west-2:210987654321:function:rft-grader';
    // ResolveInput refuses it (stage param graderLambdaArns); the preflight refuses it on its own too.
    const resolved = rft();
    const forged = { ...resolved, customizationConfig: { rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: other } } } } } as JobInput;
    const r = await buildReport(forged, deps);
    expect(flagged(r)).toContain(`fail grader.exists ${other}`);
    expect(find(r, 'grader.exists')[0]!.message).toContain('account 210987654321, region us-west-2');
    expect(mocks.lambda.calls()).toHaveLength(0);
  });

  it('fails a grader it may not read (access denied) and a function in state Failed', async () => {
    mocks.lambda.on(GetFunctionCommand).rejects(denied());
    mocks.lambda.on(GetPolicyCommand).rejects(denied());
    const r1 = await buildReport(rft(), deps);
    expect(find(r1, 'grader.exists')[0]).toMatchObject({ passed: false, severity: 'fail', message: 'could not read the grader Lambda: access denied' });
    healthyGrader({ State: 'Failed', StateReason: 'The image is not valid' });
    const r2 = await buildReport(rft(), deps);
    expect(find(r2, 'grader.exists')[0]).toMatchObject({ passed: false, severity: 'fail' });
    expect(find(r2, 'grader.exists')[0]!.message).toContain('state Failed (The image is not valid)');
  });

  describe('may the Bedrock role invoke it', () => {
    it("with policies.role 'skip' and no grant: fails, naming the grader and the fix", async () => {
      healthyGrader();
      const r = await buildReport(rft(GRADER_ARN, { policies: { role: 'skip' } }), deps);
      const [check] = find(r, 'grader.invoke-permission');
      expect(check).toMatchObject({ passed: false, severity: 'fail', resource: `${roleArn} → ${GRADER_ARN}` });
      expect(check!.remedy).toContain(`lambda:InvokeFunction on ${GRADER_ARN}`);
      await expect(validateNetwork(rft(GRADER_ARN, { policies: { role: 'skip' } }), deps)).rejects.toThrow(`[grader.invoke-permission] ${roleArn} → ${GRADER_ARN}`);
    });

    it("with 'skip': passes the role's own grant (exact ARN or a wildcard), not a grant on another function or on the unqualified ARN for an alias", async () => {
      healthyGrader();
      const decide = async (resource: string, arn = GRADER_ARN) => {
        inlinePolicy([{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: resource }]);
        return find(await buildReport(rft(arn, { policies: { role: 'skip' } }), deps), 'grader.invoke-permission')[0]!;
      };
      expect(await decide(GRADER_ARN)).toMatchObject({ passed: true, severity: 'fail' });
      expect(await decide('arn:aws:lambda:us-east-1:123456789012:function:rft-*')).toMatchObject({ passed: true });
      expect(await decide('arn:aws:lambda:us-east-1:123456789012:function:other')).toMatchObject({ passed: false, severity: 'fail' });
      // Lambda compares the policy's resource with the ARN called: the unqualified ARN does not cover an alias.
      expect(await decide(GRADER_ARN, `${GRADER_ARN}:live`)).toMatchObject({ passed: false, severity: 'fail' });
    });

    it("with 'apply': fails an explicit Deny of the role, warns on a condition it cannot evaluate", async () => {
      healthyGrader();
      inlinePolicy([{ Effect: 'Deny', Action: 'lambda:*', Resource: '*' }]);
      expect(find(await buildReport(rft(), deps), 'grader.invoke-permission')[0]).toMatchObject({ passed: false, severity: 'fail' });
      inlinePolicy([{ Effect: 'Deny', Action: 'lambda:InvokeFunction', Resource: '*', Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } }]);
      expect(find(await buildReport(rft(), deps), 'grader.invoke-permission')[0]).toMatchObject({ passed: false, severity: 'warn' });
    });

    it("counts the grader's resource policy when it names the role, not when it names only the account", async () => {
      healthyGrader();
      const skip = () => rft(GRADER_ARN, { policies: { role: 'skip' } });
      resourcePolicy([{ Sid: 'bedrock', Effect: 'Allow', Principal: { AWS: roleArn }, Action: 'lambda:InvokeFunction', Resource: GRADER_ARN }]);
      expect(find(await buildReport(skip(), deps), 'grader.invoke-permission')[0]).toMatchObject({ passed: true });
      resourcePolicy([{ Sid: 'account', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'lambda:InvokeFunction', Resource: GRADER_ARN }]);
      expect(find(await buildReport(skip(), deps), 'grader.invoke-permission')[0]).toMatchObject({ passed: false, severity: 'fail' });
    });

    it("warns when the role's policies cannot be read; says nothing more when the role is missing (role.exists fails)", async () => {
      healthyGrader();
      mocks.iam.on(ListRolePoliciesCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
      expect(find(await buildReport(rft(), deps), 'grader.invoke-permission')[0]).toMatchObject({ passed: false, severity: 'warn' });
    });
  });

  describe("the grader's resource policy", () => {
    it('fails a Deny that matches the role (by ARN, by account, or everyone), warns on a conditional Deny, passes a Deny for others', async () => {
      healthyGrader();
      const decide = async (principal: unknown, condition?: unknown) => {
        resourcePolicy([
          { Sid: 'allow', Effect: 'Allow', Principal: { Service: 'bedrock.amazonaws.com' }, Action: 'lambda:InvokeFunction', Resource: GRADER_ARN },
          { Sid: 'deny', Effect: 'Deny', Principal: principal, Action: 'lambda:InvokeFunction', Resource: GRADER_ARN, ...(condition ? { Condition: condition } : {}) },
        ]);
        return find(await buildReport(rft(), deps), 'grader.resource-policy')[0]!;
      };
      expect(await decide({ AWS: roleArn })).toMatchObject({ passed: false, severity: 'fail', resource: GRADER_ARN });
      expect(await decide({ AWS: 'arn:aws:iam::123456789012:root' })).toMatchObject({ passed: false, severity: 'fail' });
      expect(await decide('*')).toMatchObject({ passed: false, severity: 'fail' });
      expect(await decide('*', { StringNotEquals: { 'aws:PrincipalOrgID': 'o-abc' } })).toMatchObject({ passed: false, severity: 'warn' });
      expect(await decide({ AWS: 'arn:aws:iam::123456789012:role/Other' })).toMatchObject({ passed: true });
    });

    it('passes a function without a resource policy; warns when it cannot be read', async () => {
      healthyGrader();
      expect(find(await buildReport(rft(), deps), 'grader.resource-policy')[0]).toMatchObject({ passed: true, message: 'the grader has no resource policy: nothing there denies the role' });
      mocks.lambda.on(GetPolicyCommand).rejects(denied());
      expect(find(await buildReport(rft(), deps), 'grader.resource-policy')[0]).toMatchObject({ passed: false, severity: 'warn' });
    });
  });

  it("warns on Lambda's default timeout of 3 s (the RFT guide names no minimum), passes a longer one", async () => {
    healthyGrader({ Timeout: 3 });
    const [short] = find(await buildReport(rft(), deps), 'grader.timeout');
    expect(short).toMatchObject({ passed: false, severity: 'warn' });
    expect(short!.remedy).toContain('https://docs.aws.amazon.com/bedrock/latest/userguide/reward-functions.html');
    healthyGrader({ Timeout: 4 });
    expect(find(await buildReport(rft(), deps), 'grader.timeout')[0]).toMatchObject({ passed: true });
  });

  it('fails reserved concurrency 0 (every invocation throttled), warns on any other reservation, passes none', async () => {
    healthyGrader({ reserved: 0 });
    const zero = await buildReport(rft(), deps);
    expect(flagged(zero)).toContain(`fail grader.concurrency ${GRADER_ARN}`);
    expect(zero.ok).toBe(false);
    healthyGrader({ reserved: 10 });
    const ten = await buildReport(rft(), deps);
    expect(find(ten, 'grader.concurrency')[0]).toMatchObject({ passed: false, severity: 'warn' });
    expect(find(ten, 'grader.concurrency')[0]!.message).toContain('at 10 concurrent invocations; AWS documents no concurrency RFT needs');
    expect(ten.ok).toBe(true);
  });

  it('warns, unverified, on the concurrency of a version or alias (GetFunction reports none with a qualifier)', async () => {
    healthyGrader();
    const [check] = find(await buildReport(rft(`${GRADER_ARN}:live`), deps), 'grader.concurrency');
    expect(check).toMatchObject({ passed: false, severity: 'warn', resource: `${GRADER_ARN}:live` });
    expect(check!.remedy).toContain(`aws lambda get-function-concurrency --function-name ${GRADER_ARN}`);
    // When Lambda does report it, it is judged as for the function.
    healthyGrader({ reserved: 0 });
    expect(find(await buildReport(rft(`${GRADER_ARN}:live`), deps), 'grader.concurrency')[0]).toMatchObject({ passed: false, severity: 'fail' });
  });

  it('makes no Lambda or Bedrock call for a fine-tuning job', async () => {
    const r = await buildReport(job({}), deps);
    expect(find(r, 'grader.')).toEqual([]);
    expect(find(r, 'teacher.')).toEqual([]);
    expect(mocks.lambda.calls()).toHaveLength(0);
    expect(mocks.bedrock.calls()).toHaveLength(0);
  });
});

describe('preflight: the distillation teacher model', () => {
  const teacher = CUSTOMIZATIONS.distillation.customizationConfig.distillationConfig.teacherModelConfig.teacherModelIdentifier;
  const foundationModel = (status: 'ACTIVE' | 'LEGACY') =>
    mocks.bedrock.on(GetFoundationModelCommand).resolves({
      modelDetails: { modelArn: `arn:aws:bedrock:us-east-1::foundation-model/${teacher}`, modelId: teacher, modelLifecycle: { status } },
    });

  it('passes an ACTIVE model (one GetFoundationModel call), warns on a LEGACY one', async () => {
    foundationModel('ACTIVE');
    const r = await buildReport(job(CUSTOMIZATIONS.distillation), deps);
    expect(find(r, 'teacher.available')).toEqual([expect.objectContaining({ passed: true, resource: teacher })]);
    expect(mocks.bedrock.commandCalls(GetFoundationModelCommand)[0]!.args[0].input).toEqual({ modelIdentifier: teacher });
    expect(mocks.bedrock.calls()).toHaveLength(1);
    expect(mocks.lambda.calls()).toHaveLength(0);
    foundationModel('LEGACY');
    expect(find(await buildReport(job(CUSTOMIZATIONS.distillation), deps), 'teacher.available')[0]).toMatchObject({ passed: false, severity: 'warn' });
  });

  it('fails a teacher not offered in the region, naming it', async () => {
    mocks.bedrock.on(GetFoundationModelCommand).rejects(new BedrockNotFound({ message: 'Could not resolve the foundation model', $metadata: { httpStatusCode: 404 } }));
    const err = await validateNetwork(job(CUSTOMIZATIONS.distillation), deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkValidationError);
    expect((err as Error).message).toContain(`[teacher.available] ${teacher}: teacher model not found in us-east-1`);
  });

  it('warns, without a call, for an inference profile (GetFoundationModel does not describe one)', async () => {
    const profile = 'us.amazon.nova-pro-v1:0';
    const config = { distillationConfig: { teacherModelConfig: { teacherModelIdentifier: profile } } };
    const r = await buildReport(job(CUSTOMIZATIONS.distillation, { customizationConfig: config }), deps);
    expect(find(r, 'teacher.available')[0]).toMatchObject({ passed: false, severity: 'warn', resource: profile });
    expect(mocks.bedrock.calls()).toHaveLength(0);
  });
});

describe('preflight: the invocation-log source', () => {
  const logs = CUSTOMIZATIONS.invocationLogs.invocationLogsConfig.invocationLogSource.s3Uri;
  const logBucket = 'invocation-logs-bucket';

  it('lists the log prefix instead of a dataset key, and passes when it holds logs', async () => {
    foundationModelActive();
    const r = await buildReport(job(CUSTOMIZATIONS.invocationLogs), deps);
    expect(find(r, 'invocation-logs.exist')).toEqual([expect.objectContaining({ passed: true, resource: logs })]);
    expect(find(r, 'dataset.exists')).toEqual([]);
    const listed = mocks.s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input);
    expect(listed).toEqual([{ Bucket: logBucket, Prefix: 'AWSLogs/123456789012/BedrockModelInvocationLogs/', MaxKeys: 1 }]);
    // The log bucket is one of the job's buckets: located, and the role's read of it judged (apply: granted).
    expect(find(r, 'bucket.exists').map((c) => c.resource)).toContain(`s3://${logBucket}`);
    expect(find(r, 'role.bucket-access').find((c) => c.resource.endsWith(logBucket))).toMatchObject({ passed: true });
  });

  it('fails an empty log source, and one it may not list', async () => {
    foundationModelActive();
    mocks.s3.on(ListObjectsV2Command).resolves({ KeyCount: 0 });
    const [empty] = find(await buildReport(job(CUSTOMIZATIONS.invocationLogs), deps), 'invocation-logs.exist');
    expect(empty).toMatchObject({ passed: false, severity: 'fail', message: 'no object under the invocation-log source' });
    mocks.s3.on(ListObjectsV2Command).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    const [unreadable] = find(await buildReport(job(CUSTOMIZATIONS.invocationLogs), deps), 'invocation-logs.exist');
    expect(unreadable).toMatchObject({ passed: false, severity: 'fail', message: 'could not list the invocation-log source: access denied' });
  });

  it("with policies.role 'skip': the role's read of the log bucket is judged with the other buckets", async () => {
    foundationModelActive();
    const r = await buildReport(job(CUSTOMIZATIONS.invocationLogs, { policies: { role: 'skip' } }), deps);
    expect(flagged(r)).toContain(`warn role.bucket-access ${roleArn} → s3://${logBucket}`);
    inlinePolicy([{ Effect: 'Deny', Action: 's3:GetObject', Resource: `arn:aws:s3:::${logBucket}/*` }]);
    const denied = await buildReport(job(CUSTOMIZATIONS.invocationLogs, { policies: { role: 'skip' } }), deps);
    expect(flagged(denied)).toContain(`fail role.bucket-access ${roleArn} → s3://${logBucket}`);
  });

  function foundationModelActive() {
    mocks.bedrock.on(GetFoundationModelCommand).resolves({ modelDetails: { modelArn: 'm', modelId: 'm', modelLifecycle: { status: 'ACTIVE' } } });
  }
});

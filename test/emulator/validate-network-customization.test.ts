/**
 * The preflight of what a distillation or RFT job names, against moto: the demo account's grader Lambda
 * and others created with CreateFunction (a zip; moto creates them without Docker, and the preflight never
 * invokes them), the Bedrock
 * stand-in's GetFoundationModel (python/bedrock_standin.py), an invocation-log bucket.
 */
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ListModelCustomizationJobsCommand } from '@aws-sdk/client-bedrock';
import { CreateRoleCommand, GetRolePolicyCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  AddPermissionCommand,
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import { GetBucketPolicyCommand } from '@aws-sdk/client-s3';
import { DescribeVpcEndpointsCommand } from '@aws-sdk/client-ec2';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NetworkValidationError } from '../../functions/shared/errors.js';
import { resolveJobInput, type JobInput } from '../../functions/shared/job-input.js';
import { buildReport, validateNetwork, type PreflightReport } from '../../functions/validate-network/validate-network.js';
import { demoJobInput, demoStageParams, seedDemoAccount, type DemoAccount } from '../../local/seed.js';
import { loadLambdaHandlers, runWorkflow, type TaskHandler } from '../../local/workflow.js';
import { CUSTOMIZATIONS } from '../fixtures/job.js';
import { coveringParams, jobPart, setStage, testStage } from '../fixtures/stage.js';
import { commandsSentDuring, motoClients, resetMoto } from '../support/moto-clients.js';

const clients = motoClients();
const { ec2, s3, iam, lambda, bedrock } = clients;
const execution = { id: 'arn:aws:states:us-east-1:123456789012:execution:customize-model:e1', name: 'e1' };

let account: DemoAccount;
let graderArn: string;

/** The smallest zip archive (an end-of-central-directory record alone): moto stores it and never runs it. */
const EMPTY_ZIP = Buffer.concat([Buffer.from([0x50, 0x4b, 0x05, 0x06]), Buffer.alloc(18)]);

/** A grader function in moto (its execution role first: Lambda requires one that exists). */
async function createGrader(name: string, timeout: number): Promise<string> {
  const role = await iam
    .send(
      new CreateRoleCommand({
        RoleName: `${name}-execution`,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    )
    .then((out) => out.Role!.Arn!);
  const fn = await lambda.send(
    new CreateFunctionCommand({ FunctionName: name, Runtime: 'python3.12', Role: role, Handler: 'grader.handler', Code: { ZipFile: EMPTY_ZIP }, Timeout: timeout }),
  );
  return fn.FunctionArn!;
}

function jobFor(variant: Record<string, unknown>, overrides: Record<string, unknown> = {}): JobInput {
  const raw = Object.fromEntries(Object.entries(demoJobInput(account, { ...variant, ...overrides })).filter(([, v]) => v !== undefined));
  return resolveJobInput(jobPart(raw), testStage(coveringParams(raw, { s3EndpointIds: account.endpointId, vpcId: account.vpcId })), execution);
}
const rftJob = (lambdaArn = graderArn, overrides: Record<string, unknown> = {}) =>
  jobFor(CUSTOMIZATIONS.rft, { customizationConfig: { rftConfig: { graderConfig: { lambdaGrader: { lambdaArn } } } }, ...overrides });
const flagged = (r: PreflightReport, prefix = '') => r.checks.filter((c) => !c.passed && c.id.startsWith(prefix)).map((c) => `${c.severity} ${c.id} ${c.resource}`);
const check = (r: PreflightReport, id: string) => r.checks.find((c) => c.id === id);

beforeEach(async () => {
  await resetMoto();
  // Seeded with a Lambda client, the demo account holds the RFT grader (local/seed.ts).
  account = await seedDemoAccount(clients);
  graderArn = account.graderLambdaArn!;
  expect(graderArn).toBe('arn:aws:lambda:us-east-1:123456789012:function:rft-grader');
});

describe('validate-network against moto: the RFT grader Lambda', () => {
  it('passes a grader that exists, reading it with GetFunction and GetPolicy only (two Lambda calls, never an invocation)', async () => {
    const { result: r, sent } = await commandsSentDuring(() => buildReport(rftJob(), clients));
    expect(flagged(r, 'grader.')).toEqual([]);
    expect(r.checks.filter((c) => c.id.startsWith('grader.')).map((c) => c.id)).toEqual([
      'grader.exists',
      'grader.invoke-permission',
      'grader.resource-policy',
      'grader.timeout',
      'grader.concurrency',
    ]);
    expect(sent.filter((c) => /Function|Policy|Invoke/.test(c) && !/Role|GetPolicyVersion/.test(c)).sort()).toEqual(['GetFunctionCommand', 'GetPolicyCommand']);
    // Counted over the wire by the report's own middleware: the network's 12 and the grader's 2.
    expect(r.awsCallsByService).toEqual({ ec2: 6, s3: 3, iam: 3, lambda: 2, bedrock: 0 });
    expect(r.awsCalls).toBe(14);
  });

  it('fails a grader that does not exist, naming it: NetworkValidationError', async () => {
    const missing = graderArn.replace('rft-grader', 'no-such-grader');
    const err = await validateNetwork(rftJob(missing), clients).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkValidationError);
    expect((err as Error).message).toContain(`[grader.exists] ${missing}: grader Lambda not found in us-east-1`);
  });

  it('reads an alias by its qualifier, and fails one that does not exist', async () => {
    const version = await lambda.send(new PublishVersionCommand({ FunctionName: 'rft-grader' }));
    const alias = await lambda.send(new CreateAliasCommand({ FunctionName: 'rft-grader', Name: 'live', FunctionVersion: version.Version! }));
    const live = await buildReport(rftJob(alias.AliasArn!), clients);
    // Lambda answers no reserved concurrency for an alias: not verified.
    expect(flagged(live, 'grader.')).toEqual([`warn grader.concurrency ${graderArn}:live`]);
    expect(check(live, 'grader.exists')?.resource).toBe(`${graderArn}:live`);
    const absent = await buildReport(rftJob(`${graderArn}:canary`), clients);
    expect(flagged(absent, 'grader.')).toEqual([`fail grader.exists ${graderArn}:canary`]);
  });

  it("with policies.role 'skip': fails a role that may not invoke the grader", async () => {
    const r = await buildReport(rftJob(graderArn, { policies: { role: 'skip' } }), clients);
    expect(flagged(r, 'grader.')).toEqual([`fail grader.invoke-permission ${account.roleArn} → ${graderArn}`]);
    await expect(validateNetwork(rftJob(graderArn, { policies: { role: 'skip' } }), clients)).rejects.toThrow(`[grader.invoke-permission] ${account.roleArn} → ${graderArn}`);
  });

  it('reads the resource policy AddPermission wrote: an Allow for the Bedrock service denies nothing', async () => {
    await lambda.send(
      new AddPermissionCommand({ FunctionName: 'rft-grader', StatementId: 'bedrock', Action: 'lambda:InvokeFunction', Principal: 'bedrock.amazonaws.com', SourceAccount: account.accountId }),
    );
    const r = await buildReport(rftJob(), clients);
    expect(flagged(r, 'grader.')).toEqual([]);
    expect(check(r, 'grader.resource-policy')?.message).toBe("no statement of the grader's resource policy denies the role");
  });

  it("with policies.role 'skip', passes the role's own inline grant", async () => {
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'BedrockCustomizationRole',
        PolicyName: 'grader',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: graderArn }] }),
      }),
    );
    expect(flagged(await buildReport(rftJob(graderArn, { policies: { role: 'skip' } }), clients), 'grader.')).toEqual([]);
  });

  it('warns on a reserved concurrency (AWS documents no figure RFT needs) and on the default timeout of 3 s', async () => {
    // (A reservation of 0 fails: the unit tier checks it. moto 5.2.5's GetFunction leaves out a
    // Concurrency of 0, which Lambda returns.)
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'rft-grader', ReservedConcurrentExecutions: 5 }));
    const reserved = await buildReport(rftJob(), clients);
    expect(flagged(reserved, 'grader.')).toEqual([`warn grader.concurrency ${graderArn}`]);
    expect(check(reserved, 'grader.concurrency')?.message).toContain('caps it at 5 concurrent invocations');
    const quick = await createGrader('quick-grader', 3);
    expect(flagged(await buildReport(rftJob(quick), clients), 'grader.')).toEqual([`warn grader.timeout ${quick}`]);
  });
});

describe('validate-network against moto: distillation', () => {
  it('passes a teacher the region offers (GetFoundationModel) and fails one it does not', async () => {
    const ok = await buildReport(jobFor(CUSTOMIZATIONS.distillation), clients);
    expect(check(ok, 'teacher.available')).toMatchObject({ passed: true, resource: 'amazon.nova-pro-v1:0' });
    expect(ok.awsCallsByService).toMatchObject({ bedrock: 1, lambda: 0 });
    const unknown = 'amazon.nova-nonexistent-v1:0';
    const config = { distillationConfig: { teacherModelConfig: { teacherModelIdentifier: unknown } } };
    const err = await validateNetwork(jobFor(CUSTOMIZATIONS.distillation, { customizationConfig: config }), clients).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkValidationError);
    expect((err as Error).message).toContain(`[teacher.available] ${unknown}: teacher model not found in us-east-1`);
  });

  it('from invocation logs: fails an empty log source, passes it once logs are there; lists it instead of a dataset key', async () => {
    const { invocationLogSource } = CUSTOMIZATIONS.invocationLogs.invocationLogsConfig;
    const bucket = 'invocation-logs-bucket';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const empty = await buildReport(jobFor(CUSTOMIZATIONS.invocationLogs), clients);
    expect(flagged(empty, 'invocation-logs.')).toEqual([`fail invocation-logs.exist ${invocationLogSource.s3Uri}`]);
    expect(check(empty, 'dataset.exists')).toBeUndefined();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2026/12/07/00/log.json.gz', Body: '{}' }));
    const filled = await buildReport(jobFor(CUSTOMIZATIONS.invocationLogs), clients);
    expect(flagged(filled, 'invocation-logs.')).toEqual([]);
    expect(check(filled, 'bucket.exists')).toBeDefined();
    // The output and log buckets located, the log prefix listed; the teacher read.
    expect(filled.awsCallsByService).toMatchObject({ s3: 3, bedrock: 1, lambda: 0 });
  });
});

describe('the workflow against moto: an RFT job whose grader cannot be used stops in the preflight', () => {
  let lambdas: Record<string, TaskHandler>;
  beforeAll(async () => {
    lambdas = await loadLambdaHandlers();
  });
  beforeEach(() => {
    // Deployed into the demo account: its stage lists the seeded grader (graderLambdaArns).
    setStage(demoStageParams(account));
  });

  /** Nothing written, nothing submitted: no role policy, no endpoint or bucket policy change, no job in moto. */
  async function expectNothingWritten(endpointPolicyBefore: string | undefined) {
    await expect(
      iam.send(new GetRolePolicyCommand({ RoleName: 'BedrockCustomizationRole', PolicyName: `BedrockVpcCustomization-${account.vpcId}` })),
    ).rejects.toMatchObject({ name: 'NoSuchEntityException' });
    const endpoint = await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [account.endpointId] }));
    expect(endpoint.VpcEndpoints![0]!.PolicyDocument).toBe(endpointPolicyBefore);
    for (const bucket of [account.trainingBucket, account.outputBucket]) {
      await expect(s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).rejects.toMatchObject({ name: 'NoSuchBucketPolicy' });
    }
    expect((await bedrock.send(new ListModelCustomizationJobsCommand({}))).modelCustomizationJobSummaries ?? []).toEqual([]);
  }

  it.each([
    {
      name: 'the grader does not exist (deleted after the stage listed it)',
      breakIt: () => lambda.send(new DeleteFunctionCommand({ FunctionName: 'rft-grader' })),
      input: () => demoJobInput(account, { ...CUSTOMIZATIONS.rft, customizationConfig: { rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: graderArn } } } } }),
      id: 'grader.exists',
      resource: () => graderArn,
    },
    {
      name: "the Bedrock role may not invoke it (policies.role 'skip', no grant)",
      breakIt: async () => undefined,
      input: () =>
        demoJobInput(account, {
          ...CUSTOMIZATIONS.rft,
          customizationConfig: { rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: graderArn } } } },
          policies: { role: 'skip' },
        }),
      id: 'grader.invoke-permission',
      resource: () => `${account.roleArn} → ${graderArn}`,
    },
  ])('$name: PreflightFailed naming the grader; no policy written, no job created', async ({ breakIt, input, id, resource }) => {
    await breakIt();
    const before = (await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [account.endpointId] }))).VpcEndpoints![0]!.PolicyDocument;
    const run = await runWorkflow({ input: input(), handlers: { ...lambdas }, retryMs: 0, waitMs: 0 });
    expect(run).toMatchObject({ status: 'FAILED', error: 'NetworkValidationError' });
    expect(run.states.slice(-2)).toEqual(['ValidateNetwork', 'PreflightFailed']);
    expect(run.cause).toContain(`[${id}] ${resource()}`);
    await expectNothingWritten(before);
  });
});

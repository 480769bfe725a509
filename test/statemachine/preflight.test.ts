/**
 * The preflight inside the state machine: a failing network check ends the execution in
 * PreflightFailed with NetworkValidationError, before any policy, bucket or job call.
 */
import { DescribeSubnetsCommand, DescribeVpcAttributeCommand, DescribeVpcEndpointsCommand } from '@aws-sdk/client-ec2';
import { GetRoleCommand, GetRolePolicyCommand, ListRolePoliciesCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import { GetFunctionCommand, GetPolicyCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadLambdaHandlers, runWorkflow, type TaskHandler } from '../../local/workflow.js';
import { CUSTOMIZATIONS, GRADER_ARN, rawJob } from '../fixtures/job.js';
import { useStage } from '../fixtures/stage.js';
import { mocks, resetMocks } from '../support/mock-account.js';
import { mockHealthyNetwork, mockSubnets, NETWORK } from '../support/mock-network.js';

let lambdas: Record<string, TaskHandler>;
beforeAll(async () => {
  // Handlers read their environment at import: load them inside the test (after the setup file).
  lambdas = await loadLambdaHandlers();
});
beforeEach(() => {
  resetMocks();
  mockHealthyNetwork(mocks);
});
afterEach(() => resetMocks());

const run = (input: unknown) => runWorkflow({ input, handlers: { ...lambdas }, waitMs: 0, retryMs: 0 });

/** Names of the commands a mock received. */
const commands = (mock: { calls(): Array<{ args: unknown[] }> }) =>
  mock.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);

/** The Lambda API (an RFT job's grader): every LambdaClient of the handlers answers from here. */
const lambda = mockClient(LambdaClient);
afterEach(() => lambda.reset());

/** Only reads (EC2 Describe, S3 Get, Head and List, IAM Get and List, Lambda Get), not one Bedrock call, no invocation. */
function expectReadOnly() {
  expect(commands(mocks.ec2).every((n) => n.startsWith('Describe'))).toBe(true);
  expect(commands(mocks.s3).every((n) => /^(Get|Head|List)/.test(n))).toBe(true);
  expect(commands(mocks.iam).every((n) => /^(Get|List)/.test(n))).toBe(true);
  expect(commands(lambda).every((n) => /^Get(Function|Policy)Command$/.test(n))).toBe(true);
  expect(mocks.bedrock.calls()).toHaveLength(0);
}

describe('preflight in the state machine', () => {
  it.each([
    {
      name: 'DNS support off',
      breakIt: () => mocks.ec2.on(DescribeVpcAttributeCommand, { Attribute: 'enableDnsSupport' }).resolves({ EnableDnsSupport: { Value: false } }),
      id: 'vpc.dns-support',
      resource: NETWORK.vpcId,
    },
    {
      name: 'no S3 gateway endpoint',
      breakIt: () => mocks.ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] }),
      id: 's3-endpoint.exists',
      resource: NETWORK.vpcId,
    },
    {
      name: 'a subnet of another VPC',
      breakIt: () =>
        mocks.ec2
          .on(DescribeSubnetsCommand, { Filters: [{ Name: 'vpc-id', Values: [NETWORK.vpcId] }] })
          .resolves({ Subnets: mockSubnets().slice(0, 1) })
          .on(DescribeSubnetsCommand, { Filters: [{ Name: 'subnet-id', Values: [NETWORK.subnetIds[1]!] }] })
          .resolves({ Subnets: [{ ...mockSubnets()[1]!, VpcId: 'vpc-0fedcba9876543210' }] }),
      id: 'subnet.in-vpc',
      resource: NETWORK.subnetIds[1]!,
    },
    {
      name: 'the Bedrock role is missing',
      breakIt: () => mocks.iam.on(GetRoleCommand).rejects(new NoSuchEntityException({ message: 'Role not found', $metadata: {} })),
      id: 'role.exists',
      resource: 'arn:aws:iam::123456789012:role/BedrockCustomizationRole',
    },
  ])('$name: PreflightFailed with NetworkValidationError naming [$id]; no write, no job', async ({ breakIt, id, resource }) => {
    // Prepare
    breakIt();

    // Act
    const result = await run(rawJob());

    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'NetworkValidationError' });
    expect(result.states.slice(-2)).toEqual(['ValidateNetwork', 'PreflightFailed']);
    for (const later of ['PlanPolicies', 'ApplyPolicies', 'SubmitJob']) expect(result.states).not.toContain(later);
    expect(result.cause).toContain(`[${id}] ${resource}`);
    expect(result.cause).toContain('Fix:');
    expectReadOnly();
  });

  it("a healthy preflight hands the report and the stage's VPC id to the next states", async () => {
    // Act: the ValidateNetwork task alone, as the state machine invokes it
    const input = rawJob({ vpcConfig: { subnetIds: NETWORK.subnetIds, securityGroupIds: NETWORK.securityGroupIds } });
    const out = (await lambdas.ValidateNetwork!({
      input,
      execution: { id: 'arn:aws:states:us-east-1:123456789012:execution:m:run-1', name: 'run-1' },
    } as never)) as { job: { vpcConfig: { vpcId?: string } }; preflight: { ok: boolean; counts: Record<string, number> } };

    // Assess
    expect(out.job.vpcConfig.vpcId).toBe(NETWORK.vpcId);
    expect(out.preflight).toMatchObject({ ok: true, counts: { fail: 0, warn: 0, info: 0 } });
    // 12 calls (as the mocks received them: the report's own tally counts in a middleware that mocked
    // clients skip; the emulator tier checks it).
    expect(mocks.ec2.calls().length + mocks.s3.calls().length + mocks.iam.calls().length).toBe(12);
    expectReadOnly();
  });
});

describe('preflight in the state machine: an RFT job\'s grader Lambda', () => {
  useStage({ graderLambdaArns: GRADER_ARN });
  const rftInput = (overrides: Record<string, unknown> = {}) => rawJob({ ...CUSTOMIZATIONS.rft, ...overrides });
  const notFound = () => new ResourceNotFoundException({ message: `Function not found: ${GRADER_ARN}`, $metadata: { httpStatusCode: 404 } });
  const roleArn = 'arn:aws:iam::123456789012:role/BedrockCustomizationRole';
  /** A grader that exists: 60 s timeout, no reserved concurrency, no resource policy. */
  const graderExists = () => {
    lambda.on(GetFunctionCommand).resolves({ Configuration: { FunctionArn: GRADER_ARN, Timeout: 60, State: 'Active' } });
    lambda.on(GetPolicyCommand).rejects(new ResourceNotFoundException({ message: 'The resource you requested does not exist.', $metadata: { httpStatusCode: 404 } }));
  };
  /** The Bedrock role's one inline policy. */
  const roleInlinePolicy = (statements: unknown[]) => {
    mocks.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['own'], IsTruncated: false });
    mocks.iam.on(GetRolePolicyCommand).resolves({ RoleName: 'BedrockCustomizationRole', PolicyName: 'own', PolicyDocument: encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: statements })) });
  };
  /** Failed in PreflightFailed naming `[id] resource`: no policy planned or written, no job created. */
  const expectStoppedInPreflight = (result: Awaited<ReturnType<typeof run>>, id: string, resource: string) => {
    expect(result).toMatchObject({ status: 'FAILED', error: 'NetworkValidationError' });
    expect(result.states.slice(-2)).toEqual(['ValidateNetwork', 'PreflightFailed']);
    for (const later of ['ValidateDataset', 'PlanPolicies', 'ApplyPolicies', 'SubmitJob']) expect(result.states).not.toContain(later);
    expect(result.cause).toContain(`[${id}] ${resource}`);
    expect(result.cause).toContain('Fix:');
    expect(commands(mocks.iam).filter((n) => /^(Put|Delete)/.test(n))).toEqual([]);
    expect(mocks.bedrock.calls()).toHaveLength(0);
    expectReadOnly();
  };

  it('a grader that does not exist: PreflightFailed naming the grader, no policy written, no job created', async () => {
    lambda.on(GetFunctionCommand).rejects(notFound());
    lambda.on(GetPolicyCommand).rejects(notFound());
    const result = await run(rftInput());
    expectStoppedInPreflight(result, 'grader.exists', GRADER_ARN);
  });

  it('a grader the Bedrock role may not invoke (a Deny on the role): PreflightFailed naming the grader, no policy written, no job created', async () => {
    graderExists();
    roleInlinePolicy([{ Effect: 'Deny', Action: 'lambda:InvokeFunction', Resource: GRADER_ARN }]);
    const result = await run(rftInput());
    expectStoppedInPreflight(result, 'grader.invoke-permission', `${roleArn} → ${GRADER_ARN}`);
  });

  it("a grader the role is not granted (policies.role 'skip'): PreflightFailed naming the grader", async () => {
    graderExists();
    const result = await run(rftInput({ policies: { role: 'skip' } }));
    expectStoppedInPreflight(result, 'grader.invoke-permission', `${roleArn} → ${GRADER_ARN}`);
  });

  it('a grader that exists and that apply-policies will let the role invoke: the preflight passes it on', async () => {
    graderExists();
    const out = (await lambdas.ValidateNetwork!({
      input: rftInput(),
      execution: { id: 'arn:aws:states:us-east-1:123456789012:execution:m:run-1', name: 'run-1' },
    } as never)) as { preflight: { checks: Array<{ id: string; passed: boolean }> } };
    const grader = out.preflight.checks.filter((c) => c.id.startsWith('grader.'));
    expect(grader.map((c) => [c.id, c.passed])).toEqual([
      ['grader.exists', true],
      ['grader.invoke-permission', true],
      ['grader.resource-policy', true],
      ['grader.timeout', true],
      ['grader.concurrency', true],
    ]);
    expect(commands(lambda).sort()).toEqual(['GetFunctionCommand', 'GetPolicyCommand']);
  });
});

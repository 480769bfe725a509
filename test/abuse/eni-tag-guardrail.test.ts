/**
 * Attack: an ENI tagger. Whoever holds `ec2:CreateTags` can write `BedrockManaged=true` and a job ARN
 * on a customer's network interface and make it look like one Bedrock created for a job. The optional
 * guardrail (examples/guardrails/, docs/threat-model.md "The optional tag guardrail") denies anyone but
 * the Bedrock service role writing or deleting those two tags, and lets the role tag only at creation.
 *
 * Judged by a real IAM policy evaluator, @cloud-copilot/iam-simulate (test-only, as in
 * test/unit/policy-semantics.test.ts). It models SCPs: the SCP is simulated as one, attached to an OU
 * beside AWS's FullAWSAccess (as Organizations attaches it at every level), not as an identity Deny.
 * The boundary variant is simulated as a permissions boundary. What no simulator models (the
 * management account, which no SCP restricts; who may assume or pass the role) is in the threat model.
 *
 * No AWS emulator is needed: every decision is the evaluator's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG } from '../../functions/shared/bedrock-enis.js';
import type { PolicyDocument } from '../../functions/shared/policies/document.js';
import { buildRolePolicy } from '../../functions/shared/policies/role.js';
import { projectRoot } from '../../local/paths.js';
import { resolvedJob } from '../fixtures/job.js';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
/** The Bedrock service role of the job fixture (its `roleArn`). */
const job = resolvedJob();
const BEDROCK_ROLE = job.roleArn;
const ORDINARY_ROLE = `arn:aws:iam::${ACCOUNT}:role/NetworkOperators`;
const JOB_ARN = `arn:aws:bedrock:${REGION}:${ACCOUNT}:model-customization-job/abc123def456`;
/** A customer's ENI (not Bedrock's), and the one Bedrock creates. */
const CUSTOMER_ENI = `arn:aws:ec2:${REGION}:${ACCOUNT}:network-interface/eni-0c0ffee0c0ffee000`;
const NEW_ENI = `arn:aws:ec2:${REGION}:${ACCOUNT}:network-interface/eni-0b0b0b0b0b0b0b0b0`;
const SUBNET = `arn:aws:ec2:${REGION}:${ACCOUNT}:subnet/${job.vpcConfig.subnetIds[0]}`;

/** The placeholder the example files carry, which the doc tells the reader to replace. */
const PLACEHOLDER_ROLE = 'arn:aws:iam::111122223333:role/REPLACE-WITH-YOUR-BEDROCK-SERVICE-ROLE';
const example = (file: string) => readFileSync(join(projectRoot, 'examples', 'guardrails', file), 'utf8');
const scpText = example('deny-bedrock-eni-tags.scp.json');
/** The SCP as deployed: the placeholder replaced by the Bedrock role's ARN. */
const scp = JSON.parse(scpText.replaceAll(PLACEHOLDER_ROLE, BEDROCK_ROLE)) as PolicyDocument;
const boundary = JSON.parse(example('deny-bedrock-eni-tags.boundary.json')) as PolicyDocument;

const fullAwsAccess: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
const ec2All: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }] };
/** The Bedrock role's policy as this workflow writes it (the guide's statements, corrected and scoped). */
const bedrockRolePolicy = buildRolePolicy(job, null);

interface Request {
  principal: string;
  action: string;
  resource: string;
  identity: PolicyDocument;
  /** Tags the request writes or deletes (`aws:TagKeys`, `aws:RequestTag/…`); undefined: no tag list at all. */
  tags?: Record<string, string>;
  /** `ec2:CreateAction`: the creating action of a tag-on-create authorization. */
  createAction?: string;
  guardrail: 'scp' | 'boundary' | 'none';
}

/** 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied'. A simulator error, or a context key it ignored, fails the test. */
async function decide(r: Request): Promise<string> {
  const roleName = r.principal.split('/').at(-1)!;
  const context: Record<string, string | string[]> = {
    'aws:PrincipalArn': r.principal,
    'aws:PrincipalAccount': ACCOUNT,
    ...(r.tags ? { 'aws:TagKeys': Object.keys(r.tags) } : {}),
    ...Object.fromEntries(Object.entries(r.tags ?? {}).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
    ...(r.createAction ? { 'ec2:CreateAction': r.createAction } : {}),
  };
  const simulation: Simulation = {
    request: {
      // A role's session, as Bedrock (or anyone) calls EC2 with it; aws:PrincipalArn is the role's ARN.
      principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/session`,
      action: r.action,
      resource: { resource: r.resource, accountId: ACCOUNT },
      contextVariables: context,
    },
    identityPolicies: [{ name: 'identity', policy: r.identity }],
    // Root, OU, account: FullAWSAccess at each level (Organizations' default), the guardrail on the OU.
    serviceControlPolicies: [
      { orgIdentifier: 'r-root', policies: [{ name: 'FullAWSAccess', policy: fullAwsAccess }] },
      {
        orgIdentifier: 'ou-root-workloads',
        policies: [{ name: 'FullAWSAccess', policy: fullAwsAccess }, ...(r.guardrail === 'scp' ? [{ name: 'deny-bedrock-eni-tags', policy: scp }] : [])],
      },
      { orgIdentifier: ACCOUNT, policies: [{ name: 'FullAWSAccess', policy: fullAwsAccess }] },
    ],
    resourceControlPolicies: [],
    ...(r.guardrail === 'boundary' ? { permissionBoundaryPolicies: [{ name: 'deny-bedrock-eni-tags', policy: boundary }] } : {}),
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') throw new Error(`simulation rejected: ${JSON.stringify(result.errors)}`);
  if (result.resultType !== 'single') throw new Error(`expected one decision, got ${result.resultType}`);
  // Every key given was evaluated: a key the simulator dropped would make a Deny look effective or not.
  expect(result.result.ignoredContextKeys ?? [], `${r.action} ${JSON.stringify(context)}`).toEqual([]);
  return result.overallResult;
}

const bedrockTags = { [BEDROCK_MANAGED_TAG]: 'true', [BEDROCK_JOB_ARN_TAG]: JOB_ARN };

describe('the example files', () => {
  it('carry the placeholder role ARN the doc names, once per principal exemption, and the two tag keys spelled right', () => {
    expect(scpText.split(PLACEHOLDER_ROLE)).toHaveLength(3);
    for (const text of [scpText, example('deny-bedrock-eni-tags.boundary.json')]) {
      expect(text).toContain(`"${BEDROCK_MANAGED_TAG}"`);
      expect(text).toContain(`"${BEDROCK_JOB_ARN_TAG}"`);
      // The user guide's prose misspells the job tag key.
      expect(text).not.toContain('Cusomization');
    }
  });
});

describe.each(['scp', 'boundary'] as const)('guardrail as %s: an ordinary role with ec2:* on everything', (guardrail) => {
  const as = (action: string, resource: string, tags: Record<string, string> | undefined, createAction?: string) =>
    decide({ principal: ORDINARY_ROLE, action, resource, identity: ec2All, guardrail, ...(tags ? { tags } : {}), ...(createAction ? { createAction } : {}) });

  it('is allowed both tags without the guardrail (the attack the guardrail stops)', async () => {
    expect(await decide({ principal: ORDINARY_ROLE, action: 'ec2:CreateTags', resource: CUSTOMER_ENI, identity: ec2All, tags: bedrockTags, guardrail: 'none' })).toBe('Allowed');
  });

  it('is DENIED CreateTags of BedrockManaged, of BedrockModelCustomizationJobArn, or of either among other keys, on an ENI', async () => {
    const cases: Record<string, string>[] = [
      { [BEDROCK_MANAGED_TAG]: 'true' },
      { [BEDROCK_JOB_ARN_TAG]: JOB_ARN },
      bedrockTags,
      { Name: 'web-1', [BEDROCK_MANAGED_TAG]: 'true', team: 'ml' },
      { Name: 'web-1', [BEDROCK_JOB_ARN_TAG]: JOB_ARN },
    ];
    for (const tags of cases) {
      expect(await as('ec2:CreateTags', CUSTOMER_ENI, tags), JSON.stringify(tags)).toBe('ExplicitlyDenied');
    }
  });

  it('is DENIED DeleteTags of either key, and DeleteTags with no key list (which deletes every tag)', async () => {
    expect(await as('ec2:DeleteTags', NEW_ENI, { [BEDROCK_MANAGED_TAG]: 'true' })).toBe('ExplicitlyDenied');
    expect(await as('ec2:DeleteTags', NEW_ENI, { [BEDROCK_JOB_ARN_TAG]: JOB_ARN, Name: 'x' })).toBe('ExplicitlyDenied');
    expect(await as('ec2:DeleteTags', NEW_ENI, undefined)).toBe('ExplicitlyDenied');
  });

  it('is DENIED the tags at creation too: its own CreateNetworkInterface, or RunInstances, with the Bedrock tags', async () => {
    expect(await as('ec2:CreateTags', NEW_ENI, bedrockTags, 'CreateNetworkInterface')).toBe('ExplicitlyDenied');
    expect(await as('ec2:CreateTags', NEW_ENI, { [BEDROCK_MANAGED_TAG]: 'true' }, 'RunInstances')).toBe('ExplicitlyDenied');
  });

  it('is ALLOWED to write and delete unrelated tags on an ENI, and to tag other resources with any key', async () => {
    expect(await as('ec2:CreateTags', CUSTOMER_ENI, { Name: 'web-1', team: 'ml' })).toBe('Allowed');
    expect(await as('ec2:DeleteTags', CUSTOMER_ENI, { Name: 'web-1' })).toBe('Allowed');
    expect(await as('ec2:CreateTags', NEW_ENI, { Name: 'web-1' }, 'CreateNetworkInterface')).toBe('Allowed');
    // The guardrail is about network interfaces: a subnet tagged BedrockManaged fools no one here.
    expect(await as('ec2:CreateTags', SUBNET, { [BEDROCK_MANAGED_TAG]: 'true' })).toBe('Allowed');
  });
});

describe('guardrail as SCP: the Bedrock service role, with the policy this workflow grants it', () => {
  const bedrock = (action: string, resource: string, tags?: Record<string, string>, createAction?: string, identity = bedrockRolePolicy) =>
    decide({ principal: BEDROCK_ROLE, action, resource, identity, guardrail: 'scp', ...(tags ? { tags } : {}), ...(createAction ? { createAction } : {}) });

  it('is ALLOWED CreateNetworkInterface with the two tags in the request, in the job subnet', async () => {
    expect(await bedrock('ec2:CreateNetworkInterface', NEW_ENI, bedrockTags)).toBe('Allowed');
    expect(await bedrock('ec2:CreateNetworkInterface', SUBNET)).toBe('Allowed');
  });

  it('is ALLOWED the CreateTags that tag-on-create implies (ec2:CreateAction = CreateNetworkInterface)', async () => {
    expect(await bedrock('ec2:CreateTags', NEW_ENI, bedrockTags, 'CreateNetworkInterface')).toBe('Allowed');
  });

  it('is DENIED tagging an existing ENI, by its own policy and, were that widened to ec2:*, by the SCP', async () => {
    expect(await bedrock('ec2:CreateTags', CUSTOMER_ENI, bedrockTags)).not.toBe('Allowed');
    expect(await bedrock('ec2:CreateTags', CUSTOMER_ENI, bedrockTags, undefined, ec2All)).toBe('ExplicitlyDenied');
    expect(await bedrock('ec2:CreateTags', NEW_ENI, bedrockTags, 'RunInstances', ec2All)).toBe('ExplicitlyDenied');
  });

  it('the same role without the placeholder replaced is denied: the SCP exempts the ARN it names, nothing else', async () => {
    const unreplaced = JSON.parse(scpText) as PolicyDocument;
    const result = await runSimulation(
      {
        request: {
          principal: `arn:aws:sts::${ACCOUNT}:assumed-role/BedrockCustomizationRole/session`,
          action: 'ec2:CreateTags',
          resource: { resource: NEW_ENI, accountId: ACCOUNT },
          contextVariables: {
            'aws:PrincipalArn': BEDROCK_ROLE,
            'aws:TagKeys': Object.keys(bedrockTags),
            'ec2:CreateAction': 'CreateNetworkInterface',
          },
        },
        identityPolicies: [{ name: 'identity', policy: bedrockRolePolicy }],
        serviceControlPolicies: [{ orgIdentifier: 'r-root', policies: [{ name: 'FullAWSAccess', policy: fullAwsAccess }, { name: 'guardrail', policy: unreplaced }] }],
        resourceControlPolicies: [],
      },
      {},
    );
    expect(result.resultType === 'single' && result.overallResult).toBe('ExplicitlyDenied');
  });
});

describe('guardrail as boundary: it covers only the principals it is attached to', () => {
  it('the Bedrock role, which must not carry it, still creates and tags its ENIs; any principal without it is not covered', async () => {
    const none = { guardrail: 'none' as const };
    expect(await decide({ principal: BEDROCK_ROLE, action: 'ec2:CreateTags', resource: NEW_ENI, identity: bedrockRolePolicy, tags: bedrockTags, createAction: 'CreateNetworkInterface', ...none })).toBe('Allowed');
    expect(await decide({ principal: BEDROCK_ROLE, action: 'ec2:CreateNetworkInterface', resource: NEW_ENI, identity: bedrockRolePolicy, tags: bedrockTags, ...none })).toBe('Allowed');
    expect(await decide({ principal: ORDINARY_ROLE, action: 'ec2:CreateTags', resource: CUSTOMER_ENI, identity: ec2All, tags: bedrockTags, ...none })).toBe('Allowed');
  });

  it('a role carrying it keeps everything its identity policy grants but the two tags', async () => {
    const withBoundary = (action: string, resource: string, tags?: Record<string, string>) =>
      decide({ principal: ORDINARY_ROLE, action, resource, identity: ec2All, guardrail: 'boundary', ...(tags ? { tags } : {}) });
    expect(await withBoundary('ec2:DescribeNetworkInterfaces', '*')).toBe('Allowed');
    expect(await withBoundary('ec2:DeleteNetworkInterface', CUSTOMER_ENI)).toBe('Allowed');
    // A boundary grants nothing: what the identity policy does not allow stays denied.
    expect(await decide({ principal: ORDINARY_ROLE, action: 's3:GetObject', resource: 'arn:aws:s3:::bucket/key', identity: ec2All, guardrail: 'boundary' })).toBe('ImplicitlyDenied');
  });
});

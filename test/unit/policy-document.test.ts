import { describe, expect, it } from 'vitest';
import { BUCKET_DENY_SID, buildBucketPolicy } from '../../functions/apply-policies/bucket-policy.js';
import { DEFAULT_ENDPOINT_POLICY, buildEndpointPolicy, isFullAccessStatement } from '../../functions/apply-policies/endpoint-policy.js';
import { assertNoLockout, principalArnOf } from '../../functions/apply-policies/lockout.js';
import {
  canonical,
  diffPolicies,
  mergeBySid,
  parsePolicy,
  renderStatement,
  samePolicy,
  type PolicyDocument,
  type Statement,
} from '../../functions/shared/policies/document.js';
import { buildRolePolicy, kmsStatement, ROLE_SID } from '../../functions/shared/policies/role.js';
import { s3AccessStatements, s3Sid } from '../../functions/shared/policies/s3-access.js';
import { PolicyLockoutError } from '../../functions/shared/errors.js';
import { resolvedJob } from '../fixtures/job.js';

const doc = (...Statement: Statement[]): PolicyDocument => ({ Version: '2012-10-17', Statement });
const foreign: Statement = { Sid: 'Foreign', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::x/*' };
const noSid: Statement = { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } };

describe('parsePolicy', () => {
  it('reads IAM URL-encoded documents, a single Statement object and a missing Version', () => {
    const text = encodeURIComponent(JSON.stringify({ Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' } }));
    expect(parsePolicy(text)).toEqual({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
  });
  it('gives null for no document and keeps an Id', () => {
    expect(parsePolicy(undefined)).toBeNull();
    expect(parsePolicy('  ')).toBeNull();
    expect(parsePolicy('{"Version":"2008-10-17","Id":"p1","Statement":[]}')).toEqual({ Version: '2008-10-17', Id: 'p1', Statement: [] });
  });
});

describe('samePolicy / canonical', () => {
  it('ignores key order but not statement order', () => {
    const a = doc({ Effect: 'Allow', Action: 'a:b', Resource: '*' });
    const b = { Statement: [{ Resource: '*', Action: 'a:b', Effect: 'Allow' as const }], Version: '2012-10-17' };
    expect(samePolicy(a, b)).toBe(true);
    expect(samePolicy(doc(foreign, noSid), doc(noSid, foreign))).toBe(false);
    expect(samePolicy(null, null)).toBe(true);
    expect(samePolicy(a, null)).toBe(false);
    expect(canonical({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
  });
});

describe('mergeBySid', () => {
  it('keeps every other statement exactly and in order, replaces ours in place, appends new ones', () => {
    const oldOurs: Statement = { Sid: 'Ours', Effect: 'Allow', Action: 'old:Action', Resource: '*' };
    const newOurs: Statement = { Sid: 'Ours', Effect: 'Allow', Action: 'new:Action', Resource: '*' };
    const added: Statement = { Sid: 'Added', Effect: 'Allow', Action: 'x:Y', Resource: '*' };
    const merged = mergeBySid({ Version: '2008-10-17', Id: 'keep', Statement: [foreign, oldOurs, noSid] }, [newOurs, added]);
    expect(merged).toEqual({ Version: '2008-10-17', Id: 'keep', Statement: [foreign, newOurs, noSid, added] });
  });
  it('never duplicates: merging twice is merging once, and a doubled Sid collapses to one', () => {
    const ours: Statement = { Sid: 'Ours', Effect: 'Allow', Action: 'a:B', Resource: '*' };
    const once = mergeBySid(doc(foreign), [ours]);
    expect(mergeBySid(once, [ours])).toEqual(once);
    expect(mergeBySid(doc(ours, foreign, ours), [ours]).Statement).toEqual([ours, foreign]);
  });
  it('starts a 2012-10-17 document when there is none', () => {
    expect(mergeBySid(null, [foreign])).toEqual(doc(foreign));
  });
});

describe('diffPolicies / renderStatement', () => {
  it('lists added and removed statements as readable lines; a changed Sid appears in both', () => {
    const before = doc(foreign, { Sid: 'Ours', Effect: 'Allow', Action: ['a:B'], Resource: '*' });
    const after = doc(foreign, { Sid: 'Ours', Effect: 'Allow', Action: ['a:B', 'a:C'], Resource: '*' });
    expect(diffPolicies(before, after)).toEqual({ added: ['Ours: Allow a:B,a:C on *'], removed: ['Ours: Allow a:B on *'], unchanged: 1 });
    expect(diffPolicies(null, doc(foreign))).toEqual({ added: ['Foreign: Allow principal * s3:GetObject on arn:aws:s3:::x/*'], removed: [], unchanged: 0 });
  });
  it('renders conditions, Not* elements and missing Sids', () => {
    expect(renderStatement(noSid)).toBe('(no Sid): Deny principal * s3:* on * if {"Bool":{"aws:SecureTransport":"false"}}');
    expect(renderStatement({ Effect: 'Deny', NotPrincipal: { AWS: 'arn:aws:iam::1:root' }, NotAction: 's3:Get*', NotResource: 'arn:x' })).toBe(
      '(no Sid): Deny all principals except {"AWS":"arn:aws:iam::1:root"} all actions except s3:Get* on all resources except arn:x',
    );
  });
});

describe('S3 access per bucket', () => {
  it('reads training and validation buckets, reads/writes the output bucket (the stronger level wins)', () => {
    const job = resolvedJob({ validationDataS3Uris: ['s3://val-bucket/v.jsonl', 's3://training-bucket/v.jsonl'] });
    expect(job.s3.buckets.map((b) => [b.bucket, b.access])).toEqual([
      ['output-bucket', 'readwrite'],
      ['training-bucket', 'read'],
      ['val-bucket', 'read'],
    ]);
    // A stage whose training bucket is its output bucket: read/write once.
    const shared = resolvedJob({ trainingDataS3Uri: 's3://output-bucket/data/d.jsonl', validationDataS3Uris: [] });
    expect(shared.s3.buckets).toEqual([{ bucket: 'output-bucket', access: 'readwrite' }]);
    expect(s3AccessStatements(job, '*')[0]).toEqual({
      Sid: s3Sid('output-bucket', 'readwrite'),
      Effect: 'Allow',
      Principal: '*',
      Action: ['s3:PutObject', 's3:GetObject', 's3:ListBucket'],
      Resource: ['arn:aws:s3:::output-bucket', 'arn:aws:s3:::output-bucket/*'],
    });
  });
  it('gives IAM-valid Sids that keep look-alike buckets and access levels apart', () => {
    expect(s3Sid('my.bucket-1', 'read')).toMatch(/^BedrockS3Readmybucket1[0-9a-f]{8}$/);
    expect(s3Sid('my-bucket', 'read')).not.toBe(s3Sid('mybucket', 'read'));
    expect(s3Sid('b1b', 'read')).not.toBe(s3Sid('b1b', 'readwrite'));
  });
});

describe('endpoint policy', () => {
  it.each([
    [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }, true],
    [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: ['s3:*'], Resource: ['*'] }, true],
    [{ Sid: 'Named', Effect: 'Allow', Principal: { AWS: ['*'] }, Action: 'S3:*', Resource: '*' }, true],
    [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalAccount': '1' } } }, false],
    [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::1:root' }, Action: '*', Resource: '*' }, false],
    [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' }, false],
    [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: 'arn:aws:s3:::b/*' }, false],
    [{ Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' }, false],
    [{ Effect: 'Allow', Principal: '*', NotAction: 's3:Delete*', Resource: '*' }, false],
    [{ Effect: 'Allow', Principal: { Service: '*', AWS: '*' }, Action: '*', Resource: '*' }, false],
  ] as [Statement, boolean][])('isFullAccessStatement(%j) = %s', (statement, expected) => {
    expect(isFullAccessStatement(statement)).toBe(expected);
  });

  it('restrict drops the default statement and keeps every other one; append keeps all', () => {
    const job = resolvedJob();
    const current: PolicyDocument = { Version: '2008-10-17', Statement: [...DEFAULT_ENDPOINT_POLICY.Statement, foreign] };
    const ours = s3AccessStatements(job, '*');
    expect(buildEndpointPolicy(job, 'restrict', current)).toEqual({ Version: '2008-10-17', Statement: [foreign, ...ours] });
    expect(buildEndpointPolicy(job, 'append', current)).toEqual({ Version: '2008-10-17', Statement: [...current.Statement, ...ours] });
    // no policy known: the endpoint has the default one
    expect(buildEndpointPolicy(job, 'append', null).Statement).toEqual([...DEFAULT_ENDPOINT_POLICY.Statement, ...ours]);
  });
});

describe('bucket policy', () => {
  const restriction = { partition: 'aws', bucket: 'output-bucket', vpcId: 'vpc-0000000000000000a', exemptPrincipalArns: ['arn:aws:iam::123456789012:role/Ops'] };

  it("is the guide's Deny with exempt principals, merged next to the bucket's other statements", () => {
    const desired = buildBucketPolicy(restriction, doc(foreign));
    expect(desired.Statement).toEqual([
      foreign,
      {
        Sid: BUCKET_DENY_SID,
        Effect: 'Deny',
        Principal: '*',
        Action: ['s3:PutObject', 's3:GetObject', 's3:ListBucket'], // the guide's three actions = the job's read/write access
        Resource: ['arn:aws:s3:::output-bucket', 'arn:aws:s3:::output-bucket/*'],
        Condition: {
          StringNotEquals: { 'aws:SourceVpc': ['vpc-0000000000000000a'] },
          ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::123456789012:role/Ops'] },
        },
      },
    ]);
    expect(buildBucketPolicy({ ...restriction, exemptPrincipalArns: [] }, null).Statement[0]!.Condition).toEqual({
      StringNotEquals: { 'aws:SourceVpc': ['vpc-0000000000000000a'] },
    });
  });

  it("keeps earlier jobs' VPCs and exemptions in the one statement (two Denies would lock both VPCs out)", () => {
    const first = buildBucketPolicy(restriction, null);
    const second = buildBucketPolicy({ ...restriction, vpcId: 'vpc-0000000000000000b', exemptPrincipalArns: [] }, first);
    expect(second.Statement).toHaveLength(1);
    expect(second.Statement[0]!.Condition).toEqual({
      StringNotEquals: { 'aws:SourceVpc': ['vpc-0000000000000000a', 'vpc-0000000000000000b'] },
      ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::123456789012:role/Ops'] },
    });
    expect(buildBucketPolicy({ ...restriction, vpcId: 'vpc-0000000000000000b', exemptPrincipalArns: [] }, second)).toEqual(second);
  });
});

describe('lockout guard', () => {
  const bucketArn = 'arn:aws:s3:::output-bucket';
  const workflow = { arn: 'arn:aws:iam::123456789012:role/wf-lambdaRole', role: 'workflow role' as const };
  const restriction = { partition: 'aws', bucket: 'output-bucket', vpcId: 'vpc-0000000000000000a' };

  it('passes when every protected principal is exempt', () => {
    const desired = buildBucketPolicy({ ...restriction, exemptPrincipalArns: [workflow.arn] }, null);
    expect(() => assertNoLockout(bucketArn, null, desired, [workflow])).not.toThrow();
  });

  it('refuses a Deny that does not exempt the workflow role', () => {
    const desired = buildBucketPolicy({ ...restriction, exemptPrincipalArns: [] }, null);
    expect(() => assertNoLockout(bucketArn, null, desired, [workflow])).toThrow(PolicyLockoutError);
    expect(() => assertNoLockout(bucketArn, null, desired, [workflow])).toThrow(
      /workflow role arn:aws:iam::123456789012:role\/wf-lambdaRole would be denied s3:GetObject \(by BedrockVpcDenyOutsideVpc\), s3:PutObject .*, s3:ListBucket/,
    );
  });

  it('refuses an exemption written as a role session ARN, and says which ARN to list instead', () => {
    const session = 'arn:aws:sts::123456789012:assumed-role/Ops/alice';
    expect(principalArnOf(session)).toBe('arn:aws:iam::123456789012:role/Ops');
    const desired = buildBucketPolicy({ ...restriction, exemptPrincipalArns: [session] }, null);
    expect(() => assertNoLockout(bucketArn, null, desired, [{ arn: session, role: 'exempt principal' }])).toThrow(
      /role session; aws:PrincipalArn carries arn:aws:iam::123456789012:role\/Ops: list the role ARN instead/,
    );
  });

  it('accepts wildcard exemptions and ignores Denies that were already there', () => {
    // noSid (Deny without TLS) may deny anyone; it was there before, so it is not this change's doing
    const desired = buildBucketPolicy({ ...restriction, exemptPrincipalArns: ['arn:aws:iam::123456789012:role/wf-*'] }, doc(noSid));
    expect(() => assertNoLockout(bucketArn, doc(noSid), desired, [workflow])).not.toThrow();
    expect(() => assertNoLockout(bucketArn, null, doc(noSid), [workflow])).toThrow(PolicyLockoutError);
  });

  it('evaluates other Deny shapes cautiously: NotPrincipal, NotAction, Null, IfExists, unknown keys and operators', () => {
    const probe = (s: Statement) => () => assertNoLockout(bucketArn, null, doc(s), [workflow]);
    const base = { Effect: 'Deny' as const, Resource: `${bucketArn}/*` };
    const deny = (Condition: Statement['Condition']) => probe({ ...base, Principal: '*', Action: 's3:*', Condition });
    expect(probe({ ...base, NotPrincipal: { AWS: workflow.arn }, Action: 's3:GetObject' })).not.toThrow();
    expect(probe({ ...base, NotPrincipal: { AWS: 'arn:aws:iam::123456789012:role/other' }, Action: 's3:GetObject' })).toThrow(PolicyLockoutError);
    expect(probe({ ...base, Principal: { AWS: '123456789012' }, NotAction: 's3:List*' })).toThrow(PolicyLockoutError);
    expect(probe({ ...base, Principal: { AWS: 'arn:aws:iam::999999999999:root' }, Action: 's3:*' })).not.toThrow();
    expect(deny({ Null: { 'aws:SourceVpc': 'true' } })).toThrow(PolicyLockoutError);
    expect(deny({ Null: { 'aws:SourceVpc': 'false' } })).not.toThrow();
    expect(deny({ StringEqualsIfExists: { 'aws:SourceVpce': 'vpce-1' } })).toThrow(PolicyLockoutError);
    expect(deny({ StringEquals: { 'aws:SourceVpc': 'vpc-1' } })).not.toThrow();
    expect(deny({ 'ForAnyValue:StringEquals': { 'aws:SourceVpc': 'vpc-1' } })).not.toThrow();
    expect(deny({ 'ForAllValues:StringEquals': { 'aws:SourceVpc': 'vpc-1' } })).toThrow(PolicyLockoutError);
    expect(deny({ StringEqualsIgnoreCase: { 'aws:PrincipalArn': workflow.arn.toUpperCase() } })).toThrow(PolicyLockoutError);
    expect(deny({ StringNotEquals: { 'aws:principalarn': workflow.arn } })).not.toThrow();
    expect(deny({ ArnNotEquals: { 'aws:PrincipalArn': workflow.arn } })).not.toThrow();
    // unknown operator, and a key whose value cannot be known: assumed to deny
    expect(deny({ DateGreaterThan: { 'aws:PrincipalArn': '2020-01-01' } })).toThrow(PolicyLockoutError);
    expect(deny({ Bool: { 'aws:SecureTransport': 'false' } })).toThrow(PolicyLockoutError);
    expect(probe({ Effect: 'Deny', Principal: '*', Action: 's3:*', NotResource: `${bucketArn}/*` })).toThrow(/s3:ListBucket/);
    expect(probe({ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' })).not.toThrow();
  });
});

describe('role policy', () => {
  it("keeps subnets and groups an earlier job in the VPC was granted, and earlier jobs' bucket statements", () => {
    const first = buildRolePolicy(resolvedJob(), null);
    const other = resolvedJob({
      outputDataS3Uri: 's3://other-output/runs/',
      vpcConfig: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef9'], securityGroupIds: ['sg-0123456789abcdef9'] },
    });
    const second = mergeBySid(first, buildRolePolicy(other, first).Statement);
    const inSubnets = second.Statement.find((s) => s.Sid === ROLE_SID.createEniInSubnets)!;
    expect(inSubnets.Resource).toEqual([
      'arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0123456789abcdef0',
      'arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0123456789abcdef1',
      'arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0123456789abcdef9',
      'arn:aws:ec2:us-east-1:123456789012:security-group/sg-0123456789abcdef0',
      'arn:aws:ec2:us-east-1:123456789012:security-group/sg-0123456789abcdef9',
    ]);
    const sids = second.Statement.map((s) => s.Sid);
    expect(sids).toContain(s3Sid('output-bucket', 'readwrite'));
    expect(sids).toContain(s3Sid('other-output', 'readwrite'));
    expect(new Set(sids).size).toBe(sids.length);
  });

  it('has the guide\'s statements (corrected tag key), the job\'s buckets and no KMS statement without a key', () => {
    const text = JSON.stringify(buildRolePolicy(resolvedJob(), null));
    const sids = (JSON.parse(text) as PolicyDocument).Statement.map((s) => s.Sid);
    expect(sids).toEqual([...Object.values(ROLE_SID), s3Sid('output-bucket', 'readwrite'), s3Sid('training-bucket', 'read')]);
    expect(text).toContain('aws:RequestTag/BedrockModelCustomizationJobArn');
    expect(text).toContain('ec2:ResourceTag/BedrockModelCustomizationJobArn');
    expect(text).not.toContain('Cusomization');
    expect(text).not.toContain('kms:');
  });

  it.each([
    ['arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
    ['arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab'],
  ])('grants the custom model key %s, that key only', (keyId) => {
    const job = resolvedJob({ customModelKmsKeyId: keyId });
    const statement = kmsStatement(keyId);
    expect(statement).toMatchObject({ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey', 'kms:CreateGrant'], Resource: keyId });
    expect(statement.Sid).toMatch(/^BedrockKmsCustomModelKey[0-9a-f]{8}$/);
    expect(buildRolePolicy(job, null).Statement).toContainEqual(statement);
  });
});

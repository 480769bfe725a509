/**
 * The Bedrock role's grants for the resources of reinforcement fine-tuning and distillation: the
 * grader Lambda (lambda:InvokeFunction on exactly the ARN the job names), a teacher named by a
 * cross-Region inference profile (bedrock:InvokeModel on the profile and its model), and the
 * invocation-log bucket (read, through the job's buckets). Sources in functions/shared/policies/role.ts.
 */
import { describe, expect, it } from 'vitest';
import { buildEndpointPolicy } from '../../functions/apply-policies/endpoint-policy.js';
import { mergeBySid, type PolicyDocument } from '../../functions/shared/policies/document.js';
import { evaluatePolicies } from '../../functions/shared/policies/eval.js';
import { buildRolePolicy, customizationStatements, graderStatement, teacherProfileOf, teacherStatement } from '../../functions/shared/policies/role.js';
import { s3Sid } from '../../functions/shared/policies/s3-access.js';
import { GRADER_ARN, LOG_BUCKET, TEACHER_MODEL, TEACHER_PROFILE, distillationJob, invocationLogJob, rftJob } from '../fixtures/customization-job.js';
import { resolvedJob } from '../fixtures/job.js';

const SCOPE = { partition: 'aws', region: 'us-east-1', accountId: '123456789012' };
const invoke = (doc: PolicyDocument, action: string, resource: string) => evaluatePolicies([doc], { action, resource, context: {} });

describe('grader grant', () => {
  it('lets the role invoke exactly the grader the job names, nothing else', () => {
    const doc = buildRolePolicy(rftJob(), null);
    const statement = graderStatement(GRADER_ARN);
    expect(doc.Statement).toContainEqual(statement);
    expect(statement).toEqual({ Sid: expect.stringMatching(/^BedrockInvokeGrader[0-9a-f]{16}$/), Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: GRADER_ARN });
    expect(invoke(doc, 'lambda:InvokeFunction', GRADER_ARN)).toBe('allowed');
    // Lambda matches the ARN a call names against the policy's resource: a version, an alias, another function are not granted.
    expect(invoke(doc, 'lambda:InvokeFunction', `${GRADER_ARN}:2`)).toBe('absent');
    expect(invoke(doc, 'lambda:InvokeFunction', 'arn:aws:lambda:us-east-1:123456789012:function:reward-grader-2')).toBe('absent');
    expect(invoke(doc, 'lambda:UpdateFunctionCode', GRADER_ARN)).toBe('absent');
  });

  it('grants a qualified grader ARN as given, under a Sid of its own', () => {
    const qualified = `${GRADER_ARN}:live`;
    const doc = buildRolePolicy(rftJob(qualified), null);
    expect(doc.Statement).toContainEqual(graderStatement(qualified));
    expect(invoke(doc, 'lambda:InvokeFunction', qualified)).toBe('allowed');
    expect(invoke(doc, 'lambda:InvokeFunction', GRADER_ARN)).toBe('absent');
    expect(graderStatement(qualified).Sid).not.toBe(graderStatement(GRADER_ARN).Sid);
  });

  it('is absent for every other customization type', () => {
    for (const job of [resolvedJob(), resolvedJob({ customizationType: 'CONTINUED_PRE_TRAINING' }), distillationJob(TEACHER_MODEL)]) {
      expect(JSON.stringify(buildRolePolicy(job, null))).not.toContain('lambda:');
    }
  });

  it("merge by Sid keeps another job's grader next to this job's", () => {
    const other = 'arn:aws:lambda:us-east-1:123456789012:function:other-grader';
    const first = buildRolePolicy(rftJob(other), null);
    const second = mergeBySid(first, buildRolePolicy(rftJob(), first).Statement);
    expect(second.Statement).toContainEqual(graderStatement(other));
    expect(second.Statement).toContainEqual(graderStatement(GRADER_ARN));
    const sids = second.Statement.map((s) => s.Sid);
    expect(new Set(sids).size).toBe(sids.length);
  });
});

describe('teacher grant', () => {
  it.each([
    [TEACHER_PROFILE, 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-premier-v1:0', 'amazon.nova-premier-v1:0'],
    ['arn:aws:bedrock:us-west-2:123456789012:inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0', 'arn:aws:bedrock:us-west-2:123456789012:inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0', 'anthropic.claude-3-haiku-20240307-v1:0'],
    ['global.amazon.nova-2-lite-v1:0', 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.amazon.nova-2-lite-v1:0', 'amazon.nova-2-lite-v1:0'],
  ])('reads %s as the profile %s of model %s', (teacher, profileArn, modelId) => {
    expect(teacherProfileOf(teacher, SCOPE)).toEqual({ profileArn, modelId });
  });

  it.each([[TEACHER_MODEL], ['arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-premier-v1:0'], ['amazon.titan-text-express-v1'], ['a.b.c.d:0']])(
    'reads %s as a foundation model: no grant',
    (teacher) => {
      expect(teacherProfileOf(teacher, SCOPE)).toBeUndefined();
    },
  );

  it('lets the role invoke the profile and its model (any Region it routes to), not another model', () => {
    const doc = buildRolePolicy(distillationJob(TEACHER_PROFILE), null);
    const profile = teacherProfileOf(TEACHER_PROFILE, SCOPE)!;
    const statement = teacherStatement(profile, 'aws');
    expect(doc.Statement).toContainEqual(statement);
    expect(statement.Sid).toMatch(/^BedrockInvokeTeacher[0-9a-f]{16}$/);
    expect(invoke(doc, 'bedrock:InvokeModel', profile.profileArn)).toBe('allowed');
    for (const region of ['us-east-1', 'us-east-2', 'us-west-2']) {
      expect(invoke(doc, 'bedrock:InvokeModel', `arn:aws:bedrock:${region}::foundation-model/amazon.nova-premier-v1:0`)).toBe('allowed');
    }
    expect(invoke(doc, 'bedrock:InvokeModel', 'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0')).toBe('absent');
    expect(invoke(doc, 'bedrock:InvokeModel', 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0')).toBe('absent');
  });

  it('adds no Bedrock statement for a teacher named by its model id', () => {
    const actions = buildRolePolicy(distillationJob(TEACHER_MODEL), null).Statement.flatMap((s) => s.Action ?? []);
    expect(actions.filter((a) => a.startsWith('bedrock:'))).toEqual([]);
    expect(customizationStatements(distillationJob(TEACHER_MODEL))).toEqual([]);
  });
});

describe('invocation-log bucket', () => {
  it('is read (GetObject, ListBucket) by the role and through the endpoint, never written', () => {
    const job = invocationLogJob();
    expect(job.s3.buckets).toContainEqual({ bucket: LOG_BUCKET, access: 'read' });
    const role = buildRolePolicy(job, null);
    const read = role.Statement.find((s) => s.Sid === s3Sid(LOG_BUCKET, 'read'));
    expect(read).toEqual({
      Sid: s3Sid(LOG_BUCKET, 'read'),
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:ListBucket'],
      Resource: [`arn:aws:s3:::${LOG_BUCKET}`, `arn:aws:s3:::${LOG_BUCKET}/*`],
    });
    expect(invoke(role, 's3:GetObject', `arn:aws:s3:::${LOG_BUCKET}/logs/AWSLogs/x.json.gz`)).toBe('allowed');
    expect(invoke(role, 's3:PutObject', `arn:aws:s3:::${LOG_BUCKET}/logs/x`)).toBe('absent');

    const endpoint = buildEndpointPolicy(job, 'restrict', null);
    const principals = ['arn:aws:iam::123456789012:role/BedrockCustomizationRole'];
    const through = (action: string, resource: string) => evaluatePolicies([endpoint], { action, resource, context: {}, principals });
    expect(through('s3:GetObject', `arn:aws:s3:::${LOG_BUCKET}/logs/x.json.gz`)).toBe('allowed');
    expect(through('s3:ListBucket', `arn:aws:s3:::${LOG_BUCKET}`)).toBe('allowed');
    expect(through('s3:PutObject', `arn:aws:s3:::${LOG_BUCKET}/logs/x`)).toBe('absent');
  });

  it('has no training bucket statement when the job has no training file', () => {
    const sids = buildRolePolicy(invocationLogJob(), null).Statement.map((s) => s.Sid);
    expect(sids).not.toContain(s3Sid('training-bucket', 'read'));
  });
});

describe('Sids of every grant', () => {
  it('are unique in a policy with a key, buckets, a grader and a teacher, and each names one resource', () => {
    const key = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const rft = rftJob(GRADER_ARN, { customModelKmsKeyId: key }, { kmsKeyArns: key });
    const distill = distillationJob(TEACHER_PROFILE);
    const doc = mergeBySid(buildRolePolicy(rft, null), buildRolePolicy(distill, null).Statement);
    const sids = doc.Statement.map((s) => s.Sid);
    expect(new Set(sids).size).toBe(sids.length);
    for (const s of doc.Statement.filter((st) => /^BedrockInvoke/.test(st.Sid ?? ''))) {
      expect(JSON.stringify(s.Resource)).not.toMatch(/function:\*|inference-profile\/\*|foundation-model\/\*/);
    }
  });
});

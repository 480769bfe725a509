/**
 * The Bedrock service role's inline policy: the guide's VPC permissions with its mistakes corrected
 * (trailing commas, the tag key spelling) and scoped to the job's real region, account, subnets and
 * security groups; plus the S3 access the job needs on its buckets (the invocation-log bucket of a
 * job trained on invocation logs among them, read only), when the custom model is encrypted with a
 * customer key the KMS permissions on that key, for reinforcement fine-tuning the invocation of its
 * grader Lambda, and for distillation from a cross-Region inference profile the invocation of that
 * profile. Generated as data, never as text.
 */
import { buildArn, ec2Arn, jobArn, parseArn, type ArnScope } from '../arn.js';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG } from '../bedrock-enis.js';
import { graderLambdaArnOf, shortHash, teacherModelOf, type JobInput } from '../job-input.js';
import { asList, union, type PolicyDocument, type Statement } from './document.js';
import { s3AccessStatements } from './s3-access.js';
import { objectArn, parseS3Uri } from '../s3.js';

/** Sids of the statements this workflow owns in the role policy. */
export const ROLE_SID = {
  describe: 'BedrockVpcDescribe',
  createEniTagged: 'BedrockVpcCreateTaggedEni',
  createEniInSubnets: 'BedrockVpcCreateEniInJobSubnets',
  manageEni: 'BedrockVpcManageOwnEni',
  tagOnCreate: 'BedrockVpcTagEniOnCreate',
} as const;

/** Actions on the custom model key (encrypt the model artifacts, let the service create its grant). */
export const KMS_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey', 'kms:CreateGrant'];

/** Inline policy name: one per VPC, so jobs in different VPCs never overwrite each other. */
export function rolePolicyName(vpcId: string): string {
  return `BedrockVpcCustomization-${vpcId}`;
}


/**
 * The KMS statement for `customModelKmsKeyId`: one of the stage's key ARNs (param kmsKeyArns; a key of
 * the workflow's own account and region, never a wildcard or an alias), granted on that key only.
 */
export function kmsStatement(keyArn: string): Statement {
  return { Sid: `BedrockKmsCustomModelKey${shortHash(keyArn)}`, Effect: 'Allow', Action: KMS_ACTIONS, Resource: keyArn };
}

/**
 * Hex digits of the resource hash in a grant's Sid. The Sid is what merge by Sid and the leases know a
 * grant by, so two resources of the stage's lists must never share one: 64 bits.
 */
const GRANT_HASH_LENGTH = 16;

/**
 * The statement that lets Bedrock call an RFT job's grader: `lambda:InvokeFunction` on exactly the ARN
 * the job names (one of the stage's graderLambdaArns). The action and resource are those of "Lambda
 * permissions for reward functions" in
 * https://docs.aws.amazon.com/bedrock/latest/userguide/rft-access-security.html. The ARN is granted as
 * given, qualifier and all: Lambda compares the policy's resource with the ARN a call names, so a grant
 * on the unqualified ARN does not allow a call to a version or alias and a grant on `fn:1` does not
 * allow `fn` or `fn:2` ("Function resource names",
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html).
 */
export function graderStatement(lambdaArn: string): Statement {
  return { Sid: `BedrockInvokeGrader${shortHash(lambdaArn, GRANT_HASH_LENGTH)}`, Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: lambdaArn };
}

/** A teacher model named by a cross-Region (system-defined) inference profile: the profile's ARN and its model's id. */
export interface TeacherProfile {
  profileArn: string;
  modelId: string;
}

/**
 * The inference profile a distillation teacher names, or undefined for a foundation model. A profile is
 * named by its ARN (`arn:aws:bedrock:<region>:<account>:inference-profile/<id>`) or by its id. A
 * cross-Region profile is "named after the model that [it] supports" with its geography in front
 * (`us.amazon.nova-pro-v1:0` for `amazon.nova-pro-v1:0`,
 * https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html), so an id of
 * three dot-separated parts before its version is a profile and the last two parts are its model; a
 * model id has two (`<provider>.<model>`). Two or three parts is what the API takes (botocore
 * data/bedrock/2023-04-20/service-2.json, shape TeacherModelIdentifier); more is read as a model.
 */
export function teacherProfileOf(teacher: string, scope: ArnScope): TeacherProfile | undefined {
  let id = teacher;
  let profileScope = scope;
  if (teacher.startsWith('arn:')) {
    const arn = parseArn(teacher);
    if (arn.service !== 'bedrock' || !arn.resource.startsWith('inference-profile/')) return undefined;
    id = arn.resource.slice('inference-profile/'.length);
    profileScope = { partition: arn.partition, region: arn.region, accountId: arn.accountId };
  }
  const [name = '', ...version] = id.split(':');
  const parts = name.split('.');
  if (parts.length !== 3 || parts.some((p) => p === '')) return undefined;
  return {
    profileArn: buildArn({ ...profileScope, service: 'bedrock', resource: `inference-profile/${id}` }),
    modelId: [parts.slice(1).join('.'), ...version].join(':'),
  };
}

/**
 * The statement that lets Bedrock invoke a distillation teacher named by a cross-Region inference
 * profile: `bedrock:InvokeModel` on the profile and on its model in the Regions the profile routes to
 * ("(Optional) Permissions to create a Distillation job with a cross-region inference profile",
 * https://docs.aws.amazon.com/bedrock/latest/userguide/custom-model-job-access-security.html). The
 * model's ARN names every Region (`*`): a profile's destination Regions are AWS's to change, and a
 * global profile's are all commercial Regions (inference-profiles-support.html above); it names the
 * one model only. A teacher named by a model id or foundation-model ARN gets no statement: the same
 * page asks no invoke permission of the service role for it.
 */
export function teacherStatement(profile: TeacherProfile, partition: string): Statement {
  return {
    Sid: `BedrockInvokeTeacher${shortHash(profile.profileArn, GRANT_HASH_LENGTH)}`,
    Effect: 'Allow',
    Action: ['bedrock:InvokeModel'],
    Resource: [profile.profileArn, `arn:${partition}:bedrock:*::foundation-model/${profile.modelId}`],
  };
}

/**
 * The statements for the resources a job's customization uses beyond its data: the grader of an RFT
 * job, the teacher of a distillation job named by an inference profile. Each has its own Sid from a
 * hash of its resource, so merge by Sid keeps other jobs' graders and teachers.
 */
export function customizationStatements(job: Pick<JobInput, 'customizationConfig' | 'partition' | 'region' | 'accountId'>): Statement[] {
  const grader = graderLambdaArnOf(job);
  const teacher = teacherModelOf(job);
  const profile = teacher === undefined ? undefined : teacherProfileOf(teacher, job);
  return [...(grader ? [graderStatement(grader)] : []), ...(profile ? [teacherStatement(profile, job.partition)] : [])];
}


/**
 * The statements that let Bedrock run a job's evaluation gate (two LLM-as-a-judge evaluation jobs under
 * the stage's Bedrock role), each with its own Sid from a hash of its resource, so merge by Sid keeps
 * other jobs' and the leases know each one:
 * - read the held-out dataset: `s3:GetObject` on that object only;
 * - read and write the job's own prefix of the evaluation bucket (the response datasets the workflow
 *   writes, the evaluation jobs' results): `s3:GetObject`, `s3:PutObject`, `s3:AbortMultipartUpload`
 *   on the job's folder `evaluations/<job folder>/*` (job-input.ts evaluationKeySegment);
 * - list the bucket only under those keys (`s3:ListBucket` with `s3:prefix`), and the bucket's
 *   location and multipart uploads (no object data);
 * - the judge: `bedrock:InvokeModel`, `bedrock:CreateModelInvocationJob`, `bedrock:StopModelInvocationJob`
 *   ("Service role requirements for model evaluation jobs that use a judge model",
 *   https://docs.aws.amazon.com/bedrock/latest/userguide/judge-service-roles.html: "The service role must
 *   include access to at least one supported evaluator model"), on the judge only: a foundation model in
 *   the job's Region, or an inference profile and its model in every Region (as {@link teacherStatement}).
 * The S3 actions are those of the service role example for automatic evaluation jobs (datasets:
 * GetObject, ListBucket; output: GetObject, ListBucket, PutObject, GetBucketLocation,
 * AbortMultipartUpload, ListBucketMultipartUploads;
 * https://docs.aws.amazon.com/bedrock/latest/userguide/automatic-service-roles.html), scoped to the
 * job's keys. The evaluation bucket never gets the VPC-only Deny: evaluation jobs take no vpcConfig
 * (botocore CreateEvaluationJobRequest) and reach S3 from outside the VPC (docs/policies.md).
 */
export function evaluationStatements(job: Pick<JobInput, 'partition' | 'region' | 'accountId' | 'evaluation'>): Statement[] {
  const evaluation = job.evaluation;
  if (!evaluation) return [];
  const { partition } = job;
  const dataset = parseS3Uri(evaluation.dataset.s3Uri);
  // outputS3Uri is s3://<evaluationBucket>/evaluations/<job folder>/ (evaluationKeySegment): the gate's inputs and results.
  const output = parseS3Uri(evaluation.outputS3Uri);
  const prefix = output.key.endsWith('/') ? output.key : `${output.key}/`;
  const datasetArn = objectArn(partition, dataset.bucket, dataset.key);
  const prefixArn = objectArn(partition, output.bucket, `${prefix}*`);
  const bucketArn = objectArn(partition, output.bucket);
  const hash = (resource: string) => shortHash(resource, GRANT_HASH_LENGTH);
  const listed = dataset.bucket === output.bucket ? [prefix, `${prefix}*`, dataset.key] : [prefix, `${prefix}*`];
  const statements: Statement[] = [
    { Sid: `BedrockEvalDatasetRead${hash(datasetArn)}`, Effect: 'Allow', Action: ['s3:GetObject'], Resource: datasetArn },
    { Sid: `BedrockEvalReadWrite${hash(prefixArn)}`, Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'], Resource: prefixArn },
    {
      Sid: `BedrockEvalList${hash(`${bucketArn}|${listed.join('|')}`)}`,
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: bucketArn,
      Condition: { StringLike: { 's3:prefix': listed } },
    },
    { Sid: `BedrockEvalBucket${hash(bucketArn)}`, Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:ListBucketMultipartUploads'], Resource: bucketArn },
  ];
  if (dataset.bucket !== output.bucket) {
    // A dataset in another bucket (the stage lists only the evaluation bucket's; kept exact all the same).
    const datasetBucketArn = objectArn(partition, dataset.bucket);
    statements.push({
      Sid: `BedrockEvalList${hash(`${datasetBucketArn}|${dataset.key}`)}`,
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: datasetBucketArn,
      Condition: { StringLike: { 's3:prefix': [dataset.key] } },
    });
  }
  return [...statements, judgeStatement(evaluation.judgeModelIdentifier, job)];
}

/** The actions a judge model needs of the service role (judge-service-roles.html). */
export const JUDGE_ACTIONS = ['bedrock:InvokeModel', 'bedrock:CreateModelInvocationJob', 'bedrock:StopModelInvocationJob'];

/**
 * The judge grant: on an inference profile and its model in every Region (like the teacher's), or on
 * the one foundation model (its ARN as given, or the id in the job's Region).
 */
export function judgeStatement(judge: string, scope: ArnScope): Statement {
  const profile = teacherProfileOf(judge, scope);
  const resource = profile
    ? [profile.profileArn, `arn:${scope.partition}:bedrock:*::foundation-model/${profile.modelId}`]
    : judge.startsWith('arn:')
      ? judge
      : `arn:${scope.partition}:bedrock:${scope.region}::foundation-model/${judge}`;
  return { Sid: `BedrockEvalJudge${shortHash(judge, GRANT_HASH_LENGTH)}`, Effect: 'Allow', Action: JUDGE_ACTIONS, Resource: resource };
}

/**
 * The desired role policy statements owned by this workflow. Subnet and security-group ARNs already
 * granted by an earlier job in the same VPC (`current`) are kept, so concurrent jobs with different
 * subnets do not revoke each other; bucket, key, grader and teacher statements have one Sid each,
 * so merge by Sid keeps earlier jobs' buckets, keys, graders and teachers.
 */
export function buildRolePolicy(job: JobInput, current: PolicyDocument | null): PolicyDocument {
  const scope: ArnScope = { partition: job.partition, region: job.region, accountId: job.accountId };
  const previous = current?.Statement.find((s) => s.Sid === ROLE_SID.createEniInSubnets);
  const granted = asList(previous?.Resource);
  const subnetArns = union(
    granted.filter((a) => a.includes(':subnet/')),
    job.vpcConfig.subnetIds.map((id) => ec2Arn(scope, 'subnet', id)),
  );
  const groupArns = union(
    granted.filter((a) => a.includes(':security-group/')),
    job.vpcConfig.securityGroupIds.map((id) => ec2Arn(scope, 'security-group', id)),
  );
  const eniArn = ec2Arn(scope, 'network-interface', '*');
  const jobArnPattern = jobArn(scope, '*');

  const statements: Statement[] = [
    {
      Sid: ROLE_SID.describe,
      Effect: 'Allow',
      Action: [
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeVpcs',
        'ec2:DescribeDhcpOptions',
        'ec2:DescribeSubnets',
        'ec2:DescribeSecurityGroups',
      ],
      Resource: '*',
    },
    {
      Sid: ROLE_SID.createEniTagged,
      Effect: 'Allow',
      Action: ['ec2:CreateNetworkInterface'],
      Resource: [eniArn],
      Condition: {
        StringEquals: { [`aws:RequestTag/${BEDROCK_MANAGED_TAG}`]: ['true'] },
        ArnEquals: { [`aws:RequestTag/${BEDROCK_JOB_ARN_TAG}`]: [jobArnPattern] },
      },
    },
    {
      Sid: ROLE_SID.createEniInSubnets,
      Effect: 'Allow',
      Action: ['ec2:CreateNetworkInterface'],
      Resource: [...subnetArns, ...groupArns],
    },
    {
      Sid: ROLE_SID.manageEni,
      Effect: 'Allow',
      Action: ['ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface', 'ec2:DeleteNetworkInterfacePermission'],
      Resource: '*',
      Condition: {
        ArnEquals: {
          'ec2:Subnet': subnetArns,
          [`ec2:ResourceTag/${BEDROCK_JOB_ARN_TAG}`]: [jobArnPattern],
        },
        StringEquals: { [`ec2:ResourceTag/${BEDROCK_MANAGED_TAG}`]: 'true' },
      },
    },
    {
      Sid: ROLE_SID.tagOnCreate,
      Effect: 'Allow',
      Action: ['ec2:CreateTags'],
      Resource: eniArn,
      Condition: {
        StringEquals: { 'ec2:CreateAction': ['CreateNetworkInterface'] },
        'ForAllValues:StringEquals': { 'aws:TagKeys': [BEDROCK_MANAGED_TAG, BEDROCK_JOB_ARN_TAG] },
      },
    },
    ...s3AccessStatements(job),
    ...(job.customModelKmsKeyId ? [kmsStatement(job.customModelKmsKeyId)] : []),
    ...customizationStatements(job),
    ...evaluationStatements(job),
  ];
  return { Version: '2012-10-17', Statement: statements };
}

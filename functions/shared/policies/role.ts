/**
 * The Bedrock service role's inline policy: the guide's VPC permissions with its mistakes corrected
 * (trailing commas, the tag key spelling) and scoped to the job's real region, account, subnets and
 * security groups; plus the S3 access the job needs on its buckets and, when the custom model is
 * encrypted with a customer key, the KMS permissions on that key. Generated as data, never as text.
 */
import { ec2Arn, jobArn, type ArnScope } from '../arn.js';
import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG } from '../bedrock-enis.js';
import { shortHash, type JobInput } from '../job-input.js';
import { asList, union, type PolicyDocument, type Statement } from './document.js';
import { s3AccessStatements } from './s3-access.js';

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
 * The desired role policy statements owned by this workflow. Subnet and security-group ARNs already
 * granted by an earlier job in the same VPC (`current`) are kept, so concurrent jobs with different
 * subnets do not revoke each other; bucket and key statements have one Sid each, so merge by Sid
 * keeps earlier jobs' buckets and keys.
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
  ];
  return { Version: '2012-10-17', Statement: statements };
}

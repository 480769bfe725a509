/**
 * The Bedrock service role's VPC permissions, from the guide's example with its mistakes corrected
 * (trailing commas, the tag key spelling) and scoped to the job's real region, account, subnets and
 * security groups. Generated as data, never as text.
 */
import type { JobInput } from '../shared/job-input.js';
import { asList, type PolicyDocument, type Statement } from './policy-document.js';

import { BEDROCK_JOB_ARN_TAG, BEDROCK_MANAGED_TAG } from '../shared/bedrock-tags.js';

/** Sids of the statements this workflow owns in the role policy. */
export const ROLE_SID = {
  describe: 'BedrockVpcDescribe',
  createEniTagged: 'BedrockVpcCreateTaggedEni',
  createEniInSubnets: 'BedrockVpcCreateEniInJobSubnets',
  manageEni: 'BedrockVpcManageOwnEni',
  tagOnCreate: 'BedrockVpcTagEniOnCreate',
} as const;

/** Inline policy name: one per VPC, so jobs in different VPCs never overwrite each other. */
export function rolePolicyName(vpcId: string): string {
  return `BedrockVpcCustomization-${vpcId}`;
}

/** Name of the role in a role ARN (`arn:aws:iam::123:role/path/Name` → `Name`). */
export function roleNameFromArn(roleArn: string): string {
  return roleArn.slice(roleArn.lastIndexOf('/') + 1);
}

interface Scope {
  partition: string;
  region: string;
  accountId: string;
  subnetIds: string[];
  securityGroupIds: string[];
}

const ec2Arn = (s: Scope, type: string, id: string) => `arn:${s.partition}:ec2:${s.region}:${s.accountId}:${type}/${id}`;

/**
 * The desired role VPC policy. Subnet and security-group ARNs already granted by an earlier job in the
 * same VPC (`current`) are kept, so concurrent jobs with different subnets do not revoke each other.
 */
export function buildRoleVpcPolicy(job: JobInput, current: PolicyDocument | null): PolicyDocument {
  const scope: Scope = {
    partition: job.partition,
    region: job.region,
    accountId: job.accountId,
    subnetIds: job.vpcConfig.subnetIds,
    securityGroupIds: job.vpcConfig.securityGroupIds,
  };
  const previous = current?.Statement.find((s) => s.Sid === ROLE_SID.createEniInSubnets);
  const granted = asList(previous?.Resource);
  const subnetArns = union(
    granted.filter((a) => a.includes(':subnet/')),
    scope.subnetIds.map((id) => ec2Arn(scope, 'subnet', id)),
  );
  const groupArns = union(
    granted.filter((a) => a.includes(':security-group/')),
    scope.securityGroupIds.map((id) => ec2Arn(scope, 'security-group', id)),
  );
  const eniArn = ec2Arn(scope, 'network-interface', '*');
  const jobArnPattern = `arn:${scope.partition}:bedrock:${scope.region}:${scope.accountId}:model-customization-job/*`;

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
  ];
  return { Version: '2012-10-17', Statement: statements };
}

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}

/**
 * The bucket restriction from the guide — Deny GetObject/PutObject/ListBucket unless the request comes
 * from the job's VPC — made safe to apply to a real bucket:
 * - one statement with a fixed Sid, merged into the existing policy (other statements kept exactly);
 * - the VPCs of every job that restricted the bucket are kept in the one statement: two separate
 *   "Deny unless VPC A" and "Deny unless VPC B" statements would together deny both VPCs;
 * - exempt principals (`aws:PrincipalArn`: operators, this workflow's role) are kept out of the Deny,
 *   and earlier exemptions are kept too, so a re-run with a shorter list never locks anyone out.
 *
 * The Bedrock service role is deliberately not exempted: its S3 traffic leaves the job's ENIs through
 * the gateway endpoint, so `aws:SourceVpc` holds for it, and exempting it would let anything that can
 * act as the role read the bucket from anywhere.
 */
import { asList, mergeBySid, union, type PolicyDocument, type Statement } from '../shared/policies/document.js';
import { S3_ACTIONS, bucketArns } from '../shared/s3.js';

/** Sid of the restriction statement in a bucket policy. */
export const BUCKET_DENY_SID = 'BedrockVpcDenyOutsideVpc';

/** The actions the restriction denies: the guide's list, which is the job's own read/write access. */
export const RESTRICTED_ACTIONS = S3_ACTIONS.readwrite;

/** Condition keys as written by this workflow (IAM compares key names case-insensitively). */
const SOURCE_VPC = 'aws:SourceVpc';
const PRINCIPAL_ARN = 'aws:PrincipalArn';

export interface BucketRestriction {
  partition: string;
  bucket: string;
  vpcId: string;
  exemptPrincipalArns: string[];
}

/** Values of `operator`/`key` in a statement's Condition (key matched case-insensitively). */
function conditionValues(s: Statement | undefined, operator: string, key: string): string[] {
  const block = s?.Condition?.[operator];
  const found = Object.entries(block ?? {}).find(([k]) => k.toLowerCase() === key.toLowerCase());
  return asList(found?.[1]);
}

/** The desired bucket policy: the current one with the restriction statement merged in by Sid. */
export function buildBucketPolicy(r: BucketRestriction, current: PolicyDocument | null): PolicyDocument {
  const previous = current?.Statement.find((s) => s.Sid === BUCKET_DENY_SID);
  const vpcs = union(conditionValues(previous, 'StringNotEquals', SOURCE_VPC), [r.vpcId]);
  const exempt = union(conditionValues(previous, 'ArnNotLike', PRINCIPAL_ARN), r.exemptPrincipalArns);
  const statement: Statement = {
    Sid: BUCKET_DENY_SID,
    Effect: 'Deny',
    Principal: '*',
    Action: RESTRICTED_ACTIONS,
    Resource: bucketArns(r.partition, r.bucket),
    Condition: {
      StringNotEquals: { [SOURCE_VPC]: vpcs },
      ...(exempt.length > 0 ? { ArnNotLike: { [PRINCIPAL_ARN]: exempt } } : {}),
    },
  };
  return mergeBySid(current, [statement]);
}

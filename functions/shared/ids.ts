/**
 * AWS identifiers the workflow takes as input (job input, stage params, Lambda environment, the CLI's
 * `--region`): one pattern per kind, each with its documented format and source. ARN helpers and the
 * ARN shapes of jobs and roles are in arn.ts.
 *
 * Every pattern is a literal, anchored, without nested quantifiers: linear time (test/unit/regex-safety.test.ts
 * checks each). A zod check runs them behind a length cap (`z.maxLength(n, { abort: true })`).
 */
import * as z from 'zod/mini';
// Module-level schemas: built in `/* @__PURE__ */ (() => …)()`, so a bundle that does not use one drops it (shared/validation.ts).

/*
 * EC2 resource ids (Amazon EC2 User Guide, "Resource IDs"): the resource type's prefix, a hyphen and
 * 8 characters (ids issued before 2016) or 17 characters (since; every id after June 2018), e.g.
 * vpc-0123456789abcdef0. The characters EC2 issues are lowercase hexadecimal digits (every example of
 * the guide and the EC2 API Reference), which is what these accept.
 */

/** A VPC id (`vpc-`). */
export const VPC_ID = /^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
/** A subnet id (`subnet-`). */
export const SUBNET_ID = /^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
/** A security group id (`sg-`). */
export const SECURITY_GROUP_ID = /^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
/** A VPC endpoint id (`vpce-`). */
export const VPC_ENDPOINT_ID = /^vpce-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
/** Longest EC2 id of the kinds above: `subnet-` and 17 characters. */
export const MAX_EC2_ID_LENGTH = 'subnet-'.length + 17;

/**
 * A KMS key ARN: `arn:<partition>:kms:<region>:<account>:key/<key id>`, the key id a UUID
 * (`1234abcd-12ab-34cd-56ef-1234567890ab`) or a multi-Region key id, `mrk-` and 32 hexadecimal digits
 * (`mrk-1234abcd12ab34cd56ef1234567890ab`) (AWS KMS API Reference, the KeyId parameter's examples).
 */
export const KMS_KEY_ARN = /^arn:aws(?:-[a-z]+)*:kms:[a-z0-9-]+:\d{12}:key\/(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** An AWS account id: 12 digits (AWS Account Management Reference Guide, "View AWS account identifiers"). */
export const ACCOUNT_ID = /^\d{12}$/;

/**
 * An AWS Region code such as `us-east-1`, `ap-southeast-2`, `us-gov-west-1` (AWS General Reference,
 * "AWS Regions"): a two-letter area, one or more words, and a number.
 */
export const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d$/;
/** Longest Region code the workflow takes: a cap for the pattern, above every Region code in use. */
export const MAX_REGION_LENGTH = 32;

/**
 * IAM ARNs of a role, or of a role or user (IAM User Guide, "IAM identifiers": `arn:<partition>:iam::
 * <account>:role/<path><name>`; IAM API Reference, Role: RoleName `[\w+=,.@-]+` of 1 to 64, Path of up
 * to 512 characters). The path is held to the name's characters and `/`, so no wildcard (`*`, `?`) can
 * reach a policy this workflow writes.
 */
export const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
export const PRINCIPAL_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:(?:role|user)\/[\w+=,.@/-]{1,512}$/;

/** An AWS partition: `aws`, `aws-cn`, `aws-us-gov`… (AWS General Reference, "Amazon Resource Names (ARNs)": partition). */
export const PARTITION = /^aws(?:-[a-z]+)*$/;
/** Longest partition the workflow takes. */
export const MAX_PARTITION_LENGTH = 20;

/** A 12-digit account id, as zod checks it. */
export const accountIdSchema = /* @__PURE__ */ (() => z.string().check(z.maxLength(12, { abort: true }), z.regex(ACCOUNT_ID, 'must be a 12-digit account id')))();

/** A VPC id, as zod checks it. */
export const vpcIdSchema = /* @__PURE__ */ (() => z.string().check(z.maxLength(MAX_EC2_ID_LENGTH, { abort: true }), z.regex(VPC_ID, 'must look like vpc-0123456789abcdef0')))();

/**
 * A Lambda function ARN, unqualified or with a version or alias (botocore data/bedrock/2023-04-20/service-2.json,
 * shape LambdaArn, the type of LambdaGraderConfig.lambdaArn: `arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}(-gov)?-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9-_\.]+(:(\$LATEST|[a-zA-Z0-9-_]+))?`,
 * 1 to 512 characters), held here to the partitions the other ARNs take and to Lambda's own lengths
 * (AWS Lambda API Reference, CreateFunction: FunctionName of at most 64 characters; CreateAlias: Name
 * of at most 128).
 */
export const LAMBDA_FUNCTION_ARN = /^arn:aws(?:-[a-z]+)*:lambda:[a-z]{2}(?:-gov)?-[a-z]+-\d:\d{12}:function:[a-zA-Z0-9_.-]{1,64}(?::(?:\$LATEST|[a-zA-Z0-9_-]{1,128}))?$/;
/** Longest Lambda function ARN (the model's LambdaArn max). */
export const MAX_LAMBDA_ARN_LENGTH = 512;

/**
 * A Bedrock model a job may name as a distillation teacher: a model or inference-profile id
 * (`amazon.nova-pro-v1:0`, `us.amazon.nova-pro-v1:0`), a foundation-model ARN or an inference-profile ARN
 * (botocore data/bedrock/2023-04-20/service-2.json, shape TeacherModelIdentifier; its id part is
 * `[a-z0-9-]{1,63}[.][a-z0-9-]{1,63}([.]?[a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2}`, written here without
 * nested quantifiers: the first `.` ends the provider, the rest takes the id's characters).
 */
export const MODEL_IDENTIFIER =
  /^(?:arn:aws(?:-[a-z]+)*:bedrock:[a-z0-9-]{1,20}:(?::foundation-model\/|\d{12}:inference-profile\/)[a-zA-Z0-9.:-]{1,256}|[a-z0-9-]{1,63}\.[a-z0-9.:-]{1,200})$/;
/** Longest model identifier the pattern is tried on. */
export const MAX_MODEL_IDENTIFIER_LENGTH = 2048;

/**
 * ARNs: parsed and built with the SDK's own ARN parser (`@aws-sdk/util-arn-parser`), never sliced by
 * hand. Also the ARN shapes this workflow knows: IAM roles, customization jobs, EC2 resources.
 */
import { build, parse } from '@aws-sdk/util-arn-parser';
import { ROLE_ARN } from './ids.js';

export { build as buildArn, parse as parseArn };

/** Where a job runs: the partition, region and account every ARN of the job is built from. */
export interface ArnScope {
  partition: string;
  region: string;
  accountId: string;
}

/** Longest ARN a pattern here is tried on (AWS ARNs are at most 2,048 characters): a longer string is not an ARN. */
export const MAX_ARN_LENGTH = 2048;

/** A model customization job ARN (any partition, region, account). */
export const JOB_ARN_PATTERN = /^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:model-customization-job\/.+$/;

/**
 * Whether `jobArn` is a customization job of `home` (the caller's account and region): `invalid` when
 * it is not a job ARN, `foreign` (with its account and region) when it is another's, undefined when ours.
 */
export function jobOutsideHome(
  jobArn: unknown,
  home: { region: string; accountId: string },
): { kind: 'invalid' } | { kind: 'foreign'; accountId: string; region: string } | undefined {
  if (typeof jobArn !== 'string' || jobArn.length > MAX_ARN_LENGTH || !JOB_ARN_PATTERN.test(jobArn)) return { kind: 'invalid' };
  const { region, accountId } = parse(jobArn);
  return region === home.region && accountId === home.accountId ? undefined : { kind: 'foreign', accountId, region };
}

/** An IAM role ARN (ids.ts ROLE_ARN). */
export const ROLE_ARN_PATTERN = ROLE_ARN;

/** The name of a role (`arn:aws:iam::123:role/path/Name` → `Name`). */
export function roleNameFromArn(roleArn: string): string {
  return parse(roleArn).resource.split('/').at(-1)!;
}

/** The account id of an ARN (`''` for an AWS-managed resource such as `arn:aws:iam::aws:policy/…`). */
export function accountOf(arn: string): string {
  return parse(arn).accountId;
}

/** ARN of a customization job of `scope` named `id` (`*` for every job of the scope). */
export function jobArn(scope: ArnScope, id: string): string {
  return build({ ...scope, service: 'bedrock', resource: `model-customization-job/${id}` });
}

/** ARN of an EC2 resource (`subnet`, `security-group`, `network-interface`…) of `scope`. */
export function ec2Arn(scope: ArnScope, type: string, id: string): string {
  return build({ ...scope, service: 'ec2', resource: `${type}/${id}` });
}

/** ARN of the execution named `name` of the state machine `stateMachineArn`. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  const machine = parse(stateMachineArn);
  return build({ ...machine, resource: `execution:${machine.resource.replace(/^stateMachine:/, '')}:${name}` });
}

/** True when `executionArn` is an execution of `stateMachineArn` (same partition, region, account, name). */
export function isExecutionOf(executionArn: string, stateMachineArn: string): boolean {
  try {
    const e = parse(executionArn);
    const prefix = executionArnOf(stateMachineArn, '');
    return e.service === 'states' && executionArn.startsWith(prefix) && executionArn.length > prefix.length && !executionArn.slice(prefix.length).includes(':');
  } catch {
    return false;
  }
}

/** ARN of the execution named `name` of the same state machine as `executionArn`; undefined when it is not an execution ARN. */
export function siblingExecutionArn(executionArn: string, name: string): string | undefined {
  if (executionArn.length > MAX_ARN_LENGTH || !/^arn:[^:]+:states:[^:]+:[^:]+:execution:[^:]+:[^:]+$/.test(executionArn)) return undefined;
  const execution = parse(executionArn);
  const machineName = execution.resource.split(':')[1]!;
  return build({ ...execution, resource: `execution:${machineName}:${name}` });
}

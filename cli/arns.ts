/**
 * The ARNs the CLI takes (`--state-machine-arn ARN`, `status <execution ARN or name>`), checked with
 * the SDK's ARN parser (functions/shared/arn.ts) before any AWS call: only a Step Functions state
 * machine ARN, resp. execution ARN, passes; anything else that starts with `arn:` is a usage error.
 */
import { parseArn } from '../functions/shared/arn.js';
import { ACCOUNT_ID, PARTITION, REGION } from '../functions/shared/ids.js';

/** An AWS Region code (`us-east-1`): an ARN's region, and `--region` (functions/shared/ids.ts). */
export { REGION };

/** A state machine name as this project's stacks name them (`<service>-<stage>-<key>`). */
const MACHINE_NAME = /^[\w-]{1,80}$/;
/**
 * A Step Functions name (an execution's): 1–80 characters, none of those the service forbids
 * (whitespace, brackets, wildcards, `" # % \ ^ | ~ \` $ & , ; : /`, control characters).
 */
const NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;

export const STATE_MACHINE_ARN_FORM = 'arn:aws:states:REGION:ACCOUNT:stateMachine:NAME';
export const EXECUTION_ARN_FORM = 'arn:aws:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME';

/** The parts of a Step Functions ARN, or why `value` is not one. */
function statesArn(value: string): { resource: string[]; region: string } | { problem: string } {
  let arn;
  try {
    arn = parseArn(value);
  } catch {
    return { problem: 'not an ARN' };
  }
  if (!PARTITION.test(arn.partition)) return { problem: `partition "${arn.partition}" is not an AWS partition` };
  if (arn.service !== 'states') return { problem: `an ARN of ${arn.service || 'no service'}, not of Step Functions (states)` };
  if (!REGION.test(arn.region)) return { problem: `region "${arn.region}" is not an AWS region` };
  if (!ACCOUNT_ID.test(arn.accountId)) return { problem: `account "${arn.accountId}" is not a 12-digit account id` };
  return { resource: arn.resource.split(':'), region: arn.region };
}

/** Why `value` is not a Step Functions state machine ARN (undefined when it is one). */
export function stateMachineArnProblem(value: string): string | undefined {
  const arn = statesArn(value);
  if ('problem' in arn) return arn.problem;
  const [type, name, ...rest] = arn.resource;
  if (type !== 'stateMachine') return `a Step Functions ${type || 'resource'} ARN, not a state machine's`;
  if (rest.length) return 'a version or alias ARN, not the state machine\'s';
  if (!MACHINE_NAME.test(name ?? '')) return `state machine name "${name ?? ''}" is not 1-80 letters, digits, - or _`;
  return undefined;
}

/** Why `value` is not a Step Functions (standard) execution ARN (undefined when it is one). */
export function executionArnProblem(value: string): string | undefined {
  const arn = statesArn(value);
  if ('problem' in arn) return arn.problem;
  const [type, machine, name, ...rest] = arn.resource;
  if (type !== 'execution') return `a Step Functions ${type || 'resource'} ARN, not an execution's`;
  if (!MACHINE_NAME.test(machine ?? '')) return `state machine name "${machine ?? ''}" is not 1-80 letters, digits, - or _`;
  if (name === undefined || rest.length || !NAME.test(name)) return `execution name "${[name, ...rest].join(':')}" is not a Step Functions name`;
  return undefined;
}

/** Why `value` is not an execution name (undefined when it is one). */
export function executionNameProblem(value: string): string | undefined {
  return NAME.test(value) ? undefined : 'not a Step Functions name (1-80 characters, no whitespace, brackets, wildcards or " # % \\ ^ | ~ ` $ & , ; : /)';
}

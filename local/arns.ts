/** The ARNs of the local state machine and its executions (no engine needed: `bvc status --local` reads them). */

/** The ARN of the state machine the local runner executes (in `region`). */
export function localStateMachineArn(region = process.env.AWS_REGION ?? 'us-east-1'): string {
  return `arn:aws:states:${region}:123456789012:stateMachine:bedrock-vpc-customization-local-customize-model`;
}

/** The ARN of the local state machine's execution `name`. */
export function localExecutionArn(name: string, region?: string): string {
  return `${localStateMachineArn(region).replace(':stateMachine:', ':execution:')}:${name}`;
}

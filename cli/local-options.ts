/**
 * The local target's options that `bvc` checks before it loads the local engine (cli/local-target.ts,
 * reached only through a dynamic import): its region, the stand-in's scenarios, its state machine's ARN.
 */

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '123456789012';

/** How the stand-in for Bedrock ends the demo's job. */
export const SCENARIOS = ['complete', 'failure', 'deadline'] as const;
export type Scenario = (typeof SCENARIOS)[number];

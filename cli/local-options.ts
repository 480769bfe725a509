/**
 * The local target's options that `bvc` checks before it loads the local engine (cli/local-target.ts,
 * reached only through a dynamic import): its region, the stand-in's scenarios, its state machine's ARN.
 */

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '123456789012';

/**
 * How the stand-in for Bedrock ends the demo's job: `complete`, `failure`, `deadline` (the demo's
 * fine-tuning job); `promote` and `reject` (a Nova Micro fine-tuning job that asks for the evaluation
 * gate, whose stand-in custom model answers better, resp. worse, than its base model: docs/evaluation.md).
 */
export const SCENARIOS = ['complete', 'failure', 'deadline', 'promote', 'reject'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** The scenarios whose job asks for the evaluation gate. */
export const GATE_SCENARIOS: readonly Scenario[] = ['promote', 'reject'];

/** `complete|failure|deadline|promote|reject`: the --scenario values, for the usage lines. */
export const SCENARIO_CHOICES = SCENARIOS.join('|');

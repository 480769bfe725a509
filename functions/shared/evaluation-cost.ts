/**
 * The evaluation gate's cost, estimated before anything is spent: by the dataset step (ValidateDataset,
 * before training) and by the gate's PlanEvaluation (before the deployment). The gate spends on:
 *
 * - generation: the workflow asks the custom model (its on-demand deployment) and the base model for a
 *   response to every held-out prompt (Converse), so 2 models × (the prompt's tokens + up to
 *   `maxTokens` out) per prompt;
 * - judging: two LLM-as-a-judge evaluation jobs (one per model, same judge, same metrics), and the judge
 *   reads, per record and metric, its built-in prompt template with the prompt, the reference response
 *   and the model's response filled in: 2 jobs × metrics × prompts × (prompt + reference + `maxTokens` +
 *   {@link JUDGE_PROMPT_OVERHEAD_TOKENS});
 * - the deployment's time: nothing. On-demand inference of a custom model is "charged based on usage,
 *   measured in tokens, both in and out" (Amazon Nova User Guide, "On-demand inference",
 *   https://docs.aws.amazon.com/nova/latest/userguide/custom-fine-tune-odi.html); no hourly charge is
 *   documented (https://docs.aws.amazon.com/bedrock/latest/userguide/deploy-custom-model-on-demand.html).
 *
 * Tokens come from characters with the estimate the dataset step uses (shared/token-estimate.ts). One
 * price per 1,000 tokens, in or out, per model (stage param inferenceTokenPricesUsdPer1k, looked up by
 * stage.ts inferencePriceFor); the custom model is priced as its base model.
 */
import { EvaluationBudgetExceededError } from './errors.js';
import { inferencePriceFor, type StageEvaluation } from './stage.js';
import { ESTIMATED_CHARS_PER_TOKEN, tokensFromChars } from './token-estimate.js';

/**
 * Tokens of the judge's own prompt around each record: the longest built-in evaluator prompt template
 * AWS documents, without its `{{prompt}}` and `{{prediction}}` placeholders (the record's texts are
 * counted apart). Measured on "Built-in metric evaluator prompts for model-as-a-judge evaluation jobs"
 * (https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-type-judge-prompt.html), every
 * judge page stored (Amazon Nova Pro, Nova Micro, Nova 2 Lite; Anthropic Claude 3.5 Sonnet, 3.7 Sonnet,
 * Sonnet 4.5, Opus 4.6), the text between a template's code fences: the longest is Amazon Nova 2 Lite's
 * "Professional style and tone" (model-evaluation-type-judge-prompt-nova-2-lite.html), 5,694
 * characters, 5,670 without the two placeholders: 1,418 tokens at 4 characters a token, rounded up to
 * 1,500. (Next: Claude 3.7 Sonnet's of the same metric, 4,748; the longest of the Nova Pro page,
 * "Completeness without ground truth", 3,668.) A metric's template differs by judge model; the
 * longest is taken for all, so the estimate errs high.
 */
export const JUDGE_PROMPT_OVERHEAD_TOKENS = 1_500;

/** Models answering the same prompts: the custom model and its base model. */
const MODELS_COMPARED = 2;
/** Evaluation jobs, one per model. */
const EVALUATION_JOBS = 2;

export interface EvaluationCostInput {
  /** Held-out records (prompts) evaluated. */
  prompts: number;
  /** Characters of every prompt together. */
  promptChars: number;
  /** Characters of every reference response together (0 when the dataset has none). */
  referenceChars: number;
  /** Judge metrics per job. */
  metrics: number;
  /** The most tokens a model may answer one prompt with (the job's `evaluation.inference.maxTokens`). */
  maxTokens: number;
}

export interface EvaluationPrices {
  /** The base model's price per 1,000 tokens (the custom model is priced the same). */
  baseUsdPer1k?: number;
  /** The judge model's price per 1,000 tokens. */
  judgeUsdPer1k?: number;
}

export interface EvaluationCostEstimate {
  tokens: { generation: number; judge: number; total: number };
  /** In US dollars, rounded up to the cent; absent when a price is missing. */
  usd?: number;
  /** What the estimate assumes, in words (shown in the report). */
  assumptions: string[];
}

/** The gate's expected tokens and, with both prices, cost (see the module comment for the formula). */
export function estimateEvaluationCost(input: EvaluationCostInput, prices: EvaluationPrices): EvaluationCostEstimate {
  const { prompts, promptChars, referenceChars, metrics, maxTokens } = input;
  const promptTokens = tokensFromChars(promptChars);
  const referenceTokens = tokensFromChars(referenceChars);
  const generation = MODELS_COMPARED * (promptTokens + prompts * maxTokens);
  const judge = EVALUATION_JOBS * metrics * (promptTokens + referenceTokens + prompts * (maxTokens + JUDGE_PROMPT_OVERHEAD_TOKENS));
  const total = generation + judge;
  const assumptions = [
    `tokens estimated at ${ESTIMATED_CHARS_PER_TOKEN} characters a token (no tokenizer)`,
    `every response as long as maxTokens (${maxTokens})`,
    `the judge's template: ${JUDGE_PROMPT_OVERHEAD_TOKENS} tokens a record and metric (the longest documented built-in evaluator prompt)`,
    "the judge's own answer (its reasoning) is not counted",
    'the custom model priced as its base model; the on-demand deployment has no documented hourly charge: 0',
  ];
  const { baseUsdPer1k, judgeUsdPer1k } = prices;
  if (baseUsdPer1k === undefined || judgeUsdPer1k === undefined) {
    const missing = [baseUsdPer1k === undefined ? 'base model' : '', judgeUsdPer1k === undefined ? 'judge model' : ''].filter(Boolean);
    return { tokens: { generation, judge, total }, assumptions: [...assumptions, `no cost: the stage prices no ${missing.join(' or ')} (param inferenceTokenPricesUsdPer1k)`] };
  }
  const exact = (generation / 1000) * baseUsdPer1k + (judge / 1000) * judgeUsdPer1k;
  // Rounded up to the cent (a tiny epsilon keeps 0.1 + 0.2 from becoming 0.31): a cap is never passed by rounding.
  const usd = Math.ceil(exact * 100 - 1e-9) / 100;
  return { tokens: { generation, judge, total }, usd, assumptions };
}

/** The prices of a job's gate: its base model's (for both models compared) and its judge's. */
export function evaluationPricesFor(
  evaluation: Pick<StageEvaluation, 'inferencePricesUsdPer1k'>,
  baseModelIdentifier: string,
  judgeModelIdentifier: string,
): EvaluationPrices & { basePricedAs?: string; judgePricedAs?: string } {
  // The custom model is priced as its base model (stage.ts inferencePriceFor).
  const base = inferencePriceFor(evaluation, baseModelIdentifier);
  const judge = inferencePriceFor(evaluation, judgeModelIdentifier);
  return {
    ...(base ? { baseUsdPer1k: base.usdPer1kTokens, basePricedAs: base.pricedAs } : {}),
    ...(judge ? { judgeUsdPer1k: judge.usdPer1kTokens, judgePricedAs: judge.pricedAs } : {}),
  };
}

/**
 * Holds the gate's estimate to its cap (`maxCostUsd`; undefined: no cap): over it, or a cap that cannot be held for want
 * of a price, is {@link EvaluationBudgetExceededError}. `after` says what was not done (the dataset step: nothing spent;
 * PlanEvaluation: nothing deployed). The one budget rule of the dataset step (before training) and of PlanEvaluation.
 */
export function holdEvaluationToBudget(
  estimate: EvaluationCostEstimate,
  prices: ReturnType<typeof evaluationPricesFor>,
  maxCostUsd: number | undefined,
  job: { prompts: number; metrics: number; maxTokens: number; baseModelIdentifier: string; judgeModelIdentifier: string },
  after: string,
): void {
  if (maxCostUsd === undefined) return;
  if (estimate.usd === undefined) {
    throw new EvaluationBudgetExceededError(
      `The evaluation gate's cost cap of $${maxCostUsd} cannot be held: the stage prices no ${prices.baseUsdPer1k === undefined ? `base model ${job.baseModelIdentifier}` : `judge model ${job.judgeModelIdentifier}`} (param inferenceTokenPricesUsdPer1k). ${after}`,
    );
  }
  if (estimate.usd > maxCostUsd) {
    throw new EvaluationBudgetExceededError(
      `The evaluation gate's estimated cost $${estimate.usd} exceeds the cap of $${maxCostUsd}: ${job.prompts} prompts, ${job.metrics} metric(s), maxTokens ${job.maxTokens}; ` +
        `${estimate.tokens.generation} generation tokens at $${prices.baseUsdPer1k} per 1,000 (priced as ${prices.basePricedAs ?? 'given'}), ${estimate.tokens.judge} judge tokens at $${prices.judgeUsdPer1k} per 1,000 (priced as ${prices.judgePricedAs ?? 'given'}). ` +
        `${after} Lower evaluation.maxPrompts, the metrics or inference.maxTokens.`,
    );
  }
}

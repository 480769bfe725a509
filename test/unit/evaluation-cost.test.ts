/**
 * The evaluation gate's cost estimate (shared/evaluation-cost.ts): generation = 2 models × (prompt
 * tokens + maxTokens a prompt), judge = 2 jobs × metrics × (prompt + reference tokens + prompts ×
 * (maxTokens + the judge template's overhead)), tokens from characters with the dataset step's estimate,
 * a cost only with both prices, rounded up to the cent; the prices of the base model (for the custom
 * model too) and the judge from the stage's list.
 */
import { describe, expect, it } from 'vitest';
import { JUDGE_PROMPT_OVERHEAD_TOKENS, estimateEvaluationCost, evaluationPricesFor } from '../../functions/shared/evaluation-cost.js';
import { ESTIMATED_CHARS_PER_TOKEN, tokensFromChars } from '../../functions/shared/token-estimate.js';
import { datasetRulesFor, tokensOf } from '../../functions/validate-dataset/formats.js';

const input = { prompts: 37, promptChars: 12_345, referenceChars: 6_789, metrics: 3, maxTokens: 512 };

describe('estimateEvaluationCost', () => {
  it('counts the generation of both models and the judging of both jobs, per metric', () => {
    const { tokens } = estimateEvaluationCost(input, {});
    const promptTokens = Math.ceil(input.promptChars / ESTIMATED_CHARS_PER_TOKEN);
    const referenceTokens = Math.ceil(input.referenceChars / ESTIMATED_CHARS_PER_TOKEN);
    const generation = 2 * (promptTokens + input.prompts * input.maxTokens);
    const judge = 2 * input.metrics * (promptTokens + referenceTokens + input.prompts * (input.maxTokens + JUDGE_PROMPT_OVERHEAD_TOKENS));
    expect(tokens).toEqual({ generation, judge, total: generation + judge });
  });

  it('grows with each input: one more prompt, metric or maxTokens costs more', () => {
    const base = estimateEvaluationCost(input, {}).tokens.total;
    for (const more of [{ prompts: input.prompts + 1 }, { metrics: input.metrics + 1 }, { maxTokens: input.maxTokens + 1 }, { promptChars: input.promptChars + 4 }, { referenceChars: input.referenceChars + 4 }]) {
      expect(estimateEvaluationCost({ ...input, ...more }, {}).tokens.total).toBeGreaterThan(base);
    }
  });

  it("prices generation at the base model's price and judging at the judge's, rounded up to the cent", () => {
    const prices = { baseUsdPer1k: 0.00014, judgeUsdPer1k: 0.0032 };
    const estimate = estimateEvaluationCost(input, prices);
    const exact = (estimate.tokens.generation / 1000) * prices.baseUsdPer1k + (estimate.tokens.judge / 1000) * prices.judgeUsdPer1k;
    expect(estimate.usd).toBeGreaterThanOrEqual(exact);
    expect(estimate.usd! - exact).toBeLessThan(0.01);
    expect(Math.round(estimate.usd! * 100)).toBe(estimate.usd! * 100);
  });

  it('has no cost without both prices, and says which is missing', () => {
    const noJudge = estimateEvaluationCost(input, { baseUsdPer1k: 0.001 });
    expect(noJudge.usd).toBeUndefined();
    expect(noJudge.assumptions.join(' ')).toMatch(/no judge model/);
    const noBase = estimateEvaluationCost(input, { judgeUsdPer1k: 0.001 });
    expect(noBase.usd).toBeUndefined();
    expect(noBase.assumptions.join(' ')).toMatch(/no base model/);
  });

  it('counts tokens as the dataset step does for the gate\'s models (Nova: the shared 4-characters estimate)', () => {
    const nova = datasetRulesFor('amazon.nova-micro-v1:0:128k', 'FINE_TUNING')!;
    expect(nova.charsPerToken).toBe(ESTIMATED_CHARS_PER_TOKEN);
    expect(tokensOf(nova, 4_001)).toBe(tokensFromChars(4_001));
  });

  it('the judge overhead is the longest documented template (5,670 characters without placeholders, measured) in tokens, rounded up', () => {
    expect(JUDGE_PROMPT_OVERHEAD_TOKENS).toBeGreaterThanOrEqual(tokensFromChars(5_670));
    expect(JUDGE_PROMPT_OVERHEAD_TOKENS - tokensFromChars(5_670)).toBeLessThan(100);
  });
});

describe('evaluationPricesFor', () => {
  const prices = { inferencePricesUsdPer1k: { 'amazon.nova-micro-v1:0': 0.00014, 'amazon.nova-pro-v1:0': 0.0032 } };

  it("prices the custom model as its base model (a context suffix extends a listed id) and the judge by its id", () => {
    expect(evaluationPricesFor(prices, 'amazon.nova-micro-v1:0:128k', 'amazon.nova-pro-v1:0')).toEqual({
      baseUsdPer1k: 0.00014,
      basePricedAs: 'amazon.nova-micro-v1:0',
      judgeUsdPer1k: 0.0032,
      judgePricedAs: 'amazon.nova-pro-v1:0',
    });
  });

  it('prices a judge named by a cross-Region inference profile (id or ARN) as its model', () => {
    for (const judge of ['us.amazon.nova-pro-v1:0', 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0']) {
      expect(evaluationPricesFor(prices, 'amazon.nova-micro-v1:0', judge).judgeUsdPer1k).toBe(0.0032);
    }
  });

  it('an unlisted model has no price', () => {
    expect(evaluationPricesFor(prices, 'amazon.nova-lite-v1:0', 'anthropic.claude-3-5-sonnet-20240620-v1:0')).toEqual({});
    expect(evaluationPricesFor({}, 'amazon.nova-micro-v1:0', 'amazon.nova-pro-v1:0')).toEqual({});
  });
});

/** docs/evaluation.md's tables are the gate's table (functions/shared/evaluation-support.ts) as it is. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JUDGE_METRICS, ON_DEMAND_DEPLOYMENT_SUPPORT } from '../../functions/shared/evaluation-support.js';
import { evaluationDocPath, evaluationSupportBlock, renderEvaluationSupport } from '../../scripts/evaluation-doc.js';

describe('docs/evaluation.md', () => {
  it('holds the current on-demand and judge-metric tables (npm run docs writes them)', () => {
    expect(evaluationSupportBlock(readFileSync(evaluationDocPath, 'utf8'))).toBe(renderEvaluationSupport());
  });

  it('renders every on-demand row with its identifiers, Regions and numbered sources, and every metric with its direction', () => {
    const block = renderEvaluationSupport();
    for (const row of ON_DEMAND_DEPLOYMENT_SUPPORT) {
      expect(block).toContain(`| ${row.name} | ${row.suffixes.map((s) => `\`${row.modelId}${s}\``).join(', ')} | ${row.regions.join(', ')} | `);
    }
    for (const [name, metric] of Object.entries(JUDGE_METRICS)) expect(block).toContain(`| \`${name}\` | ${metric.higherIsBetter ? 'higher' : 'lower'} | [`);
    expect(block).toMatch(/^1\. <https:\/\/docs\.aws\.amazon\.com\/bedrock\/latest\/userguide\//m);
  });
});

describe("docs/evaluation.md's cost formula", () => {
  it("names the judge's per-record prompt overhead the estimate uses", async () => {
    const { JUDGE_PROMPT_OVERHEAD_TOKENS } = await import('../../functions/shared/evaluation-cost.js');
    const text = readFileSync(evaluationDocPath, 'utf8');
    const shown = JUDGE_PROMPT_OVERHEAD_TOKENS.toLocaleString('en-US');
    expect(text).toContain(`(\`maxTokens\` +\n  ${shown})`);
    expect(text).toContain(`evaluator prompt (${shown} tokens`);
  });
});

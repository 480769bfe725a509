/**
 * The generated block of docs/evaluation.md "What it cannot do": which custom models Bedrock deploys on
 * demand (the gate evaluates only those), the judge metrics the gate offers and which way each is
 * better, and the prompt limit, rendered from the one table the gate and its preflight read
 * (functions/shared/evaluation-support.ts), each row with its source page. `npm run docs` writes it
 * (scripts/docs.ts); test/unit/evaluation-doc.test.ts fails when the block is stale.
 */
import { join } from 'node:path';
import {
  JUDGE_METRICS,
  MAX_EVALUATION_PROMPTS,
  MAX_EVALUATION_PROMPTS_SOURCE,
  ON_DEMAND_CUSTOMIZED_SINCE,
  ON_DEMAND_DEPLOYMENT_SUPPORT,
  type EvaluationSource,
} from '../functions/shared/evaluation-support.js';
import { projectRoot } from '../local/paths.js';
import { markedBlock, replaceMarkedBlock } from './marked-block.js';

export const evaluationDocPath = join(projectRoot, 'docs', 'evaluation.md');
const MARKERS = { start: '<!-- evaluation-support:start -->', end: '<!-- evaluation-support:end -->' };

/** The pages the rows cite, numbered in order of first use: `[n]` in the tables, the list under them. */
class Sources {
  private readonly pages: EvaluationSource[] = [];
  ref(source: EvaluationSource): string {
    let at = this.pages.findIndex((p) => p.url === source.url);
    if (at < 0) at = this.pages.push(source) - 1;
    return `[${at + 1}]`;
  }
  list(): string[] {
    return this.pages.map((p, i) => `${i + 1}. <${p.url}> — ${p.section}${p.note ? ` (${p.note})` : ''}`);
  }
}

/** The block for the tables as they are. */
export function renderEvaluationSupport(): string {
  const sources = new Sources();
  const out: string[] = ['| base model | identifiers | Regions | customized by | sources |', '|---|---|---|---|---|'];
  for (const row of ON_DEMAND_DEPLOYMENT_SUPPORT) {
    const ids = row.suffixes.map((s) => `\`${row.modelId}${s}\``).join(', ');
    const refs = row.sources.map((s) => sources.ref(s)).join(' ');
    out.push(`| ${row.name} | ${ids} | ${row.regions.join(', ')} | ${row.customizationTypes.map((t) => `\`${t}\``).join(', ')} | ${refs} |`);
  }
  out.push(
    '',
    `Only models customized on or after ${ON_DEMAND_CUSTOMIZED_SINCE.value} ${sources.ref(ON_DEMAND_CUSTOMIZED_SINCE.source)}. Any other base model, Region or customization type: the gate does not run (preflight \`evaluation.supported\`, \`EvaluationUnsupportedError\`).`,
    '',
    '| judge metric | a better response scores | source |',
    '|---|---|---|',
  );
  for (const [name, metric] of Object.entries(JUDGE_METRICS)) {
    out.push(`| \`${name}\` | ${metric.higherIsBetter ? 'higher' : 'lower'} | ${sources.ref(metric.source)} |`);
  }
  out.push(
    '',
    `At most ${MAX_EVALUATION_PROMPTS} prompts per evaluation job ${sources.ref(MAX_EVALUATION_PROMPTS_SOURCE)}.`,
    '',
    'Sources:',
    '',
    ...sources.list(),
  );
  return `${out.join('\n')}\n`;
}

export const evaluationSupportBlock = (doc: string): string | undefined => markedBlock(doc, MARKERS);
export const replaceEvaluationSupportBlock = (doc: string, block: string): string => replaceMarkedBlock(doc, MARKERS, block, 'docs/evaluation.md');

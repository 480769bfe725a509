/**
 * The generated block of docs/customizations.md: which base models Bedrock customizes, per type and
 * Region, and which teachers distill into which students, rendered from the one table the preflight
 * reads (functions/validate-network/customization-support.ts), each row with its source page. `npm run docs`
 * writes it (scripts/docs.ts); test/unit/customizations-doc.test.ts fails when the block is stale.
 */
import { join } from 'node:path';
import {
  CUSTOMIZATION_TYPES,
  DISTILLATION_TEACHERS,
  DISTILLATION_UNAVAILABLE_PROVIDERS,
  MODEL_SUPPORT,
  type CustomizationType,
  type Source,
} from '../functions/validate-network/customization-support.js';
import { projectRoot } from '../local/paths.js';
import { markedBlock, replaceMarkedBlock } from './marked-block.js';

export const customizationsDocPath = join(projectRoot, 'docs', 'customizations.md');
const MARKERS = { start: '<!-- support:start -->', end: '<!-- support:end -->' };

const TYPE_NAMES: Record<CustomizationType, string> = {
  FINE_TUNING: 'Fine-tuning',
  CONTINUED_PRE_TRAINING: 'Continued pre-training',
  DISTILLATION: 'Distillation (as the student)',
  REINFORCEMENT_FINE_TUNING: 'Reinforcement fine-tuning',
};

const INVOCATION: Record<string, string> = {
  'on-demand': 'model id',
  'inference-profile': 'inference profile only',
  both: 'model id or inference profile',
};

/** The pages the rows cite, numbered in order of first use: `[n]` in the tables, the list under them. */
class Sources {
  private readonly pages: string[] = [];
  ref(source: Source): string {
    let at = this.pages.indexOf(source.url);
    if (at < 0) at = this.pages.push(source.url) - 1;
    return `[${at + 1}]`;
  }
  list(): string[] {
    return this.pages.map((url, i) => `${i + 1}. <${url}>`);
  }
}

/** The block for the table as it is. */
export function renderSupport(): string {
  const sources = new Sources();
  const out: string[] = [];
  for (const type of CUSTOMIZATION_TYPES) {
    out.push(`#### ${TYPE_NAMES[type]} (\`${type}\`)`, '', '| model | documented id | Regions | source |', '|---|---|---|---|');
    const rows = [...MODEL_SUPPORT.values()]
      .flatMap((m) => (m.support[type] ? [{ name: m.name, row: m.support[type]! }] : []))
      .sort((a, b) => a.row.documentedId.localeCompare(b.row.documentedId));
    for (const { name, row } of rows) out.push(`| ${name} | \`${row.documentedId}\` | ${row.regions.join(', ')} | ${sources.ref(row.source)} |`);
    out.push('');
  }
  out.push('#### Distillation teachers', '', '| teacher | documented id | named by | students | Regions | source |', '|---|---|---|---|---|---|');
  for (const t of DISTILLATION_TEACHERS) {
    const students = t.students.map((s) => `\`${s.documentedId}\``).join(', ');
    out.push(`| ${t.name} | \`${t.documentedId}\` | ${INVOCATION[t.invocation] ?? t.invocation} | ${students} | ${t.regions.join(', ')} | ${sources.ref(t.source)} |`);
  }
  out.push(
    '',
    `Not distilled at present (teacher or student): models of ${DISTILLATION_UNAVAILABLE_PROVIDERS.value.join(', ')} ${sources.ref(DISTILLATION_UNAVAILABLE_PROVIDERS.source)}.`,
    '',
    'Sources:',
    '',
    ...sources.list(),
  );
  return `${out.join('\n')}\n`;
}

export const supportBlock = (doc: string): string | undefined => markedBlock(doc, MARKERS);
export const replaceSupportBlock = (doc: string, block: string): string => replaceMarkedBlock(doc, MARKERS, block, 'docs/customizations.md');

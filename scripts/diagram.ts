/**
 * `npm run diagram` (= `tsx scripts/diagram.ts --write`)
 *
 * Draws statemachines/customize-model.asl.yml as a Mermaid diagram. Without flags it prints the
 * diagram to stdout; with --write it replaces the block between the markers of docs/state-machine.md
 * `<!-- state-machine-diagram:start -->` and `<!-- state-machine-diagram:end -->` (a mermaid fenced
 * block) and touches nothing else. test/unit/diagram.test.ts fails when that block is stale.
 *
 * Format: `flowchart TD`, not `stateDiagram-v2`. A flowchart draws a Choice as a named diamond (a
 * stateDiagram `<<choice>>` state is an anonymous dot, so the Choice's name is lost), puts each rule's
 * condition on its edge with `-->|label|`, and can draw a Catch as a dotted edge (`-.->`) so the error
 * paths stand apart from the normal flow (stateDiagram has a single edge style). Node shapes and classes
 * tell the state types apart.
 *
 * What is drawn (state order and rule order as in the file, so the output is deterministic):
 * - every top-level state: Task `[ ]`, Choice `{ }`, Wait `{{ }}`, Pass `( )`, Succeed / Fail `([ ])`
 *   (other types, e.g. Parallel or Map, as a rectangle; their inner states are not drawn);
 * - a Task's Retry in its node, compactly: `retry: ` and the errors it retries (see {@link compactErrors});
 * - the start marker → StartAt; `Next` edges; each Choice rule's edge, labelled with its condition
 *   ({@link conditionText}), then `default`; Catch edges dotted, labelled with their ErrorEquals;
 *   `End: true`, Succeed and Fail states → the end marker.
 * Paths more than three fields deep are shortened to their last two (`$…submission.jobArn`).
 * Labels are wrapped at {@link WRAP} characters (`<br/>`) and escaped with Mermaid entity codes
 * ({@link escapeLabel}), so quotes, `{}`, `|`, `;`, `#`, `<`, `>` in a state name or a rule cannot break it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../local/paths.js';
import { loadDefinition } from '../local/workflow.js';
import { markedBlock, replaceMarkedBlock } from './marked-block.js';

type State = Record<string, unknown>;
export type Definition = { StartAt: string; States: Record<string, State> };

export const START_MARKER = '<!-- state-machine-diagram:start -->';
export const END_MARKER = '<!-- state-machine-diagram:end -->';
/** The page the diagram is written into (README.md links to it: the diagram alone would pass the README's 300 lines). */
export const diagramPagePath = join(projectRoot, 'docs', 'state-machine.md');

/** Labels longer than this many characters are wrapped onto several lines. */
export const WRAP = 40;

/** Ids Mermaid's flowchart grammar reads as keywords (case-insensitive), and the two markers'. */
const RESERVED = new Set(['end', 'start', 'subgraph', 'graph', 'flowchart', 'style', 'class', 'classdef', 'click', 'linkstyle', 'default', 'call', 'href', 'direction']);
const START_ID = 'START';
const END_ID = 'END';

// ---- Labels -------------------------------------------------------------------------------------

/** Mermaid entity codes for the characters that could end a label or be read as markup. */
const ENTITIES: Record<string, string> = {
  '#': '#35;',
  '"': '#quot;',
  '|': '#124;',
  ';': '#59;',
  '{': '#123;',
  '}': '#125;',
  '[': '#91;',
  ']': '#93;',
  '<': '#lt;',
  '>': '#gt;',
  '`': '#96;',
  '&': '#amp;',
};

/** One line of label text, safe inside a quoted Mermaid label (`"…"`). */
export function escapeLabel(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[#"|;{}[\]<>`&]/g, (c) => ENTITIES[c]!);
}

/** Greedy word wrap at `width` characters, each line escaped, lines joined with `<br/>`. */
export function wrapLabel(text: string, width = WRAP): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map(escapeLabel).join('<br/>');
}

/**
 * A list of error names, compact: as is when short; otherwise names sharing a dotted prefix
 * (`Lambda.ServiceException`, `Lambda.Unknown`…) become one `Lambda.* (N)` at the first one's place.
 */
export function compactErrors(errors: readonly string[], short = WRAP): string {
  const unique = [...new Set(errors)];
  const plain = unique.join(', ');
  if (plain.length <= short) return plain;
  const prefixOf = (e: string) => (e.includes('.') ? e.slice(0, e.indexOf('.')) : undefined);
  const counts = new Map<string, number>();
  for (const e of unique) {
    const p = prefixOf(e);
    if (p) counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  const out: string[] = [];
  const done = new Set<string>();
  for (const e of unique) {
    const p = prefixOf(e);
    if (p && counts.get(p)! >= 2) {
      if (!done.has(p)) out.push(`${p}.* (${counts.get(p)})`);
      done.add(p);
    } else out.push(e);
  }
  return out.join(', ');
}

// ---- Choice rules -------------------------------------------------------------------------------

const COMPARISONS: [suffix: string, symbol: string][] = [
  ['GreaterThanEquals', '>='],
  ['LessThanEquals', '<='],
  ['GreaterThan', '>'],
  ['LessThan', '<'],
  ['Equals', '=='],
  ['Matches', 'matches'],
];
const TYPE_TESTS: Record<string, string> = {
  IsPresent: 'present',
  IsNull: 'null',
  IsString: 'a string',
  IsNumeric: 'a number',
  IsBoolean: 'a boolean',
  IsTimestamp: 'a timestamp',
};

/** A path more than three fields deep, shortened to its last two: `$.a.b.c.d` → `$…c.d`. */
export const shortPath = (path: string) => {
  const m = /^\$((?:\.[^.]+){4,})$/.exec(path);
  return m ? `$…${m[1]!.split('.').slice(-2).join('.')}` : path;
};

const valueText = (v: unknown) => (typeof v === 'string' ? shortPath(v) : JSON.stringify(v));

/** A rule as short text: `$.poll.next == wait`, `$.x present`, `$.x in (a, b)`, `not (…)`, `a and b`. */
export function conditionText(rule: State, nested = false): string {
  const group = (s: string) => (nested ? `(${s})` : s);
  if (Array.isArray(rule.And)) return group((rule.And as State[]).map((r) => conditionText(r, true)).join(' and '));
  if (Array.isArray(rule.Or)) {
    const rules = rule.Or as State[];
    // An Or of equalities on one variable: `$.v in (a, b, c)`.
    const variable = rules[0]?.Variable;
    const values = rules.map((r) => {
      const keys = Object.keys(r).filter((k) => k !== 'Next');
      return r.Variable === variable && keys.length === 2 && /^(String|Numeric|Boolean|Timestamp)Equals$/.test(keys[1]!) ? r[keys[1]!] : undefined;
    });
    if (rules.length > 1 && values.every((v) => v !== undefined)) return `${shortPath(String(variable))} in (${values.map(valueText).join(', ')})`;
    return group(rules.map((r) => conditionText(r, true)).join(' or '));
  }
  if (rule.Not && typeof rule.Not === 'object') {
    const inner = rule.Not as State;
    const keys = Object.keys(inner);
    const test = keys.find((k) => k in TYPE_TESTS);
    if (test && keys.length === 2 && typeof inner[test] === 'boolean')
      return `${shortPath(String(inner.Variable))} ${inner[test] ? 'not ' : ''}${TYPE_TESTS[test]}`.replace('not present', 'absent');
    return `not ${conditionText(inner, true).replace(/^(?!\()(.*)$/, '($1)')}`;
  }
  const variable = shortPath(String(rule.Variable));
  for (const [key, value] of Object.entries(rule)) {
    if (key === 'Variable' || key === 'Next') continue;
    if (key in TYPE_TESTS) return `${variable} ${value === false ? 'not ' : ''}${TYPE_TESTS[key]}`.replace('not present', 'absent');
    const op = key.replace(/Path$/, '');
    const symbol = COMPARISONS.find(([suffix]) => op.endsWith(suffix))?.[1];
    if (symbol) return `${variable} ${symbol} ${valueText(value)}`;
  }
  return Object.keys(rule).filter((k) => k !== 'Next').join(' ');
}

// ---- The diagram --------------------------------------------------------------------------------

/** Node ids: the state name with non-word characters as `_`, never a keyword, a marker or a duplicate. */
function nodeIds(names: string[]): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set([START_ID, END_ID]);
  for (const name of names) {
    let id = name.replace(/\W/g, '_');
    if (!/^[A-Za-z]/.test(id) || RESERVED.has(id.toLowerCase()) || used.has(id)) id = `state_${id}`;
    for (let n = 2, base = id; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    ids.set(name, id);
  }
  return ids;
}

const SHAPES: Record<string, [string, string]> = {
  Task: ['[', ']'],
  Choice: ['{', '}'],
  Wait: ['{{', '}}'],
  Pass: ['(', ')'],
  Succeed: ['([', '])'],
  Fail: ['([', '])'],
};

/** The Mermaid flowchart of a definition (no fence). */
export function renderDiagram(definition: Definition): string {
  const names = Object.keys(definition.States);
  const ids = nodeIds(names);
  const idOf = (target: unknown) => {
    const id = ids.get(String(target));
    if (!id) throw new Error(`No state named ${String(target)}`);
    return id;
  };
  const label = (text: string) => `"${wrapLabel(text)}"`;
  const lines = ['flowchart TD', `  ${START_ID}(("start"))`, `  ${END_ID}((("end")))`];
  const edges: string[] = [`  ${START_ID} --> ${idOf(definition.StartAt)}`];
  const classes: Record<string, string[]> = { choice: [], wait: [], pass: [], succeed: [], fail: [] };

  for (const name of names) {
    const state = definition.States[name]!;
    const id = ids.get(name)!;
    const type = String(state.Type);
    const [open, close] = SHAPES[type] ?? ['[', ']'];
    const retried = ((state.Retry as State[] | undefined) ?? []).flatMap((r) => (r.ErrorEquals as string[] | undefined) ?? []);
    const text = retried.length ? `${wrapLabel(name)}<br/>${wrapLabel(`retry: ${compactErrors(retried)}`)}` : wrapLabel(name);
    lines.push(`  ${id}${open}"${text}"${close}`);
    classes[type.toLowerCase()]?.push(id);

    if (type === 'Choice') {
      for (const rule of (state.Choices as State[] | undefined) ?? []) edges.push(`  ${id} -->|${label(conditionText(rule))}| ${idOf(rule.Next)}`);
      if (state.Default !== undefined) edges.push(`  ${id} -->|"default"| ${idOf(state.Default)}`);
    }
    if (state.Next !== undefined) edges.push(`  ${id} --> ${idOf(state.Next)}`);
    for (const c of (state.Catch as State[] | undefined) ?? [])
      edges.push(`  ${id} -.->|${label(compactErrors((c.ErrorEquals as string[] | undefined) ?? []))}| ${idOf(c.Next)}`);
    if (state.End === true || type === 'Succeed' || type === 'Fail') edges.push(`  ${id} --> ${END_ID}`);
  }

  const styles = [
    '  classDef choice fill:#fff4d6,stroke:#c9a227',
    '  classDef wait fill:#e8f0fe,stroke:#5b7fd6',
    '  classDef pass fill:#f1f1f1,stroke:#888',
    '  classDef succeed fill:#dff5e1,stroke:#2e8b3d',
    '  classDef fail fill:#fde2e1,stroke:#c0392b',
  ];
  const classLines = Object.entries(classes)
    .filter(([, list]) => list.length)
    .map(([cls, list]) => `  class ${list.join(',')} ${cls}`);
  return [...lines, ...edges, ...styles, ...classLines].join('\n') + '\n';
}

/** What goes between the markers: the diagram in a mermaid fenced block. */
export const readmeBlock = (diagram: string) => `\`\`\`mermaid\n${diagram}\`\`\`\n`;

const MARKERS = { start: START_MARKER, end: END_MARKER };

/** The text between the markers (exclusive, without the newline after the start marker), or undefined. */
export const readmeDiagramBlock = (readme: string): string | undefined => markedBlock(readme, MARKERS);

/** The page with the block between the markers replaced; throws unless each marker is there once, in order. */
export const replaceReadmeBlock = (readme: string, block: string): string => replaceMarkedBlock(readme, MARKERS, block, 'docs/state-machine.md');

/** The diagram of statemachines/customize-model.asl.yml. */
export const currentDiagram = () => renderDiagram(loadDefinition() as unknown as Definition);

function main(args: string[]): void {
  const unknown = args.filter((a) => a !== '--write');
  if (unknown.length) {
    process.stderr.write(`unknown argument(s): ${unknown.join(' ')}\nusage: tsx scripts/diagram.ts [--write]\n`);
    process.exit(2);
  }
  const diagram = currentDiagram();
  if (!args.includes('--write')) {
    process.stdout.write(diagram);
    return;
  }
  const readme = readFileSync(diagramPagePath, 'utf8');
  const updated = replaceReadmeBlock(readme, readmeBlock(diagram));
  if (updated !== readme) writeFileSync(diagramPagePath, updated);
  process.stdout.write(updated === readme ? 'docs/state-machine.md: diagram up to date\n' : 'docs/state-machine.md: diagram updated\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));

/**
 * `npm run docs` (= `tsx scripts/docs.ts --write`)
 *
 * Renders the error reference of docs/errors.md from two sources, each written once:
 * - statemachines/customize-model.asl.yml (read like scripts/diagram.ts, with `loadDefinition`): for every
 *   error name, the states whose Retry retries it (with the retrier's settings), whose Catch catches it
 *   (and where it goes), whose Choice routes on it (`StringEquals` on an `….Error` path) and the Fail
 *   states that end an execution with it (a literal `Error:`);
 * - functions/shared/errors.ts: what each name means and what to do about it (`ERROR_CATALOGUE`,
 *   `SERVICE_ERRORS`) and which names are the classes the Lambdas throw.
 * Without flags it prints the block to stdout; with --write it replaces the block between
 * `<!-- errors:start -->` and `<!-- errors:end -->` in docs/errors.md and touches nothing else.
 * test/unit/errors-doc.test.ts fails when the block is stale. With --write it also writes the model
 * support tables of docs/customizations.md (scripts/customizations-doc.ts) and the evaluation gate's
 * tables of docs/evaluation.md (scripts/evaluation-doc.ts).
 *
 * Retrier defaults, when a field is left out (Amazon States Language specification, "Retrying after
 * error"; AWS Step Functions Developer Guide, "Handling errors in Step Functions workflows"):
 * IntervalSeconds 1, MaxAttempts 3, BackoffRate 2.0, no MaxDelaySeconds, JitterStrategy NONE. The wait
 * before retry n (from 1) is IntervalSeconds × BackoffRate^(n-1), capped at MaxDelaySeconds; FULL jitter
 * waits a random time between 0 and that.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as Errors from '../functions/shared/errors.js';
import { projectRoot } from '../local/paths.js';
import { loadDefinition } from '../local/workflow.js';
import { markedBlock, replaceMarkedBlock } from './marked-block.js';
import { customizationsDocPath, renderSupport, replaceSupportBlock } from './customizations-doc.js';
import { evaluationDocPath, renderEvaluationSupport, replaceEvaluationSupportBlock } from './evaluation-doc.js';

type State = Record<string, unknown>;
export type Definition = { StartAt: string; States: Record<string, State> };

export const START_MARKER = '<!-- errors:start -->';
export const END_MARKER = '<!-- errors:end -->';
export const errorsDocPath = join(projectRoot, 'docs', 'errors.md');

// ---- What the ASL does with each error name -----------------------------------------------------

export interface RetrySettings {
  readonly maxAttempts: number;
  readonly intervalSeconds: number;
  readonly backoffRate: number;
  readonly maxDelaySeconds?: number;
  readonly jitterStrategy: string;
}

/** One place the ASL names an error: a Retry, a Catch, a Choice rule, or a Fail state's literal `Error`. */
export type ErrorRoute =
  | { readonly kind: 'retry'; readonly state: string; readonly settings: RetrySettings }
  | { readonly kind: 'catch'; readonly state: string; readonly next: string; readonly resultPath?: string }
  | { readonly kind: 'choice'; readonly state: string; readonly variable: string; readonly next: string }
  | { readonly kind: 'fail'; readonly state: string };

const num = (value: unknown, fallback: number) => (typeof value === 'number' ? value : fallback);

/** A retrier's settings, with the ASL's defaults for what it leaves out. */
export function retrySettings(rule: State): RetrySettings {
  return {
    maxAttempts: num(rule.MaxAttempts, 3),
    intervalSeconds: num(rule.IntervalSeconds, 1),
    backoffRate: num(rule.BackoffRate, 2),
    ...(typeof rule.MaxDelaySeconds === 'number' ? { maxDelaySeconds: rule.MaxDelaySeconds } : {}),
    jitterStrategy: typeof rule.JitterStrategy === 'string' ? rule.JitterStrategy : 'NONE',
  };
}

/** The error names a Choice rule compares an `….Error` path with (`StringEquals`), through And / Or / Not. */
function choiceErrorNames(rule: State): { variable: string; name: string }[] {
  const nested = [...((rule.And as State[] | undefined) ?? []), ...((rule.Or as State[] | undefined) ?? [])];
  if (rule.Not && typeof rule.Not === 'object') nested.push(rule.Not as State);
  const own =
    typeof rule.Variable === 'string' && /\.Error$/.test(rule.Variable) && typeof rule.StringEquals === 'string'
      ? [{ variable: rule.Variable, name: rule.StringEquals }]
      : [];
  return [...own, ...nested.flatMap(choiceErrorNames)];
}

/**
 * Every error name the definition names, with its routes in file order (states in file order, a
 * state's Retry rules, then its Catch rules, then its Choice rules). Nested states (Parallel branches,
 * Map item processors) are visited too.
 */
export function errorRoutes(definition: Definition): Map<string, ErrorRoute[]> {
  const routes = new Map<string, ErrorRoute[]>();
  const add = (name: string, route: ErrorRoute) => routes.set(name, [...(routes.get(name) ?? []), route]);
  const visit = (states: Record<string, State> | undefined) => {
    for (const [state, body] of Object.entries(states ?? {})) {
      for (const rule of (body.Retry as State[] | undefined) ?? []) {
        for (const name of (rule.ErrorEquals as string[] | undefined) ?? []) add(name, { kind: 'retry', state, settings: retrySettings(rule) });
      }
      for (const rule of (body.Catch as State[] | undefined) ?? []) {
        const resultPath = typeof rule.ResultPath === 'string' ? rule.ResultPath : undefined;
        for (const name of (rule.ErrorEquals as string[] | undefined) ?? [])
          add(name, { kind: 'catch', state, next: String(rule.Next), ...(resultPath ? { resultPath } : {}) });
      }
      for (const rule of (body.Choices as State[] | undefined) ?? []) {
        for (const { variable, name } of choiceErrorNames(rule)) add(name, { kind: 'choice', state, variable, next: String(rule.Next) });
      }
      if (body.Type === 'Fail' && typeof body.Error === 'string') add(body.Error, { kind: 'fail', state });
      visit((body.Iterator as Definition | undefined)?.States);
      visit((body.ItemProcessor as Definition | undefined)?.States);
      for (const branch of (body.Branches as Definition[] | undefined) ?? []) visit(branch.States);
    }
  };
  visit(definition.States);
  return routes;
}

/** `States.*`, `Lambda.*`, `Sandbox.*`, `StepFunctions.*`: names of the services, not of this project's code. */
export const isServiceName = (name: string) => name.includes('.');

/** The names of the error classes of functions/shared/errors.ts (each class's `name` is its export name). */
export const errorClassNames = (): string[] =>
  Object.entries(Errors)
    .filter(([, value]) => typeof value === 'function' && value.prototype instanceof Errors.WorkflowError)
    .map(([exportName]) => exportName);

// ---- Rendering ----------------------------------------------------------------------------------

/** Seconds as `90 s`, `2 min 30 s`, `1 h 5 min`. */
export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.round((s % 3600) / 60);
  return `${Math.floor(s / 3600)} h${m ? ` ${m} min` : ''}`;
}

/** The longest total of a retrier's waits (FULL jitter waits a random part of each). */
export function longestWait(settings: RetrySettings): number {
  let total = 0;
  for (let n = 0; n < settings.maxAttempts; n++) {
    const wait = settings.intervalSeconds * settings.backoffRate ** n;
    total += settings.maxDelaySeconds === undefined ? wait : Math.min(wait, settings.maxDelaySeconds);
  }
  return total;
}

function settingsText(settings: RetrySettings): string {
  const fields = [
    `MaxAttempts ${settings.maxAttempts}`,
    `IntervalSeconds ${settings.intervalSeconds}`,
    `BackoffRate ${settings.backoffRate}`,
    ...(settings.maxDelaySeconds === undefined ? [] : [`MaxDelaySeconds ${settings.maxDelaySeconds}`]),
    ...(settings.jitterStrategy === 'NONE' ? [] : [`JitterStrategy ${settings.jitterStrategy}`]),
  ];
  return `${fields.join(', ')} (waits up to ${duration(longestWait(settings))} in all)`;
}

/** A table cell: pipes escaped, `<` as an entity (a `<name>` would be read as HTML), on one line. */
const cell = (text: string) => text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').replace(/</g, '&lt;');
const row = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
const code = (text: string) => `\`${text}\``;
const prose = (text: string) => text.replace(/</g, '&lt;');

/** One table row per distinct handling; the states that share it listed together, in file order. */
function routeRows(routes: readonly ErrorRoute[]): string[] {
  const rows = new Map<string, { handling: string; detail: string; states: string[] }>();
  for (const route of routes) {
    const [handling, detail] =
      route.kind === 'retry'
        ? ['Retry', settingsText(route.settings)]
        : route.kind === 'catch'
          ? [`Catch → ${code(route.next)}`, route.resultPath ? `the error in ${code(route.resultPath)}` : 'the error replaces the state input']
          : route.kind === 'choice'
            ? [`Choice → ${code(route.next)}`, `${code(route.variable)} equals it`]
            : ['Fail', 'the execution ends with it'];
    const key = `${handling}\0${detail}`;
    const entry = rows.get(key) ?? { handling, detail, states: [] };
    if (!entry.states.includes(route.state)) entry.states.push(route.state);
    rows.set(key, entry);
  }
  return [
    row(['State(s)', 'Handling', 'Settings']),
    row(['---', '---', '---']),
    ...[...rows.values()].map((r) => row([r.states.map(code).join(', '), r.handling, r.detail])),
  ];
}

export interface Catalogue {
  readonly errors: readonly { readonly name: string; readonly meaning: string; readonly whatToDo: string }[];
  readonly services: readonly { readonly name: string; readonly meaning: string }[];
  readonly classes: readonly string[];
}

export const currentCatalogue = (): Catalogue => ({ errors: Errors.ERROR_CATALOGUE, services: Errors.SERVICE_ERRORS, classes: errorClassNames() });

/**
 * The generated block: one section per error of the catalogue (ours, then the services'), each with
 * its meaning, what to do, who raises it and a table of what the ASL does with it. A name of ours that
 * no Retry, Catch or Choice names is marked terminal. Throws when the ASL names an error the catalogue
 * has no prose for (the block would be incomplete).
 */
export function renderErrors(definition: Definition, catalogue: Catalogue): string {
  const routes = errorRoutes(definition);
  const described = new Set([...catalogue.errors, ...catalogue.services].map((e) => e.name));
  const undescribed = [...routes.keys()].filter((name) => !described.has(name));
  if (undescribed.length) throw new Error(`The ASL names errors that functions/shared/errors.ts does not describe: ${undescribed.join(', ')}`);

  const out: string[] = [];
  /** A heading, then paragraphs (each a line or a table's lines) separated by one blank line. */
  const section = (name: string, paragraphs: (string | string[])[]) =>
    out.push(`#### ${code(name)}`, '', ...paragraphs.flatMap((p) => [...(Array.isArray(p) ? p : [p]), '']));
  out.push('### Errors of this workflow', '');
  for (const entry of catalogue.errors) {
    const own = routes.get(entry.name) ?? [];
    const failStates = own.filter((r) => r.kind === 'fail').map((r) => code(r.state));
    const raisedBy = catalogue.classes.includes(entry.name)
      ? `Raised by a Lambda: the class ${code(entry.name)} of \`functions/shared/errors.ts\`.`
      : failStates.length
        ? `Raised by the state machine: the Fail state ${failStates.join(', ')} sets it.`
        : 'Raised by nothing in this workflow.';
    const routed = own.some((r) => r.kind !== 'fail');
    section(entry.name, [
      raisedBy,
      prose(entry.meaning),
      `**What to do:** ${prose(entry.whatToDo)}`,
      ...(routed || !catalogue.classes.includes(entry.name)
        ? []
        : ['**Terminal:** no Retry, Catch or Choice names it; only a `States.ALL` Catch handles it.']),
      ...(own.length ? [routeRows(own)] : []),
    ]);
  }
  out.push('### Service errors the state machine names', '');
  for (const entry of catalogue.services) {
    const own = routes.get(entry.name) ?? [];
    section(entry.name, [prose(entry.meaning), own.length ? routeRows(own) : 'No state of the ASL names it.']);
  }
  return `${out.join('\n').trimEnd()}\n`;
}

const MARKERS = { start: START_MARKER, end: END_MARKER };

/** The text between the markers (without the newline after the start marker), or undefined. */
export const docBlock = (doc: string): string | undefined => markedBlock(doc, MARKERS);

/** The document with the block between the markers replaced; throws unless each marker is there once, in order. */
export const replaceDocBlock = (doc: string, block: string): string => replaceMarkedBlock(doc, MARKERS, block, 'docs/errors.md');

/** The block for statemachines/customize-model.asl.yml and functions/shared/errors.ts as they are. */
export const currentErrorsBlock = () => renderErrors(loadDefinition() as unknown as Definition, currentCatalogue());

function main(args: string[]): void {
  const unknown = args.filter((a) => a !== '--write');
  if (unknown.length) {
    process.stderr.write(`unknown argument(s): ${unknown.join(' ')}\nusage: tsx scripts/docs.ts [--write]\n`);
    process.exit(2);
  }
  const block = currentErrorsBlock();
  if (!args.includes('--write')) {
    process.stdout.write(block);
    return;
  }
  const doc = readFileSync(errorsDocPath, 'utf8');
  const updated = replaceDocBlock(doc, block);
  if (updated !== doc) writeFileSync(errorsDocPath, updated);
  process.stdout.write(updated === doc ? 'docs/errors.md: up to date\n' : 'docs/errors.md: updated\n');
  const customizations = readFileSync(customizationsDocPath, 'utf8');
  const supported = replaceSupportBlock(customizations, renderSupport());
  if (supported !== customizations) writeFileSync(customizationsDocPath, supported);
  process.stdout.write(supported === customizations ? 'docs/customizations.md: up to date\n' : 'docs/customizations.md: updated\n');
  const evaluation = readFileSync(evaluationDocPath, 'utf8');
  const evaluationTables = replaceEvaluationSupportBlock(evaluation, renderEvaluationSupport());
  if (evaluationTables !== evaluation) writeFileSync(evaluationDocPath, evaluationTables);
  process.stdout.write(evaluationTables === evaluation ? 'docs/evaluation.md: up to date\n' : 'docs/evaluation.md: updated\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));

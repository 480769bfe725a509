/**
 * `npm run bench`: speed and cost figures, measured (never asserted in timed tests).
 * Runs each benchmark group, prints a table, writes docs/bench-results.json (committed; a copy at
 * bench-results.json, gitignored) and renders its rows into the generated block of docs/benchmarks.md
 * (scripts/bench/bench-doc.ts), with the machine and the date of each group. moto (from .venv, on a free
 * 127.0.0.1 port) is started only when a selected group needs it, and stopped at the end. Figures
 * with a target say whether they meet it.
 *
 * `npm run bench -- --only bundles` (or `--only preflight,janitor`, repeatable) runs some groups;
 * the other groups' rows of the committed results are kept, with their own date and machine.
 *
 * `npm run bench -- --quick` runs every group in a reduced size (each group's `run({ quick: true })`)
 * and writes bench-results.quick.json only (gitignored; never the committed results or the docs).
 * `npm test` runs it (test/infra/bench-quick.test.ts).
 *
 * Any run exits non-zero when a figure cannot be produced: a group that throws, returns no rows,
 * returns a value that is not a finite number, or two rows of the same name. The other groups still
 * run, so one failure does not hide another.
 */
import '../local/node20.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchDocPath, committedResultsPath, figureProblems, machine, meets, writeBenchDoc, type BenchResults, type BenchRow, type Machine } from './bench/bench-doc.js';
import { startMoto, type MotoServer } from '../local/moto.js';
import { projectRoot } from '../local/paths.js';
import type { BenchFigure } from './bench/preflight.js';

process.env.AWS_LAMBDA_LOG_LEVEL ??= 'SILENT';

/** What every group's `run` is given: moto's endpoint (when it needs moto) and whether to run reduced. */
interface GroupContext {
  endpoint: () => string;
  quick: boolean;
}

interface Group {
  label: string;
  needsMoto: boolean;
  run: (ctx: GroupContext) => Promise<BenchFigure[]>;
}

/** In run order (bundles first: nothing else runs beside its timings). Loaded only when selected. */
const groups: Record<string, Group> = {
  bundles: {
    label: 'bundle size and cold import per Lambda vs generated baselines…',
    needsMoto: false,
    run: async ({ quick }) => (await import('./bench/bundles.js')).run({ quick }),
  },
  preflight: {
    label: 'preflight AWS calls…',
    needsMoto: true,
    run: async (ctx) => (await import('./bench/preflight.js')).run({ endpoint: ctx.endpoint(), quick: ctx.quick }),
  },
  polling: {
    label: 'following a job: event-driven and polling, 1 h to 30 days…',
    needsMoto: false,
    run: async ({ quick }) => (await import('./bench/polling.js')).run({ quick }),
  },
  'event-latency': {
    label: 'event path end to end: job end → event through the rule matcher → wait released → status seen → ENIs deleted and grants revoked, against moto…',
    needsMoto: true,
    run: async (ctx) => (await import('./bench/event-latency.js')).run({ endpoint: ctx.endpoint(), quick: ctx.quick }),
  },
  dynamodb: {
    label: "DynamoDB requests per job, local run against moto (one whole local workflow; latency is moto's, not DynamoDB's)…",
    needsMoto: true,
    run: async (ctx) => (await import('./bench/dynamodb.js')).run({ endpoint: ctx.endpoint(), quick: ctx.quick }),
  },
  dataset: {
    label: 'dataset check of a ~100 MB training file in moto…',
    needsMoto: true,
    run: async (ctx) => (await import('./bench/dataset.js')).run({ endpoint: ctx.endpoint(), quick: ctx.quick }),
  },
  cli: {
    label: 'bvc start-up: --help, npx bvc --help, and a local status and list after one local run…',
    needsMoto: false,
    run: async ({ quick }) => (await import('./bench/cli.js')).run({ quick }),
  },
  janitor: {
    label: 'janitor over 2,000 ENIs (seeding takes a while)…',
    needsMoto: true,
    run: async (ctx) => (await import('./bench/janitor.js')).run({ endpoint: ctx.endpoint(), quick: ctx.quick }),
  },
};

function options(): { selected: string[]; quick: boolean } {
  const { values } = parseArgs({ options: { only: { type: 'string', multiple: true }, quick: { type: 'boolean', default: false } }, allowPositionals: false });
  const only = (values.only ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  const unknown = only.filter((name) => !(name in groups));
  if (unknown.length) throw new Error(`unknown bench group(s) ${unknown.join(', ')}; groups: ${Object.keys(groups).join(', ')}`);
  return { selected: only.length ? Object.keys(groups).filter((name) => only.includes(name)) : Object.keys(groups), quick: values.quick ?? false };
}

async function main(): Promise<number> {
  const { selected, quick } = options();
  let moto: MotoServer | undefined;
  const results: Record<string, BenchFigure[]> = {};
  const failures: string[] = [];
  const started = performance.now();
  try {
    for (const name of selected) {
      const group = groups[name]!;
      const groupStarted = performance.now();
      process.stderr.write(`bench: ${name}${quick ? ' (quick)' : ''}: ${group.label}\n`);
      try {
        if (group.needsMoto && !moto) moto = await startMoto();
        const endpoint = () => {
          if (!moto) throw new Error(`bench group ${name} needs moto`);
          return moto.endpoint;
        };
        const figures = await group.run({ endpoint, quick });
        const problems = figureProblems(figures);
        if (problems.length) failures.push(...problems.map((p) => `${name}: ${p}`));
        else results[name] = figures;
      } catch (err) {
        failures.push(`${name} threw: ${(err as Error).stack ?? err}`);
      }
      process.stderr.write(`bench: ${name} took ${((performance.now() - groupStarted) / 1000).toFixed(1)} s\n`);
    }
  } finally {
    await moto?.stop();
  }
  const rows: BenchRow[] = Object.entries(results).flatMap(([group, figures]) =>
    figures.map((f) => {
      const ok = meets(f.value, f.target);
      return { group, name: f.name, value: f.value, unit: f.unit, target: f.target ?? '', met: ok === undefined ? '' : ok ? 'yes' : 'NO' };
    }),
  );
  console.table(rows);
  const measuredAt = new Date().toISOString();
  const here: Machine = machine();
  if (quick) {
    // The quick run's figures are reduced in size: never the committed results, never the docs.
    const out = join(projectRoot, 'bench-results.quick.json');
    const saved = { quick: true, measuredAt, machine: here, groups: selected, seconds: Math.round((performance.now() - started) / 100) / 10, failures, rows };
    writeFileSync(out, `${JSON.stringify(saved, null, 2)}\n`);
    process.stderr.write(`bench: wrote ${out}\n`);
  } else {
    // A partial run (or one with a failed group) keeps the other groups' rows of the committed results,
    // each with the date and machine it was measured on.
    const previous: Partial<BenchResults> = existsSync(committedResultsPath) ? (JSON.parse(readFileSync(committedResultsPath, 'utf8')) as BenchResults) : {};
    const measured = Object.keys(results);
    const kept = (previous.rows ?? []).filter((r) => !measured.includes(r.group));
    // A row the last run of a group had and this one has not: renamed, or no longer produced. Named, so a
    // figure cannot drop out of the docs unseen.
    const gone = (previous.rows ?? []).filter((r) => measured.includes(r.group) && !rows.some((n) => n.group === r.group && n.name === r.name));
    if (gone.length) process.stderr.write(`bench: rows of the last run not produced this time (renamed or dropped):\n${gone.map((r) => `  - ${r.group}: ${r.name}`).join('\n')}\n`);
    const groupsMeasuredAt: Record<string, string> = {};
    const groupsMachine: Record<string, Machine> = {};
    for (const r of kept) {
      groupsMeasuredAt[r.group] = previous.groupsMeasuredAt?.[r.group] ?? previous.measuredAt ?? 'unknown';
      const m = previous.groupsMachine?.[r.group];
      if (m) groupsMachine[r.group] = m;
    }
    for (const name of measured) {
      groupsMeasuredAt[name] = measuredAt;
      groupsMachine[name] = here;
    }
    // Rows in the groups' run order, whichever run measured them.
    const order = Object.keys(groups);
    const all = [...kept, ...rows].sort((a, b) => order.indexOf(a.group) - order.indexOf(b.group));
    const saved: BenchResults = { measuredAt, node: process.version, groupsMeasuredAt, groupsMachine, rows: all };
    const text = `${JSON.stringify(saved, null, 2)}\n`;
    writeFileSync(committedResultsPath, text);
    writeFileSync(join(projectRoot, 'bench-results.json'), text);
    process.stderr.write(`bench: wrote ${committedResultsPath} (and bench-results.json)\n`);
    process.stderr.write(`bench: ${writeBenchDoc(saved) ? 'rendered' : 'unchanged:'} ${benchDocPath}\n`);
  }
  process.stderr.write(`bench: ${((performance.now() - started) / 1000).toFixed(1)} s in all\n`);
  if (failures.length) {
    process.stderr.write(`bench failed: ${failures.length} figure problem(s):\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);

/**
 * `npm run bench`: speed and cost figures, measured (never asserted in timed tests).
 * Runs each benchmark group, prints a table, writes bench-results.json. moto (from .venv, on a free
 * 127.0.0.1 port) is started only when a selected group needs it, and stopped at the end. Figures
 * with a target say whether they meet it.
 *
 * `npm run bench -- --only bundles` (or `--only preflight,janitor`, repeatable) runs some groups;
 * the other groups' rows of an existing bench-results.json are kept, with their own measuredAt.
 */
import './lib/node20.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startMoto, type MotoServer } from './lib/moto.js';
import { projectRoot } from './lib/paths.js';
import type { BenchFigure } from './bench/preflight.js';

process.env.AWS_LAMBDA_LOG_LEVEL ??= 'SILENT';

/** Whether `value` meets a target written as '<= 12', '>= 25', '= 20 (…)'; undefined for other text. */
function meets(value: number, target?: string): boolean | undefined {
  const match = /^(<=|>=|=|<)\s*([\d.]+)/.exec(target ?? '');
  if (!match) return undefined;
  const limit = Number(match[2]);
  return { '<=': value <= limit, '>=': value >= limit, '=': value === limit, '<': value < limit }[match[1] as '<=' | '>=' | '=' | '<'];
}

interface Group {
  label: string;
  needsMoto: boolean;
  run: (ctx: { endpoint: () => string }) => Promise<BenchFigure[]>;
}

/** In run order (bundles first: nothing else runs beside its timings). Loaded only when selected. */
const groups: Record<string, Group> = {
  bundles: {
    label: 'bundle size and cold import per Lambda vs generated baselines…',
    needsMoto: false,
    run: async () => (await import('./bench/bundles.js')).run(),
  },
  preflight: {
    label: 'preflight AWS calls…',
    needsMoto: true,
    run: async (ctx) => (await import('./bench/preflight.js')).run({ endpoint: ctx.endpoint() }),
  },
  polling: { label: 'following a job: event-driven and polling, 1 h to 30 days…', needsMoto: false, run: async () => (await import('./bench/polling.js')).run() },
  'event-latency': {
    label: 'event-driven wait: from the job-end event to the released wait, against moto…',
    needsMoto: true,
    run: async (ctx) => (await import('./bench/event-latency.js')).run({ endpoint: ctx.endpoint() }),
  },
  dynamodb: {
    label: "DynamoDB requests per job, local run against moto (one whole local workflow; latency is moto's, not DynamoDB's)…",
    needsMoto: true,
    run: async (ctx) => (await import('./bench/dynamodb.js')).run({ endpoint: ctx.endpoint() }),
  },
  dataset: {
    label: 'dataset check of a ~100 MB training file in moto…',
    needsMoto: true,
    run: async (ctx) => (await import('./bench/dataset.js')).run({ endpoint: ctx.endpoint() }),
  },
  janitor: {
    label: 'janitor over 2,000 ENIs (seeding takes a while)…',
    needsMoto: true,
    run: async (ctx) => (await import('./bench/janitor.js')).run({ endpoint: ctx.endpoint() }),
  },
};

function selectedGroups(): string[] {
  const { values } = parseArgs({ options: { only: { type: 'string', multiple: true } }, allowPositionals: false });
  const only = (values.only ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  const unknown = only.filter((name) => !(name in groups));
  if (unknown.length) throw new Error(`unknown bench group(s) ${unknown.join(', ')}; groups: ${Object.keys(groups).join(', ')}`);
  return only.length ? Object.keys(groups).filter((name) => only.includes(name)) : Object.keys(groups);
}

async function main() {
  const selected = selectedGroups();
  let moto: MotoServer | undefined;
  const results: Record<string, BenchFigure[]> = {};
  try {
    for (const name of selected) {
      const group = groups[name]!;
      if (group.needsMoto && !moto) moto = await startMoto();
      process.stderr.write(`bench: ${group.label}\n`);
      const endpoint = () => {
        if (!moto) throw new Error(`bench group ${name} needs moto`);
        return moto.endpoint;
      };
      results[name] = await group.run({ endpoint });
    }
  } finally {
    await moto?.stop();
  }
  const rows = Object.entries(results).flatMap(([group, figures]) =>
    figures.map((f) => {
      const ok = meets(f.value, f.target);
      return { group, name: f.name, value: f.value, unit: f.unit, target: f.target ?? '', met: ok === undefined ? '' : ok ? 'yes' : 'NO' };
    }),
  );
  console.table(rows);
  const out = join(projectRoot, 'bench-results.json');
  const measuredAt = new Date().toISOString();
  // A partial run keeps the other groups' rows of the last file, with the time they were measured.
  type Saved = { measuredAt?: string; groupsMeasuredAt?: Record<string, string>; rows?: { group: string }[] };
  const previous: Saved = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as Saved) : {};
  const kept = (previous.rows ?? []).filter((r) => !selected.includes(r.group));
  const groupsMeasuredAt: Record<string, string> = {};
  for (const r of kept) groupsMeasuredAt[r.group] = previous.groupsMeasuredAt?.[r.group] ?? previous.measuredAt ?? 'unknown';
  for (const name of selected) groupsMeasuredAt[name] = measuredAt;
  const saved = { measuredAt, node: process.version, groupsMeasuredAt, rows: [...kept, ...rows] };
  writeFileSync(out, `${JSON.stringify(saved, null, 2)}\n`);
  process.stderr.write(`bench: wrote ${out}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});

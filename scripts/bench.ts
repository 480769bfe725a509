/**
 * `npm run bench`: speed and cost figures, measured (never asserted in timed tests).
 * Starts moto from .venv on a free 127.0.0.1 port, runs each benchmark, prints a table, writes
 * bench-results.json, and stops moto. Figures with a target say whether they meet it.
 */
import './lib/node20.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMoto } from './lib/moto.js';
import { projectRoot } from './lib/paths.js';
import * as janitor from './bench/janitor.js';
import * as polling from './bench/polling.js';
import * as preflight from './bench/preflight.js';
import type { BenchFigure } from './bench/preflight.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

/** Whether `value` meets a target written as '<= 12', '>= 25', '= 20 (…)'; undefined for other text. */
function meets(value: number, target?: string): boolean | undefined {
  const match = /^(<=|>=|=|<)\s*([\d.]+)/.exec(target ?? '');
  if (!match) return undefined;
  const limit = Number(match[2]);
  return { '<=': value <= limit, '>=': value >= limit, '=': value === limit, '<': value < limit }[match[1] as '<=' | '>=' | '=' | '<'];
}

async function main() {
  const moto = await startMoto();
  const results: Record<string, BenchFigure[]> = {};
  try {
    process.stderr.write('bench: preflight AWS calls…\n');
    results.preflight = await preflight.run({ endpoint: moto.endpoint });
    process.stderr.write('bench: polling, 24 h and 30-day jobs…\n');
    results.polling = await polling.run();
    process.stderr.write('bench: janitor over 2,000 ENIs (seeding takes a while)…\n');
    results.janitor = await janitor.run({ endpoint: moto.endpoint });
  } finally {
    await moto.stop();
  }
  const rows = Object.entries(results).flatMap(([group, figures]) =>
    figures.map((f) => {
      const ok = meets(f.value, f.target);
      return { group, name: f.name, value: f.value, unit: f.unit, target: f.target ?? '', met: ok === undefined ? '' : ok ? 'yes' : 'NO' };
    }),
  );
  console.table(rows);
  const out = join(projectRoot, 'bench-results.json');
  writeFileSync(out, `${JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, rows }, null, 2)}\n`);
  process.stderr.write(`bench: wrote ${out}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});

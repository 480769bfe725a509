/**
 * `npm test` runs the quick bench (`npm run bench -- --quick`): every group of the bench in a reduced
 * size, in a child process with its own moto. It fails when any figure cannot be produced (a group that
 * throws, no rows, a value that is not a finite number, two rows of one name: the bench exits 1 and
 * names them). Figures are not asserted here (they are measured, not tested); the quick run writes
 * bench-results.quick.json only, never the committed docs/bench-results.json.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCommittedResults } from '../../scripts/bench/bench-doc.js';
import { projectRoot } from '../../local/paths.js';

describe('npm run bench -- --quick', () => {
  it('produces every figure of every group and leaves the committed results alone', () => {
    // Prepare
    const started = Date.now();

    // Act
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot, 'scripts', 'bench.ts'), '--quick'], {
      cwd: projectRoot,
      encoding: 'utf8',
      env: { ...process.env, AWS_LAMBDA_LOG_LEVEL: 'SILENT' },
      // ~50 s on an idle 2-core machine; generous for a loaded one (the figures are not judged here).
      timeout: 300_000,
      maxBuffer: 64 * 1024 * 1024,
    });

    // Assess
    expect(run.status, `bench --quick failed:\n${run.stderr.split('\n').filter((l) => /bench failed|^\s+- |took|in all/.test(l)).join('\n')}`).toBe(0);
    const quick = JSON.parse(readFileSync(join(projectRoot, 'bench-results.quick.json'), 'utf8')) as {
      quick: boolean;
      measuredAt: string;
      seconds: number;
      groups: string[];
      failures: string[];
      rows: { group: string; value: number }[];
    };
    expect(Date.parse(quick.measuredAt)).toBeGreaterThanOrEqual(started - 1000);
    expect(quick.failures).toEqual([]);
    // Every group the committed results hold ran in the quick run, with rows of finite numbers.
    const committedGroups = [...new Set(readCommittedResults().rows.map((r) => r.group))];
    expect(quick.groups).toEqual(expect.arrayContaining(committedGroups));
    for (const group of quick.groups) {
      const rows = quick.rows.filter((r) => r.group === group);
      expect(rows.length, group).toBeGreaterThan(0);
      for (const r of rows) expect(Number.isFinite(r.value), JSON.stringify(r)).toBe(true);
    }
    // Not one group of the committed results is the quick run's (another bench may write them meanwhile).
    const committed = readCommittedResults();
    expect(Object.values(committed.groupsMeasuredAt)).not.toContain(quick.measuredAt);
    process.stderr.write(`bench --quick: ${quick.seconds} s, ${quick.rows.length} figures of ${quick.groups.length} groups\n`);
  }, 320_000);
});

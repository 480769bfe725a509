/**
 * The figures of docs/benchmarks.md are the bench's: the generated block is the rendering of the
 * committed docs/bench-results.json (`npm run bench` writes both; `npm run bench:docs` renders again),
 * and the rules that decide a run failed (scripts/bench/bench-doc.ts figureProblems) catch each way a
 * figure can be missing.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  benchBlock,
  benchDocPath,
  figureProblems,
  meets,
  readCommittedResults,
  renderBenchBlock,
  replaceBenchBlock,
  type BenchResults,
} from '../../scripts/bench/bench-doc.js';

describe('docs/benchmarks.md figures', () => {
  it('are the rendering of the committed bench results (run `npm run bench:docs` after a bench)', () => {
    // Prepare
    const results = readCommittedResults();
    const doc = readFileSync(benchDocPath, 'utf8');

    // Act
    const block = benchBlock(doc);

    // Assess
    expect(block, 'docs/benchmarks.md has no <!-- bench-results:start/end --> markers').toBeDefined();
    expect(block, 'The benchmark figures are stale: run `npm run bench:docs`').toBe(renderBenchBlock(results));
  });

  it('the committed results name, for every group, its date and the machine it ran on', () => {
    const results = readCommittedResults();
    const groups = [...new Set(results.rows.map((r) => r.group))];
    expect(groups.length).toBeGreaterThan(0);
    for (const group of groups) {
      expect(Date.parse(results.groupsMeasuredAt[group] ?? ''), group).not.toBeNaN();
      expect(results.groupsMachine?.[group], group).toMatchObject({ cpu: expect.any(String), cores: expect.any(Number), node: expect.stringMatching(/^v\d+/) });
    }
    // Every row's verdict is the one its target gives its value (a hand edit of either shows).
    for (const r of results.rows) {
      const ok = meets(r.value, r.target);
      expect(r.met, r.name).toBe(ok === undefined ? '' : ok ? 'yes' : 'NO');
    }
  });
});

describe('the generated block', () => {
  const results: BenchResults = {
    measuredAt: '2026-12-07T10:00:00.000Z',
    groupsMeasuredAt: { a: '2026-12-07T10:00:00.000Z', b: '2026-12-06T09:00:00.000Z' },
    groupsMachine: {
      a: { cpu: 'CPU X', cores: 2, memoryGB: 8, node: 'v20.20.2', os: 'linux 6' },
      b: { cpu: 'CPU Y', cores: 4, memoryGB: 16, node: 'v22.1.0', os: 'linux 6' },
    },
    rows: [
      { group: 'a', name: 'size | ratio', value: 1.2, unit: 'x', target: '<= 1.1', met: 'NO' },
      { group: 'a', name: 'calls', value: 12000, unit: 'calls', target: '= 12000', met: 'yes' },
      { group: 'b', name: 'time', value: 93, unit: 'ms', target: '', met: '' },
    ],
  };

  it('shows each group with its date and, when they differ, its machine; escapes table cells; lists what misses its target', () => {
    const block = renderBenchBlock(results);
    expect(block).toContain('Measured 2026-12-06T09:00:00.000Z on CPU Y, 4 cores, 16 GB, Node v22.1.0');
    expect(block).toContain('| size \\| ratio | 1.2 | x | <= 1.1 | **NO** |');
    expect(block).toContain('| calls | 12,000 | calls | = 12000 | yes |');
    expect(block).toContain('Targets: 1 of 2 met; not met:');
    expect(block).toContain('- size \\| ratio: 1.2 x (target <= 1.1)');
  });

  it('is replaced between the markers and nothing else', () => {
    const doc = 'intro\n<!-- bench-results:start -->\nold\n<!-- bench-results:end -->\noutro\n';
    const next = replaceBenchBlock(doc, 'new');
    expect(next).toBe('intro\n<!-- bench-results:start -->\nnew\n<!-- bench-results:end -->\noutro\n');
    expect(benchBlock(next)).toBe('new');
    expect(() => replaceBenchBlock('no markers', 'x')).toThrow(/markers/);
  });
});

describe('a bench run fails when a figure cannot be produced', () => {
  it.each([
    ['no rows', [], /no figures/],
    ['NaN', [{ name: 'a', value: Number.NaN, unit: 'ms' }], /"a" is NaN, not a finite number/],
    ['Infinity', [{ name: 'a', value: Number.POSITIVE_INFINITY, unit: 'ms' }], /Infinity, not a finite number/],
    ['a value that is no number', [{ name: 'a', value: '12', unit: 'ms' }], /"a" is 12, not a finite number/],
    ['a missing value', [{ name: 'a', unit: 'ms' }], /"a" is undefined/],
    ['two rows of one name', [{ name: 'a', value: 1, unit: 'ms' }, { name: 'a', value: 2, unit: 'ms' }], /two figures named "a"/],
    ['a row without a name', [{ value: 1, unit: 'ms' }], /without a name/],
    ['no list', undefined, /not a list/],
  ])('%s', (_, figures, problem) => {
    expect(figureProblems(figures).join('\n')).toMatch(problem);
  });

  it('not when every figure is there', () => {
    expect(figureProblems([{ name: 'a', value: 0, unit: 'ms' }, { name: 'b', value: 1.5, unit: 'x', target: '<= 2' }])).toEqual([]);
  });
});

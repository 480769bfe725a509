/**
 * package.json's `engines.node` says only what every installed package admits: each Node version in
 * its range is in the `engines.node` range of each package of package-lock.json (npm records a
 * package's `engines` there as its package.json declares them, and `npm ci` installs exactly that
 * tree), and it admits the Lambda runtime of serverless.yml (`provider.runtime`). Ranges are compared
 * with semver, the library npm itself checks `engines` with.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../local/paths.js';
import { loadServerlessConfig } from '../../local/workflow.js';

/** The part of semver's API used here (semver ships no types of its own). */
interface Semver {
  subset(sub: string, dom: string): boolean;
  intersects(a: string, b: string): boolean;
  validRange(range: string): string | null;
}
const semver = createRequire(import.meta.url)('semver') as Semver;

const read = (file: string) => JSON.parse(readFileSync(join(projectRoot, file), 'utf8')) as Record<string, unknown>;
const rootRange = ((read('package.json').engines ?? {}) as { node?: string }).node ?? '';
const lock = read('package-lock.json') as { packages: Record<string, { engines?: unknown }> };

/** Every locked package that declares a Node range: where it is installed, and the range. */
const declared = Object.entries(lock.packages)
  .filter(([path]) => path !== '')
  .flatMap(([path, info]) => {
    const node = info.engines !== null && typeof info.engines === 'object' && !Array.isArray(info.engines) ? (info.engines as { node?: unknown }).node : undefined;
    return typeof node === 'string' ? [{ path, range: node }] : [];
  });

describe('package.json engines.node', () => {
  it('is a valid semver range', () => {
    expect(semver.validRange(rootRange), `engines.node ${JSON.stringify(rootRange)}`).not.toBeNull();
  });

  it('admits no Node version that an installed package does not', () => {
    // The lockfile holds the packages whose ranges are narrower than >=20 (aws-local-stepfunctions among them).
    expect(declared.length).toBeGreaterThan(100);
    expect(declared.map(({ path }) => path)).toContain('node_modules/aws-local-stepfunctions');
    const wider = declared.filter(({ range }) => !semver.subset(rootRange, range)).map(({ path, range }) => `${path.replace(/^node_modules\//, '')} (${range})`);
    expect(wider, `engines.node ${rootRange} admits versions these packages do not`).toEqual([]);
  });

  it('admits the Node major the Lambdas run on (serverless.yml provider.runtime)', () => {
    const runtime = String((loadServerlessConfig().provider as { runtime?: unknown }).runtime);
    const major = /^nodejs(\d+)\.x$/.exec(runtime)?.[1];
    expect(major, `provider.runtime ${runtime}`).toBeDefined();
    expect(semver.intersects(rootRange, `${major}.x`), `engines.node ${rootRange} and ${runtime}`).toBe(true);
  });
});

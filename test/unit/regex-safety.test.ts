/**
 * Linear-time input checks (issue 19). Every regex literal in functions/ and cli/ is found by
 * parsing the sources (the TypeScript compiler's own scanner, so a regex in a string or a comment is
 * not one and a `/` in a class is no end) and checked by recheck (MakeNowJust's ReDoS checker, pinned
 * in package.json), which decides exponential and polynomial backtracking; a new regex that
 * backtracks fails here. Regexes built at run time (`new RegExp`) cannot be checked, so there are
 * none. Also: every zod `z.regex` runs behind a length cap that stops the parse, and the rewritten
 * patterns accept what the originals accepted.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { check, type Diagnostics } from 'recheck';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as z from 'zod/mini';
import { JOB_ARN_PATTERN, ROLE_ARN_PATTERN } from '../../functions/shared/arn.js';
import { InvalidInputError } from '../../functions/shared/errors.js';
import {
  CLIENT_REQUEST_TOKEN_PATTERN,
  CUSTOM_MODEL_NAME_PATTERN,
  HYPERPARAMETER_LIMITS,
  JOB_NAME_PATTERN,
  checkJobInputShape,
  deriveCustomModelName,
  resolveJobInput,
} from '../../functions/shared/job-input.js';
import { globMatch } from '../../functions/shared/policies/eval.js';
import { CONTROL_CHARACTERS } from '../../functions/shared/s3.js';
import { BUCKET_NAME_PATTERN } from '../../functions/shared/stage.js';
import { EXECUTION, rawJob } from '../fixtures/job.js';
import { testStage } from '../fixtures/stage.js';

const ROOT = join(import.meta.dirname, '..', '..');
/** Where input is checked: the Lambdas and the CLI. */
const SCANNED = ['functions', 'cli'];

/**
 * Regexes the checker may call unsafe because they only ever see trusted constants, never input:
 * `/source/flags` → the one-line reason. Empty: every regex in the sources is proven safe.
 */
const TRUSTED_ONLY: Record<string, string> = {};

interface Found {
  source: string;
  flags: string;
  where: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    // cli/dist is the CLI's build (scripts/build-cli.mjs) of these sources and of local/, not a source.
    if (e.isDirectory()) return e.name === 'node_modules' || path === join('cli', 'dist') ? [] : sourceFiles(path);
    return /\.[cm]?[jt]s$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
}

function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  node.forEachChild((child) => walk(child, visit));
}

const at = (sf: ts.SourceFile, node: ts.Node) => `${relative(ROOT, join(ROOT, sf.fileName))}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}`;

const FILES = SCANNED.flatMap(sourceFiles).map(parse);

const literals: Found[] = [];
const dynamic: string[] = [];
const uncappedZodRegexes: string[] = [];
for (const sf of FILES) {
  walk(sf, (node) => {
    if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
      const text = (node as ts.RegularExpressionLiteral).text;
      const end = text.lastIndexOf('/');
      literals.push({ source: text.slice(1, end), flags: text.slice(end + 1), where: at(sf, node) });
    }
    if ((ts.isNewExpression(node) || ts.isCallExpression(node)) && ts.isIdentifier(node.expression) && node.expression.text === 'RegExp') {
      dynamic.push(`${at(sf, node)} ${node.getText(sf).slice(0, 80)}`);
    }
    if (ts.isCallExpression(node) && isZodCall(node, 'regex') && !cappedBefore(node)) uncappedZodRegexes.push(`${at(sf, node)} ${node.getText(sf).slice(0, 80)}`);
  });
}

/** `z.<name>(…)` (zod/mini's checks are functions of the namespace). */
function isZodCall(node: ts.Node, name: string): node is ts.CallExpression {
  return ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === name && node.expression.expression.getText() === 'z';
}

/** A `z.regex(…)` that is an argument of `.check(…)` after a `z.maxLength(n, { abort: true })`. */
function cappedBefore(regexCall: ts.CallExpression): boolean {
  const parent = regexCall.parent;
  if (!ts.isCallExpression(parent) || !ts.isPropertyAccessExpression(parent.expression) || parent.expression.name.text !== 'check') return false;
  const before = parent.arguments.slice(0, parent.arguments.indexOf(regexCall));
  return before.some(
    (arg) =>
      isZodCall(arg, 'maxLength') &&
      arg.arguments[1] !== undefined &&
      ts.isObjectLiteralExpression(arg.arguments[1]) &&
      arg.arguments[1].properties.some((p) => ts.isPropertyAssignment(p) && p.name.getText() === 'abort' && p.initializer.kind === ts.SyntaxKind.TrueKeyword),
  );
}

/** Each distinct regex once, with every place it is written. */
const distinct = new Map<string, { source: string; flags: string; where: string[] }>();
for (const f of literals) {
  const key = `/${f.source}/${f.flags}`;
  const entry = distinct.get(key) ?? { source: f.source, flags: f.flags, where: [] };
  entry.where.push(f.where);
  distinct.set(key, entry);
}

/** The exported patterns other modules apply to input: each must be among the literals found. */
const EXPORTED: Record<string, RegExp> = {
  JOB_NAME_PATTERN,
  CUSTOM_MODEL_NAME_PATTERN,
  CLIENT_REQUEST_TOKEN_PATTERN,
  'HYPERPARAMETER_LIMITS.keyPattern': HYPERPARAMETER_LIMITS.keyPattern,
  BUCKET_NAME_PATTERN,
  JOB_ARN_PATTERN,
  ROLE_ARN_PATTERN,
  CONTROL_CHARACTERS,
};

// recheck's Scala.js build, in this process: no native binary, no Java, no network. `auto` lets recheck
// choose: its automaton analysis (a decision) when the pattern's automaton is small, its fuzzer (with
// static seeding) for large bounded repetitions such as {1,512}. No time limits and a fixed seed: the
// fuzzer is bounded by its step counts only, so a loaded machine gets the same verdict, only later
// (about 20 s of CPU for all of them).
const CHECK_PARAMS = {
  checker: 'auto',
  randomSeed: 19,
  timeout: null,
  attackTimeout: null,
  incubationTimeout: null,
  seedingTimeout: null,
  // recallTimeout stays at its default: recall validation (re-running an attack in a real engine) needs the native build.
} as const;
beforeAll(() => {
  vi.stubEnv('RECHECK_BACKEND', 'pure');
});
afterAll(() => {
  vi.unstubAllEnvs();
});

describe('every regex in functions/ and cli/', () => {
  it('finds the sources and their regexes (the scan works)', () => {
    expect(FILES.length).toBeGreaterThan(20);
    expect(distinct.size).toBeGreaterThan(40);
    for (const [name, pattern] of Object.entries(EXPORTED)) {
      expect(distinct.has(String(pattern)), `${name} ${String(pattern)} is not among the scanned literals`).toBe(true);
    }
  });

  it('builds no regex at run time (new RegExp cannot be checked: write a literal)', () => {
    expect(dynamic).toEqual([]);
  });

  it('caps the length before every zod regex: z.maxLength(n, { abort: true }) earlier in the same .check()', () => {
    expect(uncappedZodRegexes).toEqual([]);
  });

  it('allows only regexes that still exist', () => {
    for (const key of Object.keys(TRUSTED_ONLY)) expect(distinct.has(key), `stale allowlist entry ${key}`).toBe(true);
  });

  it.each([...distinct.entries()].filter(([key]) => !(key in TRUSTED_ONLY)).map(([key, r]) => ({ ...r, key })))(
    'recheck: $key is safe',
    async ({ source, flags, where }) => {
      // g and y change where a match starts, not how it backtracks; recheck checks the unanchored search.
      const result: Diagnostics = await check(source, flags.replace(/[gy]/g, ''), CHECK_PARAMS);
      const detail =
        result.status === 'vulnerable'
          ? `${result.complexity.summary} backtracking, attack ${result.attack.pattern}`
          : result.status === 'unknown'
            ? `undecided: ${JSON.stringify(result.error)}`
            : '';
      expect(result.status, `/${source}/${flags} at ${where.join(', ')}: ${detail}`).toBe('safe');
    },
    300_000,
  );
});

describe('recheck itself (the check is not vacuous)', () => {
  it.each([
    ['the reported jobName pattern', '^[a-zA-Z0-9](-*[a-zA-Z0-9+\\-.])*$', 'exponential'],
    ['an unanchored trailing run', '-+$', 'polynomial'],
  ])('calls %s vulnerable', async (_, source, complexity) => {
    const result = await check(source, '', CHECK_PARAMS);
    expect(result.status).toBe('vulnerable');
    expect(result.status === 'vulnerable' && result.complexity.type).toBe(complexity);
  }, 60_000);
});

describe('the linear rewrites accept the same strings (short inputs, where backtracking is harmless)', () => {
  const chars = (s: string) => fc.string({ unit: fc.constantFrom(...s), maxLength: 12 });
  const NAME_CHARS = 'aZ09+-._!/ é';

  it('jobName: Bedrock\'s [a-zA-Z0-9](-*[a-zA-Z0-9\\+\\-\\.])*', () => {
    const bedrock = /^[a-zA-Z0-9](-*[a-zA-Z0-9+\-.])*$/;
    fc.assert(fc.property(fc.oneof(chars(NAME_CHARS), fc.string({ maxLength: 12 })), (s) => JOB_NAME_PATTERN.test(s) === bedrock.test(s)), { numRuns: 5000 });
  });

  it('customModelName and clientRequestToken keep Bedrock\'s patterns as they are (checked safe above)', () => {
    expect(CUSTOM_MODEL_NAME_PATTERN.source).toBe('^([0-9a-zA-Z][_-]?)+$');
    expect(CLIENT_REQUEST_TOKEN_PATTERN.source).toBe('^[a-zA-Z0-9](-*[a-zA-Z0-9])*$');
  });

  it('trimming a trailing run of - or _ (chain.ts, deriveCustomModelName)', () => {
    fc.assert(
      fc.property(chars('a-_\n.'), (s) => {
        expect(s.replace(/^([\s\S]*[^-])?-*$/, '$1')).toBe(s.replace(/-+$/, ''));
        expect(s.replace(/^([\s\S]*[^_-])?[_-]*$/, '$1')).toBe(s.replace(/[_-]+$/, ''));
      }),
      { numRuns: 5000 },
    );
    // Through the function: a long job name is cut at 54 characters, a separator left at the cut dropped.
    expect(deriveCustomModelName(`${'a'.repeat(53)}__${'b'.repeat(20)}`)).toMatch(/^a{53}-[0-9a-f]{8}$/);
  });

  it('globMatch (IAM wildcards): the same answers as the regex it replaces', () => {
    const viaRegex = (pattern: string, value: string, ignoreCase: boolean) => {
      const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
      return new RegExp(`^${escaped}$`, ignoreCase ? 'is' : 's').test(value);
    };
    // Letters whose case folding differs between simple and full mappings (ß, ſ, ı, K, the Kelvin sign).
    const units = 'aAbB*?.\n$[ßſSsıIiKk\u212a';
    fc.assert(
      fc.property(chars(units), chars(units.replace(/[*?]/g, '')), fc.boolean(), (pattern, value, ignoreCase) =>
        globMatch(pattern, value, ignoreCase) === viaRegex(pattern, value, ignoreCase),
      ),
      { numRuns: 20_000 },
    );
  });

  it('globMatch stays fast on a pattern that made the regex backtrack (8 stars: seconds at 50 characters)', () => {
    const started = performance.now();
    expect(globMatch(`arn:aws:s3:::b/${'*a'.repeat(8)}b`, `arn:aws:s3:::b/${'a'.repeat(100_000)}`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('length caps run before the regexes', () => {
  it('zod/mini runs a regex after a failed maxLength unless the cap aborts (why every cap has abort: true)', () => {
    const pattern = /^a+$/;
    const spy = vi.spyOn(pattern, 'test');
    const long = 'a'.repeat(100);
    expect(z.safeParse(z.string().check(z.maxLength(10), z.regex(pattern)), long).success).toBe(false);
    expect(spy).toHaveBeenCalled();
    spy.mockClear();
    expect(z.safeParse(z.string().check(z.maxLength(10, { abort: true }), z.regex(pattern)), long).success).toBe(false);
    expect(spy).not.toHaveBeenCalled();
  });

  it('none of our regexes sees a 1 MB string of a job input (every field, the upload, the record keys)', async () => {
    const huge = 'a'.repeat(1 << 20);
    const hostile = rawJob({
      roleArn: huge,
      trainingDataS3Uri: huge,
      validationDataS3Uris: [huge],
      outputDataS3Uri: huge,
      jobName: huge,
      customModelName: huge,
      customModelKmsKeyId: huge,
      baseModelIdentifier: huge,
      vpcConfig: { vpcId: huge, subnetIds: [huge], securityGroupIds: [huge] },
      hyperParameters: { [huge]: '1', epochCount: huge },
      jobTags: { [huge]: 'v', team: huge },
      customModelTags: { team: huge },
    });
    const upload = { bucket: { name: huge }, object: { key: huge, etag: 'e', sequencer: 's' } };
    // RegExp.prototype.test, replace and match all run through exec.
    const spy = vi.spyOn(RegExp.prototype, 'exec');
    const attempts = [
      () => resolveJobInput(hostile, testStage(), EXECUTION),
      () => checkJobInputShape(hostile),
      () => resolveJobInput({ ...rawJob(), trainingDataS3Uri: undefined, upload }, testStage(), EXECUTION),
      () => checkJobInputShape({ upload }),
    ];
    const thrown = attempts.map((attempt) => {
      try {
        attempt();
        return undefined;
      } catch (err) {
        return err;
      }
    });
    // The regexes that saw the input itself (not, say, the test runner's source-map lookups).
    const sawHuge = new Set(spy.mock.calls.flatMap(([text], i) => (String(text).includes(huge.slice(0, 4096)) ? [String(spy.mock.contexts[i])] : [])));
    spy.mockRestore();
    for (const err of thrown) expect(err).toBeInstanceOf(InvalidInputError);
    expect([...sawHuge].filter((re) => distinct.has(re))).toEqual([]);
    // What remains is zod's own (its code-point count for maxLength, its numeric record-key probe): safe too.
    for (const re of sawHuge) {
      const end = re.lastIndexOf('/');
      expect((await check(re.slice(1, end), re.slice(end + 1), CHECK_PARAMS)).status, re).toBe('safe');
    }
  }, 120_000);
});

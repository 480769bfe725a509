/**
 * The docs stay true to the repository, and the repository stays self-contained:
 * (a) every README section, docs/ file, heading and anchor that code or docs name exists
 *     (`README "Heading"`, `README.md#anchor`, `docs/<file>.md`, `docs/<file>.md "Heading"`, `docs/<file>.md#anchor`);
 * (b) no file refers to anything outside the repository (a design document that is not in it, an
 *     absolute machine path, a relative path that climbs out of the repository or names nothing);
 * (c) every relative link in README.md and docs/*.md resolves, anchors included;
 * (d) every JSON example in README.md and docs/*.md parses (people paste them into the AWS CLI);
 * (e) README.md stays short (≤ 300 lines) and links every docs/ page, so each is reachable from it;
 * (f) every `npm run <script>` and every repository path in backticks in README.md and docs/*.md exists.
 *
 * A `README "Heading"` reference resolves to a heading of README.md or of a docs/ page README.md links
 * to (the README and the pages it leads to are read as one); `README.md#anchor` only to README.md.
 * Files: tracked ones and untracked ones git does not ignore, as they are in the working tree now.
 * Anchors are computed the way GitHub renders headings. This file is left out of the scans: it
 * spells the patterns it looks for; so is build output in a `dist/` folder, which is generated.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../local/paths.js';

const SELF = 'test/unit/docs.test.ts';

// ---- Reading the repository ---------------------------------------------------------------------

/** Repository-relative (posix) paths of the tracked and the untracked, not ignored, files that exist. */
function repoFiles(): string[] {
  const git = (...args: string[]) =>
    execFileSync('git', ['ls-files', '-z', ...args], { cwd: projectRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
      .split('\0')
      .filter(Boolean);
  const all = new Set([...git(), ...git('--others', '--exclude-standard')]);
  return [...all].filter((f) => existsSync(join(projectRoot, f)) && statSync(join(projectRoot, f)).isFile()).sort();
}

/** A file's text, or undefined for a binary file. */
function textOf(file: string): string | undefined {
  const text = readFileSync(join(projectRoot, file), 'utf8');
  return text.includes('\0') ? undefined : text;
}

const files = repoFiles();
/** Build output (a `dist/` folder): esbuild's comments name sources relative to the project, not to the file. */
const isBuildOutput = (file: string) => /(^|\/)dist\//.test(file);
const texts = new Map(
  files.flatMap((f) => (f === SELF || isBuildOutput(f) ? [] : [[f, textOf(f)] as const])).filter((e): e is [string, string] => e[1] !== undefined),
);
const markdownFiles = files.filter((f) => f === 'README.md' || /^docs\/[^/]+\.md$/.test(f));

/** 1-based line of a character offset. */
const lineAt = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** `path/to/file:line: what` */
const at = (file: string, text: string, index: number, what: string) => `${file}:${lineAt(text, index)}: ${what}`;

// ---- Markdown as GitHub renders it --------------------------------------------------------------

/** The lines of a markdown text with fenced code blocks blanked (line numbers kept). */
function proseLines(text: string): string[] {
  let fence: string | undefined;
  return text.split('\n').map((line) => {
    const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      return '';
    }
    if (marker) {
      fence = marker;
      return '';
    }
    return line;
  });
}

/** A heading's text as rendered: links reduced to their text, code and emphasis marks dropped. */
function renderedHeading(raw: string): string {
  return raw
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/(\*\*|__|\*)(.+?)\1/g, '$2')
    .replace(/<[^>]+>/g, '')
    .trim();
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, each space a hyphen. */
export function githubAnchor(heading: string): string {
  return renderedHeading(heading)
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

interface MarkdownFacts {
  /** Rendered heading texts. */
  headings: Set<string>;
  /** Anchors: of headings (duplicates numbered `-1`, `-2` as GitHub does) and of `<a id|name>`. */
  anchors: Set<string>;
}

const markdownCache = new Map<string, MarkdownFacts>();

function markdownFacts(file: string): MarkdownFacts {
  const cached = markdownCache.get(file);
  if (cached) return cached;
  const headings = new Set<string>();
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(readFileSync(join(projectRoot, file), 'utf8'))) {
    const heading = /^\s{0,3}#{1,6}\s+(.+?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      headings.add(renderedHeading(heading));
      const base = githubAnchor(heading);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+(?:[^>]*\s)?(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
  }
  const facts = { headings, anchors };
  markdownCache.set(file, facts);
  return facts;
}

/** Inside the repository (a relative path from its root that does not climb out). */
const inside = (repoPath: string) => repoPath !== '..' && !repoPath.startsWith('../') && !posix.isAbsolute(repoPath);

/** The repository-relative path of `target` as seen from `file`. */
const fromFile = (file: string, target: string) => posix.normalize(posix.join(posix.dirname(file), target));

// ---- (a) sections, files and anchors named by code and docs ---------------------------------------

/** The docs/ pages README.md links to (relative links, anchors dropped). */
function readmeLinkedPages(): string[] {
  const text = readFileSync(join(projectRoot, 'README.md'), 'utf8');
  const pages = linkTargets(text)
    .map(({ target }) => target.split('#', 1)[0]!)
    .filter((path) => /^docs\/[^/]+\.md$/.test(path));
  return [...new Set(pages)].sort();
}

/** The headings a `README "Heading"` reference may name: README.md's and those of the pages it links. */
const readmeHeadings = new Set(['README.md', ...readmeLinkedPages()].flatMap((f) => [...markdownFacts(f).headings]));

/**
 * `README "Heading"` (also with escaped quotes, as in a TS string), `docs/x.md "Heading"`, `README.md#anchor`,
 * `docs/x.md[#anchor]`.
 */
function namedReferences(file: string, text: string): { where: string; problem?: string }[] {
  const out: { where: string; problem?: string }[] = [];
  const readme = markdownFacts('README.md');
  for (const m of text.matchAll(/README(?:\.md)?\s+\\?["“]([^"”\\\n]+)\\?["”]/g)) {
    const heading = m[1]!.trim();
    out.push({
      where: at(file, text, m.index!, `README "${heading}"`),
      ...(readmeHeadings.has(heading) ? {} : { problem: 'no such heading in README.md or the docs/ pages it links' }),
    });
  }
  for (const m of text.matchAll(/(?<![\w.\/-])docs\/([\w-]+\.md)\s+\\?["“]([^"”\\\n]+)\\?["”]/g)) {
    const doc = `docs/${m[1]!}`;
    const heading = m[2]!.trim();
    const where = at(file, text, m.index!, `${doc} "${heading}"`);
    if (!existsSync(join(projectRoot, doc))) out.push({ where, problem: 'no such file' });
    else out.push({ where, ...(markdownFacts(doc).headings.has(heading) ? {} : { problem: `no such heading in ${doc}` }) });
  }
  for (const m of text.matchAll(/README\.md#([^\s)"'`\]>]+)/g)) {
    const anchor = m[1]!;
    out.push({
      where: at(file, text, m.index!, `README.md#${anchor}`),
      ...(readme.anchors.has(anchor) ? {} : { problem: 'no such README anchor' }),
    });
  }
  for (const m of text.matchAll(/(?<![\w.\/-])(?:\.\.\/)*docs\/([\w.\/-]+?\.md)(?:#([^\s)"'`\]>]+))?/g)) {
    const doc = `docs/${m[1]!}`;
    const anchor = m[2];
    const where = at(file, text, m.index!, anchor ? `${doc}#${anchor}` : doc);
    if (!existsSync(join(projectRoot, doc))) out.push({ where, problem: 'no such file' });
    else if (anchor && !markdownFacts(doc).anchors.has(anchor)) out.push({ where, problem: `no such anchor in ${doc}` });
    else out.push({ where });
  }
  return out;
}

describe('(a) every README section and docs file named by code or docs exists', () => {
  it('has the sections and files the code refers to by name', () => {
    // Prepare
    const readme = markdownFacts('README.md');

    // Act
    const missingHeadings = ['Quick start', 'The local run', 'How it works', 'Deploy'].filter((h) => !readme.headings.has(h));
    const missingSections = ['Bedrock role', 'Limits', 'Teardown', 'The job input', 'Following the job'].filter((h) => !readmeHeadings.has(h));
    const missingDocs = [
      'docs/ARCHITECTURE.md',
      'docs/checks.md',
      'docs/errors.md',
      'docs/local-run.md',
      'docs/configuration.md',
      'docs/deploy.md',
      'docs/datasets.md',
      'docs/policies.md',
      'docs/operations.md',
      'docs/cli.md',
      'docs/limits.md',
      'docs/benchmarks.md',
      'docs/threat-model.md',
      'docs/tests.md',
    ].filter((d) => !existsSync(join(projectRoot, d)));

    // Assess
    expect(missingHeadings).toEqual([]);
    expect(missingSections).toEqual([]);
    expect(missingDocs).toEqual([]);
  });

  it('resolves every `README "Heading"`, `README.md#anchor`, `docs/<file>.md[#anchor]` in the repository', () => {
    // Prepare
    const references = [...texts].flatMap(([file, text]) => namedReferences(file, text));

    // Act
    const broken = references.filter((r) => r.problem).map((r) => `${r.where} (${r.problem})`);

    // Assess
    expect(references.length).toBeGreaterThan(0);
    expect(broken).toEqual([]);
  });

  it('refuses a heading, file or anchor that does not exist', () => {
    // Prepare
    const text = [
      'README "Bedrock role"',
      'README "No such heading"',
      'docs/policies.md "Least privilege"',
      'docs/policies.md "No such heading"',
      'docs/policies.md#bedrock-role',
      'docs/policies.md#nope',
      'docs/nope.md',
    ].join('\n');

    // Act
    const problems = namedReferences('x.ts', text).map((r) => r.problem);

    // Assess
    expect(problems).toEqual([
      undefined,
      'no such heading in README.md or the docs/ pages it links',
      undefined,
      'no such heading in docs/policies.md',
      // the same text is also a path reference (docs/policies.md), which exists
      undefined,
      undefined,
      undefined,
      'no such anchor in docs/policies.md',
      'no such file',
    ]);
  });
});

// ---- (b) nothing outside the repository -----------------------------------------------------------

/** A path exists, possibly as the TypeScript source of a `.js`/`.mjs`/`.cjs` import specifier. */
function existsAsSource(repoPath: string): boolean {
  const candidates = [repoPath, repoPath.replace(/\.js$/, '.ts'), repoPath.replace(/\.mjs$/, '.mts'), repoPath.replace(/\.cjs$/, '.cts')];
  return candidates.some((p) => existsSync(join(projectRoot, p)));
}

/** References to things outside the repository, one line each. */
function outsideReferences(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/DESIGN\.md/gi)) out.push(at(file, text, m.index!, `${m[0]} (not in the repository)`));
  for (const m of text.matchAll(/(?<![\w.~-])\/work\/[^\s'"`)]*/g)) out.push(at(file, text, m.index!, `${m[0]} (an absolute machine path)`));
  for (const m of text.matchAll(/(?<![\w.\/-])((?:\.\.\/)+)([\w@.-]+)?/g)) {
    const climb = m[1]!;
    const first = m[2];
    const target = fromFile(file, climb + (first ?? ''));
    if (!inside(target)) out.push(at(file, text, m.index!, `${m[0]} (climbs out of the repository)`));
    else if (first && !/[*?{]/.test(first) && !existsAsSource(target))
      out.push(at(file, text, m.index!, `${m[0]} (${target} does not exist)`));
  }
  return out;
}

describe('(b) no file refers to anything outside the repository', () => {
  it('has no design document outside the repo, no absolute machine path, no relative path out of the repo', () => {
    // Prepare
    const scanned = [...texts];

    // Act
    const outside = scanned.flatMap(([file, text]) => outsideReferences(file, text));

    // Assess
    expect(scanned.length).toBeGreaterThan(10);
    expect(outside).toEqual([]);
  });
});

// ---- (c) relative links in the docs -----------------------------------------------------------------

/** Every link target of a markdown file (inline `](…)` and reference definitions), with its index. */
function linkTargets(text: string): { target: string; index: number }[] {
  const out: { target: string; index: number }[] = [];
  let offset = 0;
  for (const line of proseLines(text)) {
    // Code spans are not links; blank them, keeping the offsets.
    const prose = line.replace(/`[^`]*`/g, (s) => ' '.repeat(s.length));
    for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1]!, index: offset + m.index! });
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/.exec(prose);
    if (definition) out.push({ target: definition[1]!, index: offset });
    offset += line.length + 1;
  }
  return out;
}

/** Why a relative link of `file` does not resolve, or undefined when it does (or is not relative). */
function brokenLink(file: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // https:, mailto:…
  const [rawPath, anchor] = target.split('#', 2) as [string, string | undefined];
  const path = decodeURIComponent(rawPath);
  const resolved = path === '' ? file : fromFile(file, path);
  if (!inside(resolved)) return 'outside the repository';
  if (!existsSync(join(projectRoot, resolved))) return `${resolved} does not exist`;
  if (anchor !== undefined && resolved.endsWith('.md') && !markdownFacts(resolved).anchors.has(anchor)) return `no anchor #${anchor} in ${resolved}`;
  return undefined;
}

describe('(c) every relative link in README.md and docs/*.md resolves', () => {
  it('finds the markdown files', () => {
    // Assess
    expect(markdownFiles).toContain('README.md');
    expect(markdownFiles).toContain('docs/ARCHITECTURE.md');
  });

  it.each(markdownFiles)('%s', (file) => {
    // Prepare
    const text = readFileSync(join(projectRoot, file), 'utf8');

    // Act
    const broken = linkTargets(text).flatMap(({ target, index }) => {
      const why = brokenLink(file, target);
      return why ? [at(file, text, index, `](${target}) (${why})`)] : [];
    });

    // Assess
    expect(broken).toEqual([]);
  });
});

// ---- (d) JSON examples --------------------------------------------------------------------------------

describe('(d) every JSON example in README.md and docs/*.md parses', () => {
  it.each(markdownFiles)('%s', (file) => {
    // Prepare
    const text = readFileSync(join(projectRoot, file), 'utf8');
    const blocks = [...text.matchAll(/^\s{0,3}```json[^\n]*\n([\s\S]*?)^\s{0,3}```/gm)];

    // Act
    const invalid = blocks.flatMap((m) => {
      try {
        JSON.parse(m[1]!);
        return [];
      } catch (err) {
        return [at(file, text, m.index!, (err as Error).message)];
      }
    });

    // Assess
    expect(invalid).toEqual([]);
  });
});

// ---- (e) a short README that leads to every page --------------------------------------------------

describe('(e) README.md is short and leads to every docs/ page', () => {
  it('has at most 300 lines', () => {
    // Prepare
    const lines = readFileSync(join(projectRoot, 'README.md'), 'utf8').replace(/\n$/, '').split('\n');

    // Assess
    expect(lines.length).toBeLessThanOrEqual(300);
  });

  it('links every docs/*.md page', () => {
    // Prepare
    const pages = markdownFiles.filter((f) => f.startsWith('docs/'));
    const linked = new Set(readmeLinkedPages());

    // Act
    const unlinked = pages.filter((p) => !linked.has(p));

    // Assess
    expect(pages.length).toBeGreaterThan(5);
    expect(unlinked).toEqual([]);
  });
});

// ---- (f) commands and paths the docs name ---------------------------------------------------------

/** Top-level folders whose files the docs name in backticks, e.g. `local/workflow.ts`. */
const ROOMS = ['cli', 'local', 'functions', 'statemachines', 'scripts', 'test', 'docs', 'examples', 'python'];

/** The npm scripts and repository paths a markdown text names that do not exist, one line each. */
function staleFacts(file: string, text: string, scripts: Record<string, string>): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\bnpm run (?:-s )?([\w:-]*\w)/g))
    if (!(m[1]! in scripts)) out.push(at(file, text, m.index!, `npm run ${m[1]} (no such script in package.json)`));
  const path = new RegExp(`\`((?:${ROOMS.join('|')})/[^\`\\s]*)\``, 'g');
  for (const m of text.matchAll(path)) {
    const named = m[1]!.replace(/[:#].*$/, '');
    if (/[<>*…{}]/.test(named)) continue; // a pattern (`functions/<step>/`), not a path
    if (!existsAsSource(named)) out.push(at(file, text, m.index!, `${m[1]} (does not exist)`));
  }
  return out;
}

describe('(f) every npm script and repository path named in README.md and docs/*.md exists', () => {
  it.each(markdownFiles)('%s', (file) => {
    // Prepare
    const text = readFileSync(join(projectRoot, file), 'utf8');
    const { scripts } = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

    // Act
    const stale = staleFacts(file, text, scripts);

    // Assess
    expect(stale).toEqual([]);
  });

  it('sees a script and a path that do not exist', () => {
    // Act
    const stale = staleFacts('x.md', 'Run `npm run nosuch`, see `local/nosuch.ts` and `functions/<step>/`.', { local: 'tsx cli/local.ts' });

    // Assess
    expect(stale).toEqual(['x.md:1: npm run nosuch (no such script in package.json)', 'x.md:1: local/nosuch.ts (does not exist)']);
  });
});

// ---- The anchor rule itself ---------------------------------------------------------------------------

describe('githubAnchor', () => {
  it('computes the anchors GitHub gives headings', () => {
    // Act / Assess
    expect(githubAnchor('Bedrock role')).toBe('bedrock-role');
    expect(githubAnchor('What runs for real, and what stands in')).toBe('what-runs-for-real-and-what-stands-in');
    expect(githubAnchor('Dependencies (pinned exactly; why these)')).toBe('dependencies-pinned-exactly-why-these');
    expect(githubAnchor('Configuration: stage params')).toBe('configuration-stage-params');
    expect(githubAnchor('The flow: ASL → handler → step logic → clients')).toBe('the-flow-asl--handler--step-logic--clients');
    expect(githubAnchor('The `job_input` [field](x.md)')).toBe('the-job_input-field');
  });
});

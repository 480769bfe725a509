/**
 * The error catalogue (functions/shared/errors.ts) and docs/errors.md stay true to the ASL and the code:
 * docs/errors.md's generated block is what scripts/docs.ts renders from the ASL and the catalogue now;
 * every error name the ASL names has prose in the catalogue; every catalogued error is raised by the
 * code or named by the ASL (no prose for an error that cannot happen); and the generator's rules are
 * pinned on a small definition.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, ERROR_REMEDIES, SERVICE_ERRORS } from '../../functions/shared/errors.js';
import { projectRoot } from '../../local/paths.js';
import { loadDefinition } from '../../local/workflow.js';
import {
  currentErrorsBlock,
  docBlock,
  errorClassNames,
  errorRoutes,
  errorsDocPath,
  isServiceName,
  longestWait,
  renderErrors,
  replaceDocBlock,
  retrySettings,
  type Catalogue,
  type Definition,
} from '../../scripts/docs.js';

const routes = errorRoutes(loadDefinition() as unknown as Definition);
const classes = errorClassNames();
const ours = new Map(ERROR_CATALOGUE.map((e) => [e.name, e]));
const services = new Map(SERVICE_ERRORS.map((e) => [e.name, e]));

/**
 * Class name → the files of functions/ (tests and errors.ts left out) that construct it (`new Name(…)`),
 * found on each file's syntax tree, so a name in a comment or a string does not count.
 */
function constructedIn(): Map<string, string[]> {
  const root = join(projectRoot, 'functions');
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(root, f))
    .filter((f) => relative(root, f) !== join('shared', 'errors.ts'));
  const found = new Map<string, string[]>();
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    const visit = (node: ts.Node) => {
      if (ts.isNewExpression(node) && ts.isIdentifier(node.expression)) {
        const name = node.expression.text;
        const at = relative(projectRoot, file);
        if (!(found.get(name) ?? []).includes(at)) found.set(name, [...(found.get(name) ?? []), at]);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}
const constructed = constructedIn();

describe('the inputs of these tests', () => {
  it('read the ASL, the classes and the code', () => {
    // Assess: the checks below would pass on empty inputs
    expect(routes.get('States.ALL')?.some((r) => r.kind === 'catch')).toBe(true);
    expect([...routes.values()].flat().some((r) => r.kind === 'retry')).toBe(true);
    expect([...routes.values()].flat().some((r) => r.kind === 'choice')).toBe(true);
    expect([...routes.values()].flat().some((r) => r.kind === 'fail')).toBe(true);
    expect(classes).toContain('JobSubmissionError');
    expect(constructed.get('JobSubmissionError')).toContain('functions/submit-job/submit-job.ts');
  });
});

describe('docs/errors.md', () => {
  it('holds the rendering of the ASL and the catalogue as they are now', () => {
    // Prepare
    const doc = readFileSync(errorsDocPath, 'utf8');

    // Act
    const block = docBlock(doc);

    // Assess
    expect(block, 'docs/errors.md has no <!-- errors:start --> / <!-- errors:end --> markers').toBeDefined();
    expect(block, 'docs/errors.md is stale: run `npm run docs`').toBe(currentErrorsBlock());
  });
});

describe('the catalogue', () => {
  it.each([...routes.keys()])('%s, named by the ASL, has prose in the catalogue', (name) => {
    // Act
    const entry = isServiceName(name) ? services.get(name) : ours.get(name);

    // Assess
    expect(entry, `${name} is named by the ASL: describe it in ${isServiceName(name) ? 'SERVICE_ERRORS' : 'ERROR_CATALOGUE'}`).toBeDefined();
    expect(entry!.meaning.trim()).not.toBe('');
  });

  it.each(classes)('%s, an error class, is in the catalogue with what to do', (name) => {
    // Act
    const entry = ours.get(name);

    // Assess
    expect(entry, `add ${name} to ERROR_CATALOGUE`).toBeDefined();
    expect(entry!.meaning.trim()).not.toBe('');
    expect(entry!.whatToDo.trim()).not.toBe('');
  });

  it.each(ERROR_CATALOGUE.map((e) => e.name))('%s, catalogued, is raised by the code or named by the ASL', (name) => {
    // Act
    const isClass = classes.includes(name);
    const raisedBy = constructed.get(name) ?? [];
    const aslNames = routes.get(name) ?? [];

    // Assess
    if (isClass) expect(raisedBy.length + aslNames.length, `${name} is a class no code constructs and no state names`).toBeGreaterThan(0);
    else expect(aslNames.filter((r) => r.kind === 'fail'), `${name} is neither a class nor a Fail state's Error`).not.toEqual([]);
  });

  it.each(SERVICE_ERRORS.map((e) => e.name))('%s, a catalogued service error, is named by the ASL', (name) => {
    expect(routes.get(name) ?? [], `${name} is in SERVICE_ERRORS but no state names it`).not.toEqual([]);
  });

  it('has one entry per name and a remedy exactly for each error of ours', () => {
    expect(ours.size).toBe(ERROR_CATALOGUE.length);
    expect(services.size).toBe(SERVICE_ERRORS.length);
    expect(Object.keys(ERROR_REMEDIES).sort()).toEqual([...ours.keys()].sort());
    expect([...ours.keys()].filter(isServiceName)).toEqual([]);
    expect([...services.keys()].filter((n) => !isServiceName(n))).toEqual([]);
  });
});

describe('the generator', () => {
  const small: Definition = {
    StartAt: 'Work',
    States: {
      Work: {
        Type: 'Task',
        Retry: [
          { ErrorEquals: ['Lambda.ServiceException', 'BusyError'] },
          { ErrorEquals: ['SlowError'], IntervalSeconds: 10, MaxAttempts: 4, BackoffRate: 3, MaxDelaySeconds: 60, JitterStrategy: 'FULL' },
        ],
        Catch: [
          { ErrorEquals: ['BusyError'], ResultPath: '$.error', Next: 'Kind' },
          { ErrorEquals: ['States.ALL'], Next: 'Failed' },
        ],
        Next: 'Kind',
      },
      Kind: {
        Type: 'Choice',
        Choices: [{ Or: [{ Variable: '$.error.Error', StringEquals: 'SlowError' }, { Variable: '$.n', StringEquals: 'BusyError' }], Next: 'Failed' }],
        Default: 'Done',
      },
      Done: { Type: 'Fail', Error: 'DoneError' },
      Failed: { Type: 'Fail', ErrorPath: '$.error.Error' },
    },
  };
  const catalogue: Catalogue = {
    errors: [
      { name: 'BusyError', meaning: 'Busy.', whatToDo: 'Wait.' },
      { name: 'SlowError', meaning: 'Slow | late.', whatToDo: 'Use <jobName>.' },
      { name: 'LostError', meaning: 'Lost.', whatToDo: 'Look.' },
      { name: 'DoneError', meaning: 'Done.', whatToDo: 'Nothing.' },
    ],
    services: [
      { name: 'States.ALL', meaning: 'Any error.' },
      { name: 'Lambda.ServiceException', meaning: 'Lambda.' },
    ],
    classes: ['BusyError', 'SlowError', 'LostError'],
  };

  it('reads every route of a small definition, with the ASL defaults for a retrier', () => {
    // Act
    const found = errorRoutes(small);

    // Assess
    expect(Object.fromEntries(found)).toEqual({
      'Lambda.ServiceException': [{ kind: 'retry', state: 'Work', settings: { maxAttempts: 3, intervalSeconds: 1, backoffRate: 2, jitterStrategy: 'NONE' } }],
      BusyError: [
        { kind: 'retry', state: 'Work', settings: { maxAttempts: 3, intervalSeconds: 1, backoffRate: 2, jitterStrategy: 'NONE' } },
        { kind: 'catch', state: 'Work', next: 'Kind', resultPath: '$.error' },
      ],
      SlowError: [
        { kind: 'retry', state: 'Work', settings: { maxAttempts: 4, intervalSeconds: 10, backoffRate: 3, maxDelaySeconds: 60, jitterStrategy: 'FULL' } },
        { kind: 'choice', state: 'Kind', variable: '$.error.Error', next: 'Failed' },
      ],
      'States.ALL': [{ kind: 'catch', state: 'Work', next: 'Failed' }],
      DoneError: [{ kind: 'fail', state: 'Done' }],
    });
  });

  it('adds up a retrier’s longest waits, capped at MaxDelaySeconds', () => {
    expect(longestWait(retrySettings({}))).toBe(1 + 2 + 4);
    expect(longestWait(retrySettings({ IntervalSeconds: 10, MaxAttempts: 4, BackoffRate: 3, MaxDelaySeconds: 60 }))).toBe(10 + 30 + 60 + 60);
  });

  it('renders a small definition exactly', () => {
    expect(renderErrors(small, catalogue)).toBe(
      [
        '### Errors of this workflow',
        '',
        '#### `BusyError`',
        '',
        'Raised by a Lambda: the class `BusyError` of `functions/shared/errors.ts`.',
        '',
        'Busy.',
        '',
        '**What to do:** Wait.',
        '',
        '| State(s) | Handling | Settings |',
        '| --- | --- | --- |',
        '| `Work` | Retry | MaxAttempts 3, IntervalSeconds 1, BackoffRate 2 (waits up to 7 s in all) |',
        '| `Work` | Catch → `Kind` | the error in `$.error` |',
        '',
        '#### `SlowError`',
        '',
        'Raised by a Lambda: the class `SlowError` of `functions/shared/errors.ts`.',
        '',
        'Slow | late.',
        '',
        '**What to do:** Use &lt;jobName>.',
        '',
        '| State(s) | Handling | Settings |',
        '| --- | --- | --- |',
        '| `Work` | Retry | MaxAttempts 4, IntervalSeconds 10, BackoffRate 3, MaxDelaySeconds 60, JitterStrategy FULL (waits up to 2 min 40 s in all) |',
        '| `Kind` | Choice → `Failed` | `$.error.Error` equals it |',
        '',
        '#### `LostError`',
        '',
        'Raised by a Lambda: the class `LostError` of `functions/shared/errors.ts`.',
        '',
        'Lost.',
        '',
        '**What to do:** Look.',
        '',
        '**Terminal:** no Retry, Catch or Choice names it; only a `States.ALL` Catch handles it.',
        '',
        '#### `DoneError`',
        '',
        'Raised by the state machine: the Fail state `Done` sets it.',
        '',
        'Done.',
        '',
        '**What to do:** Nothing.',
        '',
        '| State(s) | Handling | Settings |',
        '| --- | --- | --- |',
        '| `Done` | Fail | the execution ends with it |',
        '',
        '### Service errors the state machine names',
        '',
        '#### `States.ALL`',
        '',
        'Any error.',
        '',
        '| State(s) | Handling | Settings |',
        '| --- | --- | --- |',
        '| `Work` | Catch → `Failed` | the error replaces the state input |',
        '',
        '#### `Lambda.ServiceException`',
        '',
        'Lambda.',
        '',
        '| State(s) | Handling | Settings |',
        '| --- | --- | --- |',
        '| `Work` | Retry | MaxAttempts 3, IntervalSeconds 1, BackoffRate 2 (waits up to 7 s in all) |',
        '',
      ].join('\n'),
    );
  });

  it('refuses to render when the ASL names an error the catalogue does not describe', () => {
    const withoutSlow: Catalogue = { ...catalogue, errors: catalogue.errors.filter((e) => e.name !== 'SlowError') };
    expect(() => renderErrors(small, withoutSlow)).toThrow(/does not describe: SlowError/);
  });

  it('replaces only the block between the markers', () => {
    const doc = 'before\n<!-- errors:start -->\nold\n<!-- errors:end -->\nafter\n';
    expect(replaceDocBlock(doc, 'new\n')).toBe('before\n<!-- errors:start -->\nnew\n<!-- errors:end -->\nafter\n');
    expect(docBlock(replaceDocBlock(doc, 'new\n'))).toBe('new\n');
    expect(() => replaceDocBlock('no markers', 'x')).toThrow(/must hold/);
    expect(() => replaceDocBlock(`${doc}${doc}`, 'x')).toThrow(/must hold/);
  });
});

/**
 * Step Functions routes on error names (`ErrorEquals`) and ends executions with them (Fail states).
 * These tests bundle functions/shared/errors.ts the way a minifying deploy would (esbuild, minify)
 * and check that every name the ASL file relies on is still what the minified classes report, that
 * the error catalogue matches the ASL, and that docs/errors.md holds the tables generated from it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type * as Errors from '../../functions/shared/errors.js';
import { aslPath, projectRoot } from '../../local/paths.js';

const errorsPath = join(projectRoot, 'functions', 'shared', 'errors.ts');
const docsPath = join(projectRoot, 'docs', 'errors.md');

// ---- The ASL: the names it routes on (Retry / Catch) and the names its Fail states set ----------

interface AslState {
  Type?: string;
  Error?: unknown;
  Retry?: { ErrorEquals?: string[] }[];
  Catch?: { ErrorEquals?: string[] }[];
  States?: Record<string, AslState>;
  Iterator?: { States?: Record<string, AslState> };
  ItemProcessor?: { States?: Record<string, AslState> };
  Branches?: { States?: Record<string, AslState> }[];
}

/** Error name → the states naming it, in file order. */
type NameIndex = Map<string, string[]>;

function readAsl(): { stateNames: Set<string>; routed: NameIndex; failLiterals: NameIndex } {
  const stateNames = new Set<string>();
  const routed: NameIndex = new Map();
  const failLiterals: NameIndex = new Map();
  const note = (index: NameIndex, name: string, state: string) => {
    const states = index.get(name) ?? [];
    if (!states.includes(state)) states.push(state);
    index.set(name, states);
  };
  const visit = (states: Record<string, AslState> | undefined) => {
    for (const [stateName, state] of Object.entries(states ?? {})) {
      stateNames.add(stateName);
      for (const rule of [...(state.Retry ?? []), ...(state.Catch ?? [])]) {
        for (const name of rule.ErrorEquals ?? []) note(routed, name, stateName);
      }
      if (state.Type === 'Fail' && typeof state.Error === 'string') note(failLiterals, state.Error, stateName);
      visit(state.Iterator?.States);
      visit(state.ItemProcessor?.States);
      for (const branch of state.Branches ?? []) visit(branch.States);
    }
  };
  visit((parse(readFileSync(aslPath, 'utf8')) as AslState).States);
  return { stateNames, routed, failLiterals };
}

/** `States.*`, `Lambda.*`, `Bedrock.*`, `StepFunctions.*`: names of the services, not of our code. */
const isServiceName = (name: string) => name.includes('.');

const asl = readAsl();
const routedOurs = [...asl.routed.keys()].filter((n) => !isServiceName(n));
const routedServices = [...asl.routed.keys()].filter(isServiceName);
const failLiterals = [...asl.failLiterals.keys()].filter((n) => !isServiceName(n));

// ---- errors.ts, bundled and minified as a deploy with `minify: true` would -----------------------

const tempDir = mkdtempSync(join(tmpdir(), 'error-names-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

const bundle = await build({
  entryPoints: [errorsPath],
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'node',
  write: false,
  logLevel: 'silent',
});
const minifiedCode = bundle.outputFiles[0]!.text;
const minifiedPath = join(tempDir, 'errors.min.mjs');
writeFileSync(minifiedPath, minifiedCode);
const minified = (await import(pathToFileURL(minifiedPath).href)) as typeof Errors;

/** The exported (concrete) subclasses of WorkflowError, by export name (exports keep their names). */
type ErrorClasses = {
  [K in keyof typeof Errors as (typeof Errors)[K] extends new (...args: never[]) => Errors.WorkflowError ? K : never]: (typeof Errors)[K];
};

/** How to construct each class with plausible arguments; the compiler asks for a new class's entry. */
const factories: { [K in keyof ErrorClasses]: (C: ErrorClasses[K]) => Error } = {
  InvalidInputError: (C) => new C([{ field: 'vpcConfig.subnetIds[1]', message: 'not a subnet id' }]),
  StageConfigError: (C) => new C(['stage param subnetIds (STAGE_SUBNET_IDS): needs at least one value']),
  HandOverRejectedError: (C) => new C('arn:…:execution:m:e never started this execution'),
  HandOverUnverifiedError: (C) => new C('Could not read the history', { cause: new Error('ThrottlingException') }),
  PolicyLockBusyError: (C) => new C('role:R:P is being changed by another execution'),
  NetworkValidationError: (C) => new C('subnet-1: no route to S3', { ok: false, failures: ['subnet-1'] }),
  DatasetValidationError: (C) => new C('s3://b/train.jsonl line 3, messages[1].role [messages.alternate]: must be assistant'),
  DatasetChangedError: (C) => new C('s3://b/train.jsonl is no longer the version the dataset step checked', { cause: new Error('PreconditionFailed') }),
  DatasetUnreadableError: (C) => new C('s3://b/train.jsonl (training data): GetObject answered HTTP 403, AccessDenied', { cause: new Error('AccessDenied') }),
  TrainingBudgetExceededError: (C) => new C('estimated 2,000,000 training tokens, above the cap of 1,000,000'),
  PolicyApplyError: (C) => new C('Writing the bucket policy failed', { cause: new Error('AccessDenied') }),
  PolicyLockoutError: (C) => new C('Refusing to write the policy of arn:aws:s3:::bucket'),
  PolicyRollbackError: (C) => new C('Rollback incomplete', { cause: new Error('AccessDenied') }),
  JobNameConflictError: (C) => new C('A model customization job named "job" already exists'),
  JobSubmissionError: (C) => new C('CreateModelCustomizationJob was refused', { cause: new Error('ValidationException') }),
  JobSubmissionUncertainError: (C) => new C('CreateModelCustomizationJob failed with a transient error', { cause: new Error('InternalServerException') }),
  JobStopError: (C) => new C('Job could not be stopped'),
  JobNotOursError: (C) => new C('The job ledger names another supervisor of job j1'),
  JobStopUnavailableError: (C) => new C('Could not ask Bedrock to stop job j1', { cause: new Error('ThrottlingException') }),
  JobStatusUnavailableError: (C) => new C('Could not read the job status', { cause: new Error('ThrottlingException') }),
  JobQuotaExceededError: (C) => new C('Waiting for the model customization job quota', { cause: new Error('ServiceQuotaExceededException') }),
  EnisStillInUseError: (C) => new C('1 network interface still attached', { notAvailable: ['eni-1'] }),
};

const subclassNames = Object.entries(minified)
  .filter(([, value]) => typeof value === 'function' && value.prototype instanceof minified.WorkflowError)
  .map(([exportName]) => exportName);

/** Constructs the minified class exported as `exportName` with its factory. */
function constructMinified(exportName: string): Error {
  const factory = factories[exportName as keyof ErrorClasses] as ((C: unknown) => Error) | undefined;
  if (!factory) throw new Error(`no factory for ${exportName}: add one to the factories table of this test`);
  return factory(minified[exportName as keyof typeof Errors]);
}

const catalogue = new Map(minified.ERROR_CATALOGUE.map((entry) => [entry.name, entry]));

describe('the inputs of these tests', () => {
  it('reads the names of the ASL and gets a really minified bundle', () => {
    // Assess: a vacuous it.each below would prove nothing
    expect(routedOurs.length).toBeGreaterThan(0);
    expect(failLiterals.length).toBeGreaterThan(0);
    expect(routedServices).toContain('States.ALL');
    expect(subclassNames.length).toBeGreaterThan(0);
    // the minifier renamed the classes: a name taken from the class would be wrong
    for (const name of subclassNames) expect(minifiedCode).not.toMatch(new RegExp(`class ${name}\\b`));
    expect([...subclassNames].sort()).toEqual(Object.keys(factories).sort());
  });
});

describe('error names in a minified bundle', () => {
  it.each(subclassNames)('%s, constructed from the minified bundle, is named exactly that', (exportName) => {
    // Act
    const error = constructMinified(exportName);

    // Assess
    expect(error.name).toBe(exportName);
    expect(error).toBeInstanceOf(minified.WorkflowError);
    expect(minified.describeError(error)).toBe(`${exportName}: ${error.message}`);
  });

  it.each(routedOurs)('%s, routed on by the ASL, is the name of a class of the minified bundle', (name) => {
    // Prepare
    expect(subclassNames, `no exported WorkflowError class named ${name}`).toContain(name);

    // Act
    const error = constructMinified(name);

    // Assess
    expect(error.name).toBe(name);
  });

  it.each(failLiterals)('%s, set by a Fail state, is catalogued as raised by the state machine', (name) => {
    // Act
    const entry = catalogue.get(name);

    // Assess
    expect(entry, `${name} is missing from ERROR_CATALOGUE`).toBeDefined();
    expect(entry!.raisedBy).toBe('state machine');
    expect(entry!.states).toEqual(expect.arrayContaining(asl.failLiterals.get(name)!));
  });

  it('keeps the cause passed to a constructor', () => {
    // Prepare
    const cause = new Error('ThrottlingException');

    // Act
    const error = new minified.JobQuotaExceededError('Waiting for the quota', { cause });

    // Assess
    expect(error.cause).toBe(cause);
  });
});

describe('ERROR_CATALOGUE', () => {
  it('routes every error class by name in the ASL, or documents it as terminal', () => {
    // Act
    const unaccounted = subclassNames.filter((name) => !asl.routed.has(name) && catalogue.get(name)?.terminal !== true);

    // Assess
    expect(unaccounted).toEqual([]);
  });

  it('has an entry for every error class and every Fail-state literal, and no other', () => {
    // Act
    const expected = [...subclassNames, ...failLiterals].sort();

    // Assess
    expect([...catalogue.keys()].sort()).toEqual(expected);
    expect(minified.ERROR_CATALOGUE).toHaveLength(catalogue.size);
  });

  it.each(minified.ERROR_CATALOGUE.map((e) => [e.name, e] as const))('%s: real name, real states, true terminal flag', (name, entry) => {
    // Act
    const isClass = subclassNames.includes(name);
    const routedBy = asl.routed.get(name) ?? [];
    const endsIn = asl.failLiterals.get(name) ?? [];

    // Assess
    expect(entry.raisedBy).toBe(isClass ? 'lambda' : 'state machine');
    if (!isClass) expect(endsIn.length, `${name} is neither a class nor a Fail state's Error`).toBeGreaterThan(0);
    expect(entry.states.filter((s) => !asl.stateNames.has(s))).toEqual([]);
    expect(entry.states).toEqual(expect.arrayContaining([...routedBy, ...endsIn]));
    expect(entry.terminal).toBe(routedBy.length === 0);
    expect(entry.meaning).not.toBe('');
    expect(entry.whatToDo).not.toBe('');
  });
});

describe('SERVICE_ERRORS', () => {
  it('lists exactly the service names the ASL routes on, with the states that name them', () => {
    // Act
    const listed = Object.fromEntries(minified.SERVICE_ERRORS.map((e) => [e.name, e.states]));

    // Assess
    expect(listed).toEqual(Object.fromEntries(routedServices.map((name) => [name, asl.routed.get(name)])));
  });
});

// ---- docs/errors.md ------------------------------------------------------------------------------

const BEGIN = '<!-- BEGIN GENERATED by test/unit/error-names.test.ts from ERROR_CATALOGUE and SERVICE_ERRORS -->';
const END = '<!-- END GENERATED -->';

const cell = (text: string) => text.replace(/\|/g, '\\|');
const row = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;

function renderTables(): string {
  return [
    '### Our errors',
    '',
    row(['Error', 'Raised by', 'State(s)', 'Terminal', 'Meaning', 'What to do']),
    row(['---', '---', '---', '---', '---', '---']),
    ...minified.ERROR_CATALOGUE.map((e) =>
      row([`\`${e.name}\``, e.raisedBy, e.states.join(', '), e.terminal ? 'yes' : 'no', e.meaning, e.whatToDo]),
    ),
    '',
    '### Service errors the state machine names',
    '',
    row(['Error', 'State(s)', 'Meaning']),
    row(['---', '---', '---']),
    ...minified.SERVICE_ERRORS.map((e) => row([`\`${e.name}\``, e.states.join(', '), e.meaning])),
  ].join('\n');
}

/** The text between the markers, or undefined when a marker is missing. */
function generatedPart(doc: string): string | undefined {
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  return begin >= 0 && end > begin ? doc.slice(begin + BEGIN.length, end) : undefined;
}

describe('docs/errors.md', () => {
  it('holds the tables generated from the catalogue', () => {
    // Prepare
    const expected = `\n${renderTables()}\n`;
    const doc = readFileSync(docsPath, 'utf8');
    const current = generatedPart(doc);
    expect(current, `docs/errors.md needs the lines ${BEGIN} and ${END}`).toBeDefined();
    if (process.env.UPDATE_ERROR_DOCS && current !== expected) {
      writeFileSync(docsPath, doc.replace(BEGIN + current!, () => BEGIN + expected));
    }

    // Act
    const written = generatedPart(readFileSync(docsPath, 'utf8'));

    // Assess
    expect(written, 'docs/errors.md is stale: UPDATE_ERROR_DOCS=1 npx vitest run --project unit test/unit/error-names.test.ts').toBe(
      expected,
    );
  });
});

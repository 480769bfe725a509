/**
 * Step Functions routes on error names (`ErrorEquals`, Choice rules on `….Error`) and ends executions
 * with them (Fail states). These tests bundle functions/shared/errors.ts the way a minifying deploy
 * would (esbuild, minify) and check that every name the ASL file relies on is still what the minified
 * classes report. The catalogue and docs/errors.md are checked by test/unit/errors-doc.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import type * as Errors from '../../functions/shared/errors.js';
import { projectRoot } from '../../local/paths.js';
import { loadDefinition } from '../../local/workflow.js';
import { errorRoutes, isServiceName, type Definition } from '../../scripts/docs.js';

const errorsPath = join(projectRoot, 'functions', 'shared', 'errors.ts');

// ---- The ASL: the names it routes on (Retry / Catch / Choice) -----------------------------------

const routes = errorRoutes(loadDefinition() as unknown as Definition);
const routed = [...routes].filter(([, list]) => list.some((r) => r.kind !== 'fail')).map(([name]) => name);
const routedOurs = routed.filter((n) => !isServiceName(n));
const routedServices = routed.filter(isServiceName);

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
  EvaluationUnsupportedError: (C) => new C('amazon.titan-text-express-v1 has no documented on-demand deployment in us-east-1'),
  EvaluationBudgetExceededError: (C) => new C('estimated US$12.40 for the evaluation gate, above the cap of US$10.00'),
  EvaluationDatasetError: (C) => new C('s3://eval/held-out.jsonl line 3: prompt must be a non-empty string'),
  DeploymentQuotaExceededError: (C) => new C('Waiting for the custom model deployment quota', { cause: new Error('ServiceQuotaExceededException') }),
  EvaluationQuotaExceededError: (C) => new C('Waiting for the evaluation job quota', { cause: new Error('ServiceQuotaExceededException') }),
  DeploymentFailedError: (C) => new C('Deployment d1 ended Failed: access denied to the KMS key'),
  EvaluationJobFailedError: (C) => new C('Evaluation job e1 ended Failed: the role cannot read the dataset'),
  EvaluationUncertainError: (C) => new C('CreateEvaluationJob failed with a transient error', { cause: new Error('InternalServerException') }),
  ModelRejectedError: (C) => new C('rejected: Builtin.Correctness 0.62 vs base 0.71 (-0.09, needs >= +0.00)'),
  EvaluationNotOursError: (C) => new C('The job ledger records another deployment for job j1'),
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

describe('the inputs of these tests', () => {
  it('reads the names of the ASL and gets a really minified bundle', () => {
    // Assess: a vacuous it.each below would prove nothing
    expect(routedOurs.length).toBeGreaterThan(0);
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

  it('keeps the cause passed to a constructor', () => {
    // Prepare
    const cause = new Error('ThrottlingException');

    // Act
    const error = new minified.JobQuotaExceededError('Waiting for the quota', { cause });

    // Assess
    expect(error.cause).toBe(cause);
  });
});

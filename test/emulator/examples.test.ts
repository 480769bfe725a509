/**
 * Every file of examples/ as a user meets it: each job input and stage params file run with the local
 * target as shipped (`bvc start --local --follow --json`, its own moto and the seeded demo account, whose
 * network ids are the ones examples/job-input.json names: local/seed.ts DEMO_NETWORK), ending as
 * documented. The other examples are not workflow inputs and have their own tests, named below; a file
 * of examples/ with no case here fails the guard.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../local/paths.js';
import {
  DEMO_DISTILLATION,
  DEMO_DISTILLATION_KEY,
  DEMO_EVALUATION,
  DEMO_HELD_OUT_NAME,
  DEMO_NOVA_TRAINING_KEY,
  DEMO_GRADER_FUNCTION_NAME,
  DEMO_INVOCATION_LOG_BUCKET,
  DEMO_NETWORK,
  DEMO_OUTPUT_BUCKET,
  DEMO_RFT,
  DEMO_RFT_KEY,
  DEMO_ROLE_NAME,
  DEMO_TRAINING_BUCKET,
} from '../../local/seed.js';

const EXAMPLES = join(projectRoot, 'examples');
const example = (name: string) => join(EXAMPLES, name);
const json = (name: string) => JSON.parse(readFileSync(example(name), 'utf8')) as Record<string, unknown>;
const runsDir = join(mkdtempSync(join(tmpdir(), 'bvc-examples-')), 'runs');

/** What `--json` prints (docs/local-run.md): the parts these cases read. */
interface RunDocument {
  execution: { status: string };
  endState: string;
  outcome: string;
  job?: { status?: string };
  preflight?: { warn: number; fail: number; problems: unknown[] };
  output?: { job?: Record<string, unknown>; policies?: { summary?: string[] } } & Record<string, unknown>;
  evaluation?: { verdict?: string; scores: { metric: string; custom: number; base: number; gain: number }[]; deployment?: { arn?: string; outcome: string } };
}

/**
 * `npm run -s local -- <args> --json` as a user runs it: a child process with its own moto and demo
 * account (one process per run: a run's Lambda clients keep the endpoint of its moto).
 */
function runLocal(args: string[]): Promise<{ code: number; doc: RunDocument; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      join(projectRoot, 'node_modules', '.bin', 'tsx'),
      [join(projectRoot, 'cli', 'local.ts'), ...args, '--json'],
      { cwd: projectRoot, env: { ...process.env, AWS_ENDPOINT_URL: '', BVC_RUNS_DIR: runsDir }, timeout: 150_000 },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
        try {
          resolve({ code, doc: JSON.parse(stdout) as RunDocument, stderr });
        } catch {
          reject(new Error(`npm run local -- ${args.join(' ')} exited ${code} without one JSON document on stdout:\n${stdout}\n${stderr}`));
        }
      },
    );
  });
}

/** The examples that are no workflow input, and the test that runs each as what it is. */
const TESTED_ELSEWHERE: Record<string, string> = {
  'reference-network.yml': 'test/emulator/reference-network.test.ts',
  'guardrails/deny-bedrock-eni-tags.scp.json': 'test/abuse/eni-tag-guardrail.test.ts',
  'guardrails/deny-bedrock-eni-tags.boundary.json': 'test/abuse/eni-tag-guardrail.test.ts',
};

/** The job inputs and stage params files, each run below. */
const RUN_HERE = ['job-input.json', 'dry-run.json', 'restrict-everything.params.json', 'distillation.json', 'rft.json', 'distillation-invocation-logs.json', 'evaluation.json'];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [relative(EXAMPLES, path).split('\\').join('/')];
  });
}

describe('examples/', () => {
  it('every file has a case: run here (job inputs, stage params) or by the test named for it', () => {
    expect(filesUnder(EXAMPLES).sort()).toEqual([...RUN_HERE, ...Object.keys(TESTED_ELSEWHERE)].sort());
    for (const [name, test] of Object.entries(TESTED_ELSEWHERE)) {
      // The named test reads the example (by its file name under examples/).
      expect(readFileSync(join(projectRoot, test), 'utf8'), `${test} tests examples/${name}`).toContain(`'${name.split('/').at(-1)}'`);
    }
  });

  it.each(['job-input.json', 'distillation.json', 'rft.json', 'distillation-invocation-logs.json', 'evaluation.json'])('%s names the demo account the local run seeds: its network, buckets and role', (name) => {
    const input = json(name);
    expect(input.vpcConfig).toEqual({
      vpcId: DEMO_NETWORK.vpcId.id,
      subnetIds: DEMO_NETWORK.subnetIds.map((s) => s.id),
      securityGroupIds: [DEMO_NETWORK.securityGroupId.id],
    });
    // moto's default account (moto/core/models.py DEFAULT_ACCOUNT_ID), where the demo role is created.
    expect(input.roleArn).toBe(`arn:aws:iam::123456789012:role/${DEMO_ROLE_NAME}`);
    if (name === 'distillation-invocation-logs.json') {
      // Where Bedrock delivers the demo account's logs: <bucket>/AWSLogs/<account>/BedrockModelInvocationLogs/<region>/.
      expect(input).not.toHaveProperty('trainingDataS3Uri');
      expect(input.invocationLogsConfig).toMatchObject({
        invocationLogSource: { s3Uri: `s3://${DEMO_INVOCATION_LOG_BUCKET}/AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/` },
      });
    } else {
      expect(input.trainingDataS3Uri).toMatch(new RegExp(`^s3://${DEMO_TRAINING_BUCKET}/`));
    }
    expect(input.outputDataS3Uri).toMatch(new RegExp(`^s3://${DEMO_OUTPUT_BUCKET}/`));
  });

  it('distillation.json and rft.json name the demo\'s datasets, teacher, grader and the documented RFT hyper-parameters', () => {
    expect(json('distillation.json')).toMatchObject({
      customizationType: 'DISTILLATION',
      baseModelIdentifier: DEMO_DISTILLATION.baseModelIdentifier,
      trainingDataS3Uri: `s3://${DEMO_TRAINING_BUCKET}/${DEMO_DISTILLATION_KEY}`,
      customizationConfig: {
        distillationConfig: {
          teacherModelConfig: { teacherModelIdentifier: DEMO_DISTILLATION.teacherModelIdentifier, maxResponseLengthForInference: DEMO_DISTILLATION.maxResponseLengthForInference },
        },
      },
    });
    expect(json('rft.json')).toMatchObject({
      customizationType: 'REINFORCEMENT_FINE_TUNING',
      baseModelIdentifier: DEMO_RFT.baseModelIdentifier,
      trainingDataS3Uri: `s3://${DEMO_TRAINING_BUCKET}/${DEMO_RFT_KEY}`,
      customizationConfig: {
        rftConfig: {
          graderConfig: { lambdaGrader: { lambdaArn: `arn:aws:lambda:us-east-1:123456789012:function:${DEMO_GRADER_FUNCTION_NAME}` } },
          hyperParameters: DEMO_RFT.hyperParameters,
        },
      },
    });
    // RFT's hyper-parameters are typed, in rftConfig: never the string map.
    expect(json('rft.json')).not.toHaveProperty('hyperParameters');
  });

  it("evaluation.json: the demo's Nova Micro fine-tuning data and its gate (held-out dataset, metrics, judge the demo stage allows)", () => {
    expect(json('evaluation.json')).toMatchObject({
      customizationType: 'FINE_TUNING',
      baseModelIdentifier: DEMO_EVALUATION.baseModelIdentifier,
      trainingDataS3Uri: `s3://${DEMO_TRAINING_BUCKET}/${DEMO_NOVA_TRAINING_KEY}`,
      evaluation: { dataset: DEMO_HELD_OUT_NAME, metrics: [...DEMO_EVALUATION.metrics], judgeModelIdentifier: DEMO_EVALUATION.judgeModelIdentifier },
    });
  });
});

describe('examples/ run with the local target as shipped', () => {
  type Run = Awaited<ReturnType<typeof runLocal>>;
  let jobInput: Run;
  let dryRun: Run;
  let params: Run;
  let distillation: Run;
  let rft: Run;
  let logs: Run;
  let evaluation: Run;
  beforeAll(async () => {
    // Side by side, each with its own moto on its own port, three at a time.
    [jobInput, dryRun, params] = await Promise.all([
      runLocal(['--input', example('job-input.json')]),
      runLocal(['--input', example('dry-run.json')]),
      runLocal(['--params', example('restrict-everything.params.json'), '--input', example('dry-run.json')]),
    ]);
    [distillation, rft, logs] = await Promise.all([
      runLocal(['--input', example('distillation.json')]),
      runLocal(['--input', example('rft.json')]),
      runLocal(['--input', example('distillation-invocation-logs.json')]),
    ]);
    evaluation = await runLocal(['--input', example('evaluation.json')]);
  }, 400_000);

  it('evaluation.json: the job completes, the gate promotes its model (the stand-in\'s custom model answers best), the deployment is kept (exit 0)', () => {
    const { code, doc, stderr } = evaluation;
    expect(code, stderr).toBe(0);
    expect(doc).toMatchObject({ execution: { status: 'SUCCEEDED' }, endState: 'JobSucceeded', outcome: 'completed', evaluation: { verdict: 'promote', deployment: { outcome: 'kept' } } });
    expect(doc.evaluation?.scores.map((s) => s.metric)).toEqual([...DEMO_EVALUATION.metrics]);
    for (const state of ['PlanEvaluation', 'DeployModel', 'GenerateResponses', 'StartEvaluations', 'Verdict', 'RevokeGrants', 'JobSucceeded']) expect(stderr).toContain(`▶ ${state}`);
    expect(stderr).toContain('CreateProvisionedModelThroughput requests recorded by the stand-in: 0');
  });

  it('job-input.json: the whole workflow in the example\'s network, the stand-in completes the job (exit 0)', () => {
    const { code, doc, stderr } = jobInput;
    expect(code, stderr).toBe(0);
    expect(doc).toMatchObject({ execution: { status: 'SUCCEEDED' }, endState: 'JobSucceeded', outcome: 'completed', job: { status: 'Completed' } });
    const input = json('job-input.json');
    // The job ran with the example's fields, not the demo input's; the preflight found nothing to say.
    expect(doc.output?.job).toMatchObject({
      vpcConfig: input.vpcConfig,
      roleArn: input.roleArn,
      trainingDataS3Uri: input.trainingDataS3Uri,
      outputDataS3Uri: input.outputDataS3Uri,
      maxJobDurationSeconds: input.maxJobDurationSeconds,
    });
    expect(doc.preflight).toMatchObject({ warn: 0, fail: 0 });
  });

  it('dry-run.json: the plan only, ending in DryRunPlan with no job submitted (exit 0)', () => {
    const { code, doc, stderr } = dryRun;
    expect(code, stderr).toBe(0);
    expect(doc).toMatchObject({ execution: { status: 'SUCCEEDED' }, endState: 'DryRunPlan', outcome: 'dry-run' });
    expect(stderr).toContain('▶ PlanPolicies');
    expect(stderr).not.toContain('▶ SubmitJob');
  });

  it('restrict-everything.params.json: the plan of a stage with those params (with dry-run.json, exit 0)', () => {
    const file = json('restrict-everything.params.json');
    const { code, doc, stderr } = params;
    expect(code, stderr).toBe(0);
    expect(doc).toMatchObject({ execution: { status: 'SUCCEEDED' }, endState: 'DryRunPlan', outcome: 'dry-run' });
    expect(file).toMatchObject({ endpointPolicy: 'restrict', outputBucketPolicy: 'apply', trainingBucketPolicy: 'apply', rolePolicy: 'apply' });
    expect(doc.output?.policies?.summary).toEqual([
      expect.stringMatching(/^create role\/BedrockCustomizationRole inline policy/),
      expect.stringMatching(/^update vpc-endpoint\/.* \(restrict\)/),
      expect.stringMatching(new RegExp(`^create s3://${DEMO_OUTPUT_BUCKET} bucket policy`)),
      expect.stringMatching(new RegExp(`^create s3://${DEMO_TRAINING_BUCKET} bucket policy`)),
    ]);
    // The params file's exempt principal is kept out of the bucket Deny it plans.
    expect(JSON.stringify(doc.output?.policies)).toContain(String(file.exemptPrincipalArns));
  });

  it.each([
    ['distillation.json', () => distillation],
    ['rft.json', () => rft],
    ['distillation-invocation-logs.json', () => logs],
  ] as const)('%s: the whole workflow for its customization type, the stand-in completes the job (exit 0)', (name, run) => {
    const { code, doc, stderr } = run();
    expect(code, stderr).toBe(0);
    expect(doc).toMatchObject({ execution: { status: 'SUCCEEDED' }, endState: 'JobSucceeded', outcome: 'completed', job: { status: 'Completed' } });
    const input = json(name);
    // The job ran with the example's customization, checked and submitted as written.
    expect(doc.output?.job).toMatchObject({
      customizationType: input.customizationType,
      baseModelIdentifier: input.baseModelIdentifier,
      customizationConfig: input.customizationConfig,
      ...(input.invocationLogsConfig ? { invocationLogsConfig: input.invocationLogsConfig } : { trainingDataS3Uri: input.trainingDataS3Uri }),
    });
    for (const state of ['ValidateNetwork', 'ValidateDataset', 'ApplyPolicies', 'SubmitJob', 'CleanupEnis', 'RevokeGrants', 'JobSucceeded']) expect(stderr).toContain(`▶ ${state}`);
    // The request as the emulator received it (the run prints what the stand-in for Bedrock recorded):
    // one, accepted, with the example's customization settings and its training data: the dataset file
    // (as the snapshot SubmitJob trains on) or the invocation logs as given.
    const prefix = '[stand-in for Bedrock] CreateModelCustomizationJob received: ';
    const received = stderr.split('\n').filter((line) => line.startsWith(prefix));
    expect(received, stderr).toHaveLength(1);
    expect(received[0]).not.toContain(' refused: ');
    expect(JSON.parse(received[0]!.slice(prefix.length))).toEqual({
      jobName: expect.any(String),
      customizationType: input.customizationType,
      customizationConfig: input.customizationConfig,
      trainingDataConfig: input.invocationLogsConfig ? { invocationLogsConfig: input.invocationLogsConfig } : { s3Uri: expect.stringMatching(new RegExp(`^s3://${DEMO_OUTPUT_BUCKET}/runs/`)) },
    });
    // The demo account holds what the type needs (teacher, grader, logs): the preflight found nothing to say.
    expect(doc.preflight).toMatchObject({ warn: 0, fail: 0 });
  });
});

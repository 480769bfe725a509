/**
 * Distillation and reinforcement fine-tuning end to end against moto, from a dataset file and from
 * invocation logs, in the seeded demo account (its datasets, invocation logs, teacher and grader Lambda:
 * local/seed.ts, local/demo-customizations.ts): the whole workflow with the real handlers, the
 * stand-in for Bedrock completing the job, and the CreateModelCustomizationJob request as the emulator
 * received it (the stand-in's record, python/bedrock_standin.py, after its check against botocore's
 * service model). The preflight of a grader that is missing or that the role may not invoke is tested in
 * validate-network-customization.test.ts; its reproduction with `npm run local` in local-cli.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { GetFunctionCommand } from '@aws-sdk/client-lambda';
import { GetBucketPolicyCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { configureBedrockStandIn, standInCreateJobRequests } from '../../local/bedrock-standin.js';
import { strFromU8, unzipSync } from 'fflate';
import { DEMO_GRADER_TIMEOUT_SECONDS, DEMO_LOG_METADATA, DEMO_PROMPT_COUNT, demoGraderZip, rftDataset } from '../../local/demo-customizations.js';
import { projectRoot } from '../../local/paths.js';
import {
  DEMO_DISTILLATION,
  DEMO_DISTILLATION_KEY,
  DEMO_GRADER_FUNCTION_NAME,
  DEMO_RFT,
  DEMO_RFT_KEY,
  demoJobInput,
  demoStageParams,
  seedDemoAccount,
  withJobEnis,
  type DemoAccount,
} from '../../local/seed.js';
import { loadLambdaHandlers, runWorkflow, type TaskHandler } from '../../local/workflow.js';
import { setStage } from '../fixtures/stage.js';
import { motoClients, resetMoto } from '../support/moto-clients.js';

const clients = motoClients();
const { ec2, s3, bedrock, lambda } = clients;
let lambdas: Record<string, TaskHandler>;
beforeAll(async () => {
  lambdas = await loadLambdaHandlers();
});

/** Polls 10 s apart (the shortest a job may ask for); the Wait states here last `waitMs`. */
const polling = { initialSeconds: 10, maxSeconds: 10, growthFactor: 1 };

/** The output of state `name` (its last exit) in a run's events. */
function outputOf(run: Awaited<ReturnType<typeof runWorkflow>>, name: string): any {
  return run.events.flatMap((e: any) => (e.type === 'StateExited' && e.state.name === name ? [e.state.output] : [])).at(-1);
}

describe('the demo account holds what distillation and RFT need', () => {
  let account: DemoAccount;
  beforeAll(async () => {
    await resetMoto();
    account = await seedDemoAccount(clients);
  });

  it('a grader Lambda (the documented interface, a timeout above the default) that the stage params list, and the teacher', async () => {
    expect(account.graderLambdaArn).toBe(`arn:aws:lambda:us-east-1:${account.accountId}:function:${DEMO_GRADER_FUNCTION_NAME}`);
    const fn = await lambda.send(new GetFunctionCommand({ FunctionName: account.graderLambdaArn }));
    expect(fn.Configuration).toMatchObject({ Runtime: 'python3.12', Handler: 'grader.lambda_handler', Timeout: DEMO_GRADER_TIMEOUT_SECONDS });
    expect(demoStageParams(account)).toMatchObject({ graderLambdaArns: account.graderLambdaArn, teacherModelIdentifiers: DEMO_DISTILLATION.teacherModelIdentifier });
  });

  it('the grader package scores the documented reward-function payload: its own dataset\'s answers right and wrong', () => {
    // The package as CreateFunction received it, run by the .venv's Python (Lambda's handler contract:
    // grader.lambda_handler(event, context)); the payload is each prompt with the model's answer appended
    // as the last assistant turn, and an id (reward-functions.html "Lambda function implementation details").
    const dir = mkdtempSync(join(tmpdir(), 'bvc-grader-'));
    writeFileSync(join(dir, 'grader.py'), strFromU8(unzipSync(demoGraderZip())['grader.py']!));
    const records = rftDataset().trimEnd().split('\n').map((l) => JSON.parse(l));
    const equation = records.find((r) => r.id === 'demo-001');
    const sample = (id: string, record: any, answer: string) => ({ id, messages: [...record.messages, { role: 'assistant', content: answer }], reference_answer: record.reference_answer });
    const payload = [
      sample('right', equation, `Subtract, then divide: ${equation.reference_answer.solution}`),
      sample('wrong', equation, 'x = 1000'),
      sample('documented', records[0], records[0].reference_answer),
      { ...sample('metadata', equation, equation.reference_answer.solution), reference_answer: undefined, metadata: { reference_answer: equation.reference_answer } },
    ];
    const script = 'import json, sys; sys.path.insert(0, sys.argv[1]); import grader; print(json.dumps(grader.lambda_handler(json.load(sys.stdin), None)))';
    const out = JSON.parse(execFileSync(join(projectRoot, '.venv', 'bin', 'python'), ['-c', script, dir], { input: JSON.stringify(payload) }).toString());
    expect(out).toEqual([
      { id: 'right', aggregate_reward_score: 1, metrics_list: [{ name: 'exact_solution', value: 1, type: 'Reward' }] },
      { id: 'wrong', aggregate_reward_score: 0, metrics_list: [{ name: 'exact_solution', value: 0, type: 'Reward' }] },
      { id: 'documented', aggregate_reward_score: 1, metrics_list: [{ name: 'reference_overlap', value: 1, type: 'Reward' }] },
      { id: 'metadata', aggregate_reward_score: 1, metrics_list: [{ name: 'exact_solution', value: 1, type: 'Reward' }] },
    ]);
  });

  it('the datasets: the documented examples first, at least the documented minimum of records', async () => {
    const lines = async (key: string) =>
      (await (await s3.send(new GetObjectCommand({ Bucket: account.trainingBucket, Key: key }))).Body!.transformToString()).trimEnd().split('\n').map((l) => JSON.parse(l));
    const distillation = await lines(DEMO_DISTILLATION_KEY);
    expect(distillation.length).toBeGreaterThanOrEqual(DEMO_PROMPT_COUNT);
    expect(distillation[0].messages[0]).toEqual({ role: 'user', content: [{ text: 'why is the sky blue' }] });
    expect(new Set(distillation.map((r) => r.schemaVersion))).toEqual(new Set(['bedrock-conversation-2024']));
    const rft = await lines(DEMO_RFT_KEY);
    expect(rft.length).toBeGreaterThanOrEqual(DEMO_PROMPT_COUNT);
    expect(rft[1]).toMatchObject({ id: 'sample-001', reference_answer: { solution: 'x = 4' } });
    for (const record of rft) expect(record.reference_answer).toBeDefined();
  });

  it('invocation logs where Bedrock delivers them, the documented delivery policy, at least 100 records matching the demo filter', async () => {
    expect(demoStageParams(account)).toMatchObject({ invocationLogBuckets: account.invocationLogBucket });
    const policy = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: account.invocationLogBucket }))).Policy!);
    expect(policy.Statement).toEqual([
      expect.objectContaining({ Effect: 'Allow', Principal: { Service: 'bedrock.amazonaws.com' }, Action: ['s3:PutObject'] }),
    ]);
    const prefix = account.invocationLogS3Uri.slice(`s3://${account.invocationLogBucket}/`.length);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: account.invocationLogBucket, Prefix: prefix }));
    const records = [];
    for (const { Key } of listed.Contents ?? []) {
      expect(Key).toMatch(/\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/[^/]+\.json\.gz$/);
      const body = await (await s3.send(new GetObjectCommand({ Bucket: account.invocationLogBucket, Key }))).Body!.transformToByteArray();
      records.push(...gunzipSync(body).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l)));
    }
    for (const r of records) expect(r).toMatchObject({ schemaType: 'ModelInvocationLog', schemaVersion: '1.0', accountId: account.accountId, region: 'us-east-1' });
    expect(records.filter((r) => r.requestMetadata.project === DEMO_LOG_METADATA.project).length).toBeGreaterThanOrEqual(100);
  });
});

describe.each([
  { type: 'DISTILLATION', member: 'distillationConfig', logs: false },
  { type: 'REINFORCEMENT_FINE_TUNING', member: 'rftConfig', logs: false },
  { type: 'DISTILLATION', member: 'distillationConfig', logs: true },
  { type: 'REINFORCEMENT_FINE_TUNING', member: 'rftConfig', logs: true },
] as const)('$type against moto (invocation logs: $logs)', ({ type, member, logs }) => {
  let account: DemoAccount;
  beforeEach(async () => {
    await resetMoto();
    account = await seedDemoAccount(clients);
    setStage(demoStageParams(account, { jobWait: 'poll' }));
    await configureBedrockStandIn(inject('motoEndpoint'), { enabled: true, default: { outcome: 'complete', seconds: 1 } });
  });

  it('runs to JobSucceeded; the emulator received the type, its customizationConfig and its training data, and kept them on the job', async () => {
    const invocationLogsConfig = {
      usePromptResponse: false,
      invocationLogSource: { s3Uri: account.invocationLogS3Uri },
      requestMetadataFilters: { equals: { ...DEMO_LOG_METADATA } },
    };
    const input = demoJobInput(account, { customizationType: type, polling, maxJobDurationSeconds: 600, ...(logs ? { invocationLogsConfig } : {}) });
    const handlers = { ...lambdas, SubmitJob: withJobEnis(lambdas.SubmitJob!, ec2) };
    const run = await runWorkflow({ input, handlers, retryMs: 0, waitMs: 500 });
    expect(run.status, JSON.stringify(run.error ?? run.output)).toBe('SUCCEEDED');
    expect(run.states.at(-1)).toBe('JobSucceeded');

    // The preflight read what the type names (the teacher, resp. the grader) and found nothing failing.
    const report = outputOf(run, 'ValidateNetwork').preflight;
    const ids = report.checks.map((c: { id: string }) => c.id);
    expect(ids).toContain(type === 'DISTILLATION' ? 'teacher.available' : 'grader.exists');
    if (logs) expect(ids).toContain('invocation-logs.exist');
    expect(report.checks.filter((c: { severity: string; passed: boolean }) => !c.passed && c.severity === 'fail')).toEqual([]);

    const requests = await standInCreateJobRequests(inject('motoEndpoint'));
    expect(requests).toHaveLength(1);
    const [{ request, error }] = requests as [(typeof requests)[number]];
    expect(error).toBeUndefined();
    const submission = outputOf(run, 'SubmitJob').submission;
    expect(request).toMatchObject({ jobName: submission.jobName, customizationType: type, baseModelIdentifier: input.baseModelIdentifier });
    expect(request!.customizationConfig).toEqual(input.customizationConfig);
    expect(Object.keys(request!.customizationConfig!)).toEqual([member]);
    if (logs) {
      // The invocation logs and their filter, as the job gives them: no dataset file at all.
      expect(request!.trainingDataConfig).toEqual({ invocationLogsConfig });
    } else {
      // The dataset file, as the copy SubmitJob snapshots under the output prefix (trained bytes = checked bytes).
      expect(submission.trainedOn.trainingDataS3Uri).toMatch(new RegExp(`^s3://${account.outputBucket}/`));
      expect(request!.trainingDataConfig).toEqual({ s3Uri: submission.trainedOn.trainingDataS3Uri });
    }
    if (type === 'REINFORCEMENT_FINE_TUNING') {
      // RFT's hyper-parameters are typed, inside rftConfig; the string map is not sent at all.
      expect(request).not.toHaveProperty('hyperParameters');
      expect(request!.customizationConfig!.rftConfig!.hyperParameters).toEqual(DEMO_RFT.hyperParameters);
      expect(request!.customizationConfig!.rftConfig!.graderConfig).toEqual({ lambdaGrader: { lambdaArn: account.graderLambdaArn } });
    } else {
      expect(request!.customizationConfig!.distillationConfig!.teacherModelConfig?.teacherModelIdentifier).toBe(DEMO_DISTILLATION.teacherModelIdentifier);
    }

    const job = await bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: submission.jobArn }));
    expect(job).toMatchObject({ status: 'Completed', customizationType: type, customizationConfig: input.customizationConfig });
  });
});

/**
 * The demo account's evaluation gate (local/demo-evaluation.ts, seeded by local/seed.ts): its held-out
 * dataset passes the dataset step's rules for a held-out record (functions/validate-dataset/evaluation-dataset.ts),
 * its Nova Micro training set passes the fine-tuning rules for that model (functions/validate-dataset/formats.ts),
 * and the demo stage (serverless.yml params of the demo account) resolves the demo's job input and
 * examples/evaluation.json with the gate, for a model the on-demand table lists.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { heldOutRecordProblems } from '../../functions/shared/held-out-dataset.js';
import { checkRecord, datasetRulesFor } from '../../functions/validate-dataset/formats.js';
import { onDemandDeploymentSupport } from '../../functions/shared/evaluation-support.js';
import { resolveJobInput } from '../../functions/shared/job-input.js';
import { stageFromParams } from '../../functions/shared/stage.js';
import {
  DEMO_EVALUATION,
  DEMO_EVALUATION_BUCKET,
  DEMO_HELD_OUT_KEY,
  DEMO_HELD_OUT_NAME,
  HELD_OUT_DOCUMENTED_RECORDS,
  NOVA_DOCUMENTED_RECORD,
  heldOutDataset,
  heldOutPrompts,
  novaTrainingDataset,
} from '../../local/demo-evaluation.js';
import { projectRoot } from '../../local/paths.js';
import { DEMO_NETWORK, demoEvaluationJobInput, demoStageParams, type DemoAccount } from '../../local/seed.js';

const lines = (jsonl: string) => jsonl.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

/** The demo account as seedDemoAccount returns it (ids fixed by DEMO_NETWORK; moto's default account). */
const account: DemoAccount = {
  region: 'us-east-1',
  accountId: '123456789012',
  vpcId: DEMO_NETWORK.vpcId.id,
  subnetIds: DEMO_NETWORK.subnetIds.map((s) => s.id),
  securityGroupId: DEMO_NETWORK.securityGroupId.id,
  routeTableId: 'rtb-0123456789abcdef0',
  endpointId: DEMO_NETWORK.endpointId.id,
  trainingBucket: 'demo-training-bucket',
  outputBucket: 'demo-output-bucket',
  invocationLogBucket: 'demo-invocation-logs',
  invocationLogS3Uri: 's3://demo-invocation-logs/AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/',
  evaluationBucket: DEMO_EVALUATION_BUCKET,
  roleArn: 'arn:aws:iam::123456789012:role/BedrockCustomizationRole',
  leftoverEnis: { otherJobAvailable: 'eni-1', otherJobInUse: 'eni-2', untagged: 'eni-3' },
};
const execution = { id: 'arn:aws:states:us-east-1:123456789012:execution:bedrock-vpc-customization-local-customize-model:validate', name: 'validate' };

describe('the demo held-out dataset', () => {
  it("starts with AWS's example records and has at least 5, each a valid held-out record with a reference answer", () => {
    const records = lines(heldOutDataset());
    expect(records.slice(0, HELD_OUT_DOCUMENTED_RECORDS.length)).toEqual(HELD_OUT_DOCUMENTED_RECORDS);
    expect(records.length).toBeGreaterThanOrEqual(5);
    for (const [i, record] of records.entries()) {
      expect(heldOutRecordProblems(record), `line ${i + 1}`).toEqual([]);
      expect(typeof record.referenceResponse, `line ${i + 1}`).toBe('string');
    }
    expect(heldOutPrompts()).toEqual(records.map((r) => r.prompt));
    expect(new Set(heldOutPrompts()).size).toBe(records.length);
  });

  it('is held out: no prompt of it is a training prompt', () => {
    const trainingPrompts = lines(novaTrainingDataset()).map((r) => ((r.messages as { content: { text: string }[] }[])[0]!.content[0]!.text));
    for (const prompt of heldOutPrompts()) expect(trainingPrompts).not.toContain(prompt);
  });
});

describe('the demo Nova Micro training set', () => {
  it("starts with AWS's example record and passes the fine-tuning rules of the demo's base model, with at least their minimum of records", () => {
    const rules = datasetRulesFor(DEMO_EVALUATION.baseModelIdentifier, 'FINE_TUNING');
    expect(rules, 'the dataset step has rules for the demo model').toBeDefined();
    const records = lines(novaTrainingDataset());
    expect(records[0]).toEqual(NOVA_DOCUMENTED_RECORD);
    for (const [i, record] of records.entries()) expect(checkRecord(rules!, record), `line ${i + 1}`).toEqual([]);
    expect(records.length).toBeGreaterThanOrEqual(rules!.limits.minTrainingRecords ?? 1);
  });
});

describe('the demo stage and job with the gate', () => {
  const stage = stageFromParams(demoStageParams(account), { accountId: account.accountId, region: account.region });

  it('the demo stage allows the gate with its bucket, held-out dataset, metrics, judge, prices and cap', () => {
    expect(stage.evaluation).toMatchObject({
      gate: 'allow',
      bucket: DEMO_EVALUATION_BUCKET,
      datasets: { [DEMO_HELD_OUT_NAME]: `s3://${DEMO_EVALUATION_BUCKET}/${DEMO_HELD_OUT_KEY}` },
      metrics: [...DEMO_EVALUATION.metrics],
      judgeModels: [DEMO_EVALUATION.judgeModelIdentifier],
      inferencePricesUsdPer1k: DEMO_EVALUATION.pricesUsdPer1k,
      maxCostUsd: DEMO_EVALUATION.maxCostUsd,
    });
  });

  it.each([
    ['the promote/reject scenarios\' input', () => demoEvaluationJobInput(account)],
    ['examples/evaluation.json', () => JSON.parse(readFileSync(join(projectRoot, 'examples', 'evaluation.json'), 'utf8')) as Record<string, unknown>],
  ])('%s resolves within the demo stage with the gate, for a model Bedrock deploys on demand', (_name, input) => {
    const job = resolveJobInput(input(), stage, execution);
    expect(job.evaluation).toMatchObject({
      dataset: { name: DEMO_HELD_OUT_NAME, s3Uri: `s3://${DEMO_EVALUATION_BUCKET}/${DEMO_HELD_OUT_KEY}` },
      judgeModelIdentifier: DEMO_EVALUATION.judgeModelIdentifier,
      outputS3Uri: expect.stringMatching(new RegExp(`^s3://${DEMO_EVALUATION_BUCKET}/evaluations/`)),
    });
    expect(onDemandDeploymentSupport(job.baseModelIdentifier, account.region, job.customizationType).supported).toBe(true);
  });
});

/**
 * Distillation, reinforcement fine-tuning and training from invocation logs in the job input: each
 * type's settings typed and bounded (the API's shapes and bounds, botocore's bedrock service model),
 * the combinations Bedrock refuses refused before any AWS call with the field named, the stage's
 * teacher models, grader Lambdas and invocation-log buckets bounding what a job may name, and the
 * CreateModelCustomizationJob request carrying exactly the SDK's shapes.
 */
import { describe, expect, it } from 'vitest';
import { issuesOf } from '../support/input-issues.js';
import { StageConfigError } from '../../functions/shared/errors.js';
import { checkJobInputShape, graderLambdaArnOf, resolveJobInput, teacherModelOf } from '../../functions/shared/job-input.js';
import { buildCreateRequest } from '../../functions/submit-job/submit-job.js';
import { CUSTOMIZATIONS, EXECUTION, GRADER_ARN, rawJob, resolveCovered } from '../fixtures/job.js';
import { coveringParams, testStage } from '../fixtures/stage.js';

const covering = (raw: Record<string, unknown>) => resolveCovered(raw);

const fieldsOf = (fn: () => unknown) => issuesOf(fn).map((i) => i.field);

describe('distillation', () => {
  it('resolves, names its teacher, and sends distillationConfig with the dataset file', () => {
    const job = covering(rawJob(CUSTOMIZATIONS.distillation));
    expect(teacherModelOf(job)).toBe('amazon.nova-pro-v1:0');
    expect(graderLambdaArnOf(job)).toBeUndefined();
    const request = buildCreateRequest(job, EXECUTION);
    expect(request.customizationType).toBe('DISTILLATION');
    expect(request.customizationConfig).toEqual({
      distillationConfig: { teacherModelConfig: { teacherModelIdentifier: 'amazon.nova-pro-v1:0', maxResponseLengthForInference: 1000 } },
    });
    expect(request.trainingDataConfig).toEqual({ s3Uri: 's3://training-bucket/datasets/support.jsonl' });
    expect(request).not.toHaveProperty('hyperParameters');
  });

  it('needs distillationConfig, and only it', () => {
    expect(fieldsOf(() => covering(rawJob({ ...CUSTOMIZATIONS.distillation, customizationConfig: undefined })))).toEqual([
      'customizationConfig.distillationConfig',
    ]);
    const rftConfig = CUSTOMIZATIONS.rft.customizationConfig;
    const issues = issuesOf(() => covering(rawJob({ ...CUSTOMIZATIONS.distillation, customizationConfig: rftConfig })));
    expect(issues).toEqual([{ field: 'customizationConfig.distillationConfig', message: expect.stringContaining('rftConfig is for another customization type') }]);
  });

  it('refuses a teacher the stage does not list, naming the param and the allowed ones', () => {
    const raw = rawJob(CUSTOMIZATIONS.distillation);
    const issues = issuesOf(() => resolveJobInput(raw, testStage({ ...coveringParams(raw), teacherModelIdentifiers: 'amazon.nova-premier-v1:0' }), EXECUTION));
    expect(issues).toEqual([
      {
        field: 'customizationConfig.distillationConfig.teacherModelConfig.teacherModelIdentifier',
        message: expect.stringMatching(/param teacherModelIdentifiers.*amazon\.nova-premier-v1:0/),
      },
    ]);
    const none = issuesOf(() => resolveJobInput(raw, testStage({ ...coveringParams(raw), teacherModelIdentifiers: '' }), EXECUTION));
    expect(none[0]!.message).toMatch(/allows no distillation teacher model/);
  });

  it('bounds the teacher and its response length by the API model', () => {
    const teacher = (teacherModelConfig: Record<string, unknown>) =>
      rawJob({ ...CUSTOMIZATIONS.distillation, customizationConfig: { distillationConfig: { teacherModelConfig } } });
    expect(fieldsOf(() => covering(teacher({ teacherModelIdentifier: 'amazon.nova-pro-v1:0', maxResponseLengthForInference: 0 })))).toEqual([
      'customizationConfig.distillationConfig.teacherModelConfig.maxResponseLengthForInference',
    ]);
    const notAModel = teacher({ teacherModelIdentifier: 'not a model' });
    expect(fieldsOf(() => resolveJobInput(notAModel, testStage(coveringParams(notAModel, { teacherModelIdentifiers: 'amazon.nova-pro-v1:0' })), EXECUTION))).toEqual([
      'customizationConfig.distillationConfig.teacherModelConfig.teacherModelIdentifier',
    ]);
    expect(fieldsOf(() => covering(teacher({ teacherModelIdentifier: 'amazon.nova-pro-v1:0', temperature: 1 })))).toEqual(['customizationConfig.distillationConfig.teacherModelConfig']);
    // The ARN forms of the API's TeacherModelIdentifier are accepted.
    for (const arn of ['arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0', 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0']) {
      expect(teacherModelOf(covering(teacher({ teacherModelIdentifier: arn })))).toBe(arn);
    }
  });
});

describe('reinforcement fine-tuning', () => {
  it('resolves, names its grader, and sends rftConfig with typed hyper-parameters and no string map', () => {
    const job = covering(rawJob(CUSTOMIZATIONS.rft));
    expect(graderLambdaArnOf(job)).toBe(GRADER_ARN);
    const request = buildCreateRequest(job, EXECUTION);
    expect(request.customizationType).toBe('REINFORCEMENT_FINE_TUNING');
    expect(request.customizationConfig).toEqual(CUSTOMIZATIONS.rft.customizationConfig);
    expect(request).not.toHaveProperty('hyperParameters');
  });

  it('refuses string hyperParameters (RFT takes typed ones) and a missing grader', () => {
    expect(fieldsOf(() => covering(rawJob({ ...CUSTOMIZATIONS.rft, hyperParameters: { epochCount: '2' } })))).toEqual(['hyperParameters']);
    const noGrader = { rftConfig: { hyperParameters: { epochCount: 2 } } };
    expect(fieldsOf(() => covering(rawJob({ ...CUSTOMIZATIONS.rft, customizationConfig: noGrader })))).toEqual(['customizationConfig.rftConfig.graderConfig']);
  });

  it.each([
    ['epochCount', 0],
    ['epochCount', 51],
    ['batchSize', 15],
    ['batchSize', 513],
    ['learningRate', 0.01],
    ['learningRate', 1e-8],
    ['trainingSamplePerPrompt', 1],
    ['trainingSamplePerPrompt', 17],
    ['evalInterval', 101],
    ['reasoningEffort', 'extreme'],
    ['epochCount', 2.5],
    ['maxPromptLength', 0],
  ])('refuses %s = %s (outside the API model RFTHyperParameters)', (name, value) => {
    const config = { rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: GRADER_ARN } }, hyperParameters: { [name]: value } } };
    expect(fieldsOf(() => covering(rawJob({ ...CUSTOMIZATIONS.rft, customizationConfig: config })))).toEqual([`customizationConfig.rftConfig.hyperParameters.${name}`]);
  });

  it('accepts the bounds themselves', () => {
    const hyperParameters = { epochCount: 50, batchSize: 16, learningRate: 1e-7, trainingSamplePerPrompt: 16, evalInterval: 1, reasoningEffort: 'high' };
    const config = { rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: GRADER_ARN } }, hyperParameters } };
    expect(buildCreateRequest(covering(rawJob({ ...CUSTOMIZATIONS.rft, customizationConfig: config })), EXECUTION).customizationConfig).toEqual(config);
  });

  it('refuses a grader the stage does not list, and a grader ARN that is not a Lambda function', () => {
    const raw = rawJob(CUSTOMIZATIONS.rft);
    const other = 'arn:aws:lambda:us-east-1:123456789012:function:other-grader';
    const issues = issuesOf(() => resolveJobInput(raw, testStage({ ...coveringParams(raw), graderLambdaArns: other }), EXECUTION));
    expect(issues).toEqual([{ field: 'customizationConfig.rftConfig.graderConfig.lambdaGrader.lambdaArn', message: expect.stringContaining(other) }]);
    const none = issuesOf(() => resolveJobInput(raw, testStage({ ...coveringParams(raw), graderLambdaArns: '' }), EXECUTION));
    expect(none[0]!.message).toMatch(/allows no RFT grader Lambda \(param graderLambdaArns is empty\)/);
    for (const lambdaArn of ['arn:aws:lambda:us-east-1:123456789012:function:*', 'arn:aws:iam::123456789012:role/grader', `${GRADER_ARN}:v1:extra`]) {
      const config = { rftConfig: { graderConfig: { lambdaGrader: { lambdaArn } } } };
      const job = rawJob({ ...CUSTOMIZATIONS.rft, customizationConfig: config });
      expect(fieldsOf(() => resolveJobInput(job, testStage(coveringParams(job, { graderLambdaArns: GRADER_ARN })), EXECUTION))).toEqual([
        'customizationConfig.rftConfig.graderConfig.lambdaGrader.lambdaArn',
      ]);
    }
  });
});

describe('training from invocation logs', () => {
  it('sends invocationLogsConfig instead of an S3 dataset, and reads the log bucket', () => {
    const job = covering(rawJob(CUSTOMIZATIONS.invocationLogs));
    expect(job.trainingDataS3Uri).toBeUndefined();
    expect(job.s3.training).toBeUndefined();
    expect(job.s3.invocationLogs).toEqual({ bucket: 'invocation-logs-bucket', key: 'AWSLogs/123456789012/BedrockModelInvocationLogs/' });
    expect(job.s3.buckets).toContainEqual({ bucket: 'invocation-logs-bucket', access: 'read' });
    const request = buildCreateRequest(job, EXECUTION);
    expect(request.trainingDataConfig).toEqual({ invocationLogsConfig: CUSTOMIZATIONS.invocationLogs.invocationLogsConfig });
  });

  it('refuses invocation logs with a dataset file, for fine-tuning, and neither', () => {
    const logs = CUSTOMIZATIONS.invocationLogs;
    expect(fieldsOf(() => covering(rawJob({ ...logs, trainingDataS3Uri: 's3://training-bucket/datasets/support.jsonl' })))).toEqual(['invocationLogsConfig']);
    const fineTuning = { ...logs, customizationType: 'FINE_TUNING', customizationConfig: undefined, baseModelIdentifier: 'amazon.titan-text-express-v1' };
    expect(issuesOf(() => covering(rawJob(fineTuning)))).toEqual([
      { field: 'invocationLogsConfig', message: 'is for DISTILLATION and REINFORCEMENT_FINE_TUNING, not FINE_TUNING' },
    ]);
    expect(fieldsOf(() => covering(rawJob({ ...logs, invocationLogsConfig: undefined })))).toEqual(['trainingDataS3Uri']);
  });

  it('takes invocation logs for RFT too (the User Guide documents both)', () => {
    const job = covering(rawJob({ ...CUSTOMIZATIONS.rft, trainingDataS3Uri: undefined, validationDataS3Uris: [], invocationLogsConfig: CUSTOMIZATIONS.invocationLogs.invocationLogsConfig }));
    const request = buildCreateRequest(job, EXECUTION);
    expect(request.trainingDataConfig).toEqual({ invocationLogsConfig: CUSTOMIZATIONS.invocationLogs.invocationLogsConfig });
    expect(request.customizationConfig).toEqual(CUSTOMIZATIONS.rft.customizationConfig);
  });

  it('refuses a log bucket outside the stage param invocationLogBuckets', () => {
    const raw = rawJob(CUSTOMIZATIONS.invocationLogs);
    const issues = issuesOf(() => resolveJobInput(raw, testStage({ ...coveringParams(raw), invocationLogBuckets: 'other-logs' }), EXECUTION));
    expect(issues).toEqual([{ field: 'invocationLogsConfig.invocationLogSource.s3Uri', message: expect.stringContaining('param invocationLogBuckets') }]);
  });

  it('bounds the request-metadata filters by the API model (one key per map, at most 16 filters, one member)', () => {
    const filters = (requestMetadataFilters: unknown) =>
      rawJob({ ...CUSTOMIZATIONS.invocationLogs, invocationLogsConfig: { ...CUSTOMIZATIONS.invocationLogs.invocationLogsConfig, requestMetadataFilters } });
    expect(covering(filters({ andAll: [{ equals: { a: '1' } }, { notEquals: { b: '2' } }] })).invocationLogsConfig?.requestMetadataFilters).toEqual({
      andAll: [{ equals: { a: '1' } }, { notEquals: { b: '2' } }],
    });
    for (const bad of [
      { equals: { a: '1', b: '2' } },
      { equals: {} },
      { equals: { a: '1' }, notEquals: { b: '2' } },
      { orAll: [] },
      { orAll: Array.from({ length: 17 }, (_, i) => ({ equals: { [`k${i}`]: 'v' } })) },
      { andAll: [{ equals: { a: '1' }, notEquals: { b: '2' } }] },
      { equals: { 'a"b': '1' } },
    ]) {
      const fields = fieldsOf(() => covering(filters(bad)));
      expect(fields).toHaveLength(1);
      expect(fields[0]).toMatch(/^invocationLogsConfig\.requestMetadataFilters/);
    }
  });
});

describe('fine-tuning and continued pre-training', () => {
  it('refuse a customizationConfig', () => {
    for (const customizationType of ['FINE_TUNING', 'CONTINUED_PRE_TRAINING']) {
      const issues = issuesOf(() => covering(rawJob({ customizationType, customizationConfig: CUSTOMIZATIONS.distillation.customizationConfig })));
      expect(issues).toEqual([{ field: 'customizationConfig', message: expect.stringContaining(`left out for ${customizationType}`) }]);
    }
  });

  it('send no customizationConfig', () => {
    expect(buildCreateRequest(covering(rawJob()), EXECUTION)).not.toHaveProperty('customizationConfig');
  });
});

describe('budget caps', () => {
  it('refuse distillation, RFT and invocation logs while a cap applies (no token estimate), naming the caps', () => {
    for (const overrides of [CUSTOMIZATIONS.distillation, CUSTOMIZATIONS.rft, CUSTOMIZATIONS.invocationLogs]) {
      const raw = rawJob(overrides);
      const stageCap = issuesOf(() => resolveJobInput(raw, testStage({ ...coveringParams(raw), maxTrainingTokens: '1000000' }), EXECUTION));
      expect(stageCap).toEqual([{ field: 'customizationType', message: expect.stringContaining('param maxTrainingTokens') }]);
      const jobCap = issuesOf(() => covering(rawJob({ ...overrides, budget: { maxTrainingTokens: 5 } })));
      expect(jobCap).toEqual([{ field: 'customizationType', message: expect.stringContaining('budget.maxTrainingTokens') }]);
      expect(() => covering(raw)).not.toThrow();
    }
  });
});

describe('stage params for the new parts', () => {
  it('takes grader Lambdas of the workflow\'s own account and region only', () => {
    expect(testStage({ graderLambdaArns: `${GRADER_ARN},${GRADER_ARN.replace('rft-grader', 'g2')}:live` }).graderLambdaArns).toHaveLength(2);
    expect(() => testStage({ graderLambdaArns: 'arn:aws:lambda:us-east-1:210987654321:function:theirs' })).toThrow(StageConfigError);
    expect(() => testStage({ graderLambdaArns: 'arn:aws:lambda:eu-west-1:123456789012:function:elsewhere' })).toThrow(/graderLambdaArns.*region us-east-1/);
    expect(() => testStage({ graderLambdaArns: 'arn:aws:lambda:us-east-1:123456789012:function:*' })).toThrow(/graderLambdaArns/);
  });

  it('keeps invocation-log buckets apart from the output bucket and a VPC-only training bucket', () => {
    expect(() => testStage({ invocationLogBuckets: 'output-bucket' })).toThrow(/must not be the output bucket/);
    expect(() => testStage({ invocationLogBuckets: 'training-bucket', trainingBucketPolicy: 'apply' })).toThrow(/VPC-only Deny/);
    expect(testStage({ invocationLogBuckets: 'training-bucket' }).invocationLogBuckets).toEqual(['training-bucket']);
  });

  it('takes teacher models as ids or ARNs, and nothing else', () => {
    expect(testStage({ teacherModelIdentifiers: 'amazon.nova-pro-v1:0,us.amazon.nova-premier-v1:0' }).teacherModelIdentifiers).toHaveLength(2);
    expect(() => testStage({ teacherModelIdentifiers: 'amazon.nova-pro-v1:0,*' })).toThrow(/teacherModelIdentifiers/);
  });
});

describe('the CLI\'s check before it starts an execution (checkJobInputShape, no stage)', () => {
  it('refuses the combinations once the input names its customization type', () => {
    expect(fieldsOf(() => checkJobInputShape({ customizationType: 'REINFORCEMENT_FINE_TUNING', trainingDataS3Uri: 's3://training-bucket/d.jsonl' }))).toEqual([
      'customizationConfig.rftConfig',
    ]);
    expect(fieldsOf(() => checkJobInputShape({ ...CUSTOMIZATIONS.invocationLogs, trainingDataS3Uri: 's3://training-bucket/d.jsonl' }))).toEqual([
      'invocationLogsConfig',
    ]);
    expect(() => checkJobInputShape({ ...CUSTOMIZATIONS.rft, trainingDataS3Uri: 's3://training-bucket/d.jsonl' })).not.toThrow();
  });

  it('leaves the combinations to the workflow when the stage chooses the type', () => {
    expect(() => checkJobInputShape({ trainingDataS3Uri: 's3://training-bucket/d.jsonl' })).not.toThrow();
  });
});

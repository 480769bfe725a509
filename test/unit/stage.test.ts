/**
 * loadStage: the stage params (STAGE_* variables) parsed, with serverless.yml's defaults, and every
 * malformed or unsafe value rejected with a StageConfigError naming the param.
 */
import { describe, expect, it } from 'vitest';
import { StageConfigError } from '../../functions/shared/errors.js';
import { loadStage, stageEnv, stageFromParams, STAGE_PARAMS, trainingPriceFor, type StageParamName } from '../../functions/shared/stage.js';
import { TEST_ACCOUNT_ID, TEST_STAGE_PARAMS, testStage, type StageParams } from '../fixtures/stage.js';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const MRK = 'arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef';

/** The fewest params a deployment needs (everything else defaults): those of the test stage. */
const REQUIRED = ['vpcId', 'subnetIds', 'securityGroupIds', 'bedrockRoleArn', 'trainingBucket', 'outputBucket', 's3EndpointIds'] as const;
const MINIMAL: StageParams = Object.fromEntries(REQUIRED.map((name) => [name, TEST_STAGE_PARAMS[name]]));

const source = (params: StageParams, extra: Record<string, string | undefined> = {}) => ({
  AWS_REGION: 'us-east-1',
  ...stageEnv(params, { accountId: TEST_ACCOUNT_ID }),
  ...extra,
});

function problemsOf(src: Record<string, string | undefined>): string[] {
  try {
    loadStage(src);
  } catch (err) {
    expect(err).toBeInstanceOf(StageConfigError);
    return (err as StageConfigError).problems;
  }
  throw new Error('expected StageConfigError');
}

describe('loadStage', () => {
  it('parses the minimal params with serverless.yml defaults', () => {
    const stage = loadStage(source(MINIMAL));
    expect(stage).toEqual({
      partition: 'aws',
      accountId: '123456789012',
      region: 'us-east-1',
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      securityGroupIds: ['sg-0123456789abcdef0'],
      roleArn: 'arn:aws:iam::123456789012:role/BedrockCustomizationRole',
      trainingBucket: 'training-bucket',
      outputBucket: 'output-bucket',
      outputPrefix: '',
      extraBuckets: [],
      kmsKeyArns: [],
      exemptPrincipalArns: [],
      s3EndpointIds: ['vpce-0123456789abcdef0'],
      policies: { role: 'apply', endpoint: 'append', outputBucket: 'skip', trainingBucket: 'skip' },
      maxJobDurationSeconds: 86400,
      budget: {},
      jobWait: 'poll',
      maxExecutionsPerJob: 50,
      teacherModelIdentifiers: [],
      graderLambdaArns: [],
      invocationLogBuckets: [],
      evaluation: { gate: 'off', datasets: {}, metrics: [], judgeModels: [], maxPrompts: 100, rejectedDeployments: 'report' },
    });
  });

  it("the dataset budget: a price and caps, each optional; a cost cap needs a price; bad numbers named", () => {
    expect(loadStage(source({ ...MINIMAL, trainingTokenPriceUsdPer1k: '0.008', maxTrainingTokens: '5000000', maxTrainingCostUsd: '40' })).budget).toEqual({
      priceUsdPer1kTokens: 0.008,
      maxTrainingTokens: 5_000_000,
      maxTrainingCostUsd: 40,
    });
    expect(loadStage(source({ ...MINIMAL, maxTrainingTokens: ' ' })).budget).toEqual({});
    expect(problemsOf(source({ ...MINIMAL, maxTrainingCostUsd: '40' }))).toEqual([
      'stage param maxTrainingCostUsd (STAGE_MAX_TRAINING_COST_USD): needs stage param trainingTokenPriceUsdPer1k (STAGE_TRAINING_TOKEN_PRICE_USD_PER_1K) or stage param trainingTokenPricesUsdPer1k (STAGE_TRAINING_TOKEN_PRICES_USD_PER_1K) to estimate a job\'s cost',
    ]);
    for (const [name, value] of [['maxTrainingTokens', '1.5'], ['maxTrainingTokens', '-3'], ['trainingTokenPriceUsdPer1k', 'cheap'], ['maxTrainingCostUsd', '0']] as const) {
      expect(problemsOf(source({ ...MINIMAL, trainingTokenPriceUsdPer1k: '0.01', [name]: value }))[0], `${name}=${value}`).toMatch(new RegExp(`^stage param ${name} `));
    }
  });

  it('training prices per base model: parsed, trimmed; a malformed or repeated entry named by its position', () => {
    const prices = 'amazon.titan-text-express-v1=0.008, amazon.titan-text-express-v1:0:8k=0.01 ,meta.llama3-1-8b-instruct-v1:0=0.0015';
    expect(loadStage(source({ ...MINIMAL, trainingTokenPricesUsdPer1k: prices, maxTrainingCostUsd: '40' })).budget).toEqual({
      pricesUsdPer1kTokens: { 'amazon.titan-text-express-v1': 0.008, 'amazon.titan-text-express-v1:0:8k': 0.01, 'meta.llama3-1-8b-instruct-v1:0': 0.0015 },
      maxTrainingCostUsd: 40,
    });
    for (const [value, at, why] of [
      ['amazon.titan-text-express-v1', 0, /each must be <base model id>=/],
      ['a=0.1,b=', 1, /each must be/],
      ['a=0.1,b=0', 1, /each must be/],
      ['a=0.1,b=-1', 1, /each must be/],
      ['a=0.1,b=cheap', 1, /each must be/],
      ['Amazon.Titan=0.1', 0, /each must be/],
      ['arn:aws:bedrock:us-east-1::foundation-model/a=0.1', 0, /each must be/],
      ['a=0.1,a=0.2', 1, /must not price a model twice/],
    ] as const) {
      const problems = problemsOf(source({ ...MINIMAL, trainingTokenPricesUsdPer1k: value }));
      expect(problems, value).toHaveLength(1);
      expect(problems[0], value).toMatch(new RegExp(`^stage param trainingTokenPricesUsdPer1k \\(STAGE_TRAINING_TOKEN_PRICES_USD_PER_1K\\)\\[${at}\\]: `));
      expect(problems[0], value).toMatch(why);
    }
  });

  it('the price of a base model: its id, else the longest listed id it extends by a version suffix, else the price for any model', () => {
    const budget = {
      pricesUsdPer1kTokens: { 'amazon.titan-text-express-v1': 0.008, 'amazon.titan-text-express-v1:0:8k': 0.01, 'amazon.nova-micro-v1:0': 0.001 },
      priceUsdPer1kTokens: 0.5,
    };
    expect(trainingPriceFor(budget, 'amazon.titan-text-express-v1')).toEqual({ usdPer1kTokens: 0.008, pricedAs: 'amazon.titan-text-express-v1' });
    expect(trainingPriceFor(budget, 'amazon.titan-text-express-v1:0:8k')).toEqual({ usdPer1kTokens: 0.01, pricedAs: 'amazon.titan-text-express-v1:0:8k' });
    expect(trainingPriceFor(budget, 'amazon.titan-text-express-v1:0:32k')).toEqual({ usdPer1kTokens: 0.008, pricedAs: 'amazon.titan-text-express-v1' });
    expect(trainingPriceFor(budget, 'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k')).toEqual({
      usdPer1kTokens: 0.001,
      pricedAs: 'amazon.nova-micro-v1:0',
    });
    // A longer name is another model, not a version of a listed one.
    expect(trainingPriceFor(budget, 'amazon.titan-text-express-v10')).toEqual({ usdPer1kTokens: 0.5, pricedAs: 'any model' });
    expect(trainingPriceFor(budget, 'arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-express-v1:0:8k/abc')).toEqual({
      usdPer1kTokens: 0.5,
      pricedAs: 'any model',
    });
    expect(trainingPriceFor({ pricesUsdPer1kTokens: budget.pricesUsdPer1kTokens }, 'meta.llama3-1-8b-instruct-v1:0')).toBeUndefined();
    expect(trainingPriceFor({}, 'amazon.titan-text-express-v1')).toBeUndefined();
  });

  it('parses every param: lists trimmed, settings, keys, exemptions, a role path, blank values as defaults', () => {
    const stage = stageFromParams(
      {
        ...TEST_STAGE_PARAMS,
        subnetIds: ' subnet-0123456789abcdef0 , subnet-0123456789abcdef1 ,',
        bedrockRoleArn: 'arn:aws:iam::123456789012:role/service-role/Bedrock',
        extraBuckets: 'extra-bucket,shared.data-bucket',
        kmsKeyArns: `${KEY},${MRK}`,
        exemptPrincipalArns: 'arn:aws:iam::123456789012:role/Operators,arn:aws:iam::123456789012:user/break-glass',
        rolePolicy: 'skip',
        endpointPolicy: 'restrict',
        outputBucketPolicy: 'apply',
        trainingBucketPolicy: 'apply',
        maxJobDurationSeconds: '2592000',
        customizationType: '   ',
      },
      { accountId: TEST_ACCOUNT_ID, region: 'us-east-1' },
    );
    expect(stage).toMatchObject({
      subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      roleArn: 'arn:aws:iam::123456789012:role/service-role/Bedrock',
      outputPrefix: 'runs/',
      extraBuckets: ['extra-bucket', 'shared.data-bucket'],
      kmsKeyArns: [KEY, MRK],
      exemptPrincipalArns: ['arn:aws:iam::123456789012:role/Operators', 'arn:aws:iam::123456789012:user/break-glass'],
      policies: { role: 'skip', endpoint: 'restrict', outputBucket: 'apply', trainingBucket: 'apply' },
      maxJobDurationSeconds: 2_592_000,
      baseModelIdentifier: 'amazon.titan-text-express-v1',
    });
    expect(stage).not.toHaveProperty('customizationType');
  });

  it('allows no S3 endpoint when endpointPolicy is skip', () => {
    expect(loadStage(source({ ...MINIMAL, s3EndpointIds: '', endpointPolicy: 'skip' })).s3EndpointIds).toEqual([]);
  });

  it('takes partition aws-cn from the stack, with a role and key of that partition', () => {
    const stage = loadStage({
      AWS_REGION: 'cn-north-1',
      ...stageEnv(
        {
          ...MINIMAL,
          bedrockRoleArn: 'arn:aws-cn:iam::123456789012:role/BedrockCustomizationRole',
          kmsKeyArns: KEY.replace('arn:aws:', 'arn:aws-cn:').replace('us-east-1', 'cn-north-1'),
        },
        { accountId: TEST_ACCOUNT_ID, partition: 'aws-cn' },
      ),
    });
    expect(stage).toMatchObject({ partition: 'aws-cn', region: 'cn-north-1' });
  });

  type Case = [name: string, params: StageParams, param: StageParamName | 'STAGE_ACCOUNT_ID' | 'AWS_REGION' | 'STAGE_PARTITION', message?: RegExp];
  const cases: Case[] = [
    ['missing vpcId', { vpcId: undefined }, 'vpcId', /is required/],
    ['blank vpcId', { vpcId: '  ' }, 'vpcId', /is required/],
    ['vpcId with a wildcard', { vpcId: 'vpc-*' }, 'vpcId'],
    ['a bad subnet id', { subnetIds: 'subnet-0123456789abcdef0,subnet-xyz' }, 'subnetIds', /each must be a subnet id/],
    ['an ARN as subnet id', { subnetIds: 'arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0123456789abcdef0' }, 'subnetIds'],
    ['empty subnetIds', { subnetIds: '' }, 'subnetIds', /is required|at least one/],
    ['subnetIds of commas only', { subnetIds: ' , ,' }, 'subnetIds', /at least one/],
    ['a subnet twice', { subnetIds: 'subnet-0123456789abcdef0, subnet-0123456789abcdef0' }, 'subnetIds', /must not repeat/],
    ['a security group twice', { securityGroupIds: 'sg-0123456789abcdef0,sg-0123456789abcdef0' }, 'securityGroupIds', /must not repeat/],
    ['no security group', { securityGroupIds: undefined }, 'securityGroupIds'],
    ['an extra bucket twice', { extraBuckets: 'extra-bucket,extra-bucket' }, 'extraBuckets', /must not repeat/],
    ['a KMS key twice', { kmsKeyArns: `${KEY},${KEY}` }, 'kmsKeyArns', /must not repeat/],
    ['an exempt principal twice', { exemptPrincipalArns: 'arn:aws:iam::123456789012:role/Ops,arn:aws:iam::123456789012:role/Ops' }, 'exemptPrincipalArns', /must not repeat/],
    ['missing role', { bedrockRoleArn: undefined }, 'bedrockRoleArn', /is required/],
    ['role of another account', { bedrockRoleArn: 'arn:aws:iam::210987654321:role/BedrockCustomizationRole' }, 'bedrockRoleArn', /own account 123456789012, partition aws/],
    ['role of another partition', { bedrockRoleArn: 'arn:aws-cn:iam::123456789012:role/BedrockCustomizationRole' }, 'bedrockRoleArn', /own account 123456789012, partition aws/],
    ['role *', { bedrockRoleArn: 'arn:aws:iam::123456789012:role/*' }, 'bedrockRoleArn', /without wildcards/],
    ['role with a trailing *', { bedrockRoleArn: 'arn:aws:iam::123456789012:role/Bedrock*' }, 'bedrockRoleArn', /without wildcards/],
    ['role with ?', { bedrockRoleArn: 'arn:aws:iam::123456789012:role/Bedrock?' }, 'bedrockRoleArn', /without wildcards/],
    ['account * in the role', { bedrockRoleArn: 'arn:aws:iam::*:role/BedrockCustomizationRole' }, 'bedrockRoleArn'],
    ['a user as role', { bedrockRoleArn: 'arn:aws:iam::123456789012:user/BedrockCustomizationRole' }, 'bedrockRoleArn'],
    ['KMS key *', { kmsKeyArns: 'arn:aws:kms:us-east-1:123456789012:key/*' }, 'kmsKeyArns', /a KMS key ARN/],
    ['KMS key of every account', { kmsKeyArns: 'arn:aws:kms:us-east-1:*:key/1234abcd-12ab-34cd-56ef-1234567890ab' }, 'kmsKeyArns'],
    ['KMS alias', { kmsKeyArns: 'arn:aws:kms:us-east-1:123456789012:alias/my-key' }, 'kmsKeyArns', /a KMS key ARN/],
    ['bare KMS key id', { kmsKeyArns: '1234abcd-12ab-34cd-56ef-1234567890ab' }, 'kmsKeyArns'],
    ['KMS key of another region', { kmsKeyArns: KEY.replace('us-east-1', 'eu-west-1') }, 'kmsKeyArns', /region us-east-1/],
    ['KMS key of another account', { kmsKeyArns: `${KEY},${MRK.replace('123456789012', '210987654321')}` }, 'kmsKeyArns', /\[1\]: must be a key of the workflow's own account 123456789012/],
    ['KMS key of another partition', { kmsKeyArns: KEY.replace('arn:aws:', 'arn:aws-us-gov:') }, 'kmsKeyArns', /partition aws/],
    ['exempt principal *', { exemptPrincipalArns: 'arn:aws:iam::123456789012:role/*' }, 'exemptPrincipalArns', /without wildcards/],
    ['exempt principal bare *', { exemptPrincipalArns: '*' }, 'exemptPrincipalArns', /without wildcards/],
    ['exempt STS session', { exemptPrincipalArns: 'arn:aws:sts::123456789012:assumed-role/Operators/alice' }, 'exemptPrincipalArns', /IAM role or user ARN/],
    ['exempt account root', { exemptPrincipalArns: 'arn:aws:iam::123456789012:root' }, 'exemptPrincipalArns'],
    ['exempt principal of another account', { exemptPrincipalArns: 'arn:aws:iam::210987654321:role/Operators' }, 'exemptPrincipalArns', /\[0\]: must be a principal of the workflow's own account 123456789012/],
    ['exempt principal of another partition', { exemptPrincipalArns: 'arn:aws-cn:iam::123456789012:role/Operators' }, 'exemptPrincipalArns', /own account/],
    ['append with no S3 endpoint', { s3EndpointIds: '' }, 's3EndpointIds', /while endpointPolicy is append/],
    ['restrict with no S3 endpoint', { s3EndpointIds: undefined, endpointPolicy: 'restrict' }, 's3EndpointIds', /while endpointPolicy is restrict/],
    ['a bad S3 endpoint id', { s3EndpointIds: 'vpce-*' }, 's3EndpointIds'],
    ['extraBuckets listing the output bucket', { extraBuckets: 'extra-bucket,output-bucket' }, 'extraBuckets', /must not list the output bucket output-bucket/],
    ['an upper-case training bucket', { trainingBucket: 'Training-Bucket' }, 'trainingBucket', /an S3 bucket name/],
    ['output bucket *', { outputBucket: '*' }, 'outputBucket', /an S3 bucket name/],
    ['an extra bucket with *', { extraBuckets: 'extra-*' }, 'extraBuckets'],
    ['outputPrefix with ..', { outputPrefix: 'runs/../other/' }, 'outputPrefix', /path segment/],
    ['outputPrefix with a newline', { outputPrefix: 'runs/\nx/' }, 'outputPrefix', /control characters/],
    ['outputPrefix starting with /', { outputPrefix: '/runs/' }, 'outputPrefix', /must not start with/],
    ['outputPrefix over 512 characters', { outputPrefix: 'p'.repeat(513) }, 'outputPrefix'],
    ['rolePolicy restrict', { rolePolicy: 'restrict' }, 'rolePolicy'],
    ['endpointPolicy in upper case', { endpointPolicy: 'APPEND' }, 'endpointPolicy'],
    ['endpointPolicy open', { endpointPolicy: 'open' }, 'endpointPolicy'],
    ['outputBucketPolicy true', { outputBucketPolicy: 'true' }, 'outputBucketPolicy'],
    ['trainingBucketPolicy deny', { trainingBucketPolicy: 'deny' }, 'trainingBucketPolicy'],
    ['maxJobDurationSeconds over 30 days', { maxJobDurationSeconds: String(30 * 24 * 3600 + 1) }, 'maxJobDurationSeconds'],
    ['maxJobDurationSeconds 0', { maxJobDurationSeconds: '0' }, 'maxJobDurationSeconds'],
    ['maxJobDurationSeconds negative', { maxJobDurationSeconds: '-60' }, 'maxJobDurationSeconds'],
    ['maxJobDurationSeconds fractional', { maxJobDurationSeconds: '3600.5' }, 'maxJobDurationSeconds'],
    ['maxJobDurationSeconds not a number', { maxJobDurationSeconds: '1d' }, 'maxJobDurationSeconds'],
  ];

  it.each(cases)('rejects %s, naming the param', (_name, params, param, message) => {
    const problems = problemsOf(source({ ...MINIMAL, ...params }));
    const env = param in STAGE_PARAMS ? STAGE_PARAMS[param as StageParamName] : param;
    const named = problems.filter((p) => p.startsWith(param in STAGE_PARAMS ? `stage param ${param} (${env})` : param));
    expect(named, problems.join('\n')).not.toHaveLength(0);
    if (message) expect(named.join('\n')).toMatch(message);
  });

  it.each([
    ['a bad account id', { STAGE_ACCOUNT_ID: '1234' }, 'STAGE_ACCOUNT_ID'],
    ['a bad region', { AWS_REGION: 'mars' }, 'AWS_REGION'],
    ['a bad partition', { STAGE_PARTITION: 'azure' }, 'STAGE_PARTITION'],
  ] as const)('rejects %s from the stack', (_name, extra, name) => {
    expect(problemsOf(source(MINIMAL, extra)).some((p) => p.startsWith(`${name}:`))).toBe(true);
  });

  it('names every malformed param at once', () => {
    const problems = problemsOf(source({ ...MINIMAL, vpcId: undefined, subnetIds: 'subnet-x', rolePolicy: 'maybe' }));
    expect(problems.map((p) => p.split(' (')[0])).toEqual(
      expect.arrayContaining(['stage param vpcId', 'stage param subnetIds', 'stage param rolePolicy']),
    );
  });

  it('does not keep a stage that failed, nor reuse one for other values', () => {
    expect(() => loadStage(source({ ...MINIMAL, rolePolicy: 'maybe' }))).toThrow(StageConfigError);
    expect(loadStage(source(MINIMAL)).policies.role).toBe('apply');
    expect(loadStage(source({ ...MINIMAL, rolePolicy: 'skip' })).policies.role).toBe('skip');
    expect(() => loadStage(source({ ...MINIMAL, rolePolicy: 'maybe' }))).toThrow(/stage param rolePolicy \(STAGE_ROLE_POLICY\)/);
  });
});

describe('stage param maxExecutionsPerJob', () => {
  it('bounds the executions per job: 2 to 1,000 (default 50); a job may ask for fewer, never more', async () => {
    const { resolveJobInput } = await import('../../functions/shared/job-input.js');
    const { EXECUTION, rawJob } = await import('../fixtures/job.js');
    expect(testStage({ maxExecutionsPerJob: '7' }).maxExecutionsPerJob).toBe(7);
    for (const bad of ['1', '1001', 'many']) expect(() => testStage({ maxExecutionsPerJob: bad })).toThrow(/maxExecutionsPerJob/);
    expect(resolveJobInput(rawJob(), testStage({ maxExecutionsPerJob: '7' }), EXECUTION).polling.maxExecutions).toBe(7);
    expect(resolveJobInput(rawJob({ polling: { maxExecutions: 3 } }), testStage({ maxExecutionsPerJob: '7' }), EXECUTION).polling.maxExecutions).toBe(3);
    expect(() => resolveJobInput(rawJob({ polling: { maxExecutions: 8 } }), testStage({ maxExecutionsPerJob: '7' }), EXECUTION)).toThrow(/polling\.maxExecutions: must be at most 7/);
  });
});


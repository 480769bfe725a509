/**
 * A corpus of malformed and hostile job inputs: each is rejected by resolveJobInput with an
 * InvalidInputError naming the field (and, for what the stage does not allow, the allowed values and
 * the stage param). A few valid narrowings are the positive controls. No AWS call is made.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../functions/shared/errors.js';
import { resolveJobInput } from '../../functions/shared/job-input.js';
import type { Stage } from '../../functions/shared/stage.js';
import { EXECUTION, rawJob } from '../fixtures/job.js';
import { testStage, type StageParams } from '../fixtures/stage.js';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const ROLE = 'arn:aws:iam::123456789012:role/BedrockCustomizationRole';
const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'];
const SG = 'sg-0123456789abcdef0';
const VPC = 'vpc-0123456789abcdef0';

/** The stage of the corpus: the test stage with a KMS key and an extra (read-only) bucket. */
const BASE: StageParams = { kmsKeyArns: KEY, extraBuckets: 'extra-bucket' };
const stages = new Map<string, Stage>();
const stageFor = (params: StageParams = {}): Stage => {
  const key = JSON.stringify(params);
  if (!stages.has(key)) stages.set(key, testStage({ ...BASE, ...params }));
  return stages.get(key)!;
};

/** An object whose only own property is `key` (JSON.parse makes `__proto__` an own property, not the prototype). */
const own = (key: string, value: unknown): Record<string, unknown> => JSON.parse(`{${JSON.stringify(key)}:${JSON.stringify(value)}}`);
/** rawJob() with `key` set as an own property (also for `__proto__`). */
const rawWith = (key: string, value: unknown) => ({ ...rawJob(), ...own(key, value) });
const training = (key: string) => rawJob({ trainingDataS3Uri: `s3://training-bucket/${key}` });
const times = <T>(n: number, f: (i: number) => T) => Array.from({ length: n }, (_, i) => f(i));
const hex17 = (i: number) => i.toString(16).padStart(17, '0');
const subnets = (n: number) => times(n, (i) => `subnet-${hex17(i)}`);
const groups = (n: number) => times(n, (i) => `sg-${hex17(i)}`);
const tags = (n: number) => Object.fromEntries(times(n, (i) => [`k${i}`, 'v']));
const hyper = (n: number) => Object.fromEntries(times(n, (i) => [`param${i}`, '1']));
const upload = (overrides: { bucket?: unknown; object?: Record<string, unknown> } = {}) => ({
  bucket: overrides.bucket ?? { name: 'training-bucket' },
  object: { key: 'datasets/new.jsonl', etag: 'abc123', sequencer: '0055AED6DCD90281E5', ...overrides.object },
});
const withUpload = (u: unknown) => {
  const { trainingDataS3Uri: _, ...rest } = rawJob();
  return { ...rest, upload: u };
};
const vpc = (config: Record<string, unknown>) => rawJob({ vpcConfig: { vpcId: VPC, subnetIds: SUBNETS, securityGroupIds: [SG], ...config } });
const polling = (p: Record<string, unknown>) => rawJob({ polling: p });
const policies = (p: Record<string, unknown>) => rawJob({ policies: p });

interface Row {
  name: string;
  input: unknown;
  /** The field an issue must name. */
  field: string;
  /** What that issue's message must say (the allowed values, the stage param). */
  message?: RegExp;
  /** Stage params laid over the corpus stage. */
  stage?: StageParams;
}

const READABLE = /params trainingBucket, extraBuckets\): training-bucket, extra-bucket/;
const OUTPUT = /under s3:\/\/output-bucket\/runs\/ \(params outputBucket, outputPrefix\)/;
const ROLE_MSG = new RegExp(`param bedrockRoleArn\\): ${ROLE}`);
const KMS_MSG = new RegExp(`param kmsKeyArns\\): ${KEY}`);
const SUBNET_MSG = new RegExp(`param subnetIds\\): ${SUBNETS.join(', ')}`);
const SG_MSG = new RegExp(`param securityGroupIds\\): ${SG}`);
const unknownKey = (key: string) => new RegExp(`Unrecognized key.*${key.replace(/[$^]/g, '\\$&')}`);

const rows: Row[] = [
  // ---- not an object
  { name: 'null', input: null, field: '(input)', message: /JSON object/ },
  { name: 'an array', input: [rawJob()], field: '(input)', message: /JSON object/ },
  { name: 'a string', input: JSON.stringify(rawJob()), field: '(input)', message: /JSON object/ },
  { name: 'a number', input: 42, field: '(input)', message: /JSON object/ },
  { name: 'a boolean', input: true, field: '(input)', message: /JSON object/ },
  { name: 'undefined', input: undefined, field: '(input)', message: /JSON object/ },

  // ---- wrong types, field by field
  { name: 'baseModelIdentifier a number', input: rawJob({ baseModelIdentifier: 42 }), field: 'baseModelIdentifier' },
  { name: 'customizationType unknown', input: rawJob({ customizationType: 'ADMIN' }), field: 'customizationType' },
  { name: 'customizationType a number', input: rawJob({ customizationType: 1 }), field: 'customizationType' },
  { name: 'roleArn a number', input: rawJob({ roleArn: 123 }), field: 'roleArn' },
  { name: 'roleArn null', input: rawJob({ roleArn: null }), field: 'roleArn' },
  { name: 'trainingDataS3Uri an object', input: rawJob({ trainingDataS3Uri: { bucket: 'training-bucket' } }), field: 'trainingDataS3Uri' },
  { name: 'validationDataS3Uris a string', input: rawJob({ validationDataS3Uris: 's3://training-bucket/v.jsonl' }), field: 'validationDataS3Uris' },
  { name: 'validationDataS3Uris of numbers', input: rawJob({ validationDataS3Uris: [1] }), field: 'validationDataS3Uris[0]' },
  { name: 'outputDataS3Uri an array', input: rawJob({ outputDataS3Uri: ['s3://output-bucket/runs/'] }), field: 'outputDataS3Uri' },
  { name: 'hyperParameters a string', input: rawJob({ hyperParameters: 'epochCount=2' }), field: 'hyperParameters' },
  { name: 'hyperParameters an array', input: rawJob({ hyperParameters: ['2'] }), field: 'hyperParameters' },
  { name: 'vpcConfig a string', input: rawJob({ vpcConfig: VPC }), field: 'vpcConfig' },
  { name: 'vpcConfig null', input: rawJob({ vpcConfig: null }), field: 'vpcConfig' },
  { name: 'vpcConfig.subnetIds a string', input: vpc({ subnetIds: SUBNETS[0] }), field: 'vpcConfig.subnetIds' },
  { name: 'vpcConfig.securityGroupIds null', input: vpc({ securityGroupIds: null }), field: 'vpcConfig.securityGroupIds' },
  { name: 'vpcConfig.vpcId a number', input: vpc({ vpcId: 1 }), field: 'vpcConfig.vpcId' },
  { name: 'jobName a number', input: rawJob({ jobName: 5 }), field: 'jobName' },
  { name: 'customModelName a boolean', input: rawJob({ customModelName: false }), field: 'customModelName' },
  { name: 'customModelKmsKeyId a number', input: rawJob({ customModelKmsKeyId: 7 }), field: 'customModelKmsKeyId' },
  { name: 'jobTags an array', input: rawJob({ jobTags: ['team=ml'] }), field: 'jobTags' },
  { name: 'customModelTags a string', input: rawJob({ customModelTags: 'team=ml' }), field: 'customModelTags' },
  { name: 'policies a string', input: rawJob({ policies: 'apply' }), field: 'policies' },
  { name: 'preflight a number', input: rawJob({ preflight: 4 }), field: 'preflight' },
  { name: 'preflight.minFreeIpsPerSubnet a string', input: rawJob({ preflight: { minFreeIpsPerSubnet: '4' } }), field: 'preflight.minFreeIpsPerSubnet' },
  { name: 'maxJobDurationSeconds a string', input: rawJob({ maxJobDurationSeconds: '3600' }), field: 'maxJobDurationSeconds' },
  { name: 'polling a boolean', input: rawJob({ polling: true }), field: 'polling' },
  { name: 'polling.initialSeconds a string', input: polling({ initialSeconds: '60' }), field: 'polling.initialSeconds' },
  { name: 'maxQuotaWaitSeconds a string', input: rawJob({ maxQuotaWaitSeconds: '60' }), field: 'maxQuotaWaitSeconds' },
  { name: 'dryRun a string', input: rawJob({ dryRun: 'false' }), field: 'dryRun' },
  { name: 'upload a string', input: withUpload('s3://training-bucket/datasets/new.jsonl'), field: 'upload' },

  // ---- lengths
  { name: 'jobName of 64 characters', input: rawJob({ jobName: 'a'.repeat(64) }), field: 'jobName' },
  { name: 'customModelName of 64 characters', input: rawJob({ customModelName: 'a'.repeat(64) }), field: 'customModelName' },
  { name: 'baseModelIdentifier of 2,049 characters', input: rawJob({ baseModelIdentifier: 'a'.repeat(2049) }), field: 'baseModelIdentifier' },
  { name: 'tag key of 129 characters', input: rawJob({ jobTags: { ['k'.repeat(129)]: 'v' } }), field: `jobTags.${'k'.repeat(129)}`, message: /1 to 128 characters/ },
  { name: 'tag value of 257 characters', input: rawJob({ jobTags: { team: 'v'.repeat(257) } }), field: 'jobTags.team' },
  { name: '201 job tags', input: rawJob({ jobTags: tags(201) }), field: 'jobTags', message: /200 tags/ },
  { name: '201 model tags', input: rawJob({ customModelTags: tags(201) }), field: 'customModelTags', message: /200 tags/ },
  { name: 'empty tag key', input: rawJob({ jobTags: { '': 'v' } }), field: 'jobTags.', message: /1 to 128 characters/ },
  { name: '17 subnets', input: vpc({ subnetIds: subnets(17) }), field: 'vpcConfig.subnetIds' },
  { name: 'no subnet', input: vpc({ subnetIds: [] }), field: 'vpcConfig.subnetIds' },
  { name: '6 security groups', input: vpc({ securityGroupIds: groups(6) }), field: 'vpcConfig.securityGroupIds' },
  { name: 'no security group', input: vpc({ securityGroupIds: [] }), field: 'vpcConfig.securityGroupIds' },
  {
    name: '11 validation URIs',
    input: rawJob({ validationDataS3Uris: times(11, (i) => `s3://training-bucket/v${i}.jsonl`) }),
    field: 'validationDataS3Uris',
  },

  // ---- API patterns
  { name: 'jobName starting with a hyphen', input: rawJob({ jobName: '-job' }), field: 'jobName' },
  { name: 'jobName with a space', input: rawJob({ jobName: 'my job' }), field: 'jobName' },
  { name: 'jobName with an underscore', input: rawJob({ jobName: 'my_job' }), field: 'jobName' },
  { name: 'jobName with a slash', input: rawJob({ jobName: 'a/../b' }), field: 'jobName' },
  { name: 'customModelName with a double underscore', input: rawJob({ customModelName: 'a__b' }), field: 'customModelName' },
  { name: 'customModelName with a dot', input: rawJob({ customModelName: 'model.v1' }), field: 'customModelName' },
  { name: 'subnet id of upper-case hex', input: vpc({ subnetIds: ['subnet-0123456789ABCDEF0'] }), field: 'vpcConfig.subnetIds[0]' },
  { name: 'subnet id too short', input: vpc({ subnetIds: ['subnet-0123'] }), field: 'vpcConfig.subnetIds[0]' },
  { name: 'security group id not hex', input: vpc({ securityGroupIds: ['sg-zzzzzzzzzzzzzzzzz'] }), field: 'vpcConfig.securityGroupIds[0]' },
  { name: 'vpcId too short', input: vpc({ vpcId: 'vpc-1' }), field: 'vpcConfig.vpcId' },
  { name: 'roleArn not an ARN', input: rawJob({ roleArn: 'BedrockCustomizationRole' }), field: 'roleArn' },
  { name: 'roleArn a user', input: rawJob({ roleArn: 'arn:aws:iam::123456789012:user/admin' }), field: 'roleArn' },

  // ---- wildcards
  // A wildcard is refused by the role ARN's shape (functions/shared/ids.ts ROLE_ARN), before the stage's role is compared.
  { name: 'roleArn with *', input: rawJob({ roleArn: 'arn:aws:iam::123456789012:role/*' }), field: 'roleArn', message: /must be an IAM role ARN/ },
  { name: 'roleArn with a trailing *', input: rawJob({ roleArn: `${ROLE}*` }), field: 'roleArn', message: /must be an IAM role ARN/ },
  { name: 'KMS key *', input: rawJob({ customModelKmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/*' }), field: 'customModelKmsKeyId', message: KMS_MSG },
  { name: 'KMS key bare *', input: rawJob({ customModelKmsKeyId: '*' }), field: 'customModelKmsKeyId', message: KMS_MSG },
  { name: 'training bucket with *', input: rawJob({ trainingDataS3Uri: 's3://training-*/d.jsonl' }), field: 'trainingDataS3Uri' },
  { name: 'output bucket *', input: rawJob({ outputDataS3Uri: 's3://*/runs/' }), field: 'outputDataS3Uri' },
  { name: 'validation bucket with ?', input: rawJob({ validationDataS3Uris: ['s3://training-buck?t/v.jsonl'] }), field: 'validationDataS3Uris[0]' },
  { name: 'subnet id *', input: vpc({ subnetIds: ['subnet-*'] }), field: 'vpcConfig.subnetIds[0]' },
  { name: 'security group id *', input: vpc({ securityGroupIds: ['sg-*'] }), field: 'vpcConfig.securityGroupIds[0]' },
  { name: 'output key * outside the prefix', input: rawJob({ outputDataS3Uri: 's3://output-bucket/*' }), field: 'outputDataS3Uri', message: OUTPUT },

  // ---- other accounts, partitions, regions
  { name: 'role of another account', input: rawJob({ roleArn: 'arn:aws:iam::210987654321:role/BedrockCustomizationRole' }), field: 'roleArn', message: ROLE_MSG },
  { name: 'role of aws-cn', input: rawJob({ roleArn: 'arn:aws-cn:iam::123456789012:role/BedrockCustomizationRole' }), field: 'roleArn', message: ROLE_MSG },
  { name: 'another role of the account', input: rawJob({ roleArn: 'arn:aws:iam::123456789012:role/Admin' }), field: 'roleArn', message: ROLE_MSG },
  { name: 'the role under another path', input: rawJob({ roleArn: 'arn:aws:iam::123456789012:role/x/BedrockCustomizationRole' }), field: 'roleArn', message: ROLE_MSG },
  { name: 'KMS key of another region', input: rawJob({ customModelKmsKeyId: KEY.replace('us-east-1', 'eu-west-1') }), field: 'customModelKmsKeyId', message: KMS_MSG },
  { name: 'KMS key of another account', input: rawJob({ customModelKmsKeyId: KEY.replace('123456789012', '210987654321') }), field: 'customModelKmsKeyId', message: KMS_MSG },
  { name: 'KMS key of aws-cn', input: rawJob({ customModelKmsKeyId: KEY.replace('arn:aws:', 'arn:aws-cn:') }), field: 'customModelKmsKeyId', message: KMS_MSG },
  { name: 'KMS key by bare id', input: rawJob({ customModelKmsKeyId: KEY_ID }), field: 'customModelKmsKeyId', message: KMS_MSG },
  { name: 'KMS key by alias', input: rawJob({ customModelKmsKeyId: 'alias/aws/s3' }), field: 'customModelKmsKeyId', message: KMS_MSG },
  {
    name: 'any KMS key when the stage has none',
    input: rawJob({ customModelKmsKeyId: KEY }),
    stage: { kmsKeyArns: '' },
    field: 'customModelKmsKeyId',
    message: /param kmsKeyArns is empty/,
  },

  // ---- buckets and prefixes outside the stage
  { name: 'training data in another bucket', input: rawJob({ trainingDataS3Uri: 's3://other-bucket/d.jsonl' }), field: 'trainingDataS3Uri', message: READABLE },
  { name: 'training data in the output bucket', input: rawJob({ trainingDataS3Uri: 's3://output-bucket/runs/d.jsonl' }), field: 'trainingDataS3Uri', message: READABLE },
  {
    name: 'second validation URI in another bucket',
    input: rawJob({ validationDataS3Uris: ['s3://training-bucket/v.jsonl', 's3://other-bucket/v.jsonl'] }),
    field: 'validationDataS3Uris[1]',
    message: READABLE,
  },
  { name: 'output in another bucket', input: rawJob({ outputDataS3Uri: 's3://other-bucket/runs/' }), field: 'outputDataS3Uri', message: OUTPUT },
  { name: 'output in the training bucket', input: rawJob({ outputDataS3Uri: 's3://training-bucket/runs/' }), field: 'outputDataS3Uri', message: OUTPUT },
  { name: 'output in an extra (read-only) bucket', input: rawJob({ outputDataS3Uri: 's3://extra-bucket/runs/' }), field: 'outputDataS3Uri', message: OUTPUT },
  { name: 'output outside the prefix', input: rawJob({ outputDataS3Uri: 's3://output-bucket/other/' }), field: 'outputDataS3Uri', message: OUTPUT },
  { name: 'output at the bucket root', input: rawJob({ outputDataS3Uri: 's3://output-bucket' }), field: 'outputDataS3Uri', message: OUTPUT },
  { name: 'output next to the prefix', input: rawJob({ outputDataS3Uri: 's3://output-bucket/runs-other/' }), field: 'outputDataS3Uri', message: OUTPUT },

  // ---- S3 keys
  { name: 'training key with ..', input: training('datasets/../secret.jsonl'), field: 'trainingDataS3Uri', message: /path segment/ },
  { name: 'training key starting with ..', input: training(['..', 'd.jsonl'].join('/')), field: 'trainingDataS3Uri', message: /path segment/ },
  { name: 'training key ending in ..', input: training('datasets/..'), field: 'trainingDataS3Uri', message: /path segment/ },
  { name: 'training key with .', input: training('./datasets/d.jsonl'), field: 'trainingDataS3Uri', message: /path segment/ },
  { name: 'output key with ..', input: rawJob({ outputDataS3Uri: 's3://output-bucket/runs/../other/' }), field: 'outputDataS3Uri', message: /path segment/ },
  { name: 'validation key with ..', input: rawJob({ validationDataS3Uris: ['s3://training-bucket/a/../../b'] }), field: 'validationDataS3Uris[0]', message: /path segment/ },
  { name: 'key with NUL', input: training('d\u0000.jsonl'), field: 'trainingDataS3Uri', message: /control characters/ },
  { name: 'key with a newline', input: training('d\n.jsonl'), field: 'trainingDataS3Uri', message: /control characters/ },
  { name: 'key with DEL', input: training('d\u007f.jsonl'), field: 'trainingDataS3Uri', message: /control characters/ },
  { name: 'key with a C1 control (NEL)', input: training('d\u0085.jsonl'), field: 'trainingDataS3Uri', message: /control characters/ },
  { name: 'key with a line separator', input: training('d\u2028.jsonl'), field: 'trainingDataS3Uri', message: /control characters/ },
  { name: 'output key with a carriage return', input: rawJob({ outputDataS3Uri: 's3://output-bucket/runs/\r' }), field: 'outputDataS3Uri', message: /control characters/ },
  { name: 'key of 1,025 bytes', input: training('k'.repeat(1025)), field: 'trainingDataS3Uri', message: /1,024 bytes/ },
  { name: 'key of 342 three-byte characters (1,026 bytes)', input: training('€'.repeat(342)), field: 'trainingDataS3Uri', message: /1,024 bytes/ },
  { name: 'key of 257 four-byte characters (1,028 bytes)', input: training('😀'.repeat(257)), field: 'trainingDataS3Uri', message: /1,024 bytes/ },

  // ---- bucket names
  { name: 'bucket name in upper case', input: rawJob({ trainingDataS3Uri: 's3://Training-Bucket/d.jsonl' }), field: 'trainingDataS3Uri' },
  { name: 'bucket name with ..', input: rawJob({ trainingDataS3Uri: 's3://training..bucket/d.jsonl' }), field: 'trainingDataS3Uri' },
  { name: 'bucket name of 2 characters', input: rawJob({ trainingDataS3Uri: 's3://ab/d.jsonl' }), field: 'trainingDataS3Uri' },
  { name: 'bucket name of 64 characters', input: rawJob({ trainingDataS3Uri: `s3://${'a'.repeat(64)}/d.jsonl` }), field: 'trainingDataS3Uri' },
  { name: 'bucket name like an IP address', input: rawJob({ trainingDataS3Uri: 's3://192.168.1.10/d.jsonl' }), field: 'trainingDataS3Uri' },
  { name: 'bucket name ending in a dot', input: rawJob({ outputDataS3Uri: 's3://output-bucket./runs/' }), field: 'outputDataS3Uri' },
  { name: 'not an s3:// URI', input: rawJob({ trainingDataS3Uri: 'https://training-bucket.s3.amazonaws.com/d.jsonl' }), field: 'trainingDataS3Uri' },

  // ---- hyperparameters
  { name: '31 hyperparameters', input: rawJob({ hyperParameters: hyper(31) }), field: 'hyperParameters', message: /at most 30/ },
  { name: 'hyperparameter value of 257 characters', input: rawJob({ hyperParameters: { epochCount: '1'.repeat(257) } }), field: 'hyperParameters.epochCount' },
  { name: 'empty hyperparameter value', input: rawJob({ hyperParameters: { epochCount: '' } }), field: 'hyperParameters.epochCount' },
  { name: 'hyperparameter name with an underscore', input: rawJob({ hyperParameters: { epoch_count: '2' } }), field: 'hyperParameters.epoch_count', message: /hyperparameter name/ },
  { name: 'hyperparameter name starting with a digit', input: rawJob({ hyperParameters: { '1epoch': '2' } }), field: 'hyperParameters.1epoch', message: /hyperparameter name/ },
  { name: 'hyperparameter name of 65 characters', input: rawJob({ hyperParameters: { ['a'.repeat(65)]: '2' } }), field: `hyperParameters.${'a'.repeat(65)}`, message: /at most 64/ },
  { name: 'hyperparameter value a number', input: rawJob({ hyperParameters: { epochCount: 2 } }), field: 'hyperParameters.epochCount' },
  { name: 'hyperparameter value an object', input: rawJob({ hyperParameters: { epochCount: { $gt: 1 } } }), field: 'hyperParameters.epochCount' },
  { name: 'hyperparameter value null', input: rawJob({ hyperParameters: { epochCount: null } }), field: 'hyperParameters.epochCount' },
  { name: 'hyperparameter value with a newline', input: rawJob({ hyperParameters: { epochCount: '2\nx' } }), field: 'hyperParameters.epochCount' },

  // ---- prototype keys (own properties, as JSON.parse makes them)
  { name: '__proto__ in hyperParameters', input: rawJob({ hyperParameters: own('__proto__', { polluted: '1' }) }), field: 'hyperParameters', message: /__proto__, constructor or prototype/ },
  { name: 'constructor in hyperParameters', input: rawJob({ hyperParameters: own('constructor', '1') }), field: 'hyperParameters', message: /__proto__, constructor or prototype/ },
  { name: 'prototype in hyperParameters', input: rawJob({ hyperParameters: own('prototype', '1') }), field: 'hyperParameters', message: /__proto__, constructor or prototype/ },
  { name: '__proto__ in jobTags', input: rawJob({ jobTags: { team: 'ml', ...own('__proto__', 'x') } }), field: 'jobTags', message: /__proto__, constructor or prototype/ },
  { name: 'constructor in jobTags', input: rawJob({ jobTags: own('constructor', 'x') }), field: 'jobTags', message: /__proto__, constructor or prototype/ },
  { name: 'prototype in customModelTags', input: rawJob({ customModelTags: own('prototype', 'x') }), field: 'customModelTags', message: /__proto__, constructor or prototype/ },
  { name: '__proto__ in customModelTags', input: rawJob({ customModelTags: own('__proto__', 'x') }), field: 'customModelTags', message: /__proto__, constructor or prototype/ },
  { name: '__proto__ at the top level', input: rawWith('__proto__', { roleArn: 'arn:aws:iam::123456789012:role/Admin' }), field: '(input)', message: unknownKey('__proto__') },
  { name: 'constructor at the top level', input: rawWith('constructor', {}), field: '(input)', message: unknownKey('constructor') },
  { name: 'prototype at the top level', input: rawWith('prototype', {}), field: '(input)', message: unknownKey('prototype') },
  { name: '__proto__ in policies', input: policies(own('__proto__', { endpoint: 'restrict' })), field: 'policies', message: unknownKey('__proto__') },
  { name: '__proto__ in vpcConfig', input: vpc(own('__proto__', { vpcId: 'vpc-0123456789abcdef9' })), field: 'vpcConfig', message: unknownKey('__proto__') },
  { name: '__proto__ in polling', input: polling(own('__proto__', { initialSeconds: 1 })), field: 'polling', message: unknownKey('__proto__') },

  // ---- tags
  { name: 'tag key aws:', input: rawJob({ jobTags: { 'aws:cloudformation:stack-name': 'x' } }), field: 'jobTags.aws:cloudformation:stack-name', message: /reserved for AWS/ },
  { name: 'tag key AWS:', input: rawJob({ jobTags: { 'AWS:owner': 'x' } }), field: 'jobTags.AWS:owner', message: /reserved for AWS/ },
  { name: 'tag key Aws: on the model', input: rawJob({ customModelTags: { 'Aws:owner': 'x' } }), field: 'customModelTags.Aws:owner', message: /reserved for AWS/ },
  { name: 'tag key with *', input: rawJob({ jobTags: { 'team*': 'x' } }), field: 'jobTags.team*', message: /must be a tag key/ },
  { name: 'tag value with a newline', input: rawJob({ jobTags: { team: 'ml\nadmin' } }), field: 'jobTags.team' },
  { name: 'tag value a number', input: rawJob({ jobTags: { team: 5 } }), field: 'jobTags.team' },

  // ---- polling, deadlines and waits that would spin or run away
  { name: 'polling.initialSeconds 1', input: polling({ initialSeconds: 1 }), field: 'polling.initialSeconds' },
  { name: 'polling.initialSeconds 9', input: polling({ initialSeconds: 9 }), field: 'polling.initialSeconds' },
  { name: 'polling.initialSeconds 0', input: polling({ initialSeconds: 0 }), field: 'polling.initialSeconds' },
  { name: 'polling.initialSeconds fractional', input: polling({ initialSeconds: 60.5 }), field: 'polling.initialSeconds' },
  { name: 'polling.maxSeconds 5', input: polling({ maxSeconds: 5 }), field: 'polling.maxSeconds' },
  { name: 'polling.maxSeconds over an hour', input: polling({ maxSeconds: 3601 }), field: 'polling.maxSeconds' },
  { name: 'polling.initialSeconds over maxSeconds', input: polling({ initialSeconds: 600, maxSeconds: 60 }), field: 'polling.initialSeconds' },
  { name: 'polling.growthFactor 0.5', input: polling({ growthFactor: 0.5 }), field: 'polling.growthFactor' },
  { name: 'polling.growthFactor 0', input: polling({ growthFactor: 0 }), field: 'polling.growthFactor' },
  { name: 'polling.growthFactor negative', input: polling({ growthFactor: -2 }), field: 'polling.growthFactor' },
  { name: 'polling.growthFactor NaN', input: polling({ growthFactor: Number.NaN }), field: 'polling.growthFactor' },
  { name: 'polling.growthFactor Infinity', input: polling({ growthFactor: Number.POSITIVE_INFINITY }), field: 'polling.growthFactor' },
  { name: 'polling.growthFactor null (NaN through JSON)', input: JSON.parse(JSON.stringify(polling({ growthFactor: Number.NaN }))), field: 'polling.growthFactor' },
  { name: 'polling.initialSeconds Infinity', input: polling({ initialSeconds: Number.POSITIVE_INFINITY }), field: 'polling.initialSeconds' },
  { name: 'polling.handoverAfterEvents 50', input: polling({ handoverAfterEvents: 50 }), field: 'polling.handoverAfterEvents' },
  { name: 'polling.handoverAfterEvents over the history quota', input: polling({ handoverAfterEvents: 25_000 }), field: 'polling.handoverAfterEvents' },
  { name: 'polling unknown setting', input: polling({ jitter: 0 }), field: 'polling', message: unknownKey('jitter') },
  { name: 'maxJobDurationSeconds 0', input: rawJob({ maxJobDurationSeconds: 0 }), field: 'maxJobDurationSeconds' },
  { name: 'budget.maxTrainingTokens 0', input: rawJob({ budget: { maxTrainingTokens: 0 } }), field: 'budget.maxTrainingTokens' },
  { name: 'budget.maxTrainingTokens a string', input: rawJob({ budget: { maxTrainingTokens: '1000' } }), field: 'budget.maxTrainingTokens' },
  { name: 'budget.maxTrainingCostUsd negative', input: rawJob({ budget: { maxTrainingCostUsd: -5 } }), field: 'budget.maxTrainingCostUsd' },
  { name: 'budget.maxTrainingCostUsd without a stage price', input: rawJob({ budget: { maxTrainingCostUsd: 5 } }), field: 'budget.maxTrainingCostUsd' },
  {
    name: 'budget.maxTrainingCostUsd for a base model the stage does not price',
    input: rawJob({ baseModelIdentifier: 'meta.llama3-1-8b-instruct-v1:0', budget: { maxTrainingCostUsd: 5 } }),
    stage: { trainingTokenPricesUsdPer1k: 'amazon.titan-text-express-v1=0.008' },
    field: 'budget.maxTrainingCostUsd',
    message: /sets none for this base model \(param trainingTokenPricesUsdPer1k, param trainingTokenPriceUsdPer1k\)/,
  },
  {
    name: "a base model the stage does not price under the stage's cost cap",
    input: rawJob({ baseModelIdentifier: 'meta.llama3-1-8b-instruct-v1:0' }),
    stage: { trainingTokenPricesUsdPer1k: 'amazon.titan-text-express-v1=0.008', maxTrainingCostUsd: '50' },
    field: 'baseModelIdentifier',
    message: /has no training price, so the stage's cost cap \(param maxTrainingCostUsd\) cannot be held: the stage prices only amazon.titan-text-express-v1/,
  },
  { name: 'budget with an unknown key', input: rawJob({ budget: { maxEpochs: 3 } }), field: 'budget' },
  { name: 'maxJobDurationSeconds negative', input: rawJob({ maxJobDurationSeconds: -1 }), field: 'maxJobDurationSeconds' },
  { name: 'maxJobDurationSeconds fractional', input: rawJob({ maxJobDurationSeconds: 3600.5 }), field: 'maxJobDurationSeconds' },
  { name: 'maxJobDurationSeconds NaN', input: rawJob({ maxJobDurationSeconds: Number.NaN }), field: 'maxJobDurationSeconds' },
  { name: 'maxJobDurationSeconds Infinity', input: rawJob({ maxJobDurationSeconds: Number.POSITIVE_INFINITY }), field: 'maxJobDurationSeconds' },
  {
    name: 'maxJobDurationSeconds over the stage',
    input: rawJob({ maxJobDurationSeconds: 86_401 }),
    field: 'maxJobDurationSeconds',
    message: /at most 86400 \(param maxJobDurationSeconds\)/,
  },
  {
    name: 'maxJobDurationSeconds over a short stage',
    input: rawJob({ maxJobDurationSeconds: 7200 }),
    stage: { maxJobDurationSeconds: '3600' },
    field: 'maxJobDurationSeconds',
    message: /at most 3600 \(param maxJobDurationSeconds\)/,
  },
  { name: 'maxJobDurationSeconds over 30 days', input: rawJob({ maxJobDurationSeconds: 30 * 24 * 3600 + 1 }), field: 'maxJobDurationSeconds' },
  { name: 'maxQuotaWaitSeconds negative', input: rawJob({ maxQuotaWaitSeconds: -1 }), field: 'maxQuotaWaitSeconds' },
  { name: 'maxQuotaWaitSeconds over a week', input: rawJob({ maxQuotaWaitSeconds: 7 * 24 * 3600 + 1 }), field: 'maxQuotaWaitSeconds' },
  { name: 'preflight.minFreeIpsPerSubnet 0', input: rawJob({ preflight: { minFreeIpsPerSubnet: 0 } }), field: 'preflight.minFreeIpsPerSubnet' },

  // ---- policies beyond the stage
  { name: 'endpoint restrict on an append stage', input: policies({ endpoint: 'restrict' }), field: 'policies.endpoint', message: /"append" \(the stage's setting, param endpointPolicy\) or "skip"/ },
  { name: 'endpoint append on a skip stage', input: policies({ endpoint: 'append' }), stage: { endpointPolicy: 'skip' }, field: 'policies.endpoint', message: /"skip" \(the stage's setting, param endpointPolicy\)/ },
  { name: 'endpoint restrict on a skip stage', input: policies({ endpoint: 'restrict' }), stage: { endpointPolicy: 'skip' }, field: 'policies.endpoint', message: /param endpointPolicy/ },
  { name: 'output bucket Deny when the stage skips it', input: policies({ outputBucket: 'apply' }), field: 'policies.outputBucket', message: /"skip" \(the stage's setting, param outputBucketPolicy\)/ },
  { name: 'training bucket Deny when the stage skips it', input: policies({ trainingBucket: 'apply' }), field: 'policies.trainingBucket', message: /param trainingBucketPolicy/ },
  { name: 'role policy when the stage skips it', input: policies({ role: 'apply' }), stage: { rolePolicy: 'skip' }, field: 'policies.role', message: /param rolePolicy/ },
  { name: 'an unknown endpoint setting', input: policies({ endpoint: 'open' }), field: 'policies.endpoint' },
  { name: 'an unknown policy', input: policies({ bucketDeny: 'skip' }), field: 'policies', message: unknownKey('bucketDeny') },
  { name: 'exemptPrincipalArns given', input: policies({ exemptPrincipalArns: ['arn:aws:iam::123456789012:role/Operators'] }), field: 'policies.exemptPrincipalArns', message: /stage param \(exemptPrincipalArns\)/ },
  { name: 'exemptPrincipalArns empty', input: policies({ exemptPrincipalArns: [] }), field: 'policies.exemptPrincipalArns', message: /stage param/ },
  { name: 'exemptPrincipalArns *', input: policies({ exemptPrincipalArns: '*' }), field: 'policies.exemptPrincipalArns' },

  // ---- the network
  { name: 'another VPC', input: vpc({ vpcId: 'vpc-0123456789abcdef9' }), field: 'vpcConfig.vpcId', message: new RegExp(`param vpcId\\): ${VPC}`) },
  { name: 'a subnet outside the stage', input: vpc({ subnetIds: [SUBNETS[0], 'subnet-0fffffffffffffff0'] }), field: 'vpcConfig.subnetIds[1]', message: SUBNET_MSG },
  { name: 'a security group outside the stage', input: vpc({ securityGroupIds: ['sg-0fffffffffffffff0'] }), field: 'vpcConfig.securityGroupIds[0]', message: SG_MSG },
  { name: 'a subnet twice', input: vpc({ subnetIds: [SUBNETS[0], SUBNETS[0]] }), field: 'vpcConfig.subnetIds', message: /duplicates/ },
  { name: 'vpcConfig without subnets', input: rawJob({ vpcConfig: { vpcId: VPC, securityGroupIds: [SG] } }), field: 'vpcConfig.subnetIds' },
  { name: 'vpcConfig with an unknown key', input: vpc({ assignPublicIp: true }), field: 'vpcConfig', message: unknownKey('assignPublicIp') },

  // ---- fields the workflow sets, not the caller
  { name: 'a top-level handover', input: rawJob({ handover: { job: {}, generation: 1 } }), field: '(input)', message: unknownKey('handover') },
  { name: 'a clientRequestToken', input: rawJob({ clientRequestToken: 'abc' }), field: '(input)', message: unknownKey('clientRequestToken') },
  { name: 'an accountId', input: rawJob({ accountId: '210987654321' }), field: '(input)', message: unknownKey('accountId') },
  { name: 'a partition', input: rawJob({ partition: 'aws-cn' }), field: '(input)', message: unknownKey('partition') },
  { name: 'a region', input: rawJob({ region: 'eu-west-1' }), field: '(input)', message: unknownKey('region') },
  { name: 'parsed S3 locations', input: rawJob({ s3: { buckets: [{ bucket: 'other-bucket', access: 'readwrite' }] } }), field: '(input)', message: unknownKey('s3') },
  { name: 'an execution', input: rawJob({ execution: EXECUTION }), field: '(input)', message: unknownKey('execution') },

  // ---- the upload
  { name: 'an upload in another bucket', input: withUpload(upload({ bucket: { name: 'other-bucket' } })), field: 'upload.bucket.name', message: READABLE },
  { name: 'an upload key with ..', input: withUpload(upload({ object: { key: 'datasets/../../secret' } })), field: 'upload.object.key', message: /path segment/ },
  { name: 'an upload key with NUL', input: withUpload(upload({ object: { key: 'datasets/\u0000.jsonl' } })), field: 'upload.object.key', message: /control characters/ },
  { name: 'an upload key of 1,025 bytes', input: withUpload(upload({ object: { key: 'k'.repeat(1025) } })), field: 'upload.object.key', message: /1,024 bytes/ },
  { name: 'an empty upload key', input: withUpload(upload({ object: { key: '' } })), field: 'upload.object.key' },
  { name: 'an upload bucket name in upper case', input: withUpload(upload({ bucket: { name: 'Training-Bucket' } })), field: 'upload.bucket.name' },
  { name: 'an upload without identity', input: withUpload({ bucket: { name: 'training-bucket' }, object: { key: 'datasets/new.jsonl' } }), field: 'upload.object' },
  { name: 'an upload together with trainingDataS3Uri', input: { ...rawJob(), upload: upload() }, field: 'upload', message: /trainingDataS3Uri/ },
];

/** Valid narrowings of the stage: each must resolve. */
const controls: { name: string; input: Record<string, unknown>; stage?: StageParams; check?: (job: ReturnType<typeof resolveJobInput>) => void }[] = [
  { name: 'the README example', input: rawJob() },
  { name: 'one of the stage subnets', input: vpc({ subnetIds: [SUBNETS[1]] }), check: (j) => expect(j.vpcConfig.subnetIds).toEqual([SUBNETS[1]]) },
  { name: 'a vpcConfig without vpcId', input: rawJob({ vpcConfig: { subnetIds: SUBNETS, securityGroupIds: [SG] } }), check: (j) => expect(j.vpcConfig.vpcId).toBe(VPC) },
  { name: 'a sub-prefix of the output', input: rawJob({ outputDataS3Uri: 's3://output-bucket/runs/team-a/' }) },
  { name: 'every policy skipped', input: policies({ endpoint: 'skip', role: 'skip', outputBucket: 'skip', trainingBucket: 'skip' }) },
  { name: 'the stage settings themselves', input: policies({ endpoint: 'append', role: 'apply' }) },
  { name: 'a shorter job', input: rawJob({ maxJobDurationSeconds: 3600 }), check: (j) => expect(j.maxJobDurationSeconds).toBe(3600) },
  { name: 'the stage KMS key', input: rawJob({ customModelKmsKeyId: KEY }) },
  { name: 'validation data in an extra bucket', input: rawJob({ validationDataS3Uris: ['s3://extra-bucket/v.jsonl'] }) },
  { name: 'an upload in the training bucket', input: withUpload(upload()), check: (j) => expect(j.trainingDataS3Uri).toBe('s3://training-bucket/datasets/new.jsonl') },
  { name: 'the stage defaults alone', input: { trainingDataS3Uri: 's3://training-bucket/d.jsonl' } },
  {
    name: "a priced base model under the stage's cost cap, with its own lower cap",
    input: rawJob({ baseModelIdentifier: 'amazon.titan-text-express-v1:0:8k', budget: { maxTrainingCostUsd: 5 } }),
    stage: { trainingTokenPricesUsdPer1k: 'amazon.titan-text-express-v1=0.008', maxTrainingCostUsd: '50' },
  },
  {
    name: 'an unlisted base model priced by the price for any model',
    input: rawJob({ baseModelIdentifier: 'meta.llama3-1-8b-instruct-v1:0' }),
    stage: { trainingTokenPricesUsdPer1k: 'amazon.titan-text-express-v1=0.008', trainingTokenPriceUsdPer1k: '0.002', maxTrainingCostUsd: '50' },
  },
];

function rejection(row: Row): InvalidInputError {
  try {
    resolveJobInput(row.input, stageFor(row.stage), EXECUTION);
  } catch (err) {
    if (err instanceof InvalidInputError) return err;
    throw err;
  }
  throw new Error(`accepted: ${row.name}`);
}

describe('hostile job inputs', () => {
  it('the corpus has at least 80 distinct rows', () => {
    expect(rows.length).toBeGreaterThanOrEqual(80);
    expect(new Set(rows.map((r) => JSON.stringify([r.name, r.input, r.stage], (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)))).size).toBe(rows.length);
  });

  it.each(rows.map((r) => [r.name, r] as const))('rejects %s', (_name, row) => {
    const err = rejection(row);
    const named = err.issues.filter((i) => i.field === row.field);
    expect(named, `${row.name}: ${JSON.stringify(err.issues)}`).not.toHaveLength(0);
    if (row.message) expect(named.map((i) => i.message).join('\n')).toMatch(row.message);
  });

  it.each(controls.map((c) => [c.name, c] as const))('resolves %s', (_name, control) => {
    const job = resolveJobInput(control.input, stageFor(control.stage), EXECUTION);
    control.check?.(job);
  });
});

import { createHash } from 'node:crypto';
import { parseS3Uri } from '../../functions/shared/s3.js';
import { describe, expect, it } from 'vitest';
import { issuesOf } from '../support/input-issues.js';
import {
  CLIENT_REQUEST_TOKEN_PATTERN,
  CUSTOM_MODEL_NAME_PATTERN,
  JOB_NAME_PATTERN,
  deriveCustomModelName,
  deriveJobName,
  resolveJobInput,
} from '../../functions/shared/job-input.js';
import { fixtureEvent } from '../support/event-ruler.js';
import { testStage } from '../fixtures/stage.js';
import { EXECUTION, rawJob, resolvedJob } from '../fixtures/job.js';

const resolve = (raw: unknown, stage = {}) => resolveJobInput(raw, testStage(stage), EXECUTION);


describe('resolveJobInput', () => {
  it('resolves the README example with defaults, derived names, token, account and partition', () => {
    const job = resolve(rawJob());
    expect(job).toMatchObject({
      customizationType: 'FINE_TUNING',
      accountId: '123456789012',
      partition: 'aws',
      region: 'us-east-1',
      dryRun: false,
      maxJobDurationSeconds: 86400,
      policies: { endpoint: 'append', outputBucket: 'skip', trainingBucket: 'skip', role: 'apply', exemptPrincipalArns: [] },
      polling: { initialSeconds: 60, maxSeconds: 1800, growthFactor: 2, handoverAfterEvents: 10_000 },
      maxQuotaWaitSeconds: 21_600,
      preflight: { minFreeIpsPerSubnet: 4 },
    });
    expect(job.jobName).toMatch(JOB_NAME_PATTERN);
    expect(job.customModelName).toMatch(CUSTOM_MODEL_NAME_PATTERN);
    expect(job.clientRequestToken).toMatch(CLIENT_REQUEST_TOKEN_PATTERN);
  });

  it('derives the same names and token for the same execution, different ones for another', () => {
    const a = resolve(rawJob());
    const b = resolve(rawJob());
    const c = resolveJobInput(rawJob(), testStage(), { ...EXECUTION, id: `${EXECUTION.id}-2` });
    expect(b.jobName).toBe(a.jobName);
    expect(b.clientRequestToken).toBe(a.clientRequestToken);
    expect(c.jobName).not.toBe(a.jobName);
    expect(c.clientRequestToken).not.toBe(a.clientRequestToken);
  });

  it('keeps names the caller gave', () => {
    const job = resolve(rawJob({ jobName: 'my-job.v1', customModelName: 'my_model-1' }));
    expect(job.jobName).toBe('my-job.v1');
    expect(job.customModelName).toBe('my_model-1');
  });

  it('lays the input over the stage values; vpcConfig is taken whole', () => {
    const stage = {
      baseModelIdentifier: 'amazon.titan-text-lite-v1',
      outputBucket: 'default-output',
      subnetIds: 'subnet-0123456789abcdef0,subnet-0123456789abcdef1,subnet-0bbbbbbbbbbbbbbbb',
      maxJobDurationSeconds: '3600',
    };
    const fromEvent = resolve({ trainingDataS3Uri: 's3://training-bucket/datasets/new.jsonl' }, stage);
    expect(fromEvent).toMatchObject({
      baseModelIdentifier: 'amazon.titan-text-lite-v1',
      roleArn: 'arn:aws:iam::123456789012:role/BedrockCustomizationRole',
      outputDataS3Uri: 's3://default-output/runs/',
      maxJobDurationSeconds: 3600,
      customizationType: 'FINE_TUNING',
      vpcConfig: {
        vpcId: 'vpc-0123456789abcdef0',
        subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1', 'subnet-0bbbbbbbbbbbbbbbb'],
        securityGroupIds: ['sg-0123456789abcdef0'],
      },
    });
    const narrowed = resolve(rawJob({ outputDataS3Uri: 's3://default-output/runs/mine/', maxJobDurationSeconds: 600 }), stage);
    expect(narrowed.vpcConfig.subnetIds).toEqual(['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1']);
    expect(narrowed.maxJobDurationSeconds).toBe(600);
  });

  it('names every bad field, with array indexes', () => {
    const issues = issuesOf(() =>
      resolve(
        rawJob({
          trainingDataS3Uri: 'https://bucket/key',
          vpcConfig: { subnetIds: ['subnet-0123456789abcdef0', 'subnet-bad'], securityGroupIds: [] },
          roleArn: 'not-an-arn',
        }),
      ),
    );
    const fields = issues.map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['trainingDataS3Uri', 'vpcConfig.subnetIds[1]', 'vpcConfig.securityGroupIds', 'roleArn']));
  });

  it('rejects unknown fields (a typo must not be ignored) and a missing required field', () => {
    const issues = issuesOf(() => resolve({ ...rawJob({ vpcConfig: undefined }), epochs: 3 }));
    expect(issues.map((i) => i.field)).toEqual(expect.arrayContaining(['vpcConfig']));
    expect(issues.some((i) => i.message.includes('epochs'))).toBe(true);
  });

  it.each([
    ['vpcConfig.subnetIds', { vpcConfig: { subnetIds: Array.from({ length: 17 }, (_, i) => `subnet-0${String(i).padStart(16, '0')}`), securityGroupIds: ['sg-0123456789abcdef0'] } }],
    ['vpcConfig.securityGroupIds', { vpcConfig: { subnetIds: ['subnet-0123456789abcdef0'], securityGroupIds: Array.from({ length: 6 }, (_, i) => `sg-0${String(i).padStart(16, '0')}`) } }],
    ['vpcConfig.subnetIds', { vpcConfig: { subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef0'], securityGroupIds: ['sg-0123456789abcdef0'] } }],
    ['validationDataS3Uris', { validationDataS3Uris: Array.from({ length: 11 }, (_, i) => `s3://bucket/v${i}.jsonl`) }],
    ['jobName', { jobName: '-starts-with-dash' }],
    ['jobName', { jobName: 'x'.repeat(64) }],
    ['customModelName', { customModelName: 'two__underscores' }],
    ['customizationType', { customizationType: 'PRETRAINING' }],
    ['hyperParameters.epochCount', { hyperParameters: { epochCount: 2 } }],
    ['maxJobDurationSeconds', { maxJobDurationSeconds: 31 * 24 * 3600 }],
    ['polling.initialSeconds', { polling: { initialSeconds: 600, maxSeconds: 60 } }],
    ['policies.endpoint', { policies: { endpoint: 'replace' } }],
    ['policies.exemptPrincipalArns', { policies: { exemptPrincipalArns: ['arn:aws:iam::123456789012:role/Ops'] } }],
  ])('rejects a bad %s', (field, overrides) => {
    const issues = issuesOf(() => resolve(rawJob(overrides)));
    expect(issues.map((i) => i.field)).toContain(field);
  });

  it('keeps the output under the stage prefix as a path: "runs" admits runs/a/, not runs-other/', () => {
    expect(resolve(rawJob({ outputDataS3Uri: 's3://output-bucket/runs/a/' }), { outputPrefix: 'runs' }).s3.output.key).toBe('runs/a/');
    expect(issuesOf(() => resolve(rawJob({ outputDataS3Uri: 's3://output-bucket/runs-other/' }), { outputPrefix: 'runs' })).map((i) => i.field)).toEqual([
      'outputDataS3Uri',
    ]);
  });

  it('rejects an input that is not an object', () => {
    for (const raw of [null, 'x', 42, []]) {
      expect(issuesOf(() => resolve(raw))).toEqual([{ field: '(input)', message: 'must be a JSON object' }]);
    }
  });
});

describe('an upload (the upload rule\'s input)', () => {
  /** The upload rule's input template, as in serverless.yml (checked against the packaged one in test/infra). */
  const TEMPLATE = '{"upload": <detail>}';
  /** EventBridge's substitution of a variable outside quotes that names a JSON object: the object as JSON. */
  const transform = (detail: unknown) => JSON.parse(TEMPLATE.replace('<detail>', JSON.stringify(detail))) as Record<string, unknown>;
  /** AWS's sample `detail` (a deep copy), optionally with other bucket, key and object fields. */
  function detail(object: Record<string, unknown> = {}, bucket = 'training-bucket') {
    const d = fixtureEvent('s3-object-created').detail;
    d.bucket.name = bucket;
    Object.assign(d.object, object);
    return d;
  }
  const fromUpload = (d: unknown, execution = EXECUTION) => resolveJobInput(transform(d), testStage(), execution);

  it('the sample detail resolves to its URI, a name from its key and a token from its identity', () => {
    const sample = fixtureEvent('s3-object-created').detail;
    const job = resolveJobInput(transform(sample), testStage({ trainingBucket: 'amzn-s3-demo-bucket1' }), EXECUTION);
    expect(job.trainingDataS3Uri).toBe('s3://amzn-s3-demo-bucket1/example-key');
    expect(job.s3.training).toEqual({ bucket: 'amzn-s3-demo-bucket1', key: 'example-key' });
    const identity = JSON.stringify(['s3-version', 'amzn-s3-demo-bucket1', 'example-key', 'IYV3p45BT0ac8hjHg1houSdS1a.Mro8e']);
    const hash = createHash('sha256').update(identity).digest('hex');
    expect(job.clientRequestToken).toBe(hash);
    expect(job.jobName).toBe(`bvc-example-key-${hash.slice(0, 12)}`);
    expect(job.upload).toEqual(sample);
  });

  it('a duplicate delivery (same detail, another execution) derives the same name and token; a new version another', () => {
    const a = fromUpload(detail({ key: 'datasets/support.jsonl' }));
    const b = fromUpload(detail({ key: 'datasets/support.jsonl' }), { id: `${EXECUTION.id}-dup`, name: 'dup' });
    expect(b.jobName).toBe(a.jobName);
    expect(b.customModelName).toBe(a.customModelName);
    expect(b.clientRequestToken).toBe(a.clientRequestToken);
    for (const other of [
      detail({ key: 'datasets/support.jsonl', 'version-id': 'another-version' }),
      detail({ key: 'datasets/other.jsonl' }),
      detail({ key: 'datasets/support.jsonl' }, 'other-bucket'),
    ]) {
      const c = resolveJobInput(transform(other), testStage({ extraBuckets: 'other-bucket' }), EXECUTION);
      expect(c.jobName).not.toBe(a.jobName);
      expect(c.clientRequestToken).not.toBe(a.clientRequestToken);
    }
  });

  it('without a version id (or with "null", versioning suspended): etag and sequencer identify the object', () => {
    for (const versionId of [undefined, 'null']) {
      const base = { key: 'datasets/support.jsonl', 'version-id': versionId };
      const a = fromUpload(detail(base));
      expect(fromUpload(detail(base)).clientRequestToken).toBe(a.clientRequestToken);
      expect(fromUpload(detail({ ...base, sequencer: '617f08299329d18a' })).clientRequestToken).not.toBe(a.clientRequestToken);
      expect(fromUpload(detail({ ...base, etag: 'c1946ac92492d2347c6235b4d2611184' })).clientRequestToken).not.toBe(a.clientRequestToken);
    }
    const issues = issuesOf(() => fromUpload(detail({ 'version-id': undefined, sequencer: undefined })));
    expect(issues.map((i) => i.field)).toEqual(['upload.object']);
  });

  it.each([
    ['a space', 'datasets/my data.jsonl'],
    ['a +', 'datasets/a+b.jsonl'],
    ['non-ASCII characters', 'datasets/données-été-日本語.jsonl'],
    ['a double quote', 'datasets/say "hi".jsonl'],
    ['a backslash', 'datasets/back\\slash.jsonl'],
    ['a long name', `datasets/${'x'.repeat(200)}.jsonl`],
  ])('a key with %s: valid input JSON, the key as it arrived, a valid name and token', (_, key) => {
    const d = detail({ key });
    // What EventBridge sends is valid JSON, and carries the key unchanged.
    const input = transform(d);
    expect((input.upload as any).object.key).toBe(key);
    const job = resolveJobInput(input, testStage(), EXECUTION);
    expect(job.trainingDataS3Uri).toBe(`s3://training-bucket/${key}`);
    expect(job.s3.training).toEqual({ bucket: 'training-bucket', key });
    expect(job.jobName.length).toBeLessThanOrEqual(63);
    expect(job.jobName).toMatch(JOB_NAME_PATTERN);
    expect(job.jobName).toMatch(/^bvc-.*jsonl-[0-9a-f]{12}$/);
    expect(job.customModelName).toMatch(CUSTOM_MODEL_NAME_PATTERN);
    expect(job.clientRequestToken).toMatch(CLIENT_REQUEST_TOKEN_PATTERN);
  });

  it('the old template pasted the key into a string: a key with " or \\ made invalid JSON', () => {
    const old = (key: string) => '{"trainingDataS3Uri": "s3://<bucket>/<key>"}'.replace('<bucket>', 'training-bucket').replace('<key>', key);
    expect(() => JSON.parse(old('datasets/say "hi".jsonl'))).toThrow();
    expect(() => JSON.parse(old('datasets/back\\slash.jsonl'))).toThrow();
  });

  it('refuses trainingDataS3Uri together with upload, naming upload', () => {
    const issues = issuesOf(() =>
      resolveJobInput({ ...transform(detail()), trainingDataS3Uri: 's3://training-bucket/datasets/a.jsonl' }, testStage(), EXECUTION),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]!.field).toBe('upload');
    expect(issues[0]!.message).toContain('trainingDataS3Uri');
  });

  it('checks the fields it uses, names them, and lets the others S3 sends through', () => {
    const extra = detail({ 'checksum-algorithm': 'CRC64NVME' });
    extra['new-field'] = { any: 'thing' };
    expect(fromUpload(extra).upload).toMatchObject({ 'new-field': { any: 'thing' }, object: { 'checksum-algorithm': 'CRC64NVME' } });
    const bad = detail({ key: '', size: -1 }, 'Not_A_Bucket');
    const fields = issuesOf(() => fromUpload(bad)).map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['upload.bucket.name', 'upload.object.key', 'upload.object.size']));
  });

  it('keeps a jobName the caller gave with an upload', () => {
    const job = resolveJobInput({ ...transform(detail()), jobName: 'my-job' }, testStage(), EXECUTION);
    expect(job.jobName).toBe('my-job');
  });
});

describe('derived names', () => {
  it('stays valid and within 63 characters for long and odd execution names', () => {
    for (const name of ['a'.repeat(80), '___weird__name__', '日本語-run', 'x', '--']) {
      const jobName = deriveJobName({ id: `arn:x:${name}`, name });
      expect(jobName.length).toBeLessThanOrEqual(63);
      expect(jobName).toMatch(JOB_NAME_PATTERN);
      const modelName = deriveCustomModelName(jobName);
      expect(modelName.length).toBeLessThanOrEqual(63);
      expect(modelName).toMatch(CUSTOM_MODEL_NAME_PATTERN);
    }
  });

  it('keeps long truncated names distinct through the hash suffix', () => {
    const a = deriveJobName({ id: 'arn:1', name: 'a'.repeat(80) });
    const b = deriveJobName({ id: 'arn:2', name: 'a'.repeat(80) });
    expect(a).not.toBe(b);
  });
});

describe('parseS3Uri', () => {
  it('splits bucket and key', () => {
    expect(parseS3Uri('s3://bucket/a/b.jsonl')).toEqual({ bucket: 'bucket', key: 'a/b.jsonl' });
    expect(parseS3Uri('s3://bucket')).toEqual({ bucket: 'bucket', key: '' });
    expect(() => parseS3Uri('http://x')).toThrow(/not an s3:\/\/ URI/);
  });

  it('is done once, when the input is resolved: job.s3 holds the locations and each bucket once', () => {
    // Prepare / Act
    const job = resolvedJob({ validationDataS3Uris: ['s3://val-bucket/v.jsonl', 's3://training-bucket/v.jsonl'] }, undefined, { extraBuckets: 'val-bucket' });
    // Assess
    expect(job.s3.training).toEqual({ bucket: 'training-bucket', key: 'datasets/support.jsonl' });
    expect(job.s3.output).toEqual({ bucket: 'output-bucket', key: 'runs/' });
    expect(job.s3.validation.map((l) => l.bucket)).toEqual(['val-bucket', 'training-bucket']);
    expect(job.s3.buckets).toEqual([
      { bucket: 'output-bucket', access: 'readwrite' },
      { bucket: 'training-bucket', access: 'read' },
      { bucket: 'val-bucket', access: 'read' },
    ]);
  });
});

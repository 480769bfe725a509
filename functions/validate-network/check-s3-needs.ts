/** The S3 requests a job makes, and deciding them per bucket (used by the endpoint and role checks). */
import type { JobInput } from '../shared/job-input.js';
import { worst, type Decision } from '../shared/policies/eval.js';
import { objectArn } from '../shared/s3.js';

/** One S3 permission the job needs. */
export interface S3Need {
  bucket: string;
  action: string;
  resource: string;
}

/** Training/validation: read (GetObject, ListBucket); output: write (PutObject, GetObject, ListBucket). */
export function s3Needs(job: JobInput): S3Need[] {
  const arn = (bucket: string, key?: string) => objectArn(job.partition, bucket, key);
  const needs: S3Need[] = [];
  const read = [job.s3.training, ...job.s3.validation].filter((l) => l !== undefined);
  // The invocation-log source is a prefix: Bedrock reads the log objects under it.
  if (job.s3.invocationLogs) read.push({ bucket: job.s3.invocationLogs.bucket, key: `${job.s3.invocationLogs.key}*` });
  for (const { bucket, key } of read) {
    needs.push({ bucket, action: 's3:GetObject', resource: arn(bucket, key) }, { bucket, action: 's3:ListBucket', resource: arn(bucket) });
  }
  const out = job.s3.output;
  // Bedrock chooses the object names under the output prefix: a representative key stands for them.
  const outKey = `${out.key}${out.key === '' || out.key.endsWith('/') ? '' : '/'}${job.jobName}/output`;
  for (const action of ['s3:PutObject', 's3:GetObject']) needs.push({ bucket: out.bucket, action, resource: arn(out.bucket, outKey) });
  needs.push({ bucket: out.bucket, action: 's3:ListBucket', resource: arn(out.bucket) });
  const seen = new Set<string>();
  return needs.filter((n) => !seen.has(`${n.action} ${n.resource}`) && seen.add(`${n.action} ${n.resource}`));
}

/** Per bucket: the worst decision over its needs, and the needs that are not plainly allowed. */
export function decideBuckets(needs: S3Need[], decide: (n: S3Need) => Decision) {
  const byBucket = new Map<string, Array<{ need: S3Need; decision: Decision }>>();
  for (const need of needs) byBucket.set(need.bucket, [...(byBucket.get(need.bucket) ?? []), { need, decision: decide(need) }]);
  return [...byBucket].map(([bucket, rows]) => ({
    bucket,
    decision: worst(rows.map((r) => r.decision)),
    problems: rows.filter((r) => r.decision !== 'allowed').map((r) => `${r.need.action} on ${r.need.resource} (${r.decision})`),
  }));
}

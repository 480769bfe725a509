/**
 * Buckets exist in the job's region; the training dataset object exists. A bucket or dataset the
 * preflight cannot read fails: the workflow would otherwise grant access to something it cannot see.
 */
import type { JobInput } from '../shared/job-input.js';
import type { BucketFacts, PreflightFacts } from './facts.js';
import { CHECK, flag, pass, type CheckResult } from './check-result.js';

export function bucketChecks(job: JobInput, facts: PreflightFacts): CheckResult[] {
  const checks: CheckResult[] = [];
  const usable = new Set<string>();
  for (const b of facts.buckets) checks.push(...oneBucket(job, b, usable));
  const d = facts.dataset;
  // No training file (the job trains on invocation logs): nothing to find.
  if (!job.s3.training || !d) return checks;
  const { bucket } = job.s3.training;
  if (d.status === 'prefix') {
    checks.push(
      flag(CHECK.datasetExists, 'fail', d.uri, 'trainingDataS3Uri names a prefix, not a dataset file', 'Point trainingDataS3Uri at the JSONL file.'),
    );
  } else if (usable.has(bucket)) {
    if (d.status === 'found') checks.push(pass(CHECK.datasetExists, 'fail', d.uri, 'training dataset exists'));
    else if (d.status === 'missing')
      checks.push(flag(CHECK.datasetExists, 'fail', d.uri, 'training dataset object not found', `Upload the dataset to ${d.uri} or fix trainingDataS3Uri.`));
    else
      checks.push(
        flag(CHECK.datasetExists, 'fail', d.uri, `could not verify the dataset: ${d.error}`, 'Allow the workflow s3:ListBucket on the training bucket (stage params trainingBucket, extraBuckets).'),
      );
  }
  return checks;
}

function oneBucket(job: JobInput, b: BucketFacts, usable: Set<string>): CheckResult[] {
  const resource = `s3://${b.bucket}`;
  if (b.status === 'missing') {
    return [flag(CHECK.bucketExists, 'fail', resource, 'bucket not found', `Create the bucket in ${job.region} or fix the S3 URI.`)];
  }
  if (b.status === 'unknown') {
    return [flag(CHECK.bucketExists, 'fail', resource, `could not verify the bucket: ${b.error}`, 'Allow the workflow s3:GetBucketLocation on the bucket (a bucket of the stage params).')];
  }
  const inRegion = b.region === job.region;
  if (inRegion) usable.add(b.bucket);
  return [
    pass(CHECK.bucketExists, 'fail', resource, 'bucket exists'),
    inRegion
      ? pass(CHECK.bucketRegion, 'fail', resource, `bucket is in ${job.region}`)
      : flag(
          CHECK.bucketRegion,
          'fail',
          resource,
          `bucket is in ${b.region}, the job runs in ${job.region} (a gateway endpoint reaches only buckets of its region)`,
          `Use a bucket in ${job.region} (copy the data), or run the workflow in ${b.region}.`,
        ),
  ];
}

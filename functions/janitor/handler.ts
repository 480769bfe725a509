/**
 * janitor Lambda: runs on a schedule (full sweep) and on Bedrock's "Model Customization Job State
 * Change" events for terminal states (sweep of that job's ENIs). Such an event names the job in
 * `detail.jobArn` and its status in `detail.jobStatus` (AWS's documented sample:
 * test/fixtures/events/bedrock-model-customization-job-state-change.json); the rule in serverless.yml
 * filters on `jobStatus`, and the sweep asks Bedrock for the status itself. A manual invoke may pass
 * `{ "dryRun": true }` (never `false` over a stage in dry-run mode) and/or `{ "jobArn": "…" }`.
 */
import * as z from 'zod/mini';
import { janitorBedrock as bedrock, janitorDynamodb as dynamodb, janitorEc2 as ec2 } from '../shared/clients.js';
import { loadEnv } from '../shared/env.js';
import { jobArnSchema } from '../shared/job-state.js';
import { makeHandler } from '../shared/handler.js';
import { log } from '../shared/log.js';
import { MAX_CONCURRENCY, sweep } from './janitor.js';

const env = loadEnv(
  z.object({
    JANITOR_GRACE_SECONDS: z.pipe(
      z.pipe(z._default(z.string(), '86400'), z.transform(Number)),
      z.int().check(z.minimum(0)),
    ),
    JANITOR_DRY_RUN: z._default(z.enum(['true', 'false']), 'false'),
    // The stage's VPCs (comma-separated): the only ones whose ENIs the janitor lists or deletes.
    JANITOR_VPC_IDS: z.pipe(
      z.string(),
      z.transform((v: string) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
    ).check(z.refine((ids: string[]) => ids.length > 0 && ids.every((id) => /^vpc-[0-9a-f]+$/.test(id)), 'must list vpc-… ids, comma-separated')),
    // The stack's DynamoDB table of first sightings.
    JANITOR_SIGHTINGS_TABLE: z.string().check(z.minLength(1)),
    // The janitor's own account (CloudFormation's AWS::AccountId); its region is AWS_REGION (Lambda sets it).
    JANITOR_ACCOUNT_ID: z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit account id')),
    AWS_REGION: z.string().check(z.minLength(1, 'AWS_REGION is required (Lambda sets it)')),
  }),
);

const eventSchema = z.object({
  dryRun: z.optional(z.boolean()),
  jobArn: z.optional(jobArnSchema),
  source: z.optional(z.string()),
  detail: z.optional(z.looseObject({ jobArn: z.optional(jobArnSchema) })),
});

export const handler = makeHandler(eventSchema, async (event) => {
  const scope = { jobArn: event.jobArn ?? (event.source === 'aws.bedrock' ? event.detail?.jobArn : undefined) };
  const report = await sweep(
    scope,
    {
      graceSeconds: env.JANITOR_GRACE_SECONDS,
      // An invoke may ask for a dry run, never undo the stage's (janitorDryRun: 'true').
      dryRun: event.dryRun === true || env.JANITOR_DRY_RUN === 'true',
      concurrency: MAX_CONCURRENCY,
      vpcIds: env.JANITOR_VPC_IDS,
      home: { region: env.AWS_REGION, accountId: env.JANITOR_ACCOUNT_ID },
      sightingsTable: env.JANITOR_SIGHTINGS_TABLE,
    },
    { ec2, bedrock, dynamodb, now: () => new Date() },
  );
  log.info('janitor sweep', {
    scope: scope.jobArn ?? 'all',
    scanned: report.scanned,
    deleted: report.deleted.length,
    wouldDelete: report.wouldDelete.length,
    kept: report.kept.length,
    marked: report.marked.length,
  });
  return report;
});

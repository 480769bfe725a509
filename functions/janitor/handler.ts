/**
 * janitor Lambda: runs on a schedule (full sweep) and on Bedrock's "Model Customization Job State
 * Change" events for terminal states (sweep of that job's ENIs). Such an event names the job in
 * `detail.jobArn` and its status in `detail.jobStatus` (AWS's documented sample:
 * test/fixtures/events/bedrock-model-customization-job-state-change.json); the rule in serverless.yml
 * filters on `jobStatus`, and the sweep asks Bedrock for the status itself (and the job ledger,
 * JOB_LEDGER_TABLE, for the ENIs recorded while the job ran). A manual invoke may pass
 * `{ "dryRun": true }` (never `false` over a stage in dry-run mode) and/or `{ "jobArn": "…" }`.
 *
 * A full sweep (the schedule, or an invoke without a job ARN) also sweeps custom model deployments the
 * evaluation gate left behind (./deployments.ts), whatever the stage's evaluationGate is now (a deployment
 * of an earlier job outlives a change of the setting): rejected ones are reported, and deleted only when the
 * stage param rejectedDeployments (STAGE_REJECTED_DEPLOYMENTS) is `delete`. A job's event sweeps ENIs only.
 */
import * as z from 'zod/mini';
import { janitorBedrock as bedrock, janitorDynamodb as dynamodb, janitorEc2 as ec2 } from '../shared/clients.js';
import { loadEnv } from '../shared/env.js';
import { accountIdSchema, MAX_EC2_ID_LENGTH, VPC_ID } from '../shared/ids.js';
import { jobArnSchema } from '../shared/job-state.js';
import { makeHandler } from '../shared/handler.js';
import { dynamoLedger } from '../shared/ledger.js';
import { log } from '../shared/log.js';
import { sweepDeployments, type DeploymentSweepReport } from './deployments.js';
import { MAX_CONCURRENCY, sweep, type JanitorReport } from './janitor.js';

const env = loadEnv(
  z.object({
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
    ).check(z.refine((ids: string[]) => ids.length > 0 && ids.every((id) => id.length <= MAX_EC2_ID_LENGTH && VPC_ID.test(id)), 'must list vpc-… ids, comma-separated')),
    // The stack's job ledger (JobLedgerTable): the ENIs recorded while each job ran; read only.
    JOB_LEDGER_TABLE: z.string().check(z.minLength(1)),
    // The janitor's own account (CloudFormation's AWS::AccountId); its region is AWS_REGION (Lambda sets it).
    JANITOR_ACCOUNT_ID: accountIdSchema,
    AWS_REGION: z.string().check(z.minLength(1, 'AWS_REGION is required (Lambda sets it)')),
    // Stage param rejectedDeployments: `report` (default; also when unset or empty) or `delete`.
    STAGE_REJECTED_DEPLOYMENTS: z.pipe(
      z.pipe(z.optional(z.string()), z.transform((v: string | undefined) => (v === undefined || v.trim() === '' ? 'report' : v.trim()))),
      z.enum(['report', 'delete'], 'must be report or delete'),
    ),
  }),
);

// Read only (GetItem): the ledger's `now` dates writes, which the janitor never makes.
const ledger = dynamoLedger(env.JOB_LEDGER_TABLE, { dynamodb, now: () => new Date() });

const eventSchema = z.object({
  dryRun: z.optional(z.boolean()),
  jobArn: z.optional(jobArnSchema),
  source: z.optional(z.string()),
  detail: z.optional(z.looseObject({ jobArn: z.optional(jobArnSchema) })),
});

export const handler = makeHandler(eventSchema, async (event): Promise<JanitorReport & { deployments?: DeploymentSweepReport }> => {
  const scope = { jobArn: event.jobArn ?? (event.source === 'aws.bedrock' ? event.detail?.jobArn : undefined) };
  const report = await sweep(
    scope,
    {
      // An invoke may ask for a dry run, never undo the stage's (janitorDryRun: 'true').
      dryRun: event.dryRun === true || env.JANITOR_DRY_RUN === 'true',
      concurrency: MAX_CONCURRENCY,
      vpcIds: env.JANITOR_VPC_IDS,
      home: { region: env.AWS_REGION, accountId: env.JANITOR_ACCOUNT_ID },
    },
    { ec2, bedrock, ledger },
  );
  log.info('janitor sweep', {
    scope: scope.jobArn ?? 'all',
    scanned: report.scanned,
    deleted: report.deleted.length,
    wouldDelete: report.wouldDelete.length,
    kept: report.kept.length,
  });
  if (scope.jobArn) return report;
  const deployments = await sweepDeployments(
    {
      dryRun: event.dryRun === true || env.JANITOR_DRY_RUN === 'true',
      rejectedDeployments: env.STAGE_REJECTED_DEPLOYMENTS,
      concurrency: MAX_CONCURRENCY,
      home: { region: env.AWS_REGION, accountId: env.JANITOR_ACCOUNT_ID },
    },
    { bedrock, ledger },
  );
  log.info('janitor deployment sweep', {
    rejectedDeployments: deployments.rejectedDeployments,
    scanned: deployments.scanned,
    rejected: deployments.rejected.map((r) => r.deploymentArn),
    deleted: deployments.deleted,
    wouldDelete: deployments.wouldDelete,
    kept: deployments.kept.length,
  });
  return { ...report, deployments };
});

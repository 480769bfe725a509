/**
 * validate-dataset Lambda (the ValidateDataset state), read-only: streams the job's training and
 * validation data and checks it against its model's format, limits and the job's budget
 * (validate-dataset.ts). The event is `{ job }`: the job as ValidateNetwork resolved it.
 */
import * as z from 'zod/mini';
import { s3 } from '../shared/clients.js';
import { jobInputSchemas } from '../shared/job-input.js';
import { makeHandler } from '../shared/handler.js';
import { log } from '../shared/log.js';
import { loadStage } from '../shared/stage.js';
import { validateDataset } from './validate-dataset.js';

/**
 * The job's fields this step reads, each with its rules from the resolved job's schema (z.pick); the
 * job's other fields pass unchecked (ValidateNetwork resolved and checked the whole job). Built on the
 * first event, not at import.
 */
const jobSchema = z.lazy(() =>
  z.looseObject(
    z.pick(jobInputSchemas().resolvedJobObject, {
      baseModelIdentifier: true,
      customizationType: true,
      trainingDataS3Uri: true,
      invocationLogsConfig: true,
      validationDataS3Uris: true,
      hyperParameters: true,
      budget: true,
      jobName: true,
      evaluation: true,
    }).shape,
  ),
);
const eventSchema = z.strictObject({ job: jobSchema });

export const handler = makeHandler(eventSchema, async ({ job }, context) => {
  const stage = loadStage(process.env);
  const dataset = await validateDataset(job, stage, { s3, remainingMs: () => context.getRemainingTimeInMillis() });
  log.info('dataset checked', {
    jobName: job.jobName,
    status: dataset.status,
    records: dataset.trainingRecords,
    tokens: dataset.tokens?.total,
    ...(dataset.evaluation ? { evaluationPrompts: dataset.evaluation.prompts, evaluationUsd: dataset.evaluation.estimate.usd } : {}),
  });
  return dataset;
});

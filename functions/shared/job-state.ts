/**
 * Shapes that steps after SubmitJob pass along in the execution state (`$.submission`, `$.poll`),
 * with their zod schemas. Produced by submit-job and poll-status, read by poll-status and cleanup-enis.
 */
import { z } from 'zod';

export const JOB_STATUSES = ['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A model customization job ARN. */
export const jobArnSchema = z
  .string()
  .regex(/^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:model-customization-job\/.+$/, 'must be a model customization job ARN');

/** `$.submission`: the job this execution follows. */
export const submissionSchema = z.object({
  jobArn: jobArnSchema,
  jobName: z.string().min(1),
  /** True when a retried submit found the job this execution had already created. */
  adopted: z.boolean(),
  submittedAt: z.string(),
  /** ISO time after which the job is stopped (`maxJobDurationSeconds` after submission). */
  deadline: z.string(),
});
export type Submission = z.infer<typeof submissionSchema>;

/** What the Choice after PollStatus routes on. */
export const POLL_NEXT = ['wait', 'stop', 'handover', 'completed', 'failed', 'stopped'] as const;
export type PollNext = (typeof POLL_NEXT)[number];

/** `$.poll`: the latest status check. */
export const pollSchema = z.object({
  status: z.enum(JOB_STATUSES),
  next: z.enum(POLL_NEXT),
  /** Status checks since submission, over all executions of the chain (drives the wait interval). */
  pollCount: z.number().int().min(0),
  /** Status checks in this execution (drives the history-size estimate). */
  pollsThisExecution: z.number().int().min(0),
  /** Estimated history events of this execution after this poll. */
  historyEvents: z.number().int().min(0),
  nextWaitSeconds: z.number().int().min(1),
  deadlineExceeded: z.boolean(),
  checkedAt: z.string(),
  /** One line a person can read: what the job is doing, or why it ended. */
  message: z.string(),
  failureMessage: z.string().optional(),
  /** With next = handover: the fresh execution that carries the job on. */
  handover: z.object({ generation: z.number().int().min(1), executionName: z.string().min(1).max(80) }).optional(),
  statusDetails: z.unknown().optional(),
});
export type PollResult = z.infer<typeof pollSchema>;

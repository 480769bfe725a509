/**
 * Where the CLI's commands act: a deployed stage ({@link AwsTarget}, cli/aws-target.ts) or the
 * local emulator ({@link LocalTarget}, cli/local-target.ts). Both speak in Step Functions'
 * history events and {@link ExecutionView}s, so every command renders the same way for both.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { ExecutionView } from '../functions/shared/execution-view.js';

/** One line of `list`. */
export interface ExecutionSummary {
  arn: string;
  name: string;
  status: string;
  startDate?: string;
  /**
   * The job's ARN, or its name when it was not submitted. For a hand-over (an input with `handover`),
   * only the job ResumeJob verified; `hand-over (unverified)` until then (cli/handover-job.ts).
   */
  job?: string;
  /** Set for a hand-over: whether ResumeJob verified it (its job is then `job`). */
  handover?: 'verified' | 'unverified';
  /** What happened, in a line. */
  outcome: string;
}

export interface StartOptions {
  /** Follow the execution to its end (and through hand-overs), calling `onEvent` for each history event. */
  follow: boolean;
  onEvent?: (event: HistoryEvent) => void;
  /** The execution's name (unique per state machine); generated when absent. */
  name?: string;
}

export interface StartResult {
  arn: string;
  name: string;
  /** With follow: the execution (the last of its chain) at its end. */
  view?: ExecutionView;
  /** The execution's output, when it succeeded and the target has it. */
  output?: unknown;
}

export interface Target {
  /** For messages: what the commands act on. */
  readonly description: string;
  /** Whether runs seed a demo account whose job input an --input file may leave out (the local emulator without --endpoint). */
  readonly seeded?: boolean;
  /** Checks the input before any AWS call where the target can (throws InvalidInputError / StageConfigError). */
  validate(input: Record<string, unknown>): void | Promise<void>;
  start(input: Record<string, unknown>, options: StartOptions): Promise<StartResult>;
  /** The execution (ARN or name), rebuilt from its history. */
  view(execution: string): Promise<ExecutionView>;
  /** The most recent executions, newest first. */
  list(max: number): Promise<ExecutionSummary[]>;
  /** Runs the janitor once and returns its report. */
  janitor(dryRun: boolean): Promise<unknown>;
}

/** A stage or execution that cannot be found, or an AWS call that failed: exit code 3, its message without a stack. */
export class TargetError extends Error {
  override readonly name = 'TargetError';
}

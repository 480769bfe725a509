/**
 * A record of the evaluation gate's held-out dataset: the format of a prompt dataset for a model-as-a-judge
 * evaluation job, JSON Lines of `prompt` (required), `referenceResponse` and `category` (optional)
 * (https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-prompt-datasets-judge.html). The workflow
 * writes each model's responses (`modelResponses`) itself, so a held-out record carries none. One definition for
 * the dataset step (before training) and the gate (functions/evaluate-model, which reads the dataset again).
 * Messages name the rule, never a value or a key of the writer's.
 */

/** The keys of a held-out record (the judge prompt dataset's, without `modelResponses`). */
export const HELD_OUT_RECORD_KEYS = ['prompt', 'referenceResponse', 'category'] as const;

export interface HeldOutRecordProblem {
  line: number;
  field: string;
  rule: string;
  message: string;
}

/** The problems of one parsed held-out record (`[]`: valid). Messages name the rule, never a value. */
export function heldOutRecordProblems(value: unknown): HeldOutRecordProblem[] {
  const at = (field: string, rule: string, message: string): HeldOutRecordProblem => ({ line: 0, field, rule, message });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [at('(record)', 'record.object', 'must be a JSON object')];
  const record = value as Record<string, unknown>;
  const problems: HeldOutRecordProblem[] = [];
  if (typeof record.prompt !== 'string') problems.push(at('prompt', 'prompt.required', 'must be a string (required)'));
  else if (record.prompt.trim() === '') problems.push(at('prompt', 'prompt.empty', 'must not be empty'));
  if ('referenceResponse' in record) {
    if (typeof record.referenceResponse !== 'string') problems.push(at('referenceResponse', 'referenceResponse.type', 'must be a string when present'));
    else if (record.referenceResponse.trim() === '') problems.push(at('referenceResponse', 'referenceResponse.empty', 'must not be empty when present'));
  }
  if ('category' in record && typeof record.category !== 'string') problems.push(at('category', 'category.type', 'must be a string when present'));
  if ('modelResponses' in record) {
    problems.push(at('modelResponses', 'modelResponses.forbidden', 'must not be in a held-out record: the workflow writes each model\'s responses'));
  }
  const unknown = Object.keys(record).filter((key) => key !== 'modelResponses' && !(HELD_OUT_RECORD_KEYS as readonly string[]).includes(key)).length;
  if (unknown > 0) {
    // The key itself is the writer's data: counted, never named.
    problems.push(at('(record)', 'record.unknown-key', `has ${unknown} key(s) other than prompt, referenceResponse and category`));
  }
  return problems;
}


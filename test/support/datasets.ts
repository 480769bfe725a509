/** Prompt/completion JSONL datasets (valid for the dataset check) for tests that put them in S3. */

/** Record `i` of a valid prompt/completion dataset (one JSON line, no newline). */
export const record = (i: number) => JSON.stringify({ prompt: `Customer question ${i}: where is my invoice?`, completion: `Answer ${i}: under Billing > History.` });

/** `n` records, numbered from `from`, one per line, newline-terminated. */
export const dataset = (n: number, from = 0) => Array.from({ length: n }, (_, i) => record(from + i)).join('\n') + '\n';

/** Records from 0 up to the first that reaches `bytes` (for copies in parts), newline-terminated. */
export function datasetOfAtLeast(bytes: number): string {
  const lines: string[] = [];
  for (let size = 0, i = 0; size < bytes; i++) {
    lines.push(record(i));
    size += lines.at(-1)!.length + 1;
  }
  return lines.join('\n') + '\n';
}

/**
 * The token estimate from characters, for models whose documentation gives no characters-per-token
 * figure: shared by the dataset check (functions/validate-dataset/limits.ts: the Converse-format
 * families, Nova among them) and the evaluation gate's cost estimate (evaluation-cost.ts), so the two
 * count tokens the same way. Kept here, not in validate-dataset, because a function folder may not be
 * imported from shared/ (test/unit/dependency-rules.test.ts).
 */

/** Characters per token when no tokenizer and no documented figure is at hand. */
export const ESTIMATED_CHARS_PER_TOKEN = 4;

/** Where {@link ESTIMATED_CHARS_PER_TOKEN} is used from (limits.ts `Source` shape). */
export const ESTIMATED_CHARS_PER_TOKEN_SOURCE = {
  url: 'https://docs.aws.amazon.com/bedrock/latest/userguide/preparing-text-data.html',
  section: 'Converse API format (no characters-per-token figure is documented for it)',
  note: 'estimate, no tokenizer: 4 characters per token',
} as const;

/** Estimated tokens of `chars` characters: characters / `charsPerToken`, rounded up. */
export function tokensFromChars(chars: number, charsPerToken: number = ESTIMATED_CHARS_PER_TOKEN): number {
  return Math.ceil(chars / charsPerToken);
}

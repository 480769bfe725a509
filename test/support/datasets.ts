/** JSONL datasets for tests that put them in S3: prompt/completion records, and the documented examples of the distillation and RFT formats. */

import { DISTILLATION_DOCUMENTED_RECORDS, RFT_DOCUMENTED_RECORDS } from '../../local/demo-customizations.js';

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

// ---- documented examples of the distillation and RFT formats -----------------------------------
// Each record is AWS's published example as its page prints it; where the page's text is not valid
// JSON, the one fix is said beside it. Never written to fit the checks: the checks must take them.
// The demo account's datasets (local/demo-customizations.ts) start with some of them; those are
// taken from there, not copied.

/** Distillation prompts (`bedrock-conversation-2024`, distillation-prompts format). */
export const DISTILLATION_EXAMPLES = {
  /**
   * https://docs.aws.amazon.com/bedrock/latest/userguide/distillation-data-prep-option-1.html "Example format": a prompt with its
   * labelled answer (the page's extra closing "}" dropped; local/demo-customizations.ts).
   */
  labelled: DISTILLATION_DOCUMENTED_RECORDS[0],
  /** https://docs.aws.amazon.com/nova/latest/userguide/custom-distill-prepare.html "Distillation using prompts with no labels". */
  unlabelled: DISTILLATION_DOCUMENTED_RECORDS[1],
  /** https://docs.aws.amazon.com/bedrock/latest/userguide/distillation-prepare-datasets.html "RAG prompt example". */
  rag: {
    schemaVersion: 'bedrock-conversation-2024',
    system: [{ text: 'You are a financial analyst charged with answering questions about 10K and 10Q SEC filings. Given the context below, answer the following question.' }],
    messages: [
      {
        role: 'user',
        content: [
          {
            text: '<context>\nDocument 1: Multiple legal actions have been filed against us as a result of the October 29, 2018 accident of Lion Air Flight 610 and the March 10, 2019 accident of Ethiopian Airlines Flight 302.\n</context>\n\n<question>Has Boeing reported any materially important ongoing legal battles from FY2022?</question>',
          },
        ],
      },
    ],
  },
  /**
   * https://github.com/aws-samples/amazon-bedrock-samples/blob/main/custom-models/model_distillation/dataset-validation/README.md
   * "Prompt Format": "`System` is optional, and so is the `assistant` content within `messages`".
   */
  bare: { schemaVersion: 'bedrock-conversation-2024', messages: [{ role: 'user', content: [{ text: 'why is the sky blue' }] }] },
} as const;

/** Reinforcement fine-tuning prompts (OpenAI chat-completion format, rft-chat-completion). */
export const RFT_EXAMPLES = {
  /**
   * https://docs.aws.amazon.com/bedrock/latest/userguide/rft-prepare-data.html "Example: General question-answering" (the page's
   * missing opening quote of the user message's `"role"` restored; local/demo-customizations.ts).
   */
  question: RFT_DOCUMENTED_RECORDS[0],
  /** https://docs.aws.amazon.com/bedrock/latest/userguide/rft-prepare-data.html "Example: Math problem" (an object as reference answer, an id). */
  math: RFT_DOCUMENTED_RECORDS[1],
  /** https://docs.aws.amazon.com/nova/latest/nova2-userguide/nova-hp-rft-nova2.html "Example 1: Chemistry problem". */
  chemistry: {
    id: 'chem-001',
    messages: [
      { role: 'system', content: 'You are a helpful chemistry assistant' },
      { role: 'user', content: 'Predict hydrogen bond donors and acceptors for this SMILES: CCN(CC)CCC(=O)c1sc(N)nc1C' },
    ],
    reference_answer: {
      donor_bond_counts: 2,
      acceptor_bond_counts: 4,
      explanation: "Calculated using Lipinski's rule of five: N-H groups (2 donors), N and O atoms with lone pairs (4 acceptors)",
    },
  },
  /**
   * https://github.com/aws-samples/amazon-nova-samples/blob/main/customization/bedrock-finetuning/understanding/dataset_validation/DATASET_VALIDATION_INSTRUCTIONS.md
   * "9. RFT — Reinforcement Fine-Tuning (lite-2.0 only)": a record with a tool definition.
   */
  tools: {
    id: 'sample-001',
    messages: [
      { role: 'system', content: 'You are a helpful assistant with access to tools.' },
      { role: 'user', content: 'What is the weather in Seattle?' },
    ],
    tools: [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Get current weather for a location',
          parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
        },
      },
    ],
    reference_answer: '{"location": "Seattle", "temperature": "55°F"}',
  },
} as const;

/** `n` JSONL lines cycling through `examples` as published, newline-terminated. */
export function examplesDataset(examples: readonly unknown[], n: number): string {
  return Array.from({ length: n }, (_, i) => JSON.stringify(examples[i % examples.length])).join('\n') + '\n';
}

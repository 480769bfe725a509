/**
 * What the demo account (local/seed.ts) holds for the evaluation gate (docs/evaluation.md), as a real
 * account would hold it: a bucket of its own for the gate (held-out datasets, generated responses,
 * results), a held-out prompt dataset in the format of Bedrock's evaluation jobs, and an Amazon Nova
 * Micro fine-tuning dataset (a model Bedrock deploys on demand), with the stage params of a gate that
 * a job may ask for and the demo's job input that asks for it (`npm run local -- --scenario promote|reject`,
 * examples/evaluation.json).
 */

/**
 * The gate's bucket: never the output, training, extra or invocation-log bucket, and never given the
 * VPC-only Deny (evaluation jobs run outside the VPC: CreateEvaluationJob takes no vpcConfig).
 */
export const DEMO_EVALUATION_BUCKET = 'demo-evaluation';
/** The held-out dataset's key in {@link DEMO_EVALUATION_BUCKET}, and the name the stage lists it under. */
export const DEMO_HELD_OUT_KEY = 'held-out/support-qa.jsonl';
export const DEMO_HELD_OUT_NAME = 'support-qa';
/** The Nova fine-tuning dataset's key in the training bucket (examples/evaluation.json names it). */
export const DEMO_NOVA_TRAINING_KEY = 'datasets/support-nova.jsonl';

/**
 * AWS's prompt dataset records, as published for custom prompt datasets of automatic model evaluation
 * jobs (keys `prompt`, `referenceResponse`, optional `category`): "Use a custom prompt dataset for model
 * evaluation", https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-prompt-datasets-custom.html
 * (the accuracy example and the question-and-answer example). Judge jobs take "the same format as
 * automatic model evaluation jobs" (https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-prompt-datasets-judge.html).
 */
export const HELD_OUT_DOCUMENTED_RECORDS = [
  { prompt: 'Bobigny is the capital of', referenceResponse: 'Seine-Saint-Denis', category: 'Capitals' },
  { prompt: 'Aurillac is the capital of', category: 'Capitals', referenceResponse: 'Cantal' },
  { prompt: 'Bamiyan city is the capital of', category: 'Capitals', referenceResponse: 'Bamiyan Province' },
  { prompt: 'Sokhumi is the capital of', category: 'Capitals', referenceResponse: 'Abkhazia' },
] as const;

/**
 * The demo's support questions and answers (the theme of the fine-tuning demo data), held out: none is a
 * training record ({@link novaTrainingDataset} asks other questions).
 */
const HELD_OUT_SUPPORT = [
  { prompt: 'How do I turn off email notifications?', referenceResponse: 'Open Settings > Notifications and switch off email notifications.' },
  { prompt: 'How do I export my data?', referenceResponse: 'Open Settings > Data and choose Export; a download link arrives by email.' },
  { prompt: 'Can I use my account on more than one device?', referenceResponse: 'Yes: sign in on each device with the same account.' },
  { prompt: 'How do I add a team member?', referenceResponse: 'Open Team > Members and choose Invite, then enter their email address.' },
] as const;

/** The held-out dataset: AWS's records, then the demo's support records (category `Support`). JSONL, newline-terminated. */
export function heldOutDataset(): string {
  const records = [...HELD_OUT_DOCUMENTED_RECORDS, ...HELD_OUT_SUPPORT.map((r) => ({ ...r, category: 'Support' }))];
  return `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;
}

/** The prompts of the held-out dataset, in order (tests compare the gate's generated datasets with it). */
export function heldOutPrompts(): string[] {
  return [...HELD_OUT_DOCUMENTED_RECORDS, ...HELD_OUT_SUPPORT].map((r) => r.prompt);
}

/**
 * AWS's text-only Nova fine-tuning record (format `bedrock-conversation-2024`), as published: "Supervised
 * fine-tuning on Amazon Nova 2.0", https://docs.aws.amazon.com/bedrock/latest/userguide/nova-2-sft-data-prep.html,
 * "Text-only" ("a basic text-only format compatible with Amazon Nova 1.0").
 */
export const NOVA_DOCUMENTED_RECORD = {
  schemaVersion: 'bedrock-conversation-2024',
  system: [{ text: 'You are a digital assistant with a friendly personality' }],
  messages: [
    { role: 'user', content: [{ text: 'What country is right next to Australia?' }] },
    { role: 'assistant', content: [{ text: 'The closest country is New Zealand' }] },
  ],
} as const;

/** The demo's support training pairs (none of them a held-out prompt). */
const TRAINING_SUPPORT = [
  ['How do I reset my password?', 'Open Settings > Security and choose Reset password.'],
  ['Where can I download my invoice?', 'Invoices are under Billing > History.'],
  ['How do I contact support?', 'Use the Help button or write to support.'],
  ['How do I cancel my subscription?', 'Open Billing > Plan and choose Cancel subscription.'],
  ['Can I change my billing address?', 'Yes: open Billing > Details and edit the address.'],
  ['Why was my payment declined?', 'The bank refused the charge; check the card details under Billing > Payment.'],
  ['How do I upgrade my plan?', 'Open Billing > Plan and choose Upgrade.'],
  ['How do I change my email address?', 'Open Settings > Profile and edit the email address.'],
  ['Is two-factor authentication available?', 'Yes: turn it on under Settings > Security.'],
  ['Which browsers are supported?', 'The latest versions of Chrome, Firefox, Safari and Edge.'],
] as const;

/**
 * The Nova Micro fine-tuning dataset: AWS's record ({@link NOVA_DOCUMENTED_RECORD}), then the demo's
 * support pairs in the same shape; at least the 8 training records functions/validate-dataset/limits.ts
 * asks of a Nova fine-tuning job. JSONL, newline-terminated.
 */
export function novaTrainingDataset(): string {
  const records = [
    NOVA_DOCUMENTED_RECORD,
    ...TRAINING_SUPPORT.map(([question, answer]) => ({
      schemaVersion: 'bedrock-conversation-2024',
      system: [{ text: 'You are a support agent. Answer the customer in one sentence.' }],
      messages: [
        { role: 'user', content: [{ text: question }] },
        { role: 'assistant', content: [{ text: answer }] },
      ],
    })),
  ];
  return `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;
}

/**
 * The demo's gate: Amazon Nova Micro fine-tuned in us-east-1 (a model and Region on-demand deployment
 * lists: https://docs.aws.amazon.com/bedrock/latest/userguide/deploy-custom-model-on-demand.html), judged by
 * Amazon Nova Pro (an evaluator model with built-in metric prompts:
 * https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-type-judge-prompt.html).
 * The prices are demo values, not a price list: a deployment sets its own from
 * https://aws.amazon.com/bedrock/pricing/ (one price per 1,000 tokens in or out, the higher of the two).
 */
export const DEMO_EVALUATION = {
  baseModelIdentifier: 'amazon.nova-micro-v1:0:128k',
  judgeModelIdentifier: 'amazon.nova-pro-v1:0',
  metrics: ['Builtin.Correctness', 'Builtin.Completeness'],
  pricesUsdPer1k: { 'amazon.nova-micro-v1:0': 0.00014, 'amazon.nova-pro-v1:0': 0.0032 },
  maxCostUsd: 5,
} as const;

/** The stage params of the demo's gate (serverless.yml `params` names): `allow`, so a job may ask for it. */
export function demoEvaluationStageParams(): Record<string, string> {
  return {
    evaluationGate: 'allow',
    evaluationBucket: DEMO_EVALUATION_BUCKET,
    evaluationDatasets: `${DEMO_HELD_OUT_NAME}=s3://${DEMO_EVALUATION_BUCKET}/${DEMO_HELD_OUT_KEY}`,
    evaluationMetrics: DEMO_EVALUATION.metrics.join(','),
    evaluationJudgeModels: DEMO_EVALUATION.judgeModelIdentifier,
    inferenceTokenPricesUsdPer1k: Object.entries(DEMO_EVALUATION.pricesUsdPer1k)
      .map(([model, price]) => `${model}=${price}`)
      .join(','),
    maxEvaluationCostUsd: String(DEMO_EVALUATION.maxCostUsd),
  };
}

/** The job's `evaluation` in the demo: the held-out dataset, both metrics, the judge, the custom model at least as good as the base. */
export function demoEvaluationRequest(): Record<string, unknown> {
  return {
    dataset: DEMO_HELD_OUT_NAME,
    metrics: [...DEMO_EVALUATION.metrics],
    judgeModelIdentifier: DEMO_EVALUATION.judgeModelIdentifier,
    thresholds: { minGainOverBase: 0 },
  };
}

/** The fields of the demo's job input that make it a Nova Micro fine-tuning job asking for the gate (laid over the demo's input). */
export function demoEvaluationJobFields(trainingBucket: string): Record<string, unknown> {
  return {
    baseModelIdentifier: DEMO_EVALUATION.baseModelIdentifier,
    customizationType: 'FINE_TUNING',
    trainingDataS3Uri: `s3://${trainingBucket}/${DEMO_NOVA_TRAINING_KEY}`,
    validationDataS3Uris: [],
    hyperParameters: { epochCount: '2' },
    evaluation: demoEvaluationRequest(),
  };
}

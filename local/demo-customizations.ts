/**
 * What the demo account (local/seed.ts) holds for the customizations beyond fine-tuning, as a real
 * account would hold it: a distillation prompt dataset, a reinforcement fine-tuning (RFT) prompt dataset,
 * Bedrock model invocation logs (a distillation job's other source), and the code of the RFT grader
 * Lambda. The records are in the formats AWS documents (sources beside each); each dataset starts with
 * AWS's own example records as published and goes on with the demo's records of the same shape, up to
 * the documented minimum number of records.
 */
import { gzipSync } from 'node:zlib';
// fflate (pinned in devDependencies): a zip writer without dependencies of its own, already in the
// tree through the AWS SDK (@smithy/middleware-compression); the local run is a dev-dependency tool.
import { strToU8, zipSync } from 'fflate';

/**
 * Training records a distillation and an RFT dataset need at least: "A minimum of 100 records in
 * training dataset" (RFT: https://docs.aws.amazon.com/bedrock/latest/userguide/rft-prepare-data.html,
 * Requirements); distillation: AWS's distillation dataset validator, MIN_NUM_PROMPTS = 100
 * (aws-samples/amazon-bedrock-samples custom-models/model_distillation/dataset-validation/constants.py).
 * The demo datasets hold a few more.
 */
export const DEMO_PROMPT_COUNT = 100;

const SYSTEM_TEXT = "A chat between a curious User and an artificial intelligence Bot. The Bot gives helpful, detailed, and polite answers to the User's questions.";

/**
 * AWS's distillation prompt examples (format `bedrock-conversation-2024`, one user prompt, an optional
 * labelled answer), as published:
 * - labelled: https://docs.aws.amazon.com/bedrock/latest/userguide/distillation-data-prep-option-1.html
 *   "Example format" (the page closes the record with one "}" too many, not JSON; that one is dropped);
 * - unlabelled: https://docs.aws.amazon.com/nova/latest/userguide/custom-distill-prepare.html
 *   "Distillation using prompts with no labels".
 */
export const DISTILLATION_DOCUMENTED_RECORDS = [
  {
    schemaVersion: 'bedrock-conversation-2024',
    system: [{ text: SYSTEM_TEXT }],
    messages: [
      { role: 'user', content: [{ text: 'why is the sky blue' }] },
      { role: 'assistant', content: [{ text: 'The sky is blue because molecules in the air scatter blue light from the Sun more than other colors.' }] },
    ],
  },
  {
    schemaVersion: 'bedrock-conversation-2024',
    system: [{ text: SYSTEM_TEXT }],
    messages: [{ role: 'user', content: [{ text: 'Why is the sky blue?' }] }],
  },
] as const;

/** The demo's support questions (the theme of the fine-tuning demo dataset), each asked about each product. */
const SUPPORT_QUESTIONS = [
  'How do I reset my password for {p}?',
  'Where can I download my invoice for {p}?',
  'How do I contact support about {p}?',
  'How do I cancel my {p} subscription?',
  'Can I change the billing address on my {p} account?',
  'Why was my {p} payment declined?',
  'How do I add a team member to {p}?',
  'How do I export my data from {p}?',
  'Is two-factor authentication available in {p}?',
  'How do I upgrade my {p} plan?',
  'What happens to my data if I close my {p} account?',
  'How do I change the email address of my {p} account?',
  'Where do I find the usage report of {p}?',
  'How do I turn off email notifications from {p}?',
  'How do I get a refund for {p}?',
  'Can I use {p} on more than one device?',
  'How do I update the payment card for {p}?',
  'Why can I not sign in to {p}?',
  'How do I delete a team member from {p}?',
  'Which browsers does {p} support?',
] as const;
const PRODUCTS = ['the web app', 'the mobile app', 'the desktop app', 'the API', 'the reporting add-on'] as const;

/** {@link DEMO_PROMPT_COUNT} distinct support questions: each of {@link SUPPORT_QUESTIONS} about each product. */
function supportPrompts(): string[] {
  return PRODUCTS.flatMap((product) => SUPPORT_QUESTIONS.map((q) => q.replace('{p}', product))).slice(0, DEMO_PROMPT_COUNT);
}

/**
 * The distillation dataset of the demo account: AWS's examples ({@link DISTILLATION_DOCUMENTED_RECORDS}),
 * then {@link DEMO_PROMPT_COUNT} unlabelled support prompts in the same format (the teacher writes the
 * answers). JSONL, newline-terminated.
 */
export function distillationDataset(): string {
  const records = [
    ...DISTILLATION_DOCUMENTED_RECORDS,
    ...supportPrompts().map((text) => ({
      schemaVersion: 'bedrock-conversation-2024',
      system: [{ text: 'You are a support agent. Answer the customer in two or three sentences.' }],
      messages: [{ role: 'user', content: [{ text }] }],
    })),
  ];
  return `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;
}

/**
 * AWS's RFT prompt examples (OpenAI chat-completion format: `messages`, `reference_answer`, optional
 * `id`), as published in https://docs.aws.amazon.com/bedrock/latest/userguide/rft-prepare-data.html:
 * "Example: General question-answering" (the page prints the user message's key as `role"`, its
 * opening quote missing; restored) and "Example: Math problem".
 */
export const RFT_DOCUMENTED_RECORDS = [
  {
    messages: [
      { role: 'system', content: 'You are a helpful assistant' },
      { role: 'user', content: 'What is machine learning?' },
    ],
    reference_answer: 'Machine learning is a subset of artificial intelligence that enables computers to learn and make decisions from data without being explicitly programmed.',
  },
  {
    id: 'sample-001',
    messages: [
      { role: 'system', content: 'You are a math tutor' },
      { role: 'user', content: 'Solve: 2x + 5 = 13' },
    ],
    reference_answer: { solution: 'x = 4', steps: ['2x = 13 - 5', '2x = 8', 'x = 4'] },
  },
] as const;

/**
 * The RFT dataset of the demo account: AWS's examples ({@link RFT_DOCUMENTED_RECORDS}), then
 * {@link DEMO_PROMPT_COUNT} linear equations in the shape of the documented math example (`ax + b = c`
 * with a whole solution, the reference answer's solution and steps), which the demo grader
 * ({@link DEMO_GRADER_SOURCE}) scores. JSONL, newline-terminated.
 */
export function rftDataset(): string {
  const equations = Array.from({ length: DEMO_PROMPT_COUNT }, (_, i) => {
    const a = 2 + (i % 7);
    const x = 1 + ((i * 5) % 23);
    const b = 1 + ((i * 3) % 17);
    const c = a * x + b;
    return {
      id: `demo-${String(i + 1).padStart(3, '0')}`,
      messages: [
        { role: 'system', content: 'You are a math tutor' },
        { role: 'user', content: `Solve: ${a}x + ${b} = ${c}` },
      ],
      reference_answer: { solution: `x = ${x}`, steps: [`${a}x = ${c} - ${b}`, `${a}x = ${c - b}`, `x = ${x}`] },
    };
  });
  return `${[...RFT_DOCUMENTED_RECORDS, ...equations].map((r) => JSON.stringify(r)).join('\n')}\n`;
}

/** The request metadata the demo's support application sets on its calls (and a distillation job's filter selects). */
export const DEMO_LOG_METADATA = { project: 'support' } as const;

/**
 * Where Bedrock delivers the invocation logs of `accountId` in `region` under a logging configuration's
 * bucket and key prefix: `<prefix>/AWSLogs/<account>/BedrockModelInvocationLogs/<region>/<yyyy>/<mm>/<dd>/<hh>/`
 * ("Monitor model invocation using CloudWatch Logs and Amazon S3",
 * https://docs.aws.amazon.com/bedrock/latest/userguide/model-invocation-logging.html, the S3 destination's
 * bucket policy names `AWSLogs/<account>/BedrockModelInvocationLogs/*`).
 */
export function invocationLogPrefix(accountId: string, region: string): string {
  return `AWSLogs/${accountId}/BedrockModelInvocationLogs/${region}/`;
}

/** The hour the demo's invocation logs were written in (a fixed time: the same objects on every run). */
const LOG_HOUR = '2026-01-15T10';

/**
 * One invocation log record. The envelope (schemaType, schemaVersion, timestamp, accountId, identity,
 * region, requestId, operation, modelId, input, output, requestMetadata) is AWS's "Invocation Logs
 * Format" (aws-samples/amazon-bedrock-samples custom-models/model_distillation/dataset-validation/README.md,
 * the validator of distillation from invocation logs); the bodies are a Converse call's request and
 * response as the Converse API takes and returns them
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html).
 */
function invocationLogRecord(i: number, accountId: string, region: string, prompt: string, answer: string, metadata: Record<string, string>) {
  const inputTokens = Math.ceil(prompt.length / 4);
  const outputTokens = Math.ceil(answer.length / 4);
  return {
    schemaType: 'ModelInvocationLog',
    schemaVersion: '1.0',
    timestamp: `${LOG_HOUR}:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`,
    accountId,
    identity: { arn: `arn:aws:sts::${accountId}:assumed-role/support-app/session-${i}` },
    region,
    requestId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    operation: 'Converse',
    modelId: 'amazon.nova-pro-v1:0',
    input: {
      inputContentType: 'application/json',
      inputBodyJson: { messages: [{ role: 'user', content: [{ text: prompt }] }], inferenceConfig: { maxTokens: 512 } },
      inputTokenCount: inputTokens,
    },
    output: {
      outputContentType: 'application/json',
      outputBodyJson: {
        output: { message: { role: 'assistant', content: [{ text: answer }] } },
        stopReason: 'end_turn',
        usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
      },
      outputTokenCount: outputTokens,
    },
    requestMetadata: metadata,
  };
}

/**
 * The demo account's invocation logs: the support application's {@link DEMO_PROMPT_COUNT} Converse calls
 * to Amazon Nova Pro (request metadata {@link DEMO_LOG_METADATA}, what a job's filter selects; "Minimum
 * of 100 invocation logs that match the given filter", the README above) and ten calls of another
 * application that such a filter leaves out. Objects of gzipped JSON lines, keyed by where Bedrock
 * delivers them ({@link invocationLogPrefix}), 25 records each.
 */
export function invocationLogObjects(accountId: string, region: string): { key: string; body: Uint8Array }[] {
  const support = supportPrompts().map((prompt, i) =>
    invocationLogRecord(i, accountId, region, prompt, 'Open Settings and follow the steps there; support can help if that does not work.', { ...DEMO_LOG_METADATA }),
  );
  const other = Array.from({ length: 10 }, (_, i) =>
    invocationLogRecord(DEMO_PROMPT_COUNT + i, accountId, region, `Summarize internal memo ${i + 1}.`, 'A short summary.', { project: 'internal' }),
  );
  const records = [...support, ...other];
  const [date, hour] = LOG_HOUR.split('T') as [string, string];
  const folder = `${invocationLogPrefix(accountId, region)}${date.replaceAll('-', '/')}/${hour}/`;
  const objects: { key: string; body: Uint8Array }[] = [];
  for (let at = 0; at < records.length; at += 25) {
    const part = records.slice(at, at + 25);
    objects.push({
      key: `${folder}${LOG_HOUR.replace(/[-:]/g, '')}${String(objects.length).padStart(2, '0')}Z_${part[0]!.requestId.slice(-8)}.json.gz`,
      body: gzipSync(`${part.map((r) => JSON.stringify(r)).join('\n')}\n`),
    });
  }
  return objects;
}

/** The demo grader's handler (module `grader`, function `lambda_handler`) and runtime. */
export const DEMO_GRADER_HANDLER = 'grader.lambda_handler';
export const DEMO_GRADER_RUNTIME = 'python3.12';

/**
 * The grader's timeout: above Lambda's default of 3 s, as the RFT guide asks for graders that do real
 * work ("increase the Lambda timeout from the default 3 seconds, up to 15 minutes, for complex
 * evaluations": https://docs.aws.amazon.com/bedrock/latest/userguide/reward-functions.html).
 */
export const DEMO_GRADER_TIMEOUT_SECONDS = 300;

/**
 * The demo account's RFT grader (Python, a Lambda handler). Locally it is created in moto and never
 * invoked: the stand-in for Bedrock trains nothing. It follows the documented reward-function
 * interface, so it is also a grader a real job could call.
 */
export const DEMO_GRADER_SOURCE = `"""RFT grader of the bedrock-vpc-customization demo account (created by local/seed.ts; in the local
emulator it is never invoked).

Interface (Amazon Bedrock User Guide, "Setting up reward functions":
https://docs.aws.amazon.com/bedrock/latest/userguide/reward-functions.html; Amazon Nova,
"Implementing reward functions":
https://docs.aws.amazon.com/sagemaker/latest/dg/nova-implementing-reward-functions.html):
the event is a list of samples {"id", "messages", "reference_answer", ...}, whose last message is
the model's answer (role "assistant") to the prompt before it; some pages put reference_answer
under "metadata". The result is one {"id", "aggregate_reward_score", "metrics_list"} per sample.

Scoring: when the reference names a solution "x = N" (the demo's equations), 1.0 if the answer's
last "x = ..." is N, else 0.0; otherwise the share of the reference's words the answer contains.
"""
import json
import re

SOLUTION = re.compile(r"x\\s*=\\s*(-?\\d+(?:\\.\\d+)?)")
WORD = re.compile(r"[a-z0-9]+")


def lambda_handler(event, context):
    samples = event if isinstance(event, list) else [event]
    return [grade(sample) for sample in samples]


def grade(sample):
    reference = sample.get("reference_answer")
    if reference is None:
        reference = (sample.get("metadata") or {}).get("reference_answer")
    messages = sample.get("messages") or []
    last = messages[-1] if messages else {}
    answer = last.get("content") if last.get("role") == "assistant" else None
    if not isinstance(answer, str) or reference is None:
        return result(sample, 0.0, [])
    expected = reference.get("solution") if isinstance(reference, dict) else None
    expected_text = expected if isinstance(expected, str) else (reference if isinstance(reference, str) else json.dumps(reference))
    wanted = SOLUTION.findall(expected_text)
    if wanted:
        given = SOLUTION.findall(answer)
        correct = 1.0 if given and float(given[-1]) == float(wanted[-1]) else 0.0
        return result(sample, correct, [{"name": "exact_solution", "value": correct, "type": "Reward"}])
    reference_words = set(WORD.findall(expected_text.lower()))
    overlap = len(reference_words & set(WORD.findall(answer.lower()))) / len(reference_words) if reference_words else 0.0
    return result(sample, overlap, [{"name": "reference_overlap", "value": overlap, "type": "Reward"}])


def result(sample, score, metrics):
    return {"id": str(sample.get("id", "")), "aggregate_reward_score": score, "metrics_list": metrics}
`;

/** The grader's deployment package: a zip holding `grader.py` (what Lambda's CreateFunction takes as ZipFile). */
export function demoGraderZip(): Uint8Array {
  // A fixed time: the same source gives the same package (and CodeSha256) on every run.
  return zipSync({ 'grader.py': [strToU8(DEMO_GRADER_SOURCE), { mtime: new Date('2024-01-01T00:00:00Z') }] });
}

/**
 * Which base models Amazon Bedrock customizes, by customization type and Region, and which teacher
 * models distill into which students: data with its source named, like the dataset limits
 * (functions/validate-dataset/limits.ts). Every row carries the AWS page (and section) it is read from.
 *
 * Rules for editing: a row goes in only as a page lists it; a model, type, Region or pair the pages do
 * not list stays absent. Absent means two different things, and the lookups keep them apart:
 * - a model that is in the table, asked for a type or Region its rows do not list: `unsupported`;
 * - a model that is not in the table at all (or a variant of it the pages do not write): `unknown`,
 *   allowed with a warning, never guessed.
 *
 * Model identifiers are read as Bedrock takes them: a model id (`amazon.nova-micro-v1`), with its
 * `:<version>` and `:<context>` suffixes as the pages write them (`amazon.nova-micro-v1:0:128k`), or a
 * foundation-model ARN (`arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k`); a
 * teacher may also be a system inference profile (`us.amazon.nova-premier-v1:0`, or its ARN). The
 * parsing is plain string work (no regular expression), linear in a length-capped input.
 */

import { MAX_MODEL_IDENTIFIER_LENGTH } from '../shared/ids.js';

/** Where a fact comes from: the page, and the section of it that holds the fact. */
export interface Source {
  readonly url: string;
  readonly section: string;
  /** Why the reading is not literal, when it is not. */
  readonly note?: string;
}

/** A value with its source beside it. */
export interface Sourced<T> {
  readonly value: T;
  readonly source: Source;
}

export type CustomizationType = 'FINE_TUNING' | 'CONTINUED_PRE_TRAINING' | 'DISTILLATION' | 'REINFORCEMENT_FINE_TUNING';
export const CUSTOMIZATION_TYPES: readonly CustomizationType[] = ['FINE_TUNING', 'CONTINUED_PRE_TRAINING', 'DISTILLATION', 'REINFORCEMENT_FINE_TUNING'];

/** `supported`: listed for the type in the Region · `unsupported`: the model is listed, not for this type/Region · `unknown`: not in the table. */
export type Support = 'supported' | 'unsupported' | 'unknown';

/** One model's listing for one customization type. */
export interface SupportRow {
  /** The model id exactly as the page writes it, suffixes included. */
  readonly documentedId: string;
  readonly regions: readonly string[];
  readonly source: Source;
}

export interface ModelEntry {
  /** The model id without its `:` suffixes: the table's key. */
  readonly modelId: string;
  /** The model's name as the page writes it. */
  readonly name: string;
  readonly support: Readonly<Partial<Record<CustomizationType, SupportRow>>>;
}

/** How a distillation job may name a teacher (the page's "Inference profile support" column). */
export type TeacherInvocation = 'on-demand' | 'inference-profile' | 'both';

/** One teacher of the distillation table, with the students it pairs with. */
export interface TeacherEntry {
  readonly modelId: string;
  readonly name: string;
  readonly documentedId: string;
  /** On demand: the model id or foundation-model ARN · inference profile: a system inference profile only · both. */
  readonly invocation: TeacherInvocation;
  /** Student model ids (keys of MODEL_SUPPORT), with their documented ids. */
  readonly students: readonly { readonly modelId: string; readonly documentedId: string }[];
  readonly regions: readonly string[];
  readonly source: Source;
}

// ---- sources -------------------------------------------------------------------------------------
const UG = 'https://docs.aws.amazon.com/bedrock/latest/userguide';

export const SUPPORT_PAGES = {
  FINE_TUNING: `${UG}/custom-model-supported.html`,
  CONTINUED_PRE_TRAINING: `${UG}/custom-model-supported.html`,
  DISTILLATION: `${UG}/prequisites-model-distillation.html#model-distillation-supported`,
  REINFORCEMENT_FINE_TUNING: `${UG}/reinforcement-fine-tuning.html#rft-supported-models`,
} as const satisfies Record<CustomizationType, string>;

const COPIES_NOTE =
  'stored copies of this page differ; a row any table-format copy lists is kept (its Regions united), so a job is never failed on a row one copy lists';

const src = {
  fineTuning: {
    url: SUPPORT_PAGES.FINE_TUNING,
    section: 'Supported models and Regions for fine-tuning and continued pre-training: "the foundation models that you can fine-tune" (Single-region model support)',
    note: COPIES_NOTE,
  },
  fineTuningLater: {
    url: `${UG}/custom-model-fine-tuning.html#custom-model-supported`,
    section: 'Customize a model with fine-tuning: Supported models and Regions for fine-tuning',
    note: 'read here for the rows the stored copy of custom-model-supported.html cuts off (Llama 3.2 90B, Llama 3.3 70B)',
  },
  continuedPreTraining: {
    url: SUPPORT_PAGES.CONTINUED_PRE_TRAINING,
    section: 'Supported models and Regions for fine-tuning and continued pre-training: "the foundation models that you can continuously pre-train"',
  },
  distillation: {
    url: SUPPORT_PAGES.DISTILLATION,
    section: 'Supported models and Regions for Amazon Bedrock Model Distillation (Teacher, Teacher ID, Inference profile support, Student ID, Region)',
    note: 'the page names Regions: US East (N. Virginia) is us-east-1, US West (Oregon) is us-west-2',
  },
  distillationAnthropic: {
    url: SUPPORT_PAGES.DISTILLATION,
    section: 'Supported models and Regions for Amazon Bedrock Model Distillation, "Important": distillation is not currently available for Anthropic models',
    note: 'other stored copies of the page list Claude 3.5 Sonnet v1/v2 teaching Claude 3 Haiku in us-west-2; the copy with this note lists no Anthropic pair',
  },
  rft: {
    url: SUPPORT_PAGES.REINFORCEMENT_FINE_TUNING,
    section: 'Supported models for reinforcement fine-tuning (Model ID, Region)',
  },
  rftOpenWeight: {
    url: SUPPORT_PAGES.REINFORCEMENT_FINE_TUNING,
    section: 'Supported models for reinforcement fine-tuning (Model ID, Region)',
    note: `listed on the page; its open-weight models are customized through the OpenAI-compatible APIs (${UG}/fine-tuning-openai-apis.html), which the Nova RFT page (rft-nova-models.html) points to`,
  },
} satisfies Record<string, Source>;

const s = <T>(value: T, source: Source): Sourced<T> => ({ value, source });

const US_EAST_1 = ['us-east-1'] as const;
const US_WEST_2 = ['us-west-2'] as const;
const BOTH = ['us-east-1', 'us-west-2'] as const;

const row = (documentedId: string, regions: readonly string[], source: Source): SupportRow => ({ documentedId, regions, source });

/** A student model as the distillation page names it (`<model id>:<version>:<context>`), and its model id. */
const student = (documentedId: string) => ({ modelId: documentedId.slice(0, documentedId.indexOf(':')), documentedId });

/** The distillation table: teacher → students, Region, and how the teacher may be named. */
export const DISTILLATION_TEACHERS: readonly TeacherEntry[] = [
  {
    modelId: 'amazon.nova-pro-v1',
    name: 'Amazon Nova Pro',
    documentedId: 'amazon.nova-pro-v1:0',
    invocation: 'both',
    students: [
      student('amazon.nova-lite-v1:0:300k'),
      student('amazon.nova-micro-v1:0:128k'),
    ],
    regions: US_EAST_1,
    source: src.distillation,
  },
  {
    modelId: 'amazon.nova-premier-v1',
    name: 'Amazon Nova Premier',
    documentedId: 'amazon.nova-premier-v1:0',
    invocation: 'inference-profile',
    students: [
      student('amazon.nova-lite-v1:0:300k'),
      student('amazon.nova-micro-v1:0:128k'),
      student('amazon.nova-pro-v1:0:300k'),
    ],
    regions: US_EAST_1,
    source: src.distillation,
  },
  {
    modelId: 'meta.llama3-1-405b-instruct-v1',
    name: 'Meta Llama 3.1 405B',
    documentedId: 'meta.llama3-1-405b-instruct-v1:0',
    invocation: 'on-demand',
    students: [
      student('meta.llama3-1-8b-instruct-v1:0:128k'),
      student('meta.llama3-1-70b-instruct-v1:0:128k'),
      student('meta.llama3-2-1b-instruct-v1:0:128k'),
      student('meta.llama3-3-70b-instruct-v1:0:128k'),
    ],
    regions: US_WEST_2,
    source: src.distillation,
  },
  {
    modelId: 'meta.llama3-1-70b-instruct-v1',
    name: 'Meta Llama 3.1 70B',
    documentedId: 'meta.llama3-1-70b-instruct-v1:0',
    invocation: 'both',
    students: [
      student('meta.llama3-1-8b-instruct-v1:0:128k'),
      student('meta.llama3-2-1b-instruct-v1:0:128k'),
      student('meta.llama3-2-3b-instruct-v1:0:128k'),
    ],
    regions: US_WEST_2,
    source: src.distillation,
  },
  {
    modelId: 'meta.llama3-3-70b-instruct-v1',
    name: 'Meta Llama 3.3 70B',
    documentedId: 'meta.llama3-3-70b-instruct-v1:0',
    invocation: 'inference-profile',
    students: [
      student('meta.llama3-1-8b-instruct-v1:0:128k'),
      student('meta.llama3-2-1b-instruct-v1:0:128k'),
      student('meta.llama3-2-3b-instruct-v1:0:128k'),
    ],
    regions: US_WEST_2,
    source: src.distillation,
  },
];

/** Model providers whose models the distillation page says cannot be distilled at present (teacher or student). */
export const DISTILLATION_UNAVAILABLE_PROVIDERS: Sourced<readonly string[]> = s(['anthropic'], src.distillationAnthropic);

/** Fine-tuning, continued pre-training and RFT rows, by model (distillation rows are derived from DISTILLATION_TEACHERS). */
const LISTED: readonly { modelId: string; name: string; support: Partial<Record<Exclude<CustomizationType, 'DISTILLATION'>, SupportRow>> }[] = [
  {
    modelId: 'amazon.nova-2-lite-v1',
    name: 'Amazon Nova 2 Lite',
    support: {
      FINE_TUNING: row('amazon.nova-2-lite-v1:0:256k', US_EAST_1, src.fineTuning),
      REINFORCEMENT_FINE_TUNING: row('amazon.nova-2-lite-v1:0:256k', US_EAST_1, src.rft),
    },
  },
  { modelId: 'amazon.nova-canvas-v1', name: 'Amazon Nova Canvas', support: { FINE_TUNING: row('amazon.nova-canvas-v1:0', US_EAST_1, src.fineTuning) } },
  { modelId: 'amazon.nova-lite-v1', name: 'Amazon Nova Lite', support: { FINE_TUNING: row('amazon.nova-lite-v1:0:300k', US_EAST_1, src.fineTuning) } },
  { modelId: 'amazon.nova-micro-v1', name: 'Amazon Nova Micro', support: { FINE_TUNING: row('amazon.nova-micro-v1:0:128k', US_EAST_1, src.fineTuning) } },
  { modelId: 'amazon.nova-pro-v1', name: 'Amazon Nova Pro', support: { FINE_TUNING: row('amazon.nova-pro-v1:0:300k', US_EAST_1, src.fineTuning) } },
  // Copies differ: us-east-1 in one, us-east-1 and us-west-2 in another (COPIES_NOTE).
  { modelId: 'amazon.titan-image-generator-v1', name: 'Amazon Titan Image Generator G1', support: { FINE_TUNING: row('amazon.titan-image-generator-v1:0', BOTH, src.fineTuning) } },
  { modelId: 'amazon.titan-image-generator-v2', name: 'Amazon Titan Image Generator G1 v2', support: { FINE_TUNING: row('amazon.titan-image-generator-v2:0', BOTH, src.fineTuning) } },
  { modelId: 'amazon.titan-embed-image-v1', name: 'Amazon Titan Multimodal Embeddings G1', support: { FINE_TUNING: row('amazon.titan-embed-image-v1:0', BOTH, src.fineTuning) } },
  {
    modelId: 'amazon.titan-text-express-v1',
    name: 'Amazon Titan Text G1 - Express',
    support: {
      FINE_TUNING: row('amazon.titan-text-express-v1:0:8k', BOTH, src.fineTuning),
      CONTINUED_PRE_TRAINING: row('amazon.titan-text-express-v1:0:8k', BOTH, src.continuedPreTraining),
    },
  },
  {
    modelId: 'amazon.titan-text-lite-v1',
    name: 'Amazon Titan Text G1 - Lite',
    support: {
      // One copy lists Lite for fine-tuning, another does not (COPIES_NOTE).
      FINE_TUNING: row('amazon.titan-text-lite-v1:0:4k', BOTH, src.fineTuning),
      CONTINUED_PRE_TRAINING: row('amazon.titan-text-lite-v1:0:4k', BOTH, src.continuedPreTraining),
    },
  },
  { modelId: 'anthropic.claude-3-haiku-20240307-v1', name: 'Anthropic Claude 3 Haiku', support: { FINE_TUNING: row('anthropic.claude-3-haiku-20240307-v1:0:200k', US_WEST_2, src.fineTuning) } },
  { modelId: 'meta.llama3-1-70b-instruct-v1', name: 'Meta Llama 3.1 70B Instruct', support: { FINE_TUNING: row('meta.llama3-1-70b-instruct-v1:0:128k', US_WEST_2, src.fineTuning) } },
  { modelId: 'meta.llama3-1-8b-instruct-v1', name: 'Meta Llama 3.1 8B Instruct', support: { FINE_TUNING: row('meta.llama3-1-8b-instruct-v1:0:128k', US_WEST_2, src.fineTuning) } },
  { modelId: 'meta.llama3-2-11b-instruct-v1', name: 'Meta Llama 3.2 11B Instruct', support: { FINE_TUNING: row('meta.llama3-2-11b-instruct-v1:0:128k', US_WEST_2, src.fineTuning) } },
  { modelId: 'meta.llama3-2-1b-instruct-v1', name: 'Meta Llama 3.2 1B Instruct', support: { FINE_TUNING: row('meta.llama3-2-1b-instruct-v1:0:128k', US_WEST_2, src.fineTuning) } },
  { modelId: 'meta.llama3-2-3b-instruct-v1', name: 'Meta Llama 3.2 3B Instruct', support: { FINE_TUNING: row('meta.llama3-2-3b-instruct-v1:0:128k', US_WEST_2, src.fineTuning) } },
  { modelId: 'meta.llama3-2-90b-instruct-v1', name: 'Meta Llama 3.2 90B Instruct', support: { FINE_TUNING: row('meta.llama3-2-90b-instruct-v1:0:128k', US_WEST_2, src.fineTuningLater) } },
  { modelId: 'meta.llama3-3-70b-instruct-v1', name: 'Meta Llama 3.3 70B Instruct', support: { FINE_TUNING: row('meta.llama3-3-70b-instruct-v1:0:128k', US_WEST_2, src.fineTuningLater) } },
  { modelId: 'openai.gpt-oss-20b', name: 'OpenAI gpt-oss-20B', support: { REINFORCEMENT_FINE_TUNING: row('openai.gpt-oss-20b', US_WEST_2, src.rftOpenWeight) } },
  { modelId: 'qwen.qwen3-32b', name: 'Qwen3 32B', support: { REINFORCEMENT_FINE_TUNING: row('qwen.qwen3-32b', US_WEST_2, src.rftOpenWeight) } },
];

/** Every model the table knows, with each customization type it is listed for (students' distillation rows derived from the teacher table). */
export const MODEL_SUPPORT: ReadonlyMap<string, ModelEntry> = /* @__PURE__ */ (() => {
  const models = new Map<string, { modelId: string; name: string; support: Partial<Record<CustomizationType, SupportRow>> }>();
  for (const m of LISTED) models.set(m.modelId, { modelId: m.modelId, name: m.name, support: { ...m.support } });
  for (const teacher of DISTILLATION_TEACHERS) {
    for (const student of teacher.students) {
      const entry = models.get(student.modelId);
      if (!entry) throw new Error(`distillation student ${student.modelId} has no model entry`);
      const existing = entry.support.DISTILLATION;
      const regions = [...new Set([...(existing?.regions ?? []), ...teacher.regions])].sort();
      entry.support.DISTILLATION = row(student.documentedId, regions, teacher.source);
    }
  }
  return models;
})();

const TEACHERS: ReadonlyMap<string, TeacherEntry> = /* @__PURE__ */ (() => new Map(DISTILLATION_TEACHERS.map((t) => [t.modelId, t])))();

// ---- documented limits of the new customization types ----------------------------------------------

/**
 * Numbers and rules the pages state for distillation and RFT, for the dataset and grader checks.
 * Not documented, so absent (not checked): a minimum or maximum of `maxResponseLengthForInference`
 * (API_TeacherModelConfig.html gives only "Type: Integer"; botocore data/bedrock/2023-04-20/service-2.json
 * 1.35.99 shape TeacherModelConfig member maxResponseLengthForInference is a plain Integer), the grader
 * Lambda's concurrency and its request/response payload size for RFT.
 */
export const CUSTOMIZATION_LIMITS = {
  distillation: {
    minPrompts: s(100, {
      url: 'https://docs.aws.amazon.com/nova/latest/userguide/custom-distill-prepare.html',
      section: 'Dataset constraints (Prompts / Prompt-response pairs: minimum 100)',
    }),
    maxPrompts: s(15_000, {
      url: 'https://docs.aws.amazon.com/nova/latest/userguide/custom-distill-prepare.html',
      section: 'Dataset constraints (Prompts / Prompt-response pairs: maximum 15K)',
      note: '"15K" read as 15,000',
    }),
    maxInvocationLogRecords: s(15_000, {
      url: `${UG}/distillation-data-prep-option-2.html`,
      section: 'Option 2: Use invocation logs for data preparation, "Important": a maximum of 15K prompts or prompt-response pairs',
      note: '"15K" read as 15,000',
    }),
    /** A recommendation, not a limit Bedrock enforces as far as the page says. */
    recommendedMinInvocationLogPairs: s(100, {
      url: `${UG}/distillation-data-prep-option-2.html`,
      section: 'Option 2: Use invocation logs for data preparation, "Important": at least 100 prompt-response pairs (from the chosen teacher when responses are used)',
    }),
  },
  rft: {
    maxPrompts: s(20_000, {
      url: `${UG}/rft-nova-models.html`,
      section: 'Fine-tune Amazon Nova models with reinforcement fine-tuning, "Important": a maximum of 20K prompts',
      note: '"20K" read as 20,000',
    }),
  },
  graderLambda: {
    /** The page's advice for complex evaluations; 900 s is also Lambda's own maximum timeout. */
    maxTimeoutSeconds: s(900, {
      url: `${UG}/reward-functions.html`,
      section: 'Option 2: Bring your own Lambda function, "Increase the Lambda timeout from default 3 seconds to maximum 15 minutes for complex evaluations"',
    }),
    /** Bedrock invokes the grader as the job's service role: the role needs lambda:InvokeFunction on it. */
    invokedBy: s('the model customization service role (lambda:InvokeFunction on the grader function)' as const, {
      url: `${UG}/rft-access-security.html`,
      section: 'RFT-specific IAM permissions: Lambda permissions for reward functions',
    }),
    /** Request: a JSON array of {id, messages, metadata}; response: an array of {id, aggregate_reward_score, metrics_list}. */
    payloadShape: s({ request: ['id', 'messages', 'metadata'], response: ['id', 'aggregate_reward_score', 'metrics_list'] } as const, {
      url: `${UG}/reward-functions.html`,
      section: 'Lambda function implementation details (Input structure / Output structure)',
    }),
  },
} as const;

// ---- identifiers ---------------------------------------------------------------------------------

export { MAX_MODEL_IDENTIFIER_LENGTH };

export { parseModelIdentifier, type ParsedModelIdentifier } from '../shared/model-identifier.js';
import { behindGeographyPrefix, parseModelIdentifier, type ParsedModelIdentifier } from '../shared/model-identifier.js';

/**
 * Whether a written suffix names the documented variant: none, the version alone (`:0` of `:0:128k`),
 * or the whole documented suffix. Another suffix is another variant, which the table does not know.
 */
function suffixMatches(given: string, documentedId: string): boolean {
  const colon = documentedId.indexOf(':');
  const documented = colon < 0 ? '' : documentedId.slice(colon);
  if (given === '') return true;
  return documented.startsWith(given) && (documented.length === given.length || documented[given.length] === ':');
}

// ---- lookups -------------------------------------------------------------------------------------

/** A lookup's answer with what the check reports: the model, the row, and why. */
export interface SupportAnswer {
  readonly support: Support;
  /** The table's entry for the model, when it has one. */
  readonly model?: ModelEntry;
  /** The row for the asked type, when there is one. */
  readonly row?: SupportRow;
  /**
   * Why, when not supported: `not-a-model` (not a model id or foundation-model ARN) · `not-listed`
   * (the model is not in the table) · `other-variant` (a `:` suffix the page does not write) ·
   * `type` (not listed for the type) · `region` (listed for the type, not in the Region) ·
   * `provider-unavailable` (the page says this provider's models cannot be distilled at present).
   */
  readonly reason?: 'not-a-model' | 'not-listed' | 'other-variant' | 'type' | 'region' | 'provider-unavailable';
}

/** Support for customizing `baseModelIdentifier` with `customizationType` in `region`, with its reasons. */
export function lookupSupport(baseModelIdentifier: string, customizationType: CustomizationType, region: string): SupportAnswer {
  const parsed = parseModelIdentifier(baseModelIdentifier);
  if (!parsed || parsed.form === 'inference-profile-arn') return { support: 'unknown', reason: 'not-a-model' };
  const model = MODEL_SUPPORT.get(parsed.id);
  if (!model) {
    if (customizationType === 'DISTILLATION' && unavailableForDistillation(parsed.id)) return { support: 'unsupported', reason: 'provider-unavailable' };
    return { support: 'unknown', reason: 'not-listed' };
  }
  const row = model.support[customizationType];
  if (!row) {
    const reason = customizationType === 'DISTILLATION' && unavailableForDistillation(parsed.id) ? 'provider-unavailable' : 'type';
    return { support: 'unsupported', model, reason };
  }
  if (!suffixMatches(parsed.suffix, row.documentedId)) return { support: 'unknown', model, row, reason: 'other-variant' };
  if (!row.regions.includes(region)) return { support: 'unsupported', model, row, reason: 'region' };
  return { support: 'supported', model, row };
}

/** `supported` | `unsupported` (the model is listed, not for this type or Region) | `unknown` (not in the table). */
export function supportFor(baseModelIdentifier: string, customizationType: CustomizationType, region: string): Support {
  return lookupSupport(baseModelIdentifier, customizationType, region).support;
}

function unavailableForDistillation(modelId: string): boolean {
  const provider = modelId.slice(0, modelId.indexOf('.'));
  return DISTILLATION_UNAVAILABLE_PROVIDERS.value.includes(provider);
}

/** A teacher identifier resolved to the table: the teacher, and whether it was named by a system inference profile. */
interface ResolvedTeacher {
  readonly parsed: ParsedModelIdentifier;
  readonly teacher: TeacherEntry | undefined;
  readonly viaProfile: boolean;
  /** The model id with any geography prefix removed. */
  readonly modelId: string;
}

function resolveTeacher(teacherIdentifier: string): ResolvedTeacher | undefined {
  const parsed = parseModelIdentifier(teacherIdentifier);
  if (!parsed) return undefined;
  // A system inference profile id is the model id behind a geography prefix (`us.`, `eu.`, `apac.`…).
  const behindPrefix = behindGeographyPrefix(parsed.id);
  const prefixed = behindPrefix !== undefined;
  const known = TEACHERS.has(parsed.id) || MODEL_SUPPORT.has(parsed.id);
  const viaProfile = parsed.form === 'inference-profile-arn' || (parsed.form === 'model-id' && !known && prefixed);
  const modelId = viaProfile && behindPrefix !== undefined ? behindPrefix : parsed.id;
  return { parsed, teacher: TEACHERS.get(modelId), viaProfile, modelId };
}

/** A teacher/student lookup's answer with its reasons. */
export interface TeacherAnswer {
  readonly support: Support;
  readonly teacher?: TeacherEntry;
  /**
   * Why, when not supported: `not-a-model` · `not-listed` (the teacher is not in the table) ·
   * `other-variant` · `not-a-teacher` (a model the table knows, not as a teacher) · `student` (not
   * paired with this student) · `region` · `needs-profile` (the page lists the teacher for inference
   * profiles only) · `needs-on-demand` (on demand only) · `provider-unavailable`.
   */
  readonly reason?: 'not-a-model' | 'not-listed' | 'other-variant' | 'not-a-teacher' | 'student' | 'region' | 'needs-profile' | 'needs-on-demand' | 'provider-unavailable';
}

/** Whether `teacherIdentifier` may distill into `studentIdentifier` in `region`, with its reasons. */
export function lookupTeacherSupport(teacherIdentifier: string, studentIdentifier: string, region: string): TeacherAnswer {
  const resolved = resolveTeacher(teacherIdentifier);
  if (!resolved) return { support: 'unknown', reason: 'not-a-model' };
  const { teacher, viaProfile, modelId, parsed } = resolved;
  if (!teacher) {
    if (unavailableForDistillation(modelId)) return { support: 'unsupported', reason: 'provider-unavailable' };
    if (MODEL_SUPPORT.has(modelId)) return { support: 'unsupported', reason: 'not-a-teacher' };
    return { support: 'unknown', reason: 'not-listed' };
  }
  if (!suffixMatches(parsed.suffix, teacher.documentedId)) return { support: 'unknown', teacher, reason: 'other-variant' };
  const student = parseModelIdentifier(studentIdentifier);
  const pairedStudent = student && student.form !== 'inference-profile-arn' ? teacher.students.find((p) => p.modelId === student.id) : undefined;
  if (!pairedStudent) return { support: 'unsupported', teacher, reason: 'student' };
  if (!suffixMatches(student!.suffix, pairedStudent.documentedId)) return { support: 'unknown', teacher, reason: 'other-variant' };
  if (!teacher.regions.includes(region)) return { support: 'unsupported', teacher, reason: 'region' };
  if (teacher.invocation === 'inference-profile' && !viaProfile) return { support: 'unsupported', teacher, reason: 'needs-profile' };
  if (teacher.invocation === 'on-demand' && viaProfile) return { support: 'unsupported', teacher, reason: 'needs-on-demand' };
  return { support: 'supported', teacher };
}

/** `supported` | `unsupported` | `unknown` for a teacher/student pair in a Region (the distillation table). */
export function teacherSupportFor(teacherIdentifier: string, studentIdentifier: string, region: string): Support {
  return lookupTeacherSupport(teacherIdentifier, studentIdentifier, region).support;
}

/** Models listed for `customizationType` in `region`, by documented id. */
export function modelsSupporting(customizationType: CustomizationType, region: string): string[] {
  const ids: string[] = [];
  for (const model of MODEL_SUPPORT.values()) {
    const r = model.support[customizationType];
    if (r && r.regions.includes(region)) ids.push(r.documentedId);
  }
  return ids;
}

/** Regions any model is listed in for `customizationType`. */
export function regionsSupporting(customizationType: CustomizationType): string[] {
  const regions = new Set<string>();
  for (const model of MODEL_SUPPORT.values()) for (const r of model.support[customizationType]?.regions ?? []) regions.add(r);
  return [...regions].sort();
}

/** Teachers paired with `studentIdentifier` in `region`, by documented id. */
export function teachersFor(studentIdentifier: string, region: string): TeacherEntry[] {
  const student = parseModelIdentifier(studentIdentifier);
  if (!student) return [];
  return DISTILLATION_TEACHERS.filter((t) => t.regions.includes(region) && t.students.some((p) => p.modelId === student.id));
}

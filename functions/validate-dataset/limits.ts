/**
 * The one data file for dataset checks: which base models we know, which record format each
 * customization type uses, and the documented limits, every number with the page (and section) it
 * comes from. Kept in TypeScript (not JSON) so it is bundled with the Lambda and type-checked.
 *
 * Rules for editing: a number goes in only with a `source` a reader can open; a limit we could not
 * find stays absent (absent = "not checked", never a guess). Where a number comes from AWS's own
 * sample validator (aws-samples/amazon-bedrock-samples, aws-samples/amazon-nova-samples) rather than
 * the User Guide, the source says so.
 *
 * AWS's sample validators our rules cover (each rule they check is checked here too, except where
 * the validator is wrong, as said beside it):
 * - distillation: amazon-bedrock-samples custom-models/model_distillation/dataset-validation
 *   (dataset_validator.py, schema.py, constants.py), see {@link DISTILLATION_VALIDATOR};
 * - reinforcement fine-tuning: amazon-nova-samples customization/bedrock-finetuning/understanding/
 *   dataset_validation/nova_ft_dataset_validator.py (RFTDatasetSample), see {@link RFT_VALIDATOR}.
 */
import { ESTIMATED_CHARS_PER_TOKEN, ESTIMATED_CHARS_PER_TOKEN_SOURCE } from '../shared/token-estimate.js';

/** Where a fact comes from: the page, and the section of it that holds the fact. */
export interface Source {
  readonly url: string;
  readonly section: string;
  /** Why the reading is not literal, when it is not (e.g. a unit or a heading we had to infer). */
  readonly note?: string;
}

/** A number with its source beside it. */
export interface Sourced<T = number> {
  readonly value: T;
  readonly source: Source;
}

export type RecordFormatId =
  | 'prompt-completion'
  | 'bedrock-conversation-2024'
  | 'claude-messages'
  | 'continued-pretraining'
  | 'distillation-prompts'
  | 'rft-chat-completion';
export type KnownCustomizationType = 'FINE_TUNING' | 'CONTINUED_PRE_TRAINING' | 'DISTILLATION' | 'REINFORCEMENT_FINE_TUNING';

/** Limits of one model family for one customization type (every field optional: absent = unknown). */
export interface SourcedLimits {
  readonly minTrainingRecords?: Sourced;
  readonly maxTrainingRecords?: Sourced;
  readonly maxValidationRecords?: Sourced;
  /** Training and validation records together. */
  readonly maxTotalRecords?: Sourced;
  /** Sum of input and output tokens of one record (the batch-size-1 figure where the docs give several). */
  readonly maxTokensPerRecord?: Sourced;
  readonly maxCharsPerRecord?: Sourced;
  readonly maxFileBytes?: Sourced;
  readonly maxValidationFileBytes?: Sourced;
}

/** Media a conversation record may carry besides text. */
export type MediaSupport = 'none' | 'image' | 'image-or-video';

/** How a customization type of a family is checked. */
export interface CustomizationEntry {
  readonly format: Sourced<RecordFormatId>;
  readonly limits: SourcedLimits;
  /** Distillation prompts: most user turns in one record (absent: multi-turn allowed). */
  readonly maxUserTurns?: Sourced;
  /**
   * Texts that must not appear in a message, matched ignoring case; replaces the family's
   * {@link FamilyEntry.reservedKeywords} (matched as written) for this customization.
   */
  readonly reservedTokensIgnoringCase?: Sourced<readonly string[]>;
  /** The ending the object's key must have (AWS's validators skip or refuse any other file). */
  readonly fileExtension?: Sourced<string>;
}

export interface FamilyEntry {
  /** Stable family id reported to the user, e.g. `titan-text-express`. */
  readonly family: string;
  /** Matches the bare model id (no ARN prefix, no `:version:context` suffix). */
  readonly modelIdPattern: RegExp;
  readonly customizations: Partial<Record<KnownCustomizationType, CustomizationEntry>>;
  readonly charsPerToken: Sourced;
  /** Conversation formats only: media accepted in user turns. */
  readonly media?: Sourced<MediaSupport>;
  /** Words the docs say must not appear in the record's text. */
  readonly reservedKeywords?: Sourced<readonly string[]>;
  /** Conversation formats only: most `system` items allowed. */
  readonly maxSystemItems?: Sourced;
  /** Conversation formats only: most images in one message. */
  readonly maxImagesPerMessage?: Sourced;
  /** Conversation formats only: most videos in one record. */
  readonly maxVideosPerRecord?: Sourced;
}

// ---- sources -------------------------------------------------------------------------------------
const UG = 'https://docs.aws.amazon.com/bedrock/latest/userguide';
const REQUIREMENTS = `${UG}/model-training-validation-requirements.html`;
/** The stored copy of the requirements page lost its per-model headings; order and batch sizes tell them apart. */
const HEADING_NOTE =
  'page lists Titan tables in the order Premier (fine-tuning only, batch size 2-4 "N/A", matching Premier\'s batchSize fixed at 1 in cm-hp-titan-text.html), Express, Lite';
const GB_NOTE = 'docs say "GB"/"MB" without a unit definition; read as decimal (10^9 / 10^6 bytes), the stricter reading';

const src = {
  prepare: { url: `${UG}/model-customization-prepare.html`, section: 'Supported modalities for fine-tuning (Text-to-Text models)' },
  textPrep: { url: `${UG}/preparing-text-data.html`, section: 'Non-conversational tasks' },
  cptPrep: { url: `${UG}/dataset-prep-continued-pretraining.html`, section: 'Prepare datasets for continued pre-training' },
  premier: { url: REQUIREMENTS, section: 'Amazon Titan Text Premier', note: HEADING_NOTE },
  express: { url: REQUIREMENTS, section: 'Amazon Titan Text G1 - Express', note: HEADING_NOTE },
  lite: { url: REQUIREMENTS, section: 'Amazon Titan Text G1 - Lite', note: HEADING_NOTE },
  novaPrep: {
    url: 'https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html',
    section: 'Preparing data for fine-tuning Understanding models (items 4-12)',
  },
  novaValidator: {
    url: 'https://github.com/aws-samples/amazon-bedrock-samples/blob/main/custom-models/bedrock-fine-tuning/nova/understanding/dataset_validation/nova_ft_dataset_validator.py',
    section: 'MODEL_TO_NUM_SAMPLES_MAP / MAX_NUM_IMAGES / check_roles_order (AWS sample validator, not the User Guide)',
  },
  llamaRegistry: {
    url: 'https://github.com/aws-samples/amazon-bedrock-samples/blob/main/custom-models/bedrock-fine-tuning/meta-llama/dataset_validation/model_config/models_registry.py',
    section: 'MODELS (input_type PROMPT_COMPLETION for 3.1, CONVERSE for 3.2; AWS sample validator)',
  },
  llamaValidator: {
    url: 'https://github.com/aws-samples/amazon-bedrock-samples/blob/main/custom-models/bedrock-fine-tuning/meta-llama/dataset_validation/dataset_validation.py',
    section: 'validate_record_count ("Train datasets must contain less than or equal to 10k rows. Validation datasets … 1k rows") / validate_system_prompt (AWS sample validator)',
  },
  claudeFormat: {
    url: 'https://platform.claude.com/cookbook/finetuning-finetuning-on-bedrock',
    section: 'Prep a Dataset (Anthropic cookbook for Bedrock fine-tuning; the AWS User Guide page was not found in the stored corpus)',
  },
  distillPrompts: {
    url: `${UG}/distillation-data-prep-option-1.html`,
    section: 'Option 1: Provide your own prompts for data preparation',
    note: 'the page\'s bullet spells the value "bedrock-conversion-2024", its own example and AWS\'s validator "bedrock-conversation-2024"; the example also ends with one "}" too many',
  },
  distillValidator: {
    url: 'https://github.com/aws-samples/amazon-bedrock-samples/tree/main/custom-models/model_distillation/dataset-validation',
    section: 'constants.py MIN_NUM_PROMPTS = 100 and MAX_SIZE = 1 * 1024 * 1024 * 1024; the Dataset constraints list of its README (AWS sample validator, not the User Guide)',
    note:
      'MAX_SIZE is 1 GiB (2^30 bytes), the validator\'s own unit. Where the validator is wrong: schema.py allows at most 2 messages for every model ' +
      '(the User Guide gives Amazon Nova students multi-turn prompts); a file over MAX_SIZE is only logged, not refused; and validate_alternating_messages ' +
      'raises jsonschema\'s ValidationError(error_message=...), a keyword it does not take, so the first record whose turns do not alternate ends the run ' +
      'with a TypeError instead of being reported (checked with jsonschema 4.26: "unexpected keyword argument \'error_message\'")',
  },
  distillValidatorJsonl: {
    url: 'https://github.com/aws-samples/amazon-bedrock-samples/blob/main/custom-models/model_distillation/dataset-validation/dataset_validator.py',
    section: 'validate_file: a file whose name does not end in JSONL_EXTENSION ".jsonl" is skipped, so its prompts count none (AWS sample validator)',
  },
  rftPrep: {
    url: `${UG}/rft-prepare-data.html`,
    section: 'Prepare data for Amazon Nova models: Requirements ("A minimum of 100 records in training dataset")',
    note: 'tools and id are optional per https://docs.aws.amazon.com/nova/latest/nova2-userguide/nova-hp-rft-nova2.html "Data format and structure"',
  },
  rftMax: {
    url: `${UG}/rft-nova-models.html`,
    section: 'Important: "You can provide a maximum of 20K prompts"',
    note: 'counted over training and validation records together, as AWS\'s Nova sample validator does (validate_dataset_level: train + validation > 20000)',
  },
  rftValidatorJsonl: {
    url: 'https://github.com/aws-samples/amazon-nova-samples/blob/main/customization/bedrock-finetuning/understanding/dataset_validation/nova_ft_dataset_validator.py',
    section: 'validate_jsonl_file: "File \'…\' is not a .jsonl file" (AWS sample validator)',
  },
  rftValidator: {
    url: 'https://github.com/aws-samples/amazon-nova-samples/blob/main/customization/bedrock-finetuning/understanding/dataset_validation/nova_ft_dataset_validator.py',
    section: 'INVALID_TOKENS_TEXT / RFTMessage.validate_content / NOVA_2_0_LITE_SAMPLE_BOUNDS["RFT"] (AWS sample validator, not the User Guide)',
    note: 'its list misses commas after "user:", "bot:", "assistant:" and "thought:", so Python joins "assistant:" "Thought:" into one entry and "Thought:" is never checked alone; the list here is the one it means',
  },
  // The shared estimate (shared/token-estimate.ts): the evaluation gate's cost estimate counts tokens the same way.
  noTokenizer: ESTIMATED_CHARS_PER_TOKEN_SOURCE,
} satisfies Record<string, Source>;

const s = <T>(value: T, source: Source): Sourced<T> => ({ value, source });

/** Decimal units, see GB_NOTE. */
const GB = 1_000_000_000;
const MB = 1_000_000;

/** 6 characters per token: documented for text-to-text prompt/completion and continued pre-training data. */
const SIX_CHARS_PER_TOKEN = s(6, src.textPrep);
const ESTIMATE_CHARS_PER_TOKEN = s(ESTIMATED_CHARS_PER_TOKEN, src.noTokenizer);

/** Titan Express and Lite share the per-record token figure at batch size 1 and the file sizes. */
function titanLimits(source: Source, customization: KnownCustomizationType): SourcedLimits {
  return {
    maxTokensPerRecord: s(4096, source),
    // "Character quota per sample in dataset: Token quota x 6" → 4,096 × 6.
    maxCharsPerRecord: s(4096 * 6, source),
    maxFileBytes: s(customization === 'CONTINUED_PRE_TRAINING' ? 10 * GB : 1 * GB, { ...source, note: `${source.note ?? ''}; ${GB_NOTE}` }),
    maxValidationFileBytes: s(100 * MB, { ...source, note: `${source.note ?? ''}; ${GB_NOTE}` }),
  };
}

const novaLimits: SourcedLimits = {
  minTrainingRecords: s(8, src.novaValidator),
  maxTrainingRecords: s(20_000, src.novaValidator),
};

const llamaLimits: SourcedLimits = {
  maxTrainingRecords: s(10_000, src.llamaValidator),
  maxValidationRecords: s(1_000, src.llamaValidator),
};

/**
 * Distillation prompts ({@link RecordFormatId} `distillation-prompts`): Anthropic and Meta Llama
 * students take one user prompt per record, Amazon Nova students several turns.
 */
const SINGLE_TURN = s(1, { ...src.distillPrompts, section: 'Option 1: "Anthropic and Meta Llama models support only single-turn conversation prompts"' });
const distillationLimits: SourcedLimits = {
  minTrainingRecords: s(100, src.distillValidator),
  maxFileBytes: s(1024 * 1024 * 1024, src.distillValidator),
};
const distillation = (maxUserTurns?: Sourced): CustomizationEntry => ({
  format: s('distillation-prompts', src.distillPrompts),
  limits: distillationLimits,
  fileExtension: s('.jsonl', src.distillValidatorJsonl),
  ...(maxUserTurns ? { maxUserTurns } : {}),
});

/** Texts AWS's Nova sample validator refuses in an RFT message (validate_invalid_tokens, case-insensitive). */
const RFT_INVALID_TOKENS = s(['System:', 'User:', 'Bot:', 'Assistant:', 'Thought:', '[EOS]', '<image>', '<video>', '<unk>'] as const, src.rftValidator);

const NOVA_RESERVED = s(['User:', 'Bot:', 'Assistant:', 'System:', '<image>', '<video>', '[EOS]'] as const, {
  ...src.novaPrep,
  section: 'Preparing data for fine-tuning Understanding models, item 12 (reserved keywords)',
});

/**
 * Every model family we can check. Order matters only where patterns overlap (none do today).
 * Not listed (so "not checked"): Llama 3.3, Nova Canvas, Titan image/embeddings models, fine-tuning
 * of Amazon Nova 2, continued pre-training outside Titan Express/Lite, reinforcement fine-tuning
 * outside Amazon Nova 2 Lite (open-weight models take RFT through the OpenAI-compatible API, not
 * CreateModelCustomizationJob: rft-prepare-data-open-weight.html).
 *
 * DISTILLATION entries give the record format of the families' models as distillation students
 * (distillation-data-prep-option-1.html); which models Bedrock accepts as students in which Region
 * is the model-support table's business, not this one's.
 */
export const MODEL_FAMILIES: readonly FamilyEntry[] = [
  {
    family: 'titan-text-premier',
    modelIdPattern: /^amazon\.titan-text-premier-v\d+$/,
    customizations: {
      FINE_TUNING: {
        format: s('prompt-completion', src.textPrep),
        limits: {
          maxTokensPerRecord: s(4096, src.premier),
          maxCharsPerRecord: s(4096 * 6, src.premier),
          maxFileBytes: s(1 * GB, { ...src.premier, note: `${HEADING_NOTE}; ${GB_NOTE}` }),
          maxValidationFileBytes: s(100 * MB, { ...src.premier, note: `${HEADING_NOTE}; ${GB_NOTE}` }),
        },
      },
    },
    charsPerToken: SIX_CHARS_PER_TOKEN,
  },
  {
    family: 'titan-text-express',
    modelIdPattern: /^amazon\.titan-text-express-v\d+$/,
    customizations: {
      FINE_TUNING: { format: s('prompt-completion', src.textPrep), limits: titanLimits(src.express, 'FINE_TUNING') },
      CONTINUED_PRE_TRAINING: { format: s('continued-pretraining', src.cptPrep), limits: titanLimits(src.express, 'CONTINUED_PRE_TRAINING') },
    },
    charsPerToken: SIX_CHARS_PER_TOKEN,
  },
  {
    family: 'titan-text-lite',
    modelIdPattern: /^amazon\.titan-text-lite-v\d+$/,
    customizations: {
      FINE_TUNING: { format: s('prompt-completion', src.textPrep), limits: titanLimits(src.lite, 'FINE_TUNING') },
      CONTINUED_PRE_TRAINING: { format: s('continued-pretraining', src.cptPrep), limits: titanLimits(src.lite, 'CONTINUED_PRE_TRAINING') },
    },
    charsPerToken: SIX_CHARS_PER_TOKEN,
  },
  {
    family: 'cohere-command',
    modelIdPattern: /^cohere\.command-(light-)?text-v\d+$/,
    customizations: { FINE_TUNING: { format: s('prompt-completion', src.prepare), limits: {} } },
    charsPerToken: SIX_CHARS_PER_TOKEN,
  },
  {
    family: 'meta-llama2',
    modelIdPattern: /^meta\.llama2-(13|70)b-v\d+$/,
    customizations: {
      FINE_TUNING: {
        format: s('prompt-completion', { url: `${UG}/model-customization-prepare.html`, section: 'Model support for fine-tuning and continued pre-training data format (Meta Llama 2 13B/70B: Fine-tuning Text-to-text)' }),
        limits: {},
      },
    },
    charsPerToken: SIX_CHARS_PER_TOKEN,
  },
  {
    family: 'meta-llama3-1',
    modelIdPattern: /^meta\.llama3-1-(8|70)b-instruct-v\d+$/,
    customizations: { FINE_TUNING: { format: s('prompt-completion', src.llamaRegistry), limits: llamaLimits }, DISTILLATION: distillation(SINGLE_TURN) },
    charsPerToken: SIX_CHARS_PER_TOKEN,
  },
  {
    family: 'meta-llama3-2-text',
    modelIdPattern: /^meta\.llama3-2-(1|3)b-instruct-v\d+$/,
    customizations: { FINE_TUNING: { format: s('bedrock-conversation-2024', src.llamaRegistry), limits: llamaLimits }, DISTILLATION: distillation(SINGLE_TURN) },
    charsPerToken: ESTIMATE_CHARS_PER_TOKEN,
    media: s('none', src.llamaRegistry),
    maxSystemItems: s(1, src.llamaValidator),
  },
  {
    family: 'meta-llama3-2-vision',
    modelIdPattern: /^meta\.llama3-2-(11|90)b-instruct-v\d+$/,
    customizations: { FINE_TUNING: { format: s('bedrock-conversation-2024', src.llamaRegistry), limits: llamaLimits } },
    charsPerToken: ESTIMATE_CHARS_PER_TOKEN,
    media: s('image', src.llamaRegistry),
    maxSystemItems: s(1, src.llamaValidator),
  },
  {
    family: 'nova-micro',
    modelIdPattern: /^amazon\.nova-micro-v1$/,
    customizations: { FINE_TUNING: { format: s('bedrock-conversation-2024', src.novaPrep), limits: novaLimits }, DISTILLATION: distillation() },
    charsPerToken: ESTIMATE_CHARS_PER_TOKEN,
    media: s('none', src.novaValidator),
    reservedKeywords: NOVA_RESERVED,
  },
  {
    family: 'nova-lite-pro',
    modelIdPattern: /^amazon\.nova-(lite|pro)-v1$/,
    customizations: { FINE_TUNING: { format: s('bedrock-conversation-2024', src.novaPrep), limits: novaLimits }, DISTILLATION: distillation() },
    charsPerToken: ESTIMATE_CHARS_PER_TOKEN,
    media: s('image-or-video', src.novaPrep),
    reservedKeywords: NOVA_RESERVED,
    maxImagesPerMessage: s(10, src.novaValidator),
    maxVideosPerRecord: s(1, { ...src.novaPrep, section: 'Preparing data for fine-tuning Understanding models, item 4.3 (one video per sample)' }),
  },
  {
    family: 'claude-3-haiku',
    modelIdPattern: /^anthropic\.claude-3-haiku-20240307-v1$/,
    customizations: { FINE_TUNING: { format: s('claude-messages', src.claudeFormat), limits: {} }, DISTILLATION: distillation(SINGLE_TURN) },
    charsPerToken: ESTIMATE_CHARS_PER_TOKEN,
  },
  {
    // The model id AWS's Bedrock RFT sample trains (amazon-bedrock-samples custom-models/
    // bedrock-reinforcement-fine-tuning/models/nova/nova_gsm8k_rft.ipynb: amazon.nova-2-lite-v1:0:256k);
    // "Supported models: Amazon Nova Lite 2.0" (bedrock/latest/userguide/nova-rft.html).
    family: 'nova-2-lite',
    modelIdPattern: /^amazon\.nova-2-lite-v1$/,
    customizations: {
      REINFORCEMENT_FINE_TUNING: {
        format: s('rft-chat-completion', src.rftPrep),
        limits: { minTrainingRecords: s(100, src.rftPrep), maxTotalRecords: s(20_000, src.rftMax) },
        reservedTokensIgnoringCase: RFT_INVALID_TOKENS,
        fileExtension: s('.jsonl', src.rftValidatorJsonl),
        // Not taken from the Nova validator: its validate_dataset_level refuses any validation file for
        // lite-2.0, but AWS's own Bedrock RFT notebook for this model (amazon-bedrock-samples
        // custom-models/bedrock-reinforcement-fine-tuning/models/nova/nova_gsm8k_rft.ipynb) passes
        // validationDataConfig; with two AWS samples at odds and no User Guide word, it is not checked.
      },
    },
    charsPerToken: ESTIMATE_CHARS_PER_TOKEN,
  },
];

/** The distillation validator our `distillation-prompts` rules cover (see formats.ts checkDistillationPrompt). */
export const DISTILLATION_VALIDATOR: Source = src.distillValidator;
/** The RFT validator our `rft-chat-completion` rules cover (see formats.ts checkRftRecord). */
export const RFT_VALIDATOR: Source = src.rftValidator;

/** Media formats accepted by AWS's Nova sample validator (IMAGE_FORMATS / VIDEO_FORMATS). */
export const IMAGE_FORMATS = s(['jpeg', 'png', 'gif', 'webp'] as const, src.novaValidator);
export const VIDEO_FORMATS = s(['mov', 'mkv', 'mp4', 'webm'] as const, src.novaValidator);

/**
 * Per-model-family dataset record rules: from a job's `baseModelIdentifier` and `customizationType`,
 * which JSONL record format applies and which documented limits, and a check of one parsed record.
 * Pure logic: the streaming JSONL reader and the Lambda live elsewhere. Every number comes from
 * {@link MODEL_FAMILIES} in `limits.ts`, where each one carries its source.
 *
 * "Not checked" is `undefined` from {@link datasetRulesFor}: a caller must report it as such, never as
 * passed.
 */
import {
  IMAGE_FORMATS,
  MODEL_FAMILIES,
  VIDEO_FORMATS,
  type FamilyEntry,
  type KnownCustomizationType,
  type MediaSupport,
  type RecordFormatId,
  type Source,
  type SourcedLimits,
} from './limits.js';
import { tokensFromChars } from '../shared/token-estimate.js';

export type DatasetFormatId = RecordFormatId;

/** Documented limits for one family and customization type; an absent field is "unknown", not "unlimited". */
export interface DatasetLimits {
  minTrainingRecords?: number;
  maxTrainingRecords?: number;
  maxValidationRecords?: number;
  /** Training and validation records together. */
  maxTotalRecords?: number;
  /** Sum of input and output tokens of one record (the batch-size-1 figure where the docs give several). */
  maxTokensPerRecord?: number;
  maxCharsPerRecord?: number;
  /** Training file. */
  maxFileBytes?: number;
  maxValidationFileBytes?: number;
  /** `url (section)` of every number above. */
  sources: string[];
}

export interface DatasetRules {
  format: DatasetFormatId;
  family: string;
  limits: DatasetLimits;
  charsPerToken: number;
  /** Where `charsPerToken` comes from, or "estimate, no tokenizer". */
  tokenSource: string;
  /** The bare model id the rules were chosen for (ARN prefix and `:version:context` suffix removed). */
  modelId: string;
  customizationType: KnownCustomizationType;
  /** Conversation formats: media accepted in user turns. */
  media: MediaSupport;
  /** Words that must not appear in any text of the record (documented for Amazon Nova). */
  reservedKeywords: readonly string[];
  maxSystemItems?: number;
  maxImagesPerMessage?: number;
  maxVideosPerRecord?: number;
  /** Distillation prompts: most user turns in one record (absent: multi-turn allowed). */
  maxUserTurns?: number;
  /** RFT: texts that must not appear in a message's content, matched ignoring case. */
  reservedTokensIgnoringCase: readonly string[];
  /**
   * Why the dataset says nothing of the training tokens, when it does not: a distillation job trains on
   * the teacher's answers and an RFT job on the answers the model itself generates, neither of which is
   * in the file. Absent for the formats whose records are the training text.
   */
  noTokenEstimate?: string;
  /** The ending every object's key must have, when AWS's validators require one. */
  fileExtension?: string;
}

const NO_TOKEN_ESTIMATE: Partial<Record<KnownCustomizationType, string>> = {
  DISTILLATION: 'a distillation job trains the student on answers the teacher model generates from these prompts, so the file does not tell the training tokens',
  REINFORCEMENT_FINE_TUNING: 'a reinforcement fine-tuning job trains on answers the model generates for these prompts (several per prompt), so the file does not tell the training tokens',
};

/**
 * One thing wrong with a record: `field` like `messages[2].role`, `rule` a stable id like `messages.alternate`.
 *
 * No data in problems: `field` is built from the documented field names and positions only, and
 * `message` from fixed text, JSON type names, counts and the limits; never a value of the record, nor
 * a key the format does not define (a writer's key can be data too: `{"078-05-1120": …}`). These
 * texts reach the execution's Cause, the logs and the SNS notification.
 */
export interface RecordProblem {
  field: string;
  rule: string;
  message: string;
}

// arn:<partition>:bedrock:<region>::foundation-model/<model id>
const FOUNDATION_MODEL_ARN = /^arn:aws(?:-[a-z]+)*:bedrock:[a-z0-9-]+::foundation-model\/(.+)$/;
/** Bare model ids are `<provider>.<name>`; what follows the first `:` is a version/context suffix (`:0:128k`). */
const BARE_MODEL_ID = /^([a-z0-9-]+\.[a-z0-9.-]+?)(?::.*)?$/;

/**
 * The model id inside `baseModelIdentifier`: a foundation-model ARN is unwrapped, the `:version` and
 * `:context` suffixes are dropped. `undefined` for anything else (custom-model ARNs, garbage).
 */
export function bareModelId(baseModelIdentifier: string): string | undefined {
  const id = FOUNDATION_MODEL_ARN.exec(baseModelIdentifier)?.[1] ?? baseModelIdentifier;
  if (id.startsWith('arn:')) return undefined;
  return BARE_MODEL_ID.exec(id)?.[1];
}

const describe = (source: Source) => `${source.url} (${source.section})`;

function flattenLimits(limits: SourcedLimits, extra: readonly Source[]): DatasetLimits {
  const out: DatasetLimits = { sources: [] };
  const sources = new Set<string>();
  for (const [key, sourced] of Object.entries(limits) as [keyof SourcedLimits, SourcedLimits[keyof SourcedLimits]][]) {
    if (!sourced) continue;
    out[key] = sourced.value;
    sources.add(describe(sourced.source));
  }
  for (const source of extra) sources.add(describe(source));
  out.sources = [...sources];
  return out;
}

const KNOWN_TYPES: readonly string[] = ['FINE_TUNING', 'CONTINUED_PRE_TRAINING', 'DISTILLATION', 'REINFORCEMENT_FINE_TUNING'] satisfies KnownCustomizationType[];
const isKnownCustomizationType = (type: string): type is KnownCustomizationType => KNOWN_TYPES.includes(type);

function findFamily(modelId: string): FamilyEntry | undefined {
  return MODEL_FAMILIES.find((entry) => entry.modelIdPattern.test(modelId));
}

/**
 * The rules for a job, or `undefined` when we do not know this model / customization type
 * ("not checked"): unknown or custom models, and a customization type a family has no documented
 * format for in `limits.ts`.
 */
export function datasetRulesFor(baseModelIdentifier: string, customizationType: string): DatasetRules | undefined {
  const modelId = bareModelId(baseModelIdentifier);
  if (!modelId) return undefined;
  const entry = findFamily(modelId);
  if (!entry) return undefined;
  if (!isKnownCustomizationType(customizationType)) return undefined;
  const customization = entry.customizations[customizationType];
  if (!customization) return undefined;
  const rules: DatasetRules = {
    format: customization.format.value,
    family: entry.family,
    limits: flattenLimits(customization.limits, [
      customization.format.source,
      ...[customization.maxUserTurns, customization.reservedTokensIgnoringCase, customization.fileExtension].flatMap((sourced) => (sourced ? [sourced.source] : [])),
    ]),
    charsPerToken: entry.charsPerToken.value,
    tokenSource: entry.charsPerToken.source.note ?? describe(entry.charsPerToken.source),
    modelId,
    customizationType,
    media: entry.media?.value ?? 'none',
    reservedKeywords: customization.reservedTokensIgnoringCase ? [] : (entry.reservedKeywords?.value ?? []),
    reservedTokensIgnoringCase: customization.reservedTokensIgnoringCase?.value ?? [],
  };
  const noEstimate = NO_TOKEN_ESTIMATE[customizationType];
  if (noEstimate) rules.noTokenEstimate = noEstimate;
  if (customization.maxUserTurns) rules.maxUserTurns = customization.maxUserTurns.value;
  if (customization.fileExtension) rules.fileExtension = customization.fileExtension.value;
  if (entry.maxSystemItems) rules.maxSystemItems = entry.maxSystemItems.value;
  if (entry.maxImagesPerMessage) rules.maxImagesPerMessage = entry.maxImagesPerMessage.value;
  if (entry.maxVideosPerRecord) rules.maxVideosPerRecord = entry.maxVideosPerRecord.value;
  return rules;
}

// ---- record checks ---------------------------------------------------------------------------------

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const typeName = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);
// Lower-case hex: zod's code-point count has the same probe as `/[\uD800-\uDBFF]/`, and the regex-safety
// test tells the project's regexes from zod's by their source text.
const HIGH_SURROGATE = /[\ud800-\udbff]/;
const SURROGATE_PAIRS = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;
/**
 * Characters as people count them (code points), not UTF-16 units: the length less one per surrogate
 * pair, as `Array.from(text).length` counts (a lone surrogate counts one). Not `Array.from`: it built
 * an array of every character of every record, and was a third of the dataset step's CPU in the
 * profile (scripts/bench/dataset.ts). Exported for its test.
 */
export function charCount(text: string): number {
  if (!HIGH_SURROGATE.test(text)) return text.length;
  return text.length - (text.match(SURROGATE_PAIRS)?.length ?? 0);
}

/** The {@link charCount} of a record's texts together. */
function charsOf(texts: readonly string[]): number {
  let chars = 0;
  for (const text of texts) chars += charCount(text);
  return chars;
}

interface Checked {
  problems: RecordProblem[];
  /** The texts the record trains on, when its shape is valid. */
  texts: string[];
}

class Collector {
  readonly problems: RecordProblem[] = [];
  readonly texts: string[] = [];
  add(field: string, rule: string, message: string) {
    this.problems.push({ field, rule, message });
  }
  /** A required string field; records its text. */
  string(record: Json, key: string, field = key): string | undefined {
    if (!(key in record)) {
      this.add(field, 'field.required', `${field} is required`);
      return undefined;
    }
    const value = record[key];
    if (typeof value !== 'string') {
      this.add(field, 'field.type', `${field} must be a string, got ${typeName(value)}`);
      return undefined;
    }
    this.texts.push(value);
    return value;
  }
  /**
   * Keys the format does not define: one problem per object, naming the object, how many and their
   * positions among its keys (1-based), never the keys themselves (they may be data).
   */
  unknownKeys(record: Json, allowed: readonly string[], prefix: string) {
    const keys = Object.keys(record);
    const positions = keys
      .map((key, i) => (allowed.includes(key) ? 0 : i + 1))
      .filter((position) => position > 0);
    if (positions.length === 0) return;
    const where = prefix || 'the record';
    const shown = positions.slice(0, 5).join(', ') + (positions.length > 5 ? ', …' : '');
    this.add(
      prefix || '(record)',
      'field.unknown',
      `${where} has ${positions.length === 1 ? 'an unknown field' : `${positions.length} unknown fields`} (key ${shown} of ${keys.length}); allowed: ${allowed.join(', ')}`,
    );
  }
}

/**
 * The flat formats' required string fields, in the order they are checked: the one list both
 * {@link checkFlat} (the parse path) and {@link flatRecordKeys} (the dataset step's byte scanner) use.
 */
const FLAT_KEYS: Partial<Record<DatasetFormatId, readonly string[]>> = {
  'prompt-completion': ['prompt', 'completion'],
  'continued-pretraining': ['input'],
};

/** A flat format's record (prompt-completion, continued pre-training): each of `keys` a string. */
function checkFlat(record: Json, keys: readonly string[]): Checked {
  const c = new Collector();
  for (const key of keys) c.string(record, key);
  return c;
}

/** Roles alternate user/assistant, start with user, end with assistant, at least one of each. */
function checkTurnOrder(c: Collector, roles: readonly (string | undefined)[]) {
  if (roles.length < 2) {
    c.add('messages', 'messages.minItems', `messages needs at least a user and an assistant turn, got ${roles.length}`);
    return;
  }
  if (roles[0] !== undefined && roles[0] !== 'user') c.add('messages[0].role', 'messages.firstUser', `the first turn must be "user", got "${roles[0]}"`);
  const last = roles.length - 1;
  if (roles[last] !== undefined && roles[last] !== 'assistant') {
    c.add(`messages[${last}].role`, 'messages.lastAssistant', `the last turn must be "assistant", got "${roles[last]}"`);
  }
  for (let i = 1; i < roles.length; i++) {
    if (roles[i] !== undefined && roles[i] === roles[i - 1]) {
      c.add(`messages[${i}].role`, 'messages.alternate', `turns must alternate user/assistant: messages[${i - 1}] and messages[${i}] are both "${roles[i]}"`);
    }
  }
}

function checkRole(c: Collector, message: Json, field: string): string | undefined {
  if (!('role' in message)) {
    c.add(`${field}.role`, 'field.required', `${field}.role is required`);
    return undefined;
  }
  const role = message.role;
  if (role !== 'user' && role !== 'assistant') {
    // Not the value itself: a role that is not one of the two is whatever the writer put there.
    c.add(`${field}.role`, 'messages.role', `${field}.role must be "user" or "assistant", got ${typeof role === 'string' ? 'another string' : typeName(role)}`);
    return undefined;
  }
  return role;
}

function checkClaudeMessages(record: Json): Checked {
  const c = new Collector();
  c.unknownKeys(record, ['system', 'messages'], '');
  if ('system' in record) c.string(record, 'system');
  const roles = roleOfEachMessage(c, record.messages, (message, field) => c.string(message, 'content', `${field}.content`));
  if (roles) checkTurnOrder(c, roles);
  return c;
}

/**
 * The role of each of a record's `messages` of `{role, content}` (checkRole; undefined for a message that
 * is not an object), after `content` checks the message's content; undefined when `messages` is not an
 * array. Each problem is reported to `c`.
 */
function roleOfEachMessage(c: Collector, messages: unknown, content: (message: Json, field: string) => void): (string | undefined)[] | undefined {
  if (!Array.isArray(messages)) {
    c.add('messages', messages === undefined ? 'field.required' : 'field.type', `messages must be an array, got ${typeName(messages)}`);
    return undefined;
  }
  return messages.map((message, i) => {
    const field = `messages[${i}]`;
    if (!isObject(message)) {
      c.add(field, 'field.type', `${field} must be an object, got ${typeName(message)}`);
      return undefined;
    }
    c.unknownKeys(message, ['role', 'content'], field);
    const role = checkRole(c, message, field);
    content(message, field);
    return role;
  });
}

function checkReserved(c: Collector, rules: DatasetRules, text: string, field: string) {
  for (const keyword of rules.reservedKeywords) {
    if (text.includes(keyword)) c.add(field, 'text.reservedKeyword', `${field} contains the reserved keyword "${keyword}"`);
  }
}

/** A `{format, source: {s3Location: {uri}}}` media item (image or video). */
function checkMedia(c: Collector, media: unknown, field: string, formats: readonly string[]) {
  if (!isObject(media)) {
    c.add(field, 'content.media', `${field} must be an object {format, source: {s3Location: {uri}}}`);
    return;
  }
  const format = media.format;
  if (typeof format !== 'string' || !formats.includes(format.toLowerCase())) {
    c.add(`${field}.format`, 'content.mediaFormat', `${field}.format must be one of ${formats.join(', ')}, got ${typeof format === 'string' ? 'another string' : typeName(format)}`);
  }
  const source = media.source;
  const uri = isObject(source) && isObject(source.s3Location) ? source.s3Location.uri : undefined;
  if (typeof uri !== 'string' || !uri.startsWith('s3://')) {
    c.add(`${field}.source.s3Location.uri`, 'content.mediaUri', `${field}.source.s3Location.uri must be an s3:// URI`);
  }
}

function checkConversation(rules: DatasetRules, record: Json): Checked {
  const c = new Collector();
  if ('schemaVersion' in record && typeof record.schemaVersion !== 'string') {
    c.add('schemaVersion', 'field.type', `schemaVersion must be a string, got ${typeName(record.schemaVersion)}`);
  }
  if ('system' in record) {
    const system = record.system;
    if (!Array.isArray(system)) {
      c.add('system', 'field.type', `system must be an array of {text}, got ${typeName(system)}`);
    } else {
      if (rules.maxSystemItems !== undefined && system.length > rules.maxSystemItems) {
        c.add('system', 'system.maxItems', `system has ${system.length} items; at most ${rules.maxSystemItems} allowed for ${rules.family}`);
      }
      system.forEach((item, i) => {
        const field = `system[${i}]`;
        if (!isObject(item)) {
          c.add(field, 'field.type', `${field} must be an object {text}, got ${typeName(item)}`);
          return;
        }
        const text = c.string(item, 'text', `${field}.text`);
        if (text !== undefined) checkReserved(c, rules, text, `${field}.text`);
      });
    }
  }
  const messages = record.messages;
  if (!Array.isArray(messages)) {
    c.add('messages', messages === undefined ? 'field.required' : 'field.type', `messages must be an array, got ${typeName(messages)}`);
    return c;
  }
  let images = 0;
  let videos = 0;
  const roles = messages.map((message, i) => {
    const field = `messages[${i}]`;
    if (!isObject(message)) {
      c.add(field, 'field.type', `${field} must be an object, got ${typeName(message)}`);
      return undefined;
    }
    const role = checkRole(c, message, field);
    const content = message.content;
    if (!Array.isArray(content) || content.length === 0) {
      c.add(`${field}.content`, Array.isArray(content) ? 'content.empty' : 'field.type', `${field}.content must be a non-empty array of content items`);
      return role;
    }
    let messageImages = 0;
    let textChars = 0;
    let hasText = false;
    content.forEach((item, j) => {
      const itemField = `${field}.content[${j}]`;
      if (!isObject(item) || !('text' in item || 'image' in item || 'video' in item)) {
        c.add(itemField, 'content.item', `${itemField} must hold one of text, image, video`);
        return;
      }
      if ('text' in item) {
        hasText = true;
        const text = c.string(item, 'text', `${itemField}.text`);
        if (text !== undefined) {
          textChars += text.length;
          checkReserved(c, rules, text, `${itemField}.text`);
        }
      }
      for (const kind of ['image', 'video'] as const) {
        if (!(kind in item)) continue;
        if (kind === 'image') messageImages++;
        else videos++;
        const allowed = rules.media === 'image-or-video' || (rules.media === 'image' && kind === 'image');
        if (!allowed) {
          c.add(`${itemField}.${kind}`, 'content.mediaNotSupported', `${rules.family} fine-tuning does not take ${kind} content`);
        } else if (role === 'assistant') {
          c.add(`${itemField}.${kind}`, 'content.mediaInAssistant', `${kind} content is only allowed in user turns`);
        } else {
          checkMedia(c, item[kind], `${itemField}.${kind}`, kind === 'image' ? IMAGE_FORMATS.value : VIDEO_FORMATS.value);
        }
      }
    });
    if (hasText && messageImages === 0 && textChars === 0 && !content.some((item) => isObject(item) && 'video' in item)) {
      c.add(`${field}.content`, 'content.emptyText', `${field} has only empty text`);
    }
    if (rules.maxImagesPerMessage !== undefined && messageImages > rules.maxImagesPerMessage) {
      c.add(`${field}.content`, 'content.imageCount', `${field} has ${messageImages} images; at most ${rules.maxImagesPerMessage} allowed`);
    }
    images += messageImages;
    return role;
  });
  if (rules.maxVideosPerRecord !== undefined && videos > rules.maxVideosPerRecord) {
    c.add('messages', 'content.videoCount', `the record has ${videos} videos; at most ${rules.maxVideosPerRecord} allowed`);
  }
  if (images > 0 && videos > 0) c.add('messages', 'content.mixedMedia', 'a record cannot mix images and videos');
  checkTurnOrder(c, roles);
  return c;
}

/** The one `schemaVersion` distillation prompts take (distillation-data-prep-option-1.html's example; AWS's validator's `const`). */
export const DISTILLATION_SCHEMA_VERSION = 'bedrock-conversation-2024';

/**
 * One distillation prompt (format `distillation-prompts`, distillation-data-prep-option-1.html):
 * `{schemaVersion, system?, messages}`; `schemaVersion` is "bedrock-conversation-2024"; `system`, when
 * given, one `{text}`; `messages` starts with a user turn and alternates user/assistant, each turn's
 * `content` one `{text}` (text-to-text only: distillation-prepare-datasets.html "Supported modalities");
 * an assistant turn is optional (a labelled prompt); a family with {@link DatasetRules.maxUserTurns}
 * (Anthropic, Meta Llama students: single-turn) takes that many user turns at most.
 *
 * Covers everything AWS's distillation validator checks (schema.py `Schema.CONVERSE` with
 * `additionalProperties: false` at every level, content items `{text, type?}`, and
 * dataset_validator.py `validate_alternating_messages`), except its `messages.maxItems: 2` for every
 * model: the User Guide gives Amazon Nova students multi-turn records, so here the limit is the
 * family's single-turn rule.
 */
function checkDistillationPrompt(rules: DatasetRules, record: Json): Checked {
  const c = new Collector();
  c.unknownKeys(record, ['schemaVersion', 'system', 'messages'], '');
  // Not through Collector.string: the version is a marker, not text the model reads.
  const version = record.schemaVersion;
  if (version === undefined) c.add('schemaVersion', 'field.required', 'schemaVersion is required');
  else if (typeof version !== 'string') c.add('schemaVersion', 'field.type', `schemaVersion must be a string, got ${typeName(version)}`);
  else if (version !== DISTILLATION_SCHEMA_VERSION) {
    c.add('schemaVersion', 'schemaVersion.value', `schemaVersion must be "${DISTILLATION_SCHEMA_VERSION}", got another string`);
  }
  if ('system' in record) {
    const system = record.system;
    if (!Array.isArray(system)) {
      c.add('system', 'field.type', `system must be an array of one {text}, got ${typeName(system)}`);
    } else {
      if (system.length !== 1) c.add('system', 'system.items', `system must hold exactly one {text} item when given, got ${system.length}`);
      system.forEach((item, i) => {
        const field = `system[${i}]`;
        if (!isObject(item)) {
          c.add(field, 'field.type', `${field} must be an object {text}, got ${typeName(item)}`);
          return;
        }
        c.unknownKeys(item, ['text'], field);
        c.string(item, 'text', `${field}.text`);
      });
    }
  }
  const roles = roleOfEachMessage(c, record.messages, (message, field) => {
    const content = message.content;
    if (!Array.isArray(content)) {
      c.add(`${field}.content`, content === undefined ? 'field.required' : 'field.type', `${field}.content must be an array of one {text}, got ${typeName(content)}`);
    } else if (content.length !== 1) {
      c.add(`${field}.content`, 'content.items', `${field}.content must hold exactly one {text} item (distillation is text-to-text), got ${content.length}`);
    } else {
      const itemField = `${field}.content[0]`;
      const item = content[0];
      if (!isObject(item)) {
        c.add(itemField, 'field.type', `${itemField} must be an object {text}, got ${typeName(item)}`);
      } else {
        c.unknownKeys(item, ['text', 'type'], itemField);
        c.string(item, 'text', `${itemField}.text`);
        if ('type' in item && typeof item.type !== 'string') c.add(`${itemField}.type`, 'field.type', `${itemField}.type must be a string, got ${typeName(item.type)}`);
      }
    }
  });
  if (!roles) return c;
  if (roles.length === 0) {
    c.add('messages', 'messages.minItems', 'messages needs at least the user turn holding the prompt, got 0');
    return c;
  }
  if (roles[0] !== undefined && roles[0] !== 'user') c.add('messages[0].role', 'messages.firstUser', `the first turn must be "user", got "${roles[0]}"`);
  for (let i = 1; i < roles.length; i++) {
    if (roles[i] !== undefined && roles[i] === roles[i - 1]) {
      c.add(`messages[${i}].role`, 'messages.alternate', `turns must alternate user/assistant: messages[${i - 1}] and messages[${i}] are both "${roles[i]}"`);
    }
  }
  const userTurns = roles.filter((role) => role === 'user').length;
  if (rules.maxUserTurns !== undefined && userTurns > rules.maxUserTurns) {
    c.add('messages', 'messages.singleTurn', `${rules.family} students take ${rules.maxUserTurns} user prompt per record (single-turn), got ${userTurns} user turns`);
  }
  return c;
}

/** A string with something other than whitespace (Python's `str.strip()` test in AWS's validator). */
const isBlank = (text: string) => text.trim() === '';

/** The RFT record's content texts must not hold the reserved tokens, matched ignoring case (AWS's validator's `validate_invalid_tokens`). */
function checkReservedIgnoringCase(c: Collector, rules: DatasetRules, text: string, field: string) {
  const lower = text.toLowerCase();
  for (const token of rules.reservedTokensIgnoringCase) {
    if (lower.includes(token.toLowerCase())) c.add(field, 'text.reservedKeyword', `${field} contains the reserved token "${token}" (in any case)`);
  }
}

/** `tools[i]` of an RFT record: `{type: "function", function: {name, description, parameters: {type: "object", properties, required?}}}`. */
function checkRftTool(c: Collector, tool: unknown, field: string): string | undefined {
  if (!isObject(tool)) {
    c.add(field, 'field.type', `${field} must be an object {type, function}, got ${typeName(tool)}`);
    return undefined;
  }
  if (tool.type !== 'function') c.add(`${field}.type`, 'tools.type', `${field}.type must be "function"`);
  const fn = tool.function;
  if (!isObject(fn)) {
    c.add(`${field}.function`, fn === undefined ? 'field.required' : 'field.type', `${field}.function must be an object {name, description, parameters}, got ${typeName(fn)}`);
    return undefined;
  }
  let name: string | undefined;
  for (const key of ['name', 'description'] as const) {
    const value = fn[key];
    const at = `${field}.function.${key}`;
    if (typeof value !== 'string') c.add(at, value === undefined ? 'field.required' : 'field.type', `${at} must be a string, got ${typeName(value)}`);
    else if (isBlank(value)) c.add(at, 'tools.empty', `${at} must not be empty`);
    else if (key === 'name') name = value;
  }
  const parameters = fn.parameters;
  const at = `${field}.function.parameters`;
  if (!isObject(parameters)) {
    c.add(at, parameters === undefined ? 'field.required' : 'field.type', `${at} must be an object {type, properties, required?}, got ${typeName(parameters)}`);
  } else {
    if (parameters.type !== 'object') c.add(`${at}.type`, 'tools.parameters', `${at}.type must be "object"`);
    if (!isObject(parameters.properties)) c.add(`${at}.properties`, 'tools.parameters', `${at}.properties must be an object, got ${typeName(parameters.properties)}`);
    const required = parameters.required;
    if (required !== undefined && !(Array.isArray(required) && required.every((r) => typeof r === 'string'))) {
      c.add(`${at}.required`, 'tools.parameters', `${at}.required must be an array of strings`);
    }
  }
  return name;
}

/**
 * One reinforcement fine-tuning prompt (format `rft-chat-completion`, the OpenAI chat-completion
 * format of rft-prepare-data.html and nova-hp-rft-nova2.html): `messages` (system, user and assistant
 * turns, each `content` a string), `reference_answer` (what the grader compares with: a string or an
 * object), optional `id` and `tools`, and any other field the grader Lambda reads (grader inputs are
 * the writer's: not checked).
 *
 * Covers everything AWS's Nova validator checks for RFT (RFTDatasetSample, RFTMessage, RFTTool,
 * RFTFunction, RFTFunctionParameters, validate_invalid_tokens), except where it is wrong:
 * - it requires a non-empty `tools` list; the Nova 2 RFT page makes `tools` optional, and AWS's own
 *   Bedrock RFT samples train without it; here `tools` is checked only when given;
 * - its token list loses "Thought:" to a missing comma (see limits.ts RFT_VALIDATOR); here it is checked;
 * - it takes `reference_answer` as optional; the User Guide lists it in the structure every record
 *   "must use" (only the grader fields are "[Optional]"), so here it is required.
 * Stricter than the validator where the OpenAI chat format is: every message has a `role`, matched
 * as written (the format's lower-case names), where the validator takes a message without one and
 * lower-cases the role.
 */
function checkRftRecord(rules: DatasetRules, record: Json): Checked {
  const c = new Collector();
  const messages = record.messages;
  if (!Array.isArray(messages)) {
    c.add('messages', messages === undefined ? 'field.required' : 'field.type', `messages must be an array, got ${typeName(messages)}`);
  } else if (messages.length === 0) {
    c.add('messages', 'messages.minItems', 'messages must not be empty');
  } else {
    let users = 0;
    messages.forEach((message, i) => {
      const field = `messages[${i}]`;
      if (!isObject(message)) {
        c.add(field, 'field.type', `${field} must be an object {role, content}, got ${typeName(message)}`);
        return;
      }
      const role = message.role;
      if (role === undefined) c.add(`${field}.role`, 'field.required', `${field}.role is required`);
      else if (role !== 'system' && role !== 'user' && role !== 'assistant') {
        c.add(`${field}.role`, 'messages.role', `${field}.role must be "system", "user" or "assistant", got ${typeof role === 'string' ? 'another string' : typeName(role)}`);
      }
      if (role === 'user') users++;
      if (role === 'system' && i > 0) c.add(`${field}.role`, 'messages.systemFirst', 'a system message must be the first message');
      if ('content' in message) {
        const content = message.content;
        if (typeof content !== 'string') c.add(`${field}.content`, 'field.type', `${field}.content must be a string, got ${typeName(content)}`);
        else if (isBlank(content)) c.add(`${field}.content`, 'content.emptyText', `${field}.content must not be empty when given`);
        else {
          c.texts.push(content);
          checkReservedIgnoringCase(c, rules, content, `${field}.content`);
        }
      }
    });
    if (users === 0) c.add('messages', 'messages.user', 'messages needs at least one "user" message (the prompt)');
  }
  if (!('reference_answer' in record)) {
    c.add('reference_answer', 'field.required', 'reference_answer is required (the expected output or criteria the grader scores against)');
  } else {
    const answer = record.reference_answer;
    if (typeof answer === 'string') {
      if (isBlank(answer)) c.add('reference_answer', 'reference_answer.empty', 'reference_answer must not be an empty string');
    } else if (isObject(answer)) {
      if (Object.keys(answer).length === 0) c.add('reference_answer', 'reference_answer.empty', 'reference_answer must not be an empty object');
    } else {
      c.add('reference_answer', 'field.type', `reference_answer must be a string or an object, got ${typeName(answer)}`);
    }
  }
  if ('id' in record) {
    const id = record.id;
    if (typeof id !== 'string') c.add('id', 'field.type', `id must be a string, got ${typeName(id)}`);
    else if (isBlank(id)) c.add('id', 'id.empty', 'id must not be empty when given');
  }
  if ('tools' in record) {
    const tools = record.tools;
    if (!Array.isArray(tools)) c.add('tools', 'field.type', `tools must be an array, got ${typeName(tools)}`);
    else if (tools.length === 0) c.add('tools', 'tools.empty', 'tools must not be an empty list when given');
    else {
      const names = new Map<string, number>();
      tools.forEach((tool, i) => {
        const name = checkRftTool(c, tool, `tools[${i}]`);
        if (name === undefined) return;
        const first = names.get(name);
        if (first === undefined) names.set(name, i);
        // Not the name itself: a tool name is the writer's text.
        else c.add(`tools[${i}].function.name`, 'tools.duplicateName', `tools[${i}] has the same function name as tools[${first}]`);
      });
    }
  }
  return c;
}

function checkShape(rules: DatasetRules, value: unknown): Checked {
  if (!isObject(value)) {
    return { problems: [{ field: '(record)', rule: 'record.object', message: `a record must be a JSON object, got ${typeName(value)}` }], texts: [] };
  }
  switch (rules.format) {
    case 'prompt-completion':
    case 'continued-pretraining':
      return checkFlat(value, FLAT_KEYS[rules.format]!);
    case 'claude-messages':
      return checkClaudeMessages(value);
    case 'bedrock-conversation-2024':
      return checkConversation(rules, value);
    case 'distillation-prompts':
      return checkDistillationPrompt(rules, value);
    case 'rft-chat-completion':
      return checkRftRecord(rules, value);
  }
}

/** One record judged once: its problems (`[]`: valid) and, when valid, its estimated tokens (else 0). */
export interface RecordAssessment {
  problems: RecordProblem[];
  tokens: number;
}

/**
 * {@link checkRecord} and {@link estimateTokens} of one record in one pass: the record's shape is
 * checked and its texts counted once (the dataset step calls this for every line it parses; calling
 * both checked each record twice).
 */
export function assessRecord(rules: DatasetRules, value: unknown): RecordAssessment {
  const { problems, texts } = checkShape(rules, value);
  if (problems.length > 0) return { problems, tokens: 0 };
  return assessChars(rules, charsOf(texts));
}

/**
 * The size limits of a record whose shape is valid and whose texts have `chars` characters (code
 * points) together: the per-record character and token limits, and its estimated tokens.
 */
export function assessChars(rules: DatasetRules, chars: number): RecordAssessment {
  const problem = sizeProblem(rules, chars);
  return problem ? { problems: [problem], tokens: 0 } : { problems: [], tokens: tokensOf(rules, chars) };
}

/**
 * The per-record character or token limit a valid-shaped record of `chars` characters breaks, if any
 * (the character limit first). Allocates nothing for a record within them: the dataset step calls it
 * for every flat record.
 */
export function sizeProblem(rules: DatasetRules, chars: number): RecordProblem | undefined {
  const { maxCharsPerRecord, maxTokensPerRecord } = rules.limits;
  if (maxCharsPerRecord !== undefined && chars > maxCharsPerRecord) {
    return { field: '(record)', rule: 'record.maxChars', message: `the record has ${chars} characters; ${rules.family} allows ${maxCharsPerRecord}` };
  }
  const tokens = tokensOf(rules, chars);
  if (maxTokensPerRecord !== undefined && tokens > maxTokensPerRecord) {
    return {
      field: '(record)',
      rule: 'record.maxTokens',
      message: `the record has about ${tokens} tokens (${chars} characters / ${rules.charsPerToken}); ${rules.family} allows ${maxTokensPerRecord}`,
    };
  }
  return undefined;
}

/** Estimated tokens of `chars` characters under `rules`: characters / `rules.charsPerToken`, rounded up. */
export function tokensOf(rules: DatasetRules, chars: number): number {
  return tokensFromChars(chars, rules.charsPerToken);
}

/**
 * The keys of `rules`' record format when it is flat: an object of exactly these string members is a
 * valid record of it whose texts are those members ({@link checkShape}: prompt-completion,
 * continued pre-training), so the dataset step can recognise and count such a line without parsing it
 * (jsonl.ts scanFlatRecord). `undefined` for the conversation formats.
 */
export function flatRecordKeys(rules: DatasetRules): readonly string[] | undefined {
  return FLAT_KEYS[rules.format];
}

/**
 * Problems of one parsed JSONL record under `rules`; `[]` means valid. Includes the per-record
 * character and token limits (the token figure is {@link estimateTokens}'s estimate).
 */
export function checkRecord(rules: DatasetRules, value: unknown): RecordProblem[] {
  return assessRecord(rules, value).problems;
}

/**
 * Estimated tokens of the text a record trains on (prompt + completion, input, system + every turn's
 * text): characters / `rules.charsPerToken`, rounded up. Media items count 0. 0 for a record whose
 * shape is invalid (size limits aside).
 */
export function estimateTokens(rules: DatasetRules, value: unknown): number {
  const { problems, texts } = checkShape(rules, value);
  if (problems.length > 0) return 0;
  return tokensOf(rules, charsOf(texts));
}

/**
 * Bedrock model identifiers taken apart, for the support tables (validate-network/customization-support.ts,
 * shared/evaluation-support.ts): a model id (`amazon.nova-micro-v1:0:128k`), a foundation-model ARN or a
 * system inference profile (`us.amazon.nova-premier-v1:0`, or its ARN). Plain string work (no regular
 * expression), linear in a length-capped input.
 */
import { parseArn } from './arn.js';
import { MAX_MODEL_IDENTIFIER_LENGTH } from './ids.js';

/** A model identifier taken apart: the id before its first `:`, the `:` suffixes, and how it was written. */
export interface ParsedModelIdentifier {
  /** The id without suffixes (`amazon.nova-micro-v1`); for an inference profile, with its geography prefix (`us.amazon.nova-premier-v1`). */
  readonly id: string;
  /** `''` or the `:version[:context]` suffix as written (`:0:128k`). */
  readonly suffix: string;
  readonly form: 'model-id' | 'foundation-model-arn' | 'inference-profile-arn';
}

const FOUNDATION_MODEL = 'foundation-model/';
const INFERENCE_PROFILE = 'inference-profile/';

function isIdCharacter(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c === '-' || c === '.' || c === '_';
}

/**
 * `identifier` taken apart, or undefined for anything else (a custom or provisioned model ARN, an
 * application inference profile, characters a model id does not have, an over-long string).
 */
export function parseModelIdentifier(identifier: string): ParsedModelIdentifier | undefined {
  if (identifier.length === 0 || identifier.length > MAX_MODEL_IDENTIFIER_LENGTH) return undefined;
  let rest = identifier;
  let form: ParsedModelIdentifier['form'] = 'model-id';
  if (identifier.startsWith('arn:')) {
    // arn:<partition>:bedrock:<region>:<account>:<resource> (the SDK's ARN parser; the resource may hold ':').
    let arn: ReturnType<typeof parseArn>;
    try {
      arn = parseArn(identifier);
    } catch {
      return undefined;
    }
    const { partition, service, accountId: account, resource } = arn;
    if (!partition.startsWith('aws') || service !== 'bedrock') return undefined;
    if (resource.startsWith(FOUNDATION_MODEL) && account === '') {
      rest = resource.slice(FOUNDATION_MODEL.length);
      form = 'foundation-model-arn';
    } else if (resource.startsWith(INFERENCE_PROFILE) && account !== '') {
      rest = resource.slice(INFERENCE_PROFILE.length);
      form = 'inference-profile-arn';
    } else {
      return undefined;
    }
  }
  const colon = rest.indexOf(':');
  const id = colon < 0 ? rest : rest.slice(0, colon);
  const suffix = colon < 0 ? '' : rest.slice(colon);
  if (id.length === 0 || !id.includes('.')) return undefined;
  for (const c of id) if (!isIdCharacter(c)) return undefined;
  for (const c of suffix) if (c !== ':' && !isIdCharacter(c)) return undefined;
  return { id, suffix, form };
}


/**
 * The model id behind a system inference profile's geography prefix (`us.amazon.nova-pro-v1` →
 * `amazon.nova-pro-v1`), or undefined for an id of two dot-separated parts (`<provider>.<model>`, a
 * model id). A cross-Region profile is "named after the model that [it] supports" with its geography in
 * front (https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html).
 */
export function behindGeographyPrefix(id: string): string | undefined {
  const behind = id.slice(id.indexOf('.') + 1);
  return behind.includes('.') ? behind : undefined;
}

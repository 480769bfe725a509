/** docs/customizations.md's model tables are the preflight's table (functions/validate-network/customization-support.ts) as it is. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MODEL_SUPPORT } from '../../functions/validate-network/customization-support.js';
import { customizationsDocPath, renderSupport, supportBlock } from '../../scripts/customizations-doc.js';

describe('docs/customizations.md', () => {
  it('holds the current support tables (npm run docs writes them)', () => {
    expect(supportBlock(readFileSync(customizationsDocPath, 'utf8'))).toBe(renderSupport());
  });

  it('renders every listed row with its Regions and a numbered source', () => {
    const block = renderSupport();
    for (const model of MODEL_SUPPORT.values()) {
      for (const row of Object.values(model.support)) {
        expect(block).toContain(`| \`${row!.documentedId}\` | ${row!.regions.join(', ')} | [`);
      }
    }
    expect(block).toContain('1. <https://docs.aws.amazon.com/bedrock/latest/userguide/');
  });
});

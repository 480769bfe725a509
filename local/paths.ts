/**
 * Absolute paths of the project, independent of the current directory and of whether this code runs
 * from its sources (local/paths.ts) or from the built CLI (cli/dist/chunks/…): the project root is the
 * nearest directory above this module whose package.json is this package's.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_NAME = 'bedrock-vpc-customization';

/** The nearest directory from `start` upwards whose package.json names {@link PACKAGE_NAME}. */
export function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return dir;
      } catch {
        // not a readable package.json: keep looking above
      }
    }
    if (dirname(dir) === dir) throw new Error(`no package.json of ${PACKAGE_NAME} in ${start} or above`);
  }
}

export const projectRoot = findProjectRoot(dirname(fileURLToPath(import.meta.url)));
export const aslPath = join(projectRoot, 'statemachines', 'customize-model.asl.yml');
export const serverlessPath = join(projectRoot, 'serverless.yml');

/** Absolute paths of the project, independent of the current directory. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const aslPath = join(projectRoot, 'statemachines', 'customize-model.asl.yml');
export const serverlessPath = join(projectRoot, 'serverless.yml');

/** `osls package` offline (dummy credentials, no AWS account), as the infra tests run it. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../local/paths.js';

const run = promisify(execFile);
export type Resource = { Type: string; Properties: Record<string, any> };
export type Template = {
  Resources: Record<string, Resource>;
  Outputs: Record<string, any>;
  Conditions?: Record<string, any>;
  Parameters?: Record<string, { Type: string; Default?: string; Description?: string }>;
};

/** `osls package` of stage ci into a fresh directory: its output, template and function zips. */
export async function packageStage(...extraArgs: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'bvc-package-'));
  const out = await run('npx', ['osls', 'package', '--stage', 'ci', '--region', 'eu-west-1', '--package', dir, ...extraArgs], {
    cwd: projectRoot,
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE00', AWS_SECRET_ACCESS_KEY: 'dummy', SLS_TELEMETRY_DISABLED: '1' },
  });
  const templatePath = join(dir, 'cloudformation-template-update-stack.json');
  const template = JSON.parse(readFileSync(templatePath, 'utf8')) as Template;
  return { dir, templatePath, template, output: `${out.stdout}\n${out.stderr}` };
}

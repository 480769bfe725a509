/** Runs `bvc` in process with its stdout and stderr captured, and the targets a test builds. */
import { runCli, type CliIo } from '../../cli/main.js';

export async function captureCli(args: string[], targets: Pick<CliIo, 'awsTarget' | 'localTarget'> = {}) {
  let stdout = '';
  const stderr: string[] = [];
  const code = await runCli(args, { out: (t) => (stdout += t), err: (l) => stderr.push(l), ...targets });
  return { code, stdout, stderr: stderr.join('\n') };
}

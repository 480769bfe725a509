// Emulator tier: one moto server for the whole tier, on a free 127.0.0.1 port, stopped at the end.
// It also checks, at the end, that every SDK command the Lambdas can send (every `new …Command(`
// and every `paginate…(` paginator in functions/) went over the wire to moto at least once.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startMoto } from '../../local/moto.js';
import { projectRoot } from '../../local/paths.js';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
    commandsDir: string;
  }
}

/** Command classes the Lambdas construct or page through, read from their sources. */
function lambdaCommands(dir = join(projectRoot, 'functions')): Set<string> {
  const found = new Set<string>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) lambdaCommands(path).forEach((c) => found.add(c));
    else if (entry.name.endsWith('.ts')) {
      const source = readFileSync(path, 'utf8');
      for (const m of source.matchAll(/new ([A-Z]\w+Command)\(/g)) found.add(m[1]!);
      // paginateDescribeSubnets(…) sends DescribeSubnetsCommand.
      for (const m of source.matchAll(/\bpaginate([A-Z]\w+)\(/g)) found.add(`${m[1]!}Command`);
    }
  }
  return found;
}

export default async function setup(project: TestProject) {
  const moto = await startMoto();
  const commandsDir = mkdtempSync(join(tmpdir(), 'bvc-commands-'));
  project.provide('motoEndpoint', moto.endpoint);
  project.provide('commandsDir', commandsDir);
  return async () => {
    await moto.stop();
    const sent = new Set(readdirSync(commandsDir).flatMap((f) => JSON.parse(readFileSync(join(commandsDir, f), 'utf8')) as string[]));
    rmSync(commandsDir, { recursive: true, force: true });
    // Only judged when the whole tier ran (a filtered run sends fewer commands by design).
    const tierFiles = readdirSync(join(projectRoot, 'test', 'emulator')).filter((f) => f.endsWith('.test.ts')).length;
    const ranFiles = project.vitest.state.getFiles().filter((f) => f.filepath.includes('/test/emulator/')).length;
    if (project.vitest.config.testNamePattern || ranFiles < tierFiles) return;
    const missing = [...lambdaCommands()].filter((c) => !sent.has(c)).sort();
    if (missing.length > 0) {
      // vitest reports an error thrown here but still exits 0: set the exit code too.
      process.exitCode = 1;
      throw new Error(`The emulator tier never sent these commands of the Lambdas to moto: ${missing.join(', ')}`);
    }
  };
}

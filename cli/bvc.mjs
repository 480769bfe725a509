#!/usr/bin/env node
// `bvc` (npx bvc …): the operator's CLI. The sources are TypeScript (cli/main.ts), loaded
// through tsx's ESM hook: the same code the tests run, no build step to forget.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('./main.ts');
process.exitCode = await runCli(process.argv.slice(2));

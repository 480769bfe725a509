#!/usr/bin/env node
// `bvc` (npx bvc …): the operator's CLI, built from cli/main.ts into cli/dist/ (`npm run build`).
import { loadBuilt } from './launch.mjs';

const { runCli } = await loadBuilt('main');
process.exitCode = await runCli(process.argv.slice(2));

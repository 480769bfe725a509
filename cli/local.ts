/**
 * `npm run local -- [--input FILE] [--params FILE] [--scenario complete|failure|deadline|promote|reject] [--endpoint URL] [--json]`
 *
 * The whole workflow on this machine: `bvc start --local --follow` (cli/main.ts) with these
 * arguments. Without --endpoint it starts moto, seeds a demo account, runs a job whose end the
 * stand-in for Bedrock decides (--scenario, default complete; promote and reject run a Nova Micro job through
 * the evaluation gate, docs/evaluation.md), and stops moto. With --endpoint it uses
 * that emulator as it is (--params FILE required; no Python needed). Exit codes: 0 the execution
 * succeeded, 1 it failed, 2 bad usage, stage params or input (README "The local run").
 *
 * package.json's `local` runs its build (cli/local.mjs → cli/dist/local.js, `npm run build`).
 */
import { SCENARIO_CHOICES } from './local-options.js';
import { runCli } from './main.js';

const USAGE = `usage: npm run local -- [--input FILE] [--params FILE] [--scenario ${SCENARIO_CHOICES}] [--endpoint URL] [--json]

Runs the workflow locally on moto: with a seeded demo account and a stand-in for Bedrock (--scenario,
default complete; promote and reject: a Nova Micro fine-tuning job through the evaluation gate, whose
custom model the stand-in makes answer better, resp. worse, than its base model), or against a running
emulator (--endpoint URL, with --params FILE).
Exit codes: 0 succeeded · 1 failed · 2 bad usage, stage params or input (nothing was run).
The same as: npx bvc start --local --follow [options] (npx bvc --help).`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(`${USAGE}\n`);
} else {
  process.exitCode = await runCli(['start', '--local', '--follow', ...args], undefined, 'npm run local', 'npm run local -- --help');
}

/**
 * `npm run bench:docs` (= `tsx scripts/bench-doc.ts --write`): renders docs/bench-results.json into the
 * generated block of docs/benchmarks.md (scripts/bench/bench-doc.ts). Without --write it prints the block.
 */
import { readCommittedResults, renderBenchBlock, writeBenchDoc, benchDocPath } from './bench/bench-doc.js';

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--write');
if (unknown.length) {
  process.stderr.write(`unknown argument(s) ${unknown.join(' ')}; usage: tsx scripts/bench-doc.ts [--write]\n`);
  process.exit(2);
}
if (args.includes('--write')) {
  process.stderr.write(`${writeBenchDoc() ? 'wrote' : 'unchanged:'} ${benchDocPath}\n`);
} else {
  process.stdout.write(`${renderBenchBlock(readCommittedResults())}\n`);
}

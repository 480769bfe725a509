// Loads a module of the built CLI (cli/dist/, `npm run build`; built on install by `prepare`). When the
// build is missing the user learns how to make it, in one line, with exit code 3.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The module `cli/dist/<name>.js`, or exit 3 with how to build it. */
export async function loadBuilt(name) {
  const url = new URL(`./dist/${name}.js`, import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    process.stderr.write(`bvc: the built CLI (cli/dist/${name}.js) is missing: run npm run build\n`);
    process.exit(3);
  }
  return import(url.href);
}

#!/usr/bin/env node
// Entry point: runs the compiled CLI (npm run build writes dist/; package.json has no prepare
// script, so neither a git checkout nor `npm ci` builds it).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const compiledMain = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(compiledMain)) {
  const { main } = await import(compiledMain.href);
  process.exitCode = await main(process.argv.slice(2));
} else {
  // exit 2: the CLI's code for "cannot start as set up" (bad option, configuration problems)
  process.stderr.write(`jaga is not built: ${fileURLToPath(compiledMain)} is missing; run \`npm run build\` in ${resolve(fileURLToPath(new URL('..', import.meta.url)))}\n`);
  process.exitCode = 2;
}

/**
 * Child-process entry of the jaga CLI for tests (`node --import tsx test/helpers/jaga-cli-entry.ts ARGS`):
 * runs `main` from the sources, so tests need no `npm run build`. Spawned by jaga-cli.ts.
 */
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));

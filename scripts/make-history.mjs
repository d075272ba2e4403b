#!/usr/bin/env node
// Writes a synthetic multi-week csvlog history re-timed from the corpus's normal traffic
// (src/demo/synthetic-history.ts; run `npm run build` first: this runs the compiled dist/ code).
//
//   node scripts/make-history.mjs --out FILE [--weeks 4] [--seed 1] [--corpus DIR]
//        [--end-at ISO] [--max-events 300000] [--with-corpus-run] [--held-out-seed N]
//
// Defaults: corpus ../shared/corpus/pg15-pgaudit next to the repository, --end-at the corpus
// run's first record (2026-11-29T17:17:16.517Z). Prints {"records","firstTime","lastTime"} as JSON.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const USAGE = 'usage: node scripts/make-history.mjs --out FILE [--weeks 4] [--seed 1] [--corpus DIR] [--end-at ISO] [--max-events N] [--with-corpus-run] [--held-out-seed N]';

let values;
try {
  ({ values } = parseArgs({
    options: {
      out: { type: 'string' },
      weeks: { type: 'string', default: '4' },
      seed: { type: 'string', default: '1' },
      corpus: { type: 'string', default: fileURLToPath(new URL('../../shared/corpus/pg15-pgaudit/', import.meta.url)) },
      'end-at': { type: 'string', default: '2026-11-29T17:17:16.517Z' },
      'max-events': { type: 'string' },
      'with-corpus-run': { type: 'boolean', default: false },
      'held-out-seed': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  process.stderr.write(`${error.message}\n${USAGE}\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (values.out === undefined) {
  process.stderr.write(`--out FILE is required\n${USAGE}\n`);
  process.exit(2);
}
const integer = (name, text) => {
  if (!/^-?\d+$/.test(text)) {
    process.stderr.write(`--${name} must be an integer, not "${text}"\n`);
    process.exit(2);
  }
  return Number(text);
};
const endAt = new Date(values['end-at']);
if (Number.isNaN(endAt.getTime())) {
  process.stderr.write(`--end-at must be an ISO-8601 time, not "${values['end-at']}"\n`);
  process.exit(2);
}

const { writeSyntheticHistory } = await import('../dist/demo/synthetic-history.js');
try {
  const result = await writeSyntheticHistory(resolve(values.out), {
    corpusDir: resolve(values.corpus),
    seed: integer('seed', values.seed),
    weeks: integer('weeks', values.weeks),
    endAt,
    ...(values['max-events'] === undefined ? {} : { maxEvents: integer('max-events', values['max-events']) }),
    includeCorpusRun: values['with-corpus-run'],
    ...(values['held-out-seed'] === undefined ? {} : { heldOutDay: { seed: integer('held-out-seed', values['held-out-seed']) } }),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (error) {
  if (error?.code === 'E_CONFIG') {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  throw error;
}

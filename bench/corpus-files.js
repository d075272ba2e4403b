// Builds the large benchmark logs by plain repetition of the real corpus run
// (../shared/corpus/pg15-pgaudit/README.md describes the files and the server settings).
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Folder of the real corpus run (read only). */
export const CORPUS_DIR = resolve(here, '../../shared/corpus/pg15-pgaudit');

/** Folder the big files are written to (gitignored). */
export const BENCH_OUT_DIR = resolve(here, 'out');

/** `log_line_prefix` of the corpus server (server-settings.conf of the corpus). */
export const CORPUS_LOG_LINE_PREFIX = '%m [%p] %q%u@%d %r %a: ';

/**
 * The three formats of the corpus run: jaga format name, corpus file extension, and the
 * matching `pgbadger -f` value (pgbadger --help, "-f | --format logtype").
 * @type {ReadonlyArray<{format: 'stderr'|'csvlog'|'jsonlog', extension: string, pgbadgerFormat: string}>}
 */
export const CORPUS_FORMATS = Object.freeze([
  { format: 'stderr', extension: 'log', pgbadgerFormat: 'stderr' },
  { format: 'csvlog', extension: 'csv', pgbadgerFormat: 'csv' },
  { format: 'jsonlog', extension: 'json', pgbadgerFormat: 'jsonlog' },
]);

const CORPUS_BASENAME = 'postgresql-2026-11-29_171716';

/**
 * Makes sure `bench/out/` holds the corpus file of one format repeated until it is at least
 * `minBytes` long (whole repetitions, nothing shifted), and returns where it is.
 * An existing file of exactly the right size is reused; anything else is rebuilt (written to a
 * `.tmp` name and renamed, so an interrupted build is never reused).
 * @param {string} extension corpus file extension: `log`, `csv` or `json`
 * @param {number} minBytes smallest acceptable size, bytes (e.g. 200e6)
 * @returns {Promise<{path: string, bytes: number, repetitions: number, corpusBytes: number, reused: boolean}>}
 * @throws the fs error when the corpus file is missing or bench/out is not writable
 */
export async function ensureRepeatedCorpus(extension, minBytes) {
  const corpusPath = join(CORPUS_DIR, `${CORPUS_BASENAME}.${extension}`);
  const corpusBytes = (await stat(corpusPath)).size;
  const repetitions = Math.max(1, Math.ceil(minBytes / corpusBytes));
  const bytes = repetitions * corpusBytes;
  const path = join(BENCH_OUT_DIR, `corpus-x${repetitions}.${extension}`);
  const existing = await stat(path).catch((error) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (existing && existing.size === bytes) return { path, bytes, repetitions, corpusBytes, reused: true };

  await mkdir(BENCH_OUT_DIR, { recursive: true });
  const tmpPath = `${path}.tmp`;
  const out = createWriteStream(tmpPath);
  await pipeline(async function* repeat() {
    for (let i = 0; i < repetitions; i++) {
      for await (const chunk of createReadStream(corpusPath, { highWaterMark: 1 << 20 })) yield chunk;
    }
  }, out);
  await rename(tmpPath, path);
  return { path, bytes, repetitions, corpusBytes, reused: false };
}

// In-process parser throughput: the compiled jaga parser (and optionally the SQL enricher) over
// one file, read the way `jaga parse` reads it. Imports dist/ lazily so the floors and pgbadger
// still run while dist/ is missing.
import { open } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { READ_CHUNK_BYTES } from './floors.js';

/** The compiled jaga measured: BENCH_DIST_DIR when set (a private build), else the repository's dist/. */
const DIST = resolve(process.env.BENCH_DIST_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'dist'));
const distModule = (path) => import(pathToFileURL(join(DIST, path)).href);

/**
 * Parses a whole file with `createLogParser` from dist/parse/log-parser.js (`dist/` is BENCH_DIST_DIR
 * when set), reading 1 MiB chunks with a fresh Buffer per read (the parser may keep references into
 * a chunk), outputs streamed through `pushTo`/`endTo` into a counting sink. With `enrich`, every
 * event goes through `QueryEnricher.enrich` (dist/enrich/query-enricher.js), created before the
 * clock starts. Outputs are counted and dropped.
 * @param {{path: string, format: 'stderr'|'csvlog'|'jsonlog', logLinePrefix?: string, enrich: boolean}} options
 * @returns {Promise<{bytes: number, records: number, events: number, failures: number, elapsedMs: number,
 *   cpuMs: number, enricher: {hits: number, misses: number, entries: number} | null}>} `elapsedMs` (wall)
 *   and `cpuMs` (user + system) cover reading, parsing and enriching only (not module loading nor
 *   enricher start-up)
 * @throws when dist/ is missing or the parser/enricher API is not there (the caller reports it)
 */
export async function measureParse({ path, format, logLinePrefix, enrich }) {
  const { createLogParser, isParseFailure } = await distModule('parse/log-parser.js');
  const enricher = enrich ? await (await distModule('enrich/query-enricher.js')).QueryEnricher.create() : null;
  const parser = createLogParser({
    format,
    logLinePrefix,
    timezone: 'UTC',
    server: 'bench',
    source: { id: 'bench', file: path, fingerprint: 'x' },
  });
  let events = 0;
  let failures = 0;
  // Outputs are consumed one by one as the parser completes them (`pushTo`), the way a streaming
  // consumer reads them; a dist/ without `pushTo` is read through the array-returning `push`.
  const sink = {
    push(out) {
      if (isParseFailure(out)) {
        failures++;
        return;
      }
      events++;
      if (enricher) enricher.enrich(out);
    },
  };
  const streaming = typeof parser.pushTo === 'function';
  const consume = (outputs) => {
    for (const out of outputs) sink.push(out);
  };
  const pushChunk = (chunk) => (streaming ? parser.pushTo(chunk, sink) : consume(parser.push(chunk)));

  const handle = await open(path, 'r');
  let bytes = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  try {
    for (;;) {
      const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
      const { bytesRead } = await handle.read(chunk, 0, READ_CHUNK_BYTES, bytes);
      if (bytesRead === 0) break;
      bytes += bytesRead;
      pushChunk(bytesRead === READ_CHUNK_BYTES ? chunk : chunk.subarray(0, bytesRead));
    }
    if (streaming) parser.endTo(sink);
    else consume(parser.end());
  } finally {
    await handle.close();
  }
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore); // microseconds
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return { bytes, records: parser.records, events, failures, elapsedMs, cpuMs, enricher: enricher ? enricher.stats() : null };
}

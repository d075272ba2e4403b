import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FINGERPRINT_MAX_BYTES, fileFingerprint } from '../../src/domain/file-fingerprint.js';
import { QueryEnricher } from '../../src/enrich/query-enricher.js';
import { createEventBuilder } from '../../src/parse/event-builder.js';
import type { LogFormat } from '../../src/parse/log-format.js';
import { createLogParser, isParseFailure } from '../../src/parse/log-parser.js';
import { parseInProcess } from '../helpers/parse-in-process.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures');
const CORPUS_PREFIX = '%m [%p] %q%u@%d %r %a: ';

/**
 * The output `jaga parse` is specified to write for one file: each event of the parser, enriched,
 * as `JSON.stringify(event)` plus `\n`, in file order (what the command wrote before its output path
 * was rebuilt on buffers), and the summary counts.
 */
async function referenceOutput(path: string, format: LogFormat, logLinePrefix?: string, enrich = true): Promise<{ text: string; events: number; failures: number; records: number }> {
  const bytes = await readFile(path);
  const server = basename(dirname(path));
  const source = { id: server, file: path, fingerprint: fileFingerprint(bytes.subarray(0, FINGERPRINT_MAX_BYTES * 4)) ?? 'empty' };
  const parser = createLogParser({ format, logLinePrefix, server, source, builder: createEventBuilder({ server }) });
  const enricher = enrich ? await QueryEnricher.create() : null;
  const lines: string[] = [];
  let failures = 0;
  const take = (outputs: ReturnType<typeof parser.push>): void => {
    for (const out of outputs) {
      if (isParseFailure(out)) {
        failures++;
        continue;
      }
      enricher?.enrich(out);
      lines.push(`${JSON.stringify(out)}\n`);
    }
  };
  for (let at = 0; at < bytes.length; at += 1024 * 1024) take(parser.push(bytes.subarray(at, at + 1024 * 1024)));
  take(parser.end());
  return { text: lines.join(''), events: lines.length, failures, records: parser.records };
}

/** Runs `jaga parse ARGS` in-process, capturing stdout bytes and the stderr summary line. */
async function runParse(args: string[]): Promise<{ code: number; stdout: Buffer; summary: unknown; writes: number }> {
  const run = await parseInProcess(args);
  return { code: run.code, stdout: run.stdout, summary: JSON.parse(run.stderr.trim().split('\n').pop() ?? 'null'), writes: run.writes };
}

describe('jaga parse output: JSON.stringify of each enriched event, one per line, in file order', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jaga-parse-output-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('csvlog excerpt: byte-identical lines and the summary counts', async () => {
    const path = join(FIXTURES, 'csvlog/pg15-excerpt.csv');
    const expected = await referenceOutput(path, 'csvlog');
    const run = await runParse(['--format', 'csvlog', path]);
    expect(run.code).toBe(0);
    expect(expected.events).toBe(7);
    expect(run.stdout.toString('utf8')).toBe(expected.text);
    expect(run.summary).toEqual({ records: 7, events: 7, failures: 0 });
  });

  it('jsonlog excerpt without enrichment: byte-identical lines, query null', async () => {
    const path = join(FIXTURES, 'jsonlog/pg15-excerpt.json');
    const expected = await referenceOutput(path, 'jsonlog', undefined, false);
    const run = await runParse(['--no-enrich', path]);
    expect(run.stdout.toString('utf8')).toBe(expected.text);
    expect(run.stdout.toString('utf8').split('\n').filter(Boolean).every((line) => (JSON.parse(line) as { query: unknown }).query === null)).toBe(true);
    expect(run.summary).toEqual({ records: 7, events: 7, failures: 0 });
  });

  it('stderr over 1 MiB with damaged bytes (invalid UTF-8, control characters, quotes, emoji): same bytes, several writes, failures counted', async () => {
    const excerpt = await readFile(join(FIXTURES, 'stderr/corpus-excerpt.log'));
    const copies: Buffer[] = [];
    for (let i = 0; copies.length * excerpt.length < 1.5 * 1024 * 1024; i++) {
      const copy = Buffer.from(excerpt);
      // deterministic damage: a different byte in each copy
      const at = (i * 7919) % copy.length;
      copy[at] = [0xff, 0x01, 0x22, 0x5c, 0x0a, 0xc3][i % 6] as number;
      copies.push(copy, Buffer.from(`2026-11-29 17:17:28.193 UTC [14461] app_web@crm 127.0.0.1(33939) crm-web: LOG:  AUDIT: SESSION,${i + 1},1,READ,SELECT,,,"SELECT '🙏 \\u0000\t""x""' AS v",<none>\n`));
    }
    const path = join(dir, 'damaged.log');
    await writeFile(path, Buffer.concat(copies));
    const expected = await referenceOutput(path, 'stderr', CORPUS_PREFIX);
    const run = await runParse(['--format', 'stderr', '--log-line-prefix', CORPUS_PREFIX, path]);
    expect(run.stdout.equals(Buffer.from(expected.text, 'utf8'))).toBe(true);
    expect(run.summary).toEqual({ records: expected.records, events: expected.events, failures: expected.failures });
    expect(expected.failures).toBeGreaterThan(0);
    expect(expected.text).toContain('"statement":"SELECT \'🙏 \\\\u0000\\t\\"x\\"\' AS v"');
    // ~1.5 MiB of input is two read chunks; each chunk's events leave in 1 MiB buffers
    expect(run.writes).toBeGreaterThanOrEqual(3);
  });
});

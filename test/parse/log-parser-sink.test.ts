import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LogFormat } from '../../src/parse/log-format.js';
import { createLogParser, isParseFailure, type ParseOutput } from '../../src/parse/log-parser.js';

const CORPUS = '../../../shared/corpus/pg15-pgaudit/postgresql-2026-11-29_171716';
const PREFIX = '%m [%p] %q%u@%d %r %a: ';
const corpus = (ext: string): Buffer => readFileSync(new URL(`${CORPUS}.${ext}`, import.meta.url));

const parser = (format: LogFormat) =>
  createLogParser({ format, logLinePrefix: PREFIX, server: 'pg', source: { id: 'pg', file: 'f', fingerprint: 'fp' } });

/** Parses `data` through push/flush/end (arrays) and through pushTo/flushTo/endTo (a sink), per call. */
function bothWays(format: LogFormat, data: Buffer, chunkBytes: number): { arrays: ParseOutput[][]; sink: ParseOutput[][]; safe: number[][] } {
  const a = parser(format);
  const b = parser(format);
  const arrays: ParseOutput[][] = [];
  const sink: ParseOutput[][] = [];
  const safe: number[][] = [];
  const collect = (run: (s: { push(o: ParseOutput): void }) => void): ParseOutput[] => {
    const got: ParseOutput[] = [];
    run({ push: (o) => got.push(o) });
    return got;
  };
  for (let i = 0; i < data.length; i += chunkBytes) {
    const chunk = data.subarray(i, i + chunkBytes);
    arrays.push(a.push(chunk));
    sink.push(collect((s) => b.pushTo(chunk, s)));
    if ((i / chunkBytes) % 3 === 0) {
      arrays.push(a.flush());
      sink.push(collect((s) => b.flushTo(s)));
    }
    safe.push([a.safeOffset, b.safeOffset, a.records, b.records]);
  }
  arrays.push(a.end());
  sink.push(collect((s) => b.endTo(s)));
  safe.push([a.safeOffset, b.safeOffset, a.records, b.records]);
  return { arrays, sink, safe };
}

describe('LogParser pushTo/flushTo/endTo stream the same outputs as push/flush/end', () => {
  for (const [format, ext] of [['stderr', 'log'], ['csvlog', 'csv'], ['jsonlog', 'json']] as const) {
    it(`${format}: every call yields the same outputs, offsets and record counts`, () => {
      const data = corpus(ext).subarray(0, 300_000);
      const { arrays, sink, safe } = bothWays(format, data, 7_919);
      expect(JSON.stringify(sink)).toBe(JSON.stringify(arrays));
      for (const [safeA, safeB, recordsA, recordsB] of safe) {
        expect(safeB).toBe(safeA);
        expect(recordsB).toBe(recordsA);
      }
      const all = arrays.flat();
      expect(all.filter((o) => !isParseFailure(o)).length).toBeGreaterThan(500);
      expect(safe.at(-1)?.[0]).toBe(data.length);
    });
  }

  it('hands each output to the sink as soon as its record is complete, before the chunk ends', () => {
    const lines = [
      '2026-11-29 17:17:16.517 UTC [14439] LOG:  one',
      '2026-11-29 17:17:16.518 UTC [14439] LOG:  two',
      '2026-11-29 17:17:16.519 UTC [14439] LOG:  three',
      '',
    ].join('\n');
    const p = parser('stderr');
    const seen: string[] = [];
    p.pushTo(Buffer.from(lines), {
      push: (o) => {
        seen.push(isParseFailure(o) ? o.reason : `${o.message}@${p.records}`);
      },
    });
    expect(seen).toEqual(['one@1', 'two@2']);
    p.endTo({ push: (o) => seen.push(isParseFailure(o) ? o.reason : (o.message ?? '')) });
    expect(seen).toEqual(['one@1', 'two@2', 'three']);
    expect(p.safeOffset).toBe(Buffer.byteLength(lines));
  });
});

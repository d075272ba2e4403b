import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCsvlogFramer } from '../../src/parse/csvlog-framer.js';
import { createJsonlogFramer } from '../../src/parse/jsonlog-framer.js';
import type { FramedRecord, StreamingRecordFramer } from '../../src/parse/record-framer.js';
import { createStderrFramer } from '../../src/parse/stderr-framer.js';

const CORPUS = '../../../shared/corpus/pg15-pgaudit/postgresql-2026-11-29_171716';
const corpus = (ext: string): Buffer => readFileSync(new URL(`${CORPUS}.${ext}`, import.meta.url));

/** Frames `data` through push/flush/end (arrays) and through pushTo/flushTo/endTo (a sink). */
function bothWays(make: () => StreamingRecordFramer, data: Buffer, chunkBytes: number): { arrays: FramedRecord[][]; sink: FramedRecord[][] } {
  const a = make();
  const b = make();
  const arrays: FramedRecord[][] = [];
  const sink: FramedRecord[][] = [];
  const collect = (run: (s: { push(r: FramedRecord): void }) => void): FramedRecord[] => {
    const got: FramedRecord[] = [];
    run({ push: (r) => got.push(r) });
    return got;
  };
  for (let i = 0; i < data.length; i += chunkBytes) {
    const chunk = data.subarray(i, i + chunkBytes);
    arrays.push(a.push(chunk));
    sink.push(collect((s) => b.pushTo(chunk, s)));
    if ((i / chunkBytes) % 5 === 0) {
      arrays.push(a.flush());
      sink.push(collect((s) => b.flushTo(s)));
    }
  }
  arrays.push(a.end());
  sink.push(collect((s) => b.endTo(s)));
  expect(b.safeOffset).toBe(a.safeOffset);
  return { arrays, sink };
}

describe('StreamingRecordFramer sink delivery', () => {
  it.each([
    ['stderr', () => createStderrFramer({ logLinePrefix: '%m [%p] %q%u@%d %r %a: ', maxRecordBytes: 400 }), 'log'],
    ['csvlog', () => createCsvlogFramer({ maxRecordBytes: 400 }), 'csv'],
    ['jsonlog', () => createJsonlogFramer({ maxRecordBytes: 400 }), 'json'],
  ] as const)('%s: pushTo/flushTo/endTo deliver exactly what push/flush/end return, call by call', (_name, make, ext) => {
    const data = corpus(ext);
    const { arrays, sink } = bothWays(make, data, 9973);
    expect(sink).toEqual(arrays);
    expect(arrays.flat().length).toBeGreaterThan(5000);
  });
});

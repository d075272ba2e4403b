import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCsvlogFramer } from '../../src/parse/csvlog-framer.js';
import { createJsonlogFramer } from '../../src/parse/jsonlog-framer.js';
import { createLogParser } from '../../src/parse/log-parser.js';
import type { FramedRecord, FramerOptions, StreamingRecordFramer } from '../../src/parse/record-framer.js';
import { createStderrFramer } from '../../src/parse/stderr-framer.js';

const CORPUS = '../../../shared/corpus/pg15-pgaudit/postgresql-2026-11-29_171716';
const corpus = (ext: string): Buffer => readFileSync(new URL(`${CORPUS}.${ext}`, import.meta.url));
const PREFIX = '%m [%p] %q%u@%d %r %a: ';

const makers: [string, string, (options: FramerOptions) => StreamingRecordFramer][] = [
  ['stderr', 'log', (options) => createStderrFramer({ ...options, logLinePrefix: PREFIX })],
  ['csvlog', 'csv', (options) => createCsvlogFramer(options)],
  ['jsonlog', 'json', (options) => createJsonlogFramer(options)],
];

/** Everything `framer` emits for the rest of `data` from `from`, pushed in 8 KiB chunks, then `end`. */
function rest(framer: StreamingRecordFramer, data: Buffer, from: number): FramedRecord[] {
  const out: FramedRecord[] = [];
  for (let i = from; i < data.length; i += 8192) framer.pushTo(data.subarray(i, Math.min(i + 8192, data.length)), out);
  framer.endTo(out);
  return out;
}

describe('RecordFramer.restartable', () => {
  for (const [format, extension, make] of makers) {
    it(`${format}: a framer started at safeOffset of a restartable one frames the rest of the corpus identically`, () => {
      const data = corpus(extension);
      let restartable = 0;
      for (let point = 50_000; point < data.length; point += 211_007) {
        const whole = make({});
        whole.pushTo(data.subarray(0, point), []);
        whole.flushTo([]);
        if (!whole.restartable) continue;
        restartable++;
        const safe = whole.safeOffset;
        const fresh = make({ startOffset: safe });
        // the bytes the first framer holds: the fresh one emits nothing for them either
        expect(fresh.push(data.subarray(safe, point))).toEqual([]);
        expect(fresh.safeOffset).toBe(safe);
        expect(rest(fresh, data, point)).toEqual(rest(whole, data, point));
      }
      expect(restartable).toBeGreaterThan(3);
    });
  }

  it('stderr: false while a record is open (it may still get DETAIL/STATEMENT lines), true once it is emitted', () => {
    const framer = createStderrFramer({ logLinePrefix: '%m [%p] ' });
    expect(framer.restartable).toBe(true);
    framer.push(Buffer.from('2026-11-29 17:17:16.517 UTC [14439] ERROR:  boom\n'));
    expect(framer.restartable).toBe(false);
    framer.push(Buffer.from('2026-11-29 17:17:16.517 UTC [14439] STATEMENT:  SELECT 1\n2026-11-29 17:17:16.6'));
    expect(framer.restartable).toBe(false); // the partial line may be one more line of the record
    framer.push(Buffer.from('00 UTC [14440] LOG:  next'));
    expect(framer.flush()).toHaveLength(1);
    expect([framer.restartable, framer.safeOffset]).toEqual([true, 106]);
  });

  it('csvlog: false while a record over maxRecordBytes is consumed, true after it', () => {
    const framer = createCsvlogFramer({ maxRecordBytes: 64 });
    const record = `2026-11-29 17:17:16.517 UTC,,,14439,,6929a57c.3867,1,,2026-11-29 17:17:16 UTC,,0,LOG,00000,"${'x'.repeat(200)}",,,,,,,,,"postmaster"\n`;
    framer.push(Buffer.from(record.slice(0, 150)));
    expect(framer.restartable).toBe(false);
    const out = framer.push(Buffer.from(record.slice(150)));
    expect(out).toHaveLength(1);
    expect([framer.restartable, framer.safeOffset]).toEqual([true, Buffer.byteLength(record)]);
  });

  it('jsonlog: false while a line over maxRecordBytes is consumed, true after it', () => {
    const framer = createJsonlogFramer({ maxRecordBytes: 64 });
    const line = `{"timestamp":"2026-11-29 17:17:16.517 UTC","pid":14439,"error_severity":"LOG","message":"${'x'.repeat(200)}"}\n`;
    framer.push(Buffer.from(line.slice(0, 150)));
    expect(framer.restartable).toBe(false);
    expect(framer.push(Buffer.from(line.slice(150)))).toHaveLength(1);
    expect([framer.restartable, framer.safeOffset]).toEqual([true, Buffer.byteLength(line)]);
  });

  it('LogParser.restartable is its framer\'s', () => {
    const parser = createLogParser({ format: 'stderr', server: 's', source: { id: 's', file: null, fingerprint: null } });
    parser.push(Buffer.from('2026-11-29 17:17:16.517 UTC [14439] LOG:  one\n'));
    expect(parser.restartable).toBe(false);
    expect(parser.end()).toHaveLength(1);
    expect(parser.restartable).toBe(true);
  });
});

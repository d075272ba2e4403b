import { describe, expect, it } from 'vitest';
import { parseJsonObjectPrefix } from '../../src/parse/json-object-prefix.js';
import { createJsonlogFramer } from '../../src/parse/jsonlog-framer.js';
import { isFramingFailure, type FramedRecord } from '../../src/parse/record-framer.js';

describe('parseJsonObjectPrefix: numbers that are not valid JSON', () => {
  it('reads a leading-zero number as its valid head and stops there instead of throwing', () => {
    expect(parseJsonObjectPrefix('{"pid":011,"message":"x')).toEqual({ pid: 0 });
    expect(parseJsonObjectPrefix('{"a":"v","n":-00.5,"m":"y')).toEqual({ a: 'v', n: -0 });
  });

  it('still reads valid numbers, literals and cut strings as before', () => {
    expect(parseJsonObjectPrefix('{"a":10,"b":-2.5e3,"c":true,"d":null,"e":"cut')).toEqual({ a: 10, b: -2500, c: true, d: null, e: 'cut' });
    expect(parseJsonObjectPrefix('{"a":12')).toEqual({});
  });
});

describe('createJsonlogFramer: a damaged oversized line', () => {
  it('emits a record for an oversized line whose head holds a leading-zero number, never a throw', () => {
    const line = `{"timestamp":"2026-11-29 17:30:00.000 UTC","pid":0123,"message":"${'x'.repeat(400)}"}\n`;
    const framer = createJsonlogFramer({ maxRecordBytes: 128 });
    const out: FramedRecord[] = [...framer.push(Buffer.from(line)), ...framer.end()];
    expect(out).toHaveLength(1);
    const first = out[0] as FramedRecord;
    expect(isFramingFailure(first)).toBe(false);
    expect(first).toMatchObject({ offset: 0, byteLength: Buffer.byteLength(line), pid: 0, truncated: true, timeMs: Date.UTC(2026, 10, 29, 17, 30) });
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCsvlogFramer } from '../../src/parse/csvlog-framer.js';
import { createJsonlogFramer } from '../../src/parse/jsonlog-framer.js';
import type { LogRecord } from '../../src/parse/log-record.js';
import { createEventBuilder } from '../../src/parse/event-builder.js';
import { type FramedRecord, type StreamingRecordFramer, isFramingFailure } from '../../src/parse/record-framer.js';

const fixture = (path: string): Buffer => readFileSync(new URL(`../fixtures/${path}`, import.meta.url));

/** The fields `eventFieldsOnly` may leave null. */
const NOT_FOR_EVENTS = ['command_tag', 'sessionStartMs', 'vxid', 'xid', 'internal_query', 'location', 'leader_pid', 'query_id'] as const;

function frame(framer: StreamingRecordFramer, data: Buffer): LogRecord[] {
  const out: FramedRecord[] = [...framer.push(data), ...framer.end()];
  return out.filter((r): r is LogRecord => !isFramingFailure(r));
}

const origin = { id: 'db1', file: 'x', fingerprint: 'f' };

// leftOut: values the full records have and the lean ones leave null (csvlog keeps them in its
// one non-ASCII record, which is split as text)
describe.each([
  ['csvlog', 'csvlog/pg15-excerpt.csv', createCsvlogFramer, 19],
  ['jsonlog', 'jsonlog/pg15-excerpt.json', createJsonlogFramer, 29],
] as const)('%s framer with eventFieldsOnly', (_format, path, create, leftOutValues) => {
  const data = fixture(path);
  const full = frame(create(), data);
  const lean = frame(create({ eventFieldsOnly: true }), data);

  it('may leave null only the fields events are not built from, and does for plain records', () => {
    expect(lean).toHaveLength(7);
    let leftOut = 0;
    for (const [i, record] of lean.entries()) {
      const fullRecord = full[i] as LogRecord;
      const expected: LogRecord = { ...fullRecord };
      for (const field of NOT_FOR_EVENTS) {
        if (record[field] === null && fullRecord[field] !== null) leftOut++;
        (expected as unknown as Record<string, unknown>)[field] = record[field] === null ? null : fullRecord[field];
      }
      expect(record).toEqual(expected);
    }
    // the excerpt's first record (the postmaster's start line) has a session start and a query id in both formats
    expect(lean[0]?.sessionStartMs).toBeNull();
    expect(full[0]?.sessionStartMs).toBe(Date.parse('2026-11-29T17:17:16Z'));
    expect(leftOut).toBe(leftOutValues);
  });

  it('gives the same events as full records', () => {
    const fromFull = createEventBuilder({ server: 's' });
    const fromLean = createEventBuilder({ server: 's' });
    expect(lean.map((r) => fromLean.build(r, origin))).toEqual(full.map((r) => fromFull.build(r, origin)));
  });
});

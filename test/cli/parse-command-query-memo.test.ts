import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createQueryMemo } from '../../src/cli/event-json-query-memo.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { QueryEnricher } from '../../src/enrich/query-enricher.js';
import { createEventBuilder } from '../../src/parse/event-builder.js';
import type { LogFormat } from '../../src/parse/log-format.js';
import { createLogParser, isParseFailure } from '../../src/parse/log-parser.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures');
const CORPUS_PREFIX = '%m [%p] %q%u@%d %r %a: ';

/** The events of a fixture file, unenriched (`query` null), parsed twice so that statements repeat. */
async function eventsOf(file: string, format: LogFormat, logLinePrefix?: string): Promise<AccessEvent[]> {
  const bytes = await readFile(join(FIXTURES, file));
  const events: AccessEvent[] = [];
  for (let pass = 0; pass < 2; pass++) {
    const parser = createLogParser({ format, logLinePrefix, server: 'db', source: { id: 'db', file, fingerprint: 'f' }, builder: createEventBuilder({ server: 'db' }) });
    for (const out of [...parser.push(bytes), ...parser.end()]) if (!isParseFailure(out)) events.push(out);
  }
  return events;
}

/** A minimal audit event carrying `statement` (and optionally an error STATEMENT). */
function auditEvent(statement: string, errorStatement: string | null = null): AccessEvent {
  const parser = createLogParser({ format: 'stderr', server: 'db', source: { id: 'db', file: null, fingerprint: null } });
  const line = `2026-01-01 00:00:00.000 UTC [1] LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,"${statement.replaceAll('"', '""')}",<none>\n`;
  const [out] = [...parser.push(Buffer.from(line)), ...parser.end()];
  if (out === undefined || isParseFailure(out)) throw new Error('fixture line did not parse');
  return { ...out, statement: errorStatement };
}

describe('createQueryMemo: the enricher for serialise-and-drop events', () => {
  let enricher: QueryEnricher;
  beforeAll(async () => {
    enricher = await QueryEnricher.create();
  });

  it('gives every fixture event the same JSON as QueryEnricher.enrich, asking the enricher once per audited statement', async () => {
    for (const [file, format, prefix] of [
      ['stderr/corpus-excerpt.log', 'stderr', CORPUS_PREFIX],
      ['csvlog/pg15-excerpt.csv', 'csvlog', undefined],
      ['jsonlog/pg15-excerpt.json', 'jsonlog', undefined],
    ] as const) {
      const direct = await eventsOf(file, format, prefix);
      const memoised = await eventsOf(file, format, prefix);
      for (const event of direct) enricher.enrich(event);
      const spy = vi.spyOn(enricher, 'enrich');
      const memo = createQueryMemo(enricher);
      for (const event of memoised) memo.enrich(event);
      const audited = memoised.filter((e) => e.audit !== null && e.statement === null);
      const distinct = new Set(audited.map((e) => e.audit?.statement)).size;
      expect(spy).toHaveBeenCalledTimes(memoised.length - audited.length + distinct);
      spy.mockRestore();
      expect(audited.length).toBeGreaterThan(distinct);
      expect(memoised.map((e) => JSON.stringify(e))).toEqual(direct.map((e) => JSON.stringify(e)));
      expect(direct.some((e) => e.query !== null)).toBe(true);
    }
  });

  it('leaves query null for a placeholder statement every time, and sends events with an error STATEMENT to the enricher', () => {
    const memo = createQueryMemo(enricher);
    const spy = vi.spyOn(enricher, 'enrich');
    const placeholders = [auditEvent('<not logged>'), auditEvent('<not logged>')];
    for (const event of placeholders) memo.enrich(event);
    expect(placeholders.map((e) => e.query)).toEqual([null, null]);
    const withError = [auditEvent('SELECT 1', 'SELECT 2'), auditEvent('SELECT 1', 'SELECT 2')];
    for (const event of withError) memo.enrich(event);
    expect(spy).toHaveBeenCalledTimes(3);
    spy.mockRestore();
    expect(withError[1]?.query?.normalized).toBe('SELECT $1');
  });

  it('starts over after 4,096 distinct statements (bounded memory)', () => {
    // distinct blank statements: the enricher returns at once for them, and the memo remembers that
    const spaces = [' ', '\t', '\n', '\r', '\u00a0', '\u1680', '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200a', '\u2028', '\u2029', '\u3000'];
    const blank = (i: number): string => `${spaces[i % 20]}${spaces[Math.floor(i / 20) % 20]}${spaces[Math.floor(i / 400) % 20]}`;
    const base = auditEvent('SELECT 1');
    const withStatement = (statement: string): AccessEvent => ({ ...base, audit: { ...(base.audit as NonNullable<AccessEvent['audit']>), statement } });
    const memo = createQueryMemo(enricher);
    const spy = vi.spyOn(enricher, 'enrich');
    for (let i = 0; i <= 4096; i++) memo.enrich(withStatement(blank(i)));
    expect(spy).toHaveBeenCalledTimes(4097);
    memo.enrich(withStatement(blank(4096)));
    expect(spy).toHaveBeenCalledTimes(4097);
    memo.enrich(withStatement(blank(0)));
    expect(spy).toHaveBeenCalledTimes(4098);
    spy.mockRestore();
  });
});

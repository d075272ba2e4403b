import { describe, expect, it } from 'vitest';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { parseLogFile, type ParsedFile } from '../helpers/parse-log-file.js';

const CORPUS = new URL('../../../shared/corpus/pg15-pgaudit/', import.meta.url).pathname;
const BASE = `${CORPUS}postgresql-2026-11-29_171716`;
const PREFIX = '%m [%p] %q%u@%d %r %a: ';

/** The audit facts that must agree across formats. */
const auditKey = (e: AccessEvent): string =>
  JSON.stringify([e.pid, e.audit?.class, e.audit?.command, e.audit?.object_name, e.audit?.statement, e.audit?.parameter, e.audit?.rows]);

/**
 * Records grouped by backend pid, each group in file order. The logging collector writes each
 * destination separately, so records of different backends interleave differently in the .log, .csv
 * and .json files; within one backend the order is the same everywhere.
 */
const perBackend = (events: AccessEvent[], key: (e: AccessEvent) => string): Map<number | null, string[]> => {
  const groups = new Map<number | null, string[]>();
  for (const e of events) {
    const list = groups.get(e.pid) ?? [];
    list.push(key(e));
    groups.set(e.pid, list);
  }
  return new Map([...groups.entries()].sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0)));
};

const count = (parsed: ParsedFile, kind: AccessEvent['kind']): number => parsed.events.filter((e) => e.kind === kind).length;

describe('the corpus run parsed from its three destinations', async () => {
  const stderr = await parseLogFile(`${BASE}.log`, { logLinePrefix: PREFIX });
  const csv = await parseLogFile(`${BASE}.csv`);
  const json = await parseLogFile(`${BASE}.json`);

  it('reads every record of each format with zero failures', () => {
    for (const parsed of [stderr, csv, json]) {
      expect(parsed.failures).toEqual([]);
      expect(parsed.records).toBe(5905);
      expect(parsed.events.length).toBe(5905);
    }
  });

  it('gives the same sequence of audit events per backend (class, command, object, statement, parameter, rows)', () => {
    const audits = (p: ParsedFile) => p.events.filter((e) => e.kind === 'audit');
    expect(audits(stderr).length).toBe(5538);
    const s = perBackend(audits(stderr), auditKey);
    expect(perBackend(audits(csv), auditKey)).toEqual(s);
    expect(perBackend(audits(json), auditKey)).toEqual(s);
    // and the same multiset overall
    expect(audits(csv).map(auditKey).sort()).toEqual(audits(stderr).map(auditKey).sort());
  });

  it('counts the same connections, auth failures, disconnections and errors in each format', () => {
    const counts = (p: ParsedFile) => ({
      connection: count(p, 'connection'),
      authentication: count(p, 'authentication'),
      authorization: count(p, 'authorization'),
      auth_failure: count(p, 'auth_failure'),
      disconnection: count(p, 'disconnection'),
      error: count(p, 'error'),
    });
    // README of the corpus: 102 connection attempts, 33 failed logins, 3 SQL errors.
    expect(counts(stderr)).toMatchObject({ connection: 102, auth_failure: 33, error: 3 });
    expect(counts(csv)).toEqual(counts(stderr));
    expect(counts(json)).toEqual(counts(stderr));
  });

  it('stamps the same UTC times, kinds and entities on each backend\'s records in every format', () => {
    const key = (e: AccessEvent) => `${e.time} ${e.pid} ${e.kind} ${e.user} ${e.database} ${e.client_addr}`;
    const s = perBackend(stderr.events, key);
    expect(perBackend(csv.events, key)).toEqual(s);
    expect(perBackend(json.events, key)).toEqual(s);
  });

  it('attaches the DETAIL of an auth failure and the STATEMENT of an error to their record', () => {
    const failure = stderr.events.find((e) => e.kind === 'auth_failure')!;
    expect(failure).toMatchObject({ user: 'dba_admin', sqlstate: '28P01', client_addr: '127.0.0.2', application_name: null });
    expect(failure.detail).toMatch(/^Connection matched pg_hba.conf line 3: /);
    const denied = stderr.events.filter((e) => e.kind === 'error' && e.sqlstate === '42501');
    expect(denied.map((e) => e.statement)).toEqual(csv.events.filter((e) => e.kind === 'error' && e.sqlstate === '42501').map((e) => e.statement));
    expect(denied.length).toBe(2);
    expect(denied.every((e) => e.statement !== null)).toBe(true);
  });
});

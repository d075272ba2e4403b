import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { parseLogFile } from '../helpers/parse-log-file.js';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';

/** Statements with the characters that break naive log parsers, sent through a real server. */
const TRICKY = {
  newlines: "SELECT id,\n       note\n  FROM live_probe\n WHERE note <> 'a\nb'",
  quotes: `SELECT 'it''s "quoted", isn''t it' AS q, "note" FROM live_probe`,
  commas: "SELECT 1, 2, 3, ',,,' AS commas FROM live_probe",
  unicode: "SELECT 'Terima kasih 🙏 — naïve café 東京' AS u FROM live_probe",
  tab: "SELECT 'a\tb' AS t FROM live_probe",
};
const BIND_SQL = 'SELECT note FROM live_probe WHERE note = $1 OR note = $2';
const BIND_PARAMS = ['multi\nline, "quoted", \'single\'', 'emoji 🙏, comma'];

describe('statements written through a live PostgreSQL 15 + pgaudit (Asia/Jakarta log_timezone)', () => {
  let cluster: PgCluster;
  let before: number;
  let after: number;
  const parsed: Record<string, AccessEvent[]> = {};

  beforeAll(async () => {
    cluster = await startPgCluster({ timezone: 'Asia/Jakarta' });
    await cluster.query('CREATE TABLE live_probe (id int, note text)');
    const client = new pg.Client({ connectionString: cluster.url({ applicationName: 'live-test' }) });
    await client.connect();
    before = Date.now();
    for (const sql of Object.values(TRICKY)) await client.query(sql);
    await client.query(BIND_SQL, BIND_PARAMS);
    await client.query('SELECT * FROM no_such_table_xyz').catch(() => undefined);
    after = Date.now();
    await client.end();
    await new Promise((r) => setTimeout(r, 500));
    for (const ext of ['.log', '.csv', '.json'] as const) {
      const [file] = await cluster.logFiles(ext);
      const result = await parseLogFile(file!, { logLinePrefix: cluster.log_line_prefix, timezone: 'Asia/Jakarta' });
      expect(result.failures).toEqual([]);
      parsed[ext] = result.events;
    }
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const audited = (ext: string): AccessEvent[] => parsed[ext]!.filter((e) => e.kind === 'audit' && e.application_name === 'live-test');

  for (const ext of ['.log', '.csv', '.json']) {
    it(`finds every tricky statement intact in ${ext}`, () => {
      const statements = audited(ext).map((e) => e.audit!.statement);
      for (const sql of Object.values(TRICKY)) expect(statements).toContain(sql);
    });

    it(`finds the bind parameters intact as a list in ${ext}`, () => {
      const bind = audited(ext).find((e) => e.audit!.statement === BIND_SQL)!;
      expect(bind.audit!.parameter).toEqual(BIND_PARAMS);
      expect(bind.audit!.rows).toBe(0);
      expect(bind.audit!.object_name).toBe('public.live_probe');
    });

    it(`converts the WIB server times to UTC in ${ext}`, () => {
      for (const e of audited(ext)) {
        const t = Date.parse(e.time);
        expect(e.time.endsWith('Z')).toBe(true);
        expect(t).toBeGreaterThanOrEqual(before - 2000);
        expect(t).toBeLessThanOrEqual(after + 2000);
      }
    });

    it(`keeps the failed statement of an error in ${ext}`, () => {
      const error = parsed[ext]!.find((e) => e.kind === 'error' && e.application_name === 'live-test')!;
      expect(error.message).toBe('relation "no_such_table_xyz" does not exist');
      expect(error.statement).toBe('SELECT * FROM no_such_table_xyz');
    });
  }
});

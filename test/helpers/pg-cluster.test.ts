import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPgCluster, type PgCluster } from './pg-cluster.js';

describe('startPgCluster', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await startPgCluster({ timezone: 'Asia/Jakarta' });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs PostgreSQL 15 with pgaudit writing AUDIT lines to all three log destinations', async () => {
    const [row] = await cluster.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
    expect(row?.v.startsWith('15')).toBe(true);
    await cluster.query('CREATE TABLE probe_table (id int)');
    await cluster.query('SELECT count(*) FROM probe_table');
    await new Promise((r) => setTimeout(r, 300));
    for (const ext of ['.log', '.csv', '.json'] as const) {
      const files = await cluster.logFiles(ext);
      expect(files.length).toBe(1);
      const text = await readFile(files[0]!, 'utf8');
      expect(text).toContain('AUDIT: SESSION');
      expect(text).toContain('public.probe_table');
    }
    const stderr = await readFile((await cluster.logFiles('.log'))[0]!, 'utf8');
    expect(stderr).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} WIB \[\d+\] /m);
  });
});

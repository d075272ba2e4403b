import { PassThrough } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observe/logger.js';
import { Telemetry } from '../../src/observe/telemetry.js';
import type { AppAccessRow } from '../../src/sources/app-access-row.js';
import { readAppAccessSql } from '../../src/sources/app-access-sql.js';
import { AppAccessSource } from '../../src/sources/app-access-source.js';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';

/** How long the early transaction stays open (real wall time, as the issue asks). */
const OPEN_FOR_MS = 30_000;

let cluster: PgCluster;
const clients: pg.Client[] = [];

beforeAll(async () => {
  cluster = await startPgCluster();
  await cluster.query(await readAppAccessSql());
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await cluster?.stop();
});

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: cluster.url({ applicationName: 'test-app' }) });
  await c.connect();
  clients.push(c);
  return c;
}

async function insert(c: pg.Client, label: string): Promise<void> {
  await c.query(`INSERT INTO jaga_access_event (actor, action, subject_id) VALUES ('alice', 'view', $1)`, [label]);
}

async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('AppAccessSource commit-safe cursor', () => {
  it('delivers the rows of a transaction open for 30 s once, after it commits, while later ones commit', async () => {
    const telemetry = new Telemetry(createLogger({ stream: new PassThrough() }));
    const source = new AppAccessSource({ id: 'crm-db', url: cluster.url(), pollIntervalMs: 500, telemetry });
    const controller = new AbortController();
    const delivered: AppAccessRow[] = [];
    const consuming = (async () => {
      for await (const batch of source.batches(controller.signal)) {
        delivered.push(...batch.rows);
        source.ack(batch.cursor);
      }
    })();
    const labels = (): (string | null)[] => delivered.map((r) => r.subject_id);
    try {
      const writer = await client();
      await insert(writer, 'before-1');
      await insert(writer, 'before-2');
      await until(() => delivered.length === 2, 10_000, 'the rows committed before the long transaction');

      // The long transaction takes its id (and so its rows' txid) now, before every later writer.
      const long = await client();
      await long.query('BEGIN');
      for (const label of ['long-1', 'long-2', 'long-3']) await insert(long, label);

      // Ten later transactions commit while it stays open; their ids are above the long one's.
      const later: string[] = [];
      const started = Date.now();
      for (let i = 1; i <= 10; i += 1) {
        await sleep(OPEN_FOR_MS / 10 - 100);
        await insert(writer, `later-${i}`);
        later.push(`later-${i}`);
      }
      await sleep(Math.max(0, OPEN_FOR_MS - (Date.now() - started)));

      // Still open: nothing at or above its txid is final, so nothing of it (or after it) was read.
      expect(labels()).toEqual(['before-1', 'before-2']);
      await long.query('COMMIT');

      await until(() => delivered.length >= 15, 10_000, 'the long transaction and the later rows');
      await sleep(1_500); // a few more polls: nothing may come twice
      expect(labels()).toEqual(['before-1', 'before-2', 'long-1', 'long-2', 'long-3', ...later]);
      expect(new Set(delivered.map((r) => r.id)).size).toBe(15);
      // A plain id cursor would have passed the long transaction's ids: they are below the later ones.
      const ids = delivered.map((r) => Number(r.id));
      expect(ids.slice(2, 5).every((id) => id < (ids[5] as number))).toBe(true);
      expect(source.checkpoint()).toBe(`${delivered[14]?.txid}:${delivered[14]?.id}`);
    } finally {
      controller.abort();
      await consuming;
      await source.stop();
    }
  }, 120_000);
});

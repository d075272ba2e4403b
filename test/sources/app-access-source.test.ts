import { createServer, connect, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/domain/errors.js';
import { createLogger } from '../../src/observe/logger.js';
import { Telemetry } from '../../src/observe/telemetry.js';
import { appAccessRowToEvent, createAppAccessBatchParser } from '../../src/parse/app-access-parser.js';
import type { AppAccessRow } from '../../src/sources/app-access-row.js';
import { readAppAccessSql } from '../../src/sources/app-access-sql.js';
import { AppAccessSource, type AppAccessBatch, type AppAccessSourceOptions } from '../../src/sources/app-access-source.js';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';

const APP = { user: 'jaga_app', password: 'app-pw' };
const READER = { user: 'jaga_reader', password: 'reader-pw' };
/** The privileges the shipped SQL advises, with the test's role names. */
const GRANTS = `
  REVOKE ALL ON jaga_access_event FROM PUBLIC;
  GRANT INSERT (time, actor, action, subject_table, subject_id, row_count, client_addr, application_name, detail)
    ON jaga_access_event TO jaga_app;
  GRANT USAGE ON SEQUENCE jaga_access_event_id_seq TO jaga_app;
  GRANT SELECT ON jaga_access_event TO jaga_reader;`;

let cluster: PgCluster;
const sources: AppAccessSource[] = [];
const clients: pg.Client[] = [];

beforeAll(async () => {
  cluster = await startPgCluster();
  await cluster.query(`CREATE ROLE jaga_app LOGIN PASSWORD '${APP.password}'`);
  await cluster.query(`CREATE ROLE jaga_reader LOGIN PASSWORD '${READER.password}'`);
});

afterAll(async () => {
  await Promise.all(sources.map((s) => s.stop()));
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await cluster?.stop();
});

/** A new database holding the shipped table, with the advised grants. */
async function freshDatabase(name: string): Promise<string> {
  await cluster.query(`CREATE DATABASE ${name}`);
  await cluster.query(await readAppAccessSql(), undefined, name);
  await cluster.query(GRANTS, undefined, name);
  return name;
}

async function client(database: string, role: { user: string; password: string } = APP): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: cluster.url({ ...role, database }) });
  await c.connect();
  clients.push(c);
  return c;
}

let labelSeq = 0;

/**
 * Inserts `count` rows in one statement as the app role (INSERT only: no RETURNING) and returns
 * their subject_id values, unique per test file, by which the tests recognise delivered rows.
 */
async function insertRows(c: pg.Client, count: number, detail: string | null = '{"k": 1}'): Promise<string[]> {
  const labels = Array.from({ length: count }, () => `r${++labelSeq}`);
  await c.query(
    `INSERT INTO jaga_access_event (actor, action, subject_table, subject_id, row_count, detail)
     SELECT 'alice', 'view', 'public.customers', label, 1, $2::jsonb FROM unnest($1::text[]) WITH ORDINALITY AS l(label, n) ORDER BY n`,
    [labels, detail],
  );
  return labels;
}

function newSource(database: string, options: Partial<AppAccessSourceOptions> = {}): AppAccessSource {
  const source = new AppAccessSource({ id: 'crm-db', url: cluster.url({ ...READER, database }), pollIntervalMs: 60_000, ...options });
  sources.push(source);
  return source;
}

async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Consumes a source in the background, acknowledging every batch unless told not to. */
function consume(source: AppAccessSource, ack = true) {
  const controller = new AbortController();
  const batches: AppAccessBatch[] = [];
  const rows: AppAccessRow[] = [];
  const running = (async () => {
    for await (const batch of source.batches(controller.signal)) {
      batches.push(batch);
      rows.push(...batch.rows);
      if (ack) source.ack(batch.cursor);
    }
  })();
  return {
    batches,
    rows,
    labels: () => rows.map((r) => r.subject_id),
    async end() {
      controller.abort();
      await running;
    },
  };
}

async function counter(telemetry: Telemetry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = telemetry.registry.getSingleMetric(`jaga_${name}_total`);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
}

async function terminate(database: string, applicationName: string): Promise<number> {
  const rows = await cluster.query<{ n: string }>(
    'SELECT count(pg_terminate_backend(pid))::text AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
    [database, applicationName],
  );
  return Number(rows[0]?.n);
}

describe('shipped SQL (jaga-access-event.sql)', () => {
  it('is idempotent and enforces append-only, a forced txid and insert-only / select-only roles', async () => {
    const db = await freshDatabase('sql_check');
    await cluster.query(await readAppAccessSql(), undefined, db);
    const triggers = await cluster.query<{ tgname: string }>(
      `SELECT tgname FROM pg_trigger WHERE tgrelid = 'jaga_access_event'::regclass AND NOT tgisinternal ORDER BY tgname`, undefined, db);
    expect(triggers.map((t) => t.tgname)).toEqual(['jaga_access_event_append_only', 'jaga_access_event_no_truncate', 'jaga_access_event_notify', 'jaga_access_event_stamp']);

    const app = await client(db);
    const inserted = await app.query(`INSERT INTO jaga_access_event (actor, action) VALUES ('bob', 'view')`);
    expect(inserted.rowCount).toBe(1);
    await expect(app.query(`INSERT INTO jaga_access_event (actor, action) VALUES ('bob', 'view') RETURNING id`)).rejects.toMatchObject({ code: '42501' });
    await expect(app.query(`INSERT INTO jaga_access_event (actor, action, txid) VALUES ('bob', 'view', '5')`)).rejects.toMatchObject({ code: '42501' });
    await expect(app.query('SELECT * FROM jaga_access_event')).rejects.toMatchObject({ code: '42501' });
    await expect(app.query(`UPDATE jaga_access_event SET actor = 'x'`)).rejects.toMatchObject({ code: '42501' });

    const reader = await client(db, READER);
    expect((await reader.query('SELECT actor FROM jaga_access_event')).rows).toEqual([{ actor: 'bob' }]);
    await expect(reader.query(`INSERT INTO jaga_access_event (actor, action) VALUES ('eve', 'view')`)).rejects.toMatchObject({ code: '42501' });

    // Even the owner cannot change history or choose the cursor column.
    await expect(cluster.query(`UPDATE jaga_access_event SET actor = 'x'`, undefined, db)).rejects.toThrow('jaga_access_event is append-only: UPDATE is not allowed');
    await expect(cluster.query('DELETE FROM jaga_access_event', undefined, db)).rejects.toThrow('jaga_access_event is append-only: DELETE is not allowed');
    await expect(cluster.query('TRUNCATE jaga_access_event', undefined, db)).rejects.toThrow('jaga_access_event is append-only: TRUNCATE is not allowed');
    const forced = await cluster.query<{ same: boolean }>(
      `WITH ins AS (INSERT INTO jaga_access_event (actor, action, txid) VALUES ('root', 'view', '3') RETURNING txid)
       SELECT txid = pg_current_xact_id() AS same FROM ins`, undefined, db);
    expect(forced).toEqual([{ same: true }]);
  });
});

describe('AppAccessSource', () => {
  it('rejects bad options with every problem listed', () => {
    let caught: unknown;
    try {
      new AppAccessSource({ id: 'x', url: 'postgres://h/db', pollIntervalMs: 0, healthCheckIntervalMs: 1000, healthCheckTimeoutMs: 1000, cursor: '12' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems).toEqual([
      'app access source x: pollIntervalMs must be a positive integer, got 0',
      'app access source x: healthCheckTimeoutMs (1000) must be below healthCheckIntervalMs (1000)',
      'app access source x: checkpoint cursor is not "<txid>:<id>": "12"',
    ]);
  });

  it('keeps retrying an unreachable server with backoff, never throwing, and stops cleanly', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const telemetry = new Telemetry(createLogger({ stream: new PassThrough() }));
    const url = cluster.url({ ...READER }).replace(`:${cluster.port}/`, `:${closedPort}/`);
    const source = new AppAccessSource({ id: 'crm-db', url, pollIntervalMs: 100, telemetry });
    sources.push(source);
    const consumer = consume(source);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await counter(telemetry, 'app_access_listener_connect_failed')).toBeGreaterThanOrEqual(2);
    expect(await counter(telemetry, 'app_access_read_failed')).toBeGreaterThanOrEqual(2);
    // 250 ms doubling with jitter: far fewer attempts than 1.5 s of tight retries would make
    expect(await counter(telemetry, 'app_access_read_failed')).toBeLessThanOrEqual(5);
    expect(source.connected).toBe(false);
    await source.stop();
    await consumer.end();
    expect(consumer.rows).toEqual([]);
    expect(source.checkpoint()).toBeNull();
  });

  it('delivers all 1,000 events exactly once while its listening (and reading) connection is terminated', async () => {
    const db = await freshDatabase('terminate');
    const telemetry = new Telemetry(createLogger({ stream: new PassThrough() }));
    const source = newSource(db, { telemetry });
    const consumer = consume(source);
    await until(() => source.connected, 10_000, 'the first LISTEN');

    const inserted: string[] = [];
    const writers = await Promise.all([1, 2, 4, 5, 10].map(() => client(db)));
    const writing = Promise.all(
      writers.map(async (w, k) => {
        const perTransaction = [1, 2, 4, 5, 10][k] as number;
        for (let n = 0; n < 200; n += perTransaction) {
          inserted.push(...(await insertRows(w, perTransaction)));
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      }),
    );
    await until(() => inserted.length >= 250, 20_000, '250 inserts');
    expect(await terminate(db, 'jaga:crm-db:listen')).toBe(1);
    await until(() => inserted.length >= 600, 20_000, '600 inserts');
    await until(() => source.connected, 10_000, 'the listener to reconnect');
    expect(await terminate(db, 'jaga:crm-db:listen')).toBe(1);
    expect(await terminate(db, 'jaga:crm-db:read')).toBe(1);
    await writing;
    expect(inserted).toHaveLength(1000);

    await until(() => consumer.rows.length >= 1000, 20_000, 'all 1,000 rows');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await consumer.end();
    expect(consumer.rows).toHaveLength(1000);
    expect(new Set(consumer.labels())).toEqual(new Set(inserted));
    expect(await counter(telemetry, 'app_access_listener_lost', { source: 'crm-db' })).toBe(2);
    expect(await counter(telemetry, 'app_access_listener_connected', { source: 'crm-db' })).toBe(3);
    await until(() => source.connected, 10_000, 'the listener to reconnect again');
    await source.stop();
    expect(source.connected).toBe(false);
  }, 90_000);

  it('lets the app insert a row whose detail is 20 kB (the NOTIFY carries only the id) and delivers it', async () => {
    const db = await freshDatabase('big_detail');
    const listener = await client(db, READER);
    const payloads: string[] = [];
    listener.on('notification', (n) => payloads.push(n.payload ?? ''));
    await listener.query('LISTEN jaga_access_event');
    // The limit the trigger design avoids: a payload of 8000 bytes or more fails the statement.
    await expect(listener.query(`SELECT pg_notify('jaga_access_event_probe', repeat('x', 8000))`)).rejects.toThrow('payload string too long');

    const source = newSource(db);
    const consumer = consume(source);
    const app = await client(db);
    const [label] = await insertRows(app, 1, JSON.stringify({ blob: 'x'.repeat(20_000) }));
    const [{ id } = { id: '' }] = await cluster.query<{ id: string }>('SELECT id::text AS id FROM jaga_access_event WHERE subject_id = $1', [label], db);

    await until(() => consumer.rows.length === 1, 10_000, 'the 20 kB row');
    await consumer.end();
    expect(payloads).toEqual([id]);
    const row = consumer.rows[0] as AppAccessRow;
    expect(row.id).toBe(id);
    const event = appAccessRowToEvent(row, { id: 'crm-db' });
    expect('reason' in event).toBe(false);
    if ('reason' in event) return;
    expect(event.id).toBe(`crm-db:table:${id}`);
    expect((event.app?.detail?.blob as string).length).toBe(20_000);
  });

  it('reads a page only when the consumer asks for it (no read-ahead)', async () => {
    const db = await freshDatabase('pull');
    await insertRows(await client(db), 6);
    const telemetry = new Telemetry(createLogger({ stream: new PassThrough() }));
    const source = newSource(db, { batchRows: 2, telemetry });
    const iterator = source.batches(new AbortController().signal)[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value?.rows.map((r: AppAccessRow) => r.id)).toEqual(['1', '2']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await counter(telemetry, 'app_access_rows_read')).toBe(2);
    const second = await iterator.next();
    expect(second.value?.rows.map((r: AppAccessRow) => r.id)).toEqual(['3', '4']);
    expect(await counter(telemetry, 'app_access_rows_read')).toBe(4);
    await iterator.return?.();
    await source.stop();
  });

  it('restarts from checkpoint(): re-reads only unacknowledged batches and repeats nothing acknowledged', async () => {
    const db = await freshDatabase('restart');
    const app = await client(db);
    const first = await insertRows(app, 6);

    const one = newSource(db, { batchRows: 4, pollIntervalMs: 100 });
    const iterator = one.batches(new AbortController().signal)[Symbol.asyncIterator]();
    const a = (await iterator.next()).value as AppAccessBatch;
    one.ack(a.cursor);
    const b = (await iterator.next()).value as AppAccessBatch; // handled but never acknowledged
    expect([a.rows.map((r) => r.subject_id), b.rows.map((r) => r.subject_id)]).toEqual([first.slice(0, 4), first.slice(4)]);
    expect(one.checkpoint()).toBe(a.cursor);
    await iterator.return?.();
    await one.stop();

    const later = await insertRows(app, 3);
    const two = newSource(db, { cursor: one.checkpoint(), pollIntervalMs: 100 });
    const consumer2 = consume(two);
    await until(() => consumer2.rows.length >= 5, 10_000, 'the unacknowledged and new rows');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await consumer2.end();
    await two.stop();
    expect(consumer2.labels()).toEqual([...first.slice(4), ...later]);

    const three = newSource(db, { cursor: two.checkpoint(), pollIntervalMs: 100 });
    const consumer3 = consume(three);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(consumer3.rows).toEqual([]);
    const last = await insertRows(app, 1);
    await until(() => consumer3.rows.length >= 1, 10_000, 'the row inserted after the restart');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await consumer3.end();
    expect(consumer3.labels()).toEqual(last);
    expect(three.checkpoint()).toBe(consumer3.batches[0]?.cursor);
  });

  it('counts and skips bad rows (detail a JSON array, time infinity) and goes on with the next rows', async () => {
    const db = await freshDatabase('bad_rows');
    const app = await client(db);
    // A fresh database: the rows get ids 1 to 4 in this order.
    await insertRows(app, 1);
    await insertRows(app, 1, '["customer-secret-0042"]');
    await app.query(`INSERT INTO jaga_access_event (time, actor, action) VALUES ('infinity', 'alice', 'view')`);
    await insertRows(app, 1);

    const stream = new PassThrough();
    const logged: string[] = [];
    stream.on('data', (chunk: Buffer) => logged.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    const telemetry = new Telemetry(createLogger({ stream }));
    const parse = createAppAccessBatchParser(telemetry);
    const source = newSource(db, { telemetry });
    const consumer = consume(source);
    await until(() => consumer.rows.length >= 4, 10_000, 'four rows');
    await consumer.end();

    const parsed = consumer.batches.map((batch) => parse(batch));
    expect(parsed.flatMap((p) => p.events.map((e) => e.id))).toEqual(['crm-db:table:1', 'crm-db:table:4']);
    expect(await counter(telemetry, 'app_access_bad_row', { reason: 'bad_json' })).toBe(1);
    expect(await counter(telemetry, 'app_access_bad_row', { reason: 'bad_timestamp' })).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    const badLines = logged.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === 'app_access_bad_row');
    expect(badLines.map((l) => [l.reason, l.row_id])).toEqual([['bad_json', '2'], ['bad_timestamp', '3']]);
    expect(logged.join('\n')).not.toContain('customer-secret-0042');
  });
});

/** A loopback TCP proxy whose current connections can be frozen: bytes stop flowing, no FIN, no RST. */
function startProxy(targetPort: number): Promise<{ port: number; freeze(): number; close(): Promise<void> }> {
  const live = new Set<[Socket, Socket]>();
  const frozen: Socket[] = [];
  const server: Server = createServer((downstream) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [downstream, upstream];
    live.add(pair);
    downstream.pipe(upstream);
    upstream.pipe(downstream);
    const drop = (): void => {
      live.delete(pair);
      downstream.destroy();
      upstream.destroy();
    };
    downstream.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : 0,
        freeze() {
          const count = live.size;
          for (const [downstream, upstream] of live) {
            downstream.unpipe(upstream);
            upstream.unpipe(downstream);
            for (const socket of [downstream, upstream]) {
              socket.removeAllListeners('close');
              socket.removeAllListeners('error');
              socket.on('error', () => undefined);
              socket.pause();
              frozen.push(socket);
            }
          }
          live.clear();
          return count;
        },
        async close() {
          for (const socket of frozen) socket.destroy();
          for (const [downstream, upstream] of live) {
            downstream.destroy();
            upstream.destroy();
          }
          await new Promise((done) => server.close(() => done(undefined)));
        },
      });
    });
  });
}

describe('AppAccessSource health check', () => {
  it('detects silently dropped connections with its timed health queries, reconnects and catches up', async () => {
    const db = await freshDatabase('half_open');
    const proxy = await startProxy(cluster.port);
    const telemetry = new Telemetry(createLogger({ stream: new PassThrough() }));
    const url = cluster.url({ ...READER, database: db }).replace(`:${cluster.port}/`, `:${proxy.port}/`);
    const source = new AppAccessSource({ id: 'crm-db', url, pollIntervalMs: 60_000, healthCheckIntervalMs: 1_000, healthCheckTimeoutMs: 400, readTimeoutMs: 5_000, telemetry });
    sources.push(source);
    const consumer = consume(source);
    const app = await client(db);
    try {
      await until(() => source.connected, 10_000, 'the first LISTEN');
      const before = await insertRows(app, 1);
      await until(() => consumer.rows.length === 1, 5_000, 'the row before the drop');

      expect(proxy.freeze()).toBe(2); // the listening and the reading connection
      const during = await insertRows(app, 2);
      // Only a reconnect can deliver these: the poll interval is 60 s and the old LISTEN hears nothing.
      await until(() => consumer.rows.length === 3, 15_000, 'the rows inserted while the connections were dead');
      expect(await counter(telemetry, 'app_access_listener_lost')).toBe(1);
      const readerDrops = (await counter(telemetry, 'app_access_health_check_failed', { connection: 'reader' })) + (await counter(telemetry, 'app_access_read_failed'));
      expect(readerDrops).toBeGreaterThanOrEqual(1);

      await until(() => source.connected, 5_000, 'the new LISTEN');
      const after = await insertRows(app, 1);
      await until(() => consumer.rows.length === 4, 5_000, 'a row notified on the new connection');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(consumer.labels()).toEqual([...before, ...during, ...after]);
    } finally {
      await consumer.end();
      await source.stop();
      await proxy.close();
    }
  }, 60_000);
});

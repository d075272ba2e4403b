import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { createSilentLogger } from '../../src/observe/logger.js';
import { Telemetry } from '../../src/observe/telemetry.js';
import type { LogFormat } from '../../src/parse/log-format.js';
import { LogEventReader } from '../../src/pipeline/log-event-reader.js';
import { LogFolderSource } from '../../src/sources/log-folder-source.js';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { parseLogFile } from '../helpers/parse-log-file.js';

/** How long the load runs at least, ms (PostgreSQL names files by the second: at most one rotation per second). */
const LOAD_MS = 10_000;
/** The load goes on past LOAD_MS, up to this, until every format has rotated at least 3 times, ms. */
const MAX_LOAD_MS = 40_000;
const CLIENTS = 4;
/** The load runs more than this many statements and at least MIN_FAILED_LOGINS failed logins. */
const MIN_STATEMENTS = 1_000;
const MIN_FAILED_LOGINS = 20;
const FORMATS: ReadonlyArray<{ format: LogFormat; extension: '.log' | '.csv' | '.json' }> = [
  { format: 'csvlog', extension: '.csv' },
  { format: 'stderr', extension: '.log' },
  { format: 'jsonlog', extension: '.json' },
];

let cluster: PgCluster;
beforeAll(async () => {
  cluster = await startPgCluster({ settings: { log_rotation_size: "'64kB'" } });
  await cluster.query(`CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL);
    INSERT INTO customers SELECT g, 'c' || g || '@example.com' FROM generate_series(1, 500) g;
    CREATE TABLE visits (id bigserial PRIMARY KEY, customer_id int NOT NULL, at timestamptz NOT NULL DEFAULT now());
    CREATE ROLE app_web LOGIN PASSWORD 'app-web-password';
    GRANT SELECT ON customers TO app_web;
    GRANT INSERT ON visits TO app_web;
    GRANT USAGE ON SEQUENCE visits_id_seq TO app_web;`);
});
afterAll(async () => {
  await cluster?.stop();
});

/** One follower of the log folder per format, as the daemon runs it: acks each batch after taking it. */
class Follower {
  readonly events: AccessEvent[] = [];
  readonly failures: number[] = [];
  readonly telemetry = new Telemetry(createSilentLogger());
  readonly source: LogFolderSource;
  private readonly controller = new AbortController();
  private readonly done: Promise<void>;

  constructor(readonly format: LogFormat, dir: string) {
    const source = new LogFolderSource({ id: 'live', dir, format, telemetry: this.telemetry });
    this.source = source;
    const reader = new LogEventReader(source, 'live', { logLinePrefix: cluster.log_line_prefix });
    this.done = (async () => {
      for await (const batch of reader.batches(this.controller.signal)) {
        this.events.push(...batch.events);
        this.failures.push(...batch.failures.map((f) => f.source.offset));
        if (batch.position) source.ack(batch.position);
      }
    })();
  }

  /** `log_file` events of the source by kind (discovered, rotated, ...). */
  async fileEvents(): Promise<Record<string, number>> {
    const metric = this.telemetry.registry.getSingleMetric('jaga_log_file_total');
    const counts: Record<string, number> = {};
    for (const value of (await metric!.get()).values) counts[String(value.labels.event)] = value.value;
    return counts;
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.source.stop();
    await this.done;
  }
}

/** Every record of the folder's files of one format, parsed whole file by file. */
async function parseFolder(extension: string): Promise<{ files: string[]; events: AccessEvent[]; failures: number }> {
  const files = (await readdir(cluster.logDir)).filter((n) => n.endsWith(extension)).sort().map((n) => join(cluster.logDir, n));
  const events: AccessEvent[] = [];
  let failures = 0;
  for (const file of files) {
    const parsed = await parseLogFile(file, { logLinePrefix: cluster.log_line_prefix, server: 'live' });
    events.push(...parsed.events);
    failures += parsed.failures.length;
  }
  return { files, events, failures };
}

/** Log files of every format in the folder now, fewest first. */
async function fewestFiles(): Promise<number> {
  const names = await readdir(cluster.logDir);
  return Math.min(...FORMATS.map(({ extension }) => names.filter((n) => n.endsWith(extension)).length));
}

/**
 * Runs audited statements from CLIENTS sessions and failed logins for LOAD_MS, longer (up to
 * MAX_LOAD_MS) while some format has fewer than 4 files or fewer statements / failed logins ran than
 * the test checks; returns what ran.
 */
async function runLoad(): Promise<{ selects: number; inserts: number; failedLogins: number }> {
  const counts = { selects: 0, inserts: 0, failedLogins: 0 };
  const startedAt = Date.now();
  let running = true;
  const watcher = (async () => {
    // a loaded machine runs fewer statements per second: go on until the volume the test checks is there too
    const short = async (): Promise<boolean> => counts.selects + counts.inserts <= MIN_STATEMENTS || counts.failedLogins < MIN_FAILED_LOGINS || (await fewestFiles()) < 4;
    while (Date.now() - startedAt < LOAD_MS || ((await short()) && Date.now() - startedAt < MAX_LOAD_MS)) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    running = false;
  })();
  const session = async (n: number): Promise<void> => {
    const client = new pg.Client({ connectionString: cluster.url({ user: 'app_web', password: 'app-web-password', database: 'postgres', applicationName: `load-${n}` }) });
    await client.connect();
    try {
      for (let i = 0; running; i++) {
        if (i % 3 === 2) {
          await client.query('INSERT INTO visits (customer_id) VALUES ($1)', [1 + ((n * 131 + i) % 500)]);
          counts.inserts += 1;
        } else {
          await client.query('SELECT email FROM customers WHERE id = $1', [1 + ((n * 97 + i) % 500)]);
          counts.selects += 1;
        }
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
    } finally {
      await client.end();
    }
  };
  const failedLogins = async (): Promise<void> => {
    while (running) {
      const client = new pg.Client({ connectionString: cluster.url({ user: 'app_web', password: 'wrong-password', database: 'postgres' }) });
      const refused = await client.connect().then(
        () => false,
        (error: { code?: string }) => error.code === '28P01',
      );
      if (!refused) await client.end();
      expect(refused).toBe(true);
      counts.failedLogins += 1;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  await Promise.all([...Array.from({ length: CLIENTS }, (_, n) => session(n)), failedLogins(), watcher]);
  return counts;
}

describe('LogEventReader on a live PostgreSQL that rotates by size under load', () => {
  it('delivers every record of every file exactly once (csvlog, stderr and jsonlog followed at once), through >= 3 rotations', { timeout: 180_000 }, async () => {
    const followers = FORMATS.map(({ format }) => new Follower(format, cluster.logDir));
    try {
      const load = await runLoad();
      expect(load.failedLogins).toBeGreaterThanOrEqual(MIN_FAILED_LOGINS);
      expect(load.selects + load.inserts).toBeGreaterThan(MIN_STATEMENTS);

      for (const [i, { format, extension }] of FORMATS.entries()) {
        const follower = followers[i]!;
        // Nothing connects any more: once the follower has everything the files hold, the files are final.
        let expected = await parseFolder(extension);
        const deadline = Date.now() + 60_000;
        for (;;) {
          const have = new Set(follower.events.map((e) => e.id));
          if (expected.events.every((e) => have.has(e.id))) break;
          if (Date.now() > deadline) throw new Error(`${format}: ${expected.events.filter((e) => !have.has(e.id)).length} records not delivered within 60 s`);
          await new Promise((resolve) => setTimeout(resolve, 50));
          expected = await parseFolder(extension);
        }
        await follower.stop();
        expected = await parseFolder(extension);

        const label = `${format}: ${expected.files.length} files`;
        expect(expected.failures, label).toBe(0);
        expect(follower.failures, label).toEqual([]);
        expect(follower.events.map((e) => e.id).sort(), label).toEqual(expected.events.map((e) => e.id).sort());
        expect(follower.events.length, label).toBe(new Set(follower.events.map((e) => e.id)).size);
        const byId = new Map(expected.events.map((e) => [e.id, e]));
        const strip = (e: AccessEvent): unknown => ({ ...e, source: { ...e.source, file: null } });
        expect(follower.events.filter((e) => JSON.stringify(strip(e)) !== JSON.stringify(strip(byId.get(e.id)!))).map((e) => e.id), label).toEqual([]);

        // The load itself, counted in what was delivered.
        const audits = follower.events.filter((e) => e.kind === 'audit' && e.user === 'app_web');
        expect(audits.filter((e) => e.audit!.command === 'SELECT' && e.audit!.object_name === 'public.customers').length, label).toBe(load.selects);
        expect(audits.filter((e) => e.audit!.command === 'INSERT' && e.audit!.object_name === 'public.visits').length, label).toBe(load.inserts);
        expect(follower.events.filter((e) => e.kind === 'auth_failure' && e.sqlstate === '28P01').length, label).toBe(load.failedLogins);

        // Rotations: every file after the first was a rotation, and the source saw each one appear.
        const delivering = new Set(follower.events.map((e) => e.source.fingerprint));
        expect(delivering.size, label).toBe(expected.files.length);
        expect(expected.files.length - 1, label).toBeGreaterThanOrEqual(3);
        expect((await follower.fileEvents()).discovered, label).toBe(expected.files.length);
        console.log(`${label}, ${follower.events.length} events delivered once each (${load.selects} selects, ${load.inserts} inserts, ${load.failedLogins} failed logins)`);
      }
    } finally {
      for (const follower of followers) await follower.stop();
    }
  });
});

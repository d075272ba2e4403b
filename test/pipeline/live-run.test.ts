import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/db/open-store.js';
import { IncidentRepository } from '../../src/incidents/incident-repository.js';
import { useStoreHarness } from '../db/store-harness.js';
import { JagaProcess } from '../helpers/jaga-cli.js';
import { TEST_LOG_LINE_PREFIX } from '../helpers/pg-cluster.js';

const harness = useStoreHarness();
const BRUTE_FORCE = 'jaga.auth.brute_force';
const running: JagaProcess[] = [];

afterAll(async () => {
  for (const child of running) await child.kill('SIGKILL');
});

/** `count` failed password logins of `user` over TCP (SQLSTATE 28P01 in the server log). */
async function failLogins(user: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const client = new pg.Client({ connectionString: harness.cluster.url({ user, password: 'wrong-password', applicationName: 'attacker' }) });
    await expect(client.connect()).rejects.toThrow(/password authentication failed/);
  }
}

/** The stderr .log file of the cluster (there is one: tests never rotate). */
async function stderrLog(): Promise<string> {
  const files = await harness.cluster.logFiles('.log');
  return files.at(-1)!;
}

/** Waits until the server log shows `count` failed logins of `user`; returns the log size then, bytes. */
async function loggedFailures(user: string, count: number): Promise<number> {
  const needle = `password authentication failed for user "${user}"`;
  for (let i = 0; i < 500; i++) {
    const file = await stderrLog();
    const text = await readFile(file, 'utf8');
    if (text.split(needle).length - 1 >= count) return (await stat(file)).size;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the server log never showed ${count} failures of ${user}`);
}

async function writeConfig(store: string, startAt: 'beginning' | 'end' = 'beginning', extra: readonly string[] = []): Promise<string> {
  const dir = await harness.tempDir();
  const file = join(dir, 'jaga.yaml');
  await writeFile(
    file,
    [
      'agent: { name: live-test }',
      store,
      'sources:',
      `  - { name: pg, type: log_folder, path: ${JSON.stringify(harness.cluster.logDir)}, format: stderr, log_line_prefix: ${JSON.stringify(TEST_LOG_LINE_PREFIX)}, start_at: ${startAt}, server: test-server }`,
      'pipeline: { commit_interval: 200ms }',
      'http: { listen: "127.0.0.1:0" }',
      ...extra,
      '',
    ].join('\n'),
  );
  return file;
}

function startJaga(config: string): JagaProcess {
  const child = new JagaProcess(['run', '--config', config, '--log-level', 'debug']);
  running.push(child);
  return child;
}

/** Log lines of the child that are JSON objects with `event` = name. */
function eventLines(child: JagaProcess, name: string): Record<string, unknown>[] {
  return child.stderrLines
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.event === name);
}

interface IncidentRowLike {
  id: number;
  count: number;
  status: string;
  first_seen: Date;
  group: Record<string, unknown>;
}

describe('jaga run on a live PostgreSQL log folder', () => {
  let storeUrl = (database: string): string => database;
  beforeAll(async () => {
    for (const role of ['dba_admin', 'ops_admin', 'emb_admin', 'duo_admin']) await harness.cluster.query(`CREATE ROLE ${role} LOGIN PASSWORD 'right-password'`);
    storeUrl = (database) => harness.cluster.url({ database });
  });

  const incidentsOf = async (database: string, user: string): Promise<IncidentRowLike[]> =>
    harness.cluster.query<IncidentRowLike & Record<string, unknown>>(
      `SELECT id, count::int AS count, status, first_seen, "group" FROM jaga_incident WHERE detector_id = $1 AND "group"->>'user' = $2 ORDER BY id`,
      [BRUTE_FORCE, user],
      database,
    );

  it('raises one brute-force incident with the count of its window (PostgreSQL store), and SIGTERM exits 0', async () => {
    await harness.cluster.query('CREATE DATABASE jaga_live_a');
    const jaga = startJaga(await writeConfig(`store: { url: ${JSON.stringify(storeUrl('jaga_live_a'))} }`));
    await jaga.waitUntil(() => eventLines(jaga, 'agent_started').length === 1, 'agent_started', 60_000);
    await failLogins('dba_admin', 12);
    await jaga.waitUntil(() => eventLines(jaga, 'pipeline_commit').some((line) => Number(line.changes) > 0), 'a commit with an incident change', 30_000);
    const incidents = await incidentsOf('jaga_live_a', 'dba_admin');
    expect(incidents.map((i) => ({ count: i.count, status: i.status, group: i.group }))).toEqual([{ count: 10, status: 'open', group: { user: 'dba_admin' } }]);
    expect(await jaga.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(eventLines(jaga, 'agent_stopped')).toHaveLength(1);
  }, 120_000);

  it('kill -9 in the middle of the threshold window, then restart: exactly one incident with the full count, and no duplicate after another restart', async () => {
    await harness.cluster.query('CREATE DATABASE jaga_live_b');
    const config = await writeConfig(`store: { url: ${JSON.stringify(storeUrl('jaga_live_b'))} }`);
    const first = startJaga(config);
    await first.waitUntil(() => eventLines(first, 'agent_started').length === 1, 'agent_started', 60_000);
    await failLogins('ops_admin', 8);
    const sizeAfterEight = await loggedFailures('ops_admin', 8);
    // wait until the 8 failures are committed: checkpoint past them (the engine snapshot is in the same transaction)
    for (let i = 0; ; i++) {
      const [row] = await harness.cluster.query<{ offset: number | null }>(`SELECT max(byte_offset)::bigint AS offset FROM jaga_checkpoint WHERE source_id = 'live-test/pg'`, [], 'jaga_live_b');
      if (Number(row?.offset ?? 0) >= sizeAfterEight) break;
      if (i > 1500) throw new Error('the first 8 failures were never committed');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await first.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await incidentsOf('jaga_live_b', 'ops_admin')).toEqual([]);
    const [state] = await harness.cluster.query<{ revision: number }>(`SELECT revision::int AS revision FROM jaga_pipeline_state WHERE agent = 'live-test' AND component = 'engine'`, [], 'jaga_live_b');
    expect(state!.revision).toBeGreaterThan(0);

    await failLogins('ops_admin', 4); // while jaga is down: 8 + 4 = 12 within one minute
    const second = startJaga(config);
    await second.waitUntil(() => eventLines(second, 'engine_state_restored').length === 1, 'engine_state_restored', 60_000);
    await second.waitUntil(() => eventLines(second, 'pipeline_commit').some((line) => Number(line.changes) > 0), 'the incident commit', 30_000);
    const incidents = await incidentsOf('jaga_live_b', 'ops_admin');
    expect(incidents.map((i) => ({ count: i.count, status: i.status }))).toEqual([{ count: 10, status: 'open' }]);
    const firstFailure = await harness.cluster.query<{ first: Date }>(
      `SELECT min(first_seen) AS first FROM jaga_incident WHERE detector_id = $1 AND "group"->>'user' = 'ops_admin'`,
      [BRUTE_FORCE],
      'jaga_live_b',
    );
    expect(firstFailure[0]!.first).toEqual(incidents[0]!.first_seen);
    expect(await second.kill('SIGTERM')).toEqual({ code: 0, signal: null });

    const third = startJaga(config);
    await third.waitUntil(() => eventLines(third, 'engine_state_restored').length === 1, 'engine_state_restored', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await third.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect((await incidentsOf('jaga_live_b', 'ops_admin')).map((i) => i.count)).toEqual([10]);
  }, 180_000);

  it('embedded store: the incident is committed in the data folder, and a restart on it adds no duplicate', async () => {
    const dataDir = await harness.tempDir();
    // start_at end: the folder's earlier traffic is skipped, so the only incident changes are this test's
    const config = await writeConfig(`store: { data_dir: ${JSON.stringify(dataDir)} }`, 'end');
    const first = startJaga(config);
    await first.waitUntil(() => eventLines(first, 'agent_started').length === 1, 'agent_started', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // past the first scan: the failures are new lines
    await failLogins('emb_admin', 12);
    await first.waitUntil(() => eventLines(first, 'pipeline_commit').some((line) => Number(line.changes) > 0), 'the incident commit', 60_000);
    expect(await first.kill('SIGTERM')).toEqual({ code: 0, signal: null });

    const second = startJaga(config);
    await second.waitUntil(() => eventLines(second, 'engine_state_restored').length === 1, 'engine_state_restored', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await second.kill('SIGTERM')).toEqual({ code: 0, signal: null });

    const store = await openStore({ dataDir });
    try {
      const all = await new IncidentRepository(store).list({ detector: BRUTE_FORCE });
      expect(all.filter((i) => i.group.user === 'emb_admin').map((i) => ({ count: i.count, server: i.server }))).toEqual([{ count: 10, server: 'test-server' }]);
    } finally {
      await store.close();
    }
  }, 180_000);

  it('two agents on one PostgreSQL store replaying the same log: one incident per fingerprint, one outbox row per incident change', async () => {
    await harness.cluster.query('CREATE DATABASE jaga_live_duo');
    const dir = await harness.tempDir();
    const store = `store: { url: ${JSON.stringify(storeUrl('jaga_live_duo'))} }`;
    const receivers = [`receivers: { sink: { type: file, path: ${JSON.stringify(join(dir, 'notifications.jsonl'))} } }`];
    const configA = await writeConfig(store, 'beginning', receivers);
    const configB = (await writeConfig(store, 'beginning', receivers)).replace(/jaga\.yaml$/, 'jaga-b.yaml');
    await writeFile(configB, (await readFile(configA, 'utf8')).replace('agent: { name: live-test }', 'agent: { name: live-test-b }'));
    const [a, b] = [startJaga(configA), startJaga(configB)];
    await a.waitUntil(() => eventLines(a, 'agent_started').length === 1, 'agent A started', 90_000);
    await b.waitUntil(() => eventLines(b, 'agent_started').length === 1, 'agent B started', 90_000);
    await failLogins('duo_admin', 12);
    const size = await loggedFailures('duo_admin', 12);
    for (let i = 0; ; i++) {
      const rows = await harness.cluster.query<{ source_id: string; offset: number }>(
        'SELECT source_id, max(byte_offset)::bigint AS offset FROM jaga_checkpoint GROUP BY source_id ORDER BY source_id',
        [],
        'jaga_live_duo',
      );
      if (rows.length === 2 && rows.every((row) => Number(row.offset) >= size)) break;
      if (i > 3000) throw new Error(`both agents never caught up: ${JSON.stringify(rows)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await a.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await b.kill('SIGTERM')).toEqual({ code: 0, signal: null });

    const q = <T extends Record<string, unknown>>(sql: string): Promise<T[]> => harness.cluster.query<T>(sql, [], 'jaga_live_duo');
    expect(await q("SELECT fingerprint FROM jaga_incident WHERE status <> 'resolved' GROUP BY fingerprint HAVING count(*) > 1")).toEqual([]);
    expect((await incidentsOf('jaga_live_duo', 'duo_admin')).map((i) => i.count)).toEqual([10]);
    // every notifying change (opened / severity_raised of stable incidents) has exactly one outbox row for the receiver
    const notifying = await q<{ change_id: string }>(
      "SELECT t.change_id FROM jaga_incident_timeline t JOIN jaga_incident i ON i.id = t.incident_id WHERE i.maturity = 'stable' AND t.kind IN ('opened', 'severity_raised') ORDER BY 1",
    );
    const planned = await q<{ change_id: string }>("SELECT change_id FROM jaga_outbox_change WHERE receiver = 'sink' ORDER BY 1");
    expect(notifying.length).toBeGreaterThan(0);
    expect(planned).toEqual(notifying);
    const duo = await q<{ n: number }>(
      "SELECT count(*)::int AS n FROM jaga_outbox o JOIN jaga_incident i ON i.id = o.incident_id WHERE i.\"group\"->>'user' = 'duo_admin' AND i.detector_id = 'jaga.auth.brute_force'",
    );
    expect(duo[0]!.n).toBe(1);
  }, 240_000);

  it('refuses to start without a source, listing the problem, exit 2', async () => {
    const dir = await harness.tempDir();
    await writeFile(join(dir, 'jaga.yaml'), 'timezone: UTC\n');
    const jaga = startJaga(join(dir, 'jaga.yaml'));
    expect(await jaga.exited).toEqual({ code: 2, signal: null });
    expect(jaga.stderrLines).toEqual([
      `${join(dir, 'jaga.yaml')}:1: sources: no source configured: add a log_folder or app_access source (jaga never falls back to demo data)`,
      '1 problem',
    ]);
  }, 60_000);
});

/**
 * The composition root in process (Agent on an embedded PGlite store, a log folder, file receivers,
 * the HTTP endpoint on a free port) with a shifted wall clock:
 * - escalation configured ONCE (the `escalation:` section: timing + receiver) fires once to its
 *   receiver, and not again after a restart;
 * - /metrics shows the periodic gauges (open incidents, outbox, source up/lag), events by kind and
 *   the time-to-acknowledge histogram after an ack through the API;
 * - the access ledger commits with the checkpoints, so `jaga report access --data-dir` reports the
 *   daemon's counts once (a restart replays nothing, counts nothing twice);
 * - while the daemon holds the embedded store, `jaga incidents` and `jaga token` reach it over its
 *   API (daemon.json, mode 0600); after it stopped, `jaga incidents resolve --config` notifies.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentsCommand } from '../../src/cli/incidents-command.js';
import { reportCommand } from '../../src/cli/report-command.js';
import { tokenCommand } from '../../src/cli/token-command.js';
import { loadConfigFile } from '../../src/config/load-config-file.js';
import { openStore } from '../../src/db/open-store.js';
import { TokenRepository } from '../../src/http/token-repository.js';
import { createSilentLogger } from '../../src/observe/logger.js';
import { Agent } from '../../src/pipeline/agent.js';

const PREFIX = '%m [%p] %q%u@%d %r %a: ';
const MINUTE_MS = 60_000;
/** the log's events happen at 00:00:0x; the agent's clock starts at 00:05 of that day */
const CLOCK_START = Date.parse('2026-01-01T00:05:00.000Z');

let dir = '';
/** wall clock of the agent: real time shifted, so intervals still elapse; advanced by tests */
let offsetMs = 0;
const now = (): Date => new Date(Date.now() + offsetMs);

function auditLine(second: number, user: string, table: string): string {
  return `2026-01-01 00:00:${String(second).padStart(2, '0')}.000 UTC [${200 + second}] ${user}@crm 10.0.0.5(5000) psql: LOG:  AUDIT: SESSION,${second},1,READ,SELECT,TABLE,${table},SELECT * FROM ${table.replace('public.', '')},<none>\n`;
}

async function waitFor<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function lines(file: string): Promise<{ notification: { receiver: string; items: { change: string; escalation_step: number | null; incident_id: number }[] } }[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
}

/** `name{labels} value` of the exposition, or null when absent. */
function sample(metrics: string, series: string): number | null {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

async function startAgent(): Promise<{ agent: Agent; done: Promise<void>; url: string }> {
  const config = await loadConfigFile(join(dir, 'jaga.yaml'), {}, { requireSources: true });
  const agent = new Agent(config, { logger: createSilentLogger(), now, version: '9.9.9-test', metricsIntervalMs: 100, rulePollIntervalMs: 60_000 });
  const done = agent.start();
  done.catch(() => undefined);
  const url = await waitFor('the HTTP endpoint', async () => agent.url);
  return { agent, done, url };
}

/** Runs a CLI command in process; returns its exit code and stdout lines. */
async function cli(command: (args: string[], deps: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }) => Promise<number>, args: string[]): Promise<{ code: number; out: string[]; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  const code = await command(args, { stdout, stderr });
  return { code, out: out.join('').split('\n').filter((line) => line !== ''), err: err.join('') };
}

async function metricsOf(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jaga-agent-run-'));
  await mkdir(join(dir, 'logs'));
  await mkdir(join(dir, 'rules'));
  await writeFile(
    join(dir, 'rules', 'read.yaml'),
    [
      'schema: jaga/rules/v1',
      'id: t.customers_read',
      'title: Customers read',
      'description: Any read of the customers table (a test rule).',
      'severity: high',
      'type: match',
      'match:',
      '  sel:',
      '    kind: audit',
      '    audit.object_name: public.customers',
      'group_by: [user]',
      'suppress: 1h',
      '',
    ].join('\n'),
  );
  // 3 reads of customers (catalogued) and 2 of orders (not catalogued) by analyst
  await writeFile(join(dir, 'logs', 'postgresql.log'), [1, 2, 3].map((s) => auditLine(s, 'analyst', 'public.customers')).join('') + [4, 5].map((s) => auditLine(s, 'analyst', 'public.orders')).join(''));
  await writeFile(
    join(dir, 'jaga.yaml'),
    [
      'rules: [rules]',
      'catalog: { tables: { public.customers: { classes: [pii] } } }',
      'agent: { name: agent-test }',
      'store: { data_dir: data }',
      'sources:',
      `  - { name: pg, type: log_folder, path: logs, format: stderr, log_line_prefix: ${JSON.stringify(PREFIX)}, start_at: beginning, server: crm }`,
      'pipeline: { commit_interval: 100ms, jobs_interval: 100ms }',
      'http: { listen: "127.0.0.1:0" }',
      'receivers:',
      '  ops: { type: file, path: ops.jsonl }',
      '  pager: { type: file, path: pager.jsonl }',
      'routes: [{ receivers: [ops] }]',
      'escalation: { steps: [{ after: { high: 15m }, receivers: [pager] }] }',
      'notify: { poll_interval: 100ms }',
      'shutdown_timeout: 20s',
      '',
    ].join('\n'),
  );
  // a responder token, made before the daemon holds the embedded store
  const store = await openStore({ dataDir: join(dir, 'data'), logger: createSilentLogger() });
  await new TokenRepository(store).create('tester', 'responder', new Date(CLOCK_START));
  await store.close();
  offsetMs = CLOCK_START - Date.now();
}, 120_000);

afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('Agent (embedded store, in process)', () => {
  it('escalates once to the escalation receiver across a restart, shows the gauges on /metrics, and commits the access ledger with the checkpoints', async () => {
    const first = await startAgent();
    const opened = await waitFor('the opened notification', async () => ((await lines(join(dir, 'ops.jsonl'))).length > 0 ? lines(join(dir, 'ops.jsonl')) : null));
    expect(opened.map((l) => l.notification.items.map((i) => i.change))).toEqual([['opened']]);
    const incidentId = opened[0]!.notification.items[0]!.incident_id;

    // the periodic refresh: one open high incident, nothing waiting in the outbox, the source up and read to its end
    const gauges = await waitFor('the refreshed gauges', async () => {
      const text = await metricsOf(first.url);
      return sample(text, 'jaga_open_incidents{severity="high",status="open"}') === 1 && sample(text, 'jaga_outbox_depth{receiver="ops"}') === 0 ? text : null;
    });
    expect(sample(gauges, 'jaga_open_incidents{severity="critical",status="open"}')).toBe(0);
    expect(sample(gauges, 'jaga_outbox_depth{receiver="pager"}')).toBe(0);
    expect(sample(gauges, 'jaga_outbox_oldest_age_seconds{receiver="ops"}')).toBe(0);
    expect(sample(gauges, 'jaga_source_up{source="pg"}')).toBe(1);
    expect(sample(gauges, 'jaga_source_lag_bytes{source="pg"}')).toBe(0);
    expect(sample(gauges, 'jaga_events_total{source="pg",kind="audit"}')).toBe(5);
    expect(sample(gauges, 'jaga_events_total{source="pg",kind="error"}')).toBe(0);
    // every byte of the log file was read once
    expect(sample(gauges, 'jaga_source_read_bytes_total{source="pg"}')).toBe((await stat(join(dir, 'logs', 'postgresql.log'))).size);
    expect(sample(gauges, 'jaga_build_info{version="9.9.9-test"}')).toBe(1);
    expect(sample(gauges, 'jaga_rules_loaded')).toBe(1);

    // 16 minutes later nobody acknowledged: step 1 (high after 15m) goes to pager, once
    offsetMs += 16 * MINUTE_MS;
    const escalated = await waitFor('the escalation', async () => ((await lines(join(dir, 'pager.jsonl'))).length > 0 ? lines(join(dir, 'pager.jsonl')) : null));
    expect(escalated.map((l) => l.notification.items.map((i) => [i.change, i.escalation_step, i.incident_id]))).toEqual([[['escalated', 1, incidentId]]]);
    expect(await first.agent.stop(20_000)).toBe('stopped');
    await first.done;

    // restart later still: the step is not fired again; an ack through the API is timed
    offsetMs += 4 * MINUTE_MS;
    const second = await startAgent();
    const dataDir = join(dir, 'data');
    expect((await stat(join(dataDir, 'daemon.json'))).mode & 0o777).toBe(0o600);
    // the store is locked by the daemon: the CLI goes through its API
    const listed = await cli(incidentsCommand, ['list', '--data-dir', dataDir]);
    expect(listed.code).toBe(0);
    expect(listed.out.map((line) => (JSON.parse(line) as { id: number; status: string }).status)).toEqual(['open']);
    const acked1 = await cli(incidentsCommand, ['ack', '--data-dir', dataDir, String(incidentId), '--note', 'looking']);
    expect(acked1.code).toBe(0);
    const ackLine = JSON.parse(acked1.out[0]!) as { change_id: string | null; kind: string; actor: string; incident: { id: number; status: string } };
    expect([ackLine.change_id, ackLine.kind, ackLine.actor, ackLine.incident.id, ackLine.incident.status]).toEqual([null, 'acknowledged', 'responder:local-cli', incidentId, 'acknowledged']);
    expect((await cli(incidentsCommand, ['ack', '--data-dir', dataDir, String(incidentId)])).code).toBe(1); // already acknowledged: 409
    const tokens = await cli(tokenCommand, ['list', '--data-dir', dataDir]);
    expect(tokens.code).toBe(0);
    expect(tokens.out.map((line) => (JSON.parse(line) as { name: string; role: string; revoked_at: string | null })).filter((t) => t.revoked_at === null).map((t) => [t.name, t.role])).toEqual([
      ['local-cli', 'admin'],
      ['tester', 'responder'],
    ]);
    const viaApiToken = await cli(tokenCommand, ['create', '--data-dir', dataDir, '--name', 'grafana', '--role', 'viewer']);
    expect(viaApiToken.code).toBe(0);
    expect(viaApiToken.out[0]).toMatch(/^jaga_/);
    const acked = await waitFor('the acknowledged gauge', async () => {
      const text = await metricsOf(second.url);
      return sample(text, 'jaga_open_incidents{severity="high",status="acknowledged"}') === 1 ? text : null;
    });
    expect(sample(acked, 'jaga_open_incidents{severity="high",status="open"}')).toBe(0);
    expect(sample(acked, 'jaga_time_to_acknowledge_seconds_count{severity="high"}')).toBe(1);
    // opened at the first commit (clock ~00:05), acknowledged ~20 minutes later: in the 1800 s bucket, not the 900 s one
    expect(sample(acked, 'jaga_time_to_acknowledge_seconds_bucket{le="900",severity="high"}')).toBe(0);
    expect(sample(acked, 'jaga_time_to_acknowledge_seconds_bucket{le="1800",severity="high"}')).toBe(1);
    // the restarted agent read nothing again (checkpoints) and counted no event
    expect(sample(acked, 'jaga_events_total{source="pg",kind="audit"}')).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 500)); // several jobs rounds
    expect(await second.agent.stop(20_000)).toBe('stopped');
    await second.done;
    expect((await lines(join(dir, 'pager.jsonl'))).length).toBe(1);
    await expect(stat(join(dataDir, 'daemon.json'))).rejects.toThrow(/ENOENT/);

    // no daemon now: with --config the CLI resolves AND notifies (outbox rows in the same transaction)
    const resolved = await cli(incidentsCommand, ['resolve', '--config', join(dir, 'jaga.yaml'), String(incidentId), '--as', 'alice']);
    expect(resolved.code).toBe(0);
    expect((JSON.parse(resolved.out[0]!) as { actor: string; kind: string }).kind).toBe('resolved');

    const store = await openStore({ dataDir: join(dir, 'data'), logger: createSilentLogger() });
    try {
      expect(await store.query("SELECT receiver, count(*)::int AS n FROM jaga_outbox WHERE receiver = 'pager' GROUP BY receiver")).toEqual([{ receiver: 'pager', n: 1 }]);
      expect(await store.query('SELECT step FROM jaga_incident_escalation')).toEqual([{ step: 1 }]);
      // opened (routed to ops), escalated (pager), resolved by the CLI (ops, waiting for the next daemon)
      expect(await store.query("SELECT receiver, status, payload->'items'->0->>'change' AS kind FROM jaga_outbox ORDER BY created_at, id")).toEqual([
        { receiver: 'ops', status: 'delivered', kind: 'opened' },
        { receiver: 'pager', status: 'delivered', kind: 'escalated' },
        { receiver: 'ops', status: 'pending', kind: 'resolved' },
      ]);
      expect(await store.query("SELECT name FROM jaga_http_token WHERE revoked_at IS NULL ORDER BY name")).toEqual([{ name: 'grafana' }, { name: 'tester' }]);
    } finally {
      await store.close();
    }

    // the ledger the daemon committed: 3 reads of the catalogued table, the uncatalogued one not counted
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    expect(await reportCommand(['access', '--data-dir', join(dir, 'data'), '--until', '2026-01-01', '--format', 'csv'], { stdout: out, stderr: new PassThrough() })).toBe(0);
    const csv = chunks.join('').trim().split('\n');
    expect(csv.slice(1)).toEqual(['2026-01-01,analyst,public.customers,10.0.0.5,pii,3,0,0,0,SELECT=3,true']);
  }, 120_000);
});

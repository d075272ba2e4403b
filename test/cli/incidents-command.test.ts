/**
 * `jaga incidents list|show|ack|resolve|export` against a populated store, on PostgreSQL (--store URL)
 * and the embedded store (--data-dir DIR), with an injected clock and OS user. The tests of one driver
 * run in order on one store: list and show first, then ack/resolve, then the export shows what was done.
 */
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/cli-error.js';
import { incidentsCommand } from '../../src/cli/incidents-command.js';
import { openStore } from '../../src/db/open-store.js';
import type { IncidentJson } from '../../src/domain/incident.js';
import { DRIVERS, useStoreHarness } from '../db/store-harness.js';
import { detection } from '../incidents/detection-factory.js';
import { alice, service } from '../incidents/service-fixtures.js';

const harness = useStoreHarness();
const NOW = new Date('2026-01-03T23:00:00.000Z');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function jaga(args: string[]): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  const code = await incidentsCommand(args, { stdout, stderr, now: () => NOW, osUser: () => 'carol' });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const lines = (run: Run): IncidentJson[] => run.stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as IncidentJson);

const PII = detection({
  id: 'pii-1',
  detectorId: 'jaga.data.bulk_read',
  title: 'Bulk read of customer data',
  severity: 'critical',
  group: { user: 'app_ro' },
  groupKey: '{"user":"app_ro"}',
  entity: { user: 'app_ro', database: 'crm', client_addr: '10.0.0.9', application_name: 'psql' },
  dataClasses: ['pii'],
  summary: 'app_ro read 5000 rows of public.customers',
  lastSeen: '2026-01-01T00:00:30.000Z',
});

describe.each(DRIVERS)('jaga incidents on %s', (driver) => {
  let storeArgs: string[];
  let pii: number;
  let brute: number;
  beforeAll(async () => {
    const target = await harness.target(driver);
    storeArgs = target.url !== undefined ? ['--store', target.url] : ['--data-dir', target.dataDir];
    const store = await openStore(target);
    try {
      const incidents = service(store);
      const changes = await store.transaction((tx) => incidents.applyDetections(tx, [PII, detection()], new Date('2026-01-01T00:02:00.000Z')));
      [pii, brute] = [changes[0]!.incident.id, changes[1]!.incident.id];
      await store.transaction((tx) => incidents.acknowledge(tx, brute, alice('checking with the DBA team'), new Date('2026-01-01T00:10:00.000Z')));
    } finally {
      await store.close();
    }
  });

  it('list prints one list-shape line per incident, most recent activity first, and filters by status, severity, detector and since', async () => {
    const all = await jaga(['list', ...storeArgs]);
    expect([all.code, all.stderr]).toEqual([0, '']);
    expect(lines(all).map((i) => [i.id, i.detector, i.status, i.version, i.severity, i.count])).toEqual([
      [brute, 'jaga.auth.brute_force', 'acknowledged', 2, 'high', 10],
      [pii, 'jaga.data.bulk_read', 'open', 1, 'critical', 10],
    ]);
    expect(lines(await jaga(['list', ...storeArgs, '--status', 'open', '--status', 'resolved'])).map((i) => i.id)).toEqual([pii]);
    expect(lines(await jaga(['list', ...storeArgs, '--severity', 'high'])).map((i) => i.id)).toEqual([brute]);
    expect(lines(await jaga(['list', ...storeArgs, '--detector', 'jaga.data.bulk_read'])).map((i) => i.id)).toEqual([pii]);
    // --since 48h from 2026-01-03T23:00Z is 2026-01-01T23:00Z: both incidents were last seen before
    expect(await jaga(['list', ...storeArgs, '--since', '48h'])).toEqual({ code: 0, stdout: '', stderr: 'jaga incidents list: no incident matches (0 lines)\n' });
    expect(lines(await jaga(['list', ...storeArgs, '--since', '2026-01-01T00:00:45Z'])).map((i) => i.id)).toEqual([brute]);
    // valid calendar edges: the last day of a year and a leap day
    expect(lines(await jaga(['list', ...storeArgs, '--since', '2025-12-31T23:59:59Z'])).map((i) => i.id)).toEqual([brute, pii]);
    expect(await jaga(['list', ...storeArgs, '--since', '2028-02-29T00:00:00Z'])).toEqual({ code: 0, stdout: '', stderr: 'jaga incidents list: no incident matches (0 lines)\n' });
  });

  it('list and export --detector with an id no rule and no incident has: exit 2 naming the closest rule ids', async () => {
    expect(await jaga(['list', ...storeArgs, '--detector', 'jaga.auth.brute_forse'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'jaga incidents list: unknown detector "jaga.auth.brute_forse" (did you mean "jaga.auth.brute_force"?): no rule has this id and no incident in the store names it\n',
    });
    expect((await jaga(['list', ...storeArgs, '--detector', 'spraying'])).stderr).toBe(
      'jaga incidents list: unknown detector "spraying" (did you mean "jaga.auth.password_spraying"?): no rule has this id and no incident in the store names it\n',
    );
    expect((await jaga(['list', ...storeArgs, '--detector', 'jaga.auth'])).stderr).toBe(
      'jaga incidents list: unknown detector "jaga.auth" (did you mean "jaga.auth.attack_tool", "jaga.auth.brute_force" or "jaga.auth.new_role"?): no rule has this id and no incident in the store names it\n',
    );
    const exported = await jaga(['export', ...storeArgs, '--format', 'json', '--detector', 'nothing-like-it']);
    expect(exported).toEqual({ code: 2, stdout: '', stderr: 'jaga incidents export: unknown detector "nothing-like-it": no rule has this id and no incident in the store names it\n' });
  });

  it('list --detector with a known rule id that has no incident: the usual note, exit 0; an id only the store knows is listed', async () => {
    expect(await jaga(['list', ...storeArgs, '--detector', 'jaga.auth.password_spraying'])).toEqual({ code: 0, stdout: '', stderr: 'jaga incidents list: no incident matches (0 lines)\n' });
    // jaga.data.bulk_read is no shipped rule's id, but incidents name it
    expect(lines(await jaga(['list', ...storeArgs, '--detector', 'jaga.data.bulk_read'])).map((i) => i.id)).toEqual([pii]);
  });

  it('show prints the detail, the deadlines with the time left at now, and the timeline', async () => {
    const run = await jaga(['show', ...storeArgs, String(pii)]);
    expect([run.code, run.stderr]).toEqual([0, '']);
    const shown = JSON.parse(run.stdout) as { incident: Record<string, unknown>; deadlines: unknown[]; timeline: unknown[] };
    expect(Object.keys(shown)).toEqual(['incident', 'deadlines', 'timeline']);
    expect(shown.incident).toMatchObject({ id: pii, status: 'open', data_classes: ['pii'], acknowledged_at: null, resolved_by: null, created_at: '2026-01-01T00:02:00.000Z' });
    expect(shown.deadlines).toEqual([
      { name: 'gdpr_art33', title: 'GDPR Art. 33: notify the supervisory authority', due_at: '2026-01-04T00:00:00.000Z', within_ms: 259_200_000, left_ms: 3_600_000 },
      { name: 'uu_pdp_art46', title: 'UU PDP Art. 46: notify data subjects and the authority', due_at: '2026-01-04T00:00:00.000Z', within_ms: 259_200_000, left_ms: 3_600_000 },
    ]);
    expect(shown.timeline).toEqual([
      { change_id: expect.stringMatching(/^[0-9a-f]{32}$/), kind: 'opened', actor: 'rule:jaga.data.bulk_read', at: '2026-01-01T00:02:00.000Z', note: null, detail: { detection_id: 'pii-1', count_delta: 10, count: 10, severity: 'critical' } },
    ]);
    expect(await jaga(['show', ...storeArgs, '999999'])).toEqual({ code: 1, stdout: '', stderr: 'jaga incidents show: incident 999999 does not exist\n' });
  });

  it('ack and resolve record the change with actor responder:NAME (default the OS user), note and version; conflicts and wrong states exit 1', async () => {
    const ack = await jaga(['ack', ...storeArgs, String(pii), '--as', 'bob', '--note', 'called the app owner', '--version', '1']);
    expect([ack.code, ack.stderr]).toEqual([0, '']);
    const line = JSON.parse(ack.stdout) as { change_id: string; kind: string; actor: string; at: string; incident: IncidentJson };
    expect([Object.keys(line), line.kind, line.actor, line.at, line.incident.id, line.incident.status, line.incident.version]).toEqual([
      ['change_id', 'kind', 'actor', 'at', 'incident'],
      'acknowledged',
      'responder:bob',
      '2026-01-03T23:00:00.000Z',
      pii,
      'acknowledged',
      2,
    ]);
    expect(await jaga(['ack', ...storeArgs, String(pii)])).toEqual({ code: 1, stdout: '', stderr: `jaga incidents ack: cannot acknowledge incident ${pii}: it is already acknowledged\n` });
    expect(await jaga(['resolve', ...storeArgs, String(pii), '--version', '1'])).toEqual({
      code: 1,
      stdout: '',
      stderr: `jaga incidents resolve: incident ${pii} is at version 2, not 1: reload it and try again\n`,
    });
    const resolved = await jaga(['resolve', ...storeArgs, String(pii), '--note', 'access revoked, credentials rotated']);
    expect([resolved.code, (JSON.parse(resolved.stdout) as { actor: string }).actor, (JSON.parse(resolved.stdout) as { incident: IncidentJson }).incident.status]).toEqual([0, 'responder:carol', 'resolved']);
  });

  it('export writes the breach register as CSV and as JSON lines, oldest incident first, with what was done', async () => {
    const csv = await jaga(['export', ...storeArgs]);
    expect([csv.code, csv.stderr]).toEqual([0, '']);
    const [first, second] = [Math.min(pii, brute), Math.max(pii, brute)];
    const row = (id: number): string =>
      id === pii
        ? `${pii},jaga.data.bulk_read,Bulk read of customer data,critical,resolved,db1,app_ro,crm,10.0.0.9,2026-01-01T00:00:00.000Z,2026-01-01T00:00:30.000Z,10,pii,` +
          `gdpr_art33=2026-01-04T00:00:00.000Z;uu_pdp_art46=2026-01-04T00:00:00.000Z,2026-01-03T23:00:00.000Z,responder:bob,2026-01-03T23:00:00.000Z,responder:carol,,` +
          `app_ro read 5000 rows of public.customers,"2026-01-03T23:00:00.000Z responder:bob acknowledged: called the app owner\n2026-01-03T23:00:00.000Z responder:carol resolved: access revoked, credentials rotated"`
        : `${brute},jaga.auth.brute_force,Brute force against a role,high,acknowledged,db1,dba_admin,crm,10.0.0.5,2026-01-01T00:00:00.000Z,2026-01-01T00:01:00.000Z,10,,,` +
          `2026-01-01T00:10:00.000Z,responder:alice,,,,10 failed logins for dba_admin within 60s,2026-01-01T00:10:00.000Z responder:alice acknowledged: checking with the DBA team`;
    expect(csv.stdout).toBe(
      'incident_id,detector,title,severity,status,server,user,database,client_addr,first_seen,last_seen,count,data_classes,deadlines,' +
        'acknowledged_at,acknowledged_by,resolved_at,resolved_by,previous_incident_id,summary,actions\r\n' +
        `${row(first)}\r\n${row(second)}\r\n`,
    );
    const json = await jaga(['export', ...storeArgs, '--format', 'json', '--status', 'resolved']);
    expect(json.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown)).toEqual([
      {
        incident_id: pii,
        detector: 'jaga.data.bulk_read',
        title: 'Bulk read of customer data',
        severity: 'critical',
        status: 'resolved',
        server: 'db1',
        user: 'app_ro',
        database: 'crm',
        client_addr: '10.0.0.9',
        first_seen: '2026-01-01T00:00:00.000Z',
        last_seen: '2026-01-01T00:00:30.000Z',
        count: 10,
        data_classes: ['pii'],
        deadlines: [
          { name: 'gdpr_art33', title: 'GDPR Art. 33: notify the supervisory authority', due_at: '2026-01-04T00:00:00.000Z' },
          { name: 'uu_pdp_art46', title: 'UU PDP Art. 46: notify data subjects and the authority', due_at: '2026-01-04T00:00:00.000Z' },
        ],
        acknowledged_at: '2026-01-03T23:00:00.000Z',
        acknowledged_by: 'responder:bob',
        resolved_at: '2026-01-03T23:00:00.000Z',
        resolved_by: 'responder:carol',
        previous_incident_id: null,
        summary: 'app_ro read 5000 rows of public.customers',
        actions: ['2026-01-03T23:00:00.000Z responder:bob acknowledged: called the app owner', '2026-01-03T23:00:00.000Z responder:carol resolved: access revoked, credentials rotated'],
      },
    ]);
  });
});

describe('jaga incidents usage errors', () => {
  it('refuses a missing store, an unknown subcommand or filter value, a bad ID, version or responder name before opening anything', async () => {
    const refused = async (args: string[]): Promise<string> => {
      const error = await jaga(args).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CliError);
      return (error as Error).message;
    };
    expect(await refused(['list'])).toBe('give the store: --store URL (PostgreSQL), --data-dir DIR (embedded) or --config FILE');
    expect(await refused(['purge', '--data-dir', '/x'])).toBe('unknown subcommand "purge": expected list, show, ack, resolve, export');
    expect(await refused(['list', '--data-dir', '/x', '--status', 'closed'])).toBe('--status must be one of open, acknowledged, resolved, not "closed"');
    expect(await refused(['list', '--data-dir', '/x', '--since', 'yesterday'])).toBe('--since must be an ISO-8601 time (2026-01-01T00:00:00Z) or a duration (24h, 7d), not "yesterday"');
    // Date.parse would roll these over to March 2 / December 1 and list everything since then
    expect(await refused(['list', '--data-dir', '/x', '--since', '2026-02-30T00:00:00Z'])).toBe('--since must be an ISO-8601 time (2026-01-01T00:00:00Z) or a duration (24h, 7d), not "2026-02-30T00:00:00Z"');
    expect(await refused(['list', '--data-dir', '/x', '--since', '2026-11-31'])).toBe('--since must be an ISO-8601 time (2026-01-01T00:00:00Z) or a duration (24h, 7d), not "2026-11-31"');
    expect(await refused(['list', '--data-dir', '/x', '--since', '999999999d'])).toBe('--since 999999999d reaches back before any date a time can hold: give a shorter duration or an ISO-8601 time');
    expect(await refused(['show', '--data-dir', '/x', 'abc'])).toBe('ID must be a positive integer, not "abc"');
    expect(await refused(['ack', '--data-dir', '/x', '1', '--version', '0'])).toBe('--version must be a positive integer, not "0"');
    expect(await refused(['ack', '--data-dir', '/x', '1', '--as', 'bob smith'])).toBe('--as must be 1-64 letters, digits or . _ @ -, not "bob smith"');
    expect(await refused(['export', '--data-dir', '/x', '--format', 'xml'])).toBe('--format must be csv or json, not "xml"');
    expect(await refused(['show', '--data-dir', '/x', '1', '--note', 'x'])).toBe('unknown option --note (see --help)');
  });
});

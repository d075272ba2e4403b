/**
 * Acting for another responder through the API: only an admin token's `on_behalf_of` is recorded as the
 * timeline actor (and the relay lands in the admin audit log); any other token acts as itself. The
 * CLI's `jaga incidents ack --as NAME` through a daemon's API (store held, daemon.json) keeps NAME.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentsCommand } from '../../src/cli/incidents-command.js';
import { openStore } from '../../src/db/open-store.js';
import type { Store } from '../../src/db/store.js';
import { writeDaemonHandle } from '../../src/pipeline/daemon-handle.js';
import { detection } from '../incidents/detection-factory.js';
import { bearer, startResponder, type ResponderFixture } from './responder-harness.js';

let fx: ResponderFixture;
let ids: number[];
const raised = (n: number) => Array.from({ length: n }, (_, i) => detection({ id: `det-b${i}`, group: { user: `b${i}` }, groupKey: `{"user":"b${i}"}` }));

beforeAll(async () => {
  fx = await startResponder();
  ids = await fx.raise(raised(5));
});
afterAll(async () => {
  await fx?.close();
});

const act = (id: number, token: string, payload: Record<string, unknown>) =>
  fx.server.app.inject({ method: 'POST', url: `/api/incidents/${id}/ack`, headers: bearer(token), payload });
const timelineActors = async (id: number): Promise<string[]> =>
  ((await fx.server.app.inject({ method: 'GET', url: `/api/incidents/${id}`, headers: bearer(fx.tokens.viewer) })).json().timeline as { actor: string }[]).map((t) => t.actor);

describe('POST /api/incidents/:id/ack with on_behalf_of', () => {
  it('records the named responder for an admin token, and audits the relay', async () => {
    const acked = await act(ids[0]!, fx.tokens.admin, { version: 1, note: 'paged', on_behalf_of: 'bob' });
    expect([acked.statusCode, acked.json().actor, acked.json().incident.status]).toEqual([200, 'responder:bob', 'acknowledged']);
    expect(await timelineActors(ids[0]!)).toEqual(['rule:jaga.auth.brute_force', 'responder:bob']);
    const audit = (await fx.server.app.inject({ method: 'GET', url: '/api/audit', headers: bearer(fx.tokens.admin) })).json().entries as { actor: string; action: string; target: string; detail: unknown }[];
    expect(audit.map((e) => [e.actor, e.action, e.target, e.detail])).toEqual([['responder:root', 'incident_ack_on_behalf', `incident:${ids[0]}`, { on_behalf_of: 'bob' }]]);
  });

  it("records a responder token's own name whatever it names, and answers which actor it recorded", async () => {
    const acked = await act(ids[1]!, fx.tokens.responder, { version: 1, on_behalf_of: 'bob' });
    expect([acked.statusCode, acked.json().actor]).toEqual([200, 'responder:alice']);
    expect(await timelineActors(ids[1]!)).toEqual(['rule:jaga.auth.brute_force', 'responder:alice']);
    const self = await act(ids[2]!, fx.tokens.admin, { version: 1, on_behalf_of: 'root' });
    expect(self.json().actor).toBe('responder:root');
    const audit = (await fx.server.app.inject({ method: 'GET', url: '/api/audit', headers: bearer(fx.tokens.admin) })).json().entries as unknown[];
    expect(audit).toHaveLength(1);
  });

  it('refuses a name outside the token-name pattern (400)', async () => {
    const bad = await act(ids[3]!, fx.tokens.admin, { version: 1, on_behalf_of: 'bob smith' });
    expect([bad.statusCode, bad.json().error.code]).toEqual([400, 'bad_request']);
  });
});

describe('jaga incidents ack --as through a running daemon', () => {
  let dataDir: string;
  let held: Store;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'jaga-on-behalf-'));
    held = await openStore({ dataDir }); // the daemon holds the embedded store: the CLI must use the API
    const url = await fx.server.listen();
    await writeDaemonHandle(dataDir, { url, token: fx.tokens.admin, pid: process.pid, agent: 'test', started_at: new Date().toISOString() });
  });
  afterAll(async () => {
    await held?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('records responder:NAME of --as, and prints that actor', async () => {
    const stdout = new PassThrough();
    const out: string[] = [];
    stdout.on('data', (c: Buffer) => out.push(c.toString()));
    const code = await incidentsCommand(['ack', '--data-dir', dataDir, String(ids[4]), '--as', 'carol', '--note', 'on it'], { stdout, stderr: new PassThrough(), osUser: () => 'root' });
    expect(code).toBe(0);
    const line = JSON.parse(out.join('')) as { change_id: null; kind: string; actor: string; incident: { id: number; acknowledged_by: string } };
    expect([line.change_id, line.kind, line.actor, line.incident.id]).toEqual([null, 'acknowledged', 'responder:carol', ids[4]]);
    expect(await timelineActors(ids[4]!)).toEqual(['rule:jaga.auth.brute_force', 'responder:carol']);
  });
});

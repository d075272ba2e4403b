import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detection } from '../incidents/detection-factory.js';
import { bearer, startResponder, type ResponderFixture } from './responder-harness.js';
import { csrfOf, PageSession } from './page-session.js';

let fx: ResponderFixture;
let incidentId: number;

beforeAll(async () => {
  fx = await startResponder({ http: { auth_failures: { max: 50, window: '1m' } } });
  [incidentId] = (await fx.raise([detection()])) as [number];
});
afterAll(async () => {
  await fx?.close();
});

const get = (url: string, token?: string) => fx.server.app.inject({ method: 'GET', url, headers: token === undefined ? {} : bearer(token) });
const post = (url: string, token: string | undefined, payload: unknown) =>
  fx.server.app.inject({ method: 'POST', url, headers: token === undefined ? {} : bearer(token), payload: payload as Record<string, unknown> });

describe('API auth matrix', () => {
  it('answers 401 with WWW-Authenticate without a token and for a wrong or malformed token', async () => {
    const none = await get('/api/incidents');
    expect([none.statusCode, none.headers['www-authenticate'], none.json().error.code]).toEqual([401, 'Bearer realm="jaga"', 'unauthorized']);
    const wrong = await get('/api/incidents', `jaga_${'A'.repeat(43)}`);
    expect([wrong.statusCode, wrong.json().error.message]).toEqual([401, 'unknown or revoked token']);
    expect((await get('/api/incidents', 'not-a-token')).statusCode).toBe(401);
  });

  it('lets a viewer read the list and one incident with its timeline, but not act (403)', async () => {
    const list = await get('/api/incidents', fx.tokens.viewer);
    expect(list.statusCode).toBe(200);
    expect(list.json().incidents.map((i: { id: number; status: string; version: number }) => [i.id, i.status, i.version])).toEqual([[incidentId, 'open', 1]]);
    const one = await get(`/api/incidents/${incidentId}`, fx.tokens.viewer);
    expect(one.statusCode).toBe(200);
    expect(one.json().timeline.map((t: { kind: string; actor: string }) => [t.kind, t.actor])).toEqual([['opened', 'rule:jaga.auth.brute_force']]);
    expect(one.json().evidence.map((e: { event_id: string }) => e.event_id)).toEqual(['e1', 'e2']);
    const act = await post(`/api/incidents/${incidentId}/ack`, fx.tokens.viewer, { version: 1 });
    expect([act.statusCode, act.json().error.code]).toEqual([403, 'forbidden']);
    expect((await post('/api/silences', fx.tokens.viewer, {})).statusCode).toBe(403);
  });

  it('lets a responder acknowledge with the current version; a stale version is 409 and the timeline names the actor', async () => {
    const [id] = (await fx.raise([detection({ id: 'det-r1', group: { user: 'r1' }, groupKey: '{"user":"r1"}' })])) as [number];
    const acked = await post(`/api/incidents/${id}/ack`, fx.tokens.responder, { version: 1, note: 'on it' });
    expect(acked.statusCode).toBe(200);
    expect([acked.json().incident.status, acked.json().incident.version]).toEqual(['acknowledged', 2]);
    const stale = await post(`/api/incidents/${id}/resolve`, fx.tokens.responder, { version: 1 });
    expect([stale.statusCode, stale.json().error.code]).toEqual([409, 'incident_version_conflict']);
    const again = await post(`/api/incidents/${id}/ack`, fx.tokens.responder, { version: 2 });
    expect([again.statusCode, again.json().error.code]).toEqual([409, 'incident_invalid_state']);
    const resolved = await post(`/api/incidents/${id}/resolve`, fx.tokens.responder, { version: 2 });
    expect([resolved.statusCode, resolved.json().incident.status]).toEqual([200, 'resolved']);
    const reopened = await post(`/api/incidents/${id}/reopen`, fx.tokens.responder, { version: 3 });
    expect([reopened.statusCode, reopened.json().incident.status, reopened.json().incident.version]).toEqual([200, 'open', 4]);
    const timeline = (await get(`/api/incidents/${id}`, fx.tokens.viewer)).json().timeline as { kind: string; actor: string; note: string | null }[];
    expect(timeline.map((t) => [t.kind, t.actor, t.note])).toEqual([
      ['opened', 'rule:jaga.auth.brute_force', null],
      ['acknowledged', 'responder:alice', 'on it'],
      ['resolved', 'responder:alice', null],
      ['reopened', 'responder:alice', null],
    ]);
  });

  it('answers 404 for an unknown incident, 400 for an id that is not one or a body without version, 404 for an unknown action', async () => {
    expect((await get('/api/incidents/999', fx.tokens.viewer)).statusCode).toBe(404);
    const notAnId = await get('/api/incidents/abc', fx.tokens.viewer);
    expect([notAnId.statusCode, notAnId.json().error.code]).toEqual([400, 'bad_request']);
    expect((await post('/api/incidents/0/ack', fx.tokens.responder, { version: 1 })).statusCode).toBe(400);
    const missing = await post('/api/incidents/999/ack', fx.tokens.responder, { version: 1 });
    expect([missing.statusCode, missing.json().error.code]).toEqual([404, 'incident_not_found']);
    expect((await post(`/api/incidents/${incidentId}/ack`, fx.tokens.responder, { note: 'x' })).statusCode).toBe(400);
    expect((await post(`/api/incidents/${incidentId}/delete`, fx.tokens.responder, { version: 1 })).statusCode).toBe(404);
  });

  it('keeps token management and key rotation to admins (403 for a responder) and audits them', async () => {
    expect((await get('/api/tokens', fx.tokens.responder)).statusCode).toBe(403);
    expect((await post('/api/link-keys/rotate', fx.tokens.responder, {})).statusCode).toBe(403);
    const created = await post('/api/tokens', fx.tokens.admin, { name: 'bob', role: 'viewer' });
    expect(created.statusCode).toBe(201);
    const bobToken = created.json().token as string;
    expect(bobToken).toMatch(/^jaga_[A-Za-z0-9_-]{43}$/);
    expect((await get('/api/incidents', bobToken)).statusCode).toBe(200);
    expect((await post('/api/tokens', fx.tokens.admin, { name: 'bob', role: 'admin' })).statusCode).toBe(409);
    const revoked = await fx.server.app.inject({ method: 'DELETE', url: '/api/tokens/bob', headers: bearer(fx.tokens.admin) });
    expect([revoked.statusCode, revoked.json().name]).toEqual([200, 'bob']);
    expect((await get('/api/incidents', bobToken)).statusCode).toBe(401);
    const rotated = await post('/api/link-keys/rotate', fx.tokens.admin, {});
    expect(rotated.statusCode).toBe(200);
    const audit = (await get('/api/audit', fx.tokens.admin)).json().entries as { actor: string; action: string; target: string }[];
    expect(audit.map((e) => [e.action, e.target, e.actor])).toEqual([
      ['link_key_rotate', `link_key:${rotated.json().key_id}`, 'responder:root'],
      ['token_revoke', 'token:bob', 'responder:root'],
      ['token_create', 'token:bob', 'responder:root'],
    ]);
    const names = (await get('/api/tokens', fx.tokens.admin)).json().tokens.map((t: { name: string; revoked_at: string | null }) => [t.name, t.revoked_at !== null]);
    expect(names).toEqual([['alice', false], ['root', false], ['viewer', false], ['bob', true]]);
  });

  it('validates list filters (400) and applies them', async () => {
    expect((await get('/api/incidents?status=closed', fx.tokens.viewer)).statusCode).toBe(400);
    expect((await get('/api/incidents?limit=0', fx.tokens.viewer)).statusCode).toBe(400);
    expect((await get('/api/incidents?since=yesterday', fx.tokens.viewer)).statusCode).toBe(400);
    // impossible calendar days (Date.parse would roll them over) are 400 naming the parameter
    const rolled = await get('/api/incidents?since=2026-02-30T00:00:00Z', fx.tokens.viewer);
    expect([rolled.statusCode, rolled.json()]).toEqual([400, { error: { code: 'bad_request', message: 'since must be an ISO-8601 time, e.g. 2026-01-01T00:00:00Z' } }]);
    const until = await get('/api/incidents?until=2026-11-31', fx.tokens.viewer);
    expect([until.statusCode, until.json()]).toEqual([400, { error: { code: 'bad_request', message: 'until must be an ISO-8601 time, e.g. 2026-01-01T00:00:00Z' } }]);
    const leap = await get('/api/incidents?since=2028-02-29T00:00:00Z', fx.tokens.viewer);
    expect([leap.statusCode, leap.json().incidents]).toEqual([200, []]);
    const ids = (response: { json: () => { incidents: { id: number }[] } }): number[] => response.json().incidents.map((i) => i.id);
    const yearEnd = await get('/api/incidents?since=2025-12-31T00:00:00Z&until=2026-12-31T23:59:59Z', fx.tokens.viewer);
    expect([yearEnd.statusCode, ids(yearEnd)]).toEqual([200, ids(await get('/api/incidents', fx.tokens.viewer))]);
    expect(ids(yearEnd)).toContain(incidentId);
    const open = (await get('/api/incidents?status=open&severity=high,critical&detector=jaga.auth.brute_force', fx.tokens.viewer)).json().incidents;
    expect(open.every((i: { status: string }) => i.status === 'open')).toBe(true);
    expect(open.map((i: { id: number }) => i.id)).toContain(incidentId);
    expect((await get('/api/incidents?severity=low', fx.tokens.viewer)).json().incidents).toEqual([]);
    expect((await get('/api/incidents?limit=1', fx.tokens.viewer)).json().incidents).toHaveLength(1);
  });
});

describe('silences API', () => {
  it('creates (201, audited), lists and expires a silence; rejects one without matchers (400)', async () => {
    const created = await post('/api/silences', fx.tokens.responder, { matchers: { detector: 'jaga.auth.*' }, duration: '2h', reason: 'maintenance' });
    expect(created.statusCode).toBe(201);
    const silence = created.json().silence;
    expect([silence.author, silence.reason, silence.state, silence.starts_at, silence.ends_at]).toEqual([
      'responder:alice', 'maintenance', 'active', '2026-01-01T01:00:00.000Z', '2026-01-01T03:00:00.000Z',
    ]);
    const rolled = await post('/api/silences', fx.tokens.responder, { matchers: { detector: 'jaga.auth.*' }, ends_at: '2026-02-30T00:00:00Z', reason: 'x' });
    expect([rolled.statusCode, rolled.json()]).toEqual([400, { error: { code: 'bad_request', message: 'body must be {"matchers": {...}, "ends_at" or "duration", "reason"}' } }]);
    const empty = await post('/api/silences', fx.tokens.responder, { matchers: {}, duration: '2h', reason: 'x' });
    expect([empty.statusCode, empty.json().error.message]).toEqual([400, 'a silence needs at least one matcher (it would mute everything)']);
    const listed = (await get('/api/silences', fx.tokens.viewer)).json().silences.map((s: { id: number }) => s.id);
    expect(listed).toEqual([silence.id]);
    const expired = await fx.server.app.inject({ method: 'DELETE', url: `/api/silences/${silence.id}`, headers: bearer(fx.tokens.responder) });
    expect([expired.statusCode, expired.json().silence.state, expired.json().silence.expired_by]).toEqual([200, 'expired', 'responder:alice']);
    expect((await get('/api/silences', fx.tokens.viewer)).json().silences).toEqual([]);
    const audit = (await get('/api/audit', fx.tokens.admin)).json().entries.slice(0, 2) as { action: string; target: string; actor: string }[];
    expect(audit.map((e) => [e.action, e.target, e.actor])).toEqual([
      ['silence_expire', `silence:${silence.id}`, 'responder:alice'],
      ['silence_create', `silence:${silence.id}`, 'responder:alice'],
    ]);
    expect((await fx.server.app.inject({ method: 'DELETE', url: '/api/silences/9999', headers: bearer(fx.tokens.responder) })).statusCode).toBe(404);
  });
});

describe('signed one-click links', () => {
  it('GET shows a confirm page without acting; the POST acts once (reuse 410); no CSRF token 403', async () => {
    const [id] = (await fx.raise([detection({ id: 'det-l1', group: { user: 'l1' }, groupKey: '{"user":"l1"}' })])) as [number];
    const url = fx.server.links.actionUrl(id, 'ack', 'n0tification1');
    const path = new URL(url).pathname;
    const session = new PageSession(fx.server.app);
    const confirm = await session.get(path);
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain(`Acknowledge incident #${id}?`);
    expect((await get(`/api/incidents/${id}`, fx.tokens.viewer)).json().status).toBe('open');
    expect((await session.post(path, { note: 'x' })).statusCode).toBe(403);
    const acted = await session.post(path, { _csrf: csrfOf(confirm.body), note: 'from slack' });
    expect(acted.statusCode).toBe(200);
    expect(acted.body).toContain(`Incident #${id} is now acknowledged.`);
    const detail = (await get(`/api/incidents/${id}`, fx.tokens.viewer)).json();
    expect(detail.timeline.at(-1)).toMatchObject({ kind: 'acknowledged', actor: 'responder:link:n0tification1', note: 'from slack' });
    expect((await session.post(path, { _csrf: csrfOf(confirm.body) })).statusCode).toBe(410);
    expect((await session.get(path)).statusCode).toBe(410);
  });

  it('answers 410 for an expired link and 404 for a forged one', async () => {
    const [id] = (await fx.raise([detection({ id: 'det-l2', group: { user: 'l2' }, groupKey: '{"user":"l2"}' })])) as [number];
    const path = new URL(fx.server.links.actionUrl(id, 'resolve', 'n2')).pathname;
    const forged = `${path.slice(0, -3)}${path.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    expect((await get(forged)).statusCode).toBe(404);
    fx.clock.advance(7 * 86_400_000);
    try {
      expect((await get(path)).statusCode).toBe(410);
    } finally {
      fx.clock.advance(-7 * 86_400_000);
    }
  });

  it('keeps links of a rotated key working until they expire, then refuses the key', async () => {
    const [id] = (await fx.raise([detection({ id: 'det-l3', group: { user: 'l3' }, groupKey: '{"user":"l3"}' })])) as [number];
    const oldPath = new URL(fx.server.links.actionUrl(id, 'ack', 'n3')).pathname;
    const oldKey = fx.server.links.keyInfo().find((k) => k.retiredAt === null)!.id;
    const { keyId, retired } = await fx.server.links.rotate(fx.clock.now());
    expect(retired).toEqual([oldKey]);
    expect(keyId).not.toBe(oldKey);
    expect((await get(oldPath)).statusCode).toBe(200);
    const verdict = await fx.server.links.verify(oldPath.split('/').at(-1)!, new Date(fx.clock.now().getTime() + 7 * 86_400_000 + 1000));
    expect(verdict).toEqual({ ok: false, reason: 'unknown_key' });
    const newToken = fx.server.links.sign(id, 'ack', 'n4', fx.clock.now());
    const check = await fx.server.links.verify(newToken, fx.clock.now());
    expect(check.ok && [check.claims.keyId, check.claims.incidentId, check.claims.action, check.claims.notificationId]).toEqual([keyId, id, 'ack', 'n4']);
  });
});

describe('web page', () => {
  it('signs in to an HttpOnly SameSite=Strict session, escapes incident text, acts with CSRF and version', async () => {
    const [id] = (await fx.raise([detection({ id: 'det-p1', title: '<script>alert(1)</script> & "x"', group: { user: 'p1' }, groupKey: '{"user":"p1"}' })])) as [number];
    const session = new PageSession(fx.server.app);
    expect((await session.get('/ui/incidents')).headers.location).toBe('/ui/sign-in');
    const signedIn = await session.signIn(fx.tokens.responder);
    expect([signedIn.statusCode, signedIn.headers.location]).toEqual([303, '/ui/incidents']);
    const setCookie = ([] as string[]).concat(signedIn.headers['set-cookie'] ?? []).find((c) => c.startsWith('jaga_session='))!;
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Strict/);
    expect(setCookie).not.toMatch(/; Secure/);
    const list = await session.get('/ui/incidents');
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;');
    expect(list.body).not.toContain('<script>');
    expect(list.headers['content-security-policy']).toBe("default-src 'none';style-src 'self';img-src 'self';form-action 'self';frame-ancestors 'none';base-uri 'none'");
    const page = await session.get(`/ui/incidents/${id}`);
    expect(page.body).toContain('<input type="hidden" name="version" value="1">');
    expect((await session.post(`/ui/incidents/${id}/ack`, { version: '1' })).statusCode).toBe(403);
    const stale = await session.post(`/ui/incidents/${id}/ack`, { _csrf: csrfOf(page.body), version: '7' });
    expect(stale.statusCode).toBe(409);
    const acked = await session.post(`/ui/incidents/${id}/ack`, { _csrf: csrfOf(page.body), version: '1', note: 'mine' });
    expect([acked.statusCode, acked.headers.location]).toEqual([303, `/ui/incidents/${id}?done=ack`]);
    const after = await session.get(`/ui/incidents/${id}?done=ack`);
    expect(after.body).toContain('<span class="status" id="status">acknowledged</span>');
    expect(after.body).toContain('<td>acknowledged</td><td>responder:alice</td><td>mine</td>');
    const out = await session.post('/ui/sign-out', { _csrf: csrfOf(after.body) });
    expect(out.headers.location).toBe('/ui/sign-in');
    expect((await session.get('/ui/incidents')).headers.location).toBe('/ui/sign-in');
  });

  it('shows a viewer no action forms and refuses its POST (403); a wrong sign-in token is 401', async () => {
    const session = new PageSession(fx.server.app);
    expect((await session.signIn(`jaga_${'B'.repeat(43)}`)).statusCode).toBe(401);
    await session.signIn(fx.tokens.viewer);
    const page = await session.get(`/ui/incidents/${incidentId}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('action="/ui/incidents/');
    expect((await session.post(`/ui/incidents/${incidentId}/ack`, { _csrf: csrfOf(page.body), version: '1' })).statusCode).toBe(403);
  });
});

describe('health, metrics and headers', () => {
  it('serves /healthz, /readyz from the probe (200 then 503) and /metrics from the registry', async () => {
    expect((await get('/healthz')).json()).toEqual({ ok: true });
    expect((await get('/readyz')).statusCode).toBe(200);
    fx.readiness.ok = false;
    fx.readiness.checks = [{ name: 'store', ok: false, detail: 'unreachable' }];
    try {
      const down = await get('/readyz');
      expect([down.statusCode, down.json()]).toEqual([503, { ok: false, checks: [{ name: 'store', ok: false, detail: 'unreachable' }] }]);
    } finally {
      fx.readiness.ok = true;
    }
    const { Counter } = await import('prom-client');
    new Counter({ name: 'jaga_test_http_total', help: 'test', registers: [fx.registry] }).inc(3);
    const metrics = await get('/metrics');
    expect(metrics.body).toContain('jaga_test_http_total 3');
    expect(metrics.headers['x-content-type-options']).toBe('nosniff');
    expect(metrics.headers['x-frame-options']).toBe('SAMEORIGIN');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthFailureLimiter } from '../../src/http/auth-failure-limiter.js';
import { detection } from '../incidents/detection-factory.js';
import { csrfOf, PageSession } from './page-session.js';
import { bearer, startResponder, type ResponderFixture } from './responder-harness.js';

const WRONG = `jaga_${'W'.repeat(43)}`;

describe('AuthFailureLimiter', () => {
  it('is over the limit after max failures in the window, until the oldest kept failure leaves it', () => {
    const limiter = new AuthFailureLimiter({ max: 3, windowMs: 60_000 });
    limiter.fail('10.0.0.1', 0);
    limiter.fail('10.0.0.1', 1000);
    expect(limiter.retryAfterMs('10.0.0.1', 2000)).toBe(0);
    limiter.fail('10.0.0.1', 2000);
    expect([limiter.retryAfterMs('10.0.0.1', 2000), limiter.retryAfterMs('10.0.0.2', 2000)]).toEqual([58_000, 0]);
    expect(limiter.retryAfterMs('10.0.0.1', 60_000)).toBe(0);
  });

  it('keeps only the last max failures of an address, so a failure while over the limit extends it by one step', () => {
    const limiter = new AuthFailureLimiter({ max: 2, windowMs: 10_000 });
    for (const t of [0, 1, 2, 3, 4]) limiter.fail('a', t * 1000);
    // kept: 3000 and 4000; over the limit until 3000 leaves the window
    expect(limiter.retryAfterMs('a', 4000)).toBe(9000);
    expect(limiter.retryAfterMs('a', 13_000)).toBe(0);
  });
});

describe('auth failure limit over HTTP (127.0.0.1 shared by a bad script and the CLI)', () => {
  let fx: ResponderFixture;
  let incidentId: number;
  beforeAll(async () => {
    fx = await startResponder({ http: { auth_failures: { max: 3, window: '1m' } } });
    [incidentId] = (await fx.raise([detection()])) as [number];
  });
  afterAll(async () => {
    await fx?.close();
  });
  const get = (url: string, token: string) => fx.server.app.inject({ method: 'GET', url, headers: bearer(token) });

  it('refuses further failing tokens with 429 + Retry-After, but lets a valid token read and act', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await get('/api/incidents', WRONG)).statusCode);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const refused = await get('/api/incidents', WRONG);
    expect([refused.statusCode, refused.headers['retry-after'], refused.json().error.code]).toEqual([429, '60', 'too_many_auth_failures']);

    const list = await get('/api/incidents', fx.tokens.viewer);
    expect([list.statusCode, list.json().incidents.map((i: { id: number }) => i.id)]).toEqual([200, [incidentId]]);
    const acked = await fx.server.app.inject({ method: 'POST', url: `/api/incidents/${incidentId}/ack`, headers: bearer(fx.tokens.responder), payload: { version: 1 } });
    expect([acked.statusCode, acked.json().incident.status]).toEqual([200, 'acknowledged']);

    const session = new PageSession(fx.server.app);
    expect((await session.signIn(WRONG)).statusCode).toBe(429);
    const signedIn = await session.signIn(fx.tokens.viewer);
    expect([signedIn.statusCode, signedIn.headers.location]).toEqual([303, '/ui/incidents']);
  });

  it('answers a forged link 429 while over the limit but still opens a valid link; failures age out after the window', async () => {
    const path = new URL(fx.server.links.actionUrl(incidentId, 'resolve', 'n-limit')).pathname;
    const forged = `${path.slice(0, -3)}${path.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    const session = new PageSession(fx.server.app);
    expect((await session.get(forged)).statusCode).toBe(429);
    const confirm = await session.get(path);
    expect(confirm.statusCode).toBe(200);
    expect(csrfOf(confirm.body).length).toBeGreaterThan(10);

    fx.clock.advance(60_001);
    expect((await get('/api/incidents', WRONG)).statusCode).toBe(401);
  });
});

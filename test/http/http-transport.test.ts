import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observe/logger.js';
import { detection } from '../incidents/detection-factory.js';
import { PageSession } from './page-session.js';
import { bearer, startResponder, type ResponderFixture } from './responder-harness.js';

const run = promisify(execFile);
let dir: string;
let fx: ResponderFixture;
let baseUrl: string;
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jaga-http-tls-'));
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1']);
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
  });
  fx = await startResponder({
    http: { tls: { cert: 'cert.pem', key: 'key.pem' }, auth_failures: { max: 3, window: '1m' } },
    baseDir: dir,
    logger: createLogger({ stream }),
    listCacheMs: 60_000,
  });
  await fx.raise([detection()]);
  baseUrl = await fx.server.listen();
});
afterAll(async () => {
  await fx?.close();
  await rm(dir, { recursive: true, force: true });
});

/** One HTTPS request trusting any certificate (the test's self-signed one). */
function fetchTls(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${baseUrl}${path}`, { rejectUnauthorized: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTPS, auth failure limit and request log', () => {
  it('serves HTTPS on the configured port with HSTS when a certificate and key are configured', async () => {
    expect(baseUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetchTls('/api/incidents', bearer(fx.tokens.viewer));
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { incidents: unknown[] }).incidents).toHaveLength(1);
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  });

  it('signs links on the bound address when told to listen on port 0 without a public_url', async () => {
    const port = new URL(baseUrl).port;
    expect(Number(port)).toBeGreaterThan(0);
    expect(fx.server.links.incidentUrl(7)).toBe(`https://127.0.0.1:${port}/ui/incidents/7`);
    expect(fx.server.links.actionUrl(7, 'ack', 'n1')).toMatch(new RegExp(`^https://127\\.0\\.0\\.1:${port}/ui/links/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
  });

  it('keeps a configured public_url for links when listening on port 0', async () => {
    const other = await startResponder({ http: { public_url: 'https://jaga.example.com/' } });
    try {
      await other.server.listen();
      expect(other.server.links.incidentUrl(3)).toBe('https://jaga.example.com/ui/incidents/3');
    } finally {
      await other.close();
    }
  });

  it('marks the session cookie Secure under TLS', async () => {
    const signedIn = await new PageSession(fx.server.app).signIn(fx.tokens.viewer);
    const cookie = ([] as string[]).concat(signedIn.headers['set-cookie'] ?? []).find((c) => c.startsWith('jaga_session='))!;
    expect(cookie).toMatch(/; Secure/);
  });

  it('answers further failures 429 with Retry-After after 3 failures from one address until the window passes; a valid token still gets through', async () => {
    const wrong = bearer(`jaga_${'C'.repeat(43)}`);
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await fetchTls('/api/incidents?secret=query-value', wrong)).status);
    const blocked = await fetchTls('/api/incidents', wrong);
    expect([...statuses, blocked.status, blocked.headers['retry-after']]).toEqual([401, 401, 401, 429, '60']);
    expect((await fetchTls('/api/incidents', bearer(fx.tokens.viewer))).status).toBe(200);
    fx.clock.advance(61_000);
    expect((await fetchTls('/api/incidents', wrong)).status).toBe(401);
  });

  it('logs one http_request line per response with the route pattern, never the query string or token', async () => {
    const lines = logLines.filter((l) => l.event === 'http_request');
    expect(lines.length).toBeGreaterThanOrEqual(6);
    expect(lines[0]).toMatchObject({ level: 'info', message: 'http_request', method: 'GET', route: '/api/incidents', status: 200 });
    expect(Object.keys(lines[0]!).sort()).toEqual(['duration_ms', 'event', 'level', 'message', 'method', 'route', 'status', 'time']);
    const text = JSON.stringify(logLines);
    expect(text).not.toContain('query-value');
    expect(text).not.toContain(fx.tokens.viewer);
    expect(text).not.toContain('CCCC');
  });

  it('reuses a cached list for other changes but clears it after an action through the API', async () => {
    const ids = async (): Promise<number[]> => (JSON.parse((await fetchTls('/api/incidents', bearer(fx.tokens.viewer))).body) as { incidents: { id: number }[] }).incidents.map((i) => i.id).sort();
    const before = await ids();
    const [added] = (await fx.raise([detection({ id: 'det-c1', group: { user: 'c1' }, groupKey: '{"user":"c1"}' })])) as [number];
    expect(await ids()).toEqual(before);
    const acked = await fx.server.app.inject({ method: 'POST', url: `/api/incidents/${added}/ack`, headers: bearer(fx.tokens.responder), payload: { version: 1 } });
    expect(acked.statusCode).toBe(200);
    expect(await ids()).toEqual([...before, added].sort());
  });
});

import { describe, expect, it } from 'vitest';
import { AdminAuditLog } from '../../src/http/admin-audit-log.js';
import { LinkSigner } from '../../src/http/link-signer.js';
import { SessionStore } from '../../src/http/session-store.js';
import { hashToken, TokenNameTakenError, TokenRepository } from '../../src/http/token-repository.js';
import { DRIVERS, useStoreHarness } from '../db/store-harness.js';

const harness = useStoreHarness();
const T0 = new Date('2026-01-01T00:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);

describe.each(DRIVERS)('HTTP auth repositories on %s (migration 0005_http_auth)', (driver) => {
  it('stores only the sha256 of a token, authenticates it, records last use at most once a minute, and revokes by name', async () => {
    const store = await harness.open(driver);
    const tokens = new TokenRepository(store, { cacheMs: 0 });
    const { token, record } = await tokens.create('alice', 'responder', T0);
    expect(token).toMatch(/^jaga_[A-Za-z0-9_-]{43}$/);
    expect(await store.query('SELECT name, role, token_hash FROM jaga_http_token')).toEqual([{ name: 'alice', role: 'responder', token_hash: hashToken(token) }]);
    expect(await tokens.authenticate(token, at(1000))).toEqual({ tokenId: record.id, name: 'alice', role: 'responder' });
    await tokens.authenticate(token, at(30_000));
    expect((await tokens.list())[0]!.lastUsedAt).toEqual(at(1000));
    await tokens.authenticate(token, at(61_001));
    expect((await tokens.list())[0]!.lastUsedAt).toEqual(at(61_001));
    expect(await tokens.authenticate(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, T0)).toBeNull();
    await expect(tokens.create('alice', 'admin', T0)).rejects.toThrow(TokenNameTakenError);
    expect((await tokens.revoke('alice', at(2000)))?.revokedAt).toEqual(at(2000));
    expect(await tokens.authenticate(token, at(3000))).toBeNull();
    expect(await tokens.principalById(record.id)).toBeNull();
    expect(await tokens.revoke('alice', at(4000))).toBeNull();
    const again = await tokens.create('alice', 'viewer', at(5000));
    expect((await tokens.list()).map((t) => [t.name, t.role, t.revokedAt === null])).toEqual([['alice', 'viewer', true], ['alice', 'responder', false]]);
    expect(await tokens.principalById(again.record.id)).toEqual({ tokenId: again.record.id, name: 'alice', role: 'viewer' });
    await expect(tokens.create('bad name', 'viewer', T0)).rejects.toThrow(RangeError);
  });

  it('reuses a positive answer for cacheMs, and forgets it when this repository revokes', async () => {
    const store = await harness.open(driver);
    const cached = new TokenRepository(store, { cacheMs: 60_000 });
    const { token } = await cached.create('carol', 'admin', T0);
    expect((await cached.authenticate(token, T0))?.name).toBe('carol');
    await new TokenRepository(store).revoke('carol', at(1));
    expect((await cached.authenticate(token, at(2)))?.name).toBe('carol');
    await cached.revoke('nobody', at(3));
    expect(await cached.authenticate(token, at(4))).toBeNull();
  });

  it('keeps sessions hashed with an absolute expiry, and audit entries newest first', async () => {
    const store = await harness.open(driver);
    const { record } = await new TokenRepository(store).create('bob', 'viewer', T0);
    const sessions = new SessionStore(store, 3_600_000);
    const session = await sessions.create(record.id, T0);
    expect(session.expiresAt).toEqual(at(3_600_000));
    expect(await sessions.find(session.id, at(3_599_999))).toEqual({ tokenId: record.id, expiresAt: at(3_600_000) });
    expect(await sessions.find(session.id, at(3_600_000))).toBeNull();
    expect(await store.query('SELECT count(*)::int AS n FROM jaga_http_session WHERE id_hash = $1', [session.id])).toEqual([{ n: 0 }]);
    expect(await sessions.purge(at(3_600_000))).toBe(1);
    const audit = new AdminAuditLog(store);
    await audit.record({ at: T0, actor: 'cli', action: 'token_create', target: 'token:bob', detail: { role: 'viewer' } });
    await audit.record({ at: at(1), actor: 'responder:root', action: 'token_revoke', target: 'token:bob', detail: {} });
    expect((await audit.list()).map((e) => [e.action, e.detail])).toEqual([['token_revoke', {}], ['token_create', { role: 'viewer' }]]);
  });

  it('signs links with the current key, verifies retired keys for one TTL, and records each nonce once', async () => {
    const store = await harness.open(driver);
    const ttl = 86_400_000;
    const signer = await LinkSigner.open(store, { publicUrl: 'https://jaga.example', linkTtlMs: ttl, now: () => T0 });
    expect(signer.incidentUrl(7)).toBe('https://jaga.example/ui/incidents/7');
    expect(signer.actionUrl(7, 'ack', 'abc')).toMatch(/^https:\/\/jaga\.example\/ui\/links\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    const token = signer.sign(7, 'resolve', 'abc', T0);
    const verdict = await signer.verify(token, at(1000));
    if (!verdict.ok) throw new Error(verdict.reason);
    expect(verdict.claims).toMatchObject({ incidentId: 7, action: 'resolve', notificationId: 'abc', expiresAt: at(ttl) });
    const other = await LinkSigner.open(store, { publicUrl: 'https://b.example', linkTtlMs: ttl });
    expect(other.keyInfo().map((k) => k.id)).toEqual(signer.keyInfo().map((k) => k.id));
    await signer.rotate(at(2000));
    const afterRotate = await other.verify(token, at(3000));
    expect(afterRotate.ok).toBe(true);
    const fresh = signer.sign(8, 'ack', 'def', at(3000));
    expect((await other.verify(fresh, at(4000))).ok).toBe(true);
    expect(await signer.markUsed(verdict.claims, at(5000))).toBe(true);
    expect(await signer.markUsed(verdict.claims, at(6000))).toBe(false);
    expect(await signer.verify(token, at(7000))).toEqual({ ok: false, reason: 'used' });
    expect(await signer.verify(fresh, at(2000 + ttl + 3000 + 1))).toEqual({ ok: false, reason: 'expired' });
    expect(await signer.purge(at(2000 + ttl + 1))).toEqual({ keys: 1, nonces: 1 });
    expect(await signer.verify('x.y', T0)).toEqual({ ok: false, reason: 'malformed' });
  });
});

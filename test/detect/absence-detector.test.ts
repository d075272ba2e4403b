import { beforeEach, describe, expect, it } from 'vitest';
import { DetectionEngine } from '../../src/detect/detection-engine.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { CONTEXT, at, auditEvent, kindIs, makeEvent, makeRule, resetEventIds } from './detector-fixtures.js';

/** audit silent for 15 s while connections continue (lateness 0 keeps the watermark on event time) */
function auditSilence(lateness = 0): DetectionEngine {
  const rule = makeRule({
    id: 'jaga.tamper.audit_silence',
    type: 'absence',
    params: { after: '15s', while: 'sel_connections' },
    selections: { sel_audit: kindIs('audit'), sel_connections: kindIs('connection') },
    matches: kindIs('audit'),
  });
  return new DetectionEngine([rule], CONTEXT, { allowedLatenessMs: lateness });
}

function backupsStopped(): DetectionEngine {
  const rule = makeRule({ id: 'jaga.backup.stopped', type: 'absence', params: { after: '26h' }, selections: { sel_backup: (event) => event.application_name === 'pg_dump' } });
  return new DetectionEngine([rule], CONTEXT);
}

function connection(seconds: number, user = 'support_budi'): AccessEvent {
  return makeEvent({ time: at(seconds), kind: 'connection', user, client_addr: '127.0.0.1' });
}

function run(engine: DetectionEngine, events: AccessEvent[]) {
  return events.flatMap((event) => engine.process(event));
}

describe('AbsenceDetector', () => {
  beforeEach(resetEventIds);

  it('fires once when the audit log stays silent for 15 s while connections continue', () => {
    const engine = auditSilence();
    const events = [auditEvent(0, { user: 'app_web' }), auditEvent(9, { user: 'dba_admin', client: '127.0.0.2' }), connection(15), connection(20), connection(26), connection(29)];
    expect(run(engine, events)).toEqual([]);
    const found = run(engine, [connection(31)]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      firstSeen: at(9),
      lastSeen: at(30),
      count: 1,
      group: {},
      entity: { user: 'dba_admin', client_addr: '127.0.0.2' },
      explanation: { type: 'absence', after_ms: 15_000, last_seen: at(9), while: 'sel_connections', while_events: 4 },
    });
    expect(found[0]?.summary).toBe(`Test absence: no matching event for 15s since ${at(9)} while sel_connections continued`);
    expect(run(engine, [connection(40), connection(60)])).toEqual([]);
    expect(engine.advance(Date.parse(at(100)))).toEqual([]);
  });

  it('does not fire for the first connection after a quiet period whose statements are then audited', () => {
    const engine = auditSilence();
    expect(run(engine, [auditEvent(0, {}), connection(3600), auditEvent(3601, {}), connection(3700), auditEvent(3701, {})])).toEqual([]);
    expect(engine.advance(Date.parse(at(7200)))).toEqual([]);
  });

  it('does not fire when connections stop with the audit log (quiet period)', () => {
    const engine = auditSilence();
    expect(run(engine, [auditEvent(0, {}), auditEvent(9, {}), connection(10)])).toEqual([]);
    expect(engine.advance(Date.parse(at(600)))).toEqual([]);
  });

  it('does not fire while audit records keep arriving', () => {
    const engine = auditSilence();
    const events = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? auditEvent(i, {}) : connection(i)));
    expect(run(engine, events)).toEqual([]);
  });

  it('finds a silence when the next audit record arrives before the watermark reaches the deadline', () => {
    const engine = auditSilence(5_000);
    const found = run(engine, [auditEvent(9, { user: 'dba_admin' }), connection(16), connection(31.5), auditEvent(33, {}), auditEvent(39, {})]);
    expect(found).toHaveLength(1);
    expect(found[0]?.firstSeen).toBe(at(9));
    expect(found[0]?.lastSeen).toBe(at(31));
  });

  it('lets a late audit record that arrives before the watermark reaches the deadline fill the gap', () => {
    const engine = auditSilence(5_000);
    const found = run(engine, [auditEvent(9, {}), connection(16), connection(24.5), auditEvent(27, {}), auditEvent(20, {}), auditEvent(35, {}), connection(45), auditEvent(48, {})]);
    expect(found).toEqual([]);
  });

  it('fires from the live watermark without events (backups stopped for 26 h), once per silence', () => {
    const engine = backupsStopped();
    const dump = makeEvent({ time: at(0), kind: 'authorization', user: 'backup', application_name: 'pg_dump' });
    expect(engine.process(dump)).toEqual([]);
    expect(engine.advance(Date.parse(at(26 * 3600 - 1)))).toEqual([]);
    const found = engine.advance(Date.parse(at(26 * 3600 + 60)));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ firstSeen: at(0), lastSeen: at(26 * 3600), entity: { user: 'backup', application_name: 'pg_dump' } });
    expect(engine.advance(Date.parse(at(60 * 3600)))).toEqual([]);
  });

  it('fires for the overall group even when no matching event was ever seen since the start', () => {
    const engine = backupsStopped();
    expect(engine.process(makeEvent({ time: at(0), kind: 'connection', user: 'app_web' }))).toEqual([]);
    const found = engine.advance(Date.parse(at(27 * 3600)));
    expect(found).toHaveLength(1);
    expect(found[0]?.firstSeen).toBe(at(-5));
    expect(found[0]?.evidence).toEqual([]);
  });

  it('tracks each group on its own', () => {
    const rule = makeRule({ id: 'test.app_silent', type: 'absence', params: { after: '10m' }, selections: { sel: kindIs('authorization') }, groupBy: ['user'] });
    const engine = new DetectionEngine([rule], CONTEXT, { allowedLatenessMs: 0 });
    const logins = [0, 300, 600, 900].flatMap((s) => [makeEvent({ time: at(s), kind: 'authorization', user: 'app_web' }), ...(s === 0 ? [makeEvent({ time: at(s), kind: 'authorization', user: 'app_batch' })] : [])]);
    const found = run(engine, logins);
    expect(found.map((detection) => [detection.group, detection.firstSeen, detection.lastSeen])).toEqual([[{ user: 'app_batch' }, at(0), at(600)]]);
  });
});

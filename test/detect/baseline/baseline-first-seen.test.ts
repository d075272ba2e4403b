/**
 * Baseline detections that judge a bucket (volume, failure rate, breadth) or a session (breadth)
 * are first seen at the first event the detection counts, not at the bucket's start: a spike at
 * 21:34 in the 21:00 bucket opens an incident first seen 21:34 whose regulatory deadlines run
 * from then. Snapshots written before these times were kept restore with the running bucket's
 * start (a session's last event time) in their place.
 */
import { describe, expect, it } from 'vitest';
import { BreadthBaselineDetector } from '../../../src/detect/baseline/breadth-baseline-detector.js';
import { FailureRateBaselineDetector } from '../../../src/detect/baseline/failure-rate-baseline-detector.js';
import { VolumeBaselineDetector } from '../../../src/detect/baseline/volume-baseline-detector.js';
import type { BreadthParams, FailureRateParams, VolumeParams } from '../../../src/detect/baseline/baseline-params.js';
import type { CompiledRule, MatchContext } from '../../../src/detect/compiled-rule.js';
import { DEFAULT_REGULATORY_CLOCKS } from '../../../src/config/incidents-config.js';
import type { AccessEvent } from '../../../src/domain/access-event.js';
import type { Detection } from '../../../src/domain/detection.js';
import { incidentFingerprint } from '../../../src/incidents/incident-fingerprint.js';
import { foldDetections } from '../../../src/incidents/incident-fold.js';
import { regulatoryDeadlines } from '../../../src/incidents/regulatory-deadlines.js';
import { makeEvent } from '../rule-fixtures.js';
import { MONDAY_MS, readEvent, shippedBaselines } from './baseline-fixtures.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** day 14 (Monday 2026-01-19) at 21:00, the judged bucket's start */
const BUCKET_MS = MONDAY_MS + 14 * DAY_MS + 21 * HOUR_MS;
const at = (minutes: number, seconds = 0): number => BUCKET_MS + minutes * 60_000 + seconds * 1000;
const iso = (ms: number): string => new Date(ms).toISOString();

async function shipped<P>(type: string): Promise<{ rule: CompiledRule & { params: P }; context: MatchContext }> {
  const { rules, context } = await shippedBaselines();
  return { rule: rules.find((rule) => rule.type === type) as CompiledRule & { params: P }, context };
}

/** the times and count of a detection, as an incident takes them */
const seen = (d: Detection): [string, string, number] => [d.firstSeen, d.lastSeen, d.count];

/** the incident the detection opens, with the default regulatory clocks (GDPR Art. 33, UU PDP Art. 46) */
function openedIncident(detection: Detection): { firstSeen: string; deadlines: Record<string, unknown> | null } {
  const [step] = foldDetections(null, incidentFingerprint(detection), [detection], { deadlines: (incident) => regulatoryDeadlines(DEFAULT_REGULATORY_CLOCKS, incident) });
  return { firstSeen: step!.incident.firstSeen.toISOString(), deadlines: step!.incident.deadlines };
}

/** support_sari's volume history: a 3-row read of customers at 21:05 on each of days 0-13 */
function volumeHistory(detector: VolumeBaselineDetector, context: MatchContext): void {
  for (let day = 0; day < 14; day++) expect(detector.observe(readEvent('support_sari', 'public.customers', 3, MONDAY_MS + day * DAY_MS + 21 * HOUR_MS + 5 * 60_000), context)).toEqual([]);
}

describe('baseline_volume first_seen', () => {
  it('is the bucket\'s first read (21:34:05), not its start, and the deadlines run from it', async () => {
    const { rule, context } = await shipped<VolumeParams>('baseline_volume');
    const detector = new VolumeBaselineDetector(rule);
    volumeHistory(detector, context);
    expect(detector.observe(readEvent('support_sari', 'public.customers', 2, at(34, 5)), context)).toEqual([]);
    const found = detector.observe(readEvent('support_sari', 'public.customers', 5000, at(34, 50)), context);
    expect(found.map((d) => [d.groupKey, ...seen(d)])).toEqual([
      ['{"user":"support_sari"}', '2026-01-19T21:34:05.000Z', '2026-01-19T21:34:50.000Z', 2],
      ['{"relation":"public.customers","user":"support_sari"}', '2026-01-19T21:34:05.000Z', '2026-01-19T21:34:50.000Z', 2],
    ]);
    expect(found[1]!.explanation.bucket).toBe('2026-01-19T21:00:00.000Z/1h');
    expect(openedIncident(found[1]!)).toEqual({
      firstSeen: '2026-01-19T21:34:05.000Z',
      deadlines: {
        gdpr_art33: { title: 'GDPR Art. 33: notify the supervisory authority', due_at: '2026-01-22T21:34:05.000Z', within_ms: 259_200_000 },
        uu_pdp_art46: { title: 'UU PDP Art. 46: notify data subjects and the authority', due_at: '2026-01-22T21:34:05.000Z', within_ms: 259_200_000 },
      },
    });
  });

  it('is the earliest read of the bucket when reads come out of order, and a bulk first read is first seen at itself', async () => {
    const { rule, context } = await shipped<VolumeParams>('baseline_volume');
    const detector = new VolumeBaselineDetector(rule);
    volumeHistory(detector, context);
    detector.observe(readEvent('support_sari', 'public.customers', 2, at(34, 5)), context);
    detector.observe(readEvent('support_sari', 'public.customers', 2, at(20)), context);
    const found = detector.observe(readEvent('support_sari', 'public.customers', 5000, at(34, 50)), context);
    expect(found.map(seen)).toEqual([
      ['2026-01-19T21:20:00.000Z', '2026-01-19T21:34:50.000Z', 3],
      ['2026-01-19T21:20:00.000Z', '2026-01-19T21:34:50.000Z', 3],
    ]);
    const alone = new VolumeBaselineDetector(rule);
    volumeHistory(alone, context);
    expect(alone.observe(readEvent('support_sari', 'public.customers', 5000, at(34, 50)), context).map(seen)).toEqual([
      ['2026-01-19T21:34:50.000Z', '2026-01-19T21:34:50.000Z', 1],
      ['2026-01-19T21:34:50.000Z', '2026-01-19T21:34:50.000Z', 1],
    ]);
  });

  it('does not count a pgaudit line repeating the role\'s last statement: the role is first seen at its next statement', async () => {
    const { rule, context } = await shipped<VolumeParams>('baseline_volume');
    const detector = new VolumeBaselineDetector(rule);
    volumeHistory(detector, context);
    const session = { pid: 4242, session_id: 's4242' };
    const first = readEvent('support_sari', 'public.customers', 2, at(0, 30), session);
    detector.observe(first, context);
    // the same statement's line for another relation, in the next bucket (22:00): the role counts no statement for it
    const repeat: AccessEvent = { ...first, id: 'test:fp:repeat', time: iso(at(60, 10)), audit: { ...first.audit!, object_name: 'public.payments' } };
    const everyTablePii: MatchContext = { lists: context.lists, classesOf: () => ['pii'] };
    detector.observe(repeat, everyTablePii);
    const found = detector.observe(readEvent('support_sari', 'public.customers', 5000, at(60, 50)), context);
    expect(found.map((d) => [d.groupKey, ...seen(d)])).toEqual([
      ['{"user":"support_sari"}', '2026-01-19T22:00:50.000Z', '2026-01-19T22:00:50.000Z', 1],
      ['{"relation":"public.customers","user":"support_sari"}', '2026-01-19T22:00:50.000Z', '2026-01-19T22:00:50.000Z', 1],
    ]);
  });

  it('keeps the time across a snapshot; a snapshot without it (written before) restores with the bucket start', async () => {
    const { rule, context } = await shipped<VolumeParams>('baseline_volume');
    const detector = new VolumeBaselineDetector(rule);
    volumeHistory(detector, context);
    detector.observe(readEvent('support_sari', 'public.customers', 2, at(34, 5)), context);
    const state = JSON.parse(JSON.stringify(detector.snapshot())) as { entities: unknown[][] };
    expect(state.entities.map((e) => [e.length, e[16]])).toEqual([[17, at(34, 5)], [17, at(34, 5)]]);
    const restored = new VolumeBaselineDetector(rule);
    restored.restore(state);
    expect(restored.observe(readEvent('support_sari', 'public.customers', 5000, at(34, 50)), context).map(seen)).toEqual([
      ['2026-01-19T21:34:05.000Z', '2026-01-19T21:34:50.000Z', 2],
      ['2026-01-19T21:34:05.000Z', '2026-01-19T21:34:50.000Z', 2],
    ]);
    const older = new VolumeBaselineDetector(rule);
    older.restore({ ...state, entities: state.entities.map((e) => e.slice(0, 16)) });
    expect(older.observe(readEvent('support_sari', 'public.customers', 5000, at(34, 50)), context).map(seen)).toEqual([
      ['2026-01-19T21:00:00.000Z', '2026-01-19T21:34:50.000Z', 2],
      ['2026-01-19T21:00:00.000Z', '2026-01-19T21:34:50.000Z', 2],
    ]);
    expect(() => new VolumeBaselineDetector(rule).restore({ ...state, entities: state.entities.map((e) => [...e.slice(0, 16), 'x']) })).toThrow(/entities\[0\]: expected .*bucketFirstMs or null/);
  });
});

/** a failure-rate event of role `web_app` from 10.0.0.9 */
function failureEvent(kind: AccessEvent['kind'], timeMs: number, sqlstate: string | null = null): AccessEvent {
  return makeEvent({ id: `test:fail:${kind}:${timeMs}`, time: iso(timeMs), kind, user: 'web_app', client_addr: '10.0.0.9', application_name: 'web', sqlstate });
}

describe('baseline_failure_rate first_seen', () => {
  async function warmDetector(): Promise<{ detector: FailureRateBaselineDetector; rule: CompiledRule & { params: FailureRateParams }; context: MatchContext }> {
    const { rule, context } = await shipped<FailureRateParams>('baseline_failure_rate');
    const detector = new FailureRateBaselineDetector(rule);
    // a login at 21:05 on days 0-13: 14 closed buckets without failures
    for (let day = 0; day < 14; day++) detector.observe(failureEvent('authorization', MONDAY_MS + day * DAY_MS + 21 * HOUR_MS + 5 * 60_000), context);
    return { detector, rule, context };
  }

  it('is the bucket\'s first failure of the measure that fired (21:34:05), not the bucket start nor another measure\'s failure', async () => {
    const { detector, context } = await warmDetector();
    expect(detector.observe(failureEvent('error', at(10), '42501'), context)).toEqual([]);
    for (const seconds of [5, 20, 35]) expect(detector.observe(failureEvent('auth_failure', at(34, seconds)), context)).toEqual([]);
    const found = detector.observe(failureEvent('auth_failure', at(34, 50)), context);
    expect(found.map((d) => [d.groupKey, d.explanation.measure, ...seen(d)])).toEqual([
      ['{"user":"web_app"}', 'auth_failure', '2026-01-19T21:34:05.000Z', '2026-01-19T21:34:50.000Z', 4],
      ['{"client_addr":"10.0.0.9"}', 'auth_failure', '2026-01-19T21:34:05.000Z', '2026-01-19T21:34:50.000Z', 4],
    ]);
    // no personal data class: no regulatory clock
    expect(openedIncident(found[0]!)).toEqual({ firstSeen: '2026-01-19T21:34:05.000Z', deadlines: null });
  });

  it('keeps the times across a snapshot; a snapshot without them restores the counted measures at the bucket start', async () => {
    const { detector, rule, context } = await warmDetector();
    detector.observe(failureEvent('auth_failure', at(34, 5)), context);
    detector.observe(failureEvent('auth_failure', at(34, 20)), context);
    const state = JSON.parse(JSON.stringify(detector.snapshot())) as { entities: unknown[][] };
    expect(state.entities.map((e) => e[12])).toEqual([[at(34, 5), null, null], [at(34, 5), null, null]]);
    const finish = (target: FailureRateBaselineDetector): [string, string, number][] => {
      target.observe(failureEvent('auth_failure', at(34, 35)), context);
      return target.observe(failureEvent('auth_failure', at(34, 50)), context).map(seen);
    };
    const restored = new FailureRateBaselineDetector(rule);
    restored.restore(state);
    expect(finish(restored)).toEqual([
      ['2026-01-19T21:34:05.000Z', '2026-01-19T21:34:50.000Z', 4],
      ['2026-01-19T21:34:05.000Z', '2026-01-19T21:34:50.000Z', 4],
    ]);
    const older = new FailureRateBaselineDetector(rule);
    older.restore({ ...state, entities: state.entities.map((e) => e.slice(0, 12)) });
    expect(finish(older)).toEqual([
      ['2026-01-19T21:00:00.000Z', '2026-01-19T21:34:50.000Z', 4],
      ['2026-01-19T21:00:00.000Z', '2026-01-19T21:34:50.000Z', 4],
    ]);
    // a measure without failures before the snapshot is first seen at its first failure after it
    const permission = new FailureRateBaselineDetector(rule);
    permission.restore({ ...state, entities: state.entities.map((e) => e.slice(0, 12)) });
    for (const seconds of [0, 10, 20]) permission.observe(failureEvent('error', at(40, seconds), '42501'), context);
    expect(permission.observe(failureEvent('error', at(40, 30), '42501'), context).map((d) => [d.explanation.measure, ...seen(d)])).toEqual([
      ['permission_denied', '2026-01-19T21:40:00.000Z', '2026-01-19T21:40:30.000Z', 4],
      ['permission_denied', '2026-01-19T21:40:00.000Z', '2026-01-19T21:40:30.000Z', 4],
    ]);
  });
});

describe('baseline_breadth first_seen', () => {
  /** every table personal data, so the tables t0, t1, ... all count */
  async function warmDetector(): Promise<{ detector: BreadthBaselineDetector; rule: CompiledRule & { params: BreadthParams }; context: MatchContext }> {
    const { rule, context } = await shipped<BreadthParams>('baseline_breadth');
    const everyTablePii: MatchContext = { lists: context.lists, classesOf: () => ['pii'] };
    const detector = new BreadthBaselineDetector(rule);
    // one table in one session at 21:05 on days 0-13, each session closed by the next day's watermark
    for (let day = 0; day < 14; day++) {
      const dayMs = MONDAY_MS + day * DAY_MS;
      detector.observe(readEvent('analyst', 'public.t0', 1, dayMs + 21 * HOUR_MS + 5 * 60_000, { pid: 500 + day, session_id: `h${day}` }), everyTablePii);
      detector.advance(dayMs + 23 * HOUR_MS);
    }
    return { detector, rule, context: everyTablePii };
  }
  const session = { pid: 900, session_id: 'live' };
  const read = (detector: BreadthBaselineDetector, context: MatchContext, table: string, timeMs: number): Detection[] => detector.observe(readEvent('analyst', table, 1, timeMs, session), context);

  it('is the session\'s first read (20:50) for a session and the bucket\'s first read (21:34:05) for the hour', async () => {
    const { detector, context } = await warmDetector();
    expect(read(detector, context, 'public.t0', at(-10))).toEqual([]);
    const found: [string, ...ReturnType<typeof seen>][] = [];
    ['public.t1', 'public.t2', 'public.t3', 'public.t4'].forEach((table, i) => {
      for (const d of read(detector, context, table, at(34, 5 + 15 * i))) found.push([String(d.explanation.entity), ...seen(d)]);
    });
    expect(found).toEqual([
      ['session', '2026-01-19T20:50:00.000Z', '2026-01-19T21:34:20.000Z', 3],
      ['role', '2026-01-19T21:34:05.000Z', '2026-01-19T21:34:35.000Z', 3],
    ]);
  });

  it('keeps the times across a snapshot; spans without them restore at the bucket start and at the session\'s last read', async () => {
    const { detector, rule, context } = await warmDetector();
    read(detector, context, 'public.t0', at(-10));
    read(detector, context, 'public.t1', at(34, 5));
    const state = JSON.parse(JSON.stringify(detector.snapshot())) as { roles: unknown[][] };
    const [role] = state.roles;
    expect([(role![4] as unknown[])[4], (role![5] as unknown[][]).map((s) => s[4])]).toEqual([at(34, 5), [at(-10)]]);
    const finish = (target: BreadthBaselineDetector): [string, ...ReturnType<typeof seen>][] =>
      ['public.t2', 'public.t3'].flatMap((table, i) => read(target, context, table, at(34, 20 + 15 * i)).map((d) => [String(d.explanation.entity), ...seen(d)] as [string, ...ReturnType<typeof seen>]));
    const restored = new BreadthBaselineDetector(rule);
    restored.restore(state);
    expect(finish(restored)).toEqual([
      ['session', '2026-01-19T20:50:00.000Z', '2026-01-19T21:34:20.000Z', 3],
      ['role', '2026-01-19T21:34:05.000Z', '2026-01-19T21:34:35.000Z', 3],
    ]);
    const strip = (span: unknown): unknown => (span === null ? null : (span as unknown[]).slice(0, 4));
    const older = new BreadthBaselineDetector(rule);
    older.restore({ ...state, roles: state.roles.map((r) => [r[0], r[1], r[2], r[3], strip(r[4]), (r[5] as unknown[]).map(strip), r[6], r[7]]) });
    expect(finish(older)).toEqual([
      ['session', '2026-01-19T21:34:05.000Z', '2026-01-19T21:34:20.000Z', 3],
      ['role', '2026-01-19T21:00:00.000Z', '2026-01-19T21:34:35.000Z', 3],
    ]);
  });
});

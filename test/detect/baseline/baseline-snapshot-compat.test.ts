/**
 * Snapshots written before the baseline speed-up (lazily grown rings and context sets, shared role
 * look-up, skipped references) restore in the current code with the same later detections: the
 * fixture holds a HEAD-built engine's snapshot after half of `compatEvents(40, 14)` and the
 * detections that HEAD build raised for the second half. Since then volume, failure rate and breadth
 * keep the time of a bucket's (session's) first counted event, appended to their snapshot entries;
 * the fixture, written before, lacks them.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contextPairHash } from '../../../src/detect/baseline/context-set.js';
import { failureMeasure } from '../../../src/detect/baseline/failure-rate-baseline-detector.js';
import { DetectionEngine, type EngineState } from '../../../src/detect/detection-engine.js';
import type { AccessEvent } from '../../../src/domain/access-event.js';
import type { Detection } from '../../../src/domain/detection.js';
import { shippedBaselines } from './baseline-fixtures.js';
import { compatEvents } from './compat-events.js';

const HOUR_MS = 3_600_000;

interface Fixture {
  roles: number;
  passes: number;
  mid: number;
  snapshot: EngineState;
  expected: Pick<Detection, 'id' | 'detectorId' | 'severity' | 'score' | 'group' | 'explanation'>[];
}

describe('a baseline snapshot written by the HEAD build', () => {
  it('restores and gives the second half the same detections (ids, scores, severities, explanations)', async () => {
    const fixture = JSON.parse(await readFile(resolve('test/fixtures/baseline/head-snapshot.json'), 'utf8')) as Fixture;
    const { rules, context } = await shippedBaselines();
    const fast = rules.map((rule) => ({ ...rule, params: { ...rule.params, min_history: HOUR_MS, min_samples: 3 } }));
    const events = compatEvents(fixture.roles, fixture.passes);
    const engine = new DetectionEngine(fast, context);
    engine.restore(fixture.snapshot);
    const found: Fixture['expected'] = [];
    const keep = (d: Detection): Fixture['expected'][number] => ({ id: d.id, detectorId: d.detectorId, severity: d.severity, score: d.score, group: d.group, explanation: d.explanation });
    for (let i = fixture.mid; i < events.length; i++) for (const d of engine.process(events[i] as (typeof events)[number])) found.push(keep(d));
    for (const d of engine.advance(Date.parse((events[events.length - 1] as (typeof events)[number]).time) + 3 * HOUR_MS)) found.push(keep(d));
    expect(engine.stats().stateResets).toBe(0);
    expect(fixture.expected.length).toBe(29);
    expect(found).toEqual(fixture.expected);
  });

  it('gives the second half the first_seen times an uninterrupted run gives (no bucket running at the snapshot fires after it)', async () => {
    const fixture = JSON.parse(await readFile(resolve('test/fixtures/baseline/head-snapshot.json'), 'utf8')) as Fixture;
    const { rules, context } = await shippedBaselines();
    const fast = rules.map((rule) => ({ ...rule, params: { ...rule.params, min_history: HOUR_MS, min_samples: 3 } }));
    const events = compatEvents(fixture.roles, fixture.passes);
    const run = (restored: boolean): [string, string, string][] => {
      const engine = new DetectionEngine(fast, context);
      if (restored) engine.restore(fixture.snapshot);
      const found: [string, string, string][] = [];
      for (let i = restored ? fixture.mid : 0; i < events.length; i++) for (const d of engine.process(events[i] as AccessEvent)) if (i >= fixture.mid) found.push([d.id, d.firstSeen, d.lastSeen]);
      for (const d of engine.advance(Date.parse((events[events.length - 1] as AccessEvent).time) + 3 * HOUR_MS)) found.push([d.id, d.firstSeen, d.lastSeen]);
      return found;
    };
    const restored = run(true);
    expect(restored).toEqual(run(false));
    // the first: a failure-rate detection of the 15:00 bucket, whose first failure came after the snapshot (15:09)
    expect(restored[0]?.slice(1)).toEqual(['2026-01-05T15:09:00.000Z', '2026-01-05T15:24:00.000Z']);
  });

  it('is what the current code snapshots at the same point but for the first event times appended, which are those of the events', async () => {
    const fixture = JSON.parse(await readFile(resolve('test/fixtures/baseline/head-snapshot.json'), 'utf8')) as Fixture;
    const { rules, context } = await shippedBaselines();
    const fast = rules.map((rule) => ({ ...rule, params: { ...rule.params, min_history: HOUR_MS, min_samples: 3 } }));
    const events = compatEvents(fixture.roles, fixture.passes);
    const engine = new DetectionEngine(fast, context);
    for (let i = 0; i < fixture.mid; i++) engine.process(events[i] as (typeof events)[number]);
    const snapshot = JSON.parse(JSON.stringify(engine.snapshot())) as EngineState;
    const state = (id: string): Record<string, unknown[][]> => snapshot.detectors[id]!.state as Record<string, unknown[][]>;
    const volume = state('baseline.volume').entities as unknown[][];
    const failures = state('baseline.failure_rate').entities as unknown[][];
    const breadth = state('baseline.breadth').roles as unknown[][];

    // the earliest time of the events before the snapshot that `counts` (null: none), computed from the events themselves
    const seen = events.slice(0, fixture.mid);
    const earliest = (counts: (e: AccessEvent, ms: number) => boolean): number | null => {
      let first: number | null = null;
      for (const e of seen) {
        const ms = Date.parse(e.time);
        if (counts(e, ms) && (first === null || ms < first)) first = ms;
      }
      return first;
    };
    const inBucket = (ms: number, bucket: unknown): boolean => Math.floor(ms / HOUR_MS) === bucket;
    const pii = (e: AccessEvent): boolean => e.audit !== null && e.audit.object_name !== null && context.classesOf(e.audit.object_name).includes('pii');
    expect(volume.length).toBe(80);
    for (const e of volume) {
      expect(e[16]).toBe(earliest((ev, ms) => ev.kind === 'audit' && ev.user === e[1] && (e[0] === 0 || ev.audit?.object_name === e[2]) && inBucket(ms, e[7])));
    }
    expect(failures.length).toBe(20);
    for (const e of failures) {
      const name = (ev: AccessEvent): string | null => (e[0] === 1 ? ev.client_addr : ev.user);
      expect(e[12]).toEqual([0, 1, 2].map((m) => earliest((ev, ms) => name(ev) === e[1] && failureMeasure(ev) === m && inBucket(ms, e[5]))));
    }
    expect(breadth.length).toBe(40);
    for (const r of breadth) {
      const bucket = r[4] as unknown[] | null;
      if (bucket !== null) expect(bucket[4]).toBe(earliest((ev, ms) => ev.user === r[0] && pii(ev) && inBucket(ms, bucket[0])));
      for (const span of r[5] as unknown[][]) expect(span[4]).toBe(earliest((ev) => ev.user === r[0] && pii(ev) && contextPairHash('session', ev.session_id ?? '') === span[0]));
    }

    // without them, the snapshot is the fixture's
    const strip = (span: unknown): unknown => (span === null ? null : (span as unknown[]).slice(0, 4));
    state('baseline.volume').entities = volume.map((e) => e.slice(0, 16));
    state('baseline.failure_rate').entities = failures.map((e) => e.slice(0, 12));
    state('baseline.breadth').roles = breadth.map((r) => [...r.slice(0, 4), strip(r[4]), (r[5] as unknown[]).map(strip), ...r.slice(6)]);
    expect(snapshot).toEqual(fixture.snapshot);
  });
});

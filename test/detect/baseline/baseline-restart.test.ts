/**
 * Issue 5, "Done when": the same event sequence gives identical baseline detections and scores
 * with and without a restart (engine snapshot -> JSON -> restore into a fresh engine) in the middle.
 */
import { describe, expect, it } from 'vitest';
import type { AccessEvent } from '../../../src/domain/access-event.js';
import type { Detection } from '../../../src/domain/detection.js';
import { DetectionEngine, type EngineState } from '../../../src/detect/detection-engine.js';
import { makeEvent } from '../rule-fixtures.js';
import { MONDAY_MS, officeWorkload, readEvent, shippedBaselines } from './baseline-fixtures.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** two weeks of office work, then anomalies on day 15: a night login, a bulk read, a new client, failures */
function sequence(): AccessEvent[] {
  const events = officeWorkload(['support_sari', 'support_budi', 'analyst'], 14);
  const day15 = MONDAY_MS + 14 * DAY_MS;
  events.push(readEvent('support_sari', 'public.customers', 5000, day15 + 10 * HOUR_MS));
  events.push(readEvent('support_budi', 'public.customers', 3, day15 + 10 * HOUR_MS + 60_000, { client_addr: '203.0.113.9', application_name: 'psql' }));
  events.push(makeEvent({ id: 'test:night', time: new Date(day15 + 3 * HOUR_MS).toISOString(), kind: 'authorization', user: 'analyst', client_addr: '10.0.0.8', application_name: 'crm-support-desk' }));
  for (let i = 0; i < 5; i++) events.push(makeEvent({ id: `test:fail:${i}`, time: new Date(day15 + 14 * HOUR_MS + i * 600_000).toISOString(), kind: 'auth_failure', user: 'analyst', client_addr: '10.0.0.8', severity: 'FATAL', sqlstate: '28P01' }));
  return events;
}

function comparable(detections: readonly Detection[]): unknown[] {
  return detections.map((d) => ({ id: d.id, detectorId: d.detectorId, severity: d.severity, score: d.score, group: d.group, explanation: d.explanation, summary: d.summary }));
}

describe('baseline state across a restart', () => {
  it('gives the same detections, ids and scores when the engine is snapshotted and restored mid-sequence', async () => {
    const { rules, context } = await shippedBaselines();
    const events = sequence();
    const straight = new DetectionEngine(rules, context);
    const expected = events.flatMap((event) => straight.process(event));
    expected.push(...straight.advance(MONDAY_MS + 16 * DAY_MS));

    for (const cut of [Math.floor(events.length / 2), events.length - 6]) {
      const first = new DetectionEngine(rules, context);
      const got = events.slice(0, cut).flatMap((event) => first.process(event));
      const state = JSON.parse(JSON.stringify(first.snapshot())) as EngineState;
      const second = new DetectionEngine(rules, context);
      second.restore(state);
      got.push(...events.slice(cut).flatMap((event) => second.process(event)));
      got.push(...second.advance(MONDAY_MS + 16 * DAY_MS));
      expect(second.stats().stateResets).toBe(0);
      expect(comparable(got)).toEqual(comparable(expected));
    }
    // the sequence does exercise the baselines: volume, new context and failure rate fire on day 15
    expect([...new Set(expected.map((d) => d.detectorId))].sort()).toEqual(['baseline.failure_rate', 'baseline.new_context', 'baseline.time_of_week', 'baseline.volume']);
    expect(expected.every((d) => typeof d.score === 'number')).toBe(true);
  });
});

/**
 * Snapshots written before the baseline speed-up (lazily grown rings and context sets, shared role
 * look-up, skipped references) restore in the current code with the same later detections: the
 * fixture holds a HEAD-built engine's snapshot after half of `compatEvents(40, 14)` and the
 * detections that HEAD build raised for the second half.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DetectionEngine, type EngineState } from '../../../src/detect/detection-engine.js';
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

  it('is what the current code snapshots at the same point (the state format did not change)', async () => {
    const fixture = JSON.parse(await readFile(resolve('test/fixtures/baseline/head-snapshot.json'), 'utf8')) as Fixture;
    const { rules, context } = await shippedBaselines();
    const fast = rules.map((rule) => ({ ...rule, params: { ...rule.params, min_history: HOUR_MS, min_samples: 3 } }));
    const events = compatEvents(fixture.roles, fixture.passes);
    const engine = new DetectionEngine(fast, context);
    for (let i = 0; i < fixture.mid; i++) engine.process(events[i] as (typeof events)[number]);
    expect(JSON.parse(JSON.stringify(engine.snapshot()))).toEqual(fixture.snapshot);
  });
});

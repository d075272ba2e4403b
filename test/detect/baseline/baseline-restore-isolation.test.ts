/**
 * A restored baseline engine never writes into the snapshot it was given: breadth spans and
 * new-context `reported` lists are copied, not kept (they grow as events come), so one snapshot
 * restored into engine A and then into engine B in the same process (the demo seeds an engine,
 * then the agent restores its snapshot into a new one) gives B the detections a fresh process gives.
 */
import { describe, expect, it } from 'vitest';
import { DetectionEngine, type EngineState } from '../../../src/detect/detection-engine.js';
import type { Detection } from '../../../src/domain/detection.js';
import { shippedBaselines } from './baseline-fixtures.js';
import { compatEvents } from './compat-events.js';

const HOUR_MS = 3_600_000;

describe('restoring one baseline snapshot twice in a process', () => {
  it('leaves the snapshot unchanged and gives the second engine the first one’s detections (ids, scores, severities)', async () => {
    const { rules, context } = await shippedBaselines();
    const fast = rules.map((rule) => ({ ...rule, params: { ...rule.params, min_history: HOUR_MS, min_samples: 3 } }));
    const events = compatEvents(300, 14);
    const mid = Math.floor(events.length / 2);
    const seed = new DetectionEngine(fast, context);
    for (let i = 0; i < mid; i++) seed.process(events[i] as (typeof events)[number]);
    const snapshot = JSON.parse(JSON.stringify(seed.snapshot())) as EngineState;
    const written = JSON.stringify(snapshot);
    const secondHalf = (): string[] => {
      const engine = new DetectionEngine(fast, context);
      engine.restore(snapshot);
      const found: Detection[] = [];
      // fresh event objects each time, as a new process would have
      const again = compatEvents(300, 14);
      for (let i = mid; i < again.length; i++) found.push(...engine.process(again[i] as (typeof again)[number]));
      found.push(...engine.advance(Date.parse((again[again.length - 1] as (typeof again)[number]).time) + 3 * HOUR_MS));
      return found.map((d) => `${d.detectorId} ${d.id} ${d.score} ${d.severity}`);
    };
    const first = secondHalf();
    expect(JSON.stringify(snapshot)).toBe(written);
    const second = secondHalf();
    expect(second).toEqual(first);
    const byRule = new Map<string, number>();
    for (const line of first) byRule.set(line.split(' ')[0] as string, (byRule.get(line.split(' ')[0] as string) ?? 0) + 1);
    expect([byRule.get('baseline.new_context') ?? 0, byRule.get('baseline.breadth') ?? 0].every((n) => n > 0)).toBe(true);
  });
});

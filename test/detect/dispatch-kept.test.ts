/**
 * A rule copied with other params (a tuning overlay, a bench) keeps its dispatch for a detector
 * whose `wants` is exactly the condition (DetectorModule.wants 'condition'): the engine then never
 * calls `wants`, the dispatch residual decides. For any other detector the copy's dispatch is
 * dropped and `wants` is asked for every event of the rule's kinds. Detections are the same.
 */
import { describe, expect, it } from 'vitest';
import type { CompiledRule } from '../../src/detect/compiled-rule.js';
import { DetectionEngine } from '../../src/detect/detection-engine.js';
import type { DetectorModule } from '../../src/detect/detector.js';
import { DETECTOR_REGISTRY } from '../../src/detect/detector-registry.js';
import { loadRuleSet } from '../../src/detect/rule-loader.js';
import { SUM_DETECTOR } from '../../src/detect/sum-detector.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { audit, makeEvent, ruleHead, writeTree } from './rule-fixtures.js';

const SUM_RULE = `${ruleHead('t.copy_rows', 'sum')}match:\n  sel_copy:\n    kind: audit\n    audit.command: COPY\nfield: audit.rows\ntotal: 1000\nwindow: 1h\n`;

/** The sum module with `wants` as given, counting the calls of its detectors' `wants`. */
function countingSum(wants: DetectorModule['wants']): { registry: Map<string, DetectorModule>; wantsCalls: () => number } {
  let calls = 0;
  const module: DetectorModule = {
    ...(SUM_DETECTOR as DetectorModule),
    wants,
    create: (rule, deps) => {
      const detector = SUM_DETECTOR.create(rule as Parameters<typeof SUM_DETECTOR.create>[0], deps);
      const own = detector.wants.bind(detector);
      detector.wants = (event, context) => {
        calls++;
        return own(event, context);
      };
      return detector;
    },
  };
  return { registry: new Map([...DETECTOR_REGISTRY, ['sum', module]]), wantsCalls: () => calls };
}

const EVENTS: AccessEvent[] = [
  ['SELECT', 40],
  ['COPY', 60],
  ['UPDATE', 5],
  ['COPY', 70],
  ['SELECT', 900],
].map(([command, rows], i) => makeEvent({ id: `e${i}`, time: `2026-11-29T17:00:0${i}.000Z`, kind: 'audit', user: 'app', audit: audit({ command: command as string, rows: rows as number }) }));

describe('dispatch of a rule copied with other params', () => {
  it("is kept for a 'condition' detector (wants never called) and dropped for another (wants asked per audit event), with the same detections", async () => {
    const loaded = await loadRuleSet({ ruleDirs: [await writeTree({ 'r.yaml': SUM_RULE })], registry: DETECTOR_REGISTRY });
    const rule = loaded.rules[0] as CompiledRule;
    const tuned: CompiledRule = { ...rule, params: { ...rule.params, total: 100 } };
    const results: { detections: string[]; wantsCalls: number }[] = [];
    for (const wants of ['condition', undefined] as const) {
      const { registry, wantsCalls } = countingSum(wants);
      const engine = new DetectionEngine([tuned], loaded.context, { registry });
      const detections = EVENTS.flatMap((event) => engine.process(event)).map((d) => `${d.detectorId} ${d.count} ${d.lastSeen}`);
      results.push({ detections, wantsCalls: wantsCalls() });
    }
    expect(results).toEqual([
      { detections: ['t.copy_rows 2 2026-11-29T17:00:03.000Z'], wantsCalls: 0 },
      { detections: ['t.copy_rows 2 2026-11-29T17:00:03.000Z'], wantsCalls: 5 },
    ]);
  });
});

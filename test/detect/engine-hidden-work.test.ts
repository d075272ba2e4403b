import { describe, expect, it } from 'vitest';
import type { Detection } from '../../src/domain/detection.js';
import type { MatchContext } from '../../src/detect/compiled-rule.js';
import { DetectionEngine } from '../../src/detect/detection-engine.js';
import type { Detector, DetectorModule } from '../../src/detect/detector.js';
import { DETECTOR_REGISTRY } from '../../src/detect/detector-registry.js';
import { MATCH_DETECTOR } from '../../src/detect/match-detector.js';
import { at, CONTEXT, makeEvent, makeRule } from './detector-fixtures.js';

/** the real registry plus a `counting` type: a match detector whose `advance` calls are counted */
function countingRegistry(advances: boolean, calls: { advance: number }): Map<string, DetectorModule> {
  const module: DetectorModule = {
    ...MATCH_DETECTOR,
    type: 'counting',
    advances,
    create: (rule, deps) => {
      const inner = MATCH_DETECTOR.create(rule as Parameters<typeof MATCH_DETECTOR.create>[0], deps);
      const detector: Detector = {
        rule,
        wants: (event, context: MatchContext) => inner.wants(event, context),
        observe: (event, context: MatchContext) => inner.observe(event, context),
        advance: (watermarkMs: number): Detection[] => {
          calls.advance++;
          return inner.advance(watermarkMs);
        },
        snapshot: () => inner.snapshot(),
        restore: (state) => inner.restore(state),
      };
      return detector;
    },
  };
  return new Map([...DETECTOR_REGISTRY, ['counting', module as DetectorModule]]);
}

describe('DetectionEngine: work skipped for detections and watermarks that change nothing', () => {
  it('never hands the watermark to a detector whose module says advance does nothing; others get every step', () => {
    for (const advances of [false, true]) {
      const calls = { advance: 0 };
      const registry = countingRegistry(advances, calls);
      const rule = { ...makeRule({ type: 'match', selections: { sel: (event) => event.user === 'eve' } }), type: 'counting' };
      const engine = new DetectionEngine([rule], CONTEXT, { registry });
      const found = [0, 2, 4].flatMap((seconds) => engine.process(makeEvent({ time: at(seconds), user: 'eve' })));
      found.push(...engine.advance(Date.parse(at(100))));
      expect(found.map((d) => d.lastSeen)).toEqual([at(0), at(2), at(4)]);
      // watermark steps, each >= 1 s past the last one handed on: at(0), at(2), at(4) less 5 s, then advance(100 s)
      expect(calls.advance).toBe(advances ? 4 : 0);
    }
  });

  it('builds the explanation of a match detection only when suppression lets it through', () => {
    let selectionCalls = 0;
    const rule = makeRule({
      type: 'match',
      selections: {
        sel_eve: (event) => {
          selectionCalls++;
          return event.user === 'eve';
        },
      },
      matches: (event) => event.user === 'eve',
      groupBy: ['user'],
      suppressMs: 3_600_000,
    });
    const engine = new DetectionEngine([rule], CONTEXT);
    const first = engine.process(makeEvent({ time: at(0), user: 'eve', audit: { class: 'READ', command: 'SELECT', object_type: 'TABLE', object_name: 'public.customers', rows: 1, statement: null, substatement_id: null, statement_id: null, parameter: null } as never }));
    expect(first).toHaveLength(1);
    expect(first[0]?.explanation).toEqual({ type: 'match', condition: 'sel_eve', group_by: ['user'], matched_selections: ['sel_eve'] });
    expect(first[0]?.summary).toBe('Test match: audit READ SELECT on public.customers for user=eve');
    expect(selectionCalls).toBe(1);
    const hidden = [1, 2, 3].flatMap((seconds) => engine.process(makeEvent({ time: at(seconds), user: 'eve' })));
    expect(hidden).toEqual([]);
    expect(engine.stats().suppressed).toBe(3);
    expect(selectionCalls).toBe(1);
  });
});

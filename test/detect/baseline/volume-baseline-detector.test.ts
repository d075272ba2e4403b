/**
 * baseline_volume: warm-up, early firing within the event that crosses the bound, once per
 * entity and bucket, the explanation's exact shape, severity ladder + class raise, bucket closing
 * at the watermark, the entity bound, and the engine's rule that events raising a high or
 * critical detection do not teach the baseline.
 */
import { describe, expect, it } from 'vitest';
import type { CompiledRule } from '../../../src/detect/compiled-rule.js';
import { DetectionEngine } from '../../../src/detect/detection-engine.js';
import { VolumeBaselineDetector } from '../../../src/detect/baseline/volume-baseline-detector.js';
import { MONDAY_MS, readEvent, shippedBaselines } from './baseline-fixtures.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

async function volumeRule(params: Record<string, unknown> = {}): Promise<{ rule: CompiledRule; context: Awaited<ReturnType<typeof shippedBaselines>>['context'] }> {
  const { rules, context } = await shippedBaselines();
  const shipped = rules.find((rule) => rule.id === 'baseline.volume') as CompiledRule;
  return { rule: { ...shipped, params: { ...shipped.params, ...params } }, context };
}

/** one 3-row read of customers by support_sari at 10:00 on each of `days` days */
function history(days: number) {
  return Array.from({ length: days }, (_, day) => readEvent('support_sari', 'public.customers', 3, MONDAY_MS + day * DAY_MS + 10 * HOUR_MS));
}

describe('baseline_volume', () => {
  it('fires within the event that crosses the bound, for the role and the role x pii table, with the documented explanation', async () => {
    const { rule, context } = await volumeRule();
    const detector = new VolumeBaselineDetector(rule as never);
    for (const event of history(11)) expect(detector.observe(event, context)).toEqual([]);
    const bulk = readEvent('support_sari', 'public.customers', 5000, MONDAY_MS + 11 * DAY_MS + 10 * HOUR_MS + 5_000);
    const found = detector.observe(bulk, context);
    expect(found.map((d) => d.groupKey)).toEqual(['{"user":"support_sari"}', '{"relation":"public.customers","user":"support_sari"}']);
    const table = found[1]!;
    expect(table.detectorId).toBe('baseline.volume');
    expect(table.explanation).toEqual({
      type: 'baseline_volume',
      condition: '1 of sel_*',
      group_by: [],
      method: 'robust_z_log1p_all',
      observed: 5000,
      expected: 3,
      spread: 1.676,
      score: 13.742,
      threshold: 5,
      history_size: 11,
      history_period_ms: 11 * DAY_MS,
      bucket: '2026-01-16T10:00:00.000Z/1h',
      entity: 'role_table',
      measure: 'rows',
    });
    expect(table.score).toBe(13.742);
    // ladder: score >= 10 -> high, >= 20 -> critical; the pii table raises one more level
    expect(table.severity).toBe('critical');
    expect(table.dataClasses).toEqual(['contact', 'national_id', 'pii']);
    expect(table.summary).toBe('Unusual read volume for the role: 5000 rows in 1h; usual 3 (MAD 1.676), z=13.742 > 5 for relation=public.customers, user=support_sari');
    expect(table.evidence.map((item) => item.event_id)).toEqual([bulk.id]);
    // once per entity and bucket: a second bulk read in the same hour raises nothing
    expect(detector.observe(readEvent('support_sari', 'public.customers', 9000, bulk.time ? Date.parse(bulk.time) + 60_000 : 0), context)).toEqual([]);
  });

  it('stays quiet before the warm-up (min_history and min_samples) and for usual volumes', async () => {
    const { rule, context } = await volumeRule();
    const detector = new VolumeBaselineDetector(rule as never);
    const events = history(9);
    // nine closed buckets after 9 days: min_samples 10 not reached, so even a bulk read is not judged
    for (const event of events) detector.observe(event, context);
    expect(detector.observe(readEvent('support_sari', 'public.customers', 5000, MONDAY_MS + 9 * DAY_MS + 10 * HOUR_MS), context)).toEqual([]);
    const warm = new VolumeBaselineDetector(rule as never);
    for (const event of history(11)) warm.observe(event, context);
    expect(warm.observe(readEvent('support_sari', 'public.customers', 6, MONDAY_MS + 11 * DAY_MS + 10 * HOUR_MS), context)).toEqual([]);
  });

  it('closes buckets when the watermark passes their end, so the history grows without later events of the entity', async () => {
    const { rule, context } = await volumeRule();
    const detector = new VolumeBaselineDetector(rule as never);
    detector.observe(readEvent('support_sari', 'public.customers', 3, MONDAY_MS + 10 * HOUR_MS), context);
    const entities = (): unknown => (detector.snapshot() as { entities: unknown }).entities;
    const before = JSON.stringify(entities());
    detector.advance(MONDAY_MS + 10 * HOUR_MS + 30 * 60_000);
    expect(JSON.stringify(entities())).toBe(before);
    detector.advance(MONDAY_MS + 11 * HOUR_MS);
    const state = detector.snapshot() as { entities: unknown[][] };
    // [table, user, relation, classes, server, firstSeen, lastSeen, bucket, closed, ...]: both entities closed bucket 10:00 into their history
    expect(state.entities.map((e) => [e[0], e[7], e[8], (e[15] as number[][])[0]])).toEqual([
      [0, -2_147_483_648, (MONDAY_MS + 10 * HOUR_MS) / HOUR_MS, [(MONDAY_MS + 10 * HOUR_MS) / HOUR_MS]],
      [1, -2_147_483_648, (MONDAY_MS + 10 * HOUR_MS) / HOUR_MS, [(MONDAY_MS + 10 * HOUR_MS) / HOUR_MS]],
    ]);
  });

  it('bounds the entities it holds (max_entities), dropping the least recently seen and counting them', async () => {
    const { rule, context } = await volumeRule({ max_entities: 10, entities: ['role'] });
    const detector = new VolumeBaselineDetector(rule as never);
    for (let i = 0; i < 25; i++) detector.observe(readEvent(`role_${i}`, null, 1, MONDAY_MS + i * 1000), context);
    expect((detector.snapshot() as { entities: unknown[] }).entities.length).toBeLessThanOrEqual(10);
    expect(detector.evicted).toBe(15);
  });

  it('does not learn from events that raised a high or critical rule detection (engine: baselines run after rules)', async () => {
    const { rule, context } = await volumeRule();
    const highRule: CompiledRule = { ...rule, id: 't.bulk_marker', type: 'match', severity: 'high', params: {}, matches: (event) => event.audit?.rows === 20, kinds: new Set(['audit']) };
    const run = (withMarker: boolean): number[] => {
      const engine = new DetectionEngine(withMarker ? [rule, highRule] : [rule], context);
      for (const event of history(11)) engine.process(event);
      // day 12: a read of 20 rows (below the bound; tainted when the high rule runs), then days 13-14 as usual
      engine.process(readEvent('support_sari', 'public.customers', 20, MONDAY_MS + 11 * DAY_MS + 10 * HOUR_MS));
      for (let day = 12; day < 14; day++) engine.process(readEvent('support_sari', 'public.customers', 3, MONDAY_MS + day * DAY_MS + 10 * HOUR_MS));
      engine.advance(MONDAY_MS + 15 * DAY_MS);
      const state = engine.snapshot().detectors['baseline.volume']!.state as { entities: unknown[][] };
      const ring = state.entities[1]![15] as [number[], number[], number];
      return ring[1].filter((_, i) => i % 2 === 0).map((v) => Math.round(Math.expm1(v)));
    };
    // untainted: the 20-row day is learned; tainted by the high rule's detection on the same event: it is not
    expect(run(false)).toEqual([3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 20, 3, 3]);
    expect(run(true)).toEqual([3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
  });
});

/**
 * The baseline types load like any rule type: the registry knows them, their parameters are
 * validated with one precise problem per mistake, and overlays tune them without copying the rule.
 */
import { describe, expect, it } from 'vitest';
import { DETECTOR_REGISTRY } from '../../../src/detect/detector-registry.js';
import { loadRuleSet } from '../../../src/detect/rule-loader.js';
import { RuleLoadError } from '../../../src/domain/errors.js';
import { ruleHead, writeTree } from '../rule-fixtures.js';

const TESTS = `tests:
  - name: fires
    events: [{ time: 2026-01-01T00:00:00Z, kind: audit, user: a }]
    expect: { detections: 1 }
  - name: quiet
    events: [{ time: 2026-01-01T00:00:00Z, kind: audit, user: b }]
    expect: { detections: 0 }
`;
const VOLUME = `${ruleHead('t.volume', 'baseline_volume')}match:\n  sel_read:\n    kind: audit\n`;

async function problemsOf(files: Record<string, string>): Promise<string[]> {
  const dir = await writeTree(files);
  try {
    await loadRuleSet({ ruleDirs: [dir], registry: DETECTOR_REGISTRY });
  } catch (error) {
    if (!(error instanceof RuleLoadError)) throw error;
    return error.problems.map((p) => p.replaceAll(dir, '<dir>'));
  }
  return [];
}

describe('baseline rule types', () => {
  it('are registered as baseline-phase plug-ins after the seven rule types', () => {
    const baselines = [...DETECTOR_REGISTRY.values()].filter((module) => module.phase === 'baseline').map((module) => module.type);
    expect(baselines).toEqual(['baseline_volume', 'baseline_breadth', 'baseline_new_context', 'baseline_time_of_week', 'baseline_failure_rate']);
  });

  it('parse durations to ms and apply the documented defaults', () => {
    const schema = DETECTOR_REGISTRY.get('baseline_volume')!.paramsSchema;
    expect(schema.parse({ bucket: '15m', min_history: '2d' })).toEqual({
      min_history: 172_800_000,
      min_samples: 20,
      half_life: 1_209_600_000,
      severity_ladder: [],
      raise_for_classes: [],
      max_entities: 100_000,
      entities: ['role', 'role_table'],
      bucket: 900_000,
      table_classes: ['pii'],
      mad_floor: 0.25,
      threshold: 4,
    });
  });

  it('report each bad parameter precisely: no unit, a negative threshold, an unknown entity, a key of another type', async () => {
    expect(await problemsOf({ 'b.yaml': `${VOLUME}bucket: 60\nthreshold: -1\nentities: [role, host]\ndormant_after: 7d\n${TESTS}` })).toEqual([
      '<dir>/b.yaml:10: rule t.volume: bucket: expected a duration such as 30s, 5m, 1h or 7d, got 60',
      '<dir>/b.yaml:11: rule t.volume: threshold: must be > 0',
      '<dir>/b.yaml:12: rule t.volume: entities[1]: expected one of role, role_table, got "host"',
      '<dir>/b.yaml:13: rule t.volume: dormant_after: "dormant_after" is not a parameter of type baseline_volume (baseline_volume takes min_history, min_samples, half_life, severity_ladder, raise_for_classes, max_entities, entities, bucket, table_classes, mad_floor, threshold)',
    ]);
  });

  it('are tuned by an overlay (threshold, bucket) without copying the rule', async () => {
    const dir = await writeTree({ 'b.yaml': `${VOLUME}threshold: 5\n${TESTS}`, 'local/tune.yaml': 'schema: jaga/overlay/v1\nid: t.volume\nthreshold: 8\nbucket: 30m\n' });
    const pack = await loadRuleSet({ ruleDirs: [dir], overlayDirs: [`${dir}/local`], registry: DETECTOR_REGISTRY });
    const rule = pack.rules.find((r) => r.id === 't.volume')!;
    expect([rule.params.threshold, rule.params.bucket, rule.origin.overlays.length]).toEqual([8, 1_800_000, 1]);
  });
});

/**
 * Every baseline detection explains itself (issue 5): method, observed, expected, spread, score,
 * threshold, history_size, history_period_ms, bucket and entity, with exact values, for the
 * shipped rules' own firing inline tests run through the production engine.
 */
import { describe, expect, it } from 'vitest';
import type { Detection } from '../../../src/domain/detection.js';
import type { CompiledRule } from '../../../src/detect/compiled-rule.js';
import { DetectionEngine } from '../../../src/detect/detection-engine.js';
import { buildTestEvent } from '../../../src/detect/rule-test-runner.js';
import { shippedBaselines } from './baseline-fixtures.js';

const DAY_MS = 86_400_000;

async function fire(ruleId: string, testIndex: number): Promise<Detection[]> {
  const { rules, context } = await shippedBaselines();
  const rule = rules.find((r) => r.id === ruleId) as CompiledRule;
  const engine = new DetectionEngine([{ ...rule, suppressMs: 0 }], context);
  const events = (rule.tests[testIndex] as CompiledRule['tests'][number]).events;
  return events.flatMap((fields, i) => engine.process(buildTestEvent(fields, `test:${ruleId}:${i}`)));
}

/** the explanation without the builder's type/condition/group_by */
function explained(detection: Detection): Record<string, unknown> {
  const { type: _type, condition: _condition, group_by: _groupBy, ...rest } = detection.explanation;
  return rest;
}

describe('baseline explanations', () => {
  it('new context: the new client and application of a warmed-up role', async () => {
    const [detection] = await fire('baseline.new_context', 0);
    expect(explained(detection!)).toEqual({
      method: 'first_seen',
      observed: 'client_addr=10.0.0.77; application_name=psql',
      expected: '3 known contexts',
      spread: 0,
      score: 2,
      threshold: 1,
      history_size: 11,
      history_period_ms: 11 * DAY_MS,
      bucket: '2026-01-12T10:00:00.000Z',
      entity: 'role_context',
      known_of_other_kinds: 1,
    });
    expect([detection!.severity, detection!.score, detection!.summary]).toEqual([
      'medium',
      2,
      'New client, application or table for the role, new role, or dormant role: new client_addr=10.0.0.77; application_name=psql for user=analyst',
    ]);
  });

  it('new context: a role never seen before, then a dormant one', async () => {
    const detections = await fire('baseline.new_context', 2);
    expect(detections.map((d) => [d.group.user, d.explanation.method, d.explanation.observed, d.explanation.score])).toEqual([
      ['dormant_ops', 'new_role', 'role not seen before', 1],
      ['analyst', 'dormant', 20 * DAY_MS, 1.429],
    ]);
  });

  it('failure rate: four failed logins of a role that never fails, against an EWMA of 0', async () => {
    const detections = await fire('baseline.failure_rate', 0);
    expect(detections.map((d) => [d.groupKey, explained(d)])).toEqual([
      ['{"user":"dba_admin"}', { method: 'ewma_poisson', observed: 4, expected: 0, spread: 0.5, score: 8, threshold: 6, history_size: 11, history_period_ms: 11 * DAY_MS, bucket: '2026-01-12T10:00:00.000Z/1h', entity: 'role', measure: 'auth_failure' }],
      ['{"client_addr":"10.0.0.5"}', { method: 'ewma_poisson', observed: 4, expected: 0, spread: 0.5, score: 8, threshold: 6, history_size: 11, history_period_ms: 11 * DAY_MS, bucket: '2026-01-12T10:00:00.000Z/1h', entity: 'client', measure: 'auth_failure' }],
    ]);
  });

  it('time of week: a 03:00 login of a daytime role, as a lift against the uniform rate', async () => {
    const [detection] = await fire('baseline.time_of_week', 0);
    const explanation = explained(detection!);
    expect(Object.keys(explanation).sort()).toEqual(['bucket', 'entity', 'expected', 'history_period_ms', 'history_size', 'lift_bound', 'method', 'observed', 'score', 'spread', 'threshold']);
    expect([explanation.method, explanation.bucket, explanation.entity, explanation.threshold, explanation.history_size]).toEqual(['hour_of_week_profile', 'tue 03:00', 'role', 2.737, 31.016]);
    expect(explanation.observed as number).toBeLessThan(0.15);
    expect(explanation.score as number).toBeGreaterThan(2.737);
  });

  it('breadth: three personal-data tables in one session against sessions of one', async () => {
    const [detection] = await fire('baseline.breadth', 0);
    expect(explained(detection!)).toEqual({
      method: 'robust_z_log1p_all',
      observed: 3,
      expected: 1,
      spread: 0.324,
      score: 3.117,
      threshold: 3,
      history_size: 11,
      history_period_ms: 11 * DAY_MS,
      bucket: '2026-01-12T10:00:00.000Z/1h',
      entity: 'session',
    });
  });
});

/**
 * Behaviour tests of the rule language through the loader and the production engine (issue 4,
 * "Behaviour tests"): an overlay changing a shipped rule's threshold, suppression reporting what it
 * hid, an expired exception ignored with a warning, and detector state snapshot/restore in the
 * middle of a window over the real corpus. Hot reload under load is in rule-watcher.test.ts.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load-config-file.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import type { Detection } from '../../src/domain/detection.js';
import { DetectionEngine, type EngineState } from '../../src/detect/detection-engine.js';
import { DETECTOR_REGISTRY } from '../../src/detect/detector-registry.js';
import { type LoadedRuleSet, loadRuleSet } from '../../src/detect/rule-loader.js';
import type { SuppressionReport } from '../../src/detect/suppression.js';
import { QueryEnricher } from '../../src/enrich/query-enricher.js';
import { parseLogFile } from '../helpers/parse-log-file.js';
import { makeEvent, writeTree } from './rule-fixtures.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CRM_CONFIG = join(ROOT, 'examples/crm/jaga.yaml');
const CORPUS_CSV = resolve(ROOT, '../shared/corpus/pg15-pgaudit/postgresql-2026-11-29_171716.csv');
const NOW = new Date('2026-06-01T00:00:00Z');
const at = (s: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

const head = (id: string, type: string): string => `schema: jaga/rules/v1
id: ${id}
title: Test ${id}
description: Written by the behaviour tests.
severity: high
type: ${type}
`;
const TESTS = `tests:
  - name: fires
    events: [{ time: 2026-01-01T00:00:00Z, kind: authorization, user: a, application_name: sqlmap }]
    expect: { detections: 1 }
  - name: quiet
    events: [{ time: 2026-01-01T00:00:00Z, kind: authorization, user: a, application_name: psql }]
    expect: { detections: 0 }
`;

/** The shipped pack with the example CRM site config (lists, catalog), plus `overlayDirs`. */
async function loadPack(overlayDirs: string[] = []): Promise<LoadedRuleSet> {
  const config = await loadConfigFile(CRM_CONFIG);
  return loadRuleSet({ ...config.detection, overlayDirs: [...config.detection.overlayDirs, ...overlayDirs], registry: DETECTOR_REGISTRY, now: NOW });
}

describe('an overlay changing a shipped rule', () => {
  const failure = (s: number): AccessEvent => makeEvent({ id: `f:${s}`, time: at(s), kind: 'auth_failure', user: 'dba_admin', client_addr: '203.0.113.7', sqlstate: '28P01' });

  it('lowers jaga.auth.brute_force to 3 failures without copying the rule', async () => {
    const dir = await writeTree({ 'site.yaml': 'schema: jaga/overlay/v1\nid: jaga.auth.brute_force\ncount: 3\nseverity: critical\n' });
    const shipped = await loadPack();
    const tuned = await loadPack([dir]);
    const shippedRule = shipped.rules.find((r) => r.id === 'jaga.auth.brute_force');
    const tunedRule = tuned.rules.find((r) => r.id === 'jaga.auth.brute_force');
    expect(shippedRule?.params.count).toBe(10);
    expect([tunedRule?.params.count, tunedRule?.severity, tunedRule?.origin]).toEqual([3, 'critical', { file: join(ROOT, 'rules/auth.yaml'), overlays: [join(dir, 'site.yaml')] }]);
    expect(tuned.documents.get('jaga.auth.brute_force')?.changedBy).toEqual({ count: join(dir, 'site.yaml'), severity: join(dir, 'site.yaml') });

    const run = (set: LoadedRuleSet): Detection[] => {
      const engine = new DetectionEngine(set.rules, set.context);
      return [0, 5, 10].flatMap((s) => engine.process(failure(s)));
    };
    expect(run(shipped)).toEqual([]);
    expect(run(tuned).map((d) => [d.detectorId, d.severity, d.count, d.firstSeen, d.lastSeen, d.group])).toEqual([['jaga.auth.brute_force', 'critical', 3, at(0), at(10), { user: 'dba_admin' }]]);
  });
});

describe('suppression', () => {
  it('hides repeated detections of a group and reports what it hid (count, group, from/to) when it ends', async () => {
    const dir = await writeTree({
      'tools.yaml': `${head('test.tool_login', 'match')}match:\n  sel: { kind: authorization, application_name|contains: sqlmap }\ngroup_by: [user]\nsuppress: 10m\n${TESTS}`,
    });
    const set = await loadRuleSet({ ruleDirs: [dir], registry: DETECTOR_REGISTRY, now: NOW });
    const engine = new DetectionEngine(set.rules, set.context, { allowedLatenessMs: 0 });
    const login = (s: number, user: string): AccessEvent => makeEvent({ id: `l:${s}`, time: at(s), kind: 'authorization', user, application_name: 'sqlmap/1.8' });
    const shown = [login(0, 'a'), login(30, 'a'), login(45, 'b'), login(60, 'a'), login(90, 'a')].flatMap((e) => engine.process(e));
    expect(shown.map((d) => [d.group, d.lastSeen])).toEqual([
      [{ user: 'a' }, at(0)],
      [{ user: 'b' }, at(45)],
    ]);
    expect(engine.takeSuppressionReports()).toEqual([]);
    expect(engine.stats().suppressed).toBe(3);

    expect(engine.process(makeEvent({ id: 'tick', time: at(660), kind: 'connection' }))).toEqual([]);
    const reports: SuppressionReport[] = engine.takeSuppressionReports();
    expect(reports).toEqual([
      { ruleId: 'test.tool_login', server: 'db1', group: { user: 'a' }, groupKey: '{"user":"a"}', hidden: 3, from: at(0), to: at(600), lastHidden: at(90), shownDetectionId: shown[0]?.id },
    ]);
    expect(engine.process(login(700, 'a')).map((d) => [d.group, d.lastSeen])).toEqual([[{ user: 'a' }, at(700)]]);
  });
});

describe('exceptions', () => {
  it('ignores an expired exception with a load warning naming file, rule and exception, and applies one in force until it expires', async () => {
    const dir = await writeTree({
      'tools.yaml': `${head('test.tool_login', 'match')}match:
  sel: { kind: authorization, application_name|contains: sqlmap }
exceptions:
  - name: pentest_2025
    reason: Last year's pentest
    expires: 2025-12-31T00:00:00Z
    match: { user: redteam }
  - name: pentest_2026
    reason: Quarterly pentest from the red team host
    expires: 2026-01-01T00:10:00Z
    match: { client_addr|cidr: 10.9.0.0/16 }
${TESTS}`,
    });
    const set = await loadRuleSet({ ruleDirs: [dir], registry: DETECTOR_REGISTRY, now: new Date('2026-01-01T00:00:00Z') });
    expect(set.warnings).toEqual([`${join(dir, 'tools.yaml')}:10: rule test.tool_login: exceptions[0]: exception "pentest_2025" expired at 2025-12-31T00:00:00Z: ignored`]);
    expect(set.rules[0]?.exceptions.map((e) => e.name)).toEqual(['pentest_2026']);

    const engine = new DetectionEngine(set.rules, set.context);
    const login = (s: number, user: string, client: string): AccessEvent => makeEvent({ id: `l:${s}`, time: at(s), kind: 'authorization', user, client_addr: client, application_name: 'sqlmap' });
    const found = [login(0, 'redteam', '192.0.2.1'), login(10, 'redteam', '10.9.1.1'), login(700, 'redteam', '10.9.1.1')].flatMap((e) => engine.process(e));
    expect(found.map((d) => [d.entity.client_addr, d.lastSeen])).toEqual([
      ['192.0.2.1', at(0)],
      ['10.9.1.1', at(700)],
    ]);
    expect(engine.stats().exceptionHits).toBe(1);
  });
});

describe('detector state snapshot and restore over the real corpus', () => {
  let events: AccessEvent[] = [];
  const packPresent = existsSync(join(ROOT, 'rules/auth.yaml'));

  beforeAll(async () => {
    const parsed = await parseLogFile(CORPUS_CSV, { format: 'csvlog', server: 'crm' });
    const enricher = await QueryEnricher.create();
    for (const event of parsed.events) enricher.enrich(event);
    events = parsed.events;
  });

  /** every detection and suppression report of `events` through one engine (or two, split at `splitAt` with a JSON snapshot between) */
  async function run(splitAt: number | null): Promise<{ detections: Detection[]; reports: SuppressionReport[]; before: Detection[]; state: EngineState | null }> {
    const first = await loadPack();
    let engine = new DetectionEngine(first.rules, first.context);
    const detections: Detection[] = [];
    let before: Detection[] = [];
    let state: EngineState | null = null;
    events.forEach((event, i) => {
      if (i === splitAt) {
        before = [...detections];
        state = JSON.parse(JSON.stringify(engine.snapshot())) as EngineState;
        engine = new DetectionEngine(first.rules, first.context);
        engine.restore(state);
      }
      detections.push(...engine.process(event));
    });
    const last = events[events.length - 1] as AccessEvent;
    detections.push(...engine.advance(Date.parse(last.time) + 60_000));
    const reports = [...engine.takeSuppressionReports(), ...engine.closeSuppressions()];
    return { detections, reports, before, state };
  }

  it.runIf(packPresent)('gives the same detections and suppression reports as an uninterrupted run when split in the middle of the brute-force window', async () => {
    expect(events.length).toBe(5_905);
    const whole = await run(null);
    const failures = events.map((e, i) => [e, i] as const).filter(([e]) => e.kind === 'auth_failure' && e.user === 'dba_admin');
    expect(failures.length).toBe(32);
    const brute = whole.detections.filter((d) => d.detectorId === 'jaga.auth.brute_force');
    expect(brute.map((d) => [d.group, d.count, d.firstSeen])).toEqual([[{ user: 'dba_admin' }, 10, failures[0]?.[0].time]]);

    const midWindow = failures[4]?.[1] as number;
    const split = await run(midWindow);
    expect(split.before.some((d) => d.detectorId === 'jaga.auth.brute_force')).toBe(false);
    expect(JSON.stringify(split.state?.detectors['jaga.auth.brute_force']?.state)).toContain('dba_admin');
    expect(split.detections).toEqual(whole.detections);
    expect(whole.reports.length).toBeGreaterThan(0);
    expect(split.reports).toEqual(whole.reports);

    for (const at of [1, Math.floor(events.length / 3), Math.floor(events.length / 2), events.length - 1]) {
      const other = await run(at);
      expect({ at, detections: other.detections.map((d) => d.id) }).toEqual({ at, detections: whole.detections.map((d) => d.id) });
      expect(other.reports).toEqual(whole.reports);
    }
  });
});

import { resolve } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load-config-file.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import type { CompiledRule } from '../../src/detect/compiled-rule.js';
import { DetectionEngine } from '../../src/detect/detection-engine.js';
import { DETECTOR_REGISTRY } from '../../src/detect/detector-registry.js';
import { MAX_CACHED_VALUES } from '../../src/detect/field-condition.js';
import { type LoadedRuleSet, loadRuleSet } from '../../src/detect/rule-loader.js';
import { audit, makeEvent, ruleHead, writeTree } from './rule-fixtures.js';

const SITE_CONFIG = resolve(import.meta.dirname, '../../examples/crm/jaga.yaml');
const NOW = new Date('2026-11-30T00:00:00Z');

/** The rules without their dispatch: the engine then offers every event of a rule's kinds to `wants`. */
function withoutDispatch(rules: CompiledRule[]): CompiledRule[] {
  return rules.map((rule) => {
    const copy = { ...rule };
    delete copy.dispatch;
    return copy;
  });
}

/** Every detection (full JSON) and suppression report of `events` through a fresh engine. */
function detectionsOf(rules: CompiledRule[], set: LoadedRuleSet, events: AccessEvent[]): string[] {
  const engine = new DetectionEngine(rules, set.context);
  const out: string[] = [];
  for (const event of events) for (const detection of engine.process(event)) out.push(JSON.stringify(detection));
  for (const detection of engine.advance(Date.parse(events[events.length - 1]?.time ?? '2026-01-01T00:00:00Z') + 86_400_000)) out.push(JSON.stringify(detection));
  for (const report of engine.closeSuppressions()) out.push(JSON.stringify(report));
  return out;
}

const KINDS = ['audit', 'authorization', 'auth_failure', 'error', 'other', 'Audit'] as const;
const COMMANDS = ['SELECT', 'select', 'GRANT', 'ALTER SYSTEM', 'ALTER ROLE', 'COPY', 'TRUNCATE TABLE', 'DROP TABLE', 'SET', 'DROP EXTENSION'] as const;
const FLAGS = ['copy_to', 'copy_program', 'tautology', 'union_select', 'no_where_write', 'has_where', 'server_file_function', 'parse_error'] as const;
const STATEMENTS = ['SELECT * FROM customers', 'GRANT ALL ON customers TO public', 'ALTER SYSTEM SET pgaudit.log = none', 'SELECT pg_reload_conf()', 'ALTER ROLE x SUPERUSER', 'COPY customers TO STDOUT'] as const;

/** Rules (and suppression reports) the generated events make fire (seed 4): found by running it. */
const FIRING_RULES: string[] = [
  'jaga.audit.tampering',
  'jaga.auth.attack_tool',
  'jaga.auth.service_account_misuse',
  'jaga.auth.unknown_role',
  'jaga.data.destructive_change',
  'jaga.data.pii_copy',
  'jaga.data.pii_read_over_cap',
  'jaga.injection.signature',
  'jaga.privilege.broad_grant',
  'jaga.privilege.escalation',
  'jaga.server.file_access',
  'report',
];

/** Events over a small vocabulary, so that many of the pack's selections match some of them. */
const eventArb = fc.record({
  kind: fc.constantFrom(...KINDS),
  user: fc.constantFrom('app', 'dba_admin', 'svc_backup', 'etl_loader', null),
  application_name: fc.constantFrom('psql', 'sqlmap', 'pg_dump', 'crm-web', null),
  client_addr: fc.constantFrom('10.0.0.5', '203.0.113.9', null),
  sqlstate: fc.constantFrom('42501', '42601', '28P01', null),
  class: fc.constantFrom('READ', 'WRITE', 'ROLE', 'DDL', 'MISC'),
  command: fc.constantFrom(...COMMANDS),
  objectType: fc.constantFrom('TABLE', 'VIEW', null),
  object: fc.constantFrom('public.customers', 'public.orders', 'customers', null),
  rows: fc.constantFrom(0, 5, 2000, null),
  statement: fc.constantFrom(...STATEMENTS),
  flags: fc.option(fc.subarray([...FLAGS], { maxLength: 3 }), { nil: null }),
  stepMs: fc.integer({ min: 0, max: 120_000 }),
});

describe('rule dispatch (issue 4: an event reaches only the rules that can match it)', () => {
  let set: LoadedRuleSet;
  beforeAll(async () => {
    const config = await loadConfigFile(SITE_CONFIG);
    set = await loadRuleSet({ ...config.detection, registry: DETECTOR_REGISTRY, now: NOW });
  });

  it('gives the same detections and suppression reports as offering every event to every rule of its kind (default pack)', () => {
    const firing = new Set<string>();
    fc.assert(
      fc.property(fc.array(eventArb, { minLength: 1, maxLength: 60 }), (specs) => {
        let timeMs = Date.parse('2026-11-29T17:00:00.000Z');
        const events = specs.map((spec, i) => {
          timeMs += spec.stepMs;
          const isAudit = spec.kind.toLowerCase() === 'audit';
          return makeEvent({
            id: `e${i}`,
            time: new Date(timeMs).toISOString(),
            kind: spec.kind as AccessEvent['kind'],
            user: spec.user,
            application_name: spec.application_name,
            client_addr: spec.client_addr,
            sqlstate: spec.sqlstate,
            message: spec.kind === 'authorization' ? 'connection authorized: user=app' : null,
            audit: isAudit ? audit({ class: spec.class, command: spec.command, object_type: spec.objectType, object_name: spec.object, rows: spec.rows, statement: spec.statement }) : null,
            query: spec.flags === null ? null : { fingerprint: 'fp', normalized: spec.statement, relations: spec.object === null ? [] : [spec.object], flags: spec.flags },
          });
        });
        const found = detectionsOf(set.rules, set, events);
        expect(found).toEqual(detectionsOf(withoutDispatch(set.rules), set, events));
        for (const line of found) firing.add((JSON.parse(line) as { detectorId?: string; rule_id?: string }).detectorId ?? 'report');
      }),
      { numRuns: 60, seed: 4 },
    );
    // the vocabulary reaches rules indexed by command, flags and class, not only by kind
    expect([...firing].sort()).toEqual(FIRING_RULES);
  });

  it('specialises a rule to the dispatch fields: decided false, decided true, or the remaining test', async () => {
    const root = await writeTree({
      'r.yaml': `${ruleHead('t.grant', 'match')}match:\n  sel_grant:\n    kind: audit\n    audit.command: GRANT\n    query.normalized|re: '\\bPUBLIC\\b'\n  sel_any_audit:\n    kind: audit\n    audit.class: ROLE\n  condition: sel_grant or sel_any_audit\n`,
    });
    const loaded = await loadRuleSet({ ruleDirs: [root], registry: DETECTOR_REGISTRY, now: NOW });
    const rule = loaded.rules[0] as CompiledRule;
    const dispatch = rule.dispatch as NonNullable<CompiledRule['dispatch']>;
    expect(dispatch.refined).toBe(true);
    const select = makeEvent({ kind: 'audit', audit: audit({ class: 'READ', command: 'SELECT' }) });
    const role = makeEvent({ kind: 'audit', audit: audit({ class: 'ROLE', command: 'SELECT' }) });
    const grant = makeEvent({ kind: 'audit', audit: audit({ class: 'READ', command: 'grant' }), query: { fingerprint: 'f', normalized: 'GRANT SELECT ON t TO PUBLIC', relations: [], flags: [] } });
    expect(dispatch.condition(select)).toBe(false);
    expect(dispatch.condition(role)).toBe(true);
    const remaining = dispatch.condition(grant);
    expect(typeof remaining).toBe('function');
    expect((remaining as (event: AccessEvent) => boolean)(grant)).toBe(true);
    const privateGrant = { ...grant, query: { fingerprint: 'f', normalized: 'GRANT SELECT ON t TO bob', relations: [], flags: [] } };
    expect((remaining as (event: AccessEvent) => boolean)(privateGrant)).toBe(false);
    expect(new DetectionEngine(loaded.rules, loaded.context).process(grant).map((d) => d.detectorId)).toEqual(['t.grant']);
    expect(new DetectionEngine(loaded.rules, loaded.context).process(select)).toEqual([]);
  });

  it('ignores the dispatch of a rule copy whose matches was replaced (it belongs to the original predicate)', async () => {
    const root = await writeTree({ 'r.yaml': `${ruleHead('t.copy', 'match')}match:\n  sel:\n    kind: audit\n    audit.command: GRANT\n` });
    const loaded = await loadRuleSet({ ruleDirs: [root], registry: DETECTOR_REGISTRY, now: NOW });
    const original = loaded.rules[0] as CompiledRule;
    const replaced: CompiledRule = { ...original, matches: (event) => event.audit?.command === 'SELECT' };
    const select = makeEvent({ kind: 'audit', audit: audit({ command: 'SELECT' }) });
    expect(new DetectionEngine([original], loaded.context).process(select)).toEqual([]);
    expect(new DetectionEngine([replaced], loaded.context).process(select).map((d) => d.detectorId)).toEqual(['t.copy']);
  });

  it(`matches the same past ${MAX_CACHED_VALUES} distinct values of a value-cached condition (regular expression)`, async () => {
    const root = await writeTree({ 'r.yaml': `${ruleHead('t.re', 'match')}match:\n  sel:\n    kind: authorization\n    application_name|re: '^tool-[0-9]*7$'\n` });
    const loaded = await loadRuleSet({ ruleDirs: [root], registry: DETECTOR_REGISTRY, now: NOW });
    const engine = new DetectionEngine(loaded.rules, loaded.context);
    let fired = 0;
    const total = MAX_CACHED_VALUES + 300;
    for (let i = 0; i < total; i++) {
      const time = new Date(Date.parse('2026-01-01T00:00:00.000Z') + i * 1000).toISOString();
      // each name twice: the second read is answered from the cache (until it starts over)
      for (const copy of [0, 1]) fired += engine.process(makeEvent({ id: `e${i}.${copy}`, time, kind: 'authorization', user: `u${i}`, application_name: `tool-${i}` })).length;
    }
    // names ending in 7 among tool-0 .. tool-(total-1), two events each
    const expected = 2 * Array.from({ length: total }, (_, i) => i).filter((i) => i % 10 === 7).length;
    expect(fired).toBe(expected);
  });
});

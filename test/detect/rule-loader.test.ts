import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CompiledRule } from '../../src/detect/compiled-rule.js';
import { DETECTOR_REGISTRY } from '../../src/detect/detector-registry.js';
import { type LoadedRuleSet, loadRuleSet } from '../../src/detect/rule-loader.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { RuleLoadError } from '../../src/domain/errors.js';
import { makeEvent, ruleHead, TWO_TESTS, writeTree } from './rule-fixtures.js';

const PACK = 'test/fixtures/rules/pack';
const CATALOG = 'test/fixtures/rules/catalog.yaml';
const JUNE = new Date('2026-06-01T00:00:00Z');

async function loadPack(extra: Partial<Parameters<typeof loadRuleSet>[0]> = {}): Promise<LoadedRuleSet> {
  return loadRuleSet({ ruleDirs: [PACK], catalog: CATALOG, registry: DETECTOR_REGISTRY, now: JUNE, requireTests: true, ...extra });
}

function rule(set: LoadedRuleSet, id: string): CompiledRule {
  const found = set.rules.find((r) => r.id === id);
  if (!found) throw new Error(`no rule ${id}`);
  return found;
}

/** A test event of a rule, as the rule test runner would build it (missing fields null). */
function testEvent(r: CompiledRule, testIndex: number, eventIndex = 0): AccessEvent {
  const partial = r.tests[testIndex]?.events[eventIndex] as Record<string, unknown>;
  const event = makeEvent(partial as Partial<AccessEvent>);
  if (partial.audit) event.audit = { audit_type: 'SESSION', statement_id: 1, substatement_id: 1, class: '', command: '', object_type: null, object_name: null, statement: '', parameter: '<none>', rows: null, ...(partial.audit as object) };
  if (partial.query) event.query = { fingerprint: null, normalized: null, relations: [], flags: [], ...(partial.query as object) };
  return event;
}

describe('loading the test pack', () => {
  it('compiles every rule with its type parameters in ms and its origin', async () => {
    const set = await loadPack();
    expect(set.rules.map((r) => r.id)).toEqual(['test.auth.brute_force', 'test.auth.attack_tool', 'test.data.pii_copy']);
    const brute = rule(set, 'test.auth.brute_force');
    expect(brute.type).toBe('threshold');
    expect(brute.params).toEqual({ window: 60_000, count: 20 });
    expect(brute.suppressMs).toBe(600_000);
    expect(brute.groupBy).toEqual(['user']);
    expect(brute.conditionText).toBe('sel_fail and not filter_local');
    expect(brute.origin).toEqual({ file: join(PACK, 'auth.yaml'), overlays: [join(PACK, 'local/site.yaml')] });
    expect(brute.stateKey).toMatch(/^[0-9a-f]{64}$/);
    expect(rule(set, 'test.auth.attack_tool').maturity).toBe('experimental');
    expect(set.files).toEqual([join(PACK, 'lists/default.yaml'), CATALOG, join(PACK, 'auth.yaml'), join(PACK, 'data.yaml'), join(PACK, 'local/site.yaml')]);
  });

  it('applies the overlay: a higher threshold, added tags, an appended exception', async () => {
    const set = await loadPack();
    const brute = rule(set, 'test.auth.brute_force');
    expect(brute.params.count).toBe(20);
    expect(brute.tags).toEqual(['attack.t1110', 'gdpr.art32', 'site.crm']);
    expect(brute.exceptions.map((e) => e.name)).toEqual(['monitoring_probe']);
    const probe = brute.exceptions[0];
    expect(probe?.matches(makeEvent({ application_name: 'Nagios' }), set.context)).toBe(true);
    expect(probe?.matches(makeEvent({ application_name: 'psql' }), set.context)).toBe(false);
    expect(set.documents.get('test.auth.brute_force')?.changedBy).toEqual({ count: join(PACK, 'local/site.yaml'), tags: join(PACK, 'local/site.yaml'), exceptions: join(PACK, 'local/site.yaml') });
  });

  it('ignores an expired exception with a warning naming file, rule and exception, and keeps it before expiry', async () => {
    const june = await loadPack();
    expect(june.warnings).toEqual([`${join(PACK, 'auth.yaml')}:21: rule test.auth.brute_force: exceptions[0]: exception "pentest_2026" expired at 2026-03-31T00:00:00Z: ignored`]);
    const january = await loadPack({ now: new Date('2026-01-15T00:00:00Z') });
    expect(january.warnings).toEqual([]);
    const brute = rule(january, 'test.auth.brute_force');
    expect(brute.exceptions.map((e) => [e.name, e.expires])).toEqual([['pentest_2026', '2026-03-31T00:00:00Z'], ['monitoring_probe', null]]);
    expect(brute.exceptions[0]?.matches(makeEvent({ user: 'redteam', client_addr: '10.9.3.4' }), january.context)).toBe(true);
    expect(brute.exceptions[0]?.matches(makeEvent({ user: 'redteam', client_addr: '10.8.3.4' }), january.context)).toBe(false);
  });

  it('matches the rules\' own test events as their tests expect (condition, lists, catalog)', async () => {
    const set = await loadPack();
    for (const r of set.rules) {
      if (r.type !== 'match') continue;
      expect(r.matches(testEvent(r, 0), set.context)).toBe(true);
      expect(r.matches(testEvent(r, 1), set.context)).toBe(false);
    }
    const brute = rule(set, 'test.auth.brute_force');
    expect(brute.matches(makeEvent({ kind: 'auth_failure', client_addr: '10.0.0.5' }), set.context)).toBe(true);
    expect(brute.matches(makeEvent({ kind: 'auth_failure', client_addr: '127.0.0.1' }), set.context)).toBe(false);
    expect(brute.matches(makeEvent({ kind: 'authorization', client_addr: '10.0.0.5' }), set.context)).toBe(false);
  });

  it('expands repeat into copies one second apart', async () => {
    const brute = rule(await loadPack(), 'test.auth.brute_force');
    const fires = brute.tests[0];
    expect(fires?.events).toHaveLength(10);
    expect(fires?.events.map((e) => e.time)).toEqual(['2026-01-01T00:00:00Z', ...Array.from({ length: 9 }, (_, i) => `2026-01-01T00:00:0${i + 1}.000Z`)]);
    expect(fires?.expect).toEqual({ detections: 1, groups: [{ user: 'dba_admin' }] });
    expect(brute.tests[1]?.events).toHaveLength(9);
  });

  it('derives the event kinds each rule can match', async () => {
    const set = await loadPack();
    expect(rule(set, 'test.auth.brute_force').kinds).toEqual(new Set(['auth_failure']));
    expect(rule(set, 'test.data.pii_copy').kinds).toEqual(new Set(['audit']));
    expect(rule(set, 'test.auth.attack_tool').kinds).toBeUndefined();
  });

  it('exposes lists lower-cased and the catalog in the match context', async () => {
    const set = await loadPack();
    expect(set.context.lists.get('attack_tools')).toEqual(new Set(['sqlmap', 'havij', 'pgcrack']));
    expect(set.context.classesOf('customers')).toEqual(['contact', 'national_id', 'pii']);
    expect(set.context.classesOf('public.payments')).toEqual(['payment']);
    expect(set.context.classesOf('public.orders')).toEqual([]);
  });

  it('lets config lists replace shipped lists of the same name, inline or from a file', async () => {
    const dir = await writeTree({ 'tools.txt': '# tools we see\nnmap\n\nmasscan\n' });
    const set = await loadPack({ lists: { attack_tools: join(dir, 'tools.txt'), etl_roles: ['support_sari'] } });
    expect(set.context.lists.get('attack_tools')).toEqual(new Set(['nmap', 'masscan']));
    const tools = rule(set, 'test.auth.attack_tool');
    expect(tools.matches(makeEvent({ application_name: 'sqlmap/1.7' }), set.context)).toBe(false);
    expect(tools.matches(makeEvent({ application_name: 'masscan' }), set.context)).toBe(true);
    const copy = rule(set, 'test.data.pii_copy');
    expect(copy.matches(testEvent(copy, 0), set.context)).toBe(false);
    expect(copy.matches(testEvent(copy, 1), set.context)).toBe(true);
    expect(set.files).toContain(join(dir, 'tools.txt'));
  });

  it('takes an inline catalog', async () => {
    const set = await loadPack({ catalog: { tables: { 'public.orders': { classes: ['pii'], columns: {} } } } });
    const copy = rule(set, 'test.data.pii_copy');
    expect(copy.matches(testEvent(copy, 0), set.context)).toBe(false);
    expect(set.context.classesOf('orders')).toEqual(['pii']);
  });
});

describe('state keys and shared selections', () => {
  const base = (id: string, extra = ''): string => `${ruleHead(id, 'threshold')}match:\n  sel: { kind: auth_failure }\ngroup_by: [user]\nwindow: 1m\ncount: 5\n${extra}${TWO_TESTS}`;

  it('keeps the state key when only presentation changes, and changes it with a parameter', async () => {
    const load = async (text: string): Promise<string> => {
      const set = await loadRuleSet({ ruleDirs: [await writeTree({ 'r.yaml': text })], registry: DETECTOR_REGISTRY });
      return set.rules[0]?.stateKey as string;
    };
    const original = await load(base('t.a'));
    expect(await load(base('t.a').replace('severity: medium', 'severity: high').replace('title: Test rule t.a', 'title: Renamed'))).toBe(original);
    expect(await load(base('t.a').replace('count: 5', 'count: 6'))).not.toBe(original);
    expect(await load(base('t.a').replace('window: 1m', 'window: 60s'))).toBe(original);
  });

  it('shares one predicate between rules with the same selection', async () => {
    const set = await loadRuleSet({ ruleDirs: [await writeTree({ 'r.yaml': `${base('t.a')}---\n${base('t.b')}` })], registry: DETECTOR_REGISTRY });
    const [a, b] = set.rules;
    expect(a?.selections.get('sel')).toBe(b?.selections.get('sel'));
  });

  it('defaults the condition of a sequence to any of its steps', async () => {
    const text = `${ruleHead('t.seq', 'sequence')}match:\n  sel_fail: { kind: auth_failure }\n  sel_ok: { kind: authorization }\ngroup_by: [user]\nwindow: 5m\nsteps:\n  - { selection: sel_fail, count: 3 }\n  - { selection: sel_ok }\n${TWO_TESTS}`;
    const set = await loadRuleSet({ ruleDirs: [await writeTree({ 's.yaml': text })], registry: DETECTOR_REGISTRY });
    const seq = set.rules[0] as CompiledRule;
    expect(seq.conditionText).toBe('1 of them');
    expect(seq.params).toEqual({ window: 300_000, steps: [{ selection: 'sel_fail', count: 3 }, { selection: 'sel_ok', count: 1 }] });
    expect(seq.kinds).toEqual(new Set(['auth_failure', 'authorization']));
  });
});

describe('overlay problems', () => {
  it('names the overlay file for an unknown rule id and for a value the rule type refuses', async () => {
    const dir = await writeTree({
      'r.yaml': `${ruleHead('t.match', 'match')}match:\n  sel: { kind: error }\n${TWO_TESTS}`,
      'local/site.yaml': 'schema: jaga/overlay/v1\nid: t.mtch\nseverity: high\n---\nschema: jaga/overlay/v1\nid: t.match\nwindow: 5m\n',
      'extra/more.yaml': 'schema: jaga/overlay/v1\nid: t.match\ncount: 3\nsevirity: low\n',
      'extra/most.yaml': 'schema: jaga/overlay/v1\nid: t.match\nexceptions:\n  - name: ok\n    reason: fine\n    match: { user: a }\n  - name: bad\n    reason: typo\n    match: { usr: b }\n',
    });
    const error = await loadRuleSet({ ruleDirs: [dir], overlayDirs: [join(dir, 'extra')], registry: DETECTOR_REGISTRY }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuleLoadError);
    expect((error as RuleLoadError).problems.map((p) => p.replaceAll(dir, '<dir>'))).toEqual([
      '<dir>/local/site.yaml:2: rule t.mtch: id: overlay for unknown rule "t.mtch" (did you mean "t.match"?)',
      '<dir>/local/site.yaml:7: rule t.match: window: "window" is not a parameter of type match (match takes no parameters)',
      '<dir>/extra/more.yaml:4: rule t.match: sevirity: unknown key "sevirity" (did you mean "severity"?)',
      '<dir>/extra/most.yaml:9: rule t.match: exceptions[1].match.usr: unknown field "usr" (did you mean "user"?)',
    ]);
  });
});

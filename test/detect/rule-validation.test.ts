import { describe, expect, it } from 'vitest';
import { DETECTOR_REGISTRY } from '../../src/detect/detector-registry.js';
import { loadRuleSet } from '../../src/detect/rule-loader.js';
import { RuleLoadError } from '../../src/domain/errors.js';
import { ruleHead, TWO_TESTS, writeTree } from './rule-fixtures.js';

const LISTS = 'schema: jaga/lists/v1\nlists:\n  attack_tools: [sqlmap]\n';

/** Loads a rule tree and returns its problems with the temp folder shown as `<dir>`. */
async function problemsOf(files: Record<string, string>, options: { requireTests?: boolean } = {}): Promise<string[]> {
  const dir = await writeTree(files);
  try {
    await loadRuleSet({ ruleDirs: [dir], registry: DETECTOR_REGISTRY, requireTests: options.requireTests ?? false });
  } catch (error) {
    if (!(error instanceof RuleLoadError)) throw error;
    expect(error.code).toBe('E_RULE_LOAD');
    return error.problems.map((p) => p.replaceAll(dir, '<dir>'));
  }
  return [];
}

const THRESHOLD = `${ruleHead('t.brute', 'threshold')}match:\n  sel_fail:\n    kind: auth_failure\ngroup_by: [user]\n`;

describe('one precise problem per mistake', () => {
  it('a misspelled key, with "did you mean"', async () => {
    expect(await problemsOf({ 'auth.yaml': `${THRESHOLD}windw: 60s\ncount: 10\n${TWO_TESTS}` })).toEqual([
      '<dir>/auth.yaml:11: rule t.brute: windw: unknown key "windw" (did you mean "window"?)',
    ]);
  });

  it('a misspelled nested key (in an exception), with "did you mean"', async () => {
    const rule = `${THRESHOLD}window: 60s\ncount: 10\nexceptions:\n  - name: x\n    reason: y\n    expire: 2030-01-01T00:00:00Z\n    match: { user: a }\n${TWO_TESTS}`;
    expect(await problemsOf({ 'auth.yaml': rule })).toEqual(['<dir>/auth.yaml:16: rule t.brute: exceptions[0].expire: unknown key "expire" (did you mean "expires"?)']);
  });

  it('an impossible calendar day in an exception\'s expiry, never rolled over to the next month', async () => {
    const rule = `${THRESHOLD}window: 60s\ncount: 10\nexceptions:\n  - name: x\n    reason: y\n    expires: 2026-02-30T00:00:00Z\n    match: { user: a }\n${TWO_TESTS}`;
    expect(await problemsOf({ 'auth.yaml': rule })).toEqual(['<dir>/auth.yaml:16: rule t.brute: exceptions[0].expires: expected an ISO-8601 time such as 2027-01-31T00:00:00Z']);
    const leap = `${THRESHOLD}window: 60s\ncount: 10\nexceptions:\n  - name: x\n    reason: y\n    expires: 2028-02-29T00:00:00Z\n    match: { user: a }\n${TWO_TESTS}`;
    expect(await problemsOf({ 'auth.yaml': leap })).toEqual([]);
  });

  it('a top-level condition (a Sigma habit) says it goes under match', async () => {
    expect(await problemsOf({ 'auth.yaml': `${THRESHOLD}condition: sel_fail\nwindow: 60s\ncount: 10\n${TWO_TESTS}` })).toEqual([
      '<dir>/auth.yaml:11: rule t.brute: condition: unknown key "condition": it goes under match.condition (the condition sits beside the selections, as in Sigma\'s detection block)',
    ]);
  });

  it('a rules: list (several rules in one map) says rules are one per YAML document', async () => {
    expect(await problemsOf({ 'auth.yaml': 'rules:\n  - id: t.one\n    title: One\n' })).toEqual([
      '<dir>/auth.yaml:1: document 1: id: missing required key (one rule per YAML document: separate rules with ---, each with schema and id at the top, not a rules: list)',
    ]);
  });

  it('problems of several documents of one file come in line order, a document without an id among them', async () => {
    const rule = THRESHOLD.replace('kind: auth_failure', 'kindd: auth_failure') + `window: 60s\ncount: 10\n${TWO_TESTS}`;
    const problems = await problemsOf({ 'auth.yaml': `${rule}---\nschema: jaga/rules/v1\ntitle: no id\n---\n${rule.replace('t.brute', 't.second')}` });
    expect(problems.map((p) => Number(/^<dir>\/auth\.yaml:(\d+):/.exec(p)?.[1]))).toEqual([9, 21, 32]);
  });

  it("a rule's problems come in line order, whichever check found them", async () => {
    // the schema finds the unknown key at line 11 and the bad window at line 12; the selection compiler the
    // misspelled field at line 9, after them
    const rule = THRESHOLD.replace('kind: auth_failure', 'kindd: auth_failure') + `condition: sel_fail\nwindow: 5x\ncount: 10\n${TWO_TESTS}`;
    const problems = await problemsOf({ 'auth.yaml': rule });
    expect(problems.map((p) => Number(/^<dir>\/auth\.yaml:(\d+):/.exec(p)?.[1]))).toEqual([9, 11, 12]);
  });

  it('a wrong type', async () => {
    expect(await problemsOf({ 'auth.yaml': `${THRESHOLD}window: 60s\ncount: ten\n${TWO_TESTS}` })).toEqual([
      '<dir>/auth.yaml:12: rule t.brute: count: expected number, got "ten"',
    ]);
  });

  it('a bad regex', async () => {
    const rule = `${ruleHead('t.re', 'match')}match:\n  sel:\n    statement|re: 'union(select'\n${TWO_TESTS}`;
    expect(await problemsOf({ 'inj.yaml': rule })).toEqual([
      '<dir>/inj.yaml:9: rule t.re: match.sel.statement|re: invalid regular expression "union(select": Invalid regular expression: /union(select/i: Unterminated group',
    ]);
  });

  it('an unknown list', async () => {
    const rule = `${ruleHead('t.tools', 'match')}match:\n  sel:\n    application_name|in_list: attack_tool\n${TWO_TESTS}`;
    expect(await problemsOf({ 'tools.yaml': rule, 'lists/tools.yaml': LISTS })).toEqual([
      '<dir>/tools.yaml:9: rule t.tools: match.sel.application_name|in_list: unknown list "attack_tool" (did you mean "attack_tools"?)',
    ]);
  });

  it('an impossible combination: window on a match rule', async () => {
    const rule = `${ruleHead('t.match', 'match')}match:\n  sel:\n    kind: error\nwindow: 60s\n${TWO_TESTS}`;
    expect(await problemsOf({ 'm.yaml': rule })).toEqual(['<dir>/m.yaml:10: rule t.match: window: "window" is not a parameter of type match (match takes no parameters)']);
  });

  it('a condition naming an unknown selection', async () => {
    const rule = `${ruleHead('t.cond', 'match')}match:\n  sel_fail:\n    kind: auth_failure\n  filter_local:\n    client_addr|cidr: 127.0.0.0/8\n  condition: sel_fail and not filter_locl\n${TWO_TESTS}`;
    expect(await problemsOf({ 'c.yaml': rule })).toEqual([
      '<dir>/c.yaml:12: rule t.cond: match.condition: unknown selection "filter_locl" (did you mean "filter_local"?) at column 18',
    ]);
  });

  it('a sequence step naming an unknown selection', async () => {
    const rule = `${ruleHead('t.seq', 'sequence')}match:\n  sel_fail: { kind: auth_failure }\n  sel_ok: { kind: authorization }\nwindow: 5m\nsteps:\n  - { selection: sel_fail, count: 5 }\n  - { selection: sel_okay }\n${TWO_TESTS}`;
    expect(await problemsOf({ 's.yaml': rule })).toEqual(['<dir>/s.yaml:13: rule t.seq: steps[1].selection: unknown selection "sel_okay" (did you mean "sel_ok"?)']);
  });

  it('group_by on a field path that does not exist', async () => {
    const rule = `${ruleHead('t.grp', 'threshold')}match:\n  sel: { kind: auth_failure }\ngroup_by: [user, client_adr]\nwindow: 1m\ncount: 3\n${TWO_TESTS}`;
    expect(await problemsOf({ 'g.yaml': rule })).toEqual(['<dir>/g.yaml:9: rule t.grp: group_by[1]: unknown field "client_adr" (did you mean "client_addr"?)']);
  });

  it('an unknown rule type and an invalid severity, with suggestions', async () => {
    const rule = `${ruleHead('t.type', 'treshold').replace('severity: medium', 'severity: hgh')}match:\n  sel: { kind: error }\n${TWO_TESTS}`;
    expect(await problemsOf({ 't.yaml': rule })).toEqual([
      '<dir>/t.yaml:5: rule t.type: severity: expected one of info, low, medium, high, critical, got "hgh" (did you mean "high"?)',
      '<dir>/t.yaml:6: rule t.type: type: unknown rule type "treshold" (did you mean "threshold"?); types: match, threshold, distinct, sum, sequence, new_value, absence, baseline_volume, baseline_breadth, baseline_new_context, baseline_time_of_week, baseline_failure_rate',
    ]);
  });

  it('a rule id outside the permanent id alphabet', async () => {
    const rule = `${ruleHead('Auth.Brute', 'match')}match:\n  sel: { kind: error }\n${TWO_TESTS}`;
    expect(await problemsOf({ 'a.yaml': rule })).toEqual(['<dir>/a.yaml:2: rule Auth.Brute: id: invalid "Auth.Brute": a rule id is lower-case letters, digits, _ . -']);
  });

  it('a duration without a unit', async () => {
    expect(await problemsOf({ 'auth.yaml': `${THRESHOLD}window: 60\ncount: 10\n${TWO_TESTS}` })).toEqual(['<dir>/auth.yaml:11: rule t.brute: window: expected a duration such as 30s, 5m, 1h or 7d, got 60']);
    expect(await problemsOf({ 'auth.yaml': `${THRESHOLD}window: 60s\ncount: 10\nsuppress: 10 minutes\n${TWO_TESTS}` })).toEqual([
      '<dir>/auth.yaml:13: rule t.brute: suppress: invalid duration "10 minutes": expected a number with a unit ms, s, m, h, d or w, e.g. 500ms, 30s, 5m, 26h, 7d',
    ]);
  });
});

describe('every problem reported together', () => {
  it('lists problems of several rules and files, in file order', async () => {
    const first = `${ruleHead('t.one', 'match')}match:\n  sel: { kind: error, usr: x }\nwindow: 1m\n${TWO_TESTS}`;
    const second = `${ruleHead('t.two', 'threshold')}match:\n  sel: { kind: error }\n  condition: sel or other\ncount: 0\nwindow: 1m\n${TWO_TESTS}`;
    const third = `${ruleHead('t.three', 'match')}match:\n  sel: { kind: eror }\n${TWO_TESTS}`;
    const problems = await problemsOf({ 'a.yaml': `${first}---\n${second}`, 'b.yaml': third });
    expect(problems).toEqual([
      '<dir>/a.yaml:8: rule t.one: match.sel.usr: unknown field "usr" (did you mean "user"?)',
      '<dir>/a.yaml:9: rule t.one: window: "window" is not a parameter of type match (match takes no parameters)',
      '<dir>/a.yaml:26: rule t.two: match.condition: unknown selection "other" at column 8',
      '<dir>/a.yaml:27: rule t.two: count: must be >= 1',
      '<dir>/b.yaml:8: rule t.three: match.sel.kind: unknown event kind "eror" (did you mean "error"?); kinds: audit, connection, authentication, authorization, auth_failure, disconnection, error, app_access, other',
    ]);
  });

  it('lists the other mistakes of a rule whose id is a duplicate too', async () => {
    const ok = `${ruleHead('t.dup', 'match')}match:\n  sel: { kind: error }\n${TWO_TESTS}`;
    const bad = `${ruleHead('t.dup', 'match').replace('severity: medium', 'severity: extreme')}match:\n  sel: { kind: eror }\n${TWO_TESTS}`;
    const problems = await problemsOf({ 'a.yaml': ok, 'b.yaml': bad });
    expect(problems).toEqual([
      '<dir>/b.yaml:2: rule t.dup: id: duplicate rule id: also defined at <dir>/a.yaml:2',
      '<dir>/b.yaml:5: rule t.dup: severity: expected one of info, low, medium, high, critical, got "extreme"',
      '<dir>/b.yaml:8: rule t.dup: match.sel.kind: unknown event kind "eror" (did you mean "error"?); kinds: audit, connection, authentication, authorization, auth_failure, disconnection, error, app_access, other',
    ]);
  });

  it('reports a YAML syntax error, a duplicate id and a document without an id', async () => {
    const ok = `${ruleHead('t.dup', 'match')}match:\n  sel: { kind: error }\n${TWO_TESTS}`;
    const problems = await problemsOf({ 'a.yaml': ok, 'b.yaml': `${ok}---\ntitle: no id\n---\nfoo: [1, 2\n` });
    expect(problems).toEqual([
      '<dir>/b.yaml:2: rule t.dup: id: duplicate rule id: also defined at <dir>/a.yaml:2',
      '<dir>/b.yaml:17: document 2: id: missing required key',
      '<dir>/b.yaml:20: YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  it('requires a firing and a non-firing test when asked (jaga rules validate)', async () => {
    const rule = `${ruleHead('t.untested', 'match')}match:\n  sel: { kind: error }\ntests:\n  - name: fires\n    events: [{ time: 2026-01-01T00:00:00Z, kind: error }]\n    expect: { detections: 1 }\n`;
    expect(await problemsOf({ 'u.yaml': rule }, { requireTests: true })).toEqual(['<dir>/u.yaml:9: rule t.untested: tests: needs a test that does not fire (expect.detections: 0)']);
    expect(await problemsOf({ 'u.yaml': rule }, { requireTests: false })).toEqual([]);
    const untested = `${ruleHead('t.none', 'match')}match:\n  sel: { kind: error }\n`;
    expect(await problemsOf({ 'n.yaml': untested }, { requireTests: true })).toEqual([
      '<dir>/n.yaml:1: rule t.none: tests: needs a test that fires (expect.detections > 0)',
      '<dir>/n.yaml:1: rule t.none: tests: needs a test that does not fire (expect.detections: 0)',
    ]);
  });

  it('checks test events and expected groups', async () => {
    const rule = `${THRESHOLD}window: 1m\ncount: 2\ntests:\n  - name: fires\n    events: [{ time: 2026-01-01T00:00:00Z, kind: auth_failure, usr: a, audit: { rowz: 1 } }]\n    expect: { detections: 1, groups: [{ client_addr: x }] }\n  - name: quiet\n    events: [{ kind: error }]\n    expect: { detections: 0 }\n`;
    expect(await problemsOf({ 'auth.yaml': rule })).toEqual([
      '<dir>/auth.yaml:15: rule t.brute: tests[0].events[0].usr: unknown event field "usr" (did you mean "user"?)',
      '<dir>/auth.yaml:15: rule t.brute: tests[0].events[0].audit.rowz: unknown event field "audit.rowz" (did you mean "rows"?)',
      '<dir>/auth.yaml:16: rule t.brute: tests[0].expect.groups[0].client_addr: "client_addr" is not a group_by field (group_by: user)',
      '<dir>/auth.yaml:18: rule t.brute: tests[1].events[0].time: a test event needs a time',
    ]);
  });
});

/**
 * The shipped default rule pack (rules/*.yaml, rules/lists/*.yaml) and `jaga rules test`: the pack
 * loads with every rule carrying a firing and a non-firing test, its inline tests pass through the
 * production engine (with the pack's test catalog and with the example CRM site config), and the
 * runner reports failures as expected-vs-got diffs.
 */
import { basename, join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { rulesCommand } from '../../src/cli/rules-command.js';
import { loadConfigFile } from '../../src/config/load-config-file.js';
import { DETECTOR_REGISTRY } from '../../src/detect/detector-registry.js';
import { type LoadedRuleSet, loadRuleSet } from '../../src/detect/rule-loader.js';
import { buildTestEvent, formatRuleTestReport, runRuleTests } from '../../src/detect/rule-test-runner.js';
import { QueryEnricher } from '../../src/enrich/query-enricher.js';
import { ruleHead, writeTree } from './rule-fixtures.js';

const RULES = resolve('rules');
const TEST_CATALOG = join(RULES, 'tests', 'catalog.yaml');
const CRM_CONFIG = resolve('examples/crm/jaga.yaml');

/** Every rule of the pack, by domain file (issue 4, "Default rule pack"). */
const PACK: Record<string, string[]> = {
  'access.yaml': ['jaga.access.permission_denied_burst'],
  'audit.yaml': ['jaga.audit.tampering', 'jaga.audit.config_change_applied', 'jaga.audit.silence', 'jaga.audit.record_cut'],
  'auth.yaml': ['jaga.auth.brute_force', 'jaga.auth.password_spraying', 'jaga.auth.success_after_failures', 'jaga.auth.unknown_role', 'jaga.auth.new_role', 'jaga.auth.attack_tool', 'jaga.auth.service_account_misuse'],
  'backup.yaml': ['jaga.backup.stopped'],
  'baselines.yaml': ['baseline.volume', 'baseline.breadth', 'baseline.new_context', 'baseline.time_of_week', 'baseline.failure_rate'],
  'data.yaml': ['jaga.data.pii_copy', 'jaga.data.pii_read_over_cap', 'jaga.data.pii_read_volume', 'jaga.data.destructive_change'],
  'injection.yaml': ['jaga.injection.signature', 'jaga.injection.error_burst'],
  'privilege.yaml': ['jaga.privilege.escalation', 'jaga.privilege.broad_grant'],
  'server.yaml': ['jaga.server.file_access'],
};

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  const code = await rulesCommand(args, { stdout, stderr });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

let pack: LoadedRuleSet;
let enricher: QueryEnricher;

beforeAll(async () => {
  pack = await loadRuleSet({ ruleDirs: [RULES], catalog: TEST_CATALOG, registry: DETECTOR_REGISTRY, requireTests: true });
  enricher = await QueryEnricher.create();
});

describe('the default rule pack', () => {
  it('holds the issue\'s rules, one file per domain, ids jaga.<domain>.<name>', () => {
    const byFile: Record<string, string[]> = {};
    for (const rule of pack.rules) (byFile[basename(rule.origin.file)] ??= []).push(rule.id);
    expect(byFile).toEqual(PACK);
    for (const rule of pack.rules) {
      const file = basename(rule.origin.file, '.yaml');
      expect(rule.id).toMatch(file === 'baselines' ? /^baseline\.[a-z_]+$/ : new RegExp(`^jaga\\.${file}\\.[a-z_]+$`));
    }
  });

  it('loads without problems or warnings, every rule enabled with a firing and a non-firing test', () => {
    expect(pack.warnings).toEqual([]);
    expect(pack.rules.filter((rule) => !rule.enabled)).toEqual([]);
    for (const rule of pack.rules) {
      expect(rule.tests.some((test) => test.expect.detections > 0), `${rule.id} firing test`).toBe(true);
      expect(rule.tests.some((test) => test.expect.detections === 0), `${rule.id} quiet test`).toBe(true);
    }
  });

  it('gives every rule a description, MITRE ATT&CK and GDPR tags, and a suppression', () => {
    for (const rule of pack.rules) {
      expect(rule.description.length, rule.id).toBeGreaterThan(150);
      expect(rule.tags.some((tag) => /^attack\.t\d{4}(\.\d{3})?$/.test(tag)), `${rule.id} attack tag`).toBe(true);
      expect(rule.tags, rule.id).toContain('gdpr.art32');
      expect(rule.tags.some((tag) => /^uupdp\.art\d+$/.test(tag)), `${rule.id} uupdp tag`).toBe(true);
      expect(rule.suppressMs, rule.id).toBeGreaterThanOrEqual(600_000);
    }
  });

  it('ships one rule experimental: the unknown-role rule, which needs the site\'s role inventory', () => {
    expect(pack.rules.filter((rule) => rule.maturity === 'experimental').map((rule) => rule.id)).toEqual(['jaga.auth.unknown_role']);
  });

  it('keeps the audit silence longer than the corpus\'s 20 s gap and backups at 26 h', () => {
    const params = (id: string): Record<string, unknown> => pack.rules.find((rule) => rule.id === id)!.params;
    expect(params('jaga.audit.silence')).toEqual({ after: 600_000, while: 'sel_logins' });
    expect(params('jaga.backup.stopped')).toEqual({ after: 26 * 3_600_000 });
  });

  it('passes every inline test through the production engine (79 tests of 27 rules)', () => {
    const report = runRuleTests(pack.rules, pack.context, { enrich: (event) => enricher.enrich(event) });
    expect(report.outcomes.filter((outcome) => !outcome.passed)).toEqual([]);
    expect([report.passed, report.failed, report.rules]).toEqual([79, 0, 27]);
  });

  it('passes every inline test with the example CRM site config (its lists and catalog)', async () => {
    const { detection } = await loadConfigFile(CRM_CONFIG);
    const crm = await loadRuleSet({ ruleDirs: [RULES], lists: detection.lists, catalog: detection.catalog, registry: DETECTOR_REGISTRY });
    const report = runRuleTests(crm.rules, crm.context, { enrich: (event) => enricher.enrich(event) });
    expect(report.outcomes.filter((outcome) => !outcome.passed)).toEqual([]);
    expect(report.passed).toBe(79);
  });
});

describe('jaga rules validate / test on the shipped pack', () => {
  it('validate rules/ exits 0', async () => {
    expect(await run(['validate', RULES])).toEqual({ code: 0, stdout: 'ok: 27 rules (27 enabled) from 10 files\n', stderr: '' });
  });

  it('test rules/ exits 0, using the pack\'s test catalog', async () => {
    expect(await run(['test', RULES])).toEqual({
      code: 0,
      stdout: '79 passed, 0 failed (27 rules)\n',
      stderr: `using the pack's test catalog ${TEST_CATALOG} (no catalog configured)\n`,
    });
  });

  it('test --config examples/crm/jaga.yaml exits 0 with the site catalog', async () => {
    expect(await run(['test', '--config', CRM_CONFIG])).toEqual({ code: 0, stdout: '79 passed, 0 failed (27 rules)\n', stderr: '' });
  });
});

describe('jaga rules test on failing tests', () => {
  const failing = `${ruleHead('t.burst', 'threshold')}match:
  sel: { kind: error }
group_by: [user]
window: 1m
count: 3
tests:
  - name: three errors fire
    events: [{ time: 2026-01-01T00:00:00Z, kind: error, user: alice }]
    repeat: 3
    expect: { detections: 1, groups: [{ user: bob }] }
  - name: two errors are quiet
    events: [{ time: 2026-01-01T00:00:00Z, kind: error, user: alice }]
    repeat: 2
    expect: { detections: 1 }
`;

  it('exits 1 and prints, per failing test, the diff of detection counts and group values', async () => {
    const dir = await writeTree({ 'burst.yaml': failing });
    const result = await run(['test', dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      [
        `FAIL t.burst › three errors fire (${dir}/burst.yaml:13)`, // the test case's line
        '     groups[0].user: expected "bob", got "alice"',
        '     expected: {"detections":1,"groups":[{"user":"bob"}]}',
        '     got:      {"detections":1,"groups":[{"user":"alice"}]}',
        `FAIL t.burst › two errors are quiet (${dir}/burst.yaml:17)`,
        '     detections: expected 1, got 0',
        '     expected: {"detections":1}',
        '     got:      {"detections":0,"groups":[]}',
        '0 passed, 2 failed (1 rules)',
        '',
      ].join('\n'),
    );
  });

  it('lists passing tests with --verbose', async () => {
    const dir = await writeTree({ 'ok.yaml': failing.replace('user: bob', 'user: alice').replace('repeat: 2\n    expect: { detections: 1 }', 'repeat: 2\n    expect: { detections: 0 }') });
    const result = await run(['test', dir, '--verbose']);
    expect(result).toEqual({ code: 0, stdout: 'ok   t.burst › three errors fire\nok   t.burst › two errors are quiet\n2 passed, 0 failed (1 rules)\n', stderr: '' });
  });

  it('exits 1 listing load problems instead of running tests', async () => {
    const dir = await writeTree({ 'bad.yaml': failing.replace('window: 1m', 'windw: 1m') });
    const result = await run(['test', dir]);
    expect(result).toEqual({ code: 1, stdout: '', stderr: `${dir}/bad.yaml:10: rule t.burst: windw: unknown key "windw" (did you mean "window"?)\n1 problem\n` });
  });
});

describe('runRuleTests', () => {
  it('advances the watermark to advance_to so an absence fires, and not past the newest event without it', async () => {
    const dir = await writeTree({
      'quiet.yaml': `${ruleHead('t.quiet', 'absence')}match:
  sel: { kind: audit }
group_by: [server]
after: 5m
tests:
  - name: silence reaches five minutes
    events: [{ time: 2026-01-01T00:00:00Z, kind: audit }]
    advance_to: 2026-01-01T00:05:00Z
    expect: { detections: 1, groups: [{ server: test }] }
  - name: data ends before five minutes
    events:
      - { time: 2026-01-01T00:00:00Z, kind: audit }
      - { time: 2026-01-01T00:04:59Z, kind: connection }
    expect: { detections: 0 }
`,
    });
    const loaded = await loadRuleSet({ ruleDirs: [dir], registry: DETECTOR_REGISTRY });
    const report = runRuleTests(loaded.rules, loaded.context);
    expect(report.outcomes.map((o) => [o.testName, o.passed, o.got])).toEqual([
      ['silence reaches five minutes', true, { detections: 1, groups: [{ server: 'test' }] }],
      ['data ends before five minutes', true, { detections: 0, groups: [] }],
    ]);
    expect(formatRuleTestReport(report)).toBe('2 passed, 0 failed (1 rules)\n');
  });

  it('fills query facts from a test statement only when an enricher is given and the test has no query map', async () => {
    const dir = await writeTree({
      'copy.yaml': `${ruleHead('t.copy', 'match')}match:
  sel: { kind: audit, query.flags: copy_to }
tests:
  - name: statement only
    events: [{ time: 2026-01-01T00:00:00Z, kind: audit, audit: { command: COPY, statement: 'COPY customers TO STDOUT' } }]
    expect: { detections: 1 }
  - name: statement with a query map that says otherwise
    events: [{ time: 2026-01-01T00:00:00Z, kind: audit, audit: { command: COPY, statement: 'COPY customers TO STDOUT' }, query: { flags: [copy_from] } }]
    expect: { detections: 0 }
`,
    });
    const loaded = await loadRuleSet({ ruleDirs: [dir], registry: DETECTOR_REGISTRY });
    const withEnricher = runRuleTests(loaded.rules, loaded.context, { enrich: (event) => enricher.enrich(event) });
    expect(withEnricher.outcomes.map((o) => [o.testName, o.got.detections])).toEqual([
      ['statement only', 1],
      ['statement with a query map that says otherwise', 0],
    ]);
    const without = runRuleTests(loaded.rules, loaded.context);
    expect(without.outcomes.map((o) => [o.testName, o.got.detections])).toEqual([
      ['statement only', 0],
      ['statement with a query map that says otherwise', 0],
    ]);
  });
});

describe('buildTestEvent', () => {
  it('turns a partial test event into a full AccessEvent: nulls, normalised time, nested defaults', () => {
    expect(buildTestEvent({ time: '2026-01-01T00:00:00Z', kind: 'audit', user: 'alice', audit: { command: 'SELECT', rows: 5 }, query: { flags: ['select_star'] } }, 'test:r:0:0')).toEqual({
      id: 'test:r:0:0',
      time: '2026-01-01T00:00:00.000Z',
      server: 'test',
      source: { id: 'test', file: null, fingerprint: null, offset: 0 },
      kind: 'audit',
      user: 'alice',
      database: null,
      client_addr: null,
      client_port: null,
      application_name: null,
      pid: null,
      session_id: null,
      session_line: null,
      backend_type: null,
      severity: null,
      sqlstate: null,
      message: null,
      detail: null,
      hint: null,
      context: null,
      statement: null,
      session_duration_ms: null,
      truncated: false,
      audit: { audit_type: 'SESSION', statement_id: null, substatement_id: null, class: '', command: 'SELECT', object_type: null, object_name: null, statement: '', parameter: '<none>', rows: 5 },
      query: { fingerprint: null, normalized: null, relations: [], flags: ['select_star'] },
      app: null,
    });
  });
});

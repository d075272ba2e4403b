import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { JAGA_METRIC_NAMES } from '../../src/observe/jaga-metrics.js';
import { exportedRegistry, selectableSeriesNames, seriesLabelNames } from './exported-metrics.js';
import { promqlLabelNames } from './promql-label-names.js';
import { promqlMetricNames } from './promql-metric-names.js';
import { runPromtool } from './promtool.js';

const DASHBOARDS = join(import.meta.dirname, '..', '..', 'dashboards');

interface Target {
  expr?: string;
  refId: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
  gridPos: { h: number; w: number; x: number; y: number };
}
interface Dashboard {
  __inputs: { name: string; type: string; pluginId: string }[];
  schemaVersion: number;
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; query: { query: string } | string }[] };
}
interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface RuleTest {
  alert_rule_test: { eval_time: string; alertname: string; exp_alerts: unknown[] }[];
}

const dashboard = JSON.parse(readFileSync(join(DASHBOARDS, 'jaga-overview.json'), 'utf8')) as Dashboard;
const alertRules = (parseYaml(readFileSync(join(DASHBOARDS, 'prometheus-rules.yaml'), 'utf8')) as { groups: { rules: AlertRule[] }[] }).groups.flatMap((g) => g.rules);
const ruleTests = (parseYaml(readFileSync(join(DASHBOARDS, 'prometheus-rules.test.yaml'), 'utf8')) as { tests: RuleTest[] }).tests;

/** Grafana's variables replaced by what Prometheus would receive (dashboard time range 6h). */
const GRAFANA_VARIABLES: Record<string, string> = { $__rate_interval: '5m', $__interval: '1m', $__range: '6h', $instance: '.*' };

function expandGrafanaVariables(expr: string): string {
  const expanded = expr.replace(/\$__rate_interval|\$__interval|\$__range|\$instance/g, (name) => GRAFANA_VARIABLES[name]!);
  if (expanded.includes('$')) throw new Error(`unknown Grafana variable in: ${expr}`);
  return expanded;
}

const dashboardPanels = dashboard.panels.filter((p) => p.type !== 'row');
const dashboardExprs = dashboardPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: expandGrafanaVariables(t.expr ?? '') })));
const ruleExprs = alertRules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }));
const allExprs = [...dashboardExprs, ...ruleExprs];

const scratch = mkdtempSync(join(tmpdir(), 'jaga-dashboards-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('promqlMetricNames (the tokenizer the checks below rely on)', () => {
  it('keeps metric names and drops functions, aggregations, label lists, matchers, ranges, numbers and keywords', () => {
    expect(
      promqlMetricNames(
        'sum by (source, kind) (rate(jaga_events_total{kind="audit", source=~"a|b"}[5m])) / on (job) group_left (version) jaga_build_info offset 1h30m > bool 1e-3 and histogram_quantile(0.99, sum(rate(x_bucket[5m:1m])) without (le)) or time() - y unless absent(up{job="jaga"})',
      ),
    ).toEqual(['jaga_build_info', 'jaga_events_total', 'up', 'x_bucket', 'y']);
  });

  it('ignores a metric-like word inside a string and a label value', () => {
    expect(promqlMetricNames('count(a{reason="jaga_fake_total"}) by (reason) > 0.5')).toEqual(['a']);
  });
});

describe('promqlLabelNames', () => {
  it('collects matcher keys and grouping / matching label lists, not label values', () => {
    expect(promqlLabelNames('sum by (source) (rate(a{kind="audit", reason!~"x|y"}[5m])) / on (job, instance) group_left (version) b{le="by (z)"}')).toEqual(['instance', 'job', 'kind', 'le', 'reason', 'source', 'version']);
  });
});

describe('dashboards/jaga-overview.json', () => {
  it('is a Grafana 10+ dashboard whose panels all use the ${DS_PROMETHEUS} input', () => {
    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' })]);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(38);
    expect(dashboard.uid).toBe('jaga-overview');
    for (const panel of dashboardPanels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
    }
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('has the sections issue 7 asks for, in order', () => {
    expect(dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title)).toEqual(['Ingest', 'Parse failures', 'Threats', 'Notifications', 'Rules and baselines', 'Process']);
  });

  it('lays panels out without overlaps inside the 24-column grid', () => {
    const boxes = dashboard.panels.map((p) => ({ title: p.title, ...p.gridPos }));
    for (const box of boxes) expect(box.x + box.w, box.title).toBeLessThanOrEqual(24);
    const overlaps = boxes.flatMap((a, i) => boxes.slice(i + 1).filter((b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h).map((b) => `${a.title} / ${b.title}`));
    expect(overlaps).toEqual([]);
  });

  it('shows every metric of the catalogue somewhere', () => {
    const used = new Set(dashboardExprs.flatMap(({ expr }) => promqlMetricNames(expr)).map((n) => n.replace(/_(bucket|sum|count)$/, '')));
    expect(JAGA_METRIC_NAMES.filter((name) => !used.has(name))).toEqual([]);
  });
});

describe('dashboards/prometheus-rules.yaml', () => {
  it('defines the alerts on jaga itself, each with severity, summary, description and a runbook', () => {
    expect(alertRules.map((r) => r.alert)).toEqual([
      'JagaDown',
      'JagaSourceStalled',
      'JagaAuditLogSilent',
      'JagaNotificationsDeadLettered',
      'JagaOutboxGrowing',
      'JagaParseFailuresHigh',
      'JagaRuleReloadFailing',
    ]);
    const runbook = readFileSync(join(DASHBOARDS, 'RUNBOOK.md'), 'utf8');
    for (const rule of alertRules) {
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels.severity);
      expect(Object.keys(rule.annotations).sort(), rule.alert).toEqual(['description', 'runbook', 'runbook_url', 'summary']);
      expect(rule.annotations.runbook_url, rule.alert).toBe(`dashboards/RUNBOOK.md#${rule.alert.toLowerCase()}`);
      expect(runbook, rule.alert).toContain(`\n## ${rule.alert}\n`);
    }
  });

  it('has a firing and a not-firing unit test for every alert', () => {
    const cases = ruleTests.flatMap((t) => t.alert_rule_test);
    for (const rule of alertRules) {
      const mine = cases.filter((c) => c.alertname === rule.alert);
      expect(mine.some((c) => c.exp_alerts.length > 0), `${rule.alert} firing`).toBe(true);
      expect(mine.some((c) => c.exp_alerts.length === 0), `${rule.alert} not firing`).toBe(true);
    }
  });

  it('passes `promtool check rules` and `promtool test rules`', () => {
    const check = runPromtool(['check', 'rules', join(DASHBOARDS, 'prometheus-rules.yaml')]);
    expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
    expect(check.stdout).toContain(`SUCCESS: ${alertRules.length} rules found`);
    const test = runPromtool(['test', 'rules', 'prometheus-rules.test.yaml'], undefined, DASHBOARDS);
    expect({ status: test.status, stderr: test.stderr }).toEqual({ status: 0, stderr: '' });
    expect(test.stdout).toContain('SUCCESS');
  });
});

describe('every PromQL expression in dashboards/', () => {
  it('parses: `promtool check rules` accepts them all wrapped as recording rules', () => {
    expect(allExprs.length).toBe(dashboardExprs.length + alertRules.length);
    const rules = { groups: [{ name: 'jaga-dashboard-expressions', rules: allExprs.map(({ expr }, i) => ({ record: `jaga_check:expr_${i}`, expr })) }] };
    const file = join(scratch, 'wrapped.rules.json');
    writeFileSync(file, JSON.stringify(rules));
    const result = runPromtool(['check', 'rules', file]);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(result.stdout).toContain(`SUCCESS: ${allExprs.length} rules found`);
  });

  it('names only metrics jaga exports (catalogue, internal events, process metrics) or Prometheus `up`', async () => {
    const exported = await selectableSeriesNames(exportedRegistry().registry);
    const unknown = allExprs.flatMap(({ where, expr }) => promqlMetricNames(expr).filter((name) => !exported.has(name)).map((name) => `${where}: ${name}`));
    expect(unknown).toEqual([]);
    expect(allExprs.every(({ expr }) => promqlMetricNames(expr).length > 0)).toBe(true);
  });

  it('groups, matches and filters only by labels one of its metrics carries (or job / instance)', async () => {
    const labels = await seriesLabelNames(exportedRegistry().registry);
    const wrong = allExprs.flatMap(({ where, expr }) => {
      const carried = new Set(promqlMetricNames(expr).flatMap((name) => [...(labels.get(name) ?? [])]));
      return promqlLabelNames(expr).filter((label) => !carried.has(label)).map((label) => `${where}: ${label}`);
    });
    expect(wrong).toEqual([]);
  });
});

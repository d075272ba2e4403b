import { blankAccessEvent } from '../domain/blank-access-event.js';
import type { AccessEvent, AuditFields, QueryFacts } from '../domain/access-event.js';
import type { Detection } from '../domain/detection.js';
import type { CompiledRule, MatchContext, RuleTest } from './compiled-rule.js';
import { DetectionEngine } from './detection-engine.js';
import type { DetectorModule } from './detector.js';

/** Group values as `expect.groups` writes them and detections carry them. */
export type TestGroup = Record<string, string | number | null>;

/** The outcome of one inline test of one rule. */
export interface RuleTestOutcome {
  ruleId: string;
  /** the rule file (for the report) */
  file: string;
  testName: string;
  /** 0-based position of the test in the rule's `tests:` list */
  index: number;
  /** where the test case is written (`locateTest`), else null: the report then names only `file` */
  at: { file: string; line: number } | null;
  passed: boolean;
  expected: { detections: number; groups?: TestGroup[] };
  /** what the production engine returned: the detection count and each detection's group values, in order */
  got: { detections: number; groups: TestGroup[] };
  /** the differences, one line each (empty when passed) */
  diff: string[];
}

/** The outcomes of every test of every rule run. */
export interface RuleTestReport {
  outcomes: RuleTestOutcome[];
  passed: number;
  failed: number;
  /** rules that had at least one test */
  rules: number;
}

/** Options of `runRuleTests`. */
export interface RuleTestRunOptions {
  /** detector plug-ins; default the engine's DETECTOR_REGISTRY (the production ones) */
  registry?: ReadonlyMap<string, DetectorModule>;
  /**
   * Fills `query` facts of a test event that gives a statement (`audit.statement` or `statement`)
   * but no `query:` map, as the enrich stage does in production (the CLI passes QueryEnricher).
   * Without it such events keep `query: null`.
   */
  enrich?: (event: AccessEvent) => void;
  /**
   * File and 1-based YAML line of a rule's test case (`tests[index]`), e.g. the loader's effective
   * document `locate(['tests', index])` (an overlay's tests point into the overlay file); null or
   * absent: outcomes carry `at: null`
   */
  locateTest?: (ruleId: string, index: number) => { file: string; line: number } | null;
}

const AUDIT_DEFAULTS: AuditFields = {
  audit_type: 'SESSION',
  statement_id: null,
  substatement_id: null,
  class: '',
  command: '',
  object_type: null,
  object_name: null,
  statement: '',
  parameter: '<none>',
  rows: null,
};

const QUERY_DEFAULTS: QueryFacts = { fingerprint: null, normalized: null, relations: [], flags: [] };

/**
 * Runs rules' inline tests (`tests:` in a rule document, compiled by the loader into
 * `CompiledRule.tests`) through the production `DetectionEngine` in virtual time:
 * one fresh engine per test holding only that rule (enabled, with its suppression and the
 * exceptions in force), the test's events fed in order (event times drive every window), then
 * the watermark advanced to the newest event time, then to `advance_to` when the test has one
 * (so `absence` rules fire only where a test says time has passed). The detections returned
 * (suppressed ones excluded, as in production) are compared with `expect`: the count, and when
 * `expect.groups` is given, each detection's group values in order (only the keys written).
 *
 * Test events are partial AccessEvents: missing fields are null (`truncated` false, `query`
 * lists empty), `time` is normalised to ISO-8601 UTC with milliseconds, ids are deterministic
 * (`test:<rule id>:<test index>:<event index>`), `server` defaults to `test`.
 *
 * Bad input is never fatal: a test event whose time does not parse is skipped by the engine
 * (and the test then usually fails on its count). Never throws for rules the loader produced.
 *
 * @param rules compiled rules (disabled rules are tested too: their tests document them)
 * @param context the lists and catalog the rules were compiled with
 */
export function runRuleTests(rules: readonly CompiledRule[], context: MatchContext, options: RuleTestRunOptions = {}): RuleTestReport {
  const outcomes: RuleTestOutcome[] = [];
  let withTests = 0;
  for (const rule of rules) {
    if (rule.tests.length > 0) withTests++;
    rule.tests.forEach((test, index) => outcomes.push(runOne(rule, test, index, context, options)));
  }
  const passed = outcomes.filter((outcome) => outcome.passed).length;
  return { outcomes, passed, failed: outcomes.length - passed, rules: withTests };
}

function runOne(rule: CompiledRule, test: RuleTest, index: number, context: MatchContext, options: RuleTestRunOptions): RuleTestOutcome {
  const engine = new DetectionEngine([{ ...rule, enabled: true }], context, options.registry ? { registry: options.registry } : {});
  const detections: Detection[] = [];
  let newestMs = Number.NEGATIVE_INFINITY;
  test.events.forEach((fields, eventIndex) => {
    const event = buildTestEvent(fields, `test:${rule.id}:${index}:${eventIndex}`);
    if (event.query === null && options.enrich && !('query' in fields)) options.enrich(event);
    const timeMs = Date.parse(event.time);
    if (timeMs > newestMs) newestMs = timeMs;
    detections.push(...engine.process(event));
  });
  if (Number.isFinite(newestMs)) detections.push(...engine.advance(newestMs));
  if (test.advance_to !== undefined) detections.push(...engine.advance(Date.parse(test.advance_to)));
  const got = { detections: detections.length, groups: detections.map((detection) => ({ ...detection.group })) };
  const diff = compare(test.expect, got);
  const at = options.locateTest?.(rule.id, index) ?? null;
  return { ruleId: rule.id, file: rule.origin.file, testName: test.name, index, at, passed: diff.length === 0, expected: test.expect, got, diff };
}

/**
 * A full AccessEvent from a test's partial one (see `runRuleTests`).
 * @param fields the event as written in the test (`time` required; nested `audit:` / `query:` / `app:` maps allowed)
 * @param id the event id to use when the test gives none
 */
export function buildTestEvent(fields: Record<string, unknown>, id: string): AccessEvent {
  const server = typeof fields.server === 'string' ? fields.server : 'test';
  const time = typeof fields.time === 'string' && !Number.isNaN(Date.parse(fields.time)) ? new Date(Date.parse(fields.time)).toISOString() : String(fields.time);
  const event = blankAccessEvent({ id, time, server, source: { id: server, file: null, fingerprint: null, offset: 0 }, kind: 'other' }) as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'time') continue;
    if (key === 'audit' && isMap(value)) event.audit = { ...AUDIT_DEFAULTS, ...value };
    else if (key === 'query' && isMap(value)) event.query = { ...QUERY_DEFAULTS, ...value };
    else if (key === 'app' && isMap(value)) event.app = { actor: null, action: null, subject_table: null, subject_id: null, row_count: null, detail: null, ...value };
    else if (key === 'source' && isMap(value)) event.source = { ...(event.source as Record<string, unknown>), ...value };
    else event[key] = value;
  }
  return event as unknown as AccessEvent;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The differences between what a test expects and what the engine returned, one line each. */
function compare(expected: RuleTest['expect'], got: { detections: number; groups: TestGroup[] }): string[] {
  const diff: string[] = [];
  if (expected.detections !== got.detections) diff.push(`detections: expected ${expected.detections}, got ${got.detections}`);
  if (expected.groups === undefined) return diff;
  const length = Math.max(expected.groups.length, got.groups.length);
  for (let i = 0; i < length; i++) {
    const want = expected.groups[i];
    const have = got.groups[i];
    if (want === undefined) {
      diff.push(`groups[${i}]: expected none, got ${JSON.stringify(have)}`);
      continue;
    }
    if (have === undefined) {
      diff.push(`groups[${i}]: expected ${JSON.stringify(want)}, got none`);
      continue;
    }
    for (const [key, value] of Object.entries(want)) {
      const actual = have[key] ?? null;
      if (!sameGroupValue(value, actual)) diff.push(`groups[${i}].${key}: expected ${JSON.stringify(value)}, got ${JSON.stringify(actual)}`);
    }
  }
  return diff;
}

/** YAML may read `127.0.0.1` as a string and `5432` as a number: numbers equal their decimal text. */
function sameGroupValue(expected: string | number | null, actual: string | number | null): boolean {
  if (expected === actual) return true;
  if (expected === null || actual === null) return false;
  return String(expected) === String(actual);
}

/**
 * The report as text: one `FAIL rule › test (file:line)` block per failure (the test case's YAML line
 * when located, else the rule file) with its diff (expected vs got),
 * then a summary line `N passed, M failed (R rules)`. With `verbose`, passing tests are listed too.
 */
export function formatRuleTestReport(report: RuleTestReport, verbose = false): string {
  const lines: string[] = [];
  for (const outcome of report.outcomes) {
    if (outcome.passed) {
      if (verbose) lines.push(`ok   ${outcome.ruleId} › ${outcome.testName}`);
      continue;
    }
    lines.push(`FAIL ${outcome.ruleId} › ${outcome.testName} (${outcome.at === null ? outcome.file : `${outcome.at.file}:${outcome.at.line}`})`);
    for (const line of outcome.diff) lines.push(`     ${line}`);
    lines.push(`     expected: ${JSON.stringify(outcome.expected)}`);
    lines.push(`     got:      ${JSON.stringify(outcome.got)}`);
  }
  lines.push(`${report.passed} passed, ${report.failed} failed (${report.rules} rules)`);
  return `${lines.join('\n')}\n`;
}

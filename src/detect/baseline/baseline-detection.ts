import { SEVERITIES, type Detection, type Severity } from '../../domain/detection.js';
import type { CompiledRule } from '../compiled-rule.js';
import { buildDetection, HIDDEN_DETECTION } from '../detection-builder.js';
import type { EventDigest } from '../event-digest.js';
import type { SeverityStep } from './baseline-params.js';

/**
 * How every baseline detection explains itself (issue 5), the `explanation` of the Detection
 * besides the builder's `type`, `condition` and `group_by`. Numbers or strings only; no customer data.
 */
export interface BaselineExplanation {
  /** e.g. `robust_z_log1p_hour_of_week`, `robust_z_log1p_all`, `first_seen`, `hour_of_week_profile`, `ewma_poisson` */
  method: string;
  observed: number | string;
  /** median (log1p back-transformed to raw units), mean rate or probability */
  expected: number | string;
  /** MAD (raw units, around the median), standard deviation or similar */
  spread: number | string;
  score: number;
  threshold: number;
  /** history entries the reference used */
  history_size: number;
  /** time the history spans, ms */
  history_period_ms: number;
  /** the judged bucket: ISO start and length, or the hour-of-week label */
  bucket: string;
  /** the entity kind: role, role_table, role_client, client, session */
  entity: string;
  /** detector-specific additions, e.g. `measure: 'rows'` */
  [extra: string]: number | string;
}

/** What a baseline detector knows when it fires. */
export interface BaselineFiring {
  rule: CompiledRule;
  ladder: readonly SeverityStep[];
  raiseForClasses: readonly string[];
  /** canonical JSON of the entity's group values, keys sorted (e.g. `{"user":"support_sari"}`) */
  groupKey: string;
  /** the event that fired (early firing), or null when a bucket closed */
  trigger: EventDigest | null;
  /** deterministic token when `trigger` is null (e.g. `bucket:<n>`) */
  triggerToken: string;
  server: string;
  firstSeenMs: number;
  lastSeenMs: number;
  count: number;
  dataClasses: readonly string[];
  explanation: BaselineExplanation;
  /** summary text after the rule title, e.g. `5000 rows in 1h; usual 12 (MAD 4), z=9.8 > 4` */
  measure: string;
}

/**
 * The severity of a baseline detection: the rule's severity raised to the highest ladder step
 * whose `score` the anomaly score reaches, then one level more when `dataClasses` meets
 * `raiseForClasses` (at most critical).
 */
export function baselineSeverity(base: Severity, score: number, ladder: readonly SeverityStep[], dataClasses: readonly string[], raiseForClasses: readonly string[]): Severity {
  let rank = SEVERITIES.indexOf(base);
  for (const step of ladder) if (score >= step.score) rank = Math.max(rank, SEVERITIES.indexOf(step.severity));
  if (dataClasses.some((c) => raiseForClasses.includes(c))) rank = Math.min(SEVERITIES.length - 1, rank + 1);
  return SEVERITIES[rank] as Severity;
}

/** true for high and critical (events raising these do not teach baselines) */
export function isSevere(severity: Severity): boolean {
  return severity === 'high' || severity === 'critical';
}

/**
 * Builds a baseline Detection with the shared builder (deterministic id from rule id, group key,
 * the trigger event id and `triggerToken`), then sets `severity` (see `baselineSeverity`) and
 * `score` (the explanation's score, rounded to 3 decimals). Returns HIDDEN_DETECTION when the
 * engine's suppression gate hid it.
 */
export function buildBaselineDetection(firing: BaselineFiring): Detection {
  const built = buildDetection({
    rule: firing.rule,
    groupKey: firing.groupKey,
    events: firing.trigger === null ? [] : [firing.trigger],
    count: firing.count,
    triggerId: firing.triggerToken,
    firstSeenMs: firing.firstSeenMs,
    lastSeenMs: firing.lastSeenMs,
    server: firing.server,
    dataClasses: firing.dataClasses,
    explanation: { ...firing.explanation },
    measure: firing.measure,
  });
  if (built === HIDDEN_DETECTION) return built;
  built.severity = baselineSeverity(firing.rule.severity, firing.explanation.score, firing.ladder, built.dataClasses, firing.raiseForClasses);
  built.score = round3(firing.explanation.score);
  return built;
}

/** rounds to 3 decimals (explanations and scores stay readable and stable) */
export function round3(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 1000) / 1000 : value;
}

/** canonical JSON of group values, keys sorted (the shape GroupKeyer produces) */
export function entityKey(values: Record<string, string | null>): string {
  const keys = Object.keys(values).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(values[k])}`).join(',')}}`;
}

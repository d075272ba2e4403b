import { z } from 'zod';
import { SEVERITIES } from '../../domain/detection.js';
import { durationSchema } from '../../lib/duration.js';

/**
 * zod schemas of the five baseline detector types' parameters (issue 5). Parameters are top-level
 * keys of a `jaga/rules/v1` document like any rule type's (BASELINE_PARAM_KEYS); each schema is
 * strict, so a key a type does not take is reported by name. Durations are strings with units in
 * YAML (`1h`, `7d`) and milliseconds after parsing. Defaults are those shipped in rules/baselines.yaml.
 *
 * Shared keys:
 * - `bucket` (duration): the aggregation bucket (volume, breadth per hour, failure rates); default 1h
 * - `min_history` (duration): warm-up: no detection for an entity first seen less than this ago
 *   (event time); default 7d
 * - `min_samples` (int >= 1): warm-up: closed buckets (or activity units) an entity needs; default 20
 * - `half_life` (duration): history weight 0.5^(age / half_life); default 14d
 * - `threshold` (number > 0): the score that fires (robust z for volume and breadth, the
 *   probability bound for time of week, the Poisson z for failure rates)
 * - `severity_ladder` ([{score, severity}]): the detection's severity is the rule's `severity`
 *   raised to the highest step whose `score` the anomaly score reaches; default []
 * - `raise_for_classes` ([class]): a detection touching a table of one of these catalog classes is
 *   raised one more level (never above critical); default []
 * - `max_entities` (int): entities held per detector, least recently seen dropped (counted); default 100,000
 */

const positiveDurationMs = durationSchema.refine((ms) => ms > 0, { message: 'must be longer than 0' });
const DAY_MS = 86_400_000;

/** One step of a severity ladder: at or above `score`, at least `severity`. */
export const severityStepSchema = z.strictObject({ score: z.number().positive(), severity: z.enum(SEVERITIES) });
export type SeverityStep = z.output<typeof severityStepSchema>;

const dataClass = z.string().regex(/^[a-z0-9_]+$/, 'a data class is lower-case letters, digits, _');

const shared = {
  min_history: durationSchema.default(7 * DAY_MS),
  min_samples: z.number().int().min(1).default(20),
  half_life: positiveDurationMs.default(14 * DAY_MS),
  severity_ladder: z.array(severityStepSchema).default([]),
  raise_for_classes: z.array(dataClass).default([]),
  max_entities: z.number().int().min(1).max(10_000_000).default(100_000),
};

/**
 * `baseline_volume`: rows read (pgaudit `rows`) and statements per entity per `bucket`, judged by a
 * robust z on log1p against the weighted median / MAD of the entity's closed buckets of the same
 * hour of week (when at least 4 of them are held) or of all its buckets.
 * - `entities`: `role` (user) and/or `role_table` (user x table of `table_classes`); default both
 * - `table_classes`: catalog classes that make a table count for `role_table`; default [pii]
 * - `mad_floor`: the smallest MAD used, in log1p units (a constant history has MAD 0); default 0.25
 * - `threshold`: robust z that fires; default 4
 */
export const volumeParamsSchema = z.strictObject({
  ...shared,
  entities: z.array(z.enum(['role', 'role_table'])).min(1).default(['role', 'role_table']),
  bucket: positiveDurationMs.default(3_600_000),
  table_classes: z.array(dataClass).default(['pii']),
  mad_floor: z.number().positive().default(0.25),
  threshold: z.number().positive().default(4),
});
export type VolumeParams = z.output<typeof volumeParamsSchema>;

/**
 * `baseline_breadth`: distinct tables of `table_classes` per role per session (backend pid +
 * session id) and per `bucket`, robust z on log1p against the role's history of closed sessions
 * and buckets. Keys as for volume (no `entities`: the entity is the role).
 */
export const breadthParamsSchema = z.strictObject({
  ...shared,
  bucket: positiveDurationMs.default(3_600_000),
  table_classes: z.array(dataClass).default(['pii']),
  mad_floor: z.number().positive().default(0.25),
  threshold: z.number().positive().default(4),
});
export type BreadthParams = z.output<typeof breadthParamsSchema>;

/** The contexts `baseline_new_context` watches. */
export const CONTEXT_KINDS = ['role', 'dormant', 'client', 'client_net', 'application', 'table'] as const;
export type ContextKind = (typeof CONTEXT_KINDS)[number];

/**
 * `baseline_new_context`: per role, the client addresses (/32 and /24), application names and
 * tables of `table_classes` seen; fires for a first-seen one once the role is warmed up
 * (`min_history` since first seen and `min_samples` events), for a role never seen before once
 * the detector itself has `min_history` of events, and for a role silent longer than `dormant_after`.
 * - `contexts`: which of role, dormant, client, client_net, application, table; default all
 * - `dormant_after` (duration): default 30d
 */
export const newContextParamsSchema = z.strictObject({
  ...shared,
  contexts: z.array(z.enum(CONTEXT_KINDS)).min(1).default([...CONTEXT_KINDS]),
  table_classes: z.array(dataClass).default(['pii']),
  dormant_after: positiveDurationMs.default(30 * DAY_MS),
});
export type NewContextParams = z.output<typeof newContextParamsSchema>;

/**
 * `baseline_time_of_week`: per role a 168-bin hour-of-week profile (UTC, Monday 00:00 = bin 0) of
 * activity units (a session start, and the first read of each hour), decayed by `half_life`,
 * with additive `smoothing`: P(bin) = (c[bin] + smoothing) / (sum + 168 * smoothing). Fires when
 * the lift 168 x P of the observed bin (1 = uniform) is below `threshold` and the role has
 * `min_samples` units over `min_history`.
 * - `smoothing` (> 0): default 0.05
 * - `threshold` (0 < lift < 1): default 0.15
 */
export const timeOfWeekParamsSchema = z.strictObject({
  ...shared,
  smoothing: z.number().positive().default(0.05),
  threshold: z.number().positive().lt(1).default(0.15),
});
export type TimeOfWeekParams = z.output<typeof timeOfWeekParamsSchema>;

/**
 * `baseline_failure_rate`: per entity an EWMA (per `bucket`, decay by `half_life`) of auth failures,
 * permission denials (42501) and other syntax-class errors (42xxx); a bucket fires when its count
 * reaches `min_count` and the Poisson z (count - rate) / sqrt(max(rate, 0.25)) reaches `threshold`.
 * Other events the rule matches (e.g. authorizations) only make the entity's history.
 * - `entities`: `role` and/or `client`; default both
 * - `min_count` (int >= 1): default 3
 * - `threshold`: default 6
 */
export const failureRateParamsSchema = z.strictObject({
  ...shared,
  entities: z.array(z.enum(['role', 'client'])).min(1).default(['role', 'client']),
  bucket: positiveDurationMs.default(3_600_000),
  min_count: z.number().int().min(1).default(3),
  threshold: z.number().positive().default(6),
});
export type FailureRateParams = z.output<typeof failureRateParamsSchema>;

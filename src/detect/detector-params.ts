import { z } from 'zod';
import { durationSchema } from '../lib/duration.js';

/**
 * The zod schemas of every detector type's parameters (rules design, "Rule YAML": the type
 * parameters are top-level keys of a rule document). Each schema is strict, so a parameter on a
 * type that does not take it (`window` on a `match` rule) is an `unrecognized_keys` issue naming
 * that key. Durations are strings with units in YAML (`60s`) and milliseconds after parsing.
 * Source of truth: issue 4, rules design (schema `jaga/rules/v1`).
 */

/** A positive duration (`500ms`, `60s`, `26h`, `7d`) parsed to milliseconds (> 0). */
const positiveDurationMs = durationSchema.refine((ms) => ms > 0, { message: 'must be longer than 0' });

/** A field path as rules name it: an AccessEvent field, dotted for nested, or a virtual field. */
const fieldPath = z.string().regex(/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$/, 'must be a field path such as client_addr or audit.rows');

/** `match`: no parameters (each matching event is a detection). */
export const matchParamsSchema = z.strictObject({});
export type MatchParams = z.output<typeof matchParamsSchema>;

/** `threshold`: fires when a group has >= `count` events within `window` (ms). */
export const thresholdParamsSchema = z.strictObject({
  window: positiveDurationMs,
  count: z.number().int().min(1),
});
export type ThresholdParams = z.output<typeof thresholdParamsSchema>;

/** `distinct`: fires when a group has >= `count` distinct values of `field` within `window` (ms). */
export const distinctParamsSchema = z.strictObject({
  window: positiveDurationMs,
  count: z.number().int().min(1),
  field: fieldPath,
});
export type DistinctParams = z.output<typeof distinctParamsSchema>;

/** `sum`: fires when the sum of numeric `field` over a group's events within `window` (ms) reaches `total`. */
export const sumParamsSchema = z.strictObject({
  window: positiveDurationMs,
  field: fieldPath,
  total: z.number().positive(),
});
export type SumParams = z.output<typeof sumParamsSchema>;

/** One `sequence` step: a selection name and how many matching events it needs (default 1). */
export const sequenceStepSchema = z.strictObject({
  selection: z.string().min(1),
  count: z.number().int().min(1).default(1),
});
export type SequenceStep = z.output<typeof sequenceStepSchema>;

/** `sequence`: ordered `steps` (at least 2) per group, all within `window` (ms). */
export const sequenceParamsSchema = z.strictObject({
  window: positiveDurationMs,
  steps: z.array(sequenceStepSchema).min(2),
});
export type SequenceParams = z.output<typeof sequenceParamsSchema>;

/** `new_value`: fires for a tuple of `fields` never seen for the group, after `learn` (ms) of learning. */
export const newValueParamsSchema = z.strictObject({
  fields: z.array(fieldPath).min(1),
  learn: durationSchema,
});
export type NewValueParams = z.output<typeof newValueParamsSchema>;

/** `absence`: fires when no matching event arrived for `after` (ms); with `while`, only while that selection's events keep arriving. */
export const absenceParamsSchema = z.strictObject({
  after: positiveDurationMs,
  while: z.string().min(1).optional(),
});
export type AbsenceParams = z.output<typeof absenceParamsSchema>;

/**
 * Every parameter key any type takes (the rules design's "windowed parameters"): the loader lifts
 * these top-level keys of a rule document into `params` and reports one on a type whose schema
 * does not list it as an impossible combination.
 */
export const PARAM_KEYS = ['window', 'count', 'field', 'total', 'steps', 'fields', 'learn', 'after', 'while'] as const;

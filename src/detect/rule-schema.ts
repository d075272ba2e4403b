import { z } from 'zod';
import { SEVERITIES } from '../domain/detection.js';
import { durationSchema } from '../lib/duration.js';
import { BASELINE_PARAM_KEYS } from './baseline/baseline-param-keys.js';
import { parseCalendarTime } from '../lib/calendar-time.js';

/** Schema ids of the documents the rule loader reads. */
export const RULE_SCHEMA_ID = 'jaga/rules/v1';
export const OVERLAY_SCHEMA_ID = 'jaga/overlay/v1';
export const LISTS_SCHEMA_ID = 'jaga/lists/v1';

/**
 * Top-level rule keys that are type parameters, validated by the detector's `paramsSchema`. The
 * second line holds the baseline types' parameters (src/detect/baseline/baseline-params.ts).
 */
export const PARAM_KEYS = [
  'window', 'count', 'field', 'total', 'steps', 'fields', 'learn', 'after', 'while',
  ...BASELINE_PARAM_KEYS,
] as const;

/** Permanent rule ids: lower-case letters, digits, `_`, `.`, `-`. */
export const RULE_ID_PATTERN = /^[a-z0-9_.-]+$/;
/** List names (`in_list` values). */
export const LIST_NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

const isoTime = z.string().refine((text) => parseCalendarTime(text, 'date-first') !== null, { message: 'expected an ISO-8601 time such as 2027-01-31T00:00:00Z' });
const tag = z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'a tag is letters, digits, _ . : -');

/** One `exceptions:` entry (rule or overlay): events matching `match` never count for the rule. */
export const exceptionSchema = z.strictObject({
  name: z.string().min(1),
  reason: z.string().min(1),
  /** ISO time after which the exception is ignored (with a load warning) */
  expires: isoTime.optional(),
  /** a map (AND) or list of maps (OR) of field conditions: compiled like a selection */
  match: z.unknown(),
});

const groupValue = z.union([z.string(), z.number(), z.null()]);

/** One inline test. `repeat` copies the events list N times, each copy 1 s later than the previous one. */
export const ruleTestSchema = z.strictObject({
  name: z.string().min(1),
  events: z.array(z.record(z.string(), z.unknown())).min(1),
  repeat: z.number().int().min(1).max(100_000).optional(),
  expect: z.strictObject({
    detections: z.number().int().min(0),
    groups: z.array(z.record(z.string(), groupValue)).optional(),
  }),
  advance_to: isoTime.optional(),
});

/**
 * zod schema of one rule document (`schema: jaga/rules/v1`, rules-design.md "Rule YAML"). Strict:
 * unknown keys are problems. `match` and the type parameters are checked further by the rule
 * compiler (selections, condition) and the detector's `paramsSchema` (parameters).
 */
export const ruleDocumentSchema = z.strictObject({
  schema: z.literal(RULE_SCHEMA_ID),
  id: z.string().regex(RULE_ID_PATTERN, 'a rule id is lower-case letters, digits, _ . -'),
  title: z.string().min(1),
  description: z.string().min(1),
  severity: z.enum(SEVERITIES),
  maturity: z.enum(['experimental', 'stable']).default('stable'),
  tags: z.array(tag).default([]),
  enabled: z.boolean().default(true),
  type: z.string().min(1),
  match: z.record(z.string(), z.unknown()),
  group_by: z.array(z.string()).default([]),
  window: z.unknown().optional(),
  count: z.unknown().optional(),
  field: z.unknown().optional(),
  total: z.unknown().optional(),
  steps: z.unknown().optional(),
  fields: z.unknown().optional(),
  learn: z.unknown().optional(),
  after: z.unknown().optional(),
  while: z.unknown().optional(),
  ...Object.fromEntries(BASELINE_PARAM_KEYS.map((key) => [key, z.unknown().optional()])) as Record<(typeof BASELINE_PARAM_KEYS)[number], z.ZodOptional<z.ZodUnknown>>,
  suppress: durationSchema.optional(),
  /** quiet period after which the rule's incident resolves itself (issue 6); default from the config (1h) */
  resolve_after: durationSchema.optional(),
  exceptions: z.array(exceptionSchema).default([]),
  tests: z.array(ruleTestSchema).default([]),
});

/** A validated rule document (durations of `suppress` and `resolve_after` in ms; parameters still as written). */
export type RuleDocument = z.output<typeof ruleDocumentSchema>;

/**
 * zod schema of an overlay document (`schema: jaga/overlay/v1`): patches a rule by `id` without
 * copying it. Values replace the rule's, except `exceptions` (appended) and `tags_add` (added to tags).
 */
export const overlayDocumentSchema = z.strictObject({
  schema: z.literal(OVERLAY_SCHEMA_ID),
  id: z.string().regex(RULE_ID_PATTERN, 'a rule id is lower-case letters, digits, _ . -'),
  enabled: z.boolean().optional(),
  severity: z.enum(SEVERITIES).optional(),
  maturity: z.enum(['experimental', 'stable']).optional(),
  window: z.string().optional(),
  count: z.number().optional(),
  total: z.number().optional(),
  after: z.string().optional(),
  learn: z.string().optional(),
  // baseline tuning (baseline-params.ts checks the values once the overlay is applied)
  bucket: z.string().optional(),
  min_history: z.string().optional(),
  min_samples: z.number().optional(),
  half_life: z.string().optional(),
  threshold: z.number().optional(),
  mad_floor: z.number().optional(),
  dormant_after: z.string().optional(),
  smoothing: z.number().optional(),
  min_count: z.number().optional(),
  max_entities: z.number().optional(),
  severity_ladder: z.array(z.unknown()).optional(),
  raise_for_classes: z.array(z.string()).optional(),
  table_classes: z.array(z.string()).optional(),
  suppress: z.string().optional(),
  resolve_after: z.string().optional(),
  exceptions: z.array(exceptionSchema).optional(),
  tags_add: z.array(tag).optional(),
});

/** A validated overlay document. */
export type OverlayDocument = z.output<typeof overlayDocumentSchema>;

/** zod schema of a lists file (`rules/lists/*.yaml`): `lists: { attack_tools: [sqlmap, ...] }`. */
export const listsDocumentSchema = z.strictObject({
  schema: z.literal(LISTS_SCHEMA_ID),
  lists: z.record(z.string().regex(LIST_NAME_PATTERN, 'a list name is letters, digits, _ . -'), z.array(z.union([z.string(), z.number(), z.boolean()]))),
});

import { z } from 'zod';
import { ConfigError } from '../domain/errors.js';
import type { Severity } from '../domain/detection.js';
import { durationSchema } from '../lib/duration.js';
import { formatPath, zodProblems } from '../lib/zod-problems.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const positiveDuration = durationSchema.refine((ms) => ms > 0, { message: 'must be longer than 0' });
/**
 * `incidents.escalation` moved to the top-level `escalation:` section (notify-config.ts), which holds
 * both the timing and the receivers of each step: the key is still recognised so that an old config
 * gets a clear problem instead of "unknown key".
 */
const movedEscalation = z.unknown().superRefine((_value, context) => {
  context.addIssue({
    code: 'custom',
    message: 'moved to escalation: give each step as `escalation: {steps: [{after: {critical: 15m, high: 1h}, receivers: [...]}]}` at the top level (one place for timing and receivers)',
  });
});
const className = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a data class is letters, digits, _ . -');

const regulatoryClockSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'a clock name is lowercase snake_case, e.g. gdpr_art33'),
    title: z.string().min(1).max(200),
    within: positiveDuration,
    data_classes: z.array(className).min(1),
    remind_before: z.array(positiveDuration).max(10).default([]),
  })
  .refine((clock) => clock.remind_before.every((ms) => ms < clock.within), { message: 'every remind_before must be shorter than within', path: ['remind_before'] });

/**
 * The incidents and retention sections of jaga.yaml, as zod shape entries merged into the top-level
 * strict config schema (see `loadConfigFile`). Every key is optional; `resolveIncidentsConfig` applies
 * the defaults shown:
 * ```yaml
 * incidents:
 *   resolve_after: 1h              # default quiet period before auto-resolve (a rule's resolve_after wins)
 *   # (escalation is configured once, in the top-level `escalation:` section: see notify-config.ts;
 *   #  `incidents.escalation` is rejected with "moved to escalation:")
 *   regulatory:                    # clocks started by an incident touching these data classes (replaces the defaults)
 *     - name: gdpr_art33
 *       title: "GDPR Art. 33: notify the supervisory authority"
 *       within: 72h                # from the incident's first detection (first_seen)
 *       data_classes: [pii]
 *       remind_before: [24h, 4h]   # reminders while the incident is not resolved
 * retention:
 *   evidence: 180d                 # evidence of incidents resolved longer ago is cleared
 *   outbox: 30d                    # delivered notifications (notify stage)
 *   timeline: 365d                 # older `updated` timeline entries are deleted
 * ```
 * Sources: GDPR Art. 33(1) (72 hours after becoming aware, to the supervisory authority); UU PDP
 * (Law 27/2022) Art. 46(1) (3 x 24 hours, to data subjects and the authority).
 */
export const incidentsConfigShape = {
  incidents: z
    .strictObject({
      resolve_after: positiveDuration.optional(),
      escalation: movedEscalation.optional(),
      regulatory: z
        .array(regulatoryClockSchema)
        .max(20)
        .refine((clocks) => new Set(clocks.map((c) => c.name)).size === clocks.length, { message: 'clock names must be unique' })
        .optional(),
    })
    .optional(),
  retention: z
    .strictObject({
      evidence: positiveDuration.optional(),
      outbox: positiveDuration.optional(),
      timeline: positiveDuration.optional(),
    })
    .optional(),
};

/** The incidents and retention keys as validated by `incidentsConfigShape` (durations already in ms). */
export type IncidentsConfigInput = z.output<z.ZodObject<typeof incidentsConfigShape>>;

/** One regulatory clock (`incidents.regulatory[]`), durations in ms. */
export interface RegulatoryClock {
  /** e.g. `gdpr_art33`: the key of the incident's `deadlines` */
  name: string;
  title: string;
  /** period from the incident's first detection to the deadline, ms */
  withinMs: number;
  /** the clock applies when the incident's data classes include any of these */
  dataClasses: readonly string[];
  /** reminders this long before the deadline, ms, longest first */
  remindBeforeMs: readonly number[];
}

/** The incidents slice of the config, defaults applied, frozen. */
export interface IncidentsConfig {
  /** default quiet period before auto-resolve, ms (default 1 h) */
  resolveAfterMs: number;
  /**
   * per severity, escalation bounds after the incident opened, ms, increasing (bound k = step k);
   * absent severities never escalate. Derived from the notify section's `escalation.steps`
   * (`escalationBoundsMs` in notify-config.ts) by `loadConfigFile`: never configured here.
   */
  escalationMs: Readonly<Partial<Record<Severity, readonly number[]>>>;
  regulatory: readonly RegulatoryClock[];
  retention: {
    /** evidence of incidents resolved longer ago than this is cleared, ms (default 180 d) */
    evidenceMs: number;
    /** delivered outbox rows older than this are deleted by the notify stage, ms (default 30 d) */
    outboxMs: number;
    /** `updated` timeline entries older than this are deleted, ms (default 365 d) */
    timelineMs: number;
  };
}

/** Default regulatory clocks: GDPR Art. 33 and UU PDP Art. 46, both on data class `pii`, reminded 24 h and 4 h before. */
export const DEFAULT_REGULATORY_CLOCKS: readonly RegulatoryClock[] = Object.freeze([
  Object.freeze({
    name: 'gdpr_art33',
    title: 'GDPR Art. 33: notify the supervisory authority',
    withinMs: 72 * HOUR_MS,
    dataClasses: Object.freeze(['pii']),
    remindBeforeMs: Object.freeze([24 * HOUR_MS, 4 * HOUR_MS]),
  }),
  Object.freeze({
    name: 'uu_pdp_art46',
    title: 'UU PDP Art. 46: notify data subjects and the authority',
    withinMs: 3 * 24 * HOUR_MS,
    dataClasses: Object.freeze(['pii']),
    remindBeforeMs: Object.freeze([24 * HOUR_MS, 4 * HOUR_MS]),
  }),
]);

/**
 * Applies the defaults to the validated incidents and retention keys. A `regulatory` list replaces
 * the default clocks (`[]` turns them off).
 * @param input the validated keys (`{}` gives every default); an `incidents.escalation` key (rejected
 *   by the schema) is ignored
 * @param escalationMs per-severity escalation bounds, ms, increasing, derived from the notify
 *   section's `escalation.steps` (`escalationBoundsMs`); default `{}`: nothing escalates
 */
export function resolveIncidentsConfig(input: IncidentsConfigInput, escalationMs: Readonly<Partial<Record<Severity, readonly number[]>>> = {}): IncidentsConfig {
  const incidents = input.incidents ?? {};
  const escalation: Partial<Record<Severity, readonly number[]>> = {};
  for (const [severity, steps] of Object.entries(escalationMs)) {
    if (steps !== undefined && steps.length > 0) escalation[severity as Severity] = Object.freeze([...steps]);
  }
  const regulatory = incidents.regulatory
    ? incidents.regulatory.map((clock) =>
        Object.freeze({
          name: clock.name,
          title: clock.title,
          withinMs: clock.within,
          dataClasses: Object.freeze([...new Set(clock.data_classes)].sort()),
          remindBeforeMs: Object.freeze([...new Set(clock.remind_before)].sort((a, b) => b - a)),
        }),
      )
    : DEFAULT_REGULATORY_CLOCKS;
  return Object.freeze({
    resolveAfterMs: incidents.resolve_after ?? HOUR_MS,
    escalationMs: Object.freeze(escalation),
    regulatory: Object.freeze([...regulatory]),
    retention: Object.freeze({
      evidenceMs: input.retention?.evidence ?? 180 * DAY_MS,
      outboxMs: input.retention?.outbox ?? 30 * DAY_MS,
      timelineMs: input.retention?.timeline ?? 365 * DAY_MS,
    }),
  });
}

/**
 * Validates and resolves the incidents and retention keys of a parsed YAML value on their own (tests,
 * tools; `loadConfigFile` validates them as part of the whole file).
 * @param escalationMs as for `resolveIncidentsConfig`
 * @throws ConfigError listing every problem as `path: message`, e.g. `incidents.regulatory[0].within: invalid duration "72"...`
 */
export function parseIncidentsConfig(value: unknown, escalationMs: Readonly<Partial<Record<Severity, readonly number[]>>> = {}): IncidentsConfig {
  const schema = z.object(incidentsConfigShape);
  const parsed = schema.safeParse(value ?? {}, { reportInput: true });
  if (!parsed.success) {
    const problems = zodProblems(parsed.error.issues, schema).map((p) => `${formatPath(p.path)}: ${p.message}`);
    throw new ConfigError(`${problems.length} problem${problems.length === 1 ? '' : 's'} in the incidents config:\n${problems.join('\n')}`, problems);
  }
  return resolveIncidentsConfig(parsed.data, escalationMs);
}

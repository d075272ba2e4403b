import type { AccessEvent } from '../domain/access-event.js';
import type { Maturity, Severity } from '../domain/detection.js';

/**
 * A rule after loading: validated (schema `jaga/rules/v1`), overlays applied, lists and catalog
 * resolved, selections compiled to predicates. Produced by the rule loader, consumed by the
 * detection engine and the detectors. Immutable.
 */
export interface CompiledRule {
  /** permanent id, e.g. `jaga.auth.brute_force` */
  id: string;
  title: string;
  description: string;
  severity: Severity;
  maturity: Maturity;
  tags: string[];
  enabled: boolean;
  /** detector type: match | threshold | distinct | sum | sequence | new_value | absence */
  type: string;
  /** type parameters, already validated against the detector's params schema (durations in ms) */
  params: Record<string, unknown>;
  /** named selections, each a compiled predicate (for `sequence` steps and explanations) */
  selections: ReadonlyMap<string, EventPredicate>;
  /** the rule's `condition` over its selections, compiled */
  matches: EventPredicate;
  /** the condition's source text, for explanations */
  conditionText: string;
  /** group_by field paths (may be empty) */
  groupBy: string[];
  /** per-group suppression after a detection, ms (0 = none) */
  suppressMs: number;
  /** quiet period after which the rule's incident resolves itself, ms; null = the deployment's default */
  resolveAfterMs: number | null;
  /** exceptions still in force (expired ones were dropped at load with a warning) */
  exceptions: CompiledException[];
  /** file the rule came from and the overlay files that patched it */
  origin: { file: string; overlays: string[] };
  /**
   * stable hash of everything that defines the rule's window state (type, params, match, group_by):
   * hot reload keeps a detector's state when this is unchanged
   */
  stateKey: string;
  /** inline tests, as written (run by `jaga rules test` through the production engine) */
  tests: RuleTest[];
  /**
   * the event `kind`s the rule can ever want (its condition, sequence steps and `while`), derived
   * from plain `kind:` equalities; absent when it may want any kind. The engine indexes rules by it.
   */
  kinds?: ReadonlySet<string>;
  /**
   * what the rule's detector can want (its condition, sequence steps and `while`) specialised to an
   * event's kind and dispatch fields (`DISPATCH_PATHS`: audit.class, audit.command,
   * audit.object_type, query.flags): false → the detector never wants events with those values,
   * true → their dispatch values do not rule them out, a test → only events passing it may be wanted.
   * `condition` is the same for the rule's condition alone (`matches`).
   * The engine computes them once per combination of those values (per kind when `refined` is
   * false: no selection has a condition on a dispatch field besides `kind`) and calls the
   * detector's `wants` only for events the residual passes. Absent: every event of the rule's
   * kinds is offered. Built for the rule's own `matches`, `selections` and `params` (kept here):
   * the engine ignores it on a rule where one of them is another (a copy with a replaced predicate),
   * except that a detector whose `wants` is exactly the condition (DetectorModule.wants
   * 'condition') only needs `matches` to be the rule's own (it uses `condition` alone).
   */
  dispatch?: {
    matches: EventPredicate;
    selections: ReadonlyMap<string, EventPredicate>;
    params: Record<string, unknown>;
    refined: boolean;
    residual(event: AccessEvent): boolean | ((event: AccessEvent) => boolean);
    condition(event: AccessEvent): boolean | ((event: AccessEvent) => boolean);
  };
}

/** A compiled exception: events matching it never contribute to the rule. */
export interface CompiledException {
  name: string;
  reason: string;
  /** ISO date-time after which the exception is ignored, or null for none */
  expires: string | null;
  matches: EventPredicate;
}

/** A predicate over an event in the context of the loaded lists and catalog. */
export type EventPredicate = (event: AccessEvent, context: MatchContext) => boolean;

/** What predicates may consult besides the event. */
export interface MatchContext {
  /** named lists (`in_list`), values lower-cased unless the list is cased */
  lists: ReadonlyMap<string, ReadonlySet<string>>;
  /** data classes of a relation (`schema.table`, or an unqualified name resolved as `public.`), empty when unclassified */
  classesOf(relation: string): readonly string[];
}

/** One inline rule test (`tests:` in a rule document). */
export interface RuleTest {
  name: string;
  /** events as partial AccessEvents (missing fields default to null); `time` required */
  events: Record<string, unknown>[];
  /** expected detections: count, and optionally the group values of each in order */
  expect: { detections: number; groups?: Record<string, string | number | null>[] };
  /** optional watermark to advance to after the events (ISO time), for absence rules */
  advance_to?: string;
}

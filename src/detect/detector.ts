import type { ZodType } from 'zod';
import type { AccessEvent } from '../domain/access-event.js';
import type { Detection } from '../domain/detection.js';
import type { CompiledRule, MatchContext } from './compiled-rule.js';

/**
 * A running detector: one per enabled rule (or baseline). Windows run on event time; the engine
 * calls `advance` when the event-time watermark moves, so `absence` can fire without new events.
 * State must be JSON-serialisable through `snapshot`/`restore` so it can be committed with the
 * source checkpoints (a restart neither forgets a half-counted window nor counts it twice).
 */
export interface Detector {
  readonly rule: CompiledRule;
  /**
   * true when the event concerns this detector (its condition, a sequence step, an absence's
   * `while`). Must imply the rule's condition or one of its selections named by its params: the
   * engine offers a detector only events its rule's `dispatch` residual passes.
   */
  wants(event: AccessEvent, context: MatchContext): boolean;
  /**
   * feeds one wanted event (exceptions already applied); returns the detections it raises now.
   * `learn` (baseline detectors only; rule detectors ignore it) is false when an earlier detector
   * raised a high or critical detection for this event: the event is judged but does not teach
   * the baseline. The engine always passes it (true by default).
   */
  observe(event: AccessEvent, context: MatchContext, learn?: boolean): Detection[];
  /** the watermark (epoch ms: no later event is expected to be older) moved; returns detections due */
  advance(watermarkMs: number): Detection[];
  /** JSON-serialisable state (windows, counters, learned values, absence watermark) */
  snapshot(): unknown;
  /** restores a snapshot taken by a detector of the same rule id and stateKey; @throws Error on a malformed state */
  restore(state: unknown): void;
}

/** What a detector may use besides its rule. */
export interface DetectorDeps {
  /** max events kept per group in a window before the oldest are summarised (memory bound); default 10,000 */
  maxEventsPerGroup?: number;
  /** max groups per detector before the least recently seen is dropped; default 100,000 */
  maxGroups?: number;
  /**
   * One object per set of detectors the engine installs together (constructor, `swap`, `restore`):
   * detectors of that set may share per-event and per-role state through it (the baseline
   * detectors keep one role directory there, so an event's role is looked up once, not once per
   * baseline). Absent: nothing is shared.
   */
  installation?: object;
}

/**
 * A detector plug-in (CONVENTIONS.md rule 8): its `type` as written in rule YAML, the zod schema of
 * its parameters (durations as strings with units in YAML, ms after parsing), and `create`.
 * The registry is an explicit map of these; code named in YAML is never loaded.
 */
export interface DetectorModule<P extends Record<string, unknown> = Record<string, unknown>> {
  type: string;
  paramsSchema: ZodType<P>;
  /** true when the type needs a time window (a `window` on a `match` rule is an impossible combination) */
  windowed: boolean;
  /**
   * `baseline` detectors run after every rule detector for an event and are told (`observe`'s
   * `learn`) whether one of those raised a high or critical detection; default `rule`.
   */
  phase?: 'rule' | 'baseline';
  /**
   * what the detector's `wants` is exactly, when the engine may decide it without calling it:
   * `condition` = `rule.matches`; `selections` = `rule.matches` or a selection its params name
   * (steps, `while`). Absent: the engine calls `wants` (after the rule's dispatch residual).
   */
  wants?: 'condition' | 'selections';
  /**
   * false when the detector's `advance` does nothing (keeps no time-driven state and always returns
   * no detections): the engine then never calls it. Default true.
   */
  advances?: boolean;
  create(rule: CompiledRule & { params: P }, deps: DetectorDeps): Detector;
}

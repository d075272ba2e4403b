import type { AccessEvent } from '../domain/access-event.js';
import type { Detection } from '../domain/detection.js';
import type { CompiledRule, EventPredicate, MatchContext } from './compiled-rule.js';
import { type BuildGate, HIDDEN_DETECTION, setBuildGate } from './detection-builder.js';
import type { Detector, DetectorDeps, DetectorModule } from './detector.js';
import { DispatchTable } from './dispatch-table.js';
import { DETECTOR_REGISTRY } from './detector-registry.js';
import { eventTimeMs } from './event-time.js';
import { asRecord, timeFromJson, timeToJson } from './snapshot-codec.js';
import { Suppression, type SuppressionReport } from './suppression.js';

/** Options of a DetectionEngine. */
export interface DetectionEngineOptions {
  /** how far behind the newest event time the watermark runs, ms; default 5,000 */
  allowedLatenessMs?: number;
  /** memory bounds handed to every detector */
  deps?: DetectorDeps;
  /** detector plug-ins by type; default DETECTOR_REGISTRY */
  registry?: ReadonlyMap<string, DetectorModule>;
}

/**
 * The engine's JSON-serialisable state (committed with the source checkpoints by the incidents
 * issue): each detector's state under its rule id with the type and stateKey it was taken with,
 * the suppression windows and the watermark (epoch ms, null before any event).
 */
export interface EngineState {
  version: 1;
  watermarkMs: number | null;
  /** the watermark last handed to the detectors (ms, null before any); absent in older snapshots = watermarkMs */
  advancedMs?: number | null;
  detectors: Record<string, { type: string; stateKey: string; state: unknown }>;
  suppression: unknown;
}

/** Counters since the engine was created (for telemetry; bounded, no labels). */
export interface DetectionEngineStats {
  /** events given to `process` */
  events: number;
  /** events whose `time` did not parse (skipped) */
  invalidTimes: number;
  /** (rule, event) pairs an exception kept out */
  exceptionHits: number;
  /** detections hidden by suppression */
  suppressed: number;
  /** detections returned */
  detections: number;
  /** detector states a hot reload or restore could not carry over (the detector started fresh) */
  stateResets: number;
}

/** A slot offered an event, with what remains of its rule's condition for the event's dispatch values. */
interface Candidate {
  slot: Slot;
  /** the rule's residual (CompiledRule.dispatch) when not decided true; null = nothing to test */
  residual: ((event: AccessEvent) => boolean) | null;
  /** the detector's `wants` must still be called (the residual does not decide it) */
  ask: boolean;
}

interface Slot {
  rule: CompiledRule;
  detector: Detector;
  /** a baseline detector: runs after the rule detectors, learning only from untainted events */
  baseline: boolean;
  /** what the detector's `wants` is exactly (DetectorModule.wants), undefined when unknown */
  wantsBy: DetectorModule['wants'];
  /** the rule's dispatch when it applies to the rule as given (see `keepsDispatch`) */
  dispatch: CompiledRule['dispatch'];
  exceptions: { matches: EventPredicate; expiresMs: number }[];
}

/**
 * Events move the detectors' watermark in steps of at least this much event time, ms, so the
 * per-event cost does not grow with the number of rules; `advance` always hands it on at once.
 * Absence deadlines are thus noticed up to one step late (the detections are the same: their
 * times come from the deadline).
 */
export const ADVANCE_STEP_MS = 1_000;

/** What `process` and `advance` return when nothing is raised (shared: callers never mutate it). */
const NO_DETECTIONS: Detection[] = [];

/** Default allowed lateness of events behind the newest one, ms. */
export const DEFAULT_ALLOWED_LATENESS_MS = 5_000;

/**
 * Runs the enabled rules over events (issue 4, "detection engine"). For each event:
 * 1. the rules whose `kinds` include the event's kind (all rules without `kinds`) and whose
 *    residual for the event's dispatch fields (audit class, command and object type, query flags;
 *    computed once per combination of kind and their values: CompiledRule.dispatch) is not false
 *    and, when it is a test, passes the event; in rule order,
 *    baseline detectors (module `phase: 'baseline'`) after every rule detector; a baseline's
 *    `observe` gets `learn = false` when an earlier detector raised a high or critical
 *    detection for the event (issue 5: such events do not teach the baseline);
 * 2. a rule's detector `wants` the event (decided by the residual alone when the detector's
 *    module declares what `wants` is: DetectorModule.wants), and none of the rule's exceptions in force at the
 *    event's time matches it → `observe`;
 * 3. detections pass the rule's per-group suppression (`suppressMs`): hidden ones are counted and
 *    reported by `takeSuppressionReports` when their window ends;
 * 4. the watermark moves to `max event time - allowedLatenessMs`; in steps of at least
 *    ADVANCE_STEP_MS it is handed to the detectors (not those whose module says `advance` does
 *    nothing: DetectorModule.advances), and those whose due work it reached (absence) fire, and
 *    ended suppressions are reported.
 * Windows run on event time; late events still count (see each detector). Deterministic: the same
 * events in the same order give the same detections and ids. Bad input is never fatal: an event
 * whose time does not parse is skipped and counted in `stats`.
 *
 * @throws Error from the constructor and `swap` when a rule's type is not in the registry
 */
export class DetectionEngine {
  private readonly allowedLatenessMs: number;
  private readonly deps: DetectorDeps;
  private readonly registry: ReadonlyMap<string, DetectorModule>;
  private readonly suppression = new Suppression();
  private slots: Slot[] = [];
  /** the slots whose detector's `advance` does something (DetectorModule.advances), in slot order */
  private advancing: Slot[] = [];
  /** candidate slots per combination of the event's kind and dispatch fields (see `candidates`) */
  private readonly dispatch = new DispatchTable<Candidate[]>(
    (event) => this.candidates(event),
    (kind) => this.slots.some((slot) => slot.dispatch?.refined === true && (slot.rule.kinds === undefined || slot.rule.kinds.has(kind as string))),
  );
  private context: MatchContext;
  private watermark = Number.NEGATIVE_INFINITY;
  /** the watermark last handed to the detectors (see ADVANCE_STEP_MS) */
  private advancedMs = Number.NEGATIVE_INFINITY;
  private carried: Detection[] = [];
  private readonly counters: DetectionEngineStats = { events: 0, invalidTimes: 0, exceptionHits: 0, suppressed: 0, detections: 0, stateResets: 0 };
  /** the rule of the detector being called while the build gate is set */
  private gateRule: CompiledRule | null = null;
  /** true until the current detector call builds a detection the gate does not hide (see `gate`) */
  private gateArmed = false;
  /**
   * Hides a detection before it is built when a running suppression would hide it, counting it as
   * `admit` would. Only while every earlier detection of the same detector call was hidden too:
   * a shown one may end the window and open another, which later ones must then be checked against.
   */
  private readonly gate: BuildGate = {
    hides: (ruleId, server, groupKey, lastSeenMs) => {
      const rule = this.gateRule;
      if (this.gateArmed && rule !== null && rule.id === ruleId && this.suppression.hideUnbuilt(ruleId, server, groupKey, lastSeenMs, rule.suppressMs)) {
        this.counters.suppressed++;
        return true;
      }
      this.gateArmed = false;
      return false;
    },
  };

  /**
   * @param rules compiled rules (disabled ones are skipped)
   * @param context lists and catalog the predicates consult
   */
  constructor(rules: CompiledRule[], context: MatchContext, options: DetectionEngineOptions = {}) {
    this.allowedLatenessMs = options.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS;
    this.deps = options.deps ?? {};
    this.registry = options.registry ?? DETECTOR_REGISTRY;
    this.context = context;
    const deps = this.installDeps();
    this.install(rules.filter((rule) => rule.enabled).map((rule) => this.slotFor(rule, deps)));
  }

  /** the watermark, epoch ms (-Infinity before any event or `advance`) */
  get watermarkMs(): number {
    return this.watermark;
  }

  /** the enabled rules running, in order */
  get rules(): readonly CompiledRule[] {
    return this.slots.map((slot) => slot.rule);
  }

  /** a copy of the counters */
  stats(): DetectionEngineStats {
    return { ...this.counters };
  }

  /**
   * Feeds one event; returns the detections it (and the watermark it moves) raises, oldest rule
   * first. The array is the caller's when not empty; an empty result is a shared array: never mutate it.
   */
  process(event: AccessEvent): Detection[] {
    this.counters.events++;
    const timeMs = eventTimeMs(event);
    if (Number.isNaN(timeMs)) {
      this.counters.invalidTimes++;
      return this.takeCarried();
    }
    let out: Detection[] | null = this.carried.length > 0 ? this.takeCarried() : null;
    const context = this.context;
    const candidates = this.dispatch.get(event);
    // true once a detector raised a high or critical detection for this event (hidden ones count
    // by their rule's severity): later baseline detectors then judge the event without learning it
    let learn = true;
    setBuildGate(this.gate);
    try {
      for (let i = 0; i < candidates.length; i++) {
        const candidate = candidates[i] as Candidate;
        if (candidate.residual !== null && !candidate.residual(event)) continue;
        const slot = candidate.slot;
        if (candidate.ask && !slot.detector.wants(event, context)) continue;
        if (slot.exceptions.length > 0 && this.excepted(slot, event, timeMs)) continue;
        this.armGate(slot.rule);
        const found = slot.baseline ? slot.detector.observe(event, context, learn) : slot.detector.observe(event, context);
        if (found.length > 0) {
          if (learn && raisesSevere(slot.rule, found)) learn = false;
          out = this.admit(slot.rule, found, out);
        }
      }
    } finally {
      setBuildGate(null);
      this.gateRule = null;
    }
    const watermarkMs = timeMs - this.allowedLatenessMs;
    if (watermarkMs > this.watermark) {
      this.watermark = watermarkMs;
      if (watermarkMs - this.advancedMs >= ADVANCE_STEP_MS) out = this.moveWatermark(watermarkMs, out);
    }
    if (out !== null) this.counters.detections += out.length;
    return out ?? NO_DETECTIONS;
  }

  /**
   * Moves the watermark (live mode: from the wall clock, so `absence` fires without events).
   * A watermark not ahead of the current one changes nothing. Returns the detections due (an
   * empty result is a shared array, as for `process`).
   */
  advance(watermarkMs: number): Detection[] {
    let out: Detection[] | null = this.carried.length > 0 ? this.takeCarried() : null;
    if (watermarkMs > this.watermark) this.watermark = watermarkMs;
    if (this.watermark > this.advancedMs) out = this.moveWatermark(this.watermark, out);
    if (out !== null) this.counters.detections += out.length;
    return out ?? NO_DETECTIONS;
  }

  /**
   * Hot reload: runs `rules` from now on. A rule with the same id, type and stateKey as a running
   * one keeps its detector state (windows, learned values, silences); other rules start fresh;
   * removed rules are dropped, their running suppressions ending with a report.
   * @throws Error when a rule's type is not in the registry (the running set is then unchanged)
   */
  swap(rules: CompiledRule[], context: MatchContext): void {
    const previous = new Map(this.slots.map((slot) => [slot.rule.id, slot]));
    const deps = this.installDeps();
    const next = rules.filter((rule) => rule.enabled).map((rule) => this.slotFor(rule, deps));
    for (const slot of next) {
      const old = previous.get(slot.rule.id);
      if (old !== undefined && old.rule.type === slot.rule.type && old.rule.stateKey === slot.rule.stateKey) {
        this.carryState(slot, old.detector.snapshot(), deps);
      } else {
        this.startFresh(slot);
      }
    }
    this.context = context;
    this.install(next);
    this.suppression.keepRules(new Set(next.map((slot) => slot.rule.id)));
  }

  /** The engine's state: every detector's, the suppression windows and the watermark (JSON-serialisable). */
  snapshot(): EngineState {
    const detectors: EngineState['detectors'] = {};
    for (const slot of this.slots) detectors[slot.rule.id] = { type: slot.rule.type, stateKey: slot.rule.stateKey, state: slot.detector.snapshot() };
    return { version: 1, watermarkMs: timeToJson(this.watermark), advancedMs: timeToJson(this.advancedMs), detectors, suppression: this.suppression.snapshot() };
  }

  /**
   * Restores a snapshot onto the running rules: a rule whose id, type and stateKey match an entry
   * gets that state; other rules start fresh (counted in `stats().stateResets` when an entry was
   * there but did not match); entries of rules not running are ignored.
   * @throws Error when `state` is not an EngineState or a matching detector state is malformed (nothing is changed then)
   */
  restore(state: EngineState): void {
    const record = asRecord(state, 'engine snapshot');
    if (record.version !== 1) throw new Error(`engine snapshot: unsupported version ${String(record.version)}`);
    const watermarkMs = timeFromJson(record.watermarkMs, 'engine snapshot.watermarkMs');
    const advancedMs = record.advancedMs === undefined ? watermarkMs : timeFromJson(record.advancedMs, 'engine snapshot.advancedMs');
    const entries = asRecord(record.detectors, 'engine snapshot.detectors');
    const deps = this.installDeps();
    const fresh = this.slots.map((slot) => ({ ...slot, detector: this.create(slot.rule, deps) }));
    let resets = 0;
    for (const slot of fresh) {
      const entry = entries[slot.rule.id] as EngineState['detectors'][string] | undefined;
      if (entry === undefined) continue;
      asRecord(entry, `engine snapshot.detectors.${slot.rule.id}`);
      if (entry.type === slot.rule.type && entry.stateKey === slot.rule.stateKey) slot.detector.restore(entry.state);
      else resets++;
    }
    const suppression = new Suppression();
    suppression.restore(record.suppression);
    this.suppression.restore(suppression.snapshot());
    this.install(fresh);
    this.watermark = watermarkMs;
    this.advancedMs = advancedMs;
    this.carried = [];
    this.counters.stateResets += resets;
  }

  /** Reports of suppression windows that ended (and hid something) since the last call. */
  takeSuppressionReports(): SuppressionReport[] {
    return this.suppression.takeReports();
  }

  /**
   * Ends every running suppression now and returns all reports not yet taken: for the end of a
   * replay, so what was hidden is reported even though the watermark never reached the end
   * (`to` is the planned end). A daemon shutting down snapshots instead.
   */
  closeSuppressions(): SuppressionReport[] {
    this.suppression.endAll();
    return this.suppression.takeReports();
  }

  /** the deps of one batch of detectors installed together: a fresh shared `installation` object */
  private installDeps(): DetectorDeps {
    return { ...this.deps, installation: {} };
  }

  private slotFor(rule: CompiledRule, deps: DetectorDeps): Slot {
    return {
      rule,
      detector: this.create(rule, deps),
      baseline: this.registry.get(rule.type)?.phase === 'baseline',
      wantsBy: this.registry.get(rule.type)?.wants,
      dispatch: keepsDispatch(rule, this.registry.get(rule.type)?.wants) ? rule.dispatch : undefined,
      exceptions: rule.exceptions.map((exception) => ({
        matches: exception.matches,
        expiresMs: exception.expires === null ? Number.POSITIVE_INFINITY : Date.parse(exception.expires),
      })),
    };
  }

  private create(rule: CompiledRule, deps: DetectorDeps): Detector {
    const module = this.registry.get(rule.type);
    if (module === undefined) throw new Error(`rule ${rule.id}: unknown detector type ${rule.type}`);
    return module.create(rule, deps);
  }

  private install(slots: Slot[]): void {
    this.slots = slots;
    this.advancing = slots.filter((slot) => this.registry.get(slot.rule.type)?.advances !== false);
    this.dispatch.clear();
  }

  /**
   * the slots of rules that may want `event`, with what remains to decide it (the residual, and
   * `wants` unless the detector's module says what `wants` is exactly): its kind in the rule's `kinds` and the rule's
   * residual for its dispatch fields not false; in rule order, baseline detectors last. Depends on
   * the kind and dispatch fields only (on the kind only when no rule of it is `refined`), so the
   * DispatchTable computes it once per combination of their values.
   */
  private candidates(event: AccessEvent): Candidate[] {
    const kind = event.kind;
    const wanting: Candidate[] = [];
    for (const slot of this.slots) {
      if (slot.rule.kinds !== undefined && !slot.rule.kinds.has(kind)) continue;
      const dispatch = slot.dispatch;
      // the residual decides `wants` when the module says what `wants` is exactly
      const residual = dispatch === undefined ? true : slot.wantsBy === 'condition' ? dispatch.condition(event) : dispatch.residual(event);
      const ask = dispatch === undefined || slot.wantsBy === undefined;
      if (residual !== false) wanting.push({ slot, residual: residual === true ? null : residual, ask });
    }
    return [...wanting.filter((c) => !c.slot.baseline), ...wanting.filter((c) => c.slot.baseline)];
  }

  /** readies the gate for one call of `rule`'s detector */
  private armGate(rule: CompiledRule): void {
    this.gateRule = rule;
    this.gateArmed = rule.suppressMs > 0;
  }

  private excepted(slot: Slot, event: AccessEvent, timeMs: number): boolean {
    for (const exception of slot.exceptions) {
      if (timeMs <= exception.expiresMs && exception.matches(event, this.context)) {
        this.counters.exceptionHits++;
        return true;
      }
    }
    return false;
  }

  private admit(rule: CompiledRule, found: readonly Detection[], out: Detection[] | null): Detection[] | null {
    for (const detection of found) {
      if (detection === HIDDEN_DETECTION) continue; // hidden and counted by the gate
      if (this.suppression.admit(detection, rule.suppressMs)) (out ??= []).push(detection);
      else this.counters.suppressed++;
    }
    return out;
  }

  /** hands the watermark to every detector whose `advance` does something, and the suppression windows */
  private moveWatermark(watermarkMs: number, out: Detection[] | null): Detection[] | null {
    this.advancedMs = watermarkMs;
    setBuildGate(this.gate);
    try {
      for (const slot of this.advancing) {
        this.armGate(slot.rule);
        const due = slot.detector.advance(watermarkMs);
        if (due.length > 0) out = this.admit(slot.rule, due, out);
      }
    } finally {
      setBuildGate(null);
      this.gateRule = null;
    }
    this.suppression.advance(watermarkMs);
    return out;
  }

  private carryState(slot: Slot, state: unknown, deps: DetectorDeps): void {
    try {
      slot.detector.restore(JSON.parse(JSON.stringify(state)) as unknown);
    } catch {
      // reported, not swallowed: a detector that cannot take its predecessor's state starts fresh
      // and the reset is counted in stats().stateResets (a hot reload is never fatal)
      this.counters.stateResets++;
      slot.detector = this.create(slot.rule, deps);
      this.startFresh(slot);
    }
  }

  private startFresh(slot: Slot): void {
    if (!Number.isFinite(this.watermark)) return;
    const due = slot.detector.advance(this.watermark);
    if (due.length > 0) this.carried = this.admit(slot.rule, due, this.carried) ?? [];
  }

  private takeCarried(): Detection[] {
    const carried = this.carried;
    this.carried = [];
    return carried;
  }
}

/**
 * Whether the rule's `dispatch` applies to it: built for its own `matches`, and also for its own
 * `selections` and `params` unless the detector's `wants` is exactly the condition (then only
 * `dispatch.condition`, which depends on `matches` alone, is used: a copy of the rule with other
 * params, as a tuning overlay or a bench makes, keeps it).
 */
function keepsDispatch(rule: CompiledRule, wantsBy: DetectorModule['wants']): boolean {
  const dispatch = rule.dispatch;
  if (dispatch === undefined || dispatch.matches !== rule.matches) return false;
  return wantsBy === 'condition' || (dispatch.selections === rule.selections && dispatch.params === rule.params);
}

/** true when `found` holds a high or critical detection (a hidden one counts by its rule's severity) */
function raisesSevere(rule: CompiledRule, found: readonly Detection[]): boolean {
  for (const detection of found) {
    const severity = detection === HIDDEN_DETECTION ? rule.severity : detection.severity;
    if (severity === 'high' || severity === 'critical') return true;
  }
  return false;
}

import { standardDeviation } from 'simple-statistics';
import type { AccessEvent } from '../../domain/access-event.js';
import type { Detection } from '../../domain/detection.js';
import type { CompiledRule, MatchContext } from '../compiled-rule.js';
import type { Detector, DetectorDeps, DetectorModule } from '../detector.js';
import { digestEvent } from '../event-digest.js';
import { eventTimeMs } from '../event-time.js';
import { asArray, asRecord } from '../snapshot-codec.js';
import { buildBaselineDetection, entityKey, isSevere, round3 } from './baseline-detection.js';
import { timeOfWeekParamsSchema, type TimeOfWeekParams } from './baseline-params.js';
import { HOUR_MS, hourOfWeek, hourOfWeekLabel } from './hour-of-week.js';
import { RoleDirectory } from './role-directory.js';
import { RoleTable } from './role-table.js';

const NO_DETECTIONS: Detection[] = [];
const BINS = 168;
/** Weights of the neighbouring hours (-2..+2) in a bin's smoothed count: a few weeks of history leave single hours noisy. */
export const HOUR_KERNEL = [0.25, 0.5, 1, 0.5, 0.25] as const;
const KERNEL_SUM = 2.5;

interface RoleProfile {
  user: string;
  server: string;
  firstSeenMs: number;
  lastSeenMs: number;
  /** decayed activity units per hour-of-week bin */
  bins: Float32Array;
  /** time the bins were last decayed to, ms */
  decayedMs: number;
  /** epoch hour of the last read unit counted, and of the last detection */
  lastUnitHour: number;
  firedHour: number;
}

/**
 * `baseline_time_of_week` (issue 5): per role a 168-bin hour-of-week profile (UTC, Monday 00:00 =
 * bin 0; Float32Array, 672 bytes) of activity units: each session start (`authorization` event)
 * and the first read (`audit` event) of each hour. Bins decay by 0.5^(dt / half_life). Before a
 * unit is learned it is judged on the kernel-smoothed counts k[bin] = sum over the hours -2..+2
 * around it of c x HOUR_KERNEL (0.25, 0.5, 1, 0.5, 0.25; the week wraps), plus additive smoothing
 * a: P(bin) = (k[bin] + a) / (sum k + 168 a); when the
 * role was first seen `min_history` ago, holds at least `min_samples` units and the lift
 * 168 x P(bin) (1 = a uniform profile) is below `threshold`, it fires (once per role per hour). Units of events with `learn` false, or that fired high or
 * critical, are not learned.
 *
 * Explanation: method `hour_of_week_profile`, observed the lift 168 P(bin), expected 168 sum P^2
 * (the lift of a typical active hour of the role), spread the standard deviation of the lift
 * over the bins, score -log2(lift) against threshold -log2(bound), bucket the bin label (`sun 17:00`).
 */
export class TimeOfWeekBaselineDetector implements Detector {
  private readonly params: TimeOfWeekParams;
  private readonly roles: RoleTable<RoleProfile>;

  /** @param deps `installation` shares the role look-up with the other baseline detectors (RoleDirectory) */
  constructor(readonly rule: CompiledRule & { params: TimeOfWeekParams }, deps: DetectorDeps = {}) {
    this.params = rule.params;
    this.roles = new RoleTable<RoleProfile>(RoleDirectory.of(deps), this.params.max_entities, (role) => role.lastSeenMs);
  }

  /** the rule's condition (DetectorModule `wants: 'condition'`); `observe` ignores events without a user or of other kinds */
  wants(event: AccessEvent, context: MatchContext): boolean {
    return this.rule.matches(event, context);
  }

  observe(event: AccessEvent, context: MatchContext, learn = true): Detection[] {
    const timeMs = eventTimeMs(event);
    const user = event.user;
    if (Number.isNaN(timeMs) || user === null || !isActivity(event.kind)) return NO_DETECTIONS;
    let role = this.roles.of(event);
    if (role === undefined) {
      role = { user, server: event.server, firstSeenMs: timeMs, lastSeenMs: timeMs, bins: new Float32Array(BINS), decayedMs: timeMs, lastUnitHour: -1, firedHour: -1 };
      this.roles.set(user, role);
    }
    if (timeMs > role.lastSeenMs) role.lastSeenMs = timeMs;
    const hour = Math.floor(timeMs / HOUR_MS);
    const sessionStart = event.kind === 'authorization';
    if (!sessionStart && hour === role.lastUnitHour) return NO_DETECTIONS;
    if (!sessionStart) role.lastUnitHour = hour;
    const total = this.decayAndSum(role, timeMs);
    const bin = hourOfWeek(timeMs);
    let detection: Detection | null = null;
    if (role.firedHour !== hour && timeMs - role.firstSeenMs >= this.params.min_history && total >= this.params.min_samples) {
      const a = this.params.smoothing;
      const denominator = total * KERNEL_SUM + BINS * a;
      const lift = (BINS * (smoothedCount(role.bins, bin) + a)) / denominator;
      if (lift < this.params.threshold) {
        role.firedHour = hour;
        const lifts = Array.from(role.bins, (_, i) => (BINS * (smoothedCount(role.bins, i) + a)) / denominator);
        const typical = lifts.reduce((sum, q) => sum + q * q, 0) / BINS;
        detection = buildBaselineDetection({
          rule: this.rule,
          ladder: this.params.severity_ladder,
          raiseForClasses: this.params.raise_for_classes,
          groupKey: entityKey({ user }),
          trigger: digestEvent(event, context),
          triggerToken: `hour:${hour}`,
          server: role.server,
          firstSeenMs: timeMs,
          lastSeenMs: timeMs,
          count: 1,
          dataClasses: [],
          explanation: {
            method: 'hour_of_week_profile',
            observed: round6(lift),
            expected: round6(typical),
            spread: round6(standardDeviation(lifts)),
            score: round3(-Math.log2(lift)),
            threshold: round3(-Math.log2(this.params.threshold)),
            history_size: round3(total),
            history_period_ms: timeMs - role.firstSeenMs,
            bucket: hourOfWeekLabel(bin),
            entity: 'role',
            lift_bound: this.params.threshold,
          },
          measure: `active at ${hourOfWeekLabel(bin)} UTC, ${round3(lift)}x the uniform rate < ${this.params.threshold} (typical active hour ${round3(typical)}x)`,
        });
      }
    }
    if (learn && (detection === null || !isSevere(detection.severity))) role.bins[bin] = (role.bins[bin] as number) + 1;
    return detection === null ? NO_DETECTIONS : [detection];
  }

  advance(): Detection[] {
    return NO_DETECTIONS;
  }

  snapshot(): unknown {
    const roles: unknown[] = [];
    for (const r of this.roles.values()) roles.push([r.user, r.server, r.firstSeenMs, r.lastSeenMs, r.decayedMs, r.lastUnitHour, r.firedHour, Array.from(r.bins)]);
    return { roles };
  }

  restore(state: unknown): void {
    const where = `${this.rule.id} (baseline_time_of_week) snapshot`;
    const restored: RoleProfile[] = [];
    for (const [i, raw] of asArray(asRecord(state, where).roles, `${where}.roles`).entries()) {
      const at = `${where}.roles[${i}]`;
      const [user, server, ...rest] = asArray(raw, at);
      const bins = rest[5];
      const numbers = rest.slice(0, 5);
      if (typeof user !== 'string' || typeof server !== 'string' || !numbers.every((n) => typeof n === 'number' && Number.isFinite(n)) || !Array.isArray(bins) || bins.length !== BINS || !bins.every((n) => typeof n === 'number' && Number.isFinite(n))) {
        throw new Error(`${at}: expected [user, server, firstSeenMs, lastSeenMs, decayedMs, lastUnitHour, firedHour, bins[168]]`);
      }
      const [firstSeenMs, lastSeenMs, decayedMs, lastUnitHour, firedHour] = numbers as number[];
      restored.push({ user, server, firstSeenMs: firstSeenMs as number, lastSeenMs: lastSeenMs as number, decayedMs: decayedMs as number, lastUnitHour: lastUnitHour as number, firedHour: firedHour as number, bins: Float32Array.from(bins as number[]) });
    }
    this.roles.clear();
    for (const role of restored) this.roles.set(role.user, role);
  }

  /**
   * decays the bins to `timeMs` (whole hours at a time, so the factor is the same however events
   * fall) and returns their sum, added in bin order over the stored (Float32) values: one pass
   */
  private decayAndSum(role: RoleProfile, timeMs: number): number {
    const bins = role.bins;
    let total = 0;
    const hours = Math.floor((timeMs - role.decayedMs) / HOUR_MS);
    if (hours <= 0) {
      for (let i = 0; i < BINS; i++) total += bins[i] as number;
      return total;
    }
    const factor = Math.pow(0.5, (hours * HOUR_MS) / this.params.half_life);
    for (let i = 0; i < BINS; i++) {
      const decayed = Math.fround((bins[i] as number) * factor);
      bins[i] = decayed;
      total += decayed;
    }
    role.decayedMs += hours * HOUR_MS;
    return total;
  }
}

/** the event kinds that are activity units: session starts and reads */
function isActivity(kind: AccessEvent['kind']): boolean {
  return kind === 'authorization' || kind === 'audit' || kind === 'app_access';
}

/** the kernel-smoothed count of `bin` (see HOUR_KERNEL) */
function smoothedCount(bins: Float32Array, bin: number): number {
  let sum = 0;
  for (let k = 0; k < HOUR_KERNEL.length; k++) sum += (bins[(bin + k - 2 + BINS) % BINS] as number) * (HOUR_KERNEL[k] as number);
  return sum;
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** The `baseline_time_of_week` plug-in (params: baseline-params.ts `timeOfWeekParamsSchema`). */
export const TIME_OF_WEEK_BASELINE_DETECTOR: DetectorModule<TimeOfWeekParams> = {
  type: 'baseline_time_of_week',
  paramsSchema: timeOfWeekParamsSchema,
  windowed: false,
  phase: 'baseline',
  wants: 'condition',
  create: (rule, deps) => new TimeOfWeekBaselineDetector(rule, deps),
};

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
import { NumberRows } from './number-rows.js';
import { RoleDirectory } from './role-directory.js';
import { RoleTable } from './role-table.js';

const NO_DETECTIONS: Detection[] = [];
const BINS = 168;
/** Weights of the neighbouring hours (-2..+2) in a bin's smoothed count: a few weeks of history leave single hours noisy. */
export const HOUR_KERNEL = [0.25, 0.5, 1, 0.5, 0.25] as const;
const KERNEL_SUM = 2.5;

/**
 * A role's profile is a row number (its state in the RoleTable, so no object per role): its numbers
 * are the NumberRows row `[firstSeenMs, lastSeenMs, decayedMs (time the bins were last decayed
 * to), lastUnitHour (epoch hour of the last read unit counted), firedHour (of the last detection)]`,
 * its 168 decayed activity units per hour-of-week bin are those of its slice of `binChunks`
 * (`binsAt`), and its user and server names are `users[row]` and `servers[row]`.
 */
const FIRST_SEEN_MS = 0;
const LAST_SEEN_MS = 1;
const DECAYED_MS = 2;
const LAST_UNIT_HOUR = 3;
const FIRED_HOUR = 4;
const STRIDE = 5;
/** Rows of bins per chunk (a power of two): bins are allocated a chunk at a time, never copied. */
const CHUNK_ROWS = 1024;
const CHUNK_SHIFT = 10;

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
  private readonly roles: RoleTable<number>;
  private readonly rows = new NumberRows(STRIDE);
  /** the roles' bins: row r's BINS values start at `binChunks[r >> CHUNK_SHIFT][(r % CHUNK_ROWS) x BINS]` */
  private readonly binChunks: Float32Array[] = [];
  private readonly users: string[] = [];
  private readonly servers: string[] = [];

  /** @param deps `installation` shares the role look-up with the other baseline detectors (RoleDirectory) */
  constructor(readonly rule: CompiledRule & { params: TimeOfWeekParams }, deps: DetectorDeps = {}) {
    this.params = rule.params;
    this.roles = new RoleTable<number>(RoleDirectory.of(deps), this.params.max_entities, (row) => this.rows.data[row * STRIDE + LAST_SEEN_MS] as number, (row) => this.rows.free(row));
  }

  /** the rule's condition (DetectorModule `wants: 'condition'`); `observe` ignores events without a user or of other kinds */
  wants(event: AccessEvent, context: MatchContext): boolean {
    return this.rule.matches(event, context);
  }

  observe(event: AccessEvent, context: MatchContext, learn = true): Detection[] {
    const timeMs = eventTimeMs(event);
    const user = event.user;
    if (Number.isNaN(timeMs) || user === null || !isActivity(event.kind)) return NO_DETECTIONS;
    let row = this.roles.of(event);
    if (row === undefined) {
      row = this.newRow(user, event.server, timeMs);
      this.roles.set(user, row);
    }
    const at = row * STRIDE;
    let numbers = this.rows.data;
    if (timeMs > (numbers[at + LAST_SEEN_MS] as number)) numbers[at + LAST_SEEN_MS] = timeMs;
    const hour = Math.floor(timeMs / HOUR_MS);
    const sessionStart = event.kind === 'authorization';
    if (!sessionStart && hour === numbers[at + LAST_UNIT_HOUR]) return NO_DETECTIONS;
    if (!sessionStart) numbers[at + LAST_UNIT_HOUR] = hour;
    const total = this.decayAndSum(row, timeMs);
    numbers = this.rows.data;
    const bins = this.binChunks[row >> CHUNK_SHIFT] as Float32Array;
    const binsAt = binsStart(row);
    const bin = hourOfWeek(timeMs);
    let detection: Detection | null = null;
    if (numbers[at + FIRED_HOUR] !== hour && timeMs - (numbers[at + FIRST_SEEN_MS] as number) >= this.params.min_history && total >= this.params.min_samples) {
      const a = this.params.smoothing;
      const denominator = total * KERNEL_SUM + BINS * a;
      const lift = (BINS * (smoothedCount(bins, binsAt, bin) + a)) / denominator;
      if (lift < this.params.threshold) {
        numbers[at + FIRED_HOUR] = hour;
        const lifts = Array.from({ length: BINS }, (_, i) => (BINS * (smoothedCount(bins, binsAt, i) + a)) / denominator);
        const typical = lifts.reduce((sum, q) => sum + q * q, 0) / BINS;
        detection = buildBaselineDetection({
          rule: this.rule,
          ladder: this.params.severity_ladder,
          raiseForClasses: this.params.raise_for_classes,
          groupKey: entityKey({ user }),
          trigger: digestEvent(event, context),
          triggerToken: `hour:${hour}`,
          server: this.servers[row] as string,
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
            history_period_ms: timeMs - (numbers[at + FIRST_SEEN_MS] as number),
            bucket: hourOfWeekLabel(bin),
            entity: 'role',
            lift_bound: this.params.threshold,
          },
          measure: `active at ${hourOfWeekLabel(bin)} UTC, ${round3(lift)}x the uniform rate < ${this.params.threshold} (typical active hour ${round3(typical)}x)`,
        });
      }
    }
    if (learn && (detection === null || !isSevere(detection.severity))) bins[binsAt + bin] = (bins[binsAt + bin] as number) + 1;
    return detection === null ? NO_DETECTIONS : [detection];
  }

  advance(): Detection[] {
    return NO_DETECTIONS;
  }

  snapshot(): unknown {
    const roles: unknown[] = [];
    const n = this.rows.data;
    for (const row of this.roles.values()) {
      const at = row * STRIDE;
      roles.push([this.users[row], this.servers[row], n[at + FIRST_SEEN_MS], n[at + LAST_SEEN_MS], n[at + DECAYED_MS], n[at + LAST_UNIT_HOUR], n[at + FIRED_HOUR], Array.from((this.binChunks[row >> CHUNK_SHIFT] as Float32Array).subarray(binsStart(row), binsStart(row) + BINS))]);
    }
    return { roles };
  }

  restore(state: unknown): void {
    const where = `${this.rule.id} (baseline_time_of_week) snapshot`;
    const restored: { user: string; server: string; numbers: number[]; bins: number[] }[] = [];
    for (const [i, raw] of asArray(asRecord(state, where).roles, `${where}.roles`).entries()) {
      const at = `${where}.roles[${i}]`;
      const [user, server, ...rest] = asArray(raw, at);
      const bins = rest[5];
      const numbers = rest.slice(0, 5);
      if (typeof user !== 'string' || typeof server !== 'string' || !numbers.every((n) => typeof n === 'number' && Number.isFinite(n)) || !Array.isArray(bins) || bins.length !== BINS || !bins.every((n) => typeof n === 'number' && Number.isFinite(n))) {
        throw new Error(`${at}: expected [user, server, firstSeenMs, lastSeenMs, decayedMs, lastUnitHour, firedHour, bins[168]]`);
      }
      restored.push({ user, server, numbers: numbers as number[], bins: bins as number[] });
    }
    this.roles.clear();
    this.rows.clear();
    for (const role of restored) {
      const row = this.newRow(role.user, role.server, 0);
      this.rows.data.set(role.numbers, row * STRIDE); // [firstSeenMs, lastSeenMs, decayedMs, lastUnitHour, firedHour]
      (this.binChunks[row >> CHUNK_SHIFT] as Float32Array).set(role.bins, binsStart(row));
      this.roles.set(role.user, row);
    }
  }

  /**
   * decays the bins to `timeMs` (whole hours at a time, so the factor is the same however events
   * fall) and returns their sum, added in bin order over the stored (Float32) values: one pass
   */
  private decayAndSum(row: number, timeMs: number): number {
    const bins = this.binChunks[row >> CHUNK_SHIFT] as Float32Array;
    const from = binsStart(row);
    const to = from + BINS;
    const decayedAt = row * STRIDE + DECAYED_MS;
    let total = 0;
    const hours = Math.floor((timeMs - (this.rows.data[decayedAt] as number)) / HOUR_MS);
    if (hours <= 0) {
      for (let i = from; i < to; i++) total += bins[i] as number;
      return total;
    }
    const factor = Math.pow(0.5, (hours * HOUR_MS) / this.params.half_life);
    for (let i = from; i < to; i++) {
      const decayed = Math.fround((bins[i] as number) * factor);
      bins[i] = decayed;
      total += decayed;
    }
    this.rows.data[decayedAt] = (this.rows.data[decayedAt] as number) + hours * HOUR_MS;
    return total;
  }

  /** a row for a new role first seen at `timeMs` (bins zero, no unit or detection yet) */
  private newRow(user: string, server: string, timeMs: number): number {
    const row = this.rows.add([timeMs, timeMs, timeMs, -1, -1]); // FIRST_SEEN_MS, LAST_SEEN_MS, DECAYED_MS, LAST_UNIT_HOUR, FIRED_HOUR
    const chunk = this.binChunks[row >> CHUNK_SHIFT];
    if (chunk === undefined) this.binChunks.push(new Float32Array(CHUNK_ROWS * BINS)); // rows are taken in order: the next chunk
    else chunk.fill(0, binsStart(row), binsStart(row) + BINS);
    this.users[row] = user;
    this.servers[row] = server;
    return row;
  }
}

/** the event kinds that are activity units: session starts and reads */
function isActivity(kind: AccessEvent['kind']): boolean {
  return kind === 'authorization' || kind === 'audit' || kind === 'app_access';
}

/** where a row's bins start in its chunk */
function binsStart(row: number): number {
  return (row & (CHUNK_ROWS - 1)) * BINS;
}

/** the kernel-smoothed count of `bin` (see HOUR_KERNEL) of the role whose bins start at `bins[from]` */
function smoothedCount(bins: Float32Array, from: number, bin: number): number {
  let sum = 0;
  for (let k = 0; k < HOUR_KERNEL.length; k++) sum += (bins[from + ((bin + k - 2 + BINS) % BINS)] as number) * (HOUR_KERNEL[k] as number);
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

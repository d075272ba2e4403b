import type { AccessEvent } from '../../domain/access-event.js';
import type { Detection } from '../../domain/detection.js';
import type { CompiledRule, MatchContext } from '../compiled-rule.js';
import { durationText } from '../detection-builder.js';
import type { Detector, DetectorModule } from '../detector.js';
import { digestEvent } from '../event-digest.js';
import { eventTimeMs } from '../event-time.js';
import { GroupTable } from '../group-table.js';
import { asArray, asRecord, timeFromJson, timeToJson } from '../snapshot-codec.js';
import { buildBaselineDetection, entityKey, isSevere, round3 } from './baseline-detection.js';
import { failureRateParamsSchema, type FailureRateParams } from './baseline-params.js';

const NO_DETECTIONS: Detection[] = [];
const NONE = -2_147_483_648;
/** The three failure measures, in the order of the counters. */
export const FAILURE_MEASURES = ['auth_failure', 'permission_denied', 'syntax_error'] as const;
/** Smallest rate (failures per bucket) the Poisson z divides by: a history of 0 does not make 1 failure infinite. */
export const MIN_RATE = 0.25;

interface FailureEntity {
  client: boolean;
  name: string;
  server: string;
  firstSeenMs: number;
  lastSeenMs: number;
  bucket: number;
  /** closed buckets with any event (warm-up samples) */
  samples: number;
  /** running counts (judged) and the counts allowed to teach, per measure */
  counts: number[];
  learnCounts: number[];
  /** per measure, the time of the running bucket's first failure (epoch ms, event time; NaN: none yet) */
  firstMs: number[];
  /** EWMA rates per measure (failures per bucket) as of bucket `rateBucket` */
  rates: number[];
  rateBucket: number;
  /** bit per measure: fired in the running bucket; bit 3: fired high or critical */
  fired: number;
}

/**
 * `baseline_failure_rate` (issue 5): per role and per client address, an EWMA per `bucket` of
 * auth failures (`auth_failure` events), permission denials (`error` 42501) and other
 * syntax-class errors (`error` 42xxx); other events the rule matches only count as activity.
 * With a = 1 - 0.5^(bucket / half_life), a closed bucket's count x updates rate = (1 - a) rate + a x
 * (empty buckets decay it by (1 - a) each). The running bucket is judged at each failure: Poisson
 * z = (x - rate) / sqrt(max(rate, 0.25)); it fires once per measure and bucket when x >= `min_count`
 * and z >= `threshold`, for an entity first seen `min_history` ago with `min_samples` closed
 * buckets: slow brute force and probing below the rule thresholds.
 *
 * Detection: entity `{user}` or `{client_addr}`, evidence = the failure that crossed the bound,
 * firstSeen = the time of the bucket's first failure of that measure (the earliest, were they out
 * of order), lastSeen = the crossing failure's time, count = the bucket's failures of that measure.
 * A bucket restored from a snapshot without those times (written before they were kept) uses the
 * bucket's start instead.
 */
export class FailureRateBaselineDetector implements Detector {
  private readonly params: FailureRateParams;
  /** entities by role name and by client address (raw event strings: no key is built per event) */
  private readonly byRole: GroupTable<FailureEntity>;
  private readonly byClient: GroupTable<FailureEntity>;
  private readonly alpha: number;
  private readonly roles: boolean;
  private readonly clients: boolean;
  private nextSweepMs = Number.NEGATIVE_INFINITY;

  constructor(readonly rule: CompiledRule & { params: FailureRateParams }) {
    this.params = rule.params;
    this.byRole = new GroupTable<FailureEntity>(this.params.max_entities, (entity) => entity.lastSeenMs);
    this.byClient = new GroupTable<FailureEntity>(this.params.max_entities, (entity) => entity.lastSeenMs);
    this.alpha = 1 - Math.pow(0.5, this.params.bucket / this.params.half_life);
    this.roles = this.params.entities.includes('role');
    this.clients = this.params.entities.includes('client');
  }

  wants(event: AccessEvent, context: MatchContext): boolean {
    return this.rule.matches(event, context);
  }

  observe(event: AccessEvent, context: MatchContext, learn = true): Detection[] {
    const timeMs = eventTimeMs(event);
    if (Number.isNaN(timeMs)) return NO_DETECTIONS;
    const measure = failureMeasure(event);
    const bucket = Math.floor(timeMs / this.params.bucket);
    let out: Detection[] | null = null;
    if (this.roles && event.user !== null) {
      const found = this.fold(this.byRole, false, event.user, event, context, timeMs, bucket, measure, learn);
      if (found !== null) (out ??= []).push(found);
    }
    if (this.clients && event.client_addr !== null && event.client_addr !== '') {
      const found = this.fold(this.byClient, true, event.client_addr, event, context, timeMs, bucket, measure, learn);
      if (found !== null) (out ??= []).push(found);
    }
    return out ?? NO_DETECTIONS;
  }

  advance(watermarkMs: number): Detection[] {
    if (watermarkMs < this.nextSweepMs) return NO_DETECTIONS;
    const closing = Math.floor(watermarkMs / this.params.bucket);
    for (const table of [this.byRole, this.byClient]) for (const entity of table.values()) if (entity.bucket !== NONE && entity.bucket < closing) this.close(entity);
    this.nextSweepMs = (closing + 1) * this.params.bucket;
    return NO_DETECTIONS;
  }

  snapshot(): unknown {
    const entities: unknown[] = [];
    for (const [, e] of [...this.byRole.entries(), ...this.byClient.entries()]) {
      entities.push([e.client ? 1 : 0, e.name, e.server, e.firstSeenMs, e.lastSeenMs, e.bucket, e.samples, e.rateBucket, e.fired, [...e.counts], [...e.learnCounts], [...e.rates], e.firstMs.map((ms) => (Number.isNaN(ms) ? null : ms))]);
    }
    return { nextSweepMs: timeToJson(this.nextSweepMs), entities };
  }

  restore(state: unknown): void {
    const where = `${this.rule.id} (baseline_failure_rate) snapshot`;
    const record = asRecord(state, where);
    const nextSweepMs = timeFromJson(record.nextSweepMs, `${where}.nextSweepMs`);
    const restored: [string, FailureEntity][] = [];
    for (const [i, raw] of asArray(record.entities, `${where}.entities`).entries()) {
      const at = `${where}.entities[${i}]`;
      const a = asArray(raw, at);
      const numbers = a.slice(3, 9);
      const triples = a.slice(9, 12);
      // 13 entries; 12 in snapshots written before the first failure times were kept
      const firsts = a.length === 13 ? a[12] : null;
      if ((a.length !== 12 && a.length !== 13) || (firsts !== null && !(Array.isArray(firsts) && firsts.length === 3 && firsts.every((n) => n === null || (typeof n === 'number' && Number.isFinite(n))))) || typeof a[1] !== 'string' || typeof a[2] !== 'string' || !numbers.every((n) => typeof n === 'number' && Number.isFinite(n)) || !triples.every((t) => Array.isArray(t) && t.length === 3 && t.every((n) => typeof n === 'number' && Number.isFinite(n)))) {
        throw new Error(`${at}: expected [client, name, server, 6 numbers, counts[3], learnCounts[3], rates[3], firstMs[3] (ms or null)]`);
      }
      const [firstSeenMs, lastSeenMs, bucket, samples, rateBucket, fired] = numbers as number[];
      const counts = triples[0] as number[];
      // without the times (an older snapshot), a running bucket's first failures are taken to be at its start
      const bucketStartMs = (bucket as number) * this.params.bucket;
      const firstMs = firsts !== null ? (firsts as (number | null)[]).map((ms) => ms ?? Number.NaN) : counts.map((n) => (n > 0 && bucket !== NONE ? bucketStartMs : Number.NaN));
      const entity: FailureEntity = {
        client: a[0] === 1, name: a[1], server: a[2], firstSeenMs: firstSeenMs as number, lastSeenMs: lastSeenMs as number, bucket: bucket as number,
        samples: samples as number, rateBucket: rateBucket as number, fired: fired as number,
        counts: [...counts], learnCounts: [...(triples[1] as number[])], firstMs, rates: [...(triples[2] as number[])],
      };
      restored.push([entity.name, entity]);
    }
    this.byRole.clear();
    this.byClient.clear();
    for (const [name, entity] of restored) (entity.client ? this.byClient : this.byRole).set(name, entity);
    this.nextSweepMs = nextSweepMs;
  }

  private fold(table: GroupTable<FailureEntity>, client: boolean, name: string, event: AccessEvent, context: MatchContext, timeMs: number, bucket: number, measure: number, learn: boolean): Detection | null {
    let entity = table.get(name);
    if (entity === undefined) {
      entity = { client, name, server: event.server, firstSeenMs: timeMs, lastSeenMs: timeMs, bucket: NONE, samples: 0, counts: [0, 0, 0], learnCounts: [0, 0, 0], firstMs: [Number.NaN, Number.NaN, Number.NaN], rates: [0, 0, 0], rateBucket: NONE, fired: 0 };
      table.set(name, entity);
    }
    if (timeMs > entity.lastSeenMs) entity.lastSeenMs = timeMs;
    if (bucket < entity.bucket || (entity.bucket === NONE && bucket <= entity.rateBucket)) return null;
    if (bucket !== entity.bucket) {
      if (entity.bucket !== NONE) this.close(entity);
      entity.bucket = bucket;
    }
    if (measure < 0) return null;
    entity.counts[measure] = (entity.counts[measure] as number) + 1;
    if (learn) entity.learnCounts[measure] = (entity.learnCounts[measure] as number) + 1;
    const firstMs = entity.firstMs[measure] as number;
    if (Number.isNaN(firstMs) || timeMs < firstMs) entity.firstMs[measure] = timeMs;
    const count = entity.counts[measure] as number;
    if ((entity.fired & (1 << measure)) !== 0 || count < this.params.min_count) return null;
    if (timeMs - entity.firstSeenMs < this.params.min_history || entity.samples < this.params.min_samples) return null;
    const empty = entity.rateBucket === NONE ? 0 : Math.max(0, bucket - entity.rateBucket - 1);
    const rate = (entity.rates[measure] as number) * Math.pow(1 - this.alpha, empty);
    const z = (count - rate) / Math.sqrt(Math.max(rate, MIN_RATE));
    if (z < this.params.threshold) return null;
    entity.fired |= 1 << measure;
    const measureName = FAILURE_MEASURES[measure] as string;
    const detection = buildBaselineDetection({
      rule: this.rule,
      ladder: this.params.severity_ladder,
      raiseForClasses: this.params.raise_for_classes,
      groupKey: client ? entityKey({ client_addr: entity.name }) : entityKey({ user: entity.name }),
      trigger: digestEvent(event, context),
      triggerToken: `bucket:${bucket}:${measureName}`,
      server: entity.server,
      firstSeenMs: entity.firstMs[measure] as number,
      lastSeenMs: timeMs,
      count,
      dataClasses: [],
      explanation: {
        method: 'ewma_poisson',
        observed: count,
        expected: round3(rate),
        spread: round3(Math.sqrt(Math.max(rate, MIN_RATE))),
        score: round3(z),
        threshold: this.params.threshold,
        history_size: entity.samples,
        history_period_ms: bucket * this.params.bucket - entity.firstSeenMs,
        bucket: `${new Date(bucket * this.params.bucket).toISOString()}/${durationText(this.params.bucket)}`,
        entity: client ? 'client' : 'role',
        measure: measureName,
      },
      measure: `${count} ${measureName} in ${durationText(this.params.bucket)}; usual ${round3(rate)}, z=${round3(z)} > ${this.params.threshold}`,
    });
    if (isSevere(detection.severity)) entity.fired |= 8;
    return detection;
  }

  private close(entity: FailureEntity): void {
    const severe = (entity.fired & 8) !== 0;
    const decay = entity.rateBucket === NONE ? 1 : Math.pow(1 - this.alpha, Math.max(0, entity.bucket - entity.rateBucket - 1));
    for (let m = 0; m < 3; m++) {
      const x = severe ? 0 : (entity.learnCounts[m] as number);
      entity.rates[m] = (1 - this.alpha) * (entity.rates[m] as number) * decay + this.alpha * x;
    }
    entity.rateBucket = entity.bucket;
    entity.samples++;
    entity.bucket = NONE;
    entity.counts = [0, 0, 0];
    entity.learnCounts = [0, 0, 0];
    entity.firstMs.fill(Number.NaN);
    entity.fired = 0;
  }
}

/** 0 auth failure, 1 permission denied (42501), 2 other syntax-class error (42xxx), -1 not a failure */
export function failureMeasure(event: AccessEvent): number {
  if (event.kind === 'auth_failure') return 0;
  if (event.kind !== 'error' || event.sqlstate === null) return -1;
  if (event.sqlstate === '42501') return 1;
  return event.sqlstate.startsWith('42') ? 2 : -1;
}

/** The `baseline_failure_rate` plug-in (params: baseline-params.ts `failureRateParamsSchema`). */
export const FAILURE_RATE_BASELINE_DETECTOR: DetectorModule<FailureRateParams> = {
  type: 'baseline_failure_rate',
  paramsSchema: failureRateParamsSchema,
  windowed: false,
  phase: 'baseline',
  wants: 'condition',
  create: (rule) => new FailureRateBaselineDetector(rule),
};

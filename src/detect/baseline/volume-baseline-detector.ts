import type { AccessEvent } from '../../domain/access-event.js';
import type { Detection } from '../../domain/detection.js';
import type { CompiledRule, MatchContext } from '../compiled-rule.js';
import { durationText } from '../detection-builder.js';
import type { Detector, DetectorDeps, DetectorModule } from '../detector.js';
import { qualifyRelation } from '../data-catalog.js';
import { digestEvent } from '../event-digest.js';
import { eventTimeMs } from '../event-time.js';
import { asArray, asRecord, timeFromJson, timeToJson } from '../snapshot-codec.js';
import { buildBaselineDetection, entityKey, isSevere, round3 } from './baseline-detection.js';
import { hasAnyClass } from './context-set.js';
import { volumeParamsSchema, type VolumeParams } from './baseline-params.js';
import { HistoryRing, type RobustReference } from './history-ring.js';
import { RoleDirectory } from './role-directory.js';
import { RoleTable } from './role-table.js';
import { cannotReach, robustZ } from './robust-z.js';
import { NumberRows } from './number-rows.js';
import { BUCKET_FIRST_MS, dropOldest, ENTITY_STRIDE, entityOf, FIRST_SEEN_MS, LAST_SEEN_MS, LOW_ROWS, LOW_STATEMENTS, newEntity, NONE, tableEntity, type VolumeEntity } from './volume-entity.js';

const NO_DETECTIONS: Detection[] = [];
/** Tables tracked per role (the least recently read is dropped when another comes). */
export const MAX_TABLES_PER_ROLE = 32;
const MEASURES = ['rows', 'statements'] as const;

/** A role's entities: the role itself (when watched) and its sensitive tables. */
interface VolumeRole {
  /** row in the detector's `roleTimes`: when the role was last seen, epoch ms */
  row: number;
  role: VolumeEntity | null;
  /** table entities, oldest first (at most MAX_TABLES_PER_ROLE: a scan is cheaper than a Map) */
  tables: VolumeEntity[];
  /** the table entity the role's last event read (null: none, or dropped since), tried before the list */
  lastTable: VolumeEntity | null;
}

/**
 * `baseline_volume` (issue 5): rows read (pgaudit `rows`, app `row_count`) and statements per
 * role and per role x sensitive table per `bucket` (event time). COPY and FETCH log 0 rows, so the
 * statements measure catches them. Each entity keeps its last 128 closed buckets (HistoryRing:
 * log1p values) and judges its running bucket at every event against the weighted median / MAD
 * of those of the same hour of week (>= 3 of them) or of all: robust z = (log1p(x) - median) /
 * (1.4826 x max(MAD, mad_floor)); the larger of the two measures' z is the score. The value only
 * grows with events, so judging at each event sees a bulk read within the event that makes it,
 * and equals judging the bucket when it closes; a bucket fires at most once per entity.
 * Buckets close when the watermark passes their end (`advance`) or a later bucket starts; a
 * closed bucket teaches the history with the events not tainted (`learn` false) unless it fired
 * high or critical. Warm-up: no detection until the entity was first seen `min_history` ago and
 * has `min_samples` closed buckets. Events later than a closed bucket of their entity are ignored.
 * Memory: `max_entities` roles (least recently seen dropped, counted in `evicted`), each with at
 * most MAX_TABLES_PER_ROLE table entities.
 *
 * Detection: entity `{user}` or `{relation, user}`, evidence = the event that crossed the bound,
 * firstSeen = the time of the bucket's first counted event (the earliest, were they out of order;
 * a pgaudit line repeating the role's last statement does not count), lastSeen = the crossing
 * event's time, explanation = BaselineExplanation plus `measure` (rows | statements).
 * A bucket restored from a snapshot without that time (written before it was kept) uses the
 * bucket's start instead.
 */
export class VolumeBaselineDetector implements Detector {
  private readonly params: VolumeParams;
  private readonly entities: RoleTable<VolumeRole>;
  /** the entities' time fields (VolumeEntity.row: FIRST_SEEN_MS...) and the roles' last seen ms (VolumeRole.row) */
  private readonly times = new NumberRows(ENTITY_STRIDE);
  private readonly roleTimes = new NumberRows(1);
  private readonly roles: boolean;
  private readonly tables: boolean;
  private nextSweepMs = Number.NEGATIVE_INFINITY;
  /** the last relation name judged, in `lastContext`: its classes and qualified name (null: not of `table_classes`) */
  private lastRelation = '';
  private lastContext: MatchContext | null = null;
  private lastClasses: readonly string[] = [];
  private lastQualified: string | null = null;

  /** @param deps `installation` shares the role look-up with the other baseline detectors (RoleDirectory) */
  constructor(readonly rule: CompiledRule & { params: VolumeParams }, deps: DetectorDeps = {}) {
    this.params = rule.params;
    this.entities = new RoleTable<VolumeRole>(RoleDirectory.of(deps), this.params.max_entities, (role) => this.roleTimes.data[role.row] as number, (role) => this.freeRows(role));
    this.roles = this.params.entities.includes('role');
    this.tables = this.params.entities.includes('role_table');
  }

  /** roles dropped by `max_entities` since creation (with their table entities) */
  get evicted(): number {
    return this.entities.evicted;
  }

  /** the rule's condition (DetectorModule `wants: 'condition'`); `observe` ignores events without a user */
  wants(event: AccessEvent, context: MatchContext): boolean {
    return this.rule.matches(event, context);
  }

  observe(event: AccessEvent, context: MatchContext, learn = true): Detection[] {
    const timeMs = eventTimeMs(event);
    const user = event.user;
    if (Number.isNaN(timeMs) || user === null) return NO_DETECTIONS;
    const raw = event.audit?.rows ?? event.app?.row_count ?? 0;
    const rows = Number.isFinite(raw) && raw > 0 ? raw : 0;
    const bucket = Math.floor(timeMs / this.params.bucket);
    let out: Detection[] | null = null;
    let slot = this.entities.of(event);
    if (slot === undefined) {
      slot = { row: this.roleTimes.add([timeMs]), role: null, tables: [], lastTable: null };
      this.entities.set(user, slot);
    } else if (timeMs > (this.roleTimes.data[slot.row] as number)) this.roleTimes.data[slot.row] = timeMs;
    if (this.roles) {
      const entity = (slot.role ??= newEntity(false, user, null, [], event.server, timeMs, this.times));
      const last = entity.row * ENTITY_STRIDE + LAST_SEEN_MS;
      if (timeMs > (this.times.data[last] as number)) this.times.data[last] = timeMs;
      const statementId = event.audit?.statement_id ?? -1;
      const repeat = event.audit !== null && statementId === entity.lastStatement && event.pid === entity.lastPid && event.session_id === entity.lastSession;
      entity.lastPid = event.pid ?? -1;
      entity.lastSession = event.session_id ?? '';
      entity.lastStatement = statementId;
      const found = this.fold(entity, bucket, repeat ? 0 : rows, repeat ? 0 : 1, timeMs, event, context, learn);
      if (found !== null) (out ??= []).push(found);
    }
    const relation = this.tables ? (event.audit?.object_name ?? event.app?.subject_table ?? null) : null;
    if (relation !== null) {
      if (relation !== this.lastRelation || context !== this.lastContext) {
        // consecutive events mostly read the same table: classed and qualified once for a run of them
        this.lastRelation = relation;
        this.lastContext = context;
        this.lastClasses = context.classesOf(relation);
        this.lastQualified = hasAnyClass(this.lastClasses, this.params.table_classes) ? qualifyRelation(relation) : null;
      }
      const qualified = this.lastQualified;
      if (qualified !== null) {
        // a role's events mostly read the table of the one before: that entity is tried first
        let entity = slot.lastTable !== null && slot.lastTable.relation === qualified ? slot.lastTable : tableEntity(slot.tables, qualified);
        if (entity === undefined) {
          entity = newEntity(true, user, qualified, this.lastClasses, event.server, timeMs, this.times);
          slot.tables.push(entity);
          slot.lastTable = entity;
          if (slot.tables.length > MAX_TABLES_PER_ROLE && dropOldest(slot.tables, this.times) === slot.lastTable) slot.lastTable = null;
        } else slot.lastTable = entity;
        const last = entity.row * ENTITY_STRIDE + LAST_SEEN_MS;
        if (timeMs > (this.times.data[last] as number)) this.times.data[last] = timeMs;
        const found = this.fold(entity, bucket, rows, 1, timeMs, event, context, learn);
        if (found !== null) (out ??= []).push(found);
      }
    }
    return out ?? NO_DETECTIONS;
  }

  advance(watermarkMs: number): Detection[] {
    if (watermarkMs < this.nextSweepMs) return NO_DETECTIONS;
    const closing = Math.floor(watermarkMs / this.params.bucket);
    for (const slot of this.entities.values()) {
      if (slot.role !== null && slot.role.bucket !== NONE && slot.role.bucket < closing) this.close(slot.role);
      const tables = slot.tables;
      for (let i = 0; i < tables.length; i++) {
        const entity = tables[i] as VolumeEntity;
        if (entity.bucket !== NONE && entity.bucket < closing) this.close(entity);
      }
    }
    this.nextSweepMs = (closing + 1) * this.params.bucket;
    return NO_DETECTIONS;
  }

  snapshot(): unknown {
    const entities: unknown[] = [];
    for (const slot of this.entities.values()) {
      for (const e of slot.role === null ? slot.tables : [slot.role, ...slot.tables]) {
        const at = e.row * ENTITY_STRIDE;
        const bucketFirstMs = this.times.data[at + BUCKET_FIRST_MS] as number;
        entities.push([e.table ? 1 : 0, e.user, e.relation, [...e.classes], e.server, this.times.data[at + FIRST_SEEN_MS], this.times.data[at + LAST_SEEN_MS], e.bucket, e.closed, e.rows, e.statements, e.learnRows, e.learnStatements, (e.fired ? 1 : 0) | (e.severe ? 2 : 0), [e.lastPid, e.lastSession, e.lastStatement], e.history.toJson(), Number.isNaN(bucketFirstMs) ? null : bucketFirstMs]);
      }
    }
    return { nextSweepMs: timeToJson(this.nextSweepMs), entities };
  }

  restore(state: unknown): void {
    const where = `${this.rule.id} (baseline_volume) snapshot`;
    const record = asRecord(state, where);
    const nextSweepMs = timeFromJson(record.nextSweepMs, `${where}.nextSweepMs`);
    const restored: [entity: VolumeEntity, firstSeenMs: number, lastSeenMs: number, bucketFirstMs: number][] = [];
    for (const [i, raw] of asArray(record.entities, `${where}.entities`).entries()) {
      const at = `${where}.entities[${i}]`;
      const a = asArray(raw, at);
      const [table, user, relation, classes, server] = a;
      const numbers = a.slice(5, 14);
      const last = a[14];
      // 17 entries; 16 in snapshots written before the bucket's first event time was kept
      const first = a.length === 17 ? a[16] : null;
      if ((a.length !== 16 && a.length !== 17) || (first !== null && (typeof first !== 'number' || !Number.isFinite(first))) || typeof user !== 'string' || (relation !== null && typeof relation !== 'string') || !Array.isArray(classes) || typeof server !== 'string' || !Array.isArray(last) || typeof last[0] !== 'number' || typeof last[1] !== 'string' || typeof last[2] !== 'number' || !numbers.every((n) => typeof n === 'number' && Number.isFinite(n))) {
        throw new Error(`${at}: expected [table, user, relation, classes, server, 9 numbers, [pid, session, statement], history, bucketFirstMs or null]`);
      }
      const [firstSeenMs, lastSeenMs, bucket, closed, rows, statements, learnRows, learnStatements, flags] = numbers as number[];
      // its row is taken once the snapshot is known to be valid
      const entity = entityOf(-1, table === 1, user, relation as string | null, classes.map(String), server, HistoryRing.fromJson(a[15], 2, `${at}.history`));
      entity.bucket = bucket as number;
      entity.closed = closed as number;
      entity.rows = rows as number;
      entity.statements = statements as number;
      entity.learnRows = learnRows as number;
      entity.learnStatements = learnStatements as number;
      entity.fired = ((flags as number) & 1) !== 0;
      entity.severe = ((flags as number) & 2) !== 0;
      entity.lastPid = last[0] as number;
      entity.lastSession = last[1] as string;
      entity.lastStatement = last[2] as number;
      // without the time (an older snapshot), a running bucket's first event is taken to be at its start
      const bucketFirstMs = first !== null ? first : entity.bucket === NONE ? Number.NaN : entity.bucket * this.params.bucket;
      restored.push([entity, firstSeenMs as number, lastSeenMs as number, bucketFirstMs]);
    }
    this.entities.clear();
    this.times.clear();
    this.roleTimes.clear();
    for (const [entity, firstSeenMs, lastSeenMs, bucketFirstMs] of restored) {
      entity.row = this.times.add([firstSeenMs, lastSeenMs, Number.NaN, Number.NaN, bucketFirstMs]);
      let slot = this.entities.get(entity.user);
      if (slot === undefined) {
        slot = { row: this.roleTimes.add([lastSeenMs]), role: null, tables: [], lastTable: null };
        this.entities.set(entity.user, slot);
      }
      this.roleTimes.data[slot.row] = Math.max(this.roleTimes.data[slot.row] as number, lastSeenMs);
      if (!entity.table) {
        if (slot.role !== null) this.times.free(slot.role.row);
        slot.role = entity;
      } else {
        // a relation listed twice keeps its first place with the later state (as Map#set did)
        const twin = slot.tables.findIndex((held) => held.relation === entity.relation);
        if (twin < 0) slot.tables.push(entity);
        else {
          this.times.free((slot.tables[twin] as VolumeEntity).row);
          slot.tables[twin] = entity;
        }
      }
    }
    this.nextSweepMs = nextSweepMs;
  }

  private fold(entity: VolumeEntity, bucket: number, rows: number, statements: number, timeMs: number, event: AccessEvent, context: MatchContext, learn: boolean): Detection | null {
    if (bucket <= entity.closed) return null;
    if (entity.bucket !== bucket) {
      if (entity.bucket !== NONE) this.close(entity);
      entity.bucket = bucket;
    }
    entity.rows += rows;
    entity.statements += statements;
    if (learn) {
      entity.learnRows += rows;
      entity.learnStatements += statements;
    }
    const times = this.times.data;
    const at = entity.row * ENTITY_STRIDE;
    if (statements > 0) {
      const bucketFirstMs = times[at + BUCKET_FIRST_MS] as number;
      if (Number.isNaN(bucketFirstMs) || timeMs < bucketFirstMs) times[at + BUCKET_FIRST_MS] = timeMs;
    }
    if (entity.fired || statements === 0 || timeMs - (times[at + FIRST_SEEN_MS] as number) < this.params.min_history || entity.samples < this.params.min_samples) return null;
    if (Number.isNaN(times[at + LOW_ROWS])) {
      times[at + LOW_ROWS] = entity.history.lowest(0);
      times[at + LOW_STATEMENTS] = entity.history.lowest(1);
    }
    // a measure whose bound stays below the threshold cannot be the one that fires: its reference is not needed
    const skipRows = cannotReach(entity.rows, times[at + LOW_ROWS] as number, this.params.mad_floor, this.params.threshold);
    const skipStatements = cannotReach(entity.statements, times[at + LOW_STATEMENTS] as number, this.params.mad_floor, this.params.threshold);
    if (skipRows && skipStatements) return null;
    if (entity.refBucket !== bucket) {
      entity.refBucket = bucket;
      entity.rowsRef = entity.statementsRef = undefined;
    }
    let best = -1;
    let bestZ = Number.NEGATIVE_INFINITY;
    for (let m = 0; m < 2; m++) {
      if (m === 0 ? skipRows : skipStatements) continue;
      const ref = m === 0 ? (entity.rowsRef ??= this.reference(entity, 0, bucket)) : (entity.statementsRef ??= this.reference(entity, 1, bucket));
      if (ref === null) continue;
      const z = robustZ(m === 0 ? entity.rows : entity.statements, ref, this.params.mad_floor);
      if (z > bestZ) {
        bestZ = z;
        best = m;
      }
    }
    if (best < 0 || bestZ < this.params.threshold) return null;
    entity.fired = true;
    const ref = (best === 0 ? entity.rowsRef : entity.statementsRef) as RobustReference;
    const observed = best === 0 ? entity.rows : entity.statements;
    const expected = round3(Math.expm1(ref.median));
    const spread = round3(Math.expm1(ref.median + Math.max(ref.mad, this.params.mad_floor)) - Math.expm1(ref.median));
    const bucketText = `${new Date(bucket * this.params.bucket).toISOString()}/${durationText(this.params.bucket)}`;
    const digest = digestEvent(event, context);
    const detection = buildBaselineDetection({
      rule: this.rule,
      ladder: this.params.severity_ladder,
      raiseForClasses: this.params.raise_for_classes,
      groupKey: entity.table ? entityKey({ relation: entity.relation, user: entity.user }) : entityKey({ user: entity.user }),
      trigger: digest,
      triggerToken: `bucket:${bucket}`,
      server: entity.server,
      firstSeenMs: times[at + BUCKET_FIRST_MS] as number,
      lastSeenMs: timeMs,
      count: entity.statements,
      dataClasses: entity.table ? entity.classes : digest.data_classes,
      explanation: {
        method: ref.hourOfWeek ? 'robust_z_log1p_hour_of_week' : 'robust_z_log1p_all',
        observed,
        expected,
        spread,
        score: round3(bestZ),
        threshold: this.params.threshold,
        history_size: ref.size,
        history_period_ms: ref.periodMs,
        bucket: bucketText,
        entity: entity.table ? 'role_table' : 'role',
        measure: MEASURES[best] as string,
      },
      measure: `${observed} ${MEASURES[best] as string} in ${durationText(this.params.bucket)}; usual ${expected} (MAD ${spread}), z=${round3(bestZ)} > ${this.params.threshold}`,
    });
    if (isSevere(detection.severity)) entity.severe = true;
    return detection;
  }

  /** the reference for measure `m` (0 rows, 1 statements) when judging `bucket` */
  private reference(entity: VolumeEntity, m: number, bucket: number): RobustReference | null {
    return entity.history.reference(m, bucket, this.params.bucket, this.params.half_life);
  }

  /** frees the rows of a role the bound dropped and of its entities */
  private freeRows(role: VolumeRole): void {
    this.roleTimes.free(role.row);
    if (role.role !== null) this.times.free(role.role.row);
    for (const entity of role.tables) this.times.free(entity.row);
  }

  private close(entity: VolumeEntity): void {
    if (!entity.severe && entity.learnStatements > 0) {
      entity.history.pushValues(entity.bucket, entity.learnRows, entity.learnStatements);
      entity.samples = entity.history.size;
      this.times.data[entity.row * ENTITY_STRIDE + LOW_ROWS] = this.times.data[entity.row * ENTITY_STRIDE + LOW_STATEMENTS] = Number.NaN;
    }
    this.times.data[entity.row * ENTITY_STRIDE + BUCKET_FIRST_MS] = Number.NaN;
    entity.closed = entity.bucket;
    entity.bucket = NONE;
    entity.rows = entity.statements = entity.learnRows = entity.learnStatements = 0;
    entity.fired = entity.severe = false;
  }
}


/** The `baseline_volume` plug-in (params: baseline-params.ts `volumeParamsSchema`). */
export const VOLUME_BASELINE_DETECTOR: DetectorModule<VolumeParams> = {
  type: 'baseline_volume',
  paramsSchema: volumeParamsSchema,
  windowed: false,
  phase: 'baseline',
  wants: 'condition',
  create: (rule, deps) => new VolumeBaselineDetector(rule, deps),
};

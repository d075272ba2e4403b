import type { AccessEvent } from '../../domain/access-event.js';
import type { Detection } from '../../domain/detection.js';
import type { CompiledRule, MatchContext } from '../compiled-rule.js';
import { durationText } from '../detection-builder.js';
import type { Detector, DetectorDeps, DetectorModule } from '../detector.js';
import { digestEvent } from '../event-digest.js';
import { eventTimeMs } from '../event-time.js';
import { asArray, asRecord, timeFromJson, timeToJson } from '../snapshot-codec.js';
import { buildBaselineDetection, entityKey, isSevere, round3 } from './baseline-detection.js';
import { breadthParamsSchema, type BreadthParams } from './baseline-params.js';
import { classedTables, tableClassesKey } from './classed-tables.js';
import { contextPairHash } from './context-set.js';
import { HistoryRing } from './history-ring.js';
import { NumberRows } from './number-rows.js';
import { RoleDirectory } from './role-directory.js';
import { RoleTable } from './role-table.js';
import { cannotReach, robustZ } from './robust-z.js';

const NO_DETECTIONS: Detection[] = [];
/** Sessions open per role at once (the least recently active is closed when another opens). */
export const MAX_OPEN_SESSIONS = 8;
/** Distinct tables counted per session or bucket (more still count as this many). */
export const MAX_DISTINCT_TABLES = 64;
/** Closed spans a detector keeps for reuse beyond two per role (RoleBreadth.spare, RoleBreadth.secondSpare). */
const MAX_SPARE_SPANS = 1024;
/** A role's numbers in the detector's NumberRows (RoleBreadth.row): first and last seen, epoch ms (event time). */
const FIRST_SEEN_MS = 0;
const LAST_SEEN_MS = 1;
const TIMES_STRIDE = 2;

/** A set of distinct table hashes (session or bucket) being counted. */
interface TableSpan {
  /** session hash, or the bucket number */
  id: number;
  /**
   * the distinct table hashes, in the order added: the first in `first` (most spans hold one: an
   * event then reads no list), the others in `tables[0, size - 1)`; entries past those are left
   * over from an earlier use
   */
  first: number;
  tables: number[];
  size: number;
  /** the span's first and last event times (epoch ms, event time): the detection's firstSeen, and when it was last active */
  firstMs: number;
  lastMs: number;
  fired: boolean;
  /** a tainted event or a severe detection: the span does not teach */
  tainted: boolean;
}

/** A role's state (built in this field order, which puts the fields read for every event first). */
interface RoleBreadth {
  /** row in the detector's NumberRows: first and last seen ms (FIRST_SEEN_MS, LAST_SEEN_MS) */
  row: number;
  bucket: TableSpan | null;
  /** the open session the role's last event counted in (null: none or closed since), tried before the list */
  current: TableSpan | null;
  sessions: TableSpan[];
  user: string;
  server: string;
  /** closed buckets' and sessions' distinct counts */
  hours: HistoryRing;
  sessionHistory: HistoryRing;
  /**
   * closed spans kept for the role's next bucket and session (null: none): two, as a bucket and a
   * session close for every hour a role works, so an hour's new bucket and session allocate nothing
   */
  spare: TableSpan | null;
  secondSpare: TableSpan | null;
}

/**
 * `baseline_breadth` (issue 5): distinct tables of `table_classes` a role touches per session
 * (backend pid + session id) and per `bucket`, judged at each event that adds a table by a robust
 * z on log1p against the role's closed sessions and buckets (HistoryRing; hour of week for
 * buckets as in volume), firing once per session or bucket. Sessions close when idle for a
 * bucket (at `advance`) or when a ninth opens; buckets when the watermark passes their end. Warm-up
 * and `learn` as in volume. Explanation `entity`: `session` or `role` (per bucket).
 *
 * Detection: entity `{user}`, evidence = the event that crossed the bound, firstSeen = the time of
 * the session's or bucket's first event (the earliest, were they out of order), lastSeen = the
 * crossing event's time. A span restored from a snapshot without that time (written before it was
 * kept) uses the bucket's start for a bucket and the session's last event time before the snapshot
 * for a session.
 */
export class BreadthBaselineDetector implements Detector {
  private readonly params: BreadthParams;
  private readonly roles: RoleTable<RoleBreadth>;
  private readonly times = new NumberRows(TIMES_STRIDE);
  private nextSweepMs = Number.NEGATIVE_INFINITY;
  private readonly tableClassesKey: string;
  /** closed spans kept for reuse (a span a session or bucket opens then allocates nothing) */
  private readonly spare: TableSpan[] = [];
  /** the last session name hashed (session id, or `pid:N`) and its hash */
  private lastSession = '';
  private lastSessionHash = contextPairHash('session', '');

  /** @param deps `installation` shares the role look-up with the other baseline detectors (RoleDirectory) */
  constructor(readonly rule: CompiledRule & { params: BreadthParams }, deps: DetectorDeps = {}) {
    this.params = rule.params;
    this.roles = new RoleTable<RoleBreadth>(RoleDirectory.of(deps), this.params.max_entities, (role) => this.times.data[role.row * TIMES_STRIDE + LAST_SEEN_MS] as number, (role) => this.times.free(role.row));
    this.tableClassesKey = tableClassesKey(this.params.table_classes);
  }

  /** the rule's condition (DetectorModule `wants: 'condition'`); `observe` ignores events without a user */
  wants(event: AccessEvent, context: MatchContext): boolean {
    return this.rule.matches(event, context);
  }

  observe(event: AccessEvent, context: MatchContext, learn = true): Detection[] {
    const timeMs = eventTimeMs(event);
    const user = event.user;
    if (Number.isNaN(timeMs) || user === null) return NO_DETECTIONS;
    const tables = classedTables(event, context, this.params.table_classes, this.tableClassesKey).hashes;
    if (tables.length === 0) return NO_DETECTIONS;
    let role = this.roles.of(event);
    if (role === undefined) {
      role = { row: this.times.add([timeMs, timeMs]), bucket: null, current: null, sessions: [], user, server: event.server, hours: new HistoryRing(1), sessionHistory: new HistoryRing(1), spare: null, secondSpare: null };
      this.roles.set(user, role);
    }
    const lastAt = role.row * TIMES_STRIDE + LAST_SEEN_MS;
    if (timeMs > (this.times.data[lastAt] as number)) this.times.data[lastAt] = timeMs;
    const bucketNo = Math.floor(timeMs / this.params.bucket);
    if (role.bucket !== null && role.bucket.id !== bucketNo) {
      if (bucketNo < role.bucket.id) return NO_DETECTIONS;
      this.closeBucket(role);
    }
    role.bucket ??= this.openSpan(role, bucketNo, timeMs);
    const sessionName = event.session_id ?? `pid:${event.pid ?? ''}`;
    if (sessionName !== this.lastSession) {
      // consecutive events mostly share a session: hashed once for a run of them
      this.lastSession = sessionName;
      this.lastSessionHash = contextPairHash('session', sessionName);
    }
    const sessionId = this.lastSessionHash;
    // a role's events mostly continue its last session: that span is tried first (the list holds each id once)
    let session = role.current !== null && role.current.id === sessionId ? role.current : findSpan(role.sessions, sessionId);
    if (session === undefined) {
      session = this.openSpan(role, sessionId, timeMs);
      role.sessions.push(session);
      role.current = session;
      if (role.sessions.length > MAX_OPEN_SESSIONS) {
        const oldest = role.sessions.reduce((a, b) => (b.lastMs < a.lastMs ? b : a));
        this.closeSession(role, oldest);
      }
    } else role.current = session;
    // the session first, then the bucket (the order of their detections)
    const bySession = this.count(role, session, true, tables, bucketNo, timeMs, event, context, learn);
    const byBucket = this.count(role, role.bucket, false, tables, bucketNo, timeMs, event, context, learn);
    if (bySession === null) return byBucket === null ? NO_DETECTIONS : [byBucket];
    return byBucket === null ? [bySession] : [bySession, byBucket];
  }

  advance(watermarkMs: number): Detection[] {
    if (watermarkMs < this.nextSweepMs) return NO_DETECTIONS;
    const closing = Math.floor(watermarkMs / this.params.bucket);
    for (const role of this.roles.values()) {
      if (role.bucket !== null && role.bucket.id < closing) this.closeBucket(role);
      // in order, as over a copy of the list: closing one removes it
      for (let i = 0; i < role.sessions.length; ) {
        const session = role.sessions[i] as TableSpan;
        if (session.lastMs < watermarkMs - this.params.bucket) this.closeSession(role, session);
        else i++;
      }
    }
    this.nextSweepMs = (closing + 1) * this.params.bucket;
    return NO_DETECTIONS;
  }

  snapshot(): unknown {
    const span = (s: TableSpan): unknown[] => [s.id, s.lastMs, (s.fired ? 1 : 0) | (s.tainted ? 2 : 0), s.size === 0 ? [] : [s.first, ...s.tables.slice(0, s.size - 1)], s.firstMs];
    const roles: unknown[] = [];
    const times = this.times.data;
    for (const r of this.roles.values()) roles.push([r.user, r.server, times[r.row * TIMES_STRIDE + FIRST_SEEN_MS], times[r.row * TIMES_STRIDE + LAST_SEEN_MS], r.bucket === null ? null : span(r.bucket), r.sessions.map(span), r.hours.toJson(), r.sessionHistory.toJson()]);
    return { nextSweepMs: timeToJson(this.nextSweepMs), roles };
  }

  restore(state: unknown): void {
    const where = `${this.rule.id} (baseline_breadth) snapshot`;
    const record = asRecord(state, where);
    const nextSweepMs = timeFromJson(record.nextSweepMs, `${where}.nextSweepMs`);
    const restored: [role: RoleBreadth, firstSeenMs: number, lastSeenMs: number][] = [];
    for (const [i, raw] of asArray(record.roles, `${where}.roles`).entries()) {
      const at = `${where}.roles[${i}]`;
      const [user, server, firstSeenMs, lastSeenMs, bucket, sessions, hours, sessionHistory] = asArray(raw, at);
      if (typeof user !== 'string' || typeof server !== 'string' || typeof firstSeenMs !== 'number' || typeof lastSeenMs !== 'number' || !Array.isArray(sessions)) {
        throw new Error(`${at}: expected [user, server, firstSeenMs, lastSeenMs, bucket, sessions, hours, sessionHistory]`);
      }
      const role: RoleBreadth = {
        row: -1, // taken once the snapshot is known to be valid
        bucket: bucket === null ? null : spanFromJson(bucket, `${at}.bucket`, this.params.bucket),
        current: null,
        sessions: sessions.map((s, j) => spanFromJson(s, `${at}.sessions[${j}]`, null)),
        user,
        server,
        hours: HistoryRing.fromJson(hours, 1, `${at}.hours`),
        sessionHistory: HistoryRing.fromJson(sessionHistory, 1, `${at}.sessionHistory`),
        spare: null,
        secondSpare: null,
      };
      restored.push([role, firstSeenMs, lastSeenMs]);
    }
    this.roles.clear();
    this.times.clear();
    for (const [role, firstSeenMs, lastSeenMs] of restored) {
      role.row = this.times.add([firstSeenMs, lastSeenMs]);
      this.roles.set(role.user, role);
    }
    this.nextSweepMs = nextSweepMs;
  }

  /** adds the event's tables to one span and judges it when that added one; the detection or null */
  private count(role: RoleBreadth, span: TableSpan, isSession: boolean, tables: readonly number[], bucketNo: number, timeMs: number, event: AccessEvent, context: MatchContext, learn: boolean): Detection | null {
    if (timeMs > span.lastMs) span.lastMs = timeMs;
    else if (timeMs < span.firstMs) span.firstMs = timeMs;
    if (!learn) span.tainted = true;
    let added = false;
    for (let i = 0; i < tables.length; i++) if (addTable(span, tables[i] as number)) added = true;
    return added && !span.fired ? this.judge(role, span, isSession, bucketNo, timeMs, event, context) : null;
  }

  private judge(role: RoleBreadth, span: TableSpan, isSession: boolean, bucketNo: number, timeMs: number, event: AccessEvent, context: MatchContext): Detection | null {
    const history = isSession ? role.sessionHistory : role.hours;
    if (timeMs - (this.times.data[role.row * TIMES_STRIDE + FIRST_SEEN_MS] as number) < this.params.min_history || history.size < this.params.min_samples) return null;
    if (cannotReach(span.size, history.lowest(0), this.params.mad_floor, this.params.threshold)) return null;
    const ref = history.reference(0, isSession ? Math.floor(timeMs / this.params.bucket) : bucketNo, this.params.bucket, this.params.half_life);
    if (ref === null) return null;
    const observed = span.size;
    const z = robustZ(observed, ref, this.params.mad_floor);
    if (z < this.params.threshold) return null;
    span.fired = true;
    const expected = round3(Math.expm1(ref.median));
    const spread = round3(Math.expm1(ref.median + Math.max(ref.mad, this.params.mad_floor)) - Math.expm1(ref.median));
    const what = isSession ? 'in one session' : `in ${durationText(this.params.bucket)}`;
    const digest = digestEvent(event, context);
    const detection = buildBaselineDetection({
      rule: this.rule,
      ladder: this.params.severity_ladder,
      raiseForClasses: this.params.raise_for_classes,
      groupKey: entityKey({ user: role.user }),
      trigger: digest,
      triggerToken: isSession ? `session:${span.id}` : `bucket:${bucketNo}`,
      server: role.server,
      firstSeenMs: span.firstMs,
      lastSeenMs: timeMs,
      count: observed,
      dataClasses: digest.data_classes,
      explanation: {
        method: ref.hourOfWeek ? 'robust_z_log1p_hour_of_week' : 'robust_z_log1p_all',
        observed,
        expected,
        spread,
        score: round3(z),
        threshold: this.params.threshold,
        history_size: ref.size,
        history_period_ms: ref.periodMs,
        bucket: `${new Date(bucketNo * this.params.bucket).toISOString()}/${durationText(this.params.bucket)}`,
        entity: isSession ? 'session' : 'role',
      },
      measure: `${observed} distinct ${this.params.table_classes.join('/')} tables ${what}; usual ${expected} (MAD ${spread}), z=${round3(z)} > ${this.params.threshold}`,
    });
    if (isSevere(detection.severity)) span.tainted = true;
    return detection;
  }

  private closeBucket(role: RoleBreadth): void {
    const bucket = role.bucket;
    if (bucket === null) return;
    if (!bucket.tainted) role.hours.pushValues(bucket.id, bucket.size);
    role.bucket = null;
    this.release(role, bucket);
  }

  private closeSession(role: RoleBreadth, session: TableSpan): void {
    if (!session.tainted) role.sessionHistory.pushValues(Math.floor(session.lastMs / this.params.bucket), session.size);
    const sessions = role.sessions;
    const at = sessions.indexOf(session);
    for (let i = at; i < sessions.length - 1; i++) sessions[i] = sessions[i + 1] as TableSpan;
    sessions.length--;
    if (role.current === session) role.current = null;
    this.release(role, session);
  }

  /** a span with no tables yet: one of the role's spares, else one of the detector's, else a new one */
  private openSpan(role: RoleBreadth, id: number, timeMs: number): TableSpan {
    let span = role.spare;
    if (span !== null) {
      role.spare = role.secondSpare;
      role.secondSpare = null;
    } else span = this.spare.pop() ?? null;
    if (span === null) return { id, first: 0, size: 0, firstMs: timeMs, lastMs: timeMs, fired: false, tainted: false, tables: [] };
    span.id = id;
    span.firstMs = span.lastMs = timeMs;
    span.fired = span.tainted = false;
    span.size = 0;
    return span;
  }

  /** keeps a closed span for reuse: as one of the role's spares, else among the detector's (up to MAX_SPARE_SPANS) */
  private release(role: RoleBreadth, span: TableSpan): void {
    if (role.spare === null) role.spare = span;
    else if (role.secondSpare === null) role.secondSpare = span;
    else if (this.spare.length < MAX_SPARE_SPANS) this.spare.push(span);
  }
}

/** the span of `sessions` whose id is `id`, undefined when none */
function findSpan(sessions: readonly TableSpan[], id: number): TableSpan | undefined {
  for (let i = 0; i < sessions.length; i++) if ((sessions[i] as TableSpan).id === id) return sessions[i];
  return undefined;
}

/** adds `table` to the span unless it holds it or MAX_DISTINCT_TABLES; true when added */
function addTable(span: TableSpan, table: number): boolean {
  const size = span.size;
  if (size === 0) {
    span.first = table;
    span.size = 1;
    return true;
  }
  if (size >= MAX_DISTINCT_TABLES || span.first === table) return false;
  const tables = span.tables;
  const others = size - 1;
  for (let i = 0; i < others; i++) if (tables[i] === table) return false;
  if (others < tables.length) tables[others] = table;
  else tables.push(table);
  span.size = size + 1;
  return true;
}

/**
 * A span from its snapshot entry `[id, lastMs, flags, tables, firstMs]`; entries written before
 * `firstMs` was kept have four items, and their span's first event is taken to be at the bucket's
 * start (`bucketMs`: the bucket length of a bucket span) or at `lastMs` (null: a session span).
 * @throws Error naming `where` when the entry has another shape
 */
function spanFromJson(value: unknown, where: string, bucketMs: number | null): TableSpan {
  const a = asArray(value, where);
  const [id, lastMs, flags, tables, kept] = a;
  if ((a.length !== 4 && a.length !== 5) || typeof id !== 'number' || typeof lastMs !== 'number' || typeof flags !== 'number' || !Array.isArray(tables) || !tables.every((t) => Number.isInteger(t)) || (a.length === 5 && typeof kept !== 'number')) {
    throw new Error(`${where}: expected [id, lastMs, flags, tables, firstMs]`);
  }
  const firstMs = typeof kept === 'number' ? kept : bucketMs === null ? lastMs : id * bucketMs;
  // a copy: the span grows its list, which must not change the caller's snapshot (it may be restored again)
  // built in openSpan's field order (one object layout for every span)
  return { id, first: (tables[0] as number | undefined) ?? 0, size: tables.length, firstMs, lastMs, fired: (flags & 1) !== 0, tainted: (flags & 2) !== 0, tables: (tables as number[]).slice(1) };
}

/** The `baseline_breadth` plug-in (params: baseline-params.ts `breadthParamsSchema`). */
export const BREADTH_BASELINE_DETECTOR: DetectorModule<BreadthParams> = {
  type: 'baseline_breadth',
  paramsSchema: breadthParamsSchema,
  windowed: false,
  phase: 'baseline',
  wants: 'condition',
  create: (rule, deps) => new BreadthBaselineDetector(rule, deps),
};

import type { AccessEvent } from '../../domain/access-event.js';
import type { Detection } from '../../domain/detection.js';
import type { CompiledRule, MatchContext } from '../compiled-rule.js';
import { durationText } from '../detection-builder.js';
import type { Detector, DetectorDeps, DetectorModule } from '../detector.js';
import { digestEvent } from '../event-digest.js';
import { eventTimeMs } from '../event-time.js';
import { asArray, asRecord, timeFromJson, timeToJson } from '../snapshot-codec.js';
import { type BaselineExplanation, buildBaselineDetection, entityKey, isSevere } from './baseline-detection.js';
import { newContextParamsSchema, type NewContextParams } from './baseline-params.js';
import { classedTables, tableClassesKey } from './classed-tables.js';
import { ContextRows } from './context-rows.js';
import { clientNetwork, clientNetworkHash, contextPairHash, contextSetFromJson } from './context-set.js';
import { HOUR_MS } from './hour-of-week.js';
import { RoleDirectory } from './role-directory.js';
import { RoleTable } from './role-table.js';

const NO_DETECTIONS: Detection[] = [];
/** New contexts reported while they could not be learned (tainted events), per role: each fires once. */
const REPORTED_SLOTS = 8;
const NONE_REPORTED: readonly number[] = Object.freeze([]);

/** One context value of an event: its kind (explanation key) and value. */
interface ContextValue {
  kind: 'client_addr' | 'client_net' | 'application_name' | 'table';
  value: string;
}

/**
 * `baseline_new_context` (issue 5): per role, the client addresses (/32) and networks (/24),
 * application names and tables of `table_classes` it uses (ContextRows: 48 hashed slots). Fires:
 * - `client` / `client_net` / `application` / `table`: a context never seen for a warmed-up role
 *   (first seen `min_history` ago, `min_samples` events); all new ones of one event in one detection;
 * - `role`: a role never seen before, once the detector has seen `min_history` of events;
 * - `dormant`: a warmed-up role's first event after more than `dormant_after` without any.
 * Contexts of events with `learn` false, or of a detection that is high or critical, are not
 * learned; each is reported once (8 such per role). Group `{user}`: one incident per role.
 *
 * Explanation: method `first_seen` (observed: the new `kind=value` pairs; expected: known
 * contexts of those kinds; score: new contexts), `new_role` or `dormant` (observed: silence ms;
 * expected: `dormant_after` ms; score: silence / dormant_after).
 */
export class NewContextBaselineDetector implements Detector {
  private readonly params: NewContextParams;
  /**
   * A role's state is a row number (no object per role): its times, event count and known contexts
   * are that row of `rows`, its names `users[row]` and `servers[row]`, and the hashes of contexts
   * reported but not learned (newest last) `reported[row]`.
   */
  private readonly roles: RoleTable<number>;
  private readonly rows = new ContextRows();
  private readonly users: string[] = [];
  private readonly servers: string[] = [];
  private readonly reported: (readonly number[])[] = [];
  private readonly watch: ReadonlySet<string>;
  private firstEventMs = Number.NEGATIVE_INFINITY;
  private readonly watchClient: boolean;
  private readonly watchNetwork: boolean;
  private readonly watchApplication: boolean;
  private readonly watchTable: boolean;
  private readonly watchRole: boolean;
  private readonly watchDormant: boolean;
  /** `hashesOf`'s results in `[0, count)` (reused: `observe` is not re-entered; grown by doubling) */
  private scratch = new Int32Array(8);
  /** the last client address hashed, its hash and its network's (`lastHasNetwork` false: no network) */
  private lastClient = '';
  private lastClientHash = 0;
  private lastNetworkHash = 0;
  private lastHasNetwork = false;
  /** the last application name hashed and its hash */
  private lastApplication = '';
  private lastApplicationHash = 0;
  private readonly tableClassesKey: string;

  /** @param deps `installation` shares the role look-up with the other baseline detectors (RoleDirectory) */
  constructor(readonly rule: CompiledRule & { params: NewContextParams }, deps: DetectorDeps = {}) {
    this.params = rule.params;
    this.roles = new RoleTable<number>(RoleDirectory.of(deps), this.params.max_entities, (row) => this.rows.lastSeenMs(row), (row) => this.freeRow(row));
    this.watch = new Set(this.params.contexts);
    this.watchClient = this.watch.has('client');
    this.watchNetwork = this.watch.has('client_net');
    this.watchApplication = this.watch.has('application');
    this.watchTable = this.watch.has('table');
    this.watchRole = this.watch.has('role');
    this.watchDormant = this.watch.has('dormant');
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
    if (!Number.isFinite(this.firstEventMs)) this.firstEventMs = timeMs;
    const hour = Math.floor(timeMs / HOUR_MS);
    const contextCount = this.hashesOf(event, context);
    const contextHashes = this.scratch;
    let row = this.roles.of(event);
    if (row === undefined) {
      row = this.newRow(user, event.server, timeMs);
      this.roles.set(user, row);
      const detection = this.watchRole && timeMs - this.firstEventMs >= this.params.min_history ? this.fire(row, event, context, timeMs, newRoleExplanation(this.roles.size - 1, timeMs - this.firstEventMs), 'a role never seen before', 'role') : null;
      if (learn && (detection === null || !isSevere(detection.severity))) for (let i = 0; i < contextCount; i++) this.rows.add(row, contextHashes[i] as number, hour);
      this.rows.countEvent(row, timeMs);
      return detection === null ? NO_DETECTIONS : [detection];
    }
    const rows = this.rows;
    const firstSeenMs = rows.firstSeenMs(row);
    const lastSeenMs = rows.lastSeenMs(row);
    const warm = timeMs - firstSeenMs >= this.params.min_history && rows.events(row) >= this.params.min_samples;
    const silentMs = timeMs - lastSeenMs;
    rows.countEvent(row, timeMs);
    let detection: Detection | null = null;
    if (warm && this.watchDormant && silentMs > this.params.dormant_after) {
      detection = this.fire(row, event, context, timeMs, dormantExplanation(silentMs, this.params.dormant_after, rows.events(row), firstSeenMs, timeMs - silentMs), `first activity after ${durationText(Math.floor(silentMs / HOUR_MS) * HOUR_MS)} of silence (dormant after ${durationText(this.params.dormant_after)})`, `dormant:${hour}`);
    }
    if (!this.hasFresh(row, contextHashes, contextCount)) return detection === null ? NO_DETECTIONS : [detection];
    const values = this.contextsOf(event, context);
    const reported = this.reported[row] as readonly number[];
    const fresh: ContextValue[] = [];
    const hashes: number[] = [];
    for (const value of values) {
      const hash = contextPairHash(value.kind, value.value);
      if (rows.has(row, hash) || reported.includes(hash)) continue;
      fresh.push(value);
      hashes.push(hash);
    }
    if (fresh.length === 0) return detection === null ? NO_DETECTIONS : [detection];
    if (!warm) {
      if (learn) for (const hash of hashes) rows.add(row, hash, hour);
      return detection === null ? NO_DETECTIONS : [detection];
    }
    const observed = fresh.map((v) => `${v.kind}=${v.value}`).join('; ');
    const kinds = new Set(fresh.map((v) => v.kind));
    const known = values.filter((v) => !kinds.has(v.kind)).length;
    const found = this.fire(row, event, context, timeMs, {
      method: 'first_seen',
      observed,
      expected: `${rows.contexts(row)} known contexts`,
      spread: 0,
      score: fresh.length,
      threshold: 1,
      history_size: rows.events(row) - 1,
      history_period_ms: timeMs - firstSeenMs,
      bucket: new Date(hour * HOUR_MS).toISOString(),
      entity: 'role_context',
      known_of_other_kinds: known,
    }, `new ${observed}`, `new:${hashes.join(',')}`);
    const teach = learn && !isSevere(found.severity) && (detection === null || !isSevere(detection.severity));
    for (const hash of hashes) {
      if (teach) rows.add(row, hash, hour);
      else {
        // a copy (restored lists may be a snapshot's), newest last, the oldest dropped past REPORTED_SLOTS
        const list = [...(this.reported[row] as readonly number[]), hash];
        this.reported[row] = list.length > REPORTED_SLOTS ? list.slice(1) : list;
      }
    }
    return detection === null ? [found] : [detection, found];
  }

  advance(): Detection[] {
    return NO_DETECTIONS;
  }

  snapshot(): unknown {
    const roles: unknown[] = [];
    const rows = this.rows;
    for (const row of this.roles.values()) roles.push([this.users[row], this.servers[row], rows.firstSeenMs(row), rows.lastSeenMs(row), rows.events(row), rows.toJson(row), [...(this.reported[row] as readonly number[])]]);
    return { firstEventMs: timeToJson(this.firstEventMs), roles };
  }

  restore(state: unknown): void {
    const where = `${this.rule.id} (baseline_new_context) snapshot`;
    const record = asRecord(state, where);
    const firstEventMs = timeFromJson(record.firstEventMs, `${where}.firstEventMs`);
    const restored: { user: string; server: string; firstSeenMs: number; lastSeenMs: number; events: number; set: [hashes: number[], hours: number[]]; reported: number[] }[] = [];
    for (const [i, raw] of asArray(record.roles, `${where}.roles`).entries()) {
      const at = `${where}.roles[${i}]`;
      const [user, server, firstSeenMs, lastSeenMs, events, seen, reported] = asArray(raw, at);
      if (typeof user !== 'string' || typeof server !== 'string' || typeof firstSeenMs !== 'number' || typeof lastSeenMs !== 'number' || typeof events !== 'number' || !Array.isArray(reported) || !reported.every((h) => Number.isInteger(h))) {
        throw new Error(`${at}: expected [user, server, firstSeenMs, lastSeenMs, events, seen, reported]`);
      }
      // rows are taken once the whole snapshot is known to be valid
      restored.push({ user, server, firstSeenMs, lastSeenMs, events, set: contextSetFromJson(seen, `${at}.seen`), reported: reported as number[] });
    }
    this.roles.clear();
    this.rows.clear();
    for (const role of restored) {
      const row = this.newRow(role.user, role.server, role.firstSeenMs);
      this.rows.load(row, role.firstSeenMs, role.lastSeenMs, role.events, role.set);
      this.reported[row] = role.reported.length === 0 ? NONE_REPORTED : [...role.reported];
      this.roles.set(role.user, row);
    }
    this.firstEventMs = firstEventMs;
  }

  /** a row for a new role first seen at `timeMs` (no events, contexts or reports yet) */
  private newRow(user: string, server: string, timeMs: number): number {
    const row = this.rows.alloc(timeMs);
    this.users[row] = user;
    this.servers[row] = server;
    this.reported[row] = NONE_REPORTED;
    return row;
  }

  /** frees the row of a role the bound dropped (its names and reports are released with it) */
  private freeRow(row: number): void {
    this.rows.free(row);
    this.users[row] = '';
    this.servers[row] = '';
    this.reported[row] = NONE_REPORTED;
  }

  /** true when one of `hashes[0, count)` is neither known to the role nor already reported for it */
  private hasFresh(row: number, hashes: Int32Array, count: number): boolean {
    for (let i = 0; i < count; i++) {
      const hash = hashes[i] as number;
      if (!this.rows.has(row, hash) && !(this.reported[row] as readonly number[]).includes(hash)) return true;
    }
    return false;
  }

  private contextsOf(event: AccessEvent, context: MatchContext): ContextValue[] {
    const values: ContextValue[] = [];
    const client = event.client_addr;
    if (client !== null && client !== '') {
      if (this.watch.has('client')) values.push({ kind: 'client_addr', value: client });
      const network = this.watch.has('client_net') ? clientNetwork(client) : null;
      if (network !== null) values.push({ kind: 'client_net', value: network });
    }
    const application = event.application_name;
    if (this.watch.has('application') && application !== null && application !== '' && application !== '[unknown]') values.push({ kind: 'application_name', value: application });
    if (this.watch.has('table')) for (const relation of classedTables(event, context, this.params.table_classes, this.tableClassesKey).relations) values.push({ kind: 'table', value: relation });
    return values;
  }

  /**
   * `contextPairHash` of each of `contextsOf(event)`, in the same order, without building them
   * (the common case: every context is known), into `this.scratch[0, count)`; returns the count.
   * Valid until the next call.
   */
  private hashesOf(event: AccessEvent, context: MatchContext): number {
    let count = 0;
    const client = event.client_addr;
    if (client !== null && client !== '') {
      if (client !== this.lastClient) {
        // consecutive events mostly share a session, hence a client: hashed once for a run of them
        this.lastClient = client;
        this.lastClientHash = contextPairHash('client_addr', client);
        const network = clientNetworkHash(client);
        this.lastHasNetwork = network !== null;
        this.lastNetworkHash = network ?? 0;
      }
      if (this.watchClient) this.scratch[count++] = this.lastClientHash;
      if (this.watchNetwork && this.lastHasNetwork) this.scratch[count++] = this.lastNetworkHash;
    }
    const application = event.application_name;
    if (this.watchApplication && application !== null && application !== '' && application !== '[unknown]') {
      if (application !== this.lastApplication) {
        this.lastApplication = application;
        this.lastApplicationHash = contextPairHash('application_name', application);
      }
      this.scratch[count++] = this.lastApplicationHash;
    }
    if (this.watchTable) {
      const tables = classedTables(event, context, this.params.table_classes, this.tableClassesKey).hashes;
      if (count + tables.length > this.scratch.length) {
        const grown = new Int32Array(Math.max(2 * this.scratch.length, count + tables.length));
        grown.set(this.scratch.subarray(0, count));
        this.scratch = grown;
      }
      for (let i = 0; i < tables.length; i++) this.scratch[count++] = tables[i] as number;
    }
    return count;
  }

  private fire(row: number, event: AccessEvent, context: MatchContext, timeMs: number, explanation: BaselineExplanation, measure: string, token: string): Detection {
    return buildBaselineDetection({
      rule: this.rule,
      ladder: this.params.severity_ladder,
      raiseForClasses: this.params.raise_for_classes,
      groupKey: entityKey({ user: this.users[row] as string }),
      trigger: digestEvent(event, context),
      triggerToken: token,
      server: this.servers[row] as string,
      firstSeenMs: timeMs,
      lastSeenMs: timeMs,
      count: 1,
      dataClasses: [],
      explanation,
      measure,
    });
  }
}

function newRoleExplanation(knownRoles: number, detectorHistoryMs: number): BaselineExplanation {
  return { method: 'new_role', observed: 'role not seen before', expected: `${knownRoles} known roles`, spread: 0, score: 1, threshold: 1, history_size: knownRoles, history_period_ms: detectorHistoryMs, bucket: '', entity: 'role' };
}

function dormantExplanation(silentMs: number, dormantAfterMs: number, events: number, firstSeenMs: number, lastSeenBeforeMs: number): BaselineExplanation {
  return {
    method: 'dormant',
    observed: silentMs,
    expected: dormantAfterMs,
    spread: 0,
    score: Math.round((silentMs / dormantAfterMs) * 1000) / 1000,
    threshold: 1,
    history_size: events - 1,
    history_period_ms: lastSeenBeforeMs - firstSeenMs,
    bucket: new Date(lastSeenBeforeMs).toISOString(),
    entity: 'role',
  };
}

/** The `baseline_new_context` plug-in (params: baseline-params.ts `newContextParamsSchema`). */
export const NEW_CONTEXT_BASELINE_DETECTOR: DetectorModule<NewContextParams> = {
  type: 'baseline_new_context',
  paramsSchema: newContextParamsSchema,
  windowed: false,
  phase: 'baseline',
  wants: 'condition',
  create: (rule, deps) => new NewContextBaselineDetector(rule, deps),
};

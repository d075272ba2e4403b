import type { AccessEvent, AuditFields } from '../domain/access-event.js';
import { type AccessLedgerDelta, LOCAL_CLIENT } from '../domain/access-ledger.js';
import { qualifyRelation } from './data-catalog.js';

/** What the ledger needs to know about relations: their data classes (a `DataCatalog` is one). */
export interface AccessLedgerContext {
  /** data classes of a relation name as written (`customers`, `public.customers`); empty = not catalogued */
  classesOf(relation: string): readonly string[];
}

/** pgaudit classes that count as reading, and as changing, a relation. */
const READ_CLASSES = new Set(['READ']);
const CHANGE_CLASSES = new Set(['WRITE', 'DDL']);
/**
 * Commands for which pgaudit prints no object although the statement works on a table (corpus
 * README: a plain `COPY customers TO STDOUT`, `TRUNCATE`, `DROP TABLE`): only for these are the
 * statement's relations used. Other object-less entries are not counted: the second entry of a
 * stacked query carries the whole text (`SELECT ... FROM customers; SELECT pg_sleep(2)`) but reads nothing.
 */
const OBJECTLESS_TABLE_COMMANDS = new Set(['COPY', 'TRUNCATE TABLE', 'DROP TABLE']);

/**
 * Aggregates pgaudit events into access-ledger deltas in memory, between two commits of the
 * pipeline (`observe` each event, `drain` inside the commit transaction and hand the deltas to
 * `AccessLedgerRepository.apply`).
 *
 * Counting rule (the report's numbers; pgaudit README "Format"): an `audit` event of class READ
 * (read) or WRITE / DDL (change) with a user counts once for every catalogued relation it names,
 * keyed by (server, UTC day of `time`, user, relation, client address or `[local]`). It names
 * `audit.object_name` when pgaudit printed one (with `pgaudit.log_relation` one entry per relation);
 * else, for COPY, TRUNCATE TABLE and DROP TABLE only (pgaudit prints no object for them), the
 * relations the enrich stage found in the statement (`query.relations`). Its `audit.rows` (null = 0) adds to
 * rows read or rows changed of each relation it counts for. Relations are qualified with
 * `qualifyRelation` (`customers` → `public.customers`); only relations with data classes count.
 *
 * Memory: one entry per distinct key seen since the last drain.
 *
 * The deltas are found through nested maps (server+day, then role, client and relation) rather than
 * one map keyed by a joined string: the hot path builds no key string per event (the bucket of the
 * current server and day is kept, and a day is recognised by prefix without slicing the time).
 */
export class AccessLedger {
  /** the deltas in first-seen order (what `drain` returns) */
  private pending: AccessLedgerDelta[] = [];
  /** `server\0day` → role → client address → qualified relation → delta */
  private buckets = new Map<string, Map<string, Map<string, Map<string, AccessLedgerDelta>>>>();
  /** the bucket of the last counted event, its server and day (most events share them) */
  private lastBucket: Map<string, Map<string, Map<string, AccessLedgerDelta>>> | null = null;
  private lastServer = '';
  private lastDay = '';

  /**
   * Counts one event (see the class comment); other events are ignored.
   * @param context the catalog of the event's server
   */
  observe(event: AccessEvent, context: AccessLedgerContext): void {
    const audit = event.audit;
    const user = event.user;
    if (event.kind !== 'audit' || audit === null || user === null) return;
    const reads = READ_CLASSES.has(audit.class);
    if (!reads && !CHANGE_CLASSES.has(audit.class)) return;
    if (audit.object_name !== null) {
      // the common case: one named relation, counted without a list or a set of the ones seen
      this.count(event, user, audit, audit.object_name, reads, context);
      return;
    }
    if (!OBJECTLESS_TABLE_COMMANDS.has(audit.command)) return;
    const queried = event.query?.relations ?? [];
    if (queried.length === 1) this.count(event, user, audit, queried[0] as string, reads, context);
    if (queried.length < 2) return;
    const seen = new Set<string>();
    for (const name of queried) {
      const relation = qualifyRelation(name);
      if (seen.has(relation)) continue;
      seen.add(relation);
      this.count(event, user, audit, name, reads, context);
    }
  }

  /** counts `event` once for the relation `name` (as written) when it has data classes */
  private count(event: AccessEvent, user: string, audit: AuditFields, name: string, reads: boolean, context: AccessLedgerContext): void {
    const classes = context.classesOf(name);
    if (classes.length === 0) return;
    const relation = qualifyRelation(name);
    const rows = audit.rows ?? 0;
    const clientAddr = event.client_addr ?? LOCAL_CLIENT;
    const byRelation = this.relationsOf(event, user, clientAddr);
    let delta = byRelation.get(relation);
    if (delta === undefined) {
      delta = {
        server: event.server,
        day: this.lastDay,
        role: user,
        relation,
        clientAddr,
        dataClasses: [...classes],
        readStatements: 0,
        rowsRead: 0,
        changeStatements: 0,
        rowsChanged: 0,
        commands: {},
        firstSeen: event.time,
        lastSeen: event.time,
      };
      byRelation.set(relation, delta);
      this.pending.push(delta);
    } else {
      if (event.time < delta.firstSeen) delta.firstSeen = event.time;
      if (event.time > delta.lastSeen) delta.lastSeen = event.time;
      for (const c of classes) if (!delta.dataClasses.includes(c)) delta.dataClasses = [...delta.dataClasses, c].sort();
    }
    if (reads) {
      delta.readStatements += 1;
      delta.rowsRead += rows;
    } else {
      delta.changeStatements += 1;
      delta.rowsChanged += rows;
    }
    delta.commands[audit.command] = (delta.commands[audit.command] ?? 0) + 1;
  }

  /** the relation → delta map of (event's server, event's UTC day, user, client); sets lastDay */
  private relationsOf(event: AccessEvent, user: string, clientAddr: string): Map<string, AccessLedgerDelta> {
    let bucket = this.lastBucket;
    if (bucket === null || event.server !== this.lastServer || !event.time.startsWith(this.lastDay)) {
      const day = event.time.slice(0, 10);
      const bucketKey = `${event.server}\u0000${day}`;
      const found = this.buckets.get(bucketKey) ?? new Map<string, Map<string, Map<string, AccessLedgerDelta>>>();
      this.buckets.set(bucketKey, found);
      bucket = this.lastBucket = found;
      this.lastServer = event.server;
      this.lastDay = day;
    }
    let byClient = bucket.get(user);
    if (byClient === undefined) bucket.set(user, (byClient = new Map()));
    let byRelation = byClient.get(clientAddr);
    if (byRelation === undefined) byClient.set(clientAddr, (byRelation = new Map()));
    return byRelation;
  }

  /** Keys with counts waiting for `drain`. */
  get size(): number {
    return this.pending.length;
  }

  /** The deltas counted since the last drain (one per key, in first-seen order), and forgets them. */
  drain(): AccessLedgerDelta[] {
    const out = this.pending;
    this.pending = [];
    this.buckets = new Map();
    this.lastBucket = null;
    return out;
  }
}

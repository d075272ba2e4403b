import { createHash } from 'node:crypto';
import type { SqlQueryable } from '../domain/sql-queryable.js';
import type { NotificationItem, NotificationMessage } from './notification-message.js';
import { notificationId } from './notification-id.js';

/** First key of the per-receiver advisory lock that serialises joining a receiver's open digest ("jagn"). */
export const OUTBOX_GROUP_LOCK_CLASS = 0x6a61676e;

/** Most changes one digest carries: a full digest closes at once (due now) and the next change opens a new one. */
export const MAX_DIGEST_ITEMS = 100;

/** Outbox row states: `muted` rows were silenced (kept as the record of it) and are never delivered. */
export type OutboxStatus = 'pending' | 'in_flight' | 'delivered' | 'dead' | 'muted';

/** One outbox row, decoded. */
export interface OutboxRow {
  /** the stable notification id */
  id: string;
  receiver: string;
  kind: 'single' | 'digest' | 'fallback';
  incidentId: number | null;
  groupKey: string | null;
  payload: NotificationMessage;
  status: OutboxStatus;
  /** claims so far, including the current one */
  attempts: number;
  nextAttemptAt: Date;
  groupClosesAt: Date | null;
  claimedAt: Date | null;
  claimedBy: string | null;
  lastError: string | null;
  silenceId: number | null;
  fallbackOf: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

interface RawRow {
  id: string;
  receiver: string;
  kind: OutboxRow['kind'];
  incident_id: number | null;
  group_key: string | null;
  payload: NotificationMessage;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: Date;
  group_closes_at: Date | null;
  claimed_at: Date | null;
  claimed_by: string | null;
  last_error: string | null;
  silence_id: number | null;
  fallback_of: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

const COLUMNS =
  'id, receiver, kind, incident_id, group_key, payload, status, attempts, next_attempt_at, group_closes_at, claimed_at, claimed_by, last_error, silence_id, fallback_of, created_at, delivered_at';

/** Something that runs a transaction (a `Store`, structurally). */
export interface OutboxStore extends SqlQueryable {
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
}

/**
 * The notification outbox (tables `jaga_outbox`, `jaga_outbox_change`; migration 0004_notifications).
 * Writing (planner, inside the pipeline's transaction): `addSingle`, `addToDigest`. Delivering
 * (dispatchers, any number of agents on one store): `claim` with FOR UPDATE SKIP LOCKED, then exactly
 * one of `markDelivered`, `retry`, `deadLetter`, `release`. A claim older than the lease is claimable
 * again (its process died between claim and mark): such a row is delivered at most once more, with
 * the same id. All methods take the queryable to run on and never log.
 */
export class OutboxRepository {
  /**
   * Writes one message for one change (INSERT ... ON CONFLICT DO NOTHING: a replayed change writes
   * nothing). `status` `muted` records a silenced notification (`silenceId` says which silence).
   * @returns true when the row was written
   */
  async addSingle(
    tx: SqlQueryable,
    row: { receiver: string; changeId: string; item: NotificationItem; id: string; status: 'pending' | 'muted'; silenceId: number | null; now: Date },
  ): Promise<boolean> {
    const payload: NotificationMessage = { notification_id: row.id, receiver: row.receiver, kind: 'single', items: [row.item] };
    const inserted = await tx.query(
      `INSERT INTO jaga_outbox (id, receiver, kind, incident_id, payload, status, next_attempt_at, silence_id, created_at)
       VALUES ($1, $2, 'single', $3, $4::jsonb, $5, $6, $7, $6) ON CONFLICT (id) DO NOTHING RETURNING id`,
      [row.id, row.receiver, row.item.incident_id, JSON.stringify(payload), row.status, row.now, row.silenceId],
    );
    if (inserted.length === 0) return false;
    await tx.query('INSERT INTO jaga_outbox_change (receiver, change_id, notification_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [row.receiver, row.changeId, row.id]);
    return true;
  }

  /**
   * Adds a change to the receiver's open digest (pending, window not yet closed), or opens a new
   * digest closing `windowMs` after `now` (its id from the receiver and this first change). Holds the
   * per-receiver advisory lock until the transaction ends, so concurrent agents join one digest. A
   * digest reaching `MAX_DIGEST_ITEMS` closes at once (due `now`), bounding its payload.
   * `makeItem(notificationId)` builds the item once the digest's id is known.
   * @returns the digest's id, or null when this change already reached this receiver (replay)
   */
  async addToDigest(
    tx: SqlQueryable,
    row: { receiver: string; changeId: string; incidentId: number; windowMs: number; now: Date; makeItem: (notificationId: string) => NotificationItem },
  ): Promise<string | null> {
    await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [OUTBOX_GROUP_LOCK_CLASS, receiverLockKey(row.receiver)]);
    const seen = await tx.query('SELECT 1 FROM jaga_outbox_change WHERE receiver = $1 AND change_id = $2', [row.receiver, row.changeId]);
    if (seen.length > 0) return null;
    const open = await tx.query<{ id: string; payload: NotificationMessage }>(
      `SELECT id, payload FROM jaga_outbox WHERE receiver = $1 AND kind = 'digest' AND status = 'pending' AND group_closes_at > $2
       ORDER BY group_closes_at, id LIMIT 1 FOR UPDATE`,
      [row.receiver, row.now],
    );
    const current = open[0];
    if (current) {
      const payload: NotificationMessage = { ...current.payload, items: [...current.payload.items, row.makeItem(current.id)] };
      if (payload.items.length >= MAX_DIGEST_ITEMS) {
        await tx.query('UPDATE jaga_outbox SET payload = $2::jsonb, group_closes_at = $3, next_attempt_at = $3 WHERE id = $1', [current.id, JSON.stringify(payload), row.now]);
      } else {
        await tx.query('UPDATE jaga_outbox SET payload = $2::jsonb WHERE id = $1', [current.id, JSON.stringify(payload)]);
      }
      await tx.query('INSERT INTO jaga_outbox_change (receiver, change_id, notification_id) VALUES ($1, $2, $3)', [row.receiver, row.changeId, current.id]);
      return current.id;
    }
    const id = notificationId(row.receiver, `digest:${row.changeId}`);
    const closes = new Date(row.now.getTime() + row.windowMs);
    const payload: NotificationMessage = { notification_id: id, receiver: row.receiver, kind: 'digest', items: [row.makeItem(id)] };
    const inserted = await tx.query(
      `INSERT INTO jaga_outbox (id, receiver, kind, incident_id, group_key, payload, status, next_attempt_at, group_closes_at, created_at)
       VALUES ($1, $2, 'digest', $3, $4, $5::jsonb, 'pending', $6, $6, $7) ON CONFLICT (id) DO NOTHING RETURNING id`,
      [id, row.receiver, row.incidentId, `${row.receiver}@${row.now.toISOString()}`, JSON.stringify(payload), closes, row.now],
    );
    if (inserted.length === 0) return null;
    await tx.query('INSERT INTO jaga_outbox_change (receiver, change_id, notification_id) VALUES ($1, $2, $3)', [row.receiver, row.changeId, id]);
    return id;
  }

  /**
   * Claims up to `limit` due rows of one receiver for `claimer`: pending rows whose `next_attempt_at`
   * has come, and in-flight rows whose claim is older than `leaseMs` (abandoned). Sets them
   * `in_flight`, stamps `claimed_at`/`claimed_by` and counts an attempt. Rows locked by another
   * claimer are skipped (FOR UPDATE SKIP LOCKED), so concurrent dispatchers never share a row.
   * @returns the claimed rows, oldest due first
   */
  async claim(on: SqlQueryable, options: { receiver: string; limit: number; now: Date; leaseMs: number; claimer: string }): Promise<OutboxRow[]> {
    const leaseCutoff = new Date(options.now.getTime() - options.leaseMs);
    const rows = await on.query<RawRow>(
      `WITH due AS (
         SELECT id FROM jaga_outbox
         WHERE receiver = $1 AND ((status = 'pending' AND next_attempt_at <= $2) OR (status = 'in_flight' AND claimed_at <= $3))
         ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
       UPDATE jaga_outbox o SET status = 'in_flight', claimed_at = $2, claimed_by = $5, attempts = o.attempts + 1
       FROM due WHERE o.id = due.id
       RETURNING ${COLUMNS.split(', ').map((c) => `o.${c}`).join(', ')}`,
      [options.receiver, options.now, leaseCutoff, options.limit, options.claimer],
    );
    return rows.map(decode).sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || a.id.localeCompare(b.id));
  }

  /** Marks a claimed row delivered. @returns false when the claim was lost (lease ran out and another claimer took it). */
  async markDelivered(on: SqlQueryable, id: string, claimer: string, now: Date): Promise<boolean> {
    const rows = await on.query(
      `UPDATE jaga_outbox SET status = 'delivered', delivered_at = $3, claimed_at = NULL, last_error = NULL
       WHERE id = $1 AND claimed_by = $2 AND status = 'in_flight' RETURNING id`,
      [id, claimer, now],
    );
    return rows.length === 1;
  }

  /**
   * Puts a claimed row back to `pending` until `nextAttemptAt`, recording `errorCode` (a status or
   * error code only, never a response body). @returns false when the claim was lost.
   */
  async retry(on: SqlQueryable, id: string, claimer: string, nextAttemptAt: Date, errorCode: string): Promise<boolean> {
    const rows = await on.query(
      `UPDATE jaga_outbox SET status = 'pending', next_attempt_at = $3, last_error = $4, claimed_at = NULL, claimed_by = NULL
       WHERE id = $1 AND claimed_by = $2 AND status = 'in_flight' RETURNING id`,
      [id, claimer, nextAttemptAt, errorCode],
    );
    return rows.length === 1;
  }

  /**
   * Gives back claimed rows not attempted (shutdown, or a receiver that said to wait): `pending` again
   * from `nextAttemptAt`, the attempt uncounted. @returns how many were released
   */
  async release(on: SqlQueryable, ids: readonly string[], claimer: string, nextAttemptAt: Date): Promise<number> {
    if (ids.length === 0) return 0;
    const rows = await on.query(
      `UPDATE jaga_outbox SET status = 'pending', next_attempt_at = GREATEST(next_attempt_at, $3), attempts = GREATEST(attempts - 1, 0),
         claimed_at = NULL, claimed_by = NULL
       WHERE id = ANY($1::text[]) AND claimed_by = $2 AND status = 'in_flight' RETURNING id`,
      [[...ids], claimer, nextAttemptAt],
    );
    return rows.length;
  }

  /**
   * Dead-letters a claimed row (`dead`, error code kept) and, when `fallback` names a receiver,
   * writes it a copy (kind `fallback`, id from the fallback and the dead row's id, due now), in one
   * transaction. @returns the fallback copy's id (null without fallback), or false when the claim was lost
   */
  async deadLetter(store: OutboxStore, row: OutboxRow, claimer: string, errorCode: string, fallback: string | null, now: Date): Promise<string | null | false> {
    return store.transaction(async (tx) => {
      const updated = await tx.query(
        `UPDATE jaga_outbox SET status = 'dead', last_error = $3, claimed_at = NULL, claimed_by = NULL
         WHERE id = $1 AND claimed_by = $2 AND status = 'in_flight' RETURNING id`,
        [row.id, claimer, errorCode],
      );
      if (updated.length === 0) return false;
      if (fallback === null) return null;
      const id = notificationId(fallback, `fallback:${row.id}`);
      const payload: NotificationMessage = { ...row.payload, notification_id: id, receiver: fallback, kind: 'fallback' };
      await tx.query(
        `INSERT INTO jaga_outbox (id, receiver, kind, incident_id, payload, status, next_attempt_at, fallback_of, created_at)
         VALUES ($1, $2, 'fallback', $3, $4::jsonb, 'pending', $5, $6, $5) ON CONFLICT (id) DO NOTHING`,
        [id, fallback, row.incidentId, JSON.stringify(payload), now, row.id],
      );
      return id;
    });
  }

  /** The earliest time a row of the receiver becomes claimable (pending due time, or lease end), or null. */
  async nextDueAt(on: SqlQueryable, receiver: string, leaseMs: number): Promise<Date | null> {
    const rows = await on.query<{ due: Date | null }>(
      `SELECT min(CASE WHEN status = 'pending' THEN next_attempt_at ELSE claimed_at + ($2::bigint * interval '1 millisecond') END) AS due
       FROM jaga_outbox WHERE receiver = $1 AND status IN ('pending', 'in_flight')`,
      [receiver, leaseMs],
    );
    return rows[0]?.due ?? null;
  }

  /** One row by id, or null. */
  async get(on: SqlQueryable, id: string): Promise<OutboxRow | null> {
    const rows = await on.query<RawRow>(`SELECT ${COLUMNS} FROM jaga_outbox WHERE id = $1`, [id]);
    return rows[0] ? decode(rows[0]) : null;
  }

  /** Rows of an incident or of every incident, oldest first (tests, `jaga incidents show`). */
  async list(on: SqlQueryable, filter: { incidentId?: number; receiver?: string } = {}): Promise<OutboxRow[]> {
    const rows = await on.query<RawRow>(
      `SELECT ${COLUMNS} FROM jaga_outbox WHERE ($1::bigint IS NULL OR incident_id = $1) AND ($2::text IS NULL OR receiver = $2) ORDER BY created_at, id`,
      [filter.incidentId ?? null, filter.receiver ?? null],
    );
    return rows.map(decode);
  }

  /** Row counts per receiver and status (for the outbox depth gauges). */
  async countByStatus(on: SqlQueryable): Promise<{ receiver: string; status: OutboxStatus; count: number }[]> {
    const rows = await on.query<{ receiver: string; status: OutboxStatus; count: number | bigint }>(
      'SELECT receiver, status, count(*) AS count FROM jaga_outbox GROUP BY receiver, status ORDER BY receiver, status',
    );
    return rows.map((r) => ({ receiver: r.receiver, status: r.status, count: Number(r.count) }));
  }

  /**
   * Rows waiting for delivery (pending or in flight) per receiver, for the outbox gauges: depth and
   * the age of the oldest waiting row at `now`, seconds (0 when its created_at is after `now`), e.g.
   * `[{ receiver: 'slack', depth: 3, oldestAgeSeconds: 42.5 }]`; receivers with nothing waiting are absent.
   */
  async waitingByReceiver(on: SqlQueryable, now: Date): Promise<{ receiver: string; depth: number; oldestAgeSeconds: number }[]> {
    const rows = await on.query<{ receiver: string; depth: number | bigint | string; oldest: Date | string }>(
      "SELECT receiver, count(*) AS depth, min(created_at) AS oldest FROM jaga_outbox WHERE status IN ('pending', 'in_flight') GROUP BY receiver ORDER BY receiver",
    );
    return rows.map((r) => ({ receiver: r.receiver, depth: Number(r.depth), oldestAgeSeconds: Math.max(0, (now.getTime() - new Date(r.oldest).getTime()) / 1000) }));
  }

  /** Retention: deletes delivered and muted rows older than `olderThan` (with their change links). @returns rows deleted */
  async purgeDelivered(on: SqlQueryable, olderThan: Date): Promise<number> {
    const rows = await on.query(
      `DELETE FROM jaga_outbox WHERE (status = 'delivered' AND delivered_at < $1) OR (status = 'muted' AND created_at < $1) RETURNING id`,
      [olderThan],
    );
    return rows.length;
  }
}

/** Second key of the per-receiver advisory lock: the first 32 bits of sha256(receiver), signed. */
export function receiverLockKey(receiver: string): number {
  return createHash('sha256').update(receiver).digest().readInt32BE(0);
}

function decode(row: RawRow): OutboxRow {
  return {
    id: row.id,
    receiver: row.receiver,
    kind: row.kind,
    incidentId: row.incident_id === null ? null : Number(row.incident_id),
    groupKey: row.group_key,
    payload: row.payload,
    status: row.status,
    attempts: Number(row.attempts),
    nextAttemptAt: row.next_attempt_at,
    groupClosesAt: row.group_closes_at,
    claimedAt: row.claimed_at,
    claimedBy: row.claimed_by,
    lastError: row.last_error,
    silenceId: row.silence_id === null ? null : Number(row.silence_id),
    fallbackOf: row.fallback_of,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
  };
}

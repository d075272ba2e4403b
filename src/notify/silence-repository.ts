import type { Severity } from '../domain/detection.js';
import { ConfigError } from '../domain/errors.js';
import { type Silence, type SilenceMatchers, hasAnyMatcher } from '../domain/silence.js';
import type { SqlQueryable } from '../domain/sql-queryable.js';

/** What a new silence needs. */
export interface NewSilence {
  matchers: SilenceMatchers;
  startsAt: Date;
  endsAt: Date;
  author: string;
  reason: string;
}

interface SilenceRow {
  id: number;
  matchers: SilenceMatchers;
  starts_at: Date;
  ends_at: Date;
  author: string;
  reason: string;
  created_at: Date;
  expired_at: Date | null;
  expired_by: string | null;
}

const COLUMNS = 'id, matchers, starts_at, ends_at, author, reason, created_at, expired_at, expired_by';

/**
 * Silences in table `jaga_silence` (migration 0004_notifications): create, list, expire, and the
 * ones active at a time (what the planner mutes with). Every method takes the queryable to run on
 * (a store or an open transaction), so an HTTP handler can create a silence in its own transaction.
 */
export class SilenceRepository {
  /**
   * Stores a new silence.
   * @throws ConfigError when it has no matcher, no author or reason, or does not end after it starts.
   * @throws StoreError from the store.
   */
  async create(on: SqlQueryable, silence: NewSilence, now: Date): Promise<Silence> {
    const problems: string[] = [];
    if (!hasAnyMatcher(silence.matchers)) problems.push('matchers: give at least one matcher (an empty silence would mute everything)');
    if (silence.author.trim() === '') problems.push('author: required');
    if (silence.reason.trim() === '') problems.push('reason: required');
    if (!(silence.endsAt.getTime() > silence.startsAt.getTime())) problems.push('ends_at: must be after starts_at');
    if (problems.length > 0) throw new ConfigError(`invalid silence: ${problems.join('; ')}`, problems);
    const rows = await on.query<SilenceRow>(
      `INSERT INTO jaga_silence (matchers, starts_at, ends_at, author, reason, created_at) VALUES ($1::jsonb, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [JSON.stringify(normaliseMatchers(silence.matchers)), silence.startsAt, silence.endsAt, silence.author, silence.reason, now],
    );
    return decode(rows[0] as SilenceRow);
  }

  /** Silences not yet ended or expired at `now` (pending and active), or all when `includeExpired`; newest first. */
  async list(on: SqlQueryable, now: Date, options: { includeExpired?: boolean } = {}): Promise<Silence[]> {
    const rows = options.includeExpired
      ? await on.query<SilenceRow>(`SELECT ${COLUMNS} FROM jaga_silence ORDER BY id DESC`)
      : await on.query<SilenceRow>(`SELECT ${COLUMNS} FROM jaga_silence WHERE expired_at IS NULL AND ends_at > $1 ORDER BY id DESC`, [now]);
    return rows.map(decode);
  }

  /** Silences active at `now` (started, not ended, not expired), oldest first. */
  async active(on: SqlQueryable, now: Date): Promise<Silence[]> {
    const rows = await on.query<SilenceRow>(
      `SELECT ${COLUMNS} FROM jaga_silence WHERE expired_at IS NULL AND starts_at <= $1 AND ends_at > $1 ORDER BY id`,
      [now],
    );
    return rows.map(decode);
  }

  /** One silence, or null. */
  async get(on: SqlQueryable, id: number): Promise<Silence | null> {
    const rows = await on.query<SilenceRow>(`SELECT ${COLUMNS} FROM jaga_silence WHERE id = $1`, [id]);
    return rows[0] ? decode(rows[0]) : null;
  }

  /**
   * Expires a silence now (it stops muting from `now`). Expiring an already expired or ended one
   * changes nothing. @returns the silence after the call, or null when no silence has that id.
   */
  async expire(on: SqlQueryable, id: number, by: string, now: Date): Promise<Silence | null> {
    await on.query('UPDATE jaga_silence SET expired_at = $2, expired_by = $3 WHERE id = $1 AND expired_at IS NULL AND ends_at > $2', [id, now, by]);
    return this.get(on, id);
  }
}

/** Drops empty lists/objects so stored matchers have one canonical form. */
function normaliseMatchers(m: SilenceMatchers): SilenceMatchers {
  const entity = m.entity !== null && Object.keys(m.entity).length > 0 ? { ...m.entity } : null;
  return {
    detector: m.detector,
    severity: m.severity as Severity | null,
    tags_any: m.tags_any !== null && m.tags_any.length > 0 ? [...m.tags_any] : null,
    entity,
    server: m.server,
  };
}

function decode(row: SilenceRow): Silence {
  return {
    id: Number(row.id),
    matchers: row.matchers,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    author: row.author,
    reason: row.reason,
    createdAt: row.created_at,
    expiredAt: row.expired_at,
    expiredBy: row.expired_by,
  };
}

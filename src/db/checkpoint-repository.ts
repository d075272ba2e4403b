import type { Store, StoreQueryable, StoreTransaction } from './store.js';

/** `fileFingerprint` of the one checkpoint row of a source that reads a table by cursor instead of files. */
export const TABLE_CURSOR_KEY = 'table-cursor';

/**
 * A source's read position (DESIGN.md vocabulary: checkpoint), one per (source, file).
 *
 * Example (a log file): `{ sourceId: 'db1', fileFingerprint: '3f9a0c1d2e4b5a67',
 * filePath: '/var/log/postgresql/postgresql-Mon.log', byteOffset: 81920, cursor: null }`;
 * (a table cursor): `{ sourceId: 'app', fileFingerprint: TABLE_CURSOR_KEY, filePath: 'jaga_access_event',
 * byteOffset: 0, cursor: '<opaque text of the source>' }`.
 */
export interface Checkpoint {
  /** the source's configured name */
  sourceId: string;
  /** FileFingerprint of the file (src/domain/file-fingerprint.ts), or TABLE_CURSOR_KEY */
  fileFingerprint: string;
  /** where the file was last seen (informational: identity is the fingerprint) */
  filePath: string;
  /** bytes acknowledged from the file's start; a safe non-negative integer */
  byteOffset: number;
  /** opaque position of a table cursor source, else null */
  cursor: string | null;
}

/** A checkpoint as stored, with the time of its last write (the writing transaction's start, UTC). */
export interface StoredCheckpoint extends Checkpoint {
  updatedAt: Date;
}

interface CheckpointRow {
  source_id: string;
  file_fingerprint: string;
  file_path: string;
  byte_offset: number | bigint | string;
  cursor: string | null;
  updated_at: Date;
}

/**
 * Reads and writes the `jaga_checkpoint` table (migration 0001_checkpoints). Writes take the caller's
 * transaction: a source's checkpoint is committed in the same transaction as the incident changes its
 * records caused (DESIGN.md section 1).
 */
export class CheckpointRepository {
  constructor(private readonly store: Store) {}

  /**
   * All checkpoints of a source, ordered by file path then fingerprint.
   * @param tx read inside this transaction instead of on the store
   * @throws StoreError
   */
  async load(sourceId: string, tx?: StoreTransaction): Promise<StoredCheckpoint[]> {
    const on: StoreQueryable = tx ?? this.store;
    const rows = await on.query<CheckpointRow>(
      `SELECT source_id, file_fingerprint, file_path, byte_offset, cursor, updated_at
         FROM jaga_checkpoint WHERE source_id = $1 ORDER BY file_path, file_fingerprint`,
      [sourceId],
    );
    return rows.map((row) => ({
      sourceId: row.source_id,
      fileFingerprint: row.file_fingerprint,
      filePath: row.file_path,
      byteOffset: Number(row.byte_offset),
      cursor: row.cursor,
      updatedAt: row.updated_at,
    }));
  }

  /**
   * Upserts checkpoints in one statement. For an existing (source, fingerprint) the row is updated only
   * when the new offset is not smaller (the guard is in SQL, so a late writer with an older position
   * cannot move it back); path, cursor and updated_at change with it. Several entries for one
   * (source, fingerprint) in the same call collapse to the one with the largest offset (the last of equals).
   *
   * @returns how many rows were inserted or updated (entries refused by the guard are not counted)
   * @throws RangeError when a byteOffset is not a safe non-negative integer (a caller bug)
   * @throws StoreError
   */
  async save(tx: StoreTransaction, checkpoints: readonly Checkpoint[]): Promise<number> {
    const latest = new Map<string, Checkpoint>();
    for (const checkpoint of checkpoints) {
      if (!Number.isSafeInteger(checkpoint.byteOffset) || checkpoint.byteOffset < 0) {
        throw new RangeError(`checkpoint byteOffset must be a safe non-negative integer, got ${checkpoint.byteOffset}`);
      }
      const key = JSON.stringify([checkpoint.sourceId, checkpoint.fileFingerprint]);
      const previous = latest.get(key);
      if (!previous || previous.byteOffset <= checkpoint.byteOffset) latest.set(key, checkpoint);
    }
    if (latest.size === 0) return 0;
    const entries = [...latest.values()];
    const written = await tx.query(
      `INSERT INTO jaga_checkpoint AS c (source_id, file_fingerprint, file_path, byte_offset, cursor, updated_at)
       SELECT s, f, p, o, k, now() FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[]) AS n(s, f, p, o, k)
       ON CONFLICT (source_id, file_fingerprint) DO UPDATE
          SET file_path = EXCLUDED.file_path, byte_offset = EXCLUDED.byte_offset, cursor = EXCLUDED.cursor, updated_at = EXCLUDED.updated_at
        WHERE c.byte_offset <= EXCLUDED.byte_offset
       RETURNING 1 AS written`,
      [
        entries.map((e) => e.sourceId),
        entries.map((e) => e.fileFingerprint),
        entries.map((e) => e.filePath),
        entries.map((e) => e.byteOffset),
        entries.map((e) => e.cursor),
      ],
    );
    return written.length;
  }

  /**
   * Deletes the checkpoints of a source's files that are gone for good (rotated away and fully read).
   * @returns how many rows were deleted
   * @throws StoreError
   */
  async forget(tx: StoreTransaction, sourceId: string, fingerprints: readonly string[]): Promise<number> {
    if (fingerprints.length === 0) return 0;
    const deleted = await tx.query(
      'DELETE FROM jaga_checkpoint WHERE source_id = $1 AND file_fingerprint = ANY($2::text[]) RETURNING 1 AS deleted',
      [sourceId, [...fingerprints]],
    );
    return deleted.length;
  }
}

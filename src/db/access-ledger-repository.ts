import type { AccessLedgerDelta, AccessLedgerRow } from '../domain/access-ledger.js';
import type { SqlQueryable } from '../domain/sql-queryable.js';

/** Which ledger rows `query` returns. */
export interface AccessLedgerQuery {
  /** first UTC day included, `YYYY-MM-DD` */
  sinceDay: string;
  /** last UTC day included, `YYYY-MM-DD` */
  untilDay: string;
  /** only this server; all servers when absent */
  server?: string;
}

interface LedgerRowRecord {
  server: string;
  day: string;
  role: string;
  relation: string;
  client_addr: string;
  data_classes: string[];
  read_statements: number | bigint | string;
  rows_read: number | bigint | string;
  change_statements: number | bigint | string;
  rows_changed: number | bigint | string;
  commands: Record<string, number>;
  first_seen: Date;
  last_seen: Date;
}

/** Deltas per INSERT statement (one jsonb parameter each). */
const BATCH_SIZE = 500;

/**
 * Reads and writes `jaga_access_ledger` (migration 0006_access_ledger.sql). `apply` runs in the
 * caller's transaction (the pipeline commits the ledger with the source checkpoints, so a replay
 * after a crash does not count twice).
 */
export class AccessLedgerRepository {
  /** @param store where `query` reads when no transaction is given */
  constructor(private readonly store: SqlQueryable) {}

  /**
   * Adds deltas onto the rows of their keys (creating missing rows): counts and per-command counts
   * add, data classes unite, first/last seen widen. Deltas with the same key are merged first.
   * @returns rows inserted or updated
   * @throws StoreError
   */
  async apply(tx: SqlQueryable, deltas: readonly AccessLedgerDelta[]): Promise<number> {
    const merged = mergeDeltas(deltas);
    let written = 0;
    for (let i = 0; i < merged.length; i += BATCH_SIZE) {
      const batch = merged.slice(i, i + BATCH_SIZE).map((d) => ({
        server: d.server,
        day: d.day,
        role: d.role,
        relation: d.relation,
        client_addr: d.clientAddr,
        data_classes: d.dataClasses,
        read_statements: d.readStatements,
        rows_read: d.rowsRead,
        change_statements: d.changeStatements,
        rows_changed: d.rowsChanged,
        commands: d.commands,
        first_seen: d.firstSeen,
        last_seen: d.lastSeen,
      }));
      const rows = await tx.query(
        `INSERT INTO jaga_access_ledger AS l
           (server, day, role, relation, client_addr, data_classes, read_statements, rows_read,
            change_statements, rows_changed, commands, first_seen, last_seen)
         SELECT d.server, d.day, d.role, d.relation, d.client_addr,
                ARRAY(SELECT jsonb_array_elements_text(d.data_classes)), d.read_statements, d.rows_read,
                d.change_statements, d.rows_changed, d.commands, d.first_seen, d.last_seen
           FROM jsonb_to_recordset($1::jsonb) AS d(server text, day date, role text, relation text, client_addr text,
                data_classes jsonb, read_statements bigint, rows_read bigint, change_statements bigint,
                rows_changed bigint, commands jsonb, first_seen timestamptz, last_seen timestamptz)
         ON CONFLICT (server, day, role, relation, client_addr) DO UPDATE SET
           data_classes = ARRAY(SELECT DISTINCT c FROM unnest(l.data_classes || EXCLUDED.data_classes) AS c ORDER BY c),
           read_statements = l.read_statements + EXCLUDED.read_statements,
           rows_read = l.rows_read + EXCLUDED.rows_read,
           change_statements = l.change_statements + EXCLUDED.change_statements,
           rows_changed = l.rows_changed + EXCLUDED.rows_changed,
           commands = (SELECT COALESCE(jsonb_object_agg(k, n), '{}'::jsonb)
                         FROM (SELECT key AS k, sum(value::bigint) AS n
                                 FROM (SELECT key, value FROM jsonb_each_text(l.commands)
                                       UNION ALL SELECT key, value FROM jsonb_each_text(EXCLUDED.commands)) AS both_counts
                                GROUP BY key) AS summed),
           first_seen = LEAST(l.first_seen, EXCLUDED.first_seen),
           last_seen = GREATEST(l.last_seen, EXCLUDED.last_seen)
         RETURNING 1 AS written`,
        [JSON.stringify(batch)],
      );
      written += rows.length;
    }
    return written;
  }

  /**
   * Rows of the UTC days `sinceDay` through `untilDay` (both included), ordered by day, server,
   * role, relation, client address.
   * @param on read inside this transaction instead of on the store
   * @throws StoreError
   */
  async query(range: AccessLedgerQuery, on: SqlQueryable = this.store): Promise<AccessLedgerRow[]> {
    const rows = await on.query<LedgerRowRecord>(
      `SELECT server, to_char(day, 'YYYY-MM-DD') AS day, role, relation, client_addr, data_classes, read_statements,
              rows_read, change_statements, rows_changed, commands, first_seen, last_seen
         FROM jaga_access_ledger
        WHERE day >= $1::date AND day <= $2::date AND ($3::text IS NULL OR server = $3::text)
        ORDER BY day, server, role, relation, client_addr`,
      [range.sinceDay, range.untilDay, range.server ?? null],
    );
    return rows.map((row) => ({
      server: row.server,
      day: row.day,
      role: row.role,
      relation: row.relation,
      clientAddr: row.client_addr,
      dataClasses: row.data_classes,
      readStatements: Number(row.read_statements),
      rowsRead: Number(row.rows_read),
      changeStatements: Number(row.change_statements),
      rowsChanged: Number(row.rows_changed),
      commands: Object.fromEntries(Object.entries(row.commands).map(([command, n]) => [command, Number(n)])),
      firstSeen: row.first_seen.toISOString(),
      lastSeen: row.last_seen.toISOString(),
    }));
  }
}

/** Merges deltas with the same key (an INSERT ... ON CONFLICT may not touch one row twice). */
function mergeDeltas(deltas: readonly AccessLedgerDelta[]): AccessLedgerDelta[] {
  const byKey = new Map<string, AccessLedgerDelta>();
  for (const d of deltas) {
    const key = `${d.server}\u0000${d.day}\u0000${d.role}\u0000${d.relation}\u0000${d.clientAddr}`;
    const seen = byKey.get(key);
    if (seen === undefined) {
      byKey.set(key, { ...d, dataClasses: [...d.dataClasses], commands: { ...d.commands } });
      continue;
    }
    seen.dataClasses = [...new Set([...seen.dataClasses, ...d.dataClasses])].sort();
    seen.readStatements += d.readStatements;
    seen.rowsRead += d.rowsRead;
    seen.changeStatements += d.changeStatements;
    seen.rowsChanged += d.rowsChanged;
    for (const [command, n] of Object.entries(d.commands)) seen.commands[command] = (seen.commands[command] ?? 0) + n;
    if (d.firstSeen < seen.firstSeen) seen.firstSeen = d.firstSeen;
    if (d.lastSeen > seen.lastSeen) seen.lastSeen = d.lastSeen;
  }
  return [...byKey.values()];
}

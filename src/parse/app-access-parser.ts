import { blankAccessEvent } from '../domain/blank-access-event.js';
import type { AccessEvent, ParseFailure, ParseFailureReason } from '../domain/access-event.js';
import type { Telemetry } from '../observe/telemetry.js';

/**
 * A row of the monitored database's `jaga_access_event` table with every value as PostgreSQL printed
 * it. The same shape as `AppAccessRow` of src/sources/app-access-row.ts (stages do not import each
 * other, so it is restated here); the source of truth for the columns is
 * src/sources/sql/jaga-access-event.sql.
 */
export interface AppAccessRowInput {
  /** bigserial id, decimal */
  id: string;
  /** xid8 of the inserting transaction, decimal (the source's cursor; not part of the event) */
  txid: string;
  /** ISO-8601 UTC with milliseconds, e.g. `2024-05-01T08:15:02.120Z`; null when the stored time is not finite */
  time: string | null;
  actor: string | null;
  action: string | null;
  subject_table: string | null;
  subject_id: string | null;
  /** bigint, decimal */
  row_count: string | null;
  client_addr: string | null;
  application_name: string | null;
  /** jsonb as JSON text; must be an object (or SQL NULL) */
  detail: string | null;
}

const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Bytes of the row's text values (the failed record's length in `ParseFailure.byteLength`). */
function rowByteLength(row: AppAccessRowInput): number {
  let bytes = 0;
  for (const value of Object.values(row)) if (typeof value === 'string') bytes += Buffer.byteLength(value, 'utf8');
  return bytes;
}

/**
 * Turns one access-event table row into an `app_access` event. Pure.
 *
 * The event: id `${source.id}:table:${row.id}`; `time` the row's time (ISO-8601 UTC, ms); `server`
 * and `source.id` the source id; `source.offset` the row id as a number (file and fingerprint null);
 * `user` = actor; `client_addr` and `application_name` from the row; `app` = { actor, action,
 * subject_table, subject_id, row_count (number), detail (object or null) }; every other field null
 * (`truncated` false). The cursor column `txid` is not carried.
 *
 * Failures (values, never thrown; they carry where the row was, never its content):
 * - `bad_json`: `detail` is not a JSON object (an array, a string, a number, JSON `null`, or text
 *   that does not parse);
 * - `bad_timestamp`: `time` is null or not `YYYY-MM-DDTHH:MM:SS.mmmZ` (e.g. the row said `infinity`).
 */
export function appAccessRowToEvent(row: AppAccessRowInput, source: { id: string }): AccessEvent | ParseFailure {
  const where = { id: source.id, file: null, fingerprint: null, offset: Number(row.id) };
  const fail = (reason: ParseFailureReason): ParseFailure => ({ reason, source: where, byteLength: rowByteLength(row) });

  const timeMs = row.time !== null && ISO_UTC_MS.test(row.time) ? Date.parse(row.time) : Number.NaN;
  if (!Number.isFinite(timeMs)) return fail('bad_timestamp');

  let detail: Record<string, unknown> | null = null;
  if (row.detail !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(row.detail);
    } catch {
      return fail('bad_json');
    }
    if (!isPlainObject(parsed)) return fail('bad_json');
    detail = parsed;
  }

  return {
    ...blankAccessEvent({ id: `${source.id}:table:${row.id}`, time: new Date(timeMs).toISOString(), server: source.id, source: where, kind: 'app_access' }),
    user: row.actor,
    client_addr: row.client_addr,
    application_name: row.application_name,
    app: {
      actor: row.actor,
      action: row.action,
      subject_table: row.subject_table,
      subject_id: row.subject_id,
      row_count: row.row_count === null ? null : Number(row.row_count),
      detail,
    },
  };

}

/** Result of parsing one batch: the events in row order, and the rows that failed. */
export interface AppAccessBatchResult {
  events: AccessEvent[];
  failures: ParseFailure[];
}

/** Parses a batch of rows (`{ sourceId, rows }`, as the app access source yields it). */
export type AppAccessBatchParser = (batch: { sourceId: string; rows: readonly AppAccessRowInput[] }) => AppAccessBatchResult;

/**
 * Builds the batch parser the pipeline uses: `appAccessRowToEvent` on every row; each bad row is
 * skipped and reported as internal event `app_access_bad_row` (warn; labels `source`, `reason`;
 * field `row_id`, never the row's content), i.e. one log line and `jaga_app_access_bad_row_total`.
 */
export function createAppAccessBatchParser(telemetry: Telemetry): AppAccessBatchParser {
  const badRow = telemetry.declare({
    name: 'app_access_bad_row',
    help: 'App access rows that could not become events (skipped).',
    level: 'warn',
    labels: ['source', 'reason'],
  });
  return ({ sourceId, rows }) => {
    const result: AppAccessBatchResult = { events: [], failures: [] };
    for (const row of rows) {
      const out = appAccessRowToEvent(row, { id: sourceId });
      if ('reason' in out) {
        result.failures.push(out);
        badRow({ source: sourceId, reason: out.reason }, { row_id: row.id });
      } else {
        result.events.push(out);
      }
    }
    return result;
  };
}

import pg from 'pg';
import { ConfigError } from '../domain/errors.js';
import { createSilentLogger, type Logger } from '../observe/logger.js';
import { Telemetry, type InternalEventReporter } from '../observe/telemetry.js';
import {
  APP_ACCESS_CURSOR_START,
  compareAppAccessCursors,
  formatAppAccessCursor,
  parseAppAccessCursor,
  type AppAccessCursor,
} from './app-access-cursor.js';
import { AppAccessListener, reconnectDelayMs } from './app-access-listener.js';
import { APP_ACCESS_PAGE_QUERY, type AppAccessRow } from './app-access-row.js';
import { Wakeup } from './wakeup.js';

/** Options of `AppAccessSource`. Durations in ms; all must be positive integers. */
export interface AppAccessSourceOptions {
  /** configured source id (stamped on events as `server` and in event ids by the parser) */
  id: string;
  /** connection URL of the monitored database (role with SELECT on `jaga_access_event`) */
  url: string;
  /** fallback read interval when no notification arrives, ms (default 5000) */
  pollIntervalMs?: number;
  /** how often each connection runs its timed health query, ms (default 10000) */
  healthCheckIntervalMs?: number;
  /** how long a health query may take before its connection is dropped and reopened, ms (default 3000, or half the interval when that is shorter; must be below the interval) */
  healthCheckTimeoutMs?: number;
  /** how long one page read may take before its connection is dropped and reopened, ms (default 30000) */
  readTimeoutMs?: number;
  /** most rows per batch (default 1000) */
  batchRows?: number;
  /** the checkpoint saved by the store (`checkpoint()` of a previous run), or null/absent to read from the first row */
  cursor?: string | null;
  /** used for internal events when `telemetry` is absent (default: silent) */
  logger?: Logger;
  /** where internal events go (log line + `jaga_<name>_total` counter) */
  telemetry?: Telemetry;
}

/** One batch of rows in cursor order; `cursor` is the position after its last row (pass it to `ack`). */
export interface AppAccessBatch {
  sourceId: string;
  /** 1 to `batchRows` rows, ordered by (txid, id) */
  rows: AppAccessRow[];
  /** `"<txid>:<id>"` of the last row */
  cursor: string;
}

/** How long opening a connection may take, ms. */
const CONNECT_TIMEOUT_MS = 10_000;
/** How long closing a connection may take before it is abandoned, ms. */
const CLOSE_TIMEOUT_MS = 1_000;
/** Longest error text kept in a log line (errors here name SQL objects, never row values). */
const MAX_ERROR_CHARS = 200;

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}...` : text;
}

function sqlstateOf(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

/** Waits `ms`, or less when `signal` aborts (a retry backoff: notifications do not cut it short). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Reads application access events from the monitored database's `jaga_access_event` table (the SQL
 * in src/sources/sql/jaga-access-event.sql): LISTEN/NOTIFY wakes it, the table cursor is the truth.
 *
 * It reads everything past its cursor when iteration starts, after every (re)connect of the listening
 * connection, on every notification, and every `pollIntervalMs` without one. Reads happen only when
 * the consumer asks for the next batch (no read-ahead). The read position moves with every batch
 * yielded; the checkpoint (`checkpoint()`) moves only with `ack`, so a restart from it re-reads
 * exactly the batches that were yielded but never acknowledged.
 *
 * Why the cursor is commit-safe. Ids come from a sequence when the row is inserted, not when its
 * transaction commits, so a plain `id > last` cursor skips the rows of a transaction that commits
 * after a later one was read. Instead every row carries `txid` (xid8, the inserting transaction's
 * id, forced by a trigger) and the source reads `WHERE (txid, id) > cursor AND txid <
 * pg_snapshot_xmin(pg_current_snapshot()) ORDER BY txid, id`. The snapshot's xmin is the oldest
 * transaction id still running: every transaction below it has committed or aborted, and every
 * transaction that runs now or later has an id at or above it (ids are handed out in increasing
 * order). So the set of rows below xmin is final when read: no row can appear later at a position
 * the cursor has passed (never skipped), and (txid, id) is unique and strictly increasing along the
 * cursor, so a row is never read twice (never repeated). A transaction that stays open holds xmin
 * back: its rows, and the rows of transactions that started writing after it, are delivered once it
 * ends (later, never lost). Any long write transaction on the server (any database: xmin is
 * cluster-wide) delays delivery the same way; `pg_snapshot_xmin` ignores read-only sessions.
 *
 * Connections: one listening connection (`AppAccessListener`, application_name `jaga:<id>:listen`)
 * and one reading connection (`jaga:<id>:read`). Each gets a timed health query every
 * `healthCheckIntervalMs` (the reader a `SELECT 1` raced against `healthCheckTimeoutMs`); a
 * connection that fails it is dropped and reopened, then the source reads past its cursor. Failures
 * are reported as internal events and retried with capped backoff; nothing here throws after start.
 *
 * Internal events (label `source` = id): `app_access_listener_connected`, `app_access_listener_lost`,
 * `app_access_listener_connect_failed`, `app_access_health_check_failed` (label `connection`),
 * `app_access_read_failed`, `app_access_rows_read` (debug; counts rows).
 */
export class AppAccessSource {
  readonly id: string;
  private readonly url: string;
  private readonly pollIntervalMs: number;
  private readonly healthCheckIntervalMs: number;
  private readonly healthCheckTimeoutMs: number;
  private readonly readTimeoutMs: number;
  private readonly batchRows: number;
  private readonly listener: AppAccessListener;
  private readonly stopController = new AbortController();
  private readonly report: {
    connected: InternalEventReporter<'source'>;
    lost: InternalEventReporter<'source'>;
    connectFailed: InternalEventReporter<'source'>;
    healthFailed: InternalEventReporter<'source' | 'connection'>;
    readFailed: InternalEventReporter<'source'>;
    rowsRead: InternalEventReporter<'source'>;
  };
  private readCursor: AppAccessCursor;
  private acked: AppAccessCursor | null;
  private reader: pg.Client | null = null;
  private readerBusy: Promise<unknown> | null = null;
  private healthTimer: NodeJS.Timeout | null = null;
  private readonly wakeup = new Wakeup();
  private readFailures = 0;
  private started = false;
  private iterating = false;

  /**
   * Validates the options; connects nothing until `batches` is first iterated.
   * @throws ConfigError listing every bad option (non-positive durations or batch size, empty id or
   * url, a health timeout not below its interval, a `cursor` that is not `"<txid>:<id>"`).
   */
  constructor(options: AppAccessSourceOptions) {
    this.id = options.id;
    this.url = options.url;
    this.pollIntervalMs = options.pollIntervalMs ?? 5_000;
    this.healthCheckIntervalMs = options.healthCheckIntervalMs ?? 10_000;
    this.healthCheckTimeoutMs = options.healthCheckTimeoutMs ?? Math.min(3_000, Math.floor(this.healthCheckIntervalMs / 2));
    this.readTimeoutMs = options.readTimeoutMs ?? 30_000;
    this.batchRows = options.batchRows ?? 1_000;
    const problems: string[] = [];
    if (!this.id) problems.push('app access source: id must not be empty');
    if (!this.url) problems.push(`app access source ${this.id}: url must not be empty`);
    const positive = { pollIntervalMs: this.pollIntervalMs, healthCheckIntervalMs: this.healthCheckIntervalMs, healthCheckTimeoutMs: this.healthCheckTimeoutMs, readTimeoutMs: this.readTimeoutMs, batchRows: this.batchRows };
    for (const [name, value] of Object.entries(positive)) {
      if (!Number.isSafeInteger(value) || value <= 0) problems.push(`app access source ${this.id}: ${name} must be a positive integer, got ${value}`);
    }
    if (this.healthCheckTimeoutMs >= this.healthCheckIntervalMs) {
      problems.push(`app access source ${this.id}: healthCheckTimeoutMs (${this.healthCheckTimeoutMs}) must be below healthCheckIntervalMs (${this.healthCheckIntervalMs})`);
    }
    const saved = options.cursor == null ? null : parseAppAccessCursor(options.cursor);
    if (options.cursor != null && saved === null) problems.push(`app access source ${this.id}: checkpoint cursor is not "<txid>:<id>": ${JSON.stringify(options.cursor)}`);
    if (problems.length > 0) throw new ConfigError(problems[0] as string, problems);
    this.acked = saved;
    this.readCursor = saved ?? APP_ACCESS_CURSOR_START;

    const telemetry = options.telemetry ?? new Telemetry(options.logger ?? createSilentLogger());
    this.report = {
      connected: telemetry.declare({ name: 'app_access_listener_connected', help: 'App access source: LISTEN active on a new connection.', level: 'info', labels: ['source'] }),
      lost: telemetry.declare({ name: 'app_access_listener_lost', help: 'App access source: listening connection lost or failed its health query.', level: 'warn', labels: ['source'] }),
      connectFailed: telemetry.declare({ name: 'app_access_listener_connect_failed', help: 'App access source: a listening connection attempt failed.', level: 'warn', labels: ['source'] }),
      healthFailed: telemetry.declare({ name: 'app_access_health_check_failed', help: 'App access source: a timed health query failed; the connection was dropped.', level: 'warn', labels: ['source', 'connection'] }),
      readFailed: telemetry.declare({ name: 'app_access_read_failed', help: 'App access source: reading the access-event table failed; retried with backoff.', level: 'warn', labels: ['source'] }),
      rowsRead: telemetry.declare({ name: 'app_access_rows_read', help: 'App access source: rows read from the access-event table.', level: 'debug', labels: ['source'] }),
    };
    const source = { source: this.id };
    this.listener = new AppAccessListener({
      url: this.url,
      applicationName: `jaga:${this.id}:listen`,
      healthCheckIntervalMs: this.healthCheckIntervalMs,
      healthCheckTimeoutMs: this.healthCheckTimeoutMs,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      events: {
        onWake: () => this.wakeup.notify(),
        onConnected: () => this.report.connected(source),
        onLost: (error) => this.report.lost(source, { error: errorText(error) }),
        onConnectFailed: (error, retryInMs) => this.report.connectFailed(source, { error: errorText(error), retry_in_ms: retryInMs }),
      },
    });
  }

  /** True while the LISTEN is active (for a gauge); reads go on by polling while it is false. */
  get connected(): boolean {
    return this.listener.connected;
  }

  /**
   * Yields batches of committed rows past the read position, in (txid, id) order, each row once per
   * process. Waits (notification, reconnect, or `pollIntervalMs`) when caught up; reads the next page
   * only when the consumer asks. Ends when `signal` aborts or `stop()` is called. One iteration at a
   * time. Read errors are reported and retried with backoff, never thrown.
   * @throws Error when another iteration of this source is still running.
   */
  async *batches(signal: AbortSignal): AsyncIterable<AppAccessBatch> {
    if (this.iterating) throw new Error(`app access source ${this.id}: batches() is already being iterated`);
    this.iterating = true;
    const done = AbortSignal.any([signal, this.stopController.signal]);
    try {
      this.start();
      let caughtUp = false;
      while (!done.aborted) {
        // A notification that arrived during the last read makes this return at once.
        if (caughtUp) await this.wakeup.wait(this.pollIntervalMs, done);
        if (done.aborted) break;
        const page = await this.readPage();
        if (!Array.isArray(page)) {
          caughtUp = false;
          await pause(page.retryInMs, done);
          continue;
        }
        if (page.length === 0) {
          caughtUp = true;
          continue;
        }
        this.report.rowsRead({ source: this.id }, undefined, page.length);
        const last = page[page.length - 1] as AppAccessRow;
        this.readCursor = { txid: BigInt(last.txid), id: BigInt(last.id) };
        caughtUp = page.length < this.batchRows;
        yield { sourceId: this.id, rows: page, cursor: formatAppAccessCursor(this.readCursor) };
      }
    } finally {
      this.iterating = false;
    }
  }

  /**
   * Acknowledges everything up to and including `cursor` (a batch's `cursor`, once the batch is
   * durably handled). Older cursors than the current checkpoint are ignored.
   * @throws RangeError when `cursor` is not `"<txid>:<id>"`.
   */
  ack(cursor: string): void {
    const parsed = parseAppAccessCursor(cursor);
    if (!parsed) throw new RangeError(`app access source ${this.id}: not a cursor: ${JSON.stringify(cursor)}`);
    if (this.acked === null || compareAppAccessCursors(parsed, this.acked) > 0) this.acked = parsed;
  }

  /** The last acknowledged cursor (`"<txid>:<id>"`), or the constructor's, or null: what the store saves. */
  checkpoint(): string | null {
    return this.acked === null ? null : formatAppAccessCursor(this.acked);
  }

  /** Ends iteration, stops the timers and closes both connections. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopController.signal.aborted) return;
    this.stopController.abort();
    if (this.healthTimer) clearInterval(this.healthTimer);
    this.healthTimer = null;
    await Promise.all([this.listener.stop(), this.dropReader()]);
  }

  private start(): void {
    if (this.started || this.stopController.signal.aborted) return;
    this.started = true;
    this.listener.start();
    this.healthTimer = setInterval(() => void this.checkReader(), this.healthCheckIntervalMs);
  }

  /** The next page past the read position, or the delay before retrying after a failure. */
  private async readPage(): Promise<AppAccessRow[] | { retryInMs: number }> {
    try {
      // A health query may be running on the reader; it may also drop the reader, so wait first.
      if (this.readerBusy) await this.readerBusy.catch(() => undefined);
      const client = await this.readerClient();
      const query = client.query<AppAccessRow>(APP_ACCESS_PAGE_QUERY, [this.readCursor.txid.toString(), this.readCursor.id.toString(), this.batchRows]);
      this.readerBusy = query;
      const result = await query;
      this.readFailures = 0;
      return result.rows;
    } catch (error) {
      this.readerBusy = null;
      await this.dropReader();
      if (this.stopController.signal.aborted) return { retryInMs: 0 };
      this.readFailures += 1;
      const retryInMs = reconnectDelayMs(this.readFailures);
      this.report.readFailed({ source: this.id }, { error: errorText(error), sqlstate: sqlstateOf(error), retry_in_ms: retryInMs });
      return { retryInMs };
    } finally {
      this.readerBusy = null;
    }
  }

  private async readerClient(): Promise<pg.Client> {
    if (this.reader) return this.reader;
    const client = new pg.Client({
      connectionString: this.url,
      application_name: `jaga:${this.id}:read`,
      query_timeout: this.readTimeoutMs,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
    });
    // An idle client whose connection dies emits 'error'; the next read reconnects.
    client.on('error', () => {
      if (this.reader === client) this.reader = null;
    });
    try {
      await client.connect();
    } catch (error) {
      void client.end().catch(() => undefined);
      throw error;
    }
    this.reader = client;
    return client;
  }

  /** Runs the reader's timed `SELECT 1` when it is idle; drops the connection when it fails. */
  private async checkReader(): Promise<void> {
    const client = this.reader;
    if (!client || this.readerBusy) return;
    let timer: NodeJS.Timeout | undefined;
    const check = client.query('SELECT 1');
    this.readerBusy = check;
    try {
      await Promise.race([
        check,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`health query timed out after ${this.healthCheckTimeoutMs} ms`)), this.healthCheckTimeoutMs);
        }),
      ]);
    } catch (error) {
      if (this.stopController.signal.aborted || this.reader !== client) return;
      this.report.healthFailed({ source: this.id, connection: 'reader' }, { error: errorText(error) });
      await this.dropReader();
      this.wakeup.notify();
    } finally {
      clearTimeout(timer);
      if (this.readerBusy === check) this.readerBusy = null;
    }
  }

  /** Closes the reading connection (forcibly when a query is stuck on it); never rejects. */
  private async dropReader(): Promise<void> {
    const client = this.reader;
    this.reader = null;
    if (!client) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      // An error while closing means the socket is already gone, which is the goal.
      client.end().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
  }
}

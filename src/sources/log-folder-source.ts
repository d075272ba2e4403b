import { readdir } from 'node:fs/promises';
import { createSilentLogger, type Logger } from '../observe/logger.js';
import { Telemetry, type InternalEventReporter } from '../observe/telemetry.js';
import type { FileCheckpoint } from './file-checkpoint.js';
import type { FileChunk } from './file-chunk.js';
import { fileNameGlob } from './file-name-glob.js';
import { FileRegistry, type ReadStep } from './file-registry.js';
import { FolderWatchHints } from './folder-watch-hints.js';
import { DEFAULT_GLOB_BY_DESTINATION, pickLogDestination, type LogDestination } from './log-destination.js';
import { scanFolder, type ScannedFile } from './scanned-file.js';
import { Wakeup } from './wakeup.js';

/** Options of a log folder source. */
export interface LogFolderSourceOptions {
  /** source name (the server it watches): stamped on chunks, used as the `source` metric label */
  id: string;
  /** the PostgreSQL `log_directory` to follow */
  dir: string;
  /** base-name glob of the files to read; default by format (`*.log`, `*.csv`, `*.json`) */
  glob?: string;
  /** the destination written there; `auto` picks one present in the folder (see `pickLogDestination`) */
  format: LogDestination | 'auto';
  /** where to start in files never seen before that are present at the first scan (default `beginning`) */
  startAt?: 'beginning' | 'end';
  /** period of the folder re-scan, the truth behind the watch hints, ms (default 1000) */
  rescanIntervalMs?: number;
  /** largest read and largest data chunk, bytes (default 1 MiB) */
  chunkBytes?: number;
  /** positions saved by a previous run (`checkpoints()`): known files resume there */
  checkpoints?: FileCheckpoint[];
  logger?: Logger;
  telemetry?: Telemetry;
}

/** Default re-scan period, ms. */
export const DEFAULT_RESCAN_INTERVAL_MS = 1000;
/** Default chunk size, bytes: 1 MiB (a backlog is read in ~16x fewer reads, head checks and batches than with 64 KiB; a read returns what is there, so tailing is not delayed). */
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;

/**
 * Follows the log files of one PostgreSQL log folder through every rotation scheme (new file by
 * time or size, truncate-in-place to a reused name, copytruncate, rename + create, deletion while
 * being read) and yields their complete lines in bounded chunks, older files first. It does not
 * parse records: framers do, and the pipeline acknowledges positions back with `ack`.
 *
 * Pull-based: a chunk is read only when the consumer asks for the next one, so memory stays at
 * about one chunk whatever the backlog. Watch events only wake the reader early; a re-scan every
 * `rescanIntervalMs` is the truth. A file is identified by its FileFingerprint (with (dev, ino)
 * deciding between equal heads), never by its name; a file whose first line is incomplete waits.
 *
 * Limits (inherent to the schemes): a copytruncate copy is continued only when its name matches the
 * glob (e.g. logrotate `dateext` + `extension .log`), else lines written between the last read and
 * the truncation are lost; truncate-in-place loses what was not read before the truncation; a
 * partial last line of a file that stays in the folder is held until completed (it is delivered in
 * the `end` chunk only when the file leaves the folder (a truncated file's partial line is gone with its content).
 * Order: lines of one file are yielded in file order; files are read oldest first (by discovery,
 * files found in the same scan by mtime), which keeps records in order except when a file is
 * copied and truncated before the source ever saw it (its copy can only be found after it).
 * `auto` decides once, at the first scan that finds a `.csv`, `.json` or `.log` file.
 *
 * Telemetry: `log_file` events (labels `source`, `event` = discovered | rotated | truncated | gone |
 * dropped; path and offsets as log fields) and `log_source_error` (labels `source`, `operation`,
 * `code`).
 *
 * Example: `for await (const c of new LogFolderSource({id: 'pg1', dir: '/var/log/postgresql',
 * format: 'auto'}).chunks(signal)) if (c.type === 'data') framer.push(c.bytes)`.
 */
export class LogFolderSource {
  readonly id: string;
  private readonly options: LogFolderSourceOptions;
  private readonly rescanIntervalMs: number;
  private readonly registry: FileRegistry;
  private readonly logger: Logger;
  private readonly fileEvent: InternalEventReporter<'source' | 'event'>;
  private readonly sourceError: InternalEventReporter<'source' | 'operation' | 'code'>;
  private readonly wakeup = new Wakeup();
  private readonly stopController = new AbortController();
  private readonly hints: FolderWatchHints;
  private matcher: ((name: string) => boolean) | null = null;
  private resolved: LogDestination | null = null;
  private scanRequested = true;
  private checkRequested = false;
  private started = false;
  private waitingLogged = false;
  private cleanup: Promise<void> | null = null;
  private lastScanOk = true;

  /** @throws Error when `chunkBytes` or `rescanIntervalMs` is not a positive number or `glob` is invalid. */
  constructor(options: LogFolderSourceOptions) {
    this.options = options;
    this.id = options.id;
    this.rescanIntervalMs = options.rescanIntervalMs ?? DEFAULT_RESCAN_INTERVAL_MS;
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!(chunkBytes > 0) || !(this.rescanIntervalMs > 0)) throw new Error('chunkBytes and rescanIntervalMs must be positive');
    this.logger = options.logger ?? options.telemetry?.logger ?? createSilentLogger();
    const telemetry = options.telemetry ?? new Telemetry(this.logger);
    this.fileEvent = telemetry.declare({ name: 'log_file', help: 'Log file lifecycle events of log folder sources.', level: 'info', labels: ['source', 'event'] });
    this.sourceError = telemetry.declare({ name: 'log_source_error', help: 'File system errors of log folder sources (retried at the next scan).', level: 'warn', labels: ['source', 'operation', 'code'] });
    const userGlob = options.glob === undefined ? null : fileNameGlob(options.glob);
    if (options.format !== 'auto') {
      this.resolved = options.format;
      this.matcher = userGlob ?? fileNameGlob(DEFAULT_GLOB_BY_DESTINATION[options.format]);
    }
    const anyLog = fileNameGlob('*.{log,csv,json}');
    this.registry = new FileRegistry({
      startAt: options.startAt ?? 'beginning',
      chunkBytes,
      checkpoints: options.checkpoints ?? [],
      idleCloseMs: Math.max(30_000, 10 * this.rescanIntervalMs),
      retiredKeepMs: Math.max(300_000, 10 * this.rescanIntervalMs),
    });
    this.hints = new FolderWatchHints(
      options.dir,
      (name) => (this.matcher ?? userGlob ?? anyLog)(name),
      (hint) => {
        if (hint === 'scan') this.scanRequested = true;
        else this.checkRequested = true;
        this.wakeup.notify();
      },
      (error) => this.reportError('watch', error),
    );
  }

  /** Bytes of the tracked files not read yet (sum of last size seen − read offset), bytes; read-only, for `jaga_source_lag_bytes`. */
  get lagBytes(): number {
    return this.registry.lagBytes;
  }

  /** False while the last listing of the folder failed (missing, EACCES, ...); true before the first and after a good one. Read-only, for `jaga_source_up`. */
  get folderReadable(): boolean {
    return this.lastScanOk;
  }

  /** The destination being read: the configured one, or what `auto` picked (null until it has). */
  get destination(): LogDestination | null {
    return this.resolved;
  }

  /**
   * Yields the folder's chunks until `signal` aborts or `stop()` is called. Call once per source.
   * File system errors are reported (`log_source_error`) and retried at the next scan, never thrown.
   * @throws Error when called a second time.
   */
  async *chunks(signal: AbortSignal): AsyncGenerator<FileChunk> {
    if (this.started) throw new Error(`log folder source ${this.id}: chunks() may be called once`);
    this.started = true;
    const stopSignal = AbortSignal.any([signal, this.stopController.signal]);
    this.hints.start();
    let nextScanAtMs = 0;
    try {
      while (!stopSignal.aborted) {
        if (this.scanRequested || Date.now() >= nextScanAtMs) {
          this.scanRequested = false;
          this.checkRequested = false;
          await this.scan();
          nextScanAtMs = Date.now() + this.rescanIntervalMs;
        } else if (this.checkRequested) {
          this.checkRequested = false;
          if (await this.guard('read', () => this.registry.refreshSizes(Date.now()), false)) this.scanRequested = true;
        }
        if (stopSignal.aborted) break;
        const step = await this.guard('read', () => this.registry.next(Date.now()), null);
        if (step === 'replaced') {
          this.scanRequested = true;
          continue;
        }
        if (step) {
          yield this.toChunk(step);
          continue;
        }
        for (const file of this.registry.takeIdle()) {
          yield { type: 'idle', sourceId: this.id, path: file.path, fingerprint: file.identity };
        }
        await this.wakeup.wait(nextScanAtMs - Date.now(), stopSignal);
      }
    } finally {
      await this.close();
    }
  }

  /** Records that the records before `position.offset` (bytes) of file `position.fingerprint` are committed. */
  ack(position: { fingerprint: string; offset: number }): void {
    if (!this.registry.ack(position.fingerprint, position.offset)) {
      this.logger.debug('ack for an unknown log file', { source: this.id, fingerprint: position.fingerprint, offset: position.offset });
    }
  }

  /** Acknowledged positions of the files still relevant (present, being drained, or dropped recently), for the store. */
  checkpoints(): FileCheckpoint[] {
    return this.registry.checkpoints();
  }

  /** Stops `chunks()` and releases the watcher and file descriptors. */
  async stop(): Promise<void> {
    this.stopController.abort();
    this.wakeup.notify();
    await this.close();
  }

  private close(): Promise<void> {
    this.cleanup ??= (async () => {
      await this.hints.close();
      await this.registry.closeAll();
    })();
    return this.cleanup;
  }

  private toChunk(step: ReadStep): FileChunk {
    const base = { sourceId: this.id, path: step.file.path, fingerprint: step.file.identity, offset: step.offset, bytes: step.bytes };
    if (step.kind === 'data') return { type: 'data', ...base };
    this.fileEvent({ source: this.id, event: 'dropped' }, { path: step.file.path, fingerprint: step.file.identity, offset: step.offset + step.bytes.length, partial_bytes: step.bytes.length });
    return { type: 'end', ...base };
  }

  /** Decides the destination when `auto`, then lists the folder and reconciles the files. */
  private async scan(): Promise<void> {
    if (!this.matcher) {
      const names = await this.guard('scan', () => readdir(this.options.dir), null);
      this.lastScanOk = names !== null;
      if (names === null) return;
      const userGlob = this.options.glob === undefined ? null : fileNameGlob(this.options.glob);
      const picked = pickLogDestination(userGlob ? names.filter(userGlob) : names);
      if (!picked) {
        if (!this.waitingLogged) this.logger.info('log folder holds no log file yet', { source: this.id, dir: this.options.dir });
        this.waitingLogged = true;
        return;
      }
      this.resolved = picked;
      this.matcher = userGlob ?? fileNameGlob(DEFAULT_GLOB_BY_DESTINATION[picked]);
      this.logger.info('log destination picked', { source: this.id, dir: this.options.dir, destination: picked, glob: this.options.glob ?? DEFAULT_GLOB_BY_DESTINATION[picked] });
    }
    const matcher = this.matcher;
    const scanned = await this.guard('scan', () => scanFolder(this.options.dir, matcher), null);
    this.lastScanOk = scanned !== null;
    if (!scanned) return;
    const listAgain = (): Promise<ScannedFile[]> => scanFolder(this.options.dir, matcher);
    const changes = await this.guard('scan', () => this.registry.reconcile(scanned, Date.now(), listAgain), []);
    for (const change of changes) {
      this.fileEvent({ source: this.id, event: change.event }, { path: change.path, fingerprint: change.identity, ...change.fields });
    }
    if (this.registry.wantsRelist) this.scanRequested = true;
  }

  /** Runs a file system operation; an error is reported and `fallback` returned (retried at the next scan). */
  private async guard<T>(operation: 'scan' | 'read', run: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (this.stopController.signal.aborted) return fallback;
      this.reportError(operation, error);
      return fallback;
    }
  }

  private reportError(operation: 'scan' | 'read' | 'watch', error: unknown): void {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    this.sourceError(
      { source: this.id, operation, code: typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : 'other' },
      { dir: this.options.dir, error: error instanceof Error ? error.message : String(error) },
    );
  }
}

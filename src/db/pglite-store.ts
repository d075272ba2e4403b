import { PGlite } from '@electric-sql/pglite';
import { readdir, readFile, rm, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { StoreError } from '../domain/errors.js';
import type { Logger } from '../observe/logger.js';
import { GuardedTransaction, statementLabel } from './guarded-transaction.js';
import { PgliteTemplate } from './pglite-template.js';
import type { Store, StoreTransaction } from './store.js';
import { StoreLock } from './store-lock.js';
import { toStoreError } from './to-store-error.js';
import { makeFolder } from '../lib/make-folder.js';

/** Sub-folder of the data folder holding PGlite's PostgreSQL data directory (next to `store.lock`). */
export const PGLITE_SUBDIR = 'pglite';

/** Options of `PgliteStore.open`. */
export interface PgliteStoreOptions {
  /** jaga's data folder (created when missing); holds `store.lock` and the `pglite/` data directory */
  dataDir: string;
  /** where lock takeovers and stale postmaster.pid removals are reported */
  logger?: Logger;
  /** recorded in the lock file as `command`; default `<node binary name> <script name>` */
  command?: string;
  /** folder of the cached initdb template (see `PgliteTemplate`); default `defaultTemplateCacheDir()` */
  templateCacheDir?: string;
  /** create a new cluster from the cached template; default true (false runs initdb in WASM, 9-40 s) */
  useTemplate?: boolean;
}

/** Options of `PgliteStore.openMemory`: those of `open` that apply without a folder. */
export type PgliteMemoryStoreOptions = Pick<PgliteStoreOptions, 'logger' | 'templateCacheDir' | 'useTemplate'>;

/**
 * The embedded store: PGlite 0.5 (PostgreSQL compiled to WASM, running in this process) on a local
 * data folder (`open`), or in memory without one (`openMemory`). Opening a folder takes its exclusive
 * `StoreLock` first, so a second process fails with an error naming the holder; the lock is released
 * on close.
 *
 * A new cluster (memory, or a folder whose `pglite/` is missing or empty) is loaded from the cached
 * initdb template (`PgliteTemplate`, ~1.5 s) rather than running initdb (9-40 s). When PGlite fails to
 * start from the template, the cache file is deleted (log line `pglite_template_load_failed`) and the
 * cluster is initialised by initdb instead. An existing folder opens as before.
 *
 * postmaster.pid: PGlite 0.5.17 writes `<dataDir>/pglite/postmaster.pid` (pid field -42) while open and
 * removes it on close, so one is left behind after kill -9. This PGlite version starts regardless, but
 * holding the lock proves no other jaga has the folder open, so a leftover file is stale and is
 * removed (log line `store_stale_postmaster_pid_removed`) before PGlite starts: a PGlite release that
 * honours the file will not refuse to start after a crash.
 */
export class PgliteStore implements Store {
  readonly driver = 'pglite' as const;
  private closed = false;

  private constructor(
    private readonly db: PGlite,
    /** the data folder's lock; null for an in-memory store */
    private readonly lock: StoreLock | null,
    /** absolute path of jaga's data folder; null for an in-memory store */
    readonly dataDir: string | null,
  ) {}

  /**
   * Locks the folder and starts PGlite on it (a new folder is created from the initdb template).
   * @throws StoreError (permanent) when another live process holds the lock (message names its pid,
   *   host, start time and command), or when PGlite cannot start on the folder.
   */
  static async open(options: PgliteStoreOptions): Promise<PgliteStore> {
    const dataDir = resolve(options.dataDir);
    await makeFolder(dataDir);
    const lock = await StoreLock.acquire(dataDir, { logger: options.logger, command: options.command });
    try {
      const pgliteDir = join(dataDir, PGLITE_SUBDIR);
      await removeStalePostmasterPid(pgliteDir, options.logger);
      const isNew = options.useTemplate !== false && (await isMissingOrEmpty(pgliteDir));
      const db = isNew
        ? await createFromTemplate(options, (tarball) => PGlite.create({ dataDir: pgliteDir, loadDataDir: tarball }), async () => {
            await rm(pgliteDir, { recursive: true, force: true }); // it was missing or empty: only the failed load is lost
            return PGlite.create({ dataDir: pgliteDir });
          })
        : await PGlite.create({ dataDir: pgliteDir });
      return new PgliteStore(db, lock, dataDir);
    } catch (error) {
      await lock.release();
      throw toStoreError(error, `open embedded store ${dataDir}`);
    }
  }

  /**
   * Starts PGlite in memory, without a folder or lock: for runs whose state may vanish with the process
   * (`jaga replay`, tests). Everything is lost on close. The cluster comes from the initdb template
   * unless `useTemplate` is false.
   * @throws StoreError when PGlite cannot start.
   */
  static async openMemory(options: PgliteMemoryStoreOptions = {}): Promise<PgliteStore> {
    try {
      const db =
        options.useTemplate === false
          ? await PGlite.create()
          : await createFromTemplate(options, (tarball) => PGlite.create({ loadDataDir: tarball }), () => PGlite.create());
      return new PgliteStore(db, null, null);
    } catch (error) {
      throw toStoreError(error, 'open in-memory store');
    }
  }

  /** @throws StoreError */
  async query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    this.assertOpen();
    try {
      const result = await this.db.query<T>(sql, params as unknown[] | undefined);
      return result.rows;
    } catch (error) {
      throw toStoreError(error, statementLabel(sql));
    }
  }

  /**
   * PGlite runs one transaction at a time; statements issued outside it wait until it ends.
   * @throws StoreError for BEGIN/COMMIT failures and failed statements; other errors of `fn` as thrown.
   */
  async transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    this.assertOpen();
    let guarded: GuardedTransaction | undefined;
    try {
      return await this.db.transaction(async (raw) => {
        guarded = new GuardedTransaction({
          query: async (sql, params) => (await raw.query(sql, params as unknown[] | undefined)).rows,
          exec: async (sql) => {
            await raw.exec(sql);
          },
        });
        try {
          const result = await fn(guarded);
          await guarded.assertCommittable();
          return result;
        } finally {
          guarded.finish();
        }
      });
    } catch (error) {
      // Errors of `fn` (already StoreError or the caller's own) pass unchanged; BEGIN/COMMIT failures are mapped.
      if (guarded === undefined || isDatabaseLevel(error)) throw toStoreError(error, guarded === undefined ? 'begin' : 'commit');
      throw error;
    }
  }

  /** Stops PGlite (flushing to the folder) and releases the lock. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.db.close();
    } finally {
      await this.lock?.release();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('store is closed', false);
  }
}

/** A raw driver error (has a SQLSTATE and severity) rather than a StoreError or the caller's own error. */
function isDatabaseLevel(error: unknown): boolean {
  return typeof error === 'object' && error !== null && !(error instanceof StoreError) && typeof (error as { severity?: unknown }).severity === 'string';
}

/**
 * Starts PGlite with `load(template tarball)`; when that fails, discards the cache file, reports
 * `pglite_template_load_failed` (with the error's name only) and returns `fallback()` (initdb).
 */
async function createFromTemplate(
  options: PgliteMemoryStoreOptions,
  load: (tarball: Blob) => Promise<PGlite>,
  fallback: () => Promise<PGlite>,
): Promise<PGlite> {
  const template = await PgliteTemplate.obtain({ cacheDir: options.templateCacheDir, logger: options.logger });
  try {
    return await load(template.tarball);
  } catch (error) {
    options.logger?.warn('pglite_template_load_failed', {
      event: 'pglite_template_load_failed',
      path: template.path,
      origin: template.origin,
      error: error instanceof Error ? error.name : typeof error,
    });
    await template.discard();
    return fallback();
  }
}

/** True when `dir` does not exist or has no entries. */
async function isMissingOrEmpty(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

/** Removes `<pgliteDir>/postmaster.pid` when present; the caller holds the folder's lock. */
async function removeStalePostmasterPid(pgliteDir: string, logger: Logger | undefined): Promise<void> {
  const path = join(pgliteDir, 'postmaster.pid');
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  await unlink(path);
  const recordedPid = Number(content.split('\n', 1)[0]);
  logger?.warn('store_stale_postmaster_pid_removed', {
    event: 'store_stale_postmaster_pid_removed',
    path,
    recordedPid: Number.isFinite(recordedPid) ? recordedPid : null,
  });
}

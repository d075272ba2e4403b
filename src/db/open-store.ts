import { ConfigError } from '../domain/errors.js';
import { isPostgresUrl, POSTGRES_URL_MESSAGE } from '../lib/postgres-url.js';
import type { Logger } from '../observe/logger.js';
import { PgStore } from './pg-store.js';
import { PgliteStore } from './pglite-store.js';
import { runMigrations } from './run-migrations.js';
import type { Store } from './store.js';

/** Where the store lives: a PostgreSQL URL, else an embedded PGlite data folder. */
export interface OpenStoreOptions {
  /** PostgreSQL 13+ connection URL; when given, the `pg` driver is used and `dataDir` is ignored */
  url?: string;
  /** jaga's data folder for the embedded store (holds `store.lock` and `pglite/`) */
  dataDir?: string;
  /** an embedded store in memory (no folder, nothing kept after close), e.g. for `jaga replay`; wins over `url` and `dataDir` */
  memory?: boolean;
  logger?: Logger;
  /** apply pending migrations before returning; default true */
  migrate?: boolean;
  /** folder of migration files; default the shipped `./migrations/` */
  migrationsFolder?: URL;
  /** embedded store only: folder of the cached PGlite initdb template; default `defaultTemplateCacheDir()` (src/db/pglite-template.ts) */
  templateCacheDir?: string;
}

/**
 * Opens jaga's store: an in-memory `PgliteStore` when `memory` is true, else `PgStore` when `url` is
 * given, else `PgliteStore` in `dataDir`; then applies
 * pending migrations (unless `migrate: false`). On a migration failure the store is closed again.
 *
 * @throws ConfigError when none of `memory`, `url` and `dataDir` is given, or `url` is not a PostgreSQL URL (postgres:// or postgresql:// with a host).
 * @throws StoreError from connecting, locking the embedded folder, or migrating.
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  let store: Store;
  if (options.memory === true) {
    store = await PgliteStore.openMemory({ logger: options.logger, templateCacheDir: options.templateCacheDir });
  } else if (options.url !== undefined && options.url !== '') {
    if (!isPostgresUrl(options.url)) throw new ConfigError(`store: ${POSTGRES_URL_MESSAGE}`);
    store = await PgStore.open({ url: options.url, logger: options.logger });
  } else if (options.dataDir !== undefined && options.dataDir !== '') {
    store = await PgliteStore.open({ dataDir: options.dataDir, logger: options.logger, templateCacheDir: options.templateCacheDir });
  } else {
    throw new ConfigError('store: give a PostgreSQL connection URL or a data folder for the embedded store');
  }
  if (options.migrate === false) return store;
  try {
    await runMigrations(store, { folder: options.migrationsFolder, logger: options.logger });
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

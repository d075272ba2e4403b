import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { openStore, type OpenStoreOptions } from '../../src/db/open-store.js';
import { PgliteStore } from '../../src/db/pglite-store.js';
import type { Store, StoreDriver } from '../../src/db/store.js';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';

/** Both drivers, for `describe.each(DRIVERS)`. */
export const DRIVERS: StoreDriver[] = ['pg', 'pglite'];

/** Where a fresh, empty store lives: a new database on the file's cluster, or a new PGlite data folder. */
export type StoreTarget = { url: string; dataDir?: undefined } | { dataDir: string; url?: undefined };

/** Fresh stores on both drivers for one test file. */
export interface StoreHarness {
  /** the file's PostgreSQL 15 cluster */
  readonly cluster: PgCluster;
  /** a new empty target for the driver (pg: `CREATE DATABASE`; pglite: a copy of an initdb'ed folder) */
  target(driver: StoreDriver): Promise<StoreTarget>;
  /** `openStore` on a new target (migrated unless `migrate: false`); closed after the file */
  open(driver: StoreDriver, options?: Omit<OpenStoreOptions, 'url' | 'dataDir'>): Promise<Store>;
  /** a new temp folder removed after the file */
  tempDir(): Promise<string>;
}

/**
 * Registers beforeAll/afterAll hooks: one cluster per file, and one PGlite folder initialised once and
 * copied for every fresh embedded store (PGlite's initdb takes several seconds). `pg: false` skips the
 * cluster for files that test the embedded store only.
 */
export function useStoreHarness(options: { pg?: boolean } = {}): StoreHarness {
  let cluster: PgCluster | undefined;
  let template = '';
  let databases = 0;
  const folders: string[] = [];
  const stores: Store[] = [];

  const tempDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'jaga-db-'));
    folders.push(dir);
    return dir;
  };

  beforeAll(async () => {
    if (options.pg !== false) cluster = await startPgCluster();
    template = await tempDir();
    const store = await PgliteStore.open({ dataDir: template });
    await store.close();
  });

  afterAll(async () => {
    for (const store of stores) await store.close();
    await cluster?.stop();
    for (const dir of folders) await rm(dir, { recursive: true, force: true });
  });

  const harness: StoreHarness = {
    get cluster(): PgCluster {
      if (!cluster) throw new Error('cluster not started yet: use the harness inside tests');
      return cluster;
    },
    async target(driver) {
      if (driver === 'pg') {
        databases += 1;
        const database = `jaga_test_${databases}`;
        await harness.cluster.query(`CREATE DATABASE ${database}`);
        return { url: harness.cluster.url({ database }) };
      }
      const dataDir = await tempDir();
      await cp(template, dataDir, { recursive: true });
      return { dataDir };
    },
    async open(driver, options = {}) {
      const store = await openStore({ ...(await harness.target(driver)), ...options });
      stores.push(store);
      return store;
    },
    tempDir,
  };
  return harness;
}

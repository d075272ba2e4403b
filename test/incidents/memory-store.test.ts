import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMigrations } from '../../src/db/run-migrations.js';
import { openStore } from '../../src/db/open-store.js';
import { PgliteStore } from '../../src/db/pglite-store.js';
import { StoreError } from '../../src/domain/errors.js';
import { IncidentRepository } from '../../src/incidents/incident-repository.js';
import { detection } from './detection-factory.js';

const scratch = await mkdtemp(join(tmpdir(), 'jaga-memory-'));
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('openStore({ memory: true })', () => {
  it('runs an embedded store without a folder: migrated, incidents upserted, nothing written to disk', async () => {
    const unused = join(scratch, 'never-created');
    const store = await openStore({ memory: true, dataDir: unused });
    try {
      expect(store.driver).toBe('pglite');
      expect(store).toBeInstanceOf(PgliteStore);
      expect((store as PgliteStore).dataDir).toBeNull();
      const applied = await store.query<{ name: string }>('SELECT name FROM jaga_migration ORDER BY version');
      expect(applied.map((row) => row.name)).toEqual((await loadMigrations()).map((m) => m.name));
      const repo = new IncidentRepository(store);
      const opened = await store.transaction((tx) => repo.upsert(tx, detection()));
      const merged = await store.transaction((tx) => repo.upsert(tx, detection({ id: 'det-2', count: 5 })));
      expect([opened.outcome, merged.outcome, merged.incident.count, merged.incident.version]).toEqual(['opened', 'updated', 15, 2]);
      await expect(access(unused)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await store.close();
    }
  });

  it('gives each call its own database, gone after close', async () => {
    const first = await openStore({ memory: true });
    const second = await openStore({ memory: true });
    try {
      await first.transaction((tx) => new IncidentRepository(first).upsert(tx, detection()));
      expect(await first.query('SELECT count(*)::int AS n FROM jaga_incident')).toEqual([{ n: 1 }]);
      expect(await second.query('SELECT count(*)::int AS n FROM jaga_incident')).toEqual([{ n: 0 }]);
    } finally {
      await first.close();
      await second.close();
    }
    await first.close();
    await expect(first.query('SELECT 1')).rejects.toThrow(StoreError);
    await expect(first.query('SELECT 1')).rejects.toThrow('store is closed');
  });
});

import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/domain/errors.js';
import { openStore } from '../../src/db/open-store.js';
import { PgStore } from '../../src/db/pg-store.js';
import { defaultMigrationsFolder, loadMigrations, runMigrations } from '../../src/db/run-migrations.js';
import { DRIVERS, useStoreHarness } from './store-harness.js';

const harness = useStoreHarness();

/** A temp folder of migration files (name → SQL) and its URL. */
async function migrationFolder(files: Record<string, string>): Promise<{ dir: string; url: URL }> {
  const dir = await harness.tempDir();
  for (const [name, sql] of Object.entries(files)) await writeFile(join(dir, name), sql);
  return { dir, url: pathToFileURL(`${dir}/`) };
}

async function caught(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

describe('loadMigrations', () => {
  it('reads the shipped folder in version order with SHA-256 checksums of the file text', async () => {
    const migrations = await loadMigrations();
    const text = await readFile(new URL('0001_checkpoints.sql', defaultMigrationsFolder()), 'utf8');
    expect(migrations[0]).toEqual({ version: 1, name: '0001_checkpoints', sql: text, checksum: createHash('sha256').update(text).digest('hex') });
  });

  it('gives a CRLF checkout the same checksum as the LF original', async () => {
    const lf = await migrationFolder({ '0001_a.sql': 'CREATE TABLE jaga_a (id int);\nCREATE TABLE jaga_b (id int);\n' });
    const crlf = await migrationFolder({ '0001_a.sql': 'CREATE TABLE jaga_a (id int);\r\nCREATE TABLE jaga_b (id int);\r\n' });
    expect((await loadMigrations(crlf.url))[0]!.checksum).toBe((await loadMigrations(lf.url))[0]!.checksum);
  });

  it('refuses a misnamed .sql file and a duplicated version, ignoring other files', async () => {
    const misnamed = await migrationFolder({ '0001_ok.sql': 'SELECT 1;', '2_bad.sql': 'SELECT 1;', 'README.md': 'notes' });
    expect((await caught(loadMigrations(misnamed.url))).message).toBe('migration file 2_bad.sql is misnamed: expected NNNN_snake_case_name.sql');
    const duplicated = await migrationFolder({ '0001_a.sql': 'SELECT 1;', '0001_b.sql': 'SELECT 1;' });
    expect((await caught(loadMigrations(duplicated.url))).message).toBe('migration version 0001 is used by two files');
    const onlyOthers = await migrationFolder({ '0001_ok.sql': 'SELECT 1;', 'notes.txt': 'x' });
    expect((await loadMigrations(onlyOthers.url)).map((m) => m.name)).toEqual(['0001_ok']);
  });
});

describe.each(DRIVERS)('runMigrations on %s', (driver) => {
  it('applies the shipped migrations once and records version, name, checksum and time', async () => {
    const store = await harness.open(driver, { migrate: false });
    const shipped = await loadMigrations();
    expect(shipped.map((m) => m.name).slice(0, 2)).toEqual(['0001_checkpoints', '0002_incidents']);
    const first = await runMigrations(store);
    expect(first).toEqual({ applied: shipped.map((m) => m.name), alreadyApplied: 0 });
    const second = await runMigrations(store);
    expect(second).toEqual({ applied: [], alreadyApplied: shipped.length });
    const rows = await store.query<{ version: number; name: string; checksum: string; applied_at: Date }>('SELECT * FROM jaga_migration ORDER BY version');
    expect(rows.map(({ version, name, checksum }) => ({ version, name, checksum }))).toEqual(shipped.map((m) => ({ version: m.version, name: m.name, checksum: m.checksum })));
    expect(rows[0]!.applied_at).toBeInstanceOf(Date);
    const [table] = await store.query<{ n: number }>("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'jaga_checkpoint'");
    expect(table!.n).toBe(1);
  });

  it('applies only the new files, in version order, when a later release adds migrations', async () => {
    const store = await harness.open(driver, { migrate: false });
    const v1 = await migrationFolder({ '0001_a.sql': 'CREATE TABLE jaga_a (id int);' });
    expect(await runMigrations(store, { folder: v1.url })).toEqual({ applied: ['0001_a'], alreadyApplied: 0 });
    const v2 = await migrationFolder({
      '0001_a.sql': 'CREATE TABLE jaga_a (id int);',
      '0010_c.sql': 'ALTER TABLE jaga_a ADD COLUMN c int;',
      '0002_b.sql': 'ALTER TABLE jaga_a ADD COLUMN b int;',
    });
    expect(await runMigrations(store, { folder: v2.url })).toEqual({ applied: ['0002_b', '0010_c'], alreadyApplied: 1 });
    const columns = await store.query<{ column_name: string }>("SELECT column_name FROM information_schema.columns WHERE table_name = 'jaga_a' ORDER BY ordinal_position");
    expect(columns.map((c) => c.column_name)).toEqual(['id', 'b', 'c']);
  });

  it('fails with a clear permanent StoreError when an applied migration file was changed', async () => {
    const store = await harness.open(driver, { migrate: false });
    const folder = await migrationFolder({ '0001_a.sql': 'CREATE TABLE jaga_a (id int);' });
    await runMigrations(store, { folder: folder.url });
    await writeFile(join(folder.dir, '0001_a.sql'), 'CREATE TABLE jaga_a (id bigint);');
    const error = await caught(runMigrations(store, { folder: folder.url }));
    expect(error.transient).toBe(false);
    expect(error.message).toMatch(
      /^migration 0001_a changed after it was applied \(checksum recorded [0-9a-f]{12}\.\.\., file [0-9a-f]{12}\.\.\.\): applied migrations are immutable; restore the file and add a new numbered migration instead$/,
    );
  });

  it('refuses a store migrated by a newer jaga (a recorded version this release does not ship)', async () => {
    const store = await harness.open(driver, { migrate: false });
    const newer = await migrationFolder({ '0001_a.sql': 'CREATE TABLE jaga_a (id int);', '0002_b.sql': 'CREATE TABLE jaga_b (id int);' });
    await runMigrations(store, { folder: newer.url });
    const older = await migrationFolder({ '0001_a.sql': 'CREATE TABLE jaga_a (id int);' });
    const error = await caught(runMigrations(store, { folder: older.url }));
    expect(error.message).toBe('the store records migration 0002_b (version 2) that this jaga does not ship: it was migrated by a newer jaga; run that version or newer');
  });

  it('rolls back the whole run when one migration fails, naming it', async () => {
    const store = await harness.open(driver, { migrate: false });
    const folder = await migrationFolder({ '0001_a.sql': 'CREATE TABLE jaga_a (id int);', '0002_broken.sql': 'CREATE TABLE jaga_b (id int;' });
    const error = await caught(runMigrations(store, { folder: folder.url }));
    expect(error.sqlstate).toBe('42601');
    expect(error.transient).toBe(false);
    expect(error.message).toBe('migration 0002_broken failed: script failed: SQLSTATE 42601: syntax error at or near ";"');
    const tables = await store.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'jaga_%'");
    expect(tables).toEqual([]);
  });
});

describe('runMigrations on pg with several agents starting at once', () => {
  it('applies each migration exactly once while five stores migrate concurrently', async () => {
    const target = await harness.target('pg');
    const folder = await migrationFolder({
      '0001_slow.sql': 'SELECT pg_sleep(0.5); CREATE TABLE jaga_slow (id int);',
      '0002_counter.sql': 'CREATE TABLE jaga_counter (id int); INSERT INTO jaga_counter VALUES (1);',
    });
    const stores = await Promise.all(Array.from({ length: 5 }, () => PgStore.open({ url: target.url! })));
    try {
      const reports = await Promise.all(stores.map((store) => runMigrations(store, { folder: folder.url })));
      const appliers = reports.filter((r) => r.applied.length > 0);
      expect(appliers).toEqual([{ applied: ['0001_slow', '0002_counter'], alreadyApplied: 0 }]);
      expect(reports.filter((r) => r.applied.length === 0)).toEqual(Array.from({ length: 4 }, () => ({ applied: [], alreadyApplied: 2 })));
      const [counter] = await stores[0]!.query<{ n: number }>('SELECT count(*)::int AS n FROM jaga_counter');
      expect(counter!.n).toBe(1);
    } finally {
      for (const store of stores) await store.close();
    }
  });
});

describe('openStore', () => {
  it('migrates on open and keeps the schema across a close and reopen of an embedded store', async () => {
    const target = await harness.target('pglite');
    const store = await openStore({ dataDir: target.dataDir });
    await store.query("INSERT INTO jaga_checkpoint (source_id, file_fingerprint, file_path, byte_offset) VALUES ('s', 'f', '/p', 5)");
    await store.close();
    const reopened = await openStore({ dataDir: target.dataDir });
    try {
      expect(reopened.driver).toBe('pglite');
      const shipped = await loadMigrations();
      expect(await reopened.query('SELECT version, name FROM jaga_migration ORDER BY version')).toEqual(shipped.map((m) => ({ version: m.version, name: m.name })));
      expect(await reopened.query('SELECT byte_offset FROM jaga_checkpoint')).toEqual([{ byte_offset: 5 }]);
    } finally {
      await reopened.close();
    }
  });

  it('picks pg when a URL is given and refuses to guess when neither URL nor folder is given', async () => {
    const target = await harness.target('pg');
    const store = await openStore({ url: target.url, dataDir: '/nonexistent/ignored' });
    try {
      expect(store.driver).toBe('pg');
    } finally {
      await store.close();
    }
    await expect(openStore({})).rejects.toThrow('store: give a PostgreSQL connection URL or a data folder for the embedded store');
  });
});

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { StoreError } from '../domain/errors.js';
import type { Logger } from '../observe/logger.js';
import type { Store, StoreTransaction } from './store.js';

/**
 * Advisory lock key (two-int form: classid, objid) that serialises migration runs of all jaga agents on
 * one database. classid 0x6a616761 is ASCII "jaga"; other jaga singleton jobs use other objids.
 */
export const MIGRATION_LOCK_KEY = [0x6a616761, 1] as const;

/** A migration file name: four-digit version, underscore, snake_case name, `.sql` (e.g. `0001_checkpoints.sql`). */
const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** One numbered SQL file of src/db/migrations (copied to dist/db/migrations by the build). */
export interface Migration {
  /** from the file name, e.g. 1 */
  version: number;
  /** file name without `.sql`, e.g. `0001_checkpoints` */
  name: string;
  /** the file's SQL text */
  sql: string;
  /** SHA-256 hex of the text with CRLF normalised to LF (a checkout's line endings do not change it) */
  checksum: string;
}

/** What a run did. */
export interface MigrationReport {
  /** names applied by this run, in order */
  applied: string[];
  /** how many were already recorded in jaga_migration */
  alreadyApplied: number;
}

/** Options of `runMigrations`. */
export interface RunMigrationsOptions {
  /** folder of the numbered SQL files; default `defaultMigrationsFolder()` */
  folder?: URL;
  /** one info line per applied migration (`store_migration_applied`) */
  logger?: Logger;
}

/** The migrations shipped with this jaga: `./migrations/` next to this module (src/db or dist/db). */
export function defaultMigrationsFolder(): URL {
  return new URL('./migrations/', import.meta.url);
}

/**
 * Reads the numbered SQL files of a folder, sorted by version. Files not ending in `.sql` are ignored.
 * @throws StoreError (permanent) for a `.sql` file with a malformed name or a duplicated version.
 */
export async function loadMigrations(folder: URL = defaultMigrationsFolder()): Promise<Migration[]> {
  const names = (await readdir(folder)).filter((name) => name.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of names) {
    const match = FILE_NAME.exec(file);
    if (!match) throw new StoreError(`migration file ${file} is misnamed: expected NNNN_snake_case_name.sql`, false);
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version)) throw new StoreError(`migration version ${match[1]} is used by two files`, false);
    const sql = await readFile(new URL(file, folder), 'utf8');
    const checksum = createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
    migrations.push({ version, name: file.slice(0, -'.sql'.length), sql, checksum });
  }
  return migrations;
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
}

/**
 * Brings the store's schema up to date: in ONE transaction holding `pg_advisory_xact_lock(MIGRATION_LOCK_KEY)`
 * (so agents starting together on one PostgreSQL apply each migration once), creates `jaga_migration`
 * (version, name, checksum, applied_at) when missing, verifies every recorded migration against its
 * file, then applies the missing ones in version order, recording each. Any failure rolls back the
 * whole run.
 *
 * @throws StoreError (permanent) when a recorded migration's checksum differs from its file (migrations
 *   are immutable once applied), when the store records a version this jaga does not ship (written by
 *   a newer jaga), or when a migration's SQL fails (message names the migration; transient only when the
 *   underlying failure was, e.g. a lost connection).
 */
export async function runMigrations(store: Store, options: RunMigrationsOptions = {}): Promise<MigrationReport> {
  const migrations = await loadMigrations(options.folder);
  const report = await store.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [...MIGRATION_LOCK_KEY]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS jaga_migration (
      version    integer     PRIMARY KEY,
      name       text        NOT NULL,
      checksum   text        NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const applied = await tx.query<AppliedRow>('SELECT version, name, checksum FROM jaga_migration ORDER BY version');
    verifyApplied(applied, migrations);
    const done = new Set(applied.map((row) => row.version));
    const names: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await apply(tx, migration);
      names.push(migration.name);
    }
    return { applied: names, alreadyApplied: applied.length };
  });
  for (const name of report.applied) {
    options.logger?.info('store_migration_applied', { event: 'store_migration_applied', driver: store.driver, migration: name });
  }
  return report;
}

function verifyApplied(applied: AppliedRow[], migrations: Migration[]): void {
  for (const row of applied) {
    const known = migrations.find((m) => m.version === row.version);
    if (!known) {
      throw new StoreError(
        `the store records migration ${row.name} (version ${row.version}) that this jaga does not ship: it was migrated by a newer jaga; run that version or newer`,
        false,
      );
    }
    if (known.checksum !== row.checksum) {
      throw new StoreError(
        `migration ${known.name} changed after it was applied (checksum recorded ${row.checksum.slice(0, 12)}..., file ${known.checksum.slice(0, 12)}...): ` +
          'applied migrations are immutable; restore the file and add a new numbered migration instead',
        false,
      );
    }
  }
}

async function apply(tx: StoreTransaction, migration: Migration): Promise<void> {
  try {
    await tx.exec(migration.sql);
  } catch (error) {
    const cause = error instanceof StoreError ? error : undefined;
    throw new StoreError(`migration ${migration.name} failed: ${cause?.message ?? String(error)}`, cause?.transient ?? false, cause?.sqlstate ?? null, { cause: error });
  }
  await tx.query('INSERT INTO jaga_migration (version, name, checksum) VALUES ($1, $2, $3)', [migration.version, migration.name, migration.checksum]);
}

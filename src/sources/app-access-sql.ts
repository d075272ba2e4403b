import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/**
 * Absolute path of the SQL jaga ships for the monitored database (`jaga_access_event` table, its
 * cursor index and triggers, privileges advice in comments). Resolved next to this module:
 * `src/sources/sql/` when run from source, `dist/sources/sql/` once built (the build copies it).
 */
export function appAccessSqlPath(): string {
  return fileURLToPath(new URL('./sql/jaga-access-event.sql', import.meta.url));
}

/**
 * Reads the shipped SQL (idempotent, PostgreSQL 13+, wrapped in one transaction) as text, to be run
 * by the table owner's role on the monitored database.
 * @throws Error (ENOENT) when the file was not copied next to the built module.
 */
export async function readAppAccessSql(): Promise<string> {
  return readFile(appAccessSqlPath(), 'utf8');
}

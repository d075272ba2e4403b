/**
 * Something SQL runs on: a `Store` or an open `StoreTransaction` (src/db/store.ts). Declared in
 * domain so repositories of any stage can take one without importing src/db (CONVENTIONS.md rule 1).
 */
export interface SqlQueryable {
  /**
   * Runs one statement with positional parameters (`$1`, ...) and returns its rows; int8 decodes as a
   * `number` when safe, timestamptz as a UTC `Date`, jsonb parsed, text[] as `string[]`.
   * @throws StoreError on any failure.
   */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

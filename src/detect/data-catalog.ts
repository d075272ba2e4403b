import type { CatalogDocument } from '../config/catalog-document.js';

/**
 * The data catalog in memory: data classes per relation (PostgreSQL identifiers, case-insensitive).
 * A relation's classes = its table classes ∪ its columns' classes, sorted and lower-cased.
 * Several documents merge (later ones add classes, never remove).
 */
export class DataCatalog {
  private readonly classesByTable = new Map<string, readonly string[]>();
  /** names as written in events → classes, so hot paths skip `qualifyRelation`; cleared past MAX_CACHED_NAMES */
  private readonly cache = new Map<string, readonly string[]>();

  /** @param documents validated catalog documents (see `catalogDocumentSchema`), merged in order */
  constructor(documents: readonly CatalogDocument[] = []) {
    const merged = new Map<string, Set<string>>();
    for (const document of documents) {
      for (const [table, entry] of Object.entries(document.tables)) {
        const key = qualifyRelation(table);
        const classes = merged.get(key) ?? new Set<string>();
        for (const c of entry.classes) classes.add(c.toLowerCase());
        for (const columnClasses of Object.values(entry.columns)) for (const c of columnClasses) classes.add(c.toLowerCase());
        merged.set(key, classes);
      }
    }
    for (const [table, classes] of merged) this.classesByTable.set(table, [...classes].sort());
  }

  /** Number of classified tables. */
  get size(): number {
    return this.classesByTable.size;
  }

  /**
   * Data classes of a relation such as `public.customers`, `customers` (read as `public.customers`),
   * `"Customers"` or `crm.public.customers`; an empty array when unclassified.
   */
  classesOf(relation: string): readonly string[] {
    const cached = this.cache.get(relation);
    if (cached !== undefined) return cached;
    const classes = this.classesByTable.get(qualifyRelation(relation)) ?? EMPTY;
    if (this.cache.size >= MAX_CACHED_NAMES) this.cache.clear();
    this.cache.set(relation, classes);
    return classes;
  }

  /** The sorted union of the classes of `relations`. */
  classesOfAll(relations: readonly string[]): string[] {
    if (relations.length === 1) return [...this.classesOf(relations[0] as string)];
    const all = new Set<string>();
    for (const relation of relations) for (const c of this.classesOf(relation)) all.add(c);
    return [...all].sort();
  }
}

const EMPTY: readonly string[] = Object.freeze([]);
const MAX_CACHED_NAMES = 10_000;

/**
 * Normalises a relation name to `schema.table`, lower-case, quotes removed; a one-part name gets
 * `public.`, a three-part `db.schema.table` loses the database. Example: `"CRM".Customers` → `crm.customers`.
 */
export function qualifyRelation(name: string): string {
  const cached = QUALIFIED.get(name);
  if (cached !== undefined) return cached;
  const parts = name.replaceAll('"', '').toLowerCase().split('.');
  const qualified = parts.length === 1 ? `public.${parts[0]}` : parts.slice(-2).join('.');
  if (QUALIFIED.size >= MAX_CACHED_NAMES) QUALIFIED.clear();
  QUALIFIED.set(name, qualified);
  return qualified;
}

/** Names as written → qualified: relation names repeat endlessly in a log, so they are computed once. */
const QUALIFIED = new Map<string, string>();

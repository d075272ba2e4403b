import { z } from 'zod';

/** Schema id of a data catalog document. */
export const CATALOG_SCHEMA_ID = 'jaga/catalog/v1';

const className = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a data class is letters, digits, _ . -');

/**
 * zod schema of a data catalog (`schema: jaga/catalog/v1`): which tables and columns hold which
 * data classes. Table keys are `schema.table` (an unqualified name means `public.`); names are
 * matched case-insensitively. A relation's classes are its table classes ∪ its columns' classes.
 *
 * ```yaml
 * schema: jaga/catalog/v1
 * tables:
 *   public.customers:
 *     classes: [pii]
 *     columns: { email: [pii, contact], national_id: [pii, national_id] }
 * ```
 * `schema` is optional when the catalog is written inline in jaga.yaml, required in a catalog file.
 */
export const catalogDocumentSchema = z.strictObject({
  schema: z.literal(CATALOG_SCHEMA_ID).optional(),
  tables: z.record(
    z.string().regex(/^[^\s.]+(\.[^\s.]+){0,2}$/, 'a table is schema.table'),
    z.strictObject({
      classes: z.array(className).default([]),
      columns: z.record(z.string().min(1), z.array(className)).default({}),
    }),
  ),
});

/** A validated data catalog document. */
export type CatalogDocument = z.output<typeof catalogDocumentSchema>;

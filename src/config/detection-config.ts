import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { PathProblem } from '../lib/zod-problems.js';
import { type CatalogDocument, catalogDocumentSchema } from './catalog-document.js';

const folder = z.string().min(1);
const listValue = z.union([z.string(), z.number(), z.boolean()]);

/**
 * The detection section of jaga.yaml (rules-design.md "Lists, catalog, overlays, config"), as zod
 * shape entries merged into the top-level strict config schema (see `loadConfigFile`):
 * ```yaml
 * rules: [/etc/jaga/rules]          # rule folders; default: the rules/ folder shipped with jaga
 * overlays: [/etc/jaga/local]       # overlay folders (jaga/overlay/v1), applied after rules/local/
 * lists:                            # name → values, or a path (YAML list, jaga/lists/v1 file, or one value per line)
 *   etl_roles: [app_batch]
 *   office_networks: lists/office.txt
 * catalog: catalog.yaml             # a jaga/catalog/v1 file, or the catalog inline ({tables: ...})
 * timezone: Asia/Jakarta            # IANA zone; default UTC
 * ```
 * Config lists REPLACE shipped lists of the same name. Relative paths are relative to the config file.
 */
export const detectionConfigShape = {
  rules: z.array(folder).min(1).optional(),
  overlays: z.array(folder).optional(),
  lists: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a list name is letters, digits, _ . -'), z.union([z.array(listValue), z.string().min(1)], { error: 'expected a list of values or a file path' })).optional(),
  catalog: z.union([z.string().min(1), catalogDocumentSchema], { error: 'expected a catalog file path or an inline catalog map' }).optional(),
  timezone: z
    .string()
    .refine(isIanaTimeZone, { message: 'unknown IANA time zone (e.g. UTC, Europe/Berlin, Asia/Jakarta)' })
    .optional(),
};

/** The detection section as written (after zod validation, before paths are resolved). */
export interface DetectionConfigInput {
  rules?: string[] | undefined;
  overlays?: string[] | undefined;
  lists?: Record<string, (string | number | boolean)[] | string> | undefined;
  catalog?: string | CatalogDocument | undefined;
  timezone?: string | undefined;
}

/** The detection slice of the config, paths absolute, defaults applied, frozen. Fits `loadRuleSet` options. */
export interface DetectionConfig {
  /** rule folders (default: the package's shipped rules/) */
  ruleDirs: readonly string[];
  overlayDirs: readonly string[];
  /** list name → values (strings) or an absolute file path */
  lists: Readonly<Record<string, readonly string[] | string>>;
  /** inline catalog, absolute path of a catalog file, or null */
  catalog: CatalogDocument | string | null;
  /** IANA zone, default `UTC` */
  timezone: string;
}

/**
 * Applies defaults and resolves relative paths against `baseDir` (the config file's folder).
 * @param input the validated detection keys (`detectionConfigShape`); `{}` gives the defaults
 */
export function resolveDetectionConfig(input: DetectionConfigInput, baseDir: string): DetectionConfig {
  const lists: Record<string, readonly string[] | string> = {};
  for (const [name, source] of Object.entries(input.lists ?? {})) {
    lists[name] = typeof source === 'string' ? resolve(baseDir, source) : Object.freeze(source.map(String));
  }
  return Object.freeze({
    ruleDirs: Object.freeze(input.rules ? input.rules.map((dir) => resolve(baseDir, dir)) : [shippedRulesDir()]),
    overlayDirs: Object.freeze((input.overlays ?? []).map((dir) => resolve(baseDir, dir))),
    lists: Object.freeze(lists),
    catalog: typeof input.catalog === 'string' ? resolve(baseDir, input.catalog) : (input.catalog ?? null),
    timezone: input.timezone ?? 'UTC',
  });
}

/**
 * The `rules:` and `overlays:` folders this process cannot use: missing, not a folder, or not
 * readable. Checked at load so the problem names the config line instead of a bare ENOENT from the
 * rule loader. Each message gives the absolute path, and for a relative entry the folder it was
 * resolved against (the config file's).
 * @returns e.g. `{ path: ['rules', 0], message: 'folder /etc/jaga/rulez does not exist (a relative path resolves against the config file\'s folder, /etc/jaga)' }`
 */
export function ruleFolderProblems(input: DetectionConfigInput, baseDir: string): PathProblem[] {
  const problems: PathProblem[] = [];
  for (const key of ['rules', 'overlays'] as const) {
    (input[key] ?? []).forEach((dir, index) => {
      const absolute = resolve(baseDir, dir);
      const relative = isAbsolute(dir) ? '' : ` (a relative path resolves against the config file's folder, ${baseDir})`;
      let problem: string | null = null;
      try {
        if (!statSync(absolute).isDirectory()) problem = `${absolute} is not a folder${relative}`;
        else accessSync(absolute, constants.R_OK | constants.X_OK);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        problem = code === 'ENOENT' ? `folder ${absolute} does not exist${relative}` : `cannot read folder ${absolute} (${code ?? (error as Error).message})`;
      }
      if (problem !== null) problems.push({ path: [key, index], message: problem });
    });
  }
  return problems;
}

/**
 * The rules/ folder shipped with the package: found by walking up from this module to the folder
 * holding jaga's package.json (works from src/ under tsx and from dist/ after the build).
 */
export function shippedRulesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'rules'))) return join(dir, 'rules');
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../rules');
}

/** True for zone names `Intl` knows (`UTC`, `Europe/Berlin`, ...). */
export function isIanaTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch (error) {
    if (error instanceof RangeError) return false;
    throw error;
  }
}

import { join } from 'node:path';
import { type CatalogDocument, CATALOG_SCHEMA_ID, catalogDocumentSchema } from '../config/catalog-document.js';
import { RuleLoadError } from '../domain/errors.js';
import type { YamlDocument } from '../lib/yaml-documents.js';
import { describe, zodProblems } from '../lib/zod-problems.js';
import type { CompiledRule, MatchContext } from './compiled-rule.js';
import { DataCatalog } from './data-catalog.js';
import type { DetectorModule } from './detector.js';
import { FieldAccessors } from './field-accessors.js';
import { LoadReport } from './load-report.js';
import { compileRule } from './rule-compiler.js';
import { type ListSource, loadLists } from './rule-lists.js';
import { type EffectiveRuleDocument, applyOverlays } from './rule-overlays.js';
import { RULE_SCHEMA_ID } from './rule-schema.js';
import { SelectionCompiler } from './selection-compiler.js';
import { listYamlFiles, readYamlFile, type YamlFile } from './yaml-files.js';

/** Options of `loadRuleSet`. Paths are used as given (resolve them first; the config loader does). */
export interface LoadRuleSetOptions {
  /** rule folders: `*.yaml` there are rules; `lists/*.yaml` shipped lists; `local/*.yaml` overlays */
  ruleDirs: readonly string[];
  /** more overlay folders (the config's `overlays`), applied after each rule folder's `local/` */
  overlayDirs?: readonly string[];
  /** the config's lists: values inline or a file path; they replace shipped lists of the same name */
  lists?: Readonly<Record<string, ListSource>>;
  /** the data catalog: inline (validated) or a path to a `jaga/catalog/v1` file; none = nothing classified */
  catalog?: CatalogDocument | string | null;
  /** the detector plug-ins by type (`DETECTOR_REGISTRY`); a rule's params are validated by its `paramsSchema` */
  registry: ReadonlyMap<string, DetectorModule>;
  /** clock for exception expiry; default now */
  now?: Date;
  /** a rule without a firing and a non-firing test is a problem (`jaga rules validate`) instead of a warning; default false */
  requireTests?: boolean;
}

/** A loaded, validated, compiled rule set. */
export interface LoadedRuleSet {
  /** every rule, in file then document order (disabled ones included, `enabled: false`) */
  rules: CompiledRule[];
  /** lists and catalog for the predicates */
  context: MatchContext;
  /** one line each: file, rule, path, message (expired exceptions, unused selections, missing tests) */
  warnings: string[];
  /** every file read (rules, lists, overlays, catalog, list files): what hot reload watches */
  files: string[];
  /** rule id → the effective document and where its parts came from (`jaga rules show`) */
  documents: ReadonlyMap<string, EffectiveRuleDocument>;
  /** the data catalog loaded (also behind `context.classesOf`) */
  catalog: DataCatalog;
}

/**
 * Loads the rule language (rules-design.md): shipped rules, then overlays, then the config's lists
 * and catalog; validates everything and compiles selections to closures shared across rules.
 *
 * @throws RuleLoadError listing EVERY problem found, one line each, naming the file, line, rule id
 *   (when known) and field path, with a "did you mean" for unknown keys, fields, modifiers, lists,
 *   selections and types
 */
export async function loadRuleSet(options: LoadRuleSetOptions): Promise<LoadedRuleSet> {
  const report = new LoadReport();
  const files: string[] = [];
  const read = async (paths: string[]): Promise<YamlFile[]> => {
    files.push(...paths);
    return Promise.all(paths.map((path) => readYamlFile(path, report)));
  };
  const ruleFiles: string[] = [];
  const listFiles: string[] = [];
  const overlayFiles: string[] = [];
  for (const dir of options.ruleDirs) {
    ruleFiles.push(...(await listYamlFiles(dir, report, true)));
    listFiles.push(...(await listYamlFiles(join(dir, 'lists'), report, false)));
    overlayFiles.push(...(await listYamlFiles(join(dir, 'local'), report, false)));
  }
  for (const dir of options.overlayDirs ?? []) overlayFiles.push(...(await listYamlFiles(dir, report, true)));

  const lists = await loadLists(await read(listFiles), options.lists ?? {}, report, files);
  const catalog = await loadCatalog(options.catalog ?? null, report, files);
  const duplicates: RuleSource[] = [];
  const baseRules = collectRules(await read(ruleFiles), report, duplicates);
  const effective = applyOverlays(baseRules, await read(overlayFiles), report);

  const selections = new SelectionCompiler({ accessors: new FieldAccessors(catalog), catalog, lists });
  const now = options.now ?? new Date();
  const compileOptions = { registry: options.registry, selections, now, requireTests: options.requireTests ?? false };
  const rules: CompiledRule[] = [];
  for (const entry of effective.values()) {
    const result = compileRule(entry.document, { file: entry.file, overlays: entry.overlays }, compileOptions);
    for (const p of result.problems) report.problem({ ...entry.locate(p.path), ruleId: entry.id }, p.path, p.message);
    for (const w of result.warnings) report.warning({ ...entry.locate(w.path), ruleId: entry.id }, w.path, w.message);
    if (result.rule) rules.push(result.rule);
  }
  // a rule whose id is taken is not loaded, but its own mistakes are listed in the same pass
  for (const duplicate of duplicates) {
    const id = duplicate.document.id as string;
    const result = compileRule(duplicate.document, { file: duplicate.file, overlays: [] }, compileOptions);
    for (const p of result.problems) report.problem({ file: duplicate.file, line: duplicate.source.lineOf(p.path), ruleId: id }, p.path, p.message);
  }
  if (report.problems.length > 0) {
    const count = report.problems.length;
    const problems = inPlaceOrder(report.problems, files);
    throw new RuleLoadError(`${count} rule load problem${count === 1 ? '' : 's'}:\n${problems.join('\n')}`, problems);
  }
  const context: MatchContext = {
    lists: new Map([...lists].map(([name, values]) => [name, new Set(values.map((v) => v.toLowerCase()))])),
    classesOf: (relation) => catalog.classesOf(relation),
  };
  return { rules, context, warnings: report.warnings, files: [...new Set(files)], documents: effective, catalog };
}

/** A rule document and where it was read. */
interface RuleSource {
  file: string;
  source: YamlDocument;
  document: Record<string, unknown>;
}

/**
 * Rule documents by id. A duplicate id is a problem naming both places; the later document is not
 * loaded but pushed to `duplicates` (so its other problems can be listed too).
 */
function collectRules(ruleFiles: readonly YamlFile[], report: LoadReport, duplicates: RuleSource[]): Map<string, RuleSource> {
  const rules = new Map<string, RuleSource>();
  for (const { file, documents } of ruleFiles) {
    for (const source of documents) {
      const value = source.value;
      const location = { file, line: source.lineOf([]), document: source.index };
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        report.problem(location, [], `expected a rule map, got ${describe(value)}`);
        continue;
      }
      const document = value as Record<string, unknown>;
      const id = document.id;
      if (typeof id !== 'string' || id === '') {
        const listed = id === undefined && Array.isArray(document.rules) ? ' (one rule per YAML document: separate rules with ---, each with schema and id at the top, not a rules: list)' : '';
        report.problem({ ...location, line: source.lineOf(['id']) }, ['id'], id === undefined ? `missing required key${listed}` : `expected a rule id string, got ${describe(id)}`);
        continue;
      }
      if (document.schema !== RULE_SCHEMA_ID) {
        report.problem({ file, line: source.lineOf(['schema']), ruleId: id }, ['schema'], `expected "${RULE_SCHEMA_ID}", got ${describe(document.schema ?? null)}${document.schema === 'jaga/overlay/v1' ? ' (overlays go in rules/local/ or the config\'s overlays folders)' : ''}`);
        continue;
      }
      const previous = rules.get(id);
      if (previous) {
        report.problem({ file, line: source.lineOf(['id']), ruleId: id }, ['id'], `duplicate rule id: also defined at ${previous.file}:${previous.source.lineOf(['id'])}`);
        duplicates.push({ file, source, document });
        continue;
      }
      rules.set(id, { file, source, document });
    }
  }
  return rules;
}

/** The data catalog: inline (already validated by the config), or read from a `jaga/catalog/v1` file. */
async function loadCatalog(source: CatalogDocument | string | null, report: LoadReport, files: string[]): Promise<DataCatalog> {
  if (source === null) return new DataCatalog();
  if (typeof source !== 'string') return new DataCatalog([source]);
  files.push(source);
  const { documents } = await readYamlFile(source, report);
  const document = documents[0];
  if (document === undefined) {
    if (!report.problems.some((p) => p.startsWith(source))) report.problems.push(`${source}: empty catalog file`);
    return new DataCatalog();
  }
  const parsed = catalogDocumentSchema.safeParse(document.value, { reportInput: true });
  const problems = parsed.success ? [] : zodProblems(parsed.error.issues, catalogDocumentSchema);
  if (parsed.success && parsed.data.schema === undefined) problems.push({ path: ['schema'], message: `missing required key (expected "${CATALOG_SCHEMA_ID}")` });
  for (const p of problems) report.problem({ file: source, line: document.lineOf(p.path) }, p.path, p.message);
  return parsed.success ? new DataCatalog([parsed.data]) : new DataCatalog();
}

/**
 * Problems in the order of their places: files in the order they were read, then by line within a file (a
 * problem of a whole file, `file: message`, first); problems naming none of `files` keep their place
 * in front. The checks run document by document and pass by pass, so found order is not line order.
 */
function inPlaceOrder(problems: readonly string[], files: readonly string[]): string[] {
  const fileRank = new Map([...new Set(files)].map((file, rank) => [file, rank]));
  const byLength = [...fileRank.keys()].sort((a, b) => b.length - a.length);
  const placed = problems.map((text, found) => {
    const file = byLength.find((f) => text.startsWith(`${f}:`));
    if (file === undefined) return { text, found, rank: -1, line: 0 };
    const line = /^(\d+):/.exec(text.slice(file.length + 1));
    return { text, found, rank: fileRank.get(file) as number, line: line ? Number(line[1]) : 0 };
  });
  placed.sort((a, b) => a.rank - b.rank || a.line - b.line || a.found - b.found);
  return placed.map((p) => p.text);
}

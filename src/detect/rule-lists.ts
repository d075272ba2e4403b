import { readFile } from 'node:fs/promises';
import { parseYamlDocuments } from '../lib/yaml-documents.js';
import { describe, zodProblems } from '../lib/zod-problems.js';
import type { LoadReport } from './load-report.js';
import { LISTS_SCHEMA_ID, listsDocumentSchema } from './rule-schema.js';
import type { YamlFile } from './yaml-files.js';

/** A list as the config gives it: the values inline, or a path (absolute) to read them from. */
export type ListSource = readonly (string | number | boolean)[] | string;

/**
 * Builds the named lists for `in_list`: first the shipped lists files (`schema: jaga/lists/v1`,
 * `lists: {name: [values]}`; a name defined in two shipped files is a problem), then the config's
 * lists, which REPLACE a shipped list of the same name. A config list given as a path is read as:
 * a YAML sequence, a `jaga/lists/v1` document holding a list of that name, or (any other file)
 * plain text with one value per line (`#` comments and blank lines skipped).
 *
 * @param files receives the paths of list files read (for hot reload)
 * @returns list name → values as strings (case kept; matching decides case)
 */
export async function loadLists(shipped: readonly YamlFile[], config: Readonly<Record<string, ListSource>>, report: LoadReport, files: string[]): Promise<Map<string, string[]>> {
  const lists = new Map<string, string[]>();
  const definedIn = new Map<string, string>();
  for (const { file, documents } of shipped) {
    for (const document of documents) {
      const parsed = listsDocumentSchema.safeParse(document.value, { reportInput: true });
      if (!parsed.success) {
        for (const p of zodProblems(parsed.error.issues, listsDocumentSchema)) report.problem({ file, line: document.lineOf(p.path), document: document.index }, p.path, p.message);
        continue;
      }
      for (const [name, values] of Object.entries(parsed.data.lists)) {
        const previous = definedIn.get(name);
        if (previous !== undefined) {
          report.problem({ file, line: document.lineOf(['lists', name]) }, ['lists', name], `list "${name}" is already defined in ${previous}`);
          continue;
        }
        definedIn.set(name, file);
        lists.set(name, values.map(String));
      }
    }
  }
  for (const [name, source] of Object.entries(config)) {
    if (typeof source !== 'string') {
      lists.set(name, source.map(String));
      continue;
    }
    files.push(source);
    const values = await readListFile(source, name, report);
    if (values !== null) lists.set(name, values);
  }
  return lists;
}

async function readListFile(file: string, name: string, report: LoadReport): Promise<string[] | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    report.problems.push(`${file}: cannot read list "${name}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    return null;
  }
  if (!/\.ya?ml$/.test(file)) {
    return text
      .split(/\r?\n/)
      .map((line) => line.replace(/#.*$/, '').trim())
      .filter((line) => line !== '');
  }
  const { documents, problems } = parseYamlDocuments(text);
  for (const problem of problems) report.problems.push(`${file}:${problem.line}: YAML syntax: ${problem.message}`);
  const value = documents[0]?.value;
  if (Array.isArray(value) && value.every((v) => ['string', 'number', 'boolean'].includes(typeof v))) return value.map(String);
  if (value !== null && typeof value === 'object' && (value as Record<string, unknown>).schema === LISTS_SCHEMA_ID) {
    const parsed = listsDocumentSchema.safeParse(value);
    const values = parsed.success ? parsed.data.lists[name] : undefined;
    if (values !== undefined) return values.map(String);
    report.problems.push(`${file}: expected a valid ${LISTS_SCHEMA_ID} document with a list named "${name}"`);
    return null;
  }
  if (problems.length === 0) report.problems.push(`${file}: list "${name}": expected a YAML list of values or a ${LISTS_SCHEMA_ID} document, got ${describe(value)}`);
  return null;
}

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type YamlDocument, parseYamlDocuments } from '../lib/yaml-documents.js';
import type { LoadReport } from './load-report.js';

/** One YAML file read for the rule set: its path and the documents that parsed. */
export interface YamlFile {
  file: string;
  documents: YamlDocument[];
}

/**
 * The `*.yaml` / `*.yml` files directly in `dir`, sorted by name (sub-folders are not entered).
 * A missing folder is a problem when `required`, else an empty list.
 */
export async function listYamlFiles(dir: string, report: LoadReport, required: boolean): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
      .map((entry) => join(dir, entry.name))
      .sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!required && code === 'ENOENT') return [];
    report.problems.push(`${dir}: cannot read folder (${code ?? (error as Error).message})`);
    return [];
  }
}

/** Reads and parses one YAML file; read and syntax errors become problems (documents with a syntax error are left out). */
export async function readYamlFile(file: string, report: LoadReport): Promise<YamlFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    report.problems.push(`${file}: cannot read file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    return { file, documents: [] };
  }
  const parsed = parseYamlDocuments(text);
  for (const problem of parsed.problems) report.problems.push(`${file}:${problem.line}: YAML syntax: ${problem.message}`);
  return { file, documents: parsed.documents };
}

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../domain/errors.js';
import { parseYamlDocuments } from '../lib/yaml-documents.js';
import { formatPath, zodProblems } from '../lib/zod-problems.js';
import { type DetectionConfig, detectionConfigShape, resolveDetectionConfig } from './detection-config.js';

/**
 * The whole jaga.yaml schema: strict, one shape per section spread in (the daemon issue adds its
 * sections next to `detectionConfigShape`). Unknown top-level keys are problems with a "did you mean".
 */
export const configFileSchema = z.strictObject({
  ...detectionConfigShape,
});

/** The validated config, one typed slice per component, frozen. */
export interface JagaConfig {
  /** absolute path of the file read */
  file: string;
  detection: DetectionConfig;
}

/**
 * Reads and validates a jaga.yaml (one YAML document; an empty file means all defaults).
 * @throws ConfigError when the file cannot be read, is not YAML, or breaks the schema; `problems`
 *   lists EVERY problem, each as `file:line: path: message` (e.g.
 *   `jaga.yaml:4: lists.etl_roles: expected a list of values or a file path, got 5`)
 */
export async function loadConfigFile(path: string): Promise<JagaConfig> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${path}: cannot read config file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, undefined, { cause: error });
  }
  const { documents, problems: syntax } = parseYamlDocuments(text);
  const problems = syntax.map((p) => `${path}:${p.line}: YAML syntax: ${p.message}`);
  if (documents.length > 1) problems.push(`${path}:1: a config file holds one YAML document, found ${documents.length}`);
  const document = documents[0];
  const value = document?.value ?? {};
  const parsed = configFileSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    for (const p of zodProblems(parsed.error.issues, configFileSchema)) problems.push(`${path}:${document?.lineOf(p.path) ?? 1}: ${formatPath(p.path)}: ${p.message}`);
  }
  if (problems.length > 0 || !parsed.success) {
    const count = problems.length;
    throw new ConfigError(`${count} problem${count === 1 ? '' : 's'} in ${path}:\n${problems.join('\n')}`, problems);
  }
  return Object.freeze({ file, detection: resolveDetectionConfig(parsed.data, dirname(file)) });
}

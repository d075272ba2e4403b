import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { shippedRulesDir } from '../config/detection-config.js';
import { type JagaConfig, loadConfigFile } from '../config/load-config-file.js';
import { ConfigError } from '../domain/errors.js';

/** Where the demo's parts live. */
export interface DemoConfigOptions {
  /** the demo data folder: embedded store, `notifications.jsonl`, the written `jaga.yaml` */
  dataDir: string;
  /** the temporary log folder the corpus run is appended to */
  logDir: string;
  /** `host:port` of the HTTP endpoint (`127.0.0.1:0`: any free port) */
  listen: string;
  /** the example site's config (lists and catalog); default `demoPaths().exampleConfig` */
  exampleConfig?: string;
}

/** The names the demo config uses, for the command's messages and tests. */
export const DEMO_NAMES = Object.freeze({
  agent: 'demo',
  /** the log_folder source and the server name stamped on events */
  source: 'crm',
  /** the notifications file, inside the data folder */
  notificationsFile: 'notifications.jsonl',
  /** the config written into the data folder */
  configFile: 'jaga.yaml',
});

/** Detection keys taken from the example site's config (the rest of it is commented out). */
const DETECTION_KEYS = ['rules', 'overlays', 'lists', 'catalog', 'timezone'] as const;

/**
 * Files the demo ships with (found from the package root, the folder holding package.json and rules/):
 * `exampleConfig` examples/crm/jaga.yaml, `corpusDir` examples/crm/logs (labels.json + the csvlog).
 */
export function demoPaths(): { root: string; exampleConfig: string; corpusDir: string } {
  const root = dirname(shippedRulesDir());
  return { root, exampleConfig: join(root, 'examples/crm/jaga.yaml'), corpusDir: join(root, 'examples/crm/logs') };
}

/**
 * Builds the demo's JagaConfig (issue 8, `jaga demo`) through the same validated path as a file:
 * the example site's detection sections (lists, catalog, timezone; relative paths made absolute)
 * plus, in code, `agent: demo`, the embedded store in `dataDir`, one csvlog `log_folder` source
 * `crm` on `logDir` read from the beginning, two receivers (`file` → `<dataDir>/notifications.jsonl`,
 * `console` → stdout; every change a route notifies, each alone) and `http.listen`. The document is
 * written to `<dataDir>/jaga.yaml` (so the user can see it and reuse it with `jaga run`) and
 * loaded with `loadConfigFile` and an empty environment (no JAGA_* override changes the demo).
 *
 * @throws ConfigError when the example config cannot be read or the result does not validate
 *   (every problem listed, as `jaga config check` would)
 */
export async function buildDemoConfig(options: DemoConfigOptions): Promise<JagaConfig> {
  const exampleConfig = options.exampleConfig ?? demoPaths().exampleConfig;
  let example: unknown;
  try {
    example = parse(await readFile(exampleConfig, 'utf8')) ?? {};
  } catch (error) {
    throw new ConfigError(`cannot read the example config ${exampleConfig}: ${(error as Error).message}`, undefined, { cause: error });
  }
  if (typeof example !== 'object' || example === null || Array.isArray(example)) throw new ConfigError(`${exampleConfig}: expected a YAML map`);
  const exampleDir = dirname(exampleConfig);
  const document: Record<string, unknown> = {};
  for (const key of DETECTION_KEYS) {
    const value = (example as Record<string, unknown>)[key];
    if (value !== undefined) document[key] = absolutePaths(key, value, exampleDir);
  }
  const configPath = join(options.dataDir, DEMO_NAMES.configFile);
  Object.assign(document, {
    agent: { name: DEMO_NAMES.agent },
    store: { data_dir: resolve(options.dataDir) },
    sources: [{ name: DEMO_NAMES.source, type: 'log_folder', path: resolve(options.logDir), format: 'csvlog', start_at: 'beginning', timezone: 'UTC', server: DEMO_NAMES.source }],
    receivers: {
      file: { type: 'file', path: resolve(options.dataDir, DEMO_NAMES.notificationsFile) },
      console: { type: 'console', stream: 'stdout' },
    },
    http: { listen: options.listen },
  });
  const header = '# Written by `jaga demo`: the example CRM site (examples/crm/jaga.yaml) with a temporary log folder.\n';
  await writeFile(configPath, header + stringify(document), 'utf8');
  return loadConfigFile(configPath, {}, { requireSources: true });
}

/** Makes the path values of a detection key absolute (rules/overlays folders, list files, a catalog file). */
function absolutePaths(key: (typeof DETECTION_KEYS)[number], value: unknown, baseDir: string): unknown {
  if ((key === 'rules' || key === 'overlays') && Array.isArray(value)) return value.map((dir) => (typeof dir === 'string' ? resolve(baseDir, dir) : dir));
  if (key === 'catalog' && typeof value === 'string') return resolve(baseDir, value);
  if (key === 'lists' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([name, list]) => [name, typeof list === 'string' ? resolve(baseDir, list) : list]));
  }
  return value;
}

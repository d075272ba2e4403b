import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../domain/errors.js';
import { parseYamlDocuments } from '../lib/yaml-documents.js';
import { formatPath, zodProblems } from '../lib/zod-problems.js';
import { type DaemonConfig, daemonConfigShape, duplicateSourceNameProblems, resolveDaemonConfig, sourceTypeProblems } from './daemon-config.js';
import { type DetectionConfig, detectionConfigShape, resolveDetectionConfig, ruleFolderProblems } from './detection-config.js';
import { type HttpConfig, httpConfigShape, resolveHttpConfig } from './http-config.js';
import { type IncidentsConfig, incidentsConfigShape, resolveIncidentsConfig } from './incidents-config.js';
import { brokenReceiverSecretProblems, escalationBoundsMs, type NotifyConfig, notifyConfigShape, resolveNotifyConfig } from './notify-config.js';
import { receiverReferenceProblems, receiverTypeProblems } from './receiver-references.js';

/**
 * The whole jaga.yaml schema: strict, one shape per section spread in. Unknown top-level keys are
 * problems with a "did you mean".
 */
export const configFileSchema = z.strictObject({
  ...detectionConfigShape,
  ...daemonConfigShape,
  ...incidentsConfigShape,
  ...notifyConfigShape,
  ...httpConfigShape,
});

/** The config file's validated content (defaults not applied yet). */
type ConfigFileData = z.infer<typeof configFileSchema>;

/**
 * The top-level sections each resolver reads. When the file breaks the schema, a resolver still runs
 * (so `jaga config check` lists its problems in the same pass) if none of its sections has a schema
 * problem. The notify resolver is finer: it runs unless `receivers:` as a whole is broken, without the
 * broken receivers (their secrets are still checked) and without broken routes / escalation / notify sections.
 * The daemon resolver does not wait for a good top-level `timezone` (its sources' default): a bad one is
 * its own problem, and the sources' problems are listed beside it.
 */
const DAEMON_SECTIONS = Object.keys(daemonConfigShape);
const INCIDENTS_SECTIONS = Object.keys(incidentsConfigShape);
const HTTP_SECTIONS = Object.keys(httpConfigShape);

/** The validated config, one typed slice per component, frozen. */
export interface JagaConfig {
  /** absolute path of the file read */
  file: string;
  detection: DetectionConfig;
  daemon: DaemonConfig;
  incidents: IncidentsConfig;
  notify: NotifyConfig;
  http: HttpConfig;
  /**
   * the environment after `*_FILE` secrets were read (`JAGA_X_FILE` → `JAGA_X`): what section
   * resolvers that take secrets from the environment received
   */
  env: Readonly<Record<string, string>>;
}

/** Options of `loadConfigFile`. */
export interface LoadConfigOptions {
  /** `jaga run` / `jaga config check`: a config without any source is a problem (never demo data) */
  requireSources?: boolean;
  /**
   * `rules:` / `overlays:` folders that are missing, not folders or unreadable are problems on their
   * config line (`ruleFolderProblems`) instead of a rule loader error later; default: `requireSources`
   * (the commands that load the rule set at once)
   */
  checkRuleFolders?: boolean;
}

/**
 * Environment overrides, applied over the file before validation (the value replaces the file's).
 * Every variable may instead be given as `<NAME>_FILE` holding a path whose content (trailing
 * newline trimmed) is the value, for secrets mounted as files (Docker/Kubernetes secrets). Giving
 * both `<NAME>` and `<NAME>_FILE` is a problem. Overrides of a section this build does not have
 * are ignored.
 *
 * | variable               | config path              |
 * |------------------------|--------------------------|
 * | JAGA_AGENT_NAME        | agent.name               |
 * | JAGA_STORE_URL         | store.url (replaces url_file / data_dir) |
 * | JAGA_STORE_DATA_DIR    | store.data_dir (replaces url / url_file) |
 * | JAGA_TIMEZONE          | timezone                 |
 * | JAGA_COMMIT_INTERVAL   | pipeline.commit_interval |
 * | JAGA_HTTP_LISTEN       | http.listen              |
 */
export const ENV_OVERRIDES: readonly { env: string; path: readonly string[]; replaces?: readonly string[] }[] = Object.freeze([
  { env: 'JAGA_AGENT_NAME', path: ['agent', 'name'] },
  { env: 'JAGA_STORE_URL', path: ['store', 'url'], replaces: ['url_file', 'data_dir'] },
  { env: 'JAGA_STORE_DATA_DIR', path: ['store', 'data_dir'], replaces: ['url', 'url_file'] },
  { env: 'JAGA_TIMEZONE', path: ['timezone'] },
  { env: 'JAGA_COMMIT_INTERVAL', path: ['pipeline', 'commit_interval'] },
  { env: 'JAGA_HTTP_LISTEN', path: ['http', 'listen'] },
]);

/**
 * Reads and validates a jaga.yaml (one YAML document; an empty file means all defaults), with the
 * environment overrides of `ENV_OVERRIDES` applied over it.
 * @param env the environment (default `process.env`; the only place jaga reads it)
 * @throws ConfigError when the file cannot be read, is not YAML, or breaks the schema; `problems`
 *   lists EVERY problem, each as `file:line: path: message` (e.g.
 *   `jaga.yaml:4: lists.etl_roles: expected a list of values or a file path, got 5`), or for a value
 *   from the environment `JAGA_STORE_URL (store.url): message`
 */
export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): Promise<JagaConfig> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${path}: cannot read config file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, undefined, { cause: error });
  }
  const { documents, problems: syntax } = parseYamlDocuments(text);
  // every problem with the file line it is about (0: not about a line), listed in line order at the end
  const problems: { line: number; text: string }[] = syntax.map((p) => ({ line: p.line, text: `${path}:${p.line}: YAML syntax: ${p.message}` }));
  if (documents.length > 1) problems.push({ line: 1, text: `${path}:1: a config file holds one YAML document, found ${documents.length}` });
  const document = documents[0];
  const envProblems: string[] = [];
  const resolvedEnv = readEnvFiles(env, envProblems);
  for (const text of envProblems) problems.push({ line: 0, text });
  const raw = document?.value ?? {};
  const value = isPlainMap(raw) ? structuredClone(raw) : raw;
  const fromEnv = isPlainMap(value) ? applyEnvOverrides(value, resolvedEnv) : new Map<string, string>();
  const lineOf = (p: readonly (string | number)[]): number => document?.lineOf(p) ?? 1;
  const add = (p: readonly (string | number)[], message: string): void => {
    const formatted = formatPath(p);
    for (const [envPath, name] of fromEnv) {
      if (formatted === envPath || formatted.startsWith(`${envPath}.`)) {
        problems.push({ line: 0, text: `${name} (${formatted}): ${message}` });
        return;
      }
    }
    problems.push({ line: lineOf(p), text: `${path}:${lineOf(p)}: ${formatted}: ${message}` });
  };
  const parsed = configFileSchema.safeParse(value, { reportInput: true });
  // top-level sections with a schema problem: the resolvers that read them do not run
  const brokenSections = new Set<string>();
  // receivers with a schema problem, each with the keys the problems are at ('' = the entry itself):
  // left out of the notify resolver, which still checks the others, routes and escalation
  const brokenReceivers = new Map<string, Set<string>>();
  let data: ConfigFileData | null = parsed.success ? parsed.data : null;
  if (!parsed.success) {
    // the schema's message for a bad source or receiver type names neither the source / receiver nor a close type: replace it
    const typeProblems = [...sourceTypeProblems(value), ...receiverTypeProblems(value)];
    const schemaProblems = zodProblems(parsed.error.issues, configFileSchema).filter((p) => !typeProblems.some((t) => formatPath(t.path) === formatPath(p.path)));
    // a section whose only problems are unknown keys is checked further without them, so that its
    // resolver's problems (a receiver without a URL...) are listed in the same pass
    const withoutUnknownKeys = structuredClone(value);
    for (const p of [...schemaProblems, ...typeProblems]) {
      add(p.path, p.message);
      if (p.unknownKey === true) deleteAt(withoutUnknownKeys, p.path);
      else if (p.path[0] === 'receivers' && typeof p.path[1] === 'string') {
        const keys = brokenReceivers.get(p.path[1]) ?? new Set<string>();
        keys.add(String(p.path[2] ?? ''));
        brokenReceivers.set(p.path[1], keys);
      } else if (typeof p.path[0] === 'string') brokenSections.add(p.path[0]);
    }
    // cross-references the structure allows checking now, in sections whose resolvers cannot run
    const covered = (at: readonly (string | number)[]): boolean => schemaProblems.some((p) => formatPath(p.path).startsWith(formatPath(at)));
    const references = [...duplicateSourceNameProblems(value), ...receiverReferenceProblems(value)].filter((p) => !covered(p.path));
    for (const p of references) add(p.path, p.message);
    // the sections without schema problems, validated alone, so their resolvers' checks run too
    if (isPlainMap(withoutUnknownKeys)) {
      const sound = Object.fromEntries(Object.entries(withoutUnknownKeys).filter(([key]) => key in configFileSchema.shape && !brokenSections.has(key)));
      if (isPlainMap(sound.receivers) && brokenReceivers.size > 0) {
        sound.receivers = Object.fromEntries(Object.entries(sound.receivers).filter(([receiver]) => !brokenReceivers.has(receiver)));
      }
      const partial = configFileSchema.safeParse(sound);
      data = partial.success ? partial.data : null;
    }
  }
  let config: JagaConfig | null = null;
  if (data !== null) {
    const baseDir = dirname(file);
    const input = data;
    const detection = resolveDetectionConfig(input, baseDir);
    if (options.checkRuleFolders ?? options.requireSources === true) for (const p of ruleFolderProblems(input, baseDir)) add(p.path, p.message);
    /** Adds a resolver's problem (`path: message`) at the line its path points to. */
    const addResolverProblem = (problem: string): void => {
      const located = locateProblem(problem, value);
      if (located === null) problems.push({ line: 0, text: `${path}: ${problem}` });
      else add(located.path, located.message);
    };
    /** Runs one resolver when none of `sections` is broken; its problems are added where they point. */
    const slice = <T>(sections: readonly string[], resolveSlice: () => T): T | null => {
      if (sections.some((section) => brokenSections.has(section))) return null;
      try {
        return resolveSlice();
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        for (const problem of error.problems) addResolverProblem(problem);
        return null;
      }
    };
    const daemon = slice(DAEMON_SECTIONS, () => resolveDaemonConfig(input, baseDir, detection.timezone));
    // notify secrets may name any variable (`*_env`); JAGA_X_FILE secrets are visible as JAGA_X
    // broken routes, escalation or notify sections and broken receivers are left out of `input`; references
    // were checked on the raw file then
    const notifyOptions = { env: { ...env, ...resolvedEnv }, baseDir, checkReferences: parsed.success };
    const notify = slice(['receivers'], () => resolveNotifyConfig(input, notifyOptions));
    const rawReceivers = isPlainMap(value) && isPlainMap(value.receivers) ? value.receivers : {};
    for (const [receiver, brokenKeys] of brokenReceivers) {
      const raw = rawReceivers[receiver];
      if (!isPlainMap(raw) || brokenKeys.has('')) continue;
      for (const problem of brokenReceiverSecretProblems(receiver, raw, brokenKeys, notifyOptions)) addResolverProblem(problem);
    }
    // escalation is configured once (the `escalation:` section): the incidents stage's bounds come from it
    const incidents = slice(INCIDENTS_SECTIONS, () => resolveIncidentsConfig(input, notify === null ? {} : escalationBoundsMs(notify.escalation)));
    const http = slice(HTTP_SECTIONS, () => resolveHttpConfig(input, baseDir));
    // a file that is not valid YAML may hold sources the parser could not read: "no source" would mislead
    if (daemon !== null && options.requireSources === true && daemon.sources.length === 0 && syntax.length === 0) {
      add(['sources'], 'no source configured: add a log_folder or app_access source (jaga never falls back to demo data)');
    }
    if (parsed.success && daemon !== null && incidents !== null && notify !== null && http !== null) {
      config = Object.freeze({ file, detection, daemon, incidents, notify, http, env: Object.freeze(resolvedEnv) });
    }
  }
  if (problems.length > 0 || config === null) {
    const texts = [...new Set(problems.sort((a, b) => a.line - b.line).map((p) => p.text))];
    const count = texts.length;
    throw new ConfigError(`${count} problem${count === 1 ? '' : 's'} in ${path}:\n${texts.join('\n')}`, texts);
  }
  return config;
}

/**
 * The environment with every `JAGA_X_FILE` read into `JAGA_X` (content, trailing newline trimmed).
 * Only `JAGA_*` variables are kept. Problems: an unreadable file, or both `JAGA_X` and `JAGA_X_FILE`.
 */
function readEnvFiles(env: NodeJS.ProcessEnv, problems: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (key.startsWith('JAGA_') && value !== undefined && !key.endsWith('_FILE')) out[key] = value;
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('JAGA_') || !key.endsWith('_FILE') || value === undefined) continue;
    const target = key.slice(0, -'_FILE'.length);
    if (env[target] !== undefined) {
      problems.push(`${key}: give ${target} or ${key}, not both`);
      continue;
    }
    try {
      out[target] = readFileSync(value, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      problems.push(`${key}: cannot read ${value} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  return out;
}

/** Writes the overrides into `value` (a parsed YAML map); returns formatted path → variable name. */
function applyEnvOverrides(value: Record<string, unknown>, env: Record<string, string>): Map<string, string> {
  const applied = new Map<string, string>();
  const known = new Set(Object.keys(configFileSchema.shape));
  for (const override of ENV_OVERRIDES) {
    const text = env[override.env];
    if (text === undefined || !known.has(override.path[0] as string)) continue;
    let node: Record<string, unknown> = value;
    for (const key of override.path.slice(0, -1)) {
      const next = node[key];
      if (!isPlainMap(next)) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    for (const replaced of override.replaces ?? []) delete node[replaced];
    node[override.path[override.path.length - 1] as string] = text;
    applied.set(formatPath([...override.path]), override.env);
  }
  return applied;
}

/**
 * Splits a resolver's problem `path: message` (path as `formatPath` writes it, e.g.
 * `receivers.pager.fallback`, `sources[1].name`) into its path and message, or null when it does not
 * start with a path. Keys holding dots (receiver names may) are matched against `value`'s keys.
 */
function locateProblem(problem: string, value: unknown): { path: (string | number)[]; message: string } | null {
  const match = /^([A-Za-z_][^\s:]*): ([\s\S]*)$/.exec(problem);
  if (match === null) return null;
  const tokens: (string | number)[] = [];
  for (const m of (match[1] as string).matchAll(/([^.[\]]+)|\[(\d+)\]/g)) tokens.push(m[2] === undefined ? (m[1] as string) : Number(m[2]));
  const path: (string | number)[] = [];
  let node: unknown = value;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string | number;
    if (typeof token === 'string' && isPlainMap(node)) {
      // the longest run of name tokens that is one key (a receiver named `ops.slack`)
      let end = i;
      for (let j = tokens.length - 1; j > i; j--) {
        const run = tokens.slice(i, j + 1);
        if (run.every((t) => typeof t === 'string') && run.join('.') in node) {
          end = j;
          break;
        }
      }
      const key = tokens.slice(i, end + 1).join('.');
      path.push(key);
      node = node[key];
      i = end;
    } else {
      path.push(token);
      node = Array.isArray(node) && typeof token === 'number' ? node[token] : undefined;
    }
  }
  return { path, message: match[2] as string };
}

function isPlainMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Removes the key at `path` (a map key) from `value` when every step of the path exists. */
function deleteAt(value: unknown, path: readonly (string | number)[]): void {
  let current = value;
  for (const segment of path.slice(0, -1)) {
    if (current === null || typeof current !== 'object') return;
    current = (current as Record<string | number, unknown>)[segment];
  }
  const last = path[path.length - 1];
  if (last !== undefined && isPlainMap(current)) delete current[String(last)];
}

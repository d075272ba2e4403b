import { readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../domain/errors.js';
import { suggestionSuffix } from '../lib/did-you-mean.js';
import { durationSchema } from '../lib/duration.js';
import { isPostgresUrl, POSTGRES_URL_MESSAGE } from '../lib/postgres-url.js';
import type { PathProblem } from '../lib/zod-problems.js';
import { isIanaTimeZone } from './detection-config.js';

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'a name is 1-63 letters, digits, _ . - (starting with a letter or digit)');
const nonEmpty = z.string().min(1);
/** Message of a store or source URL that is not a PostgreSQL URL; never shows the value (it may hold a password). */
const postgresUrl = z.string().min(1).refine((text) => isPostgresUrl(text), { message: POSTGRES_URL_MESSAGE });
const zone = z.string().refine(isIanaTimeZone, { message: 'unknown IANA time zone (e.g. UTC, Europe/Berlin, Asia/Jakarta)' });

const logFolderSourceSchema = z.strictObject({
  name,
  type: z.literal('log_folder'),
  path: nonEmpty,
  format: z.enum(['auto', 'stderr', 'csvlog', 'jsonlog']).optional(),
  glob: nonEmpty.optional(),
  log_line_prefix: z.string().optional(),
  timezone: zone.optional(),
  start_at: z.enum(['beginning', 'end']).optional(),
  server: name.optional(),
});

const appAccessSourceSchema = z.strictObject({
  name,
  type: z.literal('app_access'),
  url: postgresUrl.optional(),
  url_file: nonEmpty.optional(),
  poll_interval: durationSchema.optional(),
});

/** Source types `sources[i].type` accepts (the discriminator of the source schemas), in the order messages list them. */
export const SOURCE_TYPES: readonly string[] = Object.freeze([logFolderSourceSchema.shape.type.value, appAccessSourceSchema.shape.type.value]);

/**
 * The daemon sections of jaga.yaml (issue 6 minimal `jaga run`, hardened by issue 8), as zod shape
 * entries spread into the top-level strict schema (`configFileSchema`):
 * ```yaml
 * agent: { name: db-eu-1 }                 # default "jaga"; agents sharing one store need distinct names
 * store:                                   # one of url | url_file | data_dir; default data_dir ./data
 *   url: postgres://jaga@store-host/jaga   # or url_file: /run/secrets/store_url (read at start)
 * sources:                                 # at least one for `jaga run`
 *   - { name: pg1, type: log_folder, path: /var/log/postgresql, format: auto,
 *       log_line_prefix: '%m [%p] %q%u@%d %r %a: ', timezone: UTC, start_at: end, server: crm }
 *   - { name: app, type: app_access, url_file: /run/secrets/app_db_url, poll_interval: 5s }
 * pipeline: { commit_interval: 1s, max_batch_events: 5000, queue_events: 20000, jobs_interval: 10s }
 * ignore: { roles: [jaga], application_names: ['jaga', 'jaga:*'] }   # jaga's own traffic (role AND name)
 * shutdown_timeout: 10s                    # graceful stop deadline after SIGTERM/SIGINT (then exit 3)
 * ```
 * Relative paths are relative to the config file.
 */
export const daemonConfigShape = {
  agent: z.strictObject({ name: name.optional() }).optional(),
  store: z
    .strictObject({ url: postgresUrl.optional(), url_file: nonEmpty.optional(), data_dir: nonEmpty.optional() })
    .refine((s) => [s.url, s.url_file, s.data_dir].filter((v) => v !== undefined).length <= 1, { message: 'give one of url, url_file and data_dir' })
    .optional(),
  sources: z.array(z.discriminatedUnion('type', [logFolderSourceSchema, appAccessSourceSchema])).optional(),
  pipeline: z
    .strictObject({
      commit_interval: durationSchema.optional(),
      max_batch_events: z.number().int().min(1).max(1_000_000).optional(),
      queue_events: z.number().int().min(1).max(10_000_000).optional(),
      jobs_interval: durationSchema.optional(),
    })
    .optional(),
  ignore: z.strictObject({ roles: z.array(nonEmpty).optional(), application_names: z.array(nonEmpty).optional() }).optional(),
  shutdown_timeout: durationSchema.refine((ms) => ms > 0, { message: 'must be longer than 0' }).optional(),
};

/** The daemon sections as written, after zod validation (durations already in ms). */
export interface DaemonConfigInput {
  agent?: { name?: string | undefined } | undefined;
  store?: { url?: string | undefined; url_file?: string | undefined; data_dir?: string | undefined } | undefined;
  sources?: (z.infer<typeof logFolderSourceSchema> | z.infer<typeof appAccessSourceSchema>)[] | undefined;
  pipeline?: { commit_interval?: number | undefined; max_batch_events?: number | undefined; queue_events?: number | undefined; jobs_interval?: number | undefined } | undefined;
  ignore?: { roles?: string[] | undefined; application_names?: string[] | undefined } | undefined;
  shutdown_timeout?: number | undefined;
}

/** A PostgreSQL log folder to tail. */
export interface LogFolderSourceConfig {
  type: 'log_folder';
  name: string;
  /** absolute folder path */
  path: string;
  format: 'auto' | 'stderr' | 'csvlog' | 'jsonlog';
  /** base-name glob; null: by format */
  glob: string | null;
  /** the server's exact log_line_prefix (stderr); null: PostgreSQL's default `%m [%p] ` */
  logLinePrefix: string | null;
  /** IANA zone of the server's log_timezone; default the detection timezone */
  timezone: string;
  startAt: 'beginning' | 'end';
  /** server name stamped on events (part of every IncidentFingerprint); default the source name */
  server: string;
}

/** An app access table (`jaga_access_event`) read by LISTEN/NOTIFY and cursor. */
export interface AppAccessSourceConfig {
  type: 'app_access';
  name: string;
  /** connection URL of the monitored database (a secret: never logged) */
  url: string;
  /** fallback poll period, ms (default 5,000) */
  pollIntervalMs: number;
}

export type SourceConfig = LogFolderSourceConfig | AppAccessSourceConfig;

/** Where jaga keeps its state. */
export type StoreConfig = { kind: 'postgres'; url: string } | { kind: 'embedded'; dataDir: string };

/** The daemon slice of the config, defaults applied, frozen. */
export interface DaemonConfig {
  /** this agent's name (default `jaga`): keys its checkpoints and detector state in a shared store */
  agentName: string;
  store: StoreConfig;
  sources: readonly SourceConfig[];
  pipeline: {
    /** longest time between commits while data flows, ms (default 1,000) */
    commitIntervalMs: number;
    /**
     * events that force a commit before the interval, default 5,000; while a source is behind (a
     * backlog) a commit waits for 20 x this many events or 5 x `commitIntervalMs` (LivePipeline)
     */
    maxBatchEvents: number;
    /** events buffered between the sources and detection (backpressure bound), default 20,000 */
    queueEvents: number;
    /** period of the singleton jobs (auto-resolve, escalation, reminders), ms (default 10,000) */
    jobsIntervalMs: number;
  };
  /**
   * jaga's own traffic, dropped before detection: an event is ignored when at least one list is
   * non-empty and it matches every non-empty list (its user is in `roles` AND its application_name
   * matches one of `applicationNames`, `*` = any characters). Both lists together, so neither a
   * shared role (e.g. postgres) nor an application name a client can set hides other traffic.
   * Default: the users of the store URL and app access URLs with `jaga`, `jaga:*`; none when jaga
   * has no connection with a known role.
   */
  ignore: { roles: readonly string[]; applicationNames: readonly string[] };
  /**
   * how long the graceful stop (intake stopped, pipeline drained and committed, dispatcher, HTTP and
   * store closed) may take after the first SIGTERM/SIGINT before `jaga run` exits with 3, ms (default 10,000)
   */
  shutdownTimeoutMs: number;
}

/** Default daemon values. */
export const DAEMON_DEFAULTS = Object.freeze({
  agentName: 'jaga',
  dataDir: './data',
  commitIntervalMs: 1_000,
  maxBatchEvents: 5_000,
  queueEvents: 20_000,
  jobsIntervalMs: 10_000,
  appPollIntervalMs: 5_000,
  shutdownTimeoutMs: 10_000,
  /** jaga's own connections set application_name `jaga` or `jaga:<source>:<role>` */
  ignoredApplicationNames: ['jaga', 'jaga:*'],
});

/**
 * Applies defaults, resolves relative paths against `baseDir` and reads `*_file` secrets (trailing
 * newline trimmed). jaga's own role (the user of the store URL and of each app access URL) and
 * application names (`jaga`, `jaga:*`) are ignored unless `ignore` says otherwise.
 * @param timezone the detection section's timezone, default for log folder sources
 * @throws ConfigError listing every unreadable secret file (`store.url_file`, `sources[1].url_file`)
 */
export function resolveDaemonConfig(input: DaemonConfigInput, baseDir: string, timezone = 'UTC'): DaemonConfig {
  const problems: string[] = [];
  const secret = (path: string, file: string): string => {
    try {
      return readFileSync(resolve(baseDir, file), 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      problems.push(`${path}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      return '';
    }
  };
  const storeInput = input.store ?? {};
  let store: StoreConfig;
  if (storeInput.url !== undefined) store = { kind: 'postgres', url: storeInput.url };
  else if (storeInput.url_file !== undefined) {
    store = { kind: 'postgres', url: secret('store.url_file', storeInput.url_file) };
    if (store.url !== '' && !isPostgresUrl(store.url)) problems.push(`store.url_file: the file's content: ${POSTGRES_URL_MESSAGE}`);
  }
  else store = { kind: 'embedded', dataDir: resolve(baseDir, storeInput.data_dir ?? DAEMON_DEFAULTS.dataDir) };

  const sources: SourceConfig[] = [];
  for (const p of duplicateSourceNameProblems(input)) problems.push(`sources[${p.path[1]}].name: ${p.message}`);
  for (const [index, source] of (input.sources ?? []).entries()) {
    if (source.type === 'log_folder') {
      sources.push(
        Object.freeze({
          type: 'log_folder',
          name: source.name,
          path: resolve(baseDir, source.path),
          format: source.format ?? 'auto',
          glob: source.glob ?? null,
          logLinePrefix: source.log_line_prefix ?? null,
          timezone: source.timezone ?? timezone,
          startAt: source.start_at ?? 'beginning',
          server: source.server ?? source.name,
        }),
      );
    } else {
      let url = source.url ?? null;
      if (url === null && source.url_file !== undefined) {
        url = secret(`sources[${index}].url_file`, source.url_file);
        if (url !== '' && !isPostgresUrl(url)) problems.push(`sources[${index}].url_file: the file's content: ${POSTGRES_URL_MESSAGE}`);
      }
      if (url === null) problems.push(`sources[${index}]: an app_access source needs url or url_file`);
      if (source.url !== undefined && source.url_file !== undefined) problems.push(`sources[${index}]: give one of url and url_file`);
      sources.push(Object.freeze({ type: 'app_access', name: source.name, url: url ?? '', pollIntervalMs: source.poll_interval ?? DAEMON_DEFAULTS.appPollIntervalMs }));
    }
  }
  problems.push(...sharedFolderProblems(sources));
  if (problems.length > 0) throw new ConfigError(problems.join('\n'), problems);

  const ownRoles = [store.kind === 'postgres' ? urlUser(store.url) : null, ...sources.map((s) => (s.type === 'app_access' ? urlUser(s.url) : null))];
  const pipeline = input.pipeline ?? {};
  return Object.freeze({
    agentName: input.agent?.name ?? DAEMON_DEFAULTS.agentName,
    store: Object.freeze(store),
    sources: Object.freeze(sources),
    pipeline: Object.freeze({
      commitIntervalMs: pipeline.commit_interval ?? DAEMON_DEFAULTS.commitIntervalMs,
      maxBatchEvents: pipeline.max_batch_events ?? DAEMON_DEFAULTS.maxBatchEvents,
      queueEvents: pipeline.queue_events ?? DAEMON_DEFAULTS.queueEvents,
      jobsIntervalMs: pipeline.jobs_interval ?? DAEMON_DEFAULTS.jobsIntervalMs,
    }),
    ignore: Object.freeze(ignoreOf(input.ignore, unique(ownRoles.filter((r): r is string => r !== null)))),
    shutdownTimeoutMs: input.shutdown_timeout ?? DAEMON_DEFAULTS.shutdownTimeoutMs,
  });
}

/**
 * Two log_folder sources reading the same files: the same folder (symbolic links resolved) without
 * a glob that tells their files apart (no glob on either, or the same glob). A server logging to several destinations writes
 * every record to each (.log, .csv, .json), so such sources count every event twice.
 * @returns e.g. `sources[1].path: source "pg1-csv" reads the same folder as source "pg1" (/var/log/pg): ...`
 */
function sharedFolderProblems(sources: readonly SourceConfig[]): string[] {
  const problems: string[] = [];
  const folders = sources.map((source, index) => ({ source, index })).filter((s): s is { source: LogFolderSourceConfig; index: number } => s.source.type === 'log_folder');
  const real = new Map(folders.map((f) => [f.source, realFolder(f.source.path)]));
  for (const [at, later] of folders.entries()) {
    const earlier = folders
      .slice(0, at)
      .find((f) => real.get(f.source) === real.get(later.source) && (f.source.glob === null || later.source.glob === null || f.source.glob === later.source.glob));
    if (earlier === undefined) continue;
    problems.push(
      `sources[${later.index}].path: source "${later.source.name}" reads the same folder as source "${earlier.source.name}" (${later.source.path}): ` +
        'the server writes every record to each of its log destinations, so events would count twice; read one destination per server ' +
        '(one source per folder), or, for files of different servers in one folder, give each source a glob matching only its server\'s files',
    );
  }
  return problems;
}

/** The folder with symbolic links resolved, or the path as given when it does not exist (yet). */
function realFolder(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return path;
  }
}

/**
 * Source names used twice, on the raw YAML value (validated or not: entries without a string name are
 * skipped), so `jaga config check` reports them together with schema problems.
 * @returns one problem per later use, e.g. `{ path: ['sources', 1, 'name'], message: '"pg1" is used by another source' }`
 */
export function duplicateSourceNameProblems(value: unknown): { path: (string | number)[]; message: string }[] {
  const list = typeof value === 'object' && value !== null ? (value as { sources?: unknown }).sources : undefined;
  if (!Array.isArray(list)) return [];
  const seen = new Set<string>();
  const problems: { path: (string | number)[]; message: string }[] = [];
  list.forEach((source: unknown, index) => {
    const name = typeof source === 'object' && source !== null ? (source as { name?: unknown }).name : undefined;
    if (typeof name !== 'string') return;
    if (seen.has(name)) problems.push({ path: ['sources', index, 'name'], message: `"${name}" is used by another source` });
    seen.add(name);
  });
  return problems;
}

/**
 * The sources whose `type` is missing or not one of SOURCE_TYPES, from the raw YAML value (validated
 * or not; entries that are not maps are skipped: the schema reports them). The schema's own message
 * for a bad discriminator names neither the source nor a close type; `loadConfigFile` shows these instead.
 * @returns e.g. `{ path: ['sources', 0, 'type'], message: 'source "pg1" has unknown type "log_foldr" (did you mean "log_folder"?); types: log_folder, app_access' }`;
 *   a source without a string name is called `source #2` (1-based position)
 */
export function sourceTypeProblems(value: unknown): PathProblem[] {
  const list = typeof value === 'object' && value !== null ? (value as { sources?: unknown }).sources : undefined;
  if (!Array.isArray(list)) return [];
  const types = SOURCE_TYPES.join(', ');
  const problems: PathProblem[] = [];
  list.forEach((source: unknown, index) => {
    if (typeof source !== 'object' || source === null || Array.isArray(source)) return;
    const { name, type } = source as { name?: unknown; type?: unknown };
    if (typeof type === 'string' && SOURCE_TYPES.includes(type)) return;
    const which = typeof name === 'string' ? `source "${name}"` : `source #${index + 1}`;
    const message =
      type === undefined
        ? `${which} has no type; give one of: ${types}`
        : typeof type === 'string'
          ? `${which} has unknown type "${type}"${suggestionSuffix(type, SOURCE_TYPES)}; types: ${types}`
          : `${which} has a type that is not a string; give one of: ${types}`;
    problems.push({ path: ['sources', index, 'type'], message });
  });
  return problems;
}

/**
 * The ignore slice: as configured, else jaga's own traffic (its roles AND its application names) when
 * jaga connects to a monitored server with a known role, else nothing.
 */
function ignoreOf(input: DaemonConfigInput['ignore'], ownRoles: readonly string[]): DaemonConfig['ignore'] {
  const defaults = ownRoles.length > 0 ? { roles: ownRoles, applicationNames: DAEMON_DEFAULTS.ignoredApplicationNames } : { roles: [], applicationNames: [] };
  return {
    roles: Object.freeze([...(input?.roles ?? defaults.roles)]),
    applicationNames: Object.freeze([...(input?.application_names ?? defaults.applicationNames)]),
  };
}

/** The user name of a PostgreSQL URL, or null when it has none or does not parse. */
function urlUser(url: string): string | null {
  try {
    const user = decodeURIComponent(new URL(url).username);
    return user === '' ? null : user;
  } catch (error) {
    if (error instanceof TypeError || error instanceof URIError) return null;
    throw error;
  }
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

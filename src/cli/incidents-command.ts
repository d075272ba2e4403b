import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { resolveDetectionConfig } from '../config/detection-config.js';
import { resolveIncidentsConfig } from '../config/incidents-config.js';
import { type JagaConfig, loadConfigFile } from '../config/load-config-file.js';
import { openStore } from '../db/open-store.js';
import type { Store } from '../db/store.js';
import { SEVERITIES, type Severity } from '../domain/detection.js';
import { ConfigError, RuleLoadError, StoreError } from '../domain/errors.js';
import { DETECTOR_REGISTRY } from '../detect/detector-registry.js';
import { loadRuleSet } from '../detect/rule-loader.js';
import { didYouMean } from '../lib/did-you-mean.js';
import { IncidentConflictError, IncidentNotFoundError, IncidentStateError } from '../domain/incident-errors.js';
import { toTimelineEntryJson } from '../domain/incident-timeline.js';
import { deadlineStatus, INCIDENT_STATUSES, toIncidentDetailJson, toIncidentJson, type IncidentStatus } from '../domain/incident.js';
import { breachRegisterCsv, breachRegisterEntry } from '../incidents/breach-register.js';
import { INCIDENT_LIST_MAX_LIMIT, IncidentRepository, type IncidentListFilter } from '../incidents/incident-repository.js';
import { IncidentService } from '../incidents/incident-service.js';
import { TimelineRepository } from '../incidents/timeline-repository.js';
import { parseCalendarTime } from '../lib/calendar-time.js';
import { durationProblem, parseDuration } from '../lib/duration.js';
import { readDaemonHandle } from '../pipeline/daemon-handle.js';
import { openResponderActions } from '../pipeline/responder-actions.js';
import { argumentsError, CliError } from './cli-error.js';
import { requireExistingStoreFolder } from './existing-store-folder.js';
import { DaemonApiError, DaemonClient } from './daemon-client.js';
import { writeLines } from './write-lines.js';
import { writeProblems } from './write-problems.js';

const HELP = `usage: jaga incidents list    STORE [--status S] [--severity S] [--detector ID] [--since T] [--limit N]
       jaga incidents show    STORE ID
       jaga incidents ack     STORE ID [--note TEXT] [--as NAME] [--version N]
       jaga incidents resolve STORE ID [--note TEXT] [--as NAME] [--version N]
       jaga incidents export  STORE [--format csv|json] [list filters]
  STORE: --store URL | --data-dir DIR | --config FILE (the store of jaga.yaml)

Works the incident queue in jaga's store: a PostgreSQL URL, or the data folder of the embedded store.
While a jaga daemon holds the embedded store, list, show, ack and resolve go through its HTTP API
(it leaves its URL and a local admin token in DIR/daemon.json, mode 0600); the actor is then
responder:NAME with --as NAME (the daemon's audit log adds that local-cli acted for NAME), else
responder:local-cli, and the daemon notifies the change. export needs the store itself. A --data-dir (or
store.data_dir of --config) that holds no store is refused (exit 2): only jaga run and jaga demo create one.
  list     one incident per line (JSON, the list shape), most recent activity first; none: a note on stderr
  show     one incident as pretty JSON: {"incident": detail, "deadlines": [... with left_ms], "timeline": [...]}
  ack      acknowledge an open incident; resolve: resolve a live one. Prints {"change_id","kind","actor","at","incident"}
           (change_id null through the daemon's API). The change is recorded in the timeline. With --config it is
           also notified (outbox rows in the same transaction, routed by the config's receivers and routes, delivered
           by a running daemon); with only --store / --data-dir it is not.
  export   the breach register: what, when, data classes, deadlines, status, who acknowledged/resolved
           it when, what was done. csv (RFC 4180, default) or json (one JSON object per line); oldest first.

  --status    open, acknowledged or resolved (repeatable)     --severity  info..critical (repeatable)
  --detector  rule id                                         --since     ISO-8601 time, or a duration back from now (24h, 7d)
  --limit     at most N incidents (default 100 for list, ${INCIDENT_LIST_MAX_LIMIT} for export)
  --note      the responder's note        --as  responder name (actor responder:NAME; default the OS user)
  --version   the incident version you saw: refused with exit 1 when it changed since
Exit 0 done, 1 the incident does not exist / changed / is in the wrong state, 2 bad usage or store
(also a --detector id that no rule and no incident has: the message names the closest rule ids).
`;

const STORE_OPTIONS = { store: { type: 'string' }, 'data-dir': { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } } as const;
const FILTER_OPTIONS = { status: { type: 'string', multiple: true }, severity: { type: 'string', multiple: true }, detector: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' } } as const;
const ACTION_OPTIONS = { note: { type: 'string' }, as: { type: 'string' }, version: { type: 'string' } } as const;
const SUBCOMMANDS = ['list', 'show', 'ack', 'resolve', 'export'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

/** What `incidentsCommand` writes to and reads the time and user from (tests inject them). */
export interface IncidentsCommandDeps {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** wall clock (time left of deadlines, action times, `--since 24h`); default `new Date()` */
  now?: () => Date;
  /** the default responder name; default the OS user name */
  osUser?: () => string;
}

/** Parsed options of any subcommand (the ones a subcommand does not take are refused by parseArgs). */
type Values = Partial<Record<'store' | 'data-dir' | 'config' | 'detector' | 'since' | 'limit' | 'note' | 'as' | 'version' | 'format', string>> &
  Partial<Record<'status' | 'severity', string[]>> & { help?: boolean };

/**
 * `jaga incidents list|show|ack|resolve|export` (issue 6, see HELP).
 * @param args the arguments after `incidents`
 * @returns exit code: 0 done, 1 incident not found, version conflict or wrong state (message on stderr), 2 store failure
 * @throws CliError for bad usage (main prints it, exit 2)
 */
export async function incidentsCommand(args: string[], deps: IncidentsCommandDeps = {}): Promise<number> {
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    stdout.write(HELP);
    return sub === undefined ? 2 : 0;
  }
  if (!SUBCOMMANDS.includes(sub as Subcommand)) throw new CliError(`unknown subcommand "${sub}": expected ${SUBCOMMANDS.join(', ')}`);
  const { values, positionals } = parse(sub as Subcommand, rest);
  if (values.help) {
    stdout.write(HELP);
    return 0;
  }
  const now = deps.now ?? (() => new Date());
  let config: JagaConfig | null = null;
  if (values.config !== undefined) {
    try {
      config = await loadConfigFile(values.config);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      writeProblems(stderr, error.problems);
      return 2;
    }
  }
  const target = storeTarget(values, config);
  const plan = planFor(sub as Subcommand, values, positionals, now, deps.osUser ?? defaultUser, config);
  if (target.dataDir !== undefined) await requireExistingStoreFolder(target.dataDir, values['data-dir'] !== undefined ? '--data-dir' : `store.data_dir of ${values.config}`);
  let store: Store;
  try {
    store = await openStore(target.url !== undefined ? { url: target.url } : { dataDir: target.dataDir });
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    const handle = target.dataDir === undefined ? null : await readDaemonHandle(target.dataDir).catch(() => null);
    if (handle === null || plan.remote === null) {
      stderr.write(`jaga incidents ${sub}: cannot open the store: ${error.message}\n`);
      return 2;
    }
    // the daemon holds the embedded store: ask it over its HTTP API
    try {
      const count = await plan.remote(new DaemonClient({ baseUrl: handle.url, token: handle.token }), stdout, stderr);
      return await finish(sub, values.detector, count, config, stderr);
    } catch (remoteError) {
      if (remoteError instanceof DaemonApiError) {
        stderr.write(`jaga incidents ${sub}: ${remoteError.message}\n`);
        return remoteError.status === 404 || remoteError.status === 409 ? 1 : 2;
      }
      stderr.write(`jaga incidents ${sub}: the store is held by a daemon that does not answer at ${handle.url} (${(remoteError as Error).message})\n`);
      return 2;
    }
  }
  let count: number | null;
  try {
    count = await plan.local(store, stdout, stderr);
  } catch (error) {
    if (error instanceof IncidentNotFoundError || error instanceof IncidentConflictError || error instanceof IncidentStateError) {
      stderr.write(`jaga incidents ${sub}: ${error.message}\n`);
      return 1;
    }
    if (error instanceof StoreError) {
      stderr.write(`jaga incidents ${sub}: store error: ${error.message}\n`);
      return 2;
    }
    throw error;
  } finally {
    await store.close();
  }
  return finish(sub, values.detector, count, config, stderr);
}

/**
 * The exit code of a run whose command returned `count` (incidents listed or exported; null for the
 * other subcommands): an unknown `--detector` exits 2 with its message alone (`unknownDetectorExit`);
 * else a `list` that matched nothing says so on stderr (`NO_INCIDENTS`; stdout stays empty).
 */
async function finish(sub: string, detector: string | undefined, count: number | null, config: JagaConfig | null, stderr: NodeJS.WritableStream): Promise<number> {
  const code = await unknownDetectorExit(sub, detector, count, config, stderr);
  if (code === 0 && count === 0 && sub === 'list') stderr.write(NO_INCIDENTS);
  return code;
}

/**
 * After a list or export with `--detector ID` found nothing: when ID is not a rule id of the rule set
 * (the config's rules, overlays, lists and catalog, else the shipped rules), says so on stderr with
 * the closest rule ids and returns 2 (bad usage); else 0. Incidents of a rule since removed are still
 * listed (the check runs only when nothing matched), and a rule set that does not load skips it.
 * @returns the exit code: 0, or 2 with e.g. `jaga incidents list: unknown detector "jaga.auth.brute_forse"
 *   (did you mean "jaga.auth.brute_force"?): no rule has this id and no incident in the store names it`
 */
async function unknownDetectorExit(sub: string, detector: string | undefined, count: number | null, config: JagaConfig | null, stderr: NodeJS.WritableStream): Promise<number> {
  if (detector === undefined || count !== 0) return 0;
  const detection = config?.detection ?? resolveDetectionConfig({}, process.cwd());
  let ids: string[];
  try {
    const loaded = await loadRuleSet({ ruleDirs: detection.ruleDirs, overlayDirs: detection.overlayDirs, lists: detection.lists, catalog: detection.catalog, registry: DETECTOR_REGISTRY });
    ids = [...loaded.documents.keys()];
  } catch (error) {
    if (error instanceof RuleLoadError) return 0;
    throw error;
  }
  if (ids.includes(detector)) return 0;
  stderr.write(`jaga incidents ${sub}: unknown detector ${JSON.stringify(detector)}${nearestIds(detector, ids)}: no rule has this id and no incident in the store names it\n`);
  return 2;
}

/**
 * ` (did you mean "a"?)` / ` (did you mean "a", "b" or "c"?)`, or '': the id closest to `word` by
 * edit distance (at most 2, the project's did-you-mean), then the ids holding `word` (4 or more characters, case-insensitive,
 * e.g. `brute_force` → `jaga.auth.brute_force`), at most 3 in all, sorted by id.
 */
function nearestIds(word: string, ids: readonly string[]): string {
  const closest = didYouMean(word, ids);
  const holding = word.length < 4 ? [] : ids.filter((id) => id.toLowerCase().includes(word.toLowerCase()) && id !== closest).sort();
  const picks = [...(closest === null ? [] : [closest]), ...holding].slice(0, 3).map((id) => JSON.stringify(id));
  if (picks.length === 0) return '';
  return ` (did you mean ${picks.length === 1 ? picks[0] : `${picks.slice(0, -1).join(', ')} or ${picks[picks.length - 1]}`}?)`;
}

function parse(sub: Subcommand, args: string[]): { values: Values; positionals: string[] } {
  const options =
    sub === 'list' ? { ...STORE_OPTIONS, ...FILTER_OPTIONS }
    : sub === 'export' ? { ...STORE_OPTIONS, ...FILTER_OPTIONS, format: { type: 'string', default: 'csv' } as const }
    : sub === 'show' ? STORE_OPTIONS
    : { ...STORE_OPTIONS, ...ACTION_OPTIONS };
  try {
    return parseArgs({ args, options, allowPositionals: true }) as { values: Values; positionals: string[] };
  } catch (error) {
    throw argumentsError(error);
  }
}

/** Where the store is: --store or --data-dir, else the store of --config. @throws CliError when none or both are given */
function storeTarget(values: Values, config: JagaConfig | null): { url: string; dataDir?: undefined } | { dataDir: string; url?: undefined } {
  if (values.store && values['data-dir']) throw new CliError('give either --store or --data-dir, not both');
  if (values.store) return { url: values.store };
  if (values['data-dir']) return { dataDir: values['data-dir'] };
  if (config !== null) return config.daemon.store.kind === 'postgres' ? { url: config.daemon.store.url } : { dataDir: config.daemon.store.dataDir };
  throw new CliError('give the store: --store URL (PostgreSQL), --data-dir DIR (embedded) or --config FILE');
}

/** What a subcommand does on the store itself, and through a running daemon's API (null: not possible there). */
interface Plan {
  /** @returns list / export: the number of incidents written; others: null */
  local: (store: Store, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream) => Promise<number | null>;
  remote: ((client: DaemonClient, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream) => Promise<number | null>) | null;
}

/** Validates the options of a subcommand up front (before the store opens) and returns what it does. */
function planFor(sub: Subcommand, values: Values, positionals: string[], now: () => Date, osUser: () => string, config: JagaConfig | null): Plan {
  if (!values.store && !values['data-dir'] && config === null) throw new CliError('give the store: --store URL (PostgreSQL), --data-dir DIR (embedded) or --config FILE');
  if (sub === 'list' || sub === 'export') {
    if (positionals.length > 0) throw new CliError(`unexpected argument "${positionals[0]}"`);
    const filter = listFilter(values, now, sub === 'export' ? INCIDENT_LIST_MAX_LIMIT : undefined);
    if (sub === 'list') {
      return { local: (store, stdout, stderr) => list(store, stdout, stderr, filter), remote: (client, stdout, stderr) => listRemote(client, stdout, stderr, filter) };
    }
    if (values.format !== 'csv' && values.format !== 'json') throw new CliError(`--format must be csv or json, not "${values.format}"`);
    const format = values.format;
    return { local: (store, stdout) => exportRegister(store, stdout, filter, format), remote: null };
  }
  if (positionals.length !== 1) throw new CliError(`${sub} takes one incident ID`);
  const id = positiveInteger(positionals[0]!, 'ID');
  if (sub === 'show') {
    return {
      local: async (store, stdout) => {
        await show(store, stdout, id, now());
        return null;
      },
      remote: async (client, stdout) => {
        const { timeline, ...incident } = await client.getIncident(id);
        await writeLines(stdout, [JSON.stringify({ incident, deadlines: deadlineStatus(incident, now()), timeline }, null, 2)]);
        return null;
      },
    };
  }
  const actor = `responder:${responderName(values.as ?? osUser())}`;
  const expectedVersion = values.version === undefined ? null : positiveInteger(values.version, '--version');
  const by = { actor, note: values.note === undefined || values.note === '' ? null : values.note, expectedVersion };
  const move = sub === 'ack' ? 'acknowledge' : 'resolve';
  return {
    local: async (store, stdout) => {
      const at = now();
      let change;
      if (config !== null) {
        // with the config: the change is notified (outbox rows in the same transaction)
        change = await (await openResponderActions(store, config, { now })).act(id, move, by, at);
      } else {
        const service = new IncidentService(store, { config: resolveIncidentsConfig({}) });
        change = await store.transaction((tx) => service[move](tx, id, by, at));
      }
      const line = { change_id: change.id, kind: change.kind, actor: change.actor, at: change.at.toISOString(), incident: toIncidentJson(change.incident) };
      await writeLines(stdout, [JSON.stringify(line)]);
      return null;
    },
    remote: async (client, stdout) => {
      const version = expectedVersion ?? (await client.getIncident(id)).version;
      // --as goes along (the daemon's local-cli token is an admin: it may act for the responder named)
      const asked = values.as === undefined ? null : responderName(values.as);
      const { incident, actor: recorded } = await client.actFor(id, sub === 'ack' ? 'ack' : 'resolve', version, by.note, asked);
      const line = { change_id: null, kind: move === 'acknowledge' ? 'acknowledged' : 'resolved', actor: recorded, at: now().toISOString(), incident };
      await writeLines(stdout, [JSON.stringify(line)]);
      return null;
    },
  };
}

/** What `list` says on stderr when no incident matches: stdout stays empty (it is JSON lines for scripts). */
const NO_INCIDENTS = 'jaga incidents list: no incident matches (0 lines)\n';

async function listRemote(client: DaemonClient, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream, filter: IncidentListFilter): Promise<number> {
  const query: Record<string, string> = {};
  if (filter.status !== undefined) query.status = typeof filter.status === 'string' ? filter.status : filter.status.join(',');
  if (filter.severity !== undefined) query.severity = typeof filter.severity === 'string' ? filter.severity : filter.severity.join(',');
  if (filter.detector !== undefined) query.detector = filter.detector;
  if (filter.since !== undefined) query.since = new Date(filter.since).toISOString();
  if (filter.limit !== undefined) query.limit = String(filter.limit);
  const incidents = await client.listIncidents(query);
  if (incidents.length > 0) await writeLines(stdout, incidents.map((incident) => JSON.stringify(incident)));
  return incidents.length;
}

async function list(store: Store, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream, filter: IncidentListFilter): Promise<number> {
  const incidents = await new IncidentRepository(store).list(filter);
  if (incidents.length > 0) await writeLines(stdout, incidents.map((incident) => JSON.stringify(toIncidentJson(incident))));
  return incidents.length;
}

async function show(store: Store, stdout: NodeJS.WritableStream, id: number, now: Date): Promise<void> {
  const incident = await new IncidentRepository(store).get(id);
  if (incident === null) throw new IncidentNotFoundError(id);
  const timeline = await new TimelineRepository(store).list(id);
  const document = { incident: toIncidentDetailJson(incident), deadlines: deadlineStatus(incident, now), timeline: timeline.map(toTimelineEntryJson) };
  await writeLines(stdout, [JSON.stringify(document, null, 2)]);
}

async function exportRegister(store: Store, stdout: NodeJS.WritableStream, filter: IncidentListFilter, format: 'csv' | 'json'): Promise<number> {
  const incidents = (await new IncidentRepository(store).list(filter)).sort((a, b) => a.id - b.id);
  const timelines = await new TimelineRepository(store).listMany(incidents.map((incident) => incident.id));
  const entries = incidents.map((incident) => breachRegisterEntry(incident, timelines.get(incident.id) ?? []));
  if (format === 'csv') stdout.write(breachRegisterCsv(entries));
  else if (entries.length > 0) await writeLines(stdout, entries.map((entry) => JSON.stringify(entry)));
  return entries.length;
}

function listFilter(values: Values, now: () => Date, defaultLimit: number | undefined): IncidentListFilter {
  const filter: IncidentListFilter = {};
  if (values.status) {
    for (const status of values.status) if (!INCIDENT_STATUSES.includes(status as IncidentStatus)) throw new CliError(`--status must be one of ${INCIDENT_STATUSES.join(', ')}, not "${status}"`);
    filter.status = values.status as IncidentStatus[];
  }
  if (values.severity) {
    for (const severity of values.severity) if (!SEVERITIES.includes(severity as Severity)) throw new CliError(`--severity must be one of ${SEVERITIES.join(', ')}, not "${severity}"`);
    filter.severity = values.severity as Severity[];
  }
  if (values.detector !== undefined) filter.detector = values.detector;
  if (values.since !== undefined) filter.since = sinceTime(values.since, now);
  const limit = values.limit === undefined ? defaultLimit : positiveInteger(values.limit, '--limit');
  if (limit !== undefined) {
    if (limit > INCIDENT_LIST_MAX_LIMIT) throw new CliError(`--limit must be at most ${INCIDENT_LIST_MAX_LIMIT}`);
    filter.limit = limit;
  }
  return filter;
}

/** `--since`: an ISO-8601 time, or a duration back from now. */
function sinceTime(text: string, now: () => Date): Date {
  if (durationProblem(text) === null) {
    const since = new Date(now().getTime() - parseDuration(text, '--since'));
    if (Number.isNaN(since.getTime())) throw new CliError(`--since ${text} reaches back before any date a time can hold: give a shorter duration or an ISO-8601 time`);
    return since;
  }
  const time = parseCalendarTime(text, 'date-first');
  if (time === null) throw new CliError(`--since must be an ISO-8601 time (2026-01-01T00:00:00Z) or a duration (24h, 7d), not "${text}"`);
  return new Date(time);
}

function positiveInteger(text: string, name: string): number {
  if (!/^[1-9]\d{0,14}$/.test(text)) throw new CliError(`${name} must be a positive integer, not "${text}"`);
  return Number(text);
}

/** A responder name: letters, digits and `._@-`, 1 to 64 characters (it becomes part of the actor). */
function responderName(name: string): string {
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(name)) throw new CliError(`--as must be 1-64 letters, digits or . _ @ -, not ${JSON.stringify(name)}`);
  return name;
}

function defaultUser(): string {
  try {
    return userInfo().username;
  } catch (error) {
    throw new CliError(`cannot tell the OS user (${(error as Error).message}): give --as NAME`);
  }
}

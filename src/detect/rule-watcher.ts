import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { RuleLoadError } from '../domain/errors.js';
import type { InternalEventReporter, Telemetry } from '../observe/telemetry.js';
import type { CompiledRule, MatchContext } from './compiled-rule.js';
import { type LoadedRuleSet, type LoadRuleSetOptions, loadRuleSet } from './rule-loader.js';

/** Where a reloaded set goes: the DetectionEngine (`swap` keeps the windows of unchanged rules). */
export interface RuleSetTarget {
  /** installs `rules` atomically; @throws Error when it cannot (the running set must then be unchanged) */
  swap(rules: CompiledRule[], context: MatchContext): void;
}

/** What started a check: a file system hint (after the debounce), the periodic poll, or a caller. */
export type ReloadTrigger = 'watch' | 'poll' | 'manual';

/**
 * The result of one reload attempt. `unchanged`: the files hash as at the last attempt, nothing
 * loaded. `ok`: the whole set loaded and was swapped in. `error`: the set did not load (or the
 * target refused it); the last good set keeps running.
 */
export type RuleReloadOutcome =
  | { outcome: 'unchanged'; trigger: ReloadTrigger }
  | { outcome: 'ok'; trigger: ReloadTrigger; ruleSet: LoadedRuleSet; warnings: string[] }
  | { outcome: 'error'; trigger: ReloadTrigger; problems: string[] };

/** Options of a RuleWatcher. */
export interface RuleWatcherOptions {
  /** receives every set that loads (usually the DetectionEngine) */
  target: RuleSetTarget;
  /** what to load: the same options the initial load used (folders, the config's lists and catalog, registry) */
  loadOptions: LoadRuleSetOptions;
  /** reports `rules_reload{outcome}` and one line per problem or warning */
  telemetry: Telemetry;
  /** quiet time after the last file system hint before the set is reloaded, ms; default 250 */
  debounceMs?: number;
  /** period of the content check that stays the truth when hints are lost, ms; default 5,000 */
  pollIntervalMs?: number;
  /** called after every attempt that was not `unchanged` (for tests and the daemon's status) */
  onReload?: (outcome: RuleReloadOutcome) => void;
  /** clock for exception expiry at each load; default `() => new Date()` */
  now?: () => Date;
}

const DEFAULT_DEBOUNCE_MS = 250;
const DEFAULT_POLL_INTERVAL_MS = 5_000;
const YAML_NAME = /\.ya?ml$/;

/**
 * Hot reload of the rule set (issue 4, "Hot reload"). Watches the rule folders (their `*.yaml`,
 * `lists/` and `local/`), the overlay folders and the config's list and catalog files. chokidar 5
 * events are only hints that start a check after `debounceMs` of quiet (an editor's burst of writes
 * is one reload); a periodic check every `pollIntervalMs` hashes the same files and is the truth,
 * so a lost event delays a reload by at most one period and a doubled one reloads nothing.
 *
 * A check hashes the content of every file the loader would read; when the hash differs from the
 * last attempt, the WHOLE set is loaded and validated with `loadRuleSet` first, then swapped into
 * the target in one synchronous call (events are processed either wholly before or wholly after
 * it; the engine keeps the windows of rules whose id, type and stateKey did not change). On a load
 * error the last good set keeps running and every problem is logged. Checks never overlap: a hint
 * during a reload starts one more check after it.
 *
 * Telemetry: `rules_reload{outcome="ok"|"error"}` (one line per attempt: trigger, rule counts,
 * problem/warning counts, duration_ms), `rules_reload_problem` (one line per load problem:
 * file:line: rule: path: message), `rules_reload_warning` (one line per warning of a set that
 * loaded, e.g. an expired exception), `rules_watch_error` (a watcher error; polling goes on).
 * Rule files are configuration: these lines carry no customer data.
 *
 * Usage: `const set = await watcher.load()` at start-up (throws), then `watcher.start(signal)`.
 */
export class RuleWatcher {
  private readonly debounceMs: number;
  private readonly pollIntervalMs: number;
  private readonly now: () => Date;
  private readonly reloadOk: InternalEventReporter<'outcome'>;
  private readonly reloadError: InternalEventReporter<'outcome'>;
  private readonly problemLine: InternalEventReporter<never>;
  private readonly warningLine: InternalEventReporter<never>;
  private readonly watchError: InternalEventReporter<never>;
  private watcher: FSWatcher | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private debounceTimer: NodeJS.Timeout | null = null;
  /** the last check queued or running (checks run one after another) */
  private tail: Promise<unknown> = Promise.resolve();
  /** a check queued behind a running one: later calls share it */
  private pending: Promise<RuleReloadOutcome> | null = null;
  private lastDigest: string | null = null;
  private good: LoadedRuleSet | null = null;
  private stopped = false;
  private ready: Promise<void> = Promise.resolve();
  private markReady: () => void = () => undefined;

  constructor(private readonly options: RuleWatcherOptions) {
    this.debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.now = options.now ?? (() => new Date());
    const { telemetry } = options;
    const help = 'Rule set reloads by outcome (ok: swapped in; error: the last good set kept running).';
    this.reloadOk = telemetry.declare({ name: 'rules_reload', help, level: 'info', labels: ['outcome'] });
    this.reloadError = telemetry.declare({ name: 'rules_reload', help, level: 'error', labels: ['outcome'] });
    this.problemLine = telemetry.declare({ name: 'rules_reload_problem', help: 'Problems of rule set reloads that failed, one per problem.', level: 'error', labels: [], maxLinesPerInterval: Number.POSITIVE_INFINITY });
    this.warningLine = telemetry.declare({ name: 'rules_reload_warning', help: 'Warnings of rule set reloads that succeeded (expired exceptions, missing tests, ...).', level: 'warn', labels: [], maxLinesPerInterval: Number.POSITIVE_INFINITY });
    this.watchError = telemetry.declare({ name: 'rules_watch_error', help: 'File watcher errors on the rule folders (the periodic check goes on).', level: 'warn', labels: [] });
  }

  /** the set running now (the last that loaded), or null before the first load */
  get current(): LoadedRuleSet | null {
    return this.good;
  }

  /**
   * Loads the whole set now and swaps it into the target (start-up: a bad set is fatal there).
   * @returns the loaded set
   * @throws RuleLoadError listing every problem (nothing is swapped); Error from the target's `swap`
   */
  async load(): Promise<LoadedRuleSet> {
    const digest = await this.digest();
    const ruleSet = await loadRuleSet({ ...this.options.loadOptions, now: this.now() });
    this.options.target.swap(ruleSet.rules, ruleSet.context);
    this.lastDigest = digest;
    this.good = ruleSet;
    return ruleSet;
  }

  /**
   * Starts watching and polling until `signal` aborts or `stop()` is called. Without a prior
   * `load()`, the first poll loads the set (its errors are logged, not thrown).
   */
  start(signal: AbortSignal): void {
    if (this.watcher !== null || this.stopped) return;
    signal.addEventListener('abort', () => void this.stop(), { once: true });
    if (signal.aborted) return;
    this.watcher = watch(this.watchedRoots(), {
      ignoreInitial: true,
      persistent: true,
      depth: 1,
      ignored: (path: string, stats?: { isFile(): boolean }) => stats?.isFile() === true && !YAML_NAME.test(path) && !this.explicitFiles().has(resolve(path)),
    });
    const watcher = this.watcher;
    this.ready = new Promise((resolveReady) => (this.markReady = resolveReady));
    watcher.once('ready', () => this.markReady());
    this.watcher.on('all', () => this.hint());
    this.watcher.on('error', (error: unknown) => this.watchError({}, { error: error instanceof Error ? error.message : String(error) }));
    const poll = (): void => {
      this.pollTimer = setTimeout(() => {
        void this.check('poll').finally(() => {
          if (!this.stopped) poll();
        });
      }, this.good === null ? 0 : this.pollIntervalMs);
    };
    poll();
  }

  /** Resolves once the file watcher has scanned its folders (hints are delivered from then on); at once when not started. */
  watching(): Promise<void> {
    return this.ready;
  }

  /** Stops watching and polling; waits for a reload in progress. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    if (this.debounceTimer !== null) clearTimeout(this.debounceTimer);
    this.pollTimer = null;
    this.debounceTimer = null;
    const watcher = this.watcher;
    this.watcher = null;
    this.markReady();
    if (watcher !== null) await watcher.close();
    await this.tail;
  }

  /**
   * Checks the files now and reloads when their content changed since the last attempt (what the
   * poll and the debounced hints call; also for SIGHUP). Never throws: problems are an outcome.
   * A call during a reload waits for it, then checks once more.
   */
  check(trigger: ReloadTrigger = 'manual'): Promise<RuleReloadOutcome> {
    if (this.pending !== null) return this.pending;
    const next = this.tail.then(() => {
      this.pending = null;
      return this.attempt(trigger);
    });
    this.pending = next;
    this.tail = next.catch(() => undefined);
    return next;
  }

  private hint(): void {
    if (this.stopped) return;
    if (this.debounceTimer !== null) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = null;
      void this.check('watch');
    }, this.debounceMs);
  }

  private async attempt(trigger: ReloadTrigger): Promise<RuleReloadOutcome> {
    const startedMs = performance.now();
    const digest = await this.digest();
    if (digest === this.lastDigest) return { outcome: 'unchanged', trigger };
    this.lastDigest = digest;
    let outcome: RuleReloadOutcome;
    try {
      const ruleSet = await loadRuleSet({ ...this.options.loadOptions, now: this.now() });
      this.options.target.swap(ruleSet.rules, ruleSet.context);
      this.good = ruleSet;
      outcome = { outcome: 'ok', trigger, ruleSet, warnings: ruleSet.warnings };
    } catch (error) {
      const problems = error instanceof RuleLoadError ? error.problems : [`cannot swap the rule set in: ${error instanceof Error ? error.message : String(error)}`];
      outcome = { outcome: 'error', trigger, problems };
    }
    this.report(outcome, performance.now() - startedMs);
    try {
      this.options.onReload?.(outcome);
    } catch (error) {
      this.watchError({}, { error: `onReload callback failed: ${error instanceof Error ? error.message : String(error)}` });
    }
    return outcome;
  }

  private report(outcome: RuleReloadOutcome, durationMs: number): void {
    const duration_ms = Math.round(durationMs * 10) / 10;
    if (outcome.outcome === 'ok') {
      const rules = outcome.ruleSet.rules;
      this.reloadOk({ outcome: 'ok' }, { trigger: outcome.trigger, rules: rules.length, enabled: rules.filter((r) => r.enabled).length, files: outcome.ruleSet.files.length, warnings: outcome.warnings.length, duration_ms });
      for (const warning of outcome.warnings) this.warningLine({}, { warning });
    } else if (outcome.outcome === 'error') {
      this.reloadError({ outcome: 'error' }, { trigger: outcome.trigger, problems: outcome.problems.length, running_rules: this.good?.rules.length ?? 0, duration_ms });
      for (const problem of outcome.problems) this.problemLine({}, { problem });
    }
  }

  /** folders and files chokidar watches (missing ones are picked up when they appear) */
  private watchedRoots(): string[] {
    const { ruleDirs, overlayDirs = [] } = this.options.loadOptions;
    return [...new Set([...ruleDirs, ...overlayDirs, ...this.explicitFiles()].map((p) => resolve(p)))];
  }

  /** the config's list and catalog files, and any other file the last good set read */
  private explicitFiles(): Set<string> {
    const { lists = {}, catalog } = this.options.loadOptions;
    const files = Object.values(lists).filter((source): source is string => typeof source === 'string');
    if (typeof catalog === 'string') files.push(catalog);
    for (const file of this.good?.files ?? []) files.push(file);
    return new Set(files.map((f) => resolve(f)));
  }

  /**
   * SHA-256 over the path and content of every file the loader would read now (yaml files of the
   * rule folders, their lists/ and local/, the overlay folders, the explicit files); a missing
   * file or folder hashes as such, so appearing and vanishing files count as changes.
   */
  private async digest(): Promise<string> {
    const { ruleDirs, overlayDirs = [] } = this.options.loadOptions;
    const folders = [...ruleDirs.flatMap((dir) => [dir, join(dir, 'lists'), join(dir, 'local')]), ...overlayDirs].map((dir) => resolve(dir));
    const listed = await Promise.all(folders.map((dir) => yamlFilesOf(dir)));
    const hash = createHash('sha256');
    folders.forEach((dir, i) => hash.update(`dir\0${dir}\0${listed[i]?.state ?? ''}\0`));
    const paths = [...new Set([...listed.flatMap((l) => l.files), ...this.explicitFiles()])].sort();
    const contents = await Promise.all(paths.map((path) => readFile(path).catch((error: NodeJS.ErrnoException) => `\0unreadable:${error.code ?? 'error'}`)));
    paths.forEach((path, i) => {
      hash.update(`file\0${path}\0`);
      hash.update(contents[i] as Buffer | string);
      hash.update('\0');
    });
    return hash.digest('hex');
  }
}

/** `*.yaml` / `*.yml` directly in `dir` (absolute), and the folder's state: `ok`, or why it gave none (the loader reports it). */
async function yamlFilesOf(dir: string): Promise<{ files: string[]; state: string }> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return { files: entries.filter((entry) => entry.isFile() && YAML_NAME.test(entry.name)).map((entry) => join(dir, entry.name)), state: 'ok' };
  } catch (error) {
    return { files: [], state: (error as NodeJS.ErrnoException).code ?? 'error' };
  }
}

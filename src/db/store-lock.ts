import { open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { StoreError } from '../domain/errors.js';
import type { Logger } from '../observe/logger.js';

/** Name of the lock file inside an embedded store's data folder. */
export const STORE_LOCK_FILE = 'store.lock';

/** How long an unreadable (empty or half-written) lock file may be young before it counts as stale. */
const UNREADABLE_GRACE_MS = 2_000;
/** A holder pid whose process started this long after the lock's `startedAt` is another process (pid reused). */
const PID_REUSE_SLACK_MS = 2_000;
/** Linux USER_HZ: the unit of `starttime` in /proc/<pid>/stat on every mainstream architecture. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Content of the lock file: JSON of this shape, written once at creation. */
export interface StoreLockHolder {
  /** process id of the holder on `hostname` */
  pid: number;
  hostname: string;
  /** ISO-8601 UTC time the lock was taken */
  startedAt: string;
  /** what runs there, without arguments (they may carry secrets), e.g. `node jaga.js` */
  command: string;
}

/** Options of `StoreLock.acquire`. */
export interface StoreLockOptions {
  /** where the stale-lock takeover line goes */
  logger?: Logger;
  /** recorded as `command`; default `<node binary name> <script name>` */
  command?: string;
  /** clock for `startedAt` (tests); default `() => new Date()` */
  now?: () => Date;
}

type Verdict = { kind: 'held'; holder: StoreLockHolder } | { kind: 'stale'; reason: string; holder: StoreLockHolder | null } | { kind: 'retry' };

/**
 * An exclusive lock on an embedded store's data folder, held by one process. PGlite runs in a single
 * process and does not lock its folder itself, so two processes writing one folder would corrupt it.
 *
 * The lock is the file `<dir>/store.lock` created with O_CREAT|O_EXCL holding `StoreLockHolder` JSON.
 * A lock whose holder is gone is stale and is taken over with a warning log line
 * (`store_lock_stale_taken_over`): holder on this host and its pid not alive, or alive but started after
 * the lock was taken (a reused pid, e.g. pid 1 of a restarted container), or the file unreadable for
 * longer than 2 s (a crash between create and write). A holder on another host is never presumed dead.
 */
export class StoreLock {
  private released = false;

  private constructor(
    /** absolute path of the lock file */
    readonly path: string,
    /** what this process wrote into it */
    readonly holder: StoreLockHolder,
    private readonly content: string,
    /** the previous holder when a stale lock was taken over (null when the folder was free) */
    readonly tookOver: StoreLockHolder | null,
    private readonly logger: Logger | undefined,
  ) {}

  /**
   * Takes the lock on `dir` (which must exist).
   * @throws StoreError (permanent, sqlstate null) naming the holder's pid, host, start time and command
   *   when another live process holds the lock, or when the holder is on another host.
   */
  static async acquire(dir: string, options: StoreLockOptions = {}): Promise<StoreLock> {
    const path = join(dir, STORE_LOCK_FILE);
    const holder: StoreLockHolder = {
      pid: process.pid,
      hostname: hostname(),
      startedAt: (options.now ?? (() => new Date()))().toISOString(),
      command: options.command ?? defaultCommand(),
    };
    const content = `${JSON.stringify(holder)}\n`;
    let tookOver: StoreLockHolder | null = null;
    for (let attempt = 0; attempt < 100; attempt += 1) {
      if (await createExclusive(path, content)) return new StoreLock(path, holder, content, tookOver, options.logger);
      const existing = await readIfExists(path);
      if (existing === null) continue;
      const verdict = await judge(path, existing);
      if (verdict.kind === 'held') throw heldError(dir, path, verdict.holder);
      if (verdict.kind === 'retry') {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      // Re-read right before removing, so a lock created meanwhile by a faster process is not removed.
      if ((await readIfExists(path)) !== existing) continue;
      await unlink(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      tookOver = verdict.holder;
      options.logger?.warn('store_lock_stale_taken_over', {
        event: 'store_lock_stale_taken_over',
        lockPath: path,
        reason: verdict.reason,
        stalePid: verdict.holder?.pid ?? null,
        staleHostname: verdict.holder?.hostname ?? null,
        staleStartedAt: verdict.holder?.startedAt ?? null,
      });
    }
    throw new StoreError(`could not take the store lock ${path}: it kept changing under concurrent starts`, true);
  }

  /** Removes the lock file if it is still this process's lock (a lock replaced by someone else is left alone). Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const current = await readIfExists(this.path);
    if (current === this.content) {
      await unlink(this.path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    } else {
      this.logger?.warn('store_lock_replaced', { event: 'store_lock_replaced', lockPath: this.path });
    }
  }
}

function defaultCommand(): string {
  const script = process.argv[1] ? ` ${basename(process.argv[1])}` : '';
  return `${basename(process.argv0 || process.execPath)}${script}`;
}

/** Creates `path` with O_CREAT|O_EXCL and writes `content` (fsynced). False when it already exists. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StoreError(`cannot create the store lock ${path}: ${(error as Error).message}`, false, null, { cause: error });
  }
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StoreError(`cannot read the store lock ${path}: ${(error as Error).message}`, false, null, { cause: error });
  }
}

function parseHolder(content: string): StoreLockHolder | null {
  try {
    const value = JSON.parse(content) as Partial<StoreLockHolder>;
    if (typeof value.pid !== 'number' || !Number.isInteger(value.pid) || value.pid <= 0) return null;
    if (typeof value.hostname !== 'string' || typeof value.startedAt !== 'string') return null;
    if (Number.isNaN(Date.parse(value.startedAt))) return null;
    return { pid: value.pid, hostname: value.hostname, startedAt: value.startedAt, command: typeof value.command === 'string' ? value.command : '' };
  } catch {
    return null;
  }
}

/** Decides whether an existing lock is held by a live process, stale, or still being written. */
async function judge(path: string, content: string): Promise<Verdict> {
  const holder = parseHolder(content);
  if (holder === null) {
    const ageMs = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
    return ageMs > UNREADABLE_GRACE_MS ? { kind: 'stale', reason: 'unreadable', holder: null } : { kind: 'retry' };
  }
  if (holder.hostname !== hostname()) return { kind: 'held', holder };
  if (!isAlive(holder.pid)) return { kind: 'stale', reason: 'holder_not_running', holder };
  const startedMs = await processStartMs(holder.pid);
  if (startedMs !== null && startedMs > Date.parse(holder.startedAt) + PID_REUSE_SLACK_MS) {
    return { kind: 'stale', reason: 'holder_pid_reused', holder };
  }
  return { kind: 'held', holder };
}

/** Signal 0 probes existence: ESRCH means no such process, EPERM means it exists under another user. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Start time of a process in ms since the epoch, from Linux procfs (proc(5): /proc/<pid>/stat field 22
 * `starttime` in clock ticks since boot, /proc/stat `btime` in seconds). Null where procfs is absent.
 */
async function processStartMs(pid: number): Promise<number | null> {
  try {
    const [statLine, systemStat] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile('/proc/stat', 'utf8')]);
    const afterComm = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
    const startTicks = Number(afterComm[19]);
    const bootSeconds = Number(/^btime (\d+)$/m.exec(systemStat)?.[1]);
    if (!Number.isFinite(startTicks) || !Number.isFinite(bootSeconds)) return null;
    return bootSeconds * 1000 + (startTicks / CLOCK_TICKS_PER_SECOND) * 1000;
  } catch {
    return null;
  }
}

function heldError(dir: string, path: string, holder: StoreLockHolder): StoreError {
  const here = holder.hostname === hostname();
  const advice = here
    ? 'stop that process first (jaga incidents list, show, ack, resolve and jaga token reach a running daemon through its HTTP API; incidents export and report access need it stopped, or a PostgreSQL store)'
    : `if host ${holder.hostname} no longer runs jaga on this folder, delete ${path}`;
  return new StoreError(
    `the embedded store ${dir} is in use by pid ${holder.pid} on host ${holder.hostname} since ${holder.startedAt}` +
      `${holder.command ? ` (${holder.command})` : ''}; ${advice}`,
    false,
  );
}

import { PGlite } from '@electric-sql/pglite';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir, hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from '../observe/logger.js';
import { makeFolder } from '../lib/make-folder.js';

/** First line of a template cache file; the number changes whenever the file layout does. */
export const TEMPLATE_MAGIC = 'jaga-pglite-template 1';

/** Options of `PgliteTemplate.obtain`. */
export interface PgliteTemplateOptions {
  /** folder holding the cache file (created when missing); default `defaultTemplateCacheDir()` */
  cacheDir?: string;
  /** where builds, rebuilds of an invalid file and failed cache writes are reported */
  logger?: Logger;
}

/** Why a cache file was rejected (bounded: used as a log field). */
export type TemplateRejection = 'header' | 'version' | 'size' | 'hash' | 'payload';

/** What a template cache file holds after its two header lines. */
interface TemplateHeader {
  pgliteVersion: string;
  /** length of the gzip tarball after the header, in bytes */
  payloadBytes: number;
  /** sha256 of the gzip tarball, lowercase hex */
  sha256: string;
}

/** A build lock older than this is abandoned (initdb takes 9-40 s; the lock is held only for one build). */
export const STALE_BUILD_LOCK_MS = 180_000;

/** How often a process waiting for another's build looks for the finished file. */
const BUILD_POLL_MS = 250;

/** Builds in flight in this process, by cache file path: concurrent first opens share one initdb. */
const building = new Map<string, Promise<PgliteTemplate>>();

/**
 * A gzip tarball of a freshly initdb'ed, empty PGlite cluster (`PGlite.dumpDataDir('gzip')`, about
 * 4.5 MB for PGlite 0.5.17), cached on disk so that a new store is created with
 * `PGlite.create({ loadDataDir })` (about 1.5 s) instead of running initdb in WASM (9-40 s).
 *
 * The cache file is `<cacheDir>/pglite-<version>.template`, keyed by the installed
 * `@electric-sql/pglite` version. Layout (source of truth: `encodeTemplateFile` below):
 * line 1 `TEMPLATE_MAGIC`, line 2 a JSON `{ pgliteVersion, payloadBytes, sha256 }`, then the gzip
 * tarball of `payloadBytes` bytes. It is written to a unique temporary name in the same folder and
 * renamed into place, so readers in other processes see either no file or a complete one; a file
 * that fails validation is rebuilt (log line `pglite_template_invalid`). Processes that find no file
 * at the same time build it once: one holds `<file>.lock` while the others wait for the file. The
 * template holds no jaga schema: migrations run after the store opens, as for any store.
 */
export class PgliteTemplate {
  private constructor(
    /** absolute path of the cache file */
    readonly path: string,
    /** the gzip tarball to hand to `PGlite.create({ loadDataDir })` */
    readonly tarball: Blob,
    /** `cache` when read from a valid cache file, `built` when initdb ran in this call */
    readonly origin: 'cache' | 'built',
  ) {}

  /**
   * Returns the template: read and validated from the cache file, else built by running initdb once
   * (in memory), dumped and written to the cache. A cache folder that cannot be written is reported
   * (`pglite_template_cache_write_failed`) and the built template is still returned.
   * @throws Error only when PGlite itself cannot initialise a cluster.
   */
  static async obtain(options: PgliteTemplateOptions = {}): Promise<PgliteTemplate> {
    const version = pgliteVersion();
    const path = join(resolve(options.cacheDir ?? defaultTemplateCacheDir()), templateFileName(version));
    const cached = await readTemplateFile(path, version, options.logger);
    if (cached !== null) return new PgliteTemplate(path, new Blob([cached]), 'cache');
    let pending = building.get(path);
    if (pending === undefined) {
      pending = PgliteTemplate.buildOnce(path, version, options.logger).finally(() => building.delete(path));
      building.set(path, pending);
    }
    return pending;
  }

  /**
   * Deletes the cache file (after PGlite failed to start from it), so the next `obtain` rebuilds it.
   * A file already gone is not an error.
   * @throws Error from the file system other than ENOENT.
   */
  async discard(): Promise<void> {
    await unlinkIfPresent(this.path);
  }

  /**
   * Builds under the build lock `<path>.lock` (created exclusively, holding `<pid> <host>`), so that
   * processes starting together run initdb once: the others poll for the finished file. A lock whose
   * holder died on this host, or older than `STALE_BUILD_LOCK_MS`, is removed; a cache folder where no
   * lock can be created builds without one (the rename keeps that safe, only slower).
   */
  private static async buildOnce(path: string, version: string, logger: Logger | undefined): Promise<PgliteTemplate> {
    const lockPath = `${path}.lock`;
    for (;;) {
      const lock = await createBuildLock(lockPath);
      if (lock !== 'held') {
        try {
          // Whoever held the lock before may have just finished.
          const cached = lock === 'acquired' ? await readTemplateFile(path, version, undefined) : null;
          if (cached !== null) return new PgliteTemplate(path, new Blob([cached]), 'cache');
          return await PgliteTemplate.build(path, version, logger);
        } finally {
          if (lock === 'acquired') await unlinkIfPresent(lockPath);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, BUILD_POLL_MS));
      const cached = await readTemplateFile(path, version, undefined);
      if (cached !== null) return new PgliteTemplate(path, new Blob([cached]), 'cache');
      if (await isStaleBuildLock(lockPath)) {
        logger?.warn('pglite_template_stale_lock_removed', { event: 'pglite_template_stale_lock_removed', path: lockPath });
        await unlinkIfPresent(lockPath);
      }
    }
  }

  /** Runs initdb in memory, dumps the cluster and writes the cache file (temp name, then rename). */
  private static async build(path: string, version: string, logger: Logger | undefined): Promise<PgliteTemplate> {
    const startedMs = performance.now();
    const db = await PGlite.create();
    let tarball: Blob;
    try {
      await db.exec('CHECKPOINT'); // a clean cluster: loading it needs no WAL replay
      tarball = await db.dumpDataDir('gzip');
    } finally {
      await db.close();
    }
    const payload = new Uint8Array(await tarball.arrayBuffer());
    try {
      await writeAtomically(path, encodeTemplateFile(version, payload));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
      logger?.warn('pglite_template_cache_write_failed', { event: 'pglite_template_cache_write_failed', path, code });
    }
    logger?.info('pglite_template_built', {
      event: 'pglite_template_built',
      path,
      pgliteVersion: version,
      payloadBytes: payload.byteLength,
      durationMs: Math.round(performance.now() - startedMs),
    });
    return new PgliteTemplate(path, new Blob([payload]), 'built');
  }
}

/**
 * The default folder of the template cache: `$XDG_CACHE_HOME/jaga` when that variable is an absolute
 * path, else `<home>/.cache/jaga`, else (no home folder) `<os.tmpdir()>/jaga-cache`.
 * `env` defaults to `process.env` (the only environment read in src/db).
 */
export function defaultTemplateCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && xdg.startsWith('/')) return join(xdg, 'jaga');
  let home = '';
  try {
    home = homedir();
  } catch {
    home = ''; // no passwd entry and no HOME: fall back to the temp folder below
  }
  return home !== '' ? join(home, '.cache', 'jaga') : join(tmpdir(), 'jaga-cache');
}

/** The cache file's name for a PGlite version, e.g. `pglite-0.5.17.template` (unsafe characters become `_`). */
export function templateFileName(pgliteVersionText: string): string {
  return `pglite-${pgliteVersionText.replace(/[^A-Za-z0-9._-]/g, '_')}.template`;
}

let cachedVersion: string | undefined;

/**
 * The installed `@electric-sql/pglite` version, from its package.json (found next to the resolved
 * entry point, since the package does not export `./package.json`). Read once per process.
 * @throws Error when the package or its version cannot be found.
 */
export function pgliteVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  for (;;) {
    const manifest = readManifest(join(dir, 'package.json'));
    if (manifest?.name === '@electric-sql/pglite' && typeof manifest.version === 'string') {
      cachedVersion = manifest.version;
      return manifest.version;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the version of @electric-sql/pglite');
    dir = parent;
  }
}

function readManifest(path: string): { name?: unknown; version?: unknown } | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { name?: unknown; version?: unknown };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** The bytes of a cache file for `payload` (a gzip tarball). */
export function encodeTemplateFile(pgliteVersionText: string, payload: Uint8Array): Buffer {
  const header: TemplateHeader = {
    pgliteVersion: pgliteVersionText,
    payloadBytes: payload.byteLength,
    sha256: createHash('sha256').update(payload).digest('hex'),
  };
  return Buffer.concat([Buffer.from(`${TEMPLATE_MAGIC}\n${JSON.stringify(header)}\n`, 'utf8'), payload]);
}

/**
 * Validates cache file bytes: magic line, header JSON, PGlite version, payload length, sha256, gzip
 * magic. Returns the payload or why it was rejected.
 */
export function decodeTemplateFile(
  file: Buffer,
  expectedVersion: string,
): { payload: Buffer; rejection?: undefined } | { payload?: undefined; rejection: TemplateRejection } {
  const first = file.indexOf(0x0a);
  const second = first < 0 ? -1 : file.indexOf(0x0a, first + 1);
  if (second < 0 || file.subarray(0, first).toString('utf8') !== TEMPLATE_MAGIC) return { rejection: 'header' };
  let header: Partial<TemplateHeader>;
  try {
    header = JSON.parse(file.subarray(first + 1, second).toString('utf8')) as Partial<TemplateHeader>;
  } catch {
    return { rejection: 'header' };
  }
  if (typeof header.payloadBytes !== 'number' || typeof header.sha256 !== 'string') return { rejection: 'header' };
  if (header.pgliteVersion !== expectedVersion) return { rejection: 'version' };
  const payload = file.subarray(second + 1);
  if (payload.byteLength !== header.payloadBytes) return { rejection: 'size' };
  if (createHash('sha256').update(payload).digest('hex') !== header.sha256) return { rejection: 'hash' };
  if (payload.byteLength < 2 || payload[0] !== 0x1f || payload[1] !== 0x8b) return { rejection: 'payload' };
  return { payload };
}

/** The validated payload of the cache file, or null when it is missing or invalid (reported). */
async function readTemplateFile(path: string, version: string, logger: Logger | undefined): Promise<Buffer | null> {
  let file: Buffer;
  try {
    file = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    logger?.warn('pglite_template_unreadable', { event: 'pglite_template_unreadable', path, code: code ?? 'unknown' });
    return null;
  }
  const decoded = decodeTemplateFile(file, version);
  if (decoded.payload !== undefined) return decoded.payload;
  logger?.warn('pglite_template_invalid', {
    event: 'pglite_template_invalid',
    path,
    reason: decoded.rejection,
    fileBytes: file.byteLength,
  });
  return null;
}

/** Writes `bytes` to `<path>.<pid>.<random>.tmp`, fsyncs it and renames it to `path`. */
async function writeAtomically(path: string, bytes: Buffer): Promise<void> {
  await makeFolder(dirname(path));
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o644);
  try {
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    // Leave no temp file behind; the original error is the one reported.
    await unlink(temp).catch((cleanupError: NodeJS.ErrnoException) => {
      if (cleanupError.code !== 'ENOENT') throw error;
    });
    throw error;
  }
}

/** Creates the build lock exclusively: `acquired`, `held` by another process, or `unavailable` (folder not writable). */
async function createBuildLock(lockPath: string): Promise<'acquired' | 'held' | 'unavailable'> {
  try {
    await makeFolder(dirname(lockPath));
    const handle = await open(lockPath, 'wx', 0o644);
    try {
      await handle.writeFile(`${process.pid} ${hostname()}\n`);
      await handle.close();
    } catch (error) {
      await handle.close();
      await unlinkIfPresent(lockPath); // an empty lock would hold the others back until it is stale
      throw error;
    }
    return 'acquired';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EEXIST' ? 'held' : 'unavailable';
  }
}

/** True when the lock is older than STALE_BUILD_LOCK_MS or its holder process on this host is gone. */
async function isStaleBuildLock(lockPath: string): Promise<boolean> {
  let content: string;
  let modifiedMs: number;
  try {
    modifiedMs = (await stat(lockPath)).mtimeMs;
    content = await readFile(lockPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false; // released: the next round retries
    throw error;
  }
  if (Date.now() - modifiedMs > STALE_BUILD_LOCK_MS) return true;
  const [pidText, host] = content.trim().split(' ');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Deletes `path`; a file already gone is not an error. */
async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

import { spawn } from 'node:child_process';
import { access, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/domain/errors.js';
import { PgliteStore } from '../../src/db/pglite-store.js';
import { STORE_LOCK_FILE, StoreLock, type StoreLockHolder } from '../../src/db/store-lock.js';
import { createLogger } from '../../src/observe/logger.js';
import { useStoreHarness } from './store-harness.js';

const harness = useStoreHarness({ pg: false });

function captureLogger(): { logger: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  return {
    logger: createLogger({ level: 'debug', stream }),
    lines: () => chunks.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

async function caught(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

/** The pid of a process that has exited (and was reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

describe('StoreLock', () => {
  let dir: string;
  const sleepers: ReturnType<typeof spawn>[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jaga-lock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  afterAll(() => {
    for (const sleeper of sleepers) sleeper.kill('SIGKILL');
  });

  const writeLock = (holder: StoreLockHolder): Promise<void> => writeFile(join(dir, STORE_LOCK_FILE), JSON.stringify(holder));

  it('creates store.lock holding pid, hostname, startedAt and command, and removes it on release', async () => {
    const lock = await StoreLock.acquire(dir, { command: 'jaga run', now: () => new Date('2025-01-02T03:04:05.000Z') });
    const holder = JSON.parse(await readFile(join(dir, STORE_LOCK_FILE), 'utf8')) as StoreLockHolder;
    expect(holder).toEqual({ pid: process.pid, hostname: hostname(), startedAt: '2025-01-02T03:04:05.000Z', command: 'jaga run' });
    expect(lock.tookOver).toBeNull();
    await lock.release();
    await lock.release();
    expect(await exists(join(dir, STORE_LOCK_FILE))).toBe(false);
  });

  it('refuses a lock held by a live process on this host, naming pid, host, start time and command', async () => {
    const sleeper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    sleepers.push(sleeper);
    await new Promise((resolve) => sleeper.once('spawn', resolve));
    const startedAt = new Date().toISOString();
    await writeLock({ pid: sleeper.pid!, hostname: hostname(), startedAt, command: 'node jaga.js' });
    const error = await caught(StoreLock.acquire(dir));
    expect(error.transient).toBe(false);
    expect(error.message).toBe(
      `the embedded store ${dir} is in use by pid ${sleeper.pid} on host ${hostname()} since ${startedAt} (node jaga.js); ` +
        'stop that process first (jaga incidents list, show, ack, resolve and jaga token reach a running daemon through its HTTP API; incidents export and report access need it stopped, or a PostgreSQL store)',
    );
    expect(JSON.parse(await readFile(join(dir, STORE_LOCK_FILE), 'utf8'))).toMatchObject({ pid: sleeper.pid });
  });

  it('never presumes a holder on another host dead', async () => {
    await writeLock({ pid: 4242, hostname: 'db-agent-7.example', startedAt: '2025-01-01T00:00:00.000Z', command: 'node jaga.js' });
    const error = await caught(StoreLock.acquire(dir));
    expect(error.message).toBe(
      `the embedded store ${dir} is in use by pid 4242 on host db-agent-7.example since 2025-01-01T00:00:00.000Z (node jaga.js); ` +
        `if host db-agent-7.example no longer runs jaga on this folder, delete ${join(dir, STORE_LOCK_FILE)}`,
    );
  });

  it('takes over a lock whose holder is not running, with one warning line naming the old holder', async () => {
    const pid = await deadPid();
    const stale: StoreLockHolder = { pid, hostname: hostname(), startedAt: '2025-01-01T00:00:00.000Z', command: 'node jaga.js' };
    await writeLock(stale);
    const capture = captureLogger();
    const lock = await StoreLock.acquire(dir, { logger: capture.logger });
    expect(lock.tookOver).toEqual(stale);
    expect(JSON.parse(await readFile(join(dir, STORE_LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
    const [line, ...rest] = capture.lines();
    expect(rest).toEqual([]);
    expect(line).toMatchObject({
      level: 'warn',
      message: 'store_lock_stale_taken_over',
      event: 'store_lock_stale_taken_over',
      lockPath: join(dir, STORE_LOCK_FILE),
      reason: 'holder_not_running',
      stalePid: pid,
      staleHostname: hostname(),
      staleStartedAt: '2025-01-01T00:00:00.000Z',
    });
    await lock.release();
  });

  it('takes over a lock whose pid is alive but started after the lock was taken (pid reused, e.g. pid 1 in a restarted container)', async () => {
    await writeLock({ pid: process.pid, hostname: hostname(), startedAt: new Date(Date.now() - 3_600_000).toISOString(), command: 'node jaga.js' });
    const capture = captureLogger();
    const lock = await StoreLock.acquire(dir, { logger: capture.logger });
    expect(capture.lines().map((l) => l.reason)).toEqual(['holder_pid_reused']);
    await lock.release();
  });

  it('takes over an unreadable lock older than 2 s (a crash between create and write)', async () => {
    const path = join(dir, STORE_LOCK_FILE);
    await writeFile(path, '');
    const old = new Date(Date.now() - 10_000);
    await utimes(path, old, old);
    const capture = captureLogger();
    const lock = await StoreLock.acquire(dir, { logger: capture.logger });
    expect(capture.lines().map((l) => [l.reason, l.stalePid])).toEqual([['unreadable', null]]);
    expect(lock.tookOver).toBeNull();
    await lock.release();
  });

  it('leaves a lock that another process put in its place on release', async () => {
    const capture = captureLogger();
    const lock = await StoreLock.acquire(dir, { logger: capture.logger });
    const other: StoreLockHolder = { pid: 1, hostname: 'elsewhere', startedAt: '2025-01-01T00:00:00.000Z', command: 'x' };
    await writeLock(other);
    await lock.release();
    expect(JSON.parse(await readFile(join(dir, STORE_LOCK_FILE), 'utf8'))).toEqual(other);
    expect(capture.lines().map((l) => l.event)).toEqual(['store_lock_replaced']);
  });

  it('lets exactly one of several concurrent acquirers win', async () => {
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => StoreLock.acquire(dir)));
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(1);
    expect(results.filter((r) => r.status === 'rejected').length).toBe(7);
    for (const r of results) if (r.status === 'fulfilled') await r.value.release();
  });
});

describe('PgliteStore and its lock', () => {
  it('refuses a second open of the same folder while the first is open, and opens again after close', async () => {
    const { dataDir } = (await harness.target('pglite')) as { dataDir: string };
    const first = await PgliteStore.open({ dataDir, command: 'jaga daemon' });
    const error = await caught(PgliteStore.open({ dataDir }));
    expect(error.message).toMatch(new RegExp(`^the embedded store ${dataDir} is in use by pid ${process.pid} on host .+ \\(jaga daemon\\); stop that process first`));
    await first.query('CREATE TABLE jaga_probe (id int)');
    await first.close();
    expect(await exists(join(dataDir, STORE_LOCK_FILE))).toBe(false);
    const second = await PgliteStore.open({ dataDir });
    try {
      expect(await second.query("SELECT count(*)::int AS n FROM pg_class WHERE relname = 'jaga_probe'")).toEqual([{ n: 1 }]);
    } finally {
      await second.close();
    }
  });
});

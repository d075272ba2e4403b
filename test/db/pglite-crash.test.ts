import { spawn, type ChildProcess } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/domain/errors.js';
import { CheckpointRepository } from '../../src/db/checkpoint-repository.js';
import { openStore } from '../../src/db/open-store.js';
import { PGLITE_SUBDIR } from '../../src/db/pglite-store.js';
import { STORE_LOCK_FILE } from '../../src/db/store-lock.js';
import { createLogger } from '../../src/observe/logger.js';
import { useStoreHarness } from './store-harness.js';

const harness = useStoreHarness({ pg: false });
const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Starts crash-child.ts on `dataDir` and resolves once it printed `marker`. */
function startChild(dataDir: string, marker: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(marker)) resolve(child);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) before ${marker}: ${err}`)));
  });
}

function captureLogger(): { logger: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  return {
    logger: createLogger({ level: 'debug', stream }),
    lines: () => chunks.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

describe('embedded store after kill -9', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('refuses a second process while the child holds it, then after SIGKILL reopens with the committed data only', async () => {
    const { dataDir } = (await harness.target('pglite')) as { dataDir: string };
    child = await startChild(dataDir, 'IN_TX');
    const childPid = child.pid!;

    const refused = await openStore({ dataDir }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(StoreError);
    expect((refused as StoreError).message).toMatch(
      new RegExp(`^the embedded store ${dataDir} is in use by pid ${childPid} on host \\S+ since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\(node crash-child\\.ts\\); stop that process first`),
    );

    const exited = new Promise((resolve) => child!.once('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    // What the crash left: our lock naming the dead child, and PGlite's own postmaster.pid (pid field -42).
    const lock = JSON.parse(await readFile(join(dataDir, STORE_LOCK_FILE), 'utf8')) as { pid: number };
    expect(lock.pid).toBe(childPid);
    const postmasterPid = join(dataDir, PGLITE_SUBDIR, 'postmaster.pid');
    expect((await readFile(postmasterPid, 'utf8')).split('\n', 1)[0]).toBe('-42');

    const capture = captureLogger();
    const store = await openStore({ dataDir, logger: capture.logger });
    try {
      const events = capture.lines().filter((line) => typeof line.event === 'string' && String(line.event).startsWith('store_'));
      expect(events.map((line) => [line.event, line.level])).toEqual([
        ['store_lock_stale_taken_over', 'warn'],
        ['store_stale_postmaster_pid_removed', 'warn'],
      ]);
      expect(events[0]).toMatchObject({ reason: 'holder_not_running', stalePid: childPid, lockPath: join(dataDir, STORE_LOCK_FILE) });
      expect(events[1]).toMatchObject({ path: postmasterPid, recordedPid: -42 });

      const loaded = await new CheckpointRepository(store).load('db1');
      expect(loaded.map(({ fileFingerprint, byteOffset }) => ({ fileFingerprint, byteOffset }))).toEqual([{ fileFingerprint: 'abcdefabcdefabcd', byteOffset: 4242 }]);
      const owner = JSON.parse(await readFile(join(dataDir, STORE_LOCK_FILE), 'utf8')) as { pid: number };
      expect(owner.pid).toBe(process.pid);
    } finally {
      await store.close();
    }
    expect(await exists(join(dataDir, STORE_LOCK_FILE))).toBe(false);
    expect(await exists(postmasterPid)).toBe(false);
  });
});

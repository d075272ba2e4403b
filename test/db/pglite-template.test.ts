import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointRepository } from '../../src/db/checkpoint-repository.js';
import { openStore } from '../../src/db/open-store.js';
import { PGLITE_SUBDIR } from '../../src/db/pglite-store.js';
import {
  PgliteTemplate,
  TEMPLATE_MAGIC,
  decodeTemplateFile,
  defaultTemplateCacheDir,
  encodeTemplateFile,
  pgliteVersion,
  templateFileName,
} from '../../src/db/pglite-template.js';
import { STORE_LOCK_FILE } from '../../src/db/store-lock.js';
import { StoreError } from '../../src/domain/errors.js';
import { createLogger, type Logger } from '../../src/observe/logger.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OPEN_STORE_URL = pathToFileURL(join(ROOT, 'src/db/open-store.ts')).href;
const REPO_URL = pathToFileURL(join(ROOT, 'src/db/checkpoint-repository.ts')).href;
const LOGGER_URL = pathToFileURL(join(ROOT, 'src/observe/logger.ts')).href;
const folders: string[] = [];
const CHECKPOINT = { sourceId: 'db1', fileFingerprint: 'abcdefabcdefabcd', filePath: '/log/postgresql.log', cursor: null };

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  folders.push(dir);
  return dir;
}

/** A JSON logger into memory; `events(name)` returns the lines whose `event` is `name`. */
function captureLogger(): { logger: Logger; events: (name: string) => Record<string, unknown>[] } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const lines = (): Record<string, unknown>[] =>
    chunks.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger: createLogger({ level: 'debug', stream }), events: (name) => lines().filter((line) => line.event === name) };
}

const sha256 = async (path: string): Promise<string> => createHash('sha256').update(await readFile(path)).digest('hex');

afterAll(async () => {
  for (const dir of folders) await rm(dir, { recursive: true, force: true });
});

describe('template cache file format', () => {
  const version = pgliteVersion();
  const payload = gzipSync(Buffer.from('tarball bytes'));
  const file = encodeTemplateFile(version, payload);

  it('reads the installed PGlite version (the pinned dependency) and names the file after it', async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(version).toBe(manifest.dependencies['@electric-sql/pglite']);
    expect(templateFileName(version)).toBe(`pglite-${version}.template`);
    expect(templateFileName('1.0.0+build/x')).toBe('pglite-1.0.0_build_x.template');
  });

  it('round-trips a payload and starts with the magic line and a JSON header', () => {
    expect(decodeTemplateFile(file, version)).toEqual({ payload });
    const [magic, header] = file.subarray(0, file.indexOf(0x0a, file.indexOf(0x0a) + 1)).toString('utf8').split('\n');
    expect(magic).toBe(TEMPLATE_MAGIC);
    expect(JSON.parse(header!)).toEqual({
      pgliteVersion: version,
      payloadBytes: payload.byteLength,
      sha256: createHash('sha256').update(payload).digest('hex'),
    });
  });

  it('rejects a truncated file, a flipped byte, another version, a foreign header and a non-gzip payload', () => {
    expect(decodeTemplateFile(file.subarray(0, file.byteLength - 1), version)).toEqual({ rejection: 'size' });
    const flipped = Buffer.from(file);
    flipped[flipped.byteLength - 3]! ^= 0xff;
    expect(decodeTemplateFile(flipped, version)).toEqual({ rejection: 'hash' });
    expect(decodeTemplateFile(file, '0.0.1')).toEqual({ rejection: 'version' });
    expect(decodeTemplateFile(Buffer.from('PK\u0003\u0004 zip file\nmore\n'), version)).toEqual({ rejection: 'header' });
    expect(decodeTemplateFile(Buffer.from(`${TEMPLATE_MAGIC}\n{not json\n`), version)).toEqual({ rejection: 'header' });
    expect(decodeTemplateFile(Buffer.alloc(0), version)).toEqual({ rejection: 'header' });
    expect(decodeTemplateFile(encodeTemplateFile(version, Buffer.from('plain tar')), version)).toEqual({ rejection: 'payload' });
  });

  it('defaults the cache folder to $XDG_CACHE_HOME/jaga, else ~/.cache/jaga', () => {
    expect(defaultTemplateCacheDir({ XDG_CACHE_HOME: '/var/cache/me' })).toBe('/var/cache/me/jaga');
    const home = defaultTemplateCacheDir({});
    expect(home.endsWith('/.cache/jaga')).toBe(true);
    expect(defaultTemplateCacheDir({ XDG_CACHE_HOME: 'relative/path' })).toBe(home);
  });
});

/** The file's shared cache, built once (one initdb) before the tests that read it. */
let cacheDir = '';
let templatePath = '';
const capture = captureLogger();

beforeAll(async () => {
  cacheDir = await tempDir('jaga-template-cache-');
  templatePath = join(cacheDir, templateFileName(pgliteVersion()));
  const first = await PgliteTemplate.obtain({ cacheDir, logger: capture.logger });
  expect(first.origin).toBe('built');
}, 180_000);

describe('stores created from the cached template', () => {

  it('builds the template once, then memory and folder stores reuse the same file (same inode, mtime, bytes)', async () => {
    const before = await stat(templatePath);
    const hashBefore = await sha256(templatePath);
    for (const options of [{ memory: true }, { dataDir: await tempDir('jaga-store-') }, { memory: true }]) {
      const store = await openStore({ ...options, templateCacheDir: cacheDir, logger: capture.logger });
      expect(await store.query('SELECT count(*)::int AS n FROM jaga_checkpoint')).toEqual([{ n: 0 }]);
      await store.close();
    }
    expect((await PgliteTemplate.obtain({ cacheDir })).origin).toBe('cache');
    const after = await stat(templatePath);
    expect([after.ino, after.mtimeMs, after.size]).toEqual([before.ino, before.mtimeMs, before.size]);
    expect(await sha256(templatePath)).toBe(hashBefore);
    expect(capture.events('pglite_template_built')).toHaveLength(1);
    expect(capture.events('pglite_template_built')[0]).toMatchObject({ path: templatePath, pgliteVersion: pgliteVersion() });
    expect(capture.events('pglite_template_invalid')).toEqual([]);
    expect(await readdir(cacheDir)).toEqual([templateFileName(pgliteVersion())]);
  });

  it('a new folder store keeps its data across close and reopen, keeps its lock file, and reopening skips the template', async () => {
    const dataDir = await tempDir('jaga-store-');
    const first = await openStore({ dataDir, templateCacheDir: cacheDir });
    // PGlite 0.5 is PostgreSQL 18
    expect((await readFile(join(dataDir, PGLITE_SUBDIR, 'PG_VERSION'), 'utf8')).trim()).toBe('18');
    expect((await readFile(join(dataDir, STORE_LOCK_FILE), 'utf8')).length).toBeGreaterThan(0);
    const refused = await openStore({ dataDir, templateCacheDir: cacheDir }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(StoreError);
    expect((refused as StoreError).transient).toBe(false);
    await first.transaction((tx) => new CheckpointRepository(first).save(tx, [{ ...CHECKPOINT, byteOffset: 4242 }]));
    await first.close();

    const emptyCache = await tempDir('jaga-template-unused-');
    const reopened = await openStore({ dataDir, templateCacheDir: emptyCache });
    const loaded = await new CheckpointRepository(reopened).load('db1');
    await reopened.close();
    expect(loaded.map(({ byteOffset, fileFingerprint }) => ({ byteOffset, fileFingerprint }))).toEqual([
      { byteOffset: 4242, fileFingerprint: CHECKPOINT.fileFingerprint },
    ]);
    expect(await readdir(emptyCache)).toEqual([]);
  });
});

describe('a damaged template', () => {
  it('is rebuilt with a log line when truncated (past the build lock of a dead process), and the store still opens', async () => {
    const ownCacheDir = await tempDir('jaga-template-cache-');
    const path = join(ownCacheDir, templateFileName(pgliteVersion()));
    await copyFile(templatePath, path);
    const goodBytes = (await stat(path)).size;
    await truncate(path, Math.floor(goodBytes / 2));
    const exited = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => exited.once('exit', resolve));
    await writeFile(`${path}.lock`, `${exited.pid} ${hostname()}\n`);
    const own = captureLogger();

    const store = await openStore({ memory: true, templateCacheDir: ownCacheDir, logger: own.logger });
    expect(await store.query('SELECT count(*)::int AS n FROM jaga_checkpoint')).toEqual([{ n: 0 }]);
    await store.close();

    expect(own.events('pglite_template_invalid')).toEqual([
      expect.objectContaining({ level: 'warn', path, reason: 'size', fileBytes: Math.floor(goodBytes / 2) }),
    ]);
    expect(own.events('pglite_template_stale_lock_removed')).toEqual([expect.objectContaining({ path: `${path}.lock` })]);
    expect(own.events('pglite_template_built')).toHaveLength(1);
    expect(decodeTemplateFile(await readFile(path), pgliteVersion()).rejection).toBeUndefined();
    expect(await readdir(ownCacheDir)).toEqual([templateFileName(pgliteVersion())]);
  }, 180_000);

  it('that passes validation but cannot be loaded is deleted and the store falls back to initdb', async () => {
    const ownCacheDir = await tempDir('jaga-template-cache-');
    const path = join(ownCacheDir, templateFileName(pgliteVersion()));
    await writeFile(path, encodeTemplateFile(pgliteVersion(), gzipSync(Buffer.from('not a tar archive'.repeat(64)))));
    const own = captureLogger();
    const dataDir = await tempDir('jaga-store-');

    const store = await openStore({ dataDir, templateCacheDir: ownCacheDir, logger: own.logger });
    expect(await store.query('SELECT count(*)::int AS n FROM jaga_checkpoint')).toEqual([{ n: 0 }]);
    await store.close();

    expect(own.events('pglite_template_load_failed')).toEqual([
      expect.objectContaining({ level: 'warn', path, origin: 'cache', error: 'Error' }),
    ]);
    expect(await readdir(ownCacheDir)).toEqual([]);
  }, 180_000);
});

/**
 * Child program: opens a new folder store from the shared cache (log lines as JSON on stdout), saves
 * offset = its index, reopens and prints `child_result` with the offset read back.
 */
const CHILD_SOURCE = `
import { openStore } from ${JSON.stringify(OPEN_STORE_URL)};
import { CheckpointRepository } from ${JSON.stringify(REPO_URL)};
import { createLogger } from ${JSON.stringify(LOGGER_URL)};
const [dataDir, cacheDir, index] = process.argv.slice(2);
const checkpoint = ${JSON.stringify(CHECKPOINT)};
const logger = createLogger({ level: 'info', stream: process.stdout });
const store = await openStore({ dataDir, templateCacheDir: cacheDir, logger });
await store.transaction((tx) => new CheckpointRepository(store).save(tx, [{ ...checkpoint, byteOffset: Number(index) }]));
await store.close();
const reopened = await openStore({ dataDir, templateCacheDir: cacheDir });
const [saved] = await new CheckpointRepository(reopened).load('db1');
await reopened.close();
process.stdout.write(JSON.stringify({ event: 'child_result', index: Number(index), byteOffset: saved.byteOffset }) + '\\n');
`;

function runChild(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('concurrent first opens', () => {
  it('three processes creating stores on an empty cache all succeed, build once and leave one valid file, no temp or lock files', async () => {
    const childCacheDir = await tempDir('jaga-template-cache-');
    const scriptDir = await tempDir('jaga-template-child-');
    const script = join(scriptDir, 'child.mts');
    await writeFile(script, CHILD_SOURCE);
    const dataDirs = await Promise.all([1, 2, 3].map(() => tempDir('jaga-store-')));

    const results = await Promise.all(dataDirs.map((dataDir, i) => runChild(script, [dataDir, childCacheDir, String(i + 1)])));

    expect(results.map((result) => ({ code: result.code, stderr: result.stderr }))).toEqual([1, 2, 3].map(() => ({ code: 0, stderr: '' })));
    const lines = results.map((result) => result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>));
    expect(lines.map((child) => child.filter((line) => line.event === 'child_result'))).toEqual([
      [{ event: 'child_result', index: 1, byteOffset: 1 }],
      [{ event: 'child_result', index: 2, byteOffset: 2 }],
      [{ event: 'child_result', index: 3, byteOffset: 3 }],
    ]);
    // one initdb for the three: the others waited on the build lock for its file
    expect(lines.flat().filter((line) => line.event === 'pglite_template_built')).toHaveLength(1);
    const name = templateFileName(pgliteVersion());
    expect(await readdir(childCacheDir)).toEqual([name]);
    expect(decodeTemplateFile(await readFile(join(childCacheDir, name)), pgliteVersion()).rejection).toBeUndefined();
  }, 300_000);
});

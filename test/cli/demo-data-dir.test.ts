/**
 * `jaga demo --data-dir` that cannot be created (a path under a regular file) is refused with a
 * one-line CliError naming the option and the errno code (exit 2 through `main`), before any seeding.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/cli-error.js';
import { demoCommand } from '../../src/cli/demo-command.js';

describe('jaga demo --data-dir', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jaga-demo-dir-'));
    await writeFile(join(dir, 'a-file'), 'not a folder\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names the folder and ENOTDIR when the path runs through a regular file', async () => {
    const bad = join(dir, 'a-file', 'store');
    const error = await demoCommand(['--data-dir', bad]).then(
      (code) => new Error(`expected a refusal, got exit ${code}`),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(CliError);
    expect(error.message).toBe(`--data-dir ${bad}: cannot create the folder (ENOTDIR)`);
  });

  it('names EEXIST when the path is a regular file', async () => {
    const bad = join(dir, 'a-file');
    const error = await demoCommand(['--data-dir', bad]).then(
      (code) => new Error(`expected a refusal, got exit ${code}`),
      (e: unknown) => e as Error,
    );
    expect(error.message).toBe(`--data-dir ${bad}: cannot create the folder (EEXIST)`);
  });
});

describe('jaga demo --listen', () => {
  it('refuses an address that is not host:port before writing anything, naming the option (not a temporary file)', async () => {
    await expect(demoCommand(['--listen', '127.0.0.1:99999'])).rejects.toThrow(new CliError('--listen must be host:port, [ipv6]:port or :port, e.g. 127.0.0.1:7887, not "127.0.0.1:99999"'));
    await expect(demoCommand(['--listen', 'localhost'])).rejects.toThrow(new CliError('--listen must be host:port, [ipv6]:port or :port, e.g. 127.0.0.1:7887, not "localhost"'));
  });
});

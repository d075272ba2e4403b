import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFolder } from '../../src/lib/make-folder.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jaga-make-folder-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('makeFolder', () => {
  it('creates a folder and its missing parents, and accepts one that exists', async () => {
    const deep = join(dir, 'a', 'b', 'c');
    await makeFolder(deep);
    expect((await stat(deep)).isDirectory()).toBe(true);
    await makeFolder(deep);
    await makeFolder(join(dir, 'a'));
    expect((await stat(join(dir, 'a', 'b'))).isDirectory()).toBe(true);
  });

  it('fails with EEXIST when the path is a file, ENOTDIR when a parent is', async () => {
    const file = join(dir, 'plain-file');
    await writeFile(file, 'x');
    await expect(makeFolder(file)).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(makeFolder(join(file, 'child'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  // fs.mkdir(..., { recursive: true }) never settles here on Node 20: /proc exists but refuses children
  it.runIf(process.platform === 'linux')('fails at once with ENOENT under /proc instead of hanging', async () => {
    await expect(makeFolder('/proc/jaga-make-folder-test/data')).rejects.toMatchObject({ code: 'ENOENT' });
  }, 5_000);
});

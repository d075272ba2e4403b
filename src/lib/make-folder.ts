import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Creates the folder `path` and any missing parents, like `mkdir -p`; an existing folder is fine.
 *
 * Why not `fs.mkdir(path, { recursive: true })`: on Node 20 it never settles when the kernel answers
 * ENOENT for a parent that exists (e.g. `/proc/x` or a folder under a read-only pseudo file system),
 * so `jaga demo --data-dir /proc/x` hung instead of saying the folder cannot be made. This walks up
 * with one plain `mkdir` per level, so every failure surfaces as the kernel's error.
 *
 * @throws NodeJS.ErrnoException from `mkdir`: EEXIST when `path` exists and is not a folder, ENOTDIR
 *   when a parent is a file, ENOENT when a parent exists but refuses a child, EACCES, EROFS, ...
 */
export async function makeFolder(path: string): Promise<void> {
  try {
    await mkdir(path);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (await isFolder(path)) return;
      throw error; // a file (or something else) already has that name
    }
    if (code !== 'ENOENT') throw error;
    const parent = dirname(path);
    if (parent === path || (await isFolder(parent))) throw error; // the parent exists yet refuses a child
    await makeFolder(parent);
  }
  try {
    await mkdir(path);
  } catch (error) {
    // another process may have created it between the two calls
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !(await isFolder(path))) throw error;
  }
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

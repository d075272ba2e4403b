import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** One regular file found by a folder scan: its path and the identity-relevant parts of its stat. */
export interface ScannedFile {
  /** absolute (or dir-relative as given) path: `join(dir, name)` */
  path: string;
  name: string;
  dev: number;
  ino: number;
  /** bytes */
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

/** `dev.ino`: the key that names an inode on this machine. */
export function inodeKey(file: { dev: number; ino: number }): string {
  return `${file.dev}.${file.ino}`;
}

/**
 * Lists the regular files of `dir` whose base name passes `matches`, with their stats. A file that
 * vanishes between the listing and its stat is left out (the next scan sees the truth).
 *
 * @throws the readdir error (ENOENT, EACCES, ...) when the folder itself cannot be listed.
 */
export async function scanFolder(dir: string, matches: (name: string) => boolean): Promise<ScannedFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: ScannedFile[] = [];
  for (const entry of entries) {
    if (entry.isDirectory() || !matches(entry.name)) continue;
    const path = join(dir, entry.name);
    try {
      const s = await stat(path);
      if (!s.isFile()) continue;
      files.push({ path, name: entry.name, dev: s.dev, ino: s.ino, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return files;
}

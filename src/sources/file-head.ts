import { open } from 'node:fs/promises';
import { FINGERPRINT_MAX_BYTES, fileFingerprint } from '../domain/file-fingerprint.js';

/** Where to read: a path that must still name the inode (dev, ino) seen by the scan. */
export interface InodeAtPath {
  path: string;
  dev: number;
  ino: number;
}

/**
 * Reads `length` bytes at `position` (bytes) of the file at `path` if it is still the given inode.
 * Returns null when the path is gone or names another inode now (the next scan sees the truth).
 * @throws other open/read errors (EACCES, EIO, ...).
 */
export async function readInodeRange(file: InodeAtPath, position: number, length: number): Promise<Buffer | null> {
  let handle;
  try {
    handle = await open(file.path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const s = await handle.stat();
    if (s.dev !== file.dev || s.ino !== file.ino) return null;
    const buffer = Buffer.alloc(Math.max(0, length));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * The FileFingerprint of the file at `path` (see src/domain/file-fingerprint.ts), or null while it
 * cannot be identified yet (first line incomplete and shorter than FINGERPRINT_MAX_BYTES) or when the
 * path no longer names the inode.
 */
export async function readHeadFingerprint(file: InodeAtPath): Promise<string | null> {
  const head = await readInodeRange(file, 0, FINGERPRINT_MAX_BYTES);
  return head ? fileFingerprint(head) : null;
}

/**
 * Byte offset where the last line of a file of `size` bytes starts, looking back at most
 * `maxLookBackBytes`: the position after the last newline, 0 when the whole file is one line, or
 * `size` when no newline is found within the look-back (`startAt: end` skips that far).
 */
export async function lastLineStart(file: InodeAtPath, size: number, maxLookBackBytes: number): Promise<number> {
  const from = Math.max(0, size - maxLookBackBytes);
  const tail = await readInodeRange(file, from, size - from);
  if (!tail) return size;
  const newline = tail.lastIndexOf(10);
  if (newline >= 0) return from + newline + 1;
  return from === 0 ? 0 : size;
}

import { type FileHandle, open } from 'node:fs/promises';
import { FINGERPRINT_MAX_BYTES, fileFingerprint } from '../domain/file-fingerprint.js';
import { type LogFormat, detectLogFormat } from '../parse/log-format.js';
import { ZONE_HINT_HEAD_BYTES, zoneTextHint } from '../parse/zone-text-hint.js';
import { CliError } from './cli-error.js';

/** A log file opened for parsing; the caller closes `handle`. */
export interface OpenedLogFile {
  handle: FileHandle;
  /** the requested format, or the one detected from the name and first bytes for `auto` */
  format: LogFormat;
  /** FileFingerprint of the first bytes (`empty` for an empty file) */
  fingerprint: string;
}

/**
 * Opens a log file for the CLI's parsing commands (`jaga parse`, `jaga report access --logs`): checks it
 * is a regular file and reads its head (4 x FINGERPRINT_MAX_BYTES bytes) to fingerprint it and, for
 * `auto`, to detect its format.
 * @throws CliError `cannot read PATH: CODE` when it cannot be opened or read, `cannot read PATH: not a file`
 */
export async function openLogFile(path: string, requested: LogFormat | 'auto'): Promise<OpenedLogFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    if (!(await handle.stat()).isFile()) throw new CliError(`cannot read ${path}: not a file`);
    const head = Buffer.alloc(FINGERPRINT_MAX_BYTES * 4);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const headBytes = head.subarray(0, bytesRead);
    const format = requested === 'auto' ? detectLogFormat(path, headBytes) : requested;
    return { handle, format, fingerprint: fileFingerprint(headBytes) ?? 'empty' };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * The `hint:` line (see `zoneTextHint`) for a log file whose first record's zone text contradicts
 * `timezone`, or null (agreeing or unknown zone text, no record with a time in its first 64 KiB).
 * Shared by `jaga parse` and `jaga replay` (their first file, after it was parsed).
 * @throws CliError when the file cannot be read
 */
export async function fileZoneHint(path: string, requested: LogFormat | 'auto', options: { logLinePrefix: string | undefined; timezone: string }): Promise<string | null> {
  const file = await openLogFile(path, requested);
  const head = await file.handle.read(Buffer.alloc(ZONE_HINT_HEAD_BYTES), 0, ZONE_HINT_HEAD_BYTES, 0).finally(() => file.handle.close());
  return zoneTextHint(file.format, head.buffer.subarray(0, head.bytesRead), options);
}

import { createHash } from 'node:crypto';

/** Bytes of a file's start that identify it when its first line is longer (or not complete yet). */
export const FINGERPRINT_MAX_BYTES = 1024;

/**
 * FileFingerprint: identity of a log file independent of its name (DESIGN.md vocabulary).
 * The SHA-256 (first 16 hex chars) of the file's first line including its newline, or of its first
 * `FINGERPRINT_MAX_BYTES` bytes when the first line is longer. Returns null while the file holds
 * neither a complete first line nor `FINGERPRINT_MAX_BYTES` bytes (it cannot be identified yet).
 *
 * @param head the first bytes of the file (at least FINGERPRINT_MAX_BYTES when available)
 */
export function fileFingerprint(head: Buffer): string | null {
  const newline = head.indexOf(10);
  let identifying: Buffer;
  if (newline >= 0 && newline < FINGERPRINT_MAX_BYTES) identifying = head.subarray(0, newline + 1);
  else if (head.length >= FINGERPRINT_MAX_BYTES) identifying = head.subarray(0, FINGERPRINT_MAX_BYTES);
  else return null;
  return createHash('sha256').update(identifying).digest('hex').slice(0, 16);
}

/**
 * One piece of one log file, as yielded by `LogFolderSource.chunks()`, in file order per file.
 *
 * - `data`: `bytes` are complete lines (each ends with `\n`) starting at byte `offset` of the file
 *   identified by `fingerprint`. The one exception: a single line longer than the source's
 *   `chunkBytes` is delivered in pieces of `chunkBytes` (a framer holds partial lines anyway).
 * - `idle`: the file has no more complete lines for now; the consumer flushes its framer
 *   (`RecordFramer.flush()`), which keeps a partial last line.
 * - `end`: the file was rotated away, deleted or truncated and has been read to its end; `bytes` is
 *   its final partial line (no trailing newline; may be empty) starting at `offset`. The consumer
 *   calls `RecordFramer.end()` and forgets the file. A copy of the same file that shows up later
 *   (copytruncate seen late) continues with `data` chunks past that offset.
 *
 * `fingerprint` is the file's identity (FileFingerprint, with a `~<dev>.<ino>` suffix when two
 * different files share a first line) and, with `offset`, a record's deterministic id.
 */
export type FileChunk =
  | { type: 'data'; sourceId: string; path: string; fingerprint: string; offset: number; bytes: Buffer }
  | { type: 'idle'; sourceId: string; path: string; fingerprint: string }
  | { type: 'end'; sourceId: string; path: string; fingerprint: string; offset: number; bytes: Buffer };

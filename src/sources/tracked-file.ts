import { open, type FileHandle } from 'node:fs/promises';
import { FINGERPRINT_MAX_BYTES, fileFingerprint } from '../domain/file-fingerprint.js';

/** What one read of a tracked file gave. */
export type ReadOutcome =
  | { kind: 'data'; offset: number; bytes: Buffer }
  /** no complete line past `readOffset` for now */
  | { kind: 'none' }
  /** the inode no longer holds this file's content (truncated or rewritten): nothing was delivered */
  | { kind: 'replaced' };

/** Identity and start position of a file when it starts being tracked. */
export interface TrackedFileInit {
  /** FileFingerprint, with `~dev.ino` when tie-broken */
  identity: string;
  /** the plain FileFingerprint of the file's head */
  fingerprint: string;
  path: string;
  dev: number;
  ino: number;
  /** reading order: lower is older and is read first */
  order: number;
  /** byte offset to deliver from */
  offset: number;
  /** offset already committed downstream */
  ackedOffset: number;
}

/** Reads of a regular file use buffers this large at most; shorter deliveries are copied out. */
const COPY_BELOW_FRACTION = 4;

/**
 * One log file being followed: its identity, its open descriptor (kept while the file is deleted or
 * renamed away, so it can be read to its end), and its positions in bytes: `readOffset` (end of the
 * last complete line delivered), `ackedOffset` (committed downstream), `knownSize` (last size seen).
 * Reading never holds a partial line in memory: it is re-read from `readOffset` once the file grows.
 */
export class TrackedFile {
  readonly identity: string;
  readonly fingerprint: string;
  readonly order: number;
  path: string;
  dev: number;
  ino: number;
  readOffset: number;
  ackedOffset: number;
  knownSize = 0;
  /** size at which only a partial line was left after readOffset (-1: none); no re-read until it changes */
  partialAtSize = -1;
  /** the inode left the folder (deleted / renamed out of the glob): drained, then ended */
  gone = false;
  /** size seen when found gone; a gone file that stops growing for one scan is ended */
  goneSize = -1;
  endable = false;
  /** the inode was found truncated or rewritten: its content is lost, the file ends */
  replaced = false;
  /** `replaced` was seen by one scan already (the next scan without a copy ends the file) */
  replacedConfirmed = false;
  /** data was delivered since the last `idle` */
  needsIdle = false;
  lastGrowthAtMs: number;
  /** stat of the last scan that saw this inode (to notice changes) */
  scanStat = { size: -1, mtimeMs: -1, ctimeMs: -1 };
  private handle: FileHandle | null = null;

  constructor(init: TrackedFileInit, nowMs: number) {
    this.identity = init.identity;
    this.fingerprint = init.fingerprint;
    this.path = init.path;
    this.dev = init.dev;
    this.ino = init.ino;
    this.order = init.order;
    this.readOffset = init.offset;
    this.ackedOffset = init.ackedOffset;
    this.lastGrowthAtMs = nowMs;
  }

  /** True while a descriptor is open. */
  get isOpen(): boolean {
    return this.handle !== null;
  }

  /**
   * Opens `path` and binds it when it is still this file's inode. Returns false (nothing opened)
   * when the path is gone or now names another inode.
   * @throws other open/fstat errors (EACCES, EMFILE, ...).
   */
  async open(path: string = this.path): Promise<boolean> {
    if (this.handle) return true;
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    const s = await handle.stat();
    if (s.dev !== this.dev || s.ino !== this.ino) {
      await handle.close();
      return false;
    }
    this.handle = handle;
    this.noteSize(s.size);
    return true;
  }

  /** Moves this file to another inode holding a copy of it (copytruncate): closes the old descriptor. */
  async rebind(target: { path: string; dev: number; ino: number }): Promise<boolean> {
    await this.close();
    this.path = target.path;
    this.dev = target.dev;
    this.ino = target.ino;
    this.replaced = false;
    this.replacedConfirmed = false;
    this.gone = false;
    this.goneSize = -1;
    this.endable = false;
    this.partialAtSize = -1;
    return this.open();
  }

  /** Closes the descriptor (idempotent). */
  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    if (handle) await handle.close();
  }

  /** True when complete lines may be waiting past `readOffset`. */
  hasUnread(): boolean {
    return this.handle !== null && !this.replaced && this.knownSize > this.readOffset && this.knownSize !== this.partialAtSize;
  }

  /** Re-reads the size through the descriptor (works after deletion). Returns the size, or -1 when closed. */
  async refreshSize(nowMs: number): Promise<number> {
    if (!this.handle) return -1;
    const s = await this.handle.stat();
    if (s.size < this.readOffset) this.replaced = true;
    this.noteSize(s.size, nowMs);
    return s.size;
  }

  /** True when the inode still starts with this file's FileFingerprint. */
  async headMatches(): Promise<boolean> {
    if (!this.handle) return false;
    const head = Buffer.alloc(FINGERPRINT_MAX_BYTES);
    const { bytesRead } = await this.handle.read(head, 0, head.length, 0);
    return fileFingerprint(head.subarray(0, bytesRead)) === this.fingerprint;
  }

  /**
   * Reads up to `chunkBytes` from `readOffset` and delivers the complete lines found (a line longer
   * than `chunkBytes` is delivered in pieces). The head is checked after the read: a read that may
   * have seen another content (truncate + rewrite) is discarded and reported as `replaced`.
   */
  async readChunk(chunkBytes: number, nowMs: number): Promise<ReadOutcome> {
    if (!this.handle || this.replaced) return { kind: 'none' };
    const buffer = Buffer.allocUnsafe(chunkBytes);
    const { bytesRead } = await this.handle.read(buffer, 0, chunkBytes, this.readOffset);
    if (bytesRead === 0) {
      const size = await this.refreshSize(nowMs);
      if (this.replaced) return { kind: 'replaced' };
      this.partialAtSize = size;
      return { kind: 'none' };
    }
    if (!(await this.headMatches())) {
      this.replaced = true;
      return { kind: 'replaced' };
    }
    const end = this.readOffset + bytesRead;
    const atEnd = bytesRead < chunkBytes;
    if (atEnd || end > this.knownSize) this.noteSize(end, nowMs);
    const lastNewline = buffer.lastIndexOf(10, bytesRead - 1);
    let length: number;
    if (lastNewline >= 0) length = lastNewline + 1;
    else if (!atEnd) length = bytesRead;
    else {
      this.partialAtSize = end;
      return { kind: 'none' };
    }
    if (length < bytesRead && atEnd) this.partialAtSize = end;
    const bytes = length * COPY_BELOW_FRACTION < chunkBytes ? Buffer.from(buffer.subarray(0, length)) : buffer.subarray(0, length);
    const offset = this.readOffset;
    this.readOffset += length;
    this.needsIdle = true;
    return { kind: 'data', offset, bytes };
  }

  /** The bytes from `readOffset` to the end of the file (at most `maxBytes`): a final partial line. */
  async readTail(maxBytes: number): Promise<Buffer> {
    if (!this.handle || this.replaced) return Buffer.alloc(0);
    const buffer = Buffer.alloc(maxBytes);
    const { bytesRead } = await this.handle.read(buffer, 0, maxBytes, this.readOffset);
    return Buffer.from(buffer.subarray(0, bytesRead));
  }

  private noteSize(size: number, nowMs?: number): void {
    if (size > this.knownSize && nowMs !== undefined) this.lastGrowthAtMs = nowMs;
    this.knownSize = size;
  }
}

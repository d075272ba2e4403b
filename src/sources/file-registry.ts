import type { FileCheckpoint } from './file-checkpoint.js';
import { lastLineStart, readHeadFingerprint, readInodeRange } from './file-head.js';
import { inodeKey, type ScannedFile } from './scanned-file.js';
import { TrackedFile } from './tracked-file.js';

/** Something that happened to a file during reconciliation, for telemetry (`event` is a bounded label). */
export interface FileChange {
  event: 'discovered' | 'rotated' | 'truncated' | 'gone' | 'dropped';
  identity: string;
  path: string;
  /** log fields: offsets in bytes, how it happened; never file content */
  fields: Record<string, string | number | boolean | null>;
}

/** One step of reading: a data or end piece of one file. */
export type ReadStep = { kind: 'data' | 'end'; file: TrackedFile; offset: number; bytes: Buffer };

/** Settings of a registry. */
export interface FileRegistryOptions {
  startAt: 'beginning' | 'end';
  /** largest read, bytes */
  chunkBytes: number;
  /** positions saved by a previous run */
  checkpoints: readonly FileCheckpoint[];
  /** a live file read to its end and not grown for this long has its descriptor closed, ms */
  idleCloseMs: number;
  /** how long a dropped file's identity and position are remembered (a late copy continues it), ms */
  retiredKeepMs: number;
}

interface RetiredFile {
  path: string;
  readOffset: number;
  ackedOffset: number;
  retiredAtMs: number;
}

/** At most this many dropped files are remembered. */
const MAX_RETIRED = 256;
/** Bytes compared to tell a copy of a live file from a different file with the same first line. */
const SAME_CONTENT_PROBE_BYTES = 64 * 1024;

/**
 * The set of log files of one folder and their positions: reconciles each folder scan with what is
 * tracked (renames, copytruncate copies, truncation in place, deletion, inode reuse), picks what to
 * read next (older files first) and keeps acknowledged positions for checkpoints.
 *
 * Identity is the FileFingerprint of the file's head; (dev, ino) decides between two files whose
 * heads are equal: a copy of a live file (same bytes) is not read while the original holds the
 * content; a different file with the same first line gets the identity `<fingerprint>~<dev>.<ino>`.
 */
export class FileRegistry {
  private readonly files = new Map<string, TrackedFile>();
  private ordered: TrackedFile[] = [];
  private readonly retired = new Map<string, RetiredFile>();
  private readonly restored = new Map<string, FileCheckpoint>();
  /** inode key of a copy of a live file → identity of that file */
  private readonly shadows = new Map<string, string>();
  private nextOrder = 0;
  /** the file `next` delivered data from last (older files' sizes were re-read when it was started) */
  private lastRead: TrackedFile | null = null;
  private scans = 0;
  private relistRequested = false;

  constructor(private readonly options: FileRegistryOptions) {
    for (const checkpoint of options.checkpoints) this.restored.set(checkpoint.fingerprint, checkpoint);
  }

  /** True when the last `reconcile` wants a fresh listing at once (a file was found truncated). */
  get wantsRelist(): boolean {
    return this.relistRequested;
  }

  /** Number of files tracked (open or not). */
  get size(): number {
    return this.files.size;
  }

  /** Bytes of the tracked files not read yet: sum of (last size seen − read offset), bytes (read-only; metrics). */
  get lagBytes(): number {
    let lag = 0;
    for (const file of this.files.values()) lag += Math.max(0, file.knownSize - file.readOffset);
    return lag;
  }

  /**
   * Applies one scan of the folder (all matching regular files) and returns what changed.
   * @param listAgain lists the folder again; when given, a listing that shows a file no tracked
   *   file claims is checked by a second listing before any such file is started (see `claim`)
   * @throws file system errors other than a vanished file (EACCES, EMFILE, ...).
   */
  async reconcile(scanned: readonly ScannedFile[], nowMs: number, listAgain?: () => Promise<readonly ScannedFile[]>): Promise<FileChange[]> {
    const changes: FileChange[] = [];
    let pass = await this.claim(scanned, nowMs, changes);
    if (listAgain && pass.unclaimed.some((u) => !this.isShadow(u))) {
      // A file renamed while the folder was being listed can be missing from the listing: its old
      // name was read by readdir, then stat found its successor there. Starting the successor now
      // would read it before the renamed file's last records, so list again first (the rename
      // happened before the successor existed, hence before this listing stat-ed it).
      pass = await this.claim(await listAgain(), nowMs, changes);
    }
    const { lost, unclaimed } = pass;

    const used = new Set<string>();
    let relist = false;
    for (const file of lost) {
      const copy = unclaimed.find((u) => !used.has(inodeKey(u)) && u.fingerprint === file.fingerprint && u.size >= file.readOffset);
      if (copy && (await file.rebind(copy))) {
        used.add(inodeKey(copy));
        this.shadows.delete(inodeKey(copy));
        changes.push({ event: 'rotated', identity: file.identity, path: copy.path, fields: { how: 'copied', from: file.path, offset: file.readOffset } });
        file.path = copy.path;
        continue;
      }
      if (file.replaced && !file.replacedConfirmed) {
        // the listing may predate the copy of a copytruncate: list again before ending the file
        file.replacedConfirmed = true;
        relist = true;
      } else if (file.replaced) {
        file.endable = true;
        changes.push({ event: 'truncated', identity: file.identity, path: file.path, fields: { offset: file.readOffset, size: file.knownSize } });
      } else if (!file.gone) {
        file.gone = true;
        file.goneSize = await file.refreshSize(nowMs);
        if (file.goneSize < 0) file.endable = true;
        changes.push({ event: 'gone', identity: file.identity, path: file.path, fields: { offset: file.readOffset } });
      } else {
        const size = await file.refreshSize(nowMs);
        if (size === file.goneSize || size < 0) file.endable = true;
        file.goneSize = size;
      }
    }

    this.relistRequested = relist;
    if (relist) {
      // new files are identified after the re-listing, so that they are not read before the copy
      this.ordered = [...this.files.values()].sort((a, b) => a.order - b.order);
      return changes;
    }
    for (const u of unclaimed) {
      if (used.has(inodeKey(u))) continue;
      const change = await this.identify(u, nowMs);
      if (change) changes.push(change);
    }
    this.scans++;
    if (this.scans === 1) {
      for (const [identity, checkpoint] of this.restored) this.retire(identity, checkpoint.path, checkpoint.offset, checkpoint.offset, nowMs);
      this.restored.clear();
    }
    this.expireRetired(nowMs);
    this.ordered = [...this.files.values()].sort((a, b) => a.order - b.order);
    const writing = this.ordered.findLast((f) => !f.gone && !f.endable);
    if (writing && !writing.isOpen) await writing.open();
    return changes;
  }

  /** True when `u` is a known copy of a live file (copytruncate's copy while the original holds the content). */
  private isShadow(u: ScannedFile & { fingerprint: string }): boolean {
    const of = this.shadows.get(inodeKey(u));
    return of !== undefined && this.files.get(of)?.fingerprint === u.fingerprint;
  }

  /**
   * Matches one listing to the tracked files (renames, reopen/close, truncation checks): returns the
   * tracked files it lacks and the listed files no tracked file claims (with their head fingerprint,
   * oldest modification first).
   */
  private async claim(
    scanned: readonly ScannedFile[],
    nowMs: number,
    changes: FileChange[],
  ): Promise<{ lost: TrackedFile[]; unclaimed: Array<ScannedFile & { fingerprint: string }> }> {
    const byInode = new Map(scanned.map((s) => [inodeKey(s), s]));
    const claimed = new Set<string>();
    const lost: TrackedFile[] = [];
    const newest = this.ordered.at(-1);
    for (const file of this.ordered) {
      if (file.endable) continue;
      const seen = byInode.get(inodeKey(file));
      if (!seen) {
        lost.push(file);
        continue;
      }
      if (!(await this.stillHolds(file, seen, nowMs))) {
        file.replaced = true;
        lost.push(file);
        continue;
      }
      claimed.add(inodeKey(seen));
      if (file.gone) {
        file.gone = false;
        file.goneSize = -1;
      }
      if (file.path !== seen.path) {
        changes.push({ event: 'rotated', identity: file.identity, path: seen.path, fields: { how: 'renamed', from: file.path } });
        file.path = seen.path;
      }
      if (!file.isOpen && seen.size !== file.readOffset) await file.open(seen.path);
      else if (file !== newest && file.isOpen && file.readOffset === file.knownSize && nowMs - file.lastGrowthAtMs > this.options.idleCloseMs) await file.close();
    }

    const unclaimed: Array<ScannedFile & { fingerprint: string }> = [];
    for (const s of [...scanned].sort((a, b) => a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name))) {
      if (claimed.has(inodeKey(s))) continue;
      const fingerprint = await readHeadFingerprint(s);
      if (fingerprint !== null) unclaimed.push({ ...s, fingerprint });
    }
    return { lost, unclaimed };
  }

  /** Re-reads the size of every open file. Returns true when one was found truncated (scan soon). */
  async refreshSizes(nowMs: number): Promise<boolean> {
    let replaced = false;
    for (const file of this.ordered) {
      if (file.endable) continue;
      await file.refreshSize(nowMs);
      replaced ||= file.replaced;
    }
    return replaced;
  }

  /**
   * The next piece to deliver: complete lines of the oldest file that has some, or the end of a file
   * that is done. Returns `replaced` when a read found its file truncated (scan soon), null when
   * nothing is ready.
   */
  async next(nowMs: number): Promise<ReadStep | 'replaced' | null> {
    let sizesFreshBefore = 0;
    for (let i = 0; i < this.ordered.length; i++) {
      const file = this.ordered[i] as TrackedFile;
      if (file.hasUnread() && i > sizesFreshBefore && file !== this.lastRead) {
        // The writer finished an older file before it wrote this one, but the older file's size
        // may have been seen before its last write: read the older open files' sizes now (after
        // this file's), so that their last records come first. Once per move to a later file: the
        // writer does not go back to an older one, so the next chunks of this file need no check.
        sizesFreshBefore = i;
        if (await this.olderFileGrew(i, nowMs)) {
          i = -1;
          continue;
        }
      }
      if (file.hasUnread()) {
        const outcome = await file.readChunk(this.options.chunkBytes, nowMs);
        if (outcome.kind === 'data') {
          this.lastRead = file;
          return { kind: 'data', file, offset: outcome.offset, bytes: outcome.bytes };
        }
        if (outcome.kind === 'replaced' && !file.endable) return 'replaced';
      }
      if (file.endable && !file.hasUnread()) {
        const offset = file.readOffset;
        const bytes = await file.readTail(this.options.chunkBytes);
        file.readOffset += bytes.length;
        await file.close();
        this.files.delete(file.identity);
        this.ordered = this.ordered.filter((f) => f !== file);
        this.retire(file.identity, file.path, file.readOffset, file.ackedOffset, nowMs);
        return { kind: 'end', file, offset, bytes };
      }
    }
    return null;
  }

  /** Re-reads the sizes of the open files ordered before index `before`; true when one of them has lines to read. */
  private async olderFileGrew(before: number, nowMs: number): Promise<boolean> {
    let grew = false;
    for (const older of this.ordered.slice(0, before)) {
      if (!older.isOpen || older.endable || older.replaced) continue;
      await older.refreshSize(nowMs);
      grew ||= older.hasUnread();
    }
    return grew;
  }

  /** Files that delivered data since their last `idle` (and are marked idle now). */
  takeIdle(): TrackedFile[] {
    const idle = this.ordered.filter((file) => file.needsIdle && !file.hasUnread());
    for (const file of idle) file.needsIdle = false;
    return idle;
  }

  /** Records that everything before `offset` of the file `identity` is committed downstream. */
  ack(identity: string, offset: number): boolean {
    const target = this.files.get(identity) ?? this.retired.get(identity);
    if (!target) return false;
    if (offset > target.ackedOffset) target.ackedOffset = offset;
    return true;
  }

  /**
   * Acknowledged positions of tracked files and recently dropped ones, oldest first, plus the
   * restored checkpoints not matched yet (before the first scan): saving this list never loses a
   * position loaded at start-up.
   */
  checkpoints(): FileCheckpoint[] {
    // from `files`, not `ordered`: a file identified during a scan still in progress is in `files` only
    const live = [...this.files.values()].sort((a, b) => a.order - b.order).map((f) => ({ fingerprint: f.identity, path: f.path, offset: f.ackedOffset }));
    const retired = [...this.retired].map(([fingerprint, r]) => ({ fingerprint, path: r.path, offset: r.ackedOffset }));
    const restored = [...this.restored.values()].map((c) => ({ ...c }));
    return [...restored, ...retired, ...live];
  }

  /** Closes every descriptor. */
  async closeAll(): Promise<void> {
    for (const file of this.files.values()) await file.close();
  }

  /** True when `seen` (same inode as `file`) still holds the file's content; reopens a closed file that changed. */
  private async stillHolds(file: TrackedFile, seen: ScannedFile, nowMs: number): Promise<boolean> {
    if (seen.size < file.readOffset) return false;
    const prev = file.scanStat;
    const changed = seen.size !== prev.size || seen.mtimeMs !== prev.mtimeMs || seen.ctimeMs !== prev.ctimeMs;
    file.scanStat = { size: seen.size, mtimeMs: seen.mtimeMs, ctimeMs: seen.ctimeMs };
    if (!changed && !file.replaced) return true;
    if (!file.isOpen && !(await file.open(seen.path))) return false;
    if (!(await file.headMatches())) return false;
    file.replaced = false;
    file.replacedConfirmed = false;
    await file.refreshSize(nowMs);
    return !file.replaced;
  }

  /** Starts tracking a file not matched to a tracked inode; returns its change, or null when skipped. */
  private async identify(u: ScannedFile & { fingerprint: string }, nowMs: number): Promise<FileChange | null> {
    const key = inodeKey(u);
    const shadowOf = this.shadows.get(key);
    if (shadowOf && this.files.get(shadowOf)?.fingerprint === u.fingerprint) return null;
    let identity = u.fingerprint;
    const twin = [...this.files.values()].find((f) => f.fingerprint === u.fingerprint && !f.endable && !f.gone);
    if (twin) {
      if (await this.sameContent(twin, u)) {
        this.shadows.set(key, twin.identity);
        return null;
      }
      identity = `${u.fingerprint}~${key}`;
    } else if (!this.restored.has(identity) && this.restored.has(`${u.fingerprint}~${key}`)) {
      identity = `${u.fingerprint}~${key}`;
    }
    if (this.files.has(identity)) return null;
    let offset = 0;
    let ackedOffset = 0;
    let how = 'new';
    const retired = this.retired.get(identity);
    const restored = this.restored.get(identity);
    if (retired) {
      ({ readOffset: offset, ackedOffset } = retired);
      how = 'continued';
    } else if (restored) {
      offset = restored.offset;
      ackedOffset = restored.offset;
      how = 'checkpoint';
    } else if (this.scans === 0 && this.options.startAt === 'end') {
      offset = await lastLineStart(u, u.size, this.options.chunkBytes);
      ackedOffset = offset;
      how = 'start_at_end';
    }
    const file = new TrackedFile({ identity, fingerprint: u.fingerprint, path: u.path, dev: u.dev, ino: u.ino, order: this.nextOrder++, offset, ackedOffset }, nowMs);
    // a file with nothing left to read keeps no descriptor (a folder may hold weeks of files)
    if (offset < u.size && !(await file.open())) return null;
    file.knownSize = u.size;
    file.scanStat = { size: u.size, mtimeMs: u.mtimeMs, ctimeMs: u.ctimeMs };
    // the retired or restored position is dropped only now that the file holds it (no await in between):
    // checkpoints() taken while this scan awaits (a commit of the pipeline) must still list it
    this.files.set(identity, file);
    if (how === 'continued') {
      // an ack that reached the retired entry while this awaited
      file.ackedOffset = Math.max(file.ackedOffset, this.retired.get(identity)?.ackedOffset ?? 0);
      this.retired.delete(identity);
    } else if (how === 'checkpoint') this.restored.delete(identity);
    return { event: how === 'continued' ? 'rotated' : 'discovered', identity, path: u.path, fields: { how, offset, size: u.size } };
  }

  /** True when `u` starts with the same bytes as the tracked file (a copy), compared over a bounded prefix. */
  private async sameContent(file: TrackedFile, u: ScannedFile): Promise<boolean> {
    const length = Math.min(SAME_CONTENT_PROBE_BYTES, file.knownSize, u.size);
    const [a, b] = await Promise.all([readInodeRange(file, 0, length), readInodeRange(u, 0, length)]);
    return a !== null && b !== null && a.equals(b);
  }

  private retire(identity: string, path: string, readOffset: number, ackedOffset: number, nowMs: number): void {
    this.retired.delete(identity);
    this.retired.set(identity, { path, readOffset, ackedOffset, retiredAtMs: nowMs });
    for (const [key, of] of this.shadows) if (of === identity) this.shadows.delete(key);
  }

  private expireRetired(nowMs: number): void {
    for (const [identity, r] of this.retired) {
      if (this.retired.size > MAX_RETIRED || nowMs - r.retiredAtMs > this.options.retiredKeepMs) this.retired.delete(identity);
    }
  }
}

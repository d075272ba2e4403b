import type { FramedRecord, FramedRecordSink } from './record-framer.js';

const EMPTY = Buffer.alloc(0);
/** Smallest buffer a framer allocates when it must own the bytes it holds. */
const MIN_OWNED_BYTES = 64 * 1024;

/**
 * The byte window shared by the line-oriented framers (csvlog, jsonlog): the bytes pushed but not
 * yet emitted, with their file offset. A pushed chunk is used in place while nothing of an earlier
 * chunk is held (no copy on the common path); what is still held after a push is copied into a
 * buffer the framer owns, because the caller may reuse the Buffers it pushes.
 *
 * Subclasses scan `buf[scanPos, len)`, emit records and advance `recStart`; the array-returning
 * `push`/`flush`/`end` of `RecordFramer` are built on their sink-taking `pushTo`/`flushTo`/`endTo`.
 */
export abstract class HeldBytesFramer {
  protected buf: Buffer = EMPTY;
  protected len = 0;
  /** true when `buf` is this framer's copy */
  protected owned = false;
  /** file offset of buf[0] */
  protected base: number;
  /** first byte not yet emitted */
  protected recStart = 0;
  /** where the subclass's scan resumes */
  protected scanPos = 0;

  constructor(startOffset: number) {
    this.base = startOffset;
  }

  /**
   * Forgets the held bytes and starts the window afresh at file offset `startOffset` (subclasses
   * reset their own scan state too: see `StreamingRecordFramer.restart`).
   */
  restart(startOffset: number): void {
    this.buf = EMPTY;
    this.len = 0;
    this.owned = false;
    this.base = startOffset;
    this.recStart = 0;
    this.scanPos = 0;
    this.windowCleared();
  }

  abstract pushTo(chunk: Buffer, out: FramedRecordSink): void;
  abstract flushTo(out: FramedRecordSink): void;
  abstract endTo(out: FramedRecordSink): void;

  push(chunk: Buffer): FramedRecord[] {
    const out: FramedRecord[] = [];
    this.pushTo(chunk, out);
    return out;
  }

  flush(): FramedRecord[] {
    const out: FramedRecord[] = [];
    this.flushTo(out);
    return out;
  }

  end(): FramedRecord[] {
    const out: FramedRecord[] = [];
    this.endTo(out);
    return out;
  }

  /** Called when every held byte was emitted and the window starts afresh. */
  protected windowCleared(): void {}

  /** Called when `shift` consumed bytes were dropped from the front of `buf`. */
  protected windowShifted(_shift: number): void {}

  /** Adds a pushed chunk after the held bytes. */
  protected append(chunk: Buffer): void {
    if (this.recStart >= this.len) {
      this.base += this.len;
      this.buf = chunk;
      this.len = chunk.length;
      this.owned = false;
      this.recStart = 0;
      this.scanPos = 0;
      this.windowCleared();
      return;
    }
    this.compact();
    const needed = this.len + chunk.length;
    if (!this.owned || needed > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(MIN_OWNED_BYTES, needed * 2));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
      this.owned = true;
    }
    chunk.copy(this.buf, this.len);
    this.len = needed;
  }

  /** Keeps the unconsumed bytes in a buffer this framer owns (the pushed chunk may be reused). */
  protected retain(): void {
    if (this.recStart >= this.len) {
      this.base += this.len;
      this.buf = EMPTY;
      this.len = 0;
      this.owned = false;
      this.recStart = 0;
      this.scanPos = 0;
      this.windowCleared();
      return;
    }
    if (this.owned) return;
    this.compact();
    const copy = Buffer.allocUnsafe(Math.max(MIN_OWNED_BYTES, this.len * 2));
    this.buf.copy(copy, 0, 0, this.len);
    this.buf = copy;
    this.owned = true;
  }

  /** Drops consumed bytes from the front, moving the held ones to index 0. */
  protected compact(): void {
    const shift = this.recStart;
    if (shift === 0) return;
    if (this.owned) this.buf.copy(this.buf, 0, shift, this.len);
    else this.buf = this.buf.subarray(shift, this.len);
    this.base += shift;
    this.len -= shift;
    this.recStart = 0;
    this.scanPos -= shift;
    this.windowShifted(shift);
  }
}

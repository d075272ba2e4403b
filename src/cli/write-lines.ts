/**
 * Writes lines (each without its newline) to a stream as one write, waiting for `drain` when the
 * stream's buffer is full so memory stays bounded however fast the producer is.
 * @throws the stream's error (e.g. EPIPE when stdout is closed) as a rejected promise
 */
export async function writeLines(stream: NodeJS.WritableStream, lines: string[]): Promise<void> {
  const ok = stream.write(`${lines.join('\n')}\n`);
  if (ok) return;
  await waitForDrain(stream);
}

/** Resolves at the stream's next `drain`; rejects with its next `error`. */
function waitForDrain(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onDrain = (): void => {
      stream.off('error', onError);
      resolve();
    };
    const onError = (error: Error): void => {
      stream.off('drain', onDrain);
      reject(error);
    };
    stream.once('drain', onDrain);
    stream.once('error', onError);
  });
}

/** Default size of one output buffer of a `LineWriter`, bytes. */
export const LINE_WRITER_BUFFER_BYTES = 1024 * 1024;

/**
 * Collects lines as UTF-8 bytes in buffers of about `bufferBytes` and writes each full buffer in one
 * `write` call. For producers of many lines (e.g. `jaga parse`, ~100,000 JSON lines per second):
 * encoding each line straight into a large Buffer costs a fraction of joining strings first (a
 * joined rope of thousands of lines is flattened, copied and collected as a whole).
 */
export interface LineWriter {
  /** Appends one line (without its newline; `\n` is added). Synchronous: nothing is written yet. */
  add(line: string): void;
  /**
   * Appends lines that are already UTF-8 bytes, each ending in `\n` (e.g. from another thread's
   * `LineWriter`), after everything added so far. Synchronous; `bytes` is kept, not copied, until
   * written, so the caller must not change it before then.
   * @param written called once the stream is done with `bytes` (its write callback, without an
   *   error), e.g. to reuse their buffer (`SpareBuffers`); never when the write fails
   */
  addBytes(bytes: Uint8Array, written?: () => void): void;
  /**
   * Writes every byte added so far, one `write` per buffer, waiting for `drain` whenever the stream
   * says its buffer is full. @throws the stream's error (e.g. EPIPE) as a rejected promise
   */
  flush(): Promise<void>;
}

/**
 * Output buffers of one size that were written and can be written into again, kept for a
 * `LineWriter` (or sent to another thread's): a fresh buffer costs a page fault per 4 KiB the
 * first time it is written (in `jaga parse` ~3 % of the CPU time). Only whole `ArrayBuffer`s of
 * exactly `bytes` are kept, at most `maxKept`.
 */
export class SpareBuffers {
  private readonly kept: ArrayBuffer[] = [];

  /** @param bytes size of each buffer; @param maxKept most buffers kept (the others are left to GC) */
  constructor(
    readonly bytes: number = LINE_WRITER_BUFFER_BYTES,
    private readonly maxKept = 16,
  ) {}

  /** A kept buffer, or a new one (not zero-filled), of `bytes`. */
  take(): Buffer {
    const kept = this.kept.pop();
    return kept === undefined ? Buffer.allocUnsafeSlow(this.bytes) : Buffer.from(kept);
  }

  /**
   * Keeps `buffer` for reuse; the caller must hold no view of it that is still in use.
   * @returns false when it was not kept: not `bytes` long (or detached), or `maxKept` are kept already
   */
  give(buffer: ArrayBufferLike): boolean {
    if (!(buffer instanceof ArrayBuffer) || buffer.byteLength !== this.bytes || this.kept.length >= this.maxKept) return false;
    this.kept.push(buffer);
    return true;
  }

  /** Buffers kept now. */
  get size(): number {
    return this.kept.length;
  }
}

/**
 * Creates a `LineWriter` on `stream`. The bytes written are exactly those of
 * `writeLines(stream, lines)` for the same lines: UTF-8, each line followed by `\n` (a lone surrogate
 * becomes U+FFFD, as in any string write). A line longer than `bufferBytes` gets a buffer of its own.
 * @param bufferBytes size of one output buffer, bytes (default `LINE_WRITER_BUFFER_BYTES`, 1 MiB);
 *   `spares.bytes` when `spares` is given
 * @param spares where new output buffers are taken from (each ends up in exactly one `write`, from
 *   its first byte: the stream's reader may give it back once done); default new buffers
 */
export function createLineWriter(stream: NodeJS.WritableStream, bufferBytes = LINE_WRITER_BUFFER_BYTES, spares?: SpareBuffers): LineWriter {
  const size = spares?.bytes ?? bufferBytes;
  const newBuffer = (): Buffer => (spares === undefined ? Buffer.allocUnsafe(size) : spares.take());
  let buffer = newBuffer();
  let used = 0;
  const full: Buffer[] = [];
  /** the `written` callbacks of the pieces of `full` given to `addBytes` */
  const callbacks = new Map<Buffer, () => void>();
  return {
    add(line) {
      // A UTF-16 code unit is at most 3 UTF-8 bytes (a surrogate pair: 4 bytes for 2 units).
      const worstBytes = line.length * 3 + 1;
      if (used + worstBytes > buffer.length) {
        if (used > 0) full.push(buffer.subarray(0, used));
        buffer = worstBytes <= size ? newBuffer() : spares === undefined ? Buffer.allocUnsafe(worstBytes) : Buffer.allocUnsafeSlow(worstBytes);
        used = 0;
      }
      used += buffer.write(line, used);
      buffer[used++] = 10;
    },
    addBytes(bytes, written) {
      if (bytes.byteLength === 0) {
        written?.();
        return;
      }
      if (used > 0) {
        full.push(buffer.subarray(0, used));
        buffer = spares === undefined ? buffer.subarray(used) : newBuffer();
        used = 0;
      }
      const piece = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      full.push(piece);
      if (written !== undefined) callbacks.set(piece, written);
    },
    async flush() {
      if (used > 0) {
        full.push(buffer.subarray(0, used));
        buffer = newBuffer();
        used = 0;
      }
      while (full.length > 0) {
        const next = full.shift() as Buffer;
        const written = callbacks.get(next);
        let ok: boolean;
        if (written === undefined) ok = stream.write(next);
        else {
          callbacks.delete(next);
          ok = stream.write(next, (error?: Error | null) => {
            if (error === undefined || error === null) written();
          });
        }
        if (!ok) await waitForDrain(stream);
      }
    },
  };
}

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
   * written, so the caller must not change it.
   */
  addBytes(bytes: Uint8Array): void;
  /**
   * Writes every byte added so far, one `write` per buffer, waiting for `drain` whenever the stream
   * says its buffer is full. @throws the stream's error (e.g. EPIPE) as a rejected promise
   */
  flush(): Promise<void>;
}

/**
 * Creates a `LineWriter` on `stream`. The bytes written are exactly those of
 * `writeLines(stream, lines)` for the same lines: UTF-8, each line followed by `\n` (a lone surrogate
 * becomes U+FFFD, as in any string write). A line longer than `bufferBytes` gets a buffer of its own.
 * @param bufferBytes size of one output buffer, bytes (default `LINE_WRITER_BUFFER_BYTES`, 1 MiB)
 */
export function createLineWriter(stream: NodeJS.WritableStream, bufferBytes = LINE_WRITER_BUFFER_BYTES): LineWriter {
  let buffer = Buffer.allocUnsafe(bufferBytes);
  let used = 0;
  const full: Buffer[] = [];
  return {
    add(line) {
      // A UTF-16 code unit is at most 3 UTF-8 bytes (a surrogate pair: 4 bytes for 2 units).
      const worstBytes = line.length * 3 + 1;
      if (used + worstBytes > buffer.length) {
        if (used > 0) full.push(buffer.subarray(0, used));
        buffer = Buffer.allocUnsafe(Math.max(bufferBytes, worstBytes));
        used = 0;
      }
      used += buffer.write(line, used);
      buffer[used++] = 10;
    },
    addBytes(bytes) {
      if (bytes.byteLength === 0) return;
      if (used > 0) {
        full.push(buffer.subarray(0, used));
        buffer = buffer.subarray(used);
        used = 0;
      }
      full.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    },
    async flush() {
      if (used > 0) {
        full.push(buffer.subarray(0, used));
        buffer = Buffer.allocUnsafe(bufferBytes);
        used = 0;
      }
      while (full.length > 0) {
        const next = full.shift() as Buffer;
        if (!stream.write(next)) await waitForDrain(stream);
      }
    },
  };
}

// The two reference floors every parsing figure is compared with, measured on the same file in
// the same run (issue 2): raw newline counting, and Node's readline splitting into strings.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';

/** Bytes per read call, as the parser benchmark and `jaga parse` read. */
export const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Reads a file in 1 MiB chunks (a fresh Buffer per read, like the parser benchmark) and counts
 * its newline bytes (0x0a) with a `buf.indexOf(10)` loop: the cost of touching every byte once.
 * @param {string} path file to read
 * @returns {Promise<{bytes: number, lines: number}>} bytes read and newline bytes counted
 * @throws the fs error when the file cannot be read
 */
export async function countNewlineBytes(path) {
  const handle = await open(path, 'r');
  let bytes = 0;
  let lines = 0;
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(READ_CHUNK_BYTES);
      const { bytesRead } = await handle.read(buf, 0, READ_CHUNK_BYTES, bytes);
      if (bytesRead === 0) break;
      bytes += bytesRead;
      let at = buf.indexOf(10, 0);
      while (at !== -1 && at < bytesRead) {
        lines++;
        at = buf.indexOf(10, at + 1);
      }
    }
  } finally {
    await handle.close();
  }
  return { bytes, lines };
}

/**
 * Splits a file into line strings with `fs.createReadStream` + `readline` (UTF-8, default
 * 64 KiB stream chunks, `crlfDelay: Infinity`) and counts them through the `line` event.
 * @param {string} path file to read
 * @returns {Promise<{bytes: number, lines: number}>} bytes read and lines seen
 * @throws the stream error when the file cannot be read
 */
export async function readlineLines(path) {
  const input = createReadStream(path);
  const rl = createInterface({ input, crlfDelay: Infinity });
  let lines = 0;
  rl.on('line', () => {
    lines++;
  });
  await new Promise((resolveDone, reject) => {
    input.once('error', reject);
    rl.once('close', resolveDone);
  });
  return { bytes: input.bytesRead, lines };
}

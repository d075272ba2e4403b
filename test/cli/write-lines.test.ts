import { Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SpareBuffers, createLineWriter, writeLines } from '../../src/cli/write-lines.js';

/** A writable that keeps every chunk; `highWaterMark` small so `write` reports a full buffer. */
function collector(highWaterMark = 16 * 1024): { stream: Writable; finished: () => Promise<void>; bytes: () => Buffer; writes: () => number; drains: () => number } {
  const chunks: Buffer[] = [];
  let drains = 0;
  const stream = new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      setImmediate(callback);
    },
  });
  stream.on('drain', () => drains++);
  // Writes accepted while one is in progress are buffered by the stream: end it to see them all.
  const finished = (): Promise<void> => new Promise((resolve) => stream.end(resolve));
  return { stream, finished, bytes: () => Buffer.concat(chunks), writes: () => chunks.length, drains: () => drains };
}

/** The bytes `writeLines` has always produced for these lines. */
const expectedBytes = (lines: string[]): Buffer => Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');

describe('createLineWriter', () => {
  it('writes the same bytes as one joined string: ASCII, multibyte, surrogate pairs, lone surrogates, empty lines', async () => {
    const lines = ['{"a":1}', '', 'é ü ß', '日本語', 'emoji 🙏 pair', 'lone \ud800 high', 'lone \udc00 low', 'end'];
    const sink = collector();
    const writer = createLineWriter(sink.stream, 16);
    for (const line of lines) writer.add(line);
    await writer.flush();
    await sink.finished();
    expect(sink.bytes().equals(expectedBytes(lines))).toBe(true);
    expect(sink.bytes().toString('utf8').split('\n')[5]).toBe('lone \ufffd high');
  });

  it('packs many lines into one write per buffer and gives a line longer than the buffer a buffer of its own', async () => {
    const sink = collector(1024 * 1024);
    const writer = createLineWriter(sink.stream, 64);
    // lines of 9 chars take 10 bytes but need 28 bytes of worst-case room: 4 fit a 64-byte buffer (10+10+10+28);
    // the 500-char line gets a 1,501-byte buffer of its own, which 'tail' then shares
    for (let i = 0; i < 10; i++) writer.add(`line-${String(i).padStart(4, '0')}`);
    writer.add('x'.repeat(500));
    writer.add('tail');
    await writer.flush();
    await sink.finished();
    const text = sink.bytes().toString('utf8');
    expect(text).toBe(`${Array.from({ length: 10 }, (_, i) => `line-${String(i).padStart(4, '0')}\n`).join('')}${'x'.repeat(500)}\ntail\n`);
    expect(sink.writes()).toBe(4);
  });

  it('writes nothing until flush, and nothing at all for a flush without lines', async () => {
    const sink = collector();
    const writer = createLineWriter(sink.stream);
    writer.add('pending');
    expect(sink.writes()).toBe(0);
    await writer.flush();
    await writer.flush();
    await sink.finished();
    expect(sink.writes()).toBe(1);
    expect(sink.bytes().toString('utf8')).toBe('pending\n');
  });

  it('waits for drain when the stream reports its buffer full, and keeps every byte in order', async () => {
    const sink = collector(128);
    const writer = createLineWriter(sink.stream, 256);
    const lines = Array.from({ length: 200 }, (_, i) => `{"n":${i},"text":"ä${'-'.repeat(i % 37)}"}`);
    for (const line of lines) writer.add(line);
    await writer.flush();
    await sink.finished();
    expect(sink.drains()).toBeGreaterThan(0);
    expect(sink.bytes().equals(expectedBytes(lines))).toBe(true);
  });

  it('rejects with the stream error while waiting for drain', async () => {
    const stream = new Writable({
      highWaterMark: 8,
      write(_chunk, _encoding, callback) {
        setImmediate(() => callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })));
      },
    });
    const writer = createLineWriter(stream, 64);
    writer.add('a line longer than the high water mark');
    await expect(writer.flush()).rejects.toThrow('write EPIPE');
  });

  it('matches writeLines byte for byte for any strings and buffer size (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: 'binary' }), { maxLength: 40 }), fc.integer({ min: 1, max: 300 }), async (lines, bufferBytes) => {
        const viaWriter = collector();
        const writer = createLineWriter(viaWriter.stream, bufferBytes);
        for (const line of lines) writer.add(line);
        await writer.flush();
        await viaWriter.finished();
        const viaJoin = collector();
        if (lines.length > 0) await writeLines(viaJoin.stream, lines);
        await viaJoin.finished();
        expect(viaWriter.bytes().equals(viaJoin.bytes())).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('writeLines', () => {
  it('writes the lines joined with newlines in one write', async () => {
    const sink = collector();
    await writeLines(sink.stream, ['a', 'b', 'ç']);
    await sink.finished();
    expect(sink.writes()).toBe(1);
    expect(sink.bytes().toString('utf8')).toBe('a\nb\nç\n');
  });
});

describe('SpareBuffers', () => {
  it('hands out kept buffers last in, first out, then new ones; keeps only whole buffers of its size, at most maxKept', () => {
    const spares = new SpareBuffers(32, 2);
    const first = spares.take();
    expect([first.length, first.byteOffset, first.buffer.byteLength]).toEqual([32, 0, 32]);
    const a = new ArrayBuffer(32);
    const b = new ArrayBuffer(32);
    expect([spares.give(new ArrayBuffer(31)), spares.give(new ArrayBuffer(64)), spares.give(a), spares.give(b), spares.give(new ArrayBuffer(32))]).toEqual([false, false, true, true, false]);
    expect(spares.size).toBe(2);
    expect(spares.take().buffer).toBe(b);
    expect(spares.take().buffer).toBe(a);
    expect(spares.take().buffer).not.toBe(a);
    expect(spares.size).toBe(0);
  });

  it('a writer on spares writes each buffer from its first byte in one write, the same bytes as without them', async () => {
    const lines = ['a'.repeat(20), 'é'.repeat(20), 'c'.repeat(100), 'd'];
    const spares = new SpareBuffers(64, 4);
    const kept = new ArrayBuffer(64);
    spares.give(kept);
    const written: Buffer[] = [];
    const stream = { write: (bytes: Buffer) => written.push(bytes) > 0 } as unknown as NodeJS.WritableStream;
    const writer = createLineWriter(stream, 1024, spares);
    for (const line of lines) writer.add(line);
    await writer.flush();
    expect(Buffer.concat(written)).toEqual(expectedBytes(lines));
    // the kept buffer first, then a new one; the 100-character line (worst 301 bytes) and the next in a buffer of their own
    expect(written.map((b) => [b.byteOffset, b.length, b.buffer.byteLength])).toEqual([[0, 21, 64], [0, 41, 64], [0, 103, 301]]);
    expect(written[0]?.buffer).toBe(kept);
    expect(new Set(written.map((b) => b.buffer)).size).toBe(3);
  });

  it('addBytes calls `written` once the stream is done with the bytes, and never for a failed write', async () => {
    const callbacks: ((error?: Error | null) => void)[] = [];
    const chunks: string[] = [];
    const stream = {
      write: (bytes: Buffer, callback?: (error?: Error | null) => void) => {
        chunks.push(bytes.toString('utf8'));
        if (callback !== undefined) callbacks.push(callback);
        return true;
      },
    } as unknown as NodeJS.WritableStream;
    const writer = createLineWriter(stream, 64, new SpareBuffers(64, 4));
    const done: string[] = [];
    writer.add('x');
    writer.addBytes(Buffer.from('y\n'), () => done.push('y'));
    writer.addBytes(Buffer.from('z\n'), () => done.push('z'));
    writer.addBytes(new Uint8Array(0), () => done.push('empty'));
    await writer.flush();
    expect(chunks).toEqual(['x\n', 'y\n', 'z\n']);
    expect(done).toEqual(['empty']);
    callbacks[0]?.();
    callbacks[1]?.(new Error('EPIPE'));
    expect(done).toEqual(['empty', 'y']);
  });
});

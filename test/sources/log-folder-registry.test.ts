import { appendFileSync, copyFileSync, renameSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileRegistry, type ReadStep } from '../../src/sources/file-registry.js';
import { scanFolder } from '../../src/sources/scanned-file.js';
import { fileNameGlob } from '../../src/sources/file-name-glob.js';
import { LineWriter, tempFolder } from './log-folder-harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Reads every ready step. */
async function drain(registry: FileRegistry, nowMs: number): Promise<ReadStep[]> {
  const steps: ReadStep[] = [];
  for (;;) {
    const step = await registry.next(nowMs);
    if (step === null) return steps;
    if (step === 'replaced') throw new Error('unexpected replaced');
    steps.push(step);
  }
}

describe('FileRegistry (log folder source internals)', () => {
  it('closes the descriptor of an idle older file, keeps the newest open, and reopens the older one when it grows', async () => {
    const folder = tempFolder();
    const writer = new LineWriter();
    const a = join(folder.dir, 'a.log');
    const b = join(folder.dir, 'b.log');
    writer.append(a, 10);
    writer.append(b, 5);
    const registry = new FileRegistry({ startAt: 'beginning', chunkBytes: 65536, checkpoints: [], idleCloseMs: 0, retiredKeepMs: 60_000 });
    cleanups.push(folder.cleanup, () => registry.closeAll());
    const scan = () => scanFolder(folder.dir, fileNameGlob('*.log'));
    expect((await registry.reconcile(await scan(), 0)).map((c) => c.event)).toEqual(['discovered', 'discovered']);
    const first = await drain(registry, 0);
    expect(first.map((s) => [s.kind, s.file.path, s.offset])).toEqual([['data', a, 0], ['data', b, 0]]);
    const [fileA, fileB] = [first[0]!.file, first[1]!.file];
    await registry.reconcile(await scan(), 1000);
    expect([fileA.isOpen, fileB.isOpen]).toEqual([false, true]);
    const sizeA = fileA.readOffset;
    const more = writer.append(a, 3);
    await registry.reconcile(await scan(), 2000);
    expect(fileA.isOpen).toBe(true);
    const second = await drain(registry, 2000);
    expect(second.map((s) => [s.kind, s.file.path, s.offset, s.bytes.toString()])).toEqual([['data', a, sizeA, more.map((l) => `${l}\n`).join('')]]);
    expect(registry.checkpoints().map((c) => c.offset)).toEqual([0, 0]);
    registry.ack(fileA.identity, sizeA);
    expect(registry.checkpoints()).toEqual([
      { fingerprint: fileA.identity, path: a, offset: sizeA },
      { fingerprint: fileB.identity, path: b, offset: 0 },
    ]);
  });

  it('a file already read to its checkpoint is tracked without a descriptor until it grows', async () => {
    const folder = tempFolder();
    const writer = new LineWriter();
    const a = join(folder.dir, 'a.log');
    const b = join(folder.dir, 'b.log');
    writer.append(a, 4);
    writer.append(b, 4);
    const probe = new FileRegistry({ startAt: 'beginning', chunkBytes: 65536, checkpoints: [], idleCloseMs: 60_000, retiredKeepMs: 60_000 });
    await probe.reconcile(await scanFolder(folder.dir, fileNameGlob('*.log')), 0);
    const steps = await drain(probe, 0);
    for (const s of steps) probe.ack(s.file.identity, s.offset + s.bytes.length);
    const saved = probe.checkpoints();
    await probe.closeAll();
    const registry = new FileRegistry({ startAt: 'beginning', chunkBytes: 65536, checkpoints: saved, idleCloseMs: 60_000, retiredKeepMs: 60_000 });
    cleanups.push(folder.cleanup, () => registry.closeAll());
    expect(registry.checkpoints()).toEqual(saved); // before the first scan: what was loaded, not []
    const changes = await registry.reconcile(await scanFolder(folder.dir, fileNameGlob('*.log')), 0);
    expect(changes.map((c) => c.fields.how)).toEqual(['checkpoint', 'checkpoint']);
    expect(await drain(registry, 0)).toEqual([]);
    appendFileSync(a, 'late line\n');
    await registry.reconcile(await scanFolder(folder.dir, fileNameGlob('*.log')), 10);
    const late = await drain(registry, 10);
    expect(late.map((s) => [s.file.path, s.offset, s.bytes.toString()])).toEqual([[a, saved[0]!.offset, 'late line\n']]);
  });

  it('a truncation seen with a listing that predates the copytruncate copy is re-listed, so the copy tail comes before the new content', async () => {
    const folder = tempFolder();
    const writer = new LineWriter();
    const active = join(folder.dir, 'pg.log');
    writer.append(active, 50);
    const registry = new FileRegistry({ startAt: 'beginning', chunkBytes: 65536, checkpoints: [], idleCloseMs: 60_000, retiredKeepMs: 60_000 });
    cleanups.push(folder.cleanup, () => registry.closeAll());
    const scan = () => scanFolder(folder.dir, fileNameGlob('*.log'));
    await registry.reconcile(await scan(), 0);
    const first = await drain(registry, 0);
    const tail = writer.append(active, 20);
    copyFileSync(active, join(folder.dir, 'pg-1.log'));
    truncateSync(active, 0);
    const fresh = writer.append(active, 5);
    const stale = (await scan()).filter((s) => s.name !== 'pg-1.log'); // readdir ran before the copy existed
    expect((await registry.reconcile(stale, 10)).map((c) => c.event)).toEqual([]);
    expect(registry.wantsRelist).toBe(true);
    expect(await drain(registry, 10)).toEqual([]);
    const changes = await registry.reconcile(await scan(), 20);
    expect(changes.map((c) => [c.event, c.fields.how])).toEqual([['rotated', 'copied'], ['discovered', 'new']]);
    const rest = await drain(registry, 20);
    expect(rest.map((s) => [s.kind, s.file.path, s.offset])).toEqual([
      ['data', join(folder.dir, 'pg-1.log'), first[0]!.bytes.length],
      ['data', active, 0],
    ]);
    expect(rest.map((s) => s.bytes.toString()).join('')).toBe([...tail, ...fresh].map((l) => `${l}\n`).join(''));
  });
});

describe('FileRegistry checkpoints while a scan is in progress', () => {
  it('lists every restored position at every moment of the first scan (a commit may save them mid-scan)', async () => {
    const folder = tempFolder();
    const writer = new LineWriter();
    const paths = Array.from({ length: 12 }, (_, i) => join(folder.dir, `f${String(i).padStart(2, '0')}.log`));
    for (const path of paths) writer.append(path, 4);
    const first = new FileRegistry({ startAt: 'beginning', chunkBytes: 65536, checkpoints: [], idleCloseMs: 60_000, retiredKeepMs: 60_000 });
    cleanups.push(folder.cleanup, () => first.closeAll());
    const scan = () => scanFolder(folder.dir, fileNameGlob('*.log'));
    await first.reconcile(await scan(), 0);
    // half read and acked, so that the files are opened again on restore (they have bytes left)
    for (const step of await drain(first, 0)) first.ack(step.file.identity, Math.floor(step.bytes.length / 2));
    const saved = first.checkpoints();
    expect(saved).toHaveLength(12);

    const restored = new FileRegistry({ startAt: 'beginning', chunkBytes: 65536, checkpoints: saved, idleCloseMs: 60_000, retiredKeepMs: 60_000 });
    cleanups.push(() => restored.closeAll());
    const scanned = await scan();
    const seen: number[] = [];
    let done = false;
    const reconciling = restored.reconcile(scanned, 0).finally(() => (done = true));
    // sample between every I/O step of the scan, as a pipeline commit interleaving with it would
    while (!done) {
      const now = new Map(restored.checkpoints().map((c) => [c.fingerprint, c.offset]));
      seen.push(now.size);
      for (const c of saved) expect(now.get(c.fingerprint), `${c.path} during the scan`).toBe(c.offset);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await reconciling;
    expect(seen.length).toBeGreaterThan(2);
    expect(restored.checkpoints()).toEqual(saved);
  });
});

describe('FileRegistry keeps file order across a rotation seen at an unlucky moment', () => {
  it('reads an older file\'s last records before its successor\'s when the listing saw the older file before its last write', async () => {
    const folder = tempFolder();
    const writer = new LineWriter();
    const active = join(folder.dir, 'pg.log');
    writer.append(active, 4);
    const registry = new FileRegistry({ startAt: 'beginning', chunkBytes: 65536, checkpoints: [], idleCloseMs: 60_000, retiredKeepMs: 60_000 });
    cleanups.push(folder.cleanup, () => registry.closeAll());
    const scan = () => scanFolder(folder.dir, fileNameGlob('*.log'));
    await registry.reconcile(await scan(), 0);
    const first = await drain(registry, 0);
    const before = await scan(); // this listing's stat of pg.log predates the writes below
    const last = writer.append(active, 2);
    renameSync(active, join(folder.dir, 'pg-1.log'));
    const next = writer.append(active, 3);
    const renamed = before.map((s) => ({ ...s, name: 'pg-1.log', path: join(folder.dir, 'pg-1.log') }));
    const successor = (await scan()).filter((s) => s.name === 'pg.log');
    await registry.reconcile([...renamed, ...successor], 10);
    const steps = await drain(registry, 10);
    expect(steps.map((s) => [s.file.path, s.offset])).toEqual([
      [join(folder.dir, 'pg-1.log'), first[0]!.bytes.length],
      [active, 0],
    ]);
    expect(steps.map((s) => s.bytes.toString()).join('')).toBe([...last, ...next].map((l) => `${l}\n`).join(''));
  });

  it('lists the folder again before starting a new file, so a file renamed during the listing is not read after its successor', async () => {
    const folder = tempFolder();
    const writer = new LineWriter();
    const active = join(folder.dir, 'pg.log');
    writer.append(active, 4);
    const probe = new FileRegistry({ startAt: 'beginning', chunkBytes: 65536, checkpoints: [], idleCloseMs: 60_000, retiredKeepMs: 60_000 });
    await probe.reconcile(await scanFolder(folder.dir, fileNameGlob('*.log')), 0);
    for (const step of await drain(probe, 0)) probe.ack(step.file.identity, step.offset + step.bytes.length);
    const saved = probe.checkpoints();
    await probe.closeAll();
    // while stopped, the server wrote 2 more records, rotated, and started the next file
    const last = writer.append(active, 2);
    renameSync(active, join(folder.dir, 'pg-1.log'));
    const next = writer.append(active, 3);
    const scan = () => scanFolder(folder.dir, fileNameGlob('*.log'));
    // readdir saw only "pg.log" (before the rename), and its stat found the successor
    const racy = (await scan()).filter((s) => s.name === 'pg.log');

    const unlisted = new FileRegistry({ startAt: 'beginning', chunkBytes: 65536, checkpoints: saved, idleCloseMs: 60_000, retiredKeepMs: 60_000 });
    cleanups.push(folder.cleanup, () => unlisted.closeAll());
    await unlisted.reconcile(racy, 10);
    await unlisted.reconcile(await scan(), 20);
    const withoutSecondListing = await drain(unlisted, 20);
    expect(withoutSecondListing.map((s) => s.file.path)).toEqual([active, join(folder.dir, 'pg-1.log')]); // the order fault the second listing prevents

    const registry = new FileRegistry({ startAt: 'beginning', chunkBytes: 65536, checkpoints: saved, idleCloseMs: 60_000, retiredKeepMs: 60_000 });
    cleanups.push(() => registry.closeAll());
    let listings = 0;
    const changes = await registry.reconcile(racy, 10, async () => {
      listings++;
      return scan();
    });
    expect(listings).toBe(1);
    expect(changes.map((c) => [c.path, c.fields.how])).toEqual([
      [join(folder.dir, 'pg-1.log'), 'checkpoint'],
      [active, 'new'],
    ]);
    const steps = await drain(registry, 10);
    expect(steps.map((s) => s.bytes.toString()).join('')).toBe([...last, ...next].map((l) => `${l}\n`).join(''));
    expect(steps.map((s) => s.file.path)).toEqual([join(folder.dir, 'pg-1.log'), active]);
    // with nothing new in the listing, no second listing is made
    writer.append(active, 1);
    await registry.reconcile(await scan(), 30, async () => {
      listings++;
      return scan();
    });
    expect(listings).toBe(1);
  });
});

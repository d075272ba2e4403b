import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointRepository, type StoredCheckpoint } from '../../src/db/checkpoint-repository.js';
import { openStore } from '../../src/db/open-store.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { JagaProcess, runJaga, type ReceivedEvent } from '../helpers/jaga-cli.js';
import { RotatingLogWriter, WRITER_LOG_LINE_PREFIX, seededRandom } from '../helpers/rotating-log-writer.js';

/** Checkpoint period the children run with (the default of `jaga tail`), ms. */
const CHECKPOINT_INTERVAL_MS = 200;
/**
 * Time a checkpoint save may take on a busy test machine, ms. The bound under test: after kill -9 the
 * restart repeats exactly the records printed after the last saved checkpoint, and that checkpoint was
 * taken at most CHECKPOINT_INTERVAL_MS + one save before the kill (saves are serialised: the next one
 * starts when the interval fires after the previous one), so every repeat was printed in the last
 * CHECKPOINT_INTERVAL_MS + 2 x SAVE_ALLOWANCE_MS before the kill.
 */
const SAVE_ALLOWANCE_MS = 1_500;
/** Records printed before this window were checkpointed by then: the bound under test, ms. */
const REPEAT_WINDOW_MS = CHECKPOINT_INTERVAL_MS + 2 * SAVE_ALLOWANCE_MS;
const KILLS = 4;
const SEED = Number(process.env.JAGA_TEST_SEED ?? Math.floor(Math.random() * 1e9));

const root = mkdtempSync(join(tmpdir(), 'jaga-tail-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const without = (event: AccessEvent): unknown => ({ ...event, source: { ...event.source, file: null } });

/** The checkpoints a dead child left in the embedded store (recovers its stale lock, then closes). */
async function savedCheckpoints(stateDir: string, sourceId: string): Promise<StoredCheckpoint[]> {
  const store = await openStore({ dataDir: stateDir, migrate: false });
  try {
    return await new CheckpointRepository(store).load(sourceId);
  } finally {
    await store.close();
  }
}

/** One run of the child that ended by SIGKILL, with what it left behind. */
interface KilledRun {
  events: ReceivedEvent[];
  killedAtMs: number;
  checkpoints: StoredCheckpoint[];
}

describe('jaga tail --state after kill -9', () => {
  it(`loses nothing and repeats only what was printed after the last checkpoint, over ${KILLS} kills at random points while a writer appends and rotates (seed ${SEED})`, { timeout: 300_000 }, async () => {
    const random = seededRandom(SEED);
    const logs = join(root, 'logs');
    const state = join(root, 'state');
    mkdirSync(logs);
    const writer = new RotatingLogWriter(logs);
    writer.append(200);
    writer.start(seededRandom(SEED + 1), { tickMs: 10, maxPerTick: 4, recordsPerFile: 250 });
    const args = ['tail', '--format', 'stderr', '--log-line-prefix', WRITER_LOG_LINE_PREFIX, '--server', 'crash', '--no-enrich', '--state', state, logs];

    const killed: KilledRun[] = [];
    let final: JagaProcess | null = null;
    try {
      for (let k = 0; k < KILLS; k++) {
        const child = new JagaProcess(args);
        await child.waitUntil(() => child.events.length > 0, `run ${k} to print`, 90_000);
        // Kill later than the window after the first print (so the bound says something), at a random point of 2 s.
        await sleep(REPEAT_WINDOW_MS + 300 + Math.floor(random() * 2_000));
        const killedAtMs = Date.now();
        expect(await child.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
        killed.push({ events: child.events, killedAtMs, checkpoints: await savedCheckpoints(state, 'crash') });
        expect(child.badStdoutLines).toEqual([]);
      }
      final = new JagaProcess(args);
      await final.waitUntil(() => final!.events.length > 0, 'the last run to print', 90_000);
      await sleep(1_000);
    } finally {
      await writer.stop();
    }

    const files = (await readdir(logs)).filter((n) => n.endsWith('.log')).sort().map((n) => join(logs, n));
    const parse = await runJaga(['parse', '--format', 'stderr', '--log-line-prefix', WRITER_LOG_LINE_PREFIX, '--server', 'crash', '--no-enrich', ...files]);
    expect(parse.code).toBe(0);
    const parsed = parse.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as AccessEvent);
    expect(parsed).toHaveLength(writer.records);
    const parsedById = new Map(parsed.map((e) => [e.id, e]));
    expect(parsedById.size).toBe(parsed.length);

    const distinctPrinted = (): number => new Set([...killed.flatMap((r) => r.events), ...final!.events].map((e) => e.event.id)).size;
    await final.waitUntil(() => distinctPrinted() >= parsed.length, `all ${parsed.length} records`, 60_000);
    expect(await final.kill('SIGTERM')).toEqual({ code: 0, signal: null });

    const runs = [...killed.map((r) => r.events), final.events];
    // Within one run nothing repeats, and each file is printed in offset order.
    for (const events of runs) {
      expect(new Set(events.map((e) => e.event.id)).size).toBe(events.length);
      const lastOffset = new Map<string, number>();
      for (const { event } of events) {
        expect(event.source.offset).toBeGreaterThan(lastOffset.get(event.source.fingerprint!) ?? -1);
        lastOffset.set(event.source.fingerprint!, event.source.offset);
      }
    }
    // The union, dedup by id, is exactly `jaga parse` of the final files, event for event.
    const firstDelivery = new Map<string, AccessEvent>();
    for (const events of runs) for (const { event } of events) if (!firstDelivery.has(event.id)) firstDelivery.set(event.id, event);
    expect([...firstDelivery.keys()].sort()).toEqual([...parsedById.keys()].sort());
    for (const [id, event] of firstDelivery) expect(without(event)).toEqual(without(parsedById.get(id)!));

    // Each restart resumes every file at its saved checkpoint (0 for a file with none), so it repeats
    // exactly the records printed at or after those checkpoints, and those were printed in the last
    // checkpoint interval (plus the saves then running) before the kill.
    const report: string[] = [];
    for (let k = 0; k < KILLS; k++) {
      const { checkpoints, killedAtMs } = killed[k]!;
      const resumeAt = new Map(checkpoints.map((c) => [c.fileFingerprint, c.byteOffset]));
      // latest print of each record so far (a later run may have printed it again)
      const printedBefore = new Map(runs.slice(0, k + 1).flat().map((e) => [e.event.id, e]));
      const next = runs[k + 1]!;
      const firstOffset = new Map<string, number>();
      for (const { event } of next) if (!firstOffset.has(event.source.fingerprint!)) firstOffset.set(event.source.fingerprint!, event.source.offset);
      for (const [fingerprint, offset] of firstOffset) expect({ fingerprint, offset }).toEqual({ fingerprint, offset: resumeAt.get(fingerprint) ?? 0 });

      const afterCheckpoint = [...printedBefore.values()].filter((e) => e.event.source.offset >= (resumeAt.get(e.event.source.fingerprint!) ?? 0));
      const repeats = next.filter((e) => printedBefore.has(e.event.id));
      const afterIds = new Set(afterCheckpoint.map((e) => e.event.id));
      expect(repeats.filter((e) => !afterIds.has(e.event.id)).map((e) => e.event.id)).toEqual([]);
      // the last run lived until everything was printed: it repeated every one of them
      if (k === KILLS - 1) expect(repeats.map((e) => e.event.id).sort()).toEqual([...afterIds].sort());
      const windowStartMs = killedAtMs - REPEAT_WINDOW_MS;
      expect(afterCheckpoint.filter((e) => e.receivedAtMs < windowStartMs).map((e) => e.event.id)).toEqual([]);
      const newestSaveMs = Math.max(...checkpoints.map((c) => c.updatedAt.getTime()));
      report.push(`kill ${k + 1}: ${runs[k]!.length} printed, ${repeats.length} repeated by the restart (${afterCheckpoint.length} after the checkpoint), checkpoint ${killedAtMs - newestSaveMs} ms old`);
    }
    console.log(`seed ${SEED}, ${parsed.length} records in ${files.length} files\n${report.join('\n')}`);
    expect(files.length).toBeGreaterThanOrEqual(KILLS);
  });
});

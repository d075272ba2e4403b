/**
 * `prepareDemoStore` with the history's access ledger (issue 8, `jaga demo`): the seeded days are
 * added once, so a demo started again on a kept data folder does not count its history twice.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AccessLedgerRepository } from '../../src/db/access-ledger-repository.js';
import { openStore } from '../../src/db/open-store.js';
import { DetectionEngine } from '../../src/detect/detection-engine.js';
import type { AccessLedgerDelta } from '../../src/domain/access-ledger.js';
import { prepareDemoStore } from '../../src/demo/demo-store.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function delta(day: string, role: string, readStatements: number): AccessLedgerDelta {
  return {
    server: 'crm',
    day,
    role,
    relation: 'public.customers',
    clientAddr: '127.0.0.1',
    dataClasses: ['pii'],
    readStatements,
    rowsRead: readStatements * 10,
    changeStatements: 0,
    rowsChanged: 0,
    commands: { SELECT: readStatements },
    firstSeen: `${day}T08:00:00.000Z`,
    lastSeen: `${day}T17:00:00.000Z`,
  };
}

describe('prepareDemoStore with the history ledger', () => {
  it('adds the history days once: a second preparation adds only the days the store has no row for', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'jaga-demo-store-'));
    dirs.push(dataDir);
    const state = new DetectionEngine([], { lists: new Map(), classesOf: () => [] }).snapshot();
    await prepareDemoStore({ dataDir, agent: 'jaga', state, ledger: [delta('2026-11-20', 'app_web', 3), delta('2026-11-21', 'app_web', 4)] });
    // the next demo's history ends a day later: its first two days are in the store already
    await prepareDemoStore({ dataDir, agent: 'jaga', state, ledger: [delta('2026-11-20', 'app_web', 3), delta('2026-11-21', 'app_web', 4), delta('2026-11-22', 'app_web', 5)] });
    const store = await openStore({ dataDir });
    try {
      const rows = await new AccessLedgerRepository(store).query({ sinceDay: '2026-11-01', untilDay: '2026-11-30' });
      expect(rows.map((row) => [row.day, row.role, row.readStatements, row.rowsRead])).toEqual([
        ['2026-11-20', 'app_web', 3, 30],
        ['2026-11-21', 'app_web', 4, 40],
        ['2026-11-22', 'app_web', 5, 50],
      ]);
    } finally {
      await store.close();
    }
  }, 60_000);
});

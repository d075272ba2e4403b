import { AccessLedgerRepository } from '../db/access-ledger-repository.js';
import { DetectorStateRepository, ENGINE_STATE_COMPONENT } from '../db/detector-state-repository.js';
import { openStore } from '../db/open-store.js';
import type { EngineState } from '../detect/detection-engine.js';
import type { AccessLedgerDelta } from '../domain/access-ledger.js';
import type { SqlQueryable } from '../domain/sql-queryable.js';
import { AdminAuditLog } from '../http/admin-audit-log.js';
import { TokenRepository } from '../http/token-repository.js';
import type { Logger } from '../observe/logger.js';

/** The token the demo prints: its name and role. */
export const DEMO_TOKEN = Object.freeze({ name: 'demo', role: 'admin' as const });

/** What `prepareDemoStore` writes. */
export interface DemoStoreSeed {
  /** the embedded store's data folder (the agent opens it next: it is closed again here) */
  dataDir: string;
  /** the agent whose committed engine state is written */
  agent: string;
  /** the warmed engine's snapshot (DemoSeedResult.state) */
  state: EngineState;
  /**
   * the history's access-ledger counts (DemoSeedResult.ledger); only the days the store has no
   * ledger row for are added (a kept data folder seeded by an earlier demo is not counted twice)
   */
  ledger?: readonly AccessLedgerDelta[];
  logger?: Logger;
  /** wall clock; default now */
  now?: () => Date;
}

/**
 * Prepares the demo's embedded store before the agent starts (issue 8, `jaga demo`): after the
 * migrations, creates a fresh `demo` HTTP token (role admin; a live `demo` token left by an
 * earlier run on a kept data folder is revoked first, since a token is shown only once; both
 * recorded in the admin audit log with actor `demo`), and stores `state` as
 * `agent`'s committed engine snapshot (`jaga_pipeline_state`, component `engine`: Agent restores
 * it at start, so the live engine starts with the history's baselines), with the history's access
 * ledger of the days not counted yet. The store is closed again
 * (the embedded store admits one process at a time).
 *
 * @returns the plain token (print it; the store keeps only its hash)
 * @throws StoreError when the store cannot be opened (e.g. another jaga holds the data folder), migrated or written
 */
export async function prepareDemoStore(seed: DemoStoreSeed): Promise<{ token: string }> {
  const now = seed.now ?? (() => new Date());
  const store = await openStore({ dataDir: seed.dataDir, logger: seed.logger });
  try {
    const created = await store.transaction(async (tx) => {
      const tokens = new TokenRepository(store, { cacheMs: 0 });
      const audit = new AdminAuditLog(store);
      const old = await tokens.revoke(DEMO_TOKEN.name, now(), tx);
      if (old !== null) await audit.record({ at: now(), actor: 'demo', action: 'token_revoke', target: `token:${old.name}`, detail: { role: old.role } }, tx);
      const { token, record } = await tokens.create(DEMO_TOKEN.name, DEMO_TOKEN.role, now(), tx);
      await audit.record({ at: now(), actor: 'demo', action: 'token_create', target: `token:${record.name}`, detail: { role: record.role } }, tx);
      return token;
    });
    await store.transaction(async (tx) => {
      await new DetectorStateRepository(store).save(tx, seed.agent, ENGINE_STATE_COMPONENT, seed.state);
      if (seed.ledger !== undefined && seed.ledger.length > 0) await addLedgerOfNewDays(new AccessLedgerRepository(store), tx, seed.ledger);
    });
    return { token: created };
  } finally {
    await store.close();
  }
}

/** Applies the deltas of the days (per server) that have no ledger row yet. */
async function addLedgerOfNewDays(ledger: AccessLedgerRepository, tx: SqlQueryable, deltas: readonly AccessLedgerDelta[]): Promise<void> {
  const days = deltas.map((d) => d.day).sort();
  const counted = new Set((await ledger.query({ sinceDay: days[0] as string, untilDay: days.at(-1) as string }, tx)).map((row) => `${row.server}\0${row.day}`));
  await ledger.apply(tx, deltas.filter((d) => !counted.has(`${d.server}\0${d.day}`)));
}

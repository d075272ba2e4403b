import type { JagaConfig } from '../config/load-config-file.js';
import type { Store } from '../db/store.js';
import type { IncidentChange } from '../domain/incident-change.js';
import { LinkSigner } from '../http/link-signer.js';
import { IncidentService } from '../incidents/incident-service.js';
import { NotificationPlanner } from '../notify/notification-planner.js';
import type { Telemetry } from '../observe/telemetry.js';

/** Who acts: the timeline's actor (e.g. `responder:alice`), an optional note, and the version the responder saw (null: any). */
export interface ResponderActionBy {
  actor: string;
  note: string | null;
  expectedVersion: number | null;
}

/** Acknowledge / resolve / reopen with their notifications, outside the daemon (e.g. `jaga incidents ack --config`). */
export interface ResponderActions {
  /**
   * One store transaction: the IncidentService move (timeline row), then the NotificationPlanner's
   * outbox rows for that change (a running daemon's dispatcher delivers them, with signed links).
   * @returns the change, after COMMIT
   * @throws IncidentNotFoundError, IncidentConflictError, IncidentStateError (nothing written), StoreError
   */
  act(id: number, move: 'acknowledge' | 'resolve' | 'reopen', by: ResponderActionBy, now: Date): Promise<IncidentChange>;
}

/**
 * The same responder actions as the daemon's HTTP API (responder-ports.ts), for a CLI that opened
 * the store itself (a PostgreSQL store shared with running agents, or an embedded store no daemon
 * holds): IncidentService with the config's incidents slice (escalation bounds derived from the
 * `escalation:` steps) and NotificationPlanner with the config's routes and the store's
 * link-signing keys (LinkSigner on `http.public_url`), so a CLI ack notifies exactly as an API ack does.
 * @throws StoreError (link keys cannot be read or created)
 */
export async function openResponderActions(store: Store, config: Pick<JagaConfig, 'incidents' | 'notify' | 'http'>, options: { telemetry?: Telemetry; now?: () => Date } = {}): Promise<ResponderActions> {
  const now = options.now ?? (() => new Date());
  const links = await LinkSigner.open(store, { publicUrl: config.http.publicUrl, linkTtlMs: config.http.linkTtlMs, now });
  const incidents = new IncidentService(store, { config: config.incidents });
  const planner = new NotificationPlanner(config.notify, links, options.telemetry);
  return {
    act: (id, move, by, at) =>
      store.transaction(async (tx) => {
        const change = await incidents[move](tx, id, by, at);
        await planner.enqueue(tx, [change], at);
        return change;
      }),
  };
}

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ReceiverConfig } from '../config/notify-config.js';
import { DeliveryError } from '../domain/errors.js';
import type { InternalEventReporter, Telemetry } from '../observe/telemetry.js';
import { OutboxRepository, type OutboxRow, type OutboxStore } from './outbox-repository.js';
import type { Receiver } from './receiver.js';
import { backoffDelayMs, isExhausted } from './retry-policy.js';
import { TokenBucket } from './token-bucket.js';

/** Per-receiver delivery settings (a resolved `ReceiverConfig` fits). */
export type DeliverySettings = Pick<ReceiverConfig, 'name' | 'ratePerSecond' | 'rateBurst' | 'maxAttempts' | 'maxAgeMs' | 'backoffBaseMs' | 'backoffCapMs' | 'fallback'>;

/** Dependencies and tuning of a dispatcher. */
export interface NotificationDispatcherOptions {
  store: OutboxStore;
  /** one entry per receiver: its settings and the built receiver */
  receivers: readonly { settings: DeliverySettings; receiver: Receiver }[];
  /** idle poll interval, ms (polling is the truth; `wake()` only shortens waits) */
  pollIntervalMs: number;
  /** claims older than this are taken over (their process died), ms; must exceed any receiver timeout */
  leaseMs: number;
  /** rows claimed per round per receiver */
  claimBatch: number;
  telemetry?: Telemetry;
  /** this dispatcher's claim token; default `<hostname>:<pid>:<random hex>` */
  claimer?: string;
  /** wall clock (default `() => new Date()`) */
  now?: () => Date;
  /** waits `ms` or until `signal` aborts (default a timer); never rejects */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** uniform [0, 1) for backoff jitter (default Math.random) */
  random?: () => number;
  /** after stop, how long an in-flight delivery may still run before it is aborted, ms (default 5000) */
  stopGraceMs?: number;
  /** called after each delivery is marked (metrics, bench); must not throw */
  onDelivered?: (row: OutboxRow, deliveredAt: Date) => void;
}

interface Slot {
  settings: DeliverySettings;
  receiver: Receiver;
  bucket: TokenBucket;
  wakePending: boolean;
  wakeController: AbortController | null;
}

/** Waits `ms` or until `signal` aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Delivers outbox rows: one independent loop per receiver (a failing or rate-limited receiver never
 * delays another). Each round claims due rows (FOR UPDATE SKIP LOCKED, so several agents on one
 * store never share a row), waits for the receiver's token bucket, delivers, then marks the row:
 * delivered; retried after exponential backoff with full jitter (at least the receiver's
 * `Retry-After`; the rest of the batch is released to that time too); or dead-lettered when the
 * error is permanent or the attempt/age bound is reached, with a copy to the receiver's fallback.
 *
 * Telemetry (one log line + counter each, labels bounded by the configured receiver names):
 * `notification_delivered{receiver}`, `notification_retry{receiver}`, `notification_dead_lettered{receiver}`,
 * `notification_claim_lost{receiver}`, `notification_dispatch_error{receiver}` (a store failure; the
 * loop waits a poll interval and goes on). Log fields are ids, counts and error codes only.
 */
export class NotificationDispatcher {
  private readonly outbox = new OutboxRepository();
  private readonly slots = new Map<string, Slot>();
  private readonly claimer: string;
  private readonly now: () => Date;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly stopController = new AbortController();
  private readonly hardController = new AbortController();
  private loops: Promise<void>[] = [];
  private readonly events: {
    delivered: InternalEventReporter<'receiver'> | null;
    retry: InternalEventReporter<'receiver'> | null;
    dead: InternalEventReporter<'receiver'> | null;
    lost: InternalEventReporter<'receiver'> | null;
    failed: InternalEventReporter<'receiver'> | null;
  };

  constructor(private readonly options: NotificationDispatcherOptions) {
    this.claimer = options.claimer ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.now = options.now ?? (() => new Date());
    this.sleep = options.sleep ?? abortableSleep;
    this.random = options.random ?? Math.random;
    for (const { settings, receiver } of options.receivers) {
      this.slots.set(settings.name, { settings, receiver, bucket: new TokenBucket(settings.ratePerSecond, settings.rateBurst), wakePending: false, wakeController: null });
    }
    const t = options.telemetry;
    this.events = {
      delivered: t?.declare({ name: 'notification_delivered', help: 'Notifications delivered, by receiver', level: 'info', labels: ['receiver'] }) ?? null,
      retry: t?.declare({ name: 'notification_retry', help: 'Failed delivery attempts that will be retried, by receiver', level: 'warn', labels: ['receiver'] }) ?? null,
      dead: t?.declare({ name: 'notification_dead_lettered', help: 'Notifications dead-lettered (attempts or age bound, or a permanent error)', level: 'error', labels: ['receiver'] }) ?? null,
      lost: t?.declare({ name: 'notification_claim_lost', help: 'Deliveries whose claim was taken over before they were marked', level: 'warn', labels: ['receiver'] }) ?? null,
      failed: t?.declare({ name: 'notification_dispatch_error', help: 'Dispatcher rounds that failed on the store', level: 'error', labels: ['receiver'] }) ?? null,
    };
  }

  /**
   * Starts one loop per receiver and resolves once they run. The loops end when `signal` aborts or
   * `stop()` is called; `stop()` waits for them.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.loops.length > 0) return;
    if (signal.aborted) void this.stop();
    else signal.addEventListener('abort', () => void this.stop(), { once: true });
    this.loops = [...this.slots.values()].map((slot) => this.loop(slot));
  }

  /**
   * Stops: no new claims; a delivery in flight may finish within `stopGraceMs` (then it is aborted
   * and retried later); claimed rows not yet attempted are released. Resolves when every loop ended.
   */
  async stop(): Promise<void> {
    if (!this.stopController.signal.aborted) {
      this.stopController.abort();
      for (const slot of this.slots.values()) slot.wakeController?.abort();
      const grace = setTimeout(() => this.hardController.abort(), this.options.stopGraceMs ?? 5000);
      try {
        await Promise.all(this.loops);
      } finally {
        clearTimeout(grace);
      }
    } else {
      await Promise.all(this.loops);
    }
    await Promise.all([...this.slots.values()].map((slot) => slot.receiver.close()));
  }

  /** Wakes the loop of `receiver` (or of every receiver): new rows were committed. */
  wake(receiver?: string): void {
    for (const [name, slot] of this.slots) {
      if (receiver !== undefined && name !== receiver) continue;
      slot.wakePending = true;
      slot.wakeController?.abort();
    }
  }

  /**
   * One round for one receiver: claim due rows and deliver them (the loop's body; exposed for tests
   * and `jaga` commands that drain once). @returns rows claimed
   * @throws StoreError from the store; Error for an unknown receiver name
   */
  async runOnce(receiver: string): Promise<number> {
    const slot = this.slots.get(receiver);
    if (!slot) throw new Error(`no receiver named ${receiver}`);
    return this.round(slot);
  }

  private async loop(slot: Slot): Promise<void> {
    const stopping = this.stopController.signal;
    while (!stopping.aborted) {
      let claimed = 0;
      try {
        claimed = await this.round(slot);
      } catch (error) {
        this.events.failed?.({ receiver: slot.settings.name }, { error: (error as { code?: string }).code ?? (error as Error).name });
        await this.sleep(this.options.pollIntervalMs, stopping);
        continue;
      }
      if (claimed === 0) await this.idle(slot);
    }
  }

  /** Sleeps until the next row is due, the poll interval passes, a wake-up, or stop. */
  private async idle(slot: Slot): Promise<void> {
    if (slot.wakePending) {
      slot.wakePending = false;
      return;
    }
    let waitMs = this.options.pollIntervalMs;
    try {
      const due = await this.outbox.nextDueAt(this.options.store, slot.settings.name, this.options.leaseMs);
      if (due !== null) waitMs = Math.max(0, Math.min(waitMs, due.getTime() - this.now().getTime()));
    } catch {
      // the store is unreachable: wait the full poll interval; the next round reports the failure
      waitMs = this.options.pollIntervalMs;
    }
    if (waitMs <= 0 || slot.wakePending) {
      slot.wakePending = false;
      if (waitMs <= 0) return;
    }
    const controller = new AbortController();
    slot.wakeController = controller;
    await this.sleep(waitMs, AbortSignal.any([controller.signal, this.stopController.signal]));
    slot.wakeController = null;
    slot.wakePending = false;
  }

  private async round(slot: Slot): Promise<number> {
    const { store } = this.options;
    const name = slot.settings.name;
    const rows = await this.outbox.claim(store, { receiver: name, limit: this.options.claimBatch, now: this.now(), leaseMs: this.options.leaseMs, claimer: this.claimer });
    for (let index = 0; index < rows.length; index += 1) {
      const row = rows[index] as OutboxRow;
      const rest = (): string[] => rows.slice(index).map((r) => r.id);
      if (this.stopController.signal.aborted) {
        await this.outbox.release(store, rest(), this.claimer, this.now());
        break;
      }
      let waitMs = slot.bucket.tryTake(this.now().getTime());
      while (waitMs > 0 && !this.stopController.signal.aborted) {
        await this.sleep(waitMs, this.stopController.signal);
        waitMs = slot.bucket.tryTake(this.now().getTime());
      }
      if (waitMs > 0) {
        await this.outbox.release(store, rest(), this.claimer, this.now());
        break;
      }
      const pauseUntil = await this.attempt(slot, row);
      if (pauseUntil !== null) {
        // the receiver asked to wait (429 Retry-After): the rest of the batch waits too
        await this.outbox.release(store, rows.slice(index + 1).map((r) => r.id), this.claimer, pauseUntil);
        break;
      }
    }
    return rows.length;
  }

  /** Delivers one claimed row and marks it. @returns when the receiver asked to pause (Retry-After), else null */
  private async attempt(slot: Slot, row: OutboxRow): Promise<Date | null> {
    const { store } = this.options;
    const name = slot.settings.name;
    const fields = { notification_id: row.id, incident_id: row.incidentId, attempts: row.attempts };
    try {
      await slot.receiver.deliver(row.payload, this.hardController.signal);
    } catch (error) {
      const failure = error instanceof DeliveryError ? error : new DeliveryError(`receiver failed: ${(error as Error).name}`, true, null, { cause: error });
      const now = this.now();
      if (!failure.transient || isExhausted(row.attempts, row.createdAt, now, slot.settings)) {
        const result = await this.outbox.deadLetter(store, row, this.claimer, failure.message, slot.settings.fallback, now);
        if (result === false) this.events.lost?.({ receiver: name }, fields);
        else {
          this.events.dead?.({ receiver: name }, { ...fields, error: failure.message, fallback: slot.settings.fallback, fallback_notification_id: result });
          if (result !== null) this.wake(slot.settings.fallback ?? undefined);
        }
        return null;
      }
      const delayMs = backoffDelayMs(row.attempts, { baseMs: slot.settings.backoffBaseMs, capMs: slot.settings.backoffCapMs }, failure.retryAfterMs, this.random);
      const next = new Date(now.getTime() + delayMs);
      const kept = await this.outbox.retry(store, row.id, this.claimer, next, failure.message);
      if (!kept) this.events.lost?.({ receiver: name }, fields);
      else this.events.retry?.({ receiver: name }, { ...fields, error: failure.message, delay_ms: delayMs });
      return failure.retryAfterMs !== null ? next : null;
    }
    const deliveredAt = this.now();
    const marked = await this.outbox.markDelivered(store, row.id, this.claimer, deliveredAt);
    if (!marked) {
      this.events.lost?.({ receiver: name }, fields);
      return null;
    }
    this.events.delivered?.({ receiver: name }, { ...fields, latency_ms: deliveredAt.getTime() - row.createdAt.getTime() });
    this.options.onDelivered?.(row, deliveredAt);
    return null;
  }
}

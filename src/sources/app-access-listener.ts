import pgListen, { type Subscriber } from 'pg-listen';
import { APP_ACCESS_CHANNEL } from './app-access-row.js';

/** What the listener tells its owner. Every callback is synchronous and must not throw. */
export interface AppAccessListenerEvents {
  /** a notification arrived, or a (re)connect finished its LISTEN: rows may be waiting */
  onWake(): void;
  /** the LISTEN is active on a fresh connection */
  onConnected(): void;
  /** the listening connection was lost (ended, errored, or its timed health query failed) */
  onLost(error: Error): void;
  /** a connection attempt failed; the next one starts in `retryInMs` */
  onConnectFailed(error: Error, retryInMs: number): void;
}

/** Options of `AppAccessListener`. */
export interface AppAccessListenerOptions {
  /** libpq-style connection URL of the monitored database */
  url: string;
  /** `application_name` of the listening session (unless the URL sets one) */
  applicationName: string;
  /** how often the listening connection runs its health query, ms */
  healthCheckIntervalMs: number;
  /** how long the health query (and any query on this connection) may take before the connection counts as dead, ms */
  healthCheckTimeoutMs: number;
  /** how long establishing a connection may take, ms */
  connectTimeoutMs: number;
  events: AppAccessListenerEvents;
}

/** Longest wait between connection attempts, ms. */
const MAX_RETRY_MS = 30_000;
/** How long closing a connection may take before it is abandoned (a half-open socket never answers), ms. */
const CLOSE_TIMEOUT_MS = 1_000;

/** Delay before connection attempt `attempt` (1-based): 250 ms doubling to 30 s, with ±20 % jitter. */
export function reconnectDelayMs(attempt: number): number {
  const base = Math.min(MAX_RETRY_MS, 250 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** Closes a subscriber, giving up after CLOSE_TIMEOUT_MS; never rejects. */
async function closeQuietly(subscriber: Subscriber): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
  });
  // A close error means the socket is already gone, which is the goal.
  const closing = subscriber.close().then(
    () => undefined,
    () => undefined,
  );
  await Promise.race([closing, timeout]);
  clearTimeout(timer);
}

/**
 * Keeps one LISTEN on channel `jaga_access_event` alive with pg-listen (1.7) and says when rows may
 * be waiting. It carries no data: notifications only wake the reader (their payload, the row id, is
 * ignored), and every (re)connect wakes it too, so rows committed while it was disconnected are read.
 *
 * Health: pg-listen's paranoid check runs a query (`SELECT pg_backend_pid()`) on the listening
 * connection every `healthCheckIntervalMs`; the connection's `query_timeout` of `healthCheckTimeoutMs`
 * makes it a timed check, so a half-open connection (peer silently gone, no FIN/RST) is detected
 * within interval + timeout instead of hanging until TCP keepalive gives up.
 *
 * Reconnection is done here, not by pg-listen (`retryLimit: 1`): pg-listen 1.7 gives up for good
 * after its retry timeout and its retry loop ignores `close()`. Each loss closes the subscriber and
 * connects a fresh one at once, then with capped exponential backoff (`reconnectDelayMs`) while the
 * server stays unreachable; `stop()` ends all of it.
 */
export class AppAccessListener {
  private current: Subscriber | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private attempts = 0;
  private started = false;
  private stopped = false;

  constructor(private readonly options: AppAccessListenerOptions) {}

  /** True while the LISTEN is active on a connection that passed its last health query. */
  get connected(): boolean {
    return this.current !== null;
  }

  /** Starts connecting in the background (idempotent). Never throws: failures go to `onConnectFailed`. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    void this.connect();
  }

  /** Stops reconnecting and closes the listening connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const subscriber = this.current;
    this.current = null;
    if (subscriber) await closeQuietly(subscriber);
  }

  private scheduleConnect(delayMs: number): void {
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delayMs);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const { events } = this.options;
    // pg-listen is CommonJS: under NodeNext the default import is its module object, whose `default`
    // is the factory (its index.js also makes the module itself callable).
    const subscriber = pgListen.default(
      {
        connectionString: this.options.url,
        application_name: this.options.applicationName,
        query_timeout: this.options.healthCheckTimeoutMs,
        connectionTimeoutMillis: this.options.connectTimeoutMs,
      },
      {
        paranoidChecking: this.options.healthCheckIntervalMs,
        retryLimit: 1,
        parse: (payload: string) => payload,
      },
    );
    // `live` is true only while this subscriber is the current one; events of an abandoned or
    // still-connecting subscriber are ignored (its failure is handled where it was abandoned).
    let live = false;
    subscriber.events.on('notification', () => {
      if (live) events.onWake();
    });
    subscriber.events.on('error', (error: Error) => {
      if (!live) return;
      live = false;
      this.current = null;
      events.onLost(error);
      void closeQuietly(subscriber);
      this.attempts = 0;
      this.scheduleConnect(0);
    });
    try {
      await subscriber.connect();
      await subscriber.listenTo(APP_ACCESS_CHANNEL);
    } catch (error) {
      void closeQuietly(subscriber);
      if (this.stopped) return;
      this.attempts += 1;
      const retryInMs = reconnectDelayMs(this.attempts);
      events.onConnectFailed(error instanceof Error ? error : new Error(String(error)), retryInMs);
      this.scheduleConnect(retryInMs);
      return;
    }
    if (this.stopped) {
      await closeQuietly(subscriber);
      return;
    }
    live = true;
    this.current = subscriber;
    this.attempts = 0;
    events.onConnected();
    events.onWake();
  }
}

import { splitConnectionFrom } from './csv-record-builder.js';
import { StringInterner } from './string-interner.js';

/**
 * Splits csvlog `connection_from` values (`host:port`, `[local]`, or null; see
 * `splitConnectionFrom`) for one framer: the last value's answer is kept (a session's records
 * repeat it), and hosts are interned (a `StringInterner`: records of one client share one string).
 * After `split(text)`, `host` and `port` hold the answer. Never throws.
 */
export class ConnectionFromCache {
  /** host of the last value split (null for an empty value) */
  host: string | null = null;
  /** port of the last value split (null when it has none) */
  port: number | null = null;
  private last: string | null = null;
  private readonly hosts = new StringInterner();

  /** Splits `text` into `host` and `port`. */
  split(text: string | null): void {
    if (text === this.last) return;
    const { host, port } = splitConnectionFrom(text);
    this.last = text;
    this.host = host === null ? null : this.hosts.intern(host);
    this.port = port;
  }
}

import { integerAt } from './csv-record-builder.js';
import { StringInterner } from './string-interner.js';

/**
 * Splits csvlog `connection_from` values (`host:port`, `[local]` for a Unix socket, or null) for
 * one framer: the last value's answer is kept (a session's records
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

  /**
   * Splits `text` into `host` and `port`: the port follows the last colon, so IPv6 hosts
   * (`::1:5432`) keep their colons; read in place (no answer object, no string for the port).
   */
  split(text: string | null): void {
    if (text === this.last) return;
    this.last = text;
    if (text === null) {
      this.host = null;
      this.port = null;
      return;
    }
    const colon = text.lastIndexOf(':');
    if (colon > 0 && colon < text.length - 1) {
      const port = integerAt(text, colon + 1, text.length);
      if (port !== null) {
        this.host = this.hosts.internSlice(text, 0, colon);
        this.port = port;
        return;
      }
    }
    this.host = this.hosts.intern(text);
    this.port = null;
  }
}

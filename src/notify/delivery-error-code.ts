/** What a code looks like: `ECONNREFUSED`, `ERR_SSL_WRONG_VERSION_NUMBER`, `UND_ERR_CONNECT_TIMEOUT`, `ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE`. */
const CODE = /^[A-Z][A-Z0-9_]*$/;

/**
 * Network failures Node's fetch (undici) reports without a code, by their fixed message (which never
 * holds the URL), and what a delivery error says instead. `bad port`: fetch refuses the ports browsers
 * block (e.g. 1, 9, 25, 6000; WHATWG Fetch "bad port"); `unexpected redirect`: receivers do not follow redirects.
 */
const CODELESS_FETCH_FAILURES: ReadonlyMap<string, string> = new Map([
  ['bad port', 'BAD_PORT (fetch never connects to this port)'],
  ['unexpected redirect', 'REDIRECT (receivers do not follow redirects)'],
]);

/**
 * A short code for a network-level delivery failure, never the URL or a message that may hold it:
 * the first error code found walking the error, its `cause`, `original` (@slack/webhook) and the first
 * of `errors` (AggregateError): `ECONNREFUSED`, `ETIMEDOUT`, `ENOTFOUND`, `ERR_SSL_WRONG_VERSION_NUMBER`,
 * `CERT_HAS_EXPIRED`...; `TimeoutError` / `AbortError` for an attempt timed out or aborted; a
 * `CODELESS_FETCH_FAILURES` text (`BAD_PORT ...`); else the innermost error's class name (`Error`).
 * Lower-case library codes (`slack_webhook_request_error`) are passed over for the cause's code.
 */
export function deliveryErrorCode(error: unknown): string {
  let current: unknown = error;
  let name = 'unknown';
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth += 1) {
    const node = current as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; original?: unknown; errors?: unknown };
    if (isErrorCode(node.code)) return node.code;
    if (node.name === 'TimeoutError' || node.name === 'AbortError') return node.name;
    if (typeof node.message === 'string') {
      const known = CODELESS_FETCH_FAILURES.get(node.message);
      if (known !== undefined) return known;
    }
    if (typeof node.name === 'string' && node.name !== '') name = node.name;
    current = node.cause ?? node.original ?? (Array.isArray(node.errors) ? node.errors[0] : undefined);
  }
  return name;
}

/** True for text shaped like an error code (`ECONNREFUSED`, `ERR_SSL_WRONG_VERSION_NUMBER`): safe to log. */
export function isErrorCode(text: unknown): text is string {
  return typeof text === 'string' && CODE.test(text);
}

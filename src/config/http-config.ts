import { resolve } from 'node:path';
import { z } from 'zod';
import { durationSchema } from '../lib/duration.js';

/** Default listen address: loopback only, port 7887 (9187 is postgres_exporter's). */
export const DEFAULT_HTTP_HOST = '127.0.0.1';
export const DEFAULT_HTTP_PORT = 7887;
const DEFAULT_LINK_TTL_MS = 7 * 86_400_000;
const DEFAULT_SESSION_TTL_MS = 12 * 3_600_000;
const DEFAULT_AUTH_FAILURES_MAX = 10;
const DEFAULT_AUTH_FAILURES_WINDOW_MS = 5 * 60_000;

/** `host:port`, `[v6]:port` or `:port` (all addresses); port 1-65535 (0 only for tests: any free port). */
const LISTEN = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/;

/** What a listen address must look like, for messages. */
export const LISTEN_ADDRESS_FORM = 'host:port, [ipv6]:port or :port, e.g. 127.0.0.1:7887';

/** True when `text` is a listen address `http.listen` accepts: `host:port`, `[v6]:port` or `:port`, port 0-65535. */
export function isListenAddress(text: string): boolean {
  const match = LISTEN.exec(text);
  return match !== null && Number(match[3]) <= 65535;
}

const listenSchema = z.string().refine(isListenAddress, { message: `expected ${LISTEN_ADDRESS_FORM}` });

/**
 * The `http` section of jaga.yaml, as a zod shape entry spread into the top-level strict schema:
 * ```yaml
 * http:
 *   listen: 127.0.0.1:7887            # default; JAGA_HTTP_LISTEN overrides
 *   public_url: https://jaga.example.com  # base of links in notifications; default http(s)://<listen>
 *   tls: { cert: tls/cert.pem, key: tls/key.pem }   # PEM files; both or neither; HTTPS when given
 *   link_ttl: 7d                       # one-click links expire after this (default 7d)
 *   session_ttl: 12h                   # web page sessions end after this (default 12h)
 *   auth_failures: { max: 10, window: 5m }  # per address; beyond it FAILING attempts get 429, valid tokens pass (defaults shown)
 * ```
 * Relative paths are relative to the config file.
 */
export const httpConfigShape = {
  http: z
    .strictObject({
      listen: listenSchema.optional(),
      public_url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL, e.g. https://jaga.example.com' }).optional(),
      tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
      link_ttl: durationSchema.optional(),
      session_ttl: durationSchema.optional(),
      auth_failures: z
        .strictObject({
          max: z.number().int().min(1).max(10_000).optional(),
          window: durationSchema.optional(),
        })
        .optional(),
    })
    .optional(),
};

/** The `http` section as validated (durations already in ms by `durationSchema`). */
export type HttpConfigInput = z.output<typeof httpConfigShape.http>;

/** The HTTP slice of the config: defaults applied, paths absolute, frozen. */
export interface HttpConfig {
  host: string;
  port: number;
  /** without trailing slash, e.g. `http://127.0.0.1:7887` */
  publicUrl: string;
  /**
   * true when `http.public_url` was set; false when `publicUrl` is derived from the listen address
   * (then, for port 0, the server uses its bound address once listening)
   */
  publicUrlGiven: boolean;
  /** absolute PEM paths, or null for plain HTTP */
  tls: { certFile: string; keyFile: string } | null;
  linkTtlMs: number;
  sessionTtlMs: number;
  authFailures: { max: number; windowMs: number };
}

/**
 * Applies defaults to the validated `http` section.
 * @param parsed the validated config (only its `http` key is read); `{}` gives the defaults
 * @param baseDir the config file's folder, for relative TLS paths
 */
export function resolveHttpConfig(parsed: { http?: HttpConfigInput }, baseDir: string): HttpConfig {
  const input = parsed.http ?? {};
  const match = LISTEN.exec(input.listen ?? `${DEFAULT_HTTP_HOST}:${DEFAULT_HTTP_PORT}`);
  const host = match?.[1] ?? (match?.[2] === '' ? '0.0.0.0' : (match?.[2] ?? DEFAULT_HTTP_HOST));
  const port = Number(match?.[3] ?? DEFAULT_HTTP_PORT);
  const tls = input.tls ? { certFile: resolve(baseDir, input.tls.cert), keyFile: resolve(baseDir, input.tls.key) } : null;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const publicUrl = (input.public_url ?? `${tls ? 'https' : 'http'}://${shownHost}:${port}`).replace(/\/+$/, '');
  return Object.freeze({
    host,
    port,
    publicUrl,
    publicUrlGiven: input.public_url !== undefined,
    tls: tls === null ? null : Object.freeze(tls),
    linkTtlMs: input.link_ttl ?? DEFAULT_LINK_TTL_MS,
    sessionTtlMs: input.session_ttl ?? DEFAULT_SESSION_TTL_MS,
    authFailures: Object.freeze({
      max: input.auth_failures?.max ?? DEFAULT_AUTH_FAILURES_MAX,
      windowMs: input.auth_failures?.window ?? DEFAULT_AUTH_FAILURES_WINDOW_MS,
    }),
  });
}

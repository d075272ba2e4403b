import { readFile } from 'node:fs/promises';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { HttpConfig } from '../config/http-config.js';
import { ConfigError } from '../domain/errors.js';
import type { SqlQueryable } from '../domain/sql-queryable.js';
import type { Logger } from '../observe/logger.js';
import { AdminAuditLog } from './admin-audit-log.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import type { HealthProbe } from './health-probe.js';
import { htmlPage } from './html-page.js';
import type { IncidentActions } from './incident-actions.js';
import { IncidentListCache } from './incident-list-cache.js';
import { messageBody } from './incident-pages.js';
import type { IncidentQueries } from './incident-queries.js';
import { LinkSigner } from './link-signer.js';
import { registerApiRoutes } from './api-routes.js';
import { registerLinkRoutes } from './link-routes.js';
import { registerPageRoutes } from './page-routes.js';
import { apiError, RequestAuth } from './request-auth.js';
import type { RouteContext } from './route-context.js';
import { SessionStore } from './session-store.js';
import type { SilenceAdmin } from './silence-admin.js';
import { TokenRepository } from './token-repository.js';

/** The ports and services the HTTP stage needs (filled by the composition root). */
export interface HttpServerDeps {
  /** jaga's store: tokens, link keys, used links, sessions and the audit log (migration 0005_http_auth) */
  store: SqlQueryable;
  queries: IncidentQueries;
  actions: IncidentActions;
  silences: SilenceAdmin;
  health: HealthProbe;
  /** the prom-client registry served at /metrics */
  registry: Registry;
  logger: Logger;
  /** clock (tests move it); default `() => new Date()` */
  now?: () => Date;
  /** how long an incident list is reused, wall-clock ms (see IncidentListCache); default 1000, 0 disables */
  listCacheMs?: number;
}

/** A created (not yet listening) server. */
export interface HttpServer {
  readonly app: FastifyInstance;
  /** the link signer: pass it to the notify stage as its `NotificationLinks` */
  readonly links: LinkSigner;
  /**
   * Starts listening on the configured host and port; with port 0 and no `http.public_url`, links are
   * signed on the bound address from then on. @returns the bound base URL, e.g. `http://127.0.0.1:7887`.
   * @throws Error (EADDRINUSE, EACCES)
   */
  listen(): Promise<string>;
  /** Stops accepting connections and waits for in-flight requests. Idempotent. */
  close(): Promise<void>;
}

/** Largest request body accepted, bytes (forms and JSON are small). */
const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * Creates the responder HTTP endpoint (fastify 5): JSON API (`/api`, bearer tokens), server-rendered
 * web page (`/ui`, session cookie + CSRF), one-click links (`/ui/links/:token`), `/metrics`,
 * `/healthz` (200 while the process runs), `/readyz` (200 or 503 from the HealthProbe). Secure headers
 * by @fastify/helmet with a strict CSP (no scripts, styles only from /ui/jaga.css, forms post to self,
 * no framing). HTTPS when `config.tls` is set. Each response logs one `http_request` line with method,
 * route pattern (never the URL: links carry tokens, queries carry filters), status and duration; never
 * bodies, query strings or headers.
 *
 * @throws ConfigError when the TLS files cannot be read
 * @throws StoreError when the link signing keys cannot be loaded
 */
export async function createHttpServer(deps: HttpServerDeps, config: HttpConfig): Promise<HttpServer> {
  const now = deps.now ?? (() => new Date());
  let https: { cert: Buffer; key: Buffer } | null = null;
  if (config.tls !== null) {
    try {
      https = { cert: await readFile(config.tls.certFile), key: await readFile(config.tls.keyFile) };
    } catch (error) {
      throw new ConfigError(`http.tls: cannot read the certificate or key file (${(error as NodeJS.ErrnoException).code ?? 'error'})`, undefined, { cause: error });
    }
  }
  const app: FastifyInstance = (https === null
    ? Fastify({ logger: false, bodyLimit: BODY_LIMIT_BYTES, trustProxy: false, routerOptions: { maxParamLength: 512 } })
    : Fastify({ logger: false, bodyLimit: BODY_LIMIT_BYTES, trustProxy: false, routerOptions: { maxParamLength: 512 }, https })) as unknown as FastifyInstance;

  const links = await LinkSigner.open(deps.store, { publicUrl: config.publicUrl, linkTtlMs: config.linkTtlMs, now });
  const tokens = new TokenRepository(deps.store);
  const sessions = new SessionStore(deps.store, config.sessionTtlMs);
  const limiter = new AuthFailureLimiter({ max: config.authFailures.max, windowMs: config.authFailures.windowMs });
  const listCache = new IncidentListCache(deps.listCacheMs ?? 1000);
  const act = (move: keyof IncidentActions): IncidentActions[keyof IncidentActions] => async (id, by) => {
    try {
      return await deps.actions[move](id, by);
    } finally {
      listCache.clear();
    }
  };
  const ctx: RouteContext = {
    config,
    queries: deps.queries,
    listCache,
    actions: { ack: act('ack'), resolve: act('resolve'), reopen: act('reopen') },
    silences: deps.silences,
    health: deps.health,
    tokens,
    sessions,
    audit: new AdminAuditLog(deps.store),
    links,
    auth: new RequestAuth(tokens, sessions, limiter, now),
    now,
  };

  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    hsts: https !== null,
    referrerPolicy: { policy: 'no-referrer' },
  });
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody, { bodyLimit: BODY_LIMIT_BYTES });
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/cookie',
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'strict', secure: https !== null },
    getToken: (request) => {
      const body = request.body as { _csrf?: unknown } | undefined;
      return typeof body?._csrf === 'string' ? body._csrf : undefined;
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    deps.logger.info('http_request', {
      event: 'http_request',
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
      duration_ms: Math.round(reply.elapsedTime),
    });
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) deps.logger.error('http_error', { event: 'http_error', route: request.routeOptions.url ?? 'unmatched', error: error.name, code: error.code ?? null });
    const code = status === 500 ? 'internal' : status === 403 && error.code?.startsWith('FST_CSRF') ? 'csrf' : 'bad_request';
    const text = status === 500 ? 'internal error; see the server log' : code === 'csrf' ? 'missing or invalid CSRF token: reload the page and try again' : 'malformed request';
    if (request.url.startsWith('/api/')) return apiError(reply, status, code, text);
    return reply.code(status).type('text/html; charset=utf-8').send(htmlPage({ title: 'Error', body: messageBody('Request refused', text), user: null }));
  });
  app.setNotFoundHandler((request, reply) => {
    if (request.url.startsWith('/api/')) return apiError(reply, 404, 'not_found', 'no such endpoint');
    return reply.code(404).type('text/html; charset=utf-8').send(htmlPage({ title: 'Not found', body: messageBody('Not found', 'No such page.'), user: null }));
  });

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_request, reply) => {
    const report = await deps.health.ready();
    return reply.code(report.ok ? 200 : 503).send(report);
  });
  app.get('/metrics', async (_request, reply) => reply.type(deps.registry.contentType).send(await deps.registry.metrics()));

  registerApiRoutes(app, ctx);
  registerPageRoutes(app, ctx);
  registerLinkRoutes(app, ctx);
  await app.ready();

  let closed = false;
  return {
    app,
    links,
    async listen() {
      const address = await app.listen({ host: config.host, port: config.port });
      // links derived from `listen: HOST:0` would name port 0: they use the port the system chose
      if (!config.publicUrlGiven && config.port === 0) links.usePublicUrl(address);
      return address;
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}

import type {} from '@fastify/csrf-protection';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ConfigError } from '../domain/errors.js';
import { parseDuration } from '../lib/duration.js';
import { htmlPage, PAGE_CSS } from './html-page.js';
import { INCIDENT_ACTIONS, type IncidentActionName } from './incident-actions.js';
import { incidentDetailBody, incidentListBody, messageBody, signInBody, silencesBody } from './incident-pages.js';
import { SESSION_COOKIE } from './request-auth.js';
import { type RouteContext, statusOfPortError } from './route-context.js';
import { toSilenceRequest } from './silence-request.js';
import { roleAllows, type TokenPrincipal } from './token-repository.js';

/** Notices shown after a redirect (`?done=<key>`): fixed texts, so nothing from the request is echoed. */
const NOTICES: Readonly<Record<string, string>> = {
  ack: 'Acknowledged.',
  resolve: 'Resolved.',
  reopen: 'Reopened.',
  silenced: 'Silence created.',
  expired: 'Silence expired.',
};

type FormBody = Record<string, string | undefined>;

function form(request: FastifyRequest): FormBody {
  const body = request.body;
  return typeof body === 'object' && body !== null ? (body as FormBody) : {};
}

function sendPage(reply: FastifyReply, status: number, title: string, body: string, user: { name: string; role: string; csrfToken: string } | null): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(htmlPage({ title, body, user }));
}

/**
 * The server-rendered web page under `/ui` (session cookie only; every POST carries the form's
 * `_csrf` token, checked by @fastify/csrf-protection's double-submit cookie before the handler):
 * `GET|POST /ui/sign-in`, `POST /ui/sign-out`, `GET /ui/incidents`, `GET /ui/incidents/:id`,
 * `POST /ui/incidents/:id/ack|resolve|reopen` (form: version, note), `GET|POST /ui/silences`,
 * `POST /ui/silences/:id/expire`, `GET /ui/jaga.css`. Without a session a page redirects (303) to
 * sign-in; a viewer's POST gets 403. Actions redirect (303) back with a fixed notice.
 */
export function registerPageRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const csrf = app.csrfProtection;
  const secure = ctx.config.tls !== null;

  /** The signed-in user and a fresh CSRF token, or null after redirecting to sign-in. */
  const signedIn = async (request: FastifyRequest, reply: FastifyReply): Promise<{ principal: TokenPrincipal; user: { name: string; role: string; csrfToken: string } } | null> => {
    const principal = await ctx.auth.session(request);
    if (principal === null) {
      reply.redirect('/ui/sign-in', 303);
      return null;
    }
    return { principal, user: { name: principal.name, role: principal.role, csrfToken: reply.generateCsrf() } };
  };

  /** The signed-in responder for a POST, or null after answering 303 (no session) or 403 (viewer). */
  const responder = async (request: FastifyRequest, reply: FastifyReply): Promise<TokenPrincipal | null> => {
    const principal = await ctx.auth.session(request);
    if (principal === null) {
      reply.redirect('/ui/sign-in', 303);
      return null;
    }
    if (!roleAllows(principal.role, 'responder')) {
      sendPage(reply, 403, 'Forbidden', messageBody('Forbidden', 'Your token has the viewer role: it can look, not act.'), null);
      return null;
    }
    return principal;
  };

  app.get('/', async (_request, reply) => reply.redirect('/ui/incidents', 303));
  app.get('/ui/jaga.css', async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'max-age=3600').send(PAGE_CSS));

  app.get('/ui/sign-in', async (_request, reply) => sendPage(reply, 200, 'Sign in', signInBody(reply.generateCsrf(), null), null));

  app.post('/ui/sign-in', { preHandler: csrf }, async (request, reply) => {
    const token = form(request).token ?? '';
    const principal = await ctx.tokens.authenticate(token.trim(), ctx.now());
    if (principal === null) {
      if (ctx.auth.refuseFailure(request, reply)) return reply;
      return sendPage(reply, 401, 'Sign in', signInBody(reply.generateCsrf(), 'Unknown or revoked token.'), null);
    }
    const session = await ctx.sessions.create(principal.tokenId, ctx.now());
    reply.setCookie(SESSION_COOKIE, session.id, { path: '/', httpOnly: true, sameSite: 'strict', secure, maxAge: Math.floor((session.expiresAt.getTime() - ctx.now().getTime()) / 1000) });
    return reply.redirect('/ui/incidents', 303);
  });

  app.post('/ui/sign-out', { preHandler: csrf }, async (request, reply) => {
    const id = request.cookies[SESSION_COOKIE];
    if (id !== undefined && id !== '') await ctx.sessions.delete(id);
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure });
    return reply.redirect('/ui/sign-in', 303);
  });

  app.get('/ui/incidents', async (request, reply) => {
    const who = await signedIn(request, reply);
    if (who === null) return reply;
    const filter = { status: ['open', 'acknowledged'] as const, limit: 500 };
    const incidents = await ctx.listCache.get(filter, () => ctx.queries.list(filter));
    return sendPage(reply, 200, 'Incidents', incidentListBody(incidents, ctx.now()), who.user);
  });

  app.get('/ui/incidents/:id', async (request, reply) => {
    const who = await signedIn(request, reply);
    if (who === null) return reply;
    const idText = (request.params as { id: string }).id;
    const incident = /^[1-9]\d{0,15}$/.test(idText) ? await ctx.queries.get(Number(idText)) : null;
    if (incident === null) return sendPage(reply, 404, 'Not found', messageBody('Not found', 'There is no incident with this id.'), who.user);
    const done = NOTICES[(request.query as { done?: string }).done ?? ''] ?? null;
    const canAct = roleAllows(who.principal.role, 'responder');
    return sendPage(reply, 200, `#${incident.id}`, incidentDetailBody(incident, { canAct, csrfToken: who.user.csrfToken }, ctx.now(), done), who.user);
  });

  app.post('/ui/incidents/:id/:action', { preHandler: csrf }, async (request, reply) => {
    const principal = await responder(request, reply);
    if (principal === null) return reply;
    const { id: idText, action } = request.params as { id: string; action: string };
    const body = form(request);
    if (!/^[1-9]\d{0,15}$/.test(idText) || !INCIDENT_ACTIONS.includes(action as IncidentActionName)) {
      return sendPage(reply, 404, 'Not found', messageBody('Not found', 'No such incident or action.'), null);
    }
    const version = /^[1-9]\d{0,8}$/.test(body.version ?? '') ? Number(body.version) : null;
    if (version === null) return sendPage(reply, 400, 'Bad request', messageBody('Bad request', 'The form lost its version: reload the incident.'), null);
    const note = (body.note ?? '').trim().slice(0, 2000);
    try {
      await ctx.actions[action as IncidentActionName](Number(idText), { actor: `responder:${principal.name}`, note: note === '' ? null : note, expectedVersion: version });
    } catch (error) {
      const known = statusOfPortError(error);
      if (known === null) throw error;
      const text = known.code === 'incident_version_conflict' ? 'The incident changed since you loaded it. Reload it and try again.' : (error as Error).message;
      return sendPage(reply, known.status, 'Not done', `${messageBody('Not done', text)}<p><a href="/ui/incidents/${Number(idText)}">Back to the incident</a></p>`, null);
    }
    return reply.redirect(`/ui/incidents/${Number(idText)}?done=${action}`, 303);
  });

  app.get('/ui/silences', async (request, reply) => {
    const who = await signedIn(request, reply);
    if (who === null) return reply;
    const silences = await ctx.silences.list({ includeExpired: false });
    const done = NOTICES[(request.query as { done?: string }).done ?? ''] ?? null;
    return sendPage(reply, 200, 'Silences', silencesBody(silences, { canAct: roleAllows(who.principal.role, 'responder'), csrfToken: who.user.csrfToken }, done), who.user);
  });

  app.post('/ui/silences', { preHandler: csrf }, async (request, reply) => {
    const principal = await responder(request, reply);
    if (principal === null) return reply;
    const body = form(request);
    const pick = (name: string): string | null => (body[name] ?? '').trim().slice(0, 200) || null;
    let durationMs: number;
    try {
      durationMs = parseDuration((body.duration ?? '').trim(), 'duration');
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return sendPage(reply, 400, 'Bad request', messageBody('Bad request', 'Duration must be like 30m, 2h or 1d.'), null);
    }
    const user = pick('user');
    const request_ = toSilenceRequest(
      { matchers: { detector: pick('detector'), server: pick('server'), entity: user === null ? null : { user } }, ends_at: new Date(ctx.now().getTime() + durationMs).toISOString(), reason: (body.reason ?? '').trim().slice(0, 500) },
      `responder:${principal.name}`,
      ctx.now(),
    );
    if (typeof request_ === 'string' || request_.reason === '') {
      return sendPage(reply, 400, 'Bad request', messageBody('Bad request', typeof request_ === 'string' ? request_ : 'A silence needs a reason.'), null);
    }
    const created = await ctx.silences.create(request_);
    await ctx.audit.record({ at: ctx.now(), actor: request_.author, action: 'silence_create', target: `silence:${created.id}`, detail: { ends_at: created.ends_at } });
    return reply.redirect('/ui/silences?done=silenced', 303);
  });

  app.post('/ui/silences/:id/expire', { preHandler: csrf }, async (request, reply) => {
    const principal = await responder(request, reply);
    if (principal === null) return reply;
    const idText = (request.params as { id: string }).id;
    const expired = /^[1-9]\d{0,15}$/.test(idText) ? await ctx.silences.expire(Number(idText), `responder:${principal.name}`) : null;
    if (expired === null) return sendPage(reply, 404, 'Not found', messageBody('Not found', 'There is no silence with this id.'), null);
    await ctx.audit.record({ at: ctx.now(), actor: `responder:${principal.name}`, action: 'silence_expire', target: `silence:${expired.id}`, detail: {} });
    return reply.redirect('/ui/silences?done=expired', 303);
  });
}

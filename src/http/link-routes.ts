import type { FastifyInstance, FastifyReply } from 'fastify';
import { htmlPage } from './html-page.js';
import { linkConfirmBody, messageBody } from './incident-pages.js';
import type { LinkRejection } from './link-signer.js';
import { type RouteContext, statusOfPortError } from './route-context.js';

const REJECTIONS: Readonly<Record<LinkRejection, { status: number; text: string }>> = {
  malformed: { status: 404, text: 'This link is not a jaga action link.' },
  bad_signature: { status: 404, text: 'This link is not a jaga action link.' },
  unknown_key: { status: 404, text: 'This link was signed with a key that is no longer valid.' },
  expired: { status: 410, text: 'This link has expired. Open the incident page instead.' },
  used: { status: 410, text: 'This link was already used. Open the incident page instead.' },
};

function page(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .send(htmlPage({ title, body, user: null }));
}

/**
 * One-click links from notifications (`/ui/links/<token>`, see LinkSigner). `GET` only shows a confirm
 * page (mail scanners and link previews open links, so GET never acts); the page's `POST` (with its
 * CSRF token) acts once: the nonce is claimed first, atomically, then the action runs with actor
 * `responder:link:<notification id>` and no expected version. Expired or used links answer 410,
 * forged or malformed ones 404 (counted as auth failures, so guessing gets 429; a valid link still works).
 */
export function registerLinkRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/ui/links/:token', async (request, reply) => {
    const token = (request.params as { token: string }).token;
    const verdict = await ctx.links.verify(token, ctx.now());
    if (!verdict.ok) {
      if (REJECTIONS[verdict.reason].status === 404 && ctx.auth.refuseFailure(request, reply)) return reply;
      const r = REJECTIONS[verdict.reason];
      return page(reply, r.status, 'Link not usable', messageBody('Link not usable', r.text));
    }
    const incident = await ctx.queries.get(verdict.claims.incidentId);
    if (incident === null) return page(reply, 404, 'Not found', messageBody('Not found', 'The incident of this link does not exist.'));
    return page(reply, 200, 'Confirm', linkConfirmBody(token, incident, verdict.claims.action, reply.generateCsrf()));
  });

  app.post('/ui/links/:token', { preHandler: app.csrfProtection }, async (request, reply) => {
    const token = (request.params as { token: string }).token;
    const now = ctx.now();
    const verdict = await ctx.links.verify(token, now);
    if (!verdict.ok) {
      if (REJECTIONS[verdict.reason].status === 404 && ctx.auth.refuseFailure(request, reply)) return reply;
      const r = REJECTIONS[verdict.reason];
      return page(reply, r.status, 'Link not usable', messageBody('Link not usable', r.text));
    }
    const { claims } = verdict;
    if (!(await ctx.links.markUsed(claims, now))) return page(reply, 410, 'Link not usable', messageBody('Link not usable', REJECTIONS.used.text));
    const body = (request.body ?? {}) as { note?: string };
    const note = typeof body.note === 'string' && body.note.trim() !== '' ? body.note.trim().slice(0, 2000) : null;
    const by = { actor: `responder:link:${claims.notificationId}`, note, expectedVersion: null };
    try {
      const incident = claims.action === 'ack' ? await ctx.actions.ack(claims.incidentId, by) : await ctx.actions.resolve(claims.incidentId, by);
      const done = claims.action === 'ack' ? 'Acknowledged' : 'Resolved';
      return page(reply, 200, done, `${messageBody(done, `Incident #${incident.id} is now ${incident.status}.`)}<p><a href="${ctx.links.incidentUrl(incident.id)}">Open the incident</a></p>`);
    } catch (error) {
      const known = statusOfPortError(error);
      if (known === null) throw error;
      return page(reply, known.status, 'Not done', messageBody('Not done', (error as Error).message));
    }
  });
}

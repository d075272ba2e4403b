import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { SEVERITIES, type Severity } from '../domain/detection.js';
import { INCIDENT_STATUSES, type IncidentJson, type IncidentStatus } from '../domain/incident.js';
import { parseCalendarTime } from '../lib/calendar-time.js';
import { INCIDENT_ACTIONS, type IncidentActionName } from './incident-actions.js';
import type { IncidentListQuery } from './incident-queries.js';
import { apiError } from './request-auth.js';
import { type RouteContext, sendPortError } from './route-context.js';
import { silenceRequestSchema, toSilenceRequest } from './silence-request.js';
import { HTTP_ROLES, roleAllows, TOKEN_NAME_PATTERN, TokenNameTakenError, type TokenRecord } from './token-repository.js';

/** Largest `limit` of `GET /api/incidents` (default 100). */
export const API_LIST_MAX_LIMIT = 1000;

const actionBodySchema = z.strictObject({
  note: z.string().max(2000).nullable().optional(),
  version: z.number().int().min(1),
  /** the responder an admin token acts for (e.g. the local CLI's `--as`); same pattern as token names */
  on_behalf_of: z.string().regex(TOKEN_NAME_PATTERN).optional(),
});

const tokenBodySchema = z.strictObject({
  name: z.string().regex(TOKEN_NAME_PATTERN, 'a token name is 1-64 of letters, digits, _ . @ -'),
  role: z.enum(HTTP_ROLES),
});

function tokenJson(record: TokenRecord): Record<string, unknown> {
  return {
    name: record.name,
    role: record.role,
    created_at: record.createdAt.toISOString(),
    last_used_at: record.lastUsedAt?.toISOString() ?? null,
    revoked_at: record.revokedAt?.toISOString() ?? null,
  };
}

/**
 * Parses `GET /api/incidents` query parameters: `status` and `severity` (comma-separated lists),
 * `detector`, `since` / `until` (ISO-8601), `limit` (1..1000, default 100).
 * @returns the filter, or a problem text for a 400
 */
export function parseIncidentListQuery(query: Record<string, unknown>): IncidentListQuery | string {
  const filter: IncidentListQuery = { limit: 100 };
  const text = (name: string): string | undefined => (typeof query[name] === 'string' && query[name] !== '' ? (query[name] as string) : undefined);
  const status = text('status');
  if (status !== undefined) {
    const values = status.split(',');
    if (!values.every((v) => (INCIDENT_STATUSES as readonly string[]).includes(v))) return `status must be a comma-separated list of ${INCIDENT_STATUSES.join(', ')}`;
    filter.status = values as IncidentStatus[];
  }
  const severity = text('severity');
  if (severity !== undefined) {
    const values = severity.split(',');
    if (!values.every((v) => (SEVERITIES as readonly string[]).includes(v))) return `severity must be a comma-separated list of ${SEVERITIES.join(', ')}`;
    filter.severity = values as Severity[];
  }
  const detector = text('detector');
  if (detector !== undefined) filter.detector = detector.slice(0, 200);
  for (const name of ['since', 'until'] as const) {
    const value = text(name);
    if (value === undefined) continue;
    const ms = parseCalendarTime(value, 'date-first');
    if (ms === null) return `${name} must be an ISO-8601 time, e.g. 2026-01-01T00:00:00Z`;
    filter[name] = new Date(ms);
  }
  const limit = text('limit');
  if (limit !== undefined) {
    if (!/^\d{1,5}$/.test(limit) || Number(limit) < 1 || Number(limit) > API_LIST_MAX_LIMIT) return `limit must be an integer 1..${API_LIST_MAX_LIMIT}`;
    filter.limit = Number(limit);
  }
  return filter;
}

function incidentId(params: unknown): number | null {
  const text = (params as { id?: string }).id ?? '';
  return /^[1-9]\d{0,15}$/.test(text) ? Number(text) : null;
}

/**
 * The JSON API under `/api` (bearer tokens only):
 * - `GET /api/incidents` (viewer) → `{ incidents: IncidentJson[] }`; `GET /api/incidents/:id` (viewer) →
 *   the detail shape plus `timeline`; `POST /api/incidents/:id/ack|resolve|reopen` (responder) with
 *   `{ version, note?, on_behalf_of? }` → `{ incident: IncidentJson, actor }`; 409 for a stale version or a
 *   refused move, 404 unknown id. The timeline actor is `responder:<token name>`, or `responder:<on_behalf_of>`
 *   when an ADMIN token names another responder (the local CLI's `--as` through the daemon's `local-cli`
 *   token); that relay is also written to the admin audit log (`incident_<action>_on_behalf`, actor the
 *   token, detail `{ on_behalf_of }`). A non-admin token's `on_behalf_of` is ignored: `actor` says who was recorded.
 * - `GET /api/silences[?expired=true]` (viewer), `POST /api/silences` (responder, 201), `DELETE /api/silences/:id` (responder).
 * - `GET|POST /api/tokens`, `DELETE /api/tokens/:name`, `POST /api/link-keys/rotate`, `GET /api/audit` (admin).
 * Errors: `{ error: { code, message } }`: 400 bad request, 401, 403, 404, 409, 429.
 */
export function registerApiRoutes(app: FastifyInstance, ctx: RouteContext): void {
  /** a cached list's JSON text, made once per cached list (many readers of one list cost one stringify) */
  const serialized = new WeakMap<IncidentJson[], string>();
  app.get('/api/incidents', async (request, reply) => {
    if ((await ctx.auth.bearer(request, reply, 'viewer')) === null) return reply;
    const filter = parseIncidentListQuery(request.query as Record<string, unknown>);
    if (typeof filter === 'string') return apiError(reply, 400, 'bad_request', filter);
    const incidents = await ctx.listCache.get(filter, () => ctx.queries.list(filter));
    let body = serialized.get(incidents);
    if (body === undefined) {
      body = JSON.stringify({ incidents });
      serialized.set(incidents, body);
    }
    return reply.type('application/json; charset=utf-8').send(body);
  });

  app.get('/api/incidents/:id', async (request, reply) => {
    if ((await ctx.auth.bearer(request, reply, 'viewer')) === null) return reply;
    const id = incidentId(request.params);
    if (id === null) return apiError(reply, 400, 'bad_request', 'an incident id is a positive integer');
    const incident = await ctx.queries.get(id);
    if (incident === null) return apiError(reply, 404, 'incident_not_found', 'no incident with this id');
    return incident;
  });

  app.post('/api/incidents/:id/:action', async (request, reply) => {
    const principal = await ctx.auth.bearer(request, reply, 'responder');
    if (principal === null) return reply;
    const action = (request.params as { action: string }).action as IncidentActionName;
    if (!INCIDENT_ACTIONS.includes(action)) return apiError(reply, 404, 'not_found', 'actions are ack, resolve and reopen');
    const id = incidentId(request.params);
    if (id === null) return apiError(reply, 400, 'bad_request', 'an incident id is a positive integer');
    const body = actionBodySchema.safeParse(request.body ?? {});
    if (!body.success) {
      return apiError(reply, 400, 'bad_request', 'body must be {"version": <the incident version you saw>, "note": <optional text up to 2000 chars>, "on_behalf_of": <optional responder name, admin tokens only>}');
    }
    // only an admin token may name another responder; any other token acts as itself (the answer says who)
    const behalf = body.data.on_behalf_of;
    const actingFor = behalf !== undefined && behalf !== principal.name && roleAllows(principal.role, 'admin') ? behalf : null;
    const by = { actor: `responder:${actingFor ?? principal.name}`, note: body.data.note ?? null, expectedVersion: body.data.version };
    let incident: IncidentJson;
    try {
      incident = await ctx.actions[action](id, by);
    } catch (error) {
      return sendPortError(reply, error);
    }
    if (actingFor !== null) {
      await ctx.audit.record({ at: ctx.now(), actor: `responder:${principal.name}`, action: `incident_${action}_on_behalf`, target: `incident:${id}`, detail: { on_behalf_of: actingFor } });
    }
    return { incident, actor: by.actor };
  });

  app.get('/api/silences', async (request, reply) => {
    if ((await ctx.auth.bearer(request, reply, 'viewer')) === null) return reply;
    const includeExpired = (request.query as { expired?: string }).expired === 'true';
    return { silences: await ctx.silences.list({ includeExpired }) };
  });

  app.post('/api/silences', async (request, reply) => {
    const principal = await ctx.auth.bearer(request, reply, 'responder');
    if (principal === null) return reply;
    const body = silenceRequestSchema.safeParse(request.body ?? {});
    const silence = body.success ? toSilenceRequest(body.data, `responder:${principal.name}`, ctx.now()) : 'invalid silence';
    if (typeof silence === 'string') {
      return apiError(reply, 400, 'bad_request', body.success ? silence : 'body must be {"matchers": {...}, "ends_at" or "duration", "reason"}');
    }
    try {
      const created = await ctx.silences.create(silence);
      await ctx.audit.record({ at: ctx.now(), actor: silence.author, action: 'silence_create', target: `silence:${created.id}`, detail: { ends_at: created.ends_at } });
      return reply.code(201).send({ silence: created });
    } catch (error) {
      return sendPortError(reply, error);
    }
  });

  app.delete('/api/silences/:id', async (request, reply) => {
    const principal = await ctx.auth.bearer(request, reply, 'responder');
    if (principal === null) return reply;
    const id = incidentId(request.params);
    if (id === null) return apiError(reply, 404, 'silence_not_found', 'no silence with this id');
    let expired;
    try {
      expired = await ctx.silences.expire(id, `responder:${principal.name}`);
    } catch (error) {
      return sendPortError(reply, error);
    }
    if (expired === null) return apiError(reply, 404, 'silence_not_found', 'no silence with this id');
    await ctx.audit.record({ at: ctx.now(), actor: `responder:${principal.name}`, action: 'silence_expire', target: `silence:${expired.id}`, detail: {} });
    return { silence: expired };
  });

  app.get('/api/tokens', async (request, reply) => {
    if ((await ctx.auth.bearer(request, reply, 'admin')) === null) return reply;
    return { tokens: (await ctx.tokens.list()).map(tokenJson) };
  });

  app.post('/api/tokens', async (request, reply) => {
    const principal = await ctx.auth.bearer(request, reply, 'admin');
    if (principal === null) return reply;
    const body = tokenBodySchema.safeParse(request.body ?? {});
    if (!body.success) return apiError(reply, 400, 'bad_request', 'body must be {"name": "...", "role": "viewer|responder|admin"}');
    try {
      const { token, record } = await ctx.tokens.create(body.data.name, body.data.role, ctx.now());
      await ctx.audit.record({ at: ctx.now(), actor: `responder:${principal.name}`, action: 'token_create', target: `token:${record.name}`, detail: { role: record.role } });
      return reply.code(201).send({ token, ...tokenJson(record) });
    } catch (error) {
      if (error instanceof TokenNameTakenError) return apiError(reply, 409, error.code, error.message);
      throw error;
    }
  });

  app.delete('/api/tokens/:name', async (request, reply) => {
    const principal = await ctx.auth.bearer(request, reply, 'admin');
    if (principal === null) return reply;
    const name = (request.params as { name: string }).name;
    const revoked = TOKEN_NAME_PATTERN.test(name) ? await ctx.tokens.revoke(name, ctx.now()) : null;
    if (revoked === null) return apiError(reply, 404, 'token_not_found', 'no live token has this name');
    await ctx.audit.record({ at: ctx.now(), actor: `responder:${principal.name}`, action: 'token_revoke', target: `token:${revoked.name}`, detail: { role: revoked.role } });
    return tokenJson(revoked);
  });

  app.post('/api/link-keys/rotate', async (request, reply) => {
    const principal = await ctx.auth.bearer(request, reply, 'admin');
    if (principal === null) return reply;
    const rotated = await ctx.links.rotate(ctx.now());
    await ctx.audit.record({ at: ctx.now(), actor: `responder:${principal.name}`, action: 'link_key_rotate', target: `link_key:${rotated.keyId}`, detail: { retired: rotated.retired.join(',') } });
    return { key_id: rotated.keyId, retired: rotated.retired };
  });

  app.get('/api/audit', async (request, reply) => {
    if ((await ctx.auth.bearer(request, reply, 'admin')) === null) return reply;
    const entries = await ctx.audit.list(100);
    return { entries: entries.map((e) => ({ at: e.at.toISOString(), actor: e.actor, action: e.action, target: e.target, detail: e.detail })) };
  });
}

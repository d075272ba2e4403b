import type { FastifyReply } from 'fastify';
import type { HttpConfig } from '../config/http-config.js';
import type { AdminAuditLog } from './admin-audit-log.js';
import type { HealthProbe } from './health-probe.js';
import type { IncidentActions } from './incident-actions.js';
import type { IncidentListCache } from './incident-list-cache.js';
import type { IncidentQueries } from './incident-queries.js';
import type { LinkSigner } from './link-signer.js';
import type { RequestAuth } from './request-auth.js';
import { apiError } from './request-auth.js';
import type { SessionStore } from './session-store.js';
import type { SilenceAdmin } from './silence-admin.js';
import type { TokenRepository } from './token-repository.js';

/** What every route module of the HTTP stage receives from `createHttpServer`. */
export interface RouteContext {
  config: HttpConfig;
  queries: IncidentQueries;
  /** in front of `queries.list`; cleared by every action through `actions` */
  listCache: IncidentListCache;
  actions: IncidentActions;
  silences: SilenceAdmin;
  health: HealthProbe;
  tokens: TokenRepository;
  sessions: SessionStore;
  audit: AdminAuditLog;
  links: LinkSigner;
  auth: RequestAuth;
  now: () => Date;
}

/** HTTP status of an error thrown by a port, from its `code` (IncidentActions, SilenceAdmin), else null. */
export function statusOfPortError(error: unknown): { status: number; code: string } | null {
  const code = typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : null;
  switch (code) {
    case 'incident_version_conflict':
    case 'incident_invalid_state':
    case 'incident_state':
      return { status: 409, code };
    case 'incident_not_found':
    case 'silence_not_found':
      return { status: 404, code };
    case 'silence_invalid':
      return { status: 400, code };
    default:
      return null;
  }
}

/** Sends a port error as the API's JSON error when it has a known code; rethrows anything else (→ 500). */
export function sendPortError(reply: FastifyReply, error: unknown): FastifyReply {
  const known = statusOfPortError(error);
  if (known === null) throw error;
  return apiError(reply, known.status, known.code, (error as Error).message);
}

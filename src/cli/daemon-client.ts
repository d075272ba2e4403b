import type { IncidentJson } from '../domain/incident.js';
import type { SilenceJson } from '../domain/silence.js';
import type { IncidentWithTimelineJson } from '../http/incident-queries.js';

/** An answer of the daemon's API that is not 2xx: status and the API's error code (`{ error: { code, message } }`). */
export class DaemonApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`daemon API ${status} ${code}: ${message}`);
    this.name = 'DaemonApiError';
  }
}

/** Where the daemon listens and who asks. */
export interface DaemonClientOptions {
  /** the daemon's base URL, e.g. `http://127.0.0.1:7887` (its `http.public_url` or listen address) */
  baseUrl: string;
  /** a bearer token (`jaga_…`) with the role the calls need */
  token: string;
  /** per-request timeout, ms; default 10 000 */
  timeoutMs?: number;
}

/**
 * A client of a running daemon's HTTP API (src/http/api-routes.ts), for CLI admin commands that must
 * not open the embedded store a second time (issue 7). Uses Node's fetch; one call per method.
 * Every method throws DaemonApiError for a non-2xx answer (401, 403, 404, 409, 429, ...) and the
 * fetch error (e.g. ECONNREFUSED, AbortError on timeout) when the daemon cannot be reached.
 */
export class DaemonClient {
  constructor(private readonly options: DaemonClientOptions) {}

  /** `GET /api/incidents` with the query parameters given (status, severity, detector, since, until, limit). */
  async listIncidents(filter: Record<string, string> = {}): Promise<IncidentJson[]> {
    const query = new URLSearchParams(filter).toString();
    return (await this.call<{ incidents: IncidentJson[] }>('GET', `/api/incidents${query === '' ? '' : `?${query}`}`)).incidents;
  }

  /** `GET /api/incidents/:id`: the detail shape plus timeline. */
  async getIncident(id: number): Promise<IncidentWithTimelineJson> {
    return this.call('GET', `/api/incidents/${id}`);
  }

  /** `POST /api/incidents/:id/ack|resolve|reopen` with the version seen and an optional note, as the token itself. */
  async act(id: number, action: 'ack' | 'resolve' | 'reopen', version: number, note: string | null = null): Promise<IncidentJson> {
    return (await this.actFor(id, action, version, note, null)).incident;
  }

  /**
   * As `act`, naming the responder an ADMIN token acts for (`onBehalfOf`, e.g. the CLI's `--as`; the
   * daemon ignores it for other roles).
   * @returns the incident after the move and the actor the daemon recorded, e.g. `responder:bob`
   */
  async actFor(id: number, action: 'ack' | 'resolve' | 'reopen', version: number, note: string | null, onBehalfOf: string | null): Promise<{ incident: IncidentJson; actor: string }> {
    const body = { version, ...(note === null ? {} : { note }), ...(onBehalfOf === null ? {} : { on_behalf_of: onBehalfOf }) };
    return this.call<{ incident: IncidentJson; actor: string }>('POST', `/api/incidents/${id}/${action}`, body);
  }

  /** `GET /api/silences`. */
  async listSilences(includeExpired = false): Promise<SilenceJson[]> {
    return (await this.call<{ silences: SilenceJson[] }>('GET', `/api/silences${includeExpired ? '?expired=true' : ''}`)).silences;
  }

  /** `GET /api/tokens` (admin): every token, e.g. `{ name, role, created_at, last_used_at, revoked_at }` (times ISO-8601 or null). */
  async listTokens(): Promise<{ name: string; role: string; created_at: string; last_used_at: string | null; revoked_at: string | null }[]> {
    return (await this.call<{ tokens: { name: string; role: string; created_at: string; last_used_at: string | null; revoked_at: string | null }[] }>('GET', '/api/tokens')).tokens;
  }

  /** `POST /api/tokens` (admin): the new token, shown once. */
  async createToken(name: string, role: 'viewer' | 'responder' | 'admin'): Promise<{ token: string; name: string; role: string }> {
    return this.call('POST', '/api/tokens', { name, role });
  }

  /** `DELETE /api/tokens/:name` (admin). */
  async revokeToken(name: string): Promise<{ name: string; revoked_at: string }> {
    return this.call('DELETE', `/api/tokens/${encodeURIComponent(name)}`);
  }

  private async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.options.baseUrl.replace(/\/+$/, '')}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.options.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
    });
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = null;
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
      throw new DaemonApiError(response.status, error?.code ?? 'unknown', error?.message ?? 'no error body');
    }
    return parsed as T;
  }
}

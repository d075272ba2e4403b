import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the server received. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** raw body text */
  body: string;
  /** the body parsed as JSON, or null when it is not JSON */
  json: unknown;
  /** when it arrived (server's wall clock, ms since epoch) */
  receivedAtMs: number;
  /** the status answered */
  status: number;
}

/** One scripted answer. `hang: true` never answers (a stuck receiver). */
export interface ScriptedResponse {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  hang?: boolean;
}

/**
 * A local HTTP server that answers like Slack's incoming-webhook endpoint (Slack API docs, "Handling
 * errors"): `200 ok` by default, or scripted answers taken in order (`400 invalid_payload`,
 * `429` with `Retry-After`, `500`...). Records every request (headers, body, JSON) for assertions;
 * also serves as a generic webhook target. Listens on 127.0.0.1 on a free port.
 */
export class SlackLikeServer {
  readonly requests: RecordedRequest[] = [];
  private readonly script: ScriptedResponse[] = [];
  private readonly hanging = new Set<import('node:http').ServerResponse>();
  private server: Server | null = null;
  private port = 0;

  /** Queues answers for the next requests (after them, `200 ok`). */
  respondWith(...responses: ScriptedResponse[]): void {
    this.script.push(...responses);
  }

  /** The webhook URL, e.g. `http://127.0.0.1:43121/services/T000/B000/XXXX`. */
  url(path = '/services/T000/B000/XXXXXXXX'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Requests answered 2xx (what "delivered" means to a sender). */
  delivered(): RecordedRequest[] {
    return this.requests.filter((r) => r.status >= 200 && r.status < 300);
  }

  /** Starts listening (a free port, or `port`). */
  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown = null;
        try {
          json = JSON.parse(body);
        } catch {
          json = null;
        }
        const answer = this.script.shift() ?? { status: 200, body: 'ok' };
        this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json, receivedAtMs: Date.now(), status: answer.hang ? 0 : answer.status });
        if (answer.hang) {
          this.hanging.add(res);
          return;
        }
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.body ?? (answer.status === 200 ? 'ok' : ''));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Stops the server, dropping hung connections. */
  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

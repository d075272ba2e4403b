import { Registry } from 'prom-client';
import { z } from 'zod';
import { httpConfigShape, resolveHttpConfig, type HttpConfig } from '../../src/config/http-config.js';
import { resolveIncidentsConfig } from '../../src/config/incidents-config.js';
import { openStore } from '../../src/db/open-store.js';
import type { Store } from '../../src/db/store.js';
import type { Detection } from '../../src/domain/detection.js';
import type { HealthProbe, ReadinessReport } from '../../src/http/health-probe.js';
import { createHttpServer, type HttpServer } from '../../src/http/http-server.js';
import { TokenRepository, type HttpRole } from '../../src/http/token-repository.js';
import { IncidentService } from '../../src/incidents/incident-service.js';
import { SilenceRepository } from '../../src/notify/silence-repository.js';
import { createSilentLogger, type Logger } from '../../src/observe/logger.js';
import { createResponderPorts } from '../../src/pipeline/responder-ports.js';

/** A movable clock: `now()` returns `at`, tests advance it. */
export class TestClock {
  constructor(public at: Date) {}
  readonly now = (): Date => new Date(this.at.getTime());
  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
}

/** A running responder endpoint over an in-memory PGlite store, wired through the real services. */
export interface ResponderFixture {
  store: Store;
  server: HttpServer;
  clock: TestClock;
  incidents: IncidentService;
  registry: Registry;
  /** `viewer`, `responder` (name alice), `admin` (name root) tokens */
  tokens: Record<HttpRole, string>;
  /** the readiness the probe reports; tests flip it */
  readiness: ReadinessReport;
  /** raises incidents from detections (as the pipeline does); returns their ids in order */
  raise(detections: readonly Detection[]): Promise<number[]>;
  close(): Promise<void>;
}

/** Wall clock of the fixtures: 2026-01-01T01:00:00Z (after the detection factory's events). */
export const FIXTURE_START = new Date('2026-01-01T01:00:00.000Z');

/**
 * Opens an in-memory store (all migrations), the real IncidentService and SilenceRepository wired by
 * createResponderPorts, three tokens, and createHttpServer (not listening: use `server.app.inject`,
 * or `listen()` with `http: { listen: '127.0.0.1:0' }`).
 */
export async function startResponder(options: { http?: Record<string, unknown>; logger?: Logger; baseDir?: string; listCacheMs?: number } = {}): Promise<ResponderFixture> {
  const store = await openStore({ memory: true });
  const clock = new TestClock(FIXTURE_START);
  const incidents = new IncidentService(store, { config: resolveIncidentsConfig({}) });
  const ports = createResponderPorts({ store, incidents, planner: null, silences: new SilenceRepository(), now: clock.now });
  const repo = new TokenRepository(store);
  const tokens = {
    viewer: (await repo.create('viewer', 'viewer', clock.now())).token,
    responder: (await repo.create('alice', 'responder', clock.now())).token,
    admin: (await repo.create('root', 'admin', clock.now())).token,
  };
  const registry = new Registry();
  const readiness: ReadinessReport = { ok: true, checks: [{ name: 'store', ok: true, detail: 'reachable' }] };
  const health: HealthProbe = { ready: async () => structuredClone(fixture.readiness) };
  const parsed = z.strictObject(httpConfigShape).parse({ http: { listen: '127.0.0.1:0', ...options.http } });
  const config: HttpConfig = resolveHttpConfig(parsed, options.baseDir ?? process.cwd());
  const server = await createHttpServer(
    { store, ...ports, health, registry, logger: options.logger ?? createSilentLogger(), now: clock.now, listCacheMs: options.listCacheMs ?? 0 },
    config,
  );
  const fixture: ResponderFixture = {
    store,
    server,
    clock,
    incidents,
    registry,
    tokens,
    readiness,
    async raise(detections) {
      const changes = await store.transaction((tx) => incidents.applyDetections(tx, detections, clock.now()));
      return changes.filter((c) => c.kind === 'opened').map((c) => c.incident.id);
    },
    async close() {
      await server.close();
      await store.close();
    },
  };
  return fixture;
}

/** `Authorization` header of a bearer token. */
export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

/**
 * `/readyz` of a running agent: not ready while a configured log folder cannot be read (the source is
 * unhealthy, not merely quiet), ready once it can; `/healthz` stays 200 throughout.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load-config-file.js';
import { createSilentLogger } from '../../src/observe/logger.js';
import { Agent } from '../../src/pipeline/agent.js';

interface Readiness {
  ok: boolean;
  checks: { name: string; ok: boolean; detail: string }[];
}

let dir = '';
let agent: Agent | null = null;
let done: Promise<void> = Promise.resolve();

async function waitFor<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function readyz(url: string): Promise<{ status: number; body: Readiness }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as Readiness };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jaga-agent-ready-'));
  await writeFile(
    join(dir, 'jaga.yaml'),
    [
      'agent: { name: ready-test }',
      'store: { data_dir: data }',
      'sources:',
      '  - { name: crm, type: log_folder, path: logs, format: csvlog, start_at: beginning, server: crm }',
      'http: { listen: "127.0.0.1:0" }',
      'receivers: { ops: { type: file, path: ops.jsonl } }',
      'shutdown_timeout: 20s',
      '',
    ].join('\n'),
  );
  const config = await loadConfigFile(join(dir, 'jaga.yaml'), {}, { requireSources: true });
  agent = new Agent(config, { logger: createSilentLogger(), metricsIntervalMs: 100, rulePollIntervalMs: 60_000 });
  done = agent.start();
  done.catch(() => undefined);
}, 120_000);

afterAll(async () => {
  await agent?.stop(20_000);
  await done.catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('agent readiness', () => {
  it('is not ready while the log folder is missing, and ready once it exists', async () => {
    const url = await waitFor('the HTTP endpoint', async () => agent?.url ?? null, 90_000);
    const missing = await waitFor('a readiness answer naming the source', async () => {
      const answer = await readyz(url);
      return answer.body.checks.some((check) => check.name === 'source:crm') ? answer : null;
    });
    expect(missing.status).toBe(503);
    expect(missing.body.ok).toBe(false);
    expect(missing.body.checks.find((check) => check.name === 'source:crm')).toEqual({ name: 'source:crm', ok: false, detail: 'not readable' });
    expect(missing.body.checks.find((check) => check.name === 'rules')).toEqual({ name: 'rules', ok: true, detail: 'loaded' });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    await mkdir(join(dir, 'logs'));
    const ready = await waitFor('readiness after the folder appeared', async () => {
      const answer = await readyz(url);
      return answer.status === 200 ? answer : null;
    });
    expect(ready.body.ok).toBe(true);
    expect(ready.body.checks.find((check) => check.name === 'source:crm')).toEqual({ name: 'source:crm', ok: true, detail: '0 bytes behind' });
  }, 150_000);
});

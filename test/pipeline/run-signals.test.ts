/**
 * `jaga run` lifecycle as a child process on an embedded store (issue 8): the first SIGTERM drains,
 * commits and exits 0; a second signal forces exit 130; a shutdown past its deadline exits 3; the
 * JSON log lines carry no customer data (the statement literal of the log is never printed).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/db/open-store.js';
import { createSilentLogger } from '../../src/observe/logger.js';
import { JagaProcess } from '../helpers/jaga-cli.js';

const PREFIX = '%m [%p] %q%u@%d %r %a: ';
const SECRET = 'maria.s@example.com';
const running: JagaProcess[] = [];
let root = '';

/** A config in a fresh folder with one log file of audit reads carrying a customer literal. */
async function setup(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(join(dir, 'logs'), { recursive: true });
  const lines = [1, 2, 3].map((s) => `2026-01-01 00:00:0${s}.000 UTC [30${s}] analyst@crm 10.0.0.5(5000) psql: LOG:  AUDIT: SESSION,${s},1,READ,SELECT,TABLE,public.customers,SELECT * FROM customers WHERE email = '${SECRET}',<none>\n`);
  await writeFile(join(dir, 'logs', 'postgresql.log'), lines.join(''));
  await writeFile(
    join(dir, 'jaga.yaml'),
    [
      'store: { data_dir: data }',
      'sources:',
      `  - { name: pg, type: log_folder, path: logs, format: stderr, log_line_prefix: ${JSON.stringify(PREFIX)}, server: crm }`,
      'pipeline: { commit_interval: 100ms }',
      'http: { listen: "127.0.0.1:0" }',
      'receivers: { out: { type: file, path: out.jsonl } }',
      '',
    ].join('\n'),
  );
  return dir;
}

async function start(dir: string, extra: string[] = []): Promise<JagaProcess> {
  const child = new JagaProcess(['run', '--config', join(dir, 'jaga.yaml'), '--log-level', 'debug', ...extra]);
  running.push(child);
  await child.waitUntil(() => child.stderrLines.some((line) => line.includes('"agent_started"')), 'agent_started', 60_000);
  return child;
}

function events(child: JagaProcess): string[] {
  return child.stderrLines.filter((line) => line.startsWith('{')).map((line) => (JSON.parse(line) as { event?: string }).event ?? '');
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'jaga-run-signals-'));
});

afterAll(async () => {
  for (const child of running) await child.kill('SIGKILL');
  if (root !== '') await rm(root, { recursive: true, force: true });
});

describe('jaga run signals', () => {
  it('first SIGTERM: drains, commits the checkpoints, closes and exits 0; no customer literal in any log line', async () => {
    const dir = await setup('graceful');
    const child = await start(dir);
    const committed = (): number =>
      child.stderrLines.filter((line) => line.includes('"event":"pipeline_commit"')).reduce((sum, line) => sum + ((JSON.parse(line) as { events?: number }).events ?? 0), 0);
    await child.waitUntil(() => committed() === 3, 'the commits of the 3 events', 30_000);
    expect(await child.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const seen = events(child);
    expect(seen.indexOf('shutdown_requested')).toBeGreaterThan(seen.indexOf('agent_started'));
    expect(seen.at(-1)).toBe('agent_stopped');
    expect(child.stderrLines.join('\n')).not.toContain(SECRET);
    const store = await openStore({ dataDir: join(dir, 'data'), logger: createSilentLogger() });
    try {
      const rows = await store.query<{ source_id: string; byte_offset: string | number }>('SELECT source_id, byte_offset FROM jaga_checkpoint');
      expect(rows.map((r) => [r.source_id, Number(r.byte_offset)])).toEqual([['jaga/pg', 3 * 194]]);
    } finally {
      await store.close();
    }
  }, 120_000);

  it('a second signal during the shutdown forces exit 130', async () => {
    const child = await start(await setup('forced'));
    process.kill(child.pid, 'SIGTERM');
    process.kill(child.pid, 'SIGINT');
    expect(await child.exited).toEqual({ code: 130, signal: null });
    expect(events(child)).toContain('shutdown_forced');
  }, 120_000);

  it('a shutdown that takes longer than its deadline exits 3', async () => {
    const child = await start(await setup('deadline'), ['--shutdown-deadline-ms', '1']);
    expect(await child.kill('SIGTERM')).toEqual({ code: 3, signal: null });
    expect(events(child)).toContain('shutdown_deadline_passed');
  }, 120_000);
});

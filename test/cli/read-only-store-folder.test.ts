/**
 * Read-only (and updating) commands on the embedded store never create one: a mistyped --data-dir, or a
 * folder without `pglite/`, is refused with exit 2 and a message naming the option, and nothing is created.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentsCommand } from '../../src/cli/incidents-command.js';
import { main } from '../../src/cli/main.js';
import { reportCommand } from '../../src/cli/report-command.js';
import { openStore } from '../../src/db/open-store.js';

const HINT = 'check the path (only jaga run and jaga demo create a store)';
const sink = (): PassThrough => new PassThrough();

async function messageOf(run: Promise<number>): Promise<string> {
  const error = await run.then(
    (code) => new Error(`expected a refusal, got exit ${code}`),
    (e: unknown) => e as Error,
  );
  return error.message;
}

describe('commands that need an existing embedded store', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jaga-ro-store-'));
    await mkdir(join(dir, 'empty'));
    const store = await openStore({ dataDir: join(dir, 'real') });
    await store.close();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('jaga incidents list, show and export refuse a --data-dir that does not exist, and do not create it', async () => {
    const missing = join(dir, 'typo');
    for (const args of [['list'], ['show', '1'], ['export'], ['ack', '1', '--as', 'bob']]) {
      expect(await messageOf(incidentsCommand([...args, '--data-dir', missing], { stdout: sink(), stderr: sink() }))).toBe(`--data-dir ${missing}: the folder does not exist: ${HINT}`);
    }
    expect(existsSync(missing)).toBe(false);
  });

  it('jaga incidents refuses a folder without a store inside, and names store.data_dir of --config when it comes from there', async () => {
    expect(await messageOf(incidentsCommand(['list', '--data-dir', join(dir, 'empty')], { stdout: sink(), stderr: sink() }))).toBe(
      `--data-dir ${join(dir, 'empty')}: holds no jaga store (no pglite/ folder): ${HINT}`,
    );
    expect(await readdir(join(dir, 'empty'))).toEqual([]);
    const config = join(dir, 'jaga.yaml');
    await writeFile(config, 'store: { data_dir: ./nowhere }\n');
    expect(await messageOf(incidentsCommand(['list', '--config', config], { stdout: sink(), stderr: sink() }))).toBe(
      `store.data_dir of ${config} ${join(dir, 'nowhere')}: the folder does not exist: ${HINT}`,
    );
  });

  it('jaga report access refuses a missing --data-dir; main exits 2', async () => {
    const missing = join(dir, 'typo2');
    expect(await messageOf(reportCommand(['access', '--data-dir', missing], { stdout: sink(), stderr: sink() }))).toBe(`--data-dir ${missing}: the folder does not exist: ${HINT}`);
    const stderrWrite = process.stderr.write.bind(process.stderr);
    const written: string[] = [];
    process.stderr.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stderr.write;
    try {
      expect(await main(['incidents', 'list', '--data-dir', missing])).toBe(2);
    } finally {
      process.stderr.write = stderrWrite;
    }
    expect(written.join('')).toBe(`jaga incidents: --data-dir ${missing}: the folder does not exist: ${HINT}\n`);
    expect(existsSync(missing)).toBe(false);
  });

  it('still opens an existing store: list on it prints nothing and exits 0', async () => {
    const out = sink();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString()));
    expect(await incidentsCommand(['list', '--data-dir', join(dir, 'real')], { stdout: out, stderr: sink() })).toBe(0);
    expect(chunks.join('')).toBe('');
  });
});

import { stat } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { tokenCommand } from '../../src/cli/token-command.js';
import { CliError } from '../../src/cli/cli-error.js';
import { openStore } from '../../src/db/open-store.js';
import { TokenRepository } from '../../src/http/token-repository.js';
import { useStoreHarness } from '../db/store-harness.js';
import { runJaga } from '../helpers/jaga-cli.js';

const harness = useStoreHarness({ pg: false });

/** Runs `jaga token ARGS` in-process; returns exit code and outputs. */
async function token(args: string[], at = '2026-01-01T00:00:00.000Z'): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  err.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const code = await tokenCommand(args, { stdout: out, stderr: err, now: () => new Date(at) });
  return { code, stdout, stderr };
}

describe('jaga token', () => {
  it('creates a token shown once, lists it without the secret, revokes it by name, and audits both', async () => {
    const { dataDir } = await harness.target('pglite');
    const created = await token(['create', '--name', 'alice', '--role', 'responder', '--data-dir', dataDir!]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^jaga_[A-Za-z0-9_-]{43}\n$/);
    expect(created.stderr).toBe('token alice (responder) created; it is shown only this once\n');
    const taken = await token(['create', '--name', 'alice', '--role', 'admin', '--data-dir', dataDir!]);
    expect([taken.code, taken.stderr]).toEqual([1, 'jaga token: a live token is already named alice: revoke it first or choose another name\n']);
    const listed = await token(['list', '--data-dir', dataDir!]);
    expect(listed.stdout).toBe('{"name":"alice","role":"responder","created_at":"2026-01-01T00:00:00.000Z","last_used_at":null,"revoked_at":null}\n');
    expect(listed.stdout).not.toContain(created.stdout.trim());
    const revoked = await token(['revoke', 'alice', '--data-dir', dataDir!], '2026-01-02T00:00:00.000Z');
    expect([revoked.code, JSON.parse(revoked.stdout).revoked_at]).toEqual([0, '2026-01-02T00:00:00.000Z']);
    expect((await token(['revoke', 'alice', '--data-dir', dataDir!])).code).toBe(1);
    const store = await openStore({ dataDir: dataDir! });
    try {
      expect(await new TokenRepository(store).authenticate(created.stdout.trim(), new Date())).toBeNull();
      expect(await store.query('SELECT actor, action, target FROM jaga_admin_audit ORDER BY id')).toEqual([
        { actor: 'cli', action: 'token_create', target: 'token:alice' },
        { actor: 'cli', action: 'token_revoke', target: 'token:alice' },
      ]);
    } finally {
      await store.close();
    }
  });

  it('refuses bad usage with a CliError naming the problem', async () => {
    await expect(token(['create', '--name', 'a', '--role', 'root', '--data-dir', '/tmp/x'])).rejects.toThrow(new CliError('unknown role "root": --role is viewer, responder or admin'));
    await expect(token(['create', '--name', 'a', '--data-dir', '/tmp/x'])).rejects.toThrow(new CliError('create needs --role viewer, responder or admin'));
    await expect(token(['list'])).rejects.toThrow(new CliError('give exactly one of --store URL and --data-dir DIR'));
    await expect(token(['rotate', '--data-dir', '/tmp/x'])).rejects.toThrow(new CliError('give a subcommand: create, list or revoke (see --help)'));
  });

  it('list and revoke refuse a --data-dir without a store instead of creating one (exit 2)', async () => {
    const missing = '/tmp/jaga-token-test-missing-folder';
    const hint = 'check the path (only jaga run and jaga demo create a store)';
    await expect(token(['list', '--data-dir', missing])).rejects.toThrow(new CliError(`--data-dir ${missing}: the folder does not exist: ${hint}`));
    await expect(token(['revoke', 'alice', '--data-dir', missing])).rejects.toThrow(new CliError(`--data-dir ${missing}: the folder does not exist: ${hint}`));
    await expect(stat(missing)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a --store that is not a PostgreSQL URL before connecting', async () => {
    await expect(token(['create', '--name', 'a', '--role', 'viewer', '--store', 'mysql://u:pw@db.invalid/jaga'])).rejects.toThrow('store: expected a PostgreSQL URL');
    await expect(openStore({ url: 'postgres://' })).rejects.toThrow('store: expected a PostgreSQL URL');
  });

  it('is registered in the jaga CLI', async () => {
    const run = await runJaga(['token', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('usage: jaga token create --name NAME --role viewer|responder|admin (--store URL | --data-dir DIR)');
  });
});

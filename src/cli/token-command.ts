import { parseArgs } from 'node:util';
import { openStore } from '../db/open-store.js';
import { StoreError } from '../domain/errors.js';
import { AdminAuditLog } from '../http/admin-audit-log.js';
import { HTTP_ROLES, type HttpRole, TokenNameTakenError, type TokenRecord, TokenRepository } from '../http/token-repository.js';
import { readDaemonHandle } from '../pipeline/daemon-handle.js';
import { argumentsError, CliError } from './cli-error.js';
import { DaemonApiError, DaemonClient } from './daemon-client.js';
import { requireExistingStoreFolder } from './existing-store-folder.js';

const HELP = `usage: jaga token create --name NAME --role viewer|responder|admin (--store URL | --data-dir DIR)
       jaga token list (--store URL | --data-dir DIR)
       jaga token revoke NAME (--store URL | --data-dir DIR)

Manages the bearer tokens of the responder HTTP API and web page. A token is shown ONCE, when
created (stdout, one line); the store keeps only its SHA-256. Roles: viewer reads, responder also
acknowledges, resolves, reopens and silences, admin also manages tokens and rotates link keys.
\`list\` prints one JSON object per token ({"name","role","created_at","last_used_at","revoked_at"}).
Every create and revoke is written to the admin audit log with actor "cli". While a jaga daemon
holds the embedded store of --data-dir, the command goes through its HTTP API instead (with the
local admin token the daemon leaves in DIR/daemon.json, mode 0600; audit actor responder:local-cli).

  --store      PostgreSQL URL of jaga's store
  --data-dir   jaga's data folder (embedded store)
`;

/** What `tokenCommand` writes to (tests inject them) and its clock. */
export interface TokenCommandDeps {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  now?: () => Date;
}

function recordJson(record: TokenRecord): string {
  return JSON.stringify({
    name: record.name,
    role: record.role,
    created_at: record.createdAt.toISOString(),
    last_used_at: record.lastUsedAt?.toISOString() ?? null,
    revoked_at: record.revokedAt?.toISOString() ?? null,
  });
}

/**
 * `jaga token create|list|revoke` (issue 7, see HELP).
 * @param args the arguments after `token`
 * @returns exit code: 0 done, 1 nothing to revoke or the name is taken
 * @throws CliError for bad usage or a store that cannot be opened (main prints it, exit 2)
 */
export async function tokenCommand(args: string[], deps: TokenCommandDeps = {}): Promise<number> {
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  const now = deps.now ?? (() => new Date());
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        role: { type: 'string' },
        store: { type: 'string' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw argumentsError(error);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    stdout.write(HELP);
    return 0;
  }
  const [sub, ...rest] = positionals;
  if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') throw new CliError('give a subcommand: create, list or revoke (see --help)');
  if ((values.store === undefined) === (values['data-dir'] === undefined)) throw new CliError('give exactly one of --store URL and --data-dir DIR');
  if (sub === 'create') {
    if (values.name === undefined) throw new CliError('create needs --name NAME');
    if (!HTTP_ROLES.includes(values.role as HttpRole)) {
      throw new CliError(values.role === undefined ? 'create needs --role viewer, responder or admin' : `unknown role "${values.role}": --role is viewer, responder or admin`);
    }
  }
  if (sub === 'revoke' && rest.length !== 1) throw new CliError('revoke needs exactly one NAME');
  if (sub !== 'revoke' && rest.length > 0) throw new CliError(`unexpected argument ${rest[0]}`);

  // list and revoke only read or update tokens: a mistyped --data-dir must not become a fresh, empty store
  if (sub !== 'create' && values['data-dir'] !== undefined) await requireExistingStoreFolder(values['data-dir'], '--data-dir');
  let store;
  try {
    store = await openStore({ url: values.store, dataDir: values['data-dir'] });
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    const handle = values['data-dir'] === undefined ? null : await readDaemonHandle(values['data-dir']).catch(() => null);
    if (handle === null) throw new CliError(`cannot open the store: ${error.message}`);
    return viaDaemon(new DaemonClient({ baseUrl: handle.url, token: handle.token }), sub, values.name ?? rest[0] ?? '', values.role as HttpRole, stdout, stderr);
  }
  try {
    const tokens = new TokenRepository(store);
    const audit = new AdminAuditLog(store);
    if (sub === 'list') {
      for (const record of await tokens.list()) stdout.write(`${recordJson(record)}\n`);
      return 0;
    }
    if (sub === 'create') {
      try {
        const { token, record } = await store.transaction(async (tx) => {
          const created = await tokens.create(values.name as string, values.role as HttpRole, now(), tx);
          await audit.record({ at: now(), actor: 'cli', action: 'token_create', target: `token:${created.record.name}`, detail: { role: created.record.role } }, tx);
          return created;
        });
        stdout.write(`${token}\n`);
        stderr.write(`token ${record.name} (${record.role}) created; it is shown only this once\n`);
        return 0;
      } catch (error) {
        if (error instanceof TokenNameTakenError) {
          stderr.write(`jaga token: ${error.message}\n`);
          return 1;
        }
        if (error instanceof RangeError) throw new CliError(error.message);
        throw error;
      }
    }
    const name = rest[0] as string;
    const revoked = await store.transaction(async (tx) => {
      const record = await tokens.revoke(name, now(), tx);
      if (record !== null) await audit.record({ at: now(), actor: 'cli', action: 'token_revoke', target: `token:${record.name}`, detail: { role: record.role } }, tx);
      return record;
    });
    if (revoked === null) {
      stderr.write(`jaga token: no live token is named ${name}\n`);
      return 1;
    }
    stdout.write(`${recordJson(revoked)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

/**
 * The same subcommands through a running daemon's API (the embedded store is locked by it).
 * @returns 0 done, 1 name taken / nothing to revoke
 * @throws CliError when the daemon does not answer or refuses the token
 */
async function viaDaemon(client: DaemonClient, sub: 'create' | 'list' | 'revoke', name: string, role: HttpRole, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<number> {
  try {
    if (sub === 'list') {
      for (const token of await client.listTokens()) stdout.write(`${JSON.stringify(token)}\n`);
      return 0;
    }
    if (sub === 'create') {
      const created = await client.createToken(name, role);
      stdout.write(`${created.token}\n`);
      stderr.write(`token ${created.name} (${created.role}) created; it is shown only this once\n`);
      return 0;
    }
    const revoked = await client.revokeToken(name);
    stdout.write(`${JSON.stringify(revoked)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof DaemonApiError && (error.status === 409 || error.status === 404)) {
      stderr.write(`jaga token: ${error.status === 404 ? `no live token is named ${name}` : error.message}\n`);
      return 1;
    }
    throw new CliError(`the store is held by a daemon that did not do it: ${(error as Error).message}`);
  }
}

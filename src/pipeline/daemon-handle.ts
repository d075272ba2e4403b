import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../db/store.js';
import { AdminAuditLog } from '../http/admin-audit-log.js';
import { TokenRepository } from '../http/token-repository.js';

/** File in the embedded store's data folder where a running daemon says how the local CLI reaches it. */
export const DAEMON_HANDLE_FILE = 'daemon.json';

/** Name of the admin token a daemon issues for the local CLI (revoked and issued again at each start). */
export const LOCAL_CLI_TOKEN_NAME = 'local-cli';

/**
 * What `daemon.json` holds (mode 0600: the token is an admin bearer token), e.g.
 * `{"url":"http://127.0.0.1:7887","token":"jaga_…","pid":4242,"agent":"jaga","started_at":"2026-01-01T00:00:00.000Z"}`.
 */
export interface DaemonHandle {
  /** the daemon's HTTP base URL (its listen address) */
  url: string;
  /** the admin token named `local-cli` */
  token: string;
  pid: number;
  agent: string;
  started_at: string;
}

/**
 * Issues the local CLI's admin token in the store: the previous `local-cli` token (of an earlier
 * run, perhaps killed) is revoked and a new one created, in one transaction, both written to the
 * admin audit log with actor `daemon`.
 * @returns the token text (shown nowhere but the 0600 handle file)
 * @throws StoreError
 */
export async function issueLocalCliToken(store: Store, now: Date): Promise<string> {
  const tokens = new TokenRepository(store);
  const audit = new AdminAuditLog(store);
  return store.transaction(async (tx) => {
    const revoked = await tokens.revoke(LOCAL_CLI_TOKEN_NAME, now, tx);
    if (revoked !== null) await audit.record({ at: now, actor: 'daemon', action: 'token_revoke', target: `token:${LOCAL_CLI_TOKEN_NAME}`, detail: { role: revoked.role } }, tx);
    const { token } = await tokens.create(LOCAL_CLI_TOKEN_NAME, 'admin', now, tx);
    await audit.record({ at: now, actor: 'daemon', action: 'token_create', target: `token:${LOCAL_CLI_TOKEN_NAME}`, detail: { role: 'admin' } }, tx);
    return token;
  });
}

/** Revokes the local CLI's token (at a clean stop). @throws StoreError */
export async function revokeLocalCliToken(store: Store, now: Date): Promise<void> {
  await new TokenRepository(store).revoke(LOCAL_CLI_TOKEN_NAME, now);
}

/**
 * Writes `<dataDir>/daemon.json` with mode 0600 (created 0600 under a temporary name, then renamed
 * over any old one, so no reader ever sees a partial or world-readable file).
 * @throws the file system error
 */
export async function writeDaemonHandle(dataDir: string, handle: DaemonHandle): Promise<void> {
  const path = join(dataDir, DAEMON_HANDLE_FILE);
  const temporary = `${path}.${process.pid}.tmp`;
  const file = await open(temporary, 'w', 0o600);
  try {
    await file.chmod(0o600);
    await file.writeFile(`${JSON.stringify(handle)}\n`);
  } finally {
    await file.close();
  }
  await rename(temporary, path);
}

/** Deletes `<dataDir>/daemon.json` (missing is fine). */
export async function removeDaemonHandle(dataDir: string): Promise<void> {
  await rm(join(dataDir, DAEMON_HANDLE_FILE), { force: true });
}

/**
 * Reads `<dataDir>/daemon.json`.
 * @returns the handle, or null when the file is missing or not a handle (a stale or foreign file)
 */
export async function readDaemonHandle(dataDir: string): Promise<DaemonHandle | null> {
  let text: string;
  try {
    text = await readFile(join(dataDir, DAEMON_HANDLE_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const value = JSON.parse(text) as Partial<DaemonHandle>;
    if (typeof value.url !== 'string' || typeof value.token !== 'string') return null;
    return { url: value.url, token: value.token, pid: Number(value.pid), agent: String(value.agent ?? ''), started_at: String(value.started_at ?? '') };
  } catch {
    return null;
  }
}

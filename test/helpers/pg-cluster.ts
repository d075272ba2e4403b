import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** Where Debian puts the PostgreSQL 15 server binaries (package postgresql-15). */
export const PG_BIN = process.env.JAGA_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** The `log_line_prefix` the test clusters use (the corpus's own). */
export const TEST_LOG_LINE_PREFIX = '%m [%p] %q%u@%d %r %a: ';

/** Superuser password of test clusters (loopback only, thrown away after the test file). */
export const TEST_SUPERUSER_PASSWORD = 'jaga-test-superuser';

/** Options for a throwaway cluster. */
export interface PgClusterOptions {
  /** the server's `log_timezone` (and `timezone`), IANA name; default `UTC` */
  timezone?: string;
  /** extra postgresql.conf settings (value written verbatim, quote strings yourself: `"'10MB'"`) */
  settings?: Record<string, string>;
}

/** A running throwaway PostgreSQL 15 cluster with pgaudit, logging to stderr, csvlog and jsonlog. */
export interface PgCluster {
  host: '127.0.0.1';
  port: number;
  /** the cluster's data directory (owned by the `postgres` OS user when running as root) */
  dataDir: string;
  /** absolute log folder holding postgresql-*.log, *.csv and *.json */
  logDir: string;
  log_line_prefix: string;
  /** connection URL for a role (default the superuser `postgres`) and database (default `postgres`) */
  url(options?: { user?: string; password?: string; database?: string; applicationName?: string }): string;
  /** runs SQL as the superuser on `database` (default postgres) and returns the rows */
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[], database?: string): Promise<T[]>;
  /** forces a log file switch (`pg_rotate_logfile()`) */
  rotateLogs(): Promise<void>;
  /** log files currently in logDir, sorted by name, absolute paths */
  logFiles(extension: '.log' | '.csv' | '.json'): Promise<string[]>;
  /** stops the server (fast shutdown) and deletes its folders */
  stop(): Promise<void>;
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a server binary, as the `postgres` OS user when this process is root (initdb refuses root). */
async function pgRun(binary: string, args: string[]): Promise<string> {
  const path = join(PG_BIN, binary);
  const { stdout } = isRoot()
    ? await run('runuser', ['-u', 'postgres', '--', path, ...args], { cwd: '/' })
    : await run(path, args, { cwd: '/' });
  return stdout;
}

/** A TCP port free on 127.0.0.1 at the time of the call. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a throwaway PostgreSQL 15 cluster with pgaudit preloaded, listening on 127.0.0.1 only
 * (a free port; SCRAM passwords for TCP), logging to a temp folder in stderr, csvlog and jsonlog at
 * once, with the corpus's pgaudit settings (`read,write,role,ddl,misc`, log_relation, log_parameter,
 * log_rows) and connection logging. Share one per test file (`beforeAll`/`afterAll`).
 *
 * @throws Error with the missing package's install command when postgresql-15 or pgaudit is absent.
 */
export async function startPgCluster(options: PgClusterOptions = {}): Promise<PgCluster> {
  const timezone = options.timezone ?? 'UTC';
  const root = await mkdtemp(join(tmpdir(), 'jaga-pg-'));
  const dataDir = join(root, 'data');
  const logDir = join(root, 'log');
  const socketDir = join(root, 'sock');
  await mkdir(logDir);
  await mkdir(socketDir);
  const pwFile = join(root, 'pw');
  await writeFile(pwFile, `${TEST_SUPERUSER_PASSWORD}\n`);
  if (isRoot()) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const uid = Number(stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    for (const path of [root, logDir, socketDir, pwFile]) await chown(path, uid, gid);
  }
  await chmod(root, 0o755);
  try {
    await pgRun('initdb', ['-D', dataDir, '-U', 'postgres', `--pwfile=${pwFile}`, '--encoding=UTF8', '--locale=C.UTF-8', '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync']);
  } catch (error) {
    throw new Error(`initdb failed (is postgresql-15 installed? apt-get install -y postgresql-15-pgaudit): ${String(error)}`);
  }
  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: "'127.0.0.1'",
    port: String(port),
    unix_socket_directories: `'${socketDir}'`,
    shared_preload_libraries: "'pgaudit'",
    password_encryption: "'scram-sha-256'",
    lc_messages: "'C'",
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    logging_collector: 'on',
    log_destination: "'stderr,csvlog,jsonlog'",
    log_directory: `'${logDir}'`,
    log_filename: "'postgresql-%Y-%m-%d_%H%M%S.log'",
    log_file_mode: '0644',
    log_rotation_size: "'10MB'",
    log_rotation_age: "'1d'",
    log_line_prefix: `'${TEST_LOG_LINE_PREFIX}'`,
    log_timezone: `'${timezone}'`,
    timezone: `'${timezone}'`,
    log_connections: 'on',
    log_disconnections: 'on',
    'pgaudit.log': "'read,write,role,ddl,misc'",
    'pgaudit.log_relation': 'on',
    'pgaudit.log_parameter': 'on',
    'pgaudit.log_rows': 'on',
    ...options.settings,
  };
  const conf = Object.entries(settings).map(([k, v]) => `${k} = ${v}`).join('\n');
  await writeFile(join(dataDir, 'postgresql.auto.conf'), `${conf}\n`);
  if (isRoot()) {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    await chown(join(dataDir, 'postgresql.auto.conf'), uid, gid);
  }
  try {
    await pgRun('pg_ctl', ['-D', dataDir, '-w', '-t', '60', '-l', join(root, 'startup.log'), 'start']);
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw new Error(`pg_ctl start failed (pgaudit missing? apt-get install -y postgresql-15-pgaudit): ${String(error)}`);
  }

  const url: PgCluster['url'] = (o = {}) => {
    const user = encodeURIComponent(o.user ?? 'postgres');
    const password = encodeURIComponent(o.password ?? TEST_SUPERUSER_PASSWORD);
    const app = o.applicationName ? `?application_name=${encodeURIComponent(o.applicationName)}` : '';
    return `postgres://${user}:${password}@127.0.0.1:${port}/${o.database ?? 'postgres'}${app}`;
  };
  const query: PgCluster['query'] = async (sql, params, database) => {
    const client = new pg.Client({ connectionString: url({ database: database ?? 'postgres', applicationName: 'jaga-test-setup' }) });
    await client.connect();
    try {
      const result = await client.query(sql, params as unknown[] | undefined);
      return result.rows as never[];
    } finally {
      await client.end();
    }
  };
  await query('CREATE EXTENSION IF NOT EXISTS pgaudit');

  let stopped = false;
  return {
    host: '127.0.0.1',
    port,
    dataDir,
    logDir,
    log_line_prefix: TEST_LOG_LINE_PREFIX,
    url,
    query,
    async rotateLogs() {
      await query('SELECT pg_rotate_logfile()');
    },
    async logFiles(extension) {
      const names = (await readdir(logDir)).filter((n) => n.endsWith(extension)).sort();
      return names.map((n) => join(logDir, n));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await pgRun('pg_ctl', ['-D', dataDir, '-w', '-t', '60', '-m', 'fast', 'stop']);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    },
  };
}

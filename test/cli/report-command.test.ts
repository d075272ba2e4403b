import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/cli-error.js';
import { reportCommand } from '../../src/cli/report-command.js';
import { AccessLedgerRepository } from '../../src/db/access-ledger-repository.js';
import { openStore } from '../../src/db/open-store.js';
import { writeSyntheticHistory } from '../../src/demo/synthetic-history.js';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { ConfigError } from '../../src/domain/errors.js';
import type { AccessLedgerDelta } from '../../src/domain/access-ledger.js';
import { parseLogFile } from '../helpers/parse-log-file.js';

const CORPUS = fileURLToPath(new URL('../../../shared/corpus/pg15-pgaudit/', import.meta.url));
const CONFIG = fileURLToPath(new URL('../../examples/crm/jaga.yaml', import.meta.url));

/** A writable that keeps what is written. */
function capture(): NodeJS.WritableStream & { text: () => string } {
  const parts: string[] = [];
  return {
    write(chunk: string | Uint8Array): boolean {
      parts.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    },
    text: () => parts.join(''),
  } as unknown as NodeJS.WritableStream & { text: () => string };
}

async function report(args: string[], now?: Date): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = capture();
  const stderr = capture();
  const code = await reportCommand(args, { stdout, stderr, ...(now ? { now } : {}) });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/**
 * Counts straight from parsed events, without the ledger code: audit entries of `role` from
 * `client` on `day` whose object is `relation`, or which name no object and whose statement is a
 * COPY / TRUNCATE / DROP of that table; READ → reads, WRITE/DDL → changes.
 */
function countFromLog(events: readonly AccessEvent[], key: { day: string; role: string; relation: string; client: string }): { reads: number; rowsRead: number; changes: number; rowsChanged: number } {
  const table = key.relation.split('.')[1] as string;
  const objectless = new RegExp(`^(COPY|TRUNCATE( TABLE)?|DROP TABLE( IF EXISTS)?)\\s+(public\\.)?${table}\\b`, 'i');
  const out = { reads: 0, rowsRead: 0, changes: 0, rowsChanged: 0 };
  for (const e of events) {
    if (e.kind !== 'audit' || e.audit === null || e.user !== key.role || e.client_addr !== key.client || e.time.slice(0, 10) !== key.day) continue;
    const names = e.audit.object_name === key.relation || (e.audit.object_name === null && objectless.test(e.audit.statement.trim()));
    if (!names) continue;
    if (e.audit.class === 'READ') {
      out.reads += 1;
      out.rowsRead += e.audit.rows ?? 0;
    } else if (e.audit.class === 'WRITE' || e.audit.class === 'DDL') {
      out.changes += 1;
      out.rowsChanged += e.audit.rows ?? 0;
    }
  }
  return out;
}

interface CsvLine {
  day: string;
  role: string;
  table: string;
  client: string;
  data_classes: string;
  read_statements: string;
  rows_read: string;
  change_statements: string;
  rows_changed: string;
  commands: string;
  new: string;
}

describe('jaga report access on 3 weeks of synthetic history + the corpus attack run', () => {
  let dir: string;
  let logFile: string;
  let events: AccessEvent[];
  let csv: { code: number; stdout: string; stderr: string };
  let markdown: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jaga-report-'));
    await mkdir(join(dir, 'crm'));
    logFile = join(dir, 'crm', 'history.csv');
    await writeSyntheticHistory(logFile, { corpusDir: CORPUS, seed: 5, weeks: 3, endAt: new Date('2026-11-29T17:17:16.517Z'), maxEvents: 30_000, includeCorpusRun: true });
    events = (await parseLogFile(logFile, { format: 'csvlog', server: 'crm' })).events;
    csv = await report(['access', '--since', '7d', '--format', 'csv', '--config', CONFIG, '--logs', logFile]);
    markdown = await report(['access', '--since', '7d', '--config', CONFIG, '--logs', logFile]);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const lines = (): CsvLine[] => {
    const [header, ...rest] = csv.stdout.trimEnd().split('\n');
    const names = (header as string).split(',') as (keyof CsvLine)[];
    return rest.map((line) => Object.fromEntries(line.split(',').map((v, i) => [names[i], v])) as unknown as CsvLine);
  };

  it('exits 0, reads every record without failures and ends the period at the newest event`s day', () => {
    expect(csv.code).toBe(0);
    expect(markdown.code).toBe(0);
    const summary = JSON.parse(csv.stderr) as { files: number; records: number; events: number; failures: number };
    expect(summary.files).toBe(1);
    expect(summary.failures).toBe(0);
    expect(summary.events).toBe(events.length);
    expect(markdown.stdout).toContain('- Period: 2026-11-23 to 2026-11-29 (7 days, UTC)\n- Compared with: 2026-11-16 to 2026-11-22\n');
    expect(csv.stdout.split('\n')[0]).toBe('day,role,table,client,data_classes,read_statements,rows_read,change_statements,rows_changed,commands,new');
  });

  it('lists as new exactly the attack day`s unusual role/table/client pairs (A6, A9, the outsider on 127.0.0.2, A3`s backdoor)', () => {
    const fresh = [...new Set(lines().filter((l) => l.new === 'true').map((l) => `${l.role} ${l.table} ${l.client}`))].sort();
    expect(fresh).toEqual([
      'analyst public.customers 127.0.0.3',
      'backdoor public.customers 127.0.0.2',
      'dba_admin public.customers 127.0.0.2',
      'dba_admin public.customers_backup_2023 127.0.0.2',
      'dba_admin public.payments 127.0.0.2',
      'dba_admin public.support_tickets 127.0.0.2',
      'dormant_ops public.payments 127.0.0.1',
    ]);
    const section = markdown.stdout.slice(markdown.stdout.indexOf('## New since the previous period'), markdown.stdout.indexOf('## By role'));
    expect(section.startsWith('## New since the previous period (7)')).toBe(true);
    expect(section).toContain('| analyst | public.customers | 127.0.0.3 |');
    expect(section).toContain('| dormant_ops | public.payments | 127.0.0.1 |');
    // A2 (support_sari's bulk read) uses her usual table and client: a volume anomaly, not a new pair
    expect(section).not.toContain('support_sari');
  });

  it('gives the same rows and statements per day as a count made directly from the log', () => {
    const checked = [
      { day: '2026-11-29', role: 'analyst', relation: 'public.customers', client: '127.0.0.3' },
      { day: '2026-11-29', role: 'dormant_ops', relation: 'public.payments', client: '127.0.0.1' },
      { day: '2026-11-29', role: 'dba_admin', relation: 'public.payments', client: '127.0.0.2' },
      { day: '2026-11-29', role: 'support_sari', relation: 'public.customers', client: '127.0.0.1' },
      { day: '2026-11-29', role: 'app_web', relation: 'public.customers', client: '127.0.0.1' },
      { day: '2026-11-24', role: 'app_web', relation: 'public.customers', client: '127.0.0.1' },
      { day: '2026-11-25', role: 'support_budi', relation: 'public.support_tickets', client: '127.0.0.1' },
      { day: '2026-11-26', role: 'analyst', relation: 'public.payments', client: '127.0.0.1' },
    ];
    const all = lines();
    for (const key of checked) {
      const line = all.find((l) => l.day === key.day && l.role === key.role && l.table === key.relation && l.client === key.client);
      const direct = countFromLog(events, key);
      expect(direct.reads + direct.changes, `${JSON.stringify(key)} has entries in the log`).toBeGreaterThan(0);
      expect({ key, reads: Number(line?.read_statements), rowsRead: Number(line?.rows_read), changes: Number(line?.change_statements), rowsChanged: Number(line?.rows_changed) }).toEqual({ key, ...direct });
    }
    // the attack's own numbers, as the corpus README states them
    const dba = all.find((l) => l.day === '2026-11-29' && l.role === 'dba_admin' && l.table === 'public.payments');
    expect([dba?.change_statements, dba?.rows_changed, dba?.commands]).toEqual(['1', '19303', 'DELETE=1']);
    const sari = all.find((l) => l.day === '2026-11-29' && l.role === 'support_sari' && l.table === 'public.customers');
    expect(sari?.commands).toMatch(/(^|;)COPY=1(;|$)/);
  });

  it('counts nothing for uncatalogued tables', () => {
    expect(lines().filter((l) => l.table === 'public.orders')).toEqual([]);
  });
});

describe('jaga report access on a persisted ledger (--data-dir)', () => {
  let dir: string;
  const delta = (overrides: Partial<AccessLedgerDelta>): AccessLedgerDelta => ({
    server: 'crm',
    day: '2026-11-20',
    role: 'analyst',
    relation: 'public.customers',
    clientAddr: '127.0.0.1',
    dataClasses: ['pii'],
    readStatements: 4,
    rowsRead: 40,
    changeStatements: 0,
    rowsChanged: 0,
    commands: { SELECT: 4 },
    firstSeen: '2026-11-20T10:00:00.000Z',
    lastSeen: '2026-11-20T11:00:00.000Z',
    ...overrides,
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jaga-report-store-'));
    const store = await openStore({ dataDir: join(dir, 'data') });
    try {
      await store.transaction((tx) =>
        new AccessLedgerRepository(store).apply(tx, [
          delta({}),
          delta({ day: '2026-11-28' }),
          delta({ day: '2026-11-28', role: 'dormant_ops', relation: 'public.payments', rowsRead: 2001, readStatements: 2, commands: { SELECT: 2 } }),
          delta({ day: '2026-11-28', server: 'other', role: 'app_web', clientAddr: '10.0.0.5' }),
        ]),
      );
    } finally {
      await store.close();
    }
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports the period ending today, comparing with the one before, filtered by server', async () => {
    const out = await report(['access', '--since', '7d', '--server', 'crm', '--format', 'csv', '--data-dir', join(dir, 'data')], new Date('2026-11-29T08:00:00Z'));
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(
      [
        'day,role,table,client,data_classes,read_statements,rows_read,change_statements,rows_changed,commands,new',
        '2026-11-28,analyst,public.customers,127.0.0.1,pii,4,40,0,0,SELECT=4,false',
        '2026-11-28,dormant_ops,public.payments,127.0.0.1,pii,2,2001,0,0,SELECT=2,true',
        '',
      ].join('\n'),
    );
  });

  it('accepts the last day of a year and a leap day as --until', async () => {
    const yearEnd = await report(['access', '--since', '34d', '--server', 'crm', '--format', 'csv', '--until', '2026-12-31', '--data-dir', join(dir, 'data')]);
    expect([yearEnd.code, yearEnd.stderr]).toEqual([0, '']);
    expect(yearEnd.stdout).toBe(
      [
        'day,role,table,client,data_classes,read_statements,rows_read,change_statements,rows_changed,commands,new',
        // the previous 34 days (2026-10-25..2026-11-27) hold analyst's 2026-11-20 row: not new
        '2026-11-28,analyst,public.customers,127.0.0.1,pii,4,40,0,0,SELECT=4,false',
        '2026-11-28,dormant_ops,public.payments,127.0.0.1,pii,2,2001,0,0,SELECT=2,true',
        '',
      ].join('\n'),
    );
    const leapDay = await report(['access', '--since', '1d', '--format', 'csv', '--until', '2028-02-29', '--data-dir', join(dir, 'data')]);
    expect(leapDay).toEqual({ code: 0, stdout: 'day,role,table,client,data_classes,read_statements,rows_read,change_statements,rows_changed,commands,new\n', stderr: '' });
  });

  it('refuses an impossible --until day that Date.parse would roll over, naming the option and the value', async () => {
    for (const day of ['2026-02-30', '2026-11-31', '2027-02-29', '2026-13-01']) {
      await expect(report(['access', '--data-dir', join(dir, 'data'), '--until', day])).rejects.toThrow(new CliError(`--until must be a calendar day YYYY-MM-DD, not "${day}"`));
    }
  });

  it('refuses conflicting or missing ledger options', async () => {
    await expect(report(['access', '--store', 'postgres://x/y', '--data-dir', dir])).rejects.toThrow(new CliError('--store and --data-dir conflict: give one of --store, --data-dir or --logs'));
    await expect(report(['access'])).rejects.toThrow(/no ledger to report on/);
    await expect(report(['access', '--data-dir', dir, '--format', 'xml'])).rejects.toThrow('--format must be md or csv');
    await expect(report(['access', '--data-dir', dir, '--since', '7'])).rejects.toThrow('--since must be a period of whole days such as 30d or 2w, not "7"');
    await expect(report(['access', '--data-dir', dir, '--since', '0d'])).rejects.toThrow('--since must be at least 1d, not "0d"');
    await expect(report(['access', '--data-dir', dir, '--since', '1000000d'])).rejects.toThrow('--since must be at most 36500d (100 years), not "1000000d"');
    await expect(report(['access', '--data-dir', dir, '--since', '-1d'])).rejects.toThrow('--since needs a value (one that starts with "-" is written --since=VALUE)');
    await expect(report(['access', '--data-dir', dir, '--since', '12h'])).rejects.toThrow('--since must be whole days (the access ledger counts per UTC day), not "12h": e.g. --since 1d');
    await expect(report(['access', '--data-dir', dir, '--since', '36h'])).rejects.toThrow('not "36h": e.g. --since 2d');
    await expect(report(['inventory'])).rejects.toThrow('unknown report "inventory"');
    // the URL check's message names the setting once and never shows the value (it may hold a password)
    await expect(report(['access', '--store', 'ftp://u:secret@x/y'])).rejects.toThrow(
      new ConfigError('store: expected a PostgreSQL URL postgres://[user[:password]@]host[:port]/database (or postgresql://; value not shown)'),
    );
  });
});

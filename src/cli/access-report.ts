import type { AccessLedgerRow } from '../domain/access-ledger.js';

const DAY_MS = 86_400_000;

/** A run of whole UTC days, both ends included (`YYYY-MM-DD`). */
export interface DayRange {
  sinceDay: string;
  untilDay: string;
  days: number;
}

/** The current period of `days` days ending with `untilDay`, and the previous period of the same length. */
export function reportPeriods(untilDay: string, days: number): { current: DayRange; previous: DayRange } {
  const untilMs = Date.parse(`${untilDay}T00:00:00Z`);
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  return {
    current: { sinceDay: day(untilMs - (days - 1) * DAY_MS), untilDay, days },
    previous: { sinceDay: day(untilMs - (2 * days - 1) * DAY_MS), untilDay: day(untilMs - days * DAY_MS), days },
  };
}

/** Counts of one (day, role, table, client) or one (role, table, client) over the period, all servers of the report summed. */
export interface AccessCounts {
  role: string;
  relation: string;
  clientAddr: string;
  dataClasses: string[];
  readStatements: number;
  rowsRead: number;
  changeStatements: number;
  rowsChanged: number;
  commands: Record<string, number>;
  /** earliest / latest event counted, ISO-8601 UTC */
  firstSeen: string;
  lastSeen: string;
  /** true when the (role, table, client) pair has no row in the previous period */
  isNew: boolean;
}

/** One line per (day, role, table, client). */
export interface DailyAccess extends AccessCounts {
  day: string;
}

/** One line per (role, table, client) over the whole period. */
export interface PairAccess extends AccessCounts {
  /** days of the period with a row */
  activeDays: number;
}

/** The access review (issue 5, "Access audit report"): what `jaga report access` prints. */
export interface AccessReport {
  /** the server reported on, or null for all servers */
  server: string | null;
  period: DayRange;
  previous: DayRange;
  /** ordered by day, role, table, client */
  daily: DailyAccess[];
  /** ordered by role, table, client */
  pairs: PairAccess[];
}

/**
 * Builds the report from the ledger rows of the current and the previous period (rows of several
 * servers with the same day/role/table/client are summed).
 */
export function buildAccessReport(input: { server: string | null; period: DayRange; previous: DayRange; rows: readonly AccessLedgerRow[]; previousRows: readonly AccessLedgerRow[] }): AccessReport {
  const pairKey = (r: { role: string; relation: string; clientAddr: string }): string => `${r.role}\u0000${r.relation}\u0000${r.clientAddr}`;
  const seenBefore = new Set(input.previousRows.map(pairKey));
  const daily = new Map<string, DailyAccess>();
  const pairs = new Map<string, PairAccess>();
  for (const row of input.rows) {
    const isNew = !seenBefore.has(pairKey(row));
    const dayKey = `${row.day}\u0000${pairKey(row)}`;
    const day = daily.get(dayKey) ?? { ...emptyCounts(row, isNew), day: row.day };
    addCounts(day, row);
    daily.set(dayKey, day);
    let pair = pairs.get(pairKey(row));
    if (pair === undefined) {
      pair = { ...emptyCounts(row, isNew), activeDays: 0 };
      pairs.set(pairKey(row), pair);
    }
    addCounts(pair, row);
  }
  for (const day of daily.values()) (pairs.get(pairKey(day)) as PairAccess).activeDays += 1;
  const byPair = (a: AccessCounts, b: AccessCounts): number => compare(a.role, b.role) || compare(a.relation, b.relation) || compare(a.clientAddr, b.clientAddr);
  return {
    server: input.server,
    period: input.period,
    previous: input.previous,
    daily: [...daily.values()].sort((a, b) => compare(a.day, b.day) || byPair(a, b)),
    pairs: [...pairs.values()].sort(byPair),
  };
}

function emptyCounts(row: AccessLedgerRow, isNew: boolean): AccessCounts {
  return { role: row.role, relation: row.relation, clientAddr: row.clientAddr, dataClasses: [], readStatements: 0, rowsRead: 0, changeStatements: 0, rowsChanged: 0, commands: {}, firstSeen: row.firstSeen, lastSeen: row.lastSeen, isNew };
}

function addCounts(into: AccessCounts, row: AccessLedgerRow): void {
  into.dataClasses = [...new Set([...into.dataClasses, ...row.dataClasses])].sort();
  into.readStatements += row.readStatements;
  into.rowsRead += row.rowsRead;
  into.changeStatements += row.changeStatements;
  into.rowsChanged += row.rowsChanged;
  for (const [command, n] of Object.entries(row.commands)) into.commands[command] = (into.commands[command] ?? 0) + n;
  if (row.firstSeen < into.firstSeen) into.firstSeen = row.firstSeen;
  if (row.lastSeen > into.lastSeen) into.lastSeen = row.lastSeen;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `SELECT=12;COPY=1`, commands by count descending then name. */
function commandsText(commands: Record<string, number>): string {
  return Object.entries(commands)
    .sort(([a, x], [b, y]) => y - x || compare(a, b))
    .map(([command, n]) => `${command}=${n}`)
    .join(';');
}

/** CSV header of `renderAccessReportCsv`. */
export const ACCESS_REPORT_CSV_HEADER = 'day,role,table,client,data_classes,read_statements,rows_read,change_statements,rows_changed,commands,new';

/**
 * The report as CSV (RFC 4180): `ACCESS_REPORT_CSV_HEADER`, then one line per (day, role, table,
 * client) of the period; `data_classes` joined by `;`, `commands` as `SELECT=12;COPY=1`, `new`
 * true/false (the pair had no row in the previous period).
 */
export function renderAccessReportCsv(report: AccessReport): string {
  const lines = [ACCESS_REPORT_CSV_HEADER];
  for (const d of report.daily) {
    lines.push(
      [d.day, d.role, d.relation, d.clientAddr, d.dataClasses.join(';'), d.readStatements, d.rowsRead, d.changeStatements, d.rowsChanged, commandsText(d.commands), d.isNew]
        .map((v) => csvField(String(v)))
        .join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The report as Markdown: a heading with server and periods, the new (role, table, client) pairs,
 * totals per pair over the period, and the per-day table.
 */
export function renderAccessReportMarkdown(report: AccessReport): string {
  const out: string[] = [];
  const { period, previous } = report;
  out.push('# Access to personal-data tables', '');
  out.push(`- Server: ${report.server === null ? 'all servers' : md(report.server)}`);
  out.push(`- Period: ${period.sinceDay} to ${period.untilDay} (${period.days} day${period.days === 1 ? '' : 's'}, UTC)`);
  out.push(`- Compared with: ${previous.sinceDay} to ${previous.untilDay}`);
  out.push('- Statements are pgaudit entries naming the table; rows are what pgaudit reported (COPY and FETCH report 0).', '');

  const fresh = report.pairs.filter((p) => p.isNew);
  out.push(`## New since the previous period (${fresh.length})`, '');
  if (fresh.length === 0) out.push('No role, table and client combination is new.', '');
  else {
    out.push('| Role | Table | Client | Data classes | First seen (UTC) | Days | Read statements | Rows read | Change statements | Rows changed |', '|---|---|---|---|---|---:|---:|---:|---:|---:|');
    for (const p of fresh) out.push(`| ${md(p.role)} | ${md(p.relation)} | ${md(p.clientAddr)} | ${md(p.dataClasses.join(', '))} | ${p.firstSeen.slice(0, 19).replace('T', ' ')} | ${p.activeDays} | ${p.readStatements} | ${p.rowsRead} | ${p.changeStatements} | ${p.rowsChanged} |`);
    out.push('');
  }

  out.push(`## By role, table and client (${report.pairs.length})`, '');
  if (report.pairs.length === 0) out.push('No access to a catalogued table in this period.', '');
  else {
    out.push('| Role | Table | Client | Data classes | Days | Read statements | Rows read | Change statements | Rows changed | Commands | New |', '|---|---|---|---|---:|---:|---:|---:|---:|---|---|');
    for (const p of report.pairs) out.push(`| ${md(p.role)} | ${md(p.relation)} | ${md(p.clientAddr)} | ${md(p.dataClasses.join(', '))} | ${p.activeDays} | ${p.readStatements} | ${p.rowsRead} | ${p.changeStatements} | ${p.rowsChanged} | ${md(commandsText(p.commands).replaceAll(';', ', '))} | ${p.isNew ? 'new' : ''} |`);
    out.push('');
  }

  out.push('## Per day', '');
  if (report.daily.length > 0) {
    out.push('| Day | Role | Table | Client | Read statements | Rows read | Change statements | Rows changed |', '|---|---|---|---|---:|---:|---:|---:|');
    for (const d of report.daily) out.push(`| ${d.day} | ${md(d.role)} | ${md(d.relation)} | ${md(d.clientAddr)} | ${d.readStatements} | ${d.rowsRead} | ${d.changeStatements} | ${d.rowsChanged} |`);
  } else out.push('Nothing recorded.');
  return `${out.join('\n')}\n`;
}

/** Text safe inside a Markdown table cell: pipes escaped, newlines as spaces. */
function md(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('|', '\\|').replace(/[\r\n]+/g, ' ');
}

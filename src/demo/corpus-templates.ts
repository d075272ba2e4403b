import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../domain/errors.js';

/**
 * One csvlog record of a template session, pre-split so that re-timing it only concatenates
 * strings. Columns (PostgreSQL 15 csvlog, docs runtime-config-logging "Using CSV-Format Log
 * Output"): 0 log_time, 1 user_name, 2 database_name, 3 process_id, 4 connection_from,
 * 5 session_id, 6 session_line_num, 7 command_tag, 8 session_start_time, 9.. the rest.
 * The variable columns (0, 3, 5, 8) are left out; every other column is kept as raw CSV text.
 */
export interface TemplateRecord {
  /** ms after the session's first record */
  offsetMs: number;
  /** raw text of columns 1-2 joined by commas */
  userDb: string;
  /** raw text of column 4 */
  connectionFrom: string;
  /** raw text of columns 6-7 */
  lineTag: string;
  /** raw text of columns 9-25; for a disconnection, the part before the session time */
  tail: string;
  /** for a disconnection record: the raw text after `session time: H:MM:SS.mmm`; else null */
  tailAfterDuration: string | null;
}

/** A client session of the corpus: all records sharing one session_id, in time order. */
export interface TemplateSession {
  sessionId: string;
  role: string;
  /** time of the first record, epoch ms UTC */
  firstMs: number;
  /** session_start_time minus the first record's time, ms (0 or slightly negative) */
  sessionStartOffsetMs: number;
  /** last record's offset, ms */
  durationMs: number;
  records: TemplateRecord[];
}

/** The corpus, read once: normal client sessions by role, attack sessions by id, and the raw file. */
export interface CorpusTemplates {
  /** normal (non-attack) client sessions, by role, in corpus order */
  normalByRole: ReadonlyMap<string, readonly TemplateSession[]>;
  /** attack client sessions, by attack id (`A1` ... `A9`) */
  attackById: ReadonlyMap<string, readonly TemplateSession[]>;
  /** the csvlog file's text, unchanged */
  csvText: string;
  /** records in the csvlog file */
  csvRecords: number;
  /** earliest and latest record time of the file, epoch ms UTC */
  firstMs: number;
  lastMs: number;
}

interface Labels {
  log_files: string[];
  attacks: { id: string; sessions: { session_id: string }[] }[];
}

/**
 * Reads a labelled corpus folder (shared/corpus/pg15-pgaudit layout: `labels.json` naming a
 * `.csv` csvlog file; labels.json `attacks[].sessions[].session_id` mark attack sessions) and
 * splits its client sessions into normal and attack templates. Postmaster, startup and
 * checkpointer records (sessions with no client backend) are left out of the templates.
 * @throws ConfigError when labels.json or the csvlog file is missing or unreadable, or a record
 *   has fewer than 26 columns or an unreadable log_time
 */
export async function loadCorpusTemplates(corpusDir: string): Promise<CorpusTemplates> {
  let labels: Labels;
  let csvText: string;
  try {
    labels = JSON.parse(await readFile(join(corpusDir, 'labels.json'), 'utf8')) as Labels;
    const csvName = labels.log_files.find((name) => name.endsWith('.csv'));
    if (csvName === undefined) throw new Error('labels.json names no .csv log file');
    csvText = await readFile(join(corpusDir, csvName), 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the corpus in ${corpusDir}: ${(error as Error).message}`, undefined, { cause: error });
  }
  const attackOf = new Map<string, string>();
  for (const attack of labels.attacks) for (const session of attack.sessions) attackOf.set(session.session_id, attack.id);

  const bySession = new Map<string, { timeMs: number; fields: string[] }[]>();
  let csvRecords = 0;
  let firstMs = Infinity;
  let lastMs = -Infinity;
  for (const fields of splitCsvRecords(csvText)) {
    csvRecords++;
    if (fields.length !== 26) throw new ConfigError(`corpus csvlog record ${csvRecords} has ${fields.length} columns, not 26`);
    const timeMs = parseCsvTime(fields[0] as string);
    if (Number.isNaN(timeMs)) throw new ConfigError(`corpus csvlog record ${csvRecords} has an unreadable log_time`);
    firstMs = Math.min(firstMs, timeMs);
    lastMs = Math.max(lastMs, timeMs);
    const list = bySession.get(fields[5] as string) ?? [];
    list.push({ timeMs, fields });
    bySession.set(fields[5] as string, list);
  }

  const normalByRole = new Map<string, TemplateSession[]>();
  const attackById = new Map<string, TemplateSession[]>();
  for (const [sessionId, rows] of bySession) {
    if (!rows.some((row) => unquote(row.fields[23] as string) === 'client backend')) continue;
    const session = toTemplateSession(sessionId, rows);
    const attack = attackOf.get(sessionId);
    const target = attack === undefined ? normalByRole : attackById;
    const key = attack ?? session.role;
    const list = target.get(key) ?? [];
    list.push(session);
    target.set(key, list);
  }
  return { normalByRole, attackById, csvText, csvRecords, firstMs, lastMs };
}

const DISCONNECTION_TIME = /session time: \d+:\d\d:\d\d\.\d{3}/;

/** Builds a template from one session's parsed rows (any order). */
function toTemplateSession(sessionId: string, rows: { timeMs: number; fields: string[] }[]): TemplateSession {
  const sorted = [...rows].sort((a, b) => a.timeMs - b.timeMs);
  const firstMs = (sorted[0] as { timeMs: number }).timeMs;
  const role = sorted.map((row) => unquote(row.fields[1] as string)).find((user) => user !== '') ?? '';
  const records = sorted.map(({ timeMs, fields }): TemplateRecord => {
    const tailText = fields.slice(9).join(',');
    const match = DISCONNECTION_TIME.exec(tailText);
    return {
      offsetMs: timeMs - firstMs,
      userDb: `${fields[1]},${fields[2]}`,
      connectionFrom: fields[4] as string,
      lineTag: `${fields[6]},${fields[7]}`,
      tail: match === null ? tailText : tailText.slice(0, match.index + 'session time: '.length),
      tailAfterDuration: match === null ? null : tailText.slice(match.index + match[0].length),
    };
  });
  const sessionStartMs = parseCsvTime((sorted[0] as { fields: string[] }).fields[8] as string);
  return {
    sessionId,
    role,
    firstMs,
    sessionStartOffsetMs: Number.isNaN(sessionStartMs) ? 0 : sessionStartMs - firstMs,
    durationMs: (records[records.length - 1] as TemplateRecord).offsetMs,
    records,
  };
}

/** `"abc"` → `abc`; unquoted text as is (only used for simple values such as role names). */
function unquote(raw: string): string {
  return raw.startsWith('"') ? raw.slice(1, -1).replaceAll('""', '"') : raw;
}

/**
 * Parses a csvlog time `2026-11-29 17:17:16.517 UTC` (or without milliseconds) to epoch ms; only
 * the `UTC` zone is accepted (the corpus's log_timezone). NaN when unreadable.
 */
export function parseCsvTime(text: string): number {
  if (!text.endsWith(' UTC')) return NaN;
  return Date.parse(`${text.slice(0, -4).replace(' ', 'T')}Z`);
}

/**
 * Splits csvlog text into records of raw column texts (quotes kept, so columns can be re-joined
 * unchanged). A record ends at a newline outside quotes (RFC 4180 quoting, as csvlog writes it).
 */
export function* splitCsvRecords(text: string): Generator<string[]> {
  let fields: string[] = [];
  let fieldStart = 0;
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inQuotes) {
      if (c === 34 /* " */) inQuotes = false;
    } else if (c === 34) {
      inQuotes = true;
    } else if (c === 44 /* , */) {
      fields.push(text.slice(fieldStart, i));
      fieldStart = i + 1;
    } else if (c === 10 /* \n */) {
      fields.push(text.slice(fieldStart, i));
      yield fields;
      fields = [];
      fieldStart = i + 1;
    }
  }
  if (fieldStart < text.length) {
    fields.push(text.slice(fieldStart));
    yield fields;
  }
}

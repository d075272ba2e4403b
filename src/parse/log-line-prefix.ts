import { ConfigError } from '../domain/errors.js';
import { createTimestampParser, type TimestampParser } from './timestamp-parser.js';
import { cachedTimeParser } from './cached-time-parser.js';
import { StringInterner } from './string-interner.js';

/**
 * The log_line_prefix fields of one stderr line, named like the `LogRecord` fields they fill.
 * A field the prefix does not carry, or that the server printed empty (background processes),
 * is null. `[unknown]` in user, database and application_name is null.
 */
export interface LogLinePrefixFields {
  /** `%m`, `%t` or `%n`, converted to UTC epoch ms */
  timeMs: number | null;
  /** `%p` */
  pid: number | null;
  /** `%u` */
  user: string | null;
  /** `%d` */
  database: string | null;
  /** `%h`, or the host part of `%r`; `[local]` for Unix-socket clients */
  host: string | null;
  /** port part of `%r` (null for `[local]`) */
  port: number | null;
  /** `%c`, e.g. `6929a57c.3866` */
  session_id: string | null;
  /** `%l` */
  session_line: number | null;
  /** `%i` (the ps display: `SELECT`, `idle`, `authentication`, ...) */
  command_tag: string | null;
  /** `%v`, e.g. `3/17` */
  vxid: string | null;
  /** `%x` as printed (`0` when no xid is assigned) */
  xid: string | null;
  /** `%a` */
  application_name: string | null;
  /** `%b`, e.g. `client backend`, `checkpointer` */
  backend_type: string | null;
  /** `%P` (only parallel workers print it) */
  leader_pid: number | null;
  /** `%Q` as printed (`0` when query ids are not computed); may be negative */
  query_id: string | null;
  /** `%e` */
  sqlstate: string | null;
  /** `%s`, converted to UTC epoch ms */
  sessionStartMs: number | null;
}

/** A matched line: its prefix fields plus where the message part starts. */
export interface LogLinePrefixMatch extends LogLinePrefixFields {
  /** the severity word: `LOG`, `ERROR`, `DETAIL`, `STATEMENT`, ... */
  severity: string;
  /** UTF-16 index in the line where `SEVERITY:  text` starts (= length of the prefix) */
  messageStart: number;
  /** UTF-16 index of the text after `SEVERITY:  ` */
  textStart: number;
  /**
   * true when the line carries a `%m`/`%t` time that cannot exist (`2026-02-30`, `24:00:00`, second
   * 60...) or a `%n` epoch past the largest `Date` (8.64e15 ms); `timeMs` is then null.
   */
  badTime: boolean;
}

/** A compiled log_line_prefix. */
export interface LogLinePrefixMatcher {
  /** the prefix string it was compiled from */
  readonly prefix: string;
  /** the single anchored RegExp the prefix compiled to (exposed for diagnostics) */
  readonly regex: RegExp;
  /** true when the prefix literally starts with a TAB (then a leading TAB does not mark a continuation) */
  readonly startsWithTab: boolean;
  /**
   * Matches one physical line (without its newline). Returns the fields and the message position,
   * or null when the line does not start with the prefix followed by a severity word and `:  `
   * (a continuation line or a foreign line). Never throws.
   */
  match(line: string): LogLinePrefixMatch | null;
  /**
   * Like `match`, but fills `target` (every field overwritten) instead of allocating, for callers
   * that match every line. Returns false (target left unchanged) when the line does not match.
   */
  matchInto(line: string, target: LogLinePrefixMatch): boolean;
}

/**
 * Severity words PostgreSQL writes after the prefix (English `lc_messages`): the message levels
 * plus the secondary lines of a report (PostgreSQL source, elog.c `error_severity` and
 * `send_message_to_server_log`).
 */
export const SEVERITY_WORDS = [
  'LOG', 'DETAIL', 'STATEMENT', 'ERROR', 'FATAL', 'HINT', 'CONTEXT', 'QUERY', 'LOCATION',
  'WARNING', 'NOTICE', 'INFO', 'PANIC', 'DEBUG1', 'DEBUG2', 'DEBUG3', 'DEBUG4', 'DEBUG5',
] as const;

/** The default `log_line_prefix` of PostgreSQL 13+. */
export const DEFAULT_LOG_LINE_PREFIX = '%m [%p] ';

const ZONE = '(?:[A-Za-z]+|[+-]\\d{2}(?::?\\d{2})?)';
const TIME_SECONDS = `\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d ${ZONE}`;
const TIME_MILLIS = `\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} ${ZONE}`;
const SEVERITY_RE = `(${SEVERITY_WORDS.join('|').replace('DEBUG1|DEBUG2|DEBUG3|DEBUG4|DEBUG5', 'DEBUG[1-5]')}):  `;

/**
 * What a capture group fills and how its text converts (each escape has its own slot):
 * text fields give '' -> null; user, database and application_name also `[unknown]` -> null.
 */
type Slot =
  | 'application_name' | 'user' | 'database' | 'hostport' | 'host' | 'local' | 'backend_type'
  | 'pid' | 'leader_pid' | 'time' | 'epoch' | 'command_tag' | 'sqlstate' | 'session_id'
  | 'session_line' | 'session_start' | 'vxid' | 'xid' | 'query_id';

interface Capture {
  /** index of the capture group in the compiled RegExp (`hostport` uses two: host, port) */
  group: number;
  slot: Slot;
  /** for `time` and `session_start`: a parser with its own one-minute cache */
  parseTime: TimestampParser | null;
  /** for `user`, `database`, `application_name`, `host`/`hostport`: the matcher's pool of their values */
  interner: StringInterner | null;
  /** the value is stored as text (not converted to a number): worth reusing from the previous line */
  keepsText: boolean;
}

/** Slots whose values are interned (a few distinct values, read by every later stage). */
const INTERNED_SLOTS: ReadonlySet<Slot> = new Set<Slot>(['application_name', 'user', 'database', 'hostport', 'host']);

/** Slots whose text is converted to a number (nothing to reuse). */
const NUMERIC_SLOTS: ReadonlySet<Slot> = new Set<Slot>(['pid', 'leader_pid', 'time', 'epoch', 'session_line', 'session_start']);

/** Pattern and slot of each escape (PostgreSQL docs, runtime-config-logging, log_line_prefix). */
const ESCAPES: Record<string, { pattern: string; slot: Slot; groups: number }> = {
  a: { pattern: '(.*?)', slot: 'application_name', groups: 1 },
  u: { pattern: '(.*?)', slot: 'user', groups: 1 },
  d: { pattern: '(.*?)', slot: 'database', groups: 1 },
  r: { pattern: '([^ (]*)(?:\\((\\d+)\\))?', slot: 'hostport', groups: 2 },
  h: { pattern: '(\\S*)', slot: 'host', groups: 1 },
  L: { pattern: '(\\S*)', slot: 'local', groups: 1 },
  b: { pattern: '(.*?)', slot: 'backend_type', groups: 1 },
  p: { pattern: '(\\d+)', slot: 'pid', groups: 1 },
  P: { pattern: '(\\d*)', slot: 'leader_pid', groups: 1 },
  t: { pattern: `(${TIME_SECONDS})`, slot: 'time', groups: 1 },
  m: { pattern: `(${TIME_MILLIS})`, slot: 'time', groups: 1 },
  n: { pattern: '(\\d+\\.\\d{3})', slot: 'epoch', groups: 1 },
  i: { pattern: '(.*?)', slot: 'command_tag', groups: 1 },
  e: { pattern: '([0-9A-Z]{5})', slot: 'sqlstate', groups: 1 },
  c: { pattern: '([0-9a-f]+\\.[0-9a-f]+)', slot: 'session_id', groups: 1 },
  l: { pattern: '(\\d+)', slot: 'session_line', groups: 1 },
  s: { pattern: `(${TIME_SECONDS})`, slot: 'session_start', groups: 1 },
  v: { pattern: '(\\d+\\/\\d+|)', slot: 'vxid', groups: 1 },
  x: { pattern: '(\\d+)', slot: 'xid', groups: 1 },
  Q: { pattern: '(-?\\d+)', slot: 'query_id', groups: 1 },
};

/** `[unknown]` (PostgreSQL's placeholder before authentication / without a name) and '' as null. */
const known = (value: string): string | null => (value === '[unknown]' ? null : value);

/** An all-null match, for `matchInto` targets. */
export function emptyLogLinePrefixMatch(): LogLinePrefixMatch {
  return {
    timeMs: null,
    pid: null,
    user: null,
    database: null,
    host: null,
    port: null,
    session_id: null,
    session_line: null,
    command_tag: null,
    vxid: null,
    xid: null,
    application_name: null,
    backend_type: null,
    leader_pid: null,
    query_id: null,
    sqlstate: null,
    sessionStartMs: null,
    severity: '',
    messageStart: 0,
    textStart: 0,
    badTime: false,
  };
}

/** Largest epoch ms a `Date` holds (ECMAScript time value range); `%n` has no sign, so no lower bound. */
const MAX_DATE_MS = 8.64e15;

/** Longest line whose captures are kept for reuse (bounds the memory the reuse holds on to). */
const MAX_REUSED_LINE_CHARS = 4096;

const escapeRegExp = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

/** Wraps a value pattern with the spaces `%-10u` (trailing) or `%10u` (leading) padding adds. */
const padded = (pattern: string, padding: number): string =>
  padding > 0 ? ` *${pattern}` : padding < 0 ? `${pattern} *` : pattern;

/**
 * Compiles a server's `log_line_prefix` into a matcher for its stderr lines.
 *
 * Supports every escape of PostgreSQL 15-17 (PostgreSQL docs, runtime-config-logging,
 * log_line_prefix): `%a %u %d %r %h %b %p %P %t %m %n %i %e %c %l %s %v %x %Q %q %%`, plus
 * PostgreSQL 18's `%L` (matched, not stored), each with the optional padding `%-10u` / `%10u`
 * (elog.c `process_log_prefix_padding`). `%q` makes everything after it optional (non-session
 * processes stop there). The prefix is compiled to one anchored RegExp that ends on a severity
 * word followed by `:  ` (two spaces), which is what disambiguates free-text values such as `%a`.
 * The values of `%u %d %a %h` and the host of `%r` are interned (a `StringInterner` per escape and
 * matcher: lines of one client share one string per value).
 *
 * Example: `compileLogLinePrefix('%m [%p] ').match('2026-11-29 17:17:16.517 UTC [14439] LOG:  hi')`
 * gives `{timeMs: 1795972636517, pid: 14439, severity: 'LOG', messageStart: 36, textStart: 42, ...}`.
 *
 * @param prefix the server's exact `log_line_prefix` setting (default `'%m [%p] '`)
 * @param timezone IANA zone of the server's `log_timezone` (default `UTC`), for `%m %t %s`
 * @throws ConfigError naming the escape for an unknown or incomplete escape, or naming the zone
 *   when `timezone` is not a zone this Node knows
 */
export function compileLogLinePrefix(prefix: string = DEFAULT_LOG_LINE_PREFIX, timezone = 'UTC'): LogLinePrefixMatcher {
  let parseTime: TimestampParser;
  try {
    parseTime = createTimestampParser(timezone);
  } catch (error) {
    throw new ConfigError(`log_timezone "${timezone}" is not a known IANA time zone`, undefined, { cause: error });
  }

  const captures: Capture[] = [];
  let source = '^';
  let groups = 0;
  let optionalOpen = false;
  let literal = '';
  const flushLiteral = (): void => {
    source += escapeRegExp(literal);
    literal = '';
  };

  for (let i = 0; i < prefix.length; i++) {
    const ch = prefix[i] as string;
    if (ch !== '%') {
      literal += ch;
      continue;
    }
    const start = i;
    i++;
    let sign = 1;
    let padding = 0;
    if (prefix[i] === '-') {
      sign = -1;
      i++;
    }
    while (i < prefix.length && prefix.charCodeAt(i) >= 48 && prefix.charCodeAt(i) <= 57) {
      padding = padding * 10 + prefix.charCodeAt(i) - 48;
      i++;
    }
    padding *= sign;
    const escape = prefix[i];
    if (escape === undefined) {
      throw new ConfigError(`log_line_prefix ends with an incomplete escape "${prefix.slice(start)}"`);
    }
    if (escape === '%') {
      literal += '%';
      continue;
    }
    if (escape === 'q') {
      flushLiteral();
      if (!optionalOpen) {
        source += '(?:';
        optionalOpen = true;
      }
      continue;
    }
    const spec = ESCAPES[escape];
    if (spec === undefined) {
      throw new ConfigError(
        `log_line_prefix has an unknown escape "%${escape}" at position ${start}`,
        [`log_line_prefix: unknown escape "%${escape}" at position ${start} in "${prefix}"`],
      );
    }
    flushLiteral();
    source += padded(spec.pattern, padding);
    const timed = spec.slot === 'time' || spec.slot === 'session_start';
    captures.push({
      group: groups + 1,
      slot: spec.slot,
      parseTime: timed ? cachedTimeParser(parseTime) : null,
      interner: INTERNED_SLOTS.has(spec.slot) ? new StringInterner() : null,
      keepsText: !NUMERIC_SLOTS.has(spec.slot),
    });
    groups += spec.groups;
  }
  flushLiteral();
  // Greedy: the session part is tried first, so a role named like `LOG:  x` cannot make a session
  // line pass for a postmaster line; a line without it (stopped at `%q`) falls back to the shorter form.
  if (optionalOpen) source += ')?';
  source += SEVERITY_RE;
  const severityGroup = groups + 1;
  const regex = new RegExp(source);

  // Last value of each text capture (and of the severity): a line that repeats it gets the earlier
  // string, so the copies the RegExp made die young instead of being kept by every event.
  const recent: string[] = captures.map(() => '');
  let recentSeverity = '';
  const matchInto = (line: string, out: LogLinePrefixMatch): boolean => {
    const m = regex.exec(line);
    if (m === null) return false;
    // Keeping a capture keeps the line it was cut from: only lines of ordinary length are reused.
    const reuse = line.length <= MAX_REUSED_LINE_CHARS;
    let severity = m[severityGroup] as string;
    if (severity === recentSeverity) severity = recentSeverity;
    else if (reuse) recentSeverity = severity;
    const textStart = m[0].length;
    out.severity = severity;
    out.messageStart = textStart - severity.length - 3;
    out.textStart = textStart;
    out.timeMs = null;
    out.pid = null;
    out.user = null;
    out.database = null;
    out.host = null;
    out.port = null;
    out.session_id = null;
    out.session_line = null;
    out.command_tag = null;
    out.vxid = null;
    out.xid = null;
    out.application_name = null;
    out.backend_type = null;
    out.leader_pid = null;
    out.query_id = null;
    out.sqlstate = null;
    out.sessionStartMs = null;
    out.badTime = false;
    for (let c = 0; c < captures.length; c++) {
      const cap = captures[c] as Capture;
      let value = m[cap.group];
      if (value === undefined || value === '') continue;
      if (cap.keepsText) {
        const previous = recent[c] as string;
        if (value === previous) value = previous;
        else {
          if (cap.interner !== null) value = cap.interner.intern(value);
          if (reuse) recent[c] = value;
        }
      }
      switch (cap.slot) {
        case 'application_name':
          out.application_name = known(value);
          break;
        case 'user':
          out.user = known(value);
          break;
        case 'database':
          out.database = known(value);
          break;
        case 'hostport': {
          out.host = value;
          const port = m[cap.group + 1];
          if (port !== undefined) out.port = Number(port);
          break;
        }
        case 'host':
          out.host = value;
          break;
        case 'local':
          break;
        case 'backend_type':
          out.backend_type = value;
          break;
        case 'pid':
          out.pid = Number(value);
          break;
        case 'leader_pid':
          out.leader_pid = Number(value);
          break;
        case 'time': {
          const ms = (cap.parseTime as TimestampParser)(value);
          out.timeMs = ms;
          out.badTime = ms === null;
          break;
        }
        case 'epoch': {
          const dot = value.length - 4;
          const ms = Number(value.slice(0, dot)) * 1000 + Number(value.slice(dot + 1));
          const inRange = ms <= MAX_DATE_MS;
          out.timeMs = inRange ? ms : null;
          out.badTime = !inRange;
          break;
        }
        case 'command_tag':
          out.command_tag = value;
          break;
        case 'sqlstate':
          out.sqlstate = value;
          break;
        case 'session_id':
          out.session_id = value;
          break;
        case 'session_line':
          out.session_line = Number(value);
          break;
        case 'session_start':
          out.sessionStartMs = (cap.parseTime as TimestampParser)(value);
          break;
        case 'vxid':
          out.vxid = value;
          break;
        case 'xid':
          out.xid = value;
          break;
        case 'query_id':
          out.query_id = value;
          break;
      }
    }
    return true;
  };

  const match = (line: string): LogLinePrefixMatch | null => {
    const out = emptyLogLinePrefixMatch();
    return matchInto(line, out) ? out : null;
  };

  return { prefix, regex, startsWithTab: prefix.startsWith('\t'), match, matchInto };
}

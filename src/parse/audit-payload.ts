import type { AuditFields } from '../domain/access-event.js';
import { StringInterner } from './string-interner.js';
import { textAt } from './text-at.js';

/**
 * The pgaudit payload: the text after `AUDIT: ` in a server log message.
 *
 * Source of truth: the pgaudit README, "Format" section, and pgaudit.c (`log_audit_event`,
 * `append_valid_csv`), pgaudit 1.6/1.7 (REL_15_STABLE). The payload is
 * `AUDIT_TYPE,STATEMENT_ID,SUBSTATEMENT_ID,CLASS,COMMAND,OBJECT_TYPE,OBJECT_NAME,STATEMENT,PARAMETER[,ROWS]`:
 * 9 fields, 10 with `pgaudit.log_rows = on`. How pgaudit writes it:
 * - A field is quoted only when it contains `,` `"` `\n` or `\r`; inside quotes `"` is doubled.
 *   A NULL value (no object type/name, no statement text) is written as an empty field.
 * - PARAMETER is `<none>` (no bind parameters), `<not logged>` (`pgaudit.log_parameter = off`,
 *   or `pgaudit.log_statement = off`, which also puts `<not logged>` in STATEMENT), or
 *   `<previously logged>` (with `pgaudit.log_statement_once`, in STATEMENT too). Otherwise it is the
 *   parameter values, each CSV-quoted as above, joined with `,`, and that whole string quoted again.
 *   A NULL parameter prints as an empty element (as does an empty string: the two are
 *   indistinguishable); an over-long one (`pgaudit.log_parameter_max_size`) prints as a
 *   placeholder such as `<long param suppressed>`, kept verbatim.
 * - ROWS is a decimal count.
 *
 * Known ambiguity (pgaudit's, not ours): a statement with exactly one parameter whose value is one of
 * the placeholder strings prints the same as the placeholder; it is read as the placeholder.
 */

const QUOTE = 34; // "
const COMMA = 44; // ,

const PARAMETER_PLACEHOLDERS: ReadonlySet<string> = new Set(['<none>', '<not logged>', '<previously logged>']);

/**
 * Splits one CSV line (no record separator: newlines are data) into fields, in a single pass.
 * Returns null when a quote is unbalanced, a quoted field is followed by something other than `,`,
 * an unquoted field contains `"`, or the line has more than `maxFields` fields.
 */
function splitCsv(text: string, maxFields: number): string[] | null {
  const fields: string[] = [];
  const length = text.length;
  let i = 0;
  // Position of the next `"` at or after i (length when none); recomputed only when passed.
  let nextQuote = -1;
  for (;;) {
    if (fields.length === maxFields) return null;
    if (i < length && text.charCodeAt(i) === QUOTE) {
      let value = '';
      let start = i + 1;
      for (;;) {
        const close = text.indexOf('"', start);
        if (close === -1) return null;
        if (text.charCodeAt(close + 1) === QUOTE) {
          value += text.slice(start, close + 1);
          start = close + 2;
          continue;
        }
        value += text.slice(start, close);
        i = close + 1;
        break;
      }
      fields.push(value);
      if (i === length) return fields;
      if (text.charCodeAt(i) !== COMMA) return null;
      i += 1;
      nextQuote = -1;
    } else {
      let end = text.indexOf(',', i);
      if (end === -1) end = length;
      if (nextQuote < i) {
        nextQuote = text.indexOf('"', i);
        if (nextQuote === -1) nextQuote = length;
      }
      if (nextQuote < end) return null;
      fields.push(text.slice(i, end));
      if (end === length) return fields;
      i = end + 1;
    }
  }
}

/** True when pgaudit's `append_valid_csv` would quote `value`. */
function needsQuotes(value: string): boolean {
  return value.includes(',') || value.includes('"') || value.includes('\n') || value.includes('\r');
}

/** Quotes one field exactly as pgaudit's `append_valid_csv` does. */
function quoteCsv(value: string): string {
  return needsQuotes(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Parses a non-negative decimal integer without sign or leading `+`; '' gives null; anything else undefined. */
function parseCount(text: string): number | null | undefined {
  if (text.length === 0) return null;
  if (text.length > 19) return undefined;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * Parses a pgaudit payload (the message text after `AUDIT: `) into its fields.
 *
 * Shapes: `statement_id`/`substatement_id`/`rows` become numbers (an empty id gives null);
 * empty OBJECT_TYPE/OBJECT_NAME give null; PARAMETER gives the placeholder string or the list of
 * values (see the module comment); `rows` is null for a 9-field payload.
 * Example: `SESSION,2,1,WRITE,INSERT,TABLE,public.t,"INSERT INTO t VALUES ($1, $2)","1,""a,b""",1`
 * gives `{audit_type: 'SESSION', statement_id: 2, substatement_id: 1, class: 'WRITE',
 * command: 'INSERT', object_type: 'TABLE', object_name: 'public.t',
 * statement: 'INSERT INTO t VALUES ($1, $2)', parameter: ['1', 'a,b'], rows: 1}`.
 *
 * Returns null (never throws) when the text is not a well-formed payload: not 9 or 10 fields,
 * unbalanced quotes, an empty AUDIT_TYPE/CLASS, a non-numeric id or rows field, or a PARAMETER list
 * that is not valid CSV. The caller counts it as `bad_audit_payload`.
 */
export function parseAuditPayload(text: string): AuditFields | null {
  return parseAuditPayloadAt(text, 0);
}

/*
 * The payload is read field by field in one pass, without an intermediate array: `scanField`
 * leaves the field it read in the module-level cursor below. Short repeated values (audit type,
 * class, command, object type and name) come from `AuditColumnInterners`: one interned string
 * per value, found without a slice when it was used recently. Rules are those of `splitCsv`.
 */

/** `scanField` outcomes. */
const MALFORMED = 0;
const UNQUOTED = 1;
const QUOTED = 2;
/** the unquoted field is text[fieldStart, fieldEnd) */
let fieldStart = 0;
let fieldEnd = 0;
/** the quoted field's value, quotes removed and undoubled */
let fieldValue = '';
/** index after the comma that ended the field, or -1 when the field ended the text */
let nextField = -1;
/** first `"` of the payload at or after where it was last searched from (the payload's length when none; -1 not searched yet) */
let quoteAt = -1;

/** Reads the field starting at `i` into the cursor; MALFORMED under the same rules as `splitCsv`. */
function scanField(text: string, i: number): number {
  const length = text.length;
  if (i < length && text.charCodeAt(i) === QUOTE) {
    let value = '';
    let start = i + 1;
    let close: number;
    for (;;) {
      close = text.indexOf('"', start);
      if (close === -1) return MALFORMED;
      if (text.charCodeAt(close + 1) === QUOTE) {
        value += text.slice(start, close + 1);
        start = close + 2;
        continue;
      }
      value = value === '' ? text.slice(start, close) : value + text.slice(start, close);
      break;
    }
    fieldValue = value;
    const after = close + 1;
    if (after === length) nextField = -1;
    else if (text.charCodeAt(after) === COMMA) nextField = after + 1;
    else return MALFORMED;
    return QUOTED;
  }
  // indexOf scans with the engine's fast search; a `"` before the field's end is malformed.
  let j = text.indexOf(',', i);
  if (j === -1) j = length;
  if (quoteAt < i) {
    quoteAt = text.indexOf('"', i);
    if (quoteAt === -1) quoteAt = length;
  }
  if (quoteAt < j) return MALFORMED;
  fieldStart = i;
  fieldEnd = j;
  nextField = j === length ? -1 : j + 1;
  return UNQUOTED;
}

/**
 * Where the payload parser takes the strings of its short columns (a few distinct values each):
 * one `StringInterner` per column, so events carry one shared string per value.
 */
export interface AuditColumnInterners {
  auditType: StringInterner;
  auditClass: StringInterner;
  command: StringInterner;
  objectType: StringInterner;
  objectName: StringInterner;
}

/** New interners for the short payload columns, each bounded to `maxValues` values (default 1,024). */
export function createAuditColumnInterners(maxValues?: number): AuditColumnInterners {
  return {
    auditType: new StringInterner(maxValues),
    auditClass: new StringInterner(maxValues),
    command: new StringInterner(maxValues),
    objectType: new StringInterner(maxValues),
    objectName: new StringInterner(maxValues),
  };
}

/** Used when the caller gives no interners. */
const sharedColumns = createAuditColumnInterners();

/** The field the cursor holds as a string; a short column's (`interner` given) is its interned string. */
function fieldText(text: string, kind: number, interner: StringInterner | null): string {
  if (kind === QUOTED) return interner === null ? fieldValue : interner.intern(fieldValue);
  return interner === null ? text.slice(fieldStart, fieldEnd) : interner.internSlice(text, fieldStart, fieldEnd);
}

const PLACEHOLDER_LIST = [...PARAMETER_PLACEHOLDERS];

/** The parameter placeholder the unquoted field in the cursor spells, without slicing it, or null. */
function placeholderAt(text: string): string | null {
  if (text.charCodeAt(fieldStart) !== 60) return null; // <
  const length = fieldEnd - fieldStart;
  for (const placeholder of PLACEHOLDER_LIST) {
    if (placeholder.length === length && textAt(text, fieldStart, placeholder)) return placeholder;
  }
  return null;
}

/** `parseCount` of the field the cursor holds. */
function fieldCount(text: string, kind: number): number | null | undefined {
  if (kind === QUOTED) return parseCount(fieldValue);
  const length = fieldEnd - fieldStart;
  if (length === 0) return null;
  if (length > 19) return undefined;
  let value = 0;
  for (let i = fieldStart; i < fieldEnd; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * The PARAMETER of a payload cut at the record size limit (`parseAuditPayloadAt` with `cut`): the
 * parameters, if any, were past the cut. Not a pgaudit placeholder; jaga's own.
 */
export const CUT_PARAMETER = '<cut>';

/**
 * `parseAuditPayload` of `text.slice(start)` without making that slice (the caller passes the
 * whole message and the length of its `AUDIT: ` prefix). AUDIT_TYPE, CLASS, COMMAND, OBJECT_TYPE
 * and OBJECT_NAME are interned in `columns` (default: interners shared by every caller that gives
 * none).
 *
 * With `cut` (the record was cut at the size limit, so the payload ends early), a payload whose
 * first seven fields are whole still gives its fields: STATEMENT as far as it goes (quotes
 * undoubled; whole when the cut came after it), PARAMETER `CUT_PARAMETER` and ROWS null, unless
 * the payload parses as it is. So a statement padded past the limit still reaches the rules with
 * its class, command and object (and the event's `truncated` flag).
 * @returns null when the payload does not parse (with `cut`: when a field before STATEMENT is cut or malformed)
 */
export function parseAuditPayloadAt(
  text: string,
  start: number,
  columns: AuditColumnInterners = sharedColumns,
  cut = false,
): AuditFields | null {
  quoteAt = -1;
  let kind = scanField(text, start);
  if (kind === MALFORMED || nextField < 0) return null;
  const auditType = fieldText(text, kind, columns.auditType);
  if (auditType.length === 0) return null;

  kind = scanField(text, nextField);
  if (kind === MALFORMED || nextField < 0) return null;
  const statementNumber = fieldCount(text, kind);
  if (statementNumber === undefined) return null;

  kind = scanField(text, nextField);
  if (kind === MALFORMED || nextField < 0) return null;
  const substatementNumber = fieldCount(text, kind);
  if (substatementNumber === undefined) return null;

  kind = scanField(text, nextField);
  if (kind === MALFORMED || nextField < 0) return null;
  const auditClass = fieldText(text, kind, columns.auditClass);
  if (auditClass.length === 0) return null;

  kind = scanField(text, nextField);
  if (kind === MALFORMED || nextField < 0) return null;
  const command = fieldText(text, kind, columns.command);

  kind = scanField(text, nextField);
  if (kind === MALFORMED || nextField < 0) return null;
  const objectType = fieldText(text, kind, columns.objectType);

  kind = scanField(text, nextField);
  if (kind === MALFORMED || nextField < 0) return null;
  const objectName = fieldText(text, kind, columns.objectName);

  const statementAt = nextField;
  kind = scanField(text, nextField);
  let statement: string;
  if (kind === MALFORMED || nextField < 0) {
    if (!cut) return null;
    statement = kind === MALFORMED ? cutFieldText(text, statementAt) : fieldText(text, kind, null);
  } else {
    statement = fieldText(text, kind, null);
    const rest = parameterAndRows(text);
    if (rest !== null) return auditFields(auditType, statementNumber, substatementNumber, auditClass, command, objectType, objectName, statement, rest.parameter, rest.rows);
    if (!cut) return null;
  }
  return auditFields(auditType, statementNumber, substatementNumber, auditClass, command, objectType, objectName, statement, CUT_PARAMETER, null);
}

/** PARAMETER and ROWS of a payload whose STATEMENT the cursor has just read, or null when they do not parse. */
function parameterAndRows(text: string): { parameter: string[] | string; rows: number | null } | null {
  let kind = scanField(text, nextField);
  if (kind === MALFORMED) return null;
  const parameterKind = kind;
  const placeholder = kind === UNQUOTED ? placeholderAt(text) : null;
  const parameter = placeholder ?? fieldText(text, kind, null);

  let rows: number | null = null;
  if (nextField >= 0) {
    kind = scanField(text, nextField);
    // an eleventh field: more than pgaudit writes
    if (kind === MALFORMED || nextField >= 0) return null;
    const parsed = fieldCount(text, kind);
    if (parsed === undefined || parsed === null) return null;
    rows = parsed;
  }

  // an unquoted placeholder was found by placeholderAt; only a quoted one (starting with `<`: a
  // parameter list is not hashed) is looked up
  if (placeholder !== null || (parameterKind === QUOTED && parameter.charCodeAt(0) === 60 && PARAMETER_PLACEHOLDERS.has(parameter))) {
    return { parameter, rows };
  }
  // an unquoted field holds no `,` and no `"`: a one-element list
  if (parameterKind === UNQUOTED) return { parameter: [parameter], rows };
  const values = splitCsv(parameter, Number.POSITIVE_INFINITY);
  return values === null ? null : { parameter: values, rows };
}

/** The text of a field cut before its end, from `at`: a quoted field without its opening quote and with `""` undoubled. */
function cutFieldText(text: string, at: number): string {
  if (text.charCodeAt(at) !== QUOTE) return text.slice(at);
  return text.slice(at + 1).replaceAll('""', '"');
}

/** The `AuditFields` of a payload's field values (an empty OBJECT_TYPE / OBJECT_NAME is null). */
function auditFields(
  auditType: string,
  statementId: number | null,
  substatementId: number | null,
  auditClass: string,
  command: string,
  objectType: string,
  objectName: string,
  statement: string,
  parameter: string[] | string,
  rows: number | null,
): AuditFields {
  return {
    audit_type: auditType,
    statement_id: statementId,
    substatement_id: substatementId,
    class: auditClass,
    command,
    object_type: objectType.length === 0 ? null : objectType,
    object_name: objectName.length === 0 ? null : objectName,
    statement,
    parameter,
    rows,
  };
}

/**
 * Writes audit fields back as the payload pgaudit would print, quoting exactly as its
 * `append_valid_csv` does, so `formatAuditPayload(parseAuditPayload(p)!) === p` for every payload
 * pgaudit writes. Nulls print as empty fields; an empty parameter list prints as `<none>` (pgaudit's
 * output for a statement without parameters); `rows: null` leaves out the 10th field.
 * Never throws.
 */
export function formatAuditPayload(fields: AuditFields): string {
  const parameter =
    typeof fields.parameter === 'string'
      ? fields.parameter
      : fields.parameter.length === 0
        ? '<none>'
        : quoteCsv(fields.parameter.map(quoteCsv).join(','));
  const parts = [
    quoteCsv(fields.audit_type),
    fields.statement_id === null ? '' : String(fields.statement_id),
    fields.substatement_id === null ? '' : String(fields.substatement_id),
    quoteCsv(fields.class),
    quoteCsv(fields.command),
    quoteCsv(fields.object_type ?? ''),
    quoteCsv(fields.object_name ?? ''),
    quoteCsv(fields.statement),
    parameter,
  ];
  if (fields.rows !== null) parts.push(String(fields.rows));
  return parts.join(',');
}

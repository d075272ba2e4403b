/**
 * Splits and decodes the fields of one CSV record held as bytes.
 *
 * Source of truth: PostgreSQL docs, runtime-config-logging, "Using CSV-Format Log Output" (and
 * `appendCSVLiteral` in src/backend/utils/error/csvlog.c): a text column is either empty
 * (unquoted, NULL) or wrapped in double quotes with every inner `"` doubled; numeric and time
 * columns are written bare. Newlines inside quotes belong to the field.
 */

/** The decoded fields of a record and the quote state at its last byte. */
export interface CsvSplit {
  /** one entry per column; an empty column (quoted or not) is null */
  fields: (string | null)[];
  /** true when the bytes ended inside a quoted field (a cut or damaged record) */
  endsInQuote: boolean;
}

const QUOTE = 0x22;
const COMMA = 0x2c;

/**
 * Decodes one raw field `buf[start, end)`: strips the enclosing quotes, undoubles inner quotes and
 * decodes UTF-8 (invalid sequences become U+FFFD). A quoted field without its closing quote (a cut
 * record) keeps everything after the opening quote.
 * @param quotes number of `"` bytes in the raw field (more than 2 means doubled quotes inside)
 * @returns the text, or null for an empty field
 */
export function decodeCsvField(buf: Buffer, start: number, end: number, quotes: number): string | null {
  if (start >= end) return null;
  if (buf[start] !== QUOTE) return buf.toString('utf8', start, end);
  const closed = end - start >= 2 && buf[end - 1] === QUOTE;
  const contentEnd = closed ? end - 1 : end;
  if (contentEnd <= start + 1) return null;
  const text = buf.toString('utf8', start + 1, contentEnd);
  return quotes > 2 || (!closed && quotes > 1) ? undoubleQuotes(text) : text;
}

/**
 * Splits `buf[start, end)` (one record without its final newline) into decoded fields.
 * Commas inside quotes do not split; a doubled quote toggles the quote state twice and so stays
 * inside the field.
 */
export function splitCsvFields(buf: Buffer, start: number, end: number): CsvSplit {
  return splitCsvText(buf.toString('utf8', start, end));
}

/** `splitCsvFields` for a record already decoded (`,` and `"` are ASCII: decoding first is safe). */
export function splitCsvText(text: string): CsvSplit {
  const fields: (string | null)[] = [];
  const n = text.length;
  let fieldStart = 0;
  let inQuote = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) inQuote = !inQuote;
    else if (c === COMMA && !inQuote) {
      fields.push(csvFieldText(text, fieldStart, i));
      fieldStart = i + 1;
    }
  }
  fields.push(csvFieldText(text, fieldStart, n));
  return { fields, endsInQuote: inQuote };
}

/**
 * Decodes the raw field `text[start, end)` of a decoded record: as `decodeCsvField`.
 * @returns the text, or null for an empty field
 */
export function csvFieldText(text: string, start: number, end: number): string | null {
  if (start >= end) return null;
  if (text.charCodeAt(start) !== QUOTE) return text.slice(start, end);
  const closed = end - start >= 2 && text.charCodeAt(end - 1) === QUOTE;
  const contentEnd = closed ? end - 1 : end;
  if (contentEnd <= start + 1) return null;
  const content = text.slice(start + 1, contentEnd);
  return undoubleQuotes(content);
}

/**
 * `text.replaceAll('""', '"')` (each doubled quote, left to right, made one), as slices joined
 * with `+`: V8's `replaceAll` costs about 1.7 times as much on the quoted messages csvlog writes.
 * `text` itself when it holds no doubled quote.
 */
export function undoubleQuotes(text: string): string {
  let at = text.indexOf('""');
  if (at < 0) return text;
  let value = '';
  let from = 0;
  do {
    value += text.slice(from, at + 1);
    from = at + 2;
    at = text.indexOf('""', from);
  } while (at >= 0);
  return value + text.slice(from);
}

/**
 * End of the longest prefix of `buf[start, end)` that does not stop inside a UTF-8 sequence, so a
 * record cut at a byte budget does not end in a replacement character.
 */
export function utf8SafeEnd(buf: Buffer, start: number, end: number): number {
  let p = end;
  let continuation = 0;
  while (p > start && continuation < 3 && ((buf[p - 1] as number) & 0xc0) === 0x80) {
    p--;
    continuation++;
  }
  if (p === start) return end;
  const lead = buf[p - 1] as number;
  const needed = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return needed > continuation + 1 ? p - 1 : end;
}

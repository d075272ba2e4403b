import { readFile } from 'node:fs/promises';
import { parseLogFile } from '../helpers/parse-log-file.js';

/** One customer value to look for, and where it came from (never printed as a list). */
export interface Needle {
  value: string;
  /** e.g. `bind parameter`, `generator full name`, `corpus e-mail literal` */
  origin: string;
}

/** One place a needle or a generator-shaped value was found in jaga's output. */
export interface LeakHit {
  /** which capture: `slack #3`, `stderr`, `table jaga_incident`... */
  where: string;
  /** needle origin, or the generator shape's name for pattern hits */
  what: string;
  /** the value found, cut to 40 characters */
  value: string;
}

/** One captured output of jaga, searched as text. */
export interface Capture {
  where: string;
  text: string;
}

/**
 * The layouts of the corpus generator's customer values (shared/corpus/generate/src/schema.mjs, the
 * customers INSERT): e-mail `first.last<n>@example.com|org`, phones `+62 8xx-xxxx-xxxx`,
 * `+44 7700 900xxx`, `+1 555-01xx`, a 16-digit NIK-like national id, and addresses `Jl. <street> No. n`
 * or `<n> <street>, Apt <n><A-D>`. The street alternatives are filled in from schema.mjs.
 */
function generatorShapes(idStreets: readonly string[], enStreets: readonly string[]): { name: string; pattern: RegExp }[] {
  const alternation = (values: readonly string[]): string => values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  return [
    { name: 'generator e-mail shape', pattern: /[a-z]+\.[a-z]+\d+@example\.(?:com|org)/g },
    { name: 'generator phone shape', pattern: /\+62 8\d\d-\d{4}-\d{4}|\+44 7700 900\d{3}|\+1 555-01\d\d/g },
    { name: 'generator national id shape', pattern: /(?<![0-9A-Za-z.])\d{16}(?![0-9A-Za-z])/g },
    { name: 'generator address shape', pattern: new RegExp(`Jl\\. (?:${alternation(idStreets)}) No\\. \\d+|\\d+ (?:${alternation(enStreets)}), Apt \\d+[A-D]`, 'g') },
  ];
}

/**
 * The string constants of one `const NAME = [ ... ];` array in schema.mjs (single- or double-quoted
 * JavaScript strings, `\'` and `\n` escapes decoded).
 * @throws Error when the array is not in the file (the generator changed: update this reader)
 */
function arrayConstant(source: string, name: string): string[] {
  const match = new RegExp(`const ${name} = \\[([\\s\\S]*?)\\];`).exec(source);
  if (!match) throw new Error(`schema.mjs has no array ${name}`);
  const values: string[] = [];
  for (const m of match[1]!.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g)) {
    values.push((m[1] ?? m[2]!).replace(/\\n/g, '\n').replace(/\\(.)/g, '$1'));
  }
  return values;
}

/**
 * Why a bind parameter is not searched for, or null when it is. Two kinds of parameter are the
 * schema's vocabulary rather than customer values, and collide with what jaga must write:
 * - lower-case codes (`^[a-z_]+$`: ticket statuses `resolved`/`pending`, payment methods
 *   `credit_card`, the role names `support_sari` of the support desk's `assigned_to = $1`): jaga names
 *   roles in every incident and has its own `resolved` status;
 * - integers of fewer than 10 digits (row ids such as order 20074): the same digits are row counts and
 *   offsets in jaga's evidence (`rows_read: 20074`). Longer digit strings (national ids) are searched.
 */
function skipReason(value: string): string | null {
  if (/^[a-z_]+$/.test(value)) return 'lower-case code or role name';
  if (/^\d{1,9}$/.test(value)) return 'integer id below 10 digits';
  return null;
}

/** What the generator and the corpus logs give to search for. */
export interface NeedleSet {
  needles: Needle[];
  shapes: { name: string; pattern: RegExp }[];
  /** counts per origin, for the test's report */
  counts: Record<string, number>;
}

/**
 * Builds the search set:
 * - every full name the generator can make (each Indonesian first x last name, each English first x
 *   last name, joined by a space, as the customers INSERT does) and every ticket subject/body line of
 *   5+ characters (free text customers wrote);
 * - every bind parameter of 5 or more characters in `logs` (pgaudit PARAMETER field, parsed by jaga's
 *   own parser: `audit.parameter` arrays), except the codes and short ids of `skipReason` (counted);
 * - every generator-shaped literal (e-mail, phone, national id, address) in the raw text of `logs`;
 * - `extra` values (e.g. the e-mail of the unique-violation fixture).
 * Values are deduplicated; the first origin wins.
 * @param schemaPath shared/corpus/generate/src/schema.mjs (the source of truth of the value lists)
 * @param logs csvlog files to take parameters and literals from
 */
export async function buildNeedles(schemaPath: string, logs: readonly string[], extra: readonly Needle[] = []): Promise<NeedleSet> {
  const source = await readFile(schemaPath, 'utf8');
  const shapes = generatorShapes(arrayConstant(source, 'ID_STREETS'), arrayConstant(source, 'EN_STREETS'));
  const byValue = new Map<string, string>();
  const skips: Record<string, number> = {};
  const add = (value: string, origin: string): void => {
    if (value.length >= 5 && !byValue.has(value)) byValue.set(value, origin);
  };
  for (const needle of extra) add(needle.value, needle.origin);
  for (const [first, last] of [['ID_FIRST', 'ID_LAST'], ['EN_FIRST', 'EN_LAST']] as const) {
    for (const f of arrayConstant(source, first)) for (const l of arrayConstant(source, last)) add(`${f} ${l}`, 'generator full name');
  }
  for (const text of [...arrayConstant(source, 'SUBJECTS'), ...arrayConstant(source, 'BODIES')]) {
    for (const line of text.split('\n')) add(line.trim(), 'generator ticket text');
  }
  for (const log of logs) {
    const parsed = await parseLogFile(log, { format: 'csvlog' });
    for (const event of parsed.events) {
      const parameter = event.audit?.parameter;
      if (!Array.isArray(parameter)) continue;
      for (const value of parameter) {
        if (value === null || value.length < 5) continue;
        const skipped = skipReason(value);
        if (skipped === null) add(value, 'bind parameter');
        else skips[skipped] = (skips[skipped] ?? 0) + 1;
      }
    }
    const raw = await readFile(log, 'utf8');
    for (const shape of shapes) for (const m of raw.matchAll(shape.pattern)) add(m[0], `corpus literal (${shape.name})`);
  }
  const needles = [...byValue].map(([value, origin]) => ({ value, origin }));
  const counts: Record<string, number> = {};
  for (const needle of needles) counts[needle.origin] = (counts[needle.origin] ?? 0) + 1;
  for (const [reason, n] of Object.entries(skips)) counts[`bind parameter occurrences skipped: ${reason}`] = n;
  return { needles, shapes, counts };
}

/** Whether `text` holds `value` as a whole token: not glued to a letter or digit on either side. */
function holdsToken(text: string, value: string): boolean {
  const isWordChar = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{N}_]/u.test(c);
  for (let at = text.indexOf(value); at !== -1; at = text.indexOf(value, at + 1)) {
    const glued = (isWordChar(value[0]) && isWordChar(text[at - 1])) || (isWordChar(value.at(-1)) && isWordChar(text[at + value.length]));
    if (!glued) return true;
  }
  return false;
}

/**
 * Searches every capture for every needle as a whole token (as written, JSON-escaped, and JSON-escaped
 * with non-ASCII characters as `\uXXXX`: captures are often JSON), and for every generator shape.
 * @returns every hit, in capture order (empty = nothing leaked)
 */
export function findLeaks(captures: readonly Capture[], set: NeedleSet): LeakHit[] {
  const hits: LeakHit[] = [];
  const cut = (value: string): string => (value.length > 40 ? `${value.slice(0, 37)}...` : value);
  // as written, JSON-escaped, and JSON-escaped with non-ASCII as \uXXXX (what some encoders emit)
  const searched = set.needles.map((needle) => {
    const escaped = JSON.stringify(needle.value).slice(1, -1);
    const asciiEscaped = escaped.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    return { needle, forms: [...new Set([needle.value, escaped, asciiEscaped])] };
  });
  for (const capture of captures) {
    for (const { needle, forms } of searched) {
      if (forms.some((form) => holdsToken(capture.text, form))) hits.push({ where: capture.where, what: needle.origin, value: cut(needle.value) });
    }
    for (const shape of set.shapes) {
      for (const m of capture.text.matchAll(shape.pattern)) hits.push({ where: capture.where, what: shape.name, value: cut(m[0]) });
    }
  }
  return hits;
}

import { z } from 'zod';
import { ConfigError } from '../domain/errors.js';

/** Milliseconds per duration unit (CONVENTIONS.md rule 3: durations in YAML are strings with units). */
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** One or more `<number><unit>` parts, e.g. `500ms`, `30s`, `1h30m`, `1.5h`. */
const DURATION_SHAPE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;

/**
 * Parses a duration such as `500ms`, `30s`, `5m`, `1h`, `26h`, `7d`, `2w` or a sum of parts
 * (`1h30m`) into whole milliseconds (rounded). Units: ms, s, m, h, d (24 h), w (7 d).
 *
 * @param text the duration as written
 * @param field the config or rule field it came from, named in the error (e.g. `window`)
 * @returns milliseconds, >= 0
 * @throws ConfigError naming `field` when `text` is not a string of that shape (a bare number has no unit and is refused)
 */
export function parseDuration(text: unknown, field: string): number {
  const problem = durationProblem(text);
  if (problem !== null) throw new ConfigError(`${field}: ${problem}`);
  return durationMs(text as string);
}

/**
 * Why `text` is not a duration, or null when it is one. Used by `parseDuration` and `durationSchema`.
 * Example: `durationProblem('60')` → `invalid duration "60": expected a number with a unit ...`.
 */
export function durationProblem(text: unknown): string | null {
  if (typeof text !== 'string' || !DURATION_SHAPE.test(text.trim())) {
    const shown = typeof text === 'string' ? `"${text}"` : JSON.stringify(text) ?? String(text);
    return `invalid duration ${shown}: expected a number with a unit ms, s, m, h, d or w, e.g. 500ms, 30s, 5m, 26h, 7d`;
  }
  return null;
}

function durationMs(text: string): number {
  let total = 0;
  for (const match of text.trim().matchAll(DURATION_PART)) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  }
  return Math.round(total);
}

/**
 * Formats milliseconds with the largest unit that divides them exactly: 90000 → `90s`,
 * 3600000 → `1h`, 93600000 → `26h`, 1500 → `1500ms`, 0 → `0s`.
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit] as number;
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** How a duration field's type error describes what it wants (a bare number has no unit). */
const DURATION_EXPECTED = 'a duration such as 30s, 5m, 1h or 7d';

/**
 * zod schema of a duration field: accepts a string such as `30s` and outputs milliseconds (number).
 * Detector params schemas use it so a rule's `window: 60s` reaches the detector as `60000`.
 */
export const durationSchema = z.string({ error: DURATION_EXPECTED }).transform((text, ctx) => {
  const problem = durationProblem(text);
  if (problem !== null) {
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  return durationMs(text);
});

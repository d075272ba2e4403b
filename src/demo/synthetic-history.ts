import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { ConfigError } from '../domain/errors.js';
import { type CorpusTemplates, loadCorpusTemplates } from './corpus-templates.js';
import { planHistory } from './history-plan.js';
import { type CsvlogChunk, SessionRenderer, formatCsvTime } from './session-renderer.js';

/** Options of `generateSyntheticHistory`. */
export interface SyntheticHistoryOptions {
  /** a labelled corpus folder laid out like shared/corpus/pg15-pgaudit (labels.json + a .csv csvlog) */
  corpusDir: string;
  /** PRNG seed of the history: the same seed (and corpus) gives byte-identical output */
  seed: number;
  /** whole weeks of history (integer >= 1), ending at `endAt` */
  weeks: number;
  /** the history ends before this instant (exclusive); with `includeCorpusRun` it must not be after the corpus's first record */
  endAt: Date;
  /** cap on csvlog records written in total (history + corpus run + held-out day); default 300,000 */
  maxEvents?: number;
  /** append the corpus csvlog unchanged, attacks included, after the history (default false) */
  includeCorpusRun?: boolean;
  /** also write one more normal day, drawn with its own seed, on the first Monday-Friday after the history (and the corpus run) */
  heldOutDay?: { seed: number };
}

/** Default `maxEvents`. */
export const DEFAULT_MAX_HISTORY_EVENTS = 300_000;

/** Where the history's PIDs start (above the corpus run's 14439-16636, so no session id repeats). */
const FIRST_HISTORY_PID = 20_000;

/**
 * Generates a multi-week csvlog history from the corpus's normal traffic (issue 5): its client
 * sessions re-timed across the weeks before `endAt` (humans on weekdays in office hours, support
 * lightly at weekends, the web app around the clock, the report job at 17-19 UTC, `dormant_ops`
 * only in the first week; see `ROLE_SCHEDULES`), with new PIDs and session ids, jittered session
 * lengths and day-to-day volume, then optionally the corpus run unchanged and a held-out normal
 * day. Attack sessions of labels.json are never copied (so no analyst from 127.0.0.3, no
 * support_sari bulk read), except A9's session as the template of `dormant_ops`'s first-week
 * activity. Output: PostgreSQL 15 csvlog text (26 columns, log_timezone UTC), in time order
 * except inside the appended corpus run (kept byte for byte).
 *
 * Memory: the corpus plus the plan (one small object per session) plus about 4,096 pending records.
 * @returns csvlog text chunks, each ending with a newline, in file order
 * @throws ConfigError for an unreadable corpus, `weeks` not a whole number >= 1, `maxEvents` < 1,
 *   an invalid `endAt`, `maxEvents` below the corpus run's records with `includeCorpusRun`, or `endAt` after the corpus's first record with `includeCorpusRun`
 */
export async function* generateSyntheticHistory(options: SyntheticHistoryOptions): AsyncIterable<string> {
  for await (const chunk of generateHistoryChunks(options)) yield chunk.text;
}

/** Summary of a written history. */
export interface WrittenHistory {
  /** csvlog records written */
  records: number;
  /** earliest / latest record time, csvlog text form (`2026-11-29 17:17:16.517 UTC`); '' when nothing was written */
  firstTime: string;
  lastTime: string;
}

/**
 * `generateSyntheticHistory` written to a file (created or truncated).
 * @throws ConfigError as `generateSyntheticHistory`; the file system's error when `path` cannot be written
 */
export async function writeSyntheticHistory(path: string, options: SyntheticHistoryOptions): Promise<WrittenHistory> {
  const out = createWriteStream(path);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  let records = 0;
  let firstMs = Infinity;
  let lastMs = -Infinity;
  try {
    for await (const chunk of generateHistoryChunks(options)) {
      records += chunk.records;
      if (chunk.records > 0) {
        firstMs = Math.min(firstMs, chunk.firstMs);
        lastMs = Math.max(lastMs, chunk.lastMs);
      }
      if (!out.write(chunk.text)) await Promise.race([once(out, 'drain'), failed]);
    }
    out.end();
    await Promise.race([once(out, 'finish'), failed]);
  } finally {
    if (!out.writableFinished) out.destroy();
  }
  return records === 0 ? { records, firstTime: '', lastTime: '' } : { records, firstTime: formatCsvTime(firstMs), lastTime: formatCsvTime(lastMs) };
}

/** The generator behind both exports: chunks with their record counts and time range. */
async function* generateHistoryChunks(options: SyntheticHistoryOptions): AsyncGenerator<CsvlogChunk> {
  const maxEvents = options.maxEvents ?? DEFAULT_MAX_HISTORY_EVENTS;
  const endAtMs = options.endAt.getTime();
  const problems: string[] = [];
  if (!Number.isInteger(options.weeks) || options.weeks < 1) problems.push(`weeks must be a whole number >= 1, not ${options.weeks}`);
  if (!Number.isFinite(maxEvents) || maxEvents < 1) problems.push(`maxEvents must be >= 1, not ${maxEvents}`);
  if (Number.isNaN(endAtMs)) problems.push('endAt is not a valid date');
  if (problems.length > 0) throw new ConfigError(problems.join('; '), problems);
  const templates: CorpusTemplates = await loadCorpusTemplates(options.corpusDir);
  const includeCorpus = options.includeCorpusRun === true;
  if (includeCorpus && endAtMs > templates.firstMs) {
    throw new ConfigError(`endAt ${options.endAt.toISOString()} is after the corpus run's first record (${new Date(templates.firstMs).toISOString()}); the history must end before the run it precedes`);
  }
  if (includeCorpus && maxEvents < templates.csvRecords) {
    throw new ConfigError(`maxEvents ${maxEvents} is smaller than the corpus run it must include (${templates.csvRecords} records)`);
  }
  const plan = planHistory(templates, {
    seed: options.seed,
    weeks: options.weeks,
    endAtMs,
    recordBudget: maxEvents - (includeCorpus ? templates.csvRecords : 0),
    heldOutSeed: options.heldOutDay?.seed ?? null,
    heldOutAfterMs: includeCorpus ? Math.max(endAtMs, templates.lastMs) : endAtMs,
  });
  const renderer = new SessionRenderer(FIRST_HISTORY_PID);
  yield* renderer.render(plan.history);
  if (includeCorpus) {
    const text = templates.csvText.endsWith('\n') ? templates.csvText : `${templates.csvText}\n`;
    yield { text, records: templates.csvRecords, firstMs: templates.firstMs, lastMs: templates.lastMs };
  }
  yield* renderer.render(plan.heldOut);
}

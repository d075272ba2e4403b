import type { PlannedSession } from './history-plan.js';

/** A chunk of csvlog text with what it holds. */
export interface CsvlogChunk {
  text: string;
  /** records in `text` */
  records: number;
  /** earliest / latest record time in the chunk, epoch ms UTC (NaN for an empty chunk) */
  firstMs: number;
  lastMs: number;
}

/** Largest PID Linux hands out by default (`/proc/sys/kernel/pid_max` on 64-bit); PIDs wrap to 300 after it. */
const PID_MAX = 4_194_304;

/** Renders planned sessions, allocating one fresh backend PID per session, as csvlog text in time order. */
export class SessionRenderer {
  private pid: number;

  /** @param firstPid PID of the first session; later sessions get increasing PIDs (step 1-3 by session index) */
  constructor(firstPid: number) {
    this.pid = firstPid;
  }

  /**
   * Yields csvlog chunks (about `chunkRecords` records each) of `sessions` (sorted by `startMs`),
   * merged into time order across overlapping sessions (ties keep session order, then record
   * order). Each copy gets new log_time, process_id, session_id (`<start seconds hex>.<pid hex>`,
   * as PostgreSQL forms it), session_start_time and, for disconnections, session time; every other
   * column is the template's, unchanged.
   */
  *render(sessions: readonly PlannedSession[], chunkRecords = 4096): Generator<CsvlogChunk> {
    let pending: { timeMs: number; seq: number; line: string }[] = [];
    let seq = 0;
    for (const session of sessions) {
      if (pending.length >= chunkRecords) {
        pending.sort(byTimeThenSeq);
        const cut = firstAtOrAfter(pending, session.startMs);
        if (cut > 0) {
          yield toChunk(pending.slice(0, cut));
          pending = pending.slice(cut);
        }
      }
      const pid = this.nextPid(seq);
      const sessionStartMs = session.startMs + session.template.sessionStartOffsetMs;
      const startSeconds = Math.floor(sessionStartMs / 1000);
      const sessionId = `${startSeconds.toString(16)}.${pid.toString(16)}`;
      const startText = `${secondText(startSeconds)} UTC`;
      for (const record of session.template.records) {
        const timeMs = session.startMs + Math.round(record.offsetMs * session.stretch);
        const head = `${formatCsvTime(timeMs)},${record.userDb},${pid},${record.connectionFrom},${sessionId},${record.lineTag},${startText},`;
        const line =
          record.tailAfterDuration === null
            ? `${head}${record.tail}\n`
            : `${head}${record.tail}${formatSessionTime(timeMs - sessionStartMs)}${record.tailAfterDuration}\n`;
        pending.push({ timeMs, seq: seq++, line });
      }
    }
    pending.sort(byTimeThenSeq);
    if (pending.length > 0) yield toChunk(pending);
  }

  private nextPid(seq: number): number {
    const pid = this.pid;
    this.pid += 1 + (seq % 3);
    if (this.pid > PID_MAX) this.pid = 300;
    return pid;
  }
}

/** epoch ms → csvlog log_time `2026-11-29 17:17:16.517 UTC` (log_timezone UTC). */
export function formatCsvTime(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `${secondText(seconds)}.${String(ms - seconds * 1000).padStart(3, '0')} UTC`;
}

let cachedSecond = NaN;
let cachedSecondText = '';

/** epoch seconds → `2026-11-29 17:17:16` (UTC), remembering the last second (records cluster in time). */
function secondText(seconds: number): string {
  if (seconds !== cachedSecond) {
    const iso = new Date(seconds * 1000).toISOString();
    cachedSecond = seconds;
    cachedSecondText = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  }
  return cachedSecondText;
}

/** ms → PostgreSQL's disconnection `session time` text `H:MM:SS.mmm` (hours unpadded). */
function formatSessionTime(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = Math.floor((total % 60_000) / 1000);
  const millis = total % 1000;
  return `${hours}:${String(minutes).padStart(2, '0')}:${String(seconds).padStart(2, '0')}.${String(millis).padStart(3, '0')}`;
}

function byTimeThenSeq(a: { timeMs: number; seq: number }, b: { timeMs: number; seq: number }): number {
  return a.timeMs - b.timeMs || a.seq - b.seq;
}

/** Index of the first entry with `timeMs >= limit` in a sorted array. */
function firstAtOrAfter(sorted: readonly { timeMs: number }[], limit: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid] as { timeMs: number }).timeMs < limit) low = mid + 1;
    else high = mid;
  }
  return low;
}

function toChunk(lines: readonly { timeMs: number; line: string }[]): CsvlogChunk {
  let text = '';
  for (const entry of lines) text += entry.line;
  return { text, records: lines.length, firstMs: (lines[0] as { timeMs: number }).timeMs, lastMs: (lines[lines.length - 1] as { timeMs: number }).timeMs };
}

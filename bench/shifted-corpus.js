// The full-pipeline log: the corpus csvlog repeated until it holds at least N records, each copy moved
// forward in time by the corpus span (+1 s) and given its own backend PIDs, so the daemon sees one
// long, plausible server log (sessions never collide, time only moves forward).
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { BENCH_OUT_DIR, CORPUS_DIR } from './corpus-files.js';

const CORPUS_CSV = join(CORPUS_DIR, 'postgresql-2026-11-29_171716.csv');
/** a csvlog record starts at a line beginning with its log_time */
const RECORD_START = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC,/gm;
const QUOTED = '((?:"(?:[^"]|"")*")?)';
/**
 * The first 9 csvlog columns (PostgreSQL 15, README of the corpus): log_time, user, database, pid,
 * connection_from, session_id (`<start epoch hex>.<pid hex>`), session_line, command_tag, session_start.
 */
const HEAD = new RegExp(`^(\\S+ \\S+) UTC,${QUOTED},${QUOTED},(\\d*),${QUOTED},([0-9a-f]+)\\.([0-9a-f]+),(\\d*),${QUOTED},(?:(\\S+ \\S+) UTC)?,`);
/** PIDs added per copy (the corpus's backends span ~14,400..16,000), cycled after 1,500 copies */
const PID_STEP = 2_000;

const pad = (n, width = 2) => String(n).padStart(width, '0');
/** `YYYY-MM-DD HH:MM:SS` (UTC) of epoch seconds */
const secondsText = (s) => new Date(s * 1000).toISOString().replace('T', ' ').slice(0, 19);
/** `YYYY-MM-DD HH:MM:SS.mmm` (UTC) of epoch ms */
const msText = (ms) => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
};

/** The corpus records as templates: parsed head fields and the untouched rest. */
async function corpusTemplates() {
  const text = await readFile(CORPUS_CSV, 'utf8');
  const starts = [...text.matchAll(RECORD_START)].map((m) => m.index);
  const templates = [];
  for (let i = 0; i < starts.length; i++) {
    const record = text.slice(starts[i], starts[i + 1] ?? text.length);
    const m = HEAD.exec(record);
    const timeMs = Date.parse(`${record.slice(0, 23).replace(' ', 'T')}Z`);
    if (!m) {
      templates.push({ timeMs, raw: record.slice(27) });
      continue;
    }
    templates.push({
      timeMs,
      user: m[2],
      db: m[3],
      pid: m[4] === '' ? null : Number(m[4]),
      conn: m[5],
      sessionStartSec: parseInt(m[6], 16),
      line: m[8],
      tag: m[9],
      startSec: m[10] ? Date.parse(`${m[10].replace(' ', 'T')}Z`) / 1000 : null,
      rest: record.slice(m[0].length),
    });
  }
  return templates;
}

/** One record of copy `k`: times + `shiftMs`, pid + `pidShift`, the session id rebuilt from both. */
function render(t, shiftMs, pidShift) {
  const time = `${msText(t.timeMs + shiftMs)} UTC,`;
  if (t.raw !== undefined) return time + t.raw;
  const shiftSec = shiftMs / 1000;
  const pid = t.pid === null ? null : t.pid + pidShift;
  const session = `${(t.sessionStartSec + shiftSec).toString(16)}.${(pid ?? 0).toString(16)}`;
  const start = t.startSec === null ? '' : `${secondsText(t.startSec + shiftSec)} UTC`;
  return `${time}${t.user},${t.db},${pid ?? ''},${t.conn},${session},${t.line},${t.tag},${start},${t.rest}`;
}

/**
 * Makes sure `bench/out/pipeline-x<copies>/` holds the shifted corpus with at least `minRecords`
 * records (reused while its size matches the sidecar `.meta.json`), alone in its folder so a
 * log_folder source can watch it.
 * @param {number} minRecords e.g. 1,000,000
 * @returns {Promise<{dir: string, path: string, bytes: number, records: number, copies: number, reused: boolean}>}
 * @throws the fs error when the corpus is missing or bench/out is not writable
 */
export async function ensureShiftedCorpus(minRecords) {
  const templates = await corpusTemplates();
  const copies = Math.max(1, Math.ceil(minRecords / templates.length));
  const dir = join(BENCH_OUT_DIR, `pipeline-x${copies}`);
  const path = join(dir, 'postgresql-2026-11-29_171716.csv');
  const metaPath = join(BENCH_OUT_DIR, `pipeline-x${copies}.meta.json`);
  const meta = await readFile(metaPath, 'utf8').then(JSON.parse, () => null);
  const existing = await stat(path).catch(() => null);
  if (meta && existing && existing.size === meta.bytes) return { dir, path, ...meta, copies, reused: true };

  await mkdir(dir, { recursive: true });
  const spanMs = Math.ceil((templates[templates.length - 1].timeMs - templates[0].timeMs) / 1000) * 1000 + 1000;
  const tmp = join(BENCH_OUT_DIR, `pipeline-x${copies}.csv.tmp`);
  const out = createWriteStream(tmp);
  let bytes = 0;
  for (let k = 0; k < copies; k++) {
    const parts = [];
    for (const t of templates) parts.push(render(t, k * spanMs, (k % 1500) * PID_STEP));
    const chunk = parts.join('');
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  await rename(tmp, path);
  const result = { bytes, records: copies * templates.length };
  await writeFile(metaPath, `${JSON.stringify(result)}\n`);
  return { dir, path, ...result, copies, reused: false };
}

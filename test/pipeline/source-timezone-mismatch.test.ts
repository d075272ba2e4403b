import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogFolderSourceConfig } from '../../src/config/daemon-config.js';
import { openStore } from '../../src/db/open-store.js';
import type { Store } from '../../src/db/store.js';
import { createLogger } from '../../src/observe/logger.js';
import { Telemetry } from '../../src/observe/telemetry.js';
import { LogFolderPipelineSource } from '../../src/pipeline/log-folder-pipeline-source.js';

/** A csvlog record (PostgreSQL 15) written at 17:17:<second> in zone `zone`, `n` in its message. */
const csvRecord = (zone: string, second: number, n: number): string =>
  `2026-11-29 17:17:${String(second).padStart(2, '0')}.517 ${zone},"alice","crm",14439,"127.0.0.1:40975",6b0c5e1c.3867,${n},"idle",2026-11-29 17:17:16 ${zone},3/17,0,LOG,00000,"connection authorized: user=alice database=crm",,,,,,,,,"psql","client backend",,0\n`;
const stderrRecord = (zone: string, n: number): string => `2026-11-29 17:18:34.337 ${zone} [14439] LOG:  connection received: host=127.0.0.1 port=${40000 + n}\n`;
const jsonRecord = (zone: string, n: number): string =>
  `{"timestamp":"2026-11-29 17:17:16.517 ${zone}","pid":14439,"session_id":"6b0c5e1c.3867","line_num":${n},"error_severity":"LOG","message":"checkpoint starting: time","backend_type":"checkpointer","query_id":0}\n`;

describe('LogFolderPipelineSource: source_timezone_mismatch, once per source, from the first record', () => {
  let store: Store;
  let root: string;

  beforeAll(async () => {
    store = await openStore({ memory: true });
    root = await mkdtemp(join(tmpdir(), 'jaga-zone-check-'));
  });

  afterAll(async () => {
    await store.close();
    await rm(root, { recursive: true, force: true });
  });

  /**
   * Writes `content` as the only log file of a new folder, reads it through a source named `name` with the
   * given format and timezone until `records` events came, and returns the source's log lines (minus `time`)
   * and the value of each `jaga_source_timezone_mismatch_total` series.
   */
  async function readFolder(name: string, format: LogFolderSourceConfig['format'], timezone: string, file: string, content: string, records: number) {
    const dir = join(root, name);
    await mkdir(dir);
    await writeFile(join(dir, file), content);
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line.trim() === '') continue;
          const { time: _time, ...rest } = JSON.parse(line) as Record<string, unknown>;
          lines.push(rest);
        }
        done();
      },
    });
    const telemetry = new Telemetry(createLogger({ level: 'warn', stream }), new Registry(), { flushBeforeExit: false });
    const source = await LogFolderPipelineSource.open(
      { type: 'log_folder', name, path: dir, format, glob: null, logLinePrefix: null, timezone, startAt: 'beginning', server: 'crm' },
      { store, agent: 'test', enricher: null, telemetry },
    );
    const abort = new AbortController();
    let events = 0;
    for await (const batch of source.batches(abort.signal)) {
      events += batch.events.length;
      if (events >= records) abort.abort();
    }
    await source.stop();
    await new Promise((resolve) => setImmediate(resolve));
    const metric = (await telemetry.registry.getSingleMetric('jaga_source_timezone_mismatch_total')?.get())?.values ?? [];
    return { lines: lines.filter((line) => line.event === 'source_timezone_mismatch'), metric: metric.map((v) => [{ ...v.labels }, v.value]), events };
  }

  it('warns once for a csvlog folder written in WIB read with the default UTC: one line with the zone text and offsets only, metric 1', async () => {
    // 3,000 records, several 256 KiB reads: still one report
    const content = Array.from({ length: 3_000 }, (_, i) => csvRecord('WIB', 16 + (i % 40), i + 1)).join('');
    const { lines, metric, events } = await readFolder('jakarta', 'csvlog', 'UTC', 'postgresql-2026-11-29_171716.csv', content, 3_000);
    expect(events).toBe(3_000);
    expect(lines).toEqual([
      {
        level: 'warn',
        message: 'source_timezone_mismatch',
        event: 'source_timezone_mismatch',
        source: 'jakarta',
        zone_text: 'WIB',
        zone_text_offsets: 'UTC+07:00',
        timezone: 'UTC',
        timezone_offset: 'UTC+00:00',
        description: 'log times say "WIB" (UTC+07:00) but the source\'s timezone is UTC (UTC+00:00)',
      },
    ]);
    expect(metric).toEqual([[{ source: 'jakarta' }, 1]]);
    // nothing of the records beyond the zone text: no role, database, message or time
    expect(JSON.stringify(lines)).not.toMatch(/alice|crm|connection|2026/);
  });

  it('says nothing when the configured zone matches: WIB read as Asia/Jakarta', async () => {
    const content = Array.from({ length: 50 }, (_, i) => csvRecord('WIB', 10 + i, i + 1)).join('');
    const { lines, metric, events } = await readFolder('jakarta-ok', 'csvlog', 'Asia/Jakarta', 'postgresql-2026-11-29_171716.csv', content, 50);
    expect(events).toBe(50);
    expect(lines).toEqual([]);
    expect(metric).toEqual([]);
  });

  it('reads the zone from the stderr prefix (%m) and the jsonlog timestamp', async () => {
    const stderr = await readFolder('berlin', 'stderr', 'UTC', 'postgresql-2026-11-29_171716.log', Array.from({ length: 5 }, (_, i) => stderrRecord('CET', i)).join(''), 5);
    expect(stderr.lines.map((line) => [line.source, line.zone_text, line.zone_text_offsets, line.timezone_offset])).toEqual([['berlin', 'CET', 'UTC+01:00', 'UTC+00:00']]);
    expect(stderr.metric).toEqual([[{ source: 'berlin' }, 1]]);
    const stderrOk = await readFolder('berlin-ok', 'stderr', 'Europe/Berlin', 'postgresql-2026-11-29_171716.log', Array.from({ length: 5 }, (_, i) => stderrRecord('CET', i)).join(''), 5);
    expect([stderrOk.lines, stderrOk.metric]).toEqual([[], []]);
    const json = await readFolder('bangkok', 'jsonlog', 'Asia/Jakarta', 'postgresql-2026-11-29_171716.json', Array.from({ length: 5 }, (_, i) => jsonRecord('+08', i + 1)).join(''), 5);
    expect(json.lines.map((line) => line.description)).toEqual(['log times say "+08" (UTC+08:00) but the source\'s timezone is Asia/Jakarta (UTC+07:00)']);
    expect(json.metric).toEqual([[{ source: 'bangkok' }, 1]]);
    const jsonOk = await readFolder('bangkok-ok', 'jsonlog', 'UTC', 'postgresql-2026-11-29_171716.json', Array.from({ length: 5 }, (_, i) => jsonRecord('UTC', i + 1)).join(''), 5);
    expect([jsonOk.lines, jsonOk.metric]).toEqual([[], []]);
  });
});

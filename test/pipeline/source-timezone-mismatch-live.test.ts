/**
 * source_timezone_mismatch from the zone text a real PostgreSQL 15 writes: a cluster whose
 * log_timezone is Asia/Jakarta prints `WIB` in its stderr `%m`, csvlog `log_time` and jsonlog
 * `timestamp`; a source configured with UTC (jaga's default) is warned about, one with Asia/Jakarta is not.
 */
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogFolderSourceConfig } from '../../src/config/daemon-config.js';
import { openStore } from '../../src/db/open-store.js';
import type { Store } from '../../src/db/store.js';
import { createLogger } from '../../src/observe/logger.js';
import { Telemetry } from '../../src/observe/telemetry.js';
import { LogFolderPipelineSource } from '../../src/pipeline/log-folder-pipeline-source.js';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';

let cluster: PgCluster;
let store: Store;
beforeAll(async () => {
  cluster = await startPgCluster({ timezone: 'Asia/Jakarta' });
  await cluster.query('SELECT 1');
  store = await openStore({ memory: true });
});
afterAll(async () => {
  await store?.close();
  await cluster?.stop();
});

/** Reads the cluster's log folder in `format` with `timezone` until the first events; the source's mismatch lines and metric. */
async function firstEvents(name: string, format: LogFolderSourceConfig['format'], timezone: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const telemetry = new Telemetry(createLogger({ level: 'warn', stream }), new Registry(), { flushBeforeExit: false });
  const source = await LogFolderPipelineSource.open(
    { type: 'log_folder', name, path: cluster.logDir, format, glob: null, logLinePrefix: cluster.log_line_prefix, timezone, startAt: 'beginning', server: 'live' },
    { store, agent: 'test', enricher: null, telemetry },
  );
  const abort = new AbortController();
  for await (const batch of source.batches(abort.signal)) if (batch.events.length > 0) abort.abort();
  await source.stop();
  await new Promise((resolve) => setImmediate(resolve));
  const metric = (await telemetry.registry.getSingleMetric('jaga_source_timezone_mismatch_total')?.get())?.values ?? [];
  return {
    lines: lines.filter((line) => line.event === 'source_timezone_mismatch').map(({ time: _time, ...rest }) => rest),
    metric: metric.map((v) => [{ ...v.labels }, v.value]),
  };
}

describe('source_timezone_mismatch on a live cluster with log_timezone Asia/Jakarta', () => {
  for (const format of ['stderr', 'csvlog', 'jsonlog'] as const) {
    it(`${format}: warns a UTC source once with WIB's offset, and says nothing to an Asia/Jakarta source`, async () => {
      expect(await firstEvents(`${format}-utc`, format, 'UTC')).toEqual({
        lines: [
          {
            level: 'warn',
            message: 'source_timezone_mismatch',
            event: 'source_timezone_mismatch',
            source: `${format}-utc`,
            zone_text: 'WIB',
            zone_text_offsets: 'UTC+07:00',
            timezone: 'UTC',
            timezone_offset: 'UTC+00:00',
            description: 'log times say "WIB" (UTC+07:00) but the source\'s timezone is UTC (UTC+00:00)',
          },
        ],
        metric: [[{ source: `${format}-utc` }, 1]],
      });
      expect(await firstEvents(`${format}-jakarta`, format, 'Asia/Jakarta')).toEqual({ lines: [], metric: [] });
    });
  }
});

import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observe/logger.js';
import { Telemetry, type TelemetryOptions } from '../../src/observe/telemetry.js';

const T0 = Date.parse('2026-11-30T00:00:00.000Z');

/** a Telemetry writing JSON lines (minus `time`) into `lines`, on a hand-driven clock */
function harness(options: TelemetryOptions = {}, level: 'debug' | 'info' | 'warn' = 'debug') {
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
  let nowMs = T0;
  const telemetry = new Telemetry(createLogger({ level, stream }), new Registry(), { now: () => nowMs, flushBeforeExit: false, ...options });
  /** lines reach the stream asynchronously (winston): wait for them */
  const settled = async (): Promise<Record<string, unknown>[]> => {
    await new Promise((resolve) => setImmediate(resolve));
    return lines;
  };
  return { telemetry, settled, advance: (ms: number) => (nowMs += ms) };
}

async function counterValues(telemetry: Telemetry, name: string): Promise<[Record<string, string | number>, number][]> {
  const values = (await telemetry.registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.map((v) => [{ ...v.labels } as Record<string, string | number>, v.value]);
}

const PARSE_FAILURE = { name: 'parse_failure', help: 'Log records that could not be parsed.', level: 'warn', labels: ['format', 'reason'] } as const;

describe('Telemetry: log lines rate-limited per event name, metrics never', () => {
  it('logs the first 10 reports of a flood, counts all of them, and says at flush how many lines were not logged', async () => {
    const { telemetry, settled, advance } = harness();
    const failed = telemetry.declare(PARSE_FAILURE);
    for (let i = 0; i < 25; i++) {
      failed({ format: 'stderr', reason: 'no_prefix' }, { file: '/logs/a.csv', offset: i * 100, byte_length: 100 });
      advance(10);
    }
    telemetry.flush();
    const lines = await settled();
    expect(lines.length).toBe(11);
    expect(lines[0]).toEqual({ level: 'warn', message: 'parse_failure', event: 'parse_failure', format: 'stderr', reason: 'no_prefix', file: '/logs/a.csv', offset: 0, byte_length: 100 });
    expect(lines.slice(0, 10).map((l) => l.offset)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    // the summary carries the name and counts only: nothing from the reports' fields
    expect(lines[10]).toEqual({ level: 'warn', message: 'log_suppressed', event: 'log_suppressed', name: 'parse_failure', suppressed: 15, since: '2026-11-30T00:00:00.100Z', max_lines: 10, interval_ms: 60_000 });
    expect(await counterValues(telemetry, 'jaga_parse_failure_total')).toEqual([[{ format: 'stderr', reason: 'no_prefix' }, 25]]);
    expect(await counterValues(telemetry, 'jaga_log_suppressed_total')).toEqual([[{ event: 'parse_failure' }, 15]]);
  });

  it('writes the summary when the interval is over, before the first line of the next interval', async () => {
    const { telemetry, settled, advance } = harness({ maxLinesPerInterval: 2, intervalMs: 1_000 });
    const failed = telemetry.declare(PARSE_FAILURE);
    for (let i = 0; i < 5; i++) failed({ format: 'csvlog', reason: 'bad_csv' }, { offset: i });
    advance(1_000);
    failed({ format: 'csvlog', reason: 'bad_csv' }, { offset: 5 });
    const lines = await settled();
    expect(lines.map((l) => [l.event, l.offset ?? l.suppressed])).toEqual([
      ['parse_failure', 0],
      ['parse_failure', 1],
      ['log_suppressed', 3],
      ['parse_failure', 5],
    ]);
  });

  it('keeps a separate budget per event name and gives the summary the level of the event', async () => {
    const { telemetry, settled } = harness({ maxLinesPerInterval: 1 });
    const failed = telemetry.declare(PARSE_FAILURE);
    const connected = telemetry.declare({ name: 'app_access_listener_lost', help: 'lost', level: 'error', labels: ['source'] });
    failed({ format: 'csvlog', reason: 'bad_csv' });
    connected({ source: 'app' });
    failed({ format: 'csvlog', reason: 'bad_csv' });
    connected({ source: 'app' });
    connected({ source: 'app' });
    telemetry.close();
    const lines = await settled();
    expect(lines.map((l) => [l.level, l.event, l.name ?? l.event, l.suppressed ?? null])).toEqual([
      ['warn', 'parse_failure', 'parse_failure', null],
      ['error', 'app_access_listener_lost', 'app_access_listener_lost', null],
      ['warn', 'log_suppressed', 'parse_failure', 1],
      ['error', 'log_suppressed', 'app_access_listener_lost', 2],
    ]);
  });

  it('reports with a count: the line keeps `count`, the summary adds `occurrences` when it differs from the lines', async () => {
    const { telemetry, settled } = harness({ maxLinesPerInterval: 1 });
    const rows = telemetry.declare({ name: 'app_access_rows_read', help: 'rows', level: 'warn', labels: ['source'] });
    rows({ source: 'app' }, undefined, 50);
    rows({ source: 'app' }, undefined, 20);
    rows({ source: 'app' }, undefined, 30);
    telemetry.flush();
    const lines = await settled();
    expect(lines).toEqual([
      { level: 'warn', message: 'app_access_rows_read', event: 'app_access_rows_read', source: 'app', count: 50 },
      { level: 'warn', message: 'log_suppressed', event: 'log_suppressed', name: 'app_access_rows_read', suppressed: 2, occurrences: 50, since: '2026-11-30T00:00:00.000Z', max_lines: 1, interval_ms: 60_000 },
    ]);
    expect(await counterValues(telemetry, 'jaga_app_access_rows_read_total')).toEqual([[{ source: 'app' }, 100]]);
  });

  it('never limits info and debug lines by default (commits, deliveries): only warnings and errors', async () => {
    const { telemetry, settled } = harness({ maxLinesPerInterval: 1 }, 'info');
    const committed = telemetry.declare({ name: 'pipeline_commit', help: 'commits', level: 'info', labels: [] });
    for (let i = 0; i < 25; i++) committed({}, { events: i });
    telemetry.flush();
    const lines = await settled();
    expect(lines.map((l) => l.events)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(await counterValues(telemetry, 'jaga_log_suppressed_total')).toEqual([]);
  });

  it('does not spend the budget on a level the logger drops', async () => {
    const { telemetry, settled } = harness({ maxLinesPerInterval: 1 }, 'info');
    const failedDebug = telemetry.declare({ name: 'pipeline_commit_failed', help: 'failures', level: 'debug', labels: [], maxLinesPerInterval: 1 });
    const failedWarn = telemetry.declare({ name: 'pipeline_commit_failed', help: 'failures', level: 'warn', labels: [] });
    for (let i = 0; i < 5; i++) failedDebug({}, { attempt: i });
    failedWarn({}, { attempt: 9 });
    telemetry.flush();
    expect(await settled()).toEqual([{ level: 'warn', message: 'pipeline_commit_failed', event: 'pipeline_commit_failed', attempt: 9 }]);
    expect(await counterValues(telemetry, 'jaga_pipeline_commit_failed_total')).toEqual([[{}, 6]]);
    expect(await counterValues(telemetry, 'jaga_log_suppressed_total')).toEqual([]);
  });

  it('lets a declaration set its own limit (every line of a bounded list)', async () => {
    const { telemetry, settled } = harness({ maxLinesPerInterval: 1 });
    const problem = telemetry.declare({ name: 'rules_reload_problem', help: 'problems', level: 'error', labels: [], maxLinesPerInterval: Infinity });
    for (let i = 0; i < 4; i++) problem({}, { problem: `rules/a.yaml:${i + 1}: bad` });
    telemetry.flush();
    expect((await settled()).map((l) => l.problem)).toEqual(['rules/a.yaml:1: bad', 'rules/a.yaml:2: bad', 'rules/a.yaml:3: bad', 'rules/a.yaml:4: bad']);
  });

  it('logs every report with no limit (maxLinesPerInterval Infinity)', async () => {
    const { telemetry, settled } = harness({ maxLinesPerInterval: Infinity });
    const failed = telemetry.declare(PARSE_FAILURE);
    for (let i = 0; i < 30; i++) failed({ format: 'jsonlog', reason: 'bad_json' });
    telemetry.close();
    expect((await settled()).length).toBe(30);
  });

  it('reserves the name log_suppressed and shares its counter between instances on one registry', () => {
    const registry = new Registry();
    const logger = createLogger({ stream: new Writable({ write: (_c, _e, done) => done() }) });
    const telemetry = new Telemetry(logger, registry, { flushBeforeExit: false });
    expect(() => telemetry.declare({ name: 'log_suppressed', help: 'x', level: 'warn', labels: [] })).toThrow('internal event name log_suppressed is reserved');
    expect(() => new Telemetry(logger, registry, { flushBeforeExit: false })).not.toThrow();
    expect(registry.getMetricsAsArray().map((m) => m.name)).toEqual(['jaga_log_suppressed_total']);
  });
});

import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observe/logger.js';
import { Telemetry } from '../../src/observe/telemetry.js';
import { appAccessRowToEvent, createAppAccessBatchParser, type AppAccessRowInput } from '../../src/parse/app-access-parser.js';

const SOURCE = { id: 'crm-db' };

function row(overrides: Partial<AppAccessRowInput> = {}): AppAccessRowInput {
  return {
    id: '42',
    txid: '7381',
    time: '2024-05-01T08:15:02.120Z',
    actor: 'alice@example.com',
    action: 'export',
    subject_table: 'public.customers',
    subject_id: null,
    row_count: '250',
    client_addr: '10.1.2.3',
    application_name: 'crm-web',
    detail: '{"reason": "quarterly audit", "filters": {"country": "ID"}}',
    ...overrides,
  };
}

describe('appAccessRowToEvent', () => {
  it('maps a row to an app_access event with every non-app field null or false', () => {
    expect(appAccessRowToEvent(row(), SOURCE)).toEqual({
      id: 'crm-db:table:42',
      time: '2024-05-01T08:15:02.120Z',
      server: 'crm-db',
      source: { id: 'crm-db', file: null, fingerprint: null, offset: 42 },
      kind: 'app_access',
      user: 'alice@example.com',
      database: null,
      client_addr: '10.1.2.3',
      client_port: null,
      application_name: 'crm-web',
      pid: null,
      session_id: null,
      session_line: null,
      backend_type: null,
      severity: null,
      sqlstate: null,
      message: null,
      detail: null,
      hint: null,
      context: null,
      statement: null,
      session_duration_ms: null,
      truncated: false,
      audit: null,
      query: null,
      app: {
        actor: 'alice@example.com',
        action: 'export',
        subject_table: 'public.customers',
        subject_id: null,
        row_count: 250,
        detail: { reason: 'quarterly audit', filters: { country: 'ID' } },
      },
    });
  });

  it('keeps SQL NULL detail and row_count as null', () => {
    const event = appAccessRowToEvent(row({ detail: null, row_count: null, client_addr: null }), SOURCE);
    expect('reason' in event).toBe(false);
    if ('reason' in event) return;
    expect(event.app).toEqual({ actor: 'alice@example.com', action: 'export', subject_table: 'public.customers', subject_id: null, row_count: null, detail: null });
    expect(event.client_addr).toBeNull();
  });

  it.each([
    ['a JSON array', '[1, 2]'],
    ['a JSON string', '"free text"'],
    ['a JSON number', '17'],
    ['JSON null', 'null'],
    ['text that is not JSON', '{"unterminated": '],
  ])('fails with bad_json and the row id (no content) when detail is %s', (_what, detail) => {
    const r = row({ id: '7', detail });
    const bytes = ['7', '7381', '2024-05-01T08:15:02.120Z', 'alice@example.com', 'export', 'public.customers', '250', '10.1.2.3', 'crm-web', detail]
      .reduce((n, s) => n + Buffer.byteLength(s), 0);
    expect(appAccessRowToEvent(r, SOURCE)).toEqual({
      reason: 'bad_json',
      source: { id: 'crm-db', file: null, fingerprint: null, offset: 7 },
      byteLength: bytes,
    });
  });

  it.each([
    ['null (infinity in the table)', null],
    ['a five-digit year', '12024-05-01T08:15:02.120Z'],
    ['a time without milliseconds', '2024-05-01T08:15:02Z'],
    ['an impossible date', '2024-13-45T08:15:02.120Z'],
  ])('fails with bad_timestamp when time is %s', (_what, time) => {
    const out = appAccessRowToEvent(row({ time }), SOURCE);
    expect('reason' in out && out.reason).toBe('bad_timestamp');
  });

  it('counts the byte length of multibyte values in UTF-8', () => {
    const out = appAccessRowToEvent(row({ id: '1', txid: '2', time: null, actor: 'é', action: null, subject_table: null, row_count: null, client_addr: null, application_name: null, detail: null }), SOURCE);
    expect(out).toEqual({ reason: 'bad_timestamp', source: { id: 'crm-db', file: null, fingerprint: null, offset: 1 }, byteLength: 4 });
  });
});

describe('createAppAccessBatchParser', () => {
  it('skips bad rows, counts them by reason and logs the row id without the row content', async () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    const telemetry = new Telemetry(createLogger({ stream }));
    const parse = createAppAccessBatchParser(telemetry);

    const result = parse({
      sourceId: 'crm-db',
      rows: [row({ id: '1' }), row({ id: '2', detail: '["secret-customer-value"]' }), row({ id: '3', time: null }), row({ id: '4' })],
    });

    expect(result.events.map((e) => e.id)).toEqual(['crm-db:table:1', 'crm-db:table:4']);
    expect(result.failures.map((f) => [f.reason, f.source.offset])).toEqual([['bad_json', 2], ['bad_timestamp', 3]]);
    const metric = await telemetry.registry.getSingleMetric('jaga_app_access_bad_row_total')?.get();
    expect(metric?.values.map((v) => [v.labels, v.value])).toEqual([
      [{ source: 'crm-db', reason: 'bad_json' }, 1],
      [{ source: 'crm-db', reason: 'bad_timestamp' }, 1],
    ]);
    await new Promise((resolve) => setImmediate(resolve));
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged.map((l) => [l.level, l.event, l.source, l.reason, l.row_id])).toEqual([
      ['warn', 'app_access_bad_row', 'crm-db', 'bad_json', '2'],
      ['warn', 'app_access_bad_row', 'crm-db', 'bad_timestamp', '3'],
    ]);
    expect(lines.join('\n')).not.toContain('secret-customer-value');
  });
});

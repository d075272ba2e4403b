import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AccessEvent } from '../../src/domain/access-event.js';
import { createEventBuilder } from '../../src/parse/event-builder.js';
import type { LogFormat } from '../../src/parse/log-format.js';
import { type LogParser, type LogParserOptions, type ParseOutput, createLogParser } from '../../src/parse/log-parser.js';
import { StatementOnceTracker } from '../../src/parse/statement-once-tracker.js';

const CORPUS = '../../../shared/corpus/pg15-pgaudit/postgresql-2026-11-29_171716';
const corpus = (ext: string): Buffer => readFileSync(new URL(`${CORPUS}.${ext}`, import.meta.url));
const PREFIX = '%m [%p] %q%u@%d %r %a: ';
const SOURCE = { id: 'db1', file: '/var/log/pg.log', fingerprint: 'fp' };

const formats: [LogFormat, string][] = [
  ['stderr', 'log'],
  ['csvlog', 'csv'],
  ['jsonlog', 'json'],
];

type Options = Omit<LogParserOptions, 'startOffset' | 'builder'>;

/** A new parser of `options` started at `startOffset` on a builder with a new memory. */
function freshParser(options: Options, startOffset: number, memory = new StatementOnceTracker()): LogParser {
  return createLogParser({ ...options, startOffset, builder: createEventBuilder({ server: options.server, statementMemory: memory }) });
}

/** What `parser` gives for `bytes` pushed in `chunkBytes` chunks, then `end`, with its state after. */
function run(parser: LogParser, bytes: Buffer, chunkBytes: number): { outputs: ParseOutput[]; records: number; safeOffset: number } {
  const outputs: ParseOutput[] = [];
  for (let i = 0; i < bytes.length; i += chunkBytes) parser.pushTo(bytes.subarray(i, Math.min(i + chunkBytes, bytes.length)), outputs);
  parser.flushTo(outputs);
  parser.endTo(outputs);
  return { outputs, records: parser.records, safeOffset: parser.safeOffset };
}

/** The first line start at or after `at`. */
function lineStartFrom(data: Buffer, at: number): number {
  return data.indexOf(0x0a, at - 1) + 1;
}

describe('LogParser.restart', () => {
  for (const [format, extension] of formats) {
    it(`${format}: restarted while holding bytes of an unfinished record, it parses the rest of the corpus exactly as a fresh parser`, () => {
      const data = corpus(extension);
      const options: Options = { format, logLinePrefix: PREFIX, server: 'db1', source: SOURCE };
      const reused = freshParser(options, 0);
      let restarts = 0;
      for (let cut = 40_001; cut < data.length; cut += 173_003) {
        // leave the parser mid-record: a partial line held, and for stderr an open record too
        const before = lineStartFrom(data, cut - 30_000);
        reused.restart(before, new StatementOnceTracker());
        reused.pushTo(data.subarray(before, cut), []);
        expect(reused.safeOffset).toBeLessThan(cut);
        if (format === 'stderr') expect(reused.restartable).toBe(false);
        const start = lineStartFrom(data, cut + 7_919);
        reused.restart(start, new StatementOnceTracker());
        const window = data.subarray(start, start + 150_000);
        const again = run(reused, window, 8192);
        const fresh = run(freshParser(options, start), window, 8192);
        expect(again.outputs.length).toBeGreaterThan(100);
        expect(again).toEqual(fresh);
        restarts++;
      }
      expect(restarts).toBeGreaterThan(3);
    });
  }

  it('csvlog and jsonlog: a record over maxRecordBytes being consumed at the restart is dropped, not continued', () => {
    const long = 'x'.repeat(300);
    const csv = (pid: number, message: string): string =>
      `2026-11-29 17:17:16.517 UTC,"alice","app",${pid},"[local]",6929a57c.3867,1,"SELECT",2026-11-29 17:17:16 UTC,3/7,0,LOG,00000,"${message}",,,,,,,,,"psql","client backend",,0\n`;
    const json = (pid: number, message: string): string =>
      `{"timestamp":"2026-11-29 17:17:16.517 UTC","user":"alice","dbname":"app","pid":${pid},"error_severity":"LOG","message":"${message}"}\n`;
    for (const [format, line] of [['csvlog', csv], ['jsonlog', json]] as const) {
      const options: Options = { format, maxRecordBytes: 1024, server: 'db1', source: SOURCE };
      const reused = freshParser(options, 0);
      const big = Buffer.from(line(1, long.repeat(10)));
      reused.pushTo(big.subarray(0, 2000), []);
      expect(reused.restartable).toBe(false);
      const rest = Buffer.from(`${line(2, 'short')}${line(3, long)}`);
      reused.restart(5000, new StatementOnceTracker());
      expect(reused.restartable).toBe(true);
      expect(reused.safeOffset).toBe(5000);
      const again = run(reused, rest, 7);
      const fresh = run(freshParser(options, 5000), rest, 7);
      expect(again.outputs.map((out) => [(out as AccessEvent).pid, (out as AccessEvent).source.offset, (out as AccessEvent).truncated])).toEqual([
        [2, 5000, false],
        [3, 5000 + Buffer.byteLength(line(2, 'short')), false],
      ]);
      expect(again).toEqual(fresh);
    }
  });

  it('stderr: an open record cut at maxRecordBytes, and a held partial line, are dropped at the restart', () => {
    const options: Options = { format: 'stderr', logLinePrefix: '%m [%p] ', maxRecordBytes: 1024, server: 'db1', source: SOURCE };
    const reused = freshParser(options, 0);
    reused.pushTo(Buffer.from(`2026-11-29 17:17:16.517 UTC [7] ERROR:  ${'y'.repeat(2000)}\n\tmore\n2026-11-29 17:17:16.518 UTC [7] STATEMENT:  SEL`), []);
    expect(reused.records).toBe(0);
    const rest = Buffer.from('\tcontinued line\n2026-11-29 17:17:17.000 UTC [8] LOG:  connection received: host=[local]\n2026-11-29 17:17:17.001 UTC [8] ERROR:  boom at character 5\n');
    reused.restart(100, new StatementOnceTracker());
    expect([reused.records, reused.safeOffset, reused.restartable]).toEqual([0, 100, true]);
    const again = run(reused, rest, 5);
    const fresh = run(freshParser(options, 100), rest, 5);
    expect(again.outputs.map((out) => ('kind' in out ? [out.kind, out.source.offset, out.message] : [out.reason, out.source.offset]))).toEqual([
      ['bad_prefix', 100],
      ['connection', 116, 'connection received: host=[local]'],
      ['error', 188, 'boom'],
    ]);
    expect(again).toEqual(fresh);
  });

  it('uses the memory given at the restart for log_statement_once: the one before it is not consulted', () => {
    const audit = (pid: number, statement: string, parameter: string): string =>
      `2026-11-29 17:17:16.517 UTC [${pid}] LOG:  AUDIT: SESSION,4,1,READ,SELECT,TABLE,public.t,${statement},${parameter}\n`;
    const options: Options = { format: 'stderr', logLinePrefix: '%m [%p] ', server: 'db1', source: SOURCE };
    const first = Buffer.from(audit(7, 'select * from t', '<none>'));
    const later = Buffer.from(audit(7, '<previously logged>', '<previously logged>'));
    const statementOf = (out: ParseOutput | undefined): string | undefined => (out as AccessEvent).audit?.statement;

    const reused = freshParser(options, 0);
    expect(statementOf(run(reused, first, 64).outputs[0])).toBe('select * from t');
    // a new memory: as a fresh parser, the placeholder stays
    reused.restart(first.length, new StatementOnceTracker());
    const again = run(reused, later, 64);
    expect(statementOf(again.outputs[0])).toBe('<previously logged>');
    expect(again).toEqual(run(freshParser(options, first.length), later, 64));

    // a memory that saw the first entry (the file's): the statement is carried
    const fileMemory = new StatementOnceTracker();
    run(freshParser(options, 0, fileMemory), first, 64);
    reused.restart(first.length, fileMemory);
    const carried = run(reused, later, 64);
    expect(statementOf(carried.outputs[0])).toBe('select * from t');
    expect((carried.outputs[0] as AccessEvent).audit?.parameter).toBe('<none>');
  });
});

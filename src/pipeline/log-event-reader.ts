import type { AccessEvent, ParseFailure } from '../domain/access-event.js';
import type { QueryEnricher } from '../enrich/query-enricher.js';
import type { InternalEventReporter } from '../observe/telemetry.js';
import { createEventBuilder } from '../parse/event-builder.js';
import type { LogFormat } from '../parse/log-format.js';
import { type LogParser, createLogParser, isParseFailure } from '../parse/log-parser.js';
import type { FileChunk } from '../sources/file-chunk.js';
import type { LogFolderSource } from '../sources/log-folder-source.js';
import { SourceZoneCheck, type ZoneMismatchReporter } from './source-zone-check.js';

/** Parser settings of one log folder source. */
export interface LogEventReaderOptions {
  /** the server's exact `log_line_prefix` (stderr only) */
  logLinePrefix?: string;
  /** IANA zone of the server's `log_timezone` (default UTC) */
  timezone?: string;
  /** largest record kept whole, bytes (default 1 MiB) */
  maxRecordBytes?: number;
  /** adds `query` facts to events when given */
  enricher?: QueryEnricher | null;
  /** reports each parse failure (counted and logged without content) */
  onFailure?: InternalEventReporter<'source' | 'format' | 'reason'>;
  /** reports once when the first record's zone text contradicts `timezone` (see `SourceZoneCheck`); no check without it */
  onZoneMismatch?: ZoneMismatchReporter;
}

/** Events parsed from one chunk, and the position that is safe to acknowledge once they are delivered. */
export interface LogEventBatch {
  events: AccessEvent[];
  failures: ParseFailure[];
  /** file fingerprint and byte offset after the last record of this batch (null: nothing to acknowledge) */
  position: { fingerprint: string; offset: number } | null;
  /** bytes of the file chunk this batch was parsed from (0 for a flush of held records) */
  bytesRead: number;
}

/**
 * Wires a `LogFolderSource` to the parse (and optionally enrich) stages: one incremental parser
 * per file (keyed by FileFingerprint, started at the chunk's offset), one event builder per source
 * (pgaudit `log_statement_once` state spans rotated files). `idle` chunks flush records held for
 * DETAIL/STATEMENT lines; `end` chunks finish a rotated-away file. When the source moves on from one
 * file to another (it reads older files first, so the previous file had nothing unread), the previous
 * file's held record is flushed first: a rotated file that stays in the folder would otherwise keep
 * its last record until the source next catches up with every file, delivering it out of order.
 *
 * The reader pulls one chunk at a time, so backpressure reaches the source: nothing is read ahead
 * of the consumer. Acknowledge `position` back to the source only after the batch's events are
 * delivered (written, committed).
 */
export class LogEventReader {
  private readonly parsers = new Map<string, LogParser>();
  private readonly builder;
  /** fingerprint of the file the last data chunk came from (null: none, or it ended) */
  private current: string | null = null;
  /** checks the first record's zone text against `options.timezone` (null: no reporter, or done) */
  private zoneCheck: SourceZoneCheck | null;

  constructor(
    private readonly source: LogFolderSource,
    private readonly server: string,
    private readonly options: LogEventReaderOptions = {},
  ) {
    this.builder = createEventBuilder({ server });
    this.zoneCheck = options.onZoneMismatch ? new SourceZoneCheck(source.id, { logLinePrefix: options.logLinePrefix, timezone: options.timezone }, options.onZoneMismatch) : null;
  }

  /** Batches in read order until `signal` aborts (the source then ends its iteration). */
  async *batches(signal: AbortSignal): AsyncGenerator<LogEventBatch> {
    for await (const chunk of this.source.chunks(signal)) {
      if (chunk.type !== 'idle') {
        if (this.current !== null && this.current !== chunk.fingerprint) {
          const flushed = this.flushPrevious(this.current);
          if (flushed) yield flushed;
        }
        this.current = chunk.type === 'end' ? null : chunk.fingerprint;
      }
      const batch = this.consume(chunk);
      if (batch) yield batch;
    }
  }

  /** Flushes the record a file's parser holds; null when it held none. */
  private flushPrevious(fingerprint: string): LogEventBatch | null {
    const parser = this.parsers.get(fingerprint);
    const format = this.source.destination;
    if (!parser || !format) return null;
    const outputs = parser.flush();
    return outputs.length === 0 ? null : this.toBatch(outputs, format, fingerprint, parser, 0);
  }

  private consume(chunk: FileChunk): LogEventBatch | null {
    const format = this.source.destination;
    if (!format) return null;
    let parser = this.parsers.get(chunk.fingerprint);
    if (!parser) {
      if (chunk.type === 'idle') return null;
      parser = this.createParser(format, chunk);
      this.parsers.set(chunk.fingerprint, parser);
    }
    if (this.zoneCheck !== null && chunk.type !== 'idle') {
      this.zoneCheck.inspect(format, chunk.bytes);
      if (this.zoneCheck.done) this.zoneCheck = null;
    }
    let outputs;
    if (chunk.type === 'data') outputs = parser.push(chunk.bytes);
    else if (chunk.type === 'idle') outputs = parser.flush();
    else {
      outputs = chunk.bytes.length > 0 ? [...parser.push(chunk.bytes), ...parser.end()] : parser.end();
      this.parsers.delete(chunk.fingerprint);
    }
    return this.toBatch(outputs, format, chunk.fingerprint, parser, chunk.type === 'idle' ? 0 : chunk.bytes.length);
  }

  private toBatch(outputs: ReturnType<LogParser['push']>, format: LogFormat, fingerprint: string, parser: LogParser, bytesRead: number): LogEventBatch {
    const events: AccessEvent[] = [];
    const failures: ParseFailure[] = [];
    for (const out of outputs) {
      if (isParseFailure(out)) {
        failures.push(out);
        this.options.onFailure?.({ source: this.source.id, format, reason: out.reason }, { file: out.source.file, offset: out.source.offset, byte_length: out.byteLength });
      } else {
        this.options.enricher?.enrich(out);
        events.push(out);
      }
    }
    return { events, failures, position: { fingerprint, offset: parser.safeOffset }, bytesRead };
  }

  private createParser(format: LogFormat, chunk: FileChunk & { type: 'data' | 'end' }): LogParser {
    return createLogParser({
      format,
      logLinePrefix: this.options.logLinePrefix,
      timezone: this.options.timezone,
      maxRecordBytes: this.options.maxRecordBytes,
      server: this.server,
      source: { id: this.source.id, file: chunk.path, fingerprint: chunk.fingerprint },
      startOffset: chunk.offset,
      builder: this.builder,
    });
  }
}

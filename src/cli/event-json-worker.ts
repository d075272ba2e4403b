import type { MessagePort } from 'node:worker_threads';
import type { EventSource } from '../domain/access-event.js';
import { QueryEnricher } from '../enrich/query-enricher.js';
import { createEventBuilder } from '../parse/event-builder.js';
import type { LogFormat } from '../parse/log-format.js';
import { type ParseOutputSink, createLogParser, isParseFailure } from '../parse/log-parser.js';
import { createLineWriter } from './write-lines.js';

/** What the worker needs to parse one file exactly as `jaga parse` does (`workerData`). */
export interface EventJsonWorkerData {
  format: LogFormat;
  logLinePrefix: string | undefined;
  timezone: string;
  maxRecordBytes: number | undefined;
  server: string;
  source: Omit<EventSource, 'offset'>;
  /** false for `--no-enrich` */
  enrich: boolean;
}

/**
 * Main thread → worker: the next chunk of the file, in order (`index` 0, 1, 2, ...). The worker
 * parses every chunk (the parser's state depends on all of them) and serialises the events of
 * the chunks marked `serialize`.
 */
export interface EventJsonChunkMessage {
  index: number;
  chunk: Uint8Array;
  serialize: boolean;
}

/**
 * Worker → main thread, once per chunk marked `serialize`: the UTF-8 JSON lines of the events
 * completed while that chunk was parsed, in order, each `JSON.stringify(event)` + `\n`
 * (`buffers` concatenated; empty when the chunk completed no event).
 */
export interface EventJsonLinesMessage {
  index: number;
  buffers: Uint8Array[];
}

/**
 * The worker half of `jaga parse` on two threads: parses the same bytes as the main thread with
 * the same options, and for the chunks it is given to serialise, enriches each event and writes
 * its JSON line (exactly what the main thread would write). Parse failures are not reported here:
 * the main thread parses the same chunks and reports them. Resolves once `port` has an
 * `EventJsonChunkMessage` listener; messages posted before that are queued by the port.
 * @throws ConfigError / RangeError for options the main thread would have rejected first
 */
export async function serveEventJsonWorker(port: MessagePort, data: EventJsonWorkerData): Promise<void> {
  const parser = createLogParser({ format: data.format, logLinePrefix: data.logLinePrefix, timezone: data.timezone, maxRecordBytes: data.maxRecordBytes, server: data.server, source: data.source, builder: createEventBuilder({ server: data.server }) });
  const enricher = data.enrich ? await QueryEnricher.create() : null;
  const collected: Uint8Array[] = [];
  const writer = createLineWriter({ write: (bytes: Uint8Array) => collected.push(bytes) > 0 } as unknown as NodeJS.WritableStream);
  const serializing: ParseOutputSink = {
    push(out) {
      if (isParseFailure(out)) return;
      enricher?.enrich(out);
      writer.add(JSON.stringify(out));
    },
  };
  const skipping: ParseOutputSink = { push: () => undefined };
  port.on('message', (message: EventJsonChunkMessage) => {
    const chunk = Buffer.from(message.chunk.buffer, message.chunk.byteOffset, message.chunk.byteLength);
    if (!message.serialize) {
      parser.pushTo(chunk, skipping);
      return;
    }
    parser.pushTo(chunk, serializing);
    // flush() only calls the collecting write() synchronously: nothing waits on a stream
    void writer.flush();
    const buffers = collected.splice(0);
    const transfer = [...new Set(buffers.map((b) => b.buffer as ArrayBuffer))];
    port.postMessage({ index: message.index, buffers } satisfies EventJsonLinesMessage, transfer);
  });
}

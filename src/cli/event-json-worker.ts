import type { MessagePort } from 'node:worker_threads';
import { QueryEnricher } from '../enrich/query-enricher.js';
import { EventJsonSerializer } from './event-json-serializer.js';
import { type SegmentInput, type SegmentParseOptions, SegmentRun, transferablesOf } from './parse-segment-run.js';
import { SpareBuffers } from './write-lines.js';

/**
 * What the worker needs to parse one file exactly as `jaga parse` does (`workerData`): the segment
 * options without the enricher and the serializer (each thread has its own), and `enrich: false`
 * for `--no-enrich`.
 */
export type EventJsonWorkerData = Omit<SegmentParseOptions, 'enricher' | 'serializer'> & { enrich: boolean };

/** Output buffers the main thread has written, posted back (transferred) for the worker's output. */
export interface SpareBuffersMessage {
  spares: ArrayBuffer[];
}

/**
 * The worker half of `jaga parse` on two threads: for each `SegmentInput` that `parseOnTwoThreads`
 * posts, parses that segment alone, exactly as a fresh parser would (one `SegmentRun`, restarted
 * for each), and answers its `SegmentResult` (byte pieces transferred, not copied). Its output
 * buffers are those the main thread posts back once written (`SpareBuffersMessage`), else new.
 * Resolves once `port` has a listener; messages posted before that are queued by the port.
 * @throws Error when libpg-query cannot be loaded (enrichment on)
 */
export async function serveEventJsonWorker(port: MessagePort, data: EventJsonWorkerData): Promise<void> {
  const enricher = data.enrich ? await QueryEnricher.create() : null;
  const spares = new SpareBuffers();
  const run = new SegmentRun({ ...data, enricher, serializer: new EventJsonSerializer() }, spares);
  port.on('message', (message: SegmentInput | SpareBuffersMessage) => {
    if ('spares' in message) {
      for (const buffer of message.spares) spares.give(buffer);
      return;
    }
    run.begin(message.startOffset);
    const result = run.result(message.index, run.add(message, 0));
    port.postMessage(result, transferablesOf(result));
  });
}

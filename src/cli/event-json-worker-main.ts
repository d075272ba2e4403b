/**
 * Worker thread entry of `jaga parse` on two threads (see `serveEventJsonWorker`): started by
 * `parse-command` with `workerData` an `EventJsonWorkerData`. Running on load is the point of an
 * entry file; it does nothing when imported on the main thread.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { type EventJsonWorkerData, serveEventJsonWorker } from './event-json-worker.js';

if (!isMainThread && parentPort !== null) await serveEventJsonWorker(parentPort, workerData as EventJsonWorkerData);

// Bench child (`node bench/notify-floor.js '<spec>'`): the floors of the `notify` section, measured in
// a fresh process like the daemon trials:
// - a bare PGlite round trip: `BEGIN; INSERT one row; COMMIT` on a fresh data folder (@electric-sql/pglite
//   directly, no jaga code), `spec.trials` times;
// - a bare HTTP POST of a 2 KB JSON body (about a notification's size) with `fetch` to an
//   ArrivalReceiver in this process, timed to the receiver's arrival, `spec.trials` times.
// Prints `{pgliteMs: number[], postMs: number[], maxRssKb}`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { ArrivalReceiver } from './agent-harness.js';
import { childMain } from './child-json.js';

/** @param {{trials: number}} spec */
async function measure(spec) {
  const dataDir = await mkdtemp(join(tmpdir(), 'jaga-bench-pglite-'));
  const db = new PGlite(dataDir);
  await db.exec('CREATE TABLE bench_row (id bigint PRIMARY KEY, payload jsonb NOT NULL)');
  const payload = JSON.stringify({ text: 'x'.repeat(1500) });
  const pgliteMs = [];
  for (let n = 0; n < spec.trials + 5; n++) {
    const t0 = performance.now();
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO bench_row (id, payload) VALUES ($1, $2)', [n, payload]);
    });
    if (n >= 5) pgliteMs.push(performance.now() - t0); // the first 5 warm up
  }
  await db.close();
  await rm(dataDir, { recursive: true, force: true });

  const receiver = new ArrivalReceiver();
  const base = await receiver.start();
  const body = JSON.stringify({ text: 'y'.repeat(2000) });
  const postMs = [];
  for (let n = 0; n < spec.trials + 5; n++) {
    const t0 = performance.now();
    const response = await globalThis.fetch(`${base}/hook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await response.text();
    const arrivedAt = receiver.requests.at(-1).atMs;
    if (n >= 5) postMs.push(arrivedAt - t0);
  }
  await receiver.stop();
  return { pgliteMs, postMs, maxRssKb: process.resourceUsage().maxRSS };
}

await childMain(import.meta.url, measure);

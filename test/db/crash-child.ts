/**
 * Child process of pglite-crash.test.ts (run with `node --import tsx`): opens the embedded store in the
 * folder given as argv[2], commits a checkpoint at offset 4242, prints `COMMITTED`, then saves offset
 * 9999 inside a transaction that never ends, prints `IN_TX` and waits to be SIGKILLed.
 */
import { CheckpointRepository } from '../../src/db/checkpoint-repository.js';
import { openStore } from '../../src/db/open-store.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: crash-child.ts DATA_DIR');
const store = await openStore({ dataDir });
const repo = new CheckpointRepository(store);
const checkpoint = { sourceId: 'db1', fileFingerprint: 'abcdefabcdefabcd', filePath: '/log/postgresql.log', cursor: null };
await store.transaction((tx) => repo.save(tx, [{ ...checkpoint, byteOffset: 4242 }]));
process.stdout.write('COMMITTED\n');
await store.transaction(async (tx) => {
  await repo.save(tx, [{ ...checkpoint, byteOffset: 9999 }]);
  process.stdout.write('IN_TX\n');
  await new Promise(() => setInterval(() => undefined, 60_000));
});

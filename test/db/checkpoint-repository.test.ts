import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointRepository, TABLE_CURSOR_KEY, type Checkpoint } from '../../src/db/checkpoint-repository.js';
import type { Store } from '../../src/db/store.js';
import { DRIVERS, useStoreHarness } from './store-harness.js';

const harness = useStoreHarness();

const strip = ({ sourceId, fileFingerprint, filePath, byteOffset, cursor }: Checkpoint): Checkpoint => ({ sourceId, fileFingerprint, filePath, byteOffset, cursor });

describe.each(DRIVERS)('CheckpointRepository on %s', (driver) => {
  let store: Store;
  let repo: CheckpointRepository;
  beforeAll(async () => {
    store = await harness.open(driver);
    repo = new CheckpointRepository(store);
  });
  beforeEach(async () => {
    await store.query('DELETE FROM jaga_checkpoint');
  });

  it('inserts new checkpoints and loads them back for their source only, ordered by path', async () => {
    const written = await store.transaction((tx) =>
      repo.save(tx, [
        { sourceId: 'db1', fileFingerprint: 'bbbbbbbbbbbbbbbb', filePath: '/log/postgresql-Tue.log', byteOffset: 120, cursor: null },
        { sourceId: 'db1', fileFingerprint: 'aaaaaaaaaaaaaaaa', filePath: '/log/postgresql-Mon.log', byteOffset: 4096, cursor: null },
        { sourceId: 'db2', fileFingerprint: 'aaaaaaaaaaaaaaaa', filePath: '/other/postgresql.log', byteOffset: 7, cursor: null },
      ]),
    );
    expect(written).toBe(3);
    const loaded = await repo.load('db1');
    expect(loaded.map(strip)).toEqual([
      { sourceId: 'db1', fileFingerprint: 'aaaaaaaaaaaaaaaa', filePath: '/log/postgresql-Mon.log', byteOffset: 4096, cursor: null },
      { sourceId: 'db1', fileFingerprint: 'bbbbbbbbbbbbbbbb', filePath: '/log/postgresql-Tue.log', byteOffset: 120, cursor: null },
    ]);
    expect(loaded[0]!.updatedAt).toBeInstanceOf(Date);
    expect(Math.abs(loaded[0]!.updatedAt.getTime() - Date.now())).toBeLessThan(60_000);
    expect(await repo.load('no-such-source')).toEqual([]);
  });

  it('moves an offset forward and follows a rename of the same fingerprint', async () => {
    const first: Checkpoint = { sourceId: 'db1', fileFingerprint: 'cccccccccccccccc', filePath: '/log/postgresql.log', byteOffset: 100, cursor: null };
    await store.transaction((tx) => repo.save(tx, [first]));
    const written = await store.transaction((tx) => repo.save(tx, [{ ...first, filePath: '/log/postgresql.log.1', byteOffset: 250 }]));
    expect(written).toBe(1);
    expect((await repo.load('db1')).map(strip)).toEqual([{ ...first, filePath: '/log/postgresql.log.1', byteOffset: 250 }]);
  });

  it('never moves an offset backwards: the SQL guard refuses the older position and keeps the row as it was', async () => {
    const ahead: Checkpoint = { sourceId: 'db1', fileFingerprint: 'dddddddddddddddd', filePath: '/log/a.log', byteOffset: 9000, cursor: null };
    await store.transaction((tx) => repo.save(tx, [ahead]));
    const [before] = await repo.load('db1');
    const written = await store.transaction((tx) => repo.save(tx, [{ ...ahead, filePath: '/log/b.log', byteOffset: 8999 }]));
    expect(written).toBe(0);
    const [after] = await repo.load('db1');
    expect(strip(after!)).toEqual(ahead);
    expect(after!.updatedAt.getTime()).toBe(before!.updatedAt.getTime());
  });

  it('collapses duplicates of one fingerprint within a call to the largest offset', async () => {
    const base: Checkpoint = { sourceId: 'db1', fileFingerprint: 'eeeeeeeeeeeeeeee', filePath: '/log/e.log', byteOffset: 10, cursor: null };
    const written = await store.transaction((tx) => repo.save(tx, [{ ...base, byteOffset: 30 }, { ...base, byteOffset: 20 }, { ...base, byteOffset: 30, filePath: '/log/e2.log' }]));
    expect(written).toBe(1);
    expect((await repo.load('db1')).map(strip)).toEqual([{ ...base, byteOffset: 30, filePath: '/log/e2.log' }]);
  });

  it('stores offsets beyond 2^32 exactly and a table cursor under the fixed key', async () => {
    const big = 2 ** 40 + 3;
    await store.transaction((tx) =>
      repo.save(tx, [
        { sourceId: 'db1', fileFingerprint: 'ffffffffffffffff', filePath: '/log/huge.log', byteOffset: big, cursor: null },
        { sourceId: 'app', fileFingerprint: TABLE_CURSOR_KEY, filePath: 'jaga_access_event', byteOffset: 0, cursor: '{"xid":"812","id":"77"}' },
      ]),
    );
    await store.transaction((tx) => repo.save(tx, [{ sourceId: 'app', fileFingerprint: TABLE_CURSOR_KEY, filePath: 'jaga_access_event', byteOffset: 0, cursor: '{"xid":"815","id":"80"}' }]));
    expect((await repo.load('db1'))[0]!.byteOffset).toBe(big);
    expect((await repo.load('app')).map(strip)).toEqual([
      { sourceId: 'app', fileFingerprint: TABLE_CURSOR_KEY, filePath: 'jaga_access_event', byteOffset: 0, cursor: '{"xid":"815","id":"80"}' },
    ]);
  });

  it('forgets only the named fingerprints of the named source', async () => {
    const rows: Checkpoint[] = [
      { sourceId: 'db1', fileFingerprint: '1111111111111111', filePath: '/log/1.log', byteOffset: 1, cursor: null },
      { sourceId: 'db1', fileFingerprint: '2222222222222222', filePath: '/log/2.log', byteOffset: 2, cursor: null },
      { sourceId: 'db2', fileFingerprint: '1111111111111111', filePath: '/x/1.log', byteOffset: 3, cursor: null },
    ];
    await store.transaction((tx) => repo.save(tx, rows));
    const deleted = await store.transaction((tx) => repo.forget(tx, 'db1', ['1111111111111111', '9999999999999999']));
    expect(deleted).toBe(1);
    expect((await repo.load('db1')).map(strip)).toEqual([rows[1]]);
    expect((await repo.load('db2')).map(strip)).toEqual([rows[2]]);
    expect(await store.transaction((tx) => repo.forget(tx, 'db1', []))).toBe(0);
  });

  it('leaves nothing behind when the transaction that saved checkpoints rolls back', async () => {
    const failure = new Error('incident write failed');
    await expect(
      store.transaction(async (tx) => {
        await repo.save(tx, [{ sourceId: 'db1', fileFingerprint: '3333333333333333', filePath: '/log/3.log', byteOffset: 33, cursor: null }]);
        expect((await repo.load('db1', tx)).length).toBe(1);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await repo.load('db1')).toEqual([]);
  });

  it('rejects a negative or fractional offset before touching the store', async () => {
    const bad: Checkpoint = { sourceId: 'db1', fileFingerprint: '4444444444444444', filePath: '/log/4.log', byteOffset: -1, cursor: null };
    await expect(store.transaction((tx) => repo.save(tx, [bad]))).rejects.toThrow('checkpoint byteOffset must be a safe non-negative integer, got -1');
    await expect(store.transaction((tx) => repo.save(tx, [{ ...bad, byteOffset: 1.5 }]))).rejects.toThrow(RangeError);
    expect(await repo.load('db1')).toEqual([]);
  });
});

import { createServer } from 'node:net';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/domain/errors.js';
import { PgStore } from '../../src/db/pg-store.js';
import type { Store, StoreTransaction } from '../../src/db/store.js';
import { DRIVERS, useStoreHarness } from './store-harness.js';

const harness = useStoreHarness();

async function caught(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

const SECRET = 'customer-secret-4111111111111111';

describe.each(DRIVERS)('Store on %s', (driver) => {
  let store: Store;
  beforeAll(async () => {
    store = await harness.open(driver);
    await store.query('CREATE TABLE jaga_probe (id int PRIMARY KEY, note text)');
  });
  beforeEach(async () => {
    await store.query('DELETE FROM jaga_probe');
  });

  it('names its driver', () => {
    expect(store.driver).toBe(driver);
  });

  it('commits a transaction and returns what the callback resolved to', async () => {
    const result = await store.transaction(async (tx) => {
      await tx.query('INSERT INTO jaga_probe VALUES ($1, $2), ($3, $4)', [1, 'a', 2, 'b']);
      return (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM jaga_probe'))[0]!.n;
    });
    expect(result).toBe(2);
    expect(await store.query('SELECT id, note FROM jaga_probe ORDER BY id')).toEqual([
      { id: 1, note: 'a' },
      { id: 2, note: 'b' },
    ]);
  });

  it('rolls back everything when the callback throws, and rethrows the same error', async () => {
    const failure = new Error('downstream failed');
    await expect(
      store.transaction(async (tx) => {
        await tx.query('INSERT INTO jaga_probe VALUES (1, $1)', ['x']);
        await tx.exec("INSERT INTO jaga_probe VALUES (2, 'y'); INSERT INTO jaga_probe VALUES (3, 'z');");
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await store.query('SELECT * FROM jaga_probe')).toEqual([]);
  });

  it('refuses to commit when the callback swallowed a failed statement, leaving nothing', async () => {
    const error = await caught(
      store.transaction(async (tx) => {
        await tx.query('INSERT INTO jaga_probe VALUES (1, $1)', ['kept?']);
        await tx.query('INSERT INTO jaga_probe VALUES (1, $1)', ['dup']).catch(() => 'ignored');
        return 'done';
      }),
    );
    expect(error.sqlstate).toBe('25P02');
    expect(error.transient).toBe(false);
    expect(error.message).toBe('commit refused: a statement of this transaction failed and the callback went on; the transaction was rolled back');
    expect(await store.query('SELECT * FROM jaga_probe')).toEqual([]);
  });

  it('refuses a transaction handle used after its callback ended', async () => {
    let leaked: StoreTransaction | undefined;
    await store.transaction(async (tx) => {
      leaked = tx;
    });
    const error = await caught(leaked!.query('SELECT 1'));
    expect(error.message).toBe('transaction already finished: a StoreTransaction is valid only inside its callback');
  });

  it('classifies a serialization failure (40001) as transient', async () => {
    const error = await caught(store.query("DO $$ BEGIN RAISE EXCEPTION 'simulated conflict' USING ERRCODE = '40001'; END $$"));
    expect({ transient: error.transient, sqlstate: error.sqlstate, message: error.message }).toEqual({
      transient: true,
      sqlstate: '40001',
      message: 'DO failed: SQLSTATE 40001: simulated conflict',
    });
  });

  it('classifies a deadlock (40P01) and too-many-connections (53300) as transient', async () => {
    for (const code of ['40P01', '53300']) {
      const error = await caught(store.query(`DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '${code}'; END $$`));
      expect([error.sqlstate, error.transient]).toEqual([code, true]);
    }
  });

  it('classifies a syntax error as permanent with its SQLSTATE', async () => {
    const error = await caught(store.query('SELEC 1'));
    expect({ transient: error.transient, sqlstate: error.sqlstate, message: error.message }).toEqual({
      transient: false,
      sqlstate: '42601',
      message: 'SELEC failed: SQLSTATE 42601: syntax error at or near "SELEC"',
    });
  });

  it('keeps parameter values out of messages: a data exception omits the server text, a key violation its detail', async () => {
    const badInput = await caught(store.query('SELECT $1::int AS n', [SECRET]));
    expect(badInput.message).toBe('SELECT failed: SQLSTATE 22P02');
    expect(badInput.cause).toBeUndefined();
    expect(badInput.transient).toBe(false);
    await store.query('INSERT INTO jaga_probe VALUES (7, $1)', [SECRET]);
    const duplicate = await caught(store.query('INSERT INTO jaga_probe VALUES (7, $1)', [SECRET]));
    expect(duplicate.sqlstate).toBe('23505');
    expect(duplicate.message).toBe('INSERT failed: SQLSTATE 23505: duplicate key value violates unique constraint "jaga_probe_pkey" (table=jaga_probe, constraint=jaga_probe_pkey)');
    expect(JSON.stringify({ ...duplicate, message: duplicate.message, stack: duplicate.stack })).not.toContain(SECRET);
  });

  it('decodes bigint as number (safe) or bigint (beyond 2^53), timestamptz as Date, date at UTC midnight', async () => {
    const [row] = await store.query("SELECT 5::bigint AS small, 9007199254740993::bigint AS big, '2024-05-06T07:08:09Z'::timestamptz AS t, '2024-05-06'::date AS d");
    expect(row).toEqual({ small: 5, big: 9007199254740993n, t: new Date('2024-05-06T07:08:09Z'), d: new Date('2024-05-06T00:00:00Z') });
  });
});

describe('PgStore failures of a real server', () => {
  let store: Store;
  beforeAll(async () => {
    store = await harness.open('pg');
    await store.query('CREATE TABLE jaga_account (id int PRIMARY KEY, balance int)');
    await store.query('INSERT INTO jaga_account VALUES (1, 100)');
  });

  it('reports a real concurrent-update serialization failure under REPEATABLE READ as transient 40001', async () => {
    const error = await caught(
      store.transaction(async (tx) => {
        await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
        await tx.query('SELECT balance FROM jaga_account WHERE id = 1');
        await store.query('UPDATE jaga_account SET balance = balance + 1 WHERE id = 1');
        await tx.query('UPDATE jaga_account SET balance = balance - 1 WHERE id = 1');
      }),
    );
    expect({ transient: error.transient, sqlstate: error.sqlstate, message: error.message }).toEqual({
      transient: true,
      sqlstate: '40001',
      message: 'UPDATE failed: SQLSTATE 40001: could not serialize access due to concurrent update',
    });
    expect(await store.query('SELECT balance FROM jaga_account')).toEqual([{ balance: 101 }]);
  });

  it('reports a connection killed by pg_terminate_backend mid-transaction as transient, and stays usable', async () => {
    const error = await caught(
      store.transaction(async (tx) => {
        const [me] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await harness.cluster.query('SELECT pg_terminate_backend($1)', [me!.pid]);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await tx.query('SELECT 1');
      }),
    );
    expect({ transient: error.transient, sqlstate: error.sqlstate, message: error.message }).toEqual({
      transient: true,
      sqlstate: '57P01',
      message: 'SELECT failed: SQLSTATE 57P01: terminating connection due to administrator command',
    });
    expect(await store.query('SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
  });

  it('reports a refused connection as transient without a SQLSTATE', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const error = await caught(PgStore.open({ url: `postgres://jaga:pw@127.0.0.1:${port}/jaga`, connectTimeoutMs: 2_000 }));
    expect([error.transient, error.sqlstate]).toEqual([true, null]);
    expect(error.message).toMatch(/^connect failed: ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
  });

  it('reports bad credentials as permanent (28P01) without echoing the password', async () => {
    const url = harness.cluster.url({ password: 'wrong-password-xyz' });
    const error = await caught(PgStore.open({ url }));
    expect([error.transient, error.sqlstate]).toEqual([false, '28P01']);
    expect(error.message).toBe('connect failed: SQLSTATE 28P01: password authentication failed for user "postgres"');
  });

  it('refuses queries once closed', async () => {
    const own = await PgStore.open({ url: harness.cluster.url() });
    await own.close();
    await own.close();
    expect((await caught(own.query('SELECT 1'))).message).toBe('store is closed');
  });
});

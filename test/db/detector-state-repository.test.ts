import { beforeAll, describe, expect, it } from 'vitest';
import { DetectorStateRepository, ENGINE_STATE_COMPONENT } from '../../src/db/detector-state-repository.js';
import type { Store } from '../../src/db/store.js';
import { DRIVERS, useStoreHarness } from './store-harness.js';

const harness = useStoreHarness();

describe.each(DRIVERS)('DetectorStateRepository on %s', (driver) => {
  let store: Store;
  let repo: DetectorStateRepository;
  beforeAll(async () => {
    store = await harness.open(driver);
    repo = new DetectorStateRepository(store);
  });

  it('saves a snapshot per agent and component, replaces it and counts revisions', async () => {
    expect(await repo.load('a1', ENGINE_STATE_COMPONENT)).toBeNull();
    await store.transaction((tx) => repo.save(tx, 'a1', ENGINE_STATE_COMPONENT, { version: 1, watermarkMs: null, detectors: { r: { type: 'threshold', stateKey: 'k', state: [1, 2] } } }));
    await store.transaction((tx) => repo.save(tx, 'a2', ENGINE_STATE_COMPONENT, { other: 'agent' }));
    await store.transaction((tx) => repo.save(tx, 'a1', ENGINE_STATE_COMPONENT, { version: 1, watermarkMs: 5, detectors: {} }));
    const a1 = await repo.load('a1', ENGINE_STATE_COMPONENT);
    expect(a1?.state).toEqual({ version: 1, watermarkMs: 5, detectors: {} });
    expect(a1?.revision).toBe(2);
    expect(a1?.updatedAt).toBeInstanceOf(Date);
    expect((await repo.load('a2', ENGINE_STATE_COMPONENT))?.state).toEqual({ other: 'agent' });
    expect(await repo.load('a1', 'baselines')).toBeNull();
  });

  it('a rolled-back save leaves the previous snapshot', async () => {
    await store.transaction((tx) => repo.save(tx, 'b1', ENGINE_STATE_COMPONENT, { n: 1 }));
    await expect(
      store.transaction(async (tx) => {
        await repo.save(tx, 'b1', ENGINE_STATE_COMPONENT, { n: 2 });
        throw new Error('crash before commit');
      }),
    ).rejects.toThrow('crash before commit');
    expect((await repo.load('b1', ENGINE_STATE_COMPONENT))?.state).toEqual({ n: 1 });
  });

  it('stores the snapshot as the JSON text written (json stored EXTERNAL, not jsonb): the key order comes back as saved', async () => {
    const state = { watermarkMs: 7, b: { zeta: 1, alpha: [3, 1.5, 'x'] }, a: null };
    await store.transaction((tx) => repo.save(tx, 'd1', ENGINE_STATE_COMPONENT, state));
    const loaded = await repo.load('d1', ENGINE_STATE_COMPONENT);
    expect(JSON.stringify(loaded?.state)).toBe('{"watermarkMs":7,"b":{"zeta":1,"alpha":[3,1.5,"x"]},"a":null}');
    const [column] = await store.query<{ type: string; storage: string }>(
      "SELECT format_type(a.atttypid, a.atttypmod) AS type, a.attstorage AS storage FROM pg_attribute a WHERE a.attrelid = 'jaga_pipeline_state'::regclass AND a.attname = 'state'",
    );
    expect(column).toEqual({ type: 'json', storage: 'e' });
  });

  it('refuses a state that is not JSON-serialisable and forgets an agent', async () => {
    await expect(store.transaction((tx) => repo.save(tx, 'c1', ENGINE_STATE_COMPONENT, undefined))).rejects.toThrow(TypeError);
    await store.transaction((tx) => repo.save(tx, 'c1', ENGINE_STATE_COMPONENT, { n: 1 }));
    await store.transaction((tx) => repo.save(tx, 'c1', 'baselines', { n: 2 }));
    expect(await store.transaction((tx) => repo.forget(tx, 'c1'))).toBe(2);
    expect(await repo.load('c1', 'baselines')).toBeNull();
  });
});

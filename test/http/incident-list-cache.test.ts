import { describe, expect, it } from 'vitest';
import type { IncidentJson } from '../../src/domain/incident.js';
import { IncidentListCache } from '../../src/http/incident-list-cache.js';

const list = (n: number): IncidentJson[] => Array.from({ length: n }, (_, i) => ({ id: i + 1 }) as IncidentJson);

describe('IncidentListCache', () => {
  it('shares one load between concurrent readers of a filter and reuses it within the TTL', async () => {
    const cache = new IncidentListCache(60_000);
    let loads = 0;
    const load = async (): Promise<IncidentJson[]> => {
      loads += 1;
      return list(loads);
    };
    const results = await Promise.all([cache.get({ limit: 5 }, load), cache.get({ limit: 5 }, load), cache.get({ limit: 5 }, load)]);
    expect(results.map((r) => r.length)).toEqual([1, 1, 1]);
    expect((await cache.get({ limit: 5 }, load)).length).toBe(1);
    expect((await cache.get({ limit: 6 }, load)).length).toBe(2);
    cache.clear();
    expect((await cache.get({ limit: 5 }, load)).length).toBe(3);
    expect(loads).toBe(3);
  });

  it('does not keep a failed load, and with TTL 0 always loads', async () => {
    const cache = new IncidentListCache(60_000);
    await expect(cache.get({}, () => Promise.reject(new Error('store down')))).rejects.toThrow('store down');
    expect(await cache.get({}, async () => list(2))).toHaveLength(2);
    const off = new IncidentListCache(0);
    let loads = 0;
    await off.get({}, async () => list(++loads));
    await off.get({}, async () => list(++loads));
    expect(loads).toBe(2);
  });
});

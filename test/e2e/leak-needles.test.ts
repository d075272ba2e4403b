import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildNeedles, findLeaks, type NeedleSet } from './leak-needles.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SCHEMA_MJS = join(HERE, '../../../shared/corpus/generate/src/schema.mjs');

/** A set with the given values and no shapes, for the matcher alone. */
const only = (...values: string[]): NeedleSet => ({ needles: values.map((value) => ({ value, origin: 'test value' })), shapes: [], counts: {} });

describe('leak search (the leak test relies on it finding what is there)', () => {
  it('finds a value as written, JSON-escaped, and with non-ASCII as \\u escapes', () => {
    const set = only('Chloé Smith', 'Jl. "Mawar" No. 5');
    const hits = findLeaks(
      [
        { where: 'plain', text: 'owner: Chloé Smith.' },
        { where: 'json', text: '{"a":"Jl. \\"Mawar\\" No. 5"}' },
        { where: 'ascii json', text: '{"name":"Chlo\\u00e9 Smith"}' },
        { where: 'clean', text: '{"user":"support_sari","count":3}' },
      ],
      set,
    );
    expect(hits).toEqual([
      { where: 'plain', what: 'test value', value: 'Chloé Smith' },
      { where: 'json', what: 'test value', value: 'Jl. "Mawar" No. 5' },
      { where: 'ascii json', what: 'test value', value: 'Chloé Smith' },
    ]);
  });

  it('does not count a value glued to letters, digits or _ (e.g. 20074 inside 1720074000, resolved in resolved_at)', () => {
    const hits = findLeaks([{ where: 'x', text: '{"resolved_at":null,"ms":1720074000}' }], only('20074', 'resolved'));
    expect(hits).toEqual([]);
  });

  it('builds the generator names from schema.mjs and matches its value layouts', async () => {
    const set = await buildNeedles(SCHEMA_MJS, []);
    expect(set.counts['generator full name']).toBe(43 * 32 + 28 * 25);
    expect(set.needles.some((n) => n.value === "Grace O'Brien")).toBe(true);
    const text = 'a budi.santoso12@example.com b +62 812-1093-1730 c +44 7700 900123 d +1 555-0142 e 3171234567890001 f Jl. Kenanga No. 9 g 17 Harbour Road, Apt 3C h 0.6931471824645996';
    expect(findLeaks([{ where: 't', text }], { ...set, needles: [] }).map((h) => `${h.what}: ${h.value}`)).toEqual([
      'generator e-mail shape: budi.santoso12@example.com',
      'generator phone shape: +62 812-1093-1730',
      'generator phone shape: +44 7700 900123',
      'generator phone shape: +1 555-0142',
      'generator national id shape: 3171234567890001',
      'generator address shape: Jl. Kenanga No. 9',
      'generator address shape: 17 Harbour Road, Apt 3C',
    ]);
  });
});

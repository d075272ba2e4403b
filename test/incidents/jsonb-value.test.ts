import { describe, expect, it } from 'vitest';
import { jsonbValue } from '../../src/incidents/jsonb-value.js';

describe('jsonbValue', () => {
  it('orders object keys as jsonb stores them: shorter UTF-8 first, then by bytes, at every depth; arrays keep their order', () => {
    const value = jsonbValue({ zz: 1, a: { bb: 2, c: 3 }, é: 1, b: 1.5, arr: [{ y: 1, x: 2 }], '\u{1F600}': 1, '\uFFFF': 2 });
    expect(JSON.stringify(value)).toBe('{"a":{"c":3,"bb":2},"b":1.5,"zz":1,"é":1,"arr":[{"x":2,"y":1}],"\uFFFF":2,"\u{1F600}":1}');
  });

  it('keeps what JSON.stringify keeps: undefined members dropped, NaN as null, a __proto__ key as a plain key', () => {
    const parsed = JSON.parse('{"__proto__":{"x":1},"n":null}') as Record<string, unknown>;
    expect(JSON.stringify(jsonbValue({ u: undefined, v: Number.NaN, ...parsed }))).toBe('{"n":null,"v":null,"__proto__":{"x":1}}');
    expect(jsonbValue(() => 1)).toBeUndefined();
  });
});

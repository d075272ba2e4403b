/**
 * The allocation-free context hashing of the baseline detectors gives exactly what the joined
 * string and the regular expression gave before (persisted context sets hold these hashes, so a
 * changed value would forget every learned context after an upgrade).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientNetwork, contextHash, contextPairHash, hasAnyClass } from '../../../src/detect/baseline/context-set.js';

/** the previous definition of the IPv4 /24 (the reference the scan must equal) */
function regexNetwork(address: string): string | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(address);
  return v4 === null ? null : `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
}

describe('contextPairHash', () => {
  it('equals contextHash of kind NUL value for known pairs', () => {
    expect(contextPairHash('table', 'public.customers')).toBe(contextHash('table\u0000public.customers'));
    expect(contextPairHash('session', '')).toBe(contextHash('session\u0000'));
    expect(contextHash('')).toBe(-2_128_831_035); // FNV-1a offset basis 0x811c9dc5 as a signed int
  });

  it('equals contextHash of the joined string for any kind and value', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ unit: 'binary' }), (kind, value) => contextPairHash(kind, value) === contextHash(`${kind}\u0000${value}`)),
      { numRuns: 2000 },
    );
  });
});

describe('clientNetwork', () => {
  it('gives the /24 of dotted IPv4 addresses and the /48 of IPv6 ones', () => {
    expect(clientNetwork('10.1.2.3')).toBe('10.1.2.0/24');
    expect(clientNetwork('127.0.0.3')).toBe('127.0.0.0/24');
    expect(clientNetwork('2001:db8:1:2::5')).toBe('2001:db8:1::/48');
    expect(clientNetwork('[local]')).toBeNull();
  });

  it('rejects what the regular expression rejected', () => {
    for (const address of ['1.2.3', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '1234.1.1.1', '1.2.3.4 ', '1.2.3.4\n', 'a.b.c.d', '']) {
      expect(clientNetwork(address)).toBe(regexNetwork(address));
      expect(clientNetwork(address)).toBeNull();
    }
  });

  it('equals the regular expression on generated dotted strings', () => {
    const part = fc.oneof(fc.stringMatching(/^\d{0,4}$/), fc.constantFrom('x', ' ', '٣'));
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 6 }), (parts) => {
        const address = parts.join('.');
        return address.includes(':') || clientNetwork(address) === regexNetwork(address);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('hasAnyClass', () => {
  it('is true when a class of the relation is wanted', () => {
    expect(hasAnyClass(['payment', 'pii'], ['pii', 'credential'])).toBe(true);
    expect(hasAnyClass(['internal'], ['pii'])).toBe(false);
    expect(hasAnyClass([], ['pii'])).toBe(false);
  });
});

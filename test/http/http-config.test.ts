import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { httpConfigShape, resolveHttpConfig } from '../../src/config/http-config.js';

const schema = z.strictObject(httpConfigShape);

describe('http config section', () => {
  it('defaults to 127.0.0.1:7887, plain HTTP, 7d links, 12h sessions, 10 failures per 5m', () => {
    expect(resolveHttpConfig(schema.parse({}), '/etc/jaga')).toEqual({
      host: '127.0.0.1',
      port: 7887,
      publicUrl: 'http://127.0.0.1:7887',
      publicUrlGiven: false,
      tls: null,
      linkTtlMs: 604_800_000,
      sessionTtlMs: 43_200_000,
      authFailures: { max: 10, windowMs: 300_000 },
    });
  });

  it('parses listen forms, durations, TLS paths relative to the config folder and a public URL without trailing slash', () => {
    const parsed = schema.parse({
      http: { listen: '[::1]:8443', public_url: 'https://jaga.example.com/', tls: { cert: 'tls/cert.pem', key: '/keys/key.pem' }, link_ttl: '2d', session_ttl: '30m', auth_failures: { max: 5, window: '1m' } },
    });
    expect(resolveHttpConfig(parsed, '/etc/jaga')).toEqual({
      host: '::1',
      port: 8443,
      publicUrl: 'https://jaga.example.com',
      publicUrlGiven: true,
      tls: { certFile: '/etc/jaga/tls/cert.pem', keyFile: '/keys/key.pem' },
      linkTtlMs: 172_800_000,
      sessionTtlMs: 1_800_000,
      authFailures: { max: 5, windowMs: 60_000 },
    });
    const all = resolveHttpConfig(schema.parse({ http: { listen: ':9000', tls: { cert: 'c', key: 'k' } } }), '/x');
    expect([all.host, all.port, all.publicUrl]).toEqual(['0.0.0.0', 9000, 'https://0.0.0.0:9000']);
  });

  it('refuses a bad listen address, a bare-number duration, half a TLS pair and unknown keys', () => {
    const problems = (input: unknown): string[] => {
      const result = schema.safeParse(input);
      return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.code}`);
    };
    expect(problems({ http: { listen: '7887' } })).toEqual(['http.listen: custom']);
    expect(problems({ http: { listen: '127.0.0.1:70000' } })).toEqual(['http.listen: custom']);
    expect(problems({ http: { link_ttl: '60' } })).toEqual(['http.link_ttl: custom']);
    expect(problems({ http: { tls: { cert: 'c' } } })).toEqual(['http.tls.key: invalid_type']);
    expect(problems({ http: { port: 1 } })).toEqual(['http: unrecognized_keys']);
  });
});

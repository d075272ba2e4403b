import { defineConfig } from 'vitest/config';

/** Test runner configuration: one real PostgreSQL cluster per test file, so files run in forks. */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});

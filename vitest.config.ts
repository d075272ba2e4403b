import { defineConfig } from 'vitest/config';

/**
 * Test runner configuration: one real PostgreSQL cluster per test file, so files run in forks. Two
 * files at a time even on a 2-core machine: most test time is spent waiting (on PostgreSQL, child
 * processes, a live corpus run, SMTP/Slack-like servers), and the default of one worker there would
 * run the whole suite serially.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});

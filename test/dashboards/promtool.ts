import { spawnSync } from 'node:child_process';

/** What one promtool run printed and returned. */
export interface PromtoolResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Install hint shown when promtool is missing: the tests never skip silently. */
export const PROMTOOL_MISSING =
  'promtool not found: install Debian package `prometheus` (apt-get install -y prometheus); `npm test` (scripts/test.sh) installs it when run as root';

/**
 * Runs `promtool ARGS` (Debian package `prometheus`, /usr/bin/promtool) with `input` on stdin.
 * @throws Error with PROMTOOL_MISSING when promtool is not installed
 */
export function runPromtool(args: readonly string[], input?: string, cwd?: string): PromtoolResult {
  const result = spawnSync('promtool', [...args], { input, cwd, encoding: 'utf8', timeout: 60_000 });
  if (result.error) {
    if ((result.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(PROMTOOL_MISSING);
    throw result.error;
  }
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

// Runs one child process timed as a whole (wall clock, start-up included) and, when GNU time is
// installed at /usr/bin/time, with its peak resident set size and CPU time.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';

/** Largest tail of a child's stdout/stderr kept in memory, characters. */
const MAX_CAPTURE_CHARS = 64 * 1024;

/**
 * Spawns `command args` and waits for it to exit.
 * @param {string} command program to run
 * @param {string[]} args its arguments
 * @param {{captureStdout?: boolean, cwd?: string}} [options] captureStdout false (default) sends
 *   stdout to /dev/null, like `> /dev/null`
 * @returns {Promise<{wallMs: number, exitCode: number|null, signal: string|null, maxRssKb: number|null,
 *   cpuSeconds: number|null, stdout: string, stderr: string}>} wallMs from spawn to exit, milliseconds;
 *   maxRssKb the child's peak RSS in kilobytes (GNU time `%M`) and cpuSeconds its user + system CPU
 *   time (`%U` + `%S`), both null without /usr/bin/time; stdout/stderr their last 64 Ki characters
 * @throws when the program cannot be started (e.g. ENOENT)
 */
export async function runTimedCommand(command, args, options = {}) {
  const useGnuTime = existsSync(GNU_TIME);
  const scratch = useGnuTime ? await mkdtemp(join(tmpdir(), 'jaga-bench-')) : null;
  const rssFile = scratch ? join(scratch, 'usage') : null;
  const [program, programArgs] = useGnuTime ? [GNU_TIME, ['-f', '%M %U %S', '-o', rssFile, command, ...args]] : [command, args];
  try {
    const started = performance.now();
    const child = spawn(program, programArgs, {
      cwd: options.cwd,
      stdio: ['ignore', options.captureStdout ? 'pipe' : 'ignore', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (s) => {
      stdout = (stdout + s).slice(-MAX_CAPTURE_CHARS);
    });
    child.stderr.setEncoding('utf8').on('data', (s) => {
      stderr = (stderr + s).slice(-MAX_CAPTURE_CHARS);
    });
    const { exitCode, signal } = await new Promise((resolveExit, reject) => {
      child.once('error', reject);
      child.once('close', (code, sig) => resolveExit({ exitCode: code, signal: sig }));
    });
    const wallMs = performance.now() - started;
    let maxRssKb = null;
    let cpuSeconds = null;
    if (rssFile) {
      // GNU time writes "Command exited with non-zero status N" before the figures on failure
      const lines = (await readFile(rssFile, 'utf8').catch(() => '')).trim().split('\n');
      const [rss, user, system] = (lines[lines.length - 1] ?? '').split(' ').map(Number);
      maxRssKb = Number.isFinite(rss) && rss > 0 ? rss : null;
      cpuSeconds = Number.isFinite(user) && Number.isFinite(system) ? user + system : null;
    }
    return { wallMs, exitCode, signal, maxRssKb, cpuSeconds, stdout, stderr };
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

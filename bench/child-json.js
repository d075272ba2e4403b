// Runs a bench child (`node SCRIPT '<spec JSON>'`) and reads the one JSON object it prints last on
// stdout; the child's stderr is passed through as progress. Never throws: a failure is `{error}`.
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * @param {string} script absolute path of the child module
 * @param {object} spec passed as argv[2] (JSON)
 * @param {{timeoutMs?: number, nodeArgs?: string[], onLine?: (line: string) => void, signal?: AbortSignal}} [options]
 *   timeoutMs SIGKILLs the child (default 15 min); onLine sees every stdout line as it arrives;
 *   `signal` aborting sends the child SIGTERM (a serving child then stops and prints its result)
 * @returns {Promise<object>} the child's last stdout JSON line, or `{error: string}`
 */
export function runChildJson(script, spec, options = {}) {
  return new Promise((done) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script, JSON.stringify(spec)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let rest = '';
    let errTail = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15 * 60_000);
    options.signal?.addEventListener('abort', () => child.kill('SIGTERM'), { once: true });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text) => {
      out += text;
      const lines = (rest + text).split('\n');
      rest = lines.pop();
      for (const line of lines) options.onLine?.(line);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text) => {
      errTail = (errTail + text).slice(-2000);
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      done({ error: error.message });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop() ?? '';
      try {
        const parsed = JSON.parse(last);
        done(code === 0 || parsed.error ? parsed : { error: `exit ${code ?? signal}`, ...parsed });
      } catch {
        const why = errTail.trim().split('\n').slice(-3).join(' | ') || `exit ${code ?? signal}, no result`;
        done({ error: why.slice(0, 300) });
      }
    });
  });
}

/**
 * Child side: runs `measure(spec)` when this module is the process entry with a spec argument and
 * prints its result (or `{error}`) as the last stdout line, then exits.
 * @param {string} moduleUrl `import.meta.url` of the child module
 * @param {(spec: object) => Promise<object>} measure
 */
export async function childMain(moduleUrl, measure) {
  if (process.argv[1] !== fileURLToPath(moduleUrl) || !process.argv[2]) return;
  try {
    process.stdout.write(`${JSON.stringify(await measure(JSON.parse(process.argv[2])))}\n`);
    process.exit(0);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`);
    process.exit(1);
  }
}

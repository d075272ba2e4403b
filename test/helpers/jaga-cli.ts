import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AccessEvent } from '../../src/domain/access-event.js';

/** The CLI entry run from the sources with `node --import tsx` (no `npm run build` needed). */
export const JAGA_CLI_ENTRY = fileURLToPath(new URL('./jaga-cli-entry.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How a child ended: exit code, or the signal that killed it. */
export interface JagaExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A finished `jaga` command: its exit and its whole stdout and stderr (UTF-8). */
export interface JagaRun extends JagaExit {
  stdout: string;
  stderr: string;
}

/** One event line of a running `jaga tail`, with when the test process received it (`Date.now()`, ms). */
export interface ReceivedEvent {
  event: AccessEvent;
  receivedAtMs: number;
}

/** Spawns `node --import tsx jaga-cli-entry.ts ...args` from the repository root. */
function spawnJaga(args: readonly string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', JAGA_CLI_ENTRY, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Runs `jaga ARGS` to completion and returns its exit and output.
 * @param options.timeoutMs SIGKILLs the child after this long (default 60 000) and rejects
 * @throws Error when the child cannot start or runs longer than `timeoutMs`
 */
export function runJaga(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<JagaRun> {
  const child = spawnJaga(args);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`jaga ${args.join(' ')} ran longer than ${options.timeoutMs ?? 60_000} ms`));
    }, options.timeoutMs ?? 60_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/**
 * A running `jaga tail` (or any command that prints one JSON event per line): parses stdout line by
 * line as it arrives, keeps stderr, and resolves `exited` when the child has exited and its pipes are
 * drained (so `events` is then complete).
 */
export class JagaProcess {
  /** events in the order the child printed them */
  readonly events: ReceivedEvent[] = [];
  /** stdout lines that were not JSON (a test asserts this stays empty) */
  readonly badStdoutLines: string[] = [];
  /** stderr lines (the JSON log lines of the child) */
  readonly stderrLines: string[] = [];
  readonly exited: Promise<JagaExit>;
  readonly pid: number;
  private readonly child: ChildProcess;
  private stdoutRest = '';
  private stderrRest = '';
  private exit: JagaExit | null = null;

  /** Spawns `jaga ARGS`. @throws Error when the child has no pid (spawn failed). */
  constructor(readonly args: readonly string[]) {
    this.child = spawnJaga(args);
    if (this.child.pid === undefined) throw new Error(`cannot spawn jaga ${args.join(' ')}`);
    this.pid = this.child.pid;
    this.child.stdout!.setEncoding('utf8');
    this.child.stderr!.setEncoding('utf8');
    this.child.stdout!.on('data', (text: string) => this.takeStdout(text));
    this.child.stderr!.on('data', (text: string) => {
      const lines = (this.stderrRest + text).split('\n');
      this.stderrRest = lines.pop()!;
      this.stderrLines.push(...lines);
    });
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        if (this.stderrRest) this.stderrLines.push(this.stderrRest);
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  /** Whether the child is still running (its `close` has not been seen). */
  get running(): boolean {
    return this.exit === null;
  }

  /**
   * Polls every 10 ms until `predicate()` holds.
   * @throws Error naming `what`, the event count and the last stderr lines when the child exits first or `timeoutMs` passes
   */
  async waitUntil(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (!this.running || Date.now() > deadline) {
        const why = this.running ? `timed out after ${timeoutMs} ms` : `child exited (${this.exit!.code ?? this.exit!.signal})`;
        throw new Error(`${why} waiting for ${what}; ${this.events.length} events so far; stderr tail:\n${this.stderrLines.slice(-5).join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Sends `signal` and resolves with the exit once the child is gone and its output drained. */
  async kill(signal: NodeJS.Signals): Promise<JagaExit> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  private takeStdout(text: string): void {
    const receivedAtMs = Date.now();
    const lines = (this.stdoutRest + text).split('\n');
    this.stdoutRest = lines.pop()!;
    for (const line of lines) {
      if (line.length === 0) continue;
      try {
        this.events.push({ event: JSON.parse(line) as AccessEvent, receivedAtMs });
      } catch {
        this.badStdoutLines.push(line);
      }
    }
  }
}

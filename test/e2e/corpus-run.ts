import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The corpus generator folder (read only: never written; the run works on a copy). */
export const GENERATOR_DIR = fileURLToPath(new URL('../../../shared/corpus/generate/', import.meta.url));
/** jaga's node_modules: holds `pg` at the generator's pinned version (8.23.1), linked into the copy. */
const JAGA_NODE_MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url));
const PG_BIN = process.env.JAGA_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** One stdout or stderr line of the script, with when this process received it (`Date.now()`, ms). */
export interface ScriptLine {
  text: string;
  atMs: number;
}

/** Where a run lives and how long it records. */
export interface CorpusRunOptions {
  /** `OUT_DIR`: logs and labels.json land here at the end */
  outDir: string;
  /** `MINUTES` of recorded traffic */
  minutes: number;
  /** `PORT` the scratch server listens on (a free one) */
  port: number;
}

/**
 * A live `run-corpus.sh OUT` (../shared/corpus/generate/README.md) as a child process: `MINUTES`,
 * `KEEP=1`, `PORT` and `SCRATCH` set. The generator folder is copied into a temp folder first
 * (the script would otherwise write `node_modules` into ../shared as root) with `node_modules`
 * linked to jaga's (same `pg` version), so the script never runs `npm ci`. The server's live log
 * folder is `<scratch>/pgdata/log`. Lines of the script's output are kept as they arrive.
 */
export class CorpusRun {
  readonly lines: ScriptLine[] = [];
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined = undefined;

  private constructor(
    private readonly child: ChildProcess,
    /** `SCRATCH`: the cluster folder (kept after the run) */
    readonly scratchDir: string,
    readonly outDir: string,
  ) {
    let rest = { out: '', err: '' };
    const take = (which: 'out' | 'err', text: string): void => {
      const parts = (rest[which] + text).split('\n');
      rest = { ...rest, [which]: parts.pop() ?? '' };
      for (const line of parts) this.lines.push({ text: line, atMs: Date.now() });
    };
    child.stdout!.setEncoding('utf8').on('data', (text: string) => take('out', text));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => take('err', text));
    this.exited = new Promise((resolve) =>
      child.once('close', (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
  }

  /** The live log folder of the scratch server. */
  get logDir(): string {
    return join(this.scratchDir, 'pgdata', 'log');
  }

  /** Whether the script is still running. */
  get running(): boolean {
    return this.exitCode === undefined;
  }

  /**
   * Copies the generator and starts `bash run-corpus.sh OUT` (as this process's user: root).
   * @throws Error when the copy fails or the script cannot be spawned
   */
  static async start(options: CorpusRunOptions): Promise<CorpusRun> {
    const root = await mkdtemp(join(tmpdir(), 'jaga-e2e-gen-'));
    await chmod(root, 0o755); // the server runs as postgres and must reach <scratch>/pgdata
    const copy = join(root, 'generate');
    await cp(GENERATOR_DIR, copy, { recursive: true });
    await run('chmod', ['-R', 'u+w', copy]);
    if (!existsSync(join(copy, 'node_modules'))) await symlink(JAGA_NODE_MODULES, join(copy, 'node_modules'), 'dir');
    const scratchDir = join(root, 'scratch');
    const child = spawn('bash', [join(copy, 'run-corpus.sh'), options.outDir], {
      env: { ...process.env, MINUTES: String(options.minutes), KEEP: '1', PORT: String(options.port), SCRATCH: scratchDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    if (child.pid === undefined) throw new Error('cannot spawn run-corpus.sh');
    return new CorpusRun(child, scratchDir, options.outDir);
  }

  /**
   * Polls every 50 ms until a line matches `pattern`; returns it.
   * @throws Error naming `pattern` and the last lines when the script exits first or `timeoutMs` passes
   */
  async waitForLine(pattern: RegExp, timeoutMs: number): Promise<ScriptLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find((line) => pattern.test(line.text));
      if (found !== undefined) return found;
      if (!this.running || Date.now() > deadline) {
        throw new Error(`run-corpus.sh ${this.running ? 'timed out' : `exited (${String(this.exitCode)})`} before printing ${pattern}; last lines:\n${this.lines.slice(-10).map((l) => l.text).join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Stops the script (SIGTERM to its process group: the script's own trap stops its server) and
   * then, if the scratch server still runs, `pg_ctl stop -m immediate` as postgres. Never throws.
   */
  async stop(): Promise<void> {
    if (this.running && this.child.pid !== undefined) {
      try {
        process.kill(-this.child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await Promise.race([this.exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    }
    const dataDir = join(this.scratchDir, 'pgdata');
    if (existsSync(join(dataDir, 'postmaster.pid'))) {
      await run('runuser', ['-u', 'postgres', '--', join(PG_BIN, 'pg_ctl'), '-D', dataDir, '-m', 'immediate', '-w', 'stop'], { cwd: '/' }).catch(() => undefined);
    }
  }
}

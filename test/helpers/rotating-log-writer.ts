import { appendFileSync, existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';

/** The `log_line_prefix` of the records RotatingLogWriter writes (the corpus server's own). */
export const WRITER_LOG_LINE_PREFIX = '%m [%p] %q%u@%d %r %a: ';

/** A small deterministic PRNG (mulberry32): same seed, same sequence. Returns numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASE_TIME_MS = Date.UTC(2026, 10, 29, 17, 17, 16, 0);

/** `%m` of PostgreSQL in UTC: `2026-11-29 17:17:16.517 UTC`. */
function stamp(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')} UTC`;
}

/**
 * Writes stderr-format PostgreSQL records (prefix `WRITER_LOG_LINE_PREFIX`, shapes copied from the
 * pg15-pgaudit corpus) into a log folder the way a server with rename + create rotation does: records
 * go to `postgresql.log`; `rotate()` renames it to `postgresql-NNNN.log` (still matching `*.log`, so
 * the final folder holds every record) and the next record creates a new `postgresql.log`.
 *
 * Every record is unique (its number is in the first line), so every file's first line, and so its
 * FileFingerprint, is unique too. Record kinds cycle through: a one-line pgaudit entry, a pgaudit
 * entry whose statement continues on TAB lines, an ERROR with its STATEMENT line, and a failed login
 * (FATAL + DETAIL). Each `append` is one `write(2)`.
 */
export class RotatingLogWriter {
  /** records written so far */
  records = 0;
  /** files rotated away so far */
  rotations = 0;
  private stopped = true;
  private loop: Promise<void> | null = null;

  /** @param dir the log folder (must exist) */
  constructor(readonly dir: string) {}

  /** Path of the file being written. */
  get activePath(): string {
    return join(this.dir, 'postgresql.log');
  }

  /** Appends `count` new records to the active file in one write. */
  append(count: number): void {
    let text = '';
    for (let i = 0; i < count; i++) text += this.record(this.records++);
    appendFileSync(this.activePath, text);
  }

  /** Renames the active file away (`postgresql-0001.log`, ...); the next `append` creates a new one. */
  rotate(): void {
    this.rotations += 1;
    renameSync(this.activePath, join(this.dir, `postgresql-${String(this.rotations).padStart(4, '0')}.log`));
  }

  /**
   * Starts appending in the background: every `tickMs` (default 5) 1..`maxPerTick` (default 8) records,
   * and a rotation whenever the active file holds `recordsPerFile` records (default 400).
   * `random` drives the counts (pass `seededRandom(seed)` for a reproducible run).
   */
  start(random: () => number, options: { tickMs?: number; maxPerTick?: number; recordsPerFile?: number } = {}): void {
    const tickMs = options.tickMs ?? 5;
    const maxPerTick = options.maxPerTick ?? 8;
    const recordsPerFile = options.recordsPerFile ?? 400;
    this.stopped = false;
    this.loop = (async () => {
      let inFile = 0;
      while (!this.stopped) {
        const count = 1 + Math.floor(random() * maxPerTick);
        try {
          this.append(count);
          inFile += count;
          if (inFile >= recordsPerFile) {
            this.rotate();
            inFile = 0;
          }
        } catch (error) {
          // the folder was removed under a writer nobody stopped (a test that timed out and cleaned up): stop quietly
          if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync(this.dir)) break;
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, tickMs));
      }
      this.stopped = true;
    })();
  }

  /** Stops the background writer after its current tick. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    this.loop = null;
  }

  private record(n: number): string {
    const prefix = `${stamp(BASE_TIME_MS + n)} [${20000 + (n % 50)}] app_web@crm 127.0.0.1(${40000 + (n % 1000)}) crm-web: `;
    switch (n % 4) {
      case 0:
        return `${prefix}LOG:  AUDIT: SESSION,${n},1,READ,SELECT,TABLE,public.customers,"SELECT id, full_name, email FROM customers WHERE id = $1",${n},1\n`;
      case 1:
        return `${prefix}LOG:  AUDIT: SESSION,${n},1,READ,SELECT,TABLE,public.orders,"SELECT o.id, o.status\n\t  FROM orders o\n\t WHERE o.customer_id = $1",${n},3\n`;
      case 2:
        return `${prefix}ERROR:  permission denied for table payments\n${prefix}STATEMENT:  SELECT card_number FROM payments WHERE id = ${n}\n`;
      default: {
        const failed = `${stamp(BASE_TIME_MS + n)} [${20000 + (n % 50)}] dba_admin@crm 127.0.0.2(${35000 + (n % 1000)}) [unknown]: `;
        return `${failed}FATAL:  password authentication failed for user "dba_admin"\n${failed}DETAIL:  Connection matched pg_hba.conf line 3: "host all all 127.0.0.0/8 scram-sha-256"\n`;
      }
    }
  }
}

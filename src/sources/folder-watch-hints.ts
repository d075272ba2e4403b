import { basename, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

/** A hint kind: `scan` (a file may have appeared, vanished or been renamed) or `check` (a file changed). */
export type WatchHint = 'scan' | 'check';

/**
 * File system events of one folder (chokidar 5 over inotify/FSEvents), used only as hints that wake
 * the reader early: a periodic re-scan stays the truth, so a lost or doubled event loses or doubles
 * nothing. Raw `fs.watch` events are used besides chokidar's own because chokidar throttles `change`
 * events to one per 50 ms per file, which would delay lines written in quick succession.
 */
export class FolderWatchHints {
  private watcher: FSWatcher | null = null;

  /**
   * @param dir the folder (not recursive)
   * @param matches base-name filter of relevant files (may change over time, e.g. once `auto` decides)
   * @param onHint called for each relevant event
   * @param onError called with watcher errors (the re-scan still works)
   */
  constructor(
    private readonly dir: string,
    private readonly matches: (name: string) => boolean,
    private readonly onHint: (hint: WatchHint) => void,
    private readonly onError: (error: Error) => void,
  ) {}

  /** Starts watching (idempotent). */
  start(): void {
    if (this.watcher) return;
    const root = resolve(this.dir);
    this.watcher = watch(root, {
      depth: 0,
      ignoreInitial: true,
      atomic: false,
      persistent: true,
      ignored: (path: string) => resolve(path) !== root && !this.matches(basename(path)),
    });
    this.watcher.on('raw', (event: string, path: string) => {
      if (path && !this.matches(basename(path))) return;
      this.onHint(event === 'rename' ? 'scan' : 'check');
    });
    this.watcher.on('add', () => this.onHint('scan'));
    this.watcher.on('unlink', () => this.onHint('scan'));
    this.watcher.on('error', (error: unknown) => this.onError(error instanceof Error ? error : new Error(String(error))));
  }

  /** Stops watching (idempotent). */
  async close(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = null;
    if (watcher) await watcher.close();
  }
}

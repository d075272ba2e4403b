/**
 * Persisted read position of one log file: records before `offset` (bytes) have been committed
 * downstream. `path` is where the file was last seen (informational: files are matched by
 * `fingerprint`, never by name). Produced by `LogFolderSource.checkpoints()`, given back to its
 * constructor after a restart.
 */
export interface FileCheckpoint {
  fingerprint: string;
  path: string;
  offset: number;
}

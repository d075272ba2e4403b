import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PGLITE_SUBDIR } from '../db/pglite-store.js';
import { CliError } from './cli-error.js';

/**
 * Checks that `dataDir` holds an embedded store (the folder and its `pglite/` exist) before a command
 * that only reads or updates one opens it: opening would otherwise create a fresh, empty store and
 * the command would answer "no incidents" for a mistyped --data-dir. Only `jaga run`, `jaga demo`,
 * `jaga tail --state` and `jaga token create` create a store (token list and revoke check first).
 *
 * @param dataDir the folder given (--data-dir, or `store.data_dir` of --config); relative to the cwd
 * @param option how the user gave it, for the message (e.g. `--data-dir`)
 * @throws CliError (exit 2) `--data-dir /x: the folder does not exist: ...` or `... holds no jaga store (no pglite/ folder): ...`
 */
export async function requireExistingStoreFolder(dataDir: string, option: string): Promise<void> {
  const folder = resolve(dataDir);
  const hint = 'check the path (only jaga run and jaga demo create a store)';
  if (!(await isDirectory(folder))) throw new CliError(`${option} ${dataDir}: the folder does not exist: ${hint}`);
  if (!(await isDirectory(join(folder, PGLITE_SUBDIR)))) throw new CliError(`${option} ${dataDir}: holds no jaga store (no ${PGLITE_SUBDIR}/ folder): ${hint}`);
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw new CliError(`cannot read ${path}: ${code ?? (error as Error).message}`);
  }
}

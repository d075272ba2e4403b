import { readFile } from 'node:fs/promises';

/** The `version` of jaga's package.json (for `jaga_build_info`), or `unknown` when it cannot be read. */
export async function packageVersion(): Promise<string> {
  try {
    const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

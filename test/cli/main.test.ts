/** The CLI entry: version, usage and unknown commands, through the built-in `main` in this process. */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

function captureStdout(): { text: () => string } {
  const chunks: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  return { text: () => chunks.join('') };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('jaga main', () => {
  it('--version prints the package version and exits 0', async () => {
    const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const out = captureStdout();
    expect(await main(['--version'])).toBe(0);
    expect(out.text()).toBe(`jaga ${version}\n`);
  });

  it('--help lists every command and exits 0; no command prints the same usage and exits 2', async () => {
    const out = captureStdout();
    expect(await main(['--help'])).toBe(0);
    const usage = out.text();
    for (const command of ['run', 'config', 'parse', 'tail', 'rules', 'replay', 'report', 'incidents', 'token', 'demo']) expect(usage).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(await main([])).toBe(2);
    expect(out.text()).toBe(usage + usage);
  });

  it('an unknown option is a usage problem (exit 2) pointing at --help; a store URL that is not PostgreSQL is refused without a stack (exit 2)', async () => {
    const errors: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      errors.push(String(chunk));
      return true;
    });
    expect(await main(['rules', 'validate', '--bogus'])).toBe(2);
    expect(await main(['token', 'list', '--store', 'mysql://u:secretpw@db.invalid/jaga'])).toBe(2);
    expect(errors).toEqual([
      'jaga rules: unknown option --bogus (see --help)\n',
      'jaga token: store: expected a PostgreSQL URL postgres://[user[:password]@]host[:port]/database (or postgresql://; value not shown)\n',
    ]);
  });
});

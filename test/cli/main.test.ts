/** The CLI entry: version, usage and unknown commands, through the built-in `main` in this process. */
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('refuses an impossible --until day (exit 2, one line naming the option and the value) before opening any store or log', async () => {
    const errors: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      errors.push(String(chunk));
      return true;
    });
    const missing = join(tmpdir(), 'jaga-no-such-store');
    expect(await main(['report', 'access', '--data-dir', missing, '--until', '2026-02-30'])).toBe(2);
    expect(await main(['report', 'access', '--data-dir', missing, '--until', '2026-11-31'])).toBe(2);
    expect(await main(['report', 'access', '--data-dir', missing, '--until', '2026-13-01'])).toBe(2);
    expect(await main(['report', 'access', '--logs', join(missing, 'a.log'), '--config', join(missing, 'jaga.yaml'), '--until', '2027-02-29'])).toBe(2);
    expect(errors).toEqual([
      'jaga report: --until must be a calendar day YYYY-MM-DD, not "2026-02-30"\n',
      'jaga report: --until must be a calendar day YYYY-MM-DD, not "2026-11-31"\n',
      'jaga report: --until must be a calendar day YYYY-MM-DD, not "2026-13-01"\n',
      'jaga report: --until must be a calendar day YYYY-MM-DD, not "2027-02-29"\n',
    ]);
  });

  it('refuses an impossible incidents --since time (exit 2, naming the option and the value)', async () => {
    const errors: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      errors.push(String(chunk));
      return true;
    });
    expect(await main(['incidents', 'list', '--data-dir', join(tmpdir(), 'jaga-no-such-store'), '--since', '2026-02-30T00:00:00Z'])).toBe(2);
    expect(errors).toEqual(['jaga incidents: --since must be an ISO-8601 time (2026-01-01T00:00:00Z) or a duration (24h, 7d), not "2026-02-30T00:00:00Z"\n']);
  });
});

describe('bin/jaga.js', () => {
  it('without a build prints one line saying how to build and exits 2, without a stack trace', async () => {
    const root = await mkdtemp(join(tmpdir(), 'jaga-unbuilt-'));
    try {
      await mkdir(join(root, 'bin'));
      await copyFile(new URL('../../bin/jaga.js', import.meta.url), join(root, 'bin', 'jaga.js'));
      const run = spawnSync(process.execPath, [join(root, 'bin', 'jaga.js'), 'incidents', 'list'], { encoding: 'utf8' });
      expect([run.status, run.stdout, run.stderr]).toEqual([
        2,
        '',
        `jaga is not built: ${join(root, 'dist', 'cli', 'main.js')} is missing; run \`npm run build\` in ${root}\n`,
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

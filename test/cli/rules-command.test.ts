import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { rulesCommand } from '../../src/cli/rules-command.js';
import { CliError } from '../../src/cli/cli-error.js';
import { ruleHead, TWO_TESTS, writeTree } from '../detect/rule-fixtures.js';

const PACK = resolve('test/fixtures/rules/pack');
const CATALOG = resolve('test/fixtures/rules/catalog.yaml');
const JUNE = new Date('2026-06-01T00:00:00Z');

/** Runs `jaga rules ...` with captured output. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  const code = await rulesCommand(args, { stdout, stderr, now: JUNE });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('jaga rules validate', () => {
  it('exits 0 for a valid folder, printing warnings on stderr', async () => {
    const result = await run(['validate', PACK]);
    expect(result).toEqual({
      code: 0,
      stdout: 'ok: 3 rules (3 enabled) from 4 files\n',
      stderr: `warning: ${PACK}/auth.yaml:21: rule test.auth.brute_force: exceptions[0]: exception "pentest_2026" expired at 2026-03-31T00:00:00Z: ignored\n`,
    });
  });

  it('exits 1 listing every problem, including a rule without a non-firing test', async () => {
    const dir = await writeTree({
      'a.yaml': `${ruleHead('t.a', 'match')}match:\n  sel: { kind: error }\nwindow: 1m\n${TWO_TESTS}`,
      'b.yaml': `${ruleHead('t.b', 'match')}match:\n  sel: { kind: error }\ntests:\n  - name: fires\n    events: [{ time: 2026-01-01T00:00:00Z, kind: error }]\n    expect: { detections: 1 }\n`,
    });
    const result = await run(['validate', dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      [
        `${dir}/a.yaml:9: rule t.a: window: "window" is not a parameter of type match (match takes no parameters)`,
        `${dir}/b.yaml:9: rule t.b: tests: needs a test that does not fire (expect.detections: 0)`,
        '2 problems',
        '',
      ].join('\n'),
    );
  });

  it('exits 1 for a folder without rules instead of "ok: 0 rules" (validate and test)', async () => {
    const dir = await writeTree({ 'README.md': 'not a rule\n' });
    const expected = { code: 1, stdout: '', stderr: `no rule in ${dir} (rule files are *.yaml / *.yml directly in the folder): nothing to check\n1 problem\n` };
    expect(await run(['validate', dir])).toEqual(expected);
    expect(await run(['test', dir])).toEqual(expected);
  });

  it('names the config line of a rules folder that does not exist (exit 2), instead of a bare ENOENT', async () => {
    const dir = await writeTree({ 'conf/jaga.yaml': 'rules:\n  - ../site-rules\n' });
    const expected = {
      code: 2,
      stdout: '',
      stderr: `${dir}/conf/jaga.yaml:2: rules[0]: folder ${dir}/site-rules does not exist (a relative path resolves against the config file's folder, ${dir}/conf)\n1 problem\n`,
    };
    expect(await run(['validate', '--config', join(dir, 'conf', 'jaga.yaml')])).toEqual(expected);
    expect(await run(['test', '--config', join(dir, 'conf', 'jaga.yaml')])).toEqual(expected);
    // folders given on the command line replace the config's: its missing folder does not matter then
    expect((await run(['validate', '--config', join(dir, 'conf', 'jaga.yaml'), PACK])).code).toBe(0);
  });

  it('uses the config file\'s rules, lists and catalog, and exits 2 for a bad config', async () => {
    const dir = await writeTree({ 'jaga.yaml': `rules: [${PACK}]\ncatalog: ${CATALOG}\nlists:\n  etl_roles: [app_batch, app_etl]\n`, 'bad.yaml': 'rule: [x]\n' });
    const ok = await run(['validate', '--config', join(dir, 'jaga.yaml')]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('ok: 3 rules (3 enabled) from 5 files\n');
    const bad = await run(['validate', '--config', join(dir, 'bad.yaml')]);
    expect(bad).toEqual({ code: 2, stdout: '', stderr: `${join(dir, 'bad.yaml')}:1: rule: unknown key "rule" (did you mean "rules"?)\n1 problem\n` });
  });
});

describe('jaga rules show', () => {
  it('prints the effective rule with the overlay that changed its threshold', async () => {
    const result = await run(['show', 'test.auth.brute_force', '--rules', PACK]);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      '# rule test.auth.brute_force (threshold, enabled)',
      `# file: ${PACK}/auth.yaml`,
      `# overlays: ${PACK}/local/site.yaml`,
      `# changed by ${PACK}/local/site.yaml: count, tags, exceptions`,
      '# event kinds: auth_failure',
    ]);
    expect(lines[5]).toMatch(/^# state key: [0-9a-f]{64}$/);
    expect(lines).toContain(`count: 20 # overlay: ${PACK}/local/site.yaml`);
    expect(lines).toContain('window: 60s');
    expect(lines).toContain(`# overlay: ${PACK}/local/site.yaml (exceptions appended)`);
    expect(lines).toContain('  - name: monitoring_probe');
    expect(lines).toContain('  # expired: ignored');
  });

  it('exits 1 for an unknown rule id with a suggestion', async () => {
    expect(await run(['show', 'test.auth.brute_forse', '--rules', PACK])).toEqual({ code: 1, stdout: '', stderr: 'jaga rules show: unknown rule "test.auth.brute_forse" (did you mean "test.auth.brute_force"?)\n' });
  });

  it('refuses a missing id and an unknown subcommand as usage errors', async () => {
    await expect(run(['show'])).rejects.toThrow(CliError);
    await expect(run(['valdate'])).rejects.toThrow('unknown subcommand "valdate" (did you mean "validate"?)');
  });

  it('refuses a rule file given where a rule folder is expected, naming the folder to give instead', async () => {
    const file = join(PACK, 'auth.yaml');
    await expect(run(['validate', file])).rejects.toThrow(new CliError(`${file} is a file; jaga rules validate takes rule folders (give its folder ${PACK})`));
    await expect(run(['test', file])).rejects.toThrow(`${file} is a file; jaga rules test takes rule folders (give its folder ${PACK})`);
    await expect(run(['show', 'test.auth.brute_force', '--rules', file])).rejects.toThrow(`${file} is a file; jaga rules show takes rule folders (give its folder ${PACK})`);
  });
});

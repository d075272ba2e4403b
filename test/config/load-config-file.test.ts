import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load-config-file.js';
import { configCommand } from '../../src/cli/config-command.js';
import { ConfigError } from '../../src/domain/errors.js';
import { writeTree } from '../detect/rule-fixtures.js';

async function problemsOf(text: string, env: NodeJS.ProcessEnv = {}, requireSources = true): Promise<string[]> {
  const dir = await writeTree({ 'jaga.yaml': text });
  const error = await loadConfigFile(join(dir, 'jaga.yaml'), env, { requireSources }).catch((e: unknown) => e);
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
  return error.problems.map((p) => p.replaceAll(dir, '<dir>'));
}

const SOURCE = 'sources:\n  - { name: pg1, type: log_folder, path: logs }\n';

describe('loadConfigFile: daemon sections', () => {
  it('applies the defaults: agent jaga, embedded store in ./data next to the file, 1s commits, nothing ignored (no jaga role known)', async () => {
    const dir = await writeTree({ 'jaga.yaml': SOURCE });
    const config = await loadConfigFile(join(dir, 'jaga.yaml'), {});
    expect(config.daemon).toEqual({
      agentName: 'jaga',
      store: { kind: 'embedded', dataDir: join(dir, 'data') },
      sources: [{ type: 'log_folder', name: 'pg1', path: join(dir, 'logs'), format: 'auto', glob: null, logLinePrefix: null, timezone: 'UTC', startAt: 'beginning', server: 'pg1' }],
      pipeline: { commitIntervalMs: 1000, maxBatchEvents: 5000, queueEvents: 20000, jobsIntervalMs: 10000 },
      ignore: { roles: [], applicationNames: [] },
      shutdownTimeoutMs: 10000,
    });
    expect(Object.isFrozen(config.daemon.pipeline)).toBe(true);
  });

  it("reads every section: PostgreSQL store, both source types, durations; jaga's own roles with its application names are ignored by default", async () => {
    const dir = await writeTree({
      'jaga.yaml': [
        'timezone: Asia/Jakarta',
        'agent: { name: db-eu-1 }',
        'store: { url: "postgres://jaga_store:pw@store:5432/jaga" }',
        'sources:',
        "  - { name: pg1, type: log_folder, path: /var/log/postgresql, format: csvlog, log_line_prefix: '%m [%p] ', start_at: end, server: crm }",
        '  - { name: app, type: app_access, url: "postgres://reader@db/crm", poll_interval: 2s }',
        'pipeline: { commit_interval: 500ms, max_batch_events: 100, queue_events: 1000, jobs_interval: 1m }',
        'shutdown_timeout: 30s',
        '',
      ].join('\n'),
    });
    const { daemon } = await loadConfigFile(join(dir, 'jaga.yaml'), {});
    expect(daemon.shutdownTimeoutMs).toBe(30_000);
    expect(daemon.agentName).toBe('db-eu-1');
    expect(daemon.store).toEqual({ kind: 'postgres', url: 'postgres://jaga_store:pw@store:5432/jaga' });
    expect(daemon.sources).toEqual([
      { type: 'log_folder', name: 'pg1', path: '/var/log/postgresql', format: 'csvlog', glob: null, logLinePrefix: '%m [%p] ', timezone: 'Asia/Jakarta', startAt: 'end', server: 'crm' },
      { type: 'app_access', name: 'app', url: 'postgres://reader@db/crm', pollIntervalMs: 2000 },
    ]);
    expect(daemon.pipeline).toEqual({ commitIntervalMs: 500, maxBatchEvents: 100, queueEvents: 1000, jobsIntervalMs: 60000 });
    expect(daemon.ignore).toEqual({ roles: ['jaga_store', 'reader'], applicationNames: ['jaga', 'jaga:*'] });
  });

  it('escalation is configured once: the incidents stage\'s bounds come from the `escalation:` steps, and `incidents.escalation` is refused as moved', async () => {
    const dir = await writeTree({
      'jaga.yaml': `${SOURCE}receivers: { pager: { type: console } }\nescalation: { steps: [{ after: { critical: 5m, high: 30m }, receivers: [pager] }, { after: { critical: 1h }, receivers: [pager] }] }\n`,
    });
    const config = await loadConfigFile(join(dir, 'jaga.yaml'), {});
    expect(config.incidents.escalationMs).toEqual({ critical: [300_000, 3_600_000], high: [1_800_000] });
    expect((await loadConfigFile(join((await writeTree({ 'jaga.yaml': SOURCE })), 'jaga.yaml'), {})).incidents.escalationMs).toEqual({});
    expect(await problemsOf(`${SOURCE}incidents:\n  escalation: { critical: [15m] }\n`)).toEqual([
      '<dir>/jaga.yaml:4: incidents.escalation: moved to escalation: give each step as `escalation: {steps: [{after: {critical: 15m, high: 1h}, receivers: [...]}]}` at the top level (one place for timing and receivers)',
    ]);
  });

  it('lists EVERY problem with its line and path in one ConfigError', async () => {
    const problems = await problemsOf(
      [
        'agent: { nmae: x }',
        'store: { url: "postgres://a/b", data_dir: ./d }',
        'sources:',
        '  - { name: pg1, type: log_folder }',
        '  - { name: pg1, type: log_folder, path: x, start_at: middle }',
        '  - { name: s3, type: kafka }',
        'pipeline: { commit_interval: 5, queue_events: 0 }',
        '',
      ].join('\n'),
    );
    expect(problems).toEqual([
      '<dir>/jaga.yaml:1: agent.nmae: unknown key "nmae" (did you mean "name"?)',
      '<dir>/jaga.yaml:2: store: give one of url, url_file and data_dir',
      '<dir>/jaga.yaml:4: sources[0].path: missing required key',
      '<dir>/jaga.yaml:5: sources[1].start_at: expected one of beginning, end, got "middle"',
      '<dir>/jaga.yaml:5: sources[1].name: "pg1" is used by another source',
      expect.stringMatching(/^<dir>\/jaga\.yaml:6: sources\[2\]\.type: /),
      '<dir>/jaga.yaml:7: pipeline.commit_interval: expected a duration such as 30s, 5m, 1h or 7d, got 5',
      '<dir>/jaga.yaml:7: pipeline.queue_events: must be >= 1',
    ]);
  });

  it('a config without a source is an error for jaga run, but fine for replay', async () => {
    expect(await problemsOf('timezone: UTC\n')).toEqual(['<dir>/jaga.yaml:1: sources: no source configured: add a log_folder or app_access source (jaga never falls back to demo data)']);
    const dir = await writeTree({ 'jaga.yaml': 'timezone: UTC\n' });
    expect((await loadConfigFile(join(dir, 'jaga.yaml'), {})).daemon.sources).toEqual([]);
  });

  it('two sources with one name, and an unreadable url_file, are problems too', async () => {
    const problems = await problemsOf(['store: { url_file: missing-secret }', 'sources:', '  - { name: a, type: log_folder, path: x }', '  - { name: a, type: app_access, url: "postgres://r@h/d" }', ''].join('\n'));
    expect(problems).toEqual(['<dir>/jaga.yaml:1: store.url_file: cannot read missing-secret (ENOENT)', '<dir>/jaga.yaml:4: sources[1].name: "a" is used by another source']);
  });
});

describe('loadConfigFile: environment overrides and *_FILE secrets', () => {
  it('JAGA_STORE_URL replaces the file store, JAGA_AGENT_NAME and JAGA_COMMIT_INTERVAL override their keys', async () => {
    const dir = await writeTree({ 'jaga.yaml': `store: { data_dir: ./state }\nagent: { name: from-file }\n${SOURCE}` });
    const { daemon } = await loadConfigFile(join(dir, 'jaga.yaml'), { JAGA_STORE_URL: 'postgres://env_user@h/db', JAGA_AGENT_NAME: 'from-env', JAGA_COMMIT_INTERVAL: '250ms', PATH: '/bin' });
    expect(daemon.store).toEqual({ kind: 'postgres', url: 'postgres://env_user@h/db' });
    expect(daemon.agentName).toBe('from-env');
    expect(daemon.pipeline.commitIntervalMs).toBe(250);
  });

  it('JAGA_HTTP_LISTEN overrides http.listen; JAGA_STORE_DATA_DIR replaces a file url', async () => {
    const dir = await writeTree({ 'jaga.yaml': `http: { listen: "127.0.0.1:7887" }\nstore: { url: "postgres://u@h/d" }\n${SOURCE}` });
    const config = await loadConfigFile(join(dir, 'jaga.yaml'), { JAGA_HTTP_LISTEN: '0.0.0.0:9000', JAGA_STORE_DATA_DIR: '/var/lib/jaga' });
    expect([config.http.host, config.http.port]).toEqual(['0.0.0.0', 9000]);
    expect(config.daemon.store).toEqual({ kind: 'embedded', dataDir: '/var/lib/jaga' });
  });

  it('the example CRM config (detection only, daemon sections commented) still loads for replay', async () => {
    const config = await loadConfigFile('examples/crm/jaga.yaml', {});
    expect(config.daemon.sources).toEqual([]);
    expect(config.detection.timezone).toBe('UTC');
  });

  it('reads JAGA_STORE_URL_FILE (trailing newline trimmed) and keeps it out of the resolved env of other variables', async () => {
    const dir = await writeTree({ 'jaga.yaml': SOURCE, 'secret.txt': 'postgres://secret_user:s3cret@h/db\n' });
    const config = await loadConfigFile(join(dir, 'jaga.yaml'), { JAGA_STORE_URL_FILE: join(dir, 'secret.txt'), JAGA_SLACK_WEBHOOK_URL_FILE: join(dir, 'secret.txt'), HOME: '/root' });
    expect(config.daemon.store).toEqual({ kind: 'postgres', url: 'postgres://secret_user:s3cret@h/db' });
    expect(config.env).toEqual({ JAGA_STORE_URL: 'postgres://secret_user:s3cret@h/db', JAGA_SLACK_WEBHOOK_URL: 'postgres://secret_user:s3cret@h/db' });
  });

  it('names the variable of a bad value, an unreadable *_FILE, and a variable given twice', async () => {
    const dir = await writeTree({ 'x.txt': 'x' });
    const problems = await problemsOf(SOURCE, {
      JAGA_COMMIT_INTERVAL: 'soon',
      JAGA_AGENT_NAME: 'bad name!',
      JAGA_TIMEZONE_FILE: join(dir, 'nope.txt'),
      JAGA_STORE_DATA_DIR: '/d',
      JAGA_STORE_DATA_DIR_FILE: join(dir, 'x.txt'),
    });
    expect(problems.map((p) => p.replaceAll(dir, '<tmp>'))).toEqual([
      'JAGA_TIMEZONE_FILE: cannot read <tmp>/nope.txt (ENOENT)',
      'JAGA_STORE_DATA_DIR_FILE: give JAGA_STORE_DATA_DIR or JAGA_STORE_DATA_DIR_FILE, not both',
      'JAGA_AGENT_NAME (agent.name): invalid "bad name!": a name is 1-63 letters, digits, _ . - (starting with a letter or digit)',
      'JAGA_COMMIT_INTERVAL (pipeline.commit_interval): invalid duration "soon": expected a number with a unit ms, s, m, h, d or w, e.g. 500ms, 30s, 5m, 26h, 7d',
    ]);
  });
});

describe('jaga config check', () => {
  it('prints a summary without secrets and exits 0 for a valid file, lists problems and exits 1 otherwise', async () => {
    const dir = await writeTree({ 'jaga.yaml': SOURCE, 'logs/postgresql.log': '', 'bad.yaml': 'sources: []\nstroe: {}\n' });
    const out: string[] = [];
    const err: string[] = [];
    const sink = (lines: string[]) => ({ write: (text: string) => lines.push(text) }) as unknown as NodeJS.WritableStream;
    expect(await configCommand(['check', '--config', join(dir, 'jaga.yaml')], { stdout: sink(out), stderr: sink(err), env: { JAGA_STORE_URL: 'postgres://u:topsecret@h/d' } })).toBe(0);
    expect(out.join('')).toBe(`${join(dir, 'jaga.yaml')}: ok: agent jaga, store postgres (url given), sources pg1 (log_folder)\n`);
    expect(out.join('')).not.toContain('topsecret');
    expect(await configCommand(['check', '--config', join(dir, 'bad.yaml')], { stdout: sink(out), stderr: sink(err), env: {} })).toBe(1);
    expect(err.join('').replaceAll(dir, '<dir>')).toBe(
      '<dir>/bad.yaml:1: sources: no source configured: add a log_folder or app_access source (jaga never falls back to demo data)\n' +
        '<dir>/bad.yaml:2: stroe: unknown key "stroe" (did you mean "store"?)\n2 problems\n',
    );
  });
});

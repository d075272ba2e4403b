import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configCommand } from '../../src/cli/config-command.js';
import { loadConfigFile } from '../../src/config/load-config-file.js';
import { receiverReferenceProblems, receiverTypeProblems } from '../../src/config/receiver-references.js';
import { ConfigError } from '../../src/domain/errors.js';
import { ruleHead, writeTree } from '../detect/rule-fixtures.js';

async function problemsOf(text: string, env: NodeJS.ProcessEnv = {}, files: Record<string, string> = {}): Promise<string[]> {
  const dir = await writeTree({ 'jaga.yaml': text, ...files });
  const error = await loadConfigFile(join(dir, 'jaga.yaml'), env, { requireSources: true }).catch((e: unknown) => e);
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
  return error.problems.map((p) => p.replaceAll(dir, '<dir>'));
}

const SOURCE = 'sources:\n  - { name: pg1, type: log_folder, path: logs }\n';

describe('jaga config check: cross-references in the same pass as schema problems, with lines', () => {
  it('reports unknown route, escalation and fallback receivers and a duplicate source name while the schema also fails, in line order', async () => {
    const problems = await problemsOf(
      [
        'sources:', // 1
        '  - { name: pg1, type: log_folder, path: logs }',
        '  - { name: pg1, type: log_folder, path: x, start_at: middle }',
        'receivers:', // 4
        '  pager:',
        '    type: slak',
        '    fallback: mial',
        '  mail: { type: console }',
        'routes:', // 9
        '  - receivers: [pager, ghost]',
        '  - receivers: [mail]',
        '    changes: [explode]',
        'escalation:', // 13
        '  steps:',
        '    - { after: 5m, receivers: [nobody] }',
        '',
      ].join('\n'),
    );
    expect(problems).toEqual([
      '<dir>/jaga.yaml:3: sources[1].start_at: expected one of beginning, end, got "middle"',
      '<dir>/jaga.yaml:3: sources[1].name: "pg1" is used by another source',
      '<dir>/jaga.yaml:6: receivers.pager.type: receiver "pager" has unknown type "slak" (did you mean "slack"?); types: slack, email, webhook, console, file',
      '<dir>/jaga.yaml:7: receivers.pager.fallback: unknown receiver "mial" (did you mean "mail"?) (receivers: pager, mail)',
      '<dir>/jaga.yaml:10: routes[0].receivers: unknown receiver "ghost" (receivers: pager, mail)',
      '<dir>/jaga.yaml:12: routes[1].changes[0]: expected one of opened, updated, severity_raised, acknowledged, resolved, reopened, escalated, deadline_reminder, got "explode"',
      '<dir>/jaga.yaml:15: escalation.steps[0].receivers: unknown receiver "nobody" (receivers: pager, mail)',
    ]);
  });

  it('checks a section whose only schema problems are unknown keys further, so its other problems show in the same pass', async () => {
    const problems = await problemsOf(
      [
        'sources:', // 1
        '  - { name: pg1, type: log_folder, path: logs, bogus: 1 }',
        'receivers:', // 3
        '  con: { type: console, strem: stdout }',
        '  sl: { type: slack }',
        'escalation:', // 6
        '  steps:',
        '    - { after: 10m, receivers: [sl] }',
        '    - { after: 5m, receivers: [con] }',
        '',
      ].join('\n'),
    );
    expect(problems).toEqual([
      '<dir>/jaga.yaml:2: sources[0].bogus: unknown key "bogus"',
      '<dir>/jaga.yaml:4: receivers.con.strem: unknown key "strem" (did you mean "stream"?)',
      '<dir>/jaga.yaml:5: receivers.sl.url: missing required key (give one of url, url_file, url_env)',
      '<dir>/jaga.yaml:9: escalation.steps[1].after: it must be longer than the step before\'s (steps must grow)',
    ]);
  });

  it('says which keys a receiver of that type takes when the unknown key belongs to another type, instead of suggesting the key itself', async () => {
    const problems = await problemsOf(`${SOURCE}receivers:\n  con: { type: console, url: "http://x" }\n`);
    expect(problems).toEqual(['<dir>/jaga.yaml:4: receivers.con.url: unknown key "url" (allowed here: type, stream, group_window, rate_limit, max_attempts, max_age, backoff, fallback, timeout)']);
  });

  it('gives the line of cross-reference problems of an otherwise valid file, also under a receiver name holding dots', async () => {
    const problems = await problemsOf(
      [
        SOURCE.trimEnd(), // lines 1-2
        'receivers:',
        '  ops.pager: { type: console, fallback: ops.pagr }',
        'routes:',
        '  - receivers:',
        '      - ops.pager',
        '      - ghost',
        '',
      ].join('\n'),
    );
    expect(problems).toEqual([
      '<dir>/jaga.yaml:4: receivers.ops.pager.fallback: unknown receiver "ops.pagr" (did you mean "ops.pager"?) (receivers: ops.pager)',
      '<dir>/jaga.yaml:6: routes[0].receivers: unknown receiver "ghost" (receivers: ops.pager)',
    ]);
  });

  it('does not report a reference the schema already refused, and checks nothing when receivers is not a map', async () => {
    expect(await problemsOf(`${SOURCE}receivers: { a: { type: console } }\nroutes:\n  - receivers: ["bad name!"]\n`)).toEqual([
      '<dir>/jaga.yaml:5: routes[0].receivers[0]: invalid "bad name!": a receiver name is letters, digits, _ . -',
    ]);
    expect(receiverReferenceProblems({ receivers: [1], routes: [{ receivers: ['x'] }] })).toEqual([]);
    expect(receiverReferenceProblems({ routes: [{ receivers: ['console', 'pager'] }] })).toEqual([
      { path: ['routes', 0, 'receivers'], message: 'unknown receiver "pager" (receivers: console)' },
    ]);
  });
});

describe('jaga config check: a receiver of unknown type', () => {
  it('names the receiver, the bad type, a close type and every type; a missing type says so', async () => {
    expect(await problemsOf(`${SOURCE}receivers:\n  oncall: { type: e-mail, smtp_url: "smtp://h", from: a@b.c, to: [x@y.z] }\n  hook: { url: "https://x.test" }\n`)).toEqual([
      '<dir>/jaga.yaml:4: receivers.oncall.type: receiver "oncall" has unknown type "e-mail" (did you mean "email"?); types: slack, email, webhook, console, file',
      '<dir>/jaga.yaml:5: receivers.hook.type: receiver "hook" has no type; give one of: slack, email, webhook, console, file',
    ]);
    expect(receiverTypeProblems({ receivers: { r: { type: 'pagerduty' }, s: { type: 7 } } })).toEqual([
      { path: ['receivers', 'r', 'type'], message: 'receiver "r" has unknown type "pagerduty"; types: slack, email, webhook, console, file' },
      { path: ['receivers', 's', 'type'], message: 'receiver "s" has a type that is not a string; give one of: slack, email, webhook, console, file' },
    ]);
  });
});

describe('jaga config check: store and source URLs are PostgreSQL URLs', () => {
  const URL_MESSAGE = 'expected a PostgreSQL URL postgres://[user[:password]@]host[:port]/database (or postgresql://; value not shown)';

  it('refuses a malformed JAGA_STORE_URL, store.url, app_access url and url_file content without showing the value', async () => {
    expect(await problemsOf(SOURCE, { JAGA_STORE_URL: 'postgres//jaga:hunter2@db/jaga' })).toEqual([`JAGA_STORE_URL (store.url): ${URL_MESSAGE}`]);
    expect(await problemsOf(`store: { url: "mysql://u:hunter2@h/d" }\n${SOURCE}`)).toEqual([`<dir>/jaga.yaml:1: store.url: ${URL_MESSAGE}`]);
    expect(await problemsOf(`${SOURCE}  - { name: app, type: app_access, url: "postgres://u@/crm" }\n`)).toEqual([`<dir>/jaga.yaml:3: sources[1].url: ${URL_MESSAGE}`]);
    const fromFile = await problemsOf(`store: { url_file: secret.txt }\n${SOURCE}`, {}, { 'secret.txt': 'jaga:hunter2@db:5432/jaga\n' });
    expect(fromFile).toEqual([`<dir>/jaga.yaml:1: store.url_file: the file's content: ${URL_MESSAGE}`]);
    expect(fromFile.join('\n')).not.toContain('hunter2');
  });

  it('accepts postgres://, postgresql:// and a socket folder given as host=', async () => {
    for (const url of ['postgres://jaga:pw@store:5432/jaga', 'postgresql://store/jaga?sslmode=require', 'postgres:///jaga?host=/var/run/postgresql']) {
      const dir = await writeTree({ 'jaga.yaml': SOURCE });
      expect((await loadConfigFile(join(dir, 'jaga.yaml'), { JAGA_STORE_URL: url })).daemon.store).toEqual({ kind: 'postgres', url });
    }
  });

  it('jaga config check exits 1 and prints the problem for a malformed JAGA_STORE_URL', async () => {
    const dir = await writeTree({ 'jaga.yaml': SOURCE });
    const err: string[] = [];
    const sink = (lines: string[]) => ({ write: (text: string) => lines.push(text) }) as unknown as NodeJS.WritableStream;
    expect(await configCommand(['check', '--config', join(dir, 'jaga.yaml')], { stdout: sink([]), stderr: sink(err), env: { JAGA_STORE_URL: 'localhost:5432' } })).toBe(1);
    expect(err.join('')).toBe(`JAGA_STORE_URL (store.url): ${URL_MESSAGE}\n1 problem\n`);
  });
});

describe('jaga config check: the rule set', () => {
  /** `jaga config check` on a config (SOURCE + `rules: [rules]`) beside the rule files given */
  async function checkWithRules(rules: Record<string, string>): Promise<{ dir: string; code: number; out: string; err: string }> {
    const dir = await writeTree({ 'jaga.yaml': `${SOURCE}rules: [rules]\n`, ...Object.fromEntries(Object.entries(rules).map(([name, text]) => [`rules/${name}`, text])) });
    const out: string[] = [];
    const err: string[] = [];
    const sink = (lines: string[]) => ({ write: (text: string) => lines.push(text) }) as unknown as NodeJS.WritableStream;
    const code = await configCommand(['check', '--config', join(dir, 'jaga.yaml')], { stdout: sink(out), stderr: sink(err), env: {} });
    return { dir, code, out: out.join(''), err: err.join('') };
  }

  it('loads the rule folders the config names, as jaga run does at start: a broken rule is a problem (exit 1), with its file and line', async () => {
    const { dir, code, out, err } = await checkWithRules({ 'bad.yaml': `${ruleHead('t.bad', 'match')}match:\n  sel: { kind: nope }\n` });
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toBe(
      `${join(dir, 'rules', 'bad.yaml')}:8: rule t.bad: match.sel.kind: unknown event kind "nope"; kinds: audit, connection, authentication, authorization, auth_failure, disconnection, error, app_access, other\n1 problem\n`,
    );
  });

  it('passes a config whose rule folder holds valid rules', async () => {
    const { code, out, err } = await checkWithRules({ 'ok.yaml': `${ruleHead('t.ok', 'match')}match:\n  sel: { kind: auth_failure }\n` });
    expect(code).toBe(0);
    expect(out).toMatch(/: ok: agent jaga, store embedded in .*, sources pg1 \(log_folder\)\n$/);
    expect(err).toMatch(/warning: source "pg1": .*logs: /);
  });
});

describe('jaga config: usage', () => {
  it('names an unknown subcommand with a did-you-mean, and asks for exactly one', async () => {
    await expect(configCommand(['chek', '--config', 'x.yaml'])).rejects.toThrow('unknown subcommand "chek" (did you mean "check"?)\nusage: jaga config check --config FILE');
    await expect(configCommand(['--config', 'x.yaml'])).rejects.toThrow('usage: jaga config check --config FILE');
    await expect(configCommand(['check', 'extra', '--config', 'x.yaml'])).rejects.toThrow('usage: jaga config check --config FILE');
  });
});

describe('jaga config check: the sections that pass the schema are checked in the same pass', () => {
  it('reports receiver content, app_access and store problems beside a schema problem elsewhere, in line order', async () => {
    const problems = await problemsOf(
      [
        'sources:', // 1
        '  - { name: pg1, type: log_folder, path: logs }',
        '  - { name: app, type: app_access }',
        'receivers:', // 4
        '  chat: { type: slack }',
        '  siem: { type: webhook, url: "ftp://siem.example/hook", secret: s3cret }',
        'http:', // 7
        '  listen: "127.0.0.1:99999"',
        '',
      ].join('\n'),
    );
    expect(problems).toEqual([
      '<dir>/jaga.yaml:3: sources[1]: an app_access source needs url or url_file',
      '<dir>/jaga.yaml:5: receivers.chat.url: missing required key (give one of url, url_file, url_env)',
      '<dir>/jaga.yaml:6: receivers.siem.url: expected a https: or http: URL (value not shown)',
      '<dir>/jaga.yaml:8: http.listen: expected host:port, [ipv6]:port or :port, e.g. 127.0.0.1:7887',
    ]);
  });

  it('lists a broken receiver\'s schema problem and its secret problem once each, with the other sections\' problems', async () => {
    const problems = await problemsOf(['sources:', '  - { name: pg1, type: log_folder, path: logs }', 'receivers:', '  chat: { type: slack, channel: 5 }', 'timezone: Mars/Olympus', ''].join('\n'));
    expect(problems).toEqual([
      '<dir>/jaga.yaml:4: receivers.chat.channel: expected string, got 5',
      '<dir>/jaga.yaml:4: receivers.chat.url: missing required key (give one of url, url_file, url_env)',
      '<dir>/jaga.yaml:5: timezone: unknown IANA time zone (e.g. UTC, Europe/Berlin, Asia/Jakarta)',
    ]);
  });

  it('says nothing about missing sources when the YAML does not parse (a duplicate key)', async () => {
    const problems = await problemsOf(['sources:', '  - { name: pg1, type: log_folder, path: logs }', 'sources: []', ''].join('\n'));
    expect(problems).toEqual(['<dir>/jaga.yaml:3: YAML syntax: Map keys must be unique']);
  });
});

describe('jaga config check: log folders it cannot list are warned about, the config stays valid', () => {
  it('exits 0 with one warning per missing or non-folder log folder and none for a readable one', async () => {
    const dir = await writeTree({
      'logs/postgresql.log': '',
      'not-a-folder': 'x',
      'jaga.yaml': [
        'sources:',
        '  - { name: pg1, type: log_folder, path: logs }',
        '  - { name: pg2, type: log_folder, path: missing }',
        '  - { name: pg3, type: log_folder, path: not-a-folder }',
        '',
      ].join('\n'),
    });
    const out: string[] = [];
    const err: string[] = [];
    const sink = (lines: string[]) => ({ write: (text: string) => lines.push(text) }) as unknown as NodeJS.WritableStream;
    const code = await configCommand(['check', '--config', join(dir, 'jaga.yaml')], { stdout: sink(out), stderr: sink(err), env: {} });
    expect(code).toBe(0);
    expect(out.join('')).toContain(': ok: ');
    expect(err.join('').replaceAll(dir, '<dir>')).toBe(
      [
        '<dir>/jaga.yaml: warning: source "pg2": <dir>/missing: does not exist (yet); jaga run waits for it and reports log_source_error until it does',
        '<dir>/jaga.yaml: warning: source "pg3": <dir>/not-a-folder: not a folder',
        '',
      ].join('\n'),
    );
  });
});

describe('jaga config check: two log_folder sources on the same files', () => {
  it('is a problem when they share a folder without globs that tell their files apart, and fine with distinct globs', async () => {
    const problems = await problemsOf(
      [
        'sources:',
        '  - { name: pg1, type: log_folder, path: logs, format: stderr }',
        '  - { name: pg1-csv, type: log_folder, path: ./logs/, format: csvlog }',
        '  - { name: other-a, type: log_folder, path: shared, glob: "a-*.csv" }',
        '  - { name: other-b, type: log_folder, path: shared, glob: "b-*.csv" }',
        '',
      ].join('\n'),
    );
    expect(problems).toEqual([
      '<dir>/jaga.yaml:3: sources[1].path: source "pg1-csv" reads the same folder as source "pg1" (<dir>/logs): the server writes every record to each of its log destinations, so events would count twice; read one destination per server (one source per folder), or, for files of different servers in one folder, give each source a glob matching only its server\'s files',
    ]);
  });

  it('sees through a symbolic link to the same folder', async () => {
    const dir = await writeTree({ 'logs/postgresql.log': '', 'jaga.yaml': 'sources:\n  - { name: pg1, type: log_folder, path: logs }\n  - { name: pg2, type: log_folder, path: link }\n' });
    symlinkSync(join(dir, 'logs'), join(dir, 'link'));
    const error = await loadConfigFile(join(dir, 'jaga.yaml'), {}, { requireSources: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.replaceAll(dir, '<dir>').split(': the server')[0])).toEqual([
      '<dir>/jaga.yaml:3: sources[1].path: source "pg2" reads the same folder as source "pg1" (<dir>/link)',
    ]);
  });
});

import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { configCommand } from '../../src/cli/config-command.js';
import { runCommand } from '../../src/cli/run-command.js';
import { emailAddressProblem } from '../../src/config/email-address.js';
import { loadConfigFile } from '../../src/config/load-config-file.js';
import { ConfigError } from '../../src/domain/errors.js';
import { writeTree } from '../detect/rule-fixtures.js';

const sink = (lines: string[]) => ({ write: (text: string) => lines.push(text) }) as unknown as NodeJS.WritableStream;

async function check(text: string, files: Record<string, string> = {}): Promise<{ dir: string; code: number; err: string }> {
  const dir = await writeTree({ 'jaga.yaml': text, ...files });
  const err: string[] = [];
  const code = await configCommand(['check', '--config', join(dir, 'jaga.yaml')], { stdout: sink([]), stderr: sink(err), env: {} });
  return { dir, code, err: err.join('').replaceAll(dir, '<dir>') };
}

async function problemsOf(text: string, files: Record<string, string> = {}): Promise<string[]> {
  const dir = await writeTree({ 'jaga.yaml': text, ...files });
  const error = await loadConfigFile(join(dir, 'jaga.yaml'), {}, { requireSources: true }).catch((e: unknown) => e);
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
  return error.problems.map((p) => p.replaceAll(dir, '<dir>'));
}

const SOURCE = 'sources:\n  - { name: pg1, type: log_folder, path: logs }\n';

/** Five receivers, each broken in its own way (schema and secret problems mixed), and an escalation whose bounds do not grow. */
const FIVE_BROKEN_RECEIVERS = [
  'sources:', // 1
  '  - { name: pg1, type: log_folder, path: logs }',
  'receivers:', // 3
  '  chat: { type: slack }',
  '  mail: { type: email, smtp_url: "ftp://mail.example.com", from: nope, to: [soc@example.com] }',
  '  siem: { type: webhook, url: "https://siem.example/hook", secret_env: JAGA_K_TEST_UNSET_SECRET }',
  '  pager: { type: slack, url: "not a url", timeout: soon }',
  '  audit: { type: file }', // 8
  'routes:',
  '  - receivers: [chat, mail]',
  'escalation:', // 11
  '  steps:',
  '    - { after: 30m, receivers: [siem] }',
  '    - { after: 10m, receivers: [pager, audit] }', // 14
  '',
].join('\n');

const FIVE_BROKEN_RECEIVERS_PROBLEMS = [
  '<dir>/jaga.yaml:4: receivers.chat.url: missing required key (give one of url, url_file, url_env)',
  '<dir>/jaga.yaml:5: receivers.mail.from: "nope" is not an e-mail address: give name@domain or "Name" <name@domain>',
  '<dir>/jaga.yaml:5: receivers.mail.smtp_url: expected a smtp: or smtps: URL (value not shown)',
  '<dir>/jaga.yaml:6: receivers.siem.secret_env: environment variable JAGA_K_TEST_UNSET_SECRET is not set',
  '<dir>/jaga.yaml:7: receivers.pager.timeout: invalid duration "soon": expected a number with a unit ms, s, m, h, d or w, e.g. 500ms, 30s, 5m, 26h, 7d',
  '<dir>/jaga.yaml:7: receivers.pager.url: not a valid URL (value not shown)',
  '<dir>/jaga.yaml:8: receivers.audit.path: missing required key',
  "<dir>/jaga.yaml:14: escalation.steps[1].after: it must be longer than the step before's (steps must grow)",
];

describe('jaga config check: every receiver problem in one pass', () => {
  it('lists the problems of all five broken receivers and the escalation check in file order, exit 1', async () => {
    const { code, err } = await check(FIVE_BROKEN_RECEIVERS);
    expect(code).toBe(1);
    expect(err).toBe(`${FIVE_BROKEN_RECEIVERS_PROBLEMS.join('\n')}\n8 problems\n`);
  });

  it('jaga run stops at start-up with the same problems listed (exit 2), before anything starts', async () => {
    const dir = await writeTree({ 'jaga.yaml': FIVE_BROKEN_RECEIVERS });
    let stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += chunk.toString();
      return true;
    });
    try {
      expect(await runCommand(['--config', join(dir, 'jaga.yaml')])).toBe(2);
    } finally {
      vi.restoreAllMocks();
    }
    expect(stderr.replaceAll(dir, '<dir>')).toBe(`${FIVE_BROKEN_RECEIVERS_PROBLEMS.join('\n')}\n8 problems\n`);
  });

  it('still reports references to a broken receiver as known and to an undeclared one as unknown, once each', async () => {
    const problems = await problemsOf(`${SOURCE}receivers:\n  mail: { type: email, smtp_url: "smtp://h", from: jaga@example.com, to: [] }\nroutes:\n  - receivers: [mail, ghost]\n`);
    expect(problems).toEqual([
      '<dir>/jaga.yaml:4: receivers.mail.to: needs at least 1 item',
      '<dir>/jaga.yaml:6: routes[0].receivers: unknown receiver "ghost" (receivers: mail)',
    ]);
  });

  it('checks the receivers while routes break the schema', async () => {
    const problems = await problemsOf(`${SOURCE}receivers:\n  chat: { type: slack, url_env: JAGA_K_TEST_UNSET_URL }\nroutes:\n  - receivers: [chat]\n    changes: [explode]\n`);
    expect(problems).toEqual([
      '<dir>/jaga.yaml:4: receivers.chat.url_env: environment variable JAGA_K_TEST_UNSET_URL is not set',
      '<dir>/jaga.yaml:7: routes[0].changes[0]: expected one of opened, updated, severity_raised, acknowledged, resolved, reopened, escalated, deadline_reminder, got "explode"',
    ]);
  });
});

describe('jaga config check: e-mail addresses', () => {
  it('refuses a from or to that is not one address, naming the receiver, field and value', async () => {
    const problems = await problemsOf(
      [
        SOURCE.trimEnd(), // lines 1-2
        'receivers:',
        '  mail:',
        '    type: email',
        '    smtp_url: "smtp://mail.example.com:587"',
        '    from: nope', // 7
        '    to:',
        '      - soc@example.com',
        '      - "jaga <not-an-address>"', // 10
        '      - "a@example.com, b@example.com"',
        '',
      ].join('\n'),
    );
    expect(problems).toEqual([
      '<dir>/jaga.yaml:7: receivers.mail.from: "nope" is not an e-mail address: give name@domain or "Name" <name@domain>',
      '<dir>/jaga.yaml:10: receivers.mail.to[1]: "jaga <not-an-address>" is not an e-mail address: give name@domain or "Name" <name@domain>',
      '<dir>/jaga.yaml:11: receivers.mail.to[2]: "a@example.com, b@example.com" holds 2 addresses: give one per entry',
    ]);
  });

  it('accepts bare addresses and addresses with a display name', async () => {
    const dir = await writeTree({
      'jaga.yaml': `${SOURCE}receivers:\n  mail: { type: email, smtp_url: "smtp://h", from: '"jaga" <jaga@example.com>', to: [soc@example.com, 'SOC team <soc-team@example.com>', root@localhost] }\n`,
    });
    const config = await loadConfigFile(join(dir, 'jaga.yaml'), {});
    expect(config.notify.receivers.mail?.params).toEqual({ smtpUrl: 'smtp://h', from: '"jaga" <jaga@example.com>', to: ['soc@example.com', 'SOC team <soc-team@example.com>', 'root@localhost'], timeoutMs: 10_000 });
  });

  it('emailAddressProblem: null for one address, a message otherwise', () => {
    expect(emailAddressProblem('jaga@example.com')).toBeNull();
    expect(emailAddressProblem('"jaga" <jaga@example.com>')).toBeNull();
    expect(emailAddressProblem('@example.com')).toBe('"@example.com" is not an e-mail address: give name@domain or "Name" <name@domain>');
    expect(emailAddressProblem('jaga@')).toBe('"jaga@" is not an e-mail address: give name@domain or "Name" <name@domain>');
    expect(emailAddressProblem('')).toBe('"" is not an e-mail address: give name@domain or "Name" <name@domain>');
  });
});

describe('jaga config check: rule and overlay folders', () => {
  it('names the config line, field and absolute path of a missing relative rules folder, and what it resolved against', async () => {
    const { dir, code, err } = await check(`rules: [my-rules]\n${SOURCE}`);
    expect(code).toBe(1);
    expect(err).toBe(`<dir>/jaga.yaml:1: rules[0]: folder <dir>/my-rules does not exist (a relative path resolves against the config file's folder, <dir>)\n1 problem\n`);
    expect(dir).not.toBe('');
  });

  it('reports a missing absolute overlay folder and a rules entry that is a file, each on its line', async () => {
    const problems = await problemsOf(`rules:\n  - rules.yaml\noverlays:\n  - /nonexistent/jaga-overlays\n${SOURCE}`, { 'rules.yaml': 'x: 1\n' });
    expect(problems).toEqual([
      "<dir>/jaga.yaml:2: rules[0]: <dir>/rules.yaml is not a folder (a relative path resolves against the config file's folder, <dir>)",
      '<dir>/jaga.yaml:4: overlays[0]: folder /nonexistent/jaga-overlays does not exist',
    ]);
  });

  it('resolves a relative rules folder against the config file\'s folder, not the working directory', async () => {
    const dir = await writeTree({ 'conf/jaga.yaml': `rules: [../pack]\n${SOURCE}`, 'pack/.keep': '' });
    const config = await loadConfigFile(join(dir, 'conf', 'jaga.yaml'), {});
    expect(config.detection.ruleDirs).toEqual([join(dir, 'pack')]);
  });
});

describe('config check: a bad top-level timezone hides nothing', () => {
  it('lists the source problems beside the unknown timezone (the sources default to it)', async () => {
    const text = [
      'sources:',
      '  - { name: crm, type: log_folder, path: /nonexistent/log }',
      '  - { name: crm2, type: log_folder, path: /nonexistent/log }',
      '  - { name: crm3, type: app_access }',
      'timezone: Asia/Jakart',
      '',
    ].join('\n');
    const run = await check(text);
    expect(run.code).toBe(1);
    expect(run.err.split('\n').filter(Boolean).map((line) => line.replace(/^<dir>\/jaga\.yaml:(\d+): ([^:]+):.*$/, '$1 $2'))).toEqual([
      '3 sources[1].path',
      '4 sources[2]',
      '5 timezone',
      '3 problems',
    ]);
  });
});


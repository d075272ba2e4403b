/**
 * `jaga replay`: files → parse → enrich → rules → incidents in an in-memory store, one incident
 * JSON line per incident on stdout, a summary line on stderr. Fixture: an excerpt of the corpus
 * stderr log around attack A1 (the brute force against dba_admin, 17:18:50-17:19:47, the app_web
 * pool's records left out to keep it small), plus synthetic logs written by the tests.
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/cli-error.js';
import { replayCommand } from '../../src/cli/replay-command.js';
import type { IncidentJson } from '../../src/domain/incident.js';
import { ruleHead, writeTree } from '../detect/rule-fixtures.js';

const A1_LOG = resolve('test/fixtures/replay/a1-brute-force.log');
const CRM_CONFIG = resolve('examples/crm/jaga.yaml');
const PREFIX = '%m [%p] %q%u@%d %r %a: ';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  incidents: IncidentJson[];
}

async function replay(args: string[], tty = false): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY: tty });
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  const code = await replayCommand(args, { stdout, stderr });
  const text = out.join('');
  return { code, stdout: text, stderr: err.join(''), incidents: text.split('\n').filter((line) => line.startsWith('{"id":')).map((line) => JSON.parse(line) as IncidentJson) };
}

/** A rules folder holding one absence rule: no AUDIT entry on a server for 30 s. */
async function silenceRules(): Promise<string> {
  return writeTree({
    'silence.yaml': `${ruleHead('t.silence', 'absence')}match:
  sel: { kind: audit }
group_by: [server]
after: 30s
tests:
  - name: fires
    events: [{ time: 2026-01-01T00:00:00Z, kind: audit }]
    advance_to: 2026-01-01T00:01:00Z
    expect: { detections: 1 }
  - name: quiet
    events: [{ time: 2026-01-01T00:00:00Z, kind: audit }]
    expect: { detections: 0 }
`,
  });
}

/** stderr log lines with the default prefix '%m [%p] ' at the given seconds after midnight. */
function syntheticLog(lines: [number, string][]): string {
  return lines.map(([second, message]) => `2026-01-01 00:00:${String(second).padStart(2, '0')}.000 UTC [${100 + second}] LOG:  ${message}\n`).join('');
}

describe('jaga replay', () => {
  it('raises the brute force of the A1 excerpt as two incidents in the list shape, with a summary line', async () => {
    const run = await replay(['--config', CRM_CONFIG, '--log-line-prefix', PREFIX, A1_LOG]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('{"files":1,"records":124,"events":124,"failures":0,"detections":2,"suppressed":0,"incidents":2}\n');
    expect(run.incidents.map((incident) => incident.id)).toEqual([1, 2]);
    expect(run.incidents[0]).toEqual({
      id: 1,
      fingerprint: run.incidents[0]!.fingerprint,
      detector: 'jaga.auth.brute_force',
      title: 'Brute force against a role',
      severity: 'high',
      maturity: 'stable',
      status: 'open',
      version: 1,
      first_seen: '2026-11-29T17:18:52.729Z',
      last_seen: '2026-11-29T17:19:07.903Z',
      count: 10,
      server: 'replay',
      group: { user: 'dba_admin' },
      entity: { user: 'dba_admin', database: 'crm', client_addr: '127.0.0.2', application_name: null },
      tags: ['attack.t1110', 'attack.t1110.001', 'gdpr.art32', 'uupdp.art35'],
      data_classes: [],
      explanation: { type: 'threshold', condition: 'sel_fail', group_by: ['user'], count: 10, threshold: 10, window: '1m', window_ms: 60000, matched_selections: ['sel_fail'] },
      deadlines: null,
      summary: 'Brute force against a role: 10 events (threshold 10) within 1m for user=dba_admin',
    });
    expect(run.incidents[0]!.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    const second = run.incidents[1]!;
    expect([second.detector, second.severity, second.group, second.first_seen, second.last_seen, second.count]).toEqual([
      'jaga.auth.success_after_failures',
      'critical',
      { user: 'dba_admin', client_addr: '127.0.0.2' },
      '2026-11-29T17:18:52.729Z',
      '2026-11-29T17:19:44.262Z',
      33,
    ]);
    // the line keys are the fixed list shape, in order
    expect(Object.keys(JSON.parse(run.stdout.split('\n')[0]!) as object)).toEqual([
      'id', 'fingerprint', 'detector', 'title', 'severity', 'maturity', 'status', 'version', 'first_seen', 'last_seen',
      'count', 'server', 'group', 'entity', 'tags', 'data_classes', 'explanation', 'deadlines', 'summary',
    ]);
  });

  it('gives the same fingerprints on a second run and stamps --server on every incident', async () => {
    const first = await replay(['--config', CRM_CONFIG, '--log-line-prefix', PREFIX, A1_LOG]);
    const again = await replay(['--config', CRM_CONFIG, '--log-line-prefix', PREFIX, A1_LOG]);
    expect(again.incidents.map((i) => i.fingerprint)).toEqual(first.incidents.map((i) => i.fingerprint));
    const named = await replay(['--config', CRM_CONFIG, '--log-line-prefix', PREFIX, '--server', 'crm-primary', A1_LOG]);
    expect(named.incidents.map((i) => i.server)).toEqual(['crm-primary', 'crm-primary']);
    expect(named.incidents[0]!.fingerprint).not.toBe(first.incidents[0]!.fingerprint);
  });

  it('with --rules runs only that folder; an absence fires inside the data but never for time after it', async () => {
    const rules = await silenceRules();
    const dir = await writeTree({});
    const short = join(dir, 'short.log');
    const long = join(dir, 'long.log');
    await writeFile(short, syntheticLog([[0, 'AUDIT: SESSION,1,1,READ,SELECT,,,SELECT 1,<none>,1'], [20, 'connection received: host=10.0.0.1 port=5000']]));
    await writeFile(long, syntheticLog([[0, 'AUDIT: SESSION,1,1,READ,SELECT,,,SELECT 1,<none>,1'], [20, 'connection received: host=10.0.0.1 port=5000'], [45, 'connection received: host=10.0.0.1 port=5001']]));
    const quiet = await replay(['--rules', rules, '--format', 'stderr', short]);
    expect([quiet.code, quiet.stdout]).toEqual([0, '']);
    expect(quiet.stderr).toBe('{"files":1,"records":2,"events":2,"failures":0,"detections":0,"suppressed":0,"incidents":0}\n');
    const silent = await replay(['--rules', rules, '--format', 'stderr', long]);
    expect(silent.incidents.map((i) => [i.detector, i.group, i.first_seen, i.last_seen, i.count])).toEqual([['t.silence', { server: path(dir) }, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:30.000Z', 1]]);
  });

  it('replays several files in order as one stream of event time', async () => {
    const rules = await silenceRules();
    const dir = await writeTree({});
    await writeFile(join(dir, 'a.log'), syntheticLog([[0, 'AUDIT: SESSION,1,1,READ,SELECT,,,SELECT 1,<none>,1']]));
    await writeFile(join(dir, 'b.log'), syntheticLog([[40, 'connection received: host=10.0.0.1 port=5000']]));
    const run = await replay(['--rules', rules, join(dir, 'a.log'), join(dir, 'b.log')]);
    expect(run.incidents.map((i) => [i.detector, i.first_seen, i.last_seen])).toEqual([['t.silence', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:30.000Z']]);
    expect(run.stderr).toBe('{"files":2,"records":2,"events":2,"failures":0,"detections":1,"suppressed":0,"incidents":1}\n');
  });

  it('draws a progress bar on a terminal and clears it before the summary', async () => {
    const run = await replay(['--config', CRM_CONFIG, '--log-line-prefix', PREFIX, A1_LOG], true);
    // redrawn in place (\r ... erase to end of line); the last draw counts the record the parser held until the end
    expect(run.stderr.startsWith('\r[##############################] 100% file 1/1 ')).toBe(true);
    expect(run.stderr.endsWith('a1-brute-force.log 124 events\x1b[K\r\x1b[K{"files":1,"records":124,"events":124,"failures":0,"detections":2,"suppressed":0,"incidents":2}\n')).toBe(true);
  });

  it('exits 2 listing config and rule problems', async () => {
    const dir = await writeTree({ 'jaga.yaml': 'rule: [x]\n', 'rules/bad.yaml': `${ruleHead('t.bad', 'match')}match:\n  sel: { kind: nope }\n` });
    const badConfig = await replay(['--config', join(dir, 'jaga.yaml'), A1_LOG]);
    expect(badConfig).toEqual({ code: 2, stdout: '', stderr: `${join(dir, 'jaga.yaml')}:1: rule: unknown key "rule" (did you mean "rules"?)\n1 problem\n`, incidents: [] });
    const badRules = await replay(['--rules', join(dir, 'rules'), A1_LOG]);
    expect(badRules.code).toBe(2);
    expect(badRules.stderr.split('\n').at(-2)).toBe('1 problem');
    expect(badRules.stderr).toContain(`${join(dir, 'rules', 'bad.yaml')}:8: rule t.bad: match.sel.kind: unknown event kind "nope"`);
  });

  it('refuses bad usage with a CliError', async () => {
    await expect(replay([])).rejects.toThrow(new CliError('no FILE given (jaga replay --help)'));
    await expect(replay(['--format', 'xml', A1_LOG])).rejects.toThrow(new CliError('--format must be auto, stderr, csvlog or jsonlog, not "xml"'));
    await expect(replay(['--timezone', 'Mars/Olympus', A1_LOG])).rejects.toThrow(new CliError('--timezone "Mars/Olympus" is not an IANA time zone known to this Node'));
    await expect(replay(['/nonexistent/x.log'])).rejects.toThrow(new CliError('cannot read /nonexistent/x.log: ENOENT'));
    await expect(replay(['--bogus', A1_LOG])).rejects.toThrow(CliError);
  });

  it('prints its help with --help', async () => {
    const run = await replay(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout.startsWith('usage: jaga replay [--config FILE] [--rules DIR]...')).toBe(true);
  });
});

/** the server name replay gives files of `dir`: the folder's name */
function path(dir: string): string {
  return dir.split('/').at(-1)!;
}

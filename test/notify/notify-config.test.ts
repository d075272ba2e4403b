import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { escalationBoundsMs, notifyConfigShape, resolveNotifyConfig } from '../../src/config/notify-config.js';
import { ConfigError } from '../../src/domain/errors.js';

const schema = z.strictObject(notifyConfigShape);
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jaga-notify-config-'));
  await writeFile(join(dir, 'smtp.secret'), 'smtp://user:hunter2@mail.example:587\n');
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('resolveNotifyConfig', () => {
  it('applies defaults, reads secrets from value, file and env, and builds routes and escalation steps', () => {
    const parsed = schema.parse({
      receivers: {
        oncall_slack: { type: 'slack', url_env: 'SLACK_URL', group_window: '30s', fallback: 'mail' },
        mail: { type: 'email', smtp_url_file: 'smtp.secret', from: 'jaga@example.com', to: ['soc@example.com'], timeout: '5s' },
      },
      routes: [{ match: { severity_at_least: 'high', detectors: ['jaga.auth.*'] }, receivers: ['oncall_slack'] }],
      escalation: { steps: [{ after: { critical: '15m', high: '1h' }, receivers: ['mail'] }] },
    });
    const config = resolveNotifyConfig(parsed, { env: { SLACK_URL: 'https://hooks.slack.test/T/B/X' }, baseDir: dir });
    expect(config.receivers.oncall_slack).toEqual({
      name: 'oncall_slack',
      type: 'slack',
      params: { url: 'https://hooks.slack.test/T/B/X', timeoutMs: 10_000 },
      groupWindowMs: 30_000,
      ratePerSecond: 1,
      rateBurst: 1,
      maxAttempts: 12,
      maxAgeMs: 86_400_000,
      backoffBaseMs: 1000,
      backoffCapMs: 300_000,
      fallback: 'mail',
    });
    expect(config.receivers.mail?.params).toEqual({ smtpUrl: 'smtp://user:hunter2@mail.example:587', from: 'jaga@example.com', to: ['soc@example.com'], timeoutMs: 5000 });
    expect(config.receivers.mail?.ratePerSecond).toBe(10);
    expect(config.routes).toEqual([
      { severityAtLeast: 'high', tagsAny: null, detectors: ['jaga.auth.*'], statuses: null, changes: ['opened', 'severity_raised', 'deadline_reminder', 'resolved'], receivers: ['oncall_slack'] },
    ]);
    expect(config.escalation.steps).toEqual([{ step: 1, afterMs: { info: null, low: null, medium: null, high: 3_600_000, critical: 900_000 }, receivers: ['mail'] }]);
    expect(config.secrets).toEqual(['https://hooks.slack.test/T/B/X', 'smtp://user:hunter2@mail.example:587']);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('derives the incidents stage\'s per-severity escalation bounds from the steps (bound k = step k), none without steps', () => {
    const parsed = schema.parse({
      receivers: { a: { type: 'console' }, b: { type: 'console' } },
      escalation: { steps: [{ after: '10m', receivers: ['a'] }, { after: { critical: '30m', high: '2h' }, receivers: ['b'] }, { after: { critical: '1h' }, receivers: ['b'] }] },
    });
    const config = resolveNotifyConfig(parsed, { env: {}, baseDir: dir });
    expect(escalationBoundsMs(config.escalation)).toEqual({
      info: [600_000],
      low: [600_000],
      medium: [600_000],
      high: [600_000, 7_200_000],
      critical: [600_000, 1_800_000, 3_600_000],
    });
    expect(escalationBoundsMs(resolveNotifyConfig({}, { env: {}, baseDir: dir }).escalation)).toEqual({});
  });

  it('refuses escalation steps that skip a severity before a later step applies to it, or that do not grow', () => {
    const parsed = schema.parse({
      receivers: { a: { type: 'console' } },
      escalation: { steps: [{ after: { critical: '1h' }, receivers: ['a'] }, { after: { critical: '30m', high: '2h' }, receivers: ['a'] }] },
    });
    let error: unknown;
    try {
      resolveNotifyConfig(parsed, { env: {}, baseDir: dir });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      "escalation.steps[1].after: step 2 applies to high but step 1 does not: a severity's steps must be the first ones, without gaps",
      "escalation.steps[1].after: the critical bound must be longer than the step before's (steps must grow)",
    ]);
  });

  it('defaults to one console receiver and one route to it', () => {
    const config = resolveNotifyConfig({}, { env: {}, baseDir: dir });
    expect(Object.keys(config.receivers)).toEqual(['console']);
    expect(config.receivers.console?.params).toEqual({ stream: 'stdout' });
    expect(config.routes.map((r) => r.receivers)).toEqual([['console']]);
    expect([config.pollIntervalMs, config.leaseMs, config.claimBatch]).toEqual([5000, 120_000, 10]);
  });

  it('reports every problem at once and never shows a secret value', () => {
    const parsed = schema.parse({
      receivers: {
        a: { type: 'slack', url: 'not a url hunter2-secret' },
        b: { type: 'webhook', url_env: 'MISSING_URL', secret: 'k', fallback: 'nobody' },
        c: { type: 'slack', url: 'https://x.test', url_env: 'ALSO' },
      },
      routes: [{ receivers: ['a', 'ghost'] }],
    });
    let error: unknown;
    try {
      resolveNotifyConfig(parsed, { env: {}, baseDir: dir });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toEqual([
      'receivers.a.url: not a valid URL (value not shown)',
      'receivers.b.url_env: environment variable MISSING_URL is not set',
      'receivers.c: give exactly one of url, url_file, url_env (found url, url_env)',
      'receivers.b.fallback: unknown receiver "nobody" (receivers: a, b, c)',
      'routes[0].receivers: unknown receiver "ghost" (receivers: a, b, c)',
    ]);
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('refuses unknown receiver keys through the schema', () => {
    const result = schema.safeParse({ receivers: { a: { type: 'slack', url: 'https://x.test', colour: 'red' } } });
    expect(result.success).toBe(false);
  });
});

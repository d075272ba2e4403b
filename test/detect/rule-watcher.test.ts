import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccessEvent } from '../../src/domain/access-event.js';
import type { Detection } from '../../src/domain/detection.js';
import type { MatchContext } from '../../src/detect/compiled-rule.js';
import { DetectionEngine } from '../../src/detect/detection-engine.js';
import { DETECTOR_REGISTRY } from '../../src/detect/detector-registry.js';
import { RuleWatcher, type RuleReloadOutcome, type RuleWatcherOptions } from '../../src/detect/rule-watcher.js';
import { createLogger } from '../../src/observe/logger.js';
import { Telemetry } from '../../src/observe/telemetry.js';
import { makeEvent, writeTree } from './rule-fixtures.js';

const EMPTY: MatchContext = { lists: new Map(), classesOf: () => [] };
const at = (s: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

const BRUTE = `schema: jaga/rules/v1
id: test.brute
title: Brute force
description: Five failures of one role within a minute.
severity: high
type: threshold
match:
  sel_fail: { kind: auth_failure }
group_by: [user]
window: 60s
count: 5
tests:
  - name: five failures fire
    events: [{ time: 2026-01-01T00:00:00Z, kind: auth_failure, user: a }]
    repeat: 5
    expect: { detections: 1 }
  - name: four do not
    events: [{ time: 2026-01-01T00:00:00Z, kind: auth_failure, user: a }]
    repeat: 4
    expect: { detections: 0 }
`;

/** an attack-tool rule; `severity` varies between versions, `tagsKey` may carry a typo */
const tools = (severity: string, tagsKey = 'tags'): string => `schema: jaga/rules/v1
id: test.tools
title: Attack tool
description: A login from an attack tool.
severity: ${severity}
${tagsKey}: [attack.t1190]
type: match
match:
  sel_tool:
    kind: authorization
    application_name|in_list: tools
tests:
  - name: sqlmap fires
    events: [{ time: 2026-01-01T00:00:00Z, kind: authorization, application_name: sqlmap }]
    expect: { detections: 1 }
  - name: psql does not
    events: [{ time: 2026-01-01T00:00:00Z, kind: authorization, application_name: psql }]
    expect: { detections: 0 }
`;

const LISTS = 'schema: jaga/lists/v1\nlists:\n  tools: [sqlmap]\n';

interface Harness {
  root: string;
  engine: DetectionEngine;
  watcher: RuleWatcher;
  outcomes: RuleReloadOutcome[];
  lines: Record<string, unknown>[];
  telemetry: Telemetry;
}

const running: { watcher: RuleWatcher; controller: AbortController }[] = [];

afterEach(async () => {
  for (const { watcher, controller } of running.splice(0)) {
    controller.abort();
    await watcher.stop();
  }
});

/** a rules folder (brute, tools, lists), an engine running it, a watcher (not started) and captured telemetry */
async function harness(options: Partial<RuleWatcherOptions> = {}, extra: Record<string, string> = {}): Promise<Harness> {
  const root = await writeTree({ 'rules/auth.yaml': BRUTE, 'rules/tools.yaml': tools('medium'), 'rules/lists/tools.yaml': LISTS, ...extra });
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const telemetry = new Telemetry(createLogger({ level: 'debug', stream }));
  const engine = new DetectionEngine([], EMPTY, { allowedLatenessMs: 0 });
  const outcomes: RuleReloadOutcome[] = [];
  const watcher = new RuleWatcher({
    target: engine,
    loadOptions: { ruleDirs: [join(root, 'rules')], registry: DETECTOR_REGISTRY },
    telemetry,
    onReload: (outcome) => outcomes.push(outcome),
    now: () => new Date('2026-06-01T00:00:00Z'),
    ...options,
  });
  return { root, engine, watcher, outcomes, lines, telemetry };
}

function start(watcher: RuleWatcher): AbortController {
  const controller = new AbortController();
  running.push({ watcher, controller });
  watcher.start(controller.signal);
  return controller;
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function counter(telemetry: Telemetry, name: string): Promise<Record<string, number>> {
  const metric = telemetry.registry.getSingleMetric(`jaga_${name}_total`);
  const values = (await metric?.get())?.values ?? [];
  return Object.fromEntries(values.map((v) => [String(v.labels.outcome ?? ''), v.value]));
}

const fail = (s: number): AccessEvent => makeEvent({ id: `fail:${s}`, time: at(s), kind: 'auth_failure', user: 'dba_admin' });

/** processes unrelated events on every turn of the event loop until stopped: load while files change */
function pump(engine: DetectionEngine): { stop: () => { events: number; detections: Detection[] } } {
  let events = 0;
  let stopped = false;
  const detections: Detection[] = [];
  const tick = (): void => {
    if (stopped) return;
    for (let i = 0; i < 50; i++) {
      detections.push(...engine.process(makeEvent({ id: `pump:${events}`, time: at(10), kind: 'connection', user: 'app_web', application_name: 'psql' })));
      events++;
    }
    setImmediate(tick);
  };
  setImmediate(tick);
  return {
    stop: () => {
      stopped = true;
      return { events, detections };
    },
  };
}

describe('RuleWatcher', () => {
  it('under load, keeps the last good set on a bad file, swaps a fixed one in, and keeps the window of the unchanged rule', async () => {
    const h = await harness({ debounceMs: 50, pollIntervalMs: 1_000 });
    const initial = await h.watcher.load();
    expect(initial.rules.map((r) => r.id)).toEqual(['test.brute', 'test.tools']);
    start(h.watcher);
    await h.watcher.watching();
    const load = pump(h.engine);

    expect([fail(0), fail(1), fail(2)].flatMap((e) => h.engine.process(e))).toEqual([]);
    const file = join(h.root, 'rules/tools.yaml');
    await writeFile(file, tools('critical', 'tgas'));
    const error = await waitFor(() => h.outcomes.find((o) => o.outcome === 'error'));
    expect(error).toEqual({
      outcome: 'error',
      trigger: expect.stringMatching(/^(watch|poll)$/),
      problems: [`${file}:6: rule test.tools: tgas: unknown key "tgas" (did you mean "tags"?)`],
    });
    expect(h.engine.rules.map((r) => [r.id, r.severity])).toEqual([['test.brute', 'high'], ['test.tools', 'medium']]);
    expect(h.engine.process(fail(3))).toEqual([]);

    await writeFile(file, tools('critical'));
    await waitFor(() => h.outcomes.find((o) => o.outcome === 'ok'));
    expect(h.engine.rules.map((r) => [r.id, r.severity])).toEqual([['test.brute', 'high'], ['test.tools', 'critical']]);
    const found = h.engine.process(fail(4));
    expect(found.map((d) => [d.detectorId, d.count, d.firstSeen, d.lastSeen, d.group])).toEqual([['test.brute', 5, at(0), at(4), { user: 'dba_admin' }]]);

    const { events, detections } = load.stop();
    expect(events).toBeGreaterThan(0);
    expect(detections).toEqual([]);
    expect(h.outcomes.map((o) => o.outcome)).toEqual(['error', 'ok']);
    expect(await counter(h.telemetry, 'rules_reload')).toEqual({ error: 1, ok: 1 });
    const problems = h.lines.filter((l) => l.event === 'rules_reload_problem').map((l) => [l.level, l.problem]);
    expect(problems).toEqual([['error', `${file}:6: rule test.tools: tgas: unknown key "tgas" (did you mean "tags"?)`]]);
    const reloads = h.lines.filter((l) => l.event === 'rules_reload').map((l) => [l.level, l.outcome, l.problems ?? null, l.rules ?? null, l.running_rules ?? null]);
    expect(reloads).toEqual([
      ['error', 'error', 1, null, 2],
      ['info', 'ok', null, 2, null],
    ]);
  });

  it('turns a burst of writes into one reload after the debounce', async () => {
    const h = await harness({ debounceMs: 200, pollIntervalMs: 60_000 });
    await h.watcher.load();
    start(h.watcher);
    await h.watcher.watching();
    const file = join(h.root, 'rules/tools.yaml');
    for (const severity of ['low', 'medium', 'high', 'critical', 'info']) {
      await writeFile(file, tools(severity));
      await sleep(20);
    }
    await waitFor(() => (h.outcomes.length > 0 ? h.outcomes : undefined));
    await sleep(500);
    expect(h.outcomes.map((o) => [o.outcome, o.trigger])).toEqual([['ok', 'watch']]);
    expect(h.engine.rules.find((r) => r.id === 'test.tools')?.severity).toBe('info');
  });

  it('finds a change by the periodic content check when no file event arrives', async () => {
    const h = await harness({ debounceMs: 60_000, pollIntervalMs: 100 });
    await h.watcher.load();
    start(h.watcher);
    await writeFile(join(h.root, 'rules/tools.yaml'), tools('low'));
    const ok = await waitFor(() => h.outcomes.find((o) => o.outcome === 'ok'));
    expect(ok.trigger).toBe('poll');
    expect(h.engine.rules.find((r) => r.id === 'test.tools')?.severity).toBe('low');
  });

  it('loads the set at the first poll when started without load(), logging problems instead of throwing', async () => {
    const h = await harness({ pollIntervalMs: 100 }, { 'rules/broken.yaml': 'schema: jaga/rules/v1\nid: test.broken\n' });
    start(h.watcher);
    const error = await waitFor(() => h.outcomes.find((o) => o.outcome === 'error'));
    expect(error.outcome === 'error' && error.problems.length).toBeGreaterThan(0);
    expect(h.engine.rules).toEqual([]);
    expect(h.watcher.current).toBeNull();
    await rm(join(h.root, 'rules/broken.yaml'));
    await waitFor(() => h.outcomes.find((o) => o.outcome === 'ok'));
    expect(h.engine.rules.map((r) => r.id)).toEqual(['test.brute', 'test.tools']);
    expect(h.watcher.current?.rules.map((r) => r.id)).toEqual(['test.brute', 'test.tools']);
  });

  it('reloads for a new overlay, a changed config list file and a removed rule file, only when content changed', async () => {
    const h = await harness({}, { 'site/tools.txt': 'sqlmap\n' });
    h.watcher = new RuleWatcher({
      target: h.engine,
      loadOptions: { ruleDirs: [join(h.root, 'rules')], lists: { tools: join(h.root, 'site/tools.txt') }, registry: DETECTOR_REGISTRY },
      telemetry: h.telemetry,
    });
    await h.watcher.load();
    expect(await h.watcher.check()).toEqual({ outcome: 'unchanged', trigger: 'manual' });

    await writeTreeInto(h.root, { 'rules/local/site.yaml': 'schema: jaga/overlay/v1\nid: test.brute\ncount: 3\n' });
    const overlaid = await h.watcher.check();
    expect(overlaid.outcome).toBe('ok');
    expect(h.engine.rules.find((r) => r.id === 'test.brute')?.params.count).toBe(3);

    const havij = makeEvent({ time: at(0), kind: 'authorization', application_name: 'havij' });
    expect(h.engine.process(havij)).toEqual([]);
    await writeFile(join(h.root, 'site/tools.txt'), 'sqlmap\nhavij\n');
    expect((await h.watcher.check()).outcome).toBe('ok');
    expect(h.engine.process({ ...havij, id: 'havij:2' }).map((d) => d.detectorId)).toEqual(['test.tools']);

    await rm(join(h.root, 'rules/auth.yaml'));
    const removed = await h.watcher.check();
    expect(removed.outcome === 'error' ? removed.problems : removed).toEqual([`${join(h.root, 'rules/local/site.yaml')}:2: rule test.brute: id: overlay for unknown rule "test.brute"`]);
    expect(h.engine.rules.map((r) => r.id)).toEqual(['test.brute', 'test.tools']);
    expect(await h.watcher.check()).toEqual({ outcome: 'unchanged', trigger: 'manual' });
  });

  it('coalesces checks asked for before one starts into that one reload', async () => {
    const h = await harness();
    await h.watcher.load();
    await writeFile(join(h.root, 'rules/tools.yaml'), tools('high'));
    const results = await Promise.all([h.watcher.check(), h.watcher.check('poll'), h.watcher.check('watch')]);
    expect(results.map((r) => [r.outcome, r.trigger])).toEqual([['ok', 'manual'], ['ok', 'manual'], ['ok', 'manual']]);
    expect(results[1]).toBe(results[0]);
    expect(h.outcomes.map((o) => o.outcome)).toEqual(['ok']);
    expect(await h.watcher.check()).toEqual({ outcome: 'unchanged', trigger: 'manual' });
  });

  it('logs the warnings of a set that loaded, e.g. an expired exception', async () => {
    const h = await harness();
    await h.watcher.load();
    const expiring = BRUTE.replace('tests:', 'exceptions:\n  - { name: old_pentest, reason: Pentest of 2025, expires: 2025-12-31T00:00:00Z, match: { user: redteam } }\ntests:');
    await writeFile(join(h.root, 'rules/auth.yaml'), expiring);
    const ok = await h.watcher.check();
    const warning = `${join(h.root, 'rules/auth.yaml')}:13: rule test.brute: exceptions[0]: exception "old_pentest" expired at 2025-12-31T00:00:00Z: ignored`;
    expect(ok.outcome === 'ok' ? ok.warnings : ok).toEqual([warning]);
    expect(h.lines.filter((l) => l.event === 'rules_reload_warning').map((l) => [l.level, l.warning])).toEqual([['warn', warning]]);
  });

  it('stops watching and polling on abort', async () => {
    const h = await harness({ debounceMs: 20, pollIntervalMs: 50 });
    await h.watcher.load();
    const controller = start(h.watcher);
    await h.watcher.watching();
    controller.abort();
    await h.watcher.stop();
    await writeFile(join(h.root, 'rules/tools.yaml'), tools('low'));
    await sleep(300);
    expect(h.outcomes).toEqual([]);
    expect(h.engine.rules.find((r) => r.id === 'test.tools')?.severity).toBe('medium');
  });
});

/** writes `files` (relative path → content) under `root` */
async function writeTreeInto(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

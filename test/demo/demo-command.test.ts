/**
 * Issue 8, `jaga demo`: the command a new user runs first. One demo runs as a child process
 * (`jaga demo --speed 16 --listen 127.0.0.1:0 --data-dir TMP`, from the sources): it seeds the
 * baselines from the bundled history, replays the bundled corpus run (attacks included) into its
 * temporary log folder, and the live agent raises incidents, notifies and serves the page. The
 * tests below run in order against that one process; the last one stops it with SIGINT. Before
 * them, the two parts the demo adds on its own: the csvlog time shift and the paced log appender.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoLogAppender } from '../../src/demo/demo-log-appender.js';
import { DemoTimeShift, type ShiftedCsvRecord } from '../../src/demo/demo-time-shift.js';
import { JagaProcess, runJaga } from '../helpers/jaga-cli.js';

/** The notified change kinds of the default route (notify-config DEFAULT_ROUTE_CHANGES). */
const NOTIFIED_KINDS = new Set(['opened', 'severity_raised', 'deadline_reminder', 'resolved']);

interface IncidentJson {
  id: number;
  detector: string;
  maturity: string;
  severity: string;
  first_seen: string;
  last_seen: string;
  entity: { user?: string | null };
}
interface TimelineEntry {
  change_id: string;
  kind: string;
}
interface NotificationLine {
  notification: { notification_id: string; receiver: string; kind: string; items: { change_id: string; change: string; incident_id: number }[] };
}

/** Two records of the bundled corpus (the postmaster's first line; an audit record whose statement spans lines). */
const CORPUS_EXCERPT = [
  '2026-11-29 17:17:16.517 UTC,,,14439,,6b0c5e1c.3867,1,,2026-11-29 17:17:16 UTC,,0,LOG,00000,"starting PostgreSQL 15.18",,,,,,,,,"","postmaster",,0',
  '2026-11-29 17:17:16.758 UTC,"app_web","crm",14458,"127.0.0.1:40975",6b0c5e1c.387a,4,"SELECT",2026-11-29 17:17:16 UTC,4/2,0,LOG,00000,"AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.orders,""SELECT o.id\n  FROM orders o\n LIMIT 10"",4156,6",,,,,,,,,"crm-web","client backend",,0',
].join('\n');

describe('DemoTimeShift', () => {
  it('moves log_time (ms) and session_start_time (whole seconds) by the offset and keeps every other byte, quoted newlines included', () => {
    const records = new DemoTimeShift(86_400_000 + 600).records(`${CORPUS_EXCERPT}\n`);
    expect(records.map((record) => record.text)).toEqual([
      '2026-11-30 17:17:17.117 UTC,,,14439,,6b0c5e1c.3867,1,,2026-11-30 17:17:16 UTC,,0,LOG,00000,"starting PostgreSQL 15.18",,,,,,,,,"","postmaster",,0\n',
      '2026-11-30 17:17:17.358 UTC,"app_web","crm",14458,"127.0.0.1:40975",6b0c5e1c.387a,4,"SELECT",2026-11-30 17:17:16 UTC,4/2,0,LOG,00000,"AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.orders,""SELECT o.id\n  FROM orders o\n LIMIT 10"",4156,6",,,,,,,,,"crm-web","client backend",,0\n',
    ]);
    expect(records.map((record) => record.timeMs)).toEqual([Date.parse('2026-11-30T17:17:17.117Z'), Date.parse('2026-11-30T17:17:17.358Z')]);
  });

  it('leaves a record whose log_time does not parse unchanged, with a NaN time', () => {
    const [record] = new DemoTimeShift(1_000).records('2026-11-29 17:17:16.517 CET,,,1,,s,1,,2026-11-29 17:17:16 UTC,,0,LOG,00000,"x",,,,,,,,,"","postmaster",,0\n');
    expect(record?.text).toBe('2026-11-29 17:17:16.517 CET,,,1,,s,1,,2026-11-29 17:17:17 UTC,,0,LOG,00000,"x",,,,,,,,,"","postmaster",,0\n');
    expect(record?.timeMs).toBeNaN();
  });
});

describe('DemoLogAppender', () => {
  const record = (text: string, timeMs: number): ShiftedCsvRecord => ({ text: `${text}\n`, timeMs });

  it('writes every record in file order, a record earlier than its predecessor right after it, and reports completion', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'jaga-demo-append-'));
    try {
      const records = [record('a', 10_000), record('b', 10_400), record('c', 10_200), record('d', Number.NaN), record('e', 10_800)];
      const appender = new DemoLogAppender({ records, path: join(folder, 'x.csv'), speed: 100 });
      expect(appender.spanMs).toBe(800);
      expect(await appender.run(new AbortController().signal)).toEqual({ appended: 5, complete: true });
      expect(await readFile(join(folder, 'x.csv'), 'utf8')).toBe('a\nb\nc\nd\ne\n');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('writes only the records due by (wall elapsed x speed) and stops when the signal aborts', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'jaga-demo-append-'));
    try {
      let wallMs = 1_000;
      const records = [record('a', 0), record('b', 4_000), record('c', 8_001)];
      const appender = new DemoLogAppender({ records, path: join(folder, 'x.csv'), speed: 4, nowMs: () => wallMs, tickMs: 5 });
      const controller = new AbortController();
      const run = appender.run(controller.signal);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(appender.appended).toBe(1);
      wallMs += 1_000; // 1 s x 4 = 4 s of recorded time: b is due, c (8.001 s) is not
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(appender.appended).toBe(2);
      controller.abort();
      expect(await run).toEqual({ appended: 2, complete: false });
      expect(await readFile(join(folder, 'x.csv'), 'utf8')).toBe('a\nb\n');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});

let dir: string;
let demo: JagaProcess;
let url: string;
let token: string;

/** The demo's own (non-JSON) stdout lines: its messages; notifications are the JSON lines. */
function messages(): string[] {
  return demo.badStdoutLines;
}

async function api<T>(path: string): Promise<T> {
  const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

async function incidents(): Promise<IncidentJson[]> {
  return (await api<{ incidents: IncidentJson[] }>('/api/incidents?limit=500')).incidents;
}

async function notificationLines(): Promise<NotificationLine[]> {
  const text = await readFile(join(dir, 'notifications.jsonl'), 'utf8').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? '' : Promise.reject(error)));
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as NotificationLine);
}

/** Polls `probe` every 500 ms until it returns a value, failing with `what` after `timeoutMs`. */
async function eventually<T>(probe: () => Promise<T | null>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (!demo.running || Date.now() > deadline) throw new Error(`${demo.running ? 'timed out' : 'the demo exited'} waiting for ${what}; stdout:\n${messages().join('\n')}\nstderr tail:\n${demo.stderrLines.slice(-5).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe('jaga demo --speed 16 --listen 127.0.0.1:0 --data-dir DIR', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jaga-demo-test-'));
    demo = new JagaProcess(['demo', '--speed', '16', '--listen', '127.0.0.1:0', '--data-dir', dir]);
    // seeding takes ~10-25 s on a loaded two-core machine, then the agent starts and the token is printed
    await demo.waitUntil(() => messages().some((line) => line.startsWith('jaga demo: token ')), 'the demo token line', 90_000);
    url = /Web page: (http:\/\/127\.0\.0\.1:\d+)\//.exec(messages().join('\n'))?.[1] ?? '';
    token = /^jaga demo: token (jaga_\S+)$/m.exec(messages().join('\n'))?.[1] ?? '';
  }, 100_000);

  afterAll(async () => {
    if (demo?.running) await demo.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints the page URL on the free port it got and an API token, after seeding the baselines', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url).not.toBe('http://127.0.0.1:0');
    expect(token).toMatch(/^jaga_[A-Za-z0-9_-]{43}$/);
    expect(messages().some((line) => /^jaga demo: baselines learned \d+ events /.test(line))).toBe(true);
  });

  it('raises the brute force on dba_admin (a jaga.auth rule) and baseline incidents from the live log within 90 s', async () => {
    const found = await eventually(
      async () => {
        const list = await incidents();
        const bruteForce = list.filter((incident) => incident.detector.startsWith('jaga.auth.') && incident.entity.user === 'dba_admin');
        const baselines = list.filter((incident) => incident.detector.startsWith('baseline.'));
        return bruteForce.some((incident) => incident.detector === 'jaga.auth.brute_force') && baselines.length > 0 ? { bruteForce, baselines } : null;
      },
      'jaga.auth.brute_force on dba_admin and a baseline.* incident',
      90_000,
    );
    expect(found.bruteForce.map((incident) => incident.detector)).toContain('jaga.auth.brute_force');
    expect(found.baselines.length).toBeGreaterThanOrEqual(1);
  }, 95_000);

  it('says when the bundled log is fully written and keeps serving; no event time was ahead of the clock', async () => {
    await demo.waitUntil(() => messages().some((line) => line.startsWith('jaga demo: the bundled log is fully written (5905 records)')), 'the fully-written line', 60_000);
    expect(demo.running).toBe(true);
    // written at 16x, the log is moved back in time so that each record's time is at or before its writing (offset in
    // whole seconds: up to 0.5 s off); a record shifted to start at the demo's start would end ~7.5 min in the future
    const list = await incidents();
    expect(list.length).toBeGreaterThan(0);
    const latestMs = Math.max(...list.map((incident) => Date.parse(incident.last_seen)));
    expect(latestMs).toBeLessThanOrEqual(Date.now() + 500);
    expect(Math.min(...list.map((incident) => Date.parse(incident.first_seen)))).toBeLessThan(latestMs);
  }, 65_000);

  it('writes one line to DIR/notifications.jsonl per notified incident change (every non-experimental incident opened), and the same to the console', async () => {
    // settle: the file holds exactly the notifying timeline changes of the non-experimental incidents
    const settled = await eventually(
      async () => {
        const list = await incidents();
        const expected = new Set<string>();
        for (const incident of list.filter((i) => i.maturity !== 'experimental')) {
          const detail = await api<{ timeline: TimelineEntry[] }>(`/api/incidents/${incident.id}`);
          for (const entry of detail.timeline) if (NOTIFIED_KINDS.has(entry.kind)) expected.add(entry.change_id);
        }
        const lines = await notificationLines();
        const written = lines.flatMap((line) => line.notification.items.map((item) => item.change_id));
        return written.length === expected.size && written.every((id) => expected.has(id)) ? { list, lines, expected } : null;
      },
      'notifications.jsonl to hold every notified change once',
      30_000,
    );
    const { list, lines } = settled;
    expect(lines.every((line) => line.notification.receiver === 'file' && line.notification.kind === 'single' && line.notification.items.length === 1)).toBe(true);
    expect(new Set(lines.map((line) => line.notification.notification_id)).size).toBe(lines.length);
    const opened = new Set(lines.filter((line) => line.notification.items[0]?.change === 'opened').map((line) => line.notification.items[0]?.incident_id));
    expect([...opened].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(list.filter((i) => i.maturity !== 'experimental').map((i) => i.id).sort((a, b) => a - b));
    // the console receiver printed the same changes as JSON lines on stdout
    await demo.waitUntil(() => demo.events.length >= lines.length, 'the console notifications', 10_000);
    const consoleChanges = (demo.events.map((e) => e.event) as unknown as NotificationLine[]).filter((line) => line.notification?.receiver === 'console').flatMap((line) => line.notification.items.map((item) => item.change_id));
    expect(consoleChanges.sort()).toEqual(lines.flatMap((line) => line.notification.items.map((item) => item.change_id)).sort());
  }, 45_000);

  it('answers the web page: / leads to sign-in, and the demo token signs in to a list showing the brute force', async () => {
    const root = await fetch(`${url}/`, { redirect: 'manual' });
    expect(root.status).toBe(303);
    expect(root.headers.get('location')).toBe('/ui/incidents');
    const signInPage = await fetch(`${url}/ui/sign-in`);
    expect(signInPage.status).toBe(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await signInPage.text())?.[1] ?? '';
    const cookies = signInPage.headers.getSetCookie().map((cookie) => cookie.split(';')[0]);
    const signedIn = await fetch(`${url}/ui/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies.join('; ') },
      body: new URLSearchParams({ _csrf: csrf, token }).toString(),
    });
    expect(signedIn.status).toBe(303);
    const session = signedIn.headers.getSetCookie().map((cookie) => cookie.split(';')[0]);
    const page = await fetch(`${url}/ui/incidents`, { headers: { cookie: [...cookies, ...session].join('; ') } });
    expect(page.status).toBe(200);
    const html = await page.text();
    const bruteForce = (await incidents()).find((incident) => incident.detector === 'jaga.auth.brute_force');
    expect(html).toContain(`/ui/incidents/${bruteForce?.id}`);
  }, 20_000);

  it('refuses a second demo on the same --data-dir at once (exit 1, naming the running one), before seeding', async () => {
    const configBefore = await readFile(join(dir, 'jaga.yaml'), 'utf8');
    const second = await runJaga(['demo', '--listen', '127.0.0.1:0', '--data-dir', dir], { timeoutMs: 30_000 });
    expect(second.code).toBe(1);
    // the running demo's config (its log folder) is left as it was
    expect(await readFile(join(dir, 'jaga.yaml'), 'utf8')).toBe(configBefore);
    expect(second.stderr).toContain(`jaga demo: --data-dir ${dir}: the embedded store ${dir} is in use by pid ${demo.pid} `);
    expect(second.stdout).not.toContain('seeding');
    expect(demo.running).toBe(true);
  }, 40_000);

  it('stops on SIGINT with exit 0 within 15 s, keeping the data folder it was given', async () => {
    const startedMs = Date.now();
    const exit = await demo.kill('SIGINT');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - startedMs).toBeLessThan(15_000);
    expect(messages().at(-1)).toBe('jaga demo: stopped');
    expect((await stat(join(dir, 'jaga.yaml'))).isFile()).toBe(true);
    await expect(stat(join(dir, 'store.lock'))).rejects.toMatchObject({ code: 'ENOENT' });
  }, 20_000);

  it('left an access ledger holding the seeded history: over 7 days only the attack run\'s role/table/client pairs are new', async () => {
    const run = await runJaga(['report', 'access', '--data-dir', dir, '--since', '7d', '--format', 'csv'], { timeoutMs: 60_000 });
    expect(run.code).toBe(0);
    const rows = run.stdout.trim().split('\n').slice(1).map((line) => line.split(','));
    const fresh = new Set(rows.filter((row) => row.at(-1) === 'true').map((row) => row.slice(1, 4).join(' ')));
    expect([...fresh].sort()).toEqual([
      'analyst public.customers 127.0.0.3', // A6: an unusual client reads pii
      'backdoor public.customers 127.0.0.2',
      'dba_admin public.customers 127.0.0.2',
      'dba_admin public.customers_backup_2023 127.0.0.2',
      'dba_admin public.payments 127.0.0.2',
      'dba_admin public.support_tickets 127.0.0.2',
      'dormant_ops public.payments 127.0.0.1', // A9: the dormant account wakes up
    ]);
    // the everyday pairs of the history are counted on the days before the attack run
    expect(rows.filter((row) => row[1] === 'app_web' && row[10] === 'false').length).toBeGreaterThan(7);
  }, 70_000);
});

describe('jaga demo --data-dir that cannot be made', () => {
  it.runIf(process.platform === 'linux')('exits 2 at once naming the folder and the error (a folder under /proc)', async () => {
    const run = await runJaga(['demo', '--listen', '127.0.0.1:0', '--data-dir', '/proc/jaga-demo-test'], { timeoutMs: 20_000 });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--data-dir /proc/jaga-demo-test: cannot create the folder (ENOENT)');
  }, 30_000);
});

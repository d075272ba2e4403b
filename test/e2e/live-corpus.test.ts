/**
 * Issue 8, "Done when", first bullet: `jaga run` as a child process tails the live log folder of a
 * real PostgreSQL 15 + pgaudit server while `../shared/corpus/generate/run-corpus.sh` plays normal
 * traffic with the attacks A1-A9 (MINUTES=3), with the baselines seeded beforehand from three weeks
 * of synthetic history ending just before the run, a PostgreSQL store on a separate test cluster,
 * and a Slack-like server and a real SMTP server as receivers. Checked against OUT/labels.json:
 * each attack's incident is committed within 5 s of its last statement; Slack and SMTP each get one
 * notification per notifying incident change (deduplicated by the stable notification id); an ack
 * through the HTTP API shows in the incident and stops its escalation; kill -9 of jaga during the
 * traffic and a restart neither duplicate nor lose an incident (a `jaga replay` of the final logs
 * gives the same rule fingerprints) and redeliver a notification at most once, with the same id.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfigFile } from '../../src/config/load-config-file.js';
import { DetectorStateRepository, ENGINE_STATE_COMPONENT } from '../../src/db/detector-state-repository.js';
import { openStore } from '../../src/db/open-store.js';
import { seedDemoEngine } from '../../src/demo/demo-seeder.js';
import { QueryEnricher } from '../../src/enrich/query-enricher.js';
import { notificationId } from '../../src/notify/notification-id.js';
import { JagaProcess, runJaga } from '../helpers/jaga-cli.js';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { SlackLikeServer } from '../helpers/slack-like-server.js';
import { freeTcpPort, SmtpTestServer } from '../helpers/smtp-test-server.js';
import { CorpusRun } from './corpus-run.js';

const CORPUS = fileURLToPath(new URL('../../../shared/corpus/pg15-pgaudit/', import.meta.url));
const EXAMPLE_CONFIG = fileURLToPath(new URL('../../examples/crm/jaga.yaml', import.meta.url));
/** the bundled corpus run's first record: the history generator's `endAt` (then shifted to now) */
const CORPUS_FIRST_MS = Date.parse('2026-11-29T17:17:16.517Z');
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/e2e-live-corpus/', import.meta.url));
const AGENT = 'e2e';
const SERVER = 'crm';
const RESPONDER = 'e2e-responder';
/** escalation bounds after opening (every severity): step 1, step 2 */
const ESCALATION_MS = [30_000, 60_000];
/** the functional bound: incident committed at most this long after the attack's last statement */
const DETECTION_BOUND_MS = 5_000;
/** the incident that should catch each attack: detectors (any of) and the attacking role */
const EXPECTED_INCIDENT: Record<string, { detectors: string[]; user: string }> = {
  A1: { detectors: ['jaga.auth.brute_force'], user: 'dba_admin' },
  A2: { detectors: ['jaga.data.pii_copy', 'jaga.data.pii_read_over_cap', 'baseline.volume'], user: 'support_sari' },
  A3: { detectors: ['jaga.privilege.escalation'], user: 'dba_admin' },
  A4: { detectors: ['jaga.audit.tampering'], user: 'dba_admin' },
  A5: { detectors: ['jaga.data.destructive_change'], user: 'dba_admin' },
  A6: { detectors: ['baseline.new_context'], user: 'analyst' },
  A7: { detectors: ['jaga.injection.signature'], user: 'app_web' },
  A8: { detectors: ['jaga.server.file_access'], user: 'dba_admin' },
  A9: { detectors: ['baseline.new_context'], user: 'dormant_ops' },
};
/** rules whose result depends on state learned before the run (absent from a replay of the run's logs alone) */
const HISTORY_DEPENDENT_RULES = ['jaga.audit.silence', 'jaga.auth.new_role'];
/** change kinds the default route notifies (notify-config DEFAULT_ROUTE_CHANGES), plus escalations to their step's receivers */
const NOTIFYING_KINDS = ['opened', 'severity_raised', 'deadline_reminder', 'resolved', 'escalated'];

interface AttackLabel {
  id: string;
  role: string;
  start_utc: string;
  end_utc: string;
}

interface IncidentRow {
  id: number;
  fingerprint: string;
  detector_id: string;
  status: string;
  maturity: string;
  version: number;
  group: Record<string, unknown>;
  entity: Record<string, unknown>;
  first_seen: Date;
  created_at: Date;
  acknowledged_by: string | null;
}

interface TimelineRow {
  incident_id: number;
  change_id: string;
  kind: string;
  actor: string;
  at: Date;
  detail: Record<string, unknown>;
}

let work: string;
let outDir: string;
let storeCluster: PgCluster;
let storeUrl: string;
let configFile: string;
const slack = new SlackLikeServer();
const smtp = new SmtpTestServer();
let corpus: CorpusRun | null = null;
const agents: JagaProcess[] = [];
/** incident id -> when the poller first saw it committed (`Date.now()`, ms) */
const observedAtMs = new Map<number, number>();
let polling = true;
let poller: Promise<void> = Promise.resolve();

/** What the live run recorded, for the assertions. */
const live = {
  seededEvents: 0,
  historyEndMs: 0,
  firstAgentRestored: false,
  secondAgentRestored: false,
  killedWith: null as NodeJS.Signals | null,
  secondExit: null as number | null,
  ackedIncidentId: 0,
  ackStatus: 0,
  ackAtMs: 0,
  stoppedAtMs: 0,
  attacks: [] as AttackLabel[],
  incidents: [] as IncidentRow[],
  timeline: [] as TimelineRow[],
  outbox: [] as { id: string; receiver: string; status: string }[],
  replayFingerprints: [] as string[],
  replayCode: -1 as number | null,
};

const store = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> => storeCluster.query<T>(sql, params, 'jaga');

/** JSON log lines of a child with `event` = name. */
function logEvents(child: JagaProcess, name: string): Record<string, unknown>[] {
  return child.stderrLines
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    })
    .filter((line) => line.event === name);
}

async function startAgent(): Promise<{ agent: JagaProcess; url: string }> {
  const agent = new JagaProcess(['run', '--config', configFile, '--log-level', 'info']);
  agents.push(agent);
  await agent.waitUntil(() => logEvents(agent, 'agent_started').length === 1, 'agent_started', 90_000);
  return { agent, url: String(logEvents(agent, 'agent_started')[0]!.http) };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

/** Polls the store every 250 ms and notes when each incident first became visible (committed). */
async function pollIncidents(): Promise<void> {
  while (polling) {
    try {
      for (const row of await store<{ id: number }>('SELECT id::int AS id FROM jaga_incident')) if (!observedAtMs.has(row.id)) observedAtMs.set(row.id, Date.now());
    } catch {
      // the store is still starting: try again
    }
    await sleep(250);
  }
}

const incidentsNow = (): Promise<IncidentRow[]> =>
  store<IncidentRow & Record<string, unknown>>(
    `SELECT id::int AS id, fingerprint, detector_id, status, maturity, version, "group", entity, first_seen, created_at, acknowledged_by
       FROM jaga_incident ORDER BY id`,
  );

/** The incident an attack should raise: right detector and role, first seen inside the attack (10 s slack). */
function incidentFor(attack: AttackLabel, incidents: readonly IncidentRow[]): IncidentRow | null {
  const expected = EXPECTED_INCIDENT[attack.id];
  if (expected === undefined) return null;
  const fromMs = Date.parse(attack.start_utc) - 10_000;
  const toMs = Date.parse(attack.end_utc) + 10_000;
  const found = incidents.filter(
    (i) => expected.detectors.includes(i.detector_id) && (i.group.user === expected.user || i.entity.user === expected.user) && i.first_seen.getTime() >= fromMs && i.first_seen.getTime() <= toMs,
  );
  return found.sort((a, b) => a.created_at.getTime() - b.created_at.getTime())[0] ?? null;
}

/** POST /api/incidents/:id/ack with the current version (retried on 409: the pipeline may update it meanwhile). */
async function ack(url: string, token: string, incidentId: number): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const [row] = await store<{ version: number }>('SELECT version FROM jaga_incident WHERE id = $1', [incidentId]);
    const response = await fetch(`${url}/api/incidents/${incidentId}/ack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ version: row!.version, note: 'e2e: on it' }),
    });
    await response.text();
    if (response.status !== 409 || attempt >= 5) return response.status;
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'jaga-e2e-'));
  outDir = join(work, 'out');
  storeCluster = await startPgCluster();
  await storeCluster.query('CREATE DATABASE jaga');
  storeUrl = storeCluster.url({ database: 'jaga' });
  await slack.start();
  await smtp.start();
  const port = await freeTcpPort();

  // the config: the example site's detection sections, plus the daemon, receivers, escalation
  const example = parse(await readFile(EXAMPLE_CONFIG, 'utf8')) as Record<string, unknown>;
  const writeConfig = async (logDir: string): Promise<void> => {
    const document = {
      timezone: example.timezone,
      lists: example.lists,
      catalog: example.catalog,
      agent: { name: AGENT },
      store: { url: storeUrl },
      sources: [{ name: SERVER, type: 'log_folder', path: logDir, format: 'csvlog', start_at: 'beginning', timezone: 'UTC', server: SERVER }],
      pipeline: { commit_interval: '200ms', jobs_interval: '1s' },
      receivers: {
        slack: { type: 'slack', url: slack.url(), rate_limit: { per_second: 20, burst: 20 }, backoff: { base: '200ms', cap: '2s' } },
        email: { type: 'email', smtp_url: smtp.url(), from: 'jaga@example.com', to: ['soc@example.com'], rate_limit: { per_second: 20, burst: 20 }, backoff: { base: '200ms', cap: '2s' } },
      },
      routes: [{ receivers: ['slack', 'email'] }],
      // one duration per step: every severity escalates (the incidents stage derives its bounds from these)
      escalation: { steps: ESCALATION_MS.map((ms) => ({ after: `${ms}ms`, receivers: ['slack', 'email'] })) },
      notify: { poll_interval: '250ms' },
      http: { listen: '127.0.0.1:0' },
    };
    configFile = join(work, 'jaga.yaml');
    await writeFile(configFile, `${JSON.stringify(document, null, 2)}\n`);
  };

  // 1. seed the store's baselines: three weeks of history (<= 60k events) ending now, before the run
  // (three, not two: dormant_ops appears only in the history's first week and is dormant after 14 days)
  await writeConfig(join(work, 'logs-not-yet-known'));
  const config = await loadConfigFile(configFile);
  live.historyEndMs = Date.now();
  const seeded = await seedDemoEngine({
    detection: config.detection,
    ignore: config.daemon.ignore,
    server: SERVER,
    corpusDir: CORPUS,
    weeks: 3,
    maxEvents: 60_000,
    // seed 7 (the baselines issue's own test seed): its first history week holds 4 dormant_ops sessions
    // (16 matched events); seed 8 holds 2 (8 events), below baseline.new_context's min_samples of 10,
    // so dormant_ops is never warm and A9 is caught only by the rule jaga.data.pii_read_over_cap
    seed: 7,
    endAt: new Date(CORPUS_FIRST_MS),
    offsetMs: live.historyEndMs - CORPUS_FIRST_MS,
    enricher: await QueryEnricher.create(),
  });
  live.seededEvents = seeded.events;
  const seedStore = await openStore({ url: storeUrl });
  try {
    await seedStore.transaction((tx) => new DetectorStateRepository(seedStore).save(tx, AGENT, ENGINE_STATE_COMPONENT, seeded.state));
  } finally {
    await seedStore.close();
  }
  const created = await runJaga(['token', 'create', '--name', RESPONDER, '--role', 'responder', '--store', storeUrl]);
  if (created.code !== 0) throw new Error(`jaga token create failed: ${created.stderr}`);
  const token = created.stdout.trim();

  // 2. the live run: jaga starts once the script prints `recorded run:` (schema and data are loaded then)
  corpus = await CorpusRun.start({ outDir, minutes: 3, port });
  await writeConfig(corpus.logDir);
  await corpus.waitForLine(/recorded run:/, 240_000);
  const first = await startAgent();
  live.firstAgentRestored = logEvents(first.agent, 'engine_state_restored').length === 1;
  poller = pollIncidents();

  // 3. ack A6's incident through the API as soon as it is committed (before its first escalation bound)
  await corpus.waitForLine(/A6 ends/, 120_000);
  const a6Deadline = Date.now() + 15_000;
  const a6 = await until('the A6 incident (baseline.new_context, analyst)', 30_000, async () => {
    const rows = await incidentsNow();
    const found = rows.find((i) => i.detector_id === 'baseline.new_context' && i.group.user === 'analyst');
    // not there in time: ack another stable incident so the rest still runs (the A6 checks then fail)
    return found ?? (Date.now() > a6Deadline ? rows.find((i) => i.maturity === 'stable') : null);
  });
  live.ackedIncidentId = a6.id;
  live.ackStatus = await ack(first.url, token, a6.id);
  live.ackAtMs = Date.now();

  // 4. kill -9 during the brute force (mid-traffic, inside its threshold window) and restart at once
  await corpus.waitForLine(/A1 begins/, 120_000);
  await sleep(8_000);
  live.killedWith = (await first.agent.kill('SIGKILL')).signal;
  const second = await startAgent();
  live.secondAgentRestored = logEvents(second.agent, 'engine_state_restored').length === 1;

  // 5. the run ends (labels.json written); jaga catches up, every escalation bound passes, the outbox drains
  const code = await Promise.race([corpus.exited, sleep(420_000).then(() => 'timeout' as const)]);
  if (code !== 0) throw new Error(`run-corpus.sh ended with ${String(code)}:\n${corpus.lines.slice(-15).map((l) => l.text).join('\n')}`);
  const labels = JSON.parse(await readFile(join(outDir, 'labels.json'), 'utf8')) as { attacks: AttackLabel[] };
  live.attacks = labels.attacks;
  const csvFiles = (await readdir(outDir)).filter((name) => name.endsWith('.csv')).sort();
  let totalBytes = 0;
  for (const name of csvFiles) totalBytes += (await stat(join(outDir, name))).size;
  await until('jaga to commit the whole log', 60_000, async () => {
    const [row] = await store<{ bytes: string | null }>("SELECT sum(byte_offset)::text AS bytes FROM jaga_checkpoint WHERE source_id = $1", [`${AGENT}/${SERVER}`]);
    return Number(row?.bytes ?? 0) >= totalBytes;
  });
  const lastOpenedMs = Math.max(...(await incidentsNow()).map((i) => i.created_at.getTime()));
  await sleep(Math.max(0, lastOpenedMs + ESCALATION_MS[1]! + 3_000 - Date.now()));
  await until('the outbox to drain', 60_000, async () => {
    const [row] = await store<{ n: number }>("SELECT count(*)::int AS n FROM jaga_outbox WHERE status IN ('pending', 'in_flight')");
    return row!.n === 0;
  });
  live.stoppedAtMs = Date.now();
  live.secondExit = (await second.agent.kill('SIGTERM')).code;
  polling = false;
  await poller;

  live.incidents = await incidentsNow();
  live.timeline = await store<TimelineRow & Record<string, unknown>>('SELECT incident_id::int AS incident_id, change_id, kind, actor, at, detail FROM jaga_incident_timeline ORDER BY id');
  live.outbox = await store<{ id: string; receiver: string; status: string }>('SELECT id, receiver, status FROM jaga_outbox ORDER BY id');

  // 6. a replay of the final logs with the same rules, lists, catalog and server name
  const replay = await runJaga(['replay', '--config', configFile, '--format', 'csvlog', '--server', SERVER, ...csvFiles.map((name) => join(outDir, name))], { timeoutMs: 180_000 });
  live.replayCode = replay.code;
  live.replayFingerprints = replay.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { fingerprint: string; detector: string })
    .filter((incident) => !incident.detector.startsWith('baseline.'))
    .map((incident) => incident.fingerprint)
    .sort();
}, 720_000);

afterAll(async () => {
  polling = false;
  await poller;
  for (const agent of agents) await agent.kill('SIGKILL');
  // for diagnosis: the script's output, each agent's log lines and the labels (test-artifacts/ is git-ignored)
  await mkdir(ARTIFACTS, { recursive: true });
  await writeFile(join(ARTIFACTS, 'run-corpus.out'), (corpus?.lines ?? []).map((l) => `${new Date(l.atMs).toISOString()} ${l.text}`).join('\n'));
  for (const [index, agent] of agents.entries()) await writeFile(join(ARTIFACTS, `jaga-${index + 1}.log`), agent.stderrLines.join('\n'));
  if (outDir) await cp(join(outDir, 'labels.json'), join(ARTIFACTS, 'labels.json')).catch(() => undefined);
  await corpus?.stop();
  await slack.stop();
  await smtp.stop();
  await storeCluster?.stop();
  if (corpus !== null) await rm(join(corpus.scratchDir, '..'), { recursive: true, force: true });
  if (work) await rm(work, { recursive: true, force: true });
}, 120_000);

describe('jaga run on a live corpus run (run-corpus.sh, MINUTES=3) with seeded baselines, Slack and SMTP', () => {
  it('starts from the seeded baselines (three weeks of history ending before the run) and restores its state after kill -9', () => {
    expect(live.seededEvents).toBeGreaterThan(10_000);
    expect(live.seededEvents).toBeLessThanOrEqual(60_000);
    expect(live.firstAgentRestored).toBe(true);
    expect(live.killedWith).toBe('SIGKILL');
    expect(live.secondAgentRestored).toBe(true);
    expect(live.secondExit).toBe(0);
  });

  it('commits each attack of labels.json as an incident within 5 s of its last statement', () => {
    const rows = live.attacks.map((attack) => {
      const incident = incidentFor(attack, live.incidents);
      const endMs = Date.parse(attack.end_utc);
      return {
        attack: attack.id,
        detector: incident?.detector_id ?? null,
        incident: incident?.id ?? null,
        committed_after_end_s: incident ? (incident.created_at.getTime() - endMs) / 1000 : null,
        observed_after_end_s: incident && observedAtMs.has(incident.id) ? (observedAtMs.get(incident.id)! - endMs) / 1000 : null,
      };
    });
    console.log(`per attack, seconds from its last statement to its incident's commit:\n${rows.map((r) => JSON.stringify(r)).join('\n')}`);
    expect(rows.map((r) => r.attack).sort()).toEqual(Object.keys(EXPECTED_INCIDENT));
    for (const row of rows) {
      expect(row.incident, `${row.attack}: no incident of ${EXPECTED_INCIDENT[row.attack]!.detectors.join('|')}`).not.toBeNull();
      expect(row.committed_after_end_s! * 1000, `${row.attack} committed ${row.committed_after_end_s} s after its last statement`).toBeLessThanOrEqual(DETECTION_BOUND_MS);
    }
  });

  it('never holds two incidents for one fingerprint, across the kill -9 and restart', () => {
    const byFingerprint = new Map<string, number>();
    for (const incident of live.incidents) byFingerprint.set(incident.fingerprint, (byFingerprint.get(incident.fingerprint) ?? 0) + 1);
    expect([...byFingerprint].filter(([, n]) => n > 1)).toEqual([]);
    // one opened change per incident: none opened twice, none without its opening
    const opened = live.timeline.filter((t) => t.kind === 'opened').map((t) => t.incident_id).sort((a, b) => a - b);
    expect(opened).toEqual(live.incidents.map((i) => i.id));
  });

  it('holds the same rule incidents (fingerprints) as a jaga replay of the final logs', () => {
    expect(live.replayCode).toBe(0);
    const liveRules = live.incidents.filter((i) => !i.detector_id.startsWith('baseline.'));
    const replayed = new Set(live.replayFingerprints);
    const liveOnly = liveRules.filter((i) => !replayed.has(i.fingerprint)).map((i) => `${i.detector_id} ${JSON.stringify(i.group)} ${i.first_seen.toISOString()}`);
    console.log(`rule incidents: ${liveRules.length} live, ${replayed.size} in the replay; live only (state learned from the seeded history): ${JSON.stringify(liveOnly)}`);
    expect(liveRules.length).toBeGreaterThanOrEqual(7);
    // every replayed incident is live, once
    expect(live.replayFingerprints.filter((fingerprint) => !liveRules.some((i) => i.fingerprint === fingerprint))).toEqual([]);
    // the live run may add only incidents of rules that learn from the past, which the replay (no
    // history) cannot raise: audit silence since the history's last AUDIT entry, a role the server never had
    expect(liveOnly.filter((text) => !HISTORY_DEPENDENT_RULES.some((id) => text.startsWith(`${id} `)))).toEqual([]);
  });

  /** The notification ids a receiver must get: one per notifying change of a stable incident. */
  function expectedIds(receiver: string): string[] {
    const stable = new Set(live.incidents.filter((i) => i.maturity === 'stable').map((i) => i.id));
    return live.timeline
      .filter((t) => stable.has(t.incident_id) && NOTIFYING_KINDS.includes(t.kind))
      .map((t) => notificationId(receiver, `change:${t.change_id}`))
      .sort();
  }

  it('delivers to Slack exactly one notification per notifying change (deduplicated by id), a redelivery at most once with the same id', () => {
    const ids = slack.delivered().map((request) => /notification id: `([0-9a-f]{32})`/.exec(request.body)?.[1] ?? `no id in ${request.body.slice(0, 80)}`);
    const perId = new Map<string, number>();
    for (const id of ids) perId.set(id, (perId.get(id) ?? 0) + 1);
    console.log(`slack: ${ids.length} deliveries, ${perId.size} distinct ids, ${[...perId.values()].filter((n) => n > 1).length} redelivered`);
    expect([...perId.keys()].sort()).toEqual(expectedIds('slack'));
    expect(Math.max(...perId.values())).toBeLessThanOrEqual(2);
    expect(live.outbox.filter((row) => row.receiver === 'slack' && row.status !== 'delivered')).toEqual([]);
  });

  it('delivers by SMTP exactly one e-mail per notifying change (deduplicated by X-Jaga-Notification-Id), a redelivery at most once with the same id', () => {
    const ids = smtp.mails.map((mail) => mail.headers['x-jaga-notification-id'] ?? 'no id');
    const perId = new Map<string, number>();
    for (const id of ids) perId.set(id, (perId.get(id) ?? 0) + 1);
    console.log(`smtp: ${ids.length} mails, ${perId.size} distinct ids, ${[...perId.values()].filter((n) => n > 1).length} redelivered`);
    expect([...perId.keys()].sort()).toEqual(expectedIds('email'));
    expect(Math.max(...perId.values())).toBeLessThanOrEqual(2);
    for (const mail of smtp.mails) expect(mail.messageId).toBe(`<${mail.headers['x-jaga-notification-id']}@jaga>`);
  });

  it('shows the API ack in the incident (status, actor, timeline) and never escalates it, while an unacknowledged incident escalates twice', () => {
    expect(live.ackStatus).toBe(200);
    const acked = live.incidents.find((i) => i.id === live.ackedIncidentId)!;
    expect(acked.detector_id).toBe('baseline.new_context');
    expect({ status: acked.status, by: acked.acknowledged_by }).toEqual({ status: 'acknowledged', by: `responder:${RESPONDER}` });
    const ackRows = live.timeline.filter((t) => t.incident_id === acked.id && t.kind === 'acknowledged');
    expect(ackRows.map((t) => t.actor)).toEqual([`responder:${RESPONDER}`]);
    // acknowledged before its first bound; jaga ran (across the restart) until well past its last bound
    expect(live.ackAtMs).toBeLessThan(acked.created_at.getTime() + ESCALATION_MS[0]!);
    expect(live.stoppedAtMs).toBeGreaterThan(acked.created_at.getTime() + ESCALATION_MS[1]! + 3_000);
    expect(live.timeline.filter((t) => t.incident_id === acked.id && t.kind === 'escalated')).toEqual([]);
    // would have fired: the brute-force incident (never acknowledged) got both steps, once each
    const bruteForce = live.incidents.find((i) => i.detector_id === 'jaga.auth.brute_force')!;
    const steps = live.timeline.filter((t) => t.incident_id === bruteForce.id && t.kind === 'escalated').map((t) => t.detail.step);
    expect(steps).toEqual([1, 2]);
  });
});

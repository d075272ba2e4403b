// Issue 6 Done-when "Leak test": the real corpus replayed through `jaga run` with every receiver on,
// plus a real unique violation whose DETAIL shows the duplicate e-mail; nothing jaga wrote anywhere
// (Slack, e-mail, webhook, file receiver, its stdout/stderr, the store's jaga_* tables) may carry a
// customer value of the corpus generator or any bind parameter of 5+ characters.
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedRulesDir } from '../../src/config/detection-config.js';
import { useStoreHarness } from '../db/store-harness.js';
import { JagaProcess } from '../helpers/jaga-cli.js';
import { SlackLikeServer } from '../helpers/slack-like-server.js';
import { SmtpTestServer } from '../helpers/smtp-test-server.js';
import { buildNeedles, findLeaks, type Capture } from './leak-needles.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '../..');
const CORPUS_DIR = join(ROOT, '../shared/corpus/pg15-pgaudit');
const CORPUS_CSV = join(CORPUS_DIR, 'postgresql-2026-11-29_171716.csv');
const SCHEMA_MJS = join(ROOT, '../shared/corpus/generate/src/schema.mjs');
const SITE_CONFIG = join(ROOT, 'examples/crm/jaga.yaml');
const ERROR_RULES = join(HERE, '../fixtures/leak/rules');
/** the duplicate e-mail of the unique-violation fixture (generator layout, reserved domain) */
const DUPLICATE_EMAIL = 'kartika.halim7123@example.org';
const AGENT = 'leak-test';

const harness = useStoreHarness();
const slack = new SlackLikeServer();
const webhook = new SlackLikeServer();
const smtp = new SmtpTestServer();
let jaga: JagaProcess | null = null;

beforeAll(async () => {
  await Promise.all([slack.start(), webhook.start(), smtp.start()]);
});

afterAll(async () => {
  await jaga?.kill('SIGKILL');
  await Promise.all([slack.stop(), webhook.stop(), smtp.stop()]);
});

/**
 * Produces the unique violation on the test cluster (a table with a unique e-mail, the same e-mail
 * inserted twice with a bind parameter) and copies the cluster's csvlog as it is then into `dir`.
 * @returns the copied file
 */
async function uniqueViolationLog(dir: string): Promise<string> {
  await harness.cluster.query('CREATE DATABASE leak_app');
  await harness.cluster.query('CREATE TABLE members (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, full_name text NOT NULL, email text NOT NULL UNIQUE)', [], 'leak_app');
  const client = new pg.Client({ connectionString: harness.cluster.url({ database: 'leak_app', applicationName: 'crm-web' }) });
  await client.connect();
  try {
    const insert = 'INSERT INTO members (full_name, email) VALUES ($1, $2)';
    await client.query(insert, ['Kartika Halim', DUPLICATE_EMAIL]);
    await expect(client.query(insert, ['Kartika Halim', DUPLICATE_EMAIL])).rejects.toThrow(/duplicate key value violates unique constraint/);
  } finally {
    await client.end();
  }
  const csv = (await harness.cluster.logFiles('.csv')).at(-1)!;
  const detail = `Key (email)=(${DUPLICATE_EMAIL}) already exists.`;
  for (let i = 0; !(await readFile(csv, 'utf8')).includes(detail); i++) {
    if (i > 500) throw new Error('the cluster log never showed the unique violation');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const copy = join(dir, 'postgresql-unique-violation.csv');
  await copyFile(csv, copy);
  return copy;
}

/** Polls `check` every 100 ms until it returns true. @throws Error naming `what` after `timeoutMs`. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; jaga stderr tail:\n${jaga?.stderrLines.slice(-5).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('leak test: the corpus through jaga run with every receiver on', () => {
  it('no customer value and no bind parameter of 5+ characters reaches Slack, e-mail, webhook, file, logs or the store', async () => {
    const work = await harness.tempDir();
    const [corpusDir, errorDir] = [join(work, 'corpus'), join(work, 'errors')];
    await mkdir(corpusDir);
    await mkdir(errorDir);
    await copyFile(CORPUS_CSV, join(corpusDir, 'postgresql-2026-11-29_171716.csv'));
    const violationLog = await uniqueViolationLog(errorDir);
    const violationText = await readFile(violationLog, 'utf8');
    // the fixture really carries the data: DETAIL with the e-mail, pgaudit PARAMETER with it too
    expect(violationText).toContain(`"Key (email)=(${DUPLICATE_EMAIL}) already exists."`);
    expect(violationText.split(DUPLICATE_EMAIL).length - 1).toBe(2); // the first INSERT's pgaudit PARAMETER and the DETAIL

    const set = await buildNeedles(SCHEMA_MJS, [CORPUS_CSV, violationLog], [{ value: DUPLICATE_EMAIL, origin: 'unique-violation e-mail' }]);
    console.log(`leak test needles by origin: ${JSON.stringify(set.counts)}`);
    // the search works: the inputs themselves are full of needles and generator-shaped values
    const inputHits = findLeaks([{ where: 'corpus csvlog (input)', text: await readFile(CORPUS_CSV, 'utf8') }, { where: 'violation csvlog (input)', text: violationText }], set);
    expect(inputHits.filter((h) => h.what === 'bind parameter').length).toBeGreaterThan(1000);
    expect(inputHits.some((h) => h.where === 'violation csvlog (input)' && h.what === 'unique-violation e-mail')).toBe(true);
    expect(inputHits.some((h) => h.what === 'generator e-mail shape')).toBe(true);
    expect(inputHits.some((h) => h.what === 'generator phone shape')).toBe(true);

    await harness.cluster.query('CREATE DATABASE jaga_leak_store');
    const storeUrl = harness.cluster.url({ database: 'jaga_leak_store' });
    const fileReceiver = join(work, 'notifications.jsonl');
    const fast = 'rate_limit: { per_second: 200, burst: 50 }, backoff: { base: 100ms, cap: 1s }';
    const config = join(work, 'jaga.yaml');
    await writeFile(
      config,
      [
        await readFile(SITE_CONFIG, 'utf8'),
        `rules: [${JSON.stringify(shippedRulesDir())}, ${JSON.stringify(ERROR_RULES)}]`,
        `agent: { name: ${AGENT} }`,
        `store: { url: ${JSON.stringify(storeUrl)} }`,
        'sources:',
        `  - { name: corpus, type: log_folder, path: ${JSON.stringify(corpusDir)}, format: csvlog, start_at: beginning, server: crm }`,
        `  - { name: errors, type: log_folder, path: ${JSON.stringify(errorDir)}, format: csvlog, start_at: beginning, server: app }`,
        'pipeline: { commit_interval: 200ms }',
        'http: { listen: "127.0.0.1:0" }',
        'receivers:',
        `  slack: { type: slack, url: ${JSON.stringify(slack.url())}, ${fast} }`,
        `  email: { type: email, smtp_url: ${JSON.stringify(smtp.url())}, from: jaga@soc.example.net, to: [oncall@soc.example.net], ${fast} }`,
        `  webhook: { type: webhook, url: ${JSON.stringify(webhook.url('/hooks/jaga'))}, secret: leak-test-signing-key, ${fast} }`,
        `  file: { type: file, path: ${JSON.stringify(fileReceiver)}, ${fast} }`,
        '  console: { type: console, stream: stdout }',
        'notify: { poll_interval: 200ms }',
        '',
      ].join('\n'),
    );

    jaga = new JagaProcess(['run', '--config', config, '--log-level', 'debug']);
    const query = async <T extends Record<string, unknown>>(sql: string): Promise<T[]> => harness.cluster.query<T>(sql, [], 'jaga_leak_store');
    const sizes = { [`${AGENT}/corpus`]: (await stat(CORPUS_CSV)).size, [`${AGENT}/errors`]: (await stat(violationLog)).size };
    await until(
      async () => {
        if (!jaga!.running) throw new Error(`jaga exited early:\n${jaga!.stderrLines.slice(-10).join('\n')}`);
        const rows = await query<{ source_id: string; offset: string }>('SELECT source_id, max(byte_offset)::text AS offset FROM jaga_checkpoint GROUP BY source_id').catch(() => []);
        return Object.entries(sizes).every(([id, size]) => rows.some((row) => row.source_id === id && Number(row.offset) >= size));
      },
      'both sources checkpointed at their end',
      120_000,
    );
    await until(async () => {
      const [row] = await query<{ waiting: string }>("SELECT count(*)::text AS waiting FROM jaga_outbox WHERE status IN ('pending', 'in_flight')");
      return row!.waiting === '0';
    }, 'the outbox to drain', 60_000);
    expect(await jaga.kill('SIGTERM')).toEqual({ code: 0, signal: null });

    // what happened: incidents from the corpus and from the unique violation, delivered everywhere
    const incidents = await query<{ detector_id: string; n: string }>('SELECT detector_id, count(*)::text AS n FROM jaga_incident GROUP BY detector_id ORDER BY detector_id');
    const byDetector = Object.fromEntries(incidents.map((row) => [row.detector_id, Number(row.n)]));
    console.log(`leak test incidents by detector: ${JSON.stringify(byDetector)}`);
    const violationIncidents = await query<{ n: string }>(`SELECT count(*)::text AS n FROM jaga_incident WHERE detector_id = 'leak.sql_error' AND "group"->>'sqlstate' = '23505'`);
    expect(violationIncidents[0]!.n).toBe('1');
    const [outbox] = await query<{ delivered: string; other: string }>("SELECT count(*) FILTER (WHERE status = 'delivered')::text AS delivered, count(*) FILTER (WHERE status <> 'delivered')::text AS other FROM jaga_outbox");
    expect(outbox!.other).toBe('0');
    const delivered = Number(outbox!.delivered);
    const fileLines = (await readFile(fileReceiver, 'utf8')).split('\n').filter((line) => line.length > 0);
    const consoleLines = [...jaga.events.map((e) => JSON.stringify(e.event)), ...jaga.badStdoutLines];
    const perReceiver = { slack: slack.delivered().length, email: smtp.mails.length, webhook: webhook.delivered().length, file: fileLines.length, console: consoleLines.length };
    console.log(`leak test deliveries: ${JSON.stringify(perReceiver)} (outbox delivered ${delivered})`);
    expect(Object.values(perReceiver).reduce((a, b) => a + b, 0)).toBe(delivered);
    for (const count of Object.values(perReceiver)) expect(count).toBeGreaterThan(0);

    const captures: Capture[] = [
      ...slack.requests.map((r, i) => ({ where: `slack request #${i + 1}`, text: r.body })),
      ...webhook.requests.map((r, i) => ({ where: `webhook request #${i + 1}`, text: `${JSON.stringify(r.headers)}\n${r.body}` })),
      ...smtp.mails.map((m, i) => ({ where: `e-mail #${i + 1} (raw source)`, text: m.raw })),
      ...smtp.mails.map((m, i) => ({ where: `e-mail #${i + 1} (decoded text/html)`, text: `${m.subject ?? ''}\n${m.text ?? ''}\n${m.html || ''}` })),
      { where: 'file receiver', text: fileLines.join('\n') },
      { where: 'jaga stdout', text: consoleLines.join('\n') },
      { where: 'jaga stderr', text: jaga.stderrLines.join('\n') },
    ];
    const tables = await query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE 'jaga\\_%' ORDER BY 1");
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['jaga_incident', 'jaga_incident_timeline', 'jaga_outbox', 'jaga_incident_detection']));
    for (const { name } of tables) {
      const rows = await query<{ row: string }>(`SELECT to_jsonb(t)::text AS row FROM ${name} t`);
      captures.push({ where: `table ${name} (${rows.length} rows)`, text: rows.map((r) => r.row).join('\n') });
    }
    const capturedChars = captures.reduce((sum, c) => sum + c.text.length, 0);
    console.log(`leak test searched ${captures.length} captures, ${capturedChars} characters, for ${set.needles.length} values and ${set.shapes.length} shapes`);
    const leaks = findLeaks(captures, set);
    if (leaks.length > 0) console.log(`leak test: ${leaks.length} hits, first ones:\n${leaks.slice(0, 15).map((h) => `  ${h.where}: ${h.what}: ${h.value}`).join('\n')}`);
    expect(leaks.slice(0, 15)).toEqual([]);
  }, 180_000);
});

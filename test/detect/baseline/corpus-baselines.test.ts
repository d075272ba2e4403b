/**
 * Issue 5, "Done when" (first bullet): with the rule pack switched off, the baseline rules alone,
 * replayed through the production `jaga replay` composition (ReplayPipeline, in-memory PGlite
 * store, the example CRM catalog), raise incidents for the bulk read (A2), the unusual client
 * reading personal data (A6) and the dormant account (A9) of the pg15-pgaudit corpus run appended
 * to a multi-week synthetic history; and on a held-out normal day (another seed) at most one
 * incident per 10,000 events of that day.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../../src/config/load-config-file.js';
import { openStore } from '../../../src/db/open-store.js';
import type { Store } from '../../../src/db/store.js';
import { DETECTOR_REGISTRY } from '../../../src/detect/detector-registry.js';
import { loadRuleSet } from '../../../src/detect/rule-loader.js';
import { writeSyntheticHistory, type SyntheticHistoryOptions } from '../../../src/demo/synthetic-history.js';
import type { Incident } from '../../../src/domain/incident.js';
import { QueryEnricher } from '../../../src/enrich/query-enricher.js';
import { ReplayPipeline, type ReplayResult } from '../../../src/pipeline/replay-pipeline.js';

const CORPUS = fileURLToPath(new URL('../../../../shared/corpus/pg15-pgaudit/', import.meta.url));
const RUN_START = new Date('2026-11-29T17:17:16.517Z');
/** the corpus run's last record (README: server stop 17:25:18.776 UTC) */
const CORPUS_END_MS = Date.parse('2026-11-29T17:25:19.000Z');

interface AttackLabel {
  id: string;
  role: string;
  start_utc: string;
  end_utc: string;
}

let dir: string;
let store: Store;
let result: ReplayResult;
let attacks: Map<string, AttackLabel>;
/** the held-out day: its first and last record times (ms) and its record count */
let heldOut: { fromMs: number; toMs: number; records: number };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jaga-baselines-'));
  const labels = JSON.parse(await readFile(join(CORPUS, 'labels.json'), 'utf8')) as { attacks: AttackLabel[] };
  attacks = new Map(labels.attacks.map((attack) => [attack.id, attack]));
  const options: SyntheticHistoryOptions = { corpusDir: CORPUS, seed: 7, weeks: 3, endAt: RUN_START, maxEvents: 200_000, includeCorpusRun: true };
  const written = await writeSyntheticHistory(join(dir, 'postgresql.csv'), { ...options, heldOutDay: { seed: 4242 } });
  // the held-out day is everything after the corpus run: count its csvlog records by their log_time
  const records = (await readFile(join(dir, 'postgresql.csv'), 'utf8')).match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC,/gm) ?? [];
  const times = records.map((record) => Date.parse(`${record.slice(0, 10)}T${record.slice(11, 23)}Z`)).filter((ms) => ms > CORPUS_END_MS);
  heldOut = { fromMs: Math.min(...times), toMs: Math.max(...times), records: times.length };
  expect(written.records).toBeLessThanOrEqual(200_000);

  const config = await loadConfigFile(resolve('examples/crm/jaga.yaml'));
  const detection = config.detection;
  const pack = await loadRuleSet({ ruleDirs: detection.ruleDirs, overlayDirs: detection.overlayDirs, lists: detection.lists, catalog: detection.catalog, registry: DETECTOR_REGISTRY });
  const rules = pack.rules.map((rule) => ({ ...rule, enabled: rule.id.startsWith('baseline.') }));
  store = await openStore({ memory: true });
  const pipeline = new ReplayPipeline({ rules, context: pack.context, enricher: await QueryEnricher.create(), store });
  result = await pipeline.run([join(dir, 'postgresql.csv')], { format: 'csvlog', server: 'crm' });
}, 120_000);

afterAll(async () => {
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** incidents about `role` with a detection inside the attack's time window (a minute of slack after it) */
function incidentsFor(attackId: string): Incident[] {
  const attack = attacks.get(attackId) as AttackLabel;
  const fromMs = Date.parse(attack.start_utc);
  const toMs = Date.parse(attack.end_utc) + 60_000;
  return result.incidents.filter((incident) => incident.group.user === attack.role && incident.firstSeen.getTime() <= toMs && incident.lastSeen.getTime() >= fromMs);
}

describe('baselines alone on three weeks of history + the corpus run + a held-out day', () => {
  it('run only baseline rules and replay every record without parse failures', () => {
    expect(result.summary.failures).toBe(0);
    expect(new Set(result.incidents.map((incident) => incident.detectorId.split('.')[0]))).toEqual(new Set(['baseline']));
  });

  it('raise an incident for A2, support_sari bulk-reading customers (volume)', () => {
    const volume = incidentsFor('A2').filter((incident) => incident.detectorId === 'baseline.volume');
    expect(volume.length).toBeGreaterThanOrEqual(1);
    expect(volume[0]?.entity.user).toBe('support_sari');
  });

  it('raise an incident for A6, the analyst reading personal data from 127.0.0.3 with psql (new context)', () => {
    const found = incidentsFor('A6');
    expect(found.map((incident) => incident.detectorId)).toContain('baseline.new_context');
  });

  it('raise an incident for A9, dormant_ops coming back (new context: dormant)', () => {
    const found = incidentsFor('A9');
    expect(found.map((incident) => incident.detectorId)).toContain('baseline.new_context');
  });

  // a day of fewer than 10,000 events may have one incident (the bound is per 10,000 events)
  it('raise at most one incident per 10,000 events on the held-out normal day', () => {
    const onDay = result.incidents.filter((incident) => incident.lastSeen.getTime() >= heldOut.fromMs);
    expect(heldOut.records).toBeGreaterThan(5_000);
    expect(onDay.length * 10_000).toBeLessThanOrEqual(Math.max(heldOut.records, 10_000));
  });
});

import type { DetectionConfig } from '../config/detection-config.js';
import type { AccessEvent } from '../domain/access-event.js';
import type { AccessLedgerDelta } from '../domain/access-ledger.js';
import { AccessLedger } from '../detect/access-ledger.js';
import { DetectionEngine, type EngineState } from '../detect/detection-engine.js';
import { DETECTOR_REGISTRY } from '../detect/detector-registry.js';
import { loadRuleSet } from '../detect/rule-loader.js';
import type { QueryEnricher } from '../enrich/query-enricher.js';
import { createEventBuilder } from '../parse/event-builder.js';
import { type ParseOutput, createLogParser, isParseFailure } from '../parse/log-parser.js';
import { generateSyntheticHistory } from './synthetic-history.js';

/** What the demo's history seeding runs with. */
export interface DemoSeedOptions {
  /** the demo config's detection slice: the same rules, lists and catalog as the live agent */
  detection: DetectionConfig;
  /** the live pipeline's drop lists (jaga's own traffic), applied the same way here */
  ignore: { roles: readonly string[]; applicationNames: readonly string[] };
  /** server name of the live log_folder source (entities and fingerprints carry it) */
  server: string;
  /** a labelled corpus folder (labels.json + the .csv it names), e.g. the bundled examples/crm/logs */
  corpusDir: string;
  /** whole weeks of history before the corpus run */
  weeks: number;
  /** cap on csvlog history records (see `generateSyntheticHistory`) */
  maxEvents: number;
  /** history PRNG seed */
  seed: number;
  /** the instant the history ends (exclusive) before the shift: the corpus run's first record time */
  endAt: Date;
  /** added to every history time, ms (the same offset that moves the corpus run to the demo's start) */
  offsetMs: number;
  /** adds `query` facts, as the live source does */
  enricher: QueryEnricher;
  /** wall clock for the rule set's exception expiry; default now */
  now?: () => Date;
  /** stops reading the history between chunks (Ctrl-C while seeding); the result then covers what was read */
  signal?: AbortSignal;
}

/** The warmed engine and what it took. */
export interface DemoSeedResult {
  /** the engine snapshot after the whole history (to be stored as the agent's committed state) */
  state: EngineState;
  /** csvlog records read (events + parse failures) */
  records: number;
  /** events given to the engine (ignored ones excluded) */
  events: number;
  /** records that did not parse (counted, never fatal) */
  failures: number;
  /** detections the history raised and the seeding dropped (the history is the past) */
  detectionsDiscarded: number;
  /** first and last shifted event time, epoch ms (NaN without events) */
  firstTimeMs: number;
  lastTimeMs: number;
  /**
   * the history's access-ledger counts (per server, UTC day, role, relation and client; the rule
   * set's catalog classifies the relations, as the live pipeline's ledger does), so that
   * `jaga report access` on the demo compares the live run with the history
   */
  ledger: AccessLedgerDelta[];
}

/**
 * Warms a DetectionEngine on the demo's synthetic history (issue 8, `jaga demo`): the history
 * `generateSyntheticHistory` makes from the corpus (normal traffic only), every time moved by
 * `offsetMs` (each event's `time`, the only time an AccessEvent carries), parsed as csvlog (log_timezone UTC) with one event builder as the
 * live source would, enriched, filtered like the live pipeline (ignored roles / application
 * names), and run through an engine built from the same rule set the agent loads. Detections are
 * discarded; the engine's watermark ends at the history's last event. Its snapshot, committed as
 * the agent's engine state, makes the live agent start with warm baselines; the history's
 * access-ledger counts (`ledger`) give the access report its past.
 *
 * @throws RuleLoadError when the rule set does not load; ConfigError from the generator (corpus
 *   unreadable, bad weeks/maxEvents)
 */
export async function seedDemoEngine(options: DemoSeedOptions): Promise<DemoSeedResult> {
  const detection = options.detection;
  const now = options.now ?? (() => new Date());
  const ruleSet = await loadRuleSet({ ruleDirs: detection.ruleDirs, overlayDirs: detection.overlayDirs, lists: detection.lists, catalog: detection.catalog, registry: DETECTOR_REGISTRY, now: now() });
  const engine = new DetectionEngine(ruleSet.rules, ruleSet.context);
  const ledger = new AccessLedger();
  const ignoredRoles = new Set(options.ignore.roles);
  const ignoredApps = options.ignore.applicationNames.map(globToRegExp);
  const parser = createLogParser({
    format: 'csvlog',
    timezone: 'UTC',
    server: options.server,
    source: { id: options.server, file: 'demo-history.csv', fingerprint: 'demo-history' },
    builder: createEventBuilder({ server: options.server }),
  });
  const result = { records: 0, events: 0, failures: 0, detectionsDiscarded: 0, firstTimeMs: Number.NaN, lastTimeMs: Number.NaN };
  const sink = {
    push: (out: ParseOutput): void => {
      if (isParseFailure(out)) {
        result.failures++;
        return;
      }
      const event = out as AccessEvent;
      const timeMs = Date.parse(event.time) + options.offsetMs;
      if (Number.isNaN(timeMs)) {
        result.failures++;
        return;
      }
      event.time = new Date(timeMs).toISOString();
      if (!(result.firstTimeMs <= timeMs)) result.firstTimeMs = timeMs;
      if (!(result.lastTimeMs >= timeMs)) result.lastTimeMs = timeMs;
      if (event.user !== null && ignoredRoles.has(event.user)) return;
      const app = event.application_name;
      if (app !== null && ignoredApps.some((pattern) => pattern.test(app))) return;
      options.enricher.enrich(event);
      result.events++;
      result.detectionsDiscarded += engine.process(event).length;
      ledger.observe(event, ruleSet.catalog);
    },
  };
  const history = generateSyntheticHistory({ corpusDir: options.corpusDir, seed: options.seed, weeks: options.weeks, endAt: options.endAt, maxEvents: options.maxEvents });
  let yieldedAtMs = Date.now();
  for await (const chunk of history) {
    if (options.signal?.aborted === true) break;
    parser.pushTo(Buffer.from(chunk, 'utf8'), sink);
    // let timers and signal handlers run now and then (the work is otherwise one long CPU stretch)
    if (Date.now() - yieldedAtMs > 100) {
      await new Promise((resolve) => setImmediate(resolve));
      yieldedAtMs = Date.now();
    }
  }
  parser.endTo(sink);
  result.records = parser.records;
  return { state: engine.snapshot(), ...result, ledger: ledger.drain() };
}

/** The live pipeline's application-name pattern: `*` matches any run of characters, the rest literally. */
function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

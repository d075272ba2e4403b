// Bench section "detect" (issue 4): throughput of the detection stage alone (DetectionEngine.process
// over events parsed and enriched beforehand) with the rule pack (rules/*.yaml without
// baselines.yaml: issue 4's target is judged on it) and with the default pack (baselines included),
// and the rule pack's cost per rule as it grows to 500 rules of generated variants, with and
// without shared selections.
//
// Each row runs in a fresh child (`node bench/detect-section.js <spec JSON>`, this same file) so JIT
// and heap start clean and the peak RSS is the row's own. The child, untimed: loads the pack
// (rules/ + examples/crm/jaga.yaml lists and catalog) and the generated variants, parses the corpus
// csvlog once and enriches it, repeats it `repetitions` times with event times shifted forward by the
// corpus span (+1 s) per copy, and runs a warm-up pass (up to 5 copies) on a separate engine. Timed: a fresh engine's
// `process` over every event, then one final `advance`, on one core (Node's main thread).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CORPUS_DIR } from './corpus-files.js';
import { failedMeasurement, makeMeasurement } from './measurement.js';

const HERE = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(HERE), '..');
/** compiled jaga to measure; BENCH_DIST_DIR overrides (e.g. a build in a scratch folder) */
const DIST = resolve(process.env.BENCH_DIST_DIR ?? join(ROOT, 'dist'));
const CORPUS_CSV = join(CORPUS_DIR, 'postgresql-2026-11-29_171716.csv');
const SITE_CONFIG = join(ROOT, 'examples/crm/jaga.yaml');
/** issue 4 target for the rule pack (rules/*.yaml without baselines.yaml), events per second on one core */
const TARGET_EVENTS_PER_SEC = 300_000;
/** row labels of the two packs */
const RULE_PACK_LABEL = 'rule pack (rules/*.yaml without baselines.yaml)';
const DEFAULT_PACK_LABEL = 'default pack with baselines';
/** pack sizes of the cost-per-rule rows */
const GROWN_SIZES = [50, 100, 250, 500];
/** the baseline detectors' file (issue 5): left out of the rule pack rows */
const BASELINES_FILE = 'baselines.yaml';

/**
 * @typedef {object} RowSpec what one child measures
 * @property {'none'|'pack'|'shared'|'distinct'} variant no rules (floor), the pack, the pack plus
 *   variants that reuse the pack's selections verbatim (`shared`), or variants whose every selection
 *   map gets an always-true but distinct `time|gt` condition (`distinct`: nothing shared)
 * @property {boolean} [baselines] true: the default pack with rules/baselines.yaml; false/absent:
 *   the rule pack without it (variants are always of the rule pack's rules)
 * @property {number} rules total enabled rules wanted (pack + variants); ignored for none/pack
 * @property {number} repetitions corpus copies
 */

/** Keeps the rules not from rules/baselines.yaml (the rule pack), or every rule when `baselines`. */
function withoutBaselines(set, baselines) {
  return baselines ? set : { ...set, rules: set.rules.filter((rule) => basename(rule.origin.file) !== BASELINES_FILE) };
}

/** Loads the default pack (plus `extraDir` of variants) with the site config's lists and catalog. */
async function loadPack(extraDir) {
  const { loadConfigFile } = await import(pathToFileURL(join(DIST, 'config/load-config-file.js')).href);
  const { loadRuleSet } = await import(pathToFileURL(join(DIST, 'detect/rule-loader.js')).href);
  const { DETECTOR_REGISTRY } = await import(pathToFileURL(join(DIST, 'detect/detector-registry.js')).href);
  const config = await loadConfigFile(SITE_CONFIG);
  const ruleDirs = extraDir ? [...config.detection.ruleDirs, extraDir] : config.detection.ruleDirs;
  return loadRuleSet({ ...config.detection, ruleDirs, registry: DETECTOR_REGISTRY });
}

/** Adds `time|gt: <distinct old instant>` to every map of a selection definition (always true on the corpus). */
function distinctSelection(definition, n) {
  const marker = new Date(Date.UTC(2000, 0, 1) + n * 1000).toISOString();
  const patch = (map) => ({ ...map, 'time|gt': marker });
  return Array.isArray(definition) ? definition.map(patch) : patch(definition);
}

/** Writes `count` variants of the pack's enabled rules (cycling through them) into a fresh folder. */
async function writeVariants(pack, count, variant) {
  const { stringify } = await import('yaml');
  const dir = await mkdtemp(join(tmpdir(), 'jaga-bench-rules-'));
  const bases = pack.rules.filter((rule) => rule.enabled).map((rule) => pack.documents.get(rule.id).document);
  const documents = [];
  for (let n = 0; n < count; n++) {
    const base = structuredClone(bases[n % bases.length]);
    delete base.tests;
    base.id = `${base.id}.v${n}`;
    if (variant === 'distinct') {
      for (const [name, definition] of Object.entries(base.match)) {
        if (name !== 'condition') base.match[name] = distinctSelection(definition, n);
      }
    }
    documents.push(stringify(base));
  }
  await writeFile(join(dir, 'variants.yaml'), documents.join('---\n'));
  return dir;
}

/** The corpus csvlog parsed and enriched through dist/, repeated with times shifted forward per copy. */
async function corpusEvents(repetitions) {
  const { createLogParser, isParseFailure } = await import(pathToFileURL(join(DIST, 'parse/log-parser.js')).href);
  const { QueryEnricher } = await import(pathToFileURL(join(DIST, 'enrich/query-enricher.js')).href);
  const bytes = await readFile(CORPUS_CSV);
  const parser = createLogParser({ format: 'csvlog', server: 'crm', source: { id: 'crm', file: basename(CORPUS_CSV), fingerprint: 'bench' } });
  const enricher = await QueryEnricher.create();
  const base = [];
  for (const out of [...parser.push(bytes), ...parser.end()]) {
    if (isParseFailure(out)) continue;
    enricher.enrich(out);
    base.push(out);
  }
  const firstMs = Date.parse(base[0].time);
  const spanMs = Date.parse(base[base.length - 1].time) - firstMs + 1000;
  const events = [];
  for (let copy = 0; copy < repetitions; copy++) {
    for (const event of base) {
      events.push(copy === 0 ? event : { ...event, id: `${event.id}#${copy}`, time: new Date(Date.parse(event.time) + copy * spanMs).toISOString() });
    }
  }
  return { events, corpusEvents: base.length, corpusBytes: bytes.length };
}

/** Child: measures one row and returns its figures. @param {RowSpec} spec */
async function measureRow(spec) {
  const { DetectionEngine } = await import(pathToFileURL(join(DIST, 'detect/detection-engine.js')).href);
  const pack = withoutBaselines(await loadPack(null), spec.baselines === true);
  let set = pack;
  let scratch = null;
  if (spec.variant === 'none') set = { ...pack, rules: [] };
  else if (spec.variant !== 'pack') {
    const wanted = Math.max(0, spec.rules - pack.rules.filter((rule) => rule.enabled).length);
    scratch = await writeVariants(pack, wanted, spec.variant);
    set = withoutBaselines(await loadPack(scratch), spec.baselines === true);
  }
  const { events, corpusEvents: perCopy, corpusBytes } = await corpusEvents(spec.repetitions);
  const warm = new DetectionEngine(set.rules, set.context);
  for (let i = 0; i < Math.min(events.length, 5 * perCopy); i++) warm.process(events[i]);

  const engine = new DetectionEngine(set.rules, set.context);
  let detections = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < events.length; i++) detections += engine.process(events[i]).length;
  detections += engine.advance(Date.parse(events[events.length - 1].time) + 86_400_000).length;
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  if (scratch) await rm(scratch, { recursive: true, force: true });
  return {
    bytes: corpusBytes * spec.repetitions,
    events: events.length,
    elapsedMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    rules: engine.rules.length,
    detections,
    suppressed: engine.stats().suppressed,
    maxRssKb: process.resourceUsage().maxRSS,
  };
}

/** Parent: runs one row in a child; a failed Measurement (never a throw) when it fails. */
function runRow(label, spec) {
  let stdout;
  try {
    stdout = execFileSync(process.execPath, [HERE, JSON.stringify(spec)], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 20 });
  } catch (error) {
    const why = String(error.stdout || error.stderr || error.message).trim().split('\n').pop();
    return { measurement: failedMeasurement(label, why.slice(0, 160)), result: null };
  }
  const result = JSON.parse(stdout.trim().split('\n').pop());
  if (result.error) return { measurement: failedMeasurement(label, String(result.error).slice(0, 160)), result: null };
  const measurement = makeMeasurement({ label, bytes: result.bytes, units: result.events, unitName: 'events', elapsedMs: result.elapsedMs, cpuSeconds: result.cpuMs / 1000, maxRssKb: result.maxRssKb });
  return { measurement, result };
}

/** Keeps the fastest of `ctx.runs` runs of one row. */
function bestOf(ctx, label, spec) {
  let best = null;
  for (let run = 1; run <= ctx.runs; run++) {
    ctx.progress(`detect: ${label} (run ${run}/${ctx.runs}) ...`);
    const row = runRow(label, spec);
    ctx.progress(row.measurement.error ? `  unavailable: ${row.measurement.error}` : `  ${(row.measurement.unitsPerSec / 1000).toFixed(1)} k events/s in ${row.measurement.seconds.toFixed(2)} s`);
    if (best === null || (!row.measurement.error && (best.measurement.error || row.measurement.seconds < best.measurement.seconds))) best = row;
  }
  return best;
}

/** ns of CPU per event and per rule, from a row and the no-rules floor of the same group. */
function perRuleNote(row, floor) {
  if (!row.result || !floor.result) return '';
  const nsPerEvent = (r) => (r.cpuMs * 1e6) / r.events;
  const own = nsPerEvent(row.result);
  const overFloor = own - nsPerEvent(floor.result);
  return `${row.result.rules} rules, ${(own / 1000).toFixed(2)} cpu-us/event, ${(overFloor / row.result.rules).toFixed(1)} cpu-ns/event/rule over the floor; ${row.result.detections} detections (${row.result.suppressed} suppressed)`;
}

/** CPU ns per event spent on rules (row minus the no-rules floor), or null when a figure is missing. */
function overFloorNs(row, floor) {
  if (!row.result || !floor.result) return null;
  return (row.result.cpuMs * 1e6) / row.result.events - (floor.result.cpuMs * 1e6) / floor.result.events;
}

/**
 * One summary line per variant: rules cost per event from the pack size to the largest size, and
 * how that compares to linear growth (`x0.4 of linear` = the 500-rule pack costs 40 % of what
 * 500/21 times the pack's cost would be).
 */
function growthLine(variant, costs) {
  const [firstRules, firstNs] = costs[0];
  const [lastRules, lastNs] = costs[costs.length - 1];
  if (firstNs === null || lastNs === null || firstNs <= 0) return `  ${variant} selections: figures missing`;
  const linear = (firstNs * lastRules) / firstRules;
  const steps = costs.map(([rules, ns]) => `${rules}: ${ns === null ? '-' : (ns / 1000).toFixed(2)}`).join(', ');
  return `  ${variant} selections: rule cost cpu-us/event by pack size ${steps}; ${firstRules} -> ${lastRules} rules (x${(lastRules / firstRules).toFixed(1)}) cost x${(lastNs / firstNs).toFixed(1)} = ${((100 * lastNs) / linear).toFixed(0)}% of linear growth`;
}

/**
 * The detection section. Rows: the no-rules floor, the rule pack (rules/*.yaml without
 * baselines.yaml; issue 4's 300k events/s target is judged on it) and the default pack with the
 * baselines on the corpus repeated (~590k events; ~118k with BENCH_QUICK=1), then the rule pack
 * grown to 50..500 rules with shared and with distinct selections on the corpus x20 (~118k events).
 * @type {{name: string, title: string, run: (ctx: {minBytes: number, runs: number, progress: (msg: string) => void}) => Promise<object[]>}}
 */
export const detectSection = {
  name: 'detect',
  title: 'Detection (issue 4): DetectionEngine.process over pre-parsed, pre-enriched corpus events, one core',
  /** column titles of the ratios: to the no-rules floor and to the rule pack */
  columnNames: { floorName: 'no rules', referenceName: 'rule pack' },
  async run(ctx) {
    if (!existsSync(join(DIST, 'detect/detection-engine.js'))) {
      return [{ heading: 'detection: dist/ is missing (run `npm run build`)', rows: [{ measurement: failedMeasurement(RULE_PACK_LABEL, `no ${DIST}/detect`) }], floorLabel: 'floor: engine, no rules', referenceLabel: RULE_PACK_LABEL }];
    }
    const quick = ctx.minBytes < 100e6;
    const repetitions = quick ? 20 : 100;
    const grownRepetitions = 20;
    const corpusMb = (await stat(CORPUS_CSV)).size / 1e6;

    const floor = bestOf(ctx, 'floor: engine, no rules', { variant: 'none', rules: 0, repetitions });
    const pack = bestOf(ctx, RULE_PACK_LABEL, { variant: 'pack', rules: 0, repetitions });
    const full = bestOf(ctx, DEFAULT_PACK_LABEL, { variant: 'pack', baselines: true, rules: 0, repetitions });
    const target = pack.measurement.error ? 'figure missing' : pack.measurement.unitsPerSec >= TARGET_EVENTS_PER_SEC ? 'met' : 'MISSED';
    const rate = pack.measurement.error ? '-' : `${(pack.measurement.unitsPerSec / 1000).toFixed(0)} k events/s`;
    const cpuRate = pack.result ? `${(pack.result.events / (pack.result.cpuMs / 1000) / 1000).toFixed(0)} k events/cpu-s` : '-';
    pack.measurement.note = `issue 4 target (judged on this row) >= 300 k events/s: ${target}; ${perRuleNote(pack, floor)}`;
    full.measurement.note = `baselines included (issue 5), not judged against issue 4's target; ${perRuleNote(full, floor)}`;
    floor.measurement.note = floor.result ? `${(((floor.result.cpuMs * 1e6) / floor.result.events) / 1000).toFixed(2)} cpu-us/event` : '';
    const groups = [
      {
        heading: `detect: rule pack and default pack (rules/ + examples/crm/jaga.yaml) on the csvlog corpus x${repetitions} (${(corpusMb * repetitions).toFixed(1)} MB of csv, events shifted forward per copy)`,
        rows: [{ measurement: floor.measurement }, { measurement: pack.measurement }, { measurement: full.measurement }],
        floorLabel: 'floor: engine, no rules',
        referenceLabel: RULE_PACK_LABEL,
        targetLines: [`detect rule pack (rules/*.yaml without baselines.yaml): ${rate} (target >= 300 k events/s on one core): ${target} [by CPU time: ${cpuRate}]`],
      },
    ];

    const grownFloor = bestOf(ctx, 'floor: engine, no rules', { variant: 'none', rules: 0, repetitions: grownRepetitions });
    const grownPack = bestOf(ctx, RULE_PACK_LABEL, { variant: 'pack', rules: 0, repetitions: grownRepetitions });
    grownFloor.measurement.note = '';
    grownPack.measurement.note = perRuleNote(grownPack, grownFloor);
    const rows = [{ measurement: grownFloor.measurement }, { measurement: grownPack.measurement }];
    const lines = [];
    for (const variant of ['shared', 'distinct']) {
      const costs = [[grownPack.result?.rules ?? 0, overFloorNs(grownPack, grownFloor)]];
      for (const rules of GROWN_SIZES) {
        const row = bestOf(ctx, `${rules} rules, ${variant} selections`, { variant, rules, repetitions: grownRepetitions });
        row.measurement.note = perRuleNote(row, grownFloor);
        rows.push({ measurement: row.measurement });
        costs.push([row.result?.rules ?? rules, overFloorNs(row, grownFloor)]);
      }
      lines.push(growthLine(variant, costs));
    }
    groups.push({
      heading: `detect: cost per rule as the rule pack grows (generated variants of its rules, baselines left out) on the csvlog corpus x${grownRepetitions}`,
      rows,
      floorLabel: 'floor: engine, no rules',
      referenceLabel: RULE_PACK_LABEL,
      lines: ['', ...lines, ''],
    });
    return groups;
  },
};

if (process.argv[1] === HERE && process.argv[2]) {
  try {
    process.stdout.write(`${JSON.stringify(await measureRow(JSON.parse(process.argv[2])))}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`);
    process.exitCode = 1;
  }
}

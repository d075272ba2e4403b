// Bench "baselines" (issue 5): scoring throughput of the baseline detectors and memory per
// entity-detector with 100,000 entities, against a floor measured in the same run.
//
//   npm run build && node --expose-gc bench/baselines.js        (BENCH_DIST_DIR overrides dist/)
//   BENCH_ENTITIES, BENCH_PASSES make it smaller; BENCH_ONLY=<rule id part> runs one detector, BENCH_ONLY=all the five together
//
// For each shipped baseline rule (rules/baselines.yaml; warm-up shortened to 1 h and 3 buckets so every
// event is scored, max_entities raised to hold every entity) and for all five together, a fresh
// DetectionEngine processes PASSES hourly buckets of events: in each, every one of the 100,000
// roles reads EVENTS_PER_BUCKET times (audit READ of a pii table; `authorization` events for
// failure_rate, which ignores reads). Events of a pass are built (and promoted out of the young generation by
// two minor gcs) before it is timed, and their user names hashed (untimed: a pipeline's parser interns the
// user name, a Map look-up, so detection gets it hashed; without this the floor, timed first, paid the hashing
// and the engine did not). The floor
// reads the same events in a plain loop doing one Map lookup per event (by user). Memory: the
// engine's heapUsed + arrayBuffers delta after gc (node --expose-gc), plus the bytes the history rings (128
// buckets) and context sets (48 contexts) would still grow by to full size (they grow by doubling as
// they fill; counted from the engine's snapshot as if each held only its entries, so an upper bound),
// divided by the entities it holds (100,000, 200,000 for volume: role and role x table). Profiles are
// allocated at full size. The figure is thus the bound at full history, not a partly filled state.
// Targets: >= 200,000 events/s and <= 4 KB (4,096 bytes) per entity-detector.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = resolve(process.env.BENCH_DIST_DIR ?? join(ROOT, 'dist'));
const ENTITIES = Number(process.env.BENCH_ENTITIES ?? 100_000);
const PASSES = Number(process.env.BENCH_PASSES ?? 8);
const EVENTS_PER_BUCKET = 4;
const HOUR_MS = 3_600_000;
const START_MS = Date.parse('2026-01-05T08:00:00.000Z');
const TARGET_EVENTS_PER_SEC = 200_000;
const TARGET_BYTES = 4096;

const { DetectionEngine } = await import(pathToFileURL(join(DIST, 'detect/detection-engine.js')).href);
const { DETECTOR_REGISTRY } = await import(pathToFileURL(join(DIST, 'detect/detector-registry.js')).href);
const { loadRuleSet } = await import(pathToFileURL(join(DIST, 'detect/rule-loader.js')).href);

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc bench/baselines.js (memory per entity needs gc)');
  process.exit(2);
}

const pack = await loadRuleSet({ ruleDirs: [join(ROOT, 'rules')], catalog: join(ROOT, 'rules/tests/catalog.yaml'), registry: DETECTOR_REGISTRY });
const baselines = pack.rules
  .filter((rule) => rule.id.startsWith('baseline.'))
  .map((rule) => ({ ...rule, params: { ...rule.params, min_history: HOUR_MS, min_samples: 3, max_entities: ENTITIES * 3 } }));

/** one pass: every role reads EVENTS_PER_BUCKET times within hour `pass` (or logs in, for failure_rate) */
function passEvents(pass, kind) {
  const events = new Array(ENTITIES * EVENTS_PER_BUCKET);
  const hourMs = START_MS + pass * HOUR_MS;
  let n = 0;
  for (let k = 0; k < EVENTS_PER_BUCKET; k++) {
    for (let i = 0; i < ENTITIES; i++) {
      const timeMs = hourMs + Math.floor(((k * ENTITIES + i) / (ENTITIES * EVENTS_PER_BUCKET)) * HOUR_MS);
      events[n++] = {
        id: `bench:${pass}:${k}:${i}`,
        time: new Date(timeMs).toISOString(),
        server: 'bench',
        source: { id: 'bench', file: null, fingerprint: null, offset: n },
        kind,
        user: `role_${i}`,
        database: 'crm',
        client_addr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        client_port: 50000,
        application_name: 'crm-web',
        pid: 10_000 + i,
        session_id: `s${i}.${pass}`,
        session_line: k,
        backend_type: 'client backend',
        severity: 'LOG',
        sqlstate: null,
        message: null, detail: null, hint: null, context: null, statement: null,
        session_duration_ms: null,
        truncated: false,
        audit: kind === 'audit' ? { audit_type: 'SESSION', statement_id: k + 1, substatement_id: 1, class: 'READ', command: 'SELECT', object_type: 'TABLE', object_name: 'public.customers', statement: 'SELECT 1', parameter: '<none>', rows: 1 + ((i + k + pass) % 13) } : null,
        query: null,
        app: null,
      };
    }
  }
  return events;
}

/** V8 heap plus ArrayBuffer backing stores (history rings, context sets and profiles are typed arrays held outside the heap) */
function heapAfterGc() {
  globalThis.gc();
  globalThis.gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

const HISTORY_SLOTS = 128;
const CONTEXT_SLOTS = 48;
/** typed-array bytes a ring of `width` measures (Int32 bucket + Float32 per measure) still lacks at full size */
const ringHeadroom = (ring, width) => (HISTORY_SLOTS - ring[0].length) * 4 * (1 + width);
/** typed-array bytes a context set (Int32 hash + Int32 hour) still lacks at full size */
const setHeadroom = (set) => (CONTEXT_SLOTS - set[0].length) * 8;

/** bytes the engine's history rings and context sets would still grow by (snapshot shapes: see each detector's `snapshot`) */
function growthHeadroomBytes(engine) {
  let bytes = 0;
  for (const { type, state } of Object.values(engine.snapshot().detectors)) {
    if (type === 'baseline_volume') for (const e of state.entities) bytes += ringHeadroom(e[15], 2);
    else if (type === 'baseline_breadth') for (const r of state.roles) bytes += ringHeadroom(r[6], 1) + ringHeadroom(r[7], 1);
    else if (type === 'baseline_new_context') for (const r of state.roles) bytes += setHeadroom(r[5]);
  }
  return bytes;
}

/** times the floor and the engine over PASSES passes; returns events/s of both and bytes per entity */
function measure(rules, kind, entitiesHeld) {
  const lookup = new Map();
  for (let i = 0; i < ENTITIES; i++) lookup.set(`role_${i}`, i);
  const unhashed = new Map();
  let floorMs = 0;
  let engineMs = 0;
  let events = 0;
  let detections = 0;
  let sink = 0;
  const before = heapAfterGc();
  const engine = new DetectionEngine(rules, pack.context);
  for (let pass = 0; pass < PASSES; pass++) {
    const batch = passEvents(pass, kind);
    // a pass's events are built just before it is timed: two minor gcs promote them now, so the scavenges that
    // copy them out of the young generation are not charged to the floor or the engine (a pipeline's events die young)
    globalThis.gc({ type: 'minor' });
    globalThis.gc({ type: 'minor' });
    // a look-up in an empty Map computes (and caches in the string) each user name's hash, as the parser's interner does
    for (let i = 0; i < batch.length; i++) sink += unhashed.get(batch[i].user) ?? 0;
    let t = process.hrtime.bigint();
    for (let i = 0; i < batch.length; i++) sink += lookup.get(batch[i].user) ?? 0;
    floorMs += Number(process.hrtime.bigint() - t) / 1e6;
    t = process.hrtime.bigint();
    for (let i = 0; i < batch.length; i++) detections += engine.process(batch[i]).length;
    engineMs += Number(process.hrtime.bigint() - t) / 1e6;
    events += batch.length;
  }
  engine.advance(START_MS + (PASSES + 1) * HOUR_MS);
  const after = heapAfterGc();
  const bytesPerEntity = (after - before + growthHeadroomBytes(engine)) / entitiesHeld;
  if (sink < 0) console.log(sink);
  const held = engine; // keep the engine alive until measured
  void held;
  return { events, detections, floorPerSec: events / (floorMs / 1000), enginePerSec: events / (engineMs / 1000), bytesPerEntity };
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
console.log(`baseline scoring, ${fmt(ENTITIES)} entities, ${PASSES} hourly buckets x ${EVENTS_PER_BUCKET} events per entity, node ${process.version}`);
console.log('| detector | events | events/s | floor events/s | ratio to floor | bytes per entity-detector | targets |');
console.log('|---|---:|---:|---:|---:|---:|---|');
/** prints one row as soon as it is measured */
function report(name, row) {
  const ok = row.enginePerSec >= TARGET_EVENTS_PER_SEC && row.bytesPerEntity <= TARGET_BYTES;
  console.log(`| ${name} | ${fmt(row.events)} (${fmt(row.detections)} detections) | ${fmt(row.enginePerSec)} | ${fmt(row.floorPerSec)} | ${(row.floorPerSec / row.enginePerSec).toFixed(1)}x slower | ${fmt(row.bytesPerEntity)} | ${ok ? 'met' : 'MISSED'} (>= ${fmt(TARGET_EVENTS_PER_SEC)}/s, <= ${fmt(TARGET_BYTES)} B) |`);
}
for (const rule of baselines) {
  if (process.env.BENCH_ONLY && !rule.id.includes(process.env.BENCH_ONLY)) continue;
  const kind = rule.type === 'baseline_failure_rate' ? 'authorization' : 'audit';
  const held = rule.type === 'baseline_volume' ? ENTITIES * 2 : ENTITIES;
  report(rule.id, measure([rule], kind, held));
}
if (!process.env.BENCH_ONLY || process.env.BENCH_ONLY === 'all') report('all five (reads)', measure(baselines, 'audit', ENTITIES * 5));

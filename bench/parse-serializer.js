// A/B of `jaga parse`'s JSON line output on a loaded machine: JSON.stringify(event) versus
// EventJsonSerializer#serialize(event), each written by a LineWriter into 1 MiB buffers (as
// `jaga parse` does), on the real enriched events of one file, in one process. The two runs of each
// round go in alternating order and each round's CPU ratio is kept: the median ratio is the figure
// (a shared 2-core box moves single figures by 10-20 %). The floor is the UTF-8 write alone of the
// same lines (already built, flat), measured in every round.
//   node bench/parse-serializer.js DIST FORMAT FILE [EVENTS] [ROUNDS] [LOG_LINE_PREFIX]
// DIST: a compiled tree (e.g. `npx tsc -p tsconfig.build.json --outDir /tmp/x/dist`) with node_modules
// reachable from it. Checks first that both outputs are byte-identical; exits 1 when they are not.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const CHUNK_BYTES = 1024 * 1024;
const DEFAULT_PREFIX = '%m [%p] %q%u@%d %r %a: ';

const [distArg, format, file, eventsArg = '30000', roundsArg = '30', prefixArg] = process.argv.slice(2);
if (!distArg || !format || !file) {
  console.error('usage: node bench/parse-serializer.js DIST FORMAT FILE [EVENTS] [ROUNDS] [LOG_LINE_PREFIX]');
  process.exit(2);
}
const dist = pathToFileURL(`${resolve(distArg)}/`).href;
const load = (path) => import(new URL(path, dist).href);
const [{ createLogParser }, { createEventBuilder }, { QueryEnricher }, { createLineWriter }, { EventJsonSerializer }] = await Promise.all([
  load('parse/log-parser.js'),
  load('parse/event-builder.js'),
  load('enrich/query-enricher.js'),
  load('cli/write-lines.js'),
  load('cli/event-json-serializer.js'),
]);

/** The first `limit` events of the file, enriched, as `jaga parse` builds them. */
async function enrichedEvents(limit) {
  const enricher = await QueryEnricher.create();
  const parser = createLogParser({
    format,
    logLinePrefix: format === 'stderr' ? (prefixArg ?? DEFAULT_PREFIX) : undefined,
    timezone: 'UTC',
    server: 'bench',
    source: { id: 'bench', file, fingerprint: '0123456789abcdef' },
    builder: createEventBuilder({ server: 'bench' }),
  });
  const events = [];
  const sink = {
    push(out) {
      if (!('reason' in out) && events.length < limit) {
        enricher.enrich(out);
        events.push(out);
      }
    },
  };
  const data = readFileSync(file);
  for (let at = 0; at < data.length && events.length < limit; at += CHUNK_BYTES) parser.pushTo(data.subarray(at, at + CHUNK_BYTES), sink);
  return events;
}

/** Writes lines of `events` made by `line` through a LineWriter; returns the bytes (kept) or their count. */
function writeAll(events, line, keep) {
  const kept = [];
  let bytes = 0;
  const writer = createLineWriter({
    write(chunk) {
      bytes += chunk.length;
      if (keep) kept.push(Buffer.from(chunk));
      return true;
    },
  });
  for (let i = 0; i < events.length; i++) {
    writer.add(line(events[i]));
    if ((i & 4095) === 4095) void writer.flush();
  }
  void writer.flush();
  return keep ? Buffer.concat(kept) : bytes;
}

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const events = await enrichedEvents(Number(eventsArg));
const serializer = new EventJsonSerializer();
const runs = {
  stringify: (keep) => writeAll(events, (event) => JSON.stringify(event), keep),
  serializer: (keep) => writeAll(events, (event) => serializer.serialize(event), keep),
};
const reference = runs.stringify(true);
if (!reference.equals(runs.serializer(true))) {
  console.error('outputs differ: EventJsonSerializer is not JSON.stringify on these events');
  process.exit(1);
}
const flatLines = reference.toString('utf8').split('\n').slice(0, -1);
const floor = () => writeAll(flatLines, (text) => text, false);

const ratios = [];
const sums = { stringify: 0, serializer: 0, floor: 0 };
const rounds = Number(roundsArg);
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? ['stringify', 'serializer'] : ['serializer', 'stringify'];
  const ms = {};
  for (const name of order) {
    const start = cpuMs();
    runs[name](false);
    ms[name] = cpuMs() - start;
  }
  const floorStart = cpuMs();
  floor();
  ms.floor = cpuMs() - floorStart;
  if (round < 2) continue; // warm-up
  ratios.push(ms.serializer / ms.stringify);
  for (const name of Object.keys(sums)) sums[name] += ms[name];
}
ratios.sort((a, b) => a - b);
const at = (q) => ratios[Math.min(ratios.length - 1, Math.floor(q * ratios.length))].toFixed(3);
const counted = rounds - 2;
console.log(`${events.length} events, ${reference.length} bytes of JSON lines, identical; ${counted} rounds after 2 warm-up`);
console.log(`CPU ms per run: stringify ${(sums.stringify / counted).toFixed(1)}, serializer ${(sums.serializer / counted).toFixed(1)}, floor (UTF-8 write of the flat lines) ${(sums.floor / counted).toFixed(1)}`);
console.log(`serializer / stringify: median ${at(0.5)} (quartiles ${at(0.25)} - ${at(0.75)})`);

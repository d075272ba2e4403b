// A/B comparison of two compiled parsers on a loaded machine: both parse the same file in one
// process, fed the same 1 MiB chunks in lockstep (which one goes first alternates per chunk), and
// the CPU time of each pushTo is summed per parser; the readline floor is measured after every pass.
// Slow phases of a shared machine then hit both parsers alike: on a 2-core box at load 10, an A/A run
// (the same code twice) gave ratios of 0.98-1.02, where separate processes differed by 10-20 %.
//   node bench/parse-lockstep.js BASE_DIST NEW_DIST FORMAT FILE [PASSES] [LOG_LINE_PREFIX]
// BASE_DIST / NEW_DIST: compiled trees (e.g. `npx tsc -p tsconfig.build.json --outDir /tmp/x/dist`);
// each needs node_modules reachable from it (a symlink beside it) when it imports packages.
// Prints per-pass CPU ms and the ratio of the summed CPU after the first (warm-up) pass.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readlineLines } from './floors.js';

const CHUNK_BYTES = 1024 * 1024;

/**
 * Parses `data` with both parsers in lockstep.
 * @param {Record<'base'|'new', {createLogParser: Function}>} modules the two dist/parse/log-parser.js modules
 * @param {{format: string, path: string, logLinePrefix?: string}} options
 * @param {Buffer} data the whole file
 * @returns {{cpuMs: {base: number, new: number}, outputs: {base: number, new: number}}} CPU ms (user +
 *   system) spent inside each parser's pushTo/endTo, and how many outputs each gave
 */
function lockstepPass(modules, options, data) {
  const parsers = {};
  const sinks = {};
  const outputs = { base: 0, new: 0 };
  const cpuMs = { base: 0, new: 0 };
  for (const name of ['base', 'new']) {
    parsers[name] = modules[name].createLogParser({
      format: options.format,
      logLinePrefix: options.logLinePrefix,
      timezone: 'UTC',
      server: 'bench',
      source: { id: 'bench', file: options.path, fingerprint: 'x' },
    });
    sinks[name] = { push: () => outputs[name]++ };
  }
  for (let at = 0, chunkIndex = 0; at < data.length; at += CHUNK_BYTES, chunkIndex++) {
    const last = at + CHUNK_BYTES >= data.length;
    for (const name of chunkIndex % 2 === 0 ? ['base', 'new'] : ['new', 'base']) {
      // a fresh Buffer per push, as a file reader hands them over
      const chunk = Buffer.from(data.subarray(at, Math.min(at + CHUNK_BYTES, data.length)));
      const before = process.cpuUsage();
      parsers[name].pushTo(chunk, sinks[name]);
      if (last) parsers[name].endTo(sinks[name]);
      const spent = process.cpuUsage(before);
      cpuMs[name] += (spent.user + spent.system) / 1000;
    }
  }
  return { cpuMs, outputs };
}

const [baseDist, newDist, format, path, passesText = '6', logLinePrefix] = process.argv.slice(2);
if (!baseDist || !newDist || !format || !path) {
  process.stderr.write('usage: node bench/parse-lockstep.js BASE_DIST NEW_DIST FORMAT FILE [PASSES] [LOG_LINE_PREFIX]\n');
  process.exit(2);
}
const load = (dist) => import(pathToFileURL(resolve(dist, 'parse/log-parser.js')).href);
const modules = { base: await load(baseDist), new: await load(newDist) };
const data = readFileSync(path);
const rows = { base: [], new: [], floor: [] };
const sums = { base: 0, new: 0, floor: 0 };
for (let pass = 0; pass < Number(passesText); pass++) {
  const { cpuMs, outputs } = lockstepPass(modules, { format, path, logLinePrefix: logLinePrefix || undefined }, data);
  if (outputs.base !== outputs.new) throw new Error(`the parsers gave ${outputs.base} and ${outputs.new} outputs`);
  const before = process.cpuUsage();
  await readlineLines(path);
  const spent = process.cpuUsage(before);
  const floorMs = (spent.user + spent.system) / 1000;
  for (const [name, ms] of [['base', cpuMs.base], ['new', cpuMs.new], ['floor', floorMs]]) {
    rows[name].push(ms.toFixed(0));
    if (pass > 0) sums[name] += ms;
  }
}
const percent = (x) => `${(x * 100).toFixed(1)} %`;
process.stdout.write(
  `CPU ms per pass\n  base  ${rows.base.join(' ')}\n  new   ${rows.new.join(' ')}\n  floor ${rows.floor.join(' ')}\n` +
    `after the first pass: new/base ${(sums.new / sums.base).toFixed(3)}; ` +
    `readline floor / parse: base ${percent(sums.floor / sums.base)}, new ${percent(sums.floor / sums.new)}\n`,
);

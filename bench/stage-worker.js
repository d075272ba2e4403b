// Child-process entry for one in-process measurement, so each figure gets a fresh Node (no JIT or
// heap left over from the previous one) and its own peak RSS.
//   node bench/stage-worker.js <kind> <format> <file> [logLinePrefix]
// kind: newline-floor | readline-floor | parse | parse-enrich
// Prints one JSON line on stdout ({bytes, units, unitName, elapsedMs, cpuMs, maxRssKb, ...}; read by
// stage-runner.js); exit 1 on error with
// {"error": message} on stdout.
import { countNewlineBytes, readlineLines } from './floors.js';
import { measureParse } from './parse-throughput.js';

/**
 * Runs one measurement kind; `elapsedMs` (wall) and `cpuMs` (user + system) exclude Node start-up
 * and module loading. @throws on any error (reported by the caller)
 */
async function measure(kind, format, path, logLinePrefix) {
  switch (kind) {
    case 'newline-floor':
    case 'readline-floor': {
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      const { bytes, lines } = await (kind === 'newline-floor' ? countNewlineBytes(path) : readlineLines(path));
      const elapsedMs = performance.now() - started;
      const cpu = process.cpuUsage(cpuBefore); // microseconds
      return { bytes, units: lines, unitName: 'lines', elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000 };
    }
    case 'parse':
    case 'parse-enrich': {
      const r = await measureParse({ path, format, logLinePrefix, enrich: kind === 'parse-enrich' });
      return {
        bytes: r.bytes,
        units: r.records,
        unitName: 'records',
        elapsedMs: r.elapsedMs,
        cpuMs: r.cpuMs,
        events: r.events,
        failures: r.failures,
        enricher: r.enricher,
      };
    }
    default:
      throw new Error(`unknown measurement kind "${kind}"`);
  }
}

const [kind, format, path, logLinePrefix] = process.argv.slice(2);
try {
  const result = await measure(kind, format, path, logLinePrefix || undefined);
  // maxRSS: kilobytes (Node docs, process.resourceUsage)
  process.stdout.write(`${JSON.stringify({ ...result, maxRssKb: process.resourceUsage().maxRSS })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`);
  process.exitCode = 1;
}

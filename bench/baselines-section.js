// Bench section "baselines" (issue 5): wraps bench/baselines.js (the baselines engineer's benchmark) in
// a fresh `node --expose-gc` child: scoring events/s of each shipped baseline detector and of all five
// together with 100,000 entities, beside its same-run floor (one Map lookup per event), and bytes per
// entity-detector. Its markdown table is printed as is; the target lines are read from its rows.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DIST } from './agent-harness.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('./baselines.js', import.meta.url));

/** `| name | events | events/s | floor | ratio | bytes | targets |` → fields, or null for other lines. */
function tableRow(line) {
  if (!line.startsWith('| ') || line.startsWith('| detector') || line.startsWith('|---')) return null;
  const cells = line.split('|').slice(1, -1).map((c) => c.trim());
  return cells.length === 7 ? { name: cells[0], eventsPerSec: cells[2], floorPerSec: cells[3], ratio: cells[4], bytes: cells[5], targets: cells[6] } : null;
}

/**
 * The baselines section: 8 hourly passes (3 with BENCH_QUICK=1) over 100,000 entities.
 * @type {{name: string, title: string, run: (ctx: {minBytes: number, progress: (msg: string) => void}) => Promise<object[]>}}
 */
export const baselinesSection = {
  name: 'baselines',
  title: 'Baselines (issue 5): baseline scoring events/s and memory per entity-detector, 100,000 entities (bench/baselines.js)',
  async run(ctx) {
    const passes = ctx.minBytes < 100e6 ? 3 : 8;
    const heading = `baselines: node --expose-gc bench/baselines.js, BENCH_PASSES=${passes}, 100,000 entities`;
    if (!existsSync(join(DIST, 'detect/detection-engine.js'))) return [{ heading, rows: [], lines: [heading, `  unavailable: no ${DIST}/detect (run \`npm run build\`)`, ''], targetLines: ['baselines: figure missing (dist/ is missing)'] }];
    ctx.progress(`baselines: ${passes} passes x 100,000 entities per detector ...`);
    let stdout;
    try {
      ({ stdout } = await run(process.execPath, ['--expose-gc', SCRIPT], { env: { ...process.env, BENCH_PASSES: String(passes), BENCH_DIST_DIR: DIST }, maxBuffer: 1 << 20, timeout: 30 * 60_000 }));
    } catch (error) {
      const why = String(error.stderr || error.message).trim().split('\n').pop();
      return [{ heading, rows: [], lines: [heading, `  unavailable: ${why.slice(0, 200)}`, ''], targetLines: ['baselines: figure missing'] }];
    }
    const output = stdout.trim().split('\n');
    const rows = output.map(tableRow).filter((r) => r !== null);
    return [
      {
        heading,
        rows: [],
        lines: [heading, ...output.map((line) => `  ${line}`), ''],
        targetLines: rows.map((r) => `baselines ${r.name}: ${r.eventsPerSec} events/s (floor ${r.floorPerSec}, ${r.ratio}), ${r.bytes} B per entity-detector (targets >= 200,000/s, <= 4,096 B): ${r.targets.split(' ')[0]}`),
      },
    ];
  },
};

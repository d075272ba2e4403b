import { spawn } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '../..');
const PROBE = join(HERE, '../fixtures/enrich/wasm-tiering-probe.ts');

/** One `Compiled function <module>#<index> using <tier>` line of V8's --trace-wasm-compilation-times. */
const COMPILED = /^Compiled function (0x[0-9a-f]+)#(\d+) using (Liftoff|TurboFan),.* bodysize (\d+)/;

interface ModuleTrace {
  /** distinct function indexes compiled */
  functions: Set<number>;
  liftoff: number;
  turbofan: number;
  /** body sizes of the functions compiled, bytes */
  bodySizes: Set<number>;
}

/**
 * The probe's compile trace, per WebAssembly module (V8's address of it). Its stdout goes to a file:
 * V8 prints with C stdio, which drops lines on a full non-blocking pipe.
 */
async function traceProbe(): Promise<{ modules: ModuleTrace[]; stdout: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'jaga-wasm-trace-'));
  let stdout: string;
  try {
    const file = await open(join(dir, 'stdout.txt'), 'w');
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', '--trace-wasm-compilation-times', PROBE], { cwd: ROOT, stdio: ['ignore', file.fd, 'inherit'] });
      const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('exit', resolve));
      expect(code).toBe(0);
    } finally {
      await file.close();
    }
    stdout = await readFile(join(dir, 'stdout.txt'), 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const byModule = new Map<string, ModuleTrace>();
  for (const line of stdout.split('\n')) {
    const match = COMPILED.exec(line);
    if (match === null) continue;
    const [, address, index, tier, bodySize] = match as unknown as [string, string, string, string, string];
    let module = byModule.get(address);
    if (module === undefined) byModule.set(address, (module = { functions: new Set(), liftoff: 0, turbofan: 0, bodySizes: new Set() }));
    module.functions.add(Number(index));
    module.bodySizes.add(Number(bodySize));
    if (tier === 'Liftoff') module.liftoff++;
    else module.turbofan++;
  }
  return { modules: [...byModule.values()], stdout };
}

describe('loadLibpgQuery (through QueryEnricher.create)', () => {
  it('compiles all of libpg-query on Liftoff once, never recompiles it with TurboFan, and leaves later WebAssembly tiering up', async () => {
    const { modules, stdout } = await traceProbe();
    expect(stdout).toContain('probe done 20000000');
    // libpg-query 18.1.5: the one module of hundreds of functions, all compiled up front by Liftoff
    const libpgQuery = modules.filter((m) => m.functions.size > 400);
    expect(libpgQuery).toHaveLength(1);
    expect(libpgQuery[0]?.liftoff).toBe(libpgQuery[0]?.functions.size);
    expect(libpgQuery[0]?.turbofan).toBe(0);
    // the probe's counting loop (one function, body 21 bytes), compiled after: Liftoff, then TurboFan as it runs hot
    const countUp = modules.filter((m) => m.functions.size === 1 && m.functions.has(0) && m.bodySizes.has(21));
    expect(countUp).toHaveLength(1);
    expect(countUp[0]?.liftoff).toBe(1);
    expect(countUp[0]?.turbofan).toBe(1);
  }, 60_000);
});

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import type * as LibpgQueryModule from 'libpg-query';

/** libpg-query's API (the module namespace of `import('libpg-query')`). */
export type LibpgQuery = typeof LibpgQueryModule;

/**
 * V8 flags that keep a WebAssembly module on its baseline compiler (Liftoff): every function
 * compiled up front (no lazy compilation, which would read the tiering flags again at each
 * function's first call), no background recompiling with the optimizing compiler (TurboFan),
 * neither eager nor triggered by a hot function. Source of truth: `node --v8-options`
 * (--wasm-tier-up, --wasm-dynamic-tiering, --wasm-lazy-compilation; all on by default).
 */
const BASELINE_FLAGS = ['--no-wasm-tier-up', '--no-wasm-dynamic-tiering', '--no-wasm-lazy-compilation'];
/** The defaults the flags go back to, right after the compile. */
const DEFAULT_FLAGS = ['--wasm-tier-up', '--wasm-dynamic-tiering', '--wasm-lazy-compilation'];

/** The WebAssembly global's `Module` constructor (the ES2023 lib this project compiles with declares no WebAssembly values). */
const WasmModule = (globalThis as unknown as { WebAssembly: { Module: new (wasm: Uint8Array) => object } }).WebAssembly.Module;

let loading: Promise<LibpgQuery> | null = null;
/** The module compiled by `compileOnBaseline`, referenced while this thread lives: V8's native module cache keeps only modules in use (see `loadLibpgQuery`). */
let baselineModule: object | null = null;

/**
 * Loads libpg-query (once per thread; later calls return the same promise) with its WebAssembly
 * compiled by Liftoff only, and returns its API with `loadModule()` already resolved.
 *
 * Why: V8 otherwise recompiles libpg-query's hot functions (one of them is its huge bison parser)
 * with TurboFan on background threads, about 1.5 CPU-s per process, more than the enricher's whole
 * WebAssembly running time (most statements are answered from its cache); on a two-core machine
 * that compile also delays the optimisation of the log parser's JavaScript. Other WebAssembly
 * (PGlite, the embedded store) must keep tiering up: it runs about 20 % slower on Liftoff code.
 *
 * How: the flags of `BASELINE_FLAGS` are set, the `.wasm` file is compiled synchronously (`new
 * WebAssembly.Module`), and the defaults are set back before this function returns to the event
 * loop, so nothing else of this thread can compile in between and no process is left with the
 * flags off. The compiled module sits in V8's process-wide native module cache (keyed by the wire
 * bytes), where libpg-query's own `WebAssembly.instantiate` of the same bytes, run by the dynamic
 * `import('libpg-query')` that follows, finds it: libpg-query runs that Liftoff code, and a worker
 * thread's load finds it too. If a V8 missed that cache, libpg-query would compile its own copy with
 * the default flags: slower, never wrong. The defaults are set back even when node was started with
 * one of these flags changed (V8 offers no way to read a flag).
 *
 * Measured (node 20.20, 2 cores): parse + enrichment of a 200 MB csvlog file (bench/parse-throughput.js
 * measureParse) 10.1 -> 6.1 CPU-s; `--trace-wasm-compilation-times`: libpg-query 526 functions on
 * Liftoff and none on TurboFan, while PGlite in the same daemon still tiers up (~500 TurboFan
 * functions, as before). test/enrich/libpg-query-loader.test.ts checks both.
 *
 * Callers must not import libpg-query (or a module that imports it) statically: its import starts
 * the compile. V8 flags are process-wide: a worker thread compiling other WebAssembly during the
 * synchronous compile here would get the baseline flags too.
 * @throws Error when the `.wasm` file cannot be read or compiled, or libpg-query fails to load
 */
export function loadLibpgQuery(): Promise<LibpgQuery> {
  loading ??= load().catch((error: unknown) => {
    loading = null;
    throw error;
  });
  return loading;
}

async function load(): Promise<LibpgQuery> {
  if (baselineModule === null) {
    const wasmPath = createRequire(import.meta.url).resolve('libpg-query/wasm/libpg-query.wasm');
    baselineModule = compileOnBaseline(readFileSync(wasmPath));
  }
  const libpgQuery = await import('libpg-query');
  await libpgQuery.loadModule();
  return libpgQuery;
}

/** Compiles `wasm` with `BASELINE_FLAGS` set, then sets `DEFAULT_FLAGS` back (also when it throws). */
function compileOnBaseline(wasm: Uint8Array): object {
  for (const flag of BASELINE_FLAGS) setFlagsFromString(flag);
  try {
    return new WasmModule(wasm);
  } finally {
    for (const flag of DEFAULT_FLAGS) setFlagsFromString(flag);
  }
}

